//! `kiro_entra_api_scope`: one delegated scope under "Expose an API" (Kiro
//! needs `codewhisperer:completions` and `codewhisperer:conversations`).
//! Graph refuses to change or remove an enabled scope; the Graph client's
//! scope operations disable it first, so editing an enabled scope just works.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{StringCheck, guid, is_guid, max_length, one_of, same_guid};
use crate::framework::value::TfValue;
use crate::graph::applications::PermissionScope;
use crate::graph::edits::find_scope;
use crate::{attr, tf_model};

use super::take_over::NaturalKey;
use super::{GraphFailure, Targets, application_missing, import_parts};

const TARGETS: Targets = &[("api.oauth2PermissionScopes", "value")];

tf_model! {
    pub struct ApiScopeModel {
        /// `<application object id>/scopes/<scope_id>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// Object id of the application (`kiro_entra_application.<name>.object_id`).
        application_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// The scope's value, as it appears in tokens, e.g. `codewhisperer:completions`.
        /// At most 120 characters, no spaces.
        value: String [required, validate(StringCheck(check_scope_value))],
        /// Who can consent: `User` ("Admins and users") or `Admin`
        /// ("Admins only").
        r#type: String [default(TfValue::string("User")), validate(one_of(&["User", "Admin"]))],
        /// Admin consent display name.
        admin_consent_display_name: Option<String> [optional, validate(max_length(256))],
        /// Admin consent description.
        admin_consent_description: Option<String> [optional, validate(max_length(1024))],
        /// User consent display name.
        user_consent_display_name: Option<String> [optional, validate(max_length(256))],
        /// User consent description.
        user_consent_description: Option<String> [optional, validate(max_length(1024))],
        /// Whether the scope is enabled. A scope is disabled before it is
        /// changed or deleted, as Graph requires.
        enabled: bool [default(TfValue::Bool(true))],
        /// The scope's id (a GUID made by the provider).
        scope_id: Option<String> [computed, use_state_for_unknown],
    }
}

/// Graph's rules for a scope value, checked at plan time.
pub fn check_scope_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("The scope value must not be empty.".into());
    }
    if value.chars().count() > 120 {
        return Err(format!(
            "{value:?} is {} characters long; scope values have at most 120.",
            value.chars().count()
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(format!(
            "{value:?} contains white space, which scope values cannot."
        ));
    }
    if value.starts_with('.') {
        return Err(format!(
            "{value:?} starts with a dot, which Graph does not allow."
        ));
    }
    Ok(())
}

fn scope_id_path(application_id: &str, scope_id: &str) -> String {
    format!("{application_id}/scopes/{scope_id}")
}

impl ApiScopeModel {
    fn to_scope(&self, scope_id: &str) -> PermissionScope {
        PermissionScope {
            id: scope_id.to_string(),
            value: Some(self.value.clone()),
            kind: Some(self.r#type.clone()),
            is_enabled: self.enabled,
            admin_consent_display_name: self.admin_consent_display_name.clone(),
            admin_consent_description: self.admin_consent_description.clone(),
            user_consent_display_name: self.user_consent_display_name.clone(),
            user_consent_description: self.user_consent_description.clone(),
            ..PermissionScope::default()
        }
    }

    fn observed(mut self, scope: &PermissionScope) -> Self {
        self.id = Some(scope_id_path(&self.application_id, &scope.id));
        self.scope_id = Some(scope.id.clone());
        self.value = scope.value.clone().unwrap_or_default();
        self.r#type = scope.kind.clone().unwrap_or_else(|| "User".into());
        self.enabled = scope.is_enabled;
        self.admin_consent_display_name = scope.admin_consent_display_name.clone();
        self.admin_consent_description = scope.admin_consent_description.clone();
        self.user_consent_display_name = scope.user_consent_display_name.clone();
        self.user_consent_description = scope.user_consent_description.clone();
        self
    }
}

pub struct EntraApiScope;

/// A scope's value is unique on its application.
fn scope_key(application_id: &str, value: &str) -> NaturalKey {
    NaturalKey {
        type_name: EntraApiScope::TYPE_NAME,
        key: format!("{application_id}/{value}"),
        described: format!("the scope {value:?} of application {application_id}"),
        at: AttrPath::attr(attr!(ApiScopeModel, value)),
    }
}

#[async_trait]
impl ManagedResource<Clients> for EntraApiScope {
    type Model = ApiScopeModel;
    const TYPE_NAME: &'static str = "kiro_entra_api_scope";
    const DESCRIPTION: &'static str = "One delegated permission scope under \"Expose an API\" of \
        an application. Several scopes of one application can be managed in parallel: each edit \
        re-reads the application under a per-application lock and writes the whole list.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(5, 5, 5);

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        let (Some(clients), true) = (client, plan.is_create()) else {
            return;
        };
        let (Some(app_id), Some(value)) = (
            plan.config(attr!(ApiScopeModel, application_id)).as_str(),
            plan.config(attr!(ApiScopeModel, value)).as_str(),
        ) else {
            return;
        };
        // A read that fails here is left to the apply, which reports it.
        if let Ok(Some(app)) = clients.graph.get_application_shared(app_id).await
            && let Some(found) = app
                .scopes()
                .iter()
                .find(|s| s.value.as_deref() == Some(value))
        {
            scope_key(app_id, value).will_take_over(&found.id, &mut plan.diagnostics);
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: ApiScopeModel,
        op: &Operation,
    ) -> Result<ApiScopeModel, Diagnostics> {
        let graph = &clients.graph;
        // Shared: the scopes and redirect URIs of one application created together read it
        // once, and read what this provider wrote to it even while Graph lags.
        let app = graph
            .get_application_shared(&plan.application_id)
            .await
            .map_err(|e| e.fail("read the application"))?
            .ok_or_else(|| {
                application_missing(&plan.application_id, attr!(ApiScopeModel, application_id))
            })?;
        let key = scope_key(&plan.application_id, &plan.value);
        key.claim(clients)?;
        // A scope with this value is unique on the application: one found is taken over
        // (made by an interrupted apply) and set as configured, keeping its id.
        let existing = app
            .scopes()
            .iter()
            .find(|s| s.value.as_deref() == Some(plan.value.as_str()));
        let scope_id = match existing {
            Some(found) => {
                key.took_over(op, &found.id);
                found.id.clone()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        // The id is known before the write: if the write is accepted but the wait for
        // Graph to show it runs out, the state still knows which scope it made.
        op.exists(&ApiScopeModel {
            id: Some(scope_id_path(&plan.application_id, &scope_id)),
            scope_id: Some(scope_id.clone()),
            ..plan.clone()
        });
        match graph
            .put_scope(
                &plan.application_id,
                plan.to_scope(&scope_id),
                op.remaining(),
            )
            .await
        {
            Ok(scope) => Ok(plan.observed(&scope)),
            Err(e) => {
                // A refused edit (a 4xx, or a duplicate value found in the batch before
                // sending) made nothing: nothing to keep in state.
                if !e.may_have_written() {
                    op.forget();
                }
                Err(e.fail_at("add the scope", TARGETS))
            }
        }
    }

    async fn read(
        &self,
        clients: &Clients,
        state: ApiScopeModel,
    ) -> Result<Option<ApiScopeModel>, Diagnostics> {
        let Some(scope_id) = state.scope_id.clone() else {
            return Ok(None);
        };
        let app = clients
            .graph
            .get_application_shared(&state.application_id)
            .await
            .map_err(|e| e.fail("read the application"))?;
        let scope = app.as_deref().and_then(|app| find_scope(app, &scope_id));
        match scope {
            Some(scope) => Ok(Some(state.observed(scope))),
            None => {
                tracing::info!(%scope_id, application_id = %state.application_id, "scope is gone; removing it from state");
                Ok(None)
            }
        }
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: ApiScopeModel,
        plan: ApiScopeModel,
        op: &Operation,
    ) -> Result<ApiScopeModel, Diagnostics> {
        let scope_id = prior.scope_id.clone().unwrap_or_default();
        let scope = clients
            .graph
            .put_scope(
                &plan.application_id,
                plan.to_scope(&scope_id),
                op.remaining(),
            )
            .await
            .map_err(|e| e.fail_at("update the scope", TARGETS))?;
        Ok(plan.observed(&scope))
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: ApiScopeModel,
        op: &Operation,
    ) -> Result<(), Diagnostics> {
        let scope_id = state.scope_id.unwrap_or_default();
        match clients
            .graph
            .remove_scope(&state.application_id, &scope_id, op.remaining())
            .await
        {
            Ok(_) => Ok(()),
            // The application went first: its scopes went with it.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.fail("remove the scope")),
        }
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<ApiScopeModel, Diagnostics> {
        let usage = "<application object id>/scopes/<scope id>";
        let [application_id, scopes, scope_id] = import_parts(id, usage)?;
        if scopes != "scopes" || !is_guid(&application_id) || !is_guid(&scope_id) {
            return Err(super::bad_import_id(id, usage));
        }
        let app = clients
            .graph
            .get_application(&application_id)
            .await
            .map_err(|e| e.fail("read the application"))?
            .ok_or_else(|| {
                application_missing(&application_id, attr!(ApiScopeModel, application_id))
            })?;
        if find_scope(&app, &scope_id).is_none() {
            return Err(Diagnostic::error(
                "Cannot import: scope not found",
                format!("Application {application_id} has no scope with id {scope_id}."),
            )
            .into());
        }
        Ok(ApiScopeModel {
            application_id,
            scope_id: Some(scope_id),
            ..ApiScopeModel::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_values() {
        assert!(check_scope_value("codewhisperer:completions").is_ok());
        assert!(check_scope_value(&"a".repeat(120)).is_ok());
        for bad in ["", "has space", ".dot", &"a".repeat(121)] {
            assert!(check_scope_value(bad).is_err(), "{bad}");
        }
    }
}

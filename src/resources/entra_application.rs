//! `kiro_entra_application`: the non-gallery enterprise application (app
//! registration + service principal, made from Entra's "Integrate any other
//! application you don't find in the gallery" template) that Kiro signs in
//! against.

use std::time::Duration;

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{StringCheck, int_between, is_guid, max_length, not_blank};
use crate::framework::value::TfValue;
use crate::graph::applications::{
    Application, PermissionScope, ServicePrincipal, TEMPLATE_SCOPE_VALUE,
};
use crate::graph::client::GraphClient;
use crate::graph::consistency::{instantiate_or_find, wait_for_service_principal, wait_until};
use crate::graph::edits::Edit;
use crate::graph::error::GraphError;
use crate::graph::patch::{ApiPatch, ApplicationPatch, ServicePrincipalPatch};
use crate::{attr, tf_model};

use super::uri_rules::check_identifier_uri;
use super::{GraphFailure, Targets};

/// How long to look for an application whose create call got no usable
/// answer (Graph may answer 404 although it made it) before giving up: a
/// real 404 (wrong template, missing permission) must not hang a whole
/// create timeout.
const LOST_CREATE_LOOKUP: Duration = Duration::from_secs(2 * 60);
/// Graph properties that errors name, and the attributes they belong to.
const TARGETS: Targets = &[
    ("displayName", "display_name"),
    ("identifierUris", "identifier_uri"),
    (
        "api.requestedAccessTokenVersion",
        "requested_access_token_version",
    ),
];

tf_model! {
    pub struct ApplicationModel {
        /// The application's object id.
        id: Option<String> [computed, use_state_for_unknown],
        /// Name shown in Entra (app registration and enterprise application).
        display_name: String [required, validate(not_blank()), validate(max_length(256))],
        /// `api.requestedAccessTokenVersion`. Kiro needs 2: only v2 access tokens carry the
        /// v2 issuer (`https://login.microsoftonline.com/<tenant>/v2.0`) that Kiro trusts.
        requested_access_token_version: i64 [default(TfValue::Number(2i64.into())), validate(int_between(1, 2))],
        /// Application ID URI under "Expose an API". Default `api://<client_id>`, the portal's
        /// default. Other forms need a verified domain of the tenant.
        identifier_uri: Option<String> [optional, computed, validate(StringCheck(check_identifier_uri))],
        /// Keep the template's `user_impersonation` scope. By default it is disabled and
        /// removed, so only the Kiro scopes remain.
        keep_default_scope: bool [default(TfValue::Bool(false))],
        /// The enterprise application's "Assignment required?": with `true` (the default, as
        /// the template sets it) only users and groups assigned to it can sign in to Kiro;
        /// `false` lets anyone in the tenant sign in. A change made in the portal shows as
        /// drift.
        assignment_required: bool [default(TfValue::Bool(true))],
        /// Refuse to create when an application with the same display name exists (the error
        /// lists the existing ones and how to import them).
        prevent_duplicate_names: bool [default(TfValue::Bool(true))],
        /// The application's object id (same as `id`).
        object_id: Option<String> [computed, use_state_for_unknown],
        /// The Application (client) ID.
        client_id: Option<String> [computed, use_state_for_unknown],
        /// Object id of the enterprise application (service principal).
        service_principal_id: Option<String> [computed, use_state_for_unknown],
        /// The directory (tenant) id.
        tenant_id: Option<String> [computed, use_state_for_unknown],
        /// The OpenID issuer Kiro trusts: `https://login.microsoftonline.com/<tenant>/v2.0`.
        issuer_url: Option<String> [computed, use_state_for_unknown],
        /// The OpenID Connect metadata document URL (the portal's "OpenID Connect metadata
        /// document").
        openid_configuration_url: Option<String> [computed, use_state_for_unknown],
    }
}

pub(crate) fn default_identifier_uri(client_id: &str) -> String {
    format!("api://{client_id}")
}

/// Several URIs (added outside Terraform) show joined, so the plan shows
/// the drift and the update writes the single one back.
fn identifier_uri_state(uris: &[String]) -> Option<String> {
    (!uris.is_empty()).then(|| uris.join(", "))
}

pub(crate) fn token_version(app: &Application) -> i64 {
    app.api
        .as_ref()
        .and_then(|a| a.requested_access_token_version)
        .map_or(1, i64::from)
}

fn default_scope(app: &Application) -> Option<&PermissionScope> {
    app.api.as_ref().and_then(|a| {
        a.oauth2_permission_scopes
            .iter()
            .find(|s| s.value.as_deref() == Some(TEMPLATE_SCOPE_VALUE))
    })
}

impl ApplicationModel {
    /// The model with everything Graph and the provider know filled in;
    /// arguments that live only in Terraform are kept.
    fn observed(
        mut self,
        app: &Application,
        sp: Option<&ServicePrincipal>,
        clients: &Clients,
    ) -> Self {
        self.id = Some(app.id.clone());
        self.object_id = Some(app.id.clone());
        self.client_id = Some(app.app_id.clone());
        self.display_name = app.display_name.clone();
        self.requested_access_token_version = token_version(app);
        self.identifier_uri = identifier_uri_state(&app.identifier_uris);
        self.keep_default_scope = default_scope(app).is_some();
        if let Some(sp) = sp {
            self.service_principal_id = Some(sp.id.clone());
            self.assignment_required = sp.app_role_assignment_required;
        }
        self.tenant_id = Some(clients.tenant_id.clone());
        self.issuer_url = Some(clients.issuer_url());
        self.openid_configuration_url = Some(clients.openid_configuration_url());
        self
    }

    fn wanted_identifier_uri(&self, client_id: &str) -> String {
        self.identifier_uri
            .clone()
            .unwrap_or_else(|| default_identifier_uri(client_id))
    }
}

/// True when Graph shows what the model asks for.
fn shows(app: &Application, want: &ApplicationModel) -> bool {
    app.display_name == want.display_name
        && app.identifier_uris == [want.wanted_identifier_uri(&app.app_id)]
        && token_version(app) == want.requested_access_token_version
        && default_scope(app).is_some() == want.keep_default_scope
}

/// Brings an existing application to what the model asks for: the plain
/// properties and the default scope as one batch of edits (one PATCH, two
/// when the enabled default scope must be disabled before it is removed),
/// together with any scope or redirect URI edits queued meanwhile. Returns
/// the application as written; the Graph client waits for Graph to show it
/// before the process ends, so the next plan reads it.
async fn converge(
    graph: &GraphClient,
    app: &Application,
    want: &ApplicationModel,
    op: &Operation,
) -> Result<Application, GraphError> {
    let uri = want.wanted_identifier_uri(&app.app_id);
    let patch = ApplicationPatch {
        display_name: (app.display_name != want.display_name).then(|| want.display_name.clone()),
        identifier_uris: (app.identifier_uris != [uri.clone()]).then(|| vec![uri]),
        api: (token_version(app) != want.requested_access_token_version).then(|| ApiPatch {
            requested_access_token_version: Some(want.requested_access_token_version as i32),
            ..ApiPatch::default()
        }),
        ..ApplicationPatch::default()
    };
    let mut edits = Vec::new();
    if !patch.is_empty() {
        edits.push(Edit::Properties(patch));
    }
    match (default_scope(app), want.keep_default_scope) {
        (Some(scope), false) => edits.push(Edit::RemoveScope(scope.id.clone())),
        (None, true) => edits.push(Edit::PutScope(PermissionScope::template_default(
            &want.display_name,
        ))),
        _ => {}
    }
    if edits.is_empty() {
        return Ok(app.clone());
    }
    let written = graph
        .edit_application_with(&app.id, edits, op.remaining())
        .await?;
    if shows(&written, want) {
        Ok(written)
    } else {
        Err(GraphError::decode(
            format!("updating application {}", app.id),
            "the application as written does not have the settings asked for",
        ))
    }
}

/// Makes the enterprise application's "Assignment required?" what the plan says, and returns
/// the service principal once Graph shows it so (the next refresh reads it back that way).
async fn converge_service_principal(
    graph: &GraphClient,
    sp: ServicePrincipal,
    plan: &ApplicationModel,
    op: &Operation,
) -> Result<ServicePrincipal, GraphError> {
    if sp.app_role_assignment_required == plan.assignment_required {
        return Ok(sp);
    }
    let patch = ServicePrincipalPatch {
        app_role_assignment_required: Some(plan.assignment_required),
        ..ServicePrincipalPatch::default()
    };
    graph.update_service_principal(&sp.id, &patch).await?;
    graph
        .confirm_write(
            "the enterprise application's assignment setting to read back",
            op.remaining(),
            || async {
                Ok(graph
                    .get_service_principal(&sp.id)
                    .await?
                    .filter(|now| now.app_role_assignment_required == plan.assignment_required))
            },
        )
        .await
}

pub struct EntraApplication;

#[async_trait]
impl ManagedResource<Clients> for EntraApplication {
    type Model = ApplicationModel;
    const TYPE_NAME: &'static str = "kiro_entra_application";
    const DESCRIPTION: &'static str = "The non-gallery enterprise application Kiro signs in \
        against: app registration and service principal, made from Entra's \"Integrate any other \
        application you don't find in the gallery\" template (only applications made this way \
        support SCIM provisioning).";
    const TIMEOUTS: Timeouts = Timeouts::minutes(10, 10, 5);

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        if plan.is_create() {
            if let Some(c) = client {
                plan.set(
                    attr!(ApplicationModel, tenant_id),
                    TfValue::string(&c.tenant_id),
                );
                plan.set(
                    attr!(ApplicationModel, issuer_url),
                    TfValue::string(c.issuer_url()),
                );
                plan.set(
                    attr!(ApplicationModel, openid_configuration_url),
                    TfValue::string(c.openid_configuration_url()),
                );
            }
            return;
        }
        // Left out of the configuration, the identifier URI is the portal
        // default for this application.
        let uri = attr!(ApplicationModel, identifier_uri);
        if plan.config(uri).is_null()
            && let Some(client_id) = plan.prior(attr!(ApplicationModel, client_id)).as_str()
        {
            plan.set(uri, TfValue::string(default_identifier_uri(client_id)));
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: ApplicationModel,
        op: &Operation,
    ) -> Result<ApplicationModel, Diagnostics> {
        let graph = &clients.graph;
        let existing = graph
            .list_applications_by_display_name(&plan.display_name)
            .await
            .map_err(|e| e.fail("look for applications with the same name"))?;
        if plan.prevent_duplicate_names && !existing.is_empty() {
            let ids: Vec<String> = existing
                .iter()
                .map(|a| format!("  object id {} (client id {})", a.id, a.app_id))
                .collect();
            return Err(Diagnostic::error(
                "An application with this name already exists",
                format!(
                    "Entra already has an application named {:?}:\n{}\nTo manage it with \
                     Terraform, import it (terraform import <resource address> <object id>, or an \
                     import block), or choose another display_name, or set \
                     prevent_duplicate_names = false.",
                    plan.display_name,
                    ids.join("\n")
                ),
            )
            .at(AttrPath::attr(attr!(ApplicationModel, display_name)))
            .into());
        }
        let existing: Vec<String> = existing.into_iter().map(|a| a.id).collect();
        let template = clients.environment.non_gallery_template_id();
        let lookup = op.remaining().min(LOST_CREATE_LOOKUP);
        let (app_id, sp_id) =
            instantiate_or_find(graph, template, &plan.display_name, &existing, lookup)
                .await
                .map_err(|e| e.fail("create the application from the non-gallery template"))?;
        tracing::info!(object_id = %app_id, "application created; waiting until Graph shows it");
        op.exists(&ApplicationModel {
            id: Some(app_id.clone()),
            service_principal_id: Some(sp_id.clone()),
            ..plan.clone()
        });

        let finish = async {
            let app = graph
                .confirm_write(
                    "the new application to become readable",
                    op.remaining(),
                    || graph.get_application(&app_id),
                )
                .await?;
            let sp = wait_for_service_principal(graph, &sp_id, op.remaining()).await?;
            let sp = converge_service_principal(graph, sp, &plan, op).await?;
            Ok::<_, GraphError>((converge(graph, &app, &plan, op).await?, sp))
        };
        let (app, sp) = finish
            .await
            .map_err(|e| e.fail_at("finish setting up the new application", TARGETS))?;
        Ok(plan.observed(&app, Some(&sp), clients))
    }

    async fn read(
        &self,
        clients: &Clients,
        state: ApplicationModel,
    ) -> Result<Option<ApplicationModel>, Diagnostics> {
        let graph = &clients.graph;
        let Some(object_id) = state.id.clone() else {
            return Ok(None);
        };
        let Some(app) = graph
            .get_application_shared(&object_id)
            .await
            .map_err(|e| e.fail("read the application"))?
        else {
            tracing::info!(%object_id, "application is gone; removing it from state");
            return Ok(None);
        };
        let sp = match state.service_principal_id.clone().filter(|s| !s.is_empty()) {
            Some(id) => graph
                .get_service_principal(&id)
                .await
                .map_err(|e| e.fail("read the enterprise application"))?,
            // After an import: look the enterprise application up by client id.
            None => graph
                .find_service_principal_by_app_id(&app.app_id)
                .await
                .map_err(|e| e.fail("find the application's service principal"))?,
        };
        Ok(Some(state.observed(&app, sp.as_ref(), clients)))
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: ApplicationModel,
        plan: ApplicationModel,
        op: &Operation,
    ) -> Result<ApplicationModel, Diagnostics> {
        let graph = &clients.graph;
        let object_id = prior.id.clone().unwrap_or_default();
        // No lock here: this PATCH sends only the application's own
        // properties, and the scope and redirect-URI operations take the
        // application's lock themselves.
        let result = async {
            let app = wait_until("the application to be readable", op.remaining(), || {
                graph.get_application(&object_id)
            })
            .await?;
            let renamed = app.display_name != plan.display_name;
            let app = converge(graph, &app, &plan, op).await?;
            let sp_id = prior.service_principal_id.clone().unwrap_or_default();
            let sp = wait_for_service_principal(graph, &sp_id, op.remaining()).await?;
            if renamed {
                // The enterprise application carries its own name.
                let rename = ServicePrincipalPatch {
                    display_name: Some(plan.display_name.clone()),
                    ..ServicePrincipalPatch::default()
                };
                graph.update_service_principal(&sp_id, &rename).await?;
            }
            let sp = converge_service_principal(graph, sp, &plan, op).await?;
            Ok::<_, GraphError>((app, sp))
        };
        let (app, sp) = result
            .await
            .map_err(|e| e.fail_at("update the application", TARGETS))?;
        Ok(plan.observed(&app, Some(&sp), clients))
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: ApplicationModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let object_id = state.id.unwrap_or_default();
        let existed = clients
            .graph
            .delete_application(&object_id)
            .await
            .map_err(|e| e.fail("delete the application"))?;
        if !existed {
            tracing::info!(%object_id, "application was already gone");
        }
        Ok(())
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<ApplicationModel, Diagnostics> {
        if !is_guid(id) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!("{id:?} is not a GUID. Import with the application's object id or its Application (client) ID."),
            )
            .into());
        }
        let graph = &clients.graph;
        let by_object = graph
            .get_application(id)
            .await
            .map_err(|e| e.fail("look up the application"))?;
        let app = match by_object {
            Some(app) => app,
            None => graph
                .get_application_by_app_id(id)
                .await
                .map_err(|e| e.fail("look up the application by client id"))?
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Cannot import: application not found",
                        format!(
                            "No application in tenant {} has object id or client id {id}.",
                            clients.tenant_id
                        ),
                    )
                })?,
        };
        Ok(ApplicationModel {
            id: Some(app.id),
            prevent_duplicate_names: true,
            ..ApplicationModel::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_identifier_uris_show_as_drift() {
        assert_eq!(identifier_uri_state(&[]), None);
        assert_eq!(
            identifier_uri_state(&["api://a".into()]).as_deref(),
            Some("api://a")
        );
        assert_eq!(
            identifier_uri_state(&["api://a".into(), "api://b".into()]).as_deref(),
            Some("api://a, api://b")
        );
    }
}

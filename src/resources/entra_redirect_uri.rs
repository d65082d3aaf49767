//! `kiro_entra_redirect_uri`: one redirect URI of an application, for the
//! "Mobile and desktop applications" platform (Kiro's
//! `kiro://kiro.oauth/callback` and `http://localhost/oauth/callback`), or
//! `web` / `spa`. Other URIs of the application are left alone.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{guid, is_guid, one_of, same_guid};
use crate::framework::value::TfValue;
use crate::graph::applications::Platform;
use crate::{attr, tf_model};

use super::take_over::NaturalKey;
use super::uri_rules::check_redirect_uri;
use super::{GraphFailure, Targets, application_missing, bad_import_id, import_parts};

const TARGETS: Targets = &[
    ("publicClient.redirectUris", "uri"),
    ("web.redirectUris", "uri"),
    ("spa.redirectUris", "uri"),
];
const PLATFORMS: &[&str] = &["public_client", "web", "spa"];

tf_model! {
    pub struct RedirectUriModel {
        /// `<application object id>/<platform>/<uri>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// Object id of the application.
        application_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// The redirect URI, e.g. `kiro://kiro.oauth/callback`. At most 256 characters, no
        /// fragment, no wildcard; `http` only for `localhost`/`127.0.0.1`; custom schemes only
        /// for `public_client`.
        uri: String [required, requires_replace],
        /// `public_client` ("Mobile and desktop applications"), `web` or `spa`
        /// ("Single-page application").
        platform: String [default(TfValue::string("public_client")), requires_replace, validate(one_of(PLATFORMS))],
    }
}

fn id_of(application_id: &str, platform: Platform, uri: &str) -> String {
    format!("{application_id}/{}/{uri}", platform.as_str())
}

impl RedirectUriModel {
    fn platform(&self) -> Platform {
        Platform::from_name(&self.platform).unwrap_or(Platform::PublicClient)
    }

    fn with_id(mut self) -> Self {
        self.id = Some(id_of(&self.application_id, self.platform(), &self.uri));
        self
    }
}

pub struct EntraRedirectUri;

/// A URI is on a platform's list of an application once.
fn uri_key(application_id: &str, platform: Platform, uri: &str) -> NaturalKey {
    NaturalKey {
        type_name: EntraRedirectUri::TYPE_NAME,
        key: id_of(application_id, platform, uri),
        described: format!(
            "the {} redirect URI {uri:?} of application {application_id}",
            platform.as_str()
        ),
        at: AttrPath::attr(attr!(RedirectUriModel, uri)),
    }
}

#[async_trait]
impl ManagedResource<Clients> for EntraRedirectUri {
    type Model = RedirectUriModel;
    const TYPE_NAME: &'static str = "kiro_entra_redirect_uri";
    const DESCRIPTION: &'static str = "One redirect URI of an application. The application's \
        other redirect URIs are left alone, and several of these resources on one application can \
        be created in parallel without losing one another.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(5, 5, 5);

    fn validate(&self, config: &TfValue, diags: &mut Diagnostics) {
        let platform = match config.get_attr("platform") {
            Some(TfValue::String(p)) => Platform::from_name(p),
            Some(TfValue::Null) | None => Some(Platform::PublicClient),
            _ => None, // unknown until apply, or reported by its own validator
        };
        if let (Some(TfValue::String(uri)), Some(platform)) = (config.get_attr("uri"), platform)
            && let Err(problem) = check_redirect_uri(uri, platform)
        {
            diags.attr_error(
                AttrPath::attr(attr!(RedirectUriModel, uri)),
                "Invalid redirect URI",
                problem,
            );
        }
    }

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        let (Some(clients), true) = (client, plan.is_create()) else {
            return;
        };
        let (Some(app_id), Some(uri)) = (
            plan.config(attr!(RedirectUriModel, application_id))
                .as_str(),
            plan.config(attr!(RedirectUriModel, uri)).as_str(),
        ) else {
            return;
        };
        let Some(platform) = plan
            .planned(attr!(RedirectUriModel, platform))
            .as_str()
            .and_then(Platform::from_name)
        else {
            return;
        };
        if let Ok(Some(app)) = clients.graph.get_application_shared(app_id).await
            && app.redirect_uris(platform).iter().any(|u| u == uri)
        {
            uri_key(app_id, platform, uri)
                .will_take_over(&id_of(app_id, platform, uri), &mut plan.diagnostics);
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: RedirectUriModel,
        op: &Operation,
    ) -> Result<RedirectUriModel, Diagnostics> {
        let graph = &clients.graph;
        let platform = plan.platform();
        // Shared, as for scopes (see kiro_entra_api_scope).
        let app = graph
            .get_application_shared(&plan.application_id)
            .await
            .map_err(|e| e.fail("read the application"))?
            .ok_or_else(|| {
                application_missing(
                    &plan.application_id,
                    attr!(RedirectUriModel, application_id),
                )
            })?;
        let id = id_of(&plan.application_id, platform, &plan.uri);
        let key = uri_key(&plan.application_id, platform, &plan.uri);
        key.claim(clients)?;
        // A URI is on a platform's list once: one found (added by an interrupted apply)
        // is taken over as it is.
        if app.redirect_uris(platform).iter().any(|u| u == &plan.uri) {
            key.took_over(op, &id);
            return Ok(plan.with_id());
        }
        graph
            .add_redirect_uri(&plan.application_id, platform, &plan.uri, op.remaining())
            .await
            .map_err(|e| e.fail_at("add the redirect URI", TARGETS))?;
        Ok(plan.with_id())
    }

    async fn read(
        &self,
        clients: &Clients,
        state: RedirectUriModel,
    ) -> Result<Option<RedirectUriModel>, Diagnostics> {
        let app = clients
            .graph
            .get_application_shared(&state.application_id)
            .await
            .map_err(|e| e.fail("read the application"))?;
        let present = app.as_deref().is_some_and(|app| {
            app.redirect_uris(state.platform())
                .iter()
                .any(|u| u == &state.uri)
        });
        if !present {
            tracing::info!(uri = %state.uri, "redirect URI is gone; removing it from state");
        }
        Ok(present.then(|| state.with_id()))
    }

    async fn update(
        &self,
        _clients: &Clients,
        _prior: RedirectUriModel,
        plan: RedirectUriModel,
        _op: &Operation,
    ) -> Result<RedirectUriModel, Diagnostics> {
        // Every argument forces replacement; only `timeouts` can change here.
        Ok(plan.with_id())
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: RedirectUriModel,
        op: &Operation,
    ) -> Result<(), Diagnostics> {
        match clients
            .graph
            .remove_redirect_uri(
                &state.application_id,
                state.platform(),
                &state.uri,
                op.remaining(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.fail("remove the redirect URI")),
        }
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<RedirectUriModel, Diagnostics> {
        let usage = "<application object id>/<platform>/<uri>, e.g. \
                     <object id>/public_client/kiro://kiro.oauth/callback";
        let [application_id, platform_name, uri] = import_parts(id, usage)?;
        let Some(platform) =
            Platform::from_name(&platform_name).filter(|_| is_guid(&application_id))
        else {
            return Err(bad_import_id(id, usage));
        };
        let app = clients
            .graph
            .get_application(&application_id)
            .await
            .map_err(|e| e.fail("read the application"))?
            .ok_or_else(|| {
                application_missing(&application_id, attr!(RedirectUriModel, application_id))
            })?;
        if !app.redirect_uris(platform).iter().any(|u| u == &uri) {
            return Err(Diagnostic::error(
                "Cannot import: redirect URI not found",
                format!(
                    "Application {application_id} has no {platform_name} redirect URI {uri:?}."
                ),
            )
            .into());
        }
        Ok(RedirectUriModel {
            id: None,
            application_id,
            uri,
            platform: platform_name,
        }
        .with_id())
    }
}

//! `kiro_entra_application`: the non-gallery enterprise application (app
//! registration + service principal, made from Entra's "Integrate any other
//! application you don't find in the gallery" template) that Kiro signs in
//! against.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::plan::PlanContext;
use crate::framework::resource::{Applied, ApplyRequest, Resource};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::timeouts::{timeout_for, timeouts_block};
use crate::framework::typed::{ObjectBuilder, ObjectReader};
use crate::framework::validators::{StringCheck, int_between, is_guid, max_length, not_blank};
use crate::framework::value::TfValue;
use crate::graph::applications::{Application, PermissionScope};
use crate::graph::client::GraphClient;
use crate::graph::consistency::{wait_for_service_principal, wait_until};
use crate::graph::error::GraphError;
use crate::graph::path_segment;
use crate::provider::Clients;

use super::graph_failure;

pub struct EntraApplication;

/// The scope every template application starts with; Kiro needs only its
/// own scopes, so it is removed unless `keep_default_scope` is set.
const DEFAULT_SCOPE: &str = "user_impersonation";
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long to look for an application whose create call got no usable
/// answer (Graph may answer 404 although it made it) before giving up: a
/// real 404 (wrong template, missing permission) must not hang a whole
/// create timeout.
const LOST_CREATE_LOOKUP: Duration = Duration::from_secs(2 * 60);

/// What the configuration asks for.
struct Desired {
    display_name: String,
    token_version: i64,
    identifier_uri: Option<String>,
    keep_default_scope: bool,
    prevent_duplicate_names: bool,
}

impl Desired {
    fn from_plan(planned: &TfValue) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(planned);
        Ok(Desired {
            display_name: r.require("display_name")?,
            token_version: r.get("requested_access_token_version")?.or(2),
            identifier_uri: r.get::<String>("identifier_uri")?.into_known(),
            keep_default_scope: r.get("keep_default_scope")?.or(false),
            prevent_duplicate_names: r.get("prevent_duplicate_names")?.or(true),
        })
    }

    fn identifier_uri_for(&self, client_id: &str) -> String {
        self.identifier_uri
            .clone()
            .unwrap_or_else(|| default_identifier_uri(client_id))
    }

    /// Whether a read of the application shows every value this configuration writes.
    /// Graph's reads lag behind its writes (a GET right after a PATCH may return the
    /// previous version), so the state is taken from a read only once it does.
    fn is_reflected_by(&self, app: &Application) -> bool {
        let api = app.api.as_ref();
        let token_version = api
            .and_then(|a| a.requested_access_token_version)
            .unwrap_or(1);
        let has_default_scope = api.is_some_and(|a| {
            a.oauth2_permission_scopes
                .iter()
                .any(|s: &PermissionScope| s.value.as_deref() == Some(DEFAULT_SCOPE))
        });
        app.display_name == self.display_name
            && app.identifier_uris == [self.identifier_uri_for(&app.app_id)]
            && i64::from(token_version) == self.token_version
            && has_default_scope == self.keep_default_scope
    }
}

fn default_identifier_uri(client_id: &str) -> String {
    format!("api://{client_id}")
}

/// Plan-time check of an identifier URI (Graph's forms: `api://…`,
/// `https://…`, `urn:…`), so a typo fails before any request.
pub fn check_identifier_uri(uri: &str) -> Result<(), String> {
    if uri.chars().any(char::is_whitespace) {
        return Err(format!("{uri:?} contains white space."));
    }
    if uri.contains('*') {
        return Err(format!(
            "{uri:?} contains a wildcard (*), which Entra does not allow."
        ));
    }
    let url = url::Url::parse(uri).map_err(|e| {
        format!("{uri:?} is not a URI ({e}); use the form api://<client id> or https://<verified domain>/<path>.")
    })?;
    match url.scheme() {
        "api" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!(
                    "{uri:?} has no host after the scheme, e.g. api://<client id>."
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("{uri:?} must not have a query string or fragment."));
            }
            Ok(())
        }
        "urn" => Ok(()),
        other => Err(format!(
            "{uri:?} has scheme {other:?}; identifier URIs use api://, https:// or urn:."
        )),
    }
}

fn computed_id(name: &str, description: &str) -> Attribute {
    Attribute::string(name)
        .computed()
        .use_state_for_unknown()
        .describe(description)
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "The non-gallery enterprise application Kiro signs in against: app registration and \
             service principal, made from Entra's \"Integrate any other application\" template.",
        )
        .attribute(computed_id("id", "The application's object id."))
        .attribute(
            Attribute::string("display_name")
                .required()
                .validate(not_blank())
                .validate(max_length(256))
                .describe("Name shown in Entra (app registration and enterprise application)."),
        )
        .attribute(
            Attribute::number("requested_access_token_version")
                .default(TfValue::Number(2i64.into()))
                .validate(int_between(1, 2))
                .describe("`api.requestedAccessTokenVersion`. Kiro needs 2 (v2 issuer in tokens)."),
        )
        .attribute(
            Attribute::string("identifier_uri")
                .optional()
                .computed()
                .validate(StringCheck(check_identifier_uri))
                .describe("Application ID URI under \"Expose an API\". Default `api://<client_id>`."),
        )
        .attribute(
            Attribute::bool("keep_default_scope")
                .default(TfValue::Bool(false))
                .describe("Keep the template's `user_impersonation` scope (default: disable and remove it)."),
        )
        .attribute(
            Attribute::bool("prevent_duplicate_names")
                .default(TfValue::Bool(true))
                .describe("Refuse to create when an application with the same display name exists."),
        )
        .attribute(computed_id("object_id", "The application's object id."))
        .attribute(computed_id("client_id", "The Application (client) ID."))
        .attribute(computed_id("service_principal_id", "Object id of the enterprise application (service principal)."))
        .attribute(computed_id("tenant_id", "The directory (tenant) id."))
        .attribute(computed_id("issuer_url", "The OpenID issuer Kiro trusts: `https://login.microsoftonline.com/<tenant>/v2.0`."))
        .attribute(computed_id("openid_configuration_url", "The OpenID Connect metadata document URL."))
        .block(timeouts_block(&["create", "update", "delete"])),
    )
}

fn app_path(object_id: &str) -> String {
    format!("applications/{}", path_segment(object_id))
}

/// The application as Graph returns it, raw (for whole-list PATCHes that
/// must keep fields we do not model) and typed.
async fn get_app(
    graph: &GraphClient,
    object_id: &str,
) -> Result<Option<(Json, Application)>, GraphError> {
    let Some(raw) = graph.get_opt::<Json>(&app_path(object_id)).await? else {
        return Ok(None);
    };
    let app: Application = serde_json::from_value(raw.clone()).map_err(|e| GraphError::Decode {
        context: format!("GET {}", app_path(object_id)),
        message: e.to_string(),
    })?;
    Ok(Some((raw, app)))
}

fn raw_scopes(raw: &Json) -> Vec<Json> {
    raw.pointer("/api/oauth2PermissionScopes")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_default_scope(scope: &Json) -> bool {
    scope.get("value").and_then(Json::as_str) == Some(DEFAULT_SCOPE)
}

/// Removes the template's scope: Graph refuses to delete an enabled scope,
/// so it is disabled first, then removed (two whole-list PATCHes).
async fn remove_default_scope(
    graph: &GraphClient,
    object_id: &str,
    raw: &Json,
) -> Result<(), GraphError> {
    let scopes = raw_scopes(raw);
    if !scopes.iter().any(is_default_scope) {
        return Ok(());
    }
    let enabled = scopes
        .iter()
        .any(|s| is_default_scope(s) && s.get("isEnabled").and_then(Json::as_bool) != Some(false));
    if enabled {
        let disabled: Vec<Json> = scopes
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if is_default_scope(&s) {
                    s["isEnabled"] = Json::Bool(false);
                }
                s
            })
            .collect();
        graph
            .update_application(
                object_id,
                &json!({"api": {"oauth2PermissionScopes": disabled}}),
            )
            .await?;
    }
    let kept: Vec<Json> = scopes
        .into_iter()
        .filter(|s| !is_default_scope(s))
        .collect();
    graph
        .update_application(object_id, &json!({"api": {"oauth2PermissionScopes": kept}}))
        .await
}

/// Puts the template's scope back (when `keep_default_scope` becomes true).
async fn add_default_scope(
    graph: &GraphClient,
    app: &Application,
    raw: &Json,
) -> Result<(), GraphError> {
    let mut scopes = raw_scopes(raw);
    if scopes.iter().any(is_default_scope) {
        return Ok(());
    }
    let name = &app.display_name;
    scopes.push(json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "value": DEFAULT_SCOPE,
        "type": "User",
        "isEnabled": true,
        "adminConsentDisplayName": format!("Access {name}"),
        "adminConsentDescription": format!("Allow the application to access {name} on behalf of the signed-in user."),
        "userConsentDisplayName": format!("Access {name}"),
        "userConsentDescription": format!("Allow the application to access {name} on your behalf."),
    }));
    graph
        .update_application(&app.id, &json!({"api": {"oauth2PermissionScopes": scopes}}))
        .await
}

/// Bounds a whole operation by its `timeouts` value.
async fn within<T>(
    timeout: Duration,
    what: &str,
    work: impl Future<Output = Result<T, GraphError>>,
) -> Result<T, GraphError> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(GraphError::Timeout {
                what: what.to_string(),
                waited: timeout,
            })
        })
}

fn identifier_uri_state(uris: &[String]) -> TfValue {
    match uris {
        [] => TfValue::Null,
        [one] => TfValue::String(one.clone()),
        // Several URIs (added outside Terraform): show them all, so the
        // plan shows the drift and the update writes the single one back.
        many => TfValue::String(many.join(", ")),
    }
}

fn state_from(
    app: &Application,
    service_principal_id: &str,
    clients: &Clients,
    prior: &TfValue,
) -> TfValue {
    let prior = ObjectReader::new(prior);
    let token_version = app
        .api
        .as_ref()
        .and_then(|a| a.requested_access_token_version)
        .unwrap_or(1);
    let has_default_scope = app.api.as_ref().is_some_and(|a| {
        a.oauth2_permission_scopes
            .iter()
            .any(|s: &PermissionScope| s.value.as_deref() == Some(DEFAULT_SCOPE))
    });
    ObjectBuilder::new()
        .set("id", app.id.as_str())
        .set("object_id", app.id.as_str())
        .set("client_id", app.app_id.as_str())
        .set("display_name", app.display_name.as_str())
        .set("requested_access_token_version", i64::from(token_version))
        .set_raw("identifier_uri", identifier_uri_state(&app.identifier_uris))
        .set("keep_default_scope", has_default_scope)
        .set(
            "prevent_duplicate_names",
            prior
                .get::<bool>("prevent_duplicate_names")
                .ok()
                .and_then(|v| v.into_known())
                .unwrap_or(true),
        )
        .set("service_principal_id", service_principal_id)
        .set("tenant_id", clients.tenant_id.as_str())
        .set("issuer_url", clients.issuer_url())
        .set(
            "openid_configuration_url",
            clients.openid_configuration_url(),
        )
        .set_raw("timeouts", prior.raw("timeouts").clone())
        .build()
}

fn import_hint(existing: &[Application]) -> String {
    existing
        .iter()
        .map(|a| format!("  object id {} (client id {})", a.id, a.app_id))
        .collect::<Vec<_>>()
        .join("\n")
}

impl EntraApplication {
    /// Finds an application made by an instantiate call whose answer got
    /// lost (Graph may answer 404 although it created the objects).
    async fn find_created(
        graph: &GraphClient,
        name: &str,
        before: &[String],
        timeout: Duration,
    ) -> Result<Application, GraphError> {
        wait_until(
            "the new application to appear after an unanswered create",
            timeout,
            || async {
                let found = graph.list_applications_by_display_name(name).await?;
                Ok(found.into_iter().find(|a| !before.contains(&a.id)))
            },
        )
        .await
    }

    async fn create_inner(
        &self,
        clients: &Clients,
        desired: &Desired,
        timeout: Duration,
    ) -> Result<(Application, String), (Option<(Application, String)>, Diagnostics)> {
        let graph = &clients.graph;
        let fail = |doing: &str, e: GraphError| (None, graph_failure(doing, e));
        let existing = graph
            .list_applications_by_display_name(&desired.display_name)
            .await
            .map_err(|e| fail("look for applications with the same name", e))?;
        if desired.prevent_duplicate_names && !existing.is_empty() {
            return Err((
                None,
                Diagnostic::error(
                    "An application with this name already exists",
                    format!(
                        "Entra already has an application named {:?}:\n{}\nTo manage it with Terraform, import it \
                         (terraform import <resource address> <object id>, or an import block), or choose another \
                         display_name, or set prevent_duplicate_names = false.",
                        desired.display_name,
                        import_hint(&existing)
                    ),
                )
                .at(AttrPath::attr("display_name"))
                .into(),
            ));
        }
        let before: Vec<String> = existing.iter().map(|a| a.id.clone()).collect();
        let template = clients.environment.non_gallery_template_id();
        let (app_id, sp_id) = match graph
            .instantiate_template(template, &desired.display_name)
            .await
        {
            Ok(created) => (created.application.id, created.service_principal.id),
            Err(e) if e.is_not_found() || matches!(e, GraphError::Transport(_)) => {
                tracing::warn!(error = %e, "instantiate gave no usable answer; looking the new application up by name");
                let lookup = timeout.min(LOST_CREATE_LOOKUP);
                let app = Self::find_created(graph, &desired.display_name, &before, lookup)
                    .await
                    .map_err(|_| {
                        fail(
                            &format!(
                                "create the application (Graph gave no usable answer, and no new \
                                 application named {:?} appeared within {lookup:?}; check the \
                                 non-gallery template for this cloud and the identity's permissions)",
                                desired.display_name
                            ),
                            e,
                        )
                    })?;
                let sp = wait_until("the new service principal to appear", timeout, || {
                    graph.find_service_principal_by_app_id(&app.app_id)
                })
                .await
                .map_err(|e| fail("find the new service principal", e))?;
                (app.id, sp.id)
            }
            Err(e) => {
                return Err(fail(
                    "create the application from the non-gallery template",
                    e,
                ));
            }
        };
        tracing::info!(object_id = %app_id, "application created; waiting until Graph shows it");

        // From here on the objects exist: failures keep them in state.
        let finish = async {
            let (raw, app) = wait_until("the new application to become readable", timeout, || {
                get_app(graph, &app_id)
            })
            .await?;
            wait_for_service_principal(graph, &sp_id, timeout).await?;
            let _guard = graph.locks().lock(&app_id).await;
            graph
                .update_application(
                    &app_id,
                    &json!({
                        "identifierUris": [desired.identifier_uri_for(&app.app_id)],
                        "api": {"requestedAccessTokenVersion": desired.token_version},
                    }),
                )
                .await?;
            if !desired.keep_default_scope {
                remove_default_scope(graph, &app_id, &raw).await?;
            }
            let (_, app) = wait_until(
                "the application to read back its changes",
                timeout,
                || async {
                    let read = get_app(graph, &app_id).await?;
                    Ok(read.filter(|(_, app)| desired.is_reflected_by(app)))
                },
            )
            .await?;
            Ok::<_, GraphError>(app)
        };
        match within(timeout, "setting up the new application", finish).await {
            Ok(app) => Ok((app, sp_id)),
            Err(e) => {
                let partial = Application {
                    id: app_id.clone(),
                    display_name: desired.display_name.clone(),
                    ..Application::default()
                };
                Err((
                    Some((partial, sp_id)),
                    graph_failure(
                        "finish setting up the new application (it exists and is kept in state; the next apply replaces it)",
                        e,
                    ),
                ))
            }
        }
    }
}

#[async_trait]
impl Resource<Clients> for EntraApplication {
    fn type_name(&self) -> &'static str {
        "kiro_entra_application"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        if plan.is_create() {
            if let Some(c) = client {
                plan.set("tenant_id", TfValue::String(c.tenant_id.clone()));
                plan.set("issuer_url", TfValue::String(c.issuer_url()));
                plan.set(
                    "openid_configuration_url",
                    TfValue::String(c.openid_configuration_url()),
                );
            }
            return;
        }
        // Left out of the configuration, the identifier URI is the portal
        // default for this application.
        if plan.config("identifier_uri").is_null()
            && let Some(client_id) = plan.prior("client_id").as_str()
        {
            plan.set(
                "identifier_uri",
                TfValue::String(default_identifier_uri(client_id)),
            );
        }
    }

    async fn create(&self, clients: &Clients, req: ApplyRequest<'_>) -> Applied {
        let desired = match Desired::from_plan(req.planned) {
            Ok(d) => d,
            Err(d) => return Applied::failed(d),
        };
        let timeout = timeout_for(req.planned, "create", CREATE_TIMEOUT);
        match self.create_inner(clients, &desired, timeout).await {
            Ok((app, sp_id)) => Applied::ok(state_from(&app, &sp_id, clients, req.planned)),
            Err((Some((partial, sp_id)), diags)) => {
                Applied::partial(state_from(&partial, &sp_id, clients, req.planned), diags)
            }
            Err((None, diags)) => Applied::failed(diags),
        }
    }

    async fn read(
        &self,
        clients: &Clients,
        state: &TfValue,
    ) -> Result<Option<TfValue>, Diagnostics> {
        let r = ObjectReader::new(state);
        let object_id: String = r.require("id")?;
        let graph = &clients.graph;
        let Some((_, app)) = get_app(graph, &object_id)
            .await
            .map_err(|e| graph_failure("read the application", e))?
        else {
            tracing::info!(%object_id, "application is gone; removing it from state");
            return Ok(None);
        };
        let sp_id = match r
            .get::<String>("service_principal_id")?
            .into_known()
            .filter(|s| !s.is_empty())
        {
            Some(id) => id,
            // After an import: look the enterprise application up once.
            None => graph
                .find_service_principal_by_app_id(&app.app_id)
                .await
                .map_err(|e| graph_failure("find the application's service principal", e))?
                .map(|sp| sp.id)
                .unwrap_or_default(),
        };
        Ok(Some(state_from(&app, &sp_id, clients, state)))
    }

    async fn update(&self, clients: &Clients, req: ApplyRequest<'_>) -> Applied {
        let desired = match Desired::from_plan(req.planned) {
            Ok(d) => d,
            Err(d) => return Applied::failed(d),
        };
        let prior = ObjectReader::new(req.prior);
        let object_id: String = match prior.require("id") {
            Ok(id) => id,
            Err(d) => return Applied::failed(d),
        };
        let sp_id: String = prior
            .get::<String>("service_principal_id")
            .ok()
            .and_then(|v| v.into_known())
            .unwrap_or_default();
        let timeout = timeout_for(req.planned, "update", UPDATE_TIMEOUT);
        let graph = &clients.graph;
        let result = async {
            let _guard = graph.locks().lock(&object_id).await;
            let (raw, app) = wait_until("the application to be readable", timeout, || {
                get_app(graph, &object_id)
            })
            .await?;
            let mut patch = serde_json::Map::new();
            if app.display_name != desired.display_name {
                patch.insert("displayName".into(), json!(desired.display_name));
            }
            let uri = desired.identifier_uri_for(&app.app_id);
            if app.identifier_uris != [uri.clone()] {
                patch.insert("identifierUris".into(), json!([uri]));
            }
            let current_version = app
                .api
                .as_ref()
                .and_then(|a| a.requested_access_token_version)
                .unwrap_or(1);
            if i64::from(current_version) != desired.token_version {
                patch.insert(
                    "api".into(),
                    json!({"requestedAccessTokenVersion": desired.token_version}),
                );
            }
            if !patch.is_empty() {
                graph
                    .update_application(&object_id, &Json::Object(patch))
                    .await?;
            }
            if app.display_name != desired.display_name && !sp_id.is_empty() {
                // The enterprise application carries its own name.
                graph
                    .patch(
                        &format!("servicePrincipals/{sp_id}"),
                        &json!({"displayName": desired.display_name}),
                    )
                    .await?;
            }
            if desired.keep_default_scope {
                add_default_scope(graph, &app, &raw).await?;
            } else {
                remove_default_scope(graph, &object_id, &raw).await?;
            }
            let (_, app) = wait_until(
                "the application to read back its changes",
                timeout,
                || async {
                    let read = get_app(graph, &object_id).await?;
                    Ok(read.filter(|(_, app)| desired.is_reflected_by(app)))
                },
            )
            .await?;
            Ok::<_, GraphError>(app)
        };
        let result = within(timeout, "updating the application", result).await;
        match result {
            Ok(app) => Applied::ok(state_from(&app, &sp_id, clients, req.planned)),
            Err(e) => Applied::failed(graph_failure("update the application", e)),
        }
    }

    async fn delete(&self, clients: &Clients, state: &TfValue) -> Result<(), Diagnostics> {
        let object_id: String = ObjectReader::new(state).require("id")?;
        let timeout = timeout_for(state, "delete", DELETE_TIMEOUT);
        let existed = within(
            timeout,
            "deleting the application",
            clients.graph.delete_application(&object_id),
        )
        .await
        .map_err(|e| graph_failure("delete the application", e))?;
        if !existed {
            tracing::info!(%object_id, "application was already gone");
        }
        Ok(())
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<TfValue, Diagnostics> {
        if !is_guid(id) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!("{id:?} is not a GUID. Import with the application's object id or its Application (client) ID."),
            )
            .into());
        }
        let graph = &clients.graph;
        let by_object = get_app(graph, id)
            .await
            .map_err(|e| graph_failure("look up the application", e))?;
        let app = match by_object {
            Some((_, app)) => app,
            None => graph
                .get_application_by_app_id(id)
                .await
                .map_err(|e| graph_failure("look up the application by client id", e))?
                .ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error(
                        "Cannot import: application not found",
                        format!(
                            "No application in tenant {} has object id or client id {id}.",
                            clients.tenant_id
                        ),
                    ))
                })?,
        };
        Ok(ObjectBuilder::new()
            .set("id", app.id.as_str())
            .set("prevent_duplicate_names", true)
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_uri_forms() {
        assert!(check_identifier_uri("api://8adf8e6e-67b2-4cf2-a259-e3dc5476c621").is_ok());
        assert!(check_identifier_uri("https://contoso.com/kiro").is_ok());
        assert!(check_identifier_uri("urn:kiro:app").is_ok());
        for bad in [
            "not a uri",
            "api://",
            "http://contoso.com",
            "api://x/*",
            "kiro",
            "https://x.com/?a=b",
        ] {
            assert!(check_identifier_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn several_identifier_uris_show_as_drift() {
        assert_eq!(identifier_uri_state(&[]), TfValue::Null);
        assert_eq!(
            identifier_uri_state(&["api://a".into()]),
            TfValue::String("api://a".into())
        );
        assert_eq!(
            identifier_uri_state(&["api://a".into(), "api://b".into()]),
            TfValue::String("api://a, api://b".into())
        );
    }
}

//! Applications, application templates and service principals: models and operations.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use super::client::{GraphClient, GraphRequest};
use super::error::GraphError;
use super::patch::{ApplicationPatch, ServicePrincipalPatch};
use super::{filter_eq, key_segment, path_segment};

/// Treats JSON `null` like a missing field (Graph returns `null` for some empty lists).
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An app registration (`/applications/{id}`). Fields this model does not name are kept in
/// `extra`, so a read-modify-write never drops what Graph added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Object id.
    pub id: String,
    /// Application (client) id.
    pub app_id: String,
    /// Display name.
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    /// Application ID URIs ("Expose an API").
    #[serde(default, deserialize_with = "nullable")]
    pub identifier_uris: Vec<String>,
    /// e.g. `AzureADMyOrg`.
    #[serde(default)]
    pub sign_in_audience: Option<String>,
    /// The `api` block.
    #[serde(default)]
    pub api: Option<ApiApplication>,
    /// "Mobile and desktop applications" redirect URIs.
    #[serde(default)]
    pub public_client: Option<RedirectUris>,
    /// "Web" redirect URIs.
    #[serde(default)]
    pub web: Option<RedirectUris>,
    /// "Single-page application" redirect URIs.
    #[serde(default)]
    pub spa: Option<RedirectUris>,
    /// App roles.
    #[serde(default, deserialize_with = "nullable")]
    pub app_roles: Vec<AppRole>,
    /// Creation time (RFC 3339), as Graph gave it.
    #[serde(default)]
    pub created_date_time: Option<String>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `application.api`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiApplication {
    /// 1, 2 or null (= 1). Kiro needs 2 (v2 issuer).
    #[serde(default)]
    pub requested_access_token_version: Option<i32>,
    /// Delegated scopes.
    #[serde(default, deserialize_with = "nullable")]
    pub oauth2_permission_scopes: Vec<PermissionScope>,
    /// Every other field Graph sent (e.g. `acceptMappedClaims`, `preAuthorizedApplications`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A delegated permission scope. Serializes back in Graph's shape for whole-list PATCHes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionScope {
    /// Client-made GUID.
    pub id: String,
    /// e.g. `codewhisperer:completions`.
    #[serde(default)]
    pub value: Option<String>,
    /// `User` ("Admins and users") or `Admin` ("Admins only").
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Enabled scopes cannot be changed or removed.
    #[serde(default)]
    pub is_enabled: bool,
    /// Admin consent display name.
    #[serde(default)]
    pub admin_consent_display_name: Option<String>,
    /// Admin consent description.
    #[serde(default)]
    pub admin_consent_description: Option<String>,
    /// User consent display name.
    #[serde(default)]
    pub user_consent_display_name: Option<String>,
    /// User consent description.
    #[serde(default)]
    pub user_consent_description: Option<String>,
    /// Every other field Graph sent, written back unchanged in whole-list PATCHes.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The scope every application made from the non-gallery template starts with.
pub const TEMPLATE_SCOPE_VALUE: &str = "user_impersonation";

impl PermissionScope {
    /// The template's `user_impersonation` scope as the portal makes it
    /// (enabled, "Admins and users"), with a new id.
    pub fn template_default(display_name: &str) -> PermissionScope {
        PermissionScope {
            id: uuid::Uuid::new_v4().to_string(),
            value: Some(TEMPLATE_SCOPE_VALUE.into()),
            kind: Some("User".into()),
            is_enabled: true,
            admin_consent_display_name: Some(format!("Access {display_name}")),
            admin_consent_description: Some(format!(
                "Allow the application to access {display_name} on behalf of the signed-in user."
            )),
            user_consent_display_name: Some(format!("Access {display_name}")),
            user_consent_description: Some(format!(
                "Allow the application to access {display_name} on your behalf."
            )),
            ..PermissionScope::default()
        }
    }

    /// True when every named setting (not `extra`) equals `other`'s: what a read-back must
    /// show after a write of `other`.
    pub fn same_settings(&self, other: &PermissionScope) -> bool {
        let named = |s: &PermissionScope| {
            (
                s.id.clone(),
                s.value.clone(),
                s.kind.clone(),
                s.is_enabled,
                s.admin_consent_display_name.clone(),
                s.admin_consent_description.clone(),
                s.user_consent_display_name.clone(),
                s.user_consent_description.clone(),
            )
        };
        named(self) == named(other)
    }
}

/// `web`, `spa` or `publicClient`: `{ "redirectUris": [...], … }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectUris {
    /// The redirect URIs.
    #[serde(default, deserialize_with = "nullable")]
    pub redirect_uris: Vec<String>,
    /// Every other field Graph sent (e.g. `web.homePageUrl`, `web.implicitGrantSettings`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A platform whose redirect URIs an application lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// "Mobile and desktop applications" (`publicClient`); custom schemes allowed.
    PublicClient,
    /// "Web" (`web`).
    Web,
    /// "Single-page application" (`spa`).
    Spa,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 3] = [Platform::PublicClient, Platform::Web, Platform::Spa];

    /// The configuration name: `public_client`, `web` or `spa`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::PublicClient => "public_client",
            Platform::Web => "web",
            Platform::Spa => "spa",
        }
    }

    /// The Graph property of the application: `publicClient`, `web` or `spa`.
    pub fn graph_property(self) -> &'static str {
        match self {
            Platform::PublicClient => "publicClient",
            Platform::Web => "web",
            Platform::Spa => "spa",
        }
    }

    /// The platform named `name` in configuration (`public_client`, `web`, `spa`).
    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Application {
    /// The delegated scopes (`api.oauth2PermissionScopes`), empty when there is no `api`.
    pub fn scopes(&self) -> &[PermissionScope] {
        self.api
            .as_ref()
            .map_or(&[], |a| a.oauth2_permission_scopes.as_slice())
    }

    /// The platform's block (`web`, `spa`, `publicClient`), when Graph sent one.
    pub fn platform(&self, platform: Platform) -> Option<&RedirectUris> {
        match platform {
            Platform::PublicClient => self.public_client.as_ref(),
            Platform::Web => self.web.as_ref(),
            Platform::Spa => self.spa.as_ref(),
        }
    }

    /// The platform's redirect URIs.
    pub fn redirect_uris(&self, platform: Platform) -> &[String] {
        self.platform(platform)
            .map_or(&[], |p| p.redirect_uris.as_slice())
    }
}

/// An app role (e.g. the template's `User` and `msiam_access`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    /// Role id.
    pub id: String,
    /// Role value (claim), may be null.
    #[serde(default)]
    pub value: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the role is enabled.
    #[serde(default)]
    pub is_enabled: bool,
    /// `User`, `Application`.
    #[serde(default, deserialize_with = "nullable")]
    pub allowed_member_types: Vec<String>,
    /// Every other field Graph sent (e.g. `origin`), written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An enterprise application (`/servicePrincipals/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id of the service principal.
    pub id: String,
    /// The application (client) id it belongs to.
    pub app_id: String,
    /// Display name.
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    /// "Assignment required?"
    #[serde(default, deserialize_with = "nullable")]
    pub app_role_assignment_required: bool,
    /// Tags (the template sets the integrated-app / custom-SSO tags).
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<String>,
    /// App roles (copied from the application).
    #[serde(default, deserialize_with = "nullable")]
    pub app_roles: Vec<AppRole>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `POST /applicationTemplates/{id}/instantiate`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstantiateResult {
    /// The new app registration.
    pub application: Application,
    /// Its service principal.
    pub service_principal: ServicePrincipal,
}

/// `applications/{objectId}`, encoded.
pub(crate) fn application_path(object_id: &str) -> String {
    format!("applications/{}", path_segment(object_id))
}

impl GraphClient {
    /// `POST /applicationTemplates/{template}/instantiate`. NOT idempotent: never retried after
    /// a dropped connection or 503/504 (only 429). The call may fail although it succeeded;
    /// look the name up before trying again.
    pub async fn instantiate_template(
        &self,
        template_id: &str,
        display_name: &str,
    ) -> Result<InstantiateResult, GraphError> {
        let path = format!(
            "applicationTemplates/{}/instantiate",
            path_segment(template_id)
        );
        let req = GraphRequest::post(path, json!({ "displayName": display_name }));
        self.execute(&req).await
    }

    /// `GET /applications/{objectId}`; `None` on 404.
    pub async fn get_application(
        &self,
        object_id: &str,
    ) -> Result<Option<Application>, GraphError> {
        self.get_opt(&application_path(object_id)).await
    }

    /// `GET /applications(appId='{clientId}')`; `None` on 404.
    pub async fn get_application_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<Application>, GraphError> {
        self.get_opt(&key_segment("applications", "appId", app_id))
            .await
    }

    /// Applications whose display name equals `name` (all pages).
    pub async fn list_applications_by_display_name(
        &self,
        name: &str,
    ) -> Result<Vec<Application>, GraphError> {
        self.list(&format!("applications?{}", filter_eq("displayName", name)))
            .await
    }

    /// `PATCH /applications/{objectId}` with the fields `patch` sets (whole-list properties
    /// replace). An empty patch sends nothing. Drops this client's shared copy of the
    /// application (see [`GraphClient::get_application_shared`]); it does not wait for Graph
    /// to show the change.
    pub async fn update_application(
        &self,
        object_id: &str,
        patch: &ApplicationPatch,
    ) -> Result<(), GraphError> {
        if patch.is_empty() {
            return Ok(());
        }
        let result = self.patch(&application_path(object_id), patch).await;
        // Whatever the outcome, the shared copy may no longer be what Graph holds.
        self.shared_applications().forget(object_id);
        result
    }

    /// `DELETE /applications/{objectId}` (soft delete; the service principal goes with it).
    /// `false` when it was already gone.
    pub async fn delete_application(&self, object_id: &str) -> Result<bool, GraphError> {
        let result = self.delete(&application_path(object_id)).await;
        self.written().forget(object_id);
        match &result {
            // Graph may still answer GETs for a moment; the client's own delete wins.
            Ok(_) => self
                .shared_applications()
                .store_application(object_id, None),
            Err(_) => self.shared_applications().forget(object_id),
        }
        result
    }

    /// `PATCH /servicePrincipals/{id}` with the fields `patch` sets; an empty patch sends
    /// nothing.
    pub async fn update_service_principal(
        &self,
        id: &str,
        patch: &ServicePrincipalPatch,
    ) -> Result<(), GraphError> {
        if patch.is_empty() {
            return Ok(());
        }
        self.patch(&format!("servicePrincipals/{}", path_segment(id)), patch)
            .await
    }

    /// `GET /servicePrincipals/{id}`; `None` on 404.
    pub async fn get_service_principal(
        &self,
        id: &str,
    ) -> Result<Option<ServicePrincipal>, GraphError> {
        self.get_opt(&format!("servicePrincipals/{}", path_segment(id)))
            .await
    }

    /// `GET /servicePrincipals?$filter=appId eq '{clientId}'`: the first match, if any.
    pub async fn find_service_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<ServicePrincipal>, GraphError> {
        let path = format!("servicePrincipals?{}", filter_eq("appId", app_id));
        Ok(self.list(&path).await?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    use serde_json::{Value, json};

    use super::super::testing::{client, serve};
    use super::*;

    fn recorded_instantiate() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.applicationServicePrincipal",
            "application": {
                "id": "obj-1", "appId": "app-1", "displayName": "Kiro", "identifierUris": [],
                "signInAudience": "AzureADMyOrg", "createdDateTime": "2024-05-01T10:00:00Z",
                "api": {"requestedAccessTokenVersion": null, "acceptMappedClaims": null,
                    "oauth2PermissionScopes": [{"id": "5f1e", "value": "user_impersonation", "type": "User",
                        "isEnabled": true, "adminConsentDisplayName": "Access Kiro",
                        "adminConsentDescription": "Allow…", "userConsentDisplayName": null,
                        "userConsentDescription": null}]},
                "appRoles": [{"id": "18d14569-c3bd-439b-9a66-3a2aee01d14f", "value": null, "displayName": "User",
                    "allowedMemberTypes": ["User"], "isEnabled": true, "origin": "Application"},
                    {"id": "b9632174-c057-4f7e-951b-be3adc52bfe6", "value": null, "displayName": "msiam_access",
                    "allowedMemberTypes": ["User"], "isEnabled": true}],
                "publicClient": {"redirectUris": []}, "web": {"redirectUris": [], "homePageUrl": null},
                "spa": {"redirectUris": []}, "someNewField": {"x": 1}
            },
            "servicePrincipal": {"id": "sp-1", "appId": "app-1", "displayName": "Kiro",
                "appRoleAssignmentRequired": true, "appRoles": [],
                "tags": ["WindowsAzureActiveDirectoryIntegratedApp", "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"]}
        })
    }

    fn not_found() -> axum::response::Response {
        let body = json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist.",
            "innerError": {"request-id": "rid-404"}}});
        (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
    }

    async fn fake_graph(method: Method, uri: Uri) -> axum::response::Response {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
        let path = path.strip_prefix("/graph/v1.0/").unwrap_or(path);
        let app = recorded_instantiate()["application"].clone();
        let sp = recorded_instantiate()["servicePrincipal"].clone();
        match (method.as_str(), path) {
            ("POST", "applicationTemplates/8adf8e6e/instantiate") => {
                (StatusCode::CREATED, axum::Json(recorded_instantiate())).into_response()
            }
            ("GET", "applications/obj-1") | ("GET", "applications(appId='app-1')") => {
                axum::Json(app).into_response()
            }
            ("GET", "applications?$filter=displayName%20eq%20%27Kiro%27") => {
                axum::Json(json!({"value": [app]})).into_response()
            }
            ("GET", "servicePrincipals?$filter=appId%20eq%20%27app-1%27") => {
                axum::Json(json!({"value": [sp]})).into_response()
            }
            ("PATCH", "applications/obj-1") | ("DELETE", "applications/obj-1") => {
                StatusCode::NO_CONTENT.into_response()
            }
            _ => not_found(),
        }
    }

    /// What Graph sends, with fields this client does not model at every level.
    fn application_with_unknown_fields() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
            "id": "obj-1", "appId": "app-1", "displayName": "Kiro", "identifierUris": ["api://app-1"],
            "signInAudience": "AzureADMyOrg", "createdDateTime": "2024-05-01T10:00:00Z",
            "api": {"requestedAccessTokenVersion": 2, "acceptMappedClaims": null,
                "preAuthorizedApplications": [{"appId": "x", "delegatedPermissionIds": ["s1"]}],
                "oauth2PermissionScopes": [{"id": "s1", "value": "codewhisperer:completions",
                    "type": "User", "isEnabled": true, "adminConsentDisplayName": "Use Kiro",
                    "adminConsentDescription": "d", "userConsentDisplayName": null,
                    "userConsentDescription": null, "origin": "Application"}]},
            "appRoles": [{"id": "r1", "value": null, "displayName": "User", "description": null,
                "isEnabled": true, "allowedMemberTypes": ["User"], "origin": "Application"}],
            "publicClient": {"redirectUris": []},
            "web": {"redirectUris": ["https://kiro.dev/cb"], "homePageUrl": "https://kiro.dev",
                "logoutUrl": null, "implicitGrantSettings": {"enableIdTokenIssuance": false,
                    "enableAccessTokenIssuance": false}},
            "spa": {"redirectUris": []},
            "someNewField": {"x": 1}
        })
    }

    #[test]
    fn models_keep_unknown_fields_through_a_round_trip() {
        let sent = application_with_unknown_fields();
        let app: Application = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(app.extra["someNewField"], json!({"x": 1}));
        let web = app.web.as_ref().unwrap();
        assert_eq!(
            web.extra["implicitGrantSettings"]["enableIdTokenIssuance"],
            false
        );
        assert_eq!(app.scopes()[0].extra["origin"], "Application");
        assert!(
            app.api
                .as_ref()
                .unwrap()
                .extra
                .contains_key("preAuthorizedApplications")
        );
        assert_eq!(serde_json::to_value(&app).unwrap(), sent);

        let sp = recorded_instantiate()["servicePrincipal"].clone();
        let mut sp_sent = sp.clone();
        sp_sent["servicePrincipalType"] = json!("Application");
        let parsed: ServicePrincipal = serde_json::from_value(sp_sent.clone()).unwrap();
        assert_eq!(parsed.extra["servicePrincipalType"], "Application");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), sp_sent);
    }

    #[tokio::test]
    async fn operations_against_recorded_responses() {
        let base = serve(|_| axum::Router::new().fallback(fake_graph)).await;
        let c = client(&base);
        let r = c.instantiate_template("8adf8e6e", "Kiro").await.unwrap();
        assert_eq!(
            (r.application.id.as_str(), r.service_principal.id.as_str()),
            ("obj-1", "sp-1")
        );
        let api = r.application.api.as_ref().unwrap();
        assert_eq!(api.requested_access_token_version, None);
        assert_eq!(
            api.oauth2_permission_scopes[0].kind.as_deref(),
            Some("User")
        );
        assert_eq!(
            api.oauth2_permission_scopes[0].user_consent_display_name,
            None
        );
        assert!(r.service_principal.app_role_assignment_required);
        let scope = serde_json::to_value(&api.oauth2_permission_scopes[0]).unwrap();
        assert_eq!(scope["type"], "User");

        assert_eq!(
            c.get_application("obj-1").await.unwrap().unwrap().app_id,
            "app-1"
        );
        assert_eq!(
            c.get_application_by_app_id("app-1")
                .await
                .unwrap()
                .unwrap()
                .id,
            "obj-1"
        );
        assert!(
            c.get_application("missing").await.unwrap().is_none(),
            "404 is None"
        );
        assert_eq!(
            c.list_applications_by_display_name("Kiro")
                .await
                .unwrap()
                .len(),
            1
        );
        let sp = c
            .find_service_principal_by_app_id("app-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sp.tags.len(), 2);
        assert!(c.get_service_principal("nope").await.unwrap().is_none());
        let uris = ApplicationPatch {
            identifier_uris: Some(vec!["api://app-1".into()]),
            ..ApplicationPatch::default()
        };
        c.update_application("obj-1", &uris).await.unwrap();
        assert!(c.delete_application("obj-1").await.unwrap());
        assert!(
            !c.delete_application("gone").await.unwrap(),
            "404 on delete is false"
        );
        let err = c.update_application("gone", &uris).await.unwrap_err();
        assert!(
            err.is_not_found() && err.request_id() == Some("rid-404"),
            "{err}"
        );
    }
}

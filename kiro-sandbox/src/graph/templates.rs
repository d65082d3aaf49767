//! `POST /applicationTemplates/{id}/instantiate`: the non-gallery ("Integrate any other
//! application") template, creating an application and its service principal.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::errors::{GraphError, GraphResult};
use super::{Req, json as json_response};
use crate::state::{Tenant, now_rfc3339};

/// The non-gallery template id per cloud (global, US Gov, China).
pub const TEMPLATE_IDS: [&str; 3] = [
    "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
    "4602d0b4-76bb-404b-bca9-2652e1a39c6d",
    "5a532e38-1581-4918-9658-008dc27c1d68",
];

pub const USER_ROLE_ID: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
pub const MSIAM_ROLE_ID: &str = "b9632174-c057-4f7e-951b-be3adc52bfe6";

pub fn instantiate(tenant: &mut Tenant, template_id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let template_id = template_id.to_ascii_lowercase();
    if !TEMPLATE_IDS.contains(&template_id.as_str()) {
        return Err(GraphError::not_found(&template_id));
    }
    let body = req.json_object()?;
    let display_name = match body.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(GraphError::invalid_value("displayName", "Application")),
    };
    let object_id = tenant.new_guid();
    let app_id = tenant.new_guid();
    let scope_id = tenant.new_guid();
    let sp_id = tenant.new_guid();
    let app = application(
        &object_id,
        &app_id,
        &scope_id,
        &display_name,
        &template_id,
        tenant.domain(),
    );
    let sp = service_principal(&sp_id, &app, &tenant.id, &template_id);
    tenant.directory.insert_application(app.clone(), req.lag);
    tenant
        .directory
        .insert_service_principal(sp.clone(), req.lag);
    if req.sandbox.faults.roll_false_404() {
        tracing::info!(%object_id, "instantiate: created the objects but answering 404 (injected quirk)");
        return Err(GraphError::not_found(&template_id));
    }
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(
            req.ctx
                .context("microsoft.graph.applicationServicePrincipal", false),
        ),
    );
    body.insert("application".into(), Value::Object(app));
    body.insert("servicePrincipal".into(), Value::Object(sp));
    Ok(json_response(StatusCode::CREATED, Value::Object(body)))
}

/// A new application exactly as the template makes it.
pub fn application(
    object_id: &str,
    app_id: &str,
    scope_id: &str,
    name: &str,
    template_id: &str,
    publisher_domain: &str,
) -> Map<String, Value> {
    let v = json!({
        "id": object_id,
        "deletedDateTime": null,
        "appId": app_id,
        "applicationTemplateId": template_id,
        "disabledByMicrosoftStatus": null,
        "createdDateTime": now_rfc3339(),
        "displayName": name,
        "description": null,
        "groupMembershipClaims": null,
        "identifierUris": [],
        "isDeviceOnlyAuthSupported": null,
        "isFallbackPublicClient": null,
        "nativeAuthenticationApisEnabled": null,
        "notes": null,
        "publisherDomain": publisher_domain,
        "serviceManagementReference": null,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "tokenEncryptionKeyId": null,
        "defaultRedirectUri": null,
        "optionalClaims": null,
        "addIns": [],
        "api": {
            "acceptMappedClaims": null,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": null,
            "oauth2PermissionScopes": [{
                "adminConsentDescription": format!("Allow the application to access {name} on behalf of the signed-in user."),
                "adminConsentDisplayName": format!("Access {name}"),
                "id": scope_id,
                "isEnabled": true,
                "type": "User",
                "userConsentDescription": format!("Allow the application to access {name} on your behalf."),
                "userConsentDisplayName": format!("Access {name}"),
                "value": "user_impersonation"
            }],
            "preAuthorizedApplications": []
        },
        "appRoles": [
            role(USER_ROLE_ID, "User"),
            role(MSIAM_ROLE_ID, "msiam_access"),
        ],
        "info": {
            "logoUrl": null,
            "marketingUrl": null,
            "privacyStatementUrl": null,
            "supportUrl": null,
            "termsOfServiceUrl": null
        },
        "keyCredentials": [],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null},
        "web": {
            "homePageUrl": null,
            "logoutUrl": null,
            "redirectUris": [],
            "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false},
            "redirectUriSettings": []
        },
        "spa": {"redirectUris": []}
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn role(id: &str, name: &str) -> Value {
    json!({
        "allowedMemberTypes": ["User"],
        "description": name,
        "displayName": name,
        "id": id,
        "isEnabled": true,
        "origin": "Application",
        "value": null
    })
}

/// The enterprise application (service principal) made alongside the application.
pub fn service_principal(
    sp_id: &str,
    app: &Map<String, Value>,
    tenant_id: &str,
    template_id: &str,
) -> Map<String, Value> {
    let get = |k: &str| app.get(k).cloned().unwrap_or(Value::Null);
    let scopes = app
        .get("api")
        .and_then(|a| a.get("oauth2PermissionScopes"))
        .cloned()
        .unwrap_or(json!([]));
    let v = json!({
        "id": sp_id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "alternativeNames": [],
        "appDisplayName": get("displayName"),
        "appDescription": null,
        "appId": get("appId"),
        "applicationTemplateId": template_id,
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": true,
        "description": null,
        "disabledByMicrosoftStatus": null,
        "displayName": get("displayName"),
        "homepage": null,
        "loginUrl": null,
        "logoutUrl": null,
        "notes": null,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": null,
        "preferredTokenSigningKeyThumbprint": null,
        "replyUrls": [],
        "servicePrincipalNames": [get("appId")],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": [
            "WindowsAzureActiveDirectoryIntegratedApp",
            "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"
        ],
        "tokenEncryptionKeyId": null,
        "info": get("info"),
        "addIns": [],
        "appRoles": get("appRoles"),
        "keyCredentials": [],
        "oauth2PermissionScopes": scopes,
        "passwordCredentials": [],
        "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": get("verifiedPublisher")
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

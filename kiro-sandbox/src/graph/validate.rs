//! The rules Graph enforces on `PATCH /applications/{id}`.

use serde_json::{Map, Value};

use super::entitlements::{
    ROLE_FIELDS, SCOPE_FIELDS, check_enabled_kept, check_entitlements, check_role, check_scope,
    fill_defaults,
};
use super::errors::{GraphError, GraphResult};
use super::uris::{check_identifier_uris, check_redirect_uris};

pub type Object = Map<String, Value>;

/// Facts about the tenant and the application the rules need.
pub struct Rules<'a> {
    pub tenant_id: &'a str,
    pub domains: &'a [String],
    pub app_id: &'a str,
    /// Identifier URIs of every other application of the tenant, normalised.
    pub other_uris: Vec<String>,
}

const READ_ONLY: [&str; 7] = [
    "id",
    "appId",
    "createdDateTime",
    "deletedDateTime",
    "publisherDomain",
    "applicationTemplateId",
    "verifiedPublisher",
];
const EXTRA_KNOWN: [&str; 5] = [
    "samlMetadataUrl",
    "certification",
    "uniqueName",
    "servicePrincipalLockConfiguration",
    "requestSignatureVerification",
];
const AUDIENCES: [&str; 4] = [
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];
const PLATFORMS: [(&str, &str, bool); 3] = [
    ("publicClient", "PublicClientApplication", true),
    ("web", "WebApplication", false),
    ("spa", "SpaApplication", false),
];

/// Checks a PATCH whose merge into `current` gave `merged`, then fills defaults into
/// `merged` the way Graph does. Nothing is stored when this fails.
pub fn check_application_patch(
    current: &Object,
    patch: &Object,
    merged: &mut Object,
    rules: &Rules<'_>,
) -> GraphResult<()> {
    for key in patch.keys().filter(|k| !k.starts_with('@')) {
        if READ_ONLY.contains(&key.as_str()) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("Property '{key}' is read-only and cannot be set."),
            ));
        }
        if !current.contains_key(key) && !EXTRA_KNOWN.contains(&key.as_str()) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Property '{key}' does not exist as a declared property or extension property."
                ),
            ));
        }
    }
    if let Some(v) = patch.get("displayName") {
        match v.as_str() {
            Some(s) if !s.trim().is_empty() && s.chars().count() <= 256 => {}
            _ => return Err(GraphError::invalid_value("displayName", "Application")),
        }
    }
    if let Some(v) = patch.get("signInAudience")
        && !v.as_str().is_some_and(|s| AUDIENCES.contains(&s))
    {
        return Err(GraphError::invalid_value("signInAudience", "Application"));
    }
    if let Some(v) = patch.get("identifierUris") {
        check_identifier_uris(v, rules).map_err(|e| e.at("identifierUris"))?;
    }
    if let Some(api) = patch.get("api") {
        let api = api
            .as_object()
            .ok_or_else(|| GraphError::invalid_value("api", "Application"))?;
        let scopes_target = "api.oauth2PermissionScopes";
        if let Some(v) = api.get("requestedAccessTokenVersion")
            && !(v.is_null() || v.as_i64() == Some(1) || v.as_i64() == Some(2))
        {
            return Err(
                GraphError::invalid_value("requestedAccessTokenVersion", "ApiApplication")
                    .at("api.requestedAccessTokenVersion"),
            );
        }
        if let Some(scopes) = api.get("oauth2PermissionScopes") {
            check_entitlements(
                scopes,
                "oauth2PermissionScopes",
                "ApiApplication",
                check_scope,
            )
            .map_err(|e| e.at(scopes_target))?;
            let old = current
                .get("api")
                .and_then(|a| a.get("oauth2PermissionScopes"));
            check_enabled_kept(old, scopes, &SCOPE_FIELDS).map_err(|e| e.at(scopes_target))?;
        }
    }
    if let Some(roles) = patch.get("appRoles") {
        check_entitlements(roles, "appRoles", "Application", check_role)
            .map_err(|e| e.at("appRoles"))?;
        check_enabled_kept(current.get("appRoles"), roles, &ROLE_FIELDS)
            .map_err(|e| e.at("appRoles"))?;
    }
    let mut total = 0;
    // The limit on all platforms together is reported against the last list the PATCH set.
    let mut total_target = "redirectUris".to_string();
    for (platform, resource, custom_schemes) in PLATFORMS {
        if let Some(p) = patch.get(platform) {
            let p = p
                .as_object()
                .ok_or_else(|| GraphError::invalid_value(platform, "Application"))?;
            if let Some(uris) = p.get("redirectUris") {
                let target = format!("{platform}.redirectUris");
                check_redirect_uris(uris, resource, custom_schemes).map_err(|e| e.at(&target))?;
                total_target = target;
            }
        }
        total += merged
            .get(platform)
            .and_then(|p| p.get("redirectUris"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
    }
    if total > 256 {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("An application can have at most 256 redirect URIs; this request would give it {total}."),
        )
        .with_detail("InvalidValue", &total_target));
    }
    fill_defaults(merged);
    Ok(())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

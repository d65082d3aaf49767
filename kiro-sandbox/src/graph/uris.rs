//! Identifier URI ("Application ID URI") and redirect URI rules.

use serde_json::Value;

use super::errors::{GraphError, GraphResult};
use super::validate::Rules;

/// Normalises an identifier URI for uniqueness comparisons.
pub fn normalize_uri(uri: &str) -> String {
    uri.trim().trim_end_matches('/').to_ascii_lowercase()
}

pub fn check_identifier_uris(v: &Value, rules: &Rules<'_>) -> GraphResult<()> {
    let uris = v
        .as_array()
        .ok_or_else(|| GraphError::invalid_value("identifierUris", "Application"))?;
    for uri in uris {
        let uri = uri
            .as_str()
            .ok_or_else(|| GraphError::invalid_value("identifierUris", "Application"))?;
        if !identifier_uri_allowed(uri, rules) {
            return Err(GraphError::bad_request(
                "HostNameNotOnVerifiedDomain",
                format!(
                    "Failed to add identifier URI {uri}. Values of identifierUris property must use a verified domain of the organization or its subdomain, or contain the tenant id or the application id: '{uri}'"
                ),
            )
            .with_detail("HostNameNotOnVerifiedDomain", "identifierUris"));
        }
        if rules.other_uris.contains(&normalize_uri(uri)) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                "Another object with the same value for property identifierUris already exists.",
            )
            .with_detail("ObjectConflict", "identifierUris"));
        }
    }
    Ok(())
}

/// `api://` and `https://` URIs whose host is a verified domain (or a subdomain of one), or
/// which contain the tenant id or the application id (`api://{appId}`, `api://{tenantId}/{appId}`).
pub fn identifier_uri_allowed(uri: &str, rules: &Rules<'_>) -> bool {
    let lower = uri.trim().to_ascii_lowercase();
    if lower.contains('*')
        || lower.chars().any(char::is_whitespace)
        || url::Url::parse(&lower).is_err()
    {
        return false;
    }
    let Some(rest) = lower
        .strip_prefix("api://")
        .or_else(|| lower.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host.is_empty() {
        return false;
    }
    let ids = [rules.app_id, rules.tenant_id];
    if ids
        .iter()
        .any(|id| !id.is_empty() && rest.contains(&id.to_ascii_lowercase()))
    {
        return true;
    }
    rules.domains.iter().any(|d| {
        let d = d.to_ascii_lowercase();
        host == d || host.ends_with(&format!(".{d}"))
    })
}

pub fn check_redirect_uris(v: &Value, resource: &str, custom_schemes: bool) -> GraphResult<()> {
    let invalid = |why: String| {
        GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid value specified for property 'redirectUris' of resource '{resource}': {why}"),
        )
        .with_detail("InvalidValue", "redirectUris")
    };
    let uris = v
        .as_array()
        .ok_or_else(|| invalid("an array of strings is required.".into()))?;
    if uris.len() > 256 {
        return Err(invalid(format!(
            "{} URIs given, at most 256 are allowed.",
            uris.len()
        )));
    }
    for uri in uris {
        let s = uri
            .as_str()
            .ok_or_else(|| invalid("an array of strings is required.".into()))?;
        redirect_uri_problem(s, custom_schemes)
            .map_or(Ok(()), |why| Err(invalid(format!("'{s}' {why}."))))?;
    }
    Ok(())
}

/// Why a redirect URI is refused, or `None` when it is fine.
pub fn redirect_uri_problem(uri: &str, custom_schemes: bool) -> Option<&'static str> {
    if uri.chars().count() > 256 {
        return Some("is longer than 256 characters");
    }
    if uri.contains('*') {
        return Some("contains a wildcard");
    }
    let Ok(parsed) = url::Url::parse(uri) else {
        return Some("is not an absolute URI");
    };
    match parsed.scheme() {
        "https" => parsed.host_str().is_none().then_some("has no host"),
        "http" => match parsed.host_str() {
            Some("localhost" | "127.0.0.1") => None,
            _ => Some("uses http, which is only allowed for localhost and 127.0.0.1"),
        },
        "javascript" | "data" | "file" => Some("uses a scheme that is not allowed"),
        _ if custom_schemes => None,
        _ => Some("must use https (http only for localhost); custom schemes are only allowed for public clients"),
    }
    .or_else(|| parsed.fragment().is_some().then_some("contains a fragment"))
}

//! Federated tokens asked for over HTTP: GitHub Actions' token request URL and Azure DevOps'
//! OIDC request URI. Both are asked again on every token fetch (their tokens live minutes).
//!
//! `azure_identity` has `AzurePipelinesCredential` but no GitHub source, and both of its
//! federated credentials insist on an https login endpoint and read their settings from the
//! process environment; here the request URLs come from the provider's arguments and the
//! assertion goes to whichever token endpoint the provider uses.

use serde_json::Value;
use url::Url;

use super::AuthError;
use crate::secret::Secret;

/// The audience Entra expects of a federated token.
pub const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The Azure DevOps REST API version of the OIDC token request (as azuread sends it).
const ADO_API_VERSION: &str = "7.1";

/// `GET {url}&audience=api://AzureADTokenExchange` with the bearer; GitHub answers
/// `{"value": "<jwt>"}`. An `audience` already in the URL is kept.
pub(super) async fn github(
    http: &reqwest::Client,
    url: &Url,
    bearer: &Secret,
) -> Result<Secret, AuthError> {
    let mut url = url.clone();
    set_default_query(&mut url, &[("audience", ENTRA_AUDIENCE)]);
    let request = http.get(url.clone());
    fetch(
        request,
        "GitHub's OIDC token request URL",
        &url,
        bearer,
        "value",
    )
    .await
}

/// `POST {url}?api-version=7.1&serviceConnectionId=…` with the bearer (`SYSTEM_ACCESSTOKEN`);
/// Azure DevOps answers `{"oidcToken": "<jwt>"}`.
pub(super) async fn azure_devops(
    http: &reqwest::Client,
    url: &Url,
    bearer: &Secret,
    service_connection_id: &str,
) -> Result<Secret, AuthError> {
    let mut url = url.clone();
    set_default_query(
        &mut url,
        &[
            ("api-version", ADO_API_VERSION),
            ("serviceConnectionId", service_connection_id),
            ("audience", ENTRA_AUDIENCE),
        ],
    );
    let request = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    let what = "Azure DevOps' OIDC request URI";
    fetch(request, what, &url, bearer, "oidcToken").await
}

/// Adds each pair whose name the query does not have yet.
fn set_default_query(url: &mut Url, pairs: &[(&str, &str)]) {
    let present: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let mut query = url.query_pairs_mut();
    for (name, value) in pairs {
        if !present.iter().any(|p| p == name) {
            query.append_pair(name, value);
        }
    }
}

async fn fetch(
    request: reqwest::RequestBuilder,
    what: &'static str,
    url: &Url,
    bearer: &Secret,
    field: &str,
) -> Result<Secret, AuthError> {
    let response = request
        .bearer_auth(bearer.expose())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| AuthError::Unreachable {
            what,
            url: shown_url(url),
            message: crate::error_text::error_chain(&e).replace(bearer.expose(), "<redacted>"),
        })?;
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if (200..300).contains(&status)
        && let Some(token) = json.as_ref().and_then(|v| v[field].as_str())
        && !token.trim().is_empty()
    {
        return Ok(Secret::new(token.trim()));
    }
    let detail = match (&json, status) {
        (Some(_), 200..=299) => format!("no \"{field}\" in its JSON answer"),
        (Some(v), _) => error_detail(v),
        (None, _) => format!("a non-JSON body ({} bytes)", body.len()),
    };
    Err(AuthError::Answered {
        what,
        url: shown_url(url),
        status,
        detail: detail.replace(bearer.expose(), "<redacted>"),
    })
}

/// The error fields of a JSON error answer: OAuth's `error`/`error_description` (IMDS, Entra),
/// or the `message` GitHub and Azure DevOps send.
pub(super) fn error_detail(v: &Value) -> String {
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty());
    match (text("error"), text("error_description"), text("message")) {
        (Some(e), Some(d), _) => format!("{e}: {}", d.lines().next().unwrap_or(d)),
        (Some(e), None, m) | (None, m, Some(e)) => match m {
            Some(m) => format!("{e}: {m}"),
            None => e.to_string(),
        },
        (None, Some(d), None) => d.to_string(),
        (None, None, None) => "no error field in its JSON answer".to_string(),
    }
}

/// The URL as errors show it: scheme, host and path, without the query.
pub(super) fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_added_only_when_missing() {
        let mut url = Url::parse("https://gh.example/idtoken?api-version=2.0&audience=x").unwrap();
        set_default_query(&mut url, &[("audience", ENTRA_AUDIENCE)]);
        assert_eq!(url.query(), Some("api-version=2.0&audience=x"));
        let mut url = Url::parse("https://dev.azure.com/o/_apis/oidctoken").unwrap();
        set_default_query(
            &mut url,
            &[("api-version", "7.1"), ("serviceConnectionId", "sc")],
        );
        assert_eq!(url.query(), Some("api-version=7.1&serviceConnectionId=sc"));
        assert_eq!(shown_url(&url), "https://dev.azure.com/o/_apis/oidctoken");
    }

    #[test]
    fn error_detail_reads_oauth_and_message_shapes() {
        let oauth = serde_json::json!({"error": "invalid_request", "error_description": "Required metadata header not specified\r\nmore"});
        assert_eq!(
            error_detail(&oauth),
            "invalid_request: Required metadata header not specified"
        );
        let gh = serde_json::json!({"message": "Bad credentials"});
        assert_eq!(error_detail(&gh), "Bad credentials");
        assert_eq!(
            error_detail(&serde_json::json!({})),
            "no error field in its JSON answer"
        );
    }
}

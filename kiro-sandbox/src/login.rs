//! The Entra token endpoint: `POST /login/{tenant}/oauth2/v2.0/token` (client credentials
//! with a client secret or a client assertion).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::identity::IdentityState;
use crate::state::{FederatedCredential, Sandbox, TOKEN_LIFETIME, Tenant, now_rfc3339};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The one operation of the login service, for counts and the fault layer.
pub const OPERATION: &str = "login.token";

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new().route("/login/{tenant}/oauth2/v2.0/token", post(token))
}

/// An AADSTS error: `{"error","error_description","error_codes",…}`.
#[derive(Debug)]
pub struct LoginError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    retry_after: Option<u64>,
}

fn err(
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: impl Into<String>,
) -> LoginError {
    LoginError {
        status,
        error,
        code,
        message: message.into(),
        retry_after: None,
    }
}

fn missing(param: &str) -> LoginError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{param}'."),
    )
}

impl LoginError {
    fn into_response(self, correlation_id: &str) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let ts = now_rfc3339();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {ts}",
            self.code, self.message
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }

    fn from_fault(fault: &Fault) -> Option<Self> {
        match fault {
            Fault::Throttled { retry_after } => Some(LoginError {
                retry_after: Some(*retry_after),
                ..err(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    50196,
                    "The server terminated an operation because it encountered a client request loop or too many requests. Retry after the delay in the Retry-After header.",
                )
            }),
            Fault::Unavailable {
                status,
                retry_after,
            } => Some(LoginError {
                retry_after: *retry_after,
                ..err(
                    *status,
                    "temporarily_unavailable",
                    90033,
                    "A transient error has occurred. Please try again.",
                )
            }),
            Fault::Dropped => None,
        }
    }
}

/// The client's `client-request-id`, echoed as the correlation id, or a fresh one.
fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The token endpoint's AADSTS answer to an injected fault; `None` means the connection is
/// dropped.
pub fn fault_response(fault: &Fault, headers: &HeaderMap) -> Option<Response> {
    LoginError::from_fault(fault).map(|e| e.into_response(&correlation_id(headers)))
}

async fn token(
    State(sb): State<Arc<Sandbox>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let correlation_id = correlation_id(&headers);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match issue(&sb, &tenant, &form).await {
        Ok(token) => {
            let secs = TOKEN_LIFETIME.as_secs() - 1;
            let body = json!({"token_type":"Bearer","expires_in":secs,"ext_expires_in":secs,"access_token":token});
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => {
            tracing::debug!(tenant = %tenant, code = e.code, "login refused");
            e.into_response(&correlation_id)
        }
    }
}

async fn issue(
    sb: &Sandbox,
    tenant_key: &str,
    form: &HashMap<String, String>,
) -> Result<String, LoginError> {
    let param = |k: &str| form.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let tenant = sb.tenant(tenant_key).await.ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant_key}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    })?;
    let grant = param("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = param("client_id").ok_or_else(|| missing("client_id"))?;
    let scope = param("scope").ok_or_else(|| missing("scope"))?;
    if !scope.ends_with("/.default") || scope.contains(' ') {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    let tenant = tenant.lock().await;
    let client = tenant.clients.get(&client_id.to_ascii_lowercase()).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                tenant.id
            ),
        )
    })?;
    if let Some(secret) = param("client_secret") {
        if secret != client.secret {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
    } else if let Some(assertion) = param("client_assertion") {
        match param("client_assertion_type") {
            Some(JWT_BEARER) => check_assertion(&tenant, client_id, assertion, &sb.identity)?,
            Some(other) => {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    50012,
                    format!(
                        "Client assertion type '{other}' is not supported; use '{JWT_BEARER}'."
                    ),
                ));
            }
            None => return Err(missing("client_assertion_type")),
        }
    } else {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    Ok(sb.issue_token(&tenant.id, &client_id.to_ascii_lowercase()))
}

/// Structure checks, then: the exact token was registered for this client (federated
/// credential), or its `x5t`/`x5t#S256` header names a registered certificate and
/// `sub` is the client id, or it matches one of the client's federated identity credentials
/// (issuer, subject, audience) and carries the sandbox issuers' signature.
fn check_assertion(
    tenant: &Tenant,
    client_id: &str,
    assertion: &str,
    identity: &IdentityState,
) -> Result<(), LoginError> {
    let malformed = || {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        )
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return Err(malformed());
    }
    let decode = |p: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(Value::is_object)
    };
    let (header, payload) = decode(parts[0])
        .zip(decode(parts[1]))
        .ok_or_else(malformed)?;
    let text = |k: &str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let aud = match payload.get("aud") {
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or("").to_string(),
        _ => text("aud"),
    };
    let (sub, iss) = (text("sub"), text("iss"));
    if aud.is_empty() || sub.is_empty() {
        return Err(malformed());
    }
    let exp = payload.get("exp").and_then(Value::as_i64);
    check_expiry(exp)?;
    let client = tenant.clients.get(&client_id.to_ascii_lowercase());
    let federated = client.is_some_and(|c| c.federated_tokens.contains(assertion));
    let thumb = ["x5t", "x5t#S256"]
        .iter()
        .filter_map(|k| header.get(*k).and_then(Value::as_str))
        .any(|t| client.is_some_and(|c| c.cert_thumbprints.contains(t)));
    if federated || (thumb && sub.eq_ignore_ascii_case(client_id)) {
        return Ok(());
    }
    let credentials = client
        .map(|c| c.federated_credentials.as_slice())
        .unwrap_or_default();
    if !credentials.is_empty() {
        let claims = Claims {
            iss: &iss,
            sub: &sub,
            aud: &aud,
            exp,
        };
        return check_federated(credentials, &claims, assertion, identity);
    }
    Err(err(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        70021,
        format!(
            "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'."
        ),
    ))
}

/// AADSTS700024 for an assertion past its `exp`.
fn check_expiry(exp: Option<i64>) -> Result<(), LoginError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match exp {
        Some(exp) if exp < now => Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, expiry time of assertion {exp}."
            ),
        )),
        _ => Ok(()),
    }
}

struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: Option<i64>,
}

/// Entra's federated credential checks, in its order: issuer, subject, audience (each with
/// its own AADSTS code), then the token's expiry and signature.
fn check_federated(
    credentials: &[FederatedCredential],
    claims: &Claims<'_>,
    assertion: &str,
    identity: &IdentityState,
) -> Result<(), LoginError> {
    let no_match = |code: u32, what: &str, value: &str| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            code,
            format!(
                "No matching federated identity record found for presented assertion {what} '{value}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    };
    let by_issuer: Vec<_> = credentials
        .iter()
        .filter(|c| c.issuer == claims.iss)
        .collect();
    if by_issuer.is_empty() {
        return Err(no_match(700211, "issuer", claims.iss));
    }
    let by_subject: Vec<_> = by_issuer
        .into_iter()
        .filter(|c| c.subject == claims.sub)
        .collect();
    if by_subject.is_empty() {
        return Err(no_match(700213, "subject", claims.sub));
    }
    if !by_subject
        .iter()
        .any(|c| c.audiences.iter().any(|a| a == claims.aud))
    {
        return Err(no_match(700212, "audience", claims.aud));
    }
    if claims.exp.is_none() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed: it has no 'exp' claim.",
        ));
    }
    if !identity.verify(assertion) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. The signature does not verify with any key of the issuer's JWKS.",
        ));
    }
    Ok(())
}

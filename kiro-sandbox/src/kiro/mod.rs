//! Kiro's admin API as `kiro-api.md` models it: `POST /kiro/` (the provider's `endpoints.kiro`
//! is `{sandbox url}/kiro`), AWS JSON 1.0, SigV4 verified for real (see [`sigv4`]), with the
//! two target prefixes and their signing names. State lives beside the Entra tenants, keyed
//! by AWS account and region (the region is the one of the credential scope).
//!
//! Choices the contract leaves open: a missing `Authorization` header answers
//! `MissingAuthenticationTokenException` (403) and an unknown target `UnknownOperationException`
//! (400), as AWS JSON services do; list operations without `maxResults` use the sandbox's
//! `page_size` setting (default 5) so clients cross page boundaries; request members are
//! checked strictly (an unknown member is a ValidationException that names it); a domain's
//! proof is the TXT record `_kiro-verification.<domain>` = `kiro-verification=<token>`.

pub mod dns;
pub(crate) mod ops;
pub mod sigv4;
pub mod store;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::state::Sandbox;
use store::Timing;

const JSON_1_0: &str = "application/x-amz-json-1.0";
const CODEWHISPERER_PREFIX: &str = "AWSCodeWhispererService";
const Q_PREFIX: &str = "AmazonQDeveloperService";
/// How often pending login domains are re-checked without anyone reading them.
const DOMAIN_TICK: Duration = Duration::from_millis(200);

/// An AWS JSON 1.0 error: `__type` in the body and `x-amzn-ErrorType`, status per the contract.
#[derive(Debug)]
pub struct ApiError {
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new("ValidationException", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new("ConflictException", m)
    }
    pub fn quota(m: impl Into<String>) -> Self {
        Self::new("ServiceQuotaExceededException", m)
    }
    pub fn unrecognized_client(m: impl Into<String>) -> Self {
        Self::new("UnrecognizedClientException", m)
    }
    pub fn invalid_signature(m: impl Into<String>) -> Self {
        Self::new("InvalidSignatureException", m)
    }
    pub fn expired_token(m: impl Into<String>) -> Self {
        Self::new("ExpiredTokenException", m)
    }
    pub fn missing_auth(m: impl Into<String>) -> Self {
        Self::new("MissingAuthenticationTokenException", m)
    }
    pub fn unknown_operation(m: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new("InternalServerException", m)
    }

    pub fn status(&self) -> StatusCode {
        match self.kind {
            "ValidationException" | "UnknownOperationException" | "ExpiredTokenException" => {
                StatusCode::BAD_REQUEST
            }
            "ResourceNotFoundException" => StatusCode::NOT_FOUND,
            "ConflictException" => StatusCode::CONFLICT,
            "ServiceQuotaExceededException" => StatusCode::PAYMENT_REQUIRED,
            "InternalServerException" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"__type": self.kind, "message": self.message});
        let mut resp = aws_json(self.status(), &body);
        resp.headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(self.kind));
        resp
    }
}

fn aws_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_1_0));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

/// The signing name requests for a target prefix must be scoped to.
fn signing_name(prefix: &str) -> Option<&'static str> {
    match prefix {
        CODEWHISPERER_PREFIX => Some("codewhisperer"),
        Q_PREFIX => Some("q"),
        _ => None,
    }
}

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/kiro", post(handle))
        .route("/kiro/", post(handle))
}

/// The Kiro switches of the sandbox settings.
pub fn timing(sb: &Sandbox) -> Timing {
    let s = sb.settings();
    Timing {
        domain_auto_verify: s.domain_auto_verify_ms.map(Duration::from_millis),
        profile_activation: Duration::from_millis(s.profile_activation_ms),
    }
}

/// `http://<host>` as the caller reached the sandbox, for the URLs the API hands out.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&sb, &method, &uri, &headers, &body) {
        Ok(v) => aws_json(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

fn answer(
    sb: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
    let service = signing_name(prefix).ok_or_else(|| {
        ApiError::unknown_operation(format!(
            "X-Amz-Target '{target}' names no operation of this service ({CODEWHISPERER_PREFIX}.* or {Q_PREFIX}.*)."
        ))
    })?;
    let incoming = sigv4::Incoming {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers,
        body,
    };
    let caller = sigv4::verify(&incoming, service, SystemTime::now(), |key| {
        sb.kiro.key(key)
    })?;
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::validation(format!("The request body is not JSON: {e}")))?
    };
    let ctx = ops::Ctx {
        sb,
        caller: &caller,
        base_url: base_url(headers),
        timing: timing(sb),
        page_size: sb.settings().page_size.min(ops::MAX_RESULTS),
    };
    ops::dispatch(&ctx, prefix, operation, request)
}

/// Re-checks pending login domains every [`DOMAIN_TICK`] until the sandbox is gone.
pub fn spawn_domain_tick(sb: &Arc<Sandbox>) {
    let weak: Weak<Sandbox> = Arc::downgrade(sb);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(DOMAIN_TICK);
        loop {
            tick.tick().await;
            let Some(sb) = weak.upgrade() else { return };
            sb.kiro.refresh_all(timing(&sb));
        }
    });
}

//! Graph-shaped errors: `{"error":{"code","message","details"?,"innerError":{…}}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Ctx;
use crate::faults::Fault;

#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    pub code: String,
    pub message: String,
    pub target: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
    pub retry_after: Option<u64>,
}

pub type GraphResult<T> = Result<T, GraphError>;

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, code: &str, target: &str) -> Self {
        self.details.push(Detail {
            code: code.to_string(),
            message: self.message.clone(),
            target: target.to_string(),
        });
        self
    }

    /// Names `target` (e.g. `api.oauth2PermissionScopes`) as the property at fault, so a
    /// client can map the error to its own attribute: every detail gets that target, and an
    /// error without details gets one.
    pub fn at(mut self, target: &str) -> Self {
        if self.details.is_empty() {
            let code = self.code.clone();
            return self.with_detail(&code, target);
        }
        for d in &mut self.details {
            d.target = target.to_string();
        }
        self
    }

    /// 404 for an object that does not exist (or is not replicated yet).
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// "Invalid value specified for property 'p' of resource 'R'."
    pub fn invalid_value(property: &str, resource: &str) -> Self {
        Self::bad_request(
            "Request_BadRequest",
            format!("Invalid value specified for property '{property}' of resource '{resource}'."),
        )
        .with_detail("InvalidValue", property)
    }

    pub fn bad_json() -> Self {
        Self::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub fn segment_not_found(segment: &str) -> Self {
        Self::bad_request(
            "BadRequest",
            format!("Resource not found for the segment '{segment}'."),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    /// The Graph error for an injected fault (`None` for a dropped connection).
    pub fn from_fault(fault: &Fault) -> Option<Self> {
        match fault {
            Fault::Throttled { retry_after } => Some(Self {
                retry_after: Some(*retry_after),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests. The request was throttled; retry after the delay in the Retry-After header.",
                )
            }),
            Fault::Unavailable {
                status,
                retry_after,
            } => {
                let (code, message) = if *status == StatusCode::GATEWAY_TIMEOUT {
                    (
                        "GatewayTimeout",
                        "The gateway did not receive a timely response from the upstream service.",
                    )
                } else {
                    (
                        "serviceNotAvailable",
                        "The service is temporarily unavailable. Please retry later.",
                    )
                };
                Some(Self {
                    retry_after: *retry_after,
                    ..Self::new(*status, code, message)
                })
            }
            Fault::Dropped => None,
        }
    }

    pub fn body(&self, ctx: &Ctx) -> Value {
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "innerError": {
                "date": ctx.date,
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id,
            }
        });
        if !self.details.is_empty() {
            error["details"] = self
                .details
                .iter()
                .map(|d| json!({"code": d.code, "message": d.message, "target": d.target}))
                .collect();
        }
        json!({ "error": error })
    }

    pub fn into_response(self, ctx: &Ctx) -> Response {
        let mut resp = (self.status, axum::Json(self.body(ctx))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

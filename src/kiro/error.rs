//! Typed errors of the Kiro client. No variant ever carries secret material: no credentials,
//! no request or response bodies (they may hold SCIM access tokens), only the service's
//! error type and message.

use serde::Deserialize;

/// Everything that can go wrong talking to the Kiro admin API.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum KiroError {
    /// The service answered with an error (HTTP 4xx/5xx). Clients key off `error_type`, not
    /// the status (see the error table of the wire contract).
    #[error(
        "Kiro API error in {operation} (HTTP {status}) {error_type}: {message}{}",
        fmt_request_id(request_id)
    )]
    Service {
        /// The operation, e.g. `CreateProfile`.
        operation: String,
        /// The error type with any `namespace#` prefix (and `:…` suffix) stripped, e.g.
        /// `ResourceNotFoundException`; from header `x-amzn-ErrorType` or body `__type`.
        /// `UnknownError` when the response named none.
        error_type: String,
        /// The service's `message` (empty when none was given).
        message: String,
        /// HTTP status.
        status: u16,
        /// The `x-amzn-RequestId` header, to quote to AWS support.
        request_id: Option<String>,
    },
    /// AWS credentials could not be resolved. Never contains key material.
    #[error("cannot obtain AWS credentials for the Kiro API: {0}")]
    Credentials(String),
    /// The client configuration cannot work (no region, unknown profile, bad endpoint, …).
    #[error("invalid Kiro client configuration: {0}")]
    Config(String),
    /// Connection failure, dropped connection or timeout before a complete response.
    #[error("cannot reach the Kiro API: {0}")]
    Transport(String),
    /// The service answered with a shape we do not understand; we fail closed.
    #[error("unexpected response from the Kiro API for {operation}: {message}")]
    Decode {
        /// The operation whose response could not be understood.
        operation: String,
        /// What was wrong (string values from the body are redacted).
        message: String,
    },
}

/// The error type used when a response names none.
pub const UNKNOWN_ERROR: &str = "UnknownError";

fn fmt_request_id(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request id: {id})"))
        .unwrap_or_default()
}

impl KiroError {
    /// The service error type (`ValidationException`, …), for [`KiroError::Service`] only.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Service { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// The HTTP status of a service error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `x-amzn-RequestId` of a service error.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Service { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// `ResourceNotFoundException`: no such profile, domain, token or assignment.
    pub fn is_not_found(&self) -> bool {
        self.error_type() == Some("ResourceNotFoundException")
    }

    /// `ConflictException`: a duplicate, or a state that forbids the operation.
    pub fn is_conflict(&self) -> bool {
        self.error_type() == Some("ConflictException")
    }

    /// `ServiceQuotaExceededException`: a quota, e.g. 2 active SCIM access tokens per profile.
    pub fn is_quota_exceeded(&self) -> bool {
        self.error_type() == Some("ServiceQuotaExceededException")
    }

    /// `ValidationException`: bad input; the message says which field.
    pub fn is_validation(&self) -> bool {
        self.error_type() == Some("ValidationException")
    }

    /// `AccessDeniedException`: IAM denies the operation.
    pub fn is_access_denied(&self) -> bool {
        self.error_type() == Some("AccessDeniedException")
    }

    /// `ThrottlingException`.
    pub fn is_throttling(&self) -> bool {
        self.error_type() == Some("ThrottlingException")
    }

    /// Transient service errors worth retrying: throttling, `InternalServerException`,
    /// `ServiceUnavailableException`, and typeless 429/500/502/503/504 answers (e.g. from a
    /// load balancer).
    pub fn is_retryable_service_error(&self) -> bool {
        match self {
            Self::Service {
                error_type, status, ..
            } => match error_type.as_str() {
                "ThrottlingException"
                | "InternalServerException"
                | "ServiceUnavailableException" => true,
                UNKNOWN_ERROR => matches!(status, 429 | 500 | 502 | 503 | 504),
                _ => false,
            },
            _ => false,
        }
    }

    /// A failure after which the call may or may not have been carried out: a transient
    /// service error ([`Self::is_retryable_service_error`]) or a lost connection. A create that
    /// fails so is looked for before it is repeated.
    pub fn is_ambiguous(&self) -> bool {
        self.is_retryable_service_error() || matches!(self, Self::Transport(_))
    }

    /// A decode error for `operation`.
    pub fn decode(operation: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Decode {
            operation: operation.into(),
            message: message.to_string(),
        }
    }

    /// Builds the error for a non-2xx response. The error type comes from the
    /// `x-amzn-ErrorType` header when present, else from the body's `__type` (or `code`);
    /// the message from the body's `message` (or `Message`). The body is never copied
    /// verbatim into the error.
    pub fn from_response(
        operation: &str,
        status: u16,
        header_type: Option<&str>,
        request_id: Option<String>,
        body: &[u8],
    ) -> Self {
        #[derive(Deserialize, Default)]
        struct Body {
            #[serde(rename = "__type", alias = "code")]
            error_type: Option<String>,
            #[serde(alias = "Message")]
            message: Option<String>,
        }
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let error_type = header_type
            .map(sanitize_error_type)
            .filter(|t| !t.is_empty())
            .or_else(|| parsed.error_type.as_deref().map(sanitize_error_type))
            .filter(|t| !t.is_empty())
            .unwrap_or(UNKNOWN_ERROR)
            .to_string();
        Self::Service {
            operation: operation.to_string(),
            error_type,
            message: parsed.message.unwrap_or_default(),
            status,
            request_id,
        }
    }
}

pub use crate::error_text::error_chain;

/// `aws.protocoltests#ValidationException:http://internal…` → `ValidationException`.
pub fn sanitize_error_type(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

/// Replaces every `"…"` quoted span of a (serde_json) message with `"<redacted>"`, so a
/// decode error never echoes a value from the body (which may be a secret token).
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        out.push('"');
        out.push_str(if inside { "<redacted>" } else { part });
        inside = !inside;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_from_header_or_body_with_prefix_stripped() {
        let body = br#"{"__type":"com.amazonaws.kiro#ResourceNotFoundException",
            "message":"no such profile"}"#;
        let rid = Some("rid-1".into());
        let err = KiroError::from_response("ListProfiles", 404, None, rid, body);
        assert!(err.is_not_found() && !err.is_conflict(), "{err}");
        assert_eq!(
            err.to_string(),
            "Kiro API error in ListProfiles (HTTP 404) ResourceNotFoundException: \
             no such profile (request id: rid-1)"
        );
        let err = KiroError::from_response(
            "CreateProfile",
            409,
            Some("ns#ConflictException:http://internal.amazon.com/x"),
            None,
            br#"{"Message":"exists"}"#,
        );
        assert!(err.is_conflict(), "{err}");
        assert_eq!(err.status(), Some(409));
        let err =
            KiroError::from_response("X", 429, None, None, br#"{"code":"ThrottlingException"}"#);
        assert!(err.is_throttling() && err.is_retryable_service_error());
    }

    #[test]
    fn typeless_errors_fall_back_on_status_and_never_echo_the_body() {
        let err = KiroError::from_response("X", 503, None, None, b"<html>secret-ish</html>");
        assert_eq!(err.error_type(), Some(UNKNOWN_ERROR));
        assert!(err.is_retryable_service_error());
        assert!(!err.to_string().contains("secret-ish"));
        let err = KiroError::from_response("X", 400, None, None, b"");
        assert!(!err.is_retryable_service_error());
        let v = KiroError::from_response("X", 400, Some("ValidationException"), None, b"{}");
        assert!(!v.is_retryable_service_error() && v.request_id().is_none());
    }

    #[test]
    fn redaction_of_quoted_values() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "tok-123", expected u64 at line 1"#),
            r#"invalid type: string "<redacted>", expected u64 at line 1"#
        );
        assert_eq!(redact_quoted("missing field `arn`"), "missing field `arn`");
        assert_eq!(sanitize_error_type("a.b#C:d"), "C");
    }

    mod end_to_end {
        use std::sync::atomic::Ordering;

        use serde_json::{Value, json};

        use crate::kiro::KiroRequest;
        use crate::kiro::tests::{SECRET, setup};

        #[tokio::test]
        async fn error_types_from_body_and_header() {
            let (c, hits) = setup().await;
            let err = c
                .call::<Value>(KiroRequest::identity("Validate", json!({})))
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), Some("ValidationException"));
            assert_eq!((err.status(), err.request_id()), (Some(400), Some("rid-7")));
            assert_eq!(
                hits.swap(0, Ordering::SeqCst),
                1,
                "no retry on ValidationException"
            );
            let err = c
                .call::<Value>(KiroRequest::identity("Gone", json!({})))
                .await
                .unwrap_err();
            assert!(err.is_not_found(), "{err}");
            assert!(err.to_string().contains("no such domain"), "{err}");
        }

        #[tokio::test]
        async fn secret_key_never_shows_in_debug_or_display() {
            let (c, _) = setup().await;
            let mut shown = vec![format!("{c:?}"), format!("{:?}", c.aws())];
            for op in ["Validate", "Gone"] {
                let err = c
                    .call::<Value>(KiroRequest::identity(op, json!({})))
                    .await
                    .unwrap_err();
                shown.extend([format!("{err:?}"), err.to_string()]);
            }
            #[derive(serde::Deserialize, Debug)]
            #[allow(dead_code)]
            struct NumArn {
                #[serde(rename = "profileArn")]
                arn: u64,
            }
            let err = c
                .call::<NumArn>(KiroRequest::profiles("BadShape", json!({})))
                .await;
            let err = err.unwrap_err();
            assert!(!err.to_string().contains("tok-secret"), "{err}");
            shown.extend([format!("{err:?}"), err.to_string()]);
            let creds = c.aws().credentials().await.unwrap();
            let req = KiroRequest::profiles("X", json!({}));
            let signed = c
                .signed_request(&req, &creds, std::time::SystemTime::now())
                .unwrap();
            shown.push(format!("{signed:?}"));
            for text in shown {
                assert!(
                    !text.contains(SECRET) && !text.contains("SESSIONTOKEN"),
                    "{text}"
                );
                assert!(!text.contains("Signature="), "{text}");
            }
        }
    }
}

//! Typed errors of the Graph client.

use std::time::Duration;

use serde::Deserialize;

use crate::entra::AuthError;

/// One entry of a Graph error's `details`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    /// Detail code.
    pub code: String,
    /// Detail message.
    pub message: String,
    /// The property the detail is about, when given.
    pub target: Option<String>,
}

/// Everything that can go wrong talking to Microsoft Graph. `Clone`: one failed write that
/// carried several callers' edits fails each of them.
#[derive(thiserror::Error, Clone, Debug)]
pub enum GraphError {
    /// Graph answered with an error status. `code`, `message` and `request_id` come from the
    /// error body (`{"error":{"code","message","innerError":{"request-id"}}}`) or headers.
    #[error(
        "Graph API error (HTTP {status}) {code}: {message}{}",
        fmt_request_id(request_id)
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.code`, e.g. `Request_ResourceNotFound`.
        code: String,
        /// `error.message` (a string, or `{"value": …}` flattened).
        message: String,
        /// The `request-id` to quote to Microsoft support.
        request_id: Option<String>,
        /// `error.details`.
        details: Vec<ErrorDetail>,
    },
    /// No access token could be obtained.
    #[error("Microsoft Entra authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// Connection failure, dropped connection or timeout before a complete response.
    #[error("cannot reach Microsoft Graph: {0}")]
    Transport(String),
    /// Graph answered with a shape we do not understand; we fail closed.
    #[error("unexpected response from Microsoft Graph while {context}: {message}")]
    Decode {
        /// The operation, e.g. `reading application 1234`.
        context: String,
        /// What was wrong.
        message: String,
    },
    /// A wait for eventual consistency (or another condition) ran out of time.
    #[error("timed out after {}s waiting for {what}", waited.as_secs())]
    Timeout {
        /// What we were waiting for.
        what: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The client was configured with something unusable (e.g. plain http to a remote host).
    #[error("invalid Graph client configuration: {0}")]
    InvalidConfig(String),
    /// A request the client refuses to send because Graph would refuse it (e.g. more group
    /// members than provision on demand takes).
    #[error("invalid request to Microsoft Graph: {0}")]
    InvalidRequest(String),
    /// Graph kept throttling (429) until the retry budget was used up.
    #[error("Microsoft Graph is throttling requests: gave up after {attempts} attempts{}",
        retry_after.map(|d| format!(" (last Retry-After {}s)", d.as_secs())).unwrap_or_default())]
    Throttled {
        /// The last `Retry-After` Graph asked for.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },
}

fn fmt_request_id(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request-id: {id})"))
        .unwrap_or_default()
}

impl GraphError {
    /// Whether a write that failed so may still have been carried out: an ambiguous failure
    /// ([`Self::is_ambiguous`]), or a wait for Graph to show the write that ran out (the write
    /// was accepted). Any other failure (a 4xx answer, throttling to the end, a request the
    /// client refused to send) made nothing, so a create that fails so keeps nothing in state.
    pub fn may_have_written(&self) -> bool {
        self.is_ambiguous() || matches!(self, Self::Timeout { .. })
    }

    /// A failure after which the request may or may not have been carried out: a 5xx answer
    /// (after the client's own retries of safe requests) or a lost connection. A create that
    /// fails so is looked for before it is repeated.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status >= 500,
            Self::Transport(_) => true,
            _ => false,
        }
    }

    /// HTTP 404, or a not-found error code.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => {
                *status == 404 || code == "Request_ResourceNotFound" || code == "ResourceNotFound"
            }
            _ => false,
        }
    }

    /// The Graph error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, for API errors (and 429 for [`GraphError::Throttled`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Throttled { .. } => Some(429),
            _ => None,
        }
    }

    /// The Graph message, for API errors.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The request id, for API errors.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The `details[].target` values (property names such as `identifierUris`), in order,
    /// so a caller can attach the error to the setting it is about.
    pub fn targets(&self) -> Vec<&str> {
        match self {
            Self::Api { details, .. } => {
                details.iter().filter_map(|d| d.target.as_deref()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Graph refused to change or remove an enabled scope or app role
    /// (`CannotDeleteOrUpdateEnabledEntitlement`): it has to be disabled first.
    pub fn is_enabled_entitlement_change(&self) -> bool {
        self.has_code("CannotDeleteOrUpdateEnabledEntitlement")
    }

    /// 400 "Permission being assigned already exists on the object.": the principal already
    /// has this app role on this service principal.
    pub fn is_duplicate_assignment(&self) -> bool {
        self.is_bad_request_saying("already exists on the object")
    }

    /// 400 "Permission being assigned was not found on application …": the app role id is not
    /// one of the service principal's roles.
    pub fn is_unknown_app_role(&self) -> bool {
        self.is_bad_request_saying("was not found on application")
    }

    /// The answers Graph gives while a just-created principal or service principal has not
    /// replicated yet: 404 `Request_ResourceNotFound`, or 400 "Not a valid reference update".
    pub fn is_reference_lag(&self) -> bool {
        self.is_not_found() || self.is_bad_request_saying("not a valid reference update")
    }

    fn has_code(&self, wanted: &str) -> bool {
        matches!(self, Self::Api { code, details, .. }
            if code == wanted || details.iter().any(|d| d.code == wanted))
    }

    /// A 400 whose message contains `needle` (ASCII case-insensitive). Graph gives these
    /// refusals the generic code `Request_BadRequest`, so only the message tells them apart.
    fn is_bad_request_saying(&self, needle: &str) -> bool {
        match self {
            Self::Api {
                status: 400,
                message,
                ..
            } => message.to_ascii_lowercase().contains(needle),
            _ => false,
        }
    }

    /// A decode error for `context`.
    pub fn decode(context: impl Into<String>, message: impl ToString) -> Self {
        Self::Decode {
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// Builds an [`GraphError::Api`] from an error response. `header_request_id` is the
    /// `request-id` response header; the body's `innerError.request-id` is the fallback.
    pub fn from_response(status: u16, header_request_id: Option<String>, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: serde_json::Value,
            #[serde(default)]
            details: Option<Vec<ErrorDetail>>,
            #[serde(default, alias = "innererror")]
            inner_error: Option<serde_json::Value>,
        }
        let parsed = serde_json::from_slice::<Envelope>(body)
            .ok()
            .map(|e| e.error);
        let Some(b) = parsed else {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(300).collect();
            return Self::Api {
                status,
                code: format!("HTTP{status}"),
                message: if text.is_empty() {
                    "(no error body)".into()
                } else {
                    text
                },
                request_id: header_request_id,
                details: Vec::new(),
            };
        };
        let message = match &b.message {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => match o.get("value") {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => b.message.to_string(),
            },
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let inner_id = b.inner_error.as_ref().and_then(|i| {
            i.get("request-id")
                .or_else(|| i.get("requestId"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        Self::Api {
            status,
            code: if b.code.is_empty() {
                format!("HTTP{status}")
            } else {
                b.code
            },
            message,
            request_id: header_request_id.or(inner_id),
            details: b.details.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_string_message_and_inner_request_id() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property identifierUris already exists.","details":[{"code":"ObjectConflict","message":"dup","target":"identifierUris"}],"innerError":{"date":"2024-01-01T00:00:00","request-id":"rid-1","client-request-id":"c"}}}"#;
        let err = GraphError::from_response(400, None, body);
        assert_eq!(err.code(), Some("Request_BadRequest"));
        assert_eq!(err.request_id(), Some("rid-1"));
        assert_eq!(err.status(), Some(400));
        let GraphError::Api { details, .. } = &err else {
            panic!()
        };
        assert_eq!(details[0].target.as_deref(), Some("identifierUris"));
        let shown = err.to_string();
        assert!(shown.contains("Request_BadRequest") && shown.contains("already exists"));
        assert!(shown.contains("request-id: rid-1"), "{shown}");
        assert!(!err.is_not_found());
    }

    #[test]
    fn only_ambiguous_failures_and_timed_out_waits_may_have_written() {
        let timeout = GraphError::Timeout {
            what: "the scope to show".into(),
            waited: Duration::from_secs(1),
        };
        assert!(timeout.may_have_written());
        assert!(GraphError::from_response(503, None, b"{}").may_have_written());
        assert!(GraphError::Transport("reset".into()).may_have_written());
        assert!(!GraphError::from_response(400, None, b"{}").may_have_written());
        assert!(!GraphError::InvalidRequest("duplicate scope value".into()).may_have_written());
        let throttled = GraphError::Throttled {
            retry_after: None,
            attempts: 8,
        };
        assert!(!throttled.may_have_written());
    }

    #[test]
    fn parses_value_message_and_prefers_header_id() {
        let body = br#"{"error":{"code":"Request_ResourceNotFound","message":{"lang":"en","value":"Resource 'x' does not exist."},"innerError":{"request-id":"body-id"}}}"#;
        let err = GraphError::from_response(404, Some("hdr-id".into()), body);
        assert_eq!(err.message(), Some("Resource 'x' does not exist."));
        assert_eq!(err.request_id(), Some("hdr-id"));
        assert!(err.is_not_found());
    }

    fn bad_request(message: &str) -> GraphError {
        let body = json!({"error": {"code": "Request_BadRequest", "message": message}});
        GraphError::from_response(400, None, body.to_string().as_bytes())
    }

    #[test]
    fn targets_name_the_properties() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"bad","details":[{"code":"InvalidValue","message":"a","target":"identifierUris"},{"code":"X","message":"b"},{"code":"InvalidValue","message":"c","target":"api.oauth2PermissionScopes"}]}}"#;
        let err = GraphError::from_response(400, None, body);
        assert_eq!(
            err.targets(),
            ["identifierUris", "api.oauth2PermissionScopes"]
        );
        assert!(GraphError::Transport("x".into()).targets().is_empty());
    }

    #[test]
    fn names_the_assignment_refusals() {
        let dup = bad_request("Permission being assigned already exists on the object.");
        assert!(dup.is_duplicate_assignment() && !dup.is_unknown_app_role());
        assert!(!dup.is_reference_lag());
        let unknown = bad_request("Permission being assigned was not found on application '1234'.");
        assert!(unknown.is_unknown_app_role() && !unknown.is_duplicate_assignment());
        assert!(!unknown.is_reference_lag());
        let lag = bad_request("Not a valid reference update.");
        assert!(lag.is_reference_lag() && !lag.is_duplicate_assignment());
        let missing = GraphError::from_response(
            404,
            None,
            br#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}"#,
        );
        assert!(missing.is_reference_lag());
        let enabled = GraphError::from_response(
            400,
            None,
            br#"{"error":{"code":"CannotDeleteOrUpdateEnabledEntitlement","message":"Permission (scope or role) cannot be deleted or updated unless disabled first."}}"#,
        );
        assert!(enabled.is_enabled_entitlement_change() && !enabled.is_reference_lag());
        // the same words with another status are not these refusals
        let server = GraphError::from_response(
            500,
            None,
            br#"{"error":{"code":"x","message":"Not a valid reference update"}}"#,
        );
        assert!(!server.is_reference_lag());
    }

    #[test]
    fn non_json_body_is_kept_short() {
        let err = GraphError::from_response(502, None, b"<html>bad gateway</html>");
        assert_eq!(err.code(), Some("HTTP502"));
        assert_eq!(err.message(), Some("<html>bad gateway</html>"));
        let err = GraphError::from_response(503, None, b"");
        assert!(err.to_string().contains("no error body"));
    }
}

//! Microsoft Entra ID: clouds, credentials and access-token acquisition.
//!
//! Knows nothing about Terraform: errors are typed ([`AuthError`]) and never carry secrets.

mod assertion;
mod azure_transport;
pub mod cloud;
pub mod credentials;
mod grant;
mod managed_identity;
mod oidc_request;
pub mod token;

pub use cloud::{Environment, UnknownEnvironment};
pub use credentials::{EntraCredential, MsiEndpoint, OidcToken, Pkcs12Source};
pub use oidc_request::ENTRA_AUDIENCE;
// Kept here for the Graph client, which checks its own base URL.
pub use crate::endpoint::is_loopback;
pub use token::{AccessToken, CachingTokenSource, StaticTokenSource, TokenSource, token_source};

/// An OAuth error answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", rejected_message(self))]
pub struct TokenRejection {
    /// The token endpoint that answered (without query).
    pub url: String,
    /// HTTP status of the token response.
    pub status: u16,
    /// OAuth `error` (e.g. `invalid_client`).
    pub error: String,
    /// `error_description`, which starts with the AADSTS code and text.
    pub description: String,
    /// `error_codes` (AADSTS numbers).
    pub error_codes: Vec<i64>,
    /// `correlation_id` to quote to Microsoft support.
    pub correlation_id: Option<String>,
    /// `trace_id`.
    pub trace_id: Option<String>,
}

/// Why an access token could not be obtained. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint answered with an OAuth error (e.g. `invalid_client`, AADSTS7000215).
    #[error("{0}")]
    Rejected(Box<TokenRejection>),
    /// The credential configuration cannot work (bad tenant id, unsupported combination, …).
    #[error("invalid Entra credential configuration: {0}")]
    Config(String),
    /// A credential file (OIDC token, PKCS#12 certificate) could not be read.
    #[error("cannot read {what} {path:?}: {message}")]
    File {
        /// What the file is (e.g. "OIDC token file").
        what: &'static str,
        /// The path, as configured.
        path: std::path::PathBuf,
        /// The I/O error.
        message: String,
    },
    /// An identity endpoint that is not the login endpoint (IMDS, App Service, GitHub's or Azure
    /// DevOps' token request URL) answered with an error.
    #[error("{what} at {url} answered HTTP {status}: {detail}")]
    Answered {
        /// Which endpoint, e.g. "the managed identity endpoint (IMDS)".
        what: &'static str,
        /// The URL asked (without query).
        url: String,
        /// HTTP status.
        status: u16,
        /// The error fields of the answer (never a secret).
        detail: String,
    },
    /// An identity endpoint that is not the login endpoint could not be reached.
    #[error("cannot reach {what} at {url}: {message}")]
    Unreachable {
        /// Which endpoint.
        what: &'static str,
        /// The URL asked (without query).
        url: String,
        /// The transport error.
        message: String,
    },
    /// The token endpoint could not be reached or the connection broke.
    #[error("cannot reach the Entra token endpoint: {0}")]
    Transport(String),
    /// The token endpoint answered something that is not a token response.
    #[error("unexpected response from the Entra token endpoint: {0}")]
    Decode(String),
    /// An `azure_identity` credential failed (its message includes the AADSTS text).
    #[error("{0}")]
    Credential(String),
    /// Acquiring a token took too long.
    #[error("timed out after {0:?} acquiring an Entra access token")]
    Timeout(std::time::Duration),
}

impl AuthError {
    /// The first AADSTS code found in the error (e.g. `Some(7000215)`), when there is one.
    pub fn aadsts_code(&self) -> Option<i64> {
        if let Self::Rejected(r) = self
            && let Some(code) = r.error_codes.first()
        {
            return Some(*code);
        }
        let text = self.to_string();
        let start = text.find("AADSTS")? + "AADSTS".len();
        let digits: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }
}

#[derive(serde::Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<i64>,
    correlation_id: Option<String>,
    trace_id: Option<String>,
}

impl TokenRejection {
    /// The rejection an error answer of the token endpoint at `url` stands for; a body that is
    /// not Entra's JSON (a proxy's 404 page) says so, with its size, never its content.
    pub fn from_answer(url: String, status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<TokenErrorBody>(body) {
            Ok(e) => Self {
                url,
                status,
                error: e.error,
                description: e.error_description,
                error_codes: e.error_codes,
                correlation_id: e.correlation_id,
                trace_id: e.trace_id,
            },
            Err(_) => Self {
                url,
                status,
                error: "not an Entra ID token endpoint".into(),
                description: format!(
                    "the answer is not Entra's JSON ({} bytes); check the login endpoint",
                    body.len()
                ),
                error_codes: Vec::new(),
                correlation_id: None,
                trace_id: None,
            },
        }
    }
}

fn rejected_message(r: &TokenRejection) -> String {
    let mut msg = format!(
        "the token endpoint {} answered HTTP {} ({})",
        r.url, r.status, r.error
    );
    if let Some(line) = r.description.lines().next().filter(|l| !l.is_empty()) {
        msg.push_str(": ");
        msg.push_str(line);
    } else if !r.error_codes.is_empty() {
        let codes: Vec<String> = r.error_codes.iter().map(|c| format!("AADSTS{c}")).collect();
        msg.push_str(&format!(": {}", codes.join(", ")));
    }
    if let Some(id) = &r.correlation_id {
        msg.push_str(&format!(" (correlation id {id})"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::{AuthError, TokenRejection};

    #[test]
    fn aadsts_code_from_codes_or_text() {
        let err = AuthError::Rejected(Box::new(TokenRejection {
            url: "https://login.example/t/oauth2/v2.0/token".into(),
            status: 401,
            error: "invalid_client".into(),
            description: "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x".into(),
            error_codes: vec![7000215],
            correlation_id: Some("c-1".into()),
            trace_id: None,
        }));
        assert_eq!(err.aadsts_code(), Some(7000215));
        let shown = err.to_string();
        assert!(
            shown.contains("AADSTS7000215: Invalid client secret provided."),
            "{shown}"
        );
        assert!(
            shown.contains("c-1") && !shown.contains("Trace ID"),
            "{shown}"
        );
        let cred = AuthError::Credential("failed: AADSTS700016: app not found".into());
        assert_eq!(cred.aadsts_code(), Some(700016));
        assert_eq!(AuthError::Config("x".into()).aadsts_code(), None);
    }
}

//! The kinds of credential the provider's own identity can use, and how each reaches the
//! token endpoint: `azure_identity` credentials (https) or a hand-written grant (loopback http).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientMethodOptions, ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientCertificateCredential,
    ClientCertificateCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
};
use url::Url;

use super::token::AccessToken;
use super::{AuthError, TokenRejection, TokenSource};
use crate::secret::Secret;

/// Attempts of the hand-written grant (it is safe to repeat: it only issues a token).
const GRANT_ATTEMPTS: u32 = 5;
const GRANT_MAX_WAIT: Duration = Duration::from_secs(10);
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the provider authenticates to Entra ID. `Debug` never shows secrets.
#[derive(Clone, Debug, PartialEq)]
pub enum EntraCredential {
    /// Client credentials with a client secret (`client_secret`).
    ClientSecret {
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        secret: Secret,
    },
    /// Client credentials with a PKCS#12 certificate (`client_certificate_path`).
    ClientCertificate {
        /// The application (client) id.
        client_id: String,
        /// Path of the `.pfx`/`.p12` file (certificate and private key).
        pkcs12_path: PathBuf,
        /// Password of the PKCS#12 file, if any.
        password: Option<Secret>,
    },
    /// Workload identity federation: a federated OIDC token used as client assertion.
    Oidc {
        /// The application (client) id.
        client_id: String,
        /// Where the federated token comes from.
        token: OidcToken,
    },
    /// The identity logged in to the Azure CLI (`az account get-access-token`).
    AzureCli,
}

impl EntraCredential {
    /// A short, secret-free name of the credential kind for logs and diagnostics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } => "client secret",
            Self::ClientCertificate { .. } => "client certificate",
            Self::Oidc { .. } => "OIDC federated token",
            Self::AzureCli => "Azure CLI",
        }
    }

    /// The client id, when the credential names one (the CLI does not).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::ClientSecret { client_id, .. }
            | Self::ClientCertificate { client_id, .. }
            | Self::Oidc { client_id, .. } => Some(client_id),
            Self::AzureCli => None,
        }
    }
}

/// A federated OIDC token (GitHub Actions, HCP Terraform, Kubernetes).
#[derive(Clone, Debug, PartialEq)]
pub enum OidcToken {
    /// The token itself (`oidc_token`).
    Inline(Secret),
    /// A file holding the token (`oidc_token_file_path`). Re-read on every token fetch because
    /// Kubernetes rotates projected service-account tokens.
    File(PathBuf),
}

impl OidcToken {
    /// The current token; reads the file each time for [`OidcToken::File`].
    pub async fn read(&self) -> Result<Secret, AuthError> {
        match self {
            Self::Inline(secret) => Ok(secret.clone()),
            Self::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| AuthError::File {
                        what: "OIDC token file",
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(AuthError::File {
                        what: "OIDC token file",
                        path: path.clone(),
                        message: "the file is empty".into(),
                    });
                }
                Ok(Secret::new(token))
            }
        }
    }
}

/// Builds the `azure_identity` credential for an https authority host. Its HTTP pipeline uses
/// our `reqwest::Client` and the authority host as a custom cloud.
pub(super) fn azure_credential(
    authority_host: &Url,
    tenant_id: &str,
    credential: EntraCredential,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority_host.as_str().trim_end_matches('/').to_string();
    let client_options = ClientOptions {
        transport: Some(Transport::new(Arc::new(http))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        ..Default::default()
    };
    let tenant = tenant_id.to_string();
    let config = |e: azure_core::Error| AuthError::Config(e.to_string());
    Ok(match credential {
        EntraCredential::ClientSecret { client_id, secret } => {
            let options = ClientSecretCredentialOptions { client_options };
            let secret = azure_core::credentials::Secret::new(secret.expose().to_string());
            ClientSecretCredential::new(tenant_id, client_id, secret, Some(options))
                .map_err(config)?
        }
        EntraCredential::ClientCertificate {
            client_id,
            pkcs12_path,
            password,
        } => {
            let bytes = std::fs::read(&pkcs12_path).map_err(|e| AuthError::File {
                what: "client certificate",
                path: pkcs12_path.clone(),
                message: e.to_string(),
            })?;
            let password =
                password.map(|p| azure_core::credentials::Secret::new(p.expose().to_string()));
            let options = ClientCertificateCredentialOptions {
                client_options,
                password,
            };
            let cert = azure_core::credentials::SecretBytes::new(bytes);
            ClientCertificateCredential::new(tenant, client_id, cert, Some(options))
                .map_err(config)?
        }
        EntraCredential::Oidc { client_id, token } => {
            let options = ClientAssertionCredentialOptions { client_options };
            let assertion = OidcAssertion(token);
            ClientAssertionCredential::new(tenant, client_id, assertion, Some(options))
                .map_err(config)?
        }
        EntraCredential::AzureCli => {
            let options = AzureCliCredentialOptions {
                tenant_id: Some(tenant),
                ..Default::default()
            };
            AzureCliCredential::new(Some(options)).map_err(config)?
        }
    })
}

/// Supplies the federated token as client assertion; a token file is re-read on every fetch.
#[derive(Debug)]
struct OidcAssertion(OidcToken);

#[async_trait]
impl ClientAssertion for OidcAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let token = self.0.read().await.map_err(|e| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e.to_string())
        })?;
        Ok(token.expose().to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written client-credentials grant (plain-http loopback authority hosts only; see
// `token::token_source` for why)

#[derive(Debug)]
pub(super) enum LoopbackAuth {
    Secret { client_id: String, secret: Secret },
    Oidc { client_id: String, token: OidcToken },
}

pub(super) struct LoopbackGrant {
    pub(super) endpoint: Url,
    pub(super) scope: String,
    pub(super) auth: LoopbackAuth,
    pub(super) http: reqwest::Client,
}

impl fmt::Debug for LoopbackGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.auth {
            LoopbackAuth::Secret { .. } => "client secret",
            LoopbackAuth::Oidc { .. } => "OIDC token",
        };
        write!(f, "loopback grant ({kind}) at {}", self.endpoint)
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

#[async_trait]
impl TokenSource for LoopbackGrant {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let (client_id, credential_fields, sensitive) = match &self.auth {
            LoopbackAuth::Secret { client_id, secret } => (
                client_id,
                vec![("client_secret", secret.clone())],
                secret.clone(),
            ),
            LoopbackAuth::Oidc { client_id, token } => {
                let jwt = token.read().await?;
                let fields = vec![
                    ("client_assertion_type", Secret::new(JWT_BEARER)),
                    ("client_assertion", jwt.clone()),
                ];
                (client_id, fields, jwt)
            }
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", client_id),
            ("scope", &self.scope),
            ("grant_type", "client_credentials"),
        ];
        form.extend(credential_fields.iter().map(|(k, v)| (*k, v.expose())));
        let mut attempt = 0u32;
        let (started, status, body) = loop {
            attempt += 1;
            let started = Instant::now();
            let (status, retry_after, body) = match self.post_form(&form).await {
                Ok(answer) => answer,
                Err(e) if attempt < GRANT_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "token request failed; retrying");
                    tokio::time::sleep(grant_backoff(attempt, None)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if matches!(status, 429 | 500 | 502 | 503 | 504) && attempt < GRANT_ATTEMPTS {
                tracing::debug!(attempt, status, "token endpoint busy; retrying");
                tokio::time::sleep(grant_backoff(attempt, retry_after)).await;
                continue;
            }
            break (started, status, body);
        };
        // Defence in depth: a misbehaving endpoint could echo the form back.
        let scrub = |s: &str| s.replace(sensitive.expose(), "<redacted>");
        if (200..300).contains(&status) {
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| AuthError::Decode(format!("token response is not JSON: {e}")))?;
            let secret = v["access_token"].as_str().filter(|t| !t.is_empty());
            let secret = secret.ok_or_else(|| AuthError::Decode("no access_token".into()))?;
            let expires_in = match &v["expires_in"] {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }
            .ok_or_else(|| AuthError::Decode("no numeric expires_in".into()))?;
            let expires_at = started + Duration::from_secs(expires_in);
            return Ok(AccessToken {
                secret: Secret::new(secret),
                expires_at,
            });
        }
        match serde_json::from_slice::<TokenErrorBody>(&body) {
            Ok(e) => Err(AuthError::Rejected(Box::new(TokenRejection {
                status,
                error: scrub(&e.error),
                description: scrub(&e.error_description),
                error_codes: e.error_codes,
                correlation_id: e.correlation_id,
                trace_id: e.trace_id,
            }))),
            Err(_) => Err(AuthError::Decode(format!(
                "HTTP {status} with a non-JSON body ({} bytes)",
                body.len()
            ))),
        }
    }
}

impl LoopbackGrant {
    /// One POST of the form: status, `Retry-After` seconds, body.
    async fn post_form(
        &self,
        form: &[(&str, &str)],
    ) -> Result<(u16, Option<u64>, Vec<u8>), AuthError> {
        let transport = |e: reqwest::Error| AuthError::Transport(crate::error_text::error_chain(&e));
        let response = self
            .http
            .post(self.endpoint.clone())
            .form(form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok());
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, retry_after, body.to_vec()))
    }
}

/// The wait before grant attempt `attempt + 1`: `Retry-After` (capped), else jittered backoff.
fn grant_backoff(attempt: u32, retry_after_secs: Option<u64>) -> Duration {
    match retry_after_secs {
        Some(secs) => Duration::from_secs(secs).min(GRANT_MAX_WAIT),
        None => Duration::from_millis(200 << attempt.min(6)).mul_f64(rand::random::<f64>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn oidc_file_is_reread_and_debug_redacts() {
        let path = std::env::temp_dir().join(format!("kiro-oidc-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&path, "first\n").await.unwrap();
        let token = OidcToken::File(path.clone());
        assert_eq!(token.read().await.unwrap().expose(), "first");
        tokio::fs::write(&path, "second").await.unwrap();
        assert_eq!(token.read().await.unwrap().expose(), "second");
        tokio::fs::remove_file(&path).await.unwrap();
        assert!(matches!(token.read().await, Err(AuthError::File { .. })));

        let cred = EntraCredential::Oidc {
            client_id: "c".into(),
            token: OidcToken::Inline(Secret::new("jwt-value")),
        };
        assert!(!format!("{cred:?}").contains("jwt-value"));
        assert_eq!(cred.client_id(), Some("c"));
    }
}

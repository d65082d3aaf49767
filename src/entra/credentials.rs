//! The kinds of credential the provider's own identity can use, and how each reaches the
//! token endpoint: `azure_identity` credentials (https) or a hand-written grant (loopback http).

use std::path::PathBuf;
use std::sync::Arc;

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

use super::AuthError;
use super::assertion::CertificateSigner;
use crate::secret::Secret;

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
            // azure_identity's own errors ("PKCS12 parsing failed") name neither the file nor
            // the cause; check first so both paths explain a bad file the same way.
            CertificateSigner::from_pkcs12(&pkcs12_path, &bytes, password.as_ref())?;
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

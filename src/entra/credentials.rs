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
    /// Client credentials with a PKCS#12 certificate (`client_certificate_path` or the inline
    /// `client_certificate`).
    ClientCertificate {
        /// The application (client) id.
        client_id: String,
        /// The `.pfx`/`.p12` bundle (certificate and private key).
        pkcs12: Pkcs12Source,
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
    /// The managed identity of the Azure host Terraform runs on (`use_msi`): tokens come from
    /// the host's identity endpoint, not from the login endpoint.
    ManagedIdentity {
        /// A user-assigned identity's client id; `None` for the system-assigned identity.
        client_id: Option<String>,
        /// Where the host serves tokens.
        endpoint: MsiEndpoint,
    },
    /// The identity logged in to the Azure CLI (`az account get-access-token`).
    AzureCli,
}

/// Where a PKCS#12 client certificate comes from. `Debug` never shows inline bytes.
#[derive(Clone, PartialEq)]
pub enum Pkcs12Source {
    /// A `.pfx`/`.p12` file (`client_certificate_path`).
    Path(PathBuf),
    /// The decoded bytes of the base64 `client_certificate` argument.
    Inline(Vec<u8>),
}

impl Pkcs12Source {
    /// How errors name the certificate: its path, or "the inline client_certificate".
    pub fn label(&self) -> PathBuf {
        match self {
            Self::Path(path) => path.clone(),
            Self::Inline(_) => PathBuf::from("(inline client_certificate)"),
        }
    }

    /// The PKCS#12 bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, AuthError> {
        match self {
            Self::Path(path) => std::fs::read(path).map_err(|e| AuthError::File {
                what: "client certificate",
                path: path.clone(),
                message: e.to_string(),
            }),
            Self::Inline(bytes) => Ok(bytes.clone()),
        }
    }
}

impl std::fmt::Debug for Pkcs12Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(path) => write!(f, "Path({path:?})"),
            Self::Inline(bytes) => write!(f, "Inline(<{} bytes>)", bytes.len()),
        }
    }
}

/// A managed identity endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum MsiEndpoint {
    /// Azure Instance Metadata Service (VMs, scale sets, AKS nodes): `msi_endpoint`, by default
    /// `http://169.254.169.254/metadata/identity/oauth2/token`; asked with `Metadata: true`.
    Imds(Url),
    /// App Service / Functions: `IDENTITY_ENDPOINT`, asked with the `X-IDENTITY-HEADER` secret
    /// from `IDENTITY_HEADER`.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        url: Url,
        /// `IDENTITY_HEADER`.
        header: Secret,
    },
}

/// The default Azure IMDS token URL.
pub const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

impl EntraCredential {
    /// A short, secret-free name of the credential kind for logs and diagnostics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } => "client secret",
            Self::ClientCertificate { .. } => "client certificate",
            Self::Oidc { token, .. } => token.kind(),
            Self::ManagedIdentity {
                endpoint: MsiEndpoint::Imds(_),
                ..
            } => "managed identity (IMDS)",
            Self::ManagedIdentity { .. } => "managed identity (App Service)",
            Self::AzureCli => "Azure CLI",
        }
    }

    /// The client id, when the credential names one (the CLI does not).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::ClientSecret { client_id, .. }
            | Self::ClientCertificate { client_id, .. }
            | Self::Oidc { client_id, .. } => Some(client_id),
            Self::ManagedIdentity { client_id, .. } => client_id.as_deref(),
            Self::AzureCli => None,
        }
    }
}

/// A federated OIDC token (GitHub Actions, Azure DevOps, HCP Terraform, Kubernetes).
#[derive(Clone, Debug, PartialEq)]
pub enum OidcToken {
    /// The token itself (`oidc_token`).
    Inline(Secret),
    /// A file holding the token (`oidc_token_file_path`, AKS's `AZURE_FEDERATED_TOKEN_FILE`).
    /// Re-read on every token fetch because Kubernetes rotates projected service-account tokens.
    File(PathBuf),
    /// Asked for on every fetch from GitHub Actions' token request URL (`oidc_request_url`).
    GitHub {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        url: Url,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        bearer: Secret,
    },
    /// Asked for on every fetch from Azure DevOps' OIDC request URI for a service connection.
    AzureDevOps {
        /// `SYSTEM_OIDCREQUESTURI`.
        url: Url,
        /// `SYSTEM_ACCESSTOKEN`.
        bearer: Secret,
        /// `ado_pipeline_service_connection_id`.
        service_connection_id: String,
    },
}

impl OidcToken {
    /// The credential kind this token makes, for logs and diagnostics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Inline(_) | Self::File(_) => "OIDC federated token",
            Self::GitHub { .. } => "GitHub Actions OIDC token",
            Self::AzureDevOps { .. } => "Azure DevOps OIDC token",
        }
    }

    /// The current token: reads the file, or asks GitHub / Azure DevOps, each time.
    pub async fn read(&self, http: &reqwest::Client) -> Result<Secret, AuthError> {
        match self {
            Self::Inline(secret) => Ok(secret.clone()),
            Self::GitHub { url, bearer } => super::oidc_request::github(http, url, bearer).await,
            Self::AzureDevOps {
                url,
                bearer,
                service_connection_id,
            } => super::oidc_request::azure_devops(http, url, bearer, service_connection_id).await,
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
/// `transport` (our `reqwest::Client`, recording error answers) and the authority host as a
/// custom cloud.
pub(super) fn azure_credential(
    authority_host: &Url,
    tenant_id: &str,
    credential: EntraCredential,
    http: reqwest::Client,
    transport: Arc<super::azure_transport::RecordingTransport>,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority_host.as_str().trim_end_matches('/').to_string();
    let client_options = ClientOptions {
        transport: Some(Transport::new(transport)),
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
            pkcs12,
            password,
        } => {
            let bytes = pkcs12.bytes()?;
            // azure_identity's own errors ("PKCS12 parsing failed") name neither the file nor
            // the cause; check first so both paths explain a bad file the same way.
            CertificateSigner::from_pkcs12(&pkcs12.label(), &bytes, password.as_ref())?;
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
            let assertion = OidcAssertion(token, http);
            ClientAssertionCredential::new(tenant, client_id, assertion, Some(options))
                .map_err(config)?
        }
        EntraCredential::ManagedIdentity { .. } => {
            return Err(AuthError::Config(
                "a managed identity gets its tokens from the host's identity endpoint, not from \
                 the login endpoint"
                    .into(),
            ));
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

/// Supplies the federated token as client assertion; a token file is re-read (GitHub or Azure
/// DevOps asked again) on every fetch.
#[derive(Debug)]
struct OidcAssertion(OidcToken, reqwest::Client);

#[async_trait]
impl ClientAssertion for OidcAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let token = self.0.read(&self.1).await.map_err(|e| {
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
        let http = reqwest::Client::new();
        assert_eq!(token.read(&http).await.unwrap().expose(), "first");
        tokio::fs::write(&path, "second").await.unwrap();
        assert_eq!(token.read(&http).await.unwrap().expose(), "second");
        tokio::fs::remove_file(&path).await.unwrap();
        assert!(matches!(
            token.read(&http).await,
            Err(AuthError::File { .. })
        ));

        let cred = EntraCredential::Oidc {
            client_id: "c".into(),
            token: OidcToken::Inline(Secret::new("jwt-value")),
        };
        assert!(!format!("{cred:?}").contains("jwt-value"));
        assert_eq!(cred.client_id(), Some("c"));
    }
}

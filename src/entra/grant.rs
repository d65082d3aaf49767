//! The hand-written client-credentials grant, used for a plain-http *loopback* login endpoint
//! (the offline sandbox) and for an https login endpoint with a path (a TLS front such as
//! `https://host/login`): `azure_identity` refuses authority hosts that are not https and keeps
//! only the host of one with a path (see `token::token_source`). It authenticates with a client secret, a federated OIDC token
//! or a certificate assertion (`assertion.rs`), and retries throttling and transient failures.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use url::Url;

use super::assertion::CertificateSigner;
use super::token::AccessToken;
use super::{AuthError, EntraCredential, OidcToken, TokenRejection, TokenSource};
use crate::retry::{Attempt, RetryPolicy, parse_retry_after, retry, retryable_status};
use crate::secret::Secret;

/// The client-assertion type of a JWT bearer assertion (OIDC or certificate).
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug)]
pub(super) enum GrantAuth {
    Secret {
        client_id: String,
        secret: Secret,
    },
    Oidc {
        client_id: String,
        token: OidcToken,
    },
    Certificate {
        client_id: String,
        signer: CertificateSigner,
    },
}

impl GrantAuth {
    /// How `credential` authenticates in the hand-written grant; a certificate is loaded (and
    /// decrypted) here, so a bad file or password fails at configuration.
    pub(super) fn new(credential: EntraCredential, login: &Url) -> Result<Self, AuthError> {
        Ok(match credential {
            EntraCredential::ClientSecret { client_id, secret } => {
                Self::Secret { client_id, secret }
            }
            EntraCredential::Oidc { client_id, token } => Self::Oidc { client_id, token },
            EntraCredential::ClientCertificate {
                client_id,
                pkcs12,
                password,
            } => Self::Certificate {
                client_id,
                signer: CertificateSigner::from_pkcs12(
                    &pkcs12.label(),
                    &pkcs12.bytes()?,
                    password.as_ref(),
                )?,
            },
            EntraCredential::ManagedIdentity { .. } => {
                return Err(AuthError::Config(
                    "a managed identity gets its tokens from the host's identity endpoint, not \
                     from the login endpoint"
                        .into(),
                ));
            }
            EntraCredential::AzureCli => {
                return Err(AuthError::Config(format!(
                    "Azure CLI authentication is not supported against a plain-http login \
                     endpoint ({login}); use a client secret, client certificate or OIDC token"
                )));
            }
        })
    }
}

pub(super) struct ClientCredentialsGrant {
    pub(super) endpoint: Url,
    pub(super) scope: String,
    pub(super) auth: GrantAuth,
    pub(super) http: reqwest::Client,
}

impl fmt::Debug for ClientCredentialsGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.auth {
            GrantAuth::Secret { .. } => "client secret",
            GrantAuth::Oidc { .. } => "OIDC token",
            GrantAuth::Certificate { .. } => "client certificate",
        };
        write!(f, "client-credentials grant ({kind}) at {}", self.endpoint)
    }
}

#[async_trait]
impl TokenSource for ClientCredentialsGrant {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let (client_id, credential_fields, sensitive) = match &self.auth {
            GrantAuth::Secret { client_id, secret } => (
                client_id,
                vec![("client_secret", secret.clone())],
                secret.clone(),
            ),
            GrantAuth::Oidc { client_id, token } => {
                let jwt = token.read(&self.http).await?;
                let fields = vec![
                    ("client_assertion_type", Secret::new(JWT_BEARER)),
                    ("client_assertion", jwt.clone()),
                ];
                (client_id, fields, jwt)
            }
            GrantAuth::Certificate { client_id, signer } => {
                let jwt = signer.assertion(client_id, self.endpoint.as_str())?;
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
        // The grant is idempotent: the same policy as Graph reads.
        let scrub = |s: &str| s.replace(sensitive.expose(), "<redacted>");
        retry(&RetryPolicy::default(), "token request", |_| async {
            let started = Instant::now();
            let (status, after, body) = match self.post_form(&form).await {
                Ok(answer) => answer,
                Err(e) => return Attempt::retry(e),
            };
            match (
                token_answer(&self.endpoint, started, status, &body, scrub),
                status,
            ) {
                (Err(error), status) if retryable_status(status, true) => {
                    Attempt::Retry { error, after }
                }
                (answer, _) => Attempt::Done(answer),
            }
        })
        .await
    }
}

/// A token endpoint's answer: the token, or why it was refused (naming the URL that answered).
/// `scrub` removes the credential from anything quoted back, in defence in depth (a
/// misbehaving endpoint could echo the form).
fn token_answer(
    endpoint: &Url,
    started: Instant,
    status: u16,
    body: &[u8],
    scrub: impl Fn(&str) -> String,
) -> Result<AccessToken, AuthError> {
    if (200..300).contains(&status) {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| AuthError::Decode(format!("token response is not JSON: {e}")))?;
        let secret = v["access_token"].as_str().filter(|t| !t.is_empty());
        let secret = secret.ok_or_else(|| AuthError::Decode("no access_token".into()))?;
        let expires_in = match &v["expires_in"] {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| AuthError::Decode("no numeric expires_in".into()))?;
        return Ok(AccessToken {
            secret: Secret::new(secret),
            expires_at: started + Duration::from_secs(expires_in),
        });
    }
    let shown = super::oidc_request::shown_url(endpoint);
    let rejection = TokenRejection::from_answer(shown, status, body);
    Err(AuthError::Rejected(Box::new(TokenRejection {
        error: scrub(&rejection.error),
        description: scrub(&rejection.description),
        ..rejection
    })))
}

impl ClientCredentialsGrant {
    /// One POST of the form: status, `Retry-After` seconds, body.
    async fn post_form(
        &self,
        form: &[(&str, &str)],
    ) -> Result<(u16, Option<Duration>, Vec<u8>), AuthError> {
        let transport =
            |e: reqwest::Error| AuthError::Transport(crate::error_text::error_chain(&e));
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
            .and_then(|v| parse_retry_after(v.to_str().ok()?, OffsetDateTime::now_utc()));
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, retry_after, body.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::http::StatusCode;

    use super::super::token::tests::{SCOPE, SECRET, ok, secret_cred, serve};
    use super::super::{OidcToken, token_source};
    use super::*;

    #[tokio::test]
    async fn grant_retries_throttling() {
        fn busy_twice(n: usize, f: &HashMap<String, String>) -> (StatusCode, String) {
            match n {
                0 => (
                    StatusCode::TOO_MANY_REQUESTS,
                    r#"{"error":"temporarily_unavailable","error_codes":[50196]}"#.into(),
                ),
                1 => (StatusCode::SERVICE_UNAVAILABLE, "{}".into()),
                _ => ok(n, f),
            }
        }
        let (url, seen) = serve(busy_twice).await;
        let src = token_source(&url, "t", SCOPE, secret_cred(), reqwest::Client::new()).unwrap();
        assert_eq!(src.token().await.unwrap().secret.expose(), "tok-1");
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn rejected_grant_carries_aadsts_and_hides_secret() {
        fn reject(_: usize, f: &HashMap<String, String>) -> (StatusCode, String) {
            // A hostile endpoint echoing the secret must not get it into our error.
            let body = serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: Invalid client secret provided: {}", f["client_secret"]),
                "error_codes": [7000215],
                "trace_id": "t-1",
                "correlation_id": "corr-9",
            });
            (StatusCode::UNAUTHORIZED, body.to_string())
        }
        let (url, _) = serve(reject).await;
        let src = token_source(
            &url,
            "tenant-1",
            SCOPE,
            secret_cred(),
            reqwest::Client::new(),
        )
        .unwrap();
        let err = src.token().await.unwrap_err();
        assert_eq!(err.aadsts_code(), Some(7000215));
        let AuthError::Rejected(r) = &err else {
            panic!("{err:?}")
        };
        assert_eq!((r.status, r.error.as_str()), (401, "invalid_client"));
        assert_eq!(r.correlation_id.as_deref(), Some("corr-9"));
        for shown in [format!("{err:?}"), format!("{err}"), format!("{src:?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
        assert!(err.to_string().contains("AADSTS7000215"));
    }

    #[tokio::test]
    async fn oidc_grant_sends_fresh_assertion() {
        let (url, seen) = serve(ok).await;
        let path = std::env::temp_dir().join(format!("kiro-oidc-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&path, "jwt-A\n").await.unwrap();
        let cred = EntraCredential::Oidc {
            client_id: "cid".into(),
            token: OidcToken::File(path.clone()),
        };
        let src = token_source(&url, "t", SCOPE, cred, reqwest::Client::new()).unwrap();
        src.token().await.unwrap();
        tokio::fs::remove_file(&path).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0]["client_assertion"], "jwt-A");
        assert_eq!(seen[0]["client_assertion_type"], JWT_BEARER);
        assert!(!seen[0].contains_key("client_secret"));
    }

    #[tokio::test]
    async fn certificate_grant_sends_a_fresh_signed_assertion() {
        use super::super::assertion::tests::{PASSWORD, pkcs12, rsa_key};
        let (url, seen) = serve(ok).await;
        let (der, _) = pkcs12(&rsa_key(), PASSWORD);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiro.pfx");
        std::fs::write(&path, der).unwrap();
        let cert = |password: &str| EntraCredential::ClientCertificate {
            client_id: "cid".into(),
            pkcs12: crate::entra::Pkcs12Source::Path(path.clone()),
            password: Some(Secret::new(password)),
        };
        let http = reqwest::Client::new;
        let src = token_source(&url, "tenant-1", SCOPE, cert(PASSWORD), http()).unwrap();
        assert_eq!(src.token().await.unwrap().secret.expose(), "tok-1");
        assert!(!format!("{src:?}").contains(PASSWORD));
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen[0]["client_assertion_type"], JWT_BEARER);
            assert!(!seen[0].contains_key("client_secret"));
            let claims = seen[0]["client_assertion"].split('.').nth(1).unwrap();
            let claims: serde_json::Value = serde_json::from_slice(
                &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(claims["aud"], format!("{url}/tenant-1/oauth2/v2.0/token"));
            assert_eq!(claims["sub"], "cid");
        }
        // A wrong password fails when the source is built, naming the file only.
        for login in [
            url,
            Url::parse("https://login.microsoftonline.com").unwrap(),
        ] {
            let err = token_source(&login, "t", SCOPE, cert("wrong-pw"), http()).unwrap_err();
            let shown = err.to_string();
            assert!(shown.contains(&path.display().to_string()), "{shown}");
            assert!(!shown.contains("wrong-pw"), "{shown}");
        }
    }
}

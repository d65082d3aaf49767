//! Access-token acquisition and caching.
//!
//! Real (https) authority hosts go through the `azure_identity` credentials. A plain-http
//! *loopback* authority host (the offline sandbox, `http://127.0.0.1:<port>/login`) is handled
//! by a small hand-written client-credentials grant, because `azure_identity` refuses any
//! authority host that is not https ("authority host doesn't use HTTPS scheme"). That path is
//! used ONLY for loopback http hosts; non-loopback http is refused.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use tokio::sync::Mutex;
use url::Url;

use crate::endpoint::is_loopback;

use super::azure_transport::RecordingTransport;
use super::credentials::azure_credential;
use super::grant::{ClientCredentialsGrant, GrantAuth};
use super::managed_identity::ManagedIdentitySource;
use super::{AuthError, EntraCredential};
use crate::secret::Secret;

/// Tokens are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Upper bound for one token acquisition (network or `az` process).
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// A bearer token for Microsoft Graph.
#[derive(Clone, Debug)]
pub struct AccessToken {
    /// The token (never log it).
    pub secret: Secret,
    /// When the token stops being valid.
    pub expires_at: Instant,
}

/// Something that hands out access tokens for one scope.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token that is valid for at least a short while.
    async fn token(&self) -> Result<AccessToken, AuthError>;
}

/// Builds the token source for a credential: cached, single-flight.
///
/// `authority_host` is e.g. `https://login.microsoftonline.com` or, for the sandbox,
/// `http://127.0.0.1:<port>/login`; `scope` is e.g. `https://graph.microsoft.com/.default`.
pub fn token_source(
    authority_host: &Url,
    tenant_id: &str,
    scope: &str,
    credential: EntraCredential,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    validate_tenant(tenant_id)?;
    if scope.trim().is_empty() {
        return Err(AuthError::Config("the token scope is empty".into()));
    }
    let kind = credential.kind();
    if let EntraCredential::ManagedIdentity {
        client_id,
        endpoint,
    } = credential
    {
        let inner = ManagedIdentitySource {
            endpoint,
            client_id,
            resource: scope.trim_end_matches("/.default").to_string(),
            http,
        };
        return Ok(Arc::new(CachingTokenSource::new(inner)));
    }
    // The Azure CLI asks `az` for the token and never contacts the login
    // endpoint, so its scheme does not matter (e.g. the sandbox's http one).
    let cli = matches!(credential, EntraCredential::AzureCli);
    let scheme = if cli {
        "https"
    } else {
        authority_host.scheme()
    };
    let has_path = !authority_host.path().trim_matches('/').is_empty();
    match scheme {
        // azure_identity keeps only scheme and host of the authority (it joins an absolute
        // `/{tenant}/oauth2/v2.0/token`), so an https login endpoint with a path (a TLS front
        // such as `https://host/login`) goes to the hand-written grant, which honours it.
        "https" if cli || !has_path => {
            let transport = Arc::new(RecordingTransport::new(http.clone()));
            let cred = azure_credential(
                authority_host,
                tenant_id,
                credential,
                http,
                transport.clone(),
            )?;
            let inner = AzureIdentitySource {
                cred,
                transport,
                scope: scope.to_string(),
                kind,
            };
            Ok(Arc::new(CachingTokenSource::new(inner)))
        }
        // azure_identity also refuses non-https authority hosts, so the offline sandbox
        // (loopback http) gets the hand-written grant too. Only loopback: over plain http to a
        // real host the secret would travel in clear text.
        "https" => grant(authority_host, tenant_id, scope, credential, http),
        "http" if is_loopback(authority_host) => {
            grant(authority_host, tenant_id, scope, credential, http)
        }
        _ => Err(AuthError::Config(format!(
            "login endpoint {authority_host} must use https (plain http is allowed only for a \
             loopback host)"
        ))),
    }
}

/// The hand-written client-credentials grant at `{authority_host}/{tenant}/oauth2/v2.0/token`.
fn grant(
    authority_host: &Url,
    tenant_id: &str,
    scope: &str,
    credential: EntraCredential,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    let auth = GrantAuth::new(credential, authority_host)?;
    let base = authority_host.as_str().trim_end_matches('/');
    let endpoint = Url::parse(&format!("{base}/{tenant_id}/oauth2/v2.0/token"))
        .map_err(|e| AuthError::Config(format!("bad login endpoint: {e}")))?;
    let inner = ClientCredentialsGrant {
        endpoint,
        scope: scope.to_string(),
        auth,
        http,
    };
    Ok(Arc::new(CachingTokenSource::new(inner)))
}

fn validate_tenant(tenant_id: &str) -> Result<(), AuthError> {
    let ok = !tenant_id.is_empty()
        && tenant_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AuthError::Config(format!(
            "invalid tenant id {tenant_id:?}"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Cache

/// Wraps a source: reuses a token until shortly before expiry (5 minutes, or half the lifetime
/// of short-lived tokens); concurrent callers wait for a single fetch. Failures are not cached.
#[derive(Debug)]
pub struct CachingTokenSource<S> {
    inner: S,
    cache: Mutex<Option<(AccessToken, Instant)>>,
}

impl<S: TokenSource> CachingTokenSource<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            cache: Mutex::new(None),
        }
    }
}

#[async_trait]
impl<S: TokenSource> TokenSource for CachingTokenSource<S> {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        // Holding the lock across the fetch is the single-flight: waiters find the new token.
        let mut cache = self.cache.lock().await;
        if let Some((token, refresh_at)) = cache.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        tracing::debug!(source = ?self.inner, "acquiring Entra access token");
        let token = tokio::time::timeout(FETCH_TIMEOUT, self.inner.token())
            .await
            .map_err(|_| AuthError::Timeout(FETCH_TIMEOUT))??;
        let now = Instant::now();
        let lifetime = token.expires_at.saturating_duration_since(now);
        let refresh_at = now + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2));
        *cache = Some((token.clone(), refresh_at));
        Ok(token)
    }
}

/// A fixed token valid for an hour from each call: for tests and tools, not for production.
#[derive(Debug)]
pub struct StaticTokenSource(pub Secret);

#[async_trait]
impl TokenSource for StaticTokenSource {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let expires_at = Instant::now() + Duration::from_secs(3600);
        Ok(AccessToken {
            secret: self.0.clone(),
            expires_at,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// azure_identity (https authority hosts)

struct AzureIdentitySource {
    cred: Arc<dyn TokenCredential>,
    /// The credential's transport: tells which URL answered what when the credential fails.
    transport: Arc<RecordingTransport>,
    scope: String,
    kind: &'static str,
}

impl fmt::Debug for AzureIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "azure_identity({}, scope {})", self.kind, self.scope)
    }
}

#[async_trait]
impl TokenSource for AzureIdentitySource {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let token = self
            .cred
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| match self.transport.take_last_error() {
                Some(rejection) => AuthError::Rejected(Box::new(rejection)),
                None => AuthError::Credential(e.to_string()),
            })?;
        let remaining = token.expires_on - azure_core::time::OffsetDateTime::now_utc();
        let remaining = Duration::try_from(remaining).unwrap_or_default();
        let secret = Secret::new(token.token.secret());
        Ok(AccessToken {
            secret,
            expires_at: Instant::now() + remaining,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::{Form, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::post;

    use super::*;

    pub(crate) const SECRET: &str = "s3cr3t-VALUE-never-shown";
    pub(crate) type Seen = Arc<std::sync::Mutex<Vec<HashMap<String, String>>>>;
    pub(crate) type Reply = fn(usize, &HashMap<String, String>) -> (StatusCode, String);

    pub(crate) async fn serve(reply: Reply) -> (Url, Seen) {
        let seen: Seen = Arc::default();
        let handler = move |State(seen): State<Seen>, Form(f): Form<HashMap<String, String>>| async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let n = seen.lock().unwrap().len();
            let (status, body) = reply(n, &f);
            seen.lock().unwrap().push(f);
            let headers = [("content-type", "application/json"), ("retry-after", "0")];
            (status, headers, body).into_response()
        };
        let app = axum::Router::new()
            .route("/login/{tenant}/oauth2/v2.0/token", post(handler))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (Url::parse(&format!("http://{addr}/login")).unwrap(), seen)
    }

    pub(crate) fn ok(_: usize, _: &HashMap<String, String>) -> (StatusCode, String) {
        let body = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"tok-1"}"#;
        (StatusCode::OK, body.into())
    }

    pub(crate) fn secret_cred() -> EntraCredential {
        EntraCredential::ClientSecret {
            client_id: "cid".into(),
            secret: Secret::new(SECRET),
        }
    }

    pub(crate) const SCOPE: &str = "https://graph.microsoft.com/.default";

    #[tokio::test]
    async fn caches_and_single_flights() {
        let (url, seen) = serve(ok).await;
        let src = token_source(
            &url,
            "tenant-1",
            SCOPE,
            secret_cred(),
            reqwest::Client::new(),
        )
        .unwrap();
        let calls = (0..10).map(|_| src.token());
        for t in futures::future::join_all(calls).await {
            assert_eq!(t.unwrap().secret.expose(), "tok-1");
        }
        src.token().await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "one token request for 11 calls");
        assert_eq!(seen[0]["grant_type"], "client_credentials");
        assert_eq!(seen[0]["scope"], SCOPE);
        assert_eq!(seen[0]["client_id"], "cid");
        assert_eq!(seen[0]["client_secret"], SECRET);
    }

    #[tokio::test]
    async fn short_lived_tokens_are_refetched() {
        #[derive(Debug)]
        struct Counting(AtomicUsize);
        #[async_trait]
        impl TokenSource for Counting {
            async fn token(&self) -> Result<AccessToken, AuthError> {
                self.0.fetch_add(1, Ordering::SeqCst);
                let expires_at = Instant::now() + Duration::from_millis(40);
                Ok(AccessToken {
                    secret: Secret::new("t"),
                    expires_at,
                })
            }
        }
        let src = CachingTokenSource::new(Counting(AtomicUsize::new(0)));
        src.token().await.unwrap();
        src.token().await.unwrap();
        assert_eq!(src.inner.0.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(25)).await;
        src.token().await.unwrap();
        assert_eq!(src.inner.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn refuses_unsupported_combinations() {
        let http = reqwest::Client::new;
        let loopback = Url::parse("http://127.0.0.1:9/login").unwrap();
        let remote = Url::parse("http://login.example.com").unwrap();
        let cert = EntraCredential::ClientCertificate {
            client_id: "c".into(),
            pkcs12: crate::entra::Pkcs12Source::Path("/nonexistent.pfx".into()),
            password: None,
        };
        let err = token_source(&loopback, "t", SCOPE, cert, http()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent.pfx"), "{err}");
        // The CLI never contacts the login endpoint: any scheme will do.
        let cli = token_source(&loopback, "t", SCOPE, EntraCredential::AzureCli, http()).unwrap();
        assert!(format!("{cli:?}").contains("Azure CLI"), "{cli:?}");
        let err = token_source(&remote, "t", SCOPE, secret_cred(), http()).unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
        let err = token_source(&loopback, "t/../x", SCOPE, secret_cred(), http()).unwrap_err();
        assert!(err.to_string().contains("tenant"), "{err}");
        // https goes through azure_identity (constructed here, no network).
        let global = Url::parse("https://login.microsoftonline.com").unwrap();
        let src = token_source(&global, "t", SCOPE, secret_cred(), http()).unwrap();
        assert!(!format!("{src:?}").contains(SECRET));
    }
}

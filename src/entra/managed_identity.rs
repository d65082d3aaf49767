//! Managed identity: the Azure host hands out tokens for its identity from a local endpoint,
//! IMDS (`Metadata: true`) or App Service's `IDENTITY_ENDPOINT` (`X-IDENTITY-HEADER`).
//!
//! `azure_identity::ManagedIdentityCredential` hard-codes the IMDS address and reads App
//! Service's variables from the process environment, so neither `msi_endpoint` nor the
//! provider's own settings could reach it; the request is one GET, written here.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use url::Url;

use super::oidc_request::{error_detail, shown_url};
use super::token::AccessToken;
use super::{AuthError, MsiEndpoint, TokenSource};
use crate::secret::Secret;

/// IMDS API version (the one azure_identity and go-azure-sdk send).
const IMDS_API_VERSION: &str = "2018-02-01";
/// App Service identity endpoint API version (the one with `X-IDENTITY-HEADER`).
const APP_SERVICE_API_VERSION: &str = "2019-08-01";

pub(super) struct ManagedIdentitySource {
    pub(super) endpoint: MsiEndpoint,
    pub(super) client_id: Option<String>,
    /// The resource (the scope without `/.default`), e.g. `https://graph.microsoft.com`.
    pub(super) resource: String,
    pub(super) http: reqwest::Client,
}

impl fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match &self.endpoint {
            MsiEndpoint::Imds(url) | MsiEndpoint::AppService { url, .. } => url,
        };
        write!(f, "managed identity at {url} for {}", self.resource)
    }
}

impl ManagedIdentitySource {
    fn request(&self) -> (reqwest::RequestBuilder, &'static str, Url) {
        let (url, api_version, what) = match &self.endpoint {
            MsiEndpoint::Imds(url) => (
                url,
                IMDS_API_VERSION,
                "the managed identity endpoint (IMDS)",
            ),
            MsiEndpoint::AppService { url, .. } => (
                url,
                APP_SERVICE_API_VERSION,
                "the App Service identity endpoint (IDENTITY_ENDPOINT)",
            ),
        };
        let mut url = url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("api-version", api_version);
            query.append_pair("resource", &self.resource);
            if let Some(id) = &self.client_id {
                query.append_pair("client_id", id);
            }
        }
        let request = self.http.get(url.clone());
        let request = match &self.endpoint {
            MsiEndpoint::Imds(_) => request.header("Metadata", "true"),
            MsiEndpoint::AppService { header, .. } => {
                request.header("X-IDENTITY-HEADER", header.expose())
            }
        };
        (request, what, url)
    }
}

#[async_trait]
impl TokenSource for ManagedIdentitySource {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let (request, what, url) = self.request();
        let started = Instant::now();
        let response = request.send().await.map_err(|e| AuthError::Unreachable {
            what,
            url: shown_url(&url),
            message: crate::error_text::error_chain(&e),
        })?;
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let answered = |detail: String| AuthError::Answered {
            what,
            url: shown_url(&url),
            status,
            detail,
        };
        let Some(v) = json else {
            return Err(answered(format!("a non-JSON body ({} bytes)", body.len())));
        };
        if !(200..300).contains(&status) {
            return Err(answered(error_detail(&v)));
        }
        let secret = v["access_token"].as_str().filter(|t| !t.is_empty());
        let secret = secret.ok_or_else(|| answered("no access_token in its answer".into()))?;
        let lifetime = lifetime(&v)
            .ok_or_else(|| answered("neither expires_in nor expires_on in its answer".into()))?;
        Ok(AccessToken {
            secret: Secret::new(secret),
            expires_at: started + lifetime,
        })
    }
}

/// `expires_in` (seconds), else `expires_on` (Unix seconds); both arrive as strings or numbers.
fn lifetime(v: &Value) -> Option<Duration> {
    let number = |k: &str| match &v[k] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if let Some(secs) = number("expires_in") {
        return Some(Duration::from_secs(secs.max(0) as u64));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    number("expires_on").map(|on| Duration::from_secs((on - now).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_from_either_field() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let on = serde_json::json!({"expires_on": (now + 600).to_string()});
        let secs = lifetime(&on).unwrap().as_secs();
        assert!((598..=600).contains(&secs), "{secs}");
        let r#in = serde_json::json!({"expires_in": "3599", "expires_on": "1"});
        assert_eq!(lifetime(&r#in), Some(Duration::from_secs(3599)));
        assert_eq!(lifetime(&serde_json::json!({})), None);
    }
}

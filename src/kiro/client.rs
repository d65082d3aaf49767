//! The AWS JSON 1.0 transport: `POST /` with `X-Amz-Target`, SigV4-signed; request values
//! built apart from sending; retries for throttling and transient failures; `nextToken` paging.
//!
//! Logs (debug) name the operation, status, request id and attempt, never credentials, the
//! `Authorization` header or bodies (bodies may carry SCIM access tokens).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use super::credentials::AwsContext;
use super::error::{KiroError, error_chain, redact_quoted};
use super::{KiroClientConfig, KiroRequest, KiroService, ServiceNames};
use crate::retry::{Attempt, RetryPolicy, parse_retry_after, retry};

/// Upper bound for one attempt (connect + response).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// `call_paged` gives up after this many pages.
const MAX_PAGES: usize = 10_000;
const JSON_1_0: &str = "application/x-amz-json-1.0";

/// The Kiro admin API client. Cheap to clone; clones share the connection pool and the
/// credentials cache. Its `Debug` shows no credentials.
#[derive(Clone)]
pub struct KiroClient {
    inner: Arc<Inner>,
}

struct Inner {
    aws: AwsContext,
    config: KiroClientConfig,
}

impl fmt::Debug for KiroClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KiroClient")
            .field("aws", &self.inner.aws)
            .field("profiles", &self.inner.config.profiles)
            .field("identity", &self.inner.config.identity)
            .finish_non_exhaustive()
    }
}

impl KiroClient {
    /// A client for the region and endpoint of `aws`.
    pub fn new(aws: AwsContext, config: KiroClientConfig) -> Self {
        Self {
            inner: Arc::new(Inner { aws, config }),
        }
    }

    /// The AWS context (region, endpoint, credentials).
    pub fn aws(&self) -> &AwsContext {
        &self.inner.aws
    }

    /// Target prefix and signing name of `service`.
    pub fn names(&self, service: KiroService) -> &ServiceNames {
        match service {
            KiroService::Profiles => &self.inner.config.profiles,
            KiroService::Identity => &self.inner.config.identity,
        }
    }

    /// Builds the signed HTTP request for `req` with `credentials` at `time` (pure: no I/O).
    pub fn signed_request(
        &self,
        req: &KiroRequest,
        credentials: &Credentials,
        time: SystemTime,
    ) -> Result<reqwest::Request, KiroError> {
        let names = self.names(req.service);
        let target = format!("{}.{}", names.target_prefix, req.operation);
        let body = serde_json::to_vec(&req.body).map_err(|e| {
            KiroError::Config(format!("cannot encode the {} request: {e}", req.operation))
        })?;
        let url = self.inner.aws.endpoint().clone();
        let signed_headers = [
            (CONTENT_TYPE.as_str(), JSON_1_0),
            ("x-amz-target", target.as_str()),
        ];
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            signed_headers.iter().copied(),
            SignableBody::Bytes(&body),
        );
        let identity = credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.inner.aws.region())
            .name(&names.signing_name)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| KiroError::Config(format!("cannot sign {}: {e}", req.operation)))?
            .into();
        let (instructions, _signature) = signable
            .and_then(|s| sign(s, &params))
            .map_err(|e| KiroError::Config(format!("cannot sign {}: {e}", req.operation)))?
            .into_parts();
        let mut request = self
            .inner
            .config
            .http
            .post(url)
            .header(CONTENT_TYPE, JSON_1_0)
            .header("x-amz-target", &target)
            .header(USER_AGENT, &self.inner.config.user_agent)
            .timeout(ATTEMPT_TIMEOUT)
            .body(body)
            .build()
            .map_err(|e| KiroError::Config(format!("cannot build {}: {e}", req.operation)))?;
        let (headers, _params) = instructions.into_parts();
        for header in headers {
            let name = HeaderName::from_static(header.name());
            let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
                KiroError::Config(format!("invalid signature header for {}", req.operation))
            })?;
            value.set_sensitive(header.sensitive() || name == "authorization");
            request.headers_mut().insert(name, value);
        }
        Ok(request)
    }

    /// The retry policy this client was configured with.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.config.retry
    }

    /// Sends `req`, retrying throttling and transient failures per the configured
    /// [`RetryPolicy`](crate::graph::RetryPolicy); returns the body of a 2xx response.
    pub async fn send(&self, req: &KiroRequest) -> Result<Vec<u8>, KiroError> {
        let policy = &self.inner.config.retry;
        retry(policy, &req.operation, |attempt| {
            self.send_once(req, attempt)
        })
        .await
    }

    /// One signed attempt of [`Self::send`], and whether another may help.
    async fn send_once(&self, req: &KiroRequest, attempt: u32) -> Attempt<Vec<u8>, KiroError> {
        let op = req.operation.as_str();
        let credentials = match self.inner.aws.credentials().await {
            Ok(credentials) => credentials,
            Err(e) => return Attempt::Done(Err(e)),
        };
        let request = match self.signed_request(req, &credentials, SystemTime::now()) {
            Ok(request) => request,
            Err(e) => return Attempt::Done(Err(e)),
        };
        let started = Instant::now();
        let resp = match self.inner.config.http.execute(request).await {
            Ok(resp) => resp,
            Err(e) => {
                let message = error_chain(&e);
                tracing::debug!(operation = op, attempt, error = %message,
                    "kiro request failed");
                let error =
                    KiroError::Transport(format!("{op}: {message} (after {attempt} attempt(s))"));
                // A connection never made sent nothing: safe to repeat any request.
                return match e.is_connect() || req.idempotent {
                    true => Attempt::retry(error),
                    false => Attempt::Done(Err(error)),
                };
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            let value = resp.headers().get(name)?.to_str().ok()?;
            Some(value.to_string())
        };
        let request_id = header("x-amzn-requestid");
        let error_type = header("x-amzn-errortype");
        let retry_after = header(RETRY_AFTER.as_str())
            .and_then(|v| parse_retry_after(&v, OffsetDateTime::now_utc()));
        tracing::debug!(
            operation = op,
            status,
            request_id = request_id.as_deref().unwrap_or("-"),
            attempt,
            elapsed_ms,
            "kiro request"
        );
        let body = match resp.bytes().await {
            Ok(body) => body.to_vec(),
            Err(e) => {
                let error = KiroError::Transport(format!(
                    "{op}: reading the response failed: {}",
                    error_chain(&e)
                ));
                return match req.idempotent {
                    true => Attempt::retry(error),
                    false => Attempt::Done(Err(error)),
                };
            }
        };
        if (200..300).contains(&status) {
            return Attempt::Done(Ok(body));
        }
        let err = KiroError::from_response(op, status, error_type.as_deref(), request_id, &body);
        // Throttling means the request was not processed: safe to repeat even a create.
        let throttled = err.is_throttling() || status == 429;
        match err.is_retryable_service_error() && (req.idempotent || throttled) {
            true => Attempt::Retry {
                error: err,
                after: retry_after,
            },
            false => Attempt::Done(Err(err)),
        }
    }

    /// Sends `req` and decodes the response (an empty body reads as `{}`). A body that does
    /// not match `T` is a [`KiroError::Decode`] naming the operation.
    pub async fn call<T: DeserializeOwned>(&self, req: KiroRequest) -> Result<T, KiroError> {
        let body = self.send(&req).await?;
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &body
        };
        serde_json::from_slice(body)
            .map_err(|e| KiroError::decode(&req.operation, redact_quoted(&e.to_string())))
    }

    /// Calls a paged operation to the end, collecting the list member `items` of every page
    /// (absent or null = empty) and following `nextToken`. A token the service already gave
    /// is an error rather than an endless loop.
    pub async fn call_paged<T: DeserializeOwned>(
        &self,
        mut req: KiroRequest,
        items: &str,
    ) -> Result<Vec<T>, KiroError> {
        let op = req.operation.clone();
        if !req.body.is_object() {
            return Err(KiroError::Config(format!(
                "{op}: a paged request body must be a JSON object"
            )));
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut page: serde_json::Map<String, Value> = self.call(req.clone()).await?;
            match page.remove(items) {
                None | Some(Value::Null) => {}
                Some(Value::Array(list)) => {
                    for item in list {
                        let item = T::deserialize(item).map_err(|e| {
                            KiroError::decode(&op, redact_quoted(&format!("`{items}`: {e}")))
                        })?;
                        out.push(item);
                    }
                }
                Some(_) => return Err(KiroError::decode(&op, format!("`{items}` is not a list"))),
            }
            let token = match page.remove("nextToken") {
                None | Some(Value::Null) => return Ok(out),
                Some(Value::String(t)) if t.is_empty() => return Ok(out),
                Some(Value::String(t)) => t,
                Some(_) => return Err(KiroError::decode(&op, "`nextToken` is not a string")),
            };
            if !seen.insert(token.clone()) {
                return Err(KiroError::decode(
                    &op,
                    "the service repeated a nextToken it already returned (stopping paging)",
                ));
            }
            req.body["nextToken"] = Value::String(token);
        }
        Err(KiroError::decode(
            &op,
            format!("more than {MAX_PAGES} pages"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use serde_json::json;

    use super::*;
    use crate::kiro::tests::{AKID, client};

    /// 2024-01-02T03:04:05Z.
    fn fixed_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_704_164_645)
    }

    fn header(req: &reqwest::Request, name: &str) -> String {
        req.headers()[name].to_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn sigv4_headers_are_deterministic_and_complete() {
        let c = client(None);
        let creds = c.aws().credentials().await.unwrap();
        let req = KiroRequest::profiles("ListProfiles", json!({"maxResults": 10}));
        let signed = c.signed_request(&req, &creds, fixed_time()).unwrap();
        assert_eq!(signed.method(), reqwest::Method::POST);
        assert_eq!(
            signed.url().as_str(),
            "https://codewhisperer.us-east-1.amazonaws.com/"
        );
        assert_eq!(header(&signed, "content-type"), JSON_1_0);
        assert_eq!(
            header(&signed, "x-amz-target"),
            "AWSCodeWhispererService.ListProfiles"
        );
        assert_eq!(header(&signed, "x-amz-date"), "20240102T030405Z");
        assert_eq!(header(&signed, "x-amz-security-token"), "SESSIONTOKEN");
        let auth = header(&signed, "authorization");
        let prefix = format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/20240102/us-east-1/codewhisperer/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature="
        );
        assert!(auth.starts_with(&prefix), "{auth}");
        let signature = &auth[prefix.len()..];
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        let body = signed.body().and_then(|b| b.as_bytes()).unwrap();
        assert_eq!(body, br#"{"maxResults":10}"#);
        // Same input, same signature; another body, another signature.
        let again = c.signed_request(&req, &creds, fixed_time()).unwrap();
        assert_eq!(header(&again, "authorization"), auth);
        let other = KiroRequest::profiles("ListProfiles", json!({"maxResults": 11}));
        let other = c.signed_request(&other, &creds, fixed_time()).unwrap();
        assert_ne!(header(&other, "authorization"), auth);
    }

    #[tokio::test]
    async fn identity_service_signing_name_and_no_token_without_session() {
        let c = client(None);
        let creds = Credentials::new(AKID, "secret", None, None, "test");
        let req = KiroRequest::identity("CreateAssignment", json!({}));
        let signed = c.signed_request(&req, &creds, fixed_time()).unwrap();
        assert_eq!(
            header(&signed, "x-amz-target"),
            "AmazonQDeveloperService.CreateAssignment"
        );
        let auth = header(&signed, "authorization");
        assert!(
            auth.contains("/20240102/us-east-1/q/aws4_request"),
            "{auth}"
        );
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
        assert!(!signed.headers().contains_key("x-amz-security-token"));
        assert_eq!(c.names(KiroService::Identity).signing_name, "q");
    }
}

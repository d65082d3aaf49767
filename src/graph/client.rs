//! The Graph transport: request values built apart from sending, one `send` with retries.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{ACCEPT, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use url::Url;

use super::consistency::{WaitModel, wait_like_azuread, wait_until};
use super::edit_queue::EditQueues;
use super::error::GraphError;
use super::locks::ObjectLocks;
use super::shared::{SharedApplications, SharedAssignmentLists};
use super::synchronization::CallLimiter;
use super::written::WrittenApplications;
use crate::entra::{TokenSource, is_loopback};
use crate::retry::{
    Attempt, RetryPolicy, parse_retry_after, retry, retryable_status, retryable_transport,
};

/// Upper bound for one attempt (connect + response).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(100);

/// How to build a [`GraphClient`].
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// Graph root, e.g. `https://graph.microsoft.com` or `http://127.0.0.1:P/graph`;
    /// the client appends `/v1.0/`. Plain http is accepted only for loopback hosts.
    pub base_url: Url,
    /// Bearer tokens for Graph.
    pub tokens: Arc<dyn TokenSource>,
    /// The HTTP client (connection pool, TLS).
    pub http: reqwest::Client,
    /// Retries for throttling and transient failures.
    pub retry: RetryPolicy,
    /// `User-Agent` header value.
    pub user_agent: String,
}

/// Where a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A path and query relative to `/v1.0/`, already percent-encoded (see [`path_segment`]).
    Path(String),
    /// An absolute URL given by Graph (`@odata.nextLink`); must share the base URL's origin.
    Absolute(Url),
}

/// A Graph request as a value; sent by [`GraphClient::send`].
#[derive(Clone, Debug, PartialEq)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Relative path and query, or an absolute next link.
    pub target: Target,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// May the request be repeated after a transient failure (503/504, dropped connection)?
    /// True by default for everything but POST.
    pub idempotent: bool,
    /// The body carries secrets (e.g. synchronization secrets): never log it, even at trace.
    pub sensitive: bool,
    /// An advanced query (`$count`, `$search`, …): sent with `ConsistencyLevel: eventual`.
    pub advanced_query: bool,
}

impl GraphRequest {
    /// A request to `path_and_query` (relative to `/v1.0/`).
    pub fn new(method: Method, path_and_query: impl Into<String>) -> Self {
        let path = path_and_query.into().trim_start_matches('/').to_string();
        let idempotent = method != Method::POST;
        Self {
            method,
            target: Target::Path(path),
            body: None,
            idempotent,
            sensitive: false,
            advanced_query: false,
        }
    }
    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// `GET` of an absolute `@odata.nextLink`.
    pub fn next_link(url: Url) -> Self {
        Self {
            target: Target::Absolute(url),
            ..Self::get("")
        }
    }
    /// `POST path body` (not retried after transient failures unless [`Self::retry_safe`]).
    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::POST, path).with_body(body)
    }
    /// `PATCH path body`.
    pub fn patch(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::PATCH, path).with_body(body)
    }
    /// `PUT path body`.
    pub fn put(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::PUT, path).with_body(body)
    }
    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// Sets the JSON body.
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Declares whether repeating the request after a transient failure is safe.
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.idempotent = safe;
        self
    }
    /// Marks the body as secret-bearing (never logged).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Marks an advanced query, which Graph answers only with `ConsistencyLevel: eventual`
    /// (from an index that lags further behind writes than reads by id).
    pub fn advanced_query(mut self) -> Self {
        self.advanced_query = true;
        self
    }
    /// `METHOD path` for error contexts (no body).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path())
    }

    /// The path and query for logs, e.g. `/v1.0/applications/…`.
    pub fn path(&self) -> String {
        match &self.target {
            Target::Path(p) => format!("/v1.0/{p}"),
            Target::Absolute(u) => u[url::Position::BeforePath..].to_string(),
        }
    }
}

/// A successful (2xx) response.
#[derive(Clone, Debug)]
pub struct GraphResponse {
    /// HTTP status.
    pub status: u16,
    /// The `request-id` header.
    pub request_id: Option<String>,
    /// The raw body (may be empty, e.g. 204).
    pub body: Vec<u8>,
}

impl GraphResponse {
    /// Decodes the body as JSON; `context` names the operation in a decode error.
    pub fn json<T: DeserializeOwned>(&self, context: &str) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body).map_err(|e| GraphError::decode(context, e))
    }
}

/// A Microsoft Graph v1.0 client. Cheap to clone; clones share the connection pool, the token
/// cache and the per-object locks.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: Url,
    api_root: String,
    tokens: Arc<dyn TokenSource>,
    http: reqwest::Client,
    retry: RetryPolicy,
    user_agent: String,
    locks: ObjectLocks,
    applications: SharedApplications,
    assignment_lists: SharedAssignmentLists,
    on_demand: CallLimiter,
    written: WrittenApplications,
    edit_queues: EditQueues,
    wait_model: WaitModel,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("api_root", &self.inner.api_root)
            .finish()
    }
}

impl GraphClient {
    /// Builds a client. Refuses non-http(s) URLs and plain http to a non-loopback host.
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        let url = &config.base_url;
        let ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url));
        if !ok || url.cannot_be_a_base() {
            return Err(GraphError::InvalidConfig(format!(
                "Graph endpoint {url} must be https (plain http only for a loopback host)"
            )));
        }
        let api_root = format!("{}/v1.0/", url.as_str().trim_end_matches('/'));
        Ok(Self {
            inner: Arc::new(Inner {
                base_url: config.base_url,
                api_root,
                tokens: config.tokens,
                http: config.http,
                retry: config.retry,
                user_agent: config.user_agent,
                locks: ObjectLocks::default(),
                applications: SharedApplications::default(),
                assignment_lists: SharedAssignmentLists::default(),
                on_demand: CallLimiter::default(),
                written: WrittenApplications::default(),
                edit_queues: EditQueues::default(),
                wait_model: WaitModel::default(),
            }),
        })
    }

    /// This client, confirming writes the way `model` says (only before it is cloned: a
    /// clone keeps the model it was made with).
    pub fn with_wait_model(mut self, model: WaitModel) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.wait_model = model,
            None => tracing::warn!("the Graph client is shared already; keeping its wait model"),
        }
        self
    }

    /// How this client confirms writes.
    pub fn wait_model(&self) -> WaitModel {
        self.inner.wait_model
    }

    /// What this client wrote to each application.
    pub(crate) fn written(&self) -> &WrittenApplications {
        &self.inner.written
    }

    /// The edits waiting for each application's lock.
    pub(crate) fn edit_queues(&self) -> &EditQueues {
        &self.inner.edit_queues
    }

    /// Polls until `poll` yields the written object: once (fast first) with this
    /// provider's wait model, on 5 reads in a row 5 s apart with azuread's.
    pub async fn confirm_write<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        poll: F,
    ) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, GraphError>>,
    {
        match self.wait_model() {
            WaitModel::Ours => wait_until(what, timeout, poll).await,
            WaitModel::Azuread => wait_like_azuread(what, timeout, poll).await,
        }
    }

    /// The per-object locks shared by all clones of this client.
    pub fn locks(&self) -> &ObjectLocks {
        &self.inner.locks
    }

    /// The shared application reads of all clones of this client.
    pub(crate) fn shared_applications(&self) -> &SharedApplications {
        &self.inner.applications
    }

    /// The shared assignment lists (per service principal) of all clones of this client.
    pub(crate) fn shared_assignment_lists(&self) -> &SharedAssignmentLists {
        &self.inner.assignment_lists
    }

    /// The provision-on-demand rate limiter shared by all clones of this client.
    pub(crate) fn on_demand_limiter(&self) -> &CallLimiter {
        &self.inner.on_demand
    }

    /// The absolute URL a request goes to. Absolute targets must share the base origin, so a
    /// bogus next link can never receive our token.
    pub fn url_for(&self, req: &GraphRequest) -> Result<Url, GraphError> {
        match &req.target {
            Target::Path(p) => Url::parse(&format!("{}{p}", self.inner.api_root))
                .map_err(|e| GraphError::decode(req.describe(), format!("bad URL: {e}"))),
            Target::Absolute(u) if u.origin() == self.inner.base_url.origin() => Ok(u.clone()),
            Target::Absolute(u) => Err(GraphError::decode(
                "following a Graph link",
                format!("link {u} leaves the Graph endpoint {}", self.inner.base_url),
            )),
        }
    }

    /// Sends a request, retrying throttling and transient failures per the [`RetryPolicy`].
    /// Returns only 2xx responses; anything else becomes a [`GraphError`].
    pub async fn send(&self, req: &GraphRequest) -> Result<GraphResponse, GraphError> {
        let url = self.url_for(req)?;
        let what = req.describe();
        let client_request_id = uuid::Uuid::new_v4().to_string();
        if let (Some(body), false) = (&req.body, req.sensitive) {
            tracing::trace!(request = %what, %body, "graph request body");
        }
        retry(&self.inner.retry, &what, |attempt| {
            self.send_once(req, &url, &client_request_id, attempt)
        })
        .await
    }

    /// One attempt of [`Self::send`], and whether another may help.
    async fn send_once(
        &self,
        req: &GraphRequest,
        url: &Url,
        client_request_id: &str,
        attempt: u32,
    ) -> Attempt<GraphResponse, GraphError> {
        let (what, path) = (req.describe(), req.path());
        let started = Instant::now();
        let result = self.attempt(req, url, client_request_id).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let raw = match result {
            Ok(raw) => raw,
            Err(Failure::Auth(e)) => return Attempt::Done(Err(e)),
            Err(Failure::Transport {
                nothing_sent,
                message,
            }) => {
                tracing::debug!(method = %req.method, %path, attempt, elapsed_ms,
                    error = %message, "graph request failed");
                let error = GraphError::Transport(format!(
                    "{what}: {message} (after {attempt} attempt(s))"
                ));
                return match retryable_transport(nothing_sent, req.idempotent) {
                    true => Attempt::retry(error),
                    false => Attempt::Done(Err(error)),
                };
            }
        };
        tracing::debug!(method = %req.method, %path, status = raw.status,
            request_id = raw.request_id.as_deref().unwrap_or("-"), attempt, elapsed_ms,
            "graph request");
        if (200..300).contains(&raw.status) {
            if !req.sensitive {
                let body = String::from_utf8_lossy(&raw.body);
                tracing::trace!(request = %what, %body, "graph response body");
            }
            let (status, request_id, body) = (raw.status, raw.request_id, raw.body);
            return Attempt::Done(Ok(GraphResponse {
                status,
                request_id,
                body,
            }));
        }
        let error = match raw.status {
            429 => GraphError::Throttled {
                retry_after: raw.retry_after,
                attempts: attempt,
            },
            status => GraphError::from_response(status, raw.request_id, &raw.body),
        };
        match retryable_status(raw.status, req.idempotent) {
            true => Attempt::Retry {
                error,
                after: raw.retry_after,
            },
            false => Attempt::Done(Err(error)),
        }
    }

    async fn attempt(&self, req: &GraphRequest, url: &Url, crid: &str) -> Result<Raw, Failure> {
        let token = self
            .inner
            .tokens
            .token()
            .await
            .map_err(|e| Failure::Auth(e.into()))?;
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .bearer_auth(token.secret.expose())
            .header(USER_AGENT, &self.inner.user_agent)
            .header(ACCEPT, "application/json")
            .header("client-request-id", crid)
            .timeout(ATTEMPT_TIMEOUT);
        if req.advanced_query {
            builder = builder.header("ConsistencyLevel", "eventual");
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let resp = builder.send().await.map_err(Failure::transport)?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            let value = resp.headers().get(name)?.to_str().ok()?;
            Some(value.to_string())
        };
        let request_id = header("request-id");
        let retry_after = header(RETRY_AFTER.as_str())
            .and_then(|v| parse_retry_after(&v, OffsetDateTime::now_utc()));
        let body = resp.bytes().await.map_err(Failure::transport)?.to_vec();
        Ok(Raw {
            status,
            request_id,
            retry_after,
            body,
        })
    }

    /// Sends and decodes a JSON response.
    pub async fn execute<T: DeserializeOwned>(&self, req: &GraphRequest) -> Result<T, GraphError> {
        self.send(req).await?.json(&req.describe())
    }

    /// `GET path` decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GraphError> {
        self.execute(&GraphRequest::get(path)).await
    }

    /// `GET path`; a 404 is `Ok(None)`.
    pub async fn get_opt<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, GraphError> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET path` of a collection, following `@odata.nextLink` to the end.
    pub async fn list<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, GraphError> {
        super::paging::collect(self, GraphRequest::get(path)).await
    }

    /// `POST path body` decoded as `T`. Not retried after transient failures (POST is not
    /// idempotent); build a [`GraphRequest`] with [`GraphRequest::retry_safe`] to opt in.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, GraphError> {
        self.execute(&GraphRequest::post(path, to_json(path, body)?))
            .await
    }

    /// `PATCH path body` (204, any body ignored).
    pub async fn patch<B: Serialize>(&self, path: &str, body: &B) -> Result<(), GraphError> {
        self.send(&GraphRequest::patch(path, to_json(path, body)?))
            .await
            .map(drop)
    }

    /// `PUT path body` (204, any body ignored).
    pub async fn put<B: Serialize>(&self, path: &str, body: &B) -> Result<(), GraphError> {
        self.send(&GraphRequest::put(path, to_json(path, body)?))
            .await
            .map(drop)
    }

    /// `DELETE path`: `true` if deleted, `false` if it was already gone (404).
    pub async fn delete(&self, path: &str) -> Result<bool, GraphError> {
        match self.send(&GraphRequest::delete(path)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn to_json<B: Serialize>(path: &str, body: &B) -> Result<serde_json::Value, GraphError> {
    serde_json::to_value(body)
        .map_err(|e| GraphError::decode(format!("encoding body for {path}"), e))
}

struct Raw {
    status: u16,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

enum Failure {
    Auth(GraphError),
    Transport { nothing_sent: bool, message: String },
}

impl Failure {
    fn transport(err: reqwest::Error) -> Self {
        let nothing_sent = err.is_connect();
        let message = crate::error_text::error_chain(&err);
        Self::Transport {
            nothing_sent,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_values() {
        let r = GraphRequest::post("/applicationTemplates/x/instantiate", serde_json::json!({}));
        assert!(!r.idempotent && r.describe() == "POST /v1.0/applicationTemplates/x/instantiate");
        assert!(GraphRequest::patch("a", serde_json::json!({})).idempotent);
        assert!(
            GraphRequest::post("a", serde_json::json!({}))
                .retry_safe(true)
                .idempotent
        );
        let link = Url::parse("http://127.0.0.1:1/graph/v1.0/users?$skiptoken=x").unwrap();
        assert_eq!(
            GraphRequest::next_link(link).describe(),
            "GET /graph/v1.0/users?$skiptoken=x"
        );
    }
}

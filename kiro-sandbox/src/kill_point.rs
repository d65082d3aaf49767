//! Kill points: freeze the services at one chosen request, so a test can kill the client
//! (`terraform apply` and its provider) at exactly that point of its work, every run alike.
//!
//! - `POST /_sandbox/kill_point` `{operation, body_contains?, nth? (default 1), hold}` → 204
//!   arms it (replacing any other). `operation` is a prefix of the operation name the counts
//!   use (`graph.applicationTemplates.instantiate`, `kiro.CreateProfile`); `body_contains`
//!   also requires the request body to contain that text (to tell a scope's PATCH of the
//!   application from a redirect URI's); `nth` picks the nth matching request since arming.
//!   That request is carried out; then, with `hold`:
//!   - `"before_answer"`: its answer is withheld (the lost-answer case: done, never told), and
//!     every later request to a service is held;
//!   - `"after_answer"`: its answer is delivered in full, then every later request is held.
//! - `GET /_sandbox/kill_point/wait?timeout_ms=60000&held_at_least=N` answers once the
//!   services are frozen and N requests are held → 200 `{operation, method, path, hold,
//!   held}`. By default N is 0 for `before_answer` (as soon as the matched request is carried
//!   out) and 1 for `after_answer` (the client read the answer and went on); 408 `{error,
//!   state}` when `timeout_ms` passes first.
//! - `DELETE /_sandbox/kill_point` → 204 disarms: the requests held so far (of the processes
//!   just killed) end as dropped connections without being carried out, and new ones flow.
//!
//! Held requests are neither counted nor carried out; the request log shows them as
//! `fault=held`. The control API is never held.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;

use crate::fault_layer::Handled;
use crate::state::Sandbox;

/// The largest request body read to match `body_contains` (Graph's own limit is 4 MB).
const BODY_LIMIT: usize = 16 << 20;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    operation: String,
    #[serde(default)]
    body_contains: Option<String>,
    #[serde(default = "first")]
    nth: u64,
    hold: Hold,
}

fn first() -> u64 {
    1
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    BeforeAnswer,
    AfterAnswer,
}

/// The request that set the kill point off, as the wait route reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    operation: String,
    method: String,
    path: String,
    hold: Hold,
}

#[derive(Clone, Debug, Default)]
enum Phase {
    #[default]
    Off,
    Armed {
        spec: Spec,
        seen: u64,
    },
    /// The matched request is being carried out; others still flow.
    Matched,
    /// Every request to a service waits; `held` of them so far.
    Holding {
        report: Report,
        held: u64,
    },
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Off => "off",
            Phase::Armed { .. } => "armed",
            Phase::Matched => "matched",
            Phase::Holding { .. } => "holding",
        }
    }
}

/// The sandbox's one kill point; every change is announced to the waiters.
pub struct KillPoint {
    phase: watch::Sender<Phase>,
}

impl Default for KillPoint {
    fn default() -> Self {
        Self {
            phase: watch::Sender::new(Phase::Off),
        }
    }
}

/// A request to serve as usual, with `Some` when it is the matched one.
pub type Go = (Request, Option<(Hold, Report)>);

/// A request held until the kill point was cleared: answer with a dropped connection and
/// do nothing.
pub struct Held;

impl KillPoint {
    /// Decides a service request's fate; waits while the services are frozen.
    pub async fn admit(&self, op: &str, req: Request) -> Result<Go, Held> {
        let armed = match &*self.phase.borrow() {
            Phase::Off | Phase::Matched => return Ok((req, None)),
            Phase::Holding { .. } => None,
            Phase::Armed { spec, .. } => Some(spec.clone()),
        };
        let Some(spec) = armed else {
            self.phase.send_modify(|phase| {
                if let Phase::Holding { held, .. } = phase {
                    *held += 1;
                }
            });
            self.until_cleared().await;
            return Err(Held);
        };
        if !op.starts_with(&spec.operation) {
            return Ok((req, None));
        }
        let req = match &spec.body_contains {
            Some(needle) => match body_containing(req, needle).await {
                (req, true) => req,
                (req, false) => return Ok((req, None)),
            },
            None => req,
        };
        let report = Report {
            operation: op.to_string(),
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            hold: spec.hold,
        };
        let mut matched = false;
        self.phase.send_if_modified(|phase| match phase {
            Phase::Armed { spec, seen } => {
                *seen += 1;
                matched = *seen == spec.nth;
                if matched {
                    *phase = Phase::Matched;
                }
                matched
            }
            _ => false,
        });
        Ok((req, matched.then_some((spec.hold, report))))
    }

    async fn until_cleared(&self) {
        let mut rx = self.phase.subscribe();
        let _ = rx.wait_for(|p| !matches!(p, Phase::Holding { .. })).await;
    }

    fn freeze(&self, report: Report) {
        self.phase.send_if_modified(|phase| {
            let matched = matches!(phase, Phase::Matched);
            if matched {
                *phase = Phase::Holding { report, held: 0 };
            }
            matched
        });
    }

    fn arm(&self, spec: Spec) {
        self.phase.send_replace(Phase::Armed { spec, seen: 0 });
    }

    fn clear(&self) {
        self.phase.send_replace(Phase::Off);
    }
}

/// The request with its body read back in, and whether the body contains `needle`.
async fn body_containing(req: Request, needle: &str) -> (Request, bool) {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let found = String::from_utf8_lossy(&bytes).contains(needle);
    (Request::from_parts(parts, Body::from(bytes)), found)
}

/// The matched request's response, handled per `hold`: withheld (the services frozen at
/// once), or delivered with the services frozen once its body has been sent.
pub async fn answer(sb: Arc<Sandbox>, (hold, report): (Hold, Report), resp: Response) -> Response {
    match hold {
        Hold::BeforeAnswer => {
            let (mut parts, _answer) = resp.into_parts();
            sb.kill_point.freeze(report);
            sb.kill_point.until_cleared().await;
            if let Some(handled) = parts.extensions.get_mut::<Handled>() {
                handled.fault = Some("answer_withheld");
            }
            let (dropped, body) = crate::faults::dropped_response().into_parts();
            parts.status = dropped.status;
            parts.headers = dropped.headers;
            Response::from_parts(parts, body)
        }
        Hold::AfterAnswer if resp.body().size_hint().exact() == Some(0) => {
            // No body to wait for (a 204): the answer is out once its head is.
            sb.kill_point.freeze(report);
            resp
        }
        Hold::AfterAnswer => {
            let (parts, body) = resp.into_parts();
            let mut report = Some(report);
            let frozen_at_end = futures::stream::poll_fn(move |_| {
                if let Some(report) = report.take() {
                    sb.kill_point.freeze(report);
                }
                Poll::<Option<Result<Bytes, axum::Error>>>::Ready(None)
            });
            let body = Body::from_stream(body.into_data_stream().chain(frozen_at_end));
            Response::from_parts(parts, body)
        }
    }
}

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/kill_point", post(arm).delete(clear))
        .route("/_sandbox/kill_point/wait", get(wait))
}

async fn arm(State(sb): State<Arc<Sandbox>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Spec>(&body) {
        Ok(spec) if spec.nth >= 1 && !spec.operation.is_empty() => {
            sb.kill_point.arm(spec);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(_) => bad_request("operation must not be empty and nth must be at least 1".into()),
        Err(e) => bad_request(format!("invalid kill point: {e}")),
    }
}

fn bad_request(error: String) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))).into_response()
}

async fn clear(State(sb): State<Arc<Sandbox>>) -> Response {
    sb.kill_point.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct WaitQuery {
    timeout_ms: Option<u64>,
    held_at_least: Option<u64>,
}

/// Frozen, with as many requests held as asked (by default none for `before_answer`, one
/// for `after_answer`: the sign that the client read the answer).
fn frozen(phase: &Phase, held_at_least: Option<u64>) -> bool {
    let Phase::Holding { report, held } = phase else {
        return false;
    };
    let by_default = u64::from(report.hold == Hold::AfterAnswer);
    *held >= held_at_least.unwrap_or(by_default)
}

async fn wait(State(sb): State<Arc<Sandbox>>, Query(q): Query<WaitQuery>) -> Response {
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(60_000));
    let mut rx = sb.kill_point.phase.subscribe();
    let signalled = rx.wait_for(|p| frozen(p, q.held_at_least));
    if let Ok(Ok(phase)) = tokio::time::timeout(timeout, signalled).await
        && let Phase::Holding { report, held } = &*phase
    {
        let mut body = serde_json::to_value(report).unwrap_or_default();
        body["held"] = json!(held);
        return axum::Json(body).into_response();
    }
    let state = sb.kill_point.phase.borrow().name();
    let error = format!("the kill point did not freeze the services within {timeout:?}");
    let body = json!({"error": error, "state": state});
    (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}

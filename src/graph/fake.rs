//! A recording fake of Microsoft Graph for unit tests. It stores objects by path, merges
//! PATCHes the way Graph does (objects merge, everything else replaces), refuses to change or
//! drop an enabled scope, can serve the previous version of an object for a few reads after
//! each write (replication lag), and answers scripted responses for anything else.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::GraphClient;
use super::testing::{client, serve};

/// One request the fake received.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// `GET`, `PATCH`, …
    pub method: String,
    /// Path and query after `/graph/v1.0/`, as sent (still percent-encoded).
    pub target: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The `ConsistencyLevel` header (advanced queries), if sent.
    pub consistency_level: Option<String>,
}

impl Seen {
    /// `METHOD target` for comparisons.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

#[derive(Default)]
struct FakeState {
    seen: Vec<Seen>,
    objects: HashMap<String, Value>,
    stale_reads: usize,
    /// Per object: the version before the last write, and how many reads still get it.
    lagging: HashMap<String, (Value, usize)>,
    /// `METHOD target` → answers in order; the last one repeats.
    scripts: HashMap<String, VecDeque<(u16, Value)>>,
}

/// The fake and its base URL.
#[derive(Clone)]
pub struct FakeGraph {
    /// `http://127.0.0.1:P`.
    pub base: String,
    state: Arc<Mutex<FakeState>>,
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared = state.clone();
        let base = serve(move |_| axum::Router::new().fallback(handle).with_state(shared)).await;
        Self { base, state }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    /// A client of this fake.
    pub fn client(&self) -> GraphClient {
        client(&self.base)
    }

    /// Stores `object` at `path` (e.g. `applications/obj-1`).
    pub fn put_object(&self, path: &str, object: Value) {
        self.state().objects.insert(path.to_string(), object);
    }

    /// The object stored at `path`, as written.
    pub fn object(&self, path: &str) -> Option<Value> {
        self.state().objects.get(path).cloned()
    }

    /// After each write, the previous version is what the next `n` reads get.
    pub fn stale_reads(&self, n: usize) {
        self.state().stale_reads = n;
    }

    /// Answers `METHOD target` with `answers` in order; the last one repeats.
    pub fn script(&self, method: &str, target: &str, answers: Vec<(u16, Value)>) {
        let key = format!("{method} {target}");
        self.state().scripts.insert(key, answers.into());
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// `METHOD target` of every request so far.
    pub fn lines(&self) -> Vec<String> {
        self.seen().iter().map(Seen::line).collect()
    }

    /// Every request but GETs.
    pub fn writes(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method != "GET")
            .collect()
    }
}

/// Graph's 404 body.
pub fn not_found() -> (u16, Value) {
    (
        404,
        json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist or one of its queried reference-property objects are not present.", "innerError": {"request-id": "rid-404"}}}),
    )
}

/// A 400 with Graph's generic code and `message`.
pub fn bad_request(message: &str) -> (u16, Value) {
    (
        400,
        json!({"error": {"code": "Request_BadRequest", "message": message}}),
    )
}

fn reply((status, body): (u16, Value)) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    if body.is_null() {
        status.into_response()
    } else {
        (status, axum::Json(body)).into_response()
    }
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let full = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
    let target = full
        .strip_prefix("/graph/v1.0/")
        .unwrap_or(full)
        .to_string();
    let body = (!body.is_empty()).then(|| serde_json::from_slice::<Value>(&body).unwrap());
    let mut st = state.lock().unwrap();
    st.seen.push(Seen {
        method: method.to_string(),
        target: target.clone(),
        body: body.clone(),
        consistency_level: (headers.get("ConsistencyLevel"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    if let Some(answers) = st.scripts.get_mut(&format!("{method} {target}")) {
        let answer = if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers[0].clone()
        };
        return reply(answer);
    }
    let path = target.split('?').next().unwrap_or_default().to_string();
    let Some(current) = st.objects.get(&path).cloned() else {
        return reply(not_found());
    };
    match method.as_str() {
        "GET" => {
            if let Some((old, left)) = st.lagging.get_mut(&path)
                && *left > 0
            {
                *left -= 1;
                return reply((200, old.clone()));
            }
            reply((200, current))
        }
        "PATCH" => {
            let patch = body.unwrap_or_default();
            if let Some(refusal) = enabled_scope_change(&current, &patch) {
                return reply(refusal);
            }
            let mut merged = current.clone();
            merge(&mut merged, &patch);
            let stale = st.stale_reads;
            st.lagging.insert(path.clone(), (current, stale));
            st.objects.insert(path, merged);
            reply((204, Value::Null))
        }
        "DELETE" => {
            st.objects.remove(&path);
            reply((204, Value::Null))
        }
        _ => reply(bad_request("unexpected method")),
    }
}

/// Graph's rule: an enabled scope must be kept by a scope-list PATCH, unchanged but for
/// being disabled.
fn enabled_scope_change(current: &Value, patch: &Value) -> Option<(u16, Value)> {
    let new = patch.pointer("/api/oauth2PermissionScopes")?.as_array()?;
    let old = current.pointer("/api/oauth2PermissionScopes")?.as_array()?;
    let disabled = |s: &Value| {
        let mut s = s.clone();
        s["isEnabled"] = json!(false);
        s
    };
    let changed = old
        .iter()
        .filter(|s| s["isEnabled"] == true)
        .any(|s| !new.iter().any(|n| n == s || *n == disabled(s)));
    changed.then(|| {
        (
            400,
            json!({"error": {"code": "CannotDeleteOrUpdateEnabledEntitlement", "message": "Permission (scope or role) cannot be deleted or updated unless disabled first."}}),
        )
    })
}

fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(into), Value::Object(patch)) => {
            for (k, v) in patch {
                merge(into.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (into, patch) => *into = patch.clone(),
    }
}

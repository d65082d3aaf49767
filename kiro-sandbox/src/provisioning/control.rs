//! Control routes of provisioning (documented in `control.rs`): run a cycle now, the portal's
//! edit of a mapping, and the jobs as `objects` lists them.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::{Value, json};

use crate::graph::sync::{configured, schema};
use crate::state::{Sandbox, Tenant};

fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

/// The 404 of a control path whose tenant the sandbox does not have.
fn unknown_tenant(key: &str) -> Response {
    fail(StatusCode::NOT_FOUND, format!("unknown tenant '{key}'"))
}

/// The 404 of a service principal without a synchronization job.
fn no_job(sp: &str) -> Response {
    fail(
        StatusCode::NOT_FOUND,
        format!("service principal '{sp}' has no synchronization job"),
    )
}

fn parse(bytes: &[u8]) -> Result<Value, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(fail(
            StatusCode::BAD_REQUEST,
            format!("invalid JSON body: {e}"),
        ))
    })
}

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/tenants/{tenant}/provisioning/run", post(run))
        .route(
            "/_sandbox/tenants/{tenant}/service_principals/{sp}/synchronization/schema",
            patch(edit_schema),
        )
        .route(
            "/_sandbox/tenants/{tenant}/service_principals/{sp}/synchronization/job",
            delete(delete_job).patch(set_job_status),
        )
        .route(
            "/_sandbox/tenants/{tenant}/service_principals/{sp}/synchronization/secret_token",
            get(secret_token),
        )
}

/// The portal's "delete provisioning": the job goes (its secrets stay, as in Entra).
async fn delete_job(
    State(sb): State<Arc<Sandbox>>,
    Path((key, sp)): Path<(String, String)>,
) -> Response {
    let Some(tenant) = sb.tenant(&key).await else {
        return unknown_tenant(&key);
    };
    let mut t = tenant.lock().await;
    match t
        .sync
        .get_mut(&sp.to_ascii_lowercase())
        .and_then(|s| s.job.take())
    {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => no_job(&sp),
    }
}

/// What Entra records about the job's cycles, set as given: `{"quarantine": {…} | null,
/// "lastExecution": {…} | null}` (members left out are unchanged). Puts a job in quarantine,
/// or makes its last cycle a failure, without breaking what caused it.
async fn set_job_status(
    State(sb): State<Arc<Sandbox>>,
    Path((key, sp)): Path<(String, String)>,
    bytes: Bytes,
) -> Response {
    let body = match parse(&bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(tenant) = sb.tenant(&key).await else {
        return unknown_tenant(&key);
    };
    let mut t = tenant.lock().await;
    let Some(s) = t.sync.get_mut(&sp.to_ascii_lowercase()) else {
        return no_job(&sp);
    };
    let configured = configured(s);
    let Some(job) = s.job.as_mut() else {
        return no_job(&sp);
    };
    let given = |v: &Value| (!v.is_null()).then(|| v.clone());
    if let Some(q) = body.get("quarantine") {
        job.quarantine = given(q);
    }
    if let Some(e) = body.get("lastExecution") {
        job.last_execution = given(e);
    }
    axum::Json(job.json(configured)).into_response()
}

/// The saved `SecretToken` unmasked: a seam for tests that check a secret never shows up
/// in Terraform's state, plans or logs. Graph itself never returns it.
async fn secret_token(
    State(sb): State<Arc<Sandbox>>,
    Path((key, sp)): Path<(String, String)>,
) -> Response {
    let Some(tenant) = sb.tenant(&key).await else {
        return unknown_tenant(&key);
    };
    let t = tenant.lock().await;
    match t
        .sync
        .get(&sp.to_ascii_lowercase())
        .and_then(|s| s.secret("SecretToken"))
    {
        Some(token) => axum::Json(json!({"value": token})).into_response(),
        None => fail(
            StatusCode::NOT_FOUND,
            format!("service principal '{sp}' has no saved SecretToken"),
        ),
    }
}

/// Every job of the tenant with its secrets (masked) and status, for `objects`.
pub fn jobs_json(t: &Tenant) -> Vec<Value> {
    let mut jobs: Vec<Value> = t
        .sync
        .iter()
        .filter_map(|(sp, s)| {
            let job = s.job.as_ref()?;
            Some(json!({
                "service_principal_id": sp,
                "job": job.json(configured(s)),
                "secrets": s.masked_secrets(),
                "entry_errors": job.entry_errors,
                "schema": job.schema,
            }))
        })
        .collect();
    jobs.sort_by(|a, b| {
        a["service_principal_id"]
            .as_str()
            .cmp(&b["service_principal_id"].as_str())
    });
    jobs
}

async fn run(State(sb): State<Arc<Sandbox>>, Path(key): Path<String>, bytes: Bytes) -> Response {
    let body = match parse(&bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(sp) = body["service_principal_id"].as_str() else {
        return fail(
            StatusCode::BAD_REQUEST,
            "body must be {\"service_principal_id\": \"…\"}",
        );
    };
    let Some(tenant) = sb.tenant(&key).await else {
        return unknown_tenant(&key);
    };
    match super::run_cycle(tenant, sp.to_ascii_lowercase()).await {
        Ok(summary) => axum::Json(summary).into_response(),
        Err(e) => fail(StatusCode::CONFLICT, e),
    }
}

/// `{"rule","target","source"}` (source `"[attr]"` or null to delete the mapping), or
/// `{"schema": {…}}` replacing the whole schema without checks.
async fn edit_schema(
    State(sb): State<Arc<Sandbox>>,
    Path((key, sp)): Path<(String, String)>,
    bytes: Bytes,
) -> Response {
    let body = match parse(&bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(tenant) = sb.tenant(&key).await else {
        return unknown_tenant(&key);
    };
    let mut t = tenant.lock().await;
    let sp = sp.to_ascii_lowercase();
    let Some(job) = t.sync.get_mut(&sp).and_then(|s| s.job.as_mut()) else {
        return no_job(&sp);
    };
    if let Some(whole) = body.get("schema") {
        let mut whole = whole.clone();
        whole["id"] = json!(job.id);
        job.schema = whole;
        return axum::Json(job.schema.clone()).into_response();
    }
    let (Some(rule), Some(target)) = (body["rule"].as_str(), body["target"].as_str()) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "body must be {\"rule\", \"target\", \"source\"} or {\"schema\": {…}}",
        );
    };
    match schema::edit_mapping(&mut job.schema, rule, target, body["source"].as_str()) {
        Ok(()) => axum::Json(job.schema.clone()).into_response(),
        Err(e) => fail(StatusCode::BAD_REQUEST, e),
    }
}

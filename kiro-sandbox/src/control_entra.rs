//! Control API routes for Entra's people and assignments, and replication and settings
//! switches (documented in the module comment of `control.rs`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Answer, Sb, body, fail, tenant};
use crate::graph::assignments::{self, Writer};
use crate::seed::{Group, User};
use crate::state::{Sandbox, SettingsPatch, Tenant};

/// At most this many users are made by one `member_count`.
const MAX_MEMBER_COUNT: usize = 10_000;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/replication/flush", post(flush))
        .route("/_sandbox/settings", get(get_settings).put(put_settings))
        .route("/_sandbox/tenants/{tenant}/users", post(create_user))
        .route("/_sandbox/tenants/{tenant}/users/{id}", delete(delete_user))
        .route("/_sandbox/tenants/{tenant}/groups", post(create_group))
        .route(
            "/_sandbox/tenants/{tenant}/groups/{id}",
            delete(delete_group),
        )
        .route(
            "/_sandbox/tenants/{tenant}/assignments",
            post(create_assignment),
        )
        .route(
            "/_sandbox/tenants/{tenant}/assignments/{id}",
            delete(delete_assignment),
        )
}

/// A group as the control API shows it: Graph's fields plus its direct `members` (ids).
pub fn group_json(g: &Group) -> Value {
    let mut v = json!(g);
    v["members"] = json!(g.members);
    v
}

async fn flush(State(sb): Sb) -> Response {
    sb.flush_replication().await;
    StatusCode::NO_CONTENT.into_response()
}

async fn get_settings(State(sb): Sb) -> Response {
    axum::Json(sb.settings()).into_response()
}

async fn put_settings(State(sb): Sb, bytes: Bytes) -> Answer {
    let patch: SettingsPatch = body(&bytes)?;
    let settings = sb
        .update_settings(&patch)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, e))?;
    Ok(axum::Json(settings).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewUser {
    display_name: String,
    /// Graph's `department` (none when left out).
    #[serde(default)]
    department: Option<String>,
}

fn display_name(name: &str) -> Result<&str, super::Fail> {
    let name = name.trim();
    if name.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "displayName must not be empty",
        ));
    }
    Ok(name)
}

/// Adds a user the way an admin would: Graph reads see it after the replication lag.
fn add_user(t: &mut Tenant, name: &str, department: Option<String>, visible_at: Instant) -> User {
    let id = t.new_guid();
    let dir = &t.directory;
    let user = User {
        department,
        ..User::named(
            id,
            name,
            t.domain(),
            |upn| dir.user(upn).is_some(),
            visible_at,
        )
    };
    t.directory.users.push(user.clone());
    user
}

async fn create_user(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: NewUser = body(&bytes)?;
    let name = display_name(&req.display_name)?;
    let visible_at = Instant::now() + sb.faults.replication_lag();
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    let department = req.department.filter(|d| !d.trim().is_empty());
    let user = add_user(&mut t, name, department, visible_at);
    Ok((StatusCode::CREATED, axum::Json(json!(user))).into_response())
}

async fn delete_user(State(sb): Sb, Path((key, id)): Path<(String, String)>) -> Answer {
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    if !t.directory.remove_user(&id) {
        return Err(fail(StatusCode::NOT_FOUND, format!("unknown user '{id}'")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    member_count: usize,
}

async fn create_group(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: NewGroup = body(&bytes)?;
    let name = display_name(&req.display_name)?;
    if req.member_count > MAX_MEMBER_COUNT {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            format!("member_count must be at most {MAX_MEMBER_COUNT}"),
        ));
    }
    let visible_at = Instant::now() + sb.faults.replication_lag();
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    let mut members = Vec::new();
    for m in &req.members {
        let p = t.directory.principal(m).ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                format!("member '{m}' is not a user or group of the tenant"),
            )
        })?;
        if !members.contains(&p.id) {
            members.push(p.id);
        }
    }
    for i in 1..=req.member_count {
        let user = add_user(&mut t, &format!("{name} Member {i}"), None, visible_at);
        members.push(user.id);
    }
    let id = t.new_guid();
    let group = Group::security(id, name, "", members, visible_at);
    t.directory.groups.push(group.clone());
    Ok((StatusCode::CREATED, axum::Json(group_json(&group))).into_response())
}

async fn delete_group(State(sb): Sb, Path((key, id)): Path<(String, String)>) -> Answer {
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    if !t.directory.remove_group(&id) {
        return Err(fail(StatusCode::NOT_FOUND, format!("unknown group '{id}'")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An assignment made in the portal: Graph's rules, but no lag either way.
async fn create_assignment(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: Map<String, Value> = body(&bytes)?;
    let sp_id = req
        .get("resourceId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    let obj = assignments::create(&mut t, &sp_id, &req, Writer::Portal)
        .map_err(|e| fail(e.status, e.message))?;
    Ok((StatusCode::CREATED, axum::Json(Value::Object(obj))).into_response())
}

/// An out-of-band removal (e.g. an admin unassigning in the portal).
async fn delete_assignment(State(sb): Sb, Path((key, id)): Path<(String, String)>) -> Answer {
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    t.directory
        .assignments
        .remove(&id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("unknown assignment '{id}'")))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

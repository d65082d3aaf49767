//! `/users` and `/groups` (read-only, as the provider looks principals up) and
//! `/groups/{id}/members` (direct members only), honouring replication lag.

use std::time::Instant;

use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::{GraphError, GraphResult};
use super::query::{FilterSpec, ListQuery};
use super::{Req, entity};
use crate::seed::{Group, User};
use crate::state::Tenant;

pub const USER_FILTER: FilterSpec = FilterSpec {
    resource: "User",
    eq: &[
        "userPrincipalName",
        "displayName",
        "id",
        "mail",
        "mailNickname",
        "givenName",
        "surname",
        "userType",
        "department",
    ],
    starts_with: &[
        "displayName",
        "userPrincipalName",
        "mail",
        "givenName",
        "surname",
    ],
    ends_with: &["mail", "userPrincipalName"],
    any_eq: &[],
};

pub const GROUP_FILTER: FilterSpec = FilterSpec {
    resource: "Group",
    eq: &["displayName", "id", "mailNickname"],
    starts_with: &["displayName", "mailNickname"],
    ends_with: &[],
    any_eq: &["groupTypes"],
};

const USER_TYPE: &str = "#microsoft.graph.user";
const GROUP_TYPE: &str = "#microsoft.graph.group";

fn to_object(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The object with its `@odata.type` first, as Graph types members of a directory-object list.
fn typed(odata_type: &str, obj: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.type".into(), Value::String(odata_type.into()));
    out.extend(obj);
    out
}

fn visible_user<'a>(tenant: &'a Tenant, key: &str, now: Instant) -> GraphResult<&'a User> {
    tenant
        .directory
        .user(key)
        .filter(|u| u.visible_at <= now)
        .ok_or_else(|| GraphError::not_found(key))
}

fn visible_group<'a>(tenant: &'a Tenant, id: &str, now: Instant) -> GraphResult<&'a Group> {
    tenant
        .directory
        .group(id)
        .filter(|g| g.visible_at <= now)
        .ok_or_else(|| GraphError::not_found(id))
}

pub fn get_user(tenant: &mut Tenant, key: &str, req: &Req<'_>) -> GraphResult<Response> {
    let user = visible_user(tenant, key, Instant::now())?;
    entity(req, "users", &to_object(user))
}

/// `GET /directoryObjects/{id}`: a user or a group, with its `@odata.type`.
pub fn get_directory_object(tenant: &mut Tenant, id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let now = Instant::now();
    let dir = &tenant.directory;
    let object = match dir.users.iter().find(|u| u.id.eq_ignore_ascii_case(id)) {
        Some(u) if u.visible_at <= now => typed(USER_TYPE, to_object(u)),
        Some(_) => return Err(GraphError::not_found(id)),
        None => {
            let group = visible_group(tenant, id, now)?;
            typed(GROUP_TYPE, to_object(group))
        }
    };
    entity(req, "directoryObjects", &object)
}

pub fn list_users(tenant: &mut Tenant, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &USER_FILTER)?;
    let now = Instant::now();
    let items = tenant
        .directory
        .users
        .iter()
        .filter(|u| u.visible_at <= now)
        .map(to_object)
        .filter(|o| q.matches(o))
        .collect();
    let page_size = req.sandbox.settings().page_size;
    Ok(q.page_of(page_size, req.ctx, "users", "users", items))
}

pub fn get_group(tenant: &mut Tenant, id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let group = visible_group(tenant, id, Instant::now())?;
    entity(req, "groups", &to_object(group))
}

pub fn list_groups(tenant: &mut Tenant, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &GROUP_FILTER)?;
    let now = Instant::now();
    let items = tenant
        .directory
        .groups
        .iter()
        .filter(|g| g.visible_at <= now)
        .map(to_object)
        .filter(|o| q.matches(o))
        .collect();
    let page_size = req.sandbox.settings().page_size;
    Ok(q.page_of(page_size, req.ctx, "groups", "groups", items))
}

/// Which of a group's direct members a listing shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    /// `…/members`: users and groups.
    All,
    /// `…/members/microsoft.graph.user`: the OData cast to users.
    UsersOnly,
}

/// Direct members only: a nested group is listed as a group, not expanded.
pub fn list_members(
    tenant: &mut Tenant,
    id: &str,
    which: Members,
    req: &Req<'_>,
) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &USER_FILTER)?;
    let now = Instant::now();
    let group = visible_group(tenant, id, now)?;
    let dir = &tenant.directory;
    let items = group
        .members
        .iter()
        .filter_map(|m| {
            if let Some(u) = dir.users.iter().find(|u| u.id.eq_ignore_ascii_case(m)) {
                return (u.visible_at <= now).then(|| typed(USER_TYPE, to_object(u)));
            }
            dir.group(m)
                .filter(|g| which == Members::All && g.visible_at <= now)
                .map(|g| typed(GROUP_TYPE, to_object(g)))
        })
        .filter(|o| q.matches(o))
        .collect();
    let page_size = req.sandbox.settings().page_size;
    let (path, context_set) = match which {
        Members::All => (format!("groups/{}/members", group.id), "directoryObjects"),
        Members::UsersOnly => (
            format!("groups/{}/members/microsoft.graph.user", group.id),
            "users",
        ),
    };
    Ok(q.page_of(page_size, req.ctx, &path, context_set, items))
}

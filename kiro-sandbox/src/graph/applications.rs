//! `/applications`: get, list, patch and delete, honouring replication lag.

use std::time::Instant;

use axum::response::Response;
use serde_json::Value;

use super::errors::{GraphError, GraphResult};
use super::query::{FilterSpec, ListQuery};
use super::route::Key;
use super::uris::normalize_uri;
use super::validate::{Rules, check_application_patch};
use super::{Req, entity, no_content};
use crate::directory::{merge, readable};
use crate::state::{Tenant, now_rfc3339};

pub const FILTER: FilterSpec = FilterSpec {
    resource: "Application",
    eq: &[
        "displayName",
        "appId",
        "id",
        "publisherDomain",
        "signInAudience",
    ],
    starts_with: &["displayName"],
    ends_with: &[],
    any_eq: &["identifierUris", "tags"],
};

/// The lower-case object id of a visible application, or Graph's 404.
fn resolve(tenant: &Tenant, key: &Key) -> GraphResult<String> {
    let dir = &tenant.directory;
    let found = match key {
        Key::Id(id) => dir.applications.get(id),
        Key::AppId(app_id) => dir.application_by_app_id(app_id),
    };
    match found {
        Some(s) if s.is_visible(Instant::now()) => Ok(s.str("id").to_ascii_lowercase()),
        _ => Err(GraphError::not_found(key.as_str())),
    }
}

pub fn get(tenant: &mut Tenant, key: &Key, req: &Req<'_>) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    let app = &tenant.directory.applications[&id];
    let seen = app.read(Instant::now()).unwrap_or(&app.obj);
    entity(req, "applications", seen)
}

pub fn list(tenant: &mut Tenant, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &FILTER)?;
    let now = Instant::now();
    let items = readable(&tenant.directory.applications, now)
        .into_iter()
        .filter(|obj| q.matches(obj))
        .cloned()
        .collect();
    Ok(q.page(req.ctx, "applications", "applications", items))
}

/// Validates the PATCH against the newest version (the writer's view) and stores the result;
/// other reads see it only after the replication lag.
pub fn patch(tenant: &mut Tenant, key: &Key, req: &Req<'_>) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    let patch = req.json_object()?;
    let current = tenant.directory.applications[&id].obj.clone();
    let mut merged = current.clone();
    merge(&mut merged, &patch);
    let app_id = current.get("appId").and_then(Value::as_str).unwrap_or("");
    let other_uris = tenant
        .directory
        .applications
        .iter()
        .filter(|(k, _)| **k != id)
        .filter_map(|(_, s)| s.obj.get("identifierUris").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(normalize_uri)
        .collect();
    let rules = Rules {
        tenant_id: &tenant.id,
        domains: &tenant.domains,
        app_id,
        other_uris,
    };
    check_application_patch(&current, &patch, &mut merged, &rules)?;
    if let Some(stored) = tenant.directory.applications.get_mut(&id) {
        stored.update(merged, req.lag);
    }
    tenant.directory.sync_service_principal(&id, req.lag);
    Ok(no_content())
}

pub fn delete(tenant: &mut Tenant, key: &Key) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    tenant.directory.delete_application(&id, &now_rfc3339());
    Ok(no_content())
}

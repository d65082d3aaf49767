//! `/directory/deletedItems`: soft-deleted applications (get, list, purge, restore).

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value};

use super::errors::{GraphError, GraphResult};
use super::query::ListQuery;
use super::{Req, entity, no_content};
use crate::directory::in_order;
use crate::state::Tenant;

fn typed(obj: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "@odata.type".into(),
        Value::String("#microsoft.graph.application".into()),
    );
    out.extend(obj.clone());
    out
}

pub fn list(tenant: &mut Tenant, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &super::applications::FILTER)?;
    let items = in_order(&tenant.directory.deleted)
        .into_iter()
        .filter(|s| q.matches(&s.obj))
        .map(|s| typed(&s.obj))
        .collect();
    Ok(q.page(
        req.ctx,
        "directory/deletedItems/microsoft.graph.application",
        "directory/deletedItems/microsoft.graph.application",
        items,
    ))
}

pub fn get(tenant: &mut Tenant, id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let stored = tenant
        .directory
        .deleted
        .get(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    entity(req, "directoryObjects", &typed(&stored.obj))
}

/// Permanently deletes the item.
pub fn purge(tenant: &mut Tenant, id: &str) -> GraphResult<Response> {
    tenant
        .directory
        .deleted
        .remove(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok(no_content())
}

/// Brings the application back (its service principal is not restored, as in Entra).
pub fn restore(tenant: &mut Tenant, id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let mut stored = tenant
        .directory
        .deleted
        .remove(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    stored.obj.insert("deletedDateTime".into(), Value::Null);
    let obj = stored.obj.clone();
    tenant
        .directory
        .insert_application(stored.obj, Duration::ZERO);
    entity(req, "directoryObjects", &typed(&obj))
}

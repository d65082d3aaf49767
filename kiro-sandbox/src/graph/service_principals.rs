//! `/servicePrincipals`: get, list, patch and delete, honouring replication lag.

use std::time::Instant;

use axum::response::Response;

use super::errors::{GraphError, GraphResult};
use super::query::{FilterSpec, ListQuery};
use super::route::Key;
use super::{Req, entity, no_content};
use crate::directory::{merge, readable};
use crate::state::Tenant;

pub const FILTER: FilterSpec = FilterSpec {
    resource: "ServicePrincipal",
    eq: &[
        "appId",
        "displayName",
        "id",
        "servicePrincipalType",
        "appOwnerOrganizationId",
    ],
    starts_with: &["displayName"],
    ends_with: &[],
    any_eq: &["tags", "servicePrincipalNames"],
};

fn resolve(tenant: &Tenant, key: &Key) -> GraphResult<String> {
    let dir = &tenant.directory;
    let found = match key {
        Key::Id(id) => dir.service_principals.get(id),
        Key::AppId(app_id) => dir
            .service_principal_id_for(app_id)
            .and_then(|id| dir.service_principals.get(&id)),
    };
    match found {
        Some(s) if s.is_visible(Instant::now()) => Ok(s.str("id").to_ascii_lowercase()),
        _ => Err(GraphError::not_found(key.as_str())),
    }
}

pub fn get(tenant: &mut Tenant, key: &Key, req: &Req<'_>) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    let sp = &tenant.directory.service_principals[&id];
    entity(
        req,
        "servicePrincipals",
        sp.read(Instant::now()).unwrap_or(&sp.obj),
    )
}

pub fn list(tenant: &mut Tenant, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &FILTER)?;
    let now = Instant::now();
    let items = readable(&tenant.directory.service_principals, now)
        .into_iter()
        .filter(|obj| q.matches(obj))
        .cloned()
        .collect();
    Ok(q.page(req.ctx, "servicePrincipals", "servicePrincipals", items))
}

/// Properties a PATCH may not set (Graph answers 400).
const READ_ONLY: [&str; 5] = [
    "id",
    "appId",
    "appDisplayName",
    "servicePrincipalType",
    "deletedDateTime",
];

/// Merges a PATCH (e.g. the enterprise application's `displayName`) into the newest version;
/// reads see it after the replication lag.
pub fn patch(tenant: &mut Tenant, key: &Key, req: &Req<'_>) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    let patch = req.json_object()?;
    if let Some(key) = patch.keys().find(|k| READ_ONLY.contains(&k.as_str())) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Property '{key}' is read-only and cannot be set."),
        ));
    }
    if let Some(name) = patch.get("displayName")
        && name.as_str().is_none_or(|n| n.trim().is_empty())
    {
        return Err(GraphError::invalid_value("displayName", "ServicePrincipal"));
    }
    if let Some(stored) = tenant.directory.service_principals.get_mut(&id) {
        let mut next = stored.obj.clone();
        merge(&mut next, &patch);
        stored.update(next, req.lag);
    }
    Ok(no_content())
}

/// Deletes the service principal and its app role assignments; its application stays.
pub fn delete(tenant: &mut Tenant, key: &Key) -> GraphResult<Response> {
    let id = resolve(tenant, key)?;
    tenant.directory.remove_service_principal(&id);
    Ok(no_content())
}

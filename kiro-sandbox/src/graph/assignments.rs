//! `/servicePrincipals/{spId}/appRoleAssignedTo`: assigning users and groups to an
//! enterprise application's app roles, with Graph's rules and replication lag.
//!
//! [`create`] holds the rules; the control API's raw ("portal") create uses it too, seeing
//! every object regardless of lag and making the assignment visible at once.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json as json_value};

use super::errors::{GraphError, GraphResult};
use super::query::{FilterSpec, ListQuery};
use super::{Req, entity, json, no_content};
use crate::directory::{Stored, readable};
use crate::state::{Tenant, now_rfc3339};

pub type Object = Map<String, Value>;

pub const FILTER: FilterSpec = FilterSpec {
    resource: "AppRoleAssignment",
    eq: &["principalId", "appRoleId", "principalType"],
    starts_with: &[],
    ends_with: &[],
    any_eq: &[],
};

/// The default access role: assigns the principal without a specific app role.
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

const RESOURCE: &str = "AppRoleAssignment";

/// Who is creating the assignment, which decides what it can see and when others see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Writer {
    /// A Graph client: objects inside their replication lag are not there yet, and the new
    /// assignment reaches reads after `lag`.
    Graph { lag: Duration },
    /// The portal (control API): sees everything, and the assignment is visible at once.
    Portal,
}

fn guid_field(body: &Object, field: &str) -> GraphResult<String> {
    match body.get(field).and_then(Value::as_str) {
        Some(s) if uuid::Uuid::parse_str(s).is_ok() => Ok(s.to_ascii_lowercase()),
        _ => Err(GraphError::invalid_value(field, RESOURCE)),
    }
}

fn assignment_context(req: &Req<'_>, sp_id: &str) -> String {
    req.ctx.context(
        &format!("servicePrincipals('{sp_id}')/appRoleAssignedTo"),
        true,
    )
}

/// Checks a new assignment of `body` (`{principalId, resourceId, appRoleId}`) to the service
/// principal `sp_id` and stores it; returns the assignment as Graph shows it.
pub fn create(
    tenant: &mut Tenant,
    sp_id: &str,
    body: &Object,
    writer: Writer,
) -> GraphResult<Object> {
    let now = Instant::now();
    let sees = |visible_at: Instant| writer == Writer::Portal || visible_at <= now;
    let sp_id = sp_id.to_ascii_lowercase();
    let sp = tenant
        .directory
        .service_principals
        .get(&sp_id)
        .filter(|s| sees(s.visible_at))
        .ok_or_else(|| GraphError::not_found(&sp_id))?;
    let principal_id = guid_field(body, "principalId")?;
    let resource_id = guid_field(body, "resourceId")?;
    let role_id = guid_field(body, "appRoleId")?;
    if resource_id != sp_id {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!(
                "The resourceId '{resource_id}' must be the id of the service principal the assignment is made to ('{sp_id}')."
            ),
        )
        .with_detail("InvalidValue", "resourceId"));
    }
    let principal = tenant
        .directory
        .principal(&principal_id)
        .ok_or_else(|| GraphError::not_found(&principal_id))?;
    if !sees(principal.visible_at) {
        // Graph's answer when the principal exists but has not replicated to this replica.
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Not a valid reference update.",
        ));
    }
    // Entra offers only enabled roles for assignment; a disabled one reads as missing.
    let role_known = role_id == DEFAULT_ACCESS_ROLE
        || sp
            .obj
            .get("appRoles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| {
                r.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(&role_id))
                    && r.get("isEnabled") == Some(&Value::Bool(true))
            });
    if !role_known {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Permission being assigned was not found on application.",
        ));
    }
    let duplicate = tenant.directory.assignments.values().any(|a| {
        a.str("resourceId") == sp_id
            && a.str("principalId") == principal_id
            && a.str("appRoleId") == role_id
    });
    if duplicate {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Permission being assigned already exists on the object.",
        ));
    }
    let resource_name = sp.str("displayName").to_string();
    let id = tenant.new_assignment_id(&principal_id);
    let obj = json_value!({
        "id": id,
        "deletedDateTime": null,
        "appRoleId": role_id,
        "createdDateTime": now_rfc3339(),
        "principalDisplayName": principal.display_name,
        "principalId": principal_id,
        "principalType": principal.kind.as_str(),
        "resourceDisplayName": resource_name,
        "resourceId": sp_id,
    });
    let obj = match obj {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let lag = match writer {
        Writer::Graph { lag } => lag,
        Writer::Portal => Duration::ZERO,
    };
    tenant.directory.insert_assignment(obj.clone(), lag);
    Ok(obj)
}

fn visible_sp<'a>(tenant: &'a Tenant, sp_id: &str, now: Instant) -> GraphResult<&'a Stored> {
    tenant
        .directory
        .service_principals
        .get(sp_id)
        .filter(|s| s.is_visible(now))
        .ok_or_else(|| GraphError::not_found(sp_id))
}

/// The assignment `id` of `sp_id` as Graph reads see it now, or Graph's 404.
fn visible_assignment<'a>(
    tenant: &'a Tenant,
    sp_id: &str,
    id: &str,
    now: Instant,
) -> GraphResult<&'a Object> {
    visible_sp(tenant, sp_id, now)?;
    tenant
        .directory
        .assignments
        .get(id)
        .and_then(|a| a.read(now))
        .filter(|a| a.get("resourceId").and_then(Value::as_str) == Some(sp_id))
        .ok_or_else(|| GraphError::not_found(id))
}

pub fn post(tenant: &mut Tenant, sp_id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let body = req.json_object()?;
    let obj = create(tenant, sp_id, &body, Writer::Graph { lag: req.lag })?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        Value::String(assignment_context(req, sp_id)),
    );
    out.extend(obj);
    Ok(json(StatusCode::CREATED, Value::Object(out)))
}

pub fn list(tenant: &mut Tenant, sp_id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let q = ListQuery::parse(req, &FILTER)?;
    let now = Instant::now();
    visible_sp(tenant, sp_id, now)?;
    let items = readable(&tenant.directory.assignments, now)
        .into_iter()
        .filter(|a| a.get("resourceId").and_then(Value::as_str) == Some(sp_id))
        .filter(|a| q.matches(a))
        .cloned()
        .collect();
    let page_size = req.sandbox.settings().page_size;
    let path = format!("servicePrincipals/{sp_id}/appRoleAssignedTo");
    let set = format!("servicePrincipals('{sp_id}')/appRoleAssignedTo");
    Ok(q.page_of(page_size, req.ctx, &path, &set, items))
}

pub fn get(tenant: &mut Tenant, sp_id: &str, id: &str, req: &Req<'_>) -> GraphResult<Response> {
    let obj = visible_assignment(tenant, sp_id, id, Instant::now())?;
    entity(
        req,
        &format!("servicePrincipals('{sp_id}')/appRoleAssignedTo"),
        obj,
    )
}

pub fn delete(tenant: &mut Tenant, sp_id: &str, id: &str) -> GraphResult<Response> {
    visible_assignment(tenant, sp_id, id, Instant::now())?;
    tenant.directory.assignments.remove(id);
    Ok(no_content())
}

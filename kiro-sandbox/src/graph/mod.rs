//! Microsoft Graph v1.0 (the subset the provider uses), served under `/graph/v1.0/…`.
//!
//! Graph URLs have odd forms (`applications(appId='…')`), so one catch-all route hands the
//! path to [`route::parse`], which names the operation (for counts) before anything else.

mod advanced;
mod applications;
pub mod assignments;
mod deleted_items;
mod entitlements;
pub mod errors;
mod people;
mod query;
mod route;
mod service_principals;
pub mod sync;
mod templates;
mod uris;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value};

use crate::faults::Fault;
use crate::state::{Sandbox, Tenant, now_rfc3339};
use errors::{GraphError, GraphResult};
use people::Members;
use route::Route;

pub const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/graph", any(dispatch_root))
        .route("/graph/", any(dispatch_root))
        .route("/graph/{*rest}", any(dispatch))
}

/// Per-request facts shared by responses and errors.
pub struct Ctx {
    pub request_id: String,
    pub client_request_id: String,
    pub date: String,
    /// `http://host:port` as the client addressed the sandbox (for `@odata.nextLink`).
    pub base: String,
}

impl Ctx {
    pub fn new(headers: &HeaderMap) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = header_str(headers, "client-request-id")
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        let host = header_str(headers, "host").unwrap_or("127.0.0.1");
        Self {
            request_id,
            client_request_id,
            date: now_rfc3339(),
            base: format!("http://{host}"),
        }
    }

    /// `@odata.context` of a collection (`set` like `applications`) or of one entity.
    pub fn context(&self, set: &str, entity: bool) -> String {
        let suffix = if entity { "/$entity" } else { "" };
        format!("{}/graph/v1.0/$metadata#{set}{suffix}", self.base)
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The parts of a request a handler needs, once authenticated.
pub struct Req<'a> {
    pub ctx: &'a Ctx,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
    pub lag: Duration,
    pub sandbox: &'a Sandbox,
    /// `ConsistencyLevel: eventual`: the request may use advanced queries.
    pub eventual: bool,
    /// The request is `…/$count` of a collection.
    pub count_segment: bool,
}

impl Req<'_> {
    /// The JSON object body, or Graph's 400 for anything else.
    pub fn json_object(&self) -> GraphResult<Map<String, Value>> {
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(GraphError::bad_json()),
        }
    }
}

/// The operation name of a Graph request (`/graph/…`), for counts and the fault layer.
pub fn operation(method: &Method, path: &str) -> String {
    let rest = path.strip_prefix("/graph").unwrap_or(path);
    route::parse(method, rest).0
}

/// Graph's answer to an injected fault; `None` means the connection is dropped.
pub fn fault_response(fault: &Fault, headers: &HeaderMap) -> Option<Response> {
    let ctx = Ctx::new(headers);
    let mut resp = GraphError::from_fault(fault)?.into_response(&ctx);
    stamp_request_ids(&ctx, &mut resp);
    Some(resp)
}

async fn dispatch_root(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dispatch(
        State(sb),
        method,
        Path(String::new()),
        RawQuery(raw),
        headers,
        body,
    )
    .await
}

async fn dispatch(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&headers);
    let (op, route) = route::parse(&method, &rest);
    let mut resp = match run(&sb, &ctx, &headers, route, raw.as_deref(), &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(&ctx),
    };
    tracing::debug!(%op, status = resp.status().as_u16(), request_id = %ctx.request_id, "graph");
    stamp_request_ids(&ctx, &mut resp);
    resp
}

fn stamp_request_ids(ctx: &Ctx, resp: &mut Response) {
    let h = resp.headers_mut();
    for (name, value) in [
        ("request-id", &ctx.request_id),
        ("client-request-id", &ctx.client_request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
}

async fn run(
    sb: &Arc<Sandbox>,
    ctx: &Ctx,
    headers: &HeaderMap,
    route: GraphResult<Route>,
    raw_query: Option<&str>,
    body: &[u8],
) -> GraphResult<Response> {
    let tenant = authenticate(sb, headers).await?;
    let route = route?;
    let query = raw_query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = Req {
        ctx,
        query,
        body,
        lag: sb.faults.replication_lag(),
        sandbox: sb,
        eventual: header_str(headers, "consistencylevel")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual")),
        count_segment: false,
    };
    if let Route::Sync(sp, sync_route) = route {
        // Provisioning calls may reach out to the tenant URL, so they lock the tenant
        // themselves and never across an HTTP call.
        return sync::handle(sb, &tenant, &sp, sync_route, &req).await;
    }
    let mut tenant = tenant.lock().await;
    handle(&mut tenant, route, &req)
}

fn handle(tenant: &mut Tenant, route: Route, req: &Req<'_>) -> GraphResult<Response> {
    match route {
        Route::Count(list) => {
            if !req.eventual {
                return Err(advanced::count_segment_needs_header());
            }
            let counting = Req {
                ctx: req.ctx,
                query: req.query.clone(),
                body: req.body,
                lag: req.lag,
                sandbox: req.sandbox,
                eventual: true,
                count_segment: true,
            };
            handle(tenant, *list, &counting)
        }
        Route::Instantiate(template) => templates::instantiate(tenant, &template, req),
        Route::ListApplications => applications::list(tenant, req),
        Route::GetApplication(key) => applications::get(tenant, &key, req),
        Route::PatchApplication(key) => applications::patch(tenant, &key, req),
        Route::DeleteApplication(key) => applications::delete(tenant, &key),
        Route::ListServicePrincipals => service_principals::list(tenant, req),
        Route::GetServicePrincipal(key) => service_principals::get(tenant, &key, req),
        Route::PatchServicePrincipal(key) => service_principals::patch(tenant, &key, req),
        Route::DeleteServicePrincipal(key) => service_principals::delete(tenant, &key),
        Route::ListDeletedApplications => deleted_items::list(tenant, req),
        Route::GetDeletedItem(id) => deleted_items::get(tenant, &id, req),
        Route::PurgeDeletedItem(id) => deleted_items::purge(tenant, &id),
        Route::RestoreDeletedItem(id) => deleted_items::restore(tenant, &id, req),
        Route::ListUsers => people::list_users(tenant, req),
        Route::GetUser(key) => people::get_user(tenant, &key, req),
        Route::ListGroups => people::list_groups(tenant, req),
        Route::GetGroup(id) => people::get_group(tenant, &id, req),
        Route::GetDirectoryObject(id) => people::get_directory_object(tenant, &id, req),
        Route::ListGroupMembers(id) => people::list_members(tenant, &id, Members::All, req),
        Route::ListGroupUserMembers(id) => {
            people::list_members(tenant, &id, Members::UsersOnly, req)
        }
        Route::ListAssignments(sp) => assignments::list(tenant, &sp, req),
        Route::CreateAssignment(sp) => assignments::post(tenant, &sp, req),
        Route::GetAssignment(sp, id) => assignments::get(tenant, &sp, &id, req),
        Route::DeleteAssignment(sp, id) => assignments::delete(tenant, &sp, &id),
        Route::Sync(..) => unreachable!("run() hands synchronization routes to sync::handle"),
    }
}

/// The tenant the bearer token was issued for.
async fn authenticate(
    sb: &Sandbox,
    headers: &HeaderMap,
) -> GraphResult<Arc<tokio::sync::Mutex<Tenant>>> {
    let value = header_str(headers, "authorization").unwrap_or("").trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ if value.is_empty() => "",
        _ => {
            return Err(GraphError::unauthenticated(
                "Access token validation failure.",
            ));
        }
    };
    if token.is_empty() {
        return Err(GraphError::unauthenticated("Access token is empty."));
    }
    let info = sb.check_token(token).ok_or_else(|| {
        GraphError::unauthenticated("Access token validation failure. Invalid or expired token.")
    })?;
    sb.tenant(&info.tenant_id).await.ok_or_else(|| {
        GraphError::unauthenticated("Access token validation failure. Unknown tenant.")
    })
}

/// A JSON response with Graph's content type.
pub fn json(status: StatusCode, value: Value) -> Response {
    let mut resp = (status, axum::Json(value)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
    resp
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// One entity with its `@odata.context` first, then the (optionally `$select`ed) fields.
pub fn entity(req: &Req<'_>, set: &str, obj: &Map<String, Value>) -> GraphResult<Response> {
    let select = query::select(&req.query);
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        Value::String(req.ctx.context(set, true)),
    );
    out.extend(query::project(obj, select.as_deref()));
    Ok(json(StatusCode::OK, Value::Object(out)))
}

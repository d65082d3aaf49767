//! Maps a Graph path (after `/graph/`) and method to an operation name and a [`Route`].

use axum::http::Method;

use super::errors::{GraphError, GraphResult};

/// How an application or service principal is addressed.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    /// `/applications/{objectId}`
    Id(String),
    /// `/applications(appId='{clientId}')`
    AppId(String),
}

impl Key {
    pub fn as_str(&self) -> &str {
        match self {
            Key::Id(s) | Key::AppId(s) => s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Instantiate(String),
    ListApplications,
    GetApplication(Key),
    PatchApplication(Key),
    DeleteApplication(Key),
    ListServicePrincipals,
    GetServicePrincipal(Key),
    PatchServicePrincipal(Key),
    DeleteServicePrincipal(Key),
    ListDeletedApplications,
    GetDeletedItem(String),
    PurgeDeletedItem(String),
    RestoreDeletedItem(String),
    ListUsers,
    /// `/users/{id | userPrincipalName}`
    GetUser(String),
    /// `/directoryObjects/{id}`: a user or group, typed by `@odata.type`
    GetDirectoryObject(String),
    ListGroups,
    GetGroup(String),
    ListGroupMembers(String),
    /// `/groups/{id}/members/microsoft.graph.user`: the OData cast to the user members
    ListGroupUserMembers(String),
    /// `/servicePrincipals/{spId}/appRoleAssignedTo`
    ListAssignments(String),
    CreateAssignment(String),
    /// `/servicePrincipals/{spId}/appRoleAssignedTo/{assignmentId}`
    GetAssignment(String, String),
    DeleteAssignment(String, String),
    /// `/servicePrincipals/{spId}/synchronization/…`
    Sync(String, SyncRoute),
    /// `…/$count` of a collection: the collection's route.
    Count(Box<Route>),
}

/// A provisioning (synchronization) call on one service principal.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncRoute {
    ListJobs,
    CreateJob,
    GetJob(String),
    DeleteJob(String),
    GetSecrets,
    PutSecrets,
    GetSchema(String),
    PutSchema(String),
    /// `POST jobs/{id}/{action}`: validateCredentials, start, pause, restart, provisionOnDemand
    Action(String, SyncAction),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SyncAction {
    ValidateCredentials,
    Start,
    Pause,
    Restart,
    ProvisionOnDemand,
}

impl SyncAction {
    pub fn name(self) -> &'static str {
        match self {
            SyncAction::ValidateCredentials => "validateCredentials",
            SyncAction::Start => "start",
            SyncAction::Pause => "pause",
            SyncAction::Restart => "restart",
            SyncAction::ProvisionOnDemand => "provisionOnDemand",
        }
    }
}

/// The operation name (always, for counting) and the route or the Graph error to answer.
pub fn parse(method: &Method, path: &str) -> (String, GraphResult<Route>) {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((version, segs)) = segs.split_first() else {
        return unknown(GraphError::bad_request("BadRequest", "Invalid version: "));
    };
    if *version != "v1.0" {
        return unknown(GraphError::bad_request(
            "BadRequest",
            format!("Invalid version: {version}"),
        ));
    }
    let Some(first) = segs.first() else {
        return unknown(GraphError::segment_not_found(""));
    };
    let head = first.to_ascii_lowercase();
    if head.starts_with("applications(") {
        return item(
            "applications",
            method,
            key_segment(first, &segs[1..]),
            app_item,
        );
    }
    if head.starts_with("serviceprincipals(") {
        return item(
            "servicePrincipals",
            method,
            key_segment(first, &segs[1..]),
            sp_item,
        );
    }
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    if let Some(("$count", list)) = lower.split_last().map(|(l, rest)| (*l, rest)) {
        return count_route(method, &segs[..list.len()], list);
    }
    path_route(method, segs, &lower)
}

/// The routes of plain paths (segments as sent and lower-cased, after the version).
fn path_route(method: &Method, segs: &[&str], lower: &[&str]) -> (String, GraphResult<Route>) {
    match lower {
        ["applicationtemplates", _, "instantiate"] => {
            let route = Route::Instantiate(segs[1].to_string());
            let area = "graph.applicationTemplates";
            only(method, Method::POST, area, "instantiate", route)
        }
        ["applications"] => collection("graph.applications", method, Route::ListApplications),
        ["applications", _] => item(
            "applications",
            method,
            object_id(segs[1]).map(Key::Id),
            app_item,
        ),
        ["serviceprincipals"] => collection(
            "graph.servicePrincipals",
            method,
            Route::ListServicePrincipals,
        ),
        ["serviceprincipals", _] => item(
            "servicePrincipals",
            method,
            object_id(segs[1]).map(Key::Id),
            sp_item,
        ),
        ["directory", "deleteditems", ..] => deleted_items_route(method, segs, lower),
        ["serviceprincipals", _, "approleassignedto", ..] => assignments_route(method, segs),
        ["serviceprincipals", _, "synchronization", ..] => sync_route(method, segs, lower),
        ["users"] => collection("graph.users", method, Route::ListUsers),
        ["users", _] => {
            let route = Route::GetUser(segs[1].to_string());
            only(method, Method::GET, "graph.users", "get", route)
        }
        ["directoryobjects", _] => by_id(
            (method, Method::GET),
            ("graph.directoryObjects", "get"),
            segs[1],
            Route::GetDirectoryObject,
        ),
        ["groups"] => collection("graph.groups", method, Route::ListGroups),
        ["groups", _] => by_id(
            (method, Method::GET),
            ("graph.groups", "get"),
            segs[1],
            Route::GetGroup,
        ),
        ["groups", _, "members"] => by_id(
            (method, Method::GET),
            ("graph.groups.members", "list"),
            segs[1],
            Route::ListGroupMembers,
        ),
        ["groups", _, "members", "microsoft.graph.user"] => by_id(
            (method, Method::GET),
            ("graph.groups.members.user", "list"),
            segs[1],
            Route::ListGroupUserMembers,
        ),
        _ => unknown(GraphError::segment_not_found(unknown_segment(segs, lower))),
    }
}

/// The segment Graph names when it finds no resource: the last one under a known root, else
/// the first.
fn unknown_segment<'a>(segs: &[&'a str], lower: &[&str]) -> &'a str {
    let known = [
        "applicationtemplates",
        "applications",
        "serviceprincipals",
        "directory",
        "users",
        "groups",
    ];
    if known.contains(&lower[0]) && segs.len() > 1 {
        segs[segs.len() - 1]
    } else {
        segs[0]
    }
}

/// A route on one object named by an id segment, for one `(method sent, method allowed)`
/// and `(area, action)`: the route, or the error the id earns.
fn by_id(
    (method, want): (&Method, Method),
    (area, act): (&str, &str),
    id: &str,
    route: fn(String) -> Route,
) -> (String, GraphResult<Route>) {
    match object_id(id) {
        Ok(id) => only(method, want, area, act, route(id)),
        Err(e) => (format!("{area}.{act}"), Err(e)),
    }
}

/// `directory/deletedItems/…` (segments as sent and lower-cased).
fn deleted_items_route(
    method: &Method,
    segs: &[&str],
    lower: &[&str],
) -> (String, GraphResult<Route>) {
    let op = |a: &str| format!("graph.deletedItems.{a}");
    match lower {
        [_, _, "microsoft.graph.application"] => {
            collection("graph.deletedItems", method, Route::ListDeletedApplications)
        }
        [_, _, _] => {
            let id = match object_id(segs[2]) {
                Ok(id) => id,
                Err(e) => return (op(&action(method)), Err(e)),
            };
            match *method {
                Method::GET => (op("get"), Ok(Route::GetDeletedItem(id))),
                Method::DELETE => (op("delete"), Ok(Route::PurgeDeletedItem(id))),
                _ => (op(&action(method)), Err(GraphError::method_not_allowed())),
            }
        }
        [_, _, _, "restore"] => by_id(
            (method, Method::POST),
            ("graph.deletedItems", "restore"),
            segs[2],
            Route::RestoreDeletedItem,
        ),
        _ => unknown(GraphError::segment_not_found(unknown_segment(segs, lower))),
    }
}

/// `servicePrincipals/{spId}/appRoleAssignedTo[/{id}]` (segments as sent).
fn assignments_route(method: &Method, segs: &[&str]) -> (String, GraphResult<Route>) {
    let (op, allowed) = match segs.len() {
        3 => (collection_action(method), [Method::GET, Method::POST]),
        4 => (action(method), [Method::GET, Method::DELETE]),
        _ => return unknown(GraphError::segment_not_found(segs[segs.len() - 1])),
    };
    let op = format!("graph.appRoleAssignedTo.{op}");
    let sp = match object_id(segs[1]) {
        Ok(id) => id,
        Err(e) => return (op, Err(e)),
    };
    if !allowed.contains(method) {
        return (op, Err(GraphError::method_not_allowed()));
    }
    // Assignment ids are case-sensitive base64url, so the segment is kept as sent.
    let route = match (segs.get(3), method.clone()) {
        (None, Method::GET) => Route::ListAssignments(sp),
        (None, _) => Route::CreateAssignment(sp),
        (Some(id), Method::GET) => Route::GetAssignment(sp, id.to_string()),
        (Some(id), _) => Route::DeleteAssignment(sp, id.to_string()),
    };
    (op, Ok(route))
}

/// `…/$count` of the collections that have it (segments as sent and lower-cased, without
/// `$count`).
fn count_route(method: &Method, segs: &[&str], lower: &[&str]) -> (String, GraphResult<Route>) {
    let (area, list) = match lower {
        ["users"] => ("graph.users", Ok(Route::ListUsers)),
        ["groups"] => ("graph.groups", Ok(Route::ListGroups)),
        ["applications"] => ("graph.applications", Ok(Route::ListApplications)),
        ["serviceprincipals"] => ("graph.servicePrincipals", Ok(Route::ListServicePrincipals)),
        ["groups", _, "members"] => (
            "graph.groups.members",
            object_id(segs[1]).map(Route::ListGroupMembers),
        ),
        ["groups", _, "members", "microsoft.graph.user"] => (
            "graph.groups.members.user",
            object_id(segs[1]).map(Route::ListGroupUserMembers),
        ),
        _ => return unknown(GraphError::segment_not_found("$count")),
    };
    match list {
        Ok(list) => only(
            method,
            Method::GET,
            area,
            "count",
            Route::Count(Box::new(list)),
        ),
        Err(e) => (format!("{area}.count"), Err(e)),
    }
}

/// `servicePrincipals/{spId}/synchronization/…` (segments as sent and lower-cased). Job ids
/// are kept as sent: they are opaque.
fn sync_route(method: &Method, segs: &[&str], lower: &[&str]) -> (String, GraphResult<Route>) {
    let area = |name: &str| format!("graph.synchronization.{name}");
    let sp = match object_id(segs[1]) {
        Ok(id) => id,
        Err(e) => return (area(&action(method)), Err(e)),
    };
    let job = |i: usize| segs[i].to_string();
    let (op, route) = match (&lower[3..], method.clone()) {
        (["jobs"], Method::GET) => ("jobs.list", Some(SyncRoute::ListJobs)),
        (["jobs"], Method::POST) => ("jobs.post", Some(SyncRoute::CreateJob)),
        (["jobs", _], Method::GET) => ("jobs.get", Some(SyncRoute::GetJob(job(4)))),
        (["jobs", _], Method::DELETE) => ("jobs.delete", Some(SyncRoute::DeleteJob(job(4)))),
        (["secrets"], Method::GET) => ("secrets.get", Some(SyncRoute::GetSecrets)),
        (["secrets"], Method::PUT) => ("secrets.put", Some(SyncRoute::PutSecrets)),
        (["jobs", _, "schema"], Method::GET) => ("schema.get", Some(SyncRoute::GetSchema(job(4)))),
        (["jobs", _, "schema"], Method::PUT) => ("schema.put", Some(SyncRoute::PutSchema(job(4)))),
        (["jobs", _, name], Method::POST) => {
            let act = match *name {
                "validatecredentials" => Some(SyncAction::ValidateCredentials),
                "start" => Some(SyncAction::Start),
                "pause" => Some(SyncAction::Pause),
                "restart" => Some(SyncAction::Restart),
                "provisionondemand" => Some(SyncAction::ProvisionOnDemand),
                _ => None,
            };
            match act {
                Some(a) => {
                    let op = format!("jobs.{}", a.name());
                    return (area(&op), Ok(Route::Sync(sp, SyncRoute::Action(job(4), a))));
                }
                None => return (area("unknown"), Err(GraphError::segment_not_found(segs[5]))),
            }
        }
        (["jobs"] | ["jobs", _] | ["secrets"] | ["jobs", _, "schema"], _) => {
            return (area(&action(method)), Err(GraphError::method_not_allowed()));
        }
        _ => {
            let last = segs.last().copied().unwrap_or("synchronization");
            return (area("unknown"), Err(GraphError::segment_not_found(last)));
        }
    };
    match route {
        Some(r) => (area(op), Ok(Route::Sync(sp, r))),
        None => (area(op), Err(GraphError::method_not_allowed())),
    }
}

fn unknown(e: GraphError) -> (String, GraphResult<Route>) {
    ("graph.unknown".into(), Err(e))
}

fn action(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

/// `list` for a GET of a collection, else the method's name (`post`, …).
fn collection_action(method: &Method) -> String {
    if *method == Method::GET {
        "list".into()
    } else {
        action(method)
    }
}

fn only(
    method: &Method,
    want: Method,
    area: &str,
    name: &str,
    route: Route,
) -> (String, GraphResult<Route>) {
    if *method == want {
        (format!("{area}.{name}"), Ok(route))
    } else {
        (
            format!("{area}.{}", action(method)),
            Err(GraphError::method_not_allowed()),
        )
    }
}

fn collection(area: &str, method: &Method, route: Route) -> (String, GraphResult<Route>) {
    only(method, Method::GET, area, "list", route)
}

type ItemRoutes = fn(&Method, Key) -> Option<Route>;

fn app_item(method: &Method, key: Key) -> Option<Route> {
    match *method {
        Method::GET => Some(Route::GetApplication(key)),
        Method::PATCH => Some(Route::PatchApplication(key)),
        Method::DELETE => Some(Route::DeleteApplication(key)),
        _ => None,
    }
}

fn sp_item(method: &Method, key: Key) -> Option<Route> {
    match *method {
        Method::GET => Some(Route::GetServicePrincipal(key)),
        Method::PATCH => Some(Route::PatchServicePrincipal(key)),
        Method::DELETE => Some(Route::DeleteServicePrincipal(key)),
        _ => None,
    }
}

fn item(
    area: &str,
    method: &Method,
    key: GraphResult<Key>,
    routes: ItemRoutes,
) -> (String, GraphResult<Route>) {
    let op = format!("graph.{area}.{}", action(method));
    match key {
        Err(e) => (op, Err(e)),
        Ok(key) => match routes(method, key) {
            Some(route) => (op, Ok(route)),
            None => (op, Err(GraphError::method_not_allowed())),
        },
    }
}

/// Parses `applications(appId='…')` (no further segments allowed).
fn key_segment(seg: &str, rest: &[&str]) -> GraphResult<Key> {
    if let Some(extra) = rest.first() {
        return Err(GraphError::segment_not_found(extra));
    }
    let inner = seg
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .ok_or_else(|| GraphError::segment_not_found(seg))?;
    let (name, value) = inner
        .split_once('=')
        .ok_or_else(|| GraphError::segment_not_found(seg))?;
    if !name.trim().eq_ignore_ascii_case("appId") {
        return Err(GraphError::segment_not_found(seg));
    }
    let value = value
        .trim()
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .ok_or_else(|| GraphError::segment_not_found(seg))?;
    if uuid::Uuid::parse_str(value).is_err() {
        return Err(GraphError::not_found(value));
    }
    Ok(Key::AppId(value.to_ascii_lowercase()))
}

fn object_id(s: &str) -> GraphResult<String> {
    match uuid::Uuid::parse_str(s) {
        Ok(_) => Ok(s.to_ascii_lowercase()),
        Err(_) => Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{s}'."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn parses_the_graph_url_forms() {
        let (op, r) = parse(&Method::GET, &format!("v1.0/applications(appId='{ID}')"));
        assert_eq!(op, "graph.applications.get");
        assert_eq!(r.unwrap(), Route::GetApplication(Key::AppId(ID.into())));
        let (op, r) = parse(&Method::PATCH, &format!("v1.0/Applications/{ID}"));
        assert_eq!(op, "graph.applications.patch");
        assert_eq!(r.unwrap(), Route::PatchApplication(Key::Id(ID.into())));
        let (op, _) = parse(
            &Method::POST,
            &format!("v1.0/applicationTemplates/{ID}/instantiate"),
        );
        assert_eq!(op, "graph.applicationTemplates.instantiate");
        let (op, r) = parse(&Method::POST, "v1.0/applications");
        assert_eq!(op, "graph.applications.post");
        assert_eq!(r.unwrap_err().status.as_u16(), 405);
        let (_, r) = parse(&Method::GET, "v1.0/applications/not-a-guid");
        assert_eq!(
            r.unwrap_err().message,
            "Invalid object identifier 'not-a-guid'."
        );
        let (op, r) = parse(&Method::GET, "v1.0/nonsense");
        assert_eq!(op, "graph.unknown");
        assert_eq!(
            r.unwrap_err().message,
            "Resource not found for the segment 'nonsense'."
        );
        let (_, r) = parse(&Method::GET, "beta/applications");
        assert_eq!(r.unwrap_err().code, "BadRequest");
    }

    #[test]
    fn parses_users_groups_and_assignment_urls() {
        let (op, r) = parse(&Method::GET, "v1.0/users/Alice@Contoso.com");
        assert_eq!(op, "graph.users.get");
        assert_eq!(r.unwrap(), Route::GetUser("Alice@Contoso.com".into()));
        let (op, r) = parse(
            &Method::GET,
            "v1.0/directoryObjects/8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
        );
        assert_eq!(op, "graph.directoryObjects.get");
        assert_eq!(
            r.unwrap(),
            Route::GetDirectoryObject("8adf8e6e-67b2-4cf2-a259-e3dc5476c621".into())
        );
        let (op, r) = parse(&Method::GET, "v1.0/users");
        assert_eq!(
            (op.as_str(), r.unwrap()),
            ("graph.users.list", Route::ListUsers)
        );
        let (op, r) = parse(&Method::GET, &format!("v1.0/groups/{ID}/members"));
        assert_eq!(op, "graph.groups.members.list");
        assert_eq!(r.unwrap(), Route::ListGroupMembers(ID.into()));
        let (_, r) = parse(&Method::GET, "v1.0/groups/nope");
        assert_eq!(r.unwrap_err().message, "Invalid object identifier 'nope'.");
        let (op, r) = parse(
            &Method::POST,
            &format!("v1.0/servicePrincipals/{ID}/appRoleAssignedTo"),
        );
        assert_eq!(op, "graph.appRoleAssignedTo.post");
        assert_eq!(r.unwrap(), Route::CreateAssignment(ID.into()));
        let (op, r) = parse(
            &Method::GET,
            &format!("v1.0/servicePrincipals/{ID}/appRoleAssignedTo"),
        );
        assert_eq!(op, "graph.appRoleAssignedTo.list");
        assert_eq!(r.unwrap(), Route::ListAssignments(ID.into()));
        let (op, r) = parse(
            &Method::DELETE,
            &format!("v1.0/servicePrincipals/{ID}/appRoleAssignedTo/AbC-_x"),
        );
        assert_eq!(op, "graph.appRoleAssignedTo.delete");
        assert_eq!(
            r.unwrap(),
            Route::DeleteAssignment(ID.into(), "AbC-_x".into())
        );
        let (_, r) = parse(
            &Method::PATCH,
            &format!("v1.0/servicePrincipals/{ID}/appRoleAssignedTo/x"),
        );
        assert_eq!(r.unwrap_err().status.as_u16(), 405);
        let (_, r) = parse(&Method::POST, "v1.0/users");
        assert_eq!(r.unwrap_err().status.as_u16(), 405);
    }

    #[test]
    fn parses_count_segments() {
        let (op, r) = parse(&Method::GET, "v1.0/users/$count");
        assert_eq!(op, "graph.users.count");
        assert_eq!(r.unwrap(), Route::Count(Box::new(Route::ListUsers)));
        let (op, r) = parse(&Method::GET, &format!("v1.0/groups/{ID}/members/$count"));
        assert_eq!(op, "graph.groups.members.count");
        assert_eq!(
            r.unwrap(),
            Route::Count(Box::new(Route::ListGroupMembers(ID.into())))
        );
        let cast = format!("v1.0/groups/{ID}/members/microsoft.graph.user");
        let (op, r) = parse(&Method::GET, &cast);
        assert_eq!(op, "graph.groups.members.user.list");
        assert_eq!(r.unwrap(), Route::ListGroupUserMembers(ID.into()));
        let (op, r) = parse(&Method::GET, &format!("{cast}/$count"));
        assert_eq!(op, "graph.groups.members.user.count");
        assert_eq!(
            r.unwrap(),
            Route::Count(Box::new(Route::ListGroupUserMembers(ID.into())))
        );
        let (_, r) = parse(&Method::GET, "v1.0/servicePrincipals/$COUNT");
        assert_eq!(
            r.unwrap(),
            Route::Count(Box::new(Route::ListServicePrincipals))
        );
        let (_, r) = parse(&Method::POST, "v1.0/groups/$count");
        assert_eq!(r.unwrap_err().status.as_u16(), 405);
        let (_, r) = parse(&Method::GET, "v1.0/directory/$count");
        assert_eq!(
            r.unwrap_err().message,
            "Resource not found for the segment '$count'."
        );
    }
}

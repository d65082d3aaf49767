//! The provisioning engine: what Entra's provisioning service does with a job's schema and
//! secrets. A cycle reads the users and groups assigned to the service principal (a group's
//! direct user members; `SyncAll` "true" = everyone), maps them with the job's attribute
//! mappings and calls the tenant URL over HTTP the way Entra does (filter GETs, POST, PATCH
//! with capitalized ops and string booleans, `active` "False" on unassignment, DELETE of
//! groups that left scope). The tenant lock is never held across an HTTP call.

pub mod control;
pub mod mapping;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::graph::sync::schema::{self, ENTERPRISE};
use crate::graph::sync::{self, Subject, configured, execution};
use crate::state::{Sandbox, Tenant, now_rfc3339};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call to the tenant URL failed.
#[derive(Debug)]
enum Fail {
    /// 401/403: the token is bad; the job goes to quarantine.
    Unauthorized(String),
    /// No answer at all.
    Unreachable(String),
    /// The endpoint refused this one object (SCIM's error detail).
    Entry(String),
    /// 409: the object clashes with one already there (e.g. made by a try whose answer was
    /// lost).
    Conflict(String),
}

impl Fail {
    fn message(&self) -> &str {
        match self {
            Fail::Unauthorized(m) | Fail::Unreachable(m) | Fail::Entry(m) | Fail::Conflict(m) => m,
        }
    }
}

/// Tries of one SCIM call when it fails transiently.
const SCIM_ATTEMPTS: u32 = 6;

/// A failure worth trying again after `wait`; `fail` is what is reported if the tries run out.
struct Transient {
    wait: Duration,
    fail: Fail,
}

/// The endpoint's `Retry-After` (capped at 5 s), or 200 ms.
fn backoff(retry_after_secs: Option<u64>) -> Duration {
    retry_after_secs.map_or(Duration::from_millis(200), |s| {
        Duration::from_secs(s.min(5))
    })
}

/// The tenant URL and its token.
struct Endpoint {
    http: reqwest::Client,
    base: url::Url,
    token: String,
}

impl Endpoint {
    fn new(base: &str, token: &str) -> Result<Self, String> {
        let base = url::Url::parse(base.trim())
            .map_err(|e| format!("The tenant URL '{base}' is not a valid URL: {e}."))?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Self {
            http,
            base,
            token: token.to_string(),
        })
    }

    /// `{base}/{path}`, keeping the base's query (e.g. `?aadOptscim062020`) and adding `query`.
    fn url(&self, path: &str, query: Option<(&str, &str)>) -> url::Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        if let Some((k, v)) = query {
            url.query_pairs_mut().append_pair(k, v);
        }
        url
    }

    /// One SCIM call, tried again (up to [`SCIM_ATTEMPTS`] in all) when the endpoint throttles
    /// or fails transiently (429, 5xx, a dropped connection), after its `Retry-After` or a
    /// short back-off, as Entra's provisioning service does before it reports a failure.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<(&str, &str)>,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Fail> {
        let mut attempt = 1;
        loop {
            match self.send_once(method.clone(), path, query, body).await {
                Err(Transient { wait, fail }) if attempt < SCIM_ATTEMPTS => {
                    tracing::debug!(
                        attempt,
                        ?wait,
                        "transient SCIM failure; trying again: {}",
                        fail.message()
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(Transient { fail, .. }) => return Err(fail),
                Ok(answer) => return answer,
            }
        }
    }

    async fn send_once(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<(&str, &str)>,
        body: Option<&Value>,
    ) -> Result<Result<(u16, Value), Fail>, Transient> {
        let mut req = self
            .http
            .request(method.clone(), self.url(path, query))
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                return Err(Transient {
                    wait: backoff(None),
                    fail: Fail::Unreachable(format!(
                        "Entra could not connect to the tenant URL {}: {e}",
                        self.base
                    )),
                });
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = resp.bytes().await.unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let refused = || {
            let detail = value["detail"].as_str().map_or_else(
                || String::from_utf8_lossy(&bytes).into_owned(),
                str::to_string,
            );
            Fail::Entry(format!(
                "The SCIM endpoint refused {method} /{path} with {status}: {detail}"
            ))
        };
        Ok(match status {
            200..=299 | 404 => Ok((status, value)),
            401 | 403 => Err(Fail::Unauthorized(format!(
                "The SCIM endpoint answered {status} to {method} /{path}: the token is invalid, expired or revoked."
            ))),
            429 | 500 | 502 | 503 | 504 => {
                return Err(Transient {
                    wait: backoff(retry_after),
                    fail: refused(),
                });
            }
            409 => Err(Fail::Conflict(refused().message().to_string())),
            _ => Err(refused()),
        })
    }

    /// `GET {path}`.
    async fn get(&self, path: &str) -> Result<(u16, Value), Fail> {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    /// `PATCH {path}` with `body`.
    async fn patch(&self, path: &str, body: &Value) -> Result<(u16, Value), Fail> {
        self.send(reqwest::Method::PATCH, path, None, Some(body))
            .await
    }

    /// The first resource matching `attr eq "value"`.
    async fn find(&self, resource: &str, attr: &str, value: &str) -> Result<Option<Value>, Fail> {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        let filter = format!("{attr} eq \"{escaped}\"");
        let (_, list) = self
            .send(
                reqwest::Method::GET,
                resource,
                Some(("filter", &filter)),
                None,
            )
            .await?;
        Ok(list["Resources"]
            .as_array()
            .and_then(|r| r.first())
            .cloned())
    }
}

/// Test Connection: `GET /Users?filter=userName eq "<random uuid>"` expecting 200 and an
/// empty ListResponse. The error says why, for the person reading the Graph error.
pub async fn probe(base: &str, token: &str) -> Result<(), String> {
    let endpoint = Endpoint::new(base, token)?;
    let probe_name = uuid::Uuid::new_v4().to_string();
    match endpoint.find("Users", "userName", &probe_name).await {
        Ok(None) => Ok(()),
        Ok(Some(_)) => Err(format!(
            "The tenant URL {base} answered a filter for a random userName with a user; it does not filter like a SCIM endpoint."
        )),
        Err(Fail::Unauthorized(_)) => Err(format!(
            "You appear to have entered invalid credentials: the tenant URL {base} answered 401, so the token is invalid, expired or revoked."
        )),
        Err(Fail::Unreachable(m)) => Err(format!(
            "Entra could not connect to the tenant URL: {m}. Check the URL is reachable."
        )),
        Err(Fail::Entry(m) | Fail::Conflict(m)) => Err(format!(
            "The tenant URL did not answer like a SCIM endpoint. {m}"
        )),
    }
}

/// What a cycle needs, copied out of the tenant under its lock.
struct Snapshot {
    endpoint: Endpoint,
    user_mappings: Vec<Map<String, Value>>,
    group_mappings: Vec<Map<String, Value>>,
    users: HashMap<String, Map<String, Value>>,
    groups: HashMap<String, (Map<String, Value>, Vec<String>)>,
    users_in_scope: HashSet<String>,
    groups_in_scope: HashSet<String>,
    provisioned_users: HashMap<String, String>,
    provisioned_groups: HashMap<String, String>,
    lock: Arc<Mutex<()>>,
}

fn entity<T: serde::Serialize>(obj: &T, id: &str) -> Map<String, Value> {
    let mut e = serde_json::to_value(obj)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    e.insert("objectId".into(), json!(id));
    e.insert("IsSoftDeleted".into(), json!("False"));
    e
}

fn snapshot(t: &Tenant, sp_id: &str) -> Result<Snapshot, String> {
    let sp = t
        .sync
        .get(sp_id)
        .ok_or_else(|| format!("The service principal '{sp_id}' has no synchronization job."))?;
    let job = sp
        .job
        .as_ref()
        .ok_or_else(|| format!("The service principal '{sp_id}' has no synchronization job."))?;
    if !configured(sp) {
        return Err("The job has no saved BaseAddress and SecretToken (PUT …/synchronization/secrets first).".into());
    }
    let endpoint = Endpoint::new(
        sp.secret("BaseAddress").unwrap_or_default(),
        sp.secret("SecretToken").unwrap_or_default(),
    )?;
    let sync_all = sp
        .secret("SyncAll")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let dir = &t.directory;
    let users: HashMap<String, Map<String, Value>> = dir
        .users
        .iter()
        .map(|u| (u.id.to_ascii_lowercase(), entity(u, &u.id)))
        .collect();
    let groups: HashMap<String, (Map<String, Value>, Vec<String>)> = dir
        .groups
        .iter()
        .map(|g| {
            // Only direct user members are provisioned; nested groups are not.
            let members = g
                .members
                .iter()
                .map(|m| m.to_ascii_lowercase())
                .filter(|m| users.contains_key(m))
                .collect();
            (g.id.to_ascii_lowercase(), (entity(g, &g.id), members))
        })
        .collect();
    let now = Instant::now();
    let mut users_in_scope = HashSet::new();
    let mut groups_in_scope = HashSet::new();
    if sync_all {
        users_in_scope.extend(users.keys().cloned());
        groups_in_scope.extend(groups.keys().cloned());
    }
    for a in dir.assignments.values() {
        if !a.str("resourceId").eq_ignore_ascii_case(sp_id) || !a.is_visible(now) {
            continue;
        }
        let principal = a.str("principalId").to_ascii_lowercase();
        if users.contains_key(&principal) {
            users_in_scope.insert(principal);
        } else if let Some((_, members)) = groups.get(&principal) {
            users_in_scope.extend(members.iter().cloned());
            groups_in_scope.insert(principal);
        }
    }
    let mappings = |source: &str| {
        schema::object_mapping_for(&job.schema, source)
            .map(schema::attribute_mappings)
            .unwrap_or_default()
    };
    Ok(Snapshot {
        endpoint,
        user_mappings: mappings("User"),
        group_mappings: mappings("Group"),
        users,
        groups,
        users_in_scope,
        groups_in_scope,
        provisioned_users: job.provisioned_users.clone(),
        provisioned_groups: job.provisioned_groups.clone(),
        lock: job.cycle_lock.clone(),
    })
}

/// The SCIM values the mappings give `entity` (`members` is handled separately).
fn desired(mappings: &[Map<String, Value>], entity: &Map<String, Value>) -> Vec<(String, Value)> {
    mappings
        .iter()
        .filter_map(|m| {
            let target = m.get("targetAttributeName")?.as_str()?;
            if target == "members" {
                return None;
            }
            let value = mapping::eval(m.get("source")?, entity)?;
            let value = if mapping::is_boolean(target) {
                json!(value.eq_ignore_ascii_case("true"))
            } else {
                json!(value)
            };
            Some((target.to_string(), value))
        })
        .collect()
}

/// Matching attributes in priority order, with the value this object has for them.
fn matching(mappings: &[Map<String, Value>], values: &[(String, Value)]) -> Vec<(String, String)> {
    let mut keyed: Vec<(u64, String)> = mappings
        .iter()
        .filter_map(|m| {
            let p = m.get("matchingPriority")?.as_u64().filter(|p| *p > 0)?;
            Some((p, m.get("targetAttributeName")?.as_str()?.to_string()))
        })
        .collect();
    keyed.sort();
    keyed
        .into_iter()
        .filter_map(|(_, target)| {
            let v = values
                .iter()
                .find(|(t, _)| *t == target)?
                .1
                .as_str()?
                .to_string();
            Some((target, v))
        })
        .collect()
}

/// What happened to one object.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Created,
    Updated,
    Unchanged,
    Deactivated,
    Deleted,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Created => "Create",
            Action::Updated => "Update",
            Action::Unchanged => "None",
            Action::Deactivated => "Disable",
            Action::Deleted => "Delete",
        }
    }
}

fn patch_body(ops: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
}

/// Finds the object by escrowed id, else by its matching attributes.
async fn locate(
    ep: &Endpoint,
    resource: &str,
    escrow: Option<&String>,
    matches: &[(String, String)],
) -> Result<Option<Value>, Fail> {
    if let Some(id) = escrow {
        let (status, doc) = ep.get(&format!("{resource}/{id}")).await?;
        if status != 404 {
            return Ok(Some(doc));
        }
    }
    for (attr, value) in matches {
        if let Some(found) = ep.find(resource, attr, value).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// POSTs a new user or group with `values`; its SCIM id.
async fn create(ep: &Endpoint, resource: &str, values: &[(String, Value)]) -> Result<String, Fail> {
    let mut doc = Map::new();
    let core = if resource == "Users" {
        USER_SCHEMA
    } else {
        GROUP_SCHEMA
    };
    let mut schemas = vec![json!(core)];
    if values.iter().any(|(t, _)| t.starts_with(ENTERPRISE)) {
        schemas.push(json!(ENTERPRISE));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    for (target, value) in values {
        mapping::set(&mut doc, target, value.clone());
    }
    let (_, created) = ep
        .send(
            reqwest::Method::POST,
            resource,
            None,
            Some(&Value::Object(doc)),
        )
        .await?;
    Ok(created["id"].as_str().unwrap_or_default().to_string())
}

/// Creates or updates one user; returns its SCIM id and what was done.
async fn upsert(
    ep: &Endpoint,
    resource: &str,
    mappings: &[Map<String, Value>],
    entity: &Map<String, Value>,
    escrow: Option<&String>,
) -> Result<(String, Action), Fail> {
    let values = desired(mappings, entity);
    let matches = matching(mappings, &values);
    let current = match locate(ep, resource, escrow, &matches).await? {
        Some(current) => current,
        None => match create(ep, resource, &values).await {
            Ok(id) => return Ok((id, Action::Created)),
            // Made meanwhile — by a try whose answer was lost, or by someone else: match it
            // again and update it, as the next cycle would.
            Err(Fail::Conflict(m)) => match locate(ep, resource, None, &matches).await? {
                Some(current) => current,
                None => return Err(Fail::Conflict(m)),
            },
            Err(e) => return Err(e),
        },
    };
    let id = current["id"].as_str().unwrap_or_default().to_string();
    let doc = current.as_object().cloned().unwrap_or_default();
    let ops: Vec<Value> = values
        .iter()
        .filter(|(target, value)| !mapping::same(mapping::get(&doc, target).as_ref(), value))
        .map(|(target, value)| {
            let op = if mapping::get(&doc, target).is_some() {
                "Replace"
            } else {
                "Add"
            };
            let value = match value {
                Value::Bool(b) => json!(mapping::bool_text(*b)),
                other => other.clone(),
            };
            json!({"op": op, "path": target, "value": value})
        })
        .collect();
    if ops.is_empty() {
        return Ok((id, Action::Unchanged));
    }
    ep.patch(&format!("{resource}/{id}"), &patch_body(ops))
        .await?;
    Ok((id, Action::Updated))
}

async fn deactivate(ep: &Endpoint, scim_id: &str) -> Result<Action, Fail> {
    let body = patch_body(vec![
        json!({"op": "Replace", "path": "active", "value": "False"}),
    ]);
    ep.patch(&format!("Users/{scim_id}"), &body).await?;
    Ok(Action::Deactivated)
}

/// Brings a group's SCIM members to `wanted` (SCIM ids); `remove_others` false only adds.
async fn sync_members(
    ep: &Endpoint,
    group_id: &str,
    wanted: &[String],
    remove_others: bool,
) -> Result<bool, Fail> {
    let (_, doc) = ep.get(&format!("Groups/{group_id}")).await?;
    let current: HashSet<String> = doc["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_string))
        .collect();
    let mut ops = Vec::new();
    let add: Vec<Value> = wanted
        .iter()
        .filter(|id| !current.contains(*id))
        .map(|id| json!({"value": id}))
        .collect();
    if !add.is_empty() {
        ops.push(json!({"op": "Add", "path": "members", "value": add}));
    }
    if remove_others {
        for id in current.iter().filter(|id| !wanted.contains(id)) {
            ops.push(json!({"op": "Remove", "path": format!("members[value eq \"{id}\"]")}));
        }
    }
    if ops.is_empty() {
        return Ok(false);
    }
    ep.patch(&format!("Groups/{group_id}"), &patch_body(ops))
        .await?;
    Ok(true)
}

/// The result of a cycle (or of one on-demand subject) before it is recorded on the job.
#[derive(Default)]
struct Outcome {
    provisioned_users: HashMap<String, String>,
    provisioned_groups: HashMap<String, String>,
    entry_errors: Vec<Value>,
    counts: HashMap<&'static str, u64>,
    steps: Vec<Value>,
    /// A failure that stopped the cycle: (quarantine?, message).
    stopped: Option<(bool, String)>,
}

impl Outcome {
    fn count(&mut self, kind: &str, action: Action) {
        let key = match (kind, action) {
            ("User", Action::Created) => "usersCreated",
            ("User", Action::Updated) => "usersUpdated",
            ("User", Action::Deactivated) => "usersDisabled",
            ("Group", Action::Created) => "groupsCreated",
            ("Group", Action::Updated) => "groupsUpdated",
            ("Group", Action::Deleted) => "groupsDeleted",
            _ => "unchanged",
        };
        *self.counts.entry(key).or_default() += 1;
    }

    /// Records a failure of one object; `false` when the cycle must stop.
    fn failed(&mut self, object_id: &str, kind: &str, fail: Fail) -> bool {
        match fail {
            Fail::Entry(message) | Fail::Conflict(message) => {
                self.steps.push(json!({"name": "EntryExportAction", "type": "Action", "status": "Failure", "description": message, "details": {"objectId": object_id}}));
                self.entry_errors
                    .push(json!({"objectId": object_id, "objectTypeName": kind, "error": message}));
                true
            }
            Fail::Unauthorized(m) => {
                self.stopped = Some((true, m));
                false
            }
            Fail::Unreachable(m) => {
                self.stopped = Some((false, m));
                false
            }
        }
    }

    /// Records one object's outcome; `false` when the cycle must stop.
    fn record(&mut self, object_id: &str, kind: &str, result: Result<Action, Fail>) -> bool {
        match result {
            Ok(action) => {
                self.done(object_id, kind, action);
                true
            }
            Err(fail) => self.failed(object_id, kind, fail),
        }
    }

    /// Records an object that is not (or not yet visibly) assigned: out of scope.
    fn skipped(&mut self, object_id: &str, kind: &str) {
        self.steps.push(json!({"name": "EntitlementEvaluation", "type": "Scoping", "status": "Skipped", "description": format!("{kind} {object_id} is not assigned to the application (or not yet replicated) and is out of scope."), "details": {"objectId": object_id}}));
        *self.counts.entry("skipped").or_default() += 1;
    }

    fn done(&mut self, object_id: &str, kind: &str, action: Action) {
        self.count(kind, action);
        self.steps.push(json!({"name": "EntryExportAction", "type": "Action", "status": "Success", "description": format!("{kind} {object_id}: {}", action.as_str()), "details": {"objectId": object_id, "action": action.as_str()}}));
    }
}

/// Which objects a run touches.
enum Selection {
    /// Everything in scope, and everything provisioned that left it.
    All,
    /// One on-demand subject.
    Only(Subject),
}

async fn execute(snap: &Snapshot, selection: &Selection) -> Outcome {
    let mut out = Outcome {
        provisioned_users: snap.provisioned_users.clone(),
        provisioned_groups: snap.provisioned_groups.clone(),
        ..Outcome::default()
    };
    let ep = &snap.endpoint;
    let (user_ids, group_ids, member_filter): (Vec<String>, Vec<String>, Option<Vec<String>>) =
        match selection {
            Selection::All => {
                let mut users: Vec<String> = snap.users_in_scope.iter().cloned().collect();
                users.extend(
                    snap.provisioned_users
                        .keys()
                        .filter(|id| !snap.users_in_scope.contains(*id))
                        .cloned(),
                );
                users.sort();
                let mut groups: Vec<String> = snap.groups_in_scope.iter().cloned().collect();
                groups.extend(
                    snap.provisioned_groups
                        .keys()
                        .filter(|id| !snap.groups_in_scope.contains(*id))
                        .cloned(),
                );
                groups.sort();
                (users, groups, None)
            }
            Selection::Only(s) if s.kind == "User" => (vec![s.object_id.clone()], vec![], None),
            Selection::Only(s) => (
                s.members.clone(),
                vec![s.object_id.clone()],
                Some(s.members.clone()),
            ),
        };
    for id in &user_ids {
        let in_scope = snap.users_in_scope.contains(id);
        let result = match (
            in_scope,
            snap.users.get(id),
            out.provisioned_users.get(id).cloned(),
        ) {
            (true, Some(entity), escrow) => {
                upsert(ep, "Users", &snap.user_mappings, entity, escrow.as_ref())
                    .await
                    .map(|(scim_id, action)| {
                        out.provisioned_users.insert(id.clone(), scim_id);
                        action
                    })
            }
            (_, _, Some(scim_id)) => deactivate(ep, &scim_id).await,
            _ => {
                out.skipped(id, "User");
                continue;
            }
        };
        if !out.record(id, "User", result) {
            return out;
        }
    }
    for id in &group_ids {
        let in_scope = snap.groups_in_scope.contains(id);
        let escrow = out.provisioned_groups.get(id).cloned();
        let result = match (in_scope, snap.groups.get(id), escrow) {
            (true, Some((entity, members)), escrow) => {
                let upserted =
                    upsert(ep, "Groups", &snap.group_mappings, entity, escrow.as_ref()).await;
                match upserted {
                    Ok((scim_id, action)) => {
                        out.provisioned_groups.insert(id.clone(), scim_id.clone());
                        let wanted: Vec<String> = members
                            .iter()
                            .filter(|m| {
                                member_filter.as_ref().is_none_or(|f| {
                                    f.contains(m) || out.provisioned_users.contains_key(*m)
                                })
                            })
                            .filter(|m| snap.users_in_scope.contains(*m))
                            .filter_map(|m| out.provisioned_users.get(m).cloned())
                            .collect();
                        sync_members(ep, &scim_id, &wanted, member_filter.is_none())
                            .await
                            .map(|changed| {
                                if changed && action == Action::Unchanged {
                                    Action::Updated
                                } else {
                                    action
                                }
                            })
                    }
                    Err(e) => Err(e),
                }
            }
            (_, _, Some(scim_id)) => ep
                .send(
                    reqwest::Method::DELETE,
                    &format!("Groups/{scim_id}"),
                    None,
                    None,
                )
                .await
                .map(|_| {
                    out.provisioned_groups.remove(id);
                    Action::Deleted
                }),
            _ => {
                out.skipped(id, "Group");
                continue;
            }
        };
        if !out.record(id, "Group", result) {
            return out;
        }
    }
    out
}

/// Records a full cycle's outcome on the job; returns its summary.
fn record_cycle(t: &mut Tenant, sp_id: &str, began: &str, out: Outcome, entitled: usize) -> Value {
    let Some(job) = t.sync.get_mut(sp_id).and_then(|s| s.job.as_mut()) else {
        return json!({"state": "Failed", "error": "the job was deleted during the cycle"});
    };
    job.last_cycle_at = Some(Instant::now());
    job.provisioned_users = out.provisioned_users;
    job.provisioned_groups = out.provisioned_groups;
    job.entry_errors = out.entry_errors.clone();
    let exported: u64 = out
        .counts
        .iter()
        .filter(|(k, _)| **k != "unchanged" && **k != "skipped")
        .map(|(_, v)| v)
        .sum();
    let counts = json!({"entitled": entitled, "exported": exported});
    let (state, error) = match &out.stopped {
        Some((true, m)) => {
            job.quarantine = Some(json!({
                "currentBegan": now_rfc3339(),
                "nextAttempt": now_rfc3339(),
                "reason": "EncounteredQuarantineException",
                "seriesBegan": now_rfc3339(),
                "seriesCount": 1,
                "error": {"code": "SystemForCrossDomainIdentityManagementCredentialsInvalid", "message": m, "tenantActionable": true},
            }));
            (
                "Failed",
                Some((
                    "SystemForCrossDomainIdentityManagementCredentialsInvalid",
                    m.as_str(),
                )),
            )
        }
        Some((false, m)) => (
            "Failed",
            Some((
                "SystemForCrossDomainIdentityManagementServiceUnreachable",
                m.as_str(),
            )),
        ),
        None if !out.entry_errors.is_empty() => {
            let first = out.entry_errors[0]["error"].as_str().unwrap_or_default();
            ("EntryLevelErrors", Some(("EntryLevelErrors", first)))
        }
        None => ("Succeeded", None),
    };
    let exec = execution(began, state, error, &counts);
    if state == "Succeeded" {
        job.last_successful_execution = Some(exec.clone());
    }
    job.last_execution = Some(exec);
    json!({
        "state": state,
        "error": error.map(|(_, m)| m),
        "counts": out.counts,
        "entryErrors": out.entry_errors,
        "quarantined": job.quarantine.is_some(),
    })
}

/// Runs one full cycle now; the summary (also for the control API) or why it could not run.
pub async fn run_cycle(tenant: Arc<Mutex<Tenant>>, sp_id: String) -> Result<Value, String> {
    let snap = snapshot(&*tenant.lock().await, &sp_id)?;
    let _cycle = snap.lock.clone().lock_owned().await;
    // Another cycle may have finished while this one waited: start from the newest state.
    let snap = snapshot(&*tenant.lock().await, &sp_id)?;
    let began = now_rfc3339();
    let entitled = snap.users_in_scope.len() + snap.groups_in_scope.len();
    let out = execute(&snap, &Selection::All).await;
    let mut t = tenant.lock().await;
    Ok(record_cycle(&mut t, &sp_id, &began, out, entitled))
}

/// A cycle in the background (what `start` triggers); failures land in the job's status.
pub fn spawn_cycle(_sb: Arc<Sandbox>, tenant: Arc<Mutex<Tenant>>, sp_id: String) {
    tokio::spawn(async move {
        if let Err(e) = run_cycle(tenant, sp_id.clone()).await {
            tracing::info!(service_principal = %sp_id, "provisioning cycle did not run: {e}");
        }
    });
}

/// Provision on demand for one subject: `({result, details}, steps)` as Graph returns them
/// (the caller turns both into JSON strings).
pub async fn on_demand(
    _sb: Arc<Sandbox>,
    tenant: Arc<Mutex<Tenant>>,
    sp_id: String,
    subject: Subject,
) -> (Value, Value) {
    let snap = match snapshot(&*tenant.lock().await, &sp_id) {
        Ok(s) => s,
        Err(e) => {
            return (
                json!({"result": "Failure", "details": {"errorMessage": e}}),
                json!([]),
            );
        }
    };
    let _cycle = snap.lock.clone().lock_owned().await;
    let snap = match snapshot(&*tenant.lock().await, &sp_id) {
        Ok(s) => s,
        Err(e) => {
            return (
                json!({"result": "Failure", "details": {"errorMessage": e}}),
                json!([]),
            );
        }
    };
    let in_scope = if subject.kind == "User" {
        snap.users_in_scope.contains(&subject.object_id)
            || snap.provisioned_users.contains_key(&subject.object_id)
    } else {
        snap.groups_in_scope.contains(&subject.object_id)
            || snap.provisioned_groups.contains_key(&subject.object_id)
    };
    if !in_scope {
        let message = format!(
            "The {} {} is not assigned to the application, so it is out of scope (a new assignment can take a few minutes to be seen).",
            subject.kind.to_ascii_lowercase(),
            subject.object_id
        );
        let steps = json!([{"name": "EntitlementEvaluation", "type": "Scoping", "status": "Skipped", "description": message, "details": {}}]);
        return (
            json!({"result": "Skipped", "details": {"errorMessage": message}}),
            steps,
        );
    }
    if subject.kind == "Group"
        && let Some((_, members)) = snap.groups.get(&subject.object_id)
        && let Some(stranger) = subject.members.iter().find(|m| !members.contains(m))
    {
        let message = format!(
            "{stranger} is not a direct user member of group {}.",
            subject.object_id
        );
        return (
            json!({"result": "Failure", "details": {"errorMessage": message}}),
            json!([]),
        );
    }
    let out = execute(&snap, &Selection::Only(subject.clone())).await;
    let steps = Value::Array(out.steps.clone());
    let (result, message) = match (&out.stopped, out.entry_errors.first()) {
        (Some((_, m)), _) => ("Failure", Some(m.clone())),
        (None, Some(e)) => ("Failure", e["error"].as_str().map(str::to_string)),
        (None, None) => ("Success", None),
    };
    {
        let mut t = tenant.lock().await;
        if let Some(job) = t.sync.get_mut(&sp_id).and_then(|s| s.job.as_mut()) {
            job.provisioned_users.extend(out.provisioned_users);
            job.provisioned_groups.extend(out.provisioned_groups);
            if let Some((true, m)) = &out.stopped {
                job.quarantine = Some(
                    json!({"reason": "EncounteredQuarantineException", "error": {"code": "SystemForCrossDomainIdentityManagementCredentialsInvalid", "message": m}}),
                );
            }
        }
    }
    let details = json!({"objectId": subject.object_id, "objectTypeName": subject.kind, "errorMessage": message});
    (json!({"result": result, "details": details}), steps)
}

/// Runs a cycle of every Active job whose interval has passed (`provisioning_interval_ms`).
pub fn spawn_ticker(sb: &Arc<Sandbox>) {
    let weak: Weak<Sandbox> = Arc::downgrade(sb);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            let Some(sb) = weak.upgrade() else { return };
            let Some(every) = sb.settings().provisioning_interval_ms else {
                continue;
            };
            let every = Duration::from_millis(every);
            for tenant in sb.all_tenants().await {
                let due: Vec<String> = {
                    let mut t = tenant.lock().await;
                    let now = Instant::now();
                    t.sync
                        .iter_mut()
                        .filter_map(|(sp, s)| {
                            let job = s.job.as_mut()?;
                            let active = job.schedule == sync::ScheduleState::Active
                                && job.quarantine.is_none();
                            let due = job.last_cycle_at.is_none_or(|at| at + every <= now);
                            if active && due {
                                // Marked now so a slow cycle is not started twice.
                                job.last_cycle_at = Some(now);
                                Some(sp.clone())
                            } else {
                                None
                            }
                        })
                        .collect()
                };
                for sp in due {
                    spawn_cycle(sb.clone(), tenant.clone(), sp);
                }
            }
        }
    });
}

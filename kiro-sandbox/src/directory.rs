//! The Entra directory of one tenant: applications, service principals, deleted items,
//! users, groups and app role assignments.
//!
//! Replication lag is modelled per object: a created object carries a `visible_at` instant
//! (until then Graph reads behave as if it did not exist), and a changed object keeps its
//! earlier versions until the change has replicated, so reads see the version that was
//! visible at the time of the read while writers always work on the newest one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::seed::{Group, User};

pub type Object = Map<String, Value>;

#[derive(Clone, Debug)]
pub struct Stored {
    /// The newest version: what writers validate against and the control API shows.
    pub obj: Object,
    /// Creation order, for stable listing and paging.
    pub seq: u64,
    /// When the object first appears to Graph reads.
    pub visible_at: Instant,
    /// When `obj` (the newest version) appears to Graph reads.
    changed_at: Instant,
    /// Earlier versions, oldest first, each with the instant it became visible.
    earlier: Vec<(Instant, Object)>,
}

impl Stored {
    fn new(obj: Object, seq: u64, visible_at: Instant) -> Self {
        Self {
            obj,
            seq,
            visible_at,
            changed_at: visible_at,
            earlier: Vec::new(),
        }
    }

    pub fn is_visible(&self, now: Instant) -> bool {
        self.visible_at <= now
    }

    /// The version a Graph read sees at `now`, or `None` while the object is not replicated.
    pub fn read(&self, now: Instant) -> Option<&Object> {
        if !self.is_visible(now) {
            return None;
        }
        if self.changed_at <= now {
            return Some(&self.obj);
        }
        let replicated = self.earlier.iter().rev().find(|(at, _)| *at <= now);
        // No earlier version is readable only when a test moved `visible_at` by hand; the
        // newest version is then the one that exists.
        Some(replicated.map_or(&self.obj, |(_, obj)| obj))
    }

    /// Stores a new version that reads see only after `lag`.
    pub fn update(&mut self, obj: Object, lag: Duration) {
        let now = Instant::now();
        if lag.is_zero() {
            self.obj = obj;
            self.changed_at = self.changed_at.min(now);
            self.earlier.clear();
            return;
        }
        let previous = std::mem::replace(&mut self.obj, obj);
        self.earlier.push((self.changed_at, previous));
        // A version already replaced by a replicated later one can no longer be read.
        if let Some(last_seen) = self.earlier.iter().rposition(|(at, _)| *at <= now) {
            self.earlier.drain(..last_seen);
        }
        self.changed_at = self.changed_at.max(now + lag);
    }

    /// Ends replication lag: the newest version is what every read sees from now on.
    pub fn replicate(&mut self, now: Instant) {
        self.visible_at = self.visible_at.min(now);
        self.changed_at = self.changed_at.min(now);
        self.earlier.clear();
    }

    pub fn str(&self, key: &str) -> &str {
        self.obj.get(key).and_then(Value::as_str).unwrap_or("")
    }
}

#[derive(Default)]
pub struct Directory {
    /// Keyed by lower-case object id.
    pub applications: HashMap<String, Stored>,
    pub service_principals: HashMap<String, Stored>,
    pub deleted: HashMap<String, Stored>,
    /// App role assignments, keyed by their (case-sensitive) id.
    pub assignments: HashMap<String, Stored>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    next_seq: u64,
}

/// Whether a principal of an app role assignment is a user or a group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PrincipalKind {
    User,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "User",
            PrincipalKind::Group => "Group",
        }
    }
}

/// A user or group as an assignment sees it.
#[derive(Clone, Debug)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub id: String,
    pub display_name: String,
    pub visible_at: Instant,
}

impl Directory {
    pub fn new(users: Vec<User>, groups: Vec<Group>) -> Self {
        Self {
            users,
            groups,
            ..Self::default()
        }
    }

    fn stored(&mut self, obj: Object, lag: Duration) -> Stored {
        self.next_seq += 1;
        Stored::new(obj, self.next_seq, Instant::now() + lag)
    }

    pub fn insert_application(&mut self, obj: Object, lag: Duration) {
        let id = id_of(&obj);
        let s = self.stored(obj, lag);
        self.applications.insert(id, s);
    }

    pub fn insert_service_principal(&mut self, obj: Object, lag: Duration) {
        let id = id_of(&obj);
        let s = self.stored(obj, lag);
        self.service_principals.insert(id, s);
    }

    pub fn insert_assignment(&mut self, obj: Object, lag: Duration) {
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let s = self.stored(obj, lag);
        self.assignments.insert(id, s);
    }

    /// Ends replication lag for every object, pending change and assignment.
    pub fn replicate_all(&mut self, now: Instant) {
        let stored = self
            .applications
            .values_mut()
            .chain(self.service_principals.values_mut())
            .chain(self.assignments.values_mut());
        for s in stored {
            s.replicate(now);
        }
        for u in &mut self.users {
            u.visible_at = u.visible_at.min(now);
        }
        for g in &mut self.groups {
            g.visible_at = g.visible_at.min(now);
        }
    }

    /// A user by object id or user principal name (case-insensitive), ignoring lag.
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn)
        })
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// The user or group with this object id, ignoring lag.
    pub fn principal(&self, id: &str) -> Option<Principal> {
        if let Some(u) = self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id)) {
            return Some(Principal {
                kind: PrincipalKind::User,
                id: u.id.clone(),
                display_name: u.display_name.clone(),
                visible_at: u.visible_at,
            });
        }
        self.group(id).map(|g| Principal {
            kind: PrincipalKind::Group,
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            visible_at: g.visible_at,
        })
    }

    /// Deletes a user, its group memberships and its app role assignments.
    pub fn remove_user(&mut self, id: &str) -> bool {
        let before = self.users.len();
        self.users.retain(|u| !u.id.eq_ignore_ascii_case(id));
        let removed = self.users.len() < before;
        if removed {
            self.forget_principal(id);
        }
        removed
    }

    /// Deletes a group (not its members), its memberships in other groups and its assignments.
    pub fn remove_group(&mut self, id: &str) -> bool {
        let before = self.groups.len();
        self.groups.retain(|g| !g.id.eq_ignore_ascii_case(id));
        let removed = self.groups.len() < before;
        if removed {
            self.forget_principal(id);
        }
        removed
    }

    fn forget_principal(&mut self, id: &str) {
        for g in &mut self.groups {
            g.members.retain(|m| !m.eq_ignore_ascii_case(id));
        }
        self.assignments
            .retain(|_, a| !a.str("principalId").eq_ignore_ascii_case(id));
    }

    /// Deletes a service principal and every assignment to it.
    pub fn remove_service_principal(&mut self, id: &str) -> Option<Stored> {
        let removed = self.service_principals.remove(&id.to_ascii_lowercase())?;
        self.assignments
            .retain(|_, a| !a.str("resourceId").eq_ignore_ascii_case(id));
        Some(removed)
    }

    /// The object id of the application with this client id (ignoring lag).
    pub fn application_by_app_id(&self, app_id: &str) -> Option<&Stored> {
        self.applications
            .values()
            .find(|s| s.str("appId").eq_ignore_ascii_case(app_id))
    }

    pub fn service_principal_id_for(&self, app_id: &str) -> Option<String> {
        self.service_principals
            .iter()
            .find(|(_, s)| s.str("appId").eq_ignore_ascii_case(app_id))
            .map(|(k, _)| k.clone())
    }

    /// Soft-deletes an application (to deleted items) and hard-deletes its service principal.
    pub fn delete_application(&mut self, object_id: &str, now_text: &str) -> Option<()> {
        let mut stored = self.applications.remove(&object_id.to_ascii_lowercase())?;
        let app_id = stored.str("appId").to_string();
        if let Some(sp) = self.service_principal_id_for(&app_id) {
            self.remove_service_principal(&sp);
        }
        stored
            .obj
            .insert("deletedDateTime".into(), Value::String(now_text.into()));
        self.deleted.insert(object_id.to_ascii_lowercase(), stored);
        Some(())
    }

    /// Copies what Entra copies from an application to its service principal; reads of the
    /// service principal see the copy after `lag`, like reads of the application.
    pub fn sync_service_principal(&mut self, object_id: &str, lag: Duration) {
        let Some(app) = self.applications.get(&object_id.to_ascii_lowercase()) else {
            return;
        };
        let app = app.obj.clone();
        let app_id = app.get("appId").and_then(Value::as_str).unwrap_or("");
        let Some(sp_id) = self.service_principal_id_for(app_id) else {
            return;
        };
        let Some(stored) = self.service_principals.get_mut(&sp_id) else {
            return;
        };
        let mut next = stored.obj.clone();
        let sp = &mut next;
        let get = |k: &str| app.get(k).cloned().unwrap_or(Value::Null);
        sp.insert("displayName".into(), get("displayName"));
        sp.insert("appDisplayName".into(), get("displayName"));
        sp.insert("appRoles".into(), get("appRoles"));
        let scopes = app
            .get("api")
            .and_then(|a| a.get("oauth2PermissionScopes"))
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        sp.insert("oauth2PermissionScopes".into(), scopes);
        let mut names = vec![Value::String(app_id.to_string())];
        if let Some(Value::Array(uris)) = app.get("identifierUris") {
            names.extend(uris.iter().cloned());
        }
        sp.insert("servicePrincipalNames".into(), Value::Array(names));
        let mut reply = Vec::new();
        for platform in ["web", "publicClient", "spa"] {
            if let Some(Value::Array(uris)) = app.get(platform).and_then(|p| p.get("redirectUris"))
            {
                reply.extend(uris.iter().cloned());
            }
        }
        sp.insert("replyUrls".into(), Value::Array(reply));
        stored.update(next, lag);
    }
}

fn id_of(obj: &Object) -> String {
    obj.get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Graph's PATCH merge: top-level properties replace, except that an object-valued
/// property (e.g. `api`, `web`, `publicClient`) keeps the sub-properties the patch leaves
/// out. `@odata.*` annotations are ignored.
pub fn merge(target: &mut Object, patch: &Object) {
    for (key, value) in patch {
        if key.starts_with('@') {
            continue;
        }
        match (target.get_mut(key), value) {
            (Some(Value::Object(current)), Value::Object(sub)) => {
                for (k, v) in sub {
                    current.insert(k.clone(), v.clone());
                }
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// What Graph reads see of `map` at `now`, in creation order.
pub fn readable(map: &HashMap<String, Stored>, now: Instant) -> Vec<&Object> {
    in_order(map)
        .into_iter()
        .filter_map(|s| s.read(now))
        .collect()
}

/// Items of `map` sorted by creation order.
pub fn in_order(map: &HashMap<String, Stored>) -> Vec<&Stored> {
    let mut items: Vec<&Stored> = map.values().collect();
    items.sort_by_key(|s| s.seq);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn named(name: &str) -> Object {
        let v = json!({"id": "x", "displayName": name});
        v.as_object().unwrap().clone()
    }

    fn shown(s: &Stored) -> Option<&str> {
        s.read(Instant::now())
            .map(|o| o["displayName"].as_str().unwrap())
    }

    #[test]
    fn reads_see_the_last_replicated_version() {
        let long = Duration::from_secs(60);
        let mut s = Stored::new(named("v1"), 1, Instant::now());
        s.update(named("v2"), long);
        s.update(named("v3"), long);
        assert_eq!(shown(&s), Some("v1"), "neither change has replicated");
        assert_eq!(s.obj["displayName"], "v3", "writers see the newest");
        s.replicate(Instant::now());
        assert_eq!(shown(&s), Some("v3"));
        s.update(named("v4"), Duration::ZERO);
        assert_eq!(shown(&s), Some("v4"), "no lag: visible at once");
    }

    #[test]
    fn an_earlier_change_replicates_before_a_later_one() {
        let mut s = Stored::new(named("v1"), 1, Instant::now());
        s.update(named("v2"), Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(40));
        s.update(named("v3"), Duration::from_secs(60));
        assert_eq!(shown(&s), Some("v2"));
        assert_eq!(
            s.earlier.len(),
            1,
            "v1 can no longer be read and is dropped"
        );
    }

    #[test]
    fn an_object_inside_its_creation_lag_is_not_readable() {
        let mut s = Stored::new(named("v1"), 1, Instant::now() + Duration::from_secs(60));
        s.update(named("v2"), Duration::from_secs(60));
        assert_eq!(shown(&s), None);
        s.replicate(Instant::now());
        assert_eq!(shown(&s), Some("v2"));
    }

    #[test]
    fn merge_keeps_omitted_api_sub_properties() {
        let mut app = json!({"displayName":"a","api":{"requestedAccessTokenVersion":null,"oauth2PermissionScopes":[1]},"tags":["x"]});
        let patch = json!({"api":{"requestedAccessTokenVersion":2},"tags":[]});
        merge(app.as_object_mut().unwrap(), patch.as_object().unwrap());
        assert_eq!(
            app,
            json!({"displayName":"a","api":{"requestedAccessTokenVersion":2,"oauth2PermissionScopes":[1]},"tags":[]})
        );
    }
}

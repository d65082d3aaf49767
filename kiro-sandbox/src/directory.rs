//! The Entra directory of one tenant: applications, service principals, deleted items,
//! users and groups. Created objects carry a `visible_at` instant that models replication
//! lag: until then Graph reads behave as if the object did not exist.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::seed::{Group, User};

pub type Object = Map<String, Value>;

#[derive(Clone, Debug)]
pub struct Stored {
    pub obj: Object,
    /// Creation order, for stable listing and paging.
    pub seq: u64,
    pub visible_at: Instant,
}

impl Stored {
    pub fn is_visible(&self, now: Instant) -> bool {
        self.visible_at <= now
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
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    next_seq: u64,
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
        Stored {
            obj,
            seq: self.next_seq,
            visible_at: Instant::now() + lag,
        }
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
            self.service_principals.remove(&sp);
        }
        stored
            .obj
            .insert("deletedDateTime".into(), Value::String(now_text.into()));
        self.deleted.insert(object_id.to_ascii_lowercase(), stored);
        Some(())
    }

    /// Copies what Entra copies from an application to its service principal.
    pub fn sync_service_principal(&mut self, object_id: &str) {
        let Some(app) = self.applications.get(&object_id.to_ascii_lowercase()) else {
            return;
        };
        let app = app.obj.clone();
        let app_id = app.get("appId").and_then(Value::as_str).unwrap_or("");
        let Some(sp_id) = self.service_principal_id_for(app_id) else {
            return;
        };
        let Some(sp) = self.service_principals.get_mut(&sp_id) else {
            return;
        };
        let sp = &mut sp.obj;
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

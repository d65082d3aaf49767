//! Kiro's SCIM 2.0 endpoint (RFC 7643/7644), one directory per Kiro profile, answering the
//! way Entra's provisioning service expects and enforcing Kiro's rules (kiro-api.md, "The
//! SCIM endpoint"). [`router`] serves `/{region}/{directory}/scim/v2/...` and is mounted under
//! [`MOUNT`]; [`control_router`] lets tests make a directory and a token before the admin API
//! exists.

mod document;
mod error;
mod filter;
mod http;
mod patch;
mod schema;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Map, Value, json};

pub use error::ScimError;
pub use http::{control_router, router};

use document::Meta;
use schema::Resource;

/// Where the sandbox mounts [`router`]: a profile's SCIM base URL is
/// `{sandbox}/scim/{region}/{profile id}/scim/v2`.
pub const MOUNT: &str = "/scim";

/// Says whether a bearer token may call a directory's SCIM endpoint (the admin API's SCIM
/// access tokens).
pub trait TokenCheck: Send + Sync {
    fn check(&self, directory: &str, bearer: &str) -> bool;
}

/// A provisioned user, as the admin API's ListUsers shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    pub id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The one email Kiro keeps.
    pub email: Option<String>,
}

/// A provisioned group with its members' user ids.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

fn text(doc: &Map<String, Value>, key: &str) -> Option<String> {
    doc.get(key).and_then(Value::as_str).map(str::to_string)
}

impl ScimUser {
    fn from_stored(s: &Stored) -> Self {
        let name = s.doc.get("name");
        let name_part = |k: &str| {
            name.and_then(|n| n.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Self {
            id: s.id.clone(),
            user_name: text(&s.doc, "userName").unwrap_or_default(),
            external_id: text(&s.doc, "externalId"),
            display_name: text(&s.doc, "displayName"),
            active: s
                .doc
                .get("active")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            given_name: name_part("givenName"),
            family_name: name_part("familyName"),
            email: s
                .doc
                .get("emails")
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("value"))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    fn to_document(&self) -> Map<String, Value> {
        let mut doc = Map::new();
        doc.insert("userName".into(), json!(self.user_name));
        doc.insert("active".into(), json!(self.active));
        if let Some(v) = &self.external_id {
            doc.insert("externalId".into(), json!(v));
        }
        if let Some(v) = &self.display_name {
            doc.insert("displayName".into(), json!(v));
        }
        let mut name = Map::new();
        if let Some(v) = &self.given_name {
            name.insert("givenName".into(), json!(v));
        }
        if let Some(v) = &self.family_name {
            name.insert("familyName".into(), json!(v));
        }
        if !name.is_empty() {
            doc.insert("name".into(), Value::Object(name));
        }
        if let Some(v) = &self.email {
            doc.insert(
                "emails".into(),
                json!([{"value": v, "type": "work", "primary": true}]),
            );
        }
        doc
    }
}

impl ScimGroup {
    fn from_stored(s: &Stored) -> Self {
        Self {
            id: s.id.clone(),
            display_name: text(&s.doc, "displayName").unwrap_or_default(),
            external_id: text(&s.doc, "externalId"),
            members: member_ids(&s.doc),
        }
    }

    fn to_document(&self) -> Map<String, Value> {
        let mut doc = Map::new();
        doc.insert("displayName".into(), json!(self.display_name));
        if let Some(v) = &self.external_id {
            doc.insert("externalId".into(), json!(v));
        }
        if !self.members.is_empty() {
            let members: Vec<Value> = self.members.iter().map(|m| json!({"value": m})).collect();
            doc.insert("members".into(), Value::Array(members));
        }
        doc
    }
}

fn member_ids(doc: &Map<String, Value>) -> Vec<String> {
    doc.get("members")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One stored resource: its id, canonical document (without `id`, `schemas`, `meta`) and times.
#[derive(Clone, Debug)]
struct Stored {
    id: String,
    doc: Map<String, Value>,
    meta: Meta,
}

/// One profile's directory. Vectors keep creation order, which list pages follow.
#[derive(Default)]
struct Directory {
    users: Vec<Stored>,
    groups: Vec<Stored>,
    /// Tokens issued by the control API ([`control_router`]) for tests.
    control_tokens: Vec<String>,
}

impl Directory {
    fn list(&self, res: Resource) -> &Vec<Stored> {
        match res {
            Resource::User => &self.users,
            Resource::Group => &self.groups,
        }
    }

    fn list_mut(&mut self, res: Resource) -> &mut Vec<Stored> {
        match res {
            Resource::User => &mut self.users,
            Resource::Group => &mut self.groups,
        }
    }

    /// The attribute that must be unique, case-insensitively, per resource type.
    fn unique_attr(res: Resource) -> &'static str {
        match res {
            Resource::User => "userName",
            Resource::Group => "displayName",
        }
    }

    /// 409 `uniqueness` when another resource (not `except`) has the same unique value.
    fn check_unique(
        &self,
        res: Resource,
        doc: &Map<String, Value>,
        except: Option<&str>,
    ) -> Result<(), ScimError> {
        let key = Self::unique_attr(res);
        let Some(wanted) = doc.get(key).and_then(Value::as_str) else {
            return Ok(());
        };
        let clash = self.list(res).iter().find(|s| {
            Some(s.id.as_str()) != except
                && s.doc
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
        });
        match clash {
            Some(other) => Err(ScimError::uniqueness(format!(
                "{key} `{wanted}` is already used by {} {}",
                res.name(),
                other.id
            ))),
            None => Ok(()),
        }
    }

    /// 400 `invalidValue` when a group names a member that is no user of this directory.
    fn check_members(&self, doc: &Map<String, Value>) -> Result<(), ScimError> {
        for id in member_ids(doc) {
            if !self.users.iter().any(|u| u.id == id) {
                return Err(ScimError::invalid_value(format!(
                    "member `{id}` is no user of this directory"
                )));
            }
        }
        Ok(())
    }

    fn remove_user(&mut self, user_id: &str) -> bool {
        let before = self.users.len();
        self.users.retain(|u| u.id != user_id);
        if self.users.len() == before {
            return false;
        }
        for g in &mut self.groups {
            if let Some(Value::Array(ms)) = g.doc.get_mut("members") {
                ms.retain(|m| m["value"] != user_id);
                if ms.is_empty() {
                    g.doc.remove("members");
                }
            }
        }
        true
    }

    /// Stores `doc` as a new resource or, when the unique attribute already names one, as
    /// that resource's new document (an insert "as if SCIM delivered it" is an upsert).
    fn upsert(&mut self, res: Resource, id: String, doc: Map<String, Value>) -> Stored {
        let now = time::OffsetDateTime::now_utc();
        let key = Self::unique_attr(res);
        let wanted = doc
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let list = self.list_mut(res);
        let existing = list.iter_mut().find(|s| {
            s.id == id
                || s.doc
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(&wanted))
        });
        match existing {
            Some(s) => {
                s.doc = doc;
                s.meta.last_modified = now;
                s.clone()
            }
            None => {
                let id = if id.is_empty() {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    id
                };
                let stored = Stored {
                    id,
                    doc,
                    meta: Meta {
                        created: now,
                        last_modified: now,
                    },
                };
                list.push(stored.clone());
                stored
            }
        }
    }
}

/// Every profile's SCIM directory.
#[derive(Default)]
pub struct Scim {
    directories: Mutex<HashMap<String, Directory>>,
}

impl Scim {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Directory>> {
        // A panic while holding the lock leaves whole documents (each write replaces one), so
        // the data is still consistent.
        self.directories.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes an empty directory for profile `id` (keeps an existing one).
    pub fn create_directory(&self, id: &str) {
        self.lock().entry(id.to_string()).or_default();
    }

    /// Deletes profile `id`'s directory with its users, groups and control tokens.
    pub fn delete_directory(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The directory's users in creation order (empty for an unknown directory).
    pub fn users(&self, id: &str) -> Vec<ScimUser> {
        self.lock()
            .get(id)
            .map(|d| d.users.iter().map(ScimUser::from_stored).collect())
            .unwrap_or_default()
    }

    /// The directory's groups in creation order (empty for an unknown directory).
    pub fn groups(&self, id: &str) -> Vec<ScimGroup> {
        self.lock()
            .get(id)
            .map(|d| d.groups.iter().map(ScimGroup::from_stored).collect())
            .unwrap_or_default()
    }

    /// Stores a user as if SCIM had delivered it: a new id when `user.id` is empty, and an
    /// existing user with the same id or userName (any case) is updated in place. Creates the
    /// directory when it does not exist.
    pub fn insert_user(&self, id: &str, user: ScimUser) -> ScimUser {
        let doc = user.to_document();
        let mut dirs = self.lock();
        let stored = dirs
            .entry(id.to_string())
            .or_default()
            .upsert(Resource::User, user.id, doc);
        ScimUser::from_stored(&stored)
    }

    /// Stores a group as if SCIM had delivered it (same rules as [`Scim::insert_user`], by
    /// displayName). Member ids are kept as given.
    pub fn insert_group(&self, id: &str, group: ScimGroup) -> ScimGroup {
        let doc = group.to_document();
        let mut dirs = self.lock();
        let stored = dirs
            .entry(id.to_string())
            .or_default()
            .upsert(Resource::Group, group.id, doc);
        ScimGroup::from_stored(&stored)
    }

    /// Deletes a user (and its group memberships); false when there was none.
    pub fn remove_user(&self, id: &str, user_id: &str) -> bool {
        self.lock()
            .get_mut(id)
            .is_some_and(|d| d.remove_user(user_id))
    }

    /// A new bearer token for `directory`, valid until the directory is deleted; `None` when
    /// there is no such directory.
    fn issue_control_token(&self, directory: &str) -> Option<String> {
        let token = format!("scim-sandbox-{}", uuid::Uuid::new_v4().simple());
        self.lock().get_mut(directory).map(|d| {
            d.control_tokens.push(token.clone());
            token
        })
    }
}

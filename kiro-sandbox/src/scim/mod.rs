//! STAND-IN for the SCIM module another engineer is writing: the same public signatures, an
//! in-memory directory per profile and no HTTP routes beyond a bearer check. The lead replaces
//! this file with the real module on merge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde::Serialize;

type Directory = (Vec<ScimUser>, Vec<ScimGroup>);

#[derive(Default)]
pub struct Scim {
    directories: Mutex<HashMap<String, Directory>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimUser {
    pub id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimGroup {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

pub trait TokenCheck: Send + Sync {
    fn check(&self, directory: &str, bearer: &str) -> bool;
}

impl Scim {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Directory) -> T) -> T {
        let mut dirs = self.directories.lock().unwrap_or_else(|e| e.into_inner());
        f(dirs.entry(id.to_string()).or_default())
    }

    pub fn create_directory(&self, id: &str) {
        self.with(id, |_| ());
    }

    pub fn delete_directory(&self, id: &str) {
        let mut dirs = self.directories.lock().unwrap_or_else(|e| e.into_inner());
        dirs.remove(id);
    }

    pub fn users(&self, id: &str) -> Vec<ScimUser> {
        self.with(id, |d| d.0.clone())
    }

    pub fn groups(&self, id: &str) -> Vec<ScimGroup> {
        self.with(id, |d| d.1.clone())
    }

    pub fn insert_user(&self, id: &str, mut user: ScimUser) -> ScimUser {
        if user.id.is_empty() {
            user.id = uuid::Uuid::new_v4().to_string();
        }
        self.with(id, |d| d.0.push(user.clone()));
        user
    }

    pub fn insert_group(&self, id: &str, mut group: ScimGroup) -> ScimGroup {
        if group.id.is_empty() {
            group.id = uuid::Uuid::new_v4().to_string();
        }
        self.with(id, |d| d.1.push(group.clone()));
        group
    }

    pub fn remove_user(&self, id: &str, user_id: &str) -> bool {
        self.with(id, |d| {
            let before = d.0.len();
            d.0.retain(|u| u.id != user_id);
            d.0.len() != before
        })
    }
}

/// Only `GET /{region}/{directory}/scim/v2/Users`, answering 200 or 401 by the token check.
pub fn router(_scim: Arc<Scim>, tokens: Arc<dyn TokenCheck>) -> Router {
    Router::new().route(
        "/{region}/{directory}/scim/v2/Users",
        get(
            move |Path((_, directory)): Path<(String, String)>, headers: HeaderMap| async move {
                let bearer = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .unwrap_or("");
                if tokens.check(&directory, bearer) {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            },
        ),
    )
}

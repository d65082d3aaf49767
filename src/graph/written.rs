//! What this client wrote to each application: the version Graph holds once the client's
//! writes have replicated. We know what we wrote, so a read-modify-write starts from it while
//! a GET may still show an older version (a writer that started from the older list would
//! write it back and drop the previous change), reads in this process see it, and waiting for
//! Graph to show it is left to the one place that needs it: before the process ends, since
//! the next command's refresh reads Graph ([`GraphClient::settle`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::applications::{Application, PermissionScope, Platform};
use super::client::GraphClient;
use super::consistency::wait_until;
use super::error::GraphError;
use super::patch::ApplicationPatch;

/// The properties that writes not yet seen on a GET set.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Touched {
    display_name: bool,
    identifier_uris: bool,
    token_version: bool,
    scopes: bool,
    platforms: [bool; 3],
}

impl Touched {
    fn add(&mut self, patch: &ApplicationPatch) {
        self.display_name |= patch.display_name.is_some();
        self.identifier_uris |= patch.identifier_uris.is_some();
        if let Some(api) = &patch.api {
            self.token_version |= api.requested_access_token_version.is_some();
            self.scopes |= api.oauth2_permission_scopes.is_some();
        }
        for (i, block) in [&patch.public_client, &patch.web, &patch.spa]
            .into_iter()
            .enumerate()
        {
            self.platforms[i] |= block.is_some();
        }
    }
}

/// Same scopes (by id, every named setting), in any order.
fn same_scopes(read: &[PermissionScope], known: &[PermissionScope]) -> bool {
    read.len() == known.len()
        && known.iter().all(|k| {
            read.iter()
                .any(|r| r.id.eq_ignore_ascii_case(&k.id) && r.same_settings(k))
        })
}

/// Same strings, in any order.
fn same_set(read: &[String], known: &[String]) -> bool {
    read.len() == known.len() && known.iter().all(|k| read.contains(k))
}

/// True when `read` shows every property `touched` names as `known` has it.
fn shows(read: &Application, known: &Application, touched: &Touched) -> bool {
    let token = |a: &Application| {
        a.api
            .as_ref()
            .and_then(|a| a.requested_access_token_version)
    };
    (!touched.display_name || read.display_name == known.display_name)
        && (!touched.identifier_uris || same_set(&read.identifier_uris, &known.identifier_uris))
        && (!touched.token_version || token(read) == token(known))
        && (!touched.scopes || same_scopes(read.scopes(), known.scopes()))
        && Platform::ALL.iter().enumerate().all(|(i, p)| {
            !touched.platforms[i] || same_set(read.redirect_uris(*p), known.redirect_uris(*p))
        })
}

#[derive(Clone, Debug)]
struct Entry {
    /// The application as Graph holds it after this client's last write.
    known: Application,
    /// What writes set since a GET last showed them all; nothing when Graph shows `known`.
    touched: Touched,
    /// What any write of this client set.
    ever: Touched,
}

impl Entry {
    fn confirmed(&self) -> bool {
        self.touched == Touched::default()
    }
}

/// Per application object id: the newest version this client knows it wrote.
#[derive(Debug, Default)]
pub(crate) struct WrittenApplications {
    entries: Mutex<HashMap<String, Entry>>,
}

impl WrittenApplications {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `patch` was carried out on `known` (already patched).
    pub(crate) fn record(&self, object_id: &str, known: Application, patch: &ApplicationPatch) {
        let mut entries = self.entries();
        let entry = entries.entry(object_id.to_string()).or_insert(Entry {
            known: known.clone(),
            touched: Touched::default(),
            ever: Touched::default(),
        });
        entry.known = known;
        entry.touched.add(patch);
        entry.ever.add(patch);
    }

    /// The version written last, while no GET has shown it yet.
    pub(crate) fn unconfirmed(&self, object_id: &str) -> Option<Application> {
        let entries = self.entries();
        let entry = entries.get(object_id)?;
        (!entry.confirmed()).then(|| entry.known.clone())
    }

    /// The newer of `read` (a GET) and what this client wrote: `read` when it shows every
    /// write (which is then confirmed), else the written version.
    pub(crate) fn newest(&self, object_id: &str, read: Application) -> Application {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(object_id) else {
            return read;
        };
        let touched = if entry.confirmed() {
            // A replica may lag behind one read earlier: compare everything we wrote.
            entry.ever
        } else {
            entry.touched
        };
        if shows(&read, &entry.known, &touched) {
            entry.known = read.clone();
            entry.touched = Touched::default();
            read
        } else {
            entry.known.clone()
        }
    }

    /// Marks the writes confirmed when `read` shows them all; true when nothing is left
    /// unconfirmed.
    pub(crate) fn confirm(&self, object_id: &str, read: &Application) -> bool {
        let mut entries = self.entries();
        match entries.get_mut(object_id) {
            Some(entry) if !entry.confirmed() => {
                if shows(read, &entry.known, &entry.touched) {
                    entry.touched = Touched::default();
                }
                entry.confirmed()
            }
            _ => true,
        }
    }

    /// Applications with writes no GET has shown yet.
    pub(crate) fn pending(&self) -> Vec<String> {
        let entries = self.entries();
        let mut ids: Vec<String> = entries
            .iter()
            .filter(|(_, e)| !e.confirmed())
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Drops what was known of a deleted application.
    pub(crate) fn forget(&self, object_id: &str) {
        self.entries().remove(object_id);
    }
}

impl GraphClient {
    /// Waits (up to `timeout` for all) until Graph shows every application write this client
    /// made, so the next command's refresh reads what was written. An application that is
    /// gone is not waited for; what does not show in time is logged, not failed: the writes
    /// were accepted, and the resources reported them done.
    pub async fn settle(&self, timeout: Duration) {
        let pending = self.written().pending();
        if pending.is_empty() {
            return;
        }
        tracing::debug!(
            applications = pending.len(),
            "waiting until Graph shows this run's application writes"
        );
        let waits = pending.iter().map(|id| self.confirmed(id, timeout));
        for (id, result) in pending.iter().zip(futures::future::join_all(waits).await) {
            if let Err(e) = result {
                tracing::warn!(object_id = %id, error = %e, "Graph does not show this run's writes to the application yet; the next refresh may read an older version");
            }
        }
    }

    /// Polls the application until a GET shows every write of this client (or it is gone).
    pub(crate) async fn confirmed(
        &self,
        object_id: &str,
        timeout: Duration,
    ) -> Result<(), GraphError> {
        let what = format!("application {object_id} to show this run's changes");
        wait_until(&what, timeout, || async {
            Ok(match self.get_application(object_id).await? {
                Some(read) => self.written().confirm(object_id, &read).then_some(()),
                None => Some(()),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graph::patch::ApiPatch;

    fn app(scopes: serde_json::Value, uris: &[&str]) -> Application {
        serde_json::from_value(json!({"id": "o", "appId": "a", "displayName": "Kiro",
            "api": {"oauth2PermissionScopes": scopes},
            "publicClient": {"redirectUris": uris}}))
        .unwrap()
    }

    fn scope(id: &str, enabled: bool) -> serde_json::Value {
        json!({"id": id, "value": format!("v{id}"), "type": "User", "isEnabled": enabled})
    }

    #[test]
    fn a_stale_read_gives_way_to_what_was_written_until_a_read_shows_it() {
        let written = WrittenApplications::default();
        let before = app(json!([scope("s1", true)]), &[]);
        assert_eq!(
            written.newest("o", before.clone()),
            before,
            "nothing written"
        );
        let patch = ApplicationPatch::scopes(vec![]);
        let mut known = before.clone();
        patch.apply_to(&mut known);
        written.record("o", known.clone(), &patch);
        assert_eq!(written.pending(), ["o"]);
        assert_eq!(written.unconfirmed("o"), Some(known.clone()));
        // A lagging replica still shows the scope: the written version wins.
        assert_eq!(written.newest("o", before.clone()), known);
        assert!(!written.confirm("o", &before));
        // A read that shows the write confirms it; what Graph added is kept from then on.
        let mut shown = known.clone();
        shown.extra.insert("tags".into(), json!(["x"]));
        assert!(written.confirm("o", &shown));
        assert!(written.pending().is_empty() && written.unconfirmed("o").is_none());
        // Confirmed: a replica one step behind is still not taken for newer.
        assert_eq!(written.newest("o", before.clone()), known);
        assert_eq!(written.newest("o", shown.clone()), shown);
        written.forget("o");
        assert_eq!(written.newest("o", before.clone()), before);
    }

    #[test]
    fn only_the_properties_written_are_compared() {
        let written = WrittenApplications::default();
        let before = app(json!([scope("s1", true)]), &["kiro://cb"]);
        let patch = ApplicationPatch {
            api: Some(ApiPatch {
                requested_access_token_version: Some(2),
                ..ApiPatch::default()
            }),
            ..ApplicationPatch::default()
        };
        let mut known = before.clone();
        patch.apply_to(&mut known);
        written.record("o", known.clone(), &patch);
        // Someone else's redirect URI change does not stop the confirmation.
        let mut read = known.clone();
        read.public_client.as_mut().unwrap().redirect_uris = vec!["http://localhost/cb".into()];
        assert!(written.confirm("o", &read));
    }
}

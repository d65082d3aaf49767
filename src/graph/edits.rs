//! Edits of an application's whole-list properties (delegated scopes, redirect URIs) and of
//! its plain properties, as values, and how a batch of them becomes PATCHes.
//!
//! Graph only takes whole lists, so every edit is a read-modify-write of the application.
//! Edits are queued per application and carried out by whoever holds the application's lock
//! ([`super::edit_queue`]): all edits queued by then are applied to one version of the
//! application and go out as one PATCH (two when an enabled scope must first be disabled),
//! and each caller gets its own outcome. Do not call these while holding that lock yourself:
//! the lock is not re-entrant.

use std::time::Duration;

use super::applications::{Application, PermissionScope, Platform};
use super::client::GraphClient;
use super::error::GraphError;
use super::patch::ApplicationPatch;

/// The scope with id `scope_id` (a GUID: compared ignoring case), if the application has it.
pub fn find_scope<'a>(app: &'a Application, scope_id: &str) -> Option<&'a PermissionScope> {
    app.scopes().iter().find(|s| same_id(&s.id, scope_id))
}

/// Scope ids are GUIDs; Graph may spell one in another case than the configuration.
fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Adds the fields Graph sent for `current` that `wanted` does not set, so replacing a scope
/// with a value built from configuration keeps what Graph added to it.
fn keep_unknown_fields(wanted: &mut PermissionScope, current: &PermissionScope) {
    for (key, value) in &current.extra {
        if !wanted.extra.contains_key(key) {
            wanted.extra.insert(key.clone(), value.clone());
        }
    }
}

/// One caller's change to an application.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Insert the scope, or replace the one with the same id.
    PutScope(PermissionScope),
    /// Remove the scope with this id.
    RemoveScope(String),
    /// Add the redirect URI to the platform's list.
    AddRedirectUri(Platform, String),
    /// Remove the redirect URI from the platform's list.
    RemoveRedirectUri(Platform, String),
    /// Set plain properties (no whole lists that other edits build).
    Properties(ApplicationPatch),
}

/// What one edit did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The scope as written (or as it was, when nothing differed).
    Scope(PermissionScope),
    /// Whether anything changed (`false`: the URI or scope was already there / not there).
    Changed(bool),
}

/// A batch of edits applied to one version of the application: each edit's outcome (an edit
/// that cannot be made fails alone) and the PATCHes that carry the others out, in order.
#[derive(Debug)]
pub(crate) struct Planned {
    pub outcomes: Vec<Result<Outcome, GraphError>>,
    pub writes: Vec<ApplicationPatch>,
}

/// The lists as the edits leave them.
struct Working {
    scopes: Vec<PermissionScope>,
    uris: [Vec<String>; 3],
    properties: ApplicationPatch,
}

fn platform_index(platform: Platform) -> usize {
    Platform::ALL
        .iter()
        .position(|p| *p == platform)
        .unwrap_or(0)
}

impl Working {
    fn apply(&mut self, object_id: &str, edit: &Edit) -> Result<Outcome, GraphError> {
        match edit {
            Edit::PutScope(scope) => self.put_scope(object_id, scope.clone()),
            Edit::RemoveScope(id) => {
                let before = self.scopes.len();
                self.scopes.retain(|s| !same_id(&s.id, id));
                Ok(Outcome::Changed(self.scopes.len() != before))
            }
            Edit::AddRedirectUri(platform, uri) => {
                let uris = &mut self.uris[platform_index(*platform)];
                let add = !uris.contains(uri);
                if add {
                    uris.push(uri.clone());
                }
                Ok(Outcome::Changed(add))
            }
            Edit::RemoveRedirectUri(platform, uri) => {
                let uris = &mut self.uris[platform_index(*platform)];
                let before = uris.len();
                uris.retain(|u| u != uri);
                Ok(Outcome::Changed(uris.len() != before))
            }
            Edit::Properties(patch) => {
                self.properties.merge(patch.clone());
                Ok(Outcome::Changed(true))
            }
        }
    }

    /// A scope value names one scope of the application: a second scope with the same value
    /// is refused here, alone, before anything is sent.
    fn put_scope(
        &mut self,
        object_id: &str,
        mut wanted: PermissionScope,
    ) -> Result<Outcome, GraphError> {
        let taken = self
            .scopes
            .iter()
            .find(|s| !same_id(&s.id, &wanted.id) && s.value.is_some() && s.value == wanted.value);
        if let Some(other) = taken {
            return Err(GraphError::InvalidRequest(format!(
                "application {object_id} already has a scope with the value {:?} (id {})",
                wanted.value.as_deref().unwrap_or_default(),
                other.id
            )));
        }
        match self.scopes.iter_mut().find(|s| same_id(&s.id, &wanted.id)) {
            Some(slot) => {
                // Graph's spelling of the GUID, so a case difference is not a change.
                wanted.id.clone_from(&slot.id);
                keep_unknown_fields(&mut wanted, slot);
                *slot = wanted.clone();
            }
            None => self.scopes.push(wanted.clone()),
        }
        Ok(Outcome::Scope(wanted))
    }
}

/// The scope list to write first: Graph refuses to change or drop an enabled scope, so each
/// enabled scope of `base` that `last` changes or drops is written disabled (as it is) first.
fn disabled_first(base: &[PermissionScope], last: &[PermissionScope]) -> Vec<PermissionScope> {
    let mut first: Vec<PermissionScope> = Vec::new();
    for current in base {
        let next = last.iter().find(|s| same_id(&s.id, &current.id));
        match next {
            Some(next) if next == current => first.push(next.clone()),
            _ if current.is_enabled => first.push(PermissionScope {
                is_enabled: false,
                ..current.clone()
            }),
            Some(next) => first.push(next.clone()),
            None => {}
        }
    }
    let added = last
        .iter()
        .filter(|s| !base.iter().any(|b| same_id(&b.id, &s.id)));
    first.extend(added.cloned());
    first
}

/// A patch of one platform's block. `redirectUriSettings` is left out: Graph derives it from
/// `redirectUris`, and the copy that was read would contradict the new list.
fn set_platform(
    patch: &mut ApplicationPatch,
    platform: Platform,
    app: &Application,
    uris: &[String],
) {
    let mut block = app.platform(platform).cloned().unwrap_or_default();
    block.redirect_uris = uris.to_vec();
    block.extra.remove("redirectUriSettings");
    patch.set_platform(platform, block);
}

/// Applies `edits` in order to `base` and returns each one's outcome and the PATCHes.
pub(crate) fn plan(object_id: &str, base: &Application, edits: &[Edit]) -> Planned {
    let mut working = Working {
        scopes: base.scopes().to_vec(),
        uris: Platform::ALL.map(|p| base.redirect_uris(p).to_vec()),
        properties: ApplicationPatch::default(),
    };
    let outcomes = edits
        .iter()
        .map(|edit| working.apply(object_id, edit))
        .collect();
    let mut first = std::mem::take(&mut working.properties);
    for platform in Platform::ALL {
        let uris = &working.uris[platform_index(platform)];
        if uris.as_slice() != base.redirect_uris(platform) {
            set_platform(&mut first, platform, base, uris);
        }
    }
    let mut writes = Vec::new();
    if working.scopes.as_slice() != base.scopes() {
        let disabled = disabled_first(base.scopes(), &working.scopes);
        let last = (disabled != working.scopes).then(|| ApplicationPatch::scopes(working.scopes));
        first.merge(ApplicationPatch::scopes(disabled));
        writes.push(first);
        writes.extend(last);
    } else if !first.is_empty() {
        writes.push(first);
    }
    Planned { outcomes, writes }
}

impl GraphClient {
    /// Inserts `scope`, or replaces the scope with the same `id`, and returns it as written.
    /// Graph refuses to change an enabled scope, so an enabled one that differs is first
    /// written disabled, then replaced. Fields Graph sent for the existing scope that `scope`
    /// leaves out of `extra` are kept. No write when nothing differs. A scope whose value
    /// another scope of the application has is refused. `timeout` bounds the whole edit.
    pub async fn put_scope(
        &self,
        app_object_id: &str,
        scope: PermissionScope,
        timeout: Duration,
    ) -> Result<PermissionScope, GraphError> {
        match self
            .edit_application(app_object_id, Edit::PutScope(scope), timeout)
            .await?
        {
            Outcome::Scope(scope) => Ok(scope),
            Outcome::Changed(_) => Err(GraphError::decode(
                format!("adding a scope to application {app_object_id}"),
                "the edit gave no scope back",
            )),
        }
    }

    /// Removes the scope with id `scope_id` (disabling it first when it is enabled).
    /// `false` when the application has no such scope.
    pub async fn remove_scope(
        &self,
        app_object_id: &str,
        scope_id: &str,
        timeout: Duration,
    ) -> Result<bool, GraphError> {
        let edit = Edit::RemoveScope(scope_id.to_string());
        changed(self.edit_application(app_object_id, edit, timeout).await?)
    }

    /// Adds `uri` to the platform's redirect URIs; the other URIs stay. No write when it is
    /// already there.
    pub async fn add_redirect_uri(
        &self,
        app_object_id: &str,
        platform: Platform,
        uri: &str,
        timeout: Duration,
    ) -> Result<(), GraphError> {
        let edit = Edit::AddRedirectUri(platform, uri.to_string());
        changed(self.edit_application(app_object_id, edit, timeout).await?).map(drop)
    }

    /// Removes `uri` from the platform's redirect URIs; the other URIs stay. `false` when it
    /// was not there.
    pub async fn remove_redirect_uri(
        &self,
        app_object_id: &str,
        platform: Platform,
        uri: &str,
        timeout: Duration,
    ) -> Result<bool, GraphError> {
        let edit = Edit::RemoveRedirectUri(platform, uri.to_string());
        changed(self.edit_application(app_object_id, edit, timeout).await?)
    }

    /// Carries out `edits` together (as one batch when nobody else holds the application)
    /// and returns the application as Graph holds it afterwards. The first edit that fails
    /// fails the call.
    pub async fn edit_application_with(
        &self,
        app_object_id: &str,
        edits: Vec<Edit>,
        timeout: Duration,
    ) -> Result<Application, GraphError> {
        let calls = edits
            .into_iter()
            .map(|edit| self.edit_application(app_object_id, edit, timeout));
        for result in futures::future::join_all(calls).await {
            result?;
        }
        self.application_for_edit(app_object_id).await
    }
}

fn changed(outcome: Outcome) -> Result<bool, GraphError> {
    match outcome {
        Outcome::Changed(changed) => Ok(changed),
        Outcome::Scope(_) => Ok(true),
    }
}

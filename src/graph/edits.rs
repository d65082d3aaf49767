//! Edits of one entry of an application's whole-list properties: delegated scopes and
//! redirect URIs.
//!
//! Graph only takes whole lists, so every edit is a read-modify-write. Each runs under the
//! application's lock (`self.locks().lock(object_id)`), re-reads the application fresh, writes
//! the whole list, and then waits until a GET shows the change: a writer that re-read before
//! Graph showed the previous write would otherwise write the old list back and drop it.
//! Do not call these while holding that lock yourself: the lock is not re-entrant.

use std::time::Duration;

use tokio::time::Instant;

use super::applications::{Application, PermissionScope, Platform, application_path};
use super::client::GraphClient;
use super::consistency::wait_for_application;
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

/// `scopes` with `scope` in place of the one with the same id, or appended.
fn with_scope(scopes: &[PermissionScope], scope: &PermissionScope) -> Vec<PermissionScope> {
    let mut out = scopes.to_vec();
    match out.iter_mut().find(|s| same_id(&s.id, &scope.id)) {
        Some(slot) => *slot = scope.clone(),
        None => out.push(scope.clone()),
    }
    out
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

/// A patch of one platform's block. `redirectUriSettings` is left out: Graph derives it from
/// `redirectUris`, and the copy that was read would contradict the new list.
fn platform_patch(platform: Platform, app: &Application, uris: Vec<String>) -> ApplicationPatch {
    let mut block = app.platform(platform).cloned().unwrap_or_default();
    block.redirect_uris = uris;
    block.extra.remove("redirectUriSettings");
    let mut patch = ApplicationPatch::default();
    patch.set_platform(platform, block);
    patch
}

impl GraphClient {
    /// Inserts `scope`, or replaces the scope with the same `id`, and returns it as read back.
    /// Graph refuses to change an enabled scope, so an enabled one that differs is first
    /// written disabled, then replaced. Fields Graph sent for the existing scope that `scope`
    /// leaves out of `extra` are kept. No write when nothing differs. `timeout` bounds the
    /// waits for Graph to show each write.
    pub async fn put_scope(
        &self,
        app_object_id: &str,
        scope: PermissionScope,
        timeout: Duration,
    ) -> Result<PermissionScope, GraphError> {
        let deadline = Instant::now() + timeout;
        let _guard = self.locks().lock(app_object_id).await;
        let mut app = self.read_application(app_object_id).await?;
        let mut wanted = scope;
        let id = wanted.id.clone();
        if let Some(current) = find_scope(&app, &id).cloned() {
            // Graph's spelling of the GUID, so a case difference is not a change.
            wanted.id.clone_from(&current.id);
            keep_unknown_fields(&mut wanted, &current);
            if current == wanted {
                return Ok(current);
            }
            if current.is_enabled {
                app = self
                    .disable_scope(app_object_id, &app, current, deadline)
                    .await?;
            }
        }
        let scopes = with_scope(app.scopes(), &wanted);
        if scopes != app.scopes() {
            let what =
                format!("scope {id} of application {app_object_id} to show its new settings");
            app = self
                .write_and_confirm(
                    app_object_id,
                    &ApplicationPatch::scopes(scopes),
                    &what,
                    deadline,
                    |a| find_scope(a, &id).is_some_and(|s| s.same_settings(&wanted)),
                )
                .await?;
        }
        find_scope(&app, &id).cloned().ok_or_else(|| {
            GraphError::decode(
                format!("reading back scope {id} of application {app_object_id}"),
                "the scope is missing after the write",
            )
        })
    }

    /// Removes the scope with id `scope_id` (disabling it first when it is enabled).
    /// `false` when the application has no such scope.
    pub async fn remove_scope(
        &self,
        app_object_id: &str,
        scope_id: &str,
        timeout: Duration,
    ) -> Result<bool, GraphError> {
        let deadline = Instant::now() + timeout;
        let _guard = self.locks().lock(app_object_id).await;
        let mut app = self.read_application(app_object_id).await?;
        let Some(current) = find_scope(&app, scope_id).cloned() else {
            return Ok(false);
        };
        if current.is_enabled {
            app = self
                .disable_scope(app_object_id, &app, current, deadline)
                .await?;
        }
        let remaining: Vec<_> = app
            .scopes()
            .iter()
            .filter(|s| !same_id(&s.id, scope_id))
            .cloned()
            .collect();
        let what = format!("scope {scope_id} to be gone from application {app_object_id}");
        self.write_and_confirm(
            app_object_id,
            &ApplicationPatch::scopes(remaining),
            &what,
            deadline,
            |a| find_scope(a, scope_id).is_none(),
        )
        .await?;
        Ok(true)
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
        let deadline = Instant::now() + timeout;
        let _guard = self.locks().lock(app_object_id).await;
        let app = self.read_application(app_object_id).await?;
        let uris = app.redirect_uris(platform);
        if uris.iter().any(|u| u == uri) {
            return Ok(());
        }
        let mut uris = uris.to_vec();
        uris.push(uri.to_string());
        let what = format!("{platform} redirect URI {uri} to show on application {app_object_id}");
        self.write_and_confirm(
            app_object_id,
            &platform_patch(platform, &app, uris),
            &what,
            deadline,
            |a| a.redirect_uris(platform).iter().any(|u| u == uri),
        )
        .await?;
        Ok(())
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
        let deadline = Instant::now() + timeout;
        let _guard = self.locks().lock(app_object_id).await;
        let app = self.read_application(app_object_id).await?;
        let uris = app.redirect_uris(platform);
        if !uris.iter().any(|u| u == uri) {
            return Ok(false);
        }
        let uris: Vec<String> = uris.iter().filter(|u| *u != uri).cloned().collect();
        let what =
            format!("{platform} redirect URI {uri} to be gone from application {app_object_id}");
        self.write_and_confirm(
            app_object_id,
            &platform_patch(platform, &app, uris),
            &what,
            deadline,
            |a| !a.redirect_uris(platform).iter().any(|u| u == uri),
        )
        .await?;
        Ok(true)
    }

    /// `GET /applications/{objectId}`; a 404 is Graph's error, since an edit needs the object.
    async fn read_application(&self, object_id: &str) -> Result<Application, GraphError> {
        self.get(&application_path(object_id)).await
    }

    /// Writes `current` back disabled (the only change Graph allows to an enabled scope) and
    /// returns the application as read once Graph shows it.
    async fn disable_scope(
        &self,
        app_object_id: &str,
        app: &Application,
        current: PermissionScope,
        deadline: Instant,
    ) -> Result<Application, GraphError> {
        let disabled = PermissionScope {
            is_enabled: false,
            ..current
        };
        let id = &disabled.id;
        let what = format!("scope {id} of application {app_object_id} to show as disabled");
        self.write_and_confirm(
            app_object_id,
            &ApplicationPatch::scopes(with_scope(app.scopes(), &disabled)),
            &what,
            deadline,
            |a| find_scope(a, id).is_some_and(|s| s.same_settings(&disabled)),
        )
        .await
    }

    /// PATCHes the application, waits (until `deadline`) for a GET that `shows` the change,
    /// and shares that read as the application's current value.
    async fn write_and_confirm(
        &self,
        object_id: &str,
        patch: &ApplicationPatch,
        what: &str,
        deadline: Instant,
        shows: impl Fn(&Application) -> bool,
    ) -> Result<Application, GraphError> {
        self.update_application(object_id, patch).await?;
        let left = deadline.saturating_duration_since(Instant::now());
        let app = wait_for_application(self, object_id, what, left, shows).await?;
        self.shared_applications()
            .store_application(object_id, Some(app.clone()));
        Ok(app)
    }
}

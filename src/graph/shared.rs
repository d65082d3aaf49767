//! One GET per application per refresh: reads shared between callers until the client itself
//! writes the application.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::applications::Application;
use super::assignments::AppRoleAssignment;
use super::client::GraphClient;
use super::error::GraphError;

/// What a shared application read yields: the application, or `None` when Graph answered 404.
type Shared = Option<Arc<Application>>;

/// Per-key single-flight cells of one kind of read. A write replaces the cell, so a GET still
/// in flight for the old cell can never fill the new one: callers after a write always see a
/// read that started after it (or the value the write itself confirmed).
#[derive(Debug)]
pub(crate) struct SharedReads<T> {
    cells: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for SharedReads<T> {
    fn default() -> Self {
        SharedReads {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> SharedReads<T> {
    fn cell(&self, key: &str) -> Arc<OnceCell<T>> {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.entry(key.to_string()).or_default().clone()
    }

    /// The shared value for `key`, fetched by `fetch` once between writes.
    pub(crate) async fn get<F, Fut>(&self, key: &str, fetch: F) -> Result<T, GraphError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, GraphError>>,
    {
        let cell = self.cell(key);
        cell.get_or_try_init(fetch).await.cloned()
    }

    /// Drops the shared copy: the next read fetches again.
    pub(crate) fn forget(&self, key: &str) {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.remove(key);
    }

    /// Replaces the shared copy with one the client knows to be current.
    pub(crate) fn store(&self, key: &str, value: T) {
        let cell = OnceCell::new_with(Some(value));
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.insert(key.to_string(), Arc::new(cell));
    }
}

/// Assignment lists, shared per service principal id.
pub(crate) type SharedAssignmentLists = SharedReads<Arc<Vec<AppRoleAssignment>>>;

/// Application reads, shared per object id.
pub(crate) type SharedApplications = SharedReads<Shared>;

impl SharedApplications {
    /// Replaces the shared copy with one the client knows to be current (a read-back after
    /// its own write, or `None` after its own delete).
    pub(crate) fn store_application(&self, object_id: &str, value: Option<Application>) {
        self.store(object_id, value.map(Arc::new));
    }
}

impl GraphClient {
    /// `GET /applications/{objectId}`, shared: concurrent and later calls for the same object
    /// make one request between them, until this client writes the application
    /// ([`GraphClient::update_application`], [`GraphClient::delete_application`], the scope
    /// and redirect URI edits), which replaces or drops the shared copy. A failed GET is not
    /// shared: the next caller tries again. Use [`GraphClient::get_application`] to read
    /// fresh (waits, read-modify-write).
    pub async fn get_application_shared(
        &self,
        object_id: &str,
    ) -> Result<Option<Arc<Application>>, GraphError> {
        // What this client wrote and Graph may not show yet.
        if let Some(known) = self.written().unconfirmed(object_id) {
            return Ok(Some(Arc::new(known)));
        }
        self.shared_applications()
            .get(object_id, || async {
                Ok(self.get_application(object_id).await?.map(Arc::new))
            })
            .await
    }
}

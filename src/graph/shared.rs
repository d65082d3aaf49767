//! One GET per application per refresh: reads shared between callers until the client itself
//! writes the application.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::applications::Application;
use super::client::GraphClient;
use super::error::GraphError;

/// What a shared read yields: the application, or `None` when Graph answered 404.
type Shared = Option<Arc<Application>>;

/// Per-application single-flight cells. A write replaces the cell, so a GET still in flight
/// for the old cell can never fill the new one: callers after a write always see a read that
/// started after it (or the value the write itself confirmed).
#[derive(Debug, Default)]
pub(crate) struct SharedApplications {
    cells: Mutex<HashMap<String, Arc<OnceCell<Shared>>>>,
}

impl SharedApplications {
    fn cell(&self, object_id: &str) -> Arc<OnceCell<Shared>> {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.entry(object_id.to_string()).or_default().clone()
    }

    /// Drops the shared copy: the next read fetches again.
    pub(crate) fn forget(&self, object_id: &str) {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.remove(object_id);
    }

    /// Replaces the shared copy with one the client knows to be current (a read-back after
    /// its own write, or `None` after its own delete).
    pub(crate) fn store(&self, object_id: &str, value: Option<Application>) {
        let cell = OnceCell::new_with(Some(value.map(Arc::new)));
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.insert(object_id.to_string(), Arc::new(cell));
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
        let cell = self.shared_applications().cell(object_id);
        let value = cell
            .get_or_try_init(|| async {
                Ok::<_, GraphError>(self.get_application(object_id).await?.map(Arc::new))
            })
            .await?;
        Ok(value.clone())
    }
}

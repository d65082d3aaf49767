//! Per-application edit queues: an edit is queued, and whoever holds the application's lock
//! carries out every edit queued by then against one version of the application — the
//! version this client wrote last ([`super::written`]), or a fresh GET when it wrote nothing
//! Graph does not show yet — and completes each caller with its own outcome. Terraform runs
//! resources in parallel, so the scopes and redirect URIs of one application arrive together
//! and go out as one PATCH.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::applications::{Application, application_path};
use super::client::GraphClient;
use super::consistency::{WaitModel, wait_like_azuread};
use super::edits::{Edit, Outcome, plan};
use super::error::GraphError;
use super::patch::ApplicationPatch;

type Done = oneshot::Sender<Result<Outcome, GraphError>>;

/// One queued edit and where its outcome goes.
struct Queued {
    edit: Edit,
    done: Done,
}

/// The edits waiting for each application's lock.
#[derive(Default)]
pub(crate) struct EditQueues {
    pending: Mutex<HashMap<String, Vec<Queued>>>,
}

impl EditQueues {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Queued>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, object_id: &str, queued: Queued) {
        self.pending()
            .entry(object_id.to_string())
            .or_default()
            .push(queued);
    }

    /// The queued edits of the application whose callers still wait for them: an edit whose
    /// caller gave up (timed out, cancelled) is not carried out.
    fn take(&self, object_id: &str) -> Vec<Queued> {
        let queued = self.pending().remove(object_id).unwrap_or_default();
        queued.into_iter().filter(|q| !q.done.is_closed()).collect()
    }
}

/// A 4xx refusal that one edit of a batch may have caused (not a missing application, not
/// throttling): the batch is then carried out one edit at a time, so only that edit fails.
fn refused(e: &GraphError) -> bool {
    matches!(e.status(), Some(400..=499)) && !e.is_not_found() && e.status() != Some(429)
}

impl GraphClient {
    /// Queues `edit` on the application and returns its outcome once carried out (by this
    /// call or by another that held the lock first). `timeout` bounds the wait for the lock
    /// and the write.
    pub async fn edit_application(
        &self,
        object_id: &str,
        edit: Edit,
        timeout: Duration,
    ) -> Result<Outcome, GraphError> {
        let deadline = Instant::now() + timeout;
        loop {
            let (done, mut outcome) = oneshot::channel();
            let queued = Queued {
                edit: edit.clone(),
                done,
            };
            self.edit_queues().push(object_id, queued);
            let wait = deadline.saturating_duration_since(Instant::now());
            let Ok(guard) = tokio::time::timeout(wait, self.locks().lock(object_id)).await else {
                return Err(GraphError::Timeout {
                    what: format!("other edits of application {object_id} to finish"),
                    waited: timeout,
                });
            };
            match outcome.try_recv() {
                Ok(result) => return result,
                // The holder that took this edit was cancelled: queue it again.
                Err(oneshot::error::TryRecvError::Closed) => continue,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            // Let edits that arrived with this one queue up: they go out together.
            tokio::task::yield_now().await;
            let batch = self.edit_queues().take(object_id);
            self.carry_out(object_id, batch, deadline).await;
            drop(guard);
            if let Ok(result) = outcome.await {
                return result;
            }
        }
    }

    /// Carries out a batch of queued edits (under the application's lock).
    fn carry_out<'a>(
        &'a self,
        object_id: &'a str,
        batch: Vec<Queued>,
        deadline: Instant,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if batch.len() > 1 && self.wait_model() == WaitModel::Azuread {
                // The reference model: one edit, one PATCH, one wait.
                for queued in batch {
                    self.carry_out(object_id, vec![queued], deadline).await;
                }
                return;
            }
            let base = match self.application_for_edit(object_id).await {
                Ok(base) => base,
                Err(e) => return fail_all(batch, &e),
            };
            let edits: Vec<Edit> = batch.iter().map(|q| q.edit.clone()).collect();
            let planned = plan(object_id, &base, &edits);
            let mut known = base;
            for patch in &planned.writes {
                match self
                    .write_application(object_id, &known, patch, deadline)
                    .await
                {
                    Ok(next) => known = next,
                    Err(e) if refused(&e) && batch.len() > 1 => {
                        tracing::debug!(error = %e, edits = batch.len(), "Graph refused a batch of edits; carrying them out one at a time");
                        for queued in batch {
                            self.carry_out(object_id, vec![queued], deadline).await;
                        }
                        return;
                    }
                    Err(e) => return fail_all(batch, &e),
                }
            }
            for (queued, outcome) in batch.into_iter().zip(planned.outcomes) {
                let _ = queued.done.send(outcome);
            }
        })
    }

    /// The version of the application an edit starts from: what this client wrote last while
    /// no GET has shown it, else a fresh GET (or what was written, when the GET is older).
    pub(crate) async fn application_for_edit(
        &self,
        object_id: &str,
    ) -> Result<Application, GraphError> {
        if let Some(known) = self.written().unconfirmed(object_id) {
            return Ok(known);
        }
        let read: Application = self.get(&application_path(object_id)).await?;
        Ok(self.written().newest(object_id, read))
    }

    /// PATCHes `patch` onto the application whose current version is `base`, records the
    /// result as what this client wrote, and returns it. With the azuread wait model, also
    /// waits as azuread does until Graph shows it.
    pub(crate) async fn write_application(
        &self,
        object_id: &str,
        base: &Application,
        patch: &ApplicationPatch,
        deadline: Instant,
    ) -> Result<Application, GraphError> {
        self.update_application(object_id, patch).await?;
        let mut known = base.clone();
        patch.apply_to(&mut known);
        self.written().record(object_id, known.clone(), patch);
        self.shared_applications()
            .store_application(object_id, Some(known.clone()));
        if self.wait_model() == WaitModel::Azuread {
            let left = deadline.saturating_duration_since(Instant::now());
            let what = format!("application {object_id} to show the change");
            wait_like_azuread(&what, left, || async {
                let read = self.get_application(object_id).await?;
                Ok(read
                    .filter(|r| self.written().confirm(object_id, r))
                    .map(drop))
            })
            .await?;
        }
        Ok(known)
    }
}

fn fail_all(batch: Vec<Queued>, e: &GraphError) {
    for queued in batch {
        let _ = queued.done.send(Err(e.clone()));
    }
}

//! Waiting out Graph's eventual consistency (replication lag) without fixed sleeps.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::applications::{Application, ServicePrincipal};
use super::client::GraphClient;
use super::error::GraphError;
use super::synchronization::{ProvisionResult, Subject, SyncJob};
use crate::poll::Pace;

/// Polls until `poll` yields `Some`, an error, or `timeout` runs out
/// ([`GraphError::Timeout`] naming `what`), at Graph's replication pace
/// ([`Pace::REPLICATION`]: 100 ms, ×1.5, at most 250 ms apart for the first 15 s, then up to
/// 5 s), so what shows after a few seconds of lag is seen within 250 ms of showing.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, poll: F) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, GraphError>>,
{
    wait_until_paced(what, timeout, Pace::REPLICATION, poll).await
}

/// [`wait_until`] at another pace.
pub async fn wait_until_paced<T, F, Fut>(
    what: &str,
    timeout: Duration,
    pace: Pace,
    mut poll: F,
) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, GraphError>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut interval = pace.first;
    let mut polls = 0u32;
    let mut last_report = started;
    loop {
        polls += 1;
        if let Some(value) = poll().await? {
            if polls > 1 {
                tracing::debug!(
                    what,
                    polls,
                    waited_ms = started.elapsed().as_millis() as u64,
                    "condition met"
                );
            }
            return Ok(value);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(GraphError::Timeout {
                what: what.to_string(),
                waited: now - started,
            });
        }
        if now - last_report >= Duration::from_secs(30) {
            last_report = now;
            tracing::info!(
                what,
                polls,
                waited_s = (now - started).as_secs(),
                "still waiting"
            );
        } else {
            tracing::debug!(what, polls, "not yet; polling again");
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = pace.next(interval, started.elapsed());
    }
}

/// Retries `op` while its error satisfies `is_lag` (e.g. 404 right after a create, 401/403/409
/// on synchronization calls); other errors return at once. On timeout the last lag error is
/// quoted in the `Timeout` message.
pub async fn retry_while_lagging<T, F, Fut>(
    what: &str,
    timeout: Duration,
    is_lag: impl Fn(&GraphError) -> bool,
    mut op: F,
) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GraphError>>,
{
    let last = std::sync::Mutex::new(None::<String>);
    let (last_ref, is_lag) = (&last, &is_lag);
    let result = wait_until(what, timeout, move || {
        let fut = op();
        async move {
            match fut.await {
                Ok(v) => Ok(Some(v)),
                Err(e) if is_lag(&e) => {
                    *last_ref.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
    })
    .await;
    let last = last.into_inner().unwrap_or_else(|p| p.into_inner());
    match (result, last) {
        (Err(GraphError::Timeout { what, waited }), Some(last)) => Err(GraphError::Timeout {
            what: format!("{what} (last error: {last})"),
            waited,
        }),
        (result, _) => result,
    }
}

/// Retries `op` while Graph answers as if a just-created principal or service principal did
/// not exist yet ([`GraphError::is_reference_lag`]: 404 `Request_ResourceNotFound`, 400 "Not a
/// valid reference update"). Every other error, such as a duplicate assignment or an unknown
/// app role, returns at once.
pub async fn retry_while_reference_lags<T, F, Fut>(
    what: &str,
    timeout: Duration,
    op: F,
) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GraphError>>,
{
    retry_while_lagging(what, timeout, GraphError::is_reference_lag, op).await
}

/// The answers Graph gives on synchronization calls for a while after the service principal
/// appears: 401, 403 or 409. A 409 saying the job "already exists" is a real conflict (a
/// second job on the same service principal), not lag.
pub fn is_sync_lag(err: &GraphError) -> bool {
    match err {
        GraphError::Api {
            status: 401 | 403, ..
        } => true,
        GraphError::Api {
            status: 409,
            message,
            ..
        } => !message.to_ascii_lowercase().contains("already exists"),
        _ => false,
    }
}

/// Retries a synchronization call (`op`) while Graph answers as if the service principal were
/// not ready for provisioning yet ([`is_sync_lag`]); every other error returns at once.
pub async fn retry_while_sync_lags<T, F, Fut>(
    what: &str,
    timeout: Duration,
    op: F,
) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GraphError>>,
{
    retry_while_lagging(what, timeout, is_sync_lag, op).await
}

/// Provisions `subjects` on demand, calling again while Graph reads them as not assigned
/// ([`ProvisionResult::is_not_assigned`]): a just-made assignment can take minutes to reach
/// the provisioning service. Any other result, success or not, returns at once; on timeout
/// the error quotes Graph's last reason. Polled with a plain backoff ([`Pace::QUICK`]), not at
/// the replication pace: every call spends one of Graph's 5 provision-on-demand calls per 10 s.
pub async fn provision_on_demand_once_assigned(
    client: &GraphClient,
    sp_id: &str,
    job_id: &str,
    rule_id: &str,
    subjects: &[Subject],
    timeout: Duration,
) -> Result<ProvisionResult, GraphError> {
    const WHAT: &str = "the assignment to reach provisioning";
    let last_reason = std::sync::Mutex::new(None::<String>);
    let polls = wait_until_paced(WHAT, timeout, Pace::QUICK, || async {
        let result = client
            .provision_on_demand(sp_id, job_id, rule_id, subjects)
            .await?;
        if result.is_not_assigned() {
            *last_reason.lock().unwrap_or_else(|p| p.into_inner()) = result.reason.clone();
            return Ok(None);
        }
        Ok(Some(result))
    });
    // A call can wait up to 10 s for the rate limiter; the deadline bounds that wait too.
    let result = tokio::time::timeout(timeout, polls)
        .await
        .unwrap_or_else(|_| {
            Err(GraphError::Timeout {
                what: WHAT.to_string(),
                waited: timeout,
            })
        });
    match result {
        Err(GraphError::Timeout { what, waited }) => {
            let last = last_reason.into_inner().unwrap_or_else(|p| p.into_inner());
            Err(GraphError::Timeout {
                what: format!(
                    "{what} (Graph still says: {})",
                    last.as_deref().unwrap_or("not assigned")
                ),
                waited,
            })
        }
        other => other,
    }
}

/// How a write is confirmed (waited for until Graph shows it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WaitModel {
    /// This provider's: application edits that arrive together go out as one PATCH, and
    /// return without waiting (the next read-modify-write starts from what was written;
    /// [`GraphClient::settle`] waits before the process ends); other writes are polled for
    /// until they show once, fast first.
    #[default]
    Ours,
    /// The reference provider's (hashicorp/azuread `consistency.WaitForUpdate`), for
    /// benchmarks: after every create and update, poll until the write has shown on
    /// [`AZUREAD_READS`] reads in a row, at least [`AZUREAD_MIN_PAUSE`] apart
    /// (terraform-plugin-sdk's `StateChangeConf`); one PATCH per edit, waited for under the
    /// application's lock.
    Azuread,
}

/// `ContinuousTargetOccurence` of azuread's `WaitForUpdate`.
pub const AZUREAD_READS: u32 = 5;
/// `MinTimeout` of azuread's `WaitForUpdate`.
pub const AZUREAD_MIN_PAUSE: Duration = Duration::from_secs(5);
/// `StateChangeConf`'s longest pause between reads.
const AZUREAD_MAX_PAUSE: Duration = Duration::from_secs(10);

impl WaitModel {
    /// `azuread` when `KIRO_GRAPH_WAIT_MODEL=azuread` (the benchmark's comparison), else ours.
    pub fn from_env() -> WaitModel {
        match std::env::var("KIRO_GRAPH_WAIT_MODEL").as_deref() {
            Ok("azuread") => WaitModel::Azuread,
            _ => WaitModel::Ours,
        }
    }
}

/// terraform-plugin-sdk's `StateChangeConf.WaitForStateContext` as azuread's
/// `WaitForUpdate` sets it up: the first read at once, the next after 100 ms doubled while
/// the write does not show, never less than 5 s nor more than 10 s apart, unchanged while it
/// shows; done when it showed on 5 reads in a row. Returns the last read.
pub async fn wait_like_azuread<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut poll: F,
) -> Result<T, GraphError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, GraphError>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut pause = Duration::from_millis(100);
    let mut in_a_row = 0;
    loop {
        match poll().await? {
            Some(value) => {
                in_a_row += 1;
                if in_a_row == AZUREAD_READS {
                    return Ok(value);
                }
            }
            None => {
                in_a_row = 0;
                pause *= 2;
            }
        }
        pause = pause.clamp(AZUREAD_MIN_PAUSE, AZUREAD_MAX_PAUSE);
        if Instant::now() + pause > deadline {
            return Err(GraphError::Timeout {
                what: what.to_string(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(pause).await;
    }
}

/// Polls `GET /applications/{objectId}` until `shows` holds for what Graph returns, and
/// returns that read. A 404 counts as "not yet": a replica may not have the application.
/// After a whole-list write this must succeed before the next writer re-reads the list, or
/// that writer could read the old list and drop the change.
pub async fn wait_for_application(
    client: &GraphClient,
    object_id: &str,
    what: &str,
    timeout: Duration,
    shows: impl Fn(&Application) -> bool,
) -> Result<Application, GraphError> {
    let shows = &shows;
    wait_until(what, timeout, || async move {
        let app = client.get_application(object_id).await?;
        Ok(app.filter(|a| shows(a)))
    })
    .await
}

/// Tries of `instantiate` whose answers are unusable, before giving up.
const INSTANTIATE_TRIES: u32 = 3;

/// Makes an application from a template, absorbing Graph's known fault — the instantiate
/// call may answer 404 although it made the objects — and any answer lost on the way (5xx,
/// dropped connection), after which the objects may or may not exist. Then the new
/// application is looked up by name (one whose object id is not in `existing`) for a share
/// of `lookup`, and only if it does not show is the call made again (up to 3 tries in all).
/// Returns the application's and the service principal's object ids.
pub async fn instantiate_or_find(
    client: &GraphClient,
    template_id: &str,
    display_name: &str,
    existing: &[String],
    lookup: Duration,
) -> Result<(String, String), GraphError> {
    let per_try = lookup / INSTANTIATE_TRIES;
    let mut tries = 0;
    loop {
        tries += 1;
        let err = match client.instantiate_template(template_id, display_name).await {
            Ok(made) => return Ok((made.application.id, made.service_principal.id)),
            Err(e) if e.is_not_found() || e.is_ambiguous() => e,
            Err(e) => return Err(e),
        };
        tracing::warn!(error = %err, tries, "instantiate gave no usable answer; looking the new application up by name");
        let what = format!(
            "a new application named {display_name:?} to appear after {tries} create call(s) \
             that got no usable answer (last: {err}); check the non-gallery template for this \
             cloud and the identity's permissions"
        );
        let found = wait_until(&what, per_try, || async {
            let apps = client
                .list_applications_by_display_name(display_name)
                .await?;
            Ok(apps.into_iter().find(|a| !existing.contains(&a.id)))
        })
        .await;
        match found {
            Ok(found) => {
                let sp = wait_until("the new service principal to appear", lookup, || {
                    client.find_service_principal_by_app_id(&found.app_id)
                })
                .await?;
                return Ok((found.id, sp.id));
            }
            Err(GraphError::Timeout { .. }) if tries < INSTANTIATE_TRIES => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The service principal's provisioning job: the one it has, or one made from `template_id`.
/// A create that fails ambiguously ([`GraphError::is_ambiguous`]: 5xx, lost connection) may
/// have made the job, so the jobs are listed again before it is repeated and a second job is
/// never made. Synchronization lag of a new service principal is waited out. Returns the job
/// and whether this call made it (`false`: it was there already).
pub async fn create_or_find_sync_job(
    client: &GraphClient,
    sp_id: &str,
    template_id: &str,
    timeout: Duration,
) -> Result<(SyncJob, bool), GraphError> {
    const WHAT: &str = "the service principal to accept provisioning";
    let deadline = Instant::now() + timeout;
    let mut tried = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let jobs = retry_while_sync_lags(WHAT, left, || client.list_sync_jobs(sp_id)).await?;
        if let Some(job) = jobs.into_iter().next() {
            return Ok((job, tried));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match retry_while_sync_lags(WHAT, left, || client.create_sync_job(sp_id, template_id)).await
        {
            Ok(job) => return Ok((job, true)),
            Err(e) if e.is_ambiguous() && Instant::now() < deadline => {
                tracing::warn!(error = %e, %sp_id, "creating the provisioning job gave no usable answer; looking for it before trying again");
                tried = true;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `GET /servicePrincipals/{id}` stops answering 404.
pub async fn wait_for_service_principal(
    client: &GraphClient,
    id: &str,
    timeout: Duration,
) -> Result<ServicePrincipal, GraphError> {
    let what = format!("service principal {id} to replicate");
    wait_until(&what, timeout, || client.get_service_principal(id)).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn what_shows_after_seconds_of_lag_is_seen_soon_after() {
        // A plain ×1.5 backoff would look at 2.475 s and next at 3.22 s (0.72 s late).
        let lag = Duration::from_millis(2_500);
        let started = Instant::now();
        let seen = wait_until("replicated", Duration::from_secs(10), || async {
            Ok((started.elapsed() >= lag).then(|| started.elapsed()))
        })
        .await
        .unwrap();
        assert!(seen - lag < Duration::from_millis(500), "seen {seen:?}");
    }

    #[tokio::test]
    async fn succeeds_after_n_polls_and_times_out() {
        let n = AtomicU32::new(0);
        let v = wait_until("thing", Duration::from_secs(10), || async {
            Ok((n.fetch_add(1, Ordering::SeqCst) == 3).then_some(42))
        })
        .await
        .unwrap();
        assert_eq!((v, n.load(Ordering::SeqCst)), (42, 4));

        let started = Instant::now();
        let timeout = Duration::from_millis(300);
        let err = wait_until("never", timeout, || async { Ok(None::<()>) })
            .await
            .unwrap_err();
        assert!(matches!(&err, GraphError::Timeout { what, .. } if what == "never"));
        let waited = started.elapsed();
        assert!(waited >= timeout && waited < timeout * 2, "{waited:?}");

        let err = wait_until("fails", Duration::from_secs(2), || async {
            Err::<Option<()>, _>(GraphError::Transport("boom".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, GraphError::Transport(_)));
    }

    #[tokio::test]
    async fn reference_lag_is_retried_but_refusals_are_not() {
        let answers = std::sync::Mutex::new(vec![
            GraphError::from_response(
                400,
                None,
                br#"{"error":{"code":"Request_BadRequest","message":"Permission being assigned already exists on the object."}}"#,
            ),
            GraphError::from_response(
                400,
                None,
                br#"{"error":{"code":"Request_BadRequest","message":"Not a valid reference update."}}"#,
            ),
        ]);
        let n = AtomicU32::new(0);
        let err = retry_while_reference_lags("assignment", Duration::from_secs(5), || {
            n.fetch_add(1, Ordering::SeqCst);
            let answer = answers.lock().unwrap().pop().unwrap();
            async move { Err::<(), _>(answer) }
        })
        .await
        .unwrap_err();
        assert!(err.is_duplicate_assignment(), "{err}");
        assert_eq!(
            n.load(Ordering::SeqCst),
            2,
            "the lag answer was retried once"
        );
    }

    #[tokio::test]
    async fn retries_lag_errors_only() {
        let lag = || {
            GraphError::from_response(
                404,
                None,
                br#"{"error":{"code":"Request_ResourceNotFound","message":"gone"}}"#,
            )
        };
        let n = AtomicU32::new(0);
        let v = retry_while_lagging(
            "assignment",
            Duration::from_secs(5),
            GraphError::is_not_found,
            || async {
                if n.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(lag())
                } else {
                    Ok("done")
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(v, "done");
        let err = retry_while_lagging(
            "x",
            Duration::from_millis(200),
            GraphError::is_not_found,
            || async { Err::<(), _>(lag()) },
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("last error") && err.to_string().contains("gone"),
            "{err}"
        );
    }
}

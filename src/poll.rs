//! Polling a remote condition until it holds: fast at first, then slower,
//! within a time limit, with progress in the log. Shared by waits that are
//! not Graph's (Graph's own consistency helpers add its error type).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often to look: `first` pause, ×1.5 each time, at most `max`.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub first: Duration,
    pub max: Duration,
}

impl Pace {
    /// For things that take well under a second when all is well.
    pub const QUICK: Pace = Pace {
        first: Duration::from_millis(100),
        max: Duration::from_secs(5),
    };
    /// For things people wait minutes for (DNS, provisioning cycles).
    pub const PATIENT: Pace = Pace {
        first: Duration::from_millis(500),
        max: Duration::from_secs(15),
    };
}

/// How often progress is logged at INFO while waiting.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Calls `check` until it yields `Some`, fails, or `timeout` passes
/// (`Ok(None)`). `check` also returns what it saw (e.g. a status), which the
/// progress log lines show.
pub async fn until<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    pace: Pace,
    mut check: F,
) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Option<T>, String), E>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut pause = pace.first;
    let mut last_report = started;
    loop {
        let (found, seen) = check().await?;
        if let Some(value) = found {
            return Ok(Some(value));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        if now - last_report >= REPORT_EVERY {
            last_report = now;
            tracing::info!(
                what,
                now = %seen,
                waited_s = (now - started).as_secs(),
                "still waiting"
            );
        } else {
            tracing::debug!(what, now = %seen, "not yet");
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = pause.mul_f64(1.5).min(pace.max);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn polls_until_ready_or_time_is_up() {
        let calls = AtomicU32::new(0);
        let ready = until::<_, (), _, _>("x", Duration::from_secs(5), Pace::QUICK, || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(((n == 2).then_some(n), format!("call {n}")))
        })
        .await;
        assert_eq!(ready, Ok(Some(2)));

        let never =
            until::<u32, (), _, _>("y", Duration::from_millis(250), Pace::QUICK, || async {
                Ok((None, "PENDING".to_string()))
            })
            .await;
        assert_eq!(never, Ok(None));

        let failed = until::<u32, &str, _, _>("z", Duration::from_secs(5), Pace::QUICK, || async {
            Err("boom")
        })
        .await;
        assert_eq!(failed, Err("boom"));
    }
}

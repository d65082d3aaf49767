//! Polling a remote condition until it holds: fast at first, then slower,
//! within a time limit, with progress in the log. Shared by waits that are
//! not Graph's (Graph's own consistency helpers add its error type).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often to look: `first` pause, ×1.5 each time, at most `max`; during the first `early`
/// of a wait, at most `early_max` (for conditions that usually turn true within seconds, so
/// one is seen soon after it does, not up to half the time waited later).
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub first: Duration,
    pub max: Duration,
    pub early: Duration,
    pub early_max: Duration,
}

impl Pace {
    /// For things that take well under a second when all is well.
    pub const QUICK: Pace = Pace {
        first: Duration::from_millis(100),
        max: Duration::from_secs(5),
        early: Duration::ZERO,
        early_max: Duration::from_secs(5),
    };
    /// For things people wait minutes for (DNS, provisioning cycles).
    pub const PATIENT: Pace = Pace {
        first: Duration::from_millis(500),
        max: Duration::from_secs(15),
        early: Duration::ZERO,
        early_max: Duration::from_secs(15),
    };
    /// For Graph's replication of a new or changed object (a GET or list showing it, a
    /// service accepting it): usually a few seconds, so the first 15 s are looked at no more
    /// than 250 ms apart (what turns true 2 s in is seen by 2.25 s, not 3.2 s as with a plain
    /// ×1.5 backoff; 5 s in, by 5.25 s, not 7.5 s), then less and less often, up to every 5 s.
    pub const REPLICATION: Pace = Pace {
        first: Duration::from_millis(100),
        max: Duration::from_secs(5),
        early: Duration::from_secs(15),
        early_max: Duration::from_millis(250),
    };

    /// The pause after `pause`, `waited` into the wait.
    pub fn next(&self, pause: Duration, waited: Duration) -> Duration {
        let cap = if waited < self.early {
            self.early_max.min(self.max)
        } else {
            self.max
        };
        pause.mul_f64(1.5).min(cap)
    }
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
        pause = pace.next(pause, started.elapsed());
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

    /// When each look happens (polls that take no time), up to `until`.
    fn looks(pace: Pace, until: Duration) -> Vec<Duration> {
        let (mut at, mut pause) = (Duration::ZERO, pace.first);
        let mut looks = vec![at];
        while at < until {
            at += pause;
            looks.push(at);
            pause = pace.next(pause, at);
        }
        looks
    }

    /// How long after `ready` the first look at or after it happens, and how many looks.
    fn seen(pace: Pace, ready: Duration) -> (Duration, usize) {
        let looks = looks(pace, ready);
        (*looks.last().unwrap() - ready, looks.len())
    }

    #[test]
    fn replication_is_seen_soon_after_it_shows_and_long_waits_back_off() {
        let pace = Pace::REPLICATION;
        for ms in (100..15_000).step_by(37) {
            let (late, _) = seen(pace, Duration::from_millis(ms));
            assert!(late <= pace.early_max, "{ms} ms: seen {late:?} late");
        }
        // Few looks for the lags Graph usually has.
        assert!(seen(pace, Duration::from_secs(2)).1 <= 11);
        assert!(seen(pace, Duration::from_secs(5)).1 <= 23);
        // After the early window the pauses grow again, up to `max`.
        let long = looks(pace, Duration::from_secs(120));
        let last_pause = long[long.len() - 1] - long[long.len() - 2];
        assert_eq!(last_pause, pace.max);
        assert!(long.len() < 100, "{} looks in 2 minutes", long.len());
        // A plain backoff (QUICK) sees what shows 5 s in only 2.5 s later.
        assert!(seen(Pace::QUICK, Duration::from_secs(5)).0 > Duration::from_secs(2));
    }
}

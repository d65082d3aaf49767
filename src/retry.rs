//! The one retry path of the HTTP clients (Graph, Kiro, the loopback token grant, Kiro's
//! look-before-repeat creates): which failures to retry, how long to wait, and the loop
//! ([`retry`]) that every client goes through.
//!
//! Retried: 429 always (the request was not processed); 503/504 and transport failures only
//! for idempotent requests, because a non-idempotent POST (e.g. template instantiation) may
//! have been carried out although the answer never arrived. A connection that could not be
//! established at all is retried for every request: nothing was sent.

use std::future::Future;
use std::time::Duration;

use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// How often and how patiently to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (default 8). At least 1 is made.
    pub max_attempts: u32,
    /// First backoff ceiling (default 250 ms); doubles with each attempt.
    pub base_delay: Duration,
    /// Cap for any single wait, including one asked for by `Retry-After` (default 30 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait after failed attempt number `attempt` (1-based). Honours `retry_after` when
    /// given, else exponential backoff with full jitter: `jitter` (in `[0, 1)`) times
    /// `min(max_delay, base_delay * 2^(attempt-1))`. Pure, for testing.
    pub fn delay_for(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exp = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        ceiling.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// [`Self::delay_for`] with a random jitter.
    pub fn next_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        self.delay_for(attempt, retry_after, rand::random::<f64>())
    }

    /// Whether another attempt may follow attempt number `attempt`.
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// What one attempt came to. The client decides, per failure, whether another attempt may help;
/// [`retry`] decides whether one is left and how long to wait before it.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// Finished: a success, or a failure no further attempt can fix.
    Done(Result<T, E>),
    /// Failed in a way another attempt may fix (throttling, a transient failure of a request
    /// that is safe to repeat). `error` is the answer when no attempt is left; `after` is the
    /// wait the service asked for (`Retry-After`), if any.
    Retry { error: E, after: Option<Duration> },
}

impl<T, E> Attempt<T, E> {
    /// A failure worth another attempt, with no wait asked for by the service.
    pub fn retry(error: E) -> Self {
        Self::Retry { error, after: None }
    }
}

/// Runs `attempt` (given the 1-based attempt number, so a final error can say how many were
/// made) until it is [`Attempt::Done`] or `policy` allows no more, sleeping
/// [`RetryPolicy::next_delay`] between attempts. `what` names the request in debug logs.
pub async fn retry<T, E, F, Fut>(policy: &RetryPolicy, what: &str, mut attempt: F) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let mut number = 0u32;
    loop {
        number += 1;
        match attempt(number).await {
            Attempt::Done(result) => return result,
            Attempt::Retry { error, .. } if !policy.may_retry(number) => return Err(error),
            Attempt::Retry { error, after } => {
                let delay = policy.next_delay(number, after);
                tracing::debug!(request = what, attempt = number, %error,
                    delay_ms = delay.as_millis() as u64, "will be retried");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Whether a response status is worth retrying for a request of this idempotency.
pub fn retryable_status(status: u16, idempotent: bool) -> bool {
    status == 429 || (idempotent && matches!(status, 503 | 504))
}

/// Whether a transport failure is worth retrying. `nothing_sent` = the connection could not be
/// established, so the server cannot have acted on the request.
pub fn retryable_transport(nothing_sent: bool, idempotent: bool) -> bool {
    nothing_sent || idempotent
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (IMF-fixdate). A date in the
/// past means "now".
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_for(1, None, 0.999_999).as_millis(), 249);
        assert_eq!(p.delay_for(3, None, 0.5), Duration::from_millis(500));
        assert_eq!(p.delay_for(40, None, 1.0), Duration::from_secs(30));
        assert_eq!(p.delay_for(2, None, 0.0), Duration::ZERO);
        for attempt in 1..10 {
            assert!(p.next_delay(attempt, None) <= p.max_delay);
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        let ra = Some(Duration::from_secs(2));
        assert_eq!(p.delay_for(1, ra, 0.0), Duration::from_secs(2));
        assert_eq!(
            p.delay_for(1, Some(Duration::from_secs(600)), 0.3),
            p.max_delay
        );
        assert!(p.may_retry(7) && !p.may_retry(8));
        assert!(!RetryPolicy::none().may_retry(1));
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    /// Attempts `outcomes` in order, counting them, under a policy of `max` attempts.
    async fn run(max: u32, outcomes: Vec<Attempt<u32, String>>) -> (Result<u32, String>, u32) {
        // Real time, kept short: a Retry-After of seconds is capped to 20 ms.
        let policy = RetryPolicy {
            max_attempts: max,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        };
        let outcomes = std::sync::Mutex::new(outcomes.into_iter());
        let made = std::sync::atomic::AtomicU32::new(0);
        let result = retry(&policy, "test", |n| {
            made.store(n, std::sync::atomic::Ordering::SeqCst);
            let next = outcomes
                .lock()
                .unwrap()
                .next()
                .expect("an outcome per attempt");
            async move { next }
        })
        .await;
        (result, made.into_inner())
    }

    #[tokio::test]
    async fn retries_until_done_and_honours_retry_after() {
        let started = tokio::time::Instant::now();
        let outcomes = vec![
            Attempt::Retry {
                error: "throttled".into(),
                after: Some(Duration::from_secs(7)),
            },
            Attempt::retry("dropped".into()),
            Attempt::Done(Ok(42)),
        ];
        assert_eq!(run(8, outcomes).await, (Ok(42), 3));
        // The 7 s asked for, capped at 20 ms, then at most the second backoff ceiling (2 ms).
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(20), "{waited:?}");
    }

    #[tokio::test]
    async fn gives_the_last_error_when_no_attempt_is_left() {
        let outcomes = vec![Attempt::retry("one".into()), Attempt::retry("two".into())];
        assert_eq!(run(2, outcomes).await, (Err("two".into()), 2));
    }

    #[tokio::test]
    async fn a_final_failure_is_not_retried() {
        let outcomes = vec![Attempt::Done(Err("bad request".into()))];
        assert_eq!(run(8, outcomes).await, (Err("bad request".into()), 1));
    }

    #[test]
    fn classification() {
        assert!(retryable_status(429, false) && retryable_status(503, true));
        assert!(!retryable_status(503, false) && !retryable_status(500, true));
        assert!(retryable_transport(true, false) && !retryable_transport(false, false));
    }
}

//! Retry policy for Graph requests: which failures to retry and how long to wait.
//!
//! Retried: 429 always (the request was not processed); 503/504 and transport failures only
//! for idempotent requests, because a non-idempotent POST (e.g. template instantiation) may
//! have been carried out although the answer never arrived. A connection that could not be
//! established at all is retried for every request: nothing was sent.

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

    #[test]
    fn classification() {
        assert!(retryable_status(429, false) && retryable_status(503, true));
        assert!(!retryable_status(503, false) && !retryable_status(500, true));
        assert!(retryable_transport(true, false) && !retryable_transport(false, false));
    }

    mod end_to_end {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};

        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode, Uri};
        use axum::response::{IntoResponse, Response};
        use serde_json::json;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        use super::super::super::testing::{client, serve};
        use crate::graph::{GraphError, GraphRequest};

        type Hits = Arc<AtomicU32>;

        /// `/graph/v1.0/<scenario>`: fails per the scenario's script, counting hits.
        async fn scripted(State(hits): State<Hits>, uri: Uri, headers: HeaderMap) -> Response {
            let n = hits.fetch_add(1, Ordering::SeqCst);
            assert_eq!(headers["authorization"], "Bearer test-token");
            assert_eq!(headers["user-agent"], "kiro-test");
            let throttled = || {
                let body = json!({"error": {"code": "TooManyRequests", "message": "slow down"}});
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0")],
                    axum::Json(body),
                )
                    .into_response()
            };
            let unavailable = || {
                let body = json!({"error": {"code": "serviceNotAvailable", "message": {"value": "try later"}}});
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("request-id", "rid-503")],
                    axum::Json(body),
                )
                    .into_response()
            };
            let ok = || axum::Json(json!({"id": "x"})).into_response();
            match (uri.path().rsplit('/').next().unwrap(), n) {
                ("throttle2", 0 | 1) => throttled(),
                ("unavailable1", 0) => unavailable(),
                ("throttle", _) => throttled(),
                ("unavailable", _) => unavailable(),
                _ => ok(),
            }
        }

        async fn setup() -> (crate::graph::GraphClient, Hits) {
            let hits = Hits::default();
            let h = hits.clone();
            let base = serve(move |_| axum::Router::new().fallback(scripted).with_state(h)).await;
            (client(&base), hits)
        }

        #[tokio::test]
        async fn retries_429_with_retry_after_then_succeeds() {
            let (c, hits) = setup().await;
            let v: serde_json::Value = c.get("throttle2").await.unwrap();
            assert_eq!(
                (v["id"].as_str(), hits.load(Ordering::SeqCst)),
                (Some("x"), 3)
            );
        }

        #[tokio::test]
        async fn retries_503_then_succeeds() {
            let (c, hits) = setup().await;
            c.patch("unavailable1", &json!({})).await.unwrap();
            assert_eq!(hits.load(Ordering::SeqCst), 2);
        }

        #[tokio::test]
        async fn exhausted_retries_are_errors() {
            let (c, hits) = setup().await;
            let err = c.get::<serde_json::Value>("throttle").await.unwrap_err();
            assert!(
                matches!(err, GraphError::Throttled { attempts: 4, .. }),
                "{err}"
            );
            assert_eq!(hits.swap(0, Ordering::SeqCst), 4);
            let err = c.delete("unavailable").await.unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (Some(503), Some("serviceNotAvailable"))
            );
            assert_eq!(
                (err.message(), err.request_id()),
                (Some("try later"), Some("rid-503"))
            );
            assert_eq!(hits.swap(0, Ordering::SeqCst), 4);
        }

        #[tokio::test]
        async fn non_idempotent_post_retries_only_429() {
            let (c, hits) = setup().await;
            let err = c
                .post::<_, serde_json::Value>("unavailable1", &json!({}))
                .await
                .unwrap_err();
            assert_eq!(
                (err.status(), hits.swap(0, Ordering::SeqCst)),
                (Some(503), 1)
            );
            c.post::<_, serde_json::Value>("throttle2", &json!({}))
                .await
                .unwrap();
            assert_eq!(hits.swap(0, Ordering::SeqCst), 3);
            let req = GraphRequest::post("unavailable1", json!({})).retry_safe(true);
            c.send(&req).await.unwrap();
            assert_eq!(hits.load(Ordering::SeqCst), 2);
        }

        /// A server that drops the first `drops` connections after reading the request.
        async fn dropping_server(drops: u32) -> (String, Hits) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let hits = Hits::default();
            let h = hits.clone();
            tokio::spawn(async move {
                loop {
                    let (mut sock, _) = listener.accept().await.unwrap();
                    let n = h.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    if n >= drops {
                        let body = r#"{"id":"ok"}"#;
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                    }
                }
            });
            (base, hits)
        }

        #[tokio::test]
        async fn dropped_connections_retry_only_idempotent_requests() {
            let (base, hits) = dropping_server(1).await;
            let c = client(&base);
            let v: serde_json::Value = c.get("applications/1").await.unwrap();
            assert_eq!(
                (v["id"].as_str(), hits.load(Ordering::SeqCst)),
                (Some("ok"), 2)
            );

            let (base, hits) = dropping_server(1).await;
            let c = client(&base);
            let err = c.instantiate_template("t", "n").await.unwrap_err();
            assert!(matches!(err, GraphError::Transport(_)), "{err}");
            assert_eq!(
                hits.load(Ordering::SeqCst),
                1,
                "instantiate must not be repeated"
            );
        }
    }
}

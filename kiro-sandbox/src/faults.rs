//! Fault injection (latency, throttling, transient 5xx, dropped connections), the
//! replication-lag setting, and per-operation request counts.
//!
//! Only login and Graph requests pass through [`Faults::gate`]; the control API never does.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The current fault switches, as shown by `GET /_sandbox/faults`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultSettings {
    pub replication_lag_ms: u64,
    pub latency_ms: u64,
    pub throttle_rate: f64,
    pub retry_after_secs: u64,
    pub error_5xx_rate: f64,
    pub drop_rate: f64,
    pub instantiate_false_404_rate: f64,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            replication_lag_ms: 0,
            latency_ms: 0,
            throttle_rate: 0.0,
            retry_after_secs: 1,
            error_5xx_rate: 0.0,
            drop_rate: 0.0,
            instantiate_false_404_rate: 0.0,
        }
    }
}

/// A partial update (`PUT /_sandbox/faults`): omitted fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSettingsPatch {
    pub replication_lag_ms: Option<u64>,
    pub latency_ms: Option<u64>,
    pub throttle_rate: Option<f64>,
    pub retry_after_secs: Option<u64>,
    pub error_5xx_rate: Option<f64>,
    pub drop_rate: Option<f64>,
    pub instantiate_false_404_rate: Option<f64>,
}

impl FaultSettings {
    /// Applies a patch after validating every field; on error nothing changes.
    pub fn apply(&mut self, p: &FaultSettingsPatch) -> Result<(), String> {
        let rates = [
            ("throttle_rate", p.throttle_rate),
            ("error_5xx_rate", p.error_5xx_rate),
            ("drop_rate", p.drop_rate),
            ("instantiate_false_404_rate", p.instantiate_false_404_rate),
        ];
        for (name, rate) in rates {
            if let Some(r) = rate {
                check_rate(r).map_err(|e| format!("{name}: {e}"))?;
            }
        }
        let mut next = self.clone();
        set(&mut next.replication_lag_ms, p.replication_lag_ms);
        set(&mut next.latency_ms, p.latency_ms);
        set(&mut next.throttle_rate, p.throttle_rate);
        set(&mut next.retry_after_secs, p.retry_after_secs);
        set(&mut next.error_5xx_rate, p.error_5xx_rate);
        set(&mut next.drop_rate, p.drop_rate);
        set(
            &mut next.instantiate_false_404_rate,
            p.instantiate_false_404_rate,
        );
        *self = next;
        Ok(())
    }
}

fn set<T: Copy>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Validates a probability (used by the CLI too).
pub fn check_rate(r: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("must be between 0.0 and 1.0, got {r}"))
    }
}

/// A fault chosen for one request. The request must then have no side effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Throttled {
        retry_after: u64,
    },
    Unavailable {
        status: StatusCode,
        retry_after: Option<u64>,
    },
    Dropped,
}

/// Request counters keyed by operation name (`graph.applications.get`, `faults.throttled`, …).
#[derive(Default)]
pub struct Counts(Mutex<BTreeMap<String, u64>>);

impl Counts {
    pub fn incr(&self, key: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key.to_string()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

pub struct Faults {
    settings: Mutex<FaultSettings>,
    rng: Mutex<StdRng>,
    /// Alternates 503 and 504 for injected transient errors.
    next_is_504: AtomicBool,
    pub counts: Counts,
}

impl Faults {
    pub fn new(settings: FaultSettings, seed: u64) -> Self {
        Self {
            settings: Mutex::new(settings),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0xfa17_5eed)),
            next_is_504: AtomicBool::new(false),
            counts: Counts::default(),
        }
    }

    pub fn settings(&self) -> FaultSettings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn update(&self, patch: &FaultSettingsPatch) -> Result<FaultSettings, String> {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        s.apply(patch)?;
        Ok(s.clone())
    }

    pub fn replication_lag(&self) -> Duration {
        Duration::from_millis(self.settings().replication_lag_ms)
    }

    /// Counts the operation, waits the configured latency, then decides whether the request
    /// fails. Call it before touching any state.
    pub async fn gate(&self, op: &str) -> Option<Fault> {
        self.counts.incr(op);
        let s = self.settings();
        if s.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(s.latency_ms)).await;
        }
        let fault = self.decide(&s);
        match &fault {
            Some(Fault::Throttled { .. }) => self.counts.incr("faults.throttled"),
            Some(Fault::Unavailable { .. }) => self.counts.incr("faults.5xx"),
            Some(Fault::Dropped) => self.counts.incr("faults.dropped"),
            None => {}
        }
        fault
    }

    fn decide(&self, s: &FaultSettings) -> Option<Fault> {
        if self.roll(s.drop_rate) {
            return Some(Fault::Dropped);
        }
        if self.roll(s.throttle_rate) {
            return Some(Fault::Throttled {
                retry_after: s.retry_after_secs,
            });
        }
        if self.roll(s.error_5xx_rate) {
            let is_504 = self.next_is_504.fetch_xor(true, Ordering::Relaxed);
            let status = if is_504 {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let retry_after = self.roll(0.5).then_some(s.retry_after_secs);
            return Some(Fault::Unavailable {
                status,
                retry_after,
            });
        }
        None
    }

    /// Whether `instantiate` should answer 404 although it created the objects.
    pub fn roll_false_404(&self) -> bool {
        let rate = self.settings().instantiate_false_404_rate;
        self.roll(rate)
    }

    fn roll(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        if rate >= 1.0 {
            return true;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.random::<f64>() < rate
    }
}

/// A response whose body fails at once: hyper then closes the connection without
/// sending the status line, so the client sees a dropped connection.
pub fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: injected dropped connection",
        ))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_omitted_fields_and_rejects_bad_rates() {
        let mut s = FaultSettings::default();
        let p = FaultSettingsPatch {
            latency_ms: Some(5),
            ..Default::default()
        };
        s.apply(&p).unwrap();
        assert_eq!(s.latency_ms, 5);
        assert_eq!(s.retry_after_secs, 1);
        let bad = FaultSettingsPatch {
            drop_rate: Some(1.5),
            latency_ms: Some(9),
            ..Default::default()
        };
        assert!(s.apply(&bad).is_err());
        assert_eq!(s.latency_ms, 5, "a rejected patch changes nothing");
    }

    #[tokio::test]
    async fn rates_zero_and_one_are_exact_and_counted() {
        let f = Faults::new(FaultSettings::default(), 1);
        assert_eq!(f.gate("x").await, None);
        f.update(&FaultSettingsPatch {
            error_5xx_rate: Some(1.0),
            ..Default::default()
        })
        .unwrap();
        let a = f.gate("x").await;
        let b = f.gate("x").await;
        let statuses: Vec<_> = [a, b]
            .into_iter()
            .map(|x| match x {
                Some(Fault::Unavailable { status, .. }) => status,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            statuses,
            vec![StatusCode::SERVICE_UNAVAILABLE, StatusCode::GATEWAY_TIMEOUT]
        );
        let counts = f.counts.snapshot();
        assert_eq!(counts["x"], 3);
        assert_eq!(counts["faults.5xx"], 2);
    }

    #[test]
    fn seeded_rolls_are_deterministic() {
        let a = Faults::new(FaultSettings::default(), 7);
        let b = Faults::new(FaultSettings::default(), 7);
        let ra: Vec<bool> = (0..32).map(|_| a.roll(0.5)).collect();
        let rb: Vec<bool> = (0..32).map(|_| b.roll(0.5)).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(|x| *x) && ra.iter().any(|x| !*x));
    }
}

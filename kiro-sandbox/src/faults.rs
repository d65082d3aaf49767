//! Fault injection (latency, throttling, transient 5xx, dropped connections) per service, the
//! global replication-lag and false-404 settings, and per-operation request counts.
//!
//! Requests reach [`Faults::gate`] only through the one fault layer (`fault_layer.rs`) on the
//! service routers; the control API never does.

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

/// The emulated services whose requests can be faulted, each with its own settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Entra's token endpoint, `/login/…`.
    Login,
    /// Microsoft Graph, `/graph/…`.
    Graph,
    /// Kiro's admin API (`/kiro/…`) and its SCIM endpoint (`/scim/…`).
    Kiro,
}

impl Service {
    /// The service a request path belongs to; `None` for the control API (`/_sandbox/…`) and
    /// anything else, which are never faulted or counted.
    pub fn of_path(path: &str) -> Option<Service> {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "login" => Some(Service::Login),
            "graph" => Some(Service::Graph),
            "kiro" | "scim" => Some(Service::Kiro),
            _ => None,
        }
    }
}

/// One service's fault switches.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceFaults {
    pub latency_ms: u64,
    pub throttle_rate: f64,
    pub retry_after_secs: u64,
    pub error_5xx_rate: f64,
    pub drop_rate: f64,
}

impl Default for ServiceFaults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            throttle_rate: 0.0,
            retry_after_secs: 1,
            error_5xx_rate: 0.0,
            drop_rate: 0.0,
        }
    }
}

/// Fault settings that apply to every service alike (the CLI flags, [`crate::Options`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSettings {
    /// Delay before created objects become visible to reads (global, not per service).
    pub replication_lag_ms: u64,
    pub latency_ms: u64,
    pub throttle_rate: f64,
    pub retry_after_secs: u64,
    pub error_5xx_rate: f64,
    pub drop_rate: f64,
    /// Graph quirk: `instantiate` creates the objects but answers 404 (global).
    pub instantiate_false_404_rate: f64,
    /// Writes (POST/PUT/PATCH/DELETE) carried out whose answer is then lost: the connection
    /// drops after the handler ran (global). What a client must not repeat blindly.
    pub lost_answer_rate: f64,
}

impl Default for FaultSettings {
    fn default() -> Self {
        let s = ServiceFaults::default();
        Self {
            replication_lag_ms: 0,
            latency_ms: s.latency_ms,
            throttle_rate: s.throttle_rate,
            retry_after_secs: s.retry_after_secs,
            error_5xx_rate: s.error_5xx_rate,
            drop_rate: s.drop_rate,
            instantiate_false_404_rate: 0.0,
            lost_answer_rate: 0.0,
        }
    }
}

/// The effective settings, as shown by `GET /_sandbox/faults`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EffectiveFaults {
    pub replication_lag_ms: u64,
    pub instantiate_false_404_rate: f64,
    pub lost_answer_rate: f64,
    pub login: ServiceFaults,
    pub graph: ServiceFaults,
    pub kiro: ServiceFaults,
}

impl From<&FaultSettings> for EffectiveFaults {
    fn from(s: &FaultSettings) -> Self {
        let each = ServiceFaults {
            latency_ms: s.latency_ms,
            throttle_rate: s.throttle_rate,
            retry_after_secs: s.retry_after_secs,
            error_5xx_rate: s.error_5xx_rate,
            drop_rate: s.drop_rate,
        };
        Self {
            replication_lag_ms: s.replication_lag_ms,
            instantiate_false_404_rate: s.instantiate_false_404_rate,
            lost_answer_rate: s.lost_answer_rate,
            login: each.clone(),
            graph: each.clone(),
            kiro: each,
        }
    }
}

impl EffectiveFaults {
    pub fn service(&self, service: Service) -> &ServiceFaults {
        match service {
            Service::Login => &self.login,
            Service::Graph => &self.graph,
            Service::Kiro => &self.kiro,
        }
    }

    /// Applies a patch after validating every field; on error nothing changes. Top-level
    /// service fields apply to every service first, then the per-service overrides.
    pub fn apply(&mut self, p: &FaultSettingsPatch) -> Result<(), String> {
        let all = ServiceFaultsPatch {
            latency_ms: p.latency_ms,
            throttle_rate: p.throttle_rate,
            retry_after_secs: p.retry_after_secs,
            error_5xx_rate: p.error_5xx_rate,
            drop_rate: p.drop_rate,
        };
        all.check("")?;
        if let Some(r) = p.instantiate_false_404_rate {
            check_rate(r).map_err(|e| format!("instantiate_false_404_rate: {e}"))?;
        }
        if let Some(r) = p.lost_answer_rate {
            check_rate(r).map_err(|e| format!("lost_answer_rate: {e}"))?;
        }
        let overrides = [
            ("login", &p.login, Service::Login),
            ("graph", &p.graph, Service::Graph),
            ("kiro", &p.kiro, Service::Kiro),
        ];
        for (name, patch, _) in &overrides {
            if let Some(patch) = patch {
                patch.check(&format!("{name}."))?;
            }
        }
        set(&mut self.replication_lag_ms, p.replication_lag_ms);
        set(
            &mut self.instantiate_false_404_rate,
            p.instantiate_false_404_rate,
        );
        set(&mut self.lost_answer_rate, p.lost_answer_rate);
        for service in [&mut self.login, &mut self.graph, &mut self.kiro] {
            all.apply_to(service);
        }
        for (_, patch, service) in overrides {
            if let Some(patch) = patch {
                let slot = match service {
                    Service::Login => &mut self.login,
                    Service::Graph => &mut self.graph,
                    Service::Kiro => &mut self.kiro,
                };
                patch.apply_to(slot);
            }
        }
        Ok(())
    }
}

/// A partial update (`PUT /_sandbox/faults`): omitted fields keep their value. The flat
/// service fields apply to every service; `login`, `graph` and `kiro` override one service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSettingsPatch {
    pub replication_lag_ms: Option<u64>,
    pub instantiate_false_404_rate: Option<f64>,
    pub lost_answer_rate: Option<f64>,
    pub latency_ms: Option<u64>,
    pub throttle_rate: Option<f64>,
    pub retry_after_secs: Option<u64>,
    pub error_5xx_rate: Option<f64>,
    pub drop_rate: Option<f64>,
    pub login: Option<ServiceFaultsPatch>,
    pub graph: Option<ServiceFaultsPatch>,
    pub kiro: Option<ServiceFaultsPatch>,
}

/// A partial update of one service's switches.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFaultsPatch {
    pub latency_ms: Option<u64>,
    pub throttle_rate: Option<f64>,
    pub retry_after_secs: Option<u64>,
    pub error_5xx_rate: Option<f64>,
    pub drop_rate: Option<f64>,
}

impl ServiceFaultsPatch {
    /// Validates the rates; `prefix` names the service in the message (`graph.`).
    fn check(&self, prefix: &str) -> Result<(), String> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("error_5xx_rate", self.error_5xx_rate),
            ("drop_rate", self.drop_rate),
        ];
        for (name, rate) in rates {
            if let Some(r) = rate {
                check_rate(r).map_err(|e| format!("{prefix}{name}: {e}"))?;
            }
        }
        Ok(())
    }

    fn apply_to(&self, s: &mut ServiceFaults) {
        set(&mut s.latency_ms, self.latency_ms);
        set(&mut s.throttle_rate, self.throttle_rate);
        set(&mut s.retry_after_secs, self.retry_after_secs);
        set(&mut s.error_5xx_rate, self.error_5xx_rate);
        set(&mut s.drop_rate, self.drop_rate);
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
/// Every change is announced, so a test can wait for a request of a kind to arrive
/// ([`Counts::wait_for`]) instead of sleeping and hoping it did.
pub struct Counts {
    map: Mutex<BTreeMap<String, u64>>,
    changed: tokio::sync::watch::Sender<()>,
}

impl Default for Counts {
    fn default() -> Self {
        Self {
            map: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(()),
        }
    }
}

impl Counts {
    pub fn incr(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key.to_string()).or_default() += 1;
        drop(map);
        self.changed.send_replace(());
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.changed.send_replace(());
    }

    /// The sum of the counts whose key starts with `prefix`.
    pub fn total(&self, prefix: &str) -> u64 {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// Waits until [`Self::total`] of `prefix` reaches `at_least`, or `timeout` passes.
    /// Returns the total then.
    pub async fn wait_for(&self, prefix: &str, at_least: u64, timeout: Duration) -> u64 {
        let mut changed = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Marked seen before the count is read, so a change after the read wakes us.
            changed.borrow_and_update();
            let total = self.total(prefix);
            if total >= at_least {
                return total;
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return self.total(prefix),
            }
        }
    }
}

pub struct Faults {
    settings: Mutex<EffectiveFaults>,
    rng: Mutex<StdRng>,
    /// Alternates 503 and 504 for injected transient errors.
    next_is_504: AtomicBool,
    pub counts: Counts,
}

impl Faults {
    pub fn new(settings: FaultSettings, seed: u64) -> Self {
        Self {
            settings: Mutex::new(EffectiveFaults::from(&settings)),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0xfa17_5eed)),
            next_is_504: AtomicBool::new(false),
            counts: Counts::default(),
        }
    }

    pub fn settings(&self) -> EffectiveFaults {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn update(&self, patch: &FaultSettingsPatch) -> Result<EffectiveFaults, String> {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        s.apply(patch)?;
        Ok(s.clone())
    }

    pub fn replication_lag(&self) -> Duration {
        Duration::from_millis(self.settings().replication_lag_ms)
    }

    /// Counts the operation, waits the service's configured latency, then decides whether the
    /// request fails. Called by the fault layer before the handler touches any state.
    pub async fn gate(&self, service: Service, op: &str) -> Option<Fault> {
        self.counts.incr(op);
        let s = self.settings().service(service).clone();
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

    fn decide(&self, s: &ServiceFaults) -> Option<Fault> {
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

    /// Whether a write that was not faulted loses its answer after it is carried out
    /// (counted as `faults.answer_lost`).
    pub fn roll_lost_answer(&self, method: &axum::http::Method) -> bool {
        if *method == axum::http::Method::GET || *method == axum::http::Method::HEAD {
            return false;
        }
        let lost = self.roll(self.settings().lost_answer_rate);
        if lost {
            self.counts.incr("faults.answer_lost");
        }
        lost
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
        let mut s = EffectiveFaults::from(&FaultSettings::default());
        let p = FaultSettingsPatch {
            latency_ms: Some(5),
            ..Default::default()
        };
        s.apply(&p).unwrap();
        assert_eq!(
            (s.login.latency_ms, s.graph.latency_ms, s.kiro.latency_ms),
            (5, 5, 5)
        );
        assert_eq!(s.graph.retry_after_secs, 1);
        let bad = FaultSettingsPatch {
            drop_rate: Some(1.5),
            latency_ms: Some(9),
            ..Default::default()
        };
        assert!(s.apply(&bad).is_err());
        assert_eq!(s.graph.latency_ms, 5, "a rejected patch changes nothing");
        let bad_override = FaultSettingsPatch {
            latency_ms: Some(9),
            kiro: Some(ServiceFaultsPatch {
                throttle_rate: Some(-0.1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = s.apply(&bad_override).unwrap_err();
        assert!(err.starts_with("kiro.throttle_rate:"), "{err}");
        assert_eq!(s.login.latency_ms, 5, "a rejected override changes nothing");
    }

    #[test]
    fn per_service_overrides_apply_after_the_flat_fields() {
        let mut s = EffectiveFaults::from(&FaultSettings::default());
        let p = FaultSettingsPatch {
            throttle_rate: Some(0.5),
            replication_lag_ms: Some(100),
            graph: Some(ServiceFaultsPatch {
                throttle_rate: Some(1.0),
                ..Default::default()
            }),
            ..Default::default()
        };
        s.apply(&p).unwrap();
        assert_eq!(s.service(Service::Graph).throttle_rate, 1.0);
        assert_eq!(s.service(Service::Login).throttle_rate, 0.5);
        assert_eq!(s.service(Service::Kiro).throttle_rate, 0.5);
        assert_eq!(s.replication_lag_ms, 100);
    }

    #[test]
    fn paths_map_to_services_and_the_control_api_to_none() {
        assert_eq!(
            Service::of_path("/login/t/oauth2/v2.0/token"),
            Some(Service::Login)
        );
        assert_eq!(
            Service::of_path("/graph/v1.0/applications"),
            Some(Service::Graph)
        );
        assert_eq!(Service::of_path("/graph"), Some(Service::Graph));
        assert_eq!(Service::of_path("/kiro/"), Some(Service::Kiro));
        assert_eq!(Service::of_path("/scim/v2/Users"), Some(Service::Kiro));
        assert_eq!(Service::of_path("/_sandbox/faults"), None);
        assert_eq!(Service::of_path("/graphql"), None);
    }

    #[tokio::test]
    async fn rates_zero_and_one_are_exact_and_counted() {
        let f = Faults::new(FaultSettings::default(), 1);
        assert_eq!(f.gate(Service::Graph, "x").await, None);
        f.update(&FaultSettingsPatch {
            graph: Some(ServiceFaultsPatch {
                error_5xx_rate: Some(1.0),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f.gate(Service::Login, "y").await, None, "login unaffected");
        let a = f.gate(Service::Graph, "x").await;
        let b = f.gate(Service::Graph, "x").await;
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
        assert_eq!(counts["y"], 1);
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

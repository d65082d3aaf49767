//! `kiro-sandbox`: an offline stand-in for Entra login, Microsoft Graph, Kiro's admin API and
//! its SCIM endpoint that enforces the rules the real services enforce.
//!
//! One listener serves `/login/…` (token endpoint), `/graph/v1.0/…` (Graph), `/kiro/` (Kiro's
//! admin API, SigV4-verified), `/scim/{region}/{profile}/scim/v2/…` (SCIM) and `/_sandbox/…`
//! (the control API); a DNS stub answers published TXT records on its own UDP+TCP port.
//! [`serve`] runs both on given sockets (the `kiro-sandbox` binary); [`start_in_background`]
//! runs them on their own thread for tests and benchmarks.

mod control;
mod directory;
mod fault_layer;
mod faults;
mod graph;
mod identity;
mod kill_point;
mod kiro;
mod login;
mod provisioning;
mod request_log;
pub mod scim;
mod seed;
mod state;
mod sts;

#[cfg(test)]
mod sandbox_tests;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::Router;
use axum::http::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

pub use faults::{FaultSettings, check_rate};
pub use kiro::dns::DnsListener;
use request_log::MemoryLog;
use state::Sandbox;

pub const DEFAULT_TENANT_ID: &str = "00000000-0000-4000-8000-000000000001";
pub const DEFAULT_CLIENT_ID: &str = "00000000-0000-4000-8000-0000000000c1";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
pub const DEFAULT_DOMAIN: &str = "kirosandbox.onmicrosoft.com";
pub const DEFAULT_SEED: u64 = 42;

/// How a sandbox starts: its seed, its default tenant and the identity that may sign in to
/// it, and fault settings applied to every service (change them later per service through
/// `PUT /_sandbox/faults`).
#[derive(Clone)]
pub struct Options {
    /// Seed for generated ids, seeded users/groups and fault decisions.
    pub seed: u64,
    /// Tenant id of the default tenant (its domain is [`DEFAULT_DOMAIN`]).
    pub tenant_id: uuid::Uuid,
    /// Client id that may sign in to the default tenant.
    pub client_id: uuid::Uuid,
    /// Client secret of that client.
    pub client_secret: String,
    pub faults: FaultSettings,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            tenant_id: DEFAULT_TENANT_ID
                .parse()
                .expect("DEFAULT_TENANT_ID is a GUID"),
            client_id: DEFAULT_CLIENT_ID
                .parse()
                .expect("DEFAULT_CLIENT_ID is a GUID"),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            faults: FaultSettings::default(),
        }
    }
}

/// All routes on one router: the services behind the one fault layer, the control API
/// beside it, and the request log around everything.
pub(crate) fn app(sb: Arc<Sandbox>) -> Router {
    let tokens: Arc<dyn scim::TokenCheck> = sb.kiro.clone();
    let services = Router::new()
        .merge(login::router())
        .merge(graph::router())
        .merge(kiro::router())
        .merge(sts::router())
        .nest(scim::MOUNT, scim::router(sb.kiro.scim.clone(), tokens))
        .route_layer(axum::middleware::from_fn_with_state(
            sb.clone(),
            fault_layer::fault_layer,
        ));
    Router::new()
        .merge(services)
        .merge(control::router())
        .merge(identity::router())
        .merge(scim::control_router(sb.kiro.scim.clone()))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "no such sandbox endpoint"})),
            )
        })
        .layer(axum::middleware::from_fn(request_log::log_requests))
        .with_state(sb)
}

/// Serves a new sandbox on `listener` (HTTP) and `dns` (the DNS stub) until the future is
/// dropped or a socket fails. Logs go to whatever `tracing` subscriber is current.
pub async fn serve(
    listener: tokio::net::TcpListener,
    dns: DnsListener,
    options: Options,
) -> io::Result<()> {
    let sb = Arc::new(Sandbox::new(options.seed, options.faults.clone()));
    sb.add_tenant(
        &options.tenant_id.to_string(),
        &options.client_id.to_string(),
        &options.client_secret,
        DEFAULT_DOMAIN,
    )
    .await;
    let addr = listener.local_addr()?;
    let dns_addr = dns.local_addr()?;
    tracing::info!(%addr, %dns_addr, tenant = %options.tenant_id, "kiro-sandbox listening");
    kiro::spawn_domain_tick(&sb);
    provisioning::spawn_ticker(&sb);
    let records = sb.kiro.dns.clone();
    tokio::select! {
        served = axum::serve(listener, app(sb)) => served,
        answered = kiro::dns::serve(dns, records) => answered,
    }
}

/// A sandbox serving on `127.0.0.1:<free port>` from its own thread and tokio runtime, so
/// plain `#[test]` functions can use it. It stops when dropped.
pub struct RunningSandbox {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The DNS stub, `127.0.0.1:<port>` (UDP and TCP).
    pub dns_addr: SocketAddr,
    log: MemoryLog,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Everything the sandbox logged so far: one line per request, plus warnings.
    pub fn log_text(&self) -> String {
        self.log.text()
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the sandbox's thread is already in its log; Drop must not panic.
            let _ = thread.join();
        }
    }
}

/// Starts a sandbox in the background.
///
/// # Panics
/// When no loopback port can be bound or the thread cannot start: a test cannot run without.
pub fn start_in_background(options: Options) -> RunningSandbox {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .unwrap_or_else(|e| panic!("kiro-sandbox: cannot listen on 127.0.0.1:0: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("kiro-sandbox: no local address: {e}"));
    let dns = DnsListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap_or_else(|e| panic!("kiro-sandbox: cannot bind the DNS stub on 127.0.0.1: {e}"));
    let dns_addr = dns
        .local_addr()
        .unwrap_or_else(|e| panic!("kiro-sandbox: DNS stub has no local address: {e}"));
    let log = MemoryLog::default();
    work_around_single_dispatch_interest_bug();
    // Only the sandbox's own events below WARN: HTTP internals stay out of the log.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("warn,kiro_sandbox=info"))
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("kiro-sandbox-{}", addr.port()))
        .spawn(move || {
            // The subscriber is this thread's default, and a current-thread runtime polls every
            // task here, so each in-process sandbox keeps its own log.
            tracing::subscriber::with_default(subscriber, || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("kiro-sandbox: cannot start a tokio runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let served = async {
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        serve(listener, dns, options).await
                    };
                    tokio::select! {
                        result = served => {
                            if let Err(e) = result {
                                tracing::error!("kiro-sandbox stopped serving: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
            });
        })
        .unwrap_or_else(|e| panic!("kiro-sandbox: cannot start its thread: {e}"));
    RunningSandbox {
        url: format!("http://{addr}"),
        dns_addr,
        log,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// tracing-core caches a callsite's interest from the registering thread's own default
/// subscriber while exactly one `Dispatch` exists (tokio-rs/tracing#3611): a test thread with
/// no subscriber that logs first would silence that line in every in-process sandbox's log.
/// A second, never-dropped dispatch makes tracing ask every registered subscriber instead.
fn work_around_single_dispatch_interest_bug() {
    static SECOND_DISPATCH: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND_DISPATCH
        .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_sandbox_serves_logs_each_request_and_stops_on_drop() {
        let sandbox = start_in_background(Options::default());
        let client = reqwest::blocking::Client::new();
        let health = client
            .get(format!("{}/_sandbox/health", sandbox.url))
            .send()
            .unwrap();
        assert_eq!(health.status(), 200);
        let token_url = format!(
            "{}/login/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
            sandbox.url
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let token = client.post(&token_url).form(&form).send().unwrap();
        assert_eq!(token.status(), 200);
        let log = sandbox.log_text();
        assert!(log.contains("GET /_sandbox/health 200 control"), "{log}");
        assert!(
            log.contains(&format!(
                "POST /login/{DEFAULT_TENANT_ID}/oauth2/v2.0/token 200 login.token"
            )),
            "{log}"
        );
        assert!(
            !log.contains(DEFAULT_CLIENT_SECRET),
            "secrets never logged: {log}"
        );
        let url = sandbox.url.clone();
        drop(sandbox);
        let after = reqwest::blocking::Client::new()
            .get(format!("{url}/_sandbox/health"))
            .send();
        assert!(after.is_err(), "a dropped sandbox no longer answers");
    }
}

//! The `kiro-sandbox` executable: parses flags, binds, prints exactly two lines to stdout,
//! `KIRO_SANDBOX_URL=http://127.0.0.1:<port>` and `KIRO_SANDBOX_DNS=127.0.0.1:<port>` (the DNS
//! stub, UDP and TCP), and serves until Ctrl-C or SIGTERM; logs go to stderr
//! (`KIRO_SANDBOX_LOG` filters them, default `info`).

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use kiro_sandbox::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SEED, DEFAULT_TENANT_ID, DnsListener,
    FaultSettings, Options, check_rate,
};
use tracing_subscriber::EnvFilter;

/// Offline emulator of Microsoft Entra login and Microsoft Graph for kiro provider tests.
///
/// Token endpoint: POST /login/{tenant}/oauth2/v2.0/token. Graph: /graph/v1.0/…
/// Kiro admin API: POST /kiro/ (AWS JSON 1.0, SigV4). SCIM: /scim/{region}/{profile}/scim/v2/…
/// Control API: /_sandbox/… (health, tenants, AWS accounts, faults, counts, objects, drift, DNS).
#[derive(Debug, Parser)]
#[command(name = "kiro-sandbox", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Address of the DNS stub (UDP and TCP); port 0 picks a port free for both.
    #[arg(long, default_value = "127.0.0.1:0")]
    dns_listen: SocketAddr,
    /// Seed for generated ids, seeded users/groups and fault decisions.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Tenant id of the default tenant (its domain is kirosandbox.onmicrosoft.com).
    #[arg(long, default_value = DEFAULT_TENANT_ID)]
    tenant_id: uuid::Uuid,
    /// Client id that may sign in to the default tenant.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    client_id: uuid::Uuid,
    /// Client secret of that client.
    #[arg(long, default_value = DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Delay before created objects become visible to Graph reads (ms).
    #[arg(long, default_value_t = 0)]
    replication_lag_ms: u64,
    /// Delay added to every login/Graph request (ms).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of login/Graph requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    throttle_rate: f64,
    /// Retry-After seconds sent with injected 429/5xx answers.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// Fraction of login/Graph requests answered 503/504.
    #[arg(long = "error-5xx-rate", default_value_t = 0.0, value_parser = parse_rate)]
    error_5xx_rate: f64,
    /// Fraction of login/Graph requests whose connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    drop_rate: f64,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|e| format!("not a number: {e}"))?;
    check_rate(r)
}

impl Cli {
    fn options(&self) -> Options {
        Options {
            seed: self.seed,
            tenant_id: self.tenant_id,
            client_id: self.client_id,
            client_secret: self.client_secret.clone(),
            faults: FaultSettings {
                replication_lag_ms: self.replication_lag_ms,
                latency_ms: self.latency_ms,
                throttle_rate: self.throttle_rate,
                retry_after_secs: self.retry_after_secs,
                error_5xx_rate: self.error_5xx_rate,
                drop_rate: self.drop_rate,
                instantiate_false_404_rate: 0.0,
                lost_answer_rate: 0.0,
            },
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_env("KIRO_SANDBOX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kiro-sandbox: cannot listen on {}: {e}", cli.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiro-sandbox: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let dns = match DnsListener::bind(cli.dns_listen) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "kiro-sandbox: cannot bind the DNS stub on {}: {e}",
                cli.dns_listen
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let dns_addr = match dns.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiro-sandbox: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let shown = |addr: SocketAddr| {
        if addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "KIRO_SANDBOX_URL=http://{}", shown(addr));
    let _ = writeln!(stdout, "KIRO_SANDBOX_DNS={}", shown(dns_addr));
    let _ = stdout.flush();

    tokio::select! {
        served = kiro_sandbox::serve(listener, dns, cli.options()) => match served {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kiro-sandbox: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        () = shutdown_signal() => std::process::ExitCode::SUCCESS,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("kiro-sandbox shutting down");
}

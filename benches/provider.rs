//! Measurements (printed, not asserted): handshake latency and memory of the
//! provider process; no-change plan wall time and requests of one
//! application and of `examples/complete` against the sandbox; and, from
//! Terraform's own trace log, how long Terraform waits for each provider
//! start and for the answer to its first call.
//!
//! Run: `cargo bench --bench provider`. To measure another build of the
//! provider (say, an older commit's) with the same harness, set
//! `KIRO_PROVIDER_BIN=/path/to/terraform-provider-kiro`.

#[path = "../tests/acceptance/example_workspace.rs"]
mod example_workspace;
#[path = "../tests/acceptance/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../tests/acceptance/sandbox.rs"]
#[allow(dead_code)]
mod sandbox;
#[path = "../tests/acceptance/sandbox_kiro.rs"]
#[allow(dead_code)]
mod sandbox_kiro;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::Workspace;
use sandbox::Sandbox;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A PEM certificate standing in for Terraform's client certificate.
fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    cert.pem()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn handshake() {
    let pem = client_cert_pem();
    let mut times = Vec::new();
    let mut peak_kib = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let mut child = Command::new(harness::provider_binary())
            .env(
                "TF_PLUGIN_MAGIC_COOKIE",
                "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
            )
            .env("PLUGIN_PROTOCOL_VERSIONS", "5")
            .env("PLUGIN_CLIENT_CERT", &pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        times.push(started.elapsed());
        assert!(
            line.starts_with("1|5|tcp|127.0.0.1:"),
            "handshake line: {line}"
        );
        peak_kib = peak_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        let _ = child.kill();
        let _ = child.wait();
    }
    println!(
        "handshake: median {:?} from process start to the handshake line (20 runs); peak RSS {} KiB",
        median(times),
        peak_kib
    );
}

fn plans() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    ws.write_main(&format!(
        "{}\nresource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n}}\n",
        sandbox.provider_block(&tenant, None)
    ));
    ws.init();
    sandbox.reset_counts();
    let apply = ws.apply();
    let create_counts = sandbox.counts();
    println!("apply (create one application): {:?}", apply.elapsed);
    println!("requests during create: {create_counts}");

    sandbox.reset_counts();
    let (code, run) = ws.plan_exit_code();
    assert_eq!(code, 0);
    println!(
        "no-change plan of one application: {} Graph requests, {} token requests ({}), {:?}",
        sandbox.count("graph."),
        sandbox.count("login."),
        sandbox.counts(),
        run.elapsed
    );
    let times: Vec<Duration> = (0..7).map(|_| ws.plan_exit_code().1.elapsed).collect();
    println!(
        "plan wall time, one application: median {:?} over 7 runs",
        median(times)
    );
    terraform_waits(&ws);
    ws.destroy();
}

/// Milliseconds since midnight of a Terraform log line's timestamp
/// (`2026-12-01T02:29:21.405Z [TRACE] …`).
fn log_ms(line: &str) -> Option<f64> {
    let time = line.get(11..23)?;
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(((h * 60.0 + m) * 60.0 + s) * 1000.0)
}

/// From `TF_LOG=trace` plans: for every provider start, the time from
/// "starting plugin" to "using plugin" (the handshake), and the time from
/// Terraform's first call (`GRPCProvider: GetProviderSchema`) to the next
/// line Terraform logs after the answer.
fn terraform_waits(ws: &Workspace) {
    let mut handshakes = Vec::new();
    let mut first_calls = Vec::new();
    let mut starts_per_plan = 0;
    for _ in 0..5 {
        let mut traced = Workspace::new();
        traced.env("TF_LOG", "trace");
        std::fs::copy(ws.dir.join("main.tf"), traced.dir.join("main.tf")).unwrap();
        std::fs::copy(
            ws.dir.join("terraform.tfstate"),
            traced.dir.join("terraform.tfstate"),
        )
        .unwrap();
        traced.init();
        let run = traced.ok(&["plan", "-no-color"]);
        let lines: Vec<&str> = run.stderr.lines().filter(|l| log_ms(l).is_some()).collect();
        starts_per_plan = 0;
        let mut started = None;
        for (i, line) in lines.iter().enumerate() {
            if line.contains("provider: starting plugin") {
                started = log_ms(line);
                starts_per_plan += 1;
            } else if line.contains("provider: using plugin") {
                if let (Some(a), Some(b)) = (started.take(), log_ms(line)) {
                    handshakes.push(b - a);
                }
            } else if line.contains("GRPCProvider: GetProviderSchema")
                && let (Some(a), Some(next)) = (
                    log_ms(line),
                    lines[i + 1..]
                        .iter()
                        .find(|l| !l.contains("provider.stdio"))
                        .and_then(|l| log_ms(l)),
                )
            {
                first_calls.push(next - a);
            }
        }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    println!(
        "terraform waits (trace log, 5 plans, {starts_per_plan} provider starts each): \
         start -> handshake median {:.0} ms over {}; first call -> answer median {:.0} ms over {}",
        med(handshakes.clone()),
        handshakes.len(),
        med(first_calls.clone()),
        first_calls.len()
    );
}

/// Requests per service since the last reset, e.g. `graph 41, kiro 12, scim 9, login 3`.
fn per_service(sandbox: &Sandbox) -> String {
    ["graph.", "kiro.", "scim.", "login."]
        .iter()
        .map(|s| format!("{} {}", s.trim_end_matches('.'), sandbox.count(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `examples/complete` (the whole guide) as the README runs it, against a sandbox tenant
/// whose Graph replication and provisioning-service lag is `lag_ms`.
fn complete_example(lag_ms: u64) {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    sandbox.set_faults(serde_json::json!({"replication_lag_ms": lag_ms}));
    sandbox.call(
        "PUT",
        "settings",
        Some(serde_json::json!({"sync_lag_ms": lag_ms})),
    );
    let dave = sandbox.objects(&tenant)["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["givenName"] == "Dave").cloned())
        .expect("the seeded user Dave");
    let mut ws = example_workspace::complete_example(&sandbox, &tenant, &account);
    ws.env(
        "TF_VAR_kiro_user",
        dave["userPrincipalName"].as_str().unwrap_or_default(),
    );
    sandbox.set_domain_auto_verify(Some(500));
    ws.init();
    sandbox.reset_counts();
    let apply = ws.apply();
    println!(
        "apply examples/complete (whole guide, lag {lag_ms} ms): {:?}; requests: {}",
        apply.elapsed,
        per_service(&sandbox)
    );
    println!("  by operation: {}", sandbox.counts());
    sandbox.reset_counts();
    let (code, run) = ws.plan_exit_code();
    assert_eq!(code, 0, "{}", run.stdout);
    println!(
        "no-change plan of examples/complete (lag {lag_ms} ms): {:?}; requests: {}",
        run.elapsed,
        per_service(&sandbox)
    );
    println!("  by operation: {}", sandbox.counts());
    if lag_ms > 0 {
        ws.destroy();
        return;
    }
    let times: Vec<Duration> = (0..7).map(|_| ws.plan_exit_code().1.elapsed).collect();
    println!(
        "plan wall time, examples/complete: median {:?} over 7 runs",
        median(times)
    );
    ws.destroy();
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; measure only
    // when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    handshake();
    plans();
    if std::env::var_os("KIRO_PROVIDER_BIN").is_some() {
        // An older build may lack the resources the example uses.
        println!("examples/complete: measured only with this build's provider");
    } else {
        complete_example(0);
        complete_example(2000);
    }
}

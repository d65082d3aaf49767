//! Measurements (printed, not asserted): handshake latency and memory of the
//! provider process, plan wall time against the sandbox, and the Graph
//! requests of a no-change plan. Run: `cargo bench --bench provider`.

#[path = "../tests/acceptance/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../tests/acceptance/sandbox.rs"]
#[allow(dead_code)]
mod sandbox;

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-kiro"))
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
    let times: Vec<Duration> = (0..5).map(|_| ws.plan_exit_code().1.elapsed).collect();
    println!("plan wall time: median {:?} over 5 runs", median(times));
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
}

//! Measurements (printed, not asserted): handshake latency and memory of the
//! provider process; no-change plan wall time and requests of one
//! application and of `examples/complete` against the sandbox; Terraform's
//! trace log of each provider start and exit; and how plan and apply scale
//! with tenants (one aliased provider and one application per tenant).
//!
//! Also: large groups (50, 1,000 and 10,000 members; `KIRO_BENCH_GROUPS` sets the sizes):
//! the `kiro_entra_group` data source reading one (paging), and assigning one with
//! `provision_on_demand`, plan (with its cost warning) and apply.
//!
//! Run: `cargo bench --bench provider`, or only some parts:
//! `cargo bench --bench provider -- handshake plans tenants complete groups`
//! (`KIRO_BENCH_TENANTS=1,5,25` sets the tenant counts; `KIRO_BENCH_LAGS`,
//! `KIRO_BENCH_WAIT_MODELS` and `KIRO_BENCH_RUNS`, the whole guide's lags, wait models and
//! runs of each, whose median the table shows; `KIRO_BENCH_WITHOUT_AWS=1` applies the guide
//! without hashicorp/aws, which the example loads only for its optional Route 53 record).
//! To measure another
//! build of the provider (say, an older commit's) with the same harness, set
//! `KIRO_PROVIDER_BIN=/path/to/terraform-provider-kiro`.

#[path = "../tests/acceptance/example_workspace.rs"]
mod example_workspace;
#[path = "../tests/acceptance/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../tests/acceptance/kiro_fixtures.rs"]
#[allow(dead_code)]
mod kiro_fixtures;
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

/// What Terraform's trace log of one command says about provider processes,
/// in milliseconds (the log's resolution is 1 ms).
#[derive(Default)]
struct ProcessTimes {
    /// "configuring client automatic mTLS" -> "starting plugin": Terraform making its
    /// client certificate for the process (its own work, before our binary runs).
    client_certificate: Vec<f64>,
    /// "starting plugin" -> "plugin started": Terraform forking and executing the binary.
    spawn: Vec<f64>,
    /// "starting plugin" -> "using plugin" (the handshake line was read).
    start: Vec<f64>,
    /// "using plugin" -> Terraform's first call (dial, TLS, its own work).
    first_call: Vec<f64>,
    /// "GRPCProvider: Close" (Shutdown is sent) -> "plugin exited".
    exit: Vec<f64>,
    /// Terraform's first call (GetProviderSchema) -> the next line it logs.
    schema_answer: Vec<f64>,
}

impl ProcessTimes {
    /// Pairs events in order: Terraform starts and stops provider processes one after
    /// another.
    fn from_trace(stderr: &str) -> ProcessTimes {
        let lines: Vec<&str> = stderr.lines().filter(|l| log_ms(l).is_some()).collect();
        let mut times = ProcessTimes::default();
        let (mut started, mut handshake, mut closing) = (None, None, None);
        let mut certifying = None;
        for (i, line) in lines.iter().enumerate() {
            let at = log_ms(line);
            if line.contains("provider: configuring client automatic mTLS") {
                certifying = at;
            } else if line.contains("provider: starting plugin") {
                if let (Some(a), Some(b)) = (certifying.take(), at) {
                    times.client_certificate.push(b - a);
                }
                started = at;
            } else if line.contains("provider: plugin started") {
                if let (Some(a), Some(b)) = (started, at) {
                    times.spawn.push(b - a);
                }
            } else if line.contains("provider: using plugin") {
                if let (Some(a), Some(b)) = (started.take(), at) {
                    times.start.push(b - a);
                }
                handshake = at;
            } else if line.contains("GRPCProvider: Close") {
                closing = at;
            } else if line.contains("provider: plugin exited") {
                if let (Some(a), Some(b)) = (closing.take(), at) {
                    times.exit.push(b - a);
                }
            } else if line.contains("GRPCProvider:") {
                if let (Some(a), Some(b)) = (handshake.take(), at) {
                    times.first_call.push(b - a);
                }
                if line.contains("GRPCProvider: GetProviderSchema")
                    && let (Some(a), Some(next)) = (
                        at,
                        lines[i + 1..]
                            .iter()
                            .find(|l| !l.contains("provider.stdio"))
                            .and_then(|l| log_ms(l)),
                    )
                {
                    times.schema_answer.push(next - a);
                }
            }
        }
        times
    }

    fn extend(&mut self, other: ProcessTimes) {
        self.client_certificate.extend(other.client_certificate);
        self.spawn.extend(other.spawn);
        self.start.extend(other.start);
        self.first_call.extend(other.first_call);
        self.exit.extend(other.exit);
        self.schema_answer.extend(other.schema_answer);
    }
}

/// `median/max over n` of milliseconds.
fn summary(v: &[f64]) -> String {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.last() {
        None => "none".to_string(),
        Some(max) => format!(
            "median {:.0} ms, max {max:.0} ms over {}",
            v[v.len() / 2],
            v.len()
        ),
    }
}

/// Runs `terraform plan` in a copy of `ws` (configuration and state) with
/// `TF_LOG=trace`.
fn traced_plan(ws: &Workspace) -> ProcessTimes {
    let mut traced = Workspace::new();
    traced.env("TF_LOG", "trace");
    std::fs::copy(ws.dir.join("main.tf"), traced.dir.join("main.tf")).unwrap();
    std::fs::copy(
        ws.dir.join("terraform.tfstate"),
        traced.dir.join("terraform.tfstate"),
    )
    .unwrap();
    traced.init();
    ProcessTimes::from_trace(&traced.ok(&["plan", "-no-color"]).stderr)
}

/// From `TF_LOG=trace` plans: how long Terraform waits for each provider
/// start, for the answer to its first call, and for each process to exit.
fn terraform_waits(ws: &Workspace) {
    let mut times = ProcessTimes::default();
    let mut starts_per_plan = 0;
    for _ in 0..5 {
        let plan = traced_plan(ws);
        starts_per_plan = plan.start.len();
        times.extend(plan);
    }
    println!(
        "terraform waits (trace log, 5 plans, {starts_per_plan} provider starts each): \
         start -> handshake {}; first call -> answer {}; Close -> plugin exited {}",
        summary(&times.start),
        summary(&times.schema_answer),
        summary(&times.exit),
    );
}

/// The highest peak RSS (VmHWM) of any provider process seen while `run`
/// runs, sampling /proc every millisecond (a process lives ~10-100 ms).
fn peak_provider_rss_kib(run: impl FnOnce()) -> u64 {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = std::thread::spawn({
        let (done, peak) = (done.clone(), peak.clone());
        move || {
            while !done.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
                        continue;
                    };
                    // comm is the executable's name cut to 15 bytes; only the providers
                    // of the terraform this benchmark started count (other processes on
                    // the machine may run the provider too).
                    let comm =
                        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                    if comm.starts_with("terraform-provi")
                        && harness::parent_pid(pid).and_then(harness::parent_pid)
                            == Some(std::process::id())
                    {
                        peak.fetch_max(vm_hwm_kib(pid).unwrap_or(0), Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    run();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    peak.load(Ordering::Relaxed)
}

/// `n` aliased providers `kiro.t<i>`, each signed in to `tenant_of(i)`, and one
/// application under each: the module's smallest form.
fn application_per_alias(
    sandbox: &Sandbox,
    n: usize,
    tenant_of: impl Fn(usize) -> sandbox::Tenant,
) -> String {
    let mut main = String::new();
    for i in 0..n {
        let alias = format!("t{i}");
        main.push_str(&sandbox.provider_block(&tenant_of(i), Some(&alias)));
        main.push_str(&format!(
            "resource \"kiro_entra_application\" \"{alias}\" {{\n  provider     = kiro.{alias}\n  display_name = \"Kiro {i}\"\n}}\n\n"
        ));
    }
    main
}

/// The module's smallest form, `n` times: one sandbox tenant, one aliased
/// provider and one application per tenant. Prints apply and no-change plan
/// wall time, requests per service, the provider's peak memory, and each
/// provider process's start and exit as Terraform's trace log shows them.
fn tenants(n: usize) {
    let sandbox = Sandbox::start();
    let main = application_per_alias(&sandbox, n, |_| sandbox.new_tenant());
    let ws = Workspace::new();
    ws.write_main(&main);
    ws.init();
    sandbox.reset_counts();
    let apply = ws.apply();
    println!(
        "{n} tenants: apply (create {n} applications) {:?}; requests: {}",
        apply.elapsed,
        per_service(&sandbox)
    );
    sandbox.reset_counts();
    let (code, run) = ws.plan_exit_code();
    assert_eq!(code, 0, "{}", run.stdout);
    let requests = per_service(&sandbox);
    let runs = if n >= 25 { 5 } else { 7 };
    let times: Vec<Duration> = (0..runs).map(|_| ws.plan_exit_code().1.elapsed).collect();
    println!(
        "{n} tenants: no-change plan median {:?} over {runs} runs; requests per plan: {requests}",
        median(times)
    );
    let peak = peak_provider_rss_kib(|| {
        ws.plan_exit_code();
    });
    println!("{n} tenants: peak RSS of a provider process during a plan: {peak} KiB");
    let mut times = ProcessTimes::default();
    for _ in 0..3 {
        times.extend(traced_plan(&ws));
    }
    println!(
        "{n} tenants: provider processes in 3 traced plans: start -> handshake {}; \
         handshake -> first call {}; Close -> plugin exited {}",
        summary(&times.start),
        summary(&times.first_call),
        summary(&times.exit),
    );
    println!(
        "{n} tenants: Terraform's own steps per process (one after another): making its \
         client certificate {}; fork and exec {}",
        summary(&times.client_certificate),
        summary(&times.spawn),
    );
    ws.destroy();
    reattached(n);
}

/// Terraform's floor without provider processes: `n` aliases of one tenant, planned
/// once by processes Terraform starts and once attached (TF_REATTACH_PROVIDERS) to
/// one provider started with `--debug`, so Terraform starts, certifies and stops
/// no process. What the attached plan takes per tenant is Terraform's own graph work.
fn reattached(n: usize) {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let main = application_per_alias(&sandbox, n, |_| tenant.clone());
    let mut ws = Workspace::new();
    ws.write_main(&main);
    ws.init();
    ws.apply();
    let runs = if n >= 25 { 5 } else { 7 };
    let plan = |ws: &Workspace| {
        let (code, run) = ws.plan_exit_code();
        assert_eq!(code, 0, "{}", run.describe());
        run.elapsed
    };
    let started: Vec<Duration> = (0..runs).map(|_| plan(&ws)).collect();
    let mut debug = Command::new(harness::provider_binary())
        .arg("--debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reattach = BufReader::new(debug.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.trim()
                .strip_prefix("TF_REATTACH_PROVIDERS='")
                .map(|v| v.trim_end_matches('\'').to_string())
        })
        .expect("the provider prints TF_REATTACH_PROVIDERS in debug mode");
    ws.env("TF_REATTACH_PROVIDERS", &reattach);
    let attached: Vec<Duration> = (0..runs).map(|_| plan(&ws)).collect();
    let _ = debug.kill();
    let _ = debug.wait();
    println!(
        "{n} aliases of one tenant: no-change plan median {:?} with a process per alias, \
         {:?} attached to one provider process (Terraform's graph work alone), over {runs} runs",
        median(started),
        median(attached),
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

/// Graph requests by method (from the sandbox's per-operation counts: the operation's last
/// word names it), Kiro requests, and the application GETs among the Graph ones.
#[derive(Clone, Copy, Default)]
struct GuideRequests {
    get: u64,
    patch: u64,
    post: u64,
    put: u64,
    delete: u64,
    kiro: u64,
    scim: u64,
    login: u64,
    application_gets: u64,
}

impl GuideRequests {
    fn of(sandbox: &Sandbox) -> GuideRequests {
        let counts = sandbox.counts();
        let mut r = GuideRequests::default();
        for (op, n) in counts.as_object().into_iter().flatten() {
            let n = n.as_u64().unwrap_or(0);
            if op.starts_with("kiro.") {
                r.kiro += n;
            }
            if op.starts_with("scim.") {
                r.scim += n;
            }
            if op.starts_with("login.") {
                r.login += n;
            }
            let Some(graph) = op.strip_prefix("graph.") else {
                continue;
            };
            if graph == "applications.get" {
                r.application_gets += n;
            }
            let slot = match graph.rsplit('.').next().unwrap_or_default() {
                "get" | "list" => &mut r.get,
                "patch" => &mut r.patch,
                "put" => &mut r.put,
                "delete" => &mut r.delete,
                // post, instantiate, provisionOnDemand, start, validateCredentials, ...
                _ => &mut r.post,
            };
            *slot += n;
        }
        r
    }
}

/// One whole-guide apply: wall time and requests.
struct GuideRun {
    lag_ms: u64,
    model: &'static str,
    apply: Duration,
    requests: GuideRequests,
}

/// `examples/complete` without hashicorp/aws: its provider, its Route 53 record (optional
/// there, and off against the sandbox) and the references to it. Terraform then loads only
/// this provider, so the apply measures the guide itself, as the bench did before the example
/// could publish the record (hashicorp/aws alone takes seconds to load its schema).
fn without_hashicorp_aws(main_tf: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut lines = main_tf.lines();
    let mut in_aws_block = false;
    while let Some(line) = lines.next() {
        if in_aws_block {
            in_aws_block = line != "}";
        } else if line.starts_with("provider \"aws\"") || line.starts_with("resource \"aws_") {
            // The block goes with the comment above it.
            while kept.last().is_some_and(|l| l.starts_with('#')) {
                kept.pop();
            }
            in_aws_block = true;
        } else if line.trim() == "aws = {" {
            // `source = "hashicorp/aws"` and the closing brace.
            lines.nth(1);
        } else if !line.contains("aws_route53_record.") {
            kept.push(line);
        }
    }
    kept.join("\n") + "\n"
}

/// `KIRO_BENCH_WITHOUT_AWS` is set: the guide is measured without hashicorp/aws.
fn bench_without_aws() -> bool {
    std::env::var_os("KIRO_BENCH_WITHOUT_AWS").is_some()
}

/// `examples/complete` (the whole guide) as the README runs it, against a sandbox tenant
/// whose Graph replication and provisioning-service lag is `lag_ms`, with the provider's
/// Graph writes confirmed as `model` says (`ours`, or `azuread`: the reference provider's
/// wait model, `KIRO_GRAPH_WAIT_MODEL=azuread`). The plan right after must be empty.
fn complete_example(lag_ms: u64, model: &'static str) -> GuideRun {
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
    if bench_without_aws() {
        let main_tf = ws.read("main.tf");
        ws.write("main.tf", &without_hashicorp_aws(&main_tf));
    }
    ws.env(
        "TF_VAR_kiro_user",
        dave["userPrincipalName"].as_str().unwrap_or_default(),
    );
    ws.env("KIRO_GRAPH_WAIT_MODEL", model);
    sandbox.set_domain_auto_verify(Some(500));
    if let Ok(log) = std::env::var("KIRO_BENCH_PROVIDER_LOG") {
        // The provider's debug log of every Terraform command, for a timeline.
        ws.env("TF_LOG_PROVIDER", "debug");
        ws.env("TF_LOG_PATH", &format!("{log}.{model}.lag{lag_ms}"));
    }
    ws.init();
    sandbox.reset_counts();
    let apply = ws.apply();
    let requests = GuideRequests::of(&sandbox);
    println!(
        "apply examples/complete (whole guide, lag {lag_ms} ms, {model} waits): {:?}; requests: {}",
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
    if lag_ms == 0 && model == "ours" {
        let times: Vec<Duration> = (0..7).map(|_| ws.plan_exit_code().1.elapsed).collect();
        println!(
            "plan wall time, examples/complete: median {:?} over 7 runs",
            median(times)
        );
    }
    ws.destroy();
    GuideRun {
        lag_ms,
        model,
        apply: apply.elapsed,
        requests,
    }
}

/// The whole guide at each lag, with this provider's waits and with azuread's, side by side,
/// `runs` times each (the table shows the run of median wall time, and the range).
fn complete_examples(lags: &[u64], models: &[&'static str], runs: usize) {
    let mut medians = Vec::new();
    for &lag in lags {
        for &model in models {
            let mut these: Vec<GuideRun> =
                (0..runs).map(|_| complete_example(lag, model)).collect();
            these.sort_by_key(|r| r.apply);
            let range = (these[0].apply, these[these.len() - 1].apply);
            medians.push((these.swap_remove(these.len() / 2), range));
        }
    }
    let form = if bench_without_aws() {
        "examples/complete without hashicorp/aws"
    } else {
        "examples/complete"
    };
    println!("\nwhole guide ({form}), one apply (median of {runs}):");
    println!(
        "{:>8}  {:<8} {:>9} {:>15} {:>7}  {:>9} {:>5} {:>5} {:>4} {:>5}  {:>5} {:>5} {:>5}",
        "lag",
        "waits",
        "apply",
        "range",
        "vs ours",
        "Graph GET",
        "PATCH",
        "POST",
        "PUT",
        "DEL",
        "Kiro",
        "SCIM",
        "login"
    );
    for (run, (low, high)) in &medians {
        let ours = medians
            .iter()
            .find(|(r, _)| r.lag_ms == run.lag_ms && r.model == "ours")
            .map_or(run.apply, |(r, _)| r.apply);
        let r = run.requests;
        println!(
            "{:>6} s  {:<8} {:>7.2} s {:>6.2}-{:>6.2} s {:>6.1}x  {:>9} {:>5} {:>5} {:>4} {:>5}  {:>5} {:>5} {:>5}   (application GETs {})",
            run.lag_ms as f64 / 1000.0,
            run.model,
            run.apply.as_secs_f64(),
            low.as_secs_f64(),
            high.as_secs_f64(),
            run.apply.as_secs_f64() / ours.as_secs_f64(),
            r.get,
            r.patch,
            r.post,
            r.put,
            r.delete,
            r.kiro,
            r.scim,
            r.login,
            r.application_gets
        );
    }
}

/// The guide up to provisioning: an application, a profile for it, and provisioning with a
/// minted token, so that provision on demand has a job to run.
fn provisioned_application() -> String {
    r#"resource "kiro_entra_application" "kiro" {
  display_name = "Kiro groups bench"
}

resource "kiro_profile" "main" {
  name       = "kiro-groups-bench"
  issuer_url = kiro_entra_application.kiro.issuer_url
  client_id  = kiro_entra_application.kiro.client_id
}

resource "kiro_entra_provisioning" "kiro" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = kiro_profile.main.scim_endpoint
  kiro_scim_token {
    profile_arn = kiro_profile.main.arn
  }
}
"#
    .to_string()
}

/// One line of the plan's warning about provisioning the group on demand.
fn cost_warning(plan: &harness::Run) -> String {
    let flat = plan.flat_stdout();
    flat.find("Group ")
        .map(|at| {
            flat[at..]
                .split(". ")
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_else(|| "(no warning)".into())
}

/// A group of `members` users: reading it with the data source, then assigning it with
/// `provision_on_demand` (plan, then apply), in wall time and requests.
fn large_group(sandbox: &Sandbox, ws: &Workspace, tenant: &sandbox::Tenant, members: usize) {
    let base = provisioned_application();
    let group = sandbox.call(
        "POST",
        &format!("tenants/{}/groups", tenant.tenant_id),
        Some(
            serde_json::json!({"displayName": format!("Bench {members}"), "member_count": members}),
        ),
    );
    sandbox.call("POST", "replication/flush", Some(serde_json::json!({})));
    let id = group["id"].as_str().unwrap();
    let config =
        |body: &str| kiro_fixtures::kiro_config(sandbox, tenant, &format!("{base}\n{body}"));
    ws.write_main(&config(&format!(
        "data \"kiro_entra_group\" \"g\" {{\n  object_id = \"{id}\"\n}}\n"
    )));
    sandbox.reset_counts();
    let read = ws.ok(&["plan", "-no-color"]);
    let pages = sandbox.count("graph.groups.members");
    println!(
        "group of {members}: plan reading it (kiro_entra_group) {:?}; member pages {pages}; \
         requests: {}",
        read.elapsed,
        per_service(sandbox)
    );
    ws.write_main(&config(&format!(
        "resource \"kiro_entra_assignment\" \"g\" {{\n  service_principal_id = kiro_entra_application.kiro.service_principal_id\n  principal_id         = \"{id}\"\n  provision_on_demand  = true\n  depends_on           = [kiro_entra_provisioning.kiro]\n}}\n"
    )));
    sandbox.reset_counts();
    let plan = ws.ok(&["plan", "-no-color"]);
    println!(
        "group of {members}: plan assigning it {:?}; requests: {}; warning: {}",
        plan.elapsed,
        per_service(sandbox),
        cost_warning(&plan)
    );
    sandbox.reset_counts();
    let apply = ws.apply();
    println!(
        "group of {members}: apply {:?}; provision-on-demand calls {}; requests: {}",
        apply.elapsed,
        sandbox.count("graph.synchronization.jobs.provisionOnDemand"),
        per_service(sandbox)
    );
    ws.write_main(&config(""));
    ws.apply();
}

/// [`large_group`] for each of `sizes`, in one tenant whose provisioning is set up once.
fn large_groups(sizes: &[usize]) {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let ws = kiro_fixtures::kiro_workspace(&sandbox, &tenant, &account, &provisioned_application());
    ws.apply();
    for &members in sizes {
        large_group(&sandbox, &ws, &tenant, members);
    }
    ws.destroy();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs this with --bench absent; measure only
    // when asked to benchmark.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |part: &str| chosen.is_empty() || chosen.contains(&part);
    if run("handshake") {
        handshake();
    }
    if run("plans") {
        plans();
    }
    if run("tenants") {
        let counts = std::env::var("KIRO_BENCH_TENANTS").unwrap_or_else(|_| "1,5,25".into());
        for n in counts.split(',').filter_map(|c| c.trim().parse().ok()) {
            tenants(n);
        }
    }
    if run("groups") {
        let sizes = std::env::var("KIRO_BENCH_GROUPS").unwrap_or_else(|_| "50,1000,10000".into());
        let sizes: Vec<usize> = sizes
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        large_groups(&sizes);
    }
    if run("complete") {
        // Another build (`KIRO_PROVIDER_BIN`, e.g. a release build of an older commit) is
        // measured too; one that lacks a resource the example uses fails the apply.
        if let Some(bin) = std::env::var_os("KIRO_PROVIDER_BIN") {
            println!(
                "examples/complete with the provider at {}",
                bin.to_string_lossy()
            );
        }
        let lags = std::env::var("KIRO_BENCH_LAGS").unwrap_or_else(|_| "0,2000,5000".into());
        let lags: Vec<u64> = lags
            .split(',')
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        let models = match std::env::var("KIRO_BENCH_WAIT_MODELS").as_deref() {
            Ok("ours") => vec!["ours"],
            Ok("azuread") => vec!["azuread"],
            _ => vec!["ours", "azuread"],
        };
        let runs = std::env::var("KIRO_BENCH_RUNS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        complete_examples(&lags, &models, runs);
    }
}

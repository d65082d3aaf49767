//! Terraform killed in the middle (issue 11 §3): `terraform apply` of the whole guide and its
//! provider are SIGKILLed at one chosen request — after each kind of create, once right after
//! its answer was delivered and once with the create done but its answer never delivered —
//! then `terraform apply` runs again. It must converge (the next plan empty) with nothing made
//! twice, and `terraform destroy` must leave neither Entra nor Kiro anything of it. Where the
//! provider cannot prove an object its own (an application found only by its name), the
//! second apply may instead stop naming the object and its import command.
//!
//! The sandbox's kill point freezes every service at the chosen request, so each row kills
//! at the same place every run; the points were chosen from the sandbox's request log of the
//! whole guide.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::example_workspace::configure_for_sandbox;
use crate::harness::{Run, Workspace, parent_pid};
use crate::kiro_fixtures::REGION;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

/// `examples/complete` without hashicorp/aws: the domain is verified by the sandbox itself
/// (`domain_auto_verify_ms`) instead of a Route 53 record.
const GUIDE: &str = r#"terraform {
  required_providers {
    kiro = { source = "kiro-entra/kiro" }
  }
}

provider "kiro" {}

variable "kiro_group" { type = string }
variable "kiro_user" { type = string }
variable "company_domain" { type = string }

resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
}

resource "kiro_entra_api_scope" "kiro" {
  for_each = {
    completions   = "Kiro code completions"
    conversations = "Kiro conversations"
  }
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "codewhisperer:${each.key}"
  admin_consent_display_name = each.value
  admin_consent_description  = "Lets Kiro use ${each.value} for the signed-in user."
}

resource "kiro_entra_redirect_uri" "kiro" {
  for_each       = toset(["kiro://kiro.oauth/callback", "http://localhost/oauth/callback"])
  application_id = kiro_entra_application.kiro.object_id
  uri            = each.value
}

data "kiro_entra_group" "kiro" {
  display_name = var.kiro_group
}

data "kiro_entra_user" "kiro" {
  user_principal_name = var.kiro_user
}

resource "kiro_profile" "kiro" {
  name       = "kiro"
  issuer_url = kiro_entra_application.kiro.issuer_url
  client_id  = kiro_entra_application.kiro.client_id
}

resource "kiro_domain" "company" {
  profile_arn = kiro_profile.kiro.arn
  domain_name = var.company_domain
}

resource "kiro_domain_verification" "company" {
  profile_arn = kiro_domain.company.profile_arn
  domain_name = kiro_domain.company.domain_name
}

resource "kiro_entra_provisioning" "kiro" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = kiro_profile.kiro.scim_endpoint
  kiro_scim_token {
    profile_arn = kiro_profile.kiro.arn
  }
}

resource "kiro_entra_assignment" "group" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_group.kiro.object_id
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}

resource "kiro_entra_assignment" "user" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_user.kiro.object_id
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}

resource "kiro_subscription" "group" {
  profile_arn    = kiro_profile.kiro.arn
  principal_type = "GROUP"
  external_id    = data.kiro_entra_group.kiro.object_id
  plan           = "KIRO_PRO"
  depends_on     = [kiro_entra_assignment.group]
}
"#;

/// A tenant, an AWS account and a workspace of [`GUIDE`] for them, in a sandbox of its own.
struct Guide {
    sandbox: Sandbox,
    tenant: Tenant,
    account: AwsAccount,
    ws: Workspace,
}

impl Guide {
    /// `init` is a workspace of [`GUIDE`] already initialised, whose providers this one uses.
    fn new(init: &Workspace) -> Guide {
        let sandbox = Sandbox::start();
        sandbox.set_domain_auto_verify(Some(50));
        let tenant = sandbox.new_tenant();
        let account = sandbox.aws_account();
        let mut ws = Workspace::new();
        configure_for_sandbox(&mut ws, &sandbox, &tenant, &account);
        let dave = sandbox
            .users(&tenant)
            .into_iter()
            .find(|u| u["givenName"] == "Dave")
            .expect("the seeded user Dave");
        ws.env(
            "TF_VAR_kiro_user",
            dave["userPrincipalName"].as_str().unwrap(),
        );
        ws.write("main.tf", GUIDE);
        ws.reuse_init_of(init);
        Guide {
            sandbox,
            tenant,
            account,
            ws,
        }
    }
}

/// A workspace of [`GUIDE`] initialised once, for every row's workspace to copy.
fn initialised() -> Workspace {
    let ws = Workspace::new();
    ws.write("main.tf", GUIDE);
    ws.init();
    ws
}

/// One kind of create to kill after: the first request matching `operation` (a prefix of the
/// sandbox's operation names) whose body contains `body_contains`.
struct Point {
    create: &'static str,
    operation: &'static str,
    body_contains: Option<&'static str>,
    /// An application found only by its display name: the provider cannot prove it its own.
    found_by_name_only: bool,
}

const fn point(create: &'static str, operation: &'static str) -> Point {
    Point {
        create,
        operation,
        body_contains: None,
        found_by_name_only: false,
    }
}

/// After each kind of create of the whole guide, in the order the request log shows them.
/// The application's own create disables and removes the template's scope with PATCHes,
/// and edits of one application coalesce into PATCHes whose grouping varies from run to
/// run: a scope's create is the first PATCH writing one of the guide's scopes, a redirect
/// URI's the first writing a redirect URI.
const POINTS: [Point; 11] = [
    Point {
        found_by_name_only: true,
        ..point("application", "graph.applicationTemplates.instantiate")
    },
    Point {
        body_contains: Some("codewhisperer:"),
        ..point("scope", "graph.applications.patch")
    },
    Point {
        body_contains: Some("redirectUris"),
        ..point("redirect URI", "graph.applications.patch")
    },
    point("profile", "kiro.CreateProfile"),
    point("domain", "kiro.AssociateLoginDomain"),
    point("provisioning job", "graph.synchronization.jobs.post"),
    point("token mint", "kiro.CreateScimAccessToken"),
    point("secrets saved", "graph.synchronization.secrets.put"),
    point("assignment", "graph.appRoleAssignedTo.post"),
    point(
        "provision on demand",
        "graph.synchronization.jobs.provisionOnDemand",
    ),
    point("subscription", "kiro.CreateAssignment"),
];

#[derive(Clone, Copy)]
enum Variant {
    /// Killed once the create's answer was delivered and the provider went on.
    AfterAnswer,
    /// Killed with the create carried out but its answer never delivered.
    LostAnswer,
}

impl Variant {
    fn hold(self) -> &'static str {
        match self {
            Variant::AfterAnswer => "after_answer",
            Variant::LostAnswer => "before_answer",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variant::AfterAnswer => "after answer",
            Variant::LostAnswer => "answer lost",
        }
    }
}

enum Outcome {
    Converged,
    StoppedWithImportHint,
    Failed(String),
}

impl Outcome {
    fn describe(&self) -> String {
        match self {
            Outcome::Converged => "converged".into(),
            Outcome::StoppedWithImportHint => "stopped with import hint".into(),
            Outcome::Failed(why) => format!("FAILED: {why}"),
        }
    }
}

struct Row {
    create: &'static str,
    variant: Variant,
    outcome: Outcome,
    /// Objects there more than once after the second apply, e.g. `2 SCIM tokens`.
    duplicates: Vec<String>,
    /// What Entra and Kiro still hold of the tenant and account after the clean-up.
    left: Vec<String>,
    /// What the killed apply left in terraform.tfstate.
    state_after_kill: String,
    elapsed: Duration,
}

impl Row {
    fn passed(&self) -> bool {
        self.duplicates.is_empty()
            && self.left.is_empty()
            && !matches!(self.outcome, Outcome::Failed(_))
    }
}

/// The first apply, killed at `point`, then the second apply, judged; duplicates counted;
/// everything removed (by `terraform destroy`, and through the sandbox the application a
/// stopped apply named); what is left counted.
fn run_row(init: &Workspace, point: &Point, variant: Variant) -> Row {
    let started = Instant::now();
    let guide = Guide::new(init);
    let killed = apply_killed_at(&guide, point, variant);
    let state_after_kill = state_summary(&guide.ws);
    let outcome = match killed {
        Err(why) => Outcome::Failed(why),
        Ok(()) => second_apply(&guide, point),
    };
    let duplicates = duplicates(&guide);
    let destroy = guide.ws.run(&["destroy", "-auto-approve", "-no-color"]);
    let outcome = match outcome {
        Outcome::Failed(_) => outcome,
        _ if destroy.status != Some(0) => {
            Outcome::Failed(format!("destroy failed: {}", errors(&destroy)))
        }
        other => other,
    };
    if matches!(outcome, Outcome::StoppedWithImportHint) {
        for app in guide.sandbox.applications(&guide.tenant) {
            guide
                .sandbox
                .delete_application_out_of_band(&guide.tenant, app["id"].as_str().unwrap());
        }
    }
    Row {
        create: point.create,
        variant,
        outcome,
        duplicates,
        left: left_over(&guide),
        state_after_kill,
        elapsed: started.elapsed(),
    }
}

/// Starts `terraform apply`, waits until the sandbox froze at `point`, and SIGKILLs
/// Terraform and its provider; `Err` says why it could not.
fn apply_killed_at(guide: &Guide, point: &Point, variant: Variant) -> Result<(), String> {
    guide.sandbox.set_kill_point(json!({
        "operation": point.operation,
        "body_contains": point.body_contains,
        "hold": variant.hold(),
    }));
    let output = guide.ws.dir.with_file_name("killed-apply.txt");
    let mut terraform = guide
        .ws
        .spawn(&["apply", "-auto-approve", "-no-color"], &output);
    let frozen = loop {
        if let Some(report) = guide.sandbox.kill_point_frozen(Duration::from_millis(200)) {
            break Ok(report);
        }
        if let Some(status) = terraform.try_wait().expect("terraform's status") {
            let printed = std::fs::read_to_string(&output).unwrap_or_default();
            break Err(format!(
                "the kill point was never reached: the first apply exited with {status}: {}",
                first_error(&printed).unwrap_or("no error")
            ));
        }
    };
    if frozen.is_ok() {
        state_file_settled(&guide.ws);
    }
    let providers = kill_with_providers(terraform);
    guide.sandbox.clear_kill_point();
    let report = frozen?;
    match providers.len() {
        1 => Ok(()),
        n => Err(format!(
            "{n} provider processes under terraform at {report}"
        )),
    }
}

/// Waits (at most 3 s) until terraform.tfstate is missing or whole and has not changed for
/// 300 ms. Terraform's local backend rewrites the file in place (truncate, then write), so
/// a kill inside that window empties the state: a loss of the local backend, not of the
/// provider, which this test is not about. Once the services are frozen, every create
/// waits on them and Terraform writes the state only for what finished just before.
fn state_file_settled(ws: &Workspace) {
    let path = ws.dir.join("terraform.tfstate");
    let look = || {
        let text = std::fs::read_to_string(&path).ok();
        let whole = text
            .as_deref()
            .is_none_or(|t| serde_json::from_str::<Value>(t).is_ok());
        (whole, text)
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = look();
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let now = look();
        if now != last {
            (last, since) = (now, Instant::now());
        } else if last.0 && since.elapsed() >= Duration::from_millis(300) {
            return;
        }
    }
}

/// SIGKILLs Terraform, then every provider process it started; returns their ids.
fn kill_with_providers(mut terraform: Child) -> Vec<u32> {
    let providers = provider_children(terraform.id());
    terraform.kill().expect("SIGKILL terraform");
    for pid in &providers {
        let killed = std::process::Command::new("kill")
            .args(["-s", "KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "SIGKILL provider {pid}");
    }
    terraform.wait().expect("reap terraform");
    providers
}

/// The processes whose parent is `parent` and whose program is the kiro provider, from /proc.
fn provider_children(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("/proc");
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_pid(*pid) == Some(parent))
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
                exe.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("terraform-provider-kiro"))
            })
        })
        .collect()
}

/// How many resources terraform.tfstate holds, or that it is missing or empty (a kill while
/// Terraform rewrote it).
fn state_summary(ws: &Workspace) -> String {
    match std::fs::read_to_string(ws.dir.join("terraform.tfstate")) {
        Err(_) => "no state file".into(),
        Ok(text) if text.trim().is_empty() => "EMPTY state file".into(),
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(state) => {
                let n = state["resources"].as_array().map_or(0, Vec::len);
                format!("{n} resources")
            }
            Err(_) => "UNREADABLE state file".into(),
        },
    }
}

/// The apply after the kill: converged (and the next plan empty), stopped naming the
/// application and its import command (allowed only where the application is found only by
/// its name), or failed.
fn second_apply(guide: &Guide, point: &Point) -> Outcome {
    // The kernel releases the killed Terraform's lock on the state; a lock timeout covers
    // the moment until it has.
    let apply = guide
        .ws
        .run(&["apply", "-auto-approve", "-no-color", "-lock-timeout=10s"]);
    if apply.status != Some(0) {
        return stopped_or_failed(guide, point, &apply);
    }
    let plan = guide.ws.run(&["plan", "-detailed-exitcode", "-no-color"]);
    match plan.status {
        Some(0) => Outcome::Converged,
        Some(2) => {
            let changes: Vec<&str> = plan
                .stdout
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("# "))
                .collect();
            Outcome::Failed(format!(
                "applied, but the next plan wants {}",
                changes.join("; ")
            ))
        }
        _ => Outcome::Failed(format!("the plan after it failed: {}", errors(&plan))),
    }
}

fn stopped_or_failed(guide: &Guide, point: &Point, apply: &Run) -> Outcome {
    let printed = apply.flat_stdout() + " " + &apply.stderr;
    let apps = guide.sandbox.applications(&guide.tenant);
    let names_the_application = apps
        .iter()
        .any(|a| printed.contains(a["id"].as_str().unwrap_or("?")));
    let import_hint = printed.contains("An application with this name already exists")
        && printed.contains("terraform import")
        && names_the_application;
    if point.found_by_name_only && import_hint {
        Outcome::StoppedWithImportHint
    } else {
        Outcome::Failed(errors(apply))
    }
}

/// Every error summary a run printed, each with the resource it is about.
fn errors(run: &Run) -> String {
    let output = run.output();
    let lines: Vec<&str> = output
        .lines()
        .map(|l| l.trim_start_matches('│').trim())
        .collect();
    let found: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Error: "))
        .map(|(i, l)| {
            let with = lines[i..]
                .iter()
                .take(4)
                .find_map(|l| l.strip_prefix("with "))
                .map(|a| format!(" ({})", a.trim_end_matches(',')))
                .unwrap_or_default();
            format!("{l}{with}")
        })
        .collect();
    if found.is_empty() {
        format!("exit {:?} without an error message", run.status)
    } else {
        found.join("; ")
    }
}

fn first_error(printed: &str) -> Option<&str> {
    printed
        .lines()
        .map(|l| l.trim_start_matches('│').trim())
        .find(|l| l.starts_with("Error: "))
}

/// `n kind` for each kind of object the sandbox holds more than once for one configuration
/// object: applications, service principals, provisioning jobs, assignments (per principal),
/// profiles, domains, SCIM tokens, subscriptions (per principal), Kiro users and groups (per
/// external id).
fn duplicates(guide: &Guide) -> Vec<String> {
    let entra = guide.sandbox.objects(&guide.tenant);
    let kiro = guide.sandbox.kiro_objects(&guide.account, REGION);
    let mut found = Vec::new();
    let mut more_than_once = |kind: &str, items: &Value, key: Option<&str>| {
        let items = items.as_array().cloned().unwrap_or_default();
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for item in &items {
            let k = key.map(|k| item[k].to_string()).unwrap_or_default();
            *counts.entry(k).or_default() += 1;
        }
        for n in counts.values().filter(|n| **n > 1) {
            found.push(format!("{n} {kind}"));
        }
    };
    more_than_once("applications", &entra["applications"], None);
    more_than_once("service principals", &entra["service_principals"], None);
    more_than_once("provisioning jobs", &entra["sync_jobs"], None);
    more_than_once("assignments", &entra["assignments"], Some("principalId"));
    more_than_once("profiles", &kiro["profiles"], None);
    more_than_once("domains", &kiro["domains"], None);
    more_than_once("SCIM tokens", &kiro["tokens"], None);
    more_than_once("subscriptions", &kiro["assignments"], Some("principalId"));
    more_than_once("Kiro users", &kiro["users"], Some("externalId"));
    more_than_once("Kiro groups", &kiro["groups"], Some("externalId"));
    found
}

/// `n kind` for each kind of object Entra or Kiro still holds of the tenant and account.
fn left_over(guide: &Guide) -> Vec<String> {
    let entra = guide.sandbox.objects(&guide.tenant);
    let kiro = guide.sandbox.kiro_objects(&guide.account, REGION);
    let entra_kinds = [
        "applications",
        "service_principals",
        "assignments",
        "sync_jobs",
    ];
    let kiro_kinds = [
        "profiles",
        "domains",
        "tokens",
        "users",
        "groups",
        "assignments",
    ];
    let counted = entra_kinds
        .iter()
        .map(|k| (format!("Entra {k}"), &entra[*k]))
        .chain(kiro_kinds.iter().map(|k| (format!("Kiro {k}"), &kiro[*k])));
    counted
        .filter_map(|(kind, items)| {
            let n = items.as_array().map_or(0, Vec::len);
            (n > 0).then(|| format!("{n} {kind}"))
        })
        .collect()
}

fn print_table(rows: &[Row]) {
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    eprintln!(
        "\n{:<20} | {:<12} | {:<16} | {:<40} | {:<12} | {:<12} | time",
        "kill point (after)",
        "variant",
        "state after kill",
        "second apply",
        "duplicates",
        "left after destroy"
    );
    for row in rows {
        eprintln!(
            "{:<20} | {:<12} | {:<16} | {:<40} | {:<12} | {:<12} | {:.1} s",
            row.create,
            row.variant.name(),
            row.state_after_kill,
            row.outcome.describe(),
            list(&row.duplicates),
            list(&row.left),
            row.elapsed.as_secs_f64()
        );
    }
}

/// Each kind of create of the whole guide, killed after its answer and with its answer lost
/// (22 kill points): every second apply converges — or, where only the application's name
/// could find it, stops naming it and its import command — nothing is made twice, and
/// nothing is left after destroy.
#[test]
fn the_whole_guide_converges_after_terraform_is_killed_at_each_create() {
    let started = Instant::now();
    let init = initialised();
    let mut rows = Vec::new();
    for point in &POINTS {
        for variant in [Variant::AfterAnswer, Variant::LostAnswer] {
            rows.push(run_row(&init, point, variant));
        }
    }
    print_table(&rows);
    eprintln!(
        "{} kill points in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{} ({})", r.create, r.variant.name()))
        .collect();
    assert!(
        failed.is_empty(),
        "kill points that did not hold: {}",
        failed.join(", ")
    );
}

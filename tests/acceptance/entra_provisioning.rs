//! `kiro_entra_provisioning`: the job, Test Connection, the secret three ways (minted,
//! write-only, in state), mappings and their drift, rotation, import, out-of-band deletes,
//! and plan-time checks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::configs::{
    adopt_in, application, assert_plans_change, assert_plans_create, assert_plans_rotation,
};
use crate::harness::Workspace;
use crate::kiro_fixtures::{REGION, kiro_config, kiro_workspace, profile};
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;
use crate::sandbox_provisioning::mapping_source;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The application, a profile, and provisioning with `settings` inside its block.
fn guide(tenant: &Tenant, settings: &str) -> String {
    format!(
        r#"{}
{}
resource "kiro_entra_provisioning" "kiro" {{
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = kiro_profile.main.scim_endpoint
{settings}}}
"#,
        application("Kiro provisioning"),
        profile(tenant, "kiro-prov", "")
    )
}

fn minted(trigger: &str, extra: &str) -> String {
    format!(
        r#"  kiro_scim_token {{
    profile_arn       = kiro_profile.main.arn
    rotation_triggers = {{ rotated = "{trigger}" }}
  }}
{extra}"#
    )
}

struct Setup {
    sandbox: Sandbox,
    tenant: Tenant,
    account: AwsAccount,
}

impl Setup {
    fn new() -> Setup {
        let sandbox = Sandbox::start();
        let tenant = sandbox.new_tenant();
        let account = sandbox.aws_account();
        Setup {
            sandbox,
            tenant,
            account,
        }
    }

    fn workspace(&self, settings: &str) -> Workspace {
        kiro_workspace(
            &self.sandbox,
            &self.tenant,
            &self.account,
            &guide(&self.tenant, settings),
        )
    }

    fn rewrite(&self, ws: &Workspace, settings: &str) {
        ws.write_main(&kiro_config(
            &self.sandbox,
            &self.tenant,
            &guide(&self.tenant, settings),
        ));
    }

    fn token_ids(&self) -> Vec<String> {
        self.sandbox.token_ids(&self.account, REGION)
    }

    fn assert_empty(&self) {
        self.sandbox.assert_empty(&self.tenant);
        let jobs = self.sandbox.objects(&self.tenant)["sync_jobs"].clone();
        assert_eq!(
            jobs.as_array().map_or(0, Vec::len),
            0,
            "jobs left: {jobs:#}"
        );
        self.sandbox.assert_kiro_empty(&self.account, REGION);
    }
}

/// No trace of `secret` in the state file, `terraform show -json`, or `log`.
fn assert_secret_absent(ws: &Workspace, secret: &str, log: &str) {
    assert!(secret.len() >= 16, "a real token to look for: {secret:?}");
    let state = ws.read("terraform.tfstate");
    assert!(!state.contains(secret), "the token is in the state file");
    let shown = ws.ok(&["show", "-json"]).stdout;
    assert!(
        !shown.contains(secret),
        "the token is in terraform show -json"
    );
    assert!(
        !log.contains(secret),
        "the token is in the TF_LOG=TRACE log"
    );
}

#[test]
fn minted_token_lifecycle_rotation_drift_and_destroy() {
    let setup = Setup::new();
    let (sandbox, tenant) = (&setup.sandbox, &setup.tenant);
    let mut ws = setup.workspace(&minted("1", ""));
    ws.env("TF_LOG", "TRACE").env("TF_LOG_PATH", "trace.log");
    ws.apply();

    let state = ws.resource("kiro_entra_provisioning.kiro");
    let sp = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    assert_eq!(state["id"], sp.as_str());
    let job = sandbox.sync_job(tenant, &sp).expect("a provisioning job");
    assert_eq!(job["job"]["id"], state["job_id"]);
    assert_eq!(job["job"]["schedule"]["state"], "Active");
    assert!(state["status"].as_str().is_some(), "{state:#}");
    assert!(
        state["user_rule_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let secrets = job["secrets"].to_string();
    assert!(
        secrets.contains(&ws.attr("kiro_profile.main", "scim_endpoint")),
        "{secrets}"
    );
    assert_eq!(
        mapping_source(&job, "users", "externalId").as_deref(),
        Some("[objectId]"),
        "externalId from objectId"
    );
    for rejected in ["department", "employeeNumber", "manager"] {
        let target = format!("{ENTERPRISE}:{rejected}");
        assert_eq!(
            mapping_source(&job, "users", &target),
            None,
            "{rejected} removed"
        );
    }
    // The minted token is the one Entra holds, and only its id is in state.
    let token_id = state["kiro_scim_token_id"].as_str().unwrap().to_string();
    assert_eq!(setup.token_ids(), [token_id.as_str()]);
    // The saved credentials work: a cycle runs now against Kiro's SCIM endpoint.
    let cycle = sandbox.run_provisioning(tenant, &sp);
    assert_eq!(cycle["state"], "Succeeded", "{cycle:#}");
    let token = sandbox.saved_scim_token(tenant, &sp);
    assert_secret_absent(&ws, &token, &ws.read("trace.log"));
    ws.assert_no_changes();

    // Rotation: mint, switch after Test Connection, delete the old: never more than 2 tokens,
    // never none.
    setup.rewrite(&ws, &minted("2", ""));
    let done = AtomicBool::new(false);
    let (max, min) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let n = setup.token_ids().len();
                max.fetch_max(n, Ordering::SeqCst);
                min.fetch_min(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let run = ws.apply();
        done.store(true, Ordering::SeqCst);
        assert!(run.stdout.contains("1 changed"), "{}", run.stdout);
    });
    assert!(max.load(Ordering::SeqCst) <= 2 && min.load(Ordering::SeqCst) >= 1);
    let rotated = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    assert_ne!(rotated, token_id);
    assert_eq!(setup.token_ids(), [rotated.as_str()]);
    let cycle = sandbox.run_provisioning(tenant, &sp);
    assert_eq!(
        cycle["state"], "Succeeded",
        "the new token works: {cycle:#}"
    );
    let new_token = sandbox.saved_scim_token(tenant, &sp);
    assert_ne!(new_token, token);
    assert_secret_absent(&ws, &new_token, &ws.read("trace.log"));
    ws.assert_no_changes();

    // The minted token deleted in Kiro: drift, and the apply mints another.
    let arn = ws.attr("kiro_profile.main", "arn");
    sandbox.delete_token_out_of_band(&arn, &rotated);
    assert_plans_change(&ws, "kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    ws.apply();
    let remade = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    assert_eq!(setup.token_ids(), [remade]);
    ws.assert_no_changes();

    // Settings in place: scope, a paused job, an extra mapping written as an expression.
    let extra = r#"  sync_scope = "all"
  enabled    = false
  attribute_mapping {
    object           = "user"
    target_attribute = "externalId"
    source_attribute = "objectId"
  }
  attribute_mapping {
    object           = "user"
    target_attribute = "displayName"
    expression       = "Join(\" \", [givenName], [surname])"
  }
"#;
    setup.rewrite(&ws, &minted("2", extra));
    ws.apply();
    let job = sandbox.sync_job(tenant, &sp).unwrap();
    assert_eq!(job["job"]["schedule"]["state"], "Paused");
    let sync_all = job["secrets"]
        .as_array()
        .and_then(|s| s.iter().find(|kv| kv["key"] == "SyncAll"))
        .map(|kv| kv["value"].clone());
    assert_eq!(
        sync_all,
        Some(serde_json::json!("true")),
        "{:#}",
        job["secrets"]
    );
    assert_eq!(
        mapping_source(&job, "users", "displayName").as_deref(),
        Some(r#"Join(" ", [givenName], [surname])"#)
    );
    ws.assert_no_changes();

    // A managed mapping changed in the portal shows as drift and is put back.
    sandbox.edit_mapping_in_portal(tenant, &sp, "users", "externalId", Some("[mail]"));
    assert_plans_change(&ws, "kiro_entra_provisioning.kiro", "mail");
    ws.apply();
    let job = sandbox.sync_job(tenant, &sp).unwrap();
    assert_eq!(
        mapping_source(&job, "users", "externalId").as_deref(),
        Some("[objectId]")
    );
    // A rejected mapping added back in the portal shows too.
    let department = format!("{ENTERPRISE}:department");
    sandbox.edit_mapping_in_portal(tenant, &sp, "users", &department, Some("[department]"));
    assert_plans_change(
        &ws,
        "kiro_entra_provisioning.kiro",
        "remove_unsupported_mappings",
    );
    ws.apply();
    let job = sandbox.sync_job(tenant, &sp).unwrap();
    assert_eq!(mapping_source(&job, "users", &department), None);
    ws.assert_no_changes();

    // The job deleted in the portal: planned again.
    sandbox.delete_sync_job_out_of_band(tenant, &sp);
    assert_plans_create(&ws, "kiro_entra_provisioning.kiro");
    ws.apply();
    ws.assert_no_changes();

    ws.destroy();
    setup.assert_empty();
}

const WRITE_ONLY: &str = r#"  secret_token_wo         = var.scim_token
  secret_token_wo_version = 1
"#;

const TOKEN_VARIABLE: &str = r#"variable "scim_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
"#;

#[test]
fn write_only_secret_import_and_wrong_token() {
    let setup = Setup::new();
    let (sandbox, tenant) = (&setup.sandbox, &setup.tenant);
    // The token comes from elsewhere (here: a kiro_access_token in another configuration).
    let minter = kiro_workspace(
        sandbox,
        tenant,
        &setup.account,
        &format!(
            "{}\nresource \"kiro_access_token\" \"scim\" {{\n  profile_arn = kiro_profile.main.arn\n}}\n",
            profile(tenant, "kiro-prov", "")
        ),
    );
    minter.apply();
    let token = minter.attr("kiro_access_token.scim", "token");
    let endpoint = minter.attr("kiro_profile.main", "scim_endpoint");
    let body = |secret: &str| {
        format!(
            r#"{TOKEN_VARIABLE}
{}
resource "kiro_entra_provisioning" "kiro" {{
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = "{endpoint}"
{secret}}}
"#,
            application("Kiro provisioning")
        )
    };

    // A wrong token: Test Connection fails with the service's reason, and nothing is saved.
    let mut ws = kiro_workspace(sandbox, tenant, &setup.account, &body(WRITE_ONLY));
    ws.env("TF_VAR_scim_token", "not-the-token-0123456789");
    let failed = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(failed.contains("Test Connection failed"), "{failed}");
    assert!(failed.contains("invalid credentials"), "{failed}");
    assert!(
        failed.contains("secret_token_wo"),
        "on the attribute: {failed}"
    );
    let sp = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    assert!(sandbox.sync_job(tenant, &sp).is_none(), "no job kept");

    // The right one, write-only: in Entra, nowhere in Terraform's files or logs.
    ws.env("TF_VAR_scim_token", &token)
        .env("TF_LOG", "TRACE")
        .env("TF_LOG_PATH", "trace.log");
    ws.apply();
    assert_eq!(sandbox.saved_scim_token(tenant, &sp), token);
    assert_secret_absent(&ws, &token, &ws.read("trace.log"));
    ws.assert_no_changes();

    // Import by service principal id: everything but the secret reads back; the next apply
    // sends the write-only secret once (it cannot be read from Entra), then plans clean.
    ws.ok(&["state", "rm", "kiro_entra_provisioning.kiro"]);
    ws.ok(&["import", "-no-color", "kiro_entra_provisioning.kiro", &sp]);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "{}", plan.stdout);
    let line = plan
        .stdout
        .lines()
        .find(|l| l.contains("+ secret_token_wo_version"))
        .unwrap_or_default();
    assert!(line.trim_end().ends_with("= 1"), "{}", plan.stdout);
    assert!(plan.stdout.contains("1 to change"), "{}", plan.stdout);
    ws.apply();
    ws.assert_no_changes();

    // An import block with -generate-config-out writes what can be read back and no secret
    // (Entra never returns it): that configuration keeps the credentials saved in Entra, so
    // it validates, imports with nothing to change, and plans clean.
    let generated = adopt_in(
        |body| kiro_workspace(sandbox, tenant, &setup.account, body),
        "kiro_entra_provisioning",
        &sp,
    );
    assert!(
        generated.contains(&format!("tenant_url = \"{endpoint}\""))
            || generated.contains(&endpoint),
        "{generated}"
    );
    assert!(generated.contains(&sp), "{generated}");
    assert!(!generated.contains(&token), "{generated}");

    // Switching to the secret kept in state is an in-place update.
    ws.write_main(&kiro_config(
        sandbox,
        tenant,
        &body(&format!("  secret_token = \"{token}\"\n")),
    ));
    ws.apply();
    ws.assert_no_changes();

    ws.destroy();
    minter.destroy();
    setup.assert_empty();
}

#[test]
fn bad_configurations_fail_at_plan_time_without_api_calls() {
    let setup = Setup::new();
    let sandbox = &setup.sandbox;
    let ws = setup.workspace(&minted("1", "  secret_token = \"abc\"\n"));
    let cases: &[(&str, &[&str])] = &[
        (
            "  secret_token = \"abc\"\n  secret_token_wo_version = 1\n",
            &["so secret_token_wo must be set too"],
        ),
        (
            &minted("1", "  secret_token = \"abc\"\n"),
            &["Conflicting arguments"],
        ),
        (
            "  secret_token = \"abc\"\n  sync_scope = \"everyone\"\n",
            &["sync_scope"],
        ),
        (
            "  secret_token = \"abc\"\n  attribute_mapping {\n    object = \"user\"\n    target_attribute = \"displayName\"\n    expression = \"Join(\\\" \\\", [givenName]\"\n  }\n",
            &["Invalid mapping expression", "',' or ')'"],
        ),
        (
            "  secret_token = \"abc\"\n  attribute_mapping {\n    object = \"user\"\n    target_attribute = \"displayName\"\n  }\n",
            &["Set one of `source_attribute`"],
        ),
        (
            "  secret_token = \"abc\"\n  attribute_mapping {\n    object = \"device\"\n    target_attribute = \"x\"\n    source_attribute = \"y\"\n  }\n",
            &["object"],
        ),
        (
            &format!(
                "  secret_token = \"abc\"\n  attribute_mapping {{\n    object = \"user\"\n    target_attribute = \"{ENTERPRISE}:department\"\n    source_attribute = \"department\"\n  }}\n"
            ),
            &["Kiro rejects this attribute"],
        ),
    ];
    sandbox.reset_counts();
    for (settings, needles) in cases {
        setup.rewrite(&ws, settings);
        let out = ws.fails(&["validate", "-no-color"]).output();
        for needle in *needles {
            assert!(out.contains(needle), "{settings}\n→ {out}");
        }
    }
    assert_eq!(
        sandbox.count(""),
        0,
        "validation made API calls: {:#}",
        sandbox.counts()
    );
}

/// A profile already holding Kiro's 2 tokens: the mint is refused with the tokens listed,
/// and the job this create made is taken back, so nothing is left behind or in state.
#[test]
fn minting_into_a_full_profile_fails_and_leaves_nothing() {
    let setup = Setup::new();
    let (sandbox, tenant) = (&setup.sandbox, &setup.tenant);
    let tokens = r#"resource "kiro_access_token" "a" {
  profile_arn = kiro_profile.main.arn
}
resource "kiro_access_token" "b" {
  profile_arn = kiro_profile.main.arn
}
"#;
    let settings = minted(
        "1",
        "  depends_on = [kiro_access_token.a, kiro_access_token.b]\n",
    );
    let ws = kiro_workspace(
        sandbox,
        tenant,
        &setup.account,
        &format!("{}\n{tokens}", guide(tenant, &settings)),
    );
    let failed = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(
        failed.contains("no room for another SCIM access token"),
        "{failed}"
    );
    for id in setup.token_ids() {
        assert!(failed.contains(&id), "the error lists {id}: {failed}");
    }
    let sp = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    assert!(
        sandbox.sync_job(tenant, &sp).is_none(),
        "the job was taken back"
    );
    let state = ws.state().to_string();
    assert!(
        !state.contains("kiro_entra_provisioning"),
        "nothing in state: {state}"
    );
    ws.destroy();
    setup.assert_empty();
}

/// One variable picks the secret's form, as a module would: the state-held token or the
/// write-only one. Terraform validates with the variable unknown, so the rules across the
/// secret arguments wait; the configuration validates, plans and applies with either value,
/// and switching between them is an in-place update.
#[test]
fn a_secret_chosen_by_a_variable_validates_plans_and_applies_both_ways() {
    let setup = Setup::new();
    let settings = r#"  secret_token            = var.wo ? null : kiro_access_token.scim.token
  secret_token_wo         = var.wo ? kiro_access_token.scim.token : null
  secret_token_wo_version = var.wo ? 1 : null
"#;
    let body = format!(
        r#"{}
variable "wo" {{
  type = bool
}}

resource "kiro_access_token" "scim" {{
  profile_arn = kiro_profile.main.arn
}}
"#,
        guide(&setup.tenant, settings)
    );
    let ws = kiro_workspace(&setup.sandbox, &setup.tenant, &setup.account, &body);
    ws.ok(&["validate", "-no-color"]);
    for wo in ["false", "true"] {
        let var = format!("wo={wo}");
        ws.ok(&["plan", "-no-color", "-var", &var]);
        ws.ok(&["apply", "-auto-approve", "-no-color", "-var", &var]);
        let after = ws.run(&["plan", "-detailed-exitcode", "-no-color", "-var", &var]);
        assert_eq!(after.status, Some(0), "no changes\n{}", after.describe());
        let provisioning = ws.resource("kiro_entra_provisioning.kiro");
        let in_state = &provisioning["secret_token"];
        assert_eq!(
            in_state.is_null(),
            wo == "true",
            "secret_token in state with wo={wo}: {in_state}"
        );
        let job = &setup.sandbox.objects(&setup.tenant)["sync_jobs"];
        assert_eq!(job.as_array().map_or(0, Vec::len), 1, "one job: {job:#}");
    }
    ws.ok(&["destroy", "-auto-approve", "-no-color", "-var", "wo=true"]);
    setup.assert_empty();
}

/// With no secret at all the provider keeps the credentials saved in Entra; a job that has
/// none (a new one) is refused at apply with what to set, and nothing is left behind.
#[test]
fn no_secret_on_a_new_job_fails_and_leaves_no_job() {
    let setup = Setup::new();
    let ws = setup.workspace("");
    ws.ok(&["validate", "-no-color"]);
    let failed = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(
        failed.contains("No SCIM token to keep") && failed.contains("kiro_scim_token"),
        "{failed}"
    );
    let jobs = setup.sandbox.objects(&setup.tenant)["sync_jobs"].clone();
    assert_eq!(jobs.as_array().map_or(0, Vec::len), 0, "{jobs:#}");
    ws.destroy();
    setup.assert_empty();
}

/// A token minted for this provisioning by an apply that was killed before state recorded it
/// (made here as a token with the provider's marker that no state holds) is recognised as the
/// resource's own and deleted before the next mint: it never holds one of the profile's 2
/// places, so a rotation into a profile it would otherwise fill succeeds.
#[test]
fn a_token_orphaned_by_an_interrupted_apply_is_deleted_before_the_next_mint() {
    let setup = Setup::new();
    let (sandbox, tenant) = (&setup.sandbox, &setup.tenant);
    let ws = setup.workspace(&minted("1", ""));
    ws.apply();
    let kept = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    let sp = ws.attr("kiro_entra_provisioning.kiro", "service_principal_id");
    let arn = ws.attr("kiro_profile.main", "arn");

    let killed = kiro_workspace(
        sandbox,
        tenant,
        &setup.account,
        &format!(
            "resource \"kiro_access_token\" \"orphan\" {{\n  profile_arn = \"{arn}\"\n  description = \"Entra ID automatic provisioning (managed by Terraform) [terraform {sp}]\"\n}}\n"
        ),
    );
    killed.apply();
    let orphan = killed.attr("kiro_access_token.orphan", "token_id");
    killed.ok(&["state", "rm", "kiro_access_token.orphan"]);
    assert_eq!(setup.token_ids().len(), 2, "the profile is full");

    setup.rewrite(&ws, &minted("2", ""));
    ws.apply();
    let now = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    assert_eq!(
        setup.token_ids(),
        vec![now.clone()],
        "orphan {orphan} and old {kept} are gone"
    );
    assert_ne!(now, kept);
    ws.assert_no_changes();
    ws.destroy();
    setup.assert_empty();
}

/// A year on: the plan warns as the minted token's expiry comes near, and with
/// `kiro_scim_token.rotate_before` mints its successor in an in-place update that Entra
/// switches to before the old token is deleted.
#[test]
fn a_minted_token_near_expiry_warns_and_rotates_within_rotate_before() {
    let setup = Setup::new();
    let sandbox = &setup.sandbox;
    let ws = setup.workspace(&minted("1", ""));
    ws.apply();
    let arn = ws.attr("kiro_profile.main", "arn");
    let sp = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    let first = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    let expires = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_expires_at");
    assert!(expires.starts_with("20"), "{expires}");

    sandbox.expire_token_in(&arn, &first, 10);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 0, "only a warning: {}", plan.describe());
    assert!(
        plan.flat_stdout()
            .contains("A SCIM access token expires soon")
            && plan.flat_stdout().contains(&first),
        "{}",
        plan.stdout
    );

    // Adding the window changes nothing remote by itself...
    sandbox.expire_token_in(&arn, &first, 60);
    let with_window = minted("1", "").replace(
        "    rotation_triggers",
        "    rotate_before     = \"720h\"\n    rotation_triggers",
    );
    setup.rewrite(&ws, &with_window);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        !plan.stdout.contains("kiro_scim_token_id") && !plan.stdout.contains("Warning"),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(
        ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id"),
        first
    );
    // ...until the token comes within it: the plan mints a successor.
    sandbox.expire_token_in(&arn, &first, 25);
    assert_plans_rotation(&ws, &["update in-place", "kiro_scim_token_id"]);
    ws.apply();
    let second = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    assert_ne!(second, first);
    assert_eq!(
        setup.token_ids(),
        [second.as_str()],
        "the old token is gone"
    );
    let saved = sandbox.saved_scim_token(&setup.tenant, &sp);
    assert!(!saved.is_empty());
    ws.assert_no_changes();
    ws.destroy();
    setup.assert_empty();
}

/// Kiro mints the token while the job waits for the provisioning service to catch up with the
/// new service principal (side by side, not one after the other): the token exists before
/// Graph accepts the job.
#[test]
fn the_token_is_minted_while_the_job_waits_for_the_provisioning_service() {
    let setup = Setup::new();
    let sandbox = &setup.sandbox;
    sandbox.call(
        "PUT",
        "settings",
        Some(serde_json::json!({"sync_lag_ms": 3000})),
    );
    let ws = setup.workspace(&minted("1", ""));
    std::thread::scope(|s| {
        let apply = s.spawn(|| ws.apply());
        sandbox.wait_for_requests("kiro.CreateScimAccessToken", 1);
        assert_eq!(
            sandbox.count("graph.synchronization.jobs.post"),
            0,
            "the token was minted before the job was made: {}",
            sandbox.counts()
        );
        apply.join().unwrap();
    });
    let token_id = ws.attr("kiro_entra_provisioning.kiro", "kiro_scim_token_id");
    assert_eq!(setup.token_ids(), [token_id]);
    ws.assert_no_changes();
    ws.destroy();
    setup.assert_empty();
}

/// When the job cannot be made (the service principal does not support provisioning), the
/// token minted for it meanwhile is deleted again: nothing is left in Kiro or Entra.
#[test]
fn a_job_that_cannot_be_made_takes_back_the_token_minted_meanwhile() {
    let setup = Setup::new();
    let (sandbox, tenant) = (&setup.sandbox, &setup.tenant);
    let ws = setup.workspace(&minted("1", ""));
    ws.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-target=kiro_entra_application.kiro",
        "-target=kiro_profile.main",
    ]);
    let sp = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    sandbox.drift_service_principal(
        tenant,
        &sp,
        serde_json::json!({"applicationTemplateId": "00000000-0000-0000-0000-0000000000aa"}),
    );
    let failed = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(failed.contains("does not support provisioning"), "{failed}");
    assert_eq!(
        sandbox.count("kiro.CreateScimAccessToken"),
        1,
        "{}",
        sandbox.counts()
    );
    assert!(setup.token_ids().is_empty(), "the minted token was deleted");
    assert!(sandbox.sync_job(tenant, &sp).is_none(), "no job");
    ws.destroy();
    setup.assert_empty();
}

//! The whole guide in one `terraform apply`: `examples/complete` itself, against a fresh
//! sandbox tenant and AWS account — then the people and the group are in Kiro with
//! `externalId` = their Entra object ids, the next plan is empty, and destroy leaves both
//! sides empty. Plus the guide's failure that users meet most: the enterprise mappings kept,
//! Kiro rejecting a user, reported by provision on demand.

use serde_json::Value;

use crate::configs::application;
use crate::example_workspace::complete_example;
use crate::harness::Workspace;
use crate::kiro_fixtures::{REGION, kiro_workspace, profile};
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

fn by_external_id<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["externalId"] == id)
}

fn seeded_user(sandbox: &Sandbox, tenant: &Tenant, given_name: &str) -> Value {
    sandbox
        .users(tenant)
        .into_iter()
        .find(|u| u["givenName"] == given_name)
        .unwrap_or_else(|| panic!("no seeded user {given_name}"))
}

fn assert_both_sides_empty(sandbox: &Sandbox, tenant: &Tenant, account: &AwsAccount) {
    sandbox.assert_empty(tenant);
    let jobs = sandbox.objects(tenant)["sync_jobs"].clone();
    assert_eq!(jobs.as_array().map_or(0, Vec::len), 0, "{jobs:#}");
    sandbox.assert_kiro_empty(account, REGION);
}

/// What the whole guide delivers: the group and its direct members, and the extra user,
/// in Kiro with `externalId` = their Entra object ids; the group subscribed; the outputs
/// saying so.
fn assert_guide_delivered(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    ws: &Workspace,
) {
    let dave = seeded_user(sandbox, tenant, "Dave");
    let developers = sandbox.seeded_group(tenant, "Kiro Developers");
    let kiro = sandbox.kiro_objects(account, REGION);
    let users = kiro["users"].as_array().cloned().unwrap_or_default();
    let groups = kiro["groups"].as_array().cloned().unwrap_or_default();
    let group_id = developers["id"].as_str().unwrap();
    let group = by_external_id(&groups, group_id).expect("the group arrived in Kiro");
    assert_eq!(group["displayName"], "Kiro Developers");
    let members = developers["members"].as_array().unwrap();
    assert!(!members.is_empty());
    for member in members {
        let member = member.as_str().unwrap();
        let user = by_external_id(&users, member)
            .unwrap_or_else(|| panic!("member {member} arrived in Kiro: {users:#?}"));
        assert_eq!(user["active"], true, "{user:#}");
    }
    assert!(by_external_id(&users, dave["id"].as_str().unwrap()).is_some());
    assert_eq!(users.len(), members.len() + 1, "nobody else: {users:#?}");
    // The group is subscribed, and the outputs say what arrived.
    let assignments = kiro["assignments"].as_array().cloned().unwrap_or_default();
    assert_eq!(assignments.len(), 1, "{assignments:#?}");
    assert_eq!(assignments[0]["principalId"], group["id"]);
    let outputs = ws.ok(&["output", "-json"]).stdout;
    let outputs: Value = serde_json::from_str(&outputs).unwrap();
    let arn = outputs["profile_arn"]["value"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:"), "{outputs:#}");
    assert!(
        outputs["scim_endpoint"]["value"]
            .as_str()
            .unwrap()
            .contains("/scim/v2")
    );
    let kiro_group = outputs["kiro_group"]["value"].as_str().unwrap();
    assert!(kiro_group.contains(group_id), "{kiro_group}");
    assert!(
        kiro_group.contains(&format!("{} members", members.len())),
        "{kiro_group}"
    );
    let kiro_user = outputs["kiro_user"]["value"].as_str().unwrap();
    assert!(
        kiro_user.contains(dave["id"].as_str().unwrap()),
        "{kiro_user}"
    );
}

/// `examples/complete` applied in one go, checked, re-planned clean and destroyed, leaving
/// both sides empty.
fn apply_check_and_destroy_the_guide(sandbox: &Sandbox) {
    let guide = GuideRun::prepare(sandbox);
    guide.ws.init();
    guide.apply_check_and_destroy(sandbox);
}

/// The complete example in a workspace for a fresh sandbox tenant and AWS account, not yet
/// initialised (so a test can change how the provider is installed first).
pub(crate) struct GuideRun {
    tenant: Tenant,
    account: AwsAccount,
    pub ws: Workspace,
}

impl GuideRun {
    pub(crate) fn prepare(sandbox: &Sandbox) -> GuideRun {
        let tenant = sandbox.new_tenant();
        let account = sandbox.aws_account();
        sandbox.set_domain_auto_verify(Some(300));
        let dave = seeded_user(sandbox, &tenant, "Dave");
        let mut ws = complete_example(sandbox, &tenant, &account);
        ws.env(
            "TF_VAR_kiro_user",
            dave["userPrincipalName"].as_str().unwrap(),
        );
        GuideRun {
            tenant,
            account,
            ws,
        }
    }

    /// After `terraform init`: one apply, the guide's result checked, a clean plan, and a
    /// destroy that leaves both sides empty.
    pub(crate) fn apply_check_and_destroy(self, sandbox: &Sandbox) {
        let GuideRun {
            tenant,
            account,
            ws,
        } = self;
        let apply = ws.apply();
        assert!(
            apply.stdout.contains("Apply complete!"),
            "one apply does it all:\n{}",
            apply.stdout
        );
        assert_guide_delivered(sandbox, &tenant, &account, &ws);
        ws.assert_no_changes();
        ws.destroy();
        assert_both_sides_empty(sandbox, &tenant, &account);
    }
}

#[test]
fn the_whole_guide_in_one_apply() {
    apply_check_and_destroy_the_guide(&Sandbox::start());
}

/// Read your own writes: with 3 s of replication lag on new and changed objects (Graph's
/// lists and GETs both miss them until then) and on the provisioning service, every create
/// and update returns only once the object reads back as the next refresh reads it, so the
/// plan right after the apply is empty, never a create of something just made.
#[test]
fn the_plan_right_after_the_whole_guide_at_3s_lag_is_empty() {
    let sandbox = Sandbox::start();
    sandbox.set_faults(serde_json::json!({"replication_lag_ms": 3000}));
    sandbox.call(
        "PUT",
        "settings",
        Some(serde_json::json!({"sync_lag_ms": 3000})),
    );
    apply_check_and_destroy_the_guide(&sandbox);
}

#[test]
fn kiro_rejecting_a_kept_enterprise_mapping_fails_provision_on_demand() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let erin = seeded_user(&sandbox, &tenant, "Erin");
    assert!(
        erin["department"].is_string(),
        "erin has a department: {erin:#}"
    );
    let body = format!(
        r#"{}
{}
resource "kiro_entra_provisioning" "kiro" {{
  service_principal_id        = kiro_entra_application.kiro.service_principal_id
  tenant_url                  = kiro_profile.main.scim_endpoint
  remove_unsupported_mappings = false
  kiro_scim_token {{
    profile_arn = kiro_profile.main.arn
  }}
}}

resource "kiro_entra_assignment" "erin" {{
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = "{}"
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}}
"#,
        application("Kiro"),
        profile(&tenant, "kiro-guide", ""),
        erin["id"].as_str().unwrap()
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
    let failed = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(failed.contains("department"), "{failed}");
    assert!(failed.contains("provision_on_demand"), "{failed}");
    let users = sandbox.kiro_objects(&account, REGION)["users"].clone();
    assert!(
        users.as_array().is_none_or(|u| u.is_empty()),
        "erin was not created: {users:#}"
    );
    ws.destroy();
    assert_both_sides_empty(&sandbox, &tenant, &account);
}

/// The same guide while every service throttles (429, `Retry-After`), fails transiently
/// (5xx), drops connections, and now and then carries out a write but loses its answer:
/// safe calls are retried, and every create whose answer is lost (the application, the
/// provisioning job, the assignment, the minted token, the subscription) is looked for
/// before it is repeated, so nothing is made twice and the apply succeeds.
#[test]
fn the_whole_guide_survives_throttling_and_transient_failures() {
    let sandbox = Sandbox::start();
    sandbox.set_faults(serde_json::json!({
        "throttle_rate": 0.1,
        "retry_after_secs": 0,
        "error_5xx_rate": 0.03,
        "drop_rate": 0.02,
        "lost_answer_rate": 0.06
    }));
    apply_check_and_destroy_the_guide(&sandbox);
    // About one request in six is faulted (some 60 in a run): the rates are low enough that
    // no call's retry budget (8 tries) runs out, high enough that dozens of faults occur.
    assert!(
        sandbox.count("faults.") >= 10,
        "faults were injected: {:#}",
        sandbox.counts()
    );
}

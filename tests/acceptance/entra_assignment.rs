//! `kiro_entra_assignment` and the `kiro_entra_user` / `kiro_entra_group`
//! data sources against the sandbox's seeded people; provision on demand with
//! a provisioning job set up through the sandbox (`sandbox_sync.rs`).

use serde_json::{Value, json};

use crate::configs::{
    adopt_with_import_block, application, assert_plan_warns_of_take_over, assert_plans_create,
    reimport, with_provider, workspace,
};
use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;
use crate::sandbox_sync::{Mappings, ProvisioningJob};

const USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";

fn assign(name: &str, principal: &str) -> String {
    format!(
        r#"resource "kiro_entra_assignment" "{name}" {{
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = {principal}
}}
"#
    )
}

fn lookups() -> &'static str {
    r#"data "kiro_entra_group" "developers" {
  display_name = "Kiro Developers"
}

data "kiro_entra_user" "dave" {
  user_principal_name = data.kiro_entra_user.by_id.user_principal_name
}
"#
}

fn assignments_of(sandbox: &Sandbox, tenant: &Tenant, sp_id: &str) -> Vec<Value> {
    sandbox
        .assignments(tenant)
        .into_iter()
        .filter(|a| a["resourceId"] == sp_id)
        .collect()
}

#[test]
fn assignment_lifecycle_with_lookups() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let dave_id = seeded_user(&sandbox, &tenant, "Dave");
    let carol = seeded_user(&sandbox, &tenant, "Carol");
    let body = |extra: &str| {
        format!(
            "{}\ndata \"kiro_entra_user\" \"by_id\" {{\n  object_id = \"{dave_id}\"\n}}\n{}\n{}\n{}\n{extra}",
            application("Kiro"),
            lookups(),
            assign("developers", "data.kiro_entra_group.developers.object_id"),
            assign("dave", "data.kiro_entra_user.dave.object_id"),
        )
    };
    let ws = workspace(&sandbox, &tenant, &body(""));
    ws.apply();
    let sp_id = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    let group = ws.resource("kiro_entra_assignment.developers");
    assert_eq!(group["principal_type"], "Group");
    assert_eq!(group["principal_display_name"], "Kiro Developers");
    assert_eq!(group["app_role_id"], USER_ROLE);
    let user = ws.resource("kiro_entra_assignment.dave");
    assert_eq!(user["principal_type"], "User");
    assert_eq!(user["principal_id"], dave_id.as_str());
    let remote = assignments_of(&sandbox, &tenant, &sp_id);
    assert_eq!(remote.len(), 2, "{remote:#?}");
    ws.assert_no_changes();

    // The group lookup lists its direct members (alice, bob, carol).
    let state = ws.state();
    let developers = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "data.kiro_entra_group.developers")
        .unwrap()["values"]
        .clone();
    assert_eq!(developers["members"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        developers["member_user_ids"].as_array().map(Vec::len),
        Some(3)
    );

    // Import by ID, and through an import block.
    let id = ws.attr("kiro_entra_assignment.dave", "id");
    reimport(&ws, "kiro_entra_assignment.dave", &id);
    let generated = adopt_with_import_block(&sandbox, &tenant, "kiro_entra_assignment", &id);
    assert!(generated.contains(&dave_id), "{generated}");

    // Removed in the portal: planned again and re-assigned.
    let assignment_id = id.split_once('/').unwrap().1.to_string();
    sandbox.delete_assignment(&tenant, &assignment_id);
    assert_plans_create(&ws, "kiro_entra_assignment.dave");
    ws.apply();
    assert_eq!(assignments_of(&sandbox, &tenant, &sp_id).len(), 2);
    ws.assert_no_changes();

    // An assignment in no state (an apply killed after Graph made it, or state lost) is
    // found by principal and role and taken over: no second assignment.
    let id = ws.attr("kiro_entra_assignment.dave", "id");
    ws.ok(&["state", "rm", "kiro_entra_assignment.dave"]);
    assert_plan_warns_of_take_over(&ws);
    let out = ws.apply().flat_stdout();
    assert!(
        out.contains("Took over an object that already existed"),
        "{out}"
    );
    assert_eq!(ws.attr("kiro_entra_assignment.dave", "id"), id);
    assert_eq!(assignments_of(&sandbox, &tenant, &sp_id).len(), 2);
    ws.assert_no_changes();

    // Two resources for one assignment in one apply: the second is refused before any
    // request, and nothing of it is kept.
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &body(&format!(
            "{}\n{}",
            assign("again", &format!("\"{carol}\"")),
            assign("carol", &format!("\"{carol}\""))
        )),
    ));
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("Two resources name the same object"), "{out}");
    assert_eq!(assignments_of(&sandbox, &tenant, &sp_id).len(), 3);

    ws.write_main(&with_provider(&sandbox, &tenant, &body("")));
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn a_deleted_principal_plans_recreation_and_fails_clearly() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let frank = sandbox.create_user(&tenant, "Frank Short");
    let frank_id = frank["id"].as_str().unwrap().to_string();
    let ws = workspace(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}",
            application("Kiro"),
            // A short create timeout bounds the wait for a principal Graph does not show.
            assign("frank", &format!("\"{frank_id}\""))
                .replace("\n}\n", "\n  timeouts {\n    create = \"3s\"\n  }\n}\n")
        ),
    );
    ws.apply();
    ws.assert_no_changes();

    // Deleting the user in Entra takes its assignment with it.
    sandbox.delete_user(&tenant, &frank_id);
    assert_plans_create(&ws, "kiro_entra_assignment.frank");
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("Principal not found"), "{out}");
    assert!(out.contains(&frank_id), "{out}");
    assert!(
        out.contains("principal_id"),
        "points at the attribute:\n{out}"
    );

    // Removing the assignment from the configuration is a clean plan.
    ws.write_main(&with_provider(&sandbox, &tenant, &application("Kiro")));
    ws.apply();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn lookups_page_through_large_groups_and_explain_ambiguity() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    sandbox.set_page_size(3);
    let big = sandbox.create_group(&tenant, "Kiro Everyone", 11);
    sandbox.create_group(&tenant, "Twins", 0);
    sandbox.create_group(&tenant, "Twins", 0);
    let ws = workspace(
        &sandbox,
        &tenant,
        r#"data "kiro_entra_group" "everyone" {
  display_name = "Kiro Everyone"
}
output "count" {
  value = length(data.kiro_entra_group.everyone.members)
}
"#,
    );
    ws.apply();
    assert_eq!(ws.ok(&["output", "-raw", "count"]).stdout, "11");
    assert_eq!(
        ws.state()["values"]["root_module"]["resources"][0]["values"]["object_id"],
        big["id"]
    );

    let ambiguous = workspace(
        &sandbox,
        &tenant,
        "data \"kiro_entra_group\" \"twins\" {\n  display_name = \"Twins\"\n}\n",
    );
    let out = ambiguous.fails(&["plan", "-no-color"]).output();
    assert!(out.contains("2 groups are named \"Twins\""), "{out}");

    let both = workspace(
        &sandbox,
        &tenant,
        "data \"kiro_entra_user\" \"x\" {\n  object_id = \"00000000-0000-0000-0000-000000000001\"\n  user_principal_name = \"a@b.c\"\n}\n",
    );
    sandbox.reset_counts();
    let out = both.fails(&["plan", "-no-color"]).output();
    assert!(
        out.contains("Conflicting arguments") && out.contains("Set only one of"),
        "{out}"
    );
    assert_eq!(sandbox.count("graph."), 0, "{:#}", sandbox.counts());

    let missing = workspace(
        &sandbox,
        &tenant,
        "data \"kiro_entra_user\" \"x\" {\n  user_principal_name = \"nobody@kirosandbox.onmicrosoft.com\"\n}\n",
    );
    let out = missing.fails(&["plan", "-no-color"]).output();
    assert!(out.contains("User not found"), "{out}");
}

// --- provision on demand ---------------------------------------------------------------------

/// `kiro_entra_assignment.<name>` of `principal_id` (a literal) with provision on demand.
fn assign_on_demand(name: &str, principal_id: &str, on: bool) -> String {
    format!(
        r#"resource "kiro_entra_assignment" "{name}" {{
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = "{principal_id}"
  provision_on_demand  = {on}
}}
"#
    )
}

fn seeded_user(sandbox: &Sandbox, tenant: &Tenant, given_name: &str) -> String {
    sandbox
        .users(tenant)
        .into_iter()
        .find(|u| u["givenName"] == given_name)
        .unwrap_or_else(|| panic!("seeded user {given_name}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A workspace whose application exists (applied) and has a provisioning job made in the
/// "portal" with `mappings`; returns the workspace and the job.
fn application_with_job(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    mappings: Mappings,
) -> (Workspace, ProvisioningJob) {
    let ws = workspace(sandbox, tenant, &application("Kiro"));
    ws.apply();
    let sp_id = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    let job = sandbox.provisioning_job(tenant, account, &sp_id, mappings);
    (ws, job)
}

fn on_demand_calls(sandbox: &Sandbox) -> u64 {
    sandbox.count("graph.synchronization.jobs.provisionOnDemand")
}

#[test]
fn a_user_provisioned_on_demand_arrives_in_kiro_with_its_object_id() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (ws, job) = application_with_job(&sandbox, &tenant, &account, Mappings::ForKiro);
    let dave_id = seeded_user(&sandbox, &tenant, "Dave");
    // The new assignment replicates for a second. The create returns it only once Graph lists
    // it (read your own writes), and the provisioning service sees what Graph lists, so one
    // call provisions Dave; a "not assigned" answer from a service that lags further is
    // retried (graph::synchronization_tests::not_assigned_answers_are_retried_until_the_
    // assignment_arrives).
    sandbox.set_faults(json!({"replication_lag_ms": 1000}));
    sandbox.reset_counts();
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}",
            application("Kiro"),
            assign_on_demand("dave", &dave_id, true)
        ),
    ));
    let plan = ws.ok(&["plan", "-no-color"]).stdout;
    assert!(
        plan.contains("provisioning_result") && plan.contains("(known after apply)"),
        "{plan}"
    );
    ws.apply();
    assert_eq!(
        on_demand_calls(&sandbox),
        1,
        "provisioned at the first call: {:#}",
        sandbox.counts()
    );
    sandbox.set_faults(json!({"replication_lag_ms": 0}));

    let users = sandbox.kiro_users_of(&account, &job);
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["externalId"], dave_id.as_str());
    assert_eq!(users[0]["active"], true);
    let state = ws.resource("kiro_entra_assignment.dave");
    assert_eq!(state["provision_on_demand"], true);
    assert_eq!(
        state["provisioning_result"],
        format!("User {dave_id}: Success (created in Kiro)").as_str()
    );
    ws.assert_no_changes();

    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn a_group_arrives_in_kiro_with_its_members_five_per_call() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (ws, job) = application_with_job(&sandbox, &tenant, &account, Mappings::ForKiro);
    let pilot = sandbox.create_group(&tenant, "Kiro Pilot", 7);
    let pilot_id = pilot["id"].as_str().unwrap().to_string();
    let member_ids: Vec<String> = pilot["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    sandbox.flush_replication();
    sandbox.reset_counts();
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}",
            application("Kiro"),
            assign_on_demand("pilot", &pilot_id, true)
        ),
    ));
    // The plan says what it will cost.
    let plan = ws.ok(&["plan", "-no-color"]).flat_stdout();
    assert!(
        plan.contains("Warning: Provisioning a group on demand")
            && plan.contains("has 7 user members")
            && plan.contains("takes 2 call(s)"),
        "{plan}"
    );
    ws.apply();
    assert_eq!(
        on_demand_calls(&sandbox),
        2,
        "5 members, then 2: {:#}",
        sandbox.counts()
    );

    let users = sandbox.kiro_users_of(&account, &job);
    let mut arrived: Vec<String> = users
        .iter()
        .map(|u| u["externalId"].as_str().unwrap().to_string())
        .collect();
    arrived.sort();
    let mut expected = member_ids.clone();
    expected.sort();
    assert_eq!(arrived, expected, "every member, by object id");
    let groups = sandbox.kiro_groups_of(&account, &job);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["externalId"], pilot_id.as_str());
    assert_eq!(groups[0]["displayName"], "Kiro Pilot");
    let mut in_group: Vec<String> = groups[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    in_group.sort();
    let mut scim_ids: Vec<String> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    scim_ids.sort();
    assert_eq!(in_group, scim_ids, "the Kiro group holds all 7 members");

    let result = ws.attr("kiro_entra_assignment.pilot", "provisioning_result");
    assert_eq!(
        result,
        format!(
            "Group {pilot_id}: Success (created in Kiro); 7 direct user members in 2 calls: \
             Success (7 created)"
        )
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// A group over `on_demand_member_limit`: the plan says its members are left to the
/// provisioning cycle, the apply assigns it without a single on-demand call, and
/// `provisioning_result` records why.
#[test]
fn a_group_over_the_member_limit_is_assigned_and_left_to_the_cycle() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (ws, job) = application_with_job(&sandbox, &tenant, &account, Mappings::ForKiro);
    let big = sandbox.create_group(&tenant, "Kiro Everyone", 12);
    let big_id = big["id"].as_str().unwrap().to_string();
    sandbox.flush_replication();
    let assignment = assign_on_demand("everyone", &big_id, true).replace(
        "  provision_on_demand  = true",
        "  provision_on_demand  = true\n  on_demand_member_limit = 10",
    );
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!("{}\n{assignment}", application("Kiro")),
    ));
    let plan = ws.ok(&["plan", "-no-color"]).flat_stdout();
    assert!(
        plan.contains("Warning: A group too large to provision on demand")
            && plan.contains("has 12 user members, more than on_demand_member_limit (10)"),
        "{plan}"
    );
    sandbox.reset_counts();
    ws.apply();
    assert_eq!(on_demand_calls(&sandbox), 0, "{:#}", sandbox.counts());
    assert!(sandbox.kiro_users_of(&account, &job).is_empty());
    let sp_id = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    assert_eq!(assignments_of(&sandbox, &tenant, &sp_id).len(), 1);
    assert_eq!(
        ws.attr("kiro_entra_assignment.everyone", "provisioning_result"),
        format!(
            "Group {big_id}: not provisioned on demand: 12 user members, more than 10; the \
             provisioning cycle provisions them"
        )
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn without_a_job_or_with_a_rejected_attribute_the_apply_fails_clearly() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let ws = workspace(&sandbox, &tenant, &application("Kiro"));
    ws.apply();
    let sp_id = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    let erin_id = seeded_user(&sandbox, &tenant, "Erin");
    let with_erin = format!(
        "{}\n{}",
        application("Kiro"),
        assign_on_demand("erin", &erin_id, true)
    );
    ws.write_main(&with_provider(&sandbox, &tenant, &with_erin));

    // No provisioning job: the error says how to make one, and nothing is assigned.
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    for needle in [
        "No provisioning job to run",
        "kiro_entra_provisioning",
        "depends_on",
        "provision_on_demand",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    assert!(assignments_of(&sandbox, &tenant, &sp_id).is_empty());
    assert_plans_create(&ws, "kiro_entra_assignment.erin");

    // A job that keeps the template's mappings sends erin's department, which Kiro rejects:
    // the error quotes the rejection, and the assignment is kept, tainted. (Terraform wraps
    // the text: compared with single spaces.)
    let job = sandbox.provisioning_job(&tenant, &account, &sp_id, Mappings::Template);
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "Provision on demand did not succeed",
        &format!("user {erin_id} to Kiro ended with Failure"),
        "The SCIM endpoint refused POST /Users with 400: Kiro does not accept `department`",
        "remove_unsupported_mappings",
        "kept in state, marked tainted",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    assert!(sandbox.kiro_users_of(&account, &job).is_empty());
    assert_eq!(assignments_of(&sandbox, &tenant, &sp_id).len(), 1);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout
            .contains("kiro_entra_assignment.erin is tainted, so must be replaced"),
        "{}",
        plan.stdout
    );

    ws.write_main(&with_provider(&sandbox, &tenant, &application("Kiro")));
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn turning_provision_on_demand_on_provisions_in_place() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (ws, job) = application_with_job(&sandbox, &tenant, &account, Mappings::ForKiro);
    let bob_id = seeded_user(&sandbox, &tenant, "Bob");
    let body = |on: bool| {
        with_provider(
            &sandbox,
            &tenant,
            &format!(
                "{}\n{}",
                application("Kiro"),
                assign_on_demand("bob", &bob_id, on)
            ),
        )
    };
    ws.write_main(&body(false));
    let plan = ws.ok(&["plan", "-no-color"]).stdout;
    assert!(
        !plan.contains("provisioning_result"),
        "nothing is known after apply when provisioning is off:\n{plan}"
    );
    ws.apply();
    let state = ws.resource("kiro_entra_assignment.bob");
    assert_eq!(state["provision_on_demand"], false);
    assert!(state["provisioning_result"].is_null(), "{state:#}");
    assert!(sandbox.kiro_users_of(&account, &job).is_empty());
    ws.assert_no_changes();
    let id = ws.attr("kiro_entra_assignment.bob", "id");

    ws.write_main(&body(true));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout
            .contains("kiro_entra_assignment.bob will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ provisioning_result") && !plan.stdout.contains("must be replaced"),
        "{}",
        plan.stdout
    );
    sandbox.reset_counts();
    ws.apply();
    assert_eq!(on_demand_calls(&sandbox), 1);
    assert_eq!(
        ws.attr("kiro_entra_assignment.bob", "id"),
        id,
        "not replaced"
    );
    let users = sandbox.kiro_users_of(&account, &job);
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["externalId"], bob_id.as_str());
    assert_eq!(
        ws.attr("kiro_entra_assignment.bob", "provisioning_result"),
        format!("User {bob_id}: Success (created in Kiro)")
    );
    ws.assert_no_changes();

    // An import cannot know whether the assignment was provisioned on demand: it leaves
    // provision_on_demand null (not a false that a later `true` would act on), and the
    // generated configuration plans clean.
    let generated = adopt_with_import_block(&sandbox, &tenant, "kiro_entra_assignment", &id);
    assert!(
        generated
            .lines()
            .any(|l| l.contains("provision_on_demand") && l.contains("= null")),
        "{generated}"
    );

    // Off again: an in-place update that provisions nothing and clears the result.
    ws.write_main(&body(false));
    sandbox.reset_counts();
    ws.apply();
    assert_eq!(on_demand_calls(&sandbox), 0);
    assert!(ws.resource("kiro_entra_assignment.bob")["provisioning_result"].is_null());
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// Read your own writes: with 3 s of replication lag (Graph's lists and GETs miss a new
/// assignment until then), the create returns only once the service principal's list (the
/// path every refresh reads) shows the assignment, so the plan right after the apply is
/// empty instead of planning to create it again.
#[test]
fn the_plan_right_after_assigning_under_lag_is_empty() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let bob_id = seeded_user(&sandbox, &tenant, "Bob");
    sandbox.set_faults(json!({"replication_lag_ms": 3000}));
    let ws = workspace(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}",
            application("Kiro"),
            assign_on_demand("bob", &bob_id, false)
        ),
    );
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    sandbox.set_faults(json!({"replication_lag_ms": 0}));
    sandbox.assert_empty(&tenant);
}

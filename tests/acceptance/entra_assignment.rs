//! `kiro_entra_assignment` and the `kiro_entra_user` / `kiro_entra_group`
//! data sources against the sandbox's seeded people.

use serde_json::Value;

use crate::configs::{
    adopt_with_import_block, application, assert_plans_create, reimport, with_provider, workspace,
};
use crate::sandbox::{Sandbox, Tenant};

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
    let dave = sandbox
        .users(&tenant)
        .into_iter()
        .find(|u| {
            u["displayName"]
                .as_str()
                .is_some_and(|n| n.starts_with("Dave"))
        })
        .expect("seeded user dave");
    let dave_id = dave["id"].as_str().unwrap().to_string();
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

    // An assignment in the portal already exists: refused with an import hint.
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &body(&assign("again", &format!("\"{dave_id}\""))),
    ));
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("already exists"), "{out}");
    assert!(out.contains("terraform import"), "{out}");

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
    assert!(out.contains("exactly one of"), "{out}");
    assert_eq!(sandbox.count("graph."), 0, "{:#}", sandbox.counts());

    let missing = workspace(
        &sandbox,
        &tenant,
        "data \"kiro_entra_user\" \"x\" {\n  user_principal_name = \"nobody@kirosandbox.onmicrosoft.com\"\n}\n",
    );
    let out = missing.fails(&["plan", "-no-color"]).output();
    assert!(out.contains("User not found"), "{out}");
}

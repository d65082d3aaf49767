//! `kiro_entra_api_scope` through its whole life against the sandbox.

use serde_json::{Value, json};

use crate::configs::{
    adopt_with_import_block, application, assert_plan_warns_of_take_over, assert_plans_change,
    assert_plans_create, reimport, with_provider, workspace,
};
use crate::sandbox::{Sandbox, Tenant};

fn scope(name: &str, value: &str, description: &str, extra: &str) -> String {
    format!(
        r#"resource "kiro_entra_api_scope" "{name}" {{
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "{value}"
  admin_consent_display_name = "Kiro {name}"
  admin_consent_description  = "{description}"
{extra}}}
"#
    )
}

fn remote_scopes(sandbox: &Sandbox, tenant: &Tenant, app_id: &str) -> Vec<Value> {
    sandbox.application(tenant, app_id)["api"]["oauth2PermissionScopes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn remote_scope(sandbox: &Sandbox, tenant: &Tenant, app_id: &str, value: &str) -> Value {
    remote_scopes(sandbox, tenant, app_id)
        .into_iter()
        .find(|s| s["value"] == value)
        .unwrap_or_else(|| panic!("no scope {value} on {app_id}"))
}

#[test]
fn api_scope_lifecycle() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let body = |description: &str, extra: &str| {
        format!(
            "{}\n{}",
            application("Kiro"),
            scope(
                "completions",
                "codewhisperer:completions",
                description,
                extra
            )
        )
    };
    let ws = workspace(&sandbox, &tenant, &body("Inline completions", ""));
    let address = "kiro_entra_api_scope.completions";

    // Create.
    ws.apply();
    let state = ws.resource(address);
    let app_id = ws.attr("kiro_entra_application.kiro", "object_id");
    let scope_id = state["scope_id"].as_str().unwrap().to_string();
    assert_eq!(state["id"], format!("{app_id}/scopes/{scope_id}"));
    assert_eq!(state["type"], "User");
    assert_eq!(state["enabled"], true);
    let remote = remote_scope(&sandbox, &tenant, &app_id, "codewhisperer:completions");
    assert_eq!(remote["id"], scope_id.as_str());
    assert_eq!(remote["isEnabled"], true);
    assert_eq!(remote["type"], "User");
    assert_eq!(remote["adminConsentDescription"], "Inline completions");
    ws.assert_no_changes();

    // Update an enabled scope in place: the provider disables it first, as Graph requires.
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &body("Completions in the editor", "  type = \"Admin\"\n"),
    ));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply();
    let remote = remote_scope(&sandbox, &tenant, &app_id, "codewhisperer:completions");
    assert_eq!(
        remote["adminConsentDescription"],
        "Completions in the editor"
    );
    assert_eq!(remote["type"], "Admin");
    assert_eq!(remote["isEnabled"], true, "re-enabled after the change");
    assert_eq!(
        remote["id"],
        scope_id.as_str(),
        "same scope, changed in place"
    );
    ws.assert_no_changes();

    // Drift made in the portal shows and is repaired.
    let mut scopes = remote_scopes(&sandbox, &tenant, &app_id);
    scopes[0]["adminConsentDescription"] = json!("changed in the portal");
    sandbox.drift_application(
        &tenant,
        &app_id,
        json!({"api": {"oauth2PermissionScopes": scopes}}),
    );
    assert_plans_change(&ws, address, "changed in the portal");
    ws.apply();
    assert_eq!(
        remote_scope(&sandbox, &tenant, &app_id, "codewhisperer:completions")["adminConsentDescription"],
        "Completions in the editor"
    );
    ws.assert_no_changes();

    // Import by ID, and adoption through an import block.
    let id = format!("{app_id}/scopes/{scope_id}");
    reimport(&ws, address, &id);
    let generated = adopt_with_import_block(&sandbox, &tenant, "kiro_entra_api_scope", &id);
    assert!(
        generated.contains("\"codewhisperer:completions\""),
        "{generated}"
    );

    // Deleted out of band: planned again and re-created.
    sandbox.drift_application(
        &tenant,
        &app_id,
        json!({"api": {"oauth2PermissionScopes": []}}),
    );
    assert_plans_create(&ws, address);
    ws.apply();
    assert_eq!(remote_scopes(&sandbox, &tenant, &app_id).len(), 1);
    ws.assert_no_changes();

    // Disabling, then destroying (an enabled scope is disabled before removal).
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &body(
            "Completions in the editor",
            "  type = \"Admin\"\n  enabled = false\n",
        ),
    ));
    ws.apply();
    assert_eq!(
        remote_scope(&sandbox, &tenant, &app_id, "codewhisperer:completions")["isEnabled"],
        false
    );
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// A scope that exists on the application but in no state (an apply killed after the
/// PATCH, or state lost) is found by its value and taken over, with a warning: set as
/// configured, its id kept, and never a second scope with the same value.
#[test]
fn a_scope_missing_from_state_is_taken_over_by_its_value() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let one = scope("one", "codewhisperer:conversations", "Chat", "");
    let ws = workspace(
        &sandbox,
        &tenant,
        &format!("{}\n{one}", application("Kiro")),
    );
    ws.apply();
    let app_id = ws.attr("kiro_entra_application.kiro", "object_id");
    let scope_id = ws.attr("kiro_entra_api_scope.one", "scope_id");
    ws.ok(&["state", "rm", "kiro_entra_api_scope.one"]);
    let again = scope("again", "codewhisperer:conversations", "Chat with Kiro", "");
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!("{}\n{again}", application("Kiro")),
    ));
    let planned = assert_plan_warns_of_take_over(&ws);
    assert!(planned.contains(&scope_id), "{planned}");
    let out = ws.apply().flat_stdout();
    assert!(
        out.contains("Took over an object that already existed"),
        "{out}"
    );
    assert!(
        out.contains(&scope_id),
        "the warning names the scope: {out}"
    );
    assert_eq!(ws.attr("kiro_entra_api_scope.again", "scope_id"), scope_id);
    assert_eq!(remote_scopes(&sandbox, &tenant, &app_id).len(), 1);
    let remote = remote_scope(&sandbox, &tenant, &app_id, "codewhisperer:conversations");
    assert_eq!(
        remote["adminConsentDescription"], "Chat with Kiro",
        "{remote}"
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// Two new scopes with one value in one apply: whichever comes second is refused, and as
/// nothing was made for it, nothing of it is kept in state (no tainted object to destroy).
#[test]
fn a_duplicate_value_in_one_apply_fails_alone_and_leaves_nothing_in_state() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let one = scope("one", "codewhisperer:conversations", "Chat", "");
    let two = scope("two", "codewhisperer:conversations", "Chat again", "");
    let ws = workspace(
        &sandbox,
        &tenant,
        &format!("{}\n{one}\n{two}", application("Kiro")),
    );
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("already"), "{out}");
    let app_id = ws.attr("kiro_entra_application.kiro", "object_id");
    assert_eq!(remote_scopes(&sandbox, &tenant, &app_id).len(), 1);
    let listed = ws.ok(&["state", "list"]).stdout;
    let scopes: Vec<&str> = listed
        .lines()
        .filter(|l| l.starts_with("kiro_entra_api_scope."))
        .collect();
    assert_eq!(scopes.len(), 1, "only the scope that was made: {listed}");
    // The one made stays; the refused one's address is simply free again.
    let kept = scopes[0].trim_start_matches("kiro_entra_api_scope.");
    let kept_block = if kept == "one" { &one } else { &two };
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!("{}\n{kept_block}", application("Kiro")),
    ));
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

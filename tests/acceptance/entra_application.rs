//! `kiro_entra_application` through its whole life against the sandbox.

use serde_json::json;

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};

fn config(sandbox: &Sandbox, tenant: &Tenant, body: &str) -> String {
    format!("{}\n{body}", sandbox.provider_block(tenant, None))
}

fn app(display_name: &str) -> String {
    format!(
        r#"resource "kiro_entra_application" "kiro" {{
  display_name = "{display_name}"
}}
"#
    )
}

#[test]
fn lifecycle_with_lag_and_throttling() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    sandbox.set_faults(
        json!({"replication_lag_ms": 2000, "throttle_rate": 0.1, "retry_after_secs": 1}),
    );
    let ws = Workspace::new();
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    ws.init();

    // Create: waits out 2 s of lag, retries throttled calls.
    ws.apply();
    let state = ws.resource("kiro_entra_application.kiro");
    let object_id = state["object_id"].as_str().unwrap().to_string();
    let client_id = state["client_id"].as_str().unwrap().to_string();
    assert_eq!(state["id"], object_id.as_str());
    assert_eq!(state["identifier_uri"], format!("api://{client_id}"));
    assert_eq!(state["requested_access_token_version"], 2);
    assert_eq!(state["keep_default_scope"], false);
    assert_eq!(state["tenant_id"], tenant.tenant_id.as_str());
    assert_eq!(
        state["issuer_url"],
        format!(
            "https://login.microsoftonline.com/{}/v2.0",
            tenant.tenant_id
        )
    );
    assert_eq!(
        state["openid_configuration_url"],
        format!(
            "https://login.microsoftonline.com/{}/v2.0/.well-known/openid-configuration",
            tenant.tenant_id
        )
    );
    assert!(
        state["service_principal_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let remote = sandbox.application(&tenant, &object_id);
    assert_eq!(
        remote["identifierUris"],
        json!([format!("api://{client_id}")])
    );
    assert_eq!(remote["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(
        remote["api"]["oauth2PermissionScopes"],
        json!([]),
        "the template's user_impersonation scope is removed"
    );
    eprintln!(
        "requests during create (with faults): {:#}",
        sandbox.counts()
    );

    // No changes on a second plan (with faults still on).
    ws.assert_no_changes();

    // Update in place.
    sandbox.set_faults(json!({"replication_lag_ms": 0, "throttle_rate": 0.0}));
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro IDE")));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(
        sandbox.application(&tenant, &object_id)["displayName"],
        "Kiro IDE"
    );
    let sp = &sandbox.objects(&tenant)["service_principals"][0];
    assert_eq!(
        sp["displayName"], "Kiro IDE",
        "the enterprise application is renamed too"
    );
    ws.assert_no_changes();

    // Drift made in the portal shows in the plan and is repaired.
    sandbox.drift_application(
        &tenant,
        &object_id,
        json!({"api": {"requestedAccessTokenVersion": null}, "identifierUris": ["api://drifted"]}),
    );
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "{}", plan.stdout);
    assert!(
        plan.stdout.contains("requested_access_token_version"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("api://drifted"), "{}", plan.stdout);
    ws.apply();
    let remote = sandbox.application(&tenant, &object_id);
    assert_eq!(remote["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(
        remote["identifierUris"],
        json!([format!("api://{client_id}")])
    );
    ws.assert_no_changes();

    // Import by client id round-trips to no changes.
    ws.ok(&["state", "rm", "kiro_entra_application.kiro"]);
    ws.ok(&[
        "import",
        "-no-color",
        "kiro_entra_application.kiro",
        &client_id,
    ]);
    assert_eq!(
        ws.resource("kiro_entra_application.kiro")["object_id"],
        object_id.as_str()
    );
    ws.assert_no_changes();

    // Out-of-band delete: state forgets it and the plan re-creates it.
    sandbox.delete_application_out_of_band(&tenant, &object_id);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("will be created"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(sandbox.applications(&tenant).len(), 1);

    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn import_block_generates_config() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    ws.write_main(&config(&sandbox, &tenant, &app("Imported Kiro")));
    ws.init();
    ws.apply();
    let object_id = ws.attr("kiro_entra_application.kiro", "object_id");

    // A second working directory adopts the same application.
    let adopt = Workspace::new();
    adopt.write_main(&format!(
        "{}\nimport {{\n  to = kiro_entra_application.adopted\n  id = \"{object_id}\"\n}}\n",
        sandbox.provider_block(&tenant, None)
    ));
    adopt.init();
    adopt.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = adopt.read("generated.tf");
    assert!(generated.contains("display_name"), "{generated}");
    assert!(generated.contains("\"Imported Kiro\""), "{generated}");
    adopt.apply();
    assert_eq!(
        adopt.resource("kiro_entra_application.adopted")["object_id"],
        object_id.as_str()
    );
    adopt.assert_no_changes();

    adopt.ok(&["state", "rm", "kiro_entra_application.adopted"]);
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn duplicate_name_is_refused_with_import_hint() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let first = Workspace::new();
    first.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    first.init();
    first.apply();
    let object_id = first.attr("kiro_entra_application.kiro", "object_id");

    let second = Workspace::new();
    second.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    second.init();
    let run = second.fails(&["apply", "-auto-approve", "-no-color"]);
    let out = run.output();
    assert!(out.contains("already exists"), "{out}");
    assert!(out.contains("terraform import"), "{out}");
    assert!(out.contains(&object_id), "{out}");
    // The way back after an interrupted create: the adoption command.
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("`kiro-adopt --application <object id>`"),
        "{out}"
    );
    assert_eq!(
        sandbox.applications(&tenant).len(),
        1,
        "nothing new was created"
    );

    first.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn bad_inputs_fail_at_plan_without_requests() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let cases = [
        (r#"display_name = """#, "display_name", "must not be empty"),
        (
            r#"display_name = "Kiro"
  requested_access_token_version = 3"#,
            "requested_access_token_version",
            "from 1 to 2",
        ),
        (
            r#"display_name = "Kiro"
  identifier_uri = "not a uri""#,
            "identifier_uri",
            "white space",
        ),
        (
            r#"display_name = "Kiro"
  identifier_uri = "http://contoso.com/kiro""#,
            "identifier_uri",
            "scheme",
        ),
    ];
    for (body, attribute, message) in cases {
        let ws = Workspace::new();
        ws.write_main(&config(
            &sandbox,
            &tenant,
            &format!("resource \"kiro_entra_application\" \"kiro\" {{\n  {body}\n}}\n"),
        ));
        ws.init();
        sandbox.reset_counts();
        let run = ws.fails(&["plan", "-no-color"]);
        let out = run.output();
        assert!(
            out.contains(attribute),
            "diagnostic names {attribute}:\n{out}"
        );
        assert!(out.contains(message), "diagnostic says {message:?}:\n{out}");
        assert_eq!(
            sandbox.count("graph.") + sandbox.count("login."),
            0,
            "no request for bad input {body}: {:#}",
            sandbox.counts()
        );
    }
}

#[test]
fn survives_lost_create_answers_5xx_and_dropped_connections() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    // Every instantiate creates the objects but answers 404.
    sandbox.set_faults(json!({"instantiate_false_404_rate": 1.0, "replication_lag_ms": 500}));
    let ws = Workspace::new();
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    ws.init();
    ws.apply();
    assert_eq!(
        sandbox.applications(&tenant).len(),
        1,
        "exactly one application, found by name"
    );
    ws.assert_no_changes();

    sandbox.set_faults(json!({
        "instantiate_false_404_rate": 0.0,
        "error_5xx_rate": 0.2,
        "drop_rate": 0.1,
        "retry_after_secs": 0
    }));
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro renamed")));
    ws.apply();
    assert_eq!(
        sandbox.applications(&tenant)[0]["displayName"],
        "Kiro renamed"
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.set_faults(json!({"error_5xx_rate": 0.0, "drop_rate": 0.0}));
    sandbox.assert_empty(&tenant);
}

#[test]
fn default_scope_is_kept_or_removed_on_request() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    let with_scope = |keep: bool| {
        config(
            &sandbox,
            &tenant,
            &format!(
                "resource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n  keep_default_scope = {keep}\n}}\n"
            ),
        )
    };
    let scopes = |object_id: &str| -> Vec<(String, bool)> {
        sandbox.application(&tenant, object_id)["api"]["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["value"].as_str().unwrap().to_string(),
                    s["isEnabled"] == true,
                )
            })
            .collect()
    };
    ws.write_main(&with_scope(true));
    ws.init();
    ws.apply();
    let object_id = ws.attr("kiro_entra_application.kiro", "object_id");
    assert_eq!(
        scopes(&object_id),
        vec![("user_impersonation".to_string(), true)]
    );
    ws.assert_no_changes();

    // Removing an enabled scope needs two steps (disable, then remove);
    // the sandbox refuses a one-step removal as Graph does.
    ws.write_main(&with_scope(false));
    ws.apply();
    assert_eq!(scopes(&object_id), vec![]);
    ws.assert_no_changes();

    ws.write_main(&with_scope(true));
    ws.apply();
    assert_eq!(
        scopes(&object_id),
        vec![("user_impersonation".to_string(), true)]
    );
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn trace_logs_carry_no_secret_or_token() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut ws = Workspace::new();
    ws.env("TF_LOG", "TRACE");
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    ws.init();
    let apply = ws.apply();
    let plan = ws.ok(&["plan", "-no-color"]);
    let destroy = ws.destroy();
    for run in [&apply, &plan, &destroy] {
        let out = run.output();
        assert!(
            out.contains("graph request"),
            "provider debug logs are shown at TRACE"
        );
        assert!(
            !out.contains(&tenant.client_secret),
            "client secret in the log of {}",
            run.command
        );
        assert!(
            !out.contains("Bearer "),
            "a bearer token in the log of {}",
            run.command
        );
        let leaks: Vec<&str> = out
            .lines()
            // The token endpoint's JSON key (not `requested_access_token_version`).
            .filter(|l| l.contains("\"access_token\""))
            .collect();
        assert!(
            leaks.is_empty(),
            "a token response in the log of {}: {leaks:#?}",
            run.command
        );
    }
}

/// A create that runs out of time after Graph made the application keeps
/// it in state (tainted), so nothing is left behind untracked.
#[test]
fn timed_out_create_keeps_the_application_in_state() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    sandbox.set_faults(json!({"replication_lag_ms": 4000}));
    let ws = Workspace::new();
    ws.write_main(&config(
        &sandbox,
        &tenant,
        "resource \"kiro_entra_application\" \"kiro\" {\n  display_name = \"Kiro\"\n  timeouts {\n    create = \"1s\"\n  }\n}\n",
    ));
    ws.init();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("kept in state"), "{out}");
    let state = ws.state();
    let resource = &state["values"]["root_module"]["resources"][0];
    assert_eq!(resource["address"], "kiro_entra_application.kiro");
    assert_eq!(resource["tainted"], true, "{state:#}");
    let object_id = resource["values"]["id"].as_str().unwrap().to_string();
    assert_eq!(sandbox.applications(&tenant)[0]["id"], object_id.as_str());

    // Once Graph shows it, destroy removes what the failed create made.
    sandbox.flush_replication();
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// What Graph refuses (here: an identifier URI on a domain the tenant has
/// not verified) reaches the user with Graph's code, message and
/// request-id; the application Graph already made stays in state.
#[test]
fn graph_rejection_names_code_and_request_id() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    ws.write_main(&config(
        &sandbox,
        &tenant,
        "resource \"kiro_entra_application\" \"kiro\" {\n  display_name   = \"Kiro\"\n  identifier_uri = \"https://unverified.example.com/kiro\"\n}\n",
    ));
    ws.init();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("HostNameNotOnVerifiedDomain"), "{out}");
    assert!(flat.contains("request-id"), "{out}");
    assert!(flat.contains("Failed to add identifier URI"), "{out}");
    assert!(
        flat.contains("identifier_uri = \"https://unverified.example.com/kiro\""),
        "the error points at the attribute Graph names:\n{out}"
    );
    assert_eq!(
        ws.resource("kiro_entra_application.kiro")["display_name"],
        "Kiro"
    );

    // Fixing the configuration replaces the tainted application.
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    ws.apply();
    assert_eq!(sandbox.applications(&tenant).len(), 1);
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

/// "Assignment required?" is managed: on by default (only assigned people sign in), turned
/// off in the portal it shows in the plan and the apply puts it back; turned off in the
/// configuration it is an in-place update, read back under replication lag.
#[test]
fn assignment_required_is_managed_and_its_drift_shows() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    sandbox.set_faults(json!({"replication_lag_ms": 1000}));
    let ws = Workspace::new();
    ws.write_main(&config(&sandbox, &tenant, &app("Kiro")));
    ws.init();
    ws.apply();
    let state = ws.resource("kiro_entra_application.kiro");
    assert_eq!(state["assignment_required"], true);
    let sp_id = state["service_principal_id"].as_str().unwrap().to_string();
    let remote = |sandbox: &Sandbox| {
        sandbox.objects(&tenant)["service_principals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|sp| sp["id"] == sp_id.as_str())
            .unwrap()["appRoleAssignmentRequired"]
            .clone()
    };
    assert_eq!(remote(&sandbox), true);
    ws.assert_no_changes();

    // Turned off in the portal: the plan shows it, the apply turns it back on.
    sandbox.drift_service_principal(&tenant, &sp_id, json!({"appRoleAssignmentRequired": false}));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout.contains("~ assignment_required")
            && plan.stdout.contains("false -> true")
            && !plan.stdout.contains("replace"),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(remote(&sandbox), true);
    ws.assert_no_changes();

    // Off in the configuration: updated in place and read back despite the lag.
    ws.write_main(&config(
        &sandbox,
        &tenant,
        &app("Kiro").replace("}\n", "  assignment_required = false\n}\n"),
    ));
    ws.apply();
    assert_eq!(remote(&sandbox), false);
    ws.assert_no_changes();
    ws.destroy();
}

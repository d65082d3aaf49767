//! `kiro_profile` and the `kiro_profile` data source against the sandbox's
//! Kiro admin API.

use serde_json::json;

use crate::configs::{
    adopt_in, assert_form_only_update, assert_plan_warns_of_take_over, assert_plans_change,
    assert_plans_create, assert_taken_over, reimport,
};
use crate::kiro_fixtures::{CLIENT_ID, REGION, issuer, kiro_config, kiro_workspace, profile};
use crate::sandbox::Sandbox;

#[test]
fn profile_lifecycle() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = |name: &str, extra: &str| profile(&tenant, name, extra);
    let ws = kiro_workspace(
        &sandbox,
        &tenant,
        &account,
        &body(
            "kiro-main",
            "  description = \"Kiro for everyone\"\n  tags = { team = \"platform\" }\n",
        ),
    );
    let address = "kiro_profile.main";

    ws.apply();
    let state = ws.resource(address);
    let arn = state["arn"].as_str().unwrap().to_string();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:codewhisperer:{REGION}:{}:profile/",
            account.account_id
        )),
        "{arn}"
    );
    assert_eq!(state["id"], arn.as_str());
    assert_eq!(state["status"], "ACTIVE");
    let scim = state["scim_endpoint"].as_str().unwrap();
    assert!(
        scim.starts_with(&sandbox.url) && scim.ends_with("/scim/v2"),
        "{scim}"
    );
    let remote = &sandbox.kiro_objects(&account, REGION)["profiles"][0];
    assert_eq!(remote["profileName"], "kiro-main");
    assert_eq!(
        remote["identityDetails"]["externalIdentityProviderDetails"]["clientId"],
        CLIENT_ID
    );
    ws.assert_no_changes();

    // Name, description and tags change in place.
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &body(
            "kiro-renamed",
            "  description = \"Kiro, renamed\"\n  tags = { team = \"dev\" }\n",
        ),
    ));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(ws.attr(address, "arn"), arn, "same profile");
    let remote = &sandbox.kiro_objects(&account, REGION)["profiles"][0];
    assert_eq!(remote["profileName"], "kiro-renamed");
    assert_eq!(remote["description"], "Kiro, renamed");
    ws.assert_no_changes();

    // Drift made in the console shows and is repaired.
    sandbox.drift_profile(&arn, json!({"profileName": "changed-in-console"}));
    assert_plans_change(&ws, address, "changed-in-console");
    ws.apply();
    ws.assert_no_changes();

    // Import by ARN, and through an import block.
    reimport(&ws, address, &arn);
    let generated = adopt_in(
        |body| kiro_workspace(&sandbox, &tenant, &account, body),
        "kiro_profile",
        &arn,
    );
    assert!(generated.contains("kiro-renamed"), "{generated}");

    // In no state, and connected to this configuration's application: the plan warns that
    // it will be taken over, and it is. A profile of that name connected to another
    // application is never ours to take.
    ws.ok(&["state", "rm", address]);
    let planned = assert_plan_warns_of_take_over(&ws);
    assert!(planned.contains(&arn), "{planned}");
    ws.ok(&["import", "-no-color", address, &arn]);
    assert_taken_over(&ws, address);
    ws.ok(&["state", "rm", address]);
    let renamed = body(
        "kiro-renamed",
        "  description = \"Kiro, renamed\"\n  tags = { team = \"dev\" }\n",
    );
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &renamed.replace(CLIENT_ID, "99999999-2222-3333-4444-555555555555"),
    ));
    let planned = ws.plan_exit_code().1.flat_stdout();
    assert!(!planned.contains("will take over"), "{planned}");
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("A profile with this name exists"), "{out}");
    assert!(out.contains("terraform import"), "{out}");
    ws.write_main(&kiro_config(&sandbox, &tenant, &renamed));
    ws.apply();
    assert_eq!(ws.attr(address, "arn"), arn);

    // A new identity provider means a new profile.
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &body(
            "kiro-renamed",
            "  description = \"Kiro, renamed\"\n  tags = { team = \"dev\" }\n",
        )
        .replace(CLIENT_ID, "11111111-2222-3333-4444-555555555555"),
    ));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    ws.apply();
    assert_ne!(ws.attr(address, "arn"), arn);

    // Deleted out of band: planned again.
    let arn = ws.attr(address, "arn");
    sandbox.delete_profile_out_of_band(&arn);
    assert_plans_create(&ws, address);
    ws.apply();
    ws.assert_no_changes();

    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

/// The OpenID metadata document URL is accepted as the issuer; the service
/// stores the issuer, and the plan stays clean.
#[test]
fn metadata_url_and_data_source() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let metadata = format!("{}/.well-known/openid-configuration", issuer(&tenant));
    let body = format!(
        "{}\ndata \"kiro_profile\" \"by_name\" {{\n  name = kiro_profile.main.name\n}}\n",
        profile(&tenant, "kiro-meta", "").replace(&issuer(&tenant), &metadata)
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
    ws.apply();
    let remote = &sandbox.kiro_objects(&account, REGION)["profiles"][0];
    assert_eq!(
        remote["identityDetails"]["externalIdentityProviderDetails"]["issuerUrl"],
        issuer(&tenant).as_str()
    );
    ws.assert_no_changes();

    // Imported, the profile reads the issuer as Kiro stores it; the configuration's metadata
    // document URL is another spelling of it: an in-place update of the state, never a
    // replacement, whose apply writes nothing to Kiro. The client id in upper case too.
    let arn = ws.attr("kiro_profile.main", "arn");
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &body.replace(CLIENT_ID, &CLIENT_ID.to_uppercase()),
    ));
    ws.ok(&["state", "rm", "kiro_profile.main"]);
    ws.ok(&["import", "-no-color", "kiro_profile.main", &arn]);
    assert_eq!(ws.attr("kiro_profile.main", "issuer_url"), issuer(&tenant));
    assert_form_only_update(&ws, &sandbox, "kiro_profile.main");
    assert_eq!(ws.attr("kiro_profile.main", "issuer_url"), metadata);

    let state = ws.state();
    let data = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "data.kiro_profile.by_name")
        .unwrap()["values"]
        .clone();
    assert_eq!(data["arn"], ws.attr("kiro_profile.main", "arn").as_str());
    assert_eq!(
        data["scim_endpoint"],
        ws.attr("kiro_profile.main", "scim_endpoint").as_str()
    );
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

#[test]
fn bad_profile_inputs_fail_at_plan_without_requests() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let cases = [
        (profile(&tenant, "1starts-with-digit", ""), "name"),
        (profile(&tenant, "has space", ""), "name"),
        (
            profile(&tenant, "ok", "").replace(&issuer(&tenant), "http://login.example.com/x"),
            "issuer_url",
        ),
        (
            profile(&tenant, "ok", "").replace(CLIENT_ID, "not-a-guid"),
            "client_id",
        ),
    ];
    for (body, attribute) in cases {
        let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
        sandbox.reset_counts();
        let out = ws.fails(&["plan", "-no-color"]).output();
        assert!(
            out.contains(&format!("{attribute} ")),
            "points at {attribute}:\n{out}"
        );
        assert_eq!(sandbox.count("kiro."), 0, "{:#}", sandbox.counts());
    }
}

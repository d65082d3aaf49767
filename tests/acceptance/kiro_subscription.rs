//! `kiro_subscription` and the `kiro_user` / `kiro_group` data sources, on
//! identities placed in the profile's SCIM directory as provisioning would.

use crate::configs::{
    adopt_in, assert_form_only_update, assert_plan_warns_of_take_over, assert_plans_create,
    assert_taken_over, reimport,
};
use crate::kiro_fixtures::{REGION, kiro_config, kiro_workspace, profile};
use crate::sandbox::Sandbox;

const ALICE: &str = "3f1c2a9e-0b7d-4a51-9c1e-5d2f8b6a7c41";

fn subscription(name: &str, principal: &str, plan: &str) -> String {
    // Only a subscription by external id waits; a short limit keeps the
    // failing case quick.
    let timeouts = if principal.contains("external_id") {
        "  timeouts {\n    create = \"20s\"\n  }\n"
    } else {
        ""
    };
    format!(
        r#"resource "kiro_subscription" "{name}" {{
  profile_arn    = kiro_profile.main.arn
  {principal}
  plan           = "{plan}"
{timeouts}}}
"#
    )
}

#[test]
fn subscription_lifecycle_by_external_id_and_principal_id() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let base = profile(&tenant, "kiro-sub", "");
    let ws = kiro_workspace(&sandbox, &tenant, &account, &base);
    ws.apply();
    let arn = ws.attr("kiro_profile.main", "arn");
    let group = sandbox.kiro_group(
        &arn,
        "Kiro Developers",
        "5e0f2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b",
        &[],
    );
    let group_id = group["id"].as_str().unwrap().to_string();

    let body = |alice_plan: &str| {
        format!(
            "{base}\n{}\n{}\ndata \"kiro_user\" \"alice\" {{\n  profile_arn = kiro_profile.main.arn\n  external_id = \"{ALICE}\"\n  depends_on  = [kiro_subscription.alice]\n}}\ndata \"kiro_group\" \"devs\" {{\n  profile_arn  = kiro_profile.main.arn\n  display_name = \"Kiro Developers\"\n}}\n",
            subscription(
                "alice",
                &format!("principal_type = \"USER\"\n  external_id    = \"{ALICE}\""),
                alice_plan
            ),
            subscription(
                "devs",
                &format!("principal_type = \"GROUP\"\n  principal_id   = \"{group_id}\""),
                "KIRO_PRO"
            ),
        )
    };
    ws.write_main(&kiro_config(&sandbox, &tenant, &body("KIRO_PRO")));
    // Alice arrives through SCIM once the subscription has looked for her and not found her:
    // it waits for her.
    sandbox.reset_counts();
    let apply = std::thread::scope(|s| {
        s.spawn(|| {
            sandbox.wait_for_requests("kiro.ListUsers", 1);
            sandbox.kiro_user(&arn, "alice@corp.example.com", ALICE);
        });
        ws.apply()
    });
    assert!(apply.stdout.contains("Apply complete"), "{}", apply.stdout);
    assert!(
        sandbox.count("kiro.ListUsers") >= 2,
        "looked again after she arrived"
    );
    let alice = ws.resource("kiro_subscription.alice");
    let alice_id = alice["principal_id"].as_str().unwrap().to_string();
    assert_eq!(alice["id"], format!("{arn}|USER|{alice_id}"));
    assert_eq!(alice["status"], "ACTIVE");
    let remote = sandbox.kiro_objects(&account, REGION)["assignments"].clone();
    assert_eq!(remote.as_array().unwrap().len(), 2, "{remote:#}");
    ws.assert_no_changes();

    // The plan changes in place.
    ws.write_main(&kiro_config(&sandbox, &tenant, &body("KIRO_POWER")));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply();
    let remote = sandbox.kiro_objects(&account, REGION)["assignments"].clone();
    assert!(
        remote.as_array().unwrap().iter().any(|a| a["principalId"] == alice_id.as_str() && a["subscriptionType"] == "KIRO_POWER"),
        "{remote:#}"
    );
    ws.assert_no_changes();

    // Import, and an import block. Alice is configured by external_id, as
    // examples/complete writes it: the import reads her externalId, so nothing is replaced;
    // her `timeouts` block, which no import can read, is an in-place update of the state
    // alone, with no request that changes anything in Kiro.
    ws.ok(&["state", "rm", "kiro_subscription.alice"]);
    ws.ok(&[
        "import",
        "-no-color",
        "kiro_subscription.alice",
        &format!("{arn}|USER|{alice_id}"),
    ]);
    assert_eq!(ws.resource("kiro_subscription.alice")["external_id"], ALICE);
    assert_form_only_update(&ws, &sandbox, "kiro_subscription.alice");
    let id = format!("{arn}|GROUP|{group_id}");
    reimport(&ws, "kiro_subscription.devs", &id);
    adopt_in(
        |body| kiro_workspace(&sandbox, &tenant, &account, body),
        "kiro_subscription",
        &id,
    );

    // In no state: the plan warns that both will be taken over, whether named by Kiro's
    // id (the group) or by the external id SCIM delivered (Alice); taken over, not
    // subscribed twice.
    let alice_import = format!("{arn}|USER|{alice_id}");
    ws.ok(&[
        "state",
        "rm",
        "kiro_subscription.devs",
        "kiro_subscription.alice",
    ]);
    assert_plan_warns_of_take_over(&ws);
    // The human plan shows one of two warnings that share a summary; the JSON one has both.
    let planned = ws.ok(&["plan", "-json", "-no-color"]).stdout;
    for principal in [format!("GROUP {group_id}"), format!("USER {alice_id}")] {
        assert!(
            planned
                .lines()
                .any(|line| line.contains("\"type\":\"diagnostic\"")
                    && line.contains(&format!("subscription of {principal} "))),
            "{planned}"
        );
    }
    ws.ok(&["import", "-no-color", "kiro_subscription.devs", &id]);
    ws.ok(&[
        "import",
        "-no-color",
        "kiro_subscription.alice",
        &alice_import,
    ]);
    assert_taken_over(&ws, "kiro_subscription.devs");

    // Cancelled in the console: planned again.
    sandbox.delete_assignment_out_of_band(&arn, &group_id);
    assert_plans_create(&ws, "kiro_subscription.devs");
    ws.apply();

    // The lookups found what the subscriptions use.
    let state = ws.state();
    let data = |address: &str| {
        state["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == address)
            .unwrap_or_else(|| panic!("{address} in {state:#}"))["values"]
            .clone()
    };
    assert_eq!(data("data.kiro_user.alice")["id"], alice_id.as_str());
    assert_eq!(
        data("data.kiro_user.alice")["user_name"],
        "alice@corp.example.com"
    );
    assert_eq!(data("data.kiro_group.devs")["id"], group_id.as_str());

    // Alice removed from Kiro: the plan re-creates her subscription, and the
    // apply waits for SCIM to deliver her again, failing clearly when it does not.
    let without_lookup = body("KIRO_POWER");
    let without_lookup = without_lookup
        .split("data \"kiro_user\"")
        .next()
        .unwrap()
        .to_string();
    ws.write_main(&kiro_config(&sandbox, &tenant, &without_lookup));
    sandbox.delete_kiro_user(&arn, &alice_id);
    assert_plans_create(&ws, "kiro_subscription.alice");
    let out = ws
        .fails(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-target=kiro_subscription.alice",
        ])
        .output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(ALICE) && flat.contains("SCIM"), "{out}");

    ws.write_main(&kiro_config(&sandbox, &tenant, &base));
    ws.apply();
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

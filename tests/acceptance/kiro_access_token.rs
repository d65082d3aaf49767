//! `kiro_access_token`: the SCIM token kept (sensitive) in state, rotation
//! with `create_before_destroy`, Kiro's 2-token quota, and out-of-band deletes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::configs::{assert_plans_create, assert_plans_rotation};
use crate::kiro_fixtures::{REGION, kiro_config, kiro_workspace, profile};
use crate::sandbox::Sandbox;

fn token(name: &str, trigger: &str) -> String {
    format!(
        r#"resource "kiro_access_token" "{name}" {{
  profile_arn       = kiro_profile.main.arn
  description       = "Entra provisioning"
  rotation_triggers = {{ rotated = "{trigger}" }}
  lifecycle {{
    create_before_destroy = true
  }}
}}
"#
    )
}

#[test]
fn token_lifecycle_and_rotation() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = |trigger: &str| {
        format!(
            "{}\n{}",
            profile(&tenant, "kiro-tok", ""),
            token("scim", trigger)
        )
    };
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body("2026-01"));
    ws.apply();
    let state = ws.resource("kiro_access_token.scim");
    let arn = ws.attr("kiro_profile.main", "arn");
    let first_id = state["token_id"].as_str().unwrap().to_string();
    let secret = state["token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 20, "the secret is kept in state");
    assert_eq!(state["id"], format!("{arn}|{first_id}"));
    let plan = ws.ok(&["plan", "-no-color"]);
    assert!(!plan.stdout.contains(&secret), "never in a plan");
    ws.assert_no_changes();

    // Rotation: the new token exists before the old one goes, so the profile
    // never has more than 2 tokens, nor none.
    ws.write_main(&kiro_config(&sandbox, &tenant, &body("2026-07")));
    let done = AtomicBool::new(false);
    let (max, min) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
    let apply = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let n = sandbox.kiro_objects(&account, REGION)["tokens"]
                    .as_array()
                    .map_or(0, Vec::len);
                max.fetch_max(n, Ordering::SeqCst);
                min.fetch_min(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let run = ws.apply();
        done.store(true, Ordering::SeqCst);
        run
    });
    assert!(
        apply.stdout.contains("create replacement and then destroy"),
        "{}",
        apply.stdout
    );
    assert!(
        max.load(Ordering::SeqCst) <= 2,
        "at most 2 tokens at any time"
    );
    assert!(min.load(Ordering::SeqCst) >= 1, "never without a token");
    let tokens = sandbox.kiro_objects(&account, REGION)["tokens"].clone();
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert_ne!(tokens[0]["tokenId"], first_id.as_str());
    ws.assert_no_changes();

    // Deleted in the console: noticed and planned again.
    let id = ws.attr("kiro_access_token.scim", "token_id");
    sandbox.delete_token_out_of_band(&arn, &id);
    assert_plans_create(&ws, "kiro_access_token.scim");
    ws.apply();

    // Not importable, and says why.
    let id = ws.attr("kiro_access_token.scim", "token_id");
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &format!("{}\n{}", body("2026-07"), token("other", "x")),
    ));
    let out = ws
        .fails(&[
            "import",
            "-no-color",
            "kiro_access_token.other",
            &format!("{arn}|{id}"),
        ])
        .output();
    assert!(out.contains("cannot be imported"), "{out}");
    ws.write_main(&kiro_config(&sandbox, &tenant, &body("2026-07")));

    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

#[test]
fn the_quota_error_lists_the_tokens_and_how_to_free_one() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = format!(
        "{}\n{}\n{}\n{}",
        profile(&tenant, "kiro-quota", ""),
        token("a", "1"),
        token("b", "1"),
        token("c", "1").replace(
            "  lifecycle {\n    create_before_destroy = true\n  }\n",
            "  depends_on = [kiro_access_token.a, kiro_access_token.b]\n"
        )
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("at most 2"), "{out}");
    for name in ["a", "b"] {
        let id = ws.attr(&format!("kiro_access_token.{name}"), "token_id");
        assert!(flat.contains(&id), "lists token {id}:\n{out}");
    }
    assert!(flat.contains("Delete one"), "says how to free one:\n{out}");
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

/// A year on: the plan warns as the token's expiry comes near (and once it has passed), and
/// with `rotate_before` it plans the new token itself, made before the old one goes.
#[test]
fn expiry_warns_and_rotate_before_rotates_in_the_plan() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = |rotate_before: &str| {
        let token = token("scim", "2026-01").replace(
            "  lifecycle {",
            &format!("  {rotate_before}\n  lifecycle {{"),
        );
        format!("{}\n{token}", profile(&tenant, "kiro-exp", ""))
    };
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body(""));
    ws.apply();
    let arn = ws.attr("kiro_profile.main", "arn");
    let first_id = ws.attr("kiro_access_token.scim", "token_id");
    ws.assert_no_changes();

    // 20 days left, no window: a warning on expires_at, and nothing to do.
    sandbox.expire_token_in(&arn, &first_id, 20);
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 0, "{}", plan.describe());
    let flat = plan.flat_stdout();
    assert!(
        flat.contains("A SCIM access token expires soon")
            && flat.contains("in 19 days")
            && flat.contains("rotate_before"),
        "{}",
        plan.stdout
    );
    // Expired: still a warning, which says so.
    sandbox.expire_token_in(&arn, &first_id, -1);
    let plan = ws.ok(&["plan", "-no-color"]);
    assert!(plan.flat_stdout().contains("expired at"), "{}", plan.stdout);

    // A window that does not reach the expiry: nothing; one that does: the plan replaces it.
    sandbox.expire_token_in(&arn, &first_id, 40);
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &body(r#"rotate_before = "720h""#),
    ));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "rotate_before is new in the configuration");
    assert!(
        !plan.stdout.contains("replace") && !plan.stdout.contains("Warning"),
        "{}",
        plan.stdout
    );
    ws.apply();
    ws.assert_no_changes();
    sandbox.expire_token_in(&arn, &first_id, 29);
    assert_plans_rotation(
        &ws,
        &["create replacement and then destroy", "forces replacement"],
    );
    ws.apply();
    let second_id = ws.attr("kiro_access_token.scim", "token_id");
    assert_ne!(second_id, first_id);
    assert_eq!(
        sandbox.token_ids(&account, REGION),
        [second_id.as_str()],
        "the old token is gone"
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

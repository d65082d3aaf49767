//! `kiro_domain` and `kiro_domain_verification`: the TXT record the service
//! asks for, and waiting until the domain reads VERIFIED.

use std::time::{Duration, Instant};

use crate::configs::{adopt_in, assert_plans_create, reimport};
use crate::kiro_fixtures::{REGION, kiro_config, kiro_workspace, profile};
use crate::sandbox::Sandbox;

fn domain(name: &str) -> String {
    format!(
        r#"resource "kiro_domain" "corp" {{
  profile_arn = kiro_profile.main.arn
  domain_name = "{name}"
}}
"#
    )
}

fn verification(timeout: &str) -> String {
    format!(
        r#"resource "kiro_domain_verification" "corp" {{
  profile_arn = kiro_domain.corp.profile_arn
  domain_name = kiro_domain.corp.domain_name
  timeouts {{
    create = "{timeout}"
  }}
}}
"#
    )
}

#[test]
fn domain_lifecycle() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = format!(
        "{}\n{}",
        profile(&tenant, "kiro-dom", ""),
        domain("Corp.Example.COM")
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
    ws.apply();
    let state = ws.resource("kiro_domain.corp");
    let arn = ws.attr("kiro_profile.main", "arn");
    assert_eq!(
        state["id"],
        format!("{arn}|corp.example.com"),
        "lower-cased in the id"
    );
    assert_eq!(state["dns_record_type"], "TXT");
    assert_eq!(state["status"], "PENDING");
    let remote = &sandbox.kiro_objects(&account, REGION)["domains"][0];
    assert_eq!(remote["domainName"], "corp.example.com");
    assert_eq!(
        state["dns_record_name"],
        remote["verificationRecord"]["name"]
    );
    assert_eq!(
        state["dns_record_value"],
        remote["verificationRecord"]["value"]
    );
    assert_eq!(state["verification_token"], remote["verificationToken"]);
    ws.assert_no_changes();

    // Verified later (the record was published): a computed change only, no plan.
    sandbox.publish_txt(
        state["dns_record_name"].as_str().unwrap(),
        &[state["dns_record_value"].as_str().unwrap()],
    );
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource("kiro_domain.corp")["status"], "VERIFIED");
    ws.assert_no_changes();

    // Import, and an import block.
    // The import ID writes the domain as the configuration does.
    let id = format!("{arn}|Corp.Example.COM");
    reimport(&ws, "kiro_domain.corp", &id);
    adopt_in(
        |body| kiro_workspace(&sandbox, &tenant, &account, body),
        "kiro_domain",
        &id,
    );

    // In no state: Kiro associates a domain with the profile that has it as a no-op,
    // so the create simply finds it again (kiro-api.md: only another profile conflicts).
    let id = ws.attr("kiro_domain.corp", "id");
    ws.ok(&["state", "rm", "kiro_domain.corp"]);
    ws.apply();
    assert_eq!(ws.attr("kiro_domain.corp", "id"), id);
    ws.assert_no_changes();

    // Removed out of band: planned again.
    sandbox.delete_domain_out_of_band(&arn, "corp.example.com");
    assert_plans_create(&ws, "kiro_domain.corp");
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

#[test]
fn bad_domain_names_fail_at_plan() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    for (name, message) in [
        ("not a domain", "not a domain name"),
        ("-bad.example.com", "not a domain name"),
        ("localhost", "at least two labels"),
        ("https://example.com", "not a domain name"),
    ] {
        let body = format!("{}\n{}", profile(&tenant, "kiro-dom", ""), domain(name));
        let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
        sandbox.reset_counts();
        let out = ws.fails(&["plan", "-no-color"]).output();
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(message), "{name}: {out}");
        assert!(flat.contains("domain_name"), "{name}: {out}");
        assert_eq!(sandbox.count("kiro."), 0, "{:#}", sandbox.counts());
    }
}

/// The record appears 5 s after the apply starts: the verification waits
/// and succeeds.
#[test]
fn verification_waits_for_the_record() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let base = format!(
        "{}\n{}",
        profile(&tenant, "kiro-ver", ""),
        domain("example.org")
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &base);
    ws.apply();
    let record = ws.resource("kiro_domain.corp");
    let (name, value) = (
        record["dns_record_name"].as_str().unwrap().to_string(),
        record["dns_record_value"].as_str().unwrap().to_string(),
    );
    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &format!("{base}\n{}", verification("2m")),
    ));
    // The DNS change someone makes while Terraform waits: once the verification has read the
    // domain (the refresh reads it once, the wait at least once more) and seen it PENDING.
    sandbox.reset_counts();
    let polls_before_publishing = std::thread::scope(|s| {
        let publisher = s.spawn(|| {
            let polls = sandbox.wait_for_requests("kiro.ListLoginDomains", 2);
            sandbox.publish_txt(&name, &[&value]);
            polls
        });
        let apply = ws.apply();
        assert!(
            apply
                .stdout
                .contains("kiro_domain_verification.corp: Creation complete"),
            "{}",
            apply.stdout
        );
        publisher.join().unwrap()
    });
    assert!(
        sandbox.count("kiro.ListLoginDomains") > polls_before_publishing,
        "the wait read the domain again after the record was published"
    );
    assert_eq!(
        ws.resource("kiro_domain.corp")["status"],
        "PENDING",
        "state read before"
    );
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource("kiro_domain.corp")["status"], "VERIFIED");
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

/// The record never appears: the apply fails at the short timeout and says
/// which record must exist and what DNS answers for it now.
#[test]
fn verification_timeout_names_the_record_and_what_dns_says() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let body = format!(
        "{}\n{}\n{}",
        profile(&tenant, "kiro-late", ""),
        domain("example.net"),
        verification("4s")
    );
    let ws = kiro_workspace(&sandbox, &tenant, &account, &body);
    // A stale record with the wrong value is what DNS answers.
    let name_run = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    let record = ws.resource("kiro_domain.corp");
    let name = record["dns_record_name"].as_str().unwrap().to_string();
    let value = record["dns_record_value"].as_str().unwrap().to_string();
    let out = name_run.output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&name), "names the record:\n{out}");
    assert!(flat.contains(&value), "gives the value:\n{out}");
    assert!(
        flat.contains("PENDING"),
        "what the service reported:\n{out}"
    );
    assert!(
        flat.contains("no TXT record"),
        "what DNS answers now:\n{out}"
    );

    sandbox.publish_txt(&name, &["kiro-verification=old"]);
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("kiro-verification=old"),
        "DNS's current answer:\n{out}"
    );

    // FAILED is reported at once, with the same help.
    sandbox.fail_domain(&ws.attr("kiro_profile.main", "arn"), "example.net");
    let started = Instant::now();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("FAILED"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "no wait on FAILED"
    );

    ws.write_main(&kiro_config(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}",
            profile(&tenant, "kiro-late", ""),
            domain("example.net")
        ),
    ));
    ws.destroy();
    sandbox.assert_kiro_empty(&account, REGION);
}

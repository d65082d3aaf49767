//! `kiro_entra_redirect_uri` through its whole life, the plan-time URI
//! rules, and many sub-resources of one application applied in parallel.

use serde_json::{Value, json};

use crate::configs::{
    adopt_with_import_block, application, assert_plan_warns_of_take_over, assert_plans_create,
    assert_taken_over, reimport, with_provider, workspace,
};
use crate::sandbox::{Sandbox, Tenant};

const KIRO_URI: &str = "kiro://kiro.oauth/callback";
const LOOPBACK_URI: &str = "http://localhost/oauth/callback";

fn redirect(name: &str, uri: &str, platform: Option<&str>) -> String {
    let platform = platform
        .map(|p| format!("  platform       = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        r#"resource "kiro_entra_redirect_uri" "{name}" {{
  application_id = kiro_entra_application.kiro.object_id
  uri            = "{uri}"
{platform}}}
"#
    )
}

fn remote_uris(sandbox: &Sandbox, tenant: &Tenant, app_id: &str, property: &str) -> Vec<String> {
    sandbox.application(tenant, app_id)[property]["redirectUris"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|v: Value| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn redirect_uri_lifecycle() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let both = format!(
        "{}\n{}\n{}",
        application("Kiro"),
        redirect("kiro", KIRO_URI, None),
        redirect("loopback", LOOPBACK_URI, None)
    );
    let ws = workspace(&sandbox, &tenant, &both);
    ws.apply();
    let app_id = ws.attr("kiro_entra_application.kiro", "object_id");
    let mut uris = remote_uris(&sandbox, &tenant, &app_id, "publicClient");
    uris.sort();
    assert_eq!(uris, [LOOPBACK_URI, KIRO_URI]);
    assert_eq!(
        ws.attr("kiro_entra_redirect_uri.kiro", "id"),
        format!("{app_id}/public_client/{KIRO_URI}")
    );
    ws.assert_no_changes();

    // A URI added in the portal is left alone.
    let mut with_portal = uris.clone();
    with_portal.push("myapp://portal".into());
    sandbox.drift_application(
        &tenant,
        &app_id,
        json!({"publicClient": {"redirectUris": with_portal}}),
    );
    ws.assert_no_changes();

    // Changing the URI or platform replaces it (here: the loopback URI moves to web).
    ws.write_main(&with_provider(
        &sandbox,
        &tenant,
        &format!(
            "{}\n{}\n{}",
            application("Kiro"),
            redirect("kiro", KIRO_URI, None),
            redirect("loopback", LOOPBACK_URI, Some("web"))
        ),
    ));
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(
        remote_uris(&sandbox, &tenant, &app_id, "web"),
        [LOOPBACK_URI]
    );
    let mut public = remote_uris(&sandbox, &tenant, &app_id, "publicClient");
    public.sort();
    assert_eq!(
        public,
        [KIRO_URI, "myapp://portal"],
        "the portal's URI stays"
    );
    ws.assert_no_changes();

    // Import by ID (the URI holds slashes), and through an import block.
    let id = format!("{app_id}/public_client/{KIRO_URI}");
    reimport(&ws, "kiro_entra_redirect_uri.kiro", &id);
    let generated = adopt_with_import_block(&sandbox, &tenant, "kiro_entra_redirect_uri", &id);
    assert!(generated.contains(KIRO_URI), "{generated}");

    // In no state: the plan warns that it will be taken over; taken over, never listed twice.
    ws.ok(&["state", "rm", "kiro_entra_redirect_uri.kiro"]);
    assert_plan_warns_of_take_over(&ws);
    ws.ok(&["import", "-no-color", "kiro_entra_redirect_uri.kiro", &id]);
    assert_taken_over(&ws, "kiro_entra_redirect_uri.kiro");
    let uris = remote_uris(&sandbox, &tenant, &app_id, "publicClient");
    assert_eq!(
        uris.iter().filter(|u| *u == KIRO_URI).count(),
        1,
        "{uris:?}"
    );

    // Removed out of band: planned again and re-added.
    sandbox.drift_application(
        &tenant,
        &app_id,
        json!({"publicClient": {"redirectUris": ["myapp://portal"]}}),
    );
    assert_plans_create(&ws, "kiro_entra_redirect_uri.kiro");
    ws.apply();
    ws.assert_no_changes();

    ws.write_main(&with_provider(&sandbox, &tenant, &application("Kiro")));
    ws.apply();
    assert_eq!(
        remote_uris(&sandbox, &tenant, &app_id, "publicClient"),
        ["myapp://portal"],
        "destroy removes only its own URIs"
    );
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn bad_redirect_uris_fail_at_plan_without_requests() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let long = format!("https://contoso.com/{}", "a".repeat(240));
    let cases = [
        ("http://contoso.com/cb", None, "localhost", "uri ="),
        (
            "kiro://kiro.oauth/callback",
            Some("web"),
            "only the public_client",
            "uri =",
        ),
        ("https://contoso.com/cb#x", Some("spa"), "fragment", "uri ="),
        ("https://*.contoso.com/cb", Some("web"), "wildcard", "uri ="),
        (long.as_str(), Some("web"), "at most 256", "uri ="),
        (
            "https://contoso.com/cb",
            Some("desktop"),
            "public_client",
            "platform =",
        ),
    ];
    for (uri, platform, message, attribute) in cases {
        let ws = workspace(
            &sandbox,
            &tenant,
            &format!(
                "{}\n{}",
                application("Kiro"),
                redirect("bad", uri, platform)
            ),
        );
        sandbox.reset_counts();
        let out = ws.fails(&["plan", "-no-color"]).output();
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(message), "{uri}: says {message:?}\n{out}");
        assert!(
            flat.contains(attribute),
            "{uri}: points at {attribute}\n{out}"
        );
        assert!(
            out.contains("kiro_entra_redirect_uri.bad"),
            "{uri}: names the resource\n{out}"
        );
        assert_eq!(
            sandbox.count("graph.") + sandbox.count("login."),
            0,
            "no request for {uri}: {:#}",
            sandbox.counts()
        );
    }
}

/// Ten scopes and ten redirect URIs of one application, applied with
/// `-parallelism=10` against 50 ms of latency: every edit re-reads the
/// application under its lock, so none is lost.
#[test]
fn twenty_sub_resources_in_parallel_keep_all_twenty() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut body = application("Kiro");
    for i in 0..10 {
        body.push_str(&format!(
            r#"resource "kiro_entra_api_scope" "s{i}" {{
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "kiro:scope{i}"
  admin_consent_display_name = "Scope {i}"
  admin_consent_description  = "Scope {i}"
}}
"#
        ));
        body.push_str(&redirect(
            &format!("r{i}"),
            &format!("kiro://callback/{i}"),
            None,
        ));
    }
    let ws = workspace(&sandbox, &tenant, &body);
    ws.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-target=kiro_entra_application.kiro",
    ]);
    sandbox.set_faults(json!({"latency_ms": 50}));
    sandbox.reset_counts();
    ws.ok(&["apply", "-auto-approve", "-no-color", "-parallelism=10"]);
    let patches = sandbox.count("graph.applications.patch");
    let app_id = ws.attr("kiro_entra_application.kiro", "object_id");
    let app = sandbox.application(&tenant, &app_id);
    assert_eq!(
        app["api"]["oauth2PermissionScopes"]
            .as_array()
            .map(Vec::len),
        Some(10),
        "{app:#}"
    );
    assert_eq!(
        app["publicClient"]["redirectUris"].as_array().map(Vec::len),
        Some(10),
        "{app:#}"
    );
    eprintln!("application PATCHes for 20 sub-resources: {patches}");
    // Edits that queue behind a PATCH in flight go out together with the next one.
    assert!(
        (1..20).contains(&patches),
        "fewer PATCHes than sub-resources: {:#}",
        sandbox.counts()
    );
    ws.assert_no_changes();

    // One refresh reads the application once for all 21 resources.
    sandbox.reset_counts();
    ws.assert_no_changes();
    assert_eq!(
        sandbox.count("graph.applications.get"),
        1,
        "{:#}",
        sandbox.counts()
    );
    sandbox.set_faults(json!({"latency_ms": 0}));
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

//! The provider block: endpoint rules, credentials, several tenants.

use serde_json::json;

use crate::harness::Workspace;
use crate::sandbox::Sandbox;

#[test]
fn http_endpoint_to_remote_host_is_refused_at_plan() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    let provider = sandbox.provider_block(&tenant, None).replace(
        &format!("{}/graph", sandbox.url),
        "http://graph.example.com",
    );
    ws.write_main(
        &format!("{provider}\nresource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n}}\n"),
    );
    ws.init();
    sandbox.reset_counts();
    let out = ws.fails(&["plan", "-no-color"]).output();
    assert!(out.contains("Invalid endpoint for graph"), "{out}");
    assert!(out.contains("not loopback"), "{out}");
    assert!(
        out.contains("graph = \"http://graph.example.com\""),
        "points at the attribute:\n{out}"
    );
    assert_eq!(sandbox.count("graph.") + sandbox.count("login."), 0);
}

#[test]
fn wrong_client_secret_names_the_aadsts_error_and_hides_the_secret() {
    let sandbox = Sandbox::start();
    let mut tenant = sandbox.new_tenant();
    tenant.client_secret = "definitely-wrong-secret-value".to_string();
    let mut ws = Workspace::new();
    ws.env("TF_LOG", "TRACE");
    ws.write_main(&format!(
        "{}\nresource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n}}\n",
        sandbox.provider_block(&tenant, None)
    ));
    ws.init();
    let run = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    let out = run.output();
    assert!(out.contains("AADSTS"), "{out}");
    assert!(
        !out.contains("definitely-wrong-secret-value"),
        "the secret leaked into terraform's output or TRACE log"
    );
}

#[test]
fn aliased_providers_serve_two_tenants_side_by_side() {
    let sandbox = Sandbox::start();
    let east = sandbox.new_tenant();
    let west = sandbox.new_tenant();
    let ws = Workspace::new();
    ws.write_main(&format!(
        r#"{}
{}
resource "kiro_entra_application" "east" {{
  provider     = kiro.east
  display_name = "Kiro East"
}}
resource "kiro_entra_application" "west" {{
  provider     = kiro.west
  display_name = "Kiro West"
}}
"#,
        sandbox.provider_block(&east, Some("east")),
        sandbox.provider_block(&west, Some("west"))
    ));
    ws.init();
    ws.apply();
    let names = |t| -> Vec<String> {
        sandbox
            .applications(t)
            .iter()
            .map(|a| a["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&east), vec!["Kiro East".to_string()]);
    assert_eq!(names(&west), vec!["Kiro West".to_string()]);
    assert_eq!(
        ws.resource("kiro_entra_application.east")["tenant_id"],
        json!(east.tenant_id)
    );
    ws.assert_no_changes();
    ws.destroy();
    sandbox.assert_empty(&east);
    sandbox.assert_empty(&west);
}

#[test]
fn oidc_token_file_authenticates() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let token = sandbox.federated_token(&tenant);
    let ws = Workspace::new();
    ws.write("oidc-token", &token);
    let provider = format!(
        r#"provider "kiro" {{
  tenant_id            = "{}"
  client_id            = "{}"
  use_oidc             = true
  oidc_token_file_path = "{}/oidc-token"
  endpoints {{
    graph = "{url}/graph"
    login = "{url}/login"
  }}
}}
"#,
        tenant.tenant_id,
        tenant.client_id,
        ws.dir.display(),
        url = sandbox.url
    );
    ws.write_main(&format!(
        "{provider}\nresource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n}}\n"
    ));
    ws.init();
    ws.apply();
    assert_eq!(sandbox.applications(&tenant).len(), 1);
    assert!(sandbox.count("login.token") >= 1);
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

#[test]
fn environment_variables_configure_the_provider() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut ws = Workspace::new();
    ws.env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_CLIENT_ID", &tenant.client_id)
        .env("ARM_CLIENT_SECRET", &tenant.client_secret)
        .env("KIRO_ENDPOINT_GRAPH", &format!("{}/graph", sandbox.url))
        .env("KIRO_ENDPOINT_LOGIN", &format!("{}/login", sandbox.url));
    ws.write_main(
        "provider \"kiro\" {}\nresource \"kiro_entra_application\" \"kiro\" {\n  display_name = \"Kiro\"\n}\n",
    );
    ws.init();
    ws.apply();
    assert_eq!(sandbox.applications(&tenant).len(), 1);
    ws.destroy();
    sandbox.assert_empty(&tenant);
}

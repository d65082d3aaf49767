//! The plugin process itself: refusing to run by hand, the schema Terraform
//! reads, and the handshake.

use std::process::Command;

use crate::harness::Workspace;

#[test]
fn refuses_to_run_by_hand() {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-kiro"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plugin for Terraform"), "{stderr}");
}

#[test]
fn providers_schema_lists_provider_and_application() {
    let ws = Workspace::new();
    ws.write_main("");
    ws.init();
    let run = ws.ok(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let provider = &schema["provider_schemas"]["registry.terraform.io/kiro-entra/kiro"];
    let config = &provider["provider"]["block"];
    for attr in [
        "tenant_id",
        "client_id",
        "client_secret",
        "client_certificate_path",
        "client_certificate_password",
        "use_oidc",
        "oidc_token",
        "oidc_token_file_path",
        "use_cli",
        "environment",
        "region",
        "aws_profile",
    ] {
        assert!(
            config["attributes"][attr].is_object(),
            "provider attribute {attr}: {config:#}"
        );
    }
    assert_eq!(config["attributes"]["client_secret"]["sensitive"], true);
    assert!(config["block_types"]["endpoints"].is_object());
    let app = &provider["resource_schemas"]["kiro_entra_application"]["block"];
    for attr in [
        "id",
        "display_name",
        "requested_access_token_version",
        "identifier_uri",
        "keep_default_scope",
        "prevent_duplicate_names",
        "object_id",
        "client_id",
        "service_principal_id",
        "tenant_id",
        "issuer_url",
        "openid_configuration_url",
    ] {
        assert!(
            app["attributes"][attr].is_object(),
            "resource attribute {attr}: {app:#}"
        );
    }
    assert_eq!(app["attributes"]["display_name"]["required"], true);
    assert!(app["block_types"]["timeouts"].is_object());
}

/// `--debug` serves without Terraform starting the process; Terraform
/// attaches through TF_REATTACH_PROVIDERS.
#[test]
fn debug_mode_lets_terraform_reattach() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let sandbox = crate::sandbox::Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut provider = Command::new(env!("CARGO_BIN_EXE_terraform-provider-kiro"))
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reattach = None;
    for line in BufReader::new(provider.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS=") {
            reattach = Some(value.trim_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("the provider printed TF_REATTACH_PROVIDERS");
    let parsed: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    assert_eq!(
        parsed["registry.terraform.io/kiro-entra/kiro"]["ProtocolVersion"],
        5
    );

    let mut ws = Workspace::new();
    ws.env("TF_REATTACH_PROVIDERS", &reattach);
    ws.write_main(&format!(
        "{}\nresource \"kiro_entra_application\" \"kiro\" {{\n  display_name = \"Kiro\"\n}}\n",
        sandbox.provider_block(&tenant, None)
    ));
    ws.init();
    let plan = ws.ok(&["plan", "-no-color"]);
    assert!(plan.stdout.contains("1 to add"), "{}", plan.stdout);
    let _ = provider.kill();
    let _ = provider.wait();
}

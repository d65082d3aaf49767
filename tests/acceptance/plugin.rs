//! The plugin process itself: refusing to run by hand, the schema Terraform
//! reads, and the handshake.

use std::process::Command;
use std::time::Duration;

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

/// The provider started as Terraform starts it, but without a client
/// certificate (so plain gRPC): its process and address.
async fn start_plain_provider() -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut provider = tokio::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-kiro"))
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut line = String::new();
    tokio::io::BufReader::new(provider.stdout.take().unwrap())
        .read_line(&mut line)
        .await
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("1|5|tcp|")
        .and_then(|rest| rest.strip_suffix("|grpc|"))
        .unwrap_or_else(|| panic!("handshake line: {line:?}"))
        .to_string();
    (provider, addr)
}

/// go-plugin's client, as Terraform closes a provider: with the stdio stream
/// open (Terraform opens it on every start), Shutdown must be answered, and
/// once Terraform drops its connection the process must end by itself.
#[test]
fn shutdown_is_answered_and_then_the_process_exits() {
    use kiro_provider::server::proto::plugin as pb;
    use pb::grpc_controller_client::GrpcControllerClient;
    use pb::grpc_stdio_client::GrpcStdioClient;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut provider, addr) = start_plain_provider().await;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let stdio = GrpcStdioClient::new(channel.clone())
            .stream_stdio(())
            .await
            .expect("the stdio stream opens");
        let answer = GrpcControllerClient::new(channel.clone())
            .shutdown(pb::Empty {})
            .await;
        assert!(answer.is_ok(), "Shutdown answered with {answer:?}");
        drop((stdio, channel));
        // A guard against hanging forever, not a timing claim: Terraform kills
        // a provider after 2 s, and this one normally exits within a millisecond.
        let status = tokio::time::timeout(Duration::from_secs(60), provider.wait())
            .await
            .expect("the provider exits after Shutdown")
            .unwrap();
        assert!(status.success(), "{status:?}");
    });
}

/// Terraform's TRACE log of a plan with two aliased providers (two sandbox tenants) and one
/// application.
fn traced_plan_of_two_tenants() -> String {
    let sandbox = crate::sandbox::Sandbox::start();
    let (a, b) = (sandbox.new_tenant(), sandbox.new_tenant());
    let mut ws = Workspace::new();
    ws.write_main(&format!(
        "{}{}\nresource \"kiro_entra_application\" \"a\" {{\n  provider     = kiro.a\n  display_name = \"Kiro\"\n}}\n",
        sandbox.provider_block(&a, Some("a")),
        sandbox.provider_block(&b, Some("b")),
    ));
    ws.init();
    ws.env("TF_LOG", "trace");
    let plan = ws.ok(&["plan", "-no-color"]);
    plan.stderr
}

/// The same through Terraform: every provider process a plan starts is shut
/// down and exits on its own; none is killed, no Shutdown fails.
#[test]
fn terraform_sees_every_provider_process_exit_gracefully() {
    let log = &traced_plan_of_two_tenants();
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    let started = count("provider: starting plugin");
    assert!(started >= 2, "{started} provider starts\n{log}");
    assert_eq!(count("GRPCController.Shutdown"), started, "{log}");
    assert_eq!(count("provider: plugin exited"), started, "{log}");
    for trouble in [
        "plugin failed to exit gracefully",
        "error closing client",
        "[ERROR] provider: plugin process exited",
    ] {
        assert_eq!(count(trouble), 0, "{trouble}\n{log}");
    }
}

/// Terraform reads the provider's schema from one process and answers the
/// others from its cache (`get_provider_schema_optional`): a plan with two
/// aliased providers starts five processes and asks for the schema once.
#[test]
fn terraform_reads_the_schema_once_per_command() {
    let log = &traced_plan_of_two_tenants();
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    assert!(count("provider: starting plugin") >= 3, "{log}");
    // Terraform logs this line once per GetProviderSchema answer it decodes.
    assert_eq!(count("No provider meta schema returned"), 1, "{log}");
    assert!(count("returning cached schema") >= 2, "{log}");
}

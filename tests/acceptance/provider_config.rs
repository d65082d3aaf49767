//! The provider block: endpoint rules, credentials, several tenants.

use serde_json::json;

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};

#[test]
fn http_endpoint_to_remote_host_is_refused_at_plan() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    let provider = sandbox.provider_block(&tenant, None).replace(
        &format!("{}/graph", sandbox.url),
        "http://graph.example.com",
    );
    ws.write_main(&format!("{provider}\n{APPLICATION}"));
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
    ws.write_main(&format!("{provider}\n{APPLICATION}"));
    creates_one_application_then_destroys_it(&ws, &sandbox, &tenant);
    assert!(sandbox.count("login.token") >= 1);
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
    creates_one_application_then_destroys_it(&ws, &sandbox, &tenant);
}

const APPLICATION: &str =
    "resource \"kiro_entra_application\" \"kiro\" {\n  display_name = \"Kiro\"\n}\n";
const PFX_PASSWORD: &str = "Pfx-pa55word-in-test";

/// A self-signed RSA certificate and key as a password-protected PKCS#12 file in the
/// workspace; returns its path and the `x5t` (base64url SHA-1 of the certificate DER).
pub(crate) fn write_pkcs12(ws: &Workspace, password: &str) -> (String, String) {
    use base64::Engine;
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkcs12::Pkcs12, pkey::PKey, rsa::Rsa};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "terraform-kiro").unwrap();
    let name = name.build();
    let mut cert = openssl::x509::X509::builder().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = cert.build();
    let pfx = Pkcs12::builder()
        .name("terraform-kiro")
        .pkey(&key)
        .cert(&cert)
        .build2(password)
        .unwrap();
    let path = ws.dir.join("terraform.pfx");
    std::fs::write(&path, pfx.to_der().unwrap()).unwrap();
    let sha1 = cert.digest(MessageDigest::sha1()).unwrap();
    let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha1);
    (path.display().to_string(), x5t)
}

fn certificate_provider(sandbox: &Sandbox, tenant: &Tenant, path: &str, password: &str) -> String {
    format!(
        r#"provider "kiro" {{
  tenant_id                   = "{}"
  client_id                   = "{}"
  client_certificate_path     = "{path}"
  client_certificate_password = "{password}"
  endpoints {{
    graph = "{url}/graph"
    login = "{url}/login"
  }}
}}
"#,
        tenant.tenant_id,
        tenant.client_id,
        url = sandbox.url
    )
}

#[test]
fn client_certificate_authenticates() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    let (path, x5t) = write_pkcs12(&ws, PFX_PASSWORD);
    sandbox.register_certificate(&tenant, &x5t);
    ws.write_main(&format!(
        "{}\n{APPLICATION}",
        certificate_provider(&sandbox, &tenant, &path, PFX_PASSWORD)
    ));
    creates_one_application_then_destroys_it(&ws, &sandbox, &tenant);
    assert!(sandbox.count("login.token") >= 1);
}

#[test]
fn wrong_certificate_password_names_the_file_and_hides_the_password() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut ws = Workspace::new();
    ws.env("TF_LOG", "TRACE");
    let (path, x5t) = write_pkcs12(&ws, PFX_PASSWORD);
    sandbox.register_certificate(&tenant, &x5t);
    let wrong = "Wrong-pfx-pa55word-value";
    ws.write_main(&format!(
        "{}\n{APPLICATION}",
        certificate_provider(&sandbox, &tenant, &path, wrong)
    ));
    ws.init();
    sandbox.reset_counts();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    // Terraform wraps diagnostics at 78 columns.
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Cannot set up Entra credentials"), "{out}");
    assert!(
        flat.contains(&format!("cannot read client certificate \"{path}\"")),
        "names the certificate file:\n{out}"
    );
    assert!(flat.contains("wrong client_certificate_password"), "{out}");
    for password in [wrong, PFX_PASSWORD] {
        assert!(
            !out.contains(password),
            "a certificate password leaked into terraform's output or TRACE log"
        );
    }
    assert_eq!(sandbox.count("login.") + sandbox.count("graph."), 0);
    assert!(sandbox.applications(&tenant).is_empty());
}

/// A fake `az` on `PATH` that answers `az account get-access-token` like Azure CLI 2.54+
/// (`-o json`), but only when asked for the Graph scope in the configured tenant.
fn write_fake_az(ws: &Workspace, tenant: &Tenant, token: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = ws.dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let local =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].000000");
    let answer = json!({
        "accessToken": token,
        "expiresOn": expires.format(&local).unwrap(),
        "expires_on": expires.unix_timestamp(),
        "subscription": "11111111-2222-4333-8444-555555555555",
        "tenant": tenant.tenant_id,
        "tokenType": "Bearer",
    });
    let script = format!(
        r#"#!/bin/sh
echo "$*" >> "{log}"
for want in "account get-access-token " " -o json " " --scope https://graph.microsoft.com/.default " " --tenant {tenant} "; do
  case " $* " in
    *"$want"*) ;;
    *) echo "ERROR: fake az: '$want' missing from: az $*" >&2; exit 2 ;;
  esac
done
cat <<'JSON'
{answer:#}
JSON
"#,
        log = ws.dir.join("az-calls.log").display(),
        tenant = tenant.tenant_id,
    );
    let az = bin.join("az");
    std::fs::write(&az, script).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn azure_cli_token_authenticates() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let token = format!("az-cli-token-{}", tenant.tenant_id);
    sandbox.register_bearer_token(&tenant, &token);
    let mut ws = Workspace::new();
    let bin = write_fake_az(&ws, &tenant, &token);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    ws.env("PATH", &path);
    // Login stays at its https default: the CLI credential never contacts it.
    ws.write_main(&format!(
        r#"provider "kiro" {{
  use_cli   = true
  tenant_id = "{}"
  endpoints {{
    graph = "{}/graph"
  }}
}}
{APPLICATION}"#,
        tenant.tenant_id, sandbox.url
    ));
    ws.init();
    ws.apply();
    assert_eq!(sandbox.applications(&tenant).len(), 1);
    let calls = ws.read("az-calls.log");
    assert!(
        calls.starts_with("account get-access-token"),
        "az was asked: {calls:?}"
    );
    ws.destroy();
    sandbox.assert_empty(&tenant);
    assert_eq!(
        sandbox.count("login."),
        0,
        "the login endpoint was contacted"
    );
}

/// init, apply: exactly one application in the tenant; destroy: none left.
fn creates_one_application_then_destroys_it(ws: &Workspace, sandbox: &Sandbox, tenant: &Tenant) {
    ws.init();
    ws.apply();
    assert_eq!(sandbox.applications(tenant).len(), 1);
    ws.destroy();
    sandbox.assert_empty(tenant);
}

#[test]
fn bad_provider_arguments_fail_at_plan_without_requests() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let cases = [
        ("tenant_id", "\"not-a-guid\"", "is not a GUID"),
        ("client_id", "\"kiro\"", "is not a GUID"),
        ("environment", "\"mars\"", "Expected one of"),
        ("region", "\"US East\"", "is not an AWS region name"),
    ];
    for (attribute, value, message) in cases {
        let provider = sandbox.provider_block(&tenant, None);
        let line = provider
            .lines()
            .find(|l| l.trim_start().starts_with(attribute))
            .map(str::to_string);
        let provider = match line {
            Some(l) => provider.replace(&l, &format!("  {attribute} = {value}")),
            None => provider.replacen("{\n", &format!("{{\n  {attribute} = {value}\n"), 1),
        };
        let ws = Workspace::new();
        ws.write_main(&format!("{provider}\n{APPLICATION}"));
        ws.init();
        sandbox.reset_counts();
        let out = ws.fails(&["plan", "-no-color"]).output();
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(message), "{attribute}: {out}");
        assert!(
            flat.contains(&format!("{attribute} = {value}")),
            "the diagnostic points at {attribute}:\n{out}"
        );
        assert_eq!(sandbox.count("graph.") + sandbox.count("login."), 0);
    }
}

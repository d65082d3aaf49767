//! Every Entra credential source azuread accepts, signing in through the sandbox's emulation
//! of its endpoint: managed identity (IMDS, App Service), GitHub Actions and Azure DevOps
//! OIDC requests, AKS workload identity, HCP Terraform's workload identity token, an inline
//! PKCS#12 certificate, client id and secret from files; and a login endpoint behind a TLS
//! front, with a path.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::harness::Workspace;
use crate::release_mirror::{TestCa, TlsListener};
use crate::sandbox::{Sandbox, Tenant};

const APPLICATION: &str =
    "resource \"kiro_entra_application\" \"kiro\" {\n  display_name = \"Kiro\"\n}\n";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const GITHUB_SUBJECT: &str = "repo:kiro/infra:ref:refs/heads/main";
const AUDIENCE: &str = "api://AzureADTokenExchange";

/// A provider block with `arguments` and the sandbox's Graph (and login, unless
/// `login` is given) endpoints.
fn provider(sandbox: &Sandbox, arguments: &str, login: Option<&str>) -> String {
    let url = &sandbox.url;
    let login = login.map_or(format!("{url}/login"), str::to_string);
    format!(
        "provider \"kiro\" {{\n{arguments}\n  endpoints {{\n    graph = \"{url}/graph\"\n    login = \"{login}\"\n  }}\n}}\n{APPLICATION}"
    )
}

/// Applies the configuration: the application exists, so Graph took the token.
fn signs_in(ws: &Workspace, sandbox: &Sandbox, tenant: &Tenant) -> crate::harness::Run {
    ws.init();
    let run = ws.apply();
    assert_eq!(sandbox.applications(tenant).len(), 1, "{}", run.describe());
    run
}

/// Terraform wraps diagnostics to the terminal width: compare words, not lines.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hits(sandbox: &Sandbox, key: &str) -> u64 {
    sandbox.call("GET", "identity/hits", None)["hits"][key]
        .as_u64()
        .unwrap_or(0)
}

/// A federated identity credential on the tenant's client.
fn trust(sandbox: &Sandbox, tenant: &Tenant, issuer: &str, subject: &str) {
    sandbox.call(
        "POST",
        &format!("tenants/{}/federated_credentials", tenant.tenant_id),
        Some(json!({
            "client_id": tenant.client_id, "name": "terraform", "issuer": issuer,
            "subject": subject, "audiences": [AUDIENCE],
        })),
    );
}

/// A token signed by the sandbox's OIDC issuer key.
fn mint(sandbox: &Sandbox, issuer: &str, subject: &str) -> String {
    let body = json!({"issuer": issuer, "subject": subject, "audience": AUDIENCE});
    sandbox.call("POST", "oidc/tokens", Some(body))["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn requester(sandbox: &Sandbox, body: Value) {
    sandbox.call("POST", "oidc/requesters", Some(body));
}

fn identity_env(ws: &mut Workspace, tenant: &Tenant) {
    ws.env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_CLIENT_ID", &tenant.client_id);
}

#[test]
fn managed_identity_from_imds_at_msi_endpoint() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ws = Workspace::new();
    let imds = format!(
        "{}/imds/{}/metadata/identity/oauth2/token",
        sandbox.url, tenant.tenant_id
    );
    let arguments = format!(
        "  tenant_id    = \"{}\"\n  use_msi      = true\n  msi_endpoint = \"{imds}\"",
        tenant.tenant_id
    );
    ws.write_main(&provider(&sandbox, &arguments, None));
    signs_in(&ws, &sandbox, &tenant);
    assert!(hits(&sandbox, "imds.200") >= 1);
    assert_eq!(sandbox.count("login."), 0, "IMDS, not the login endpoint");
}

#[test]
fn managed_identity_from_app_service_identity_endpoint() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let identity = sandbox.call(
        "POST",
        &format!("tenants/{}/app_service_identity", tenant.tenant_id),
        Some(json!({})),
    );
    let mut ws = Workspace::new();
    let endpoint = format!(
        "{}{}",
        sandbox.url,
        identity["identity_endpoint"].as_str().unwrap()
    );
    ws.env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_USE_MSI", "true")
        .env("IDENTITY_ENDPOINT", &endpoint)
        .env(
            "IDENTITY_HEADER",
            identity["identity_header"].as_str().unwrap(),
        );
    ws.write_main(&provider(&sandbox, "", None));
    signs_in(&ws, &sandbox, &tenant);
    assert!(hits(&sandbox, "app_service.200") >= 1);
}

#[test]
fn github_actions_oidc_token_request() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    trust(&sandbox, &tenant, GITHUB_ISSUER, GITHUB_SUBJECT);
    let bearer = "gh-request-token-never-shown";
    requester(
        &sandbox,
        json!({"kind": "github", "bearer": bearer, "subject": GITHUB_SUBJECT}),
    );
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    ws.env("ARM_USE_OIDC", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/github/idtoken?api-version=2.0", sandbox.url),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", bearer)
        .env("TF_LOG", "TRACE");
    ws.write_main(&provider(&sandbox, "", None));
    let run = signs_in(&ws, &sandbox, &tenant);
    assert!(hits(&sandbox, "github.200") >= 1);
    assert!(sandbox.count("login.token") >= 1);
    assert!(!run.output().contains(bearer), "the request token leaked");
}

#[test]
fn azure_devops_oidc_request_for_a_service_connection() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let subject = "sc://kiro-org/infra/kiro-entra";
    trust(
        &sandbox,
        &tenant,
        "https://vstoken.dev.azure.com/kiro-org",
        subject,
    );
    let bearer = "ado-system-access-token";
    requester(
        &sandbox,
        json!({"kind": "ado", "bearer": bearer, "subject": subject, "service_connection_id": "sc-42"}),
    );
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    let uri = format!(
        "{}/ado/kiro-org/infra/_apis/distributedtask/hubs/build/plans/p-1/jobs/j-1/oidctoken",
        sandbox.url
    );
    ws.env("ARM_USE_OIDC", "true")
        .env("SYSTEM_OIDCREQUESTURI", &uri)
        .env("SYSTEM_ACCESSTOKEN", bearer)
        .env("ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "sc-42");
    ws.write_main(&provider(&sandbox, "", None));
    signs_in(&ws, &sandbox, &tenant);
    assert!(hits(&sandbox, "ado.200") >= 1);
}

#[test]
fn aks_workload_identity_from_the_webhook_variables() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let issuer = "https://oidc.aks.example/cluster-1/";
    let subject = "system:serviceaccount:infra:terraform";
    trust(&sandbox, &tenant, issuer, subject);
    let mut ws = Workspace::new();
    ws.write("azure-identity-token", &mint(&sandbox, issuer, subject));
    let token_file = ws.dir.join("azure-identity-token");
    ws.env("ARM_USE_AKS_WORKLOAD_IDENTITY", "true")
        .env("AZURE_TENANT_ID", &tenant.tenant_id)
        .env("AZURE_CLIENT_ID", &tenant.client_id)
        .env("AZURE_FEDERATED_TOKEN_FILE", token_file.to_str().unwrap())
        .env("AZURE_AUTHORITY_HOST", &format!("{}/login", sandbox.url));
    // Only Graph is overridden: the login endpoint is AKS's AZURE_AUTHORITY_HOST.
    let main = format!(
        "provider \"kiro\" {{\n  endpoints {{\n    graph = \"{}/graph\"\n  }}\n}}\n{APPLICATION}",
        sandbox.url
    );
    ws.write_main(&main);
    signs_in(&ws, &sandbox, &tenant);
    assert!(sandbox.count("login.token") >= 1);
}

#[test]
fn hcp_terraform_workload_identity_token() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let issuer = "https://app.terraform.io";
    let subject = "organization:kiro:project:infra:workspace:entra:run_phase:apply";
    trust(&sandbox, &tenant, issuer, subject);
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    ws.env("ARM_USE_OIDC", "true").env(
        "TFC_WORKLOAD_IDENTITY_TOKEN",
        &mint(&sandbox, issuer, subject),
    );
    ws.write_main(&provider(&sandbox, "", None));
    signs_in(&ws, &sandbox, &tenant);
}

#[test]
fn inline_client_certificate_and_client_id_file() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut ws = Workspace::new();
    let password = "Inline-pfx-pa55";
    let (path, x5t) = crate::provider_config::write_pkcs12(&ws, password);
    sandbox.register_certificate(&tenant, &x5t);
    use base64::Engine;
    let inline = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&path).unwrap());
    std::fs::remove_file(&path).unwrap();
    ws.write("client-id", &format!("{}\n", tenant.client_id));
    let client_id_file = ws.dir.join("client-id");
    ws.env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_CLIENT_ID_FILE_PATH", client_id_file.to_str().unwrap())
        .env("ARM_CLIENT_CERTIFICATE", &inline)
        .env("ARM_CLIENT_CERTIFICATE_PASSWORD", password);
    ws.write_main(&provider(&sandbox, "", None));
    signs_in(&ws, &sandbox, &tenant);
}

#[test]
fn client_secret_file_wins_over_a_managed_identity_and_says_so_at_info() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let mut ws = Workspace::new();
    ws.write("client-secret", &tenant.client_secret);
    let arguments = format!(
        "  tenant_id               = \"{}\"\n  client_id               = \"{}\"\n  client_secret_file_path = \"{}\"\n  use_msi                 = true",
        tenant.tenant_id,
        tenant.client_id,
        ws.dir.join("client-secret").display()
    );
    ws.env("TF_LOG", "INFO").env("TF_LOG_PATH", "terraform.log");
    ws.write_main(&provider(&sandbox, &arguments, None));
    let run = signs_in(&ws, &sandbox, &tenant);
    let out = format!("{}\n{}", run.output(), ws.read("terraform.log"));
    assert!(
        out.contains("Entra sign-in uses the client secret")
            && out.contains(
                "also configured, but later in the order of precedence: managed identity"
            ),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("Entra sign-in uses"))
        .unwrap_or_default();
    assert!(line.contains("[INFO]"), "logged at INFO: {line}");
    assert!(!out.contains(&tenant.client_secret), "the secret leaked");
    assert_eq!(hits(&sandbox, "imds.200"), 0);
}

/// A federated token from a subject the application does not trust, and a forged one from a
/// trusted subject: each error names the source, the URL and Entra's AADSTS code.
#[test]
fn federated_sign_in_failures_name_source_url_and_aadsts_code() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    trust(&sandbox, &tenant, GITHUB_ISSUER, GITHUB_SUBJECT);
    let bearer = "gh-request-token-never-shown";
    let other_branch = "repo:kiro/infra:ref:refs/heads/feature";
    requester(
        &sandbox,
        json!({"kind": "github", "bearer": bearer, "subject": other_branch}),
    );
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    let request_url = format!("{}/github/idtoken?api-version=2.0", sandbox.url);
    ws.env("ARM_USE_OIDC", "true")
        .env("ARM_OIDC_REQUEST_URL", &request_url)
        .env("ARM_OIDC_REQUEST_TOKEN", bearer);
    ws.write_main(&provider(&sandbox, "", None));
    ws.init();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    eprintln!("--- the error a failing source shows ---\n{out}");
    let out = flat(&out);
    let token_url = format!(
        "{}/login/{}/oauth2/v2.0/token",
        sandbox.url, tenant.tenant_id
    );
    for expected in [
        "a GitHub Actions OIDC token from ARM_OIDC_REQUEST_URL",
        &token_url,
        "HTTP 400",
        "AADSTS700213",
        other_branch,
    ] {
        assert!(out.contains(expected), "missing {expected:?}:\n{out}");
    }
    assert!(!out.contains(bearer));

    // A wrong request token: GitHub's answer, not Entra's.
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    ws.env("ARM_USE_OIDC", "true")
        .env("ARM_OIDC_REQUEST_URL", &request_url)
        .env("ARM_OIDC_REQUEST_TOKEN", "not-a-registered-token");
    ws.write_main(&provider(&sandbox, "", None));
    ws.init();
    let out = flat(&ws.fails(&["apply", "-auto-approve", "-no-color"]).output());
    let github_url = format!("{}/github/idtoken", sandbox.url);
    for expected in [
        "GitHub's OIDC token request URL",
        &github_url,
        "HTTP 401",
        "Bad credentials",
    ] {
        assert!(out.contains(expected), "missing {expected:?}:\n{out}");
    }

    // A token whose claims match but whose signature is not the issuer's.
    let genuine = mint(&sandbox, GITHUB_ISSUER, GITHUB_SUBJECT);
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let other = mint(&sandbox, GITHUB_ISSUER, other_branch);
    parts[2] = other.split('.').nth(2).unwrap();
    let mut ws = Workspace::new();
    identity_env(&mut ws, &tenant);
    ws.env("ARM_USE_OIDC", "true")
        .env("ARM_OIDC_TOKEN", &parts.join("."));
    ws.write_main(&provider(&sandbox, "", None));
    ws.init();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]).output();
    assert!(out.contains("AADSTS700027"), "{out}");
    assert!(sandbox.applications(&tenant).is_empty());
}

/// A TLS front (a company CA in `SSL_CERT_FILE`) forwarding `/login/…` to the sandbox and
/// answering 404 pages elsewhere, as a reverse proxy would.
struct TlsFront {
    _runtime: tokio::runtime::Runtime,
    url: String,
}

impl TlsFront {
    fn start(ca: &TestCa, backend: &str) -> TlsFront {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tcp = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = tcp.local_addr().unwrap();
        let listener = TlsListener {
            tcp,
            tls: tokio_rustls::TlsAcceptor::from(ca.server.clone()),
        };
        let app = Router::new()
            .fallback(forward)
            .with_state(Arc::new(backend.to_string()));
        runtime.spawn(async move { axum::serve(listener, app).await });
        TlsFront {
            _runtime: runtime,
            url: format!("https://127.0.0.1:{}", addr.port()),
        }
    }
}

async fn forward(State(backend): State<Arc<String>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if !path.starts_with("/login/") || request.method() != Method::POST {
        let page = "<html><body><h1>404 Not Found</h1></body></html>";
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            page,
        )
            .into_response();
    }
    let body: Bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{backend}{path}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap();
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn secret_arguments(tenant: &Tenant) -> String {
    format!(
        "  tenant_id     = \"{}\"\n  client_id     = \"{}\"\n  client_secret = \"{}\"",
        tenant.tenant_id, tenant.client_id, tenant.client_secret
    )
}

/// The reported bug: `https://host/login` was cut to its host and the 404 surfaced as
/// "ClientSecretCredential authentication failed." alone. The path is honoured now, and a
/// login endpoint that answers 404 says which URL answered what.
#[test]
fn login_endpoint_with_a_path_behind_a_tls_front() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let ca = TestCa::new();
    let front = TlsFront::start(&ca, &sandbox.url);
    let with_ca = || {
        let mut ws = Workspace::new();
        let ca_file = ws.dir.join("company-ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).unwrap();
        ws.env("SSL_CERT_FILE", ca_file.to_str().unwrap());
        ws
    };
    let ws = with_ca();
    let login = format!("{}/login", front.url);
    ws.write_main(&provider(
        &sandbox,
        &secret_arguments(&tenant),
        Some(&login),
    ));
    signs_in(&ws, &sandbox, &tenant);
    assert!(sandbox.count("login.token") >= 1);

    // Without the path (azure_identity's path), and with a wrong one (the hand-written
    // grant's): both name the URL, the status and what answered.
    for (login, asked) in [
        (
            front.url.clone(),
            format!("{}/{}/oauth2/v2.0/token", front.url, tenant.tenant_id),
        ),
        (
            format!("{}/wrong", front.url),
            format!("{}/wrong/{}/oauth2/v2.0/token", front.url, tenant.tenant_id),
        ),
    ] {
        let ws = with_ca();
        ws.write_main(&provider(
            &sandbox,
            &secret_arguments(&tenant),
            Some(&login),
        ));
        ws.init();
        let out = flat(&ws.fails(&["plan", "-no-color"]).output());
        for expected in [asked.as_str(), "HTTP 404", "not an Entra ID token endpoint"] {
            assert!(out.contains(expected), "missing {expected:?}:\n{out}");
        }
        assert!(!out.contains(&tenant.client_secret), "the secret leaked");
    }
}

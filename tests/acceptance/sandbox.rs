//! Starts a `kiro-sandbox` in-process per test (its own thread and runtime) and talks to its
//! control API with ureq, this test binary's one HTTP client. A failing test prints what the
//! sandbox saw.

use kiro_sandbox::{Options, RunningSandbox, start_in_background};
use serde_json::{Value, json};

pub struct Sandbox {
    running: RunningSandbox,
    pub url: String,
    /// The DNS stub (UDP and TCP), `127.0.0.1:<port>`.
    pub dns: std::net::SocketAddr,
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Sandbox {
    /// A fresh sandbox on a free loopback port. Its random choices (ids, injected faults)
    /// follow seed 7, or `KIRO_SANDBOX_SEED` to explore other sequences.
    pub fn start() -> Sandbox {
        let seed = std::env::var("KIRO_SANDBOX_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7);
        let running = start_in_background(Options {
            seed,
            ..Options::default()
        });
        let url = running.url.clone();
        let dns = running.dns_addr;
        Sandbox { running, url, dns }
    }

    fn control(&self, path: &str) -> String {
        format!("{}/_sandbox/{}", self.url, path)
    }

    /// One control API call; panics unless it answers 2xx. Returns the JSON body (or null).
    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call_any(method, path, body);
        assert!(status < 300, "{method} {path} answered {status}: {value}");
        value
    }

    /// One control API call, whatever it answers: the status and the JSON body (or null).
    pub(crate) fn call_any(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.control(path);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("DELETE", _) => agent.delete(&url).call(),
            ("POST", Some(b)) => agent.post(&url).send_json(b),
            ("PUT", Some(b)) => agent.put(&url).send_json(b),
            ("PATCH", Some(b)) => agent.patch(&url).send_json(b),
            (m, _) => panic!("unsupported control call {m}"),
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {url}: {e}: {text}"))
        };
        (status, value)
    }

    /// Arms the kill point (kiro-sandbox's `kill_point.rs`): the services freeze at the
    /// request `spec` names (`{operation, body_contains?, nth?, hold}`).
    pub fn set_kill_point(&self, spec: Value) {
        self.call("POST", "kill_point", Some(spec));
    }

    /// The request the services froze at (`{operation, method, path, hold, held}`), or
    /// `None` when they are not frozen within `timeout`.
    pub fn kill_point_frozen(&self, timeout: std::time::Duration) -> Option<Value> {
        let path = format!("kill_point/wait?timeout_ms={}", timeout.as_millis());
        match self.call_any("GET", &path, None) {
            (200, report) => Some(report),
            (408, _) => None,
            (status, body) => panic!("GET {path} answered {status}: {body}"),
        }
    }

    /// Unfreezes the services; the requests held so far end without being carried out.
    pub fn clear_kill_point(&self) {
        self.call("DELETE", "kill_point", None);
    }

    pub fn new_tenant(&self) -> Tenant {
        let t = self.call("POST", "tenants", Some(json!({})));
        Tenant {
            tenant_id: t["tenant_id"].as_str().unwrap().to_string(),
            client_id: t["client_id"].as_str().unwrap().to_string(),
            client_secret: t["client_secret"].as_str().unwrap().to_string(),
        }
    }

    pub fn set_faults(&self, faults: Value) -> Value {
        self.call("PUT", "faults", Some(faults))
    }

    /// Request counts per operation since the last reset.
    pub fn counts(&self) -> Value {
        self.call("GET", "counts", None)["counts"].clone()
    }

    pub fn reset_counts(&self) {
        self.call("DELETE", "counts", None);
    }

    /// Blocks until the requests whose operation name starts with `prefix` add up to
    /// `at_least` (since the last reset); panics after a minute. How a test acts while the
    /// provider is waiting for something, without guessing how long that takes.
    pub fn wait_for_requests(&self, prefix: &str, at_least: u64) -> u64 {
        let path = format!("counts/wait?prefix={prefix}&at_least={at_least}&timeout_ms=60000");
        self.call("GET", &path, None)["total"].as_u64().unwrap()
    }

    /// Sum of the counts whose operation name starts with `prefix`.
    pub fn count(&self, prefix: &str) -> u64 {
        self.counts()
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn objects(&self, tenant: &Tenant) -> Value {
        self.call(
            "GET",
            &format!("tenants/{}/objects", tenant.tenant_id),
            None,
        )
    }

    pub fn applications(&self, tenant: &Tenant) -> Vec<Value> {
        self.objects(tenant)["applications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn application(&self, tenant: &Tenant, object_id: &str) -> Value {
        self.applications(tenant)
            .into_iter()
            .find(|a| a["id"] == object_id)
            .unwrap_or_else(|| panic!("no application {object_id} in the sandbox"))
    }

    /// A change made "in the portal": no rules, no lag.
    pub fn drift_application(&self, tenant: &Tenant, object_id: &str, patch: Value) {
        self.call(
            "PATCH",
            &format!("tenants/{}/applications/{object_id}", tenant.tenant_id),
            Some(patch),
        );
    }

    /// A change made in the portal to the enterprise application (service principal).
    pub fn drift_service_principal(&self, tenant: &Tenant, sp_id: &str, patch: Value) -> Value {
        self.call(
            "PATCH",
            &format!("tenants/{}/service_principals/{sp_id}", tenant.tenant_id),
            Some(patch),
        )
    }

    pub fn delete_application_out_of_band(&self, tenant: &Tenant, object_id: &str) {
        self.call(
            "DELETE",
            &format!("tenants/{}/applications/{object_id}", tenant.tenant_id),
            None,
        );
    }

    /// Registers a federated (OIDC) token the tenant's login accepts as a
    /// client assertion for `client_id`; returns the token.
    pub fn federated_token(&self, tenant: &Tenant) -> String {
        use base64::Engine;
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(json!({"alg": "RS256", "typ": "JWT"})),
            b64(json!({
                "iss": "https://token.actions.githubusercontent.com",
                "sub": "repo:kiro/infra:ref:refs/heads/main",
                "aud": "api://AzureADTokenExchange",
            }))
        );
        self.call(
            "POST",
            &format!("tenants/{}/federated_tokens", tenant.tenant_id),
            Some(json!({"client_id": tenant.client_id, "token": token})),
        );
        token
    }

    /// Registers a certificate for the tenant's client: assertions whose `x5t` header is
    /// `thumbprint` (base64url SHA-1 of the certificate DER) are accepted.
    pub fn register_certificate(&self, tenant: &Tenant, thumbprint: &str) {
        self.call(
            "POST",
            &format!("tenants/{}/certificates", tenant.tenant_id),
            Some(json!({"client_id": tenant.client_id, "thumbprint": thumbprint})),
        );
    }

    /// Makes Graph accept an externally issued access token (e.g. the Azure CLI's) for the
    /// tenant.
    pub fn register_bearer_token(&self, tenant: &Tenant, token: &str) {
        self.call(
            "POST",
            &format!("tenants/{}/bearer_tokens", tenant.tenant_id),
            Some(json!({"token": token})),
        );
    }

    /// Asserts the tenant has no live applications, service principals or assignments.
    pub fn assert_empty(&self, tenant: &Tenant) {
        let objects = self.objects(tenant);
        for kind in ["applications", "service_principals", "assignments"] {
            let live = objects[kind].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(live, 0, "sandbox still has {kind}: {:#}", objects[kind]);
        }
    }

    /// The provider block for a tenant of this sandbox.
    pub fn provider_block(&self, tenant: &Tenant, alias: Option<&str>) -> String {
        let alias = alias
            .map(|a| format!("  alias = \"{a}\"\n"))
            .unwrap_or_default();
        format!(
            r#"provider "kiro" {{
{alias}  tenant_id     = "{}"
  client_id     = "{}"
  client_secret = "{}"
  endpoints {{
    graph = "{url}/graph"
    login = "{url}/login"
    kiro  = "{url}/kiro"
  }}
}}
"#,
            tenant.tenant_id,
            tenant.client_id,
            tenant.client_secret,
            url = self.url
        )
    }
}

impl Drop for Sandbox {
    /// The in-process sandbox stops when `running` drops; a failing test first shows its log.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- kiro-sandbox log ({}) ----\n{}---- end of kiro-sandbox log ----",
                self.url,
                self.running.log_text()
            );
        }
    }
}

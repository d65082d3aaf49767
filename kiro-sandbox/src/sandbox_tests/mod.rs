//! HTTP-level tests: each test starts its own sandbox on 127.0.0.1:0 (faults are global to
//! a sandbox) and talks to it with reqwest, the one HTTP client of these tests.

mod advanced_queries;
mod app_rules;
mod applications;
mod assignments;
mod control;
mod control_entra;
mod faults;
mod kill_point;
mod lag;
mod login;
mod paging;
mod people;
mod whole_lists;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::faults::{FaultSettings, FaultSettingsPatch};
use crate::state::{Sandbox, TenantInfo};

pub const TEMPLATE: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub struct Server {
    pub addr: String,
    http: reqwest::Client,
    pub sb: Arc<Sandbox>,
    pub tenant: TenantInfo,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

/// Starts a sandbox with one fresh tenant.
pub async fn start() -> Server {
    let sb = Arc::new(Sandbox::new(42, FaultSettings::default()));
    let tenant = sb.create_tenant().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = crate::app(sb.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        addr,
        http: reqwest::Client::new(),
        sb,
        tenant,
    }
}

impl Server {
    pub fn set_faults(&self, patch: FaultSettingsPatch) {
        self.sb.faults.update(&patch).unwrap();
    }

    /// Ends replication lag for every object of the server's tenant.
    pub async fn replicate_now(&self) {
        let tenant = self.sb.tenant(&self.tenant.tenant_id).await.unwrap();
        let mut tenant = tenant.lock().await;
        let dir = &mut tenant.directory;
        let now = std::time::Instant::now();
        let all = dir
            .applications
            .values_mut()
            .chain(dir.service_principals.values_mut());
        for stored in all {
            stored.visible_at = now;
        }
    }

    /// One request; `Err` when the connection closed without an answer.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Resp, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self
            .http
            .request(method, format!("http://{}{path}", self.addr))
            .body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.map_err(|e| format!("{e:?}"))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let bytes = resp.bytes().await.map_err(|e| format!("{e:?}"))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, &headers, body.as_bytes())
            .await
            .unwrap()
    }

    pub async fn login(&self, tenant: &str, form: &[(&str, &str)]) -> Resp {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let path = format!("/login/{tenant}/oauth2/v2.0/token");
        self.raw("POST", &path, &headers, body.as_bytes())
            .await
            .unwrap()
    }

    /// A Graph token for the server's tenant.
    pub async fn token(&self) -> String {
        let t = &self.tenant;
        let r = self
            .login(
                &t.tenant_id,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &t.client_id),
                    ("client_secret", &t.client_secret),
                    ("scope", GRAPH_SCOPE),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn graph(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.request(method, &format!("/graph/v1.0/{path}"), Some(token), body)
            .await
    }

    /// Instantiates the non-gallery template; returns (application, servicePrincipal).
    pub async fn instantiate(&self, token: &str, name: &str) -> (Value, Value) {
        let path = format!("applicationTemplates/{TEMPLATE}/instantiate");
        let r = self
            .graph(token, "POST", &path, Some(json!({"displayName": name})))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        (
            r.body["application"].clone(),
            r.body["servicePrincipal"].clone(),
        )
    }

    /// The default tenant's objects as the control API lists them (ignoring lag).
    pub async fn objects(&self) -> Value {
        let path = format!("tenants/{}/objects", self.tenant.tenant_id);
        self.control("GET", &path, None).await.body
    }

    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.request(method, &format!("/_sandbox/{path}"), None, body)
            .await
    }
}

//! HTTP-level tests of Kiro's admin API, its control routes and the DNS stub: each test starts
//! its own sandbox and signs its requests with `aws-sigv4`, as the provider does.

mod domains;
mod identities;
mod profiles;
mod provisioning;
mod signing;
mod tokens;

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::{Value, json};

use crate::sandbox_tests::{Resp, Server, start};

pub const REGION: &str = "us-east-1";
pub const CW: &str = "AWSCodeWhispererService";
pub const Q: &str = "AmazonQDeveloperService";

/// Credentials as the control API hands them out.
#[derive(Clone, Debug)]
pub struct Creds {
    pub account_id: String,
    pub access_key_id: String,
    pub secret: String,
    pub session_token: Option<String>,
}

/// How a test request is signed; [`Signing::good`] is what a correct client does.
#[derive(Clone)]
pub struct Signing {
    pub creds: Creds,
    pub region: String,
    /// `None`: the signing name that belongs to the target prefix.
    pub service: Option<String>,
    pub time: SystemTime,
}

impl Signing {
    pub fn good(creds: &Creds) -> Self {
        Self {
            creds: creds.clone(),
            region: REGION.to_string(),
            service: None,
            time: SystemTime::now(),
        }
    }
}

pub struct Kiro {
    pub s: Server,
    pub creds: Creds,
}

/// A sandbox (with its pending-domain tick) and one fresh AWS account.
pub async fn start_kiro() -> Kiro {
    let s = start().await;
    super::spawn_domain_tick(&s.sb);
    let creds = account(&s, false).await;
    Kiro { s, creds }
}

pub async fn account(s: &Server, session: bool) -> Creds {
    let r = s
        .control("POST", "aws/accounts", Some(json!({"session": session})))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    Creds {
        account_id: r.body["account_id"].as_str().unwrap().to_string(),
        access_key_id: r.body["access_key_id"].as_str().unwrap().to_string(),
        secret: r.body["secret_access_key"].as_str().unwrap().to_string(),
        session_token: r.body["session_token"].as_str().map(str::to_string),
    }
}

/// The signed headers of `POST /kiro/` for `target` and `body`.
pub fn signed_headers(
    addr: &str,
    target: &str,
    body: &[u8],
    how: &Signing,
) -> Vec<(String, String)> {
    let url = format!("http://{addr}/kiro/");
    let prefix = target.split('.').next().unwrap();
    let service = how
        .service
        .clone()
        .unwrap_or_else(|| if prefix == CW { "codewhisperer" } else { "q" }.to_string());
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
        ("x-amz-target".to_string(), target.to_string()),
    ];
    let identity = aws_credential_types::Credentials::new(
        &how.creds.access_key_id,
        &how.creds.secret,
        how.creds.session_token.clone(),
        None,
        "kiro-sandbox-tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&how.region)
        .name(&service)
        .time(how.time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (signature_headers, _) = instructions.into_parts();
    for h in signature_headers {
        headers.push((h.name().to_string(), h.value().to_string()));
    }
    headers
}

impl Kiro {
    /// Sends pre-built headers and body to `POST /kiro/`.
    pub async fn send(&self, headers: &[(String, String)], body: &[u8]) -> Resp {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.s.raw("POST", "/kiro/", &headers, body).await.unwrap()
    }

    pub async fn call_as(&self, how: &Signing, target: &str, body: Value) -> Resp {
        let body = body.to_string();
        let headers = signed_headers(&self.s.addr, target, body.as_bytes(), how);
        self.send(&headers, body.as_bytes()).await
    }

    /// A correctly signed call of `Prefix.Operation`.
    pub async fn call(&self, target: &str, body: Value) -> Resp {
        self.call_as(&Signing::good(&self.creds), target, body)
            .await
    }

    /// A call that must succeed; returns its body.
    pub async fn ok(&self, target: &str, body: Value) -> Value {
        let r = self.call(target, body).await;
        assert_eq!(r.status, 200, "{target}: {:?}", r.body);
        r.body
    }

    pub async fn create_profile(&self, name: &str) -> String {
        let body = self
            .ok(
                &format!("{CW}.CreateProfile"),
                json!({
                    "profileName": name,
                    "identitySource": {"externalIdentityProvider": {
                        "issuerUrl": "https://login.microsoftonline.com/tid/v2.0",
                        "clientId": "client-1",
                    }},
                    "clientToken": uuid::Uuid::new_v4().to_string(),
                }),
            )
            .await;
        body["profileArn"].as_str().unwrap().to_string()
    }

    pub async fn objects(&self) -> Value {
        let path = format!("kiro/{}/{REGION}/objects", self.creds.account_id);
        let r = self.s.control("GET", &path, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }
}

/// The error type of an AWS JSON answer, checking body and header agree.
pub fn error_type(r: &Resp) -> String {
    let body = r.body["__type"].as_str().unwrap_or("").to_string();
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some(body.as_str()),
        "{:?}",
        r.body
    );
    body
}

pub fn message(r: &Resp) -> &str {
    r.body["message"].as_str().unwrap_or("")
}

//! The client's SigV4 signing against the sandbox's verification (the
//! sandbox checks signatures for real): a request the client signs is
//! accepted, and the same request with one body byte changed on the way is
//! refused. A proxy between them passes requests through untouched, or
//! changes one byte.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_credential_types::Credentials;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AwsContext, KiroClient, KiroClientConfig, KiroError};

#[derive(Clone)]
struct Proxy {
    upstream: String,
    tamper: Arc<AtomicBool>,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, headers: HeaderMap, body: Bytes) -> Response {
    let mut body = body.to_vec();
    if p.tamper.load(Ordering::SeqCst) {
        // `{"maxResults":100}` becomes `{"maxResults":101}`: still valid JSON.
        let at = body
            .iter()
            .rposition(|b| *b == b'0')
            .expect("a digit to change");
        body[at] = b'1';
    }
    let mut req = p.http.post(&p.upstream).body(body);
    for (name, value) in &headers {
        if name != "content-length" {
            req = req.header(name, value);
        }
    }
    let resp = req.send().await.expect("the sandbox answers");
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let mut out = (status, bytes).into_response();
    for name in ["content-type", "x-amzn-errortype", "x-amzn-requestid"] {
        if let Some(v) = headers.get(name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

#[tokio::test]
async fn signed_requests_verify_in_the_sandbox_and_a_changed_byte_is_refused() {
    let sandbox = kiro_sandbox::start_in_background(kiro_sandbox::Options::default());
    let http = reqwest::Client::new();
    let account: Value = http
        .post(format!("{}/_sandbox/aws/accounts", sandbox.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = |k: &str| account[k].as_str().unwrap().to_string();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}/kiro/", listener.local_addr().unwrap());
    let tamper = Arc::new(AtomicBool::new(false));
    let proxy = Proxy {
        upstream: format!("{}/kiro/", sandbox.url),
        tamper: tamper.clone(),
        http: http.clone(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let creds = Credentials::new(
        key("access_key_id"),
        key("secret_access_key"),
        None,
        None,
        "test",
    );
    let aws = AwsContext::new(
        "us-east-1",
        Some(url::Url::parse(&proxy_url).unwrap()),
        creds,
        None,
    )
    .unwrap();
    let client = KiroClient::new(aws, KiroClientConfig::default());

    // Passed through untouched (the Host the client signed is kept): accepted.
    let profiles = client
        .list_profiles()
        .await
        .expect("a signed request verifies");
    assert!(profiles.is_empty());

    // One body byte changed on the way: refused as the signature does not match.
    tamper.store(true, Ordering::SeqCst);
    let err = client.list_profiles().await.unwrap_err();
    assert!(
        matches!(&err, KiroError::Service { error_type, status: 403, .. } if error_type == "InvalidSignatureException"),
        "{err}"
    );
}

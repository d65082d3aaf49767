//! The Graph client's retry behaviour end to end, against scripted local servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::testing::{client, serve};
use crate::graph::{GraphError, GraphRequest};

type Hits = Arc<AtomicU32>;

/// `/graph/v1.0/<scenario>`: fails per the scenario's script, counting hits.
async fn scripted(State(hits): State<Hits>, uri: Uri, headers: HeaderMap) -> Response {
    let n = hits.fetch_add(1, Ordering::SeqCst);
    assert_eq!(headers["authorization"], "Bearer test-token");
    assert_eq!(headers["user-agent"], "kiro-test");
    let throttled = || {
        let body = json!({"error": {"code": "TooManyRequests", "message": "slow down"}});
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            axum::Json(body),
        )
            .into_response()
    };
    let unavailable = || {
        let body =
            json!({"error": {"code": "serviceNotAvailable", "message": {"value": "try later"}}});
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("request-id", "rid-503")],
            axum::Json(body),
        )
            .into_response()
    };
    let ok = || axum::Json(json!({"id": "x"})).into_response();
    match (uri.path().rsplit('/').next().unwrap(), n) {
        ("throttle2", 0 | 1) => throttled(),
        ("unavailable1", 0) => unavailable(),
        ("throttle", _) => throttled(),
        ("unavailable", _) => unavailable(),
        _ => ok(),
    }
}

async fn setup() -> (crate::graph::GraphClient, Hits) {
    let hits = Hits::default();
    let h = hits.clone();
    let base = serve(move |_| axum::Router::new().fallback(scripted).with_state(h)).await;
    (client(&base), hits)
}

#[tokio::test]
async fn retries_429_with_retry_after_then_succeeds() {
    let (c, hits) = setup().await;
    let v: serde_json::Value = c.get("throttle2").await.unwrap();
    assert_eq!(
        (v["id"].as_str(), hits.load(Ordering::SeqCst)),
        (Some("x"), 3)
    );
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let (c, hits) = setup().await;
    c.patch("unavailable1", &json!({})).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn exhausted_retries_are_errors() {
    let (c, hits) = setup().await;
    let err = c.get::<serde_json::Value>("throttle").await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { attempts: 4, .. }),
        "{err}"
    );
    assert_eq!(hits.swap(0, Ordering::SeqCst), 4);
    let err = c.delete("unavailable").await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(503), Some("serviceNotAvailable"))
    );
    assert_eq!(
        (err.message(), err.request_id()),
        (Some("try later"), Some("rid-503"))
    );
    assert_eq!(hits.swap(0, Ordering::SeqCst), 4);
}

#[tokio::test]
async fn non_idempotent_post_retries_only_429() {
    let (c, hits) = setup().await;
    let err = c
        .post::<_, serde_json::Value>("unavailable1", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), hits.swap(0, Ordering::SeqCst)),
        (Some(503), 1)
    );
    c.post::<_, serde_json::Value>("throttle2", &json!({}))
        .await
        .unwrap();
    assert_eq!(hits.swap(0, Ordering::SeqCst), 3);
    let req = GraphRequest::post("unavailable1", json!({})).retry_safe(true);
    c.send(&req).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// A server that drops the first `drops` connections after reading the request.
async fn dropping_server(drops: u32) -> (String, Hits) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Hits::default();
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let n = h.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            if n >= drops {
                let body = r#"{"id":"ok"}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        }
    });
    (base, hits)
}

#[tokio::test]
async fn dropped_connections_retry_only_idempotent_requests() {
    let (base, hits) = dropping_server(1).await;
    let c = client(&base);
    let v: serde_json::Value = c.get("applications/1").await.unwrap();
    assert_eq!(
        (v["id"].as_str(), hits.load(Ordering::SeqCst)),
        (Some("ok"), 2)
    );

    let (base, hits) = dropping_server(1).await;
    let c = client(&base);
    let err = c.instantiate_template("t", "n").await.unwrap_err();
    assert!(matches!(err, GraphError::Transport(_)), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "instantiate must not be repeated"
    );
}

use serde_json::json;

use super::start;

#[tokio::test]
async fn tenants_faults_counts_and_health() {
    let s = start().await;
    let r = s.control("GET", "health", None).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"ok": true})));

    let r = s.control("POST", "tenants", Some(json!({}))).await;
    assert_eq!(r.status, 201);
    for k in ["tenant_id", "client_id", "client_secret", "domain"] {
        assert!(r.body[k].is_string(), "{k}");
    }
    assert_ne!(
        r.body["tenant_id"].as_str(),
        Some(s.tenant.tenant_id.as_str())
    );
    let objects = s
        .control(
            "GET",
            &format!("tenants/{}/objects", r.body["tenant_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(objects.body["users"].as_array().unwrap().len(), 5);
    assert_eq!(
        objects.body["groups"][0]["members"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = s
        .control("PUT", "faults", Some(json!({"drop_rate": 2.0})))
        .await;
    assert_eq!(r.status, 400);
    let r = s.control("PUT", "faults", Some(json!({"bogus": 1}))).await;
    assert_eq!(r.status, 400);
    let r = s
        .control("PUT", "faults", Some(json!({"latency_ms": 1})))
        .await;
    assert_eq!(r.body["graph"]["latency_ms"], 1);
    assert_eq!(r.body["login"]["latency_ms"], 1);
    assert_eq!(s.control("GET", "faults", None).await.body, r.body);

    let tok = s.token().await;
    s.graph(&tok, "GET", "applications", None).await;
    let counts = s.control("GET", "counts", None).await.body;
    assert_eq!(counts["counts"]["graph.applications.list"], 1);
    assert_eq!(s.control("DELETE", "counts", None).await.status, 204);
    assert_eq!(
        s.control("GET", "counts", None).await.body,
        json!({"counts": {}})
    );
    assert_eq!(
        s.control("GET", "tenants/nope/objects", None).await.status,
        404
    );
}

#[tokio::test]
async fn registered_bearer_tokens_are_accepted_by_graph_for_their_tenant() {
    let s = start().await;
    let t = &s.tenant;
    let token = "eyJ0eXAiOiJKV1QifQ.from-az-cli.c2ln";
    let list = || s.graph(token, "GET", "applications", None);
    assert_eq!(list().await.status, 401, "unknown before registration");
    let path = format!("tenants/{}/bearer_tokens", t.domain);
    let r = s
        .control("POST", &path, Some(json!({"token": token})))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(list().await.status, 200);
    let (app, _) = s.instantiate(token, "Via CLI").await;
    let objects = s
        .control("GET", &format!("tenants/{}/objects", t.tenant_id), None)
        .await;
    assert_eq!(objects.body["applications"][0]["id"], app["id"]);

    for (path, body, status) in [
        ("tenants/nope/bearer_tokens", json!({"token": "x"}), 404),
        (path.as_str(), json!({"token": " "}), 400),
        (path.as_str(), json!({"token": "a b"}), 400),
        (path.as_str(), json!({"token": "x", "client_id": "c"}), 400),
        (path.as_str(), json!({}), 400),
    ] {
        let r = s.control("POST", path, Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
    }
}

#[tokio::test]
async fn drift_and_out_of_band_delete() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Drift").await;
    let id = app["id"].as_str().unwrap();
    let tid = &s.tenant.tenant_id;
    // No rule checks: even an invalid value is stored, like a portal change the client must notice.
    let r = s
        .control(
            "PATCH",
            &format!("tenants/{tid}/applications/{id}"),
            Some(json!({"displayName":"Renamed","api":{"requestedAccessTokenVersion":1}})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["displayName"], "Renamed");
    assert_eq!(
        r.body["api"]["oauth2PermissionScopes"],
        app["api"]["oauth2PermissionScopes"]
    );
    let got = s
        .graph(&tok, "GET", &format!("applications/{id}"), None)
        .await;
    assert_eq!(got.body["api"]["requestedAccessTokenVersion"], 1);

    assert_eq!(
        s.control("DELETE", &format!("tenants/{tid}/applications/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        s.graph(&tok, "GET", &format!("applications/{id}"), None)
            .await
            .status,
        404
    );
    let objects = s
        .control("GET", &format!("tenants/{tid}/objects"), None)
        .await
        .body;
    assert_eq!(objects["service_principals"], json!([]));
    assert_eq!(objects["deleted_items"][0]["id"], app["id"]);
    assert_eq!(
        s.control("DELETE", &format!("tenants/{tid}/applications/{id}"), None)
            .await
            .status,
        404
    );
}

/// A waiter answers as soon as the request it waits for arrives, and 408 when it never does.
#[tokio::test]
async fn waiting_for_a_request_answers_when_it_arrives() {
    let s = start().await;
    let tok = s.token().await;
    let waiting = s.control(
        "GET",
        "counts/wait?prefix=graph.applications&at_least=2&timeout_ms=30000",
        None,
    );
    let requests = async {
        s.graph(&tok, "GET", "applications", None).await;
        s.graph(&tok, "GET", "applications", None).await;
    };
    let (answer, ()) = tokio::join!(waiting, requests);
    assert_eq!((answer.status, answer.body), (200, json!({"total": 2})));

    let never = s
        .control(
            "GET",
            "counts/wait?prefix=kiro.CreateProfile&at_least=1&timeout_ms=50",
            None,
        )
        .await;
    assert_eq!(never.status, 408);
    assert_eq!(never.body["total"], 0);
    assert!(
        never.body["error"]
            .as_str()
            .unwrap()
            .contains("kiro.CreateProfile")
    );
}

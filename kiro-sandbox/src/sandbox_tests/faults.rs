use serde_json::json;

use super::{GRAPH_SCOPE, TEMPLATE, start};
use crate::faults::{FaultSettingsPatch, ServiceFaultsPatch};

#[tokio::test]
async fn throttling_answers_429_with_retry_after_and_has_no_side_effect() {
    let s = start().await;
    let tok = s.token().await;
    let r = s
        .control(
            "PUT",
            "faults",
            Some(json!({"throttle_rate": 1.0, "retry_after_secs": 7})),
        )
        .await;
    for service in ["login", "graph", "kiro"] {
        assert_eq!(
            r.body[service]["throttle_rate"], 1.0,
            "flat fields: every service"
        );
        assert_eq!(
            r.body[service]["latency_ms"], 0,
            "omitted fields keep their value"
        );
    }
    let path = format!("applicationTemplates/{TEMPLATE}/instantiate");
    let r = s
        .graph(&tok, "POST", &path, Some(json!({"displayName":"Nope"})))
        .await;
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    assert_eq!(r.header("retry-after"), Some("7"));
    assert!(r.header("request-id").is_some());
    let objects = s.objects().await;
    assert_eq!(objects["applications"], json!([]));
    assert_eq!(objects["service_principals"], json!([]));

    // Login is throttled too, with an AADSTS body.
    let t = &s.tenant;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", t.client_id.as_str()),
        ("client_secret", t.client_secret.as_str()),
        ("scope", GRAPH_SCOPE),
    ];
    let r = s.login(&t.tenant_id, &form).await;
    assert_eq!(r.status, 429);
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS")
    );
    assert_eq!(r.header("retry-after"), Some("7"));

    let counts = s.control("GET", "counts", None).await.body["counts"].clone();
    assert_eq!(counts["faults.throttled"], 2);
    assert_eq!(counts["graph.applicationTemplates.instantiate"], 1);
    assert_eq!(counts["login.token"], 2);
    assert!(
        counts.get("graph.applications.list").is_none(),
        "the control API is not counted"
    );
}

#[tokio::test]
async fn transient_5xx_and_dropped_connections() {
    let s = start().await;
    let tok = s.token().await;
    s.set_faults(FaultSettingsPatch {
        error_5xx_rate: Some(1.0),
        ..Default::default()
    });
    let a = s.graph(&tok, "GET", "applications", None).await;
    let b = s.graph(&tok, "GET", "applications", None).await;
    assert_eq!((a.status, a.code()), (503, "serviceNotAvailable"));
    assert_eq!((b.status, b.code()), (504, "GatewayTimeout"));

    s.set_faults(FaultSettingsPatch {
        error_5xx_rate: Some(0.0),
        drop_rate: Some(1.0),
        ..Default::default()
    });
    let path = format!("/graph/v1.0/applicationTemplates/{TEMPLATE}/instantiate");
    let auth = format!("Bearer {tok}");
    let r = s
        .raw(
            "POST",
            &path,
            &[("Authorization", &auth)],
            br#"{"displayName":"x"}"#,
        )
        .await;
    assert!(r.is_err(), "connection must close without an answer: {r:?}");
    let objects = s.objects().await;
    assert_eq!(objects["applications"], json!([]));
    assert_eq!(
        s.control("GET", "health", None).await.status,
        200,
        "control API never faulted"
    );

    let counts = s.control("GET", "counts", None).await.body["counts"].clone();
    assert_eq!(counts["faults.5xx"], 2);
    assert_eq!(counts["faults.dropped"], 1);
}

#[tokio::test]
async fn a_write_can_be_carried_out_and_its_answer_lost() {
    let s = start().await;
    let tok = s.token().await;
    s.set_faults(FaultSettingsPatch {
        lost_answer_rate: Some(1.0),
        ..Default::default()
    });
    let before = s.graph(&tok, "GET", "applications", None).await;
    assert_eq!(before.status, 200, "reads keep their answers");
    let path = format!("/graph/v1.0/applicationTemplates/{TEMPLATE}/instantiate");
    let auth = format!("Bearer {tok}");
    let r = s
        .raw(
            "POST",
            &path,
            &[("Authorization", &auth)],
            br#"{"displayName":"Lost"}"#,
        )
        .await;
    assert!(r.is_err(), "no answer: {r:?}");
    let objects = s.objects().await;
    assert_eq!(
        objects["applications"].as_array().unwrap().len(),
        1,
        "but it was carried out"
    );
    let counts = s.control("GET", "counts", None).await.body["counts"].clone();
    assert_eq!(counts["faults.answer_lost"], 1);
}

#[tokio::test]
async fn instantiate_can_answer_404_although_it_created_the_objects() {
    let s = start().await;
    let tok = s.token().await;
    s.set_faults(FaultSettingsPatch {
        instantiate_false_404_rate: Some(1.0),
        ..Default::default()
    });
    let path = format!("applicationTemplates/{TEMPLATE}/instantiate");
    let r = s
        .graph(&tok, "POST", &path, Some(json!({"displayName":"Ghost"})))
        .await;
    assert_eq!(r.status, 404);
    let r = s
        .graph(
            &tok,
            "GET",
            "applications?$filter=displayName%20eq%20'Ghost'",
            None,
        )
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn latency_delays_requests() {
    let s = start().await;
    let tok = s.token().await;
    s.set_faults(FaultSettingsPatch {
        latency_ms: Some(60),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(s.graph(&tok, "GET", "applications", None).await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(60));
}

#[tokio::test]
async fn per_service_overrides_fault_one_service_only() {
    let s = start().await;
    let r = s
        .control(
            "PUT",
            "faults",
            Some(json!({"graph": {"throttle_rate": 1.0, "retry_after_secs": 3}, "replication_lag_ms": 5})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["graph"]["throttle_rate"], 1.0);
    assert_eq!(r.body["login"]["throttle_rate"], 0.0);
    assert_eq!(r.body["kiro"]["throttle_rate"], 0.0);
    assert_eq!(r.body["replication_lag_ms"], 5);
    assert_eq!(s.control("GET", "faults", None).await.body, r.body);

    // Login still works while Graph is throttled.
    let tok = s.token().await;
    let r = s.graph(&tok, "GET", "applications", None).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));

    let bad = s
        .control(
            "PUT",
            "faults",
            Some(json!({"graph": {"replication_lag_ms": 1}})),
        )
        .await;
    assert_eq!(bad.status, 400, "lag is global, not per service");
    let bad = s
        .control("PUT", "faults", Some(json!({"graph": {"drop_rate": 3.0}})))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body["error"]
            .as_str()
            .unwrap()
            .starts_with("graph.drop_rate")
    );

    // Per-service overrides through the patch type, as tests and the CLI build them.
    s.set_faults(FaultSettingsPatch {
        graph: Some(ServiceFaultsPatch {
            throttle_rate: Some(0.0),
            ..Default::default()
        }),
        login: Some(ServiceFaultsPatch {
            error_5xx_rate: Some(1.0),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(s.graph(&tok, "GET", "applications", None).await.status, 200);
    let t = &s.tenant;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", t.client_id.as_str()),
        ("client_secret", t.client_secret.as_str()),
        ("scope", GRAPH_SCOPE),
    ];
    assert_eq!(s.login(&t.tenant_id, &form).await.status, 503);
    let counts = s.control("GET", "counts", None).await.body["counts"].clone();
    assert_eq!(counts["faults.throttled"], 1);
    assert_eq!(counts["faults.5xx"], 1);
    assert_eq!(counts["graph.applications.list"], 2);
    assert_eq!(counts["login.token"], 2);
}

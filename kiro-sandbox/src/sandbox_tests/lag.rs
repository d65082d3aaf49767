//! Replication lag on changes: a PATCH is applied and validated at once against the newest
//! version, but other reads see the previous version until the lag has passed or the control
//! API flushes replication.

use std::time::Duration;

use serde_json::json;

use super::start;
use crate::faults::FaultSettingsPatch;

const LONG_LAG: u64 = 60_000;

#[tokio::test]
async fn reads_see_the_previous_version_until_the_change_replicates() {
    let s = start().await;
    let tok = s.token().await;
    let (app, sp) = s.instantiate(&tok, "Before").await;
    let id = app["id"].as_str().unwrap();
    let path = format!("applications/{id}");
    let sp_path = format!("servicePrincipals/{}", sp["id"].as_str().unwrap());
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(LONG_LAG),
        ..Default::default()
    });

    let r = s
        .graph(&tok, "PATCH", &path, Some(json!({"displayName": "After"})))
        .await;
    assert_eq!(r.status, 204);
    let got = s.graph(&tok, "GET", &path, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body["displayName"], "Before",
        "the writer's own read lags too"
    );
    let listed = s
        .graph(
            &tok,
            "GET",
            "applications?$filter=displayName%20eq%20'After'",
            None,
        )
        .await;
    assert_eq!(
        listed.body["value"],
        json!([]),
        "lists filter the replicated version"
    );
    assert_eq!(
        s.graph(&tok, "GET", &sp_path, None).await.body["displayName"],
        "Before",
        "the service principal's copy lags with the application"
    );
    assert_eq!(
        s.objects().await["applications"][0]["displayName"],
        "After",
        "the control API shows the newest version"
    );

    // The next PATCH is checked against the newest version, not what reads show: the
    // default scope is disabled (pending) and can therefore be removed right away.
    let mut disabled = app["api"]["oauth2PermissionScopes"][0].clone();
    disabled["isEnabled"] = json!(false);
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api": {"oauth2PermissionScopes": [disabled]}})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.graph(&tok, "GET", &path, None).await.body["api"]["oauth2PermissionScopes"][0]["isEnabled"],
        true
    );
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api": {"oauth2PermissionScopes": []}})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    let r = s.control("POST", "replication/flush", None).await;
    assert_eq!((r.status, r.body.clone()), (204, serde_json::Value::Null));
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["displayName"], "After");
    assert_eq!(got["api"]["oauth2PermissionScopes"], json!([]));
    assert_eq!(
        s.graph(&tok, "GET", &sp_path, None).await.body["displayName"],
        "After"
    );
}

#[tokio::test]
async fn a_change_replicates_by_itself_once_the_lag_has_passed() {
    let s = start().await;
    let tok = s.token().await;
    let (app, sp) = s.instantiate(&tok, "Slow").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let sp_path = format!("servicePrincipals/{}", sp["id"].as_str().unwrap());
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(150),
        ..Default::default()
    });
    let r = s
        .graph(&tok, "PATCH", &path, Some(json!({"displayName": "Second"})))
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .graph(&tok, "PATCH", &sp_path, Some(json!({"notes": "sp note"})))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.graph(&tok, "GET", &path, None).await.body["displayName"],
        "Slow"
    );
    assert_eq!(
        s.graph(&tok, "GET", &sp_path, None).await.body["notes"],
        json!(null)
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        s.graph(&tok, "GET", &path, None).await.body["displayName"],
        "Second"
    );
    assert_eq!(
        s.graph(&tok, "GET", &sp_path, None).await.body["notes"],
        "sp note"
    );
}

#[tokio::test]
async fn drift_is_visible_at_once_even_with_lag() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Portal").await;
    let id = app["id"].as_str().unwrap();
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(LONG_LAG),
        ..Default::default()
    });
    let path = format!("applications/{id}");
    s.graph(
        &tok,
        "PATCH",
        &path,
        Some(json!({"displayName": "Pending"})),
    )
    .await;
    let r = s
        .control(
            "PATCH",
            &format!("tenants/{}/applications/{id}", s.tenant.tenant_id),
            Some(json!({"notes": "edited in the portal"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["notes"], "edited in the portal");
    assert_eq!(
        got["displayName"], "Pending",
        "the drift is a merge into the newest version"
    );
}

#[tokio::test]
async fn flush_makes_new_applications_and_users_visible() {
    let s = start().await;
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(LONG_LAG),
        ..Default::default()
    });
    let tok = s.token().await;
    let (app, sp) = s.instantiate(&tok, "Hidden").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let sp_path = format!("servicePrincipals/{}", sp["id"].as_str().unwrap());
    assert_eq!(s.graph(&tok, "GET", &path, None).await.status, 404);
    let user = s
        .control(
            "POST",
            &format!("tenants/{}/users", s.tenant.tenant_id),
            Some(json!({"displayName": "Late Comer"})),
        )
        .await
        .body;
    let user_path = format!("users/{}", user["id"].as_str().unwrap());
    assert_eq!(s.graph(&tok, "GET", &user_path, None).await.status, 404);

    assert_eq!(
        s.control("POST", "replication/flush", None).await.status,
        204
    );
    assert_eq!(s.graph(&tok, "GET", &path, None).await.status, 200);
    assert_eq!(s.graph(&tok, "GET", &sp_path, None).await.status, 200);
    assert_eq!(s.graph(&tok, "GET", &user_path, None).await.status, 200);
}

//! The control API's people, assignment and settings routes.

use serde_json::json;

use super::start;
use crate::faults::FaultSettingsPatch;

const USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";

#[tokio::test]
async fn users_and_groups_are_created_and_deleted_out_of_band() {
    let s = start().await;
    let tid = s.tenant.tenant_id.clone();
    let domain = s.tenant.domain.clone();
    let users = format!("tenants/{tid}/users");
    let r = s
        .control("POST", &users, Some(json!({"displayName": "Frank Ocean"})))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let frank = r.body.clone();
    assert_eq!(
        frank["userPrincipalName"],
        format!("frank.ocean@{domain}").as_str()
    );
    assert_eq!(frank["displayName"], "Frank Ocean");
    assert_eq!(frank["accountEnabled"], true);
    assert!(frank.get("department").is_none(), "{frank}");
    let r = s
        .control(
            "POST",
            &users,
            Some(json!({"displayName": "Gina Park", "department": "Finance"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["department"], "Finance");
    let gina = s.objects().await["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == r.body["id"])
        .cloned()
        .unwrap();
    assert_eq!(gina["department"], "Finance", "stored: {gina}");
    let again = s
        .control("POST", &users, Some(json!({"displayName": "Frank Ocean"})))
        .await;
    assert_eq!(
        again.body["userPrincipalName"],
        format!("frank.ocean2@{domain}").as_str()
    );
    for (path, body, status) in [
        (users.clone(), json!({"displayName": "  "}), 400),
        (users.clone(), json!({}), 400),
        (users.clone(), json!({"displayName": "x", "mail": "y"}), 400),
        (
            "tenants/nope/users".to_string(),
            json!({"displayName": "x"}),
            404,
        ),
    ] {
        let r = s.control("POST", &path, Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        assert!(r.body["error"].is_string());
    }

    let groups = format!("tenants/{tid}/groups");
    let r = s
        .control(
            "POST",
            &groups,
            Some(json!({"displayName": "Kiro Pilot", "members": [frank["id"], frank["id"]], "member_count": 3})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let pilot = r.body.clone();
    let members = pilot["members"].as_array().unwrap();
    assert_eq!(members.len(), 4, "frank once, then three new users");
    assert_eq!(members[0], frank["id"]);
    let objects = s.objects().await;
    let upns: Vec<&str> = objects["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| members.contains(&u["id"]))
        .map(|u| u["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(upns.len(), 4);
    assert!(
        upns.contains(&format!("kiro.pilot.member.2@{domain}").as_str()),
        "{upns:?}"
    );
    let listed = objects["groups"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(listed, pilot);

    let nested = s
        .control(
            "POST",
            &groups,
            Some(json!({"displayName": "Outer", "members": [pilot["id"]]})),
        )
        .await;
    assert_eq!(nested.body["members"], json!([pilot["id"]]));
    for bad in [
        json!({"displayName": "X", "members": ["0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b"]}),
        json!({"displayName": "X", "member_count": 10_001}),
        json!({"displayName": ""}),
    ] {
        let r = s.control("POST", &groups, Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}");
    }

    let frank_path = format!("{users}/{}", frank["id"].as_str().unwrap());
    assert_eq!(s.control("DELETE", &frank_path, None).await.status, 204);
    assert_eq!(s.control("DELETE", &frank_path, None).await.status, 404);
    let pilot_path = format!("{groups}/{}", pilot["id"].as_str().unwrap());
    assert_eq!(s.control("DELETE", &pilot_path, None).await.status, 204);
    assert_eq!(s.control("DELETE", &pilot_path, None).await.status, 404);
    let objects = s.objects().await;
    assert!(
        objects["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["id"] != frank["id"])
    );
    let outer = objects["groups"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (outer["displayName"].clone(), outer["members"].clone()),
        (json!("Outer"), json!([]))
    );
}

#[tokio::test]
async fn portal_assignments_are_visible_at_once_and_removable() {
    let s = start().await;
    let tok = s.token().await;
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let sp_id = sp["id"].as_str().unwrap();
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(60_000),
        ..Default::default()
    });
    let tid = s.tenant.tenant_id.clone();
    let user = s
        .control(
            "POST",
            &format!("tenants/{tid}/users"),
            Some(json!({"displayName": "Portal User"})),
        )
        .await
        .body;
    let path = format!("tenants/{tid}/assignments");
    let body = json!({"principalId": user["id"], "resourceId": sp_id, "appRoleId": USER_ROLE});
    let r = s.control("POST", &path, Some(body.clone())).await;
    assert_eq!(
        r.status, 201,
        "the portal sees the user at once: {:?}",
        r.body
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["principalType"], "User");
    let listed = s
        .graph(
            &tok,
            "GET",
            &format!("servicePrincipals/{sp_id}/appRoleAssignedTo"),
            None,
        )
        .await
        .body;
    assert_eq!(listed["value"][0]["id"], id.as_str(), "visible at once");
    assert_eq!(s.objects().await["assignments"][0]["id"], id.as_str());

    let r = s.control("POST", &path, Some(body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"],
        "Permission being assigned already exists on the object."
    );
    let r = s
        .control(
            "POST",
            &path,
            Some(json!({"principalId": user["id"], "resourceId": "0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b", "appRoleId": USER_ROLE})),
        )
        .await;
    assert_eq!(r.status, 404);

    let one = format!("{path}/{id}");
    assert_eq!(s.control("DELETE", &one, None).await.status, 204);
    assert_eq!(s.control("DELETE", &one, None).await.status, 404);
    assert_eq!(s.objects().await["assignments"], json!([]));
    let r = s.control("POST", "replication/flush", None).await;
    assert_eq!(r.status, 204);
}

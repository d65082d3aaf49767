//! `/servicePrincipals/{id}/appRoleAssignedTo`: Graph's rules, shapes, paging, lag and the
//! removal of assignments with their principal or service principal.

use serde_json::{Value, json};

use super::people::all_pages;
use super::{Resp, Server, start};
use crate::faults::FaultSettingsPatch;
use crate::graph::assignments::DEFAULT_ACCESS_ROLE;

const USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
const MSIAM_ROLE: &str = "b9632174-c057-4f7e-951b-be3adc52bfe6";
const NEVER: &str = "0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

async fn seeded(s: &Server, kind: &str, name: &str) -> Value {
    let objects = s.objects().await;
    let key = if kind == "users" {
        "givenName"
    } else {
        "displayName"
    };
    objects[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o[key] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no seeded {kind} {name}"))
}

async fn assign(s: &Server, tok: &str, sp: &str, principal: &str, role: &str) -> Resp {
    s.graph(
        tok,
        "POST",
        &format!("servicePrincipals/{sp}/appRoleAssignedTo"),
        Some(json!({"principalId": principal, "resourceId": sp, "appRoleId": role})),
    )
    .await
}

#[tokio::test]
async fn assigning_users_and_groups_follows_graphs_rules() {
    let s = start().await;
    let tok = s.token().await;
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let sp_id = sp["id"].as_str().unwrap();
    let alice = seeded(&s, "users", "Alice").await;
    let alice_id = alice["id"].as_str().unwrap();
    let devs = seeded(&s, "groups", "Kiro Developers").await;
    let devs_id = devs["id"].as_str().unwrap();

    let r = assign(&s, &tok, sp_id, alice_id, USER_ROLE).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let a = &r.body;
    let id = a["id"].as_str().unwrap();
    assert_eq!(id.len(), 43);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(a["appRoleId"], USER_ROLE);
    assert_eq!(a["principalId"], alice_id);
    assert_eq!(a["principalType"], "User");
    assert_eq!(a["principalDisplayName"], alice["displayName"]);
    assert_eq!(a["resourceId"], sp_id);
    assert_eq!(a["resourceDisplayName"], "Kiro");
    assert!(a["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        a["@odata.context"]
            .as_str()
            .unwrap()
            .contains("appRoleAssignedTo")
    );

    let r = assign(&s, &tok, sp_id, alice_id, USER_ROLE).await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert_eq!(
        r.message(),
        "Permission being assigned already exists on the object."
    );
    let r = assign(&s, &tok, sp_id, alice_id, MSIAM_ROLE).await;
    assert_eq!(r.status, 201, "another role for the same user");
    let r = assign(&s, &tok, sp_id, devs_id, DEFAULT_ACCESS_ROLE).await;
    assert_eq!(r.status, 201, "default access: {:?}", r.body);
    assert_eq!(r.body["principalType"], "Group");
    assert_eq!(r.body["principalDisplayName"], "Kiro Developers");

    let r = assign(&s, &tok, sp_id, devs_id, NEVER).await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert_eq!(
        r.message(),
        "Permission being assigned was not found on application."
    );
    let r = assign(&s, &tok, sp_id, NEVER, USER_ROLE).await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    assert!(r.message().contains(NEVER));
    let r = s
        .graph(
            &tok,
            "POST",
            &format!("servicePrincipals/{sp_id}/appRoleAssignedTo"),
            Some(json!({"principalId": alice_id, "resourceId": NEVER, "appRoleId": USER_ROLE})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["details"][0]["target"], "resourceId");
    let r = assign(&s, &tok, NEVER, alice_id, USER_ROLE).await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    let r = s
        .graph(
            &tok,
            "POST",
            &format!("servicePrincipals/{sp_id}/appRoleAssignedTo"),
            Some(json!({"principalId": "nope", "resourceId": sp_id, "appRoleId": USER_ROLE})),
        )
        .await;
    assert_eq!(r.status, 400);

    // A disabled role is no longer offered for assignment.
    let app_path = format!("applications(appId='{}')", sp["appId"].as_str().unwrap());
    let app = s.graph(&tok, "GET", &app_path, None).await.body;
    let mut roles = app["appRoles"].clone();
    roles[1]["isEnabled"] = json!(false);
    let r = s
        .graph(&tok, "PATCH", &app_path, Some(json!({"appRoles": roles})))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let bob = seeded(&s, "users", "Bob").await;
    let r = assign(&s, &tok, sp_id, bob["id"].as_str().unwrap(), MSIAM_ROLE).await;
    assert_eq!(
        r.message(),
        "Permission being assigned was not found on application."
    );
}

#[tokio::test]
async fn list_get_and_delete_assignments() {
    let s = start().await;
    let tok = s.token().await;
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let (_, other) = s.instantiate(&tok, "Other").await;
    let sp_id = sp["id"].as_str().unwrap();
    let users = s.objects().await["users"].clone();
    let mut ids = Vec::new();
    for u in users.as_array().unwrap() {
        for role in [USER_ROLE, MSIAM_ROLE] {
            let r = assign(&s, &tok, sp_id, u["id"].as_str().unwrap(), role).await;
            assert_eq!(r.status, 201);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
    }
    let other_id = other["id"].as_str().unwrap();
    let alice = users[0]["id"].as_str().unwrap();
    assert_eq!(
        assign(&s, &tok, other_id, alice, USER_ROLE).await.status,
        201
    );

    let base = format!("servicePrincipals/{sp_id}/appRoleAssignedTo");
    let (listed, pages) = all_pages(&s, &tok, &base).await;
    assert_eq!(pages, 2, "10 assignments in pages of 5");
    let listed_ids: Vec<&str> = listed.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        listed_ids, ids,
        "only this service principal's, in creation order"
    );
    let (mine, _) = all_pages(
        &s,
        &tok,
        &format!("{base}?$filter=principalId%20eq%20'{alice}'"),
    )
    .await;
    assert_eq!(mine.len(), 2);

    let r = s
        .graph(&tok, "GET", &format!("{base}/{}", ids[3]), None)
        .await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (200, Some(ids[3].as_str()))
    );
    let r = s
        .graph(
            &tok,
            "GET",
            &format!("servicePrincipals/{other_id}/appRoleAssignedTo/{}", ids[3]),
            None,
        )
        .await;
    assert_eq!(
        r.status, 404,
        "an assignment is found only under its own resource"
    );
    let r = s
        .graph(&tok, "DELETE", &format!("{base}/{}", ids[3]), None)
        .await;
    assert_eq!((r.status, r.body.clone()), (204, Value::Null));
    for method in ["GET", "DELETE"] {
        let r = s
            .graph(&tok, method, &format!("{base}/{}", ids[3]), None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (404, "Request_ResourceNotFound"),
            "{method}"
        );
    }
    let (listed, _) = all_pages(&s, &tok, &base).await;
    assert_eq!(listed.len(), 9);
}

#[tokio::test]
async fn lag_hides_new_principals_service_principals_and_assignments() {
    let s = start().await;
    let tok = s.token().await;
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let sp_id = sp["id"].as_str().unwrap().to_string();
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(60_000),
        ..Default::default()
    });
    let tid = s.tenant.tenant_id.clone();
    let user = s
        .control(
            "POST",
            &format!("tenants/{tid}/users"),
            Some(json!({"displayName": "New Hire"})),
        )
        .await
        .body;
    let user_id = user["id"].as_str().unwrap();
    let r = assign(&s, &tok, &sp_id, user_id, USER_ROLE).await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert_eq!(r.message(), "Not a valid reference update.");

    let (_, fresh) = s.instantiate(&tok, "Fresh").await;
    let fresh_id = fresh["id"].as_str().unwrap();
    let alice = seeded(&s, "users", "Alice").await;
    let alice_id = alice["id"].as_str().unwrap();
    let r = assign(&s, &tok, fresh_id, alice_id, USER_ROLE).await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));

    let r = assign(&s, &tok, &sp_id, alice_id, USER_ROLE).await;
    assert_eq!(r.status, 201);
    let aid = r.body["id"].as_str().unwrap().to_string();
    let base = format!("servicePrincipals/{sp_id}/appRoleAssignedTo");
    let listed = s.graph(&tok, "GET", &base, None).await.body;
    assert_eq!(
        listed["value"],
        json!([]),
        "the new assignment has not replicated"
    );
    assert_eq!(
        s.graph(&tok, "GET", &format!("{base}/{aid}"), None)
            .await
            .status,
        404
    );
    let r = assign(&s, &tok, &sp_id, alice_id, USER_ROLE).await;
    assert_eq!(
        r.message(),
        "Permission being assigned already exists on the object.",
        "the writer's duplicate check sees the pending assignment"
    );

    assert_eq!(
        s.control("POST", "replication/flush", None).await.status,
        204
    );
    let listed = s.graph(&tok, "GET", &base, None).await.body;
    assert_eq!(listed["value"][0]["id"], aid.as_str());
    assert_eq!(
        assign(&s, &tok, &sp_id, user_id, USER_ROLE).await.status,
        201
    );
    assert_eq!(
        assign(&s, &tok, fresh_id, alice_id, USER_ROLE).await.status,
        201
    );
}

#[tokio::test]
async fn deleting_a_principal_or_service_principal_removes_its_assignments() {
    let s = start().await;
    let tok = s.token().await;
    let tid = s.tenant.tenant_id.clone();
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let (app2, sp2) = s.instantiate(&tok, "Second").await;
    let (_, sp3) = s.instantiate(&tok, "Third").await;
    let user = s
        .control(
            "POST",
            &format!("tenants/{tid}/users"),
            Some(json!({"displayName": "Temp"})),
        )
        .await
        .body;
    let group = s
        .control(
            "POST",
            &format!("tenants/{tid}/groups"),
            Some(json!({"displayName": "Temp Group", "members": [user["id"]]})),
        )
        .await
        .body;
    let parent = s
        .control(
            "POST",
            &format!("tenants/{tid}/groups"),
            Some(json!({"displayName": "Parent", "members": [group["id"]]})),
        )
        .await
        .body;
    let alice = seeded(&s, "users", "Alice").await;
    for target in [&sp, &sp2, &sp3] {
        let t = target["id"].as_str().unwrap();
        for p in [&user, &group, &alice] {
            let r = assign(&s, &tok, t, p["id"].as_str().unwrap(), USER_ROLE).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
    }
    let count = |objects: &Value, key: &str, id: &Value| {
        objects["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a[key] == *id)
            .count()
    };
    let objects = s.objects().await;
    assert_eq!(objects["assignments"].as_array().unwrap().len(), 9);

    let r = s
        .control(
            "DELETE",
            &format!("tenants/{tid}/users/{}", user["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let objects = s.objects().await;
    assert_eq!(count(&objects, "principalId", &user["id"]), 0);
    let temp = objects["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group["id"])
        .unwrap()
        .clone();
    assert_eq!(temp["members"], json!([]), "the user left its groups");

    let r = s
        .control(
            "DELETE",
            &format!("tenants/{tid}/groups/{}", group["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let objects = s.objects().await;
    assert_eq!(count(&objects, "principalId", &group["id"]), 0);
    assert_eq!(objects["assignments"].as_array().unwrap().len(), 3);
    let parent = objects["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == parent["id"])
        .unwrap()
        .clone();
    assert_eq!(
        parent["members"],
        json!([]),
        "the group left the group it was nested in"
    );

    let r = s
        .graph(
            &tok,
            "DELETE",
            &format!("servicePrincipals/{}", sp3["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .graph(
            &tok,
            "DELETE",
            &format!("applications/{}", app2["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let objects = s.objects().await;
    assert_eq!(count(&objects, "resourceId", &sp3["id"]), 0);
    assert_eq!(
        count(&objects, "resourceId", &sp2["id"]),
        0,
        "the app's service principal went with it"
    );
    assert_eq!(count(&objects, "resourceId", &sp["id"]), 1);
}

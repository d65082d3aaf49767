//! Synced users and groups (from the SCIM directory) and subscription assignments.

use serde_json::{Value, json};

use super::{Kiro, Q, error_type, start_kiro};

async fn user(k: &Kiro, arn: &str, name: &str, external: &str) -> Value {
    let r =
        k.s.control(
            "POST",
            &format!("kiro/users?arn={arn}"),
            Some(json!({"userName": name, "externalId": external, "displayName": name})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn list_users_and_groups_with_filters_and_paging() {
    let k = start_kiro().await;
    let arn = k.create_profile("People").await;
    let ada = user(&k, &arn, "ada@example.com", "ext-ada").await;
    user(&k, &arn, "bob@example.com", "ext-bob").await;
    user(&k, &arn, "cy@example.com", "ext-cy").await;
    let g =
        k.s.control(
            "POST",
            &format!("kiro/groups?arn={arn}"),
            Some(json!({"displayName": "Devs", "externalId": "ext-devs", "members": [ada["id"]]})),
        )
        .await;
    assert_eq!(g.status, 201);

    let users = format!("{Q}.ListUsers");
    let all = k.ok(&users, json!({"profileArn": arn})).await;
    assert_eq!(all["users"].as_array().unwrap().len(), 3);
    assert_eq!(
        all["users"][0],
        json!({"userId": ada["id"], "userName": "ada@example.com", "externalId": "ext-ada", "displayName": "ada@example.com", "active": true})
    );
    let by_ext = k
        .ok(
            &users,
            json!({"profileArn": arn, "filter": {"externalId": "ext-bob"}}),
        )
        .await;
    assert_eq!(by_ext["users"].as_array().unwrap().len(), 1);
    assert_eq!(by_ext["users"][0]["userName"], "bob@example.com");
    let by_name = k
        .ok(
            &users,
            json!({"profileArn": arn, "filter": {"userName": "CY@example.com"}}),
        )
        .await;
    assert_eq!(by_name["users"][0]["externalId"], "ext-cy");
    let paged = k
        .ok(&users, json!({"profileArn": arn, "maxResults": 2}))
        .await;
    let rest = k
        .ok(
            &users,
            json!({"profileArn": arn, "maxResults": 2, "nextToken": paged["nextToken"]}),
        )
        .await;
    assert_eq!(rest["users"].as_array().unwrap().len(), 1);
    let r = k
        .call(
            &users,
            json!({"profileArn": arn, "filter": {"displayName": "x"}}),
        )
        .await;
    assert_eq!(error_type(&r), "ValidationException");

    let groups = k
        .ok(
            &format!("{Q}.ListGroups"),
            json!({"profileArn": arn, "filter": {"displayName": "devs"}}),
        )
        .await;
    assert_eq!(
        groups["groups"],
        json!([{"groupId": g.body["id"], "displayName": "Devs", "externalId": "ext-devs", "memberCount": 1}])
    );
    let none = k
        .ok(
            &format!("{Q}.ListGroups"),
            json!({"profileArn": arn, "filter": {"externalId": "nope"}}),
        )
        .await;
    assert_eq!(none["groups"], json!([]));
}

#[tokio::test]
async fn assignments_need_synced_principals_and_are_unique() {
    let k = start_kiro().await;
    let arn = k.create_profile("Subs").await;
    let ada = user(&k, &arn, "ada@example.com", "ext-ada").await;
    let id = ada["id"].clone();
    let create = format!("{Q}.CreateAssignment");
    let body = |tier: &str| json!({"profileArn": arn, "principalId": id, "principalType": "USER", "subscriptionType": tier});

    let r = k.call(&create, json!({"profileArn": arn, "principalId": "ghost", "principalType": "USER", "subscriptionType": "KIRO_PRO"})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (404, "ResourceNotFoundException")
    );
    let r = k.call(&create, json!({"profileArn": arn, "principalId": id, "principalType": "GROUP", "subscriptionType": "KIRO_PRO"})).await;
    assert_eq!(
        error_type(&r),
        "ResourceNotFoundException",
        "a user id is not a group"
    );
    let r = k.call(&create, body("KIRO_FREE")).await;
    assert_eq!(error_type(&r), "ValidationException");
    assert_eq!(k.ok(&create, body("KIRO_PRO")).await, json!({}));
    let r = k.call(&create, body("KIRO_POWER")).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (409, "ConflictException")
    );

    k.ok(&format!("{Q}.UpdateAssignment"), body("KIRO_PRO_PLUS"))
        .await;
    let list = k
        .ok(&format!("{Q}.ListAssignments"), json!({"profileArn": arn}))
        .await;
    assert_eq!(
        list["assignments"],
        json!([{"principalId": id, "principalType": "USER", "subscriptionType": "KIRO_PRO_PLUS", "status": "ACTIVE"}])
    );

    // The user leaves the directory: the subscription shows as canceled.
    let path = format!("kiro/users?arn={arn}&id={}", id.as_str().unwrap());
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 204);
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 404);
    let list = k
        .ok(&format!("{Q}.ListAssignments"), json!({"profileArn": arn}))
        .await;
    assert_eq!(list["assignments"][0]["status"], "CANCELED");
    assert_eq!(k.objects().await["assignments"][0]["status"], "CANCELED");

    let delete = format!("{Q}.DeleteAssignment");
    let key = json!({"profileArn": arn, "principalId": id, "principalType": "USER"});
    k.ok(&delete, key.clone()).await;
    assert_eq!(
        error_type(&k.call(&delete, key).await),
        "ResourceNotFoundException"
    );
    let r = k
        .call(&format!("{Q}.UpdateAssignment"), body("KIRO_PRO"))
        .await;
    assert_eq!(error_type(&r), "ResourceNotFoundException");
}

#[tokio::test]
async fn control_objects_and_out_of_band_assignment_removal() {
    let k = start_kiro().await;
    let arn = k.create_profile("Objects").await;
    let ada = user(&k, &arn, "ada@example.com", "ext-ada").await;
    k.ok(&format!("{Q}.CreateAssignment"), json!({"profileArn": arn, "principalId": ada["id"], "principalType": "USER", "subscriptionType": "KIRO_PRO"})).await;
    let objects = k.objects().await;
    assert_eq!(objects["users"][0]["profileArn"], arn.as_str());
    assert_eq!(objects["users"][0]["userName"], "ada@example.com");
    assert_eq!(objects["assignments"][0]["profileArn"], arn.as_str());
    let path = format!(
        "kiro/assignments?arn={arn}&principal_id={}",
        ada["id"].as_str().unwrap()
    );
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 204);
    assert_eq!(k.objects().await["assignments"], json!([]));
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 404);
    let other_region = format!("kiro/{}/eu-west-1/objects", k.creds.account_id);
    assert_eq!(
        k.s.control("GET", &other_region, None).await.body["profiles"],
        json!([])
    );
}

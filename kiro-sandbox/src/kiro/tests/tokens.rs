//! SCIM access tokens: quota, secrets shown once, deletion, `lastUsedAt` from SCIM use.

use serde_json::json;

use super::{Q, error_type, message, start_kiro};

#[tokio::test]
async fn two_tokens_per_profile_secret_once_and_deleted_tokens_stop_at_once() {
    let k = start_kiro().await;
    let arn = k.create_profile("Tokens").await;
    let create = format!("{Q}.CreateScimAccessToken");
    let first = k
        .ok(&create, json!({"profileArn": arn, "description": "entra"}))
        .await;
    let secret = first["token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    let year = first["expiresAt"].as_i64().unwrap() - first["createdAt"].as_i64().unwrap();
    assert_eq!(year, 365 * 24 * 3600);
    k.ok(&create, json!({"profileArn": arn})).await;
    let r = k.call(&create, json!({"profileArn": arn})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (402, "ServiceQuotaExceededException")
    );
    assert!(
        message(&r).contains("Active SCIM access tokens per profile"),
        "{}",
        message(&r)
    );

    let list = k
        .ok(
            &format!("{Q}.ListScimAccessTokens"),
            json!({"profileArn": arn}),
        )
        .await;
    let tokens = list["scimAccessTokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );
    assert_eq!(tokens[0]["description"], "entra");
    assert!(tokens[0].get("lastUsedAt").is_none());

    let profile_id = arn.rsplit('/').next().unwrap();
    let users = format!("/scim/us-east-1/{profile_id}/scim/v2/Users");
    let bearer = format!("Bearer {secret}");
    let get = |auth: String| {
        let users = users.clone();
        let s = &k.s;
        async move {
            s.raw("GET", &users, &[("Authorization", auth.as_str())], b"")
                .await
                .unwrap()
                .status
        }
    };
    assert_eq!(get(bearer.clone()).await, 200);
    assert_eq!(get("Bearer wrong".to_string()).await, 401);
    let list = k
        .ok(
            &format!("{Q}.ListScimAccessTokens"),
            json!({"profileArn": arn}),
        )
        .await;
    assert!(list["scimAccessTokens"][0]["lastUsedAt"].is_i64(), "{list}");
    let objects = k.objects().await;
    assert_eq!(objects["tokens"].as_array().unwrap().len(), 2);
    assert!(!objects.to_string().contains(&secret));

    let token_id = first["tokenId"].as_str().unwrap();
    let delete = format!("{Q}.DeleteScimAccessToken");
    k.ok(&delete, json!({"profileArn": arn, "tokenId": token_id}))
        .await;
    assert_eq!(
        get(bearer).await,
        401,
        "a deleted token stops working at once"
    );
    let r = k
        .call(&delete, json!({"profileArn": arn, "tokenId": token_id}))
        .await;
    assert_eq!(error_type(&r), "ResourceNotFoundException");
    k.ok(&create, json!({"profileArn": arn})).await;

    // Out of band, through the control API.
    let second = list["scimAccessTokens"][1]["tokenId"].as_str().unwrap();
    let path = format!("kiro/tokens?arn={arn}&token_id={second}");
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 204);
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 404);
}

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{GRAPH_SCOPE, start};
use crate::login::JWT_BEARER;

fn jwt(header: serde_json::Value, payload: serde_json::Value) -> String {
    let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2ln", enc(header), enc(payload))
}

#[tokio::test]
async fn good_secret_gets_a_bearer_token_usable_on_graph() {
    let s = start().await;
    let t = &s.tenant;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", t.client_id.as_str()),
        ("client_secret", t.client_secret.as_str()),
        ("scope", GRAPH_SCOPE),
    ];
    let r = s.login(&t.tenant_id, &form).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3599);
    assert_eq!(r.body["ext_expires_in"], 3599);
    let token = r.body["access_token"].as_str().unwrap();
    assert!(token.len() >= 40);
    assert_eq!(
        s.graph(token, "GET", "applications", None).await.status,
        200
    );
    // The tenant's domain works as the tenant segment too.
    assert_eq!(s.login(&t.domain, &form).await.status, 200);
}

#[tokio::test]
async fn bad_secret_and_other_failures_are_aadsts_shaped() {
    let s = start().await;
    let t = &s.tenant;
    let base = |secret: &'static str, scope: &'static str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", t.client_id.clone()),
            ("client_secret", secret.to_string()),
            ("scope", scope.to_string()),
        ]
    };
    let call = |form: Vec<(&'static str, String)>, tenant: String| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.login(&tenant, &pairs).await
        }
    };
    let r = call(base("wrong", GRAPH_SCOPE), t.tenant_id.clone()).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_client");
    assert_eq!(r.body["error_codes"], json!([7000215]));
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    assert!(r.body["trace_id"].is_string() && r.body["correlation_id"].is_string());

    let r = call(
        base("x", GRAPH_SCOPE),
        "11111111-2222-4333-8444-555555555555".into(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(r.body["error_codes"], json!([90002]));

    let r = call(
        base("x", "https://graph.microsoft.com/User.Read"),
        t.tenant_id.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    let mut form = base("x", GRAPH_SCOPE);
    form[1].1 = "99999999-2222-4333-8444-555555555555".into();
    let r = call(form, t.tenant_id.clone()).await;
    assert_eq!(r.body["error_codes"], json!([700016]));

    let mut form = base("x", GRAPH_SCOPE);
    form.remove(2);
    let r = call(form, t.tenant_id.clone()).await;
    assert_eq!(
        (r.status, r.body["error_codes"].clone()),
        (401, json!([7000218]))
    );

    let mut form = base("x", GRAPH_SCOPE);
    form.remove(0);
    let r = call(form, t.tenant_id.clone()).await;
    assert_eq!(r.body["error_codes"], json!([900144]));
}

#[tokio::test]
async fn federated_assertions_must_be_registered() {
    let s = start().await;
    let t = &s.tenant;
    let token = jwt(
        json!({"alg":"RS256","typ":"JWT"}),
        json!({"iss":"https://token.actions.githubusercontent.com","sub":"repo:kiro/infra:ref:refs/heads/main","aud":"api://AzureADTokenExchange"}),
    );
    let form = |assertion: &str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", t.client_id.clone()),
            ("client_assertion_type", JWT_BEARER.to_string()),
            ("client_assertion", assertion.to_string()),
            ("scope", GRAPH_SCOPE.to_string()),
        ]
    };
    let login = |f: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.login(&s.tenant.tenant_id, &pairs).await
        }
    };
    let r = login(form(&token)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_codes"], json!([70021]));
    let r = login(form("not-a-jwt")).await;
    assert_eq!(r.body["error_codes"], json!([50027]));

    let reg = s
        .control(
            "POST",
            &format!("tenants/{}/federated_tokens", t.tenant_id),
            Some(json!({"client_id": t.client_id, "token": token})),
        )
        .await;
    assert_eq!(reg.status, 204);
    let r = login(form(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let expired = jwt(json!({"alg":"RS256"}), json!({"sub":"x","aud":"y","exp":1}));
    let r = login(form(&expired)).await;
    assert_eq!(r.body["error_codes"], json!([700024]));

    // Certificate-signed assertions: any structurally valid JWT whose x5t is registered.
    let cert = jwt(
        json!({"alg":"RS256","x5t":"AbCd"}),
        json!({"sub": t.client_id, "iss": t.client_id, "aud":"https://login/token"}),
    );
    assert_eq!(login(form(&cert)).await.status, 400);
    let reg = s
        .control(
            "POST",
            &format!("tenants/{}/certificates", t.tenant_id),
            Some(json!({"client_id": t.client_id, "thumbprint": "AbCd"})),
        )
        .await;
    assert_eq!(reg.status, 204);
    assert_eq!(login(form(&cert)).await.status, 200);
}

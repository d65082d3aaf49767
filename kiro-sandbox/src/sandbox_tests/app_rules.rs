//! The rules Graph enforces on application PATCHes, end to end.

use serde_json::{Value, json};

use super::start;

#[tokio::test]
async fn patch_merges_api_and_enforces_the_enabled_scope_rule() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Scopes").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let default_scope = app["api"]["oauth2PermissionScopes"][0].clone();

    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"requestedAccessTokenVersion":2}})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, Value::Null);
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(
        got["api"]["oauth2PermissionScopes"][0], default_scope,
        "omitted sub-properties are kept"
    );

    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"requestedAccessTokenVersion":3}})),
        )
        .await;
    assert_eq!(r.status, 400);

    // Removing or changing the enabled scope fails.
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"oauth2PermissionScopes":[]}})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "CannotDeleteOrUpdateEnabledEntitlement")
    );
    assert_eq!(
        r.message(),
        "Permission (scope or role) cannot be deleted or updated unless disabled first."
    );
    let mut changed = default_scope.clone();
    changed["value"] = json!("other");
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"oauth2PermissionScopes":[changed]}})),
        )
        .await;
    assert_eq!(r.code(), "CannotDeleteOrUpdateEnabledEntitlement");

    // Disable in place, then remove, adding a new scope at the same time.
    let mut disabled = default_scope.clone();
    disabled["isEnabled"] = json!(false);
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"oauth2PermissionScopes":[disabled]}})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let kiro = json!({"id":"5f3c1c1e-6a7b-4c8d-9e0f-112233445566","value":"codewhisperer:completions","type":"User","isEnabled":true,
        "adminConsentDisplayName":"Completions","adminConsentDescription":"d","userConsentDisplayName":"u","userConsentDescription":"d"});
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"oauth2PermissionScopes":[kiro]}})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["api"]["oauth2PermissionScopes"], json!([kiro]));
    assert_eq!(got["api"]["requestedAccessTokenVersion"], 2);

    // Shape rules.
    for bad in [
        json!({"id":"nope","value":"a","type":"User","isEnabled":false}),
        json!({"id":"5f3c1c1e-6a7b-4c8d-9e0f-000000000001","value":"has space","type":"User","isEnabled":false}),
        json!({"id":"5f3c1c1e-6a7b-4c8d-9e0f-000000000001","value":"x".repeat(121),"type":"User","isEnabled":false}),
        json!({"id":"5f3c1c1e-6a7b-4c8d-9e0f-000000000001","value":"a","type":"Everyone","isEnabled":false}),
    ] {
        let r = s
            .graph(
                &tok,
                "PATCH",
                &path,
                Some(json!({"api":{"oauth2PermissionScopes":[kiro, bad]}})),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let mut dup = kiro.clone();
    dup["id"] = json!("5f3c1c1e-6a7b-4c8d-9e0f-000000000002");
    dup["isEnabled"] = json!(false);
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api":{"oauth2PermissionScopes":[kiro, dup]}})),
        )
        .await;
    assert_eq!(r.status, 400, "duplicate values");

    // The service principal follows the application.
    let sp = s
        .graph(
            &tok,
            "GET",
            &format!(
                "servicePrincipals(appId='{}')",
                app["appId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(sp.body["oauth2PermissionScopes"], json!([kiro]));
}

#[tokio::test]
async fn identifier_uris_must_be_unique_and_allowed() {
    let s = start().await;
    let tok = s.token().await;
    let (a, _) = s.instantiate(&tok, "A").await;
    let (b, _) = s.instantiate(&tok, "B").await;
    let (a_path, b_path) = (
        format!("applications/{}", a["id"].as_str().unwrap()),
        format!("applications/{}", b["id"].as_str().unwrap()),
    );
    let a_app = a["appId"].as_str().unwrap();
    let tid = &s.tenant.tenant_id;
    let domain = &s.tenant.domain;
    for ok in [
        format!("api://{a_app}"),
        format!("api://{tid}/{a_app}"),
        format!("api://{tid}/kiro"),
        format!("https://{domain}/kiro"),
        format!("https://kiro.{domain}"),
    ] {
        let r = s
            .graph(&tok, "PATCH", &a_path, Some(json!({"identifierUris":[ok]})))
            .await;
        assert_eq!(r.status, 204, "{ok}: {:?}", r.body);
    }
    for bad in [
        "https://example.com/kiro",
        "api://kiro",
        "http://localhost/x",
        "urn:kiro",
    ] {
        let r = s
            .graph(
                &tok,
                "PATCH",
                &a_path,
                Some(json!({"identifierUris":[bad]})),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.message()
                .starts_with(&format!("Failed to add identifier URI {bad}")),
            "{}",
            r.message()
        );
    }
    let shared = format!("https://{domain}/shared");
    assert_eq!(
        s.graph(
            &tok,
            "PATCH",
            &a_path,
            Some(json!({"identifierUris":[shared]}))
        )
        .await
        .status,
        204
    );
    let r = s
        .graph(
            &tok,
            "PATCH",
            &b_path,
            Some(json!({"identifierUris":[shared.to_uppercase()]})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert_eq!(
        r.message(),
        "Another object with the same value for property identifierUris already exists."
    );
    let sp = s
        .graph(
            &tok,
            "GET",
            &format!("servicePrincipals?$filter=appId%20eq%20'{a_app}'"),
            None,
        )
        .await;
    assert_eq!(
        sp.body["value"][0]["servicePrincipalNames"],
        json!([a_app, shared])
    );
}

#[tokio::test]
async fn redirect_uri_rules() {
    let s = start().await;
    let tok = s.token().await;
    let (a, _) = s.instantiate(&tok, "R").await;
    let path = format!("applications/{}", a["id"].as_str().unwrap());
    let patch = |p: &str, uris: Value| json!({ p: {"redirectUris": uris} });
    let ok = [
        (
            "publicClient",
            json!([
                "kiro://kiro.oauth/callback",
                "http://localhost:3128",
                "http://127.0.0.1/cb",
                "https://kiro.dev/cb"
            ]),
        ),
        ("web", json!(["https://kiro.dev/cb", "http://localhost/cb"])),
        ("spa", json!(["https://kiro.dev/spa"])),
    ];
    for (p, uris) in ok {
        let r = s
            .graph(&tok, "PATCH", &path, Some(patch(p, uris.clone())))
            .await;
        assert_eq!(r.status, 204, "{p} {uris}: {:?}", r.body);
    }
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(
        got["web"]["implicitGrantSettings"]["enableIdTokenIssuance"], false,
        "web sub-properties kept"
    );
    assert_eq!(
        got["publicClient"]["redirectUris"][0],
        "kiro://kiro.oauth/callback"
    );
    let long = format!("https://kiro.dev/{}", "a".repeat(250));
    let bad = [
        ("web", json!(["http://kiro.dev/cb"])),
        ("web", json!(["kiro://cb"])),
        ("spa", json!(["http://example.com"])),
        ("publicClient", json!([long])),
        ("publicClient", json!(["not a uri"])),
        ("publicClient", json!("https://x")),
    ];
    for (p, uris) in bad {
        let r = s
            .graph(&tok, "PATCH", &path, Some(patch(p, uris.clone())))
            .await;
        assert_eq!(r.status, 400, "{p} {uris}");
    }
    let many: Vec<String> = (0..252).map(|i| format!("https://kiro.dev/{i}")).collect();
    let r = s
        .graph(&tok, "PATCH", &path, Some(patch("web", json!(many))))
        .await;
    assert_eq!(
        r.status, 400,
        "more than 256 in total with the other platforms"
    );
}

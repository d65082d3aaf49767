//! Whole-list PATCH semantics of applications, the enabled-scope rule in all its forms,
//! redirect URI limits, and error `details[].target` naming the property at fault.

use serde_json::{Value, json};

use super::{Resp, Server, start};

/// PATCHes the application and asserts 204.
async fn patch_ok(s: &Server, tok: &str, path: &str, body: Value) {
    let r = s.graph(tok, "PATCH", path, Some(body.clone())).await;
    assert_eq!(r.status, 204, "{body}: {:?}", r.body);
}

fn target(r: &Resp) -> &str {
    r.body["error"]["details"][0]["target"]
        .as_str()
        .unwrap_or("")
}

fn scope(id: &str, value: &str, enabled: bool) -> Value {
    json!({"id": id, "value": value, "type": "User", "isEnabled": enabled,
        "adminConsentDisplayName": "a", "adminConsentDescription": "b",
        "userConsentDisplayName": "c", "userConsentDescription": "d"})
}

const S1: &str = "5f3c1c1e-6a7b-4c8d-9e0f-000000000001";
const S2: &str = "5f3c1c1e-6a7b-4c8d-9e0f-000000000002";

#[tokio::test]
async fn lists_are_replaced_whole_and_omitted_api_properties_kept() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Lists").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let app_id = app["appId"].as_str().unwrap();
    let default_scope = app["api"]["oauth2PermissionScopes"][0].clone();

    let a = format!("api://{app_id}");
    let b = format!("api://{}/{app_id}", s.tenant.tenant_id);
    patch_ok(&s, &tok, &path, json!({"identifierUris": [a, b]})).await;
    patch_ok(&s, &tok, &path, json!({"identifierUris": [b]})).await;
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(
        got["identifierUris"],
        json!([b]),
        "a shorter list drops the rest"
    );
    patch_ok(&s, &tok, &path, json!({"identifierUris": []})).await;
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["identifierUris"], json!([]));

    for platform in ["publicClient", "web", "spa"] {
        let two = json!(["https://kiro.dev/one", "https://kiro.dev/two"]);
        patch_ok(&s, &tok, &path, json!({platform: {"redirectUris": two}})).await;
        let one = json!(["https://kiro.dev/two"]);
        patch_ok(&s, &tok, &path, json!({platform: {"redirectUris": one}})).await;
        let got = s.graph(&tok, "GET", &path, None).await.body;
        assert_eq!(got[platform]["redirectUris"], one, "{platform}");
    }
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(
        got["web"]["implicitGrantSettings"],
        json!({"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}),
        "web sub-properties left out are kept"
    );

    // Setting the token version keeps the scopes; setting the scopes keeps the version.
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"api": {"requestedAccessTokenVersion": 2}}),
    )
    .await;
    let mut disabled = default_scope.clone();
    disabled["isEnabled"] = json!(false);
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"api": {"oauth2PermissionScopes": [disabled, scope(S1, "one", true)]}}),
    )
    .await;
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"api": {"oauth2PermissionScopes": [scope(S1, "one", true)]}}),
    )
    .await;
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(
        got["api"]["oauth2PermissionScopes"],
        json!([scope(S1, "one", true)]),
        "the disabled default scope is gone: the list was replaced"
    );
    assert_eq!(got["api"]["knownClientApplications"], json!([]));
}

#[tokio::test]
async fn an_enabled_scope_can_only_be_disabled_in_place() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Scopes").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let scopes = |list: Vec<Value>| json!({"api": {"oauth2PermissionScopes": list}});
    patch_ok(
        &s,
        &tok,
        &path,
        scopes(vec![
            {
                let mut d = app["api"]["oauth2PermissionScopes"][0].clone();
                d["isEnabled"] = json!(false);
                d
            },
            scope(S1, "one", true),
        ]),
    )
    .await;

    let refused = [
        ("removed", vec![]),
        (
            "removed while another is added",
            vec![scope(S2, "two", true)],
        ),
        ("value changed", vec![scope(S1, "uno", true)]),
        (
            "type changed",
            vec![{
                let mut x = scope(S1, "one", true);
                x["type"] = json!("Admin");
                x
            }],
        ),
        (
            "description changed",
            vec![{
                let mut x = scope(S1, "one", true);
                x["adminConsentDescription"] = json!("new");
                x
            }],
        ),
    ];
    for (why, list) in refused {
        let r = s.graph(&tok, "PATCH", &path, Some(scopes(list))).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "CannotDeleteOrUpdateEnabledEntitlement"),
            "{why}"
        );
        assert_eq!(
            r.message(),
            "Permission (scope or role) cannot be deleted or updated unless disabled first.",
            "{why}"
        );
        assert_eq!(target(&r), "api.oauth2PermissionScopes", "{why}");
    }
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(
        got["api"]["oauth2PermissionScopes"][1],
        scope(S1, "one", true)
    );

    // Unchanged, it stays; disabling it may change it in the same PATCH; then it may go.
    patch_ok(&s, &tok, &path, scopes(vec![scope(S1, "one", true)])).await;
    patch_ok(&s, &tok, &path, scopes(vec![scope(S1, "uno", false)])).await;
    patch_ok(&s, &tok, &path, scopes(vec![scope(S1, "uno", true)])).await;
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(scopes(vec![{
                let mut x = scope(S1, "uno", true);
                x.as_object_mut().unwrap().remove("isEnabled");
                x["value"] = json!("changed-while-disabled");
                x
            }])),
        )
        .await;
    assert_eq!(r.status, 204, "no isEnabled reads as false: {:?}", r.body);
    patch_ok(&s, &tok, &path, scopes(vec![])).await;
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["api"]["oauth2PermissionScopes"], json!([]));

    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(scopes(vec![
                json!({"id": "bad", "value": "x", "type": "User"}),
            ])),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(target(&r), "api.oauth2PermissionScopes");
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"api": {"requestedAccessTokenVersion": 5}})),
        )
        .await;
    assert_eq!(target(&r), "api.requestedAccessTokenVersion");
    let r = s
        .graph(&tok, "PATCH", &path, Some(json!({"appRoles": []})))
        .await;
    assert_eq!(
        (r.code(), target(&r)),
        ("CannotDeleteOrUpdateEnabledEntitlement", "appRoles")
    );
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"identifierUris": ["api://nope"]})),
        )
        .await;
    assert_eq!(target(&r), "identifierUris");
}

#[tokio::test]
async fn redirect_uri_limits_name_the_platform() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Redirects").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    let long = format!("https://kiro.dev/{}", "a".repeat(256 - 17));
    assert_eq!(long.chars().count(), 256);
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"publicClient": {"redirectUris": [long]}}),
    )
    .await;

    let refused = [
        ("publicClient", format!("{long}b"), "longer than 256"),
        (
            "publicClient",
            "https://*.kiro.dev/cb".to_string(),
            "wildcard",
        ),
        (
            "publicClient",
            "kiro://kiro.oauth/callback#x".to_string(),
            "fragment",
        ),
        ("publicClient", "http://kiro.dev/cb".to_string(), "http"),
        ("web", "https://kiro.dev/cb#frag".to_string(), "fragment"),
        ("web", "kiro://kiro.oauth/callback".to_string(), "custom"),
        ("spa", "kiro://kiro.oauth/callback".to_string(), "custom"),
        ("spa", "http://192.168.0.1/cb".to_string(), "http"),
    ];
    for (platform, uri, why) in refused {
        let r = s
            .graph(
                &tok,
                "PATCH",
                &path,
                Some(json!({platform: {"redirectUris": [uri]}})),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (400, "Request_BadRequest"),
            "{platform} {uri}"
        );
        assert!(r.message().contains(why), "{why}: {}", r.message());
        assert_eq!(target(&r), format!("{platform}.redirectUris"), "{uri}");
    }
    for (platform, uri) in [
        ("publicClient", "kiro://kiro.oauth/callback"),
        ("publicClient", "http://localhost:49152/oauth/callback"),
        ("web", "http://127.0.0.1:8080/cb"),
        ("spa", "https://kiro.dev/spa"),
    ] {
        patch_ok(&s, &tok, &path, json!({platform: {"redirectUris": [uri]}})).await;
    }

    // 256 in total over the three platforms is the limit.
    let uris = |p: &str, n: usize| -> Vec<String> {
        (0..n)
            .map(|i| format!("https://kiro.dev/{p}/{i}"))
            .collect()
    };
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"web": {"redirectUris": uris("web", 200)}}),
    )
    .await;
    patch_ok(
        &s,
        &tok,
        &path,
        json!({"spa": {"redirectUris": uris("spa", 55)}}),
    )
    .await;
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"spa": {"redirectUris": uris("spa", 56)}})),
        )
        .await;
    assert_eq!(r.status, 400, "1 + 200 + 56 > 256");
    assert_eq!(target(&r), "spa.redirectUris");
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"web": {"redirectUris": uris("web", 257)}})),
        )
        .await;
    assert_eq!((r.status, target(&r)), (400, "web.redirectUris"));
    let got = s.graph(&tok, "GET", &path, None).await.body;
    assert_eq!(got["spa"]["redirectUris"].as_array().unwrap().len(), 55);
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
    assert_eq!(sp.body["replyUrls"].as_array().unwrap().len(), 256);
}

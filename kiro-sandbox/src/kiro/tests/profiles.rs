//! Profiles: create (idempotency, name rule, uniqueness, issuer forms), list paging, update,
//! delete with everything the profile owns, tags, activation delay, control drift.

use serde_json::{Value, json};

use super::{CW, Q, error_type, message, start_kiro};

fn create_body(name: &str, token: &str, issuer: &str) -> Value {
    json!({
        "profileName": name,
        "description": "made by a test",
        "identitySource": {"externalIdentityProvider": {
            "issuerUrl": issuer,
            "clientId": "11111111-2222-3333-4444-555555555555",
            "tenantId": "tid",
        }},
        "clientToken": token,
        "tags": [{"key": "team", "value": "platform"}],
    })
}

const ISSUER: &str = "https://login.microsoftonline.com/tid/v2.0";

#[tokio::test]
async fn create_is_idempotent_per_client_token_and_names_are_unique() {
    let k = start_kiro().await;
    let create = format!("{CW}.CreateProfile");
    let first = k.ok(&create, create_body("Kiro", "token-1", ISSUER)).await;
    let again = k.ok(&create, create_body("Kiro", "token-1", ISSUER)).await;
    assert_eq!(
        first, again,
        "the same clientToken returns the same profile"
    );
    let r = k
        .call(&create, create_body("Kiro", "token-2", ISSUER))
        .await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (409, "ConflictException")
    );
    assert!(message(&r).contains("'Kiro'"), "{}", message(&r));
    let r = k
        .call(&create, create_body("Other", "token-1", ISSUER))
        .await;
    assert_eq!(
        error_type(&r),
        "ConflictException",
        "a reused token with other parameters"
    );

    let list = k.ok(&format!("{CW}.ListProfiles"), json!({})).await;
    let profiles = list["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 1);
    let p = &profiles[0];
    assert_eq!(p["arn"], first["profileArn"]);
    assert_eq!(p["profileName"], "Kiro");
    assert_eq!(p["status"], "ACTIVE");
    assert!(p["createdAt"].is_i64());
    assert_eq!(p["tags"], json!([{"key": "team", "value": "platform"}]));
    let idp = &p["identityDetails"]["externalIdentityProviderDetails"];
    assert_eq!(idp["issuerUrl"], ISSUER);
    assert_eq!(idp["tenantId"], "tid");
    let id = first["profileArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(
        idp["scimEndpoint"],
        format!("http://{}/scim/us-east-1/{id}/scim/v2", k.s.addr)
    );
}

#[tokio::test]
async fn names_issuers_and_members_are_validated() {
    let k = start_kiro().await;
    let create = format!("{CW}.CreateProfile");
    for bad in ["1abc", "has space", "", &"a".repeat(101)] {
        let r = k.call(&create, create_body(bad, "t", ISSUER)).await;
        assert_eq!(
            (r.status, error_type(&r).as_str()),
            (400, "ValidationException"),
            "{bad}"
        );
        assert!(message(&r).contains("profileName"), "{}", message(&r));
    }
    let r = k.call(&create, create_body("Ok", "t", "not a url")).await;
    assert!(message(&r).contains("issuerUrl"), "{}", message(&r));
    let mut extra = create_body("Ok", "t", ISSUER);
    extra["bogus"] = json!(1);
    let r = k.call(&create, extra).await;
    assert_eq!(error_type(&r), "ValidationException");
    assert!(message(&r).contains("bogus"), "{}", message(&r));

    let metadata = format!("{ISSUER}/.well-known/openid-configuration");
    let arn = k
        .ok(&create, create_body("FromMetadata", "t2", &metadata))
        .await["profileArn"]
        .clone();
    let list = k.ok(&format!("{CW}.ListProfiles"), json!({})).await;
    let p = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["arn"] == arn)
        .unwrap()
        .clone();
    assert_eq!(
        p["identityDetails"]["externalIdentityProviderDetails"]["issuerUrl"],
        ISSUER
    );
}

#[tokio::test]
async fn list_pages_with_max_results_and_next_token() {
    let k = start_kiro().await;
    for i in 0..7 {
        k.create_profile(&format!("P{i}")).await;
    }
    let list = format!("{CW}.ListProfiles");
    let first = k.ok(&list, json!({"maxResults": 3})).await;
    assert_eq!(first["profiles"].as_array().unwrap().len(), 3);
    let token = first["nextToken"].as_str().unwrap();
    let second = k
        .ok(&list, json!({"maxResults": 3, "nextToken": token}))
        .await;
    let third = k
        .ok(
            &list,
            json!({"maxResults": 3, "nextToken": second["nextToken"]}),
        )
        .await;
    assert_eq!(third["profiles"].as_array().unwrap().len(), 1);
    assert!(
        third.get("nextToken").is_none(),
        "the last page has no nextToken"
    );
    let names: Vec<Value> = [&first, &second, &third]
        .iter()
        .flat_map(|p| {
            p["profiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["profileName"].clone())
        })
        .collect();
    assert_eq!(
        names,
        (0..7).map(|i| json!(format!("P{i}"))).collect::<Vec<_>>()
    );

    let default_page = k.ok(&list, json!({})).await;
    assert_eq!(
        default_page["profiles"].as_array().unwrap().len(),
        5,
        "the sandbox page_size"
    );
    for bad in [
        json!({"maxResults": 0}),
        json!({"maxResults": 101}),
        json!({"nextToken": "junk"}),
    ] {
        let r = k.call(&list, bad.clone()).await;
        assert_eq!(error_type(&r), "ValidationException", "{bad}");
    }
}

#[tokio::test]
async fn update_renames_and_describes_but_keeps_names_unique() {
    let k = start_kiro().await;
    let a = k.create_profile("A").await;
    k.create_profile("B").await;
    let update = format!("{CW}.UpdateProfile");
    let r = k
        .ok(
            &update,
            json!({"profileArn": a, "profileName": "A2", "description": "new"}),
        )
        .await;
    assert_eq!(r, json!({"profileArn": a}));
    let r = k
        .call(&update, json!({"profileArn": a, "profileName": "B"}))
        .await;
    assert_eq!(error_type(&r), "ConflictException");
    let r = k
        .call(&update, json!({"profileArn": a, "identitySource": {}}))
        .await;
    assert_eq!(
        error_type(&r),
        "ValidationException",
        "the identity source cannot change"
    );
    let p = &k.objects().await["profiles"][0];
    assert_eq!(
        (p["profileName"].as_str(), p["description"].as_str()),
        (Some("A2"), Some("new"))
    );
    let r = k
        .call(
            &update,
            json!({"profileArn": "arn:aws:codewhisperer:us-east-1:1:profile/NOPE"}),
        )
        .await;
    assert_eq!(error_type(&r), "ResourceNotFoundException");
    let r = k.call(&update, json!({"profileArn": "not-an-arn"})).await;
    assert_eq!(error_type(&r), "ValidationException");
}

#[tokio::test]
async fn tags_are_added_removed_and_listed() {
    let k = start_kiro().await;
    let arn = k.create_profile("Tagged").await;
    k.ok(&format!("{CW}.TagResource"), json!({"resourceArn": arn, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]})).await;
    k.ok(
        &format!("{CW}.UntagResource"),
        json!({"resourceArn": arn, "tagKeys": ["a"]}),
    )
    .await;
    let tags = k
        .ok(
            &format!("{CW}.ListTagsForResource"),
            json!({"resourceArn": arn}),
        )
        .await;
    assert_eq!(tags, json!({"tags": [{"key": "b", "value": "2"}]}));
    let r = k
        .call(
            &format!("{CW}.TagResource"),
            json!({"resourceArn": arn, "tags": [{"key": "aws:x", "value": "1"}]}),
        )
        .await;
    assert_eq!(error_type(&r), "ValidationException");
}

#[tokio::test]
async fn delete_removes_the_profile_with_its_domains_tokens_identities_and_assignments() {
    let k = start_kiro().await;
    let arn = k.create_profile("Doomed").await;
    k.ok(
        &format!("{Q}.AssociateLoginDomain"),
        json!({"profileArn": arn, "domainName": "doomed.example"}),
    )
    .await;
    k.ok(
        &format!("{Q}.CreateScimAccessToken"),
        json!({"profileArn": arn}),
    )
    .await;
    let user =
        k.s.control(
            "POST",
            &format!("kiro/users?arn={arn}"),
            Some(json!({"userName": "u@doomed.example"})),
        )
        .await;
    assert_eq!(user.status, 201);
    k.ok(&format!("{Q}.CreateAssignment"), json!({"profileArn": arn, "principalId": user.body["id"], "principalType": "USER", "subscriptionType": "KIRO_PRO"})).await;

    k.ok(&format!("{CW}.DeleteProfile"), json!({"profileArn": arn}))
        .await;
    let objects = k.objects().await;
    for kind in [
        "profiles",
        "domains",
        "tokens",
        "users",
        "groups",
        "assignments",
    ] {
        assert_eq!(objects[kind], json!([]), "{kind}");
    }
    let r = k
        .call(&format!("{CW}.DeleteProfile"), json!({"profileArn": arn}))
        .await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (404, "ResourceNotFoundException")
    );
    // Its domain is free for another profile.
    let other = k.create_profile("Heir").await;
    k.ok(
        &format!("{Q}.AssociateLoginDomain"),
        json!({"profileArn": other, "domainName": "doomed.example"}),
    )
    .await;
}

#[tokio::test]
async fn new_profiles_are_creating_until_the_activation_delay_passes() {
    let k = start_kiro().await;
    let r =
        k.s.control(
            "PUT",
            "settings",
            Some(json!({"profile_activation_ms": 300})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["profile_activation_ms"].as_u64()),
        (200, Some(300))
    );
    k.create_profile("Slow").await;
    assert_eq!(k.objects().await["profiles"][0]["status"], "CREATING");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let status =
            k.ok(&format!("{CW}.ListProfiles"), json!({})).await["profiles"][0]["status"].clone();
        if status == "ACTIVE" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn control_drift_and_out_of_band_delete() {
    let k = start_kiro().await;
    let arn = k.create_profile("Drifting").await;
    let path = format!("kiro/profiles?arn={arn}");
    let r = k.s.control("PATCH", &path, Some(json!({"profileName": "Renamed", "description": "by hand", "tags": [{"key": "k", "value": "v"}]}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let p = &k.ok(&format!("{CW}.ListProfiles"), json!({})).await["profiles"][0];
    assert_eq!(p["profileName"], "Renamed");
    assert_eq!(p["description"], "by hand");
    assert_eq!(p["tags"], json!([{"key": "k", "value": "v"}]));
    let r =
        k.s.control("PATCH", &path, Some(json!({"identitySource": {}})))
            .await;
    assert_eq!(r.status, 400);
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 204);
    assert_eq!(
        k.ok(&format!("{CW}.ListProfiles"), json!({})).await,
        json!({"profiles": []})
    );
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 404);
}

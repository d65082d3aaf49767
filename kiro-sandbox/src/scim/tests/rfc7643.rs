//! RFC 7643 §2.5 (a null or an empty multi-valued attribute is "unassigned", never an error)
//! and §4.1 (the core User attributes, accepted and returned as the RFC says) on Kiro's SCIM
//! endpoint. Kiro's own rules (kiro-api.md, "The SCIM endpoint") still hold and are named
//! where they narrow the RFC.

use serde_json::{Value, json};

use super::super::schema::{GROUP_SCHEMA, USER_SCHEMA};
use super::{PATCH_OP, Server, assert_error, start};

/// Every multi-valued core User attribute Kiro accepts, and a single-valued one, with no value.
fn unassigned_user(user_name: &str, empty: &Value) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "nickName": Value::Null,
        "emails": empty, "ims": empty, "photos": empty, "addresses": empty,
        "entitlements": empty, "roles": empty, "x509Certificates": empty,
        "groups": empty,
    })
}

const MULTI_VALUED: [&str; 8] = [
    "emails",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
    "groups",
];

fn assert_unassigned(body: &Value, names: &[&str]) {
    for name in names {
        assert!(
            body.get(*name).is_none(),
            "`{name}` is unassigned and so not returned: {body}"
        );
    }
}

async fn patch(s: &Server, path: &str, ops: Value) -> super::Resp {
    s.call(
        "PATCH",
        path,
        Some(json!({"schemas": [PATCH_OP], "Operations": ops})),
    )
    .await
}

#[tokio::test]
async fn null_and_empty_lists_are_unassigned_in_post_put_and_patch() {
    let s = start().await;
    for (n, empty) in [Value::Null, json!([])].iter().enumerate() {
        let r = s
            .call(
                "POST",
                "/Users",
                Some(unassigned_user(&format!("u{n}@contoso.com"), empty)),
            )
            .await;
        assert_eq!(r.status, 201, "POST with {empty}: {}", r.body);
        assert_unassigned(&r.body, &MULTI_VALUED);
        assert_unassigned(&r.body, &["nickName"]);
        let id = r.body["id"].as_str().unwrap().to_string();
        let r = s
            .call(
                "PUT",
                &format!("/Users/{id}"),
                Some(unassigned_user(&format!("u{n}@contoso.com"), empty)),
            )
            .await;
        assert_eq!(r.status, 200, "PUT with {empty}: {}", r.body);
        assert_unassigned(&r.body, &MULTI_VALUED);
    }

    // A user with values, then each cleared by a PATCH replace with null or [].
    let r = s
        .call(
            "POST",
            "/Users",
            Some(json!({
                "schemas": [USER_SCHEMA], "userName": "full@contoso.com", "nickName": "Full",
                "emails": [{"value": "full@contoso.com", "type": "work", "primary": true}],
                "roles": [{"value": "Admin", "primary": true}],
                "ims": [{"value": "full", "type": "skype"}],
                "entitlements": [{"value": "kiro-pro"}],
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let path = format!("/Users/{}", r.body["id"].as_str().unwrap());
    let r = patch(
        &s,
        &path,
        json!([
            {"op": "Replace", "path": "emails", "value": null},
            {"op": "Replace", "path": "roles", "value": []},
            {"op": "Replace", "value": {"ims": [], "entitlements": null, "nickName": null}},
            // Adding nothing is no change (RFC 7644 §3.5.2.1), not an error.
            {"op": "Add", "path": "photos", "value": []},
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_unassigned(
        &r.body,
        &[
            "emails",
            "roles",
            "ims",
            "entitlements",
            "nickName",
            "photos",
        ],
    );
    let r = s.call("GET", &path, None).await;
    assert_unassigned(
        &r.body,
        &["emails", "roles", "ims", "entitlements", "nickName"],
    );

    // Groups: members null or [] on create, replace and add.
    for members in [Value::Null, json!([])] {
        let name = format!("Team {members}");
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members});
        let r = s.call("POST", "/Groups", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_unassigned(&r.body, &["members"]);
        let gpath = format!("/Groups/{}", r.body["id"].as_str().unwrap());
        for op in ["Replace", "Add"] {
            let r = patch(
                &s,
                &gpath,
                json!([{"op": op, "path": "members", "value": members}]),
            )
            .await;
            assert_eq!(r.status, 204, "{op} members {members}: {}", r.body);
        }
        assert_unassigned(&s.call("GET", &gpath, None).await.body, &["members"]);
    }
    // Unassigned is not a way round Kiro's rules: userName stays required.
    assert_error(
        &s.call(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": null})),
        )
        .await,
        400,
        Some("invalidValue"),
    );
}

/// A user with every RFC 7643 §4.1 core attribute Kiro accepts (all but `phoneNumbers`).
fn every_core_attribute() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "externalId": "9c1a8f0e-2b7d-4e6a-8f1c-3d5e7a9b1c2d",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
            "givenName": "Barbara", "middleName": "Jane", "honorificPrefix": "Ms.",
            "honorificSuffix": "III",
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "password": "t1meMa$heen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true,
                    "display": "Barbara at work"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F",
                    "type": "photo"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza",
                       "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                       "country": "USA", "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                       "primary": true}],
        "entitlements": [{"value": "kiro-pro", "display": "Kiro Pro", "primary": true}],
        "roles": [{"value": "Developer", "type": "job", "primary": false}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
    })
}

/// `body` returns every attribute of `sent` as sent, except `password` (returned "never").
fn assert_returned_as_sent(sent: &Value, body: &Value) {
    for (name, value) in sent.as_object().unwrap() {
        match name.as_str() {
            "password" => assert!(body.get("password").is_none(), "password is never returned"),
            "schemas" => {}
            _ => assert_eq!(&body[name], value, "`{name}`"),
        }
    }
}

#[tokio::test]
async fn every_core_user_attribute_is_accepted_and_returned_as_the_rfc_says() {
    let s = start().await;
    let sent = every_core_attribute();
    let r = s.call("POST", "/Users", Some(sent.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_returned_as_sent(&sent, &r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");
    assert_returned_as_sent(&sent, &s.call("GET", &path, None).await.body);
    // Not even when asked for.
    let r = s
        .call("GET", &format!("{path}?attributes=password,userName"), None)
        .await;
    assert!(r.body.get("password").is_none(), "{}", r.body);
    assert_eq!(r.body["userName"], "bjensen@example.com");
    let r = patch(
        &s,
        &path,
        json!([{"op": "Replace", "path": "password", "value": "n3w!"}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("password").is_none());

    // `groups` is read-only: what a client sends is ignored; it lists the groups the user is a
    // direct member of.
    assert!(r.body.get("groups").is_none(), "{}", r.body);
    let g = s
        .call(
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Guides", "members": [{"value": id}]})),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap();
    let mut put = sent.clone();
    put["groups"] = json!([{"value": "not-a-group"}]);
    let r = s.call("PUT", &path, Some(put)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["groups"],
        json!([{"value": gid, "$ref": format!("{}/Groups/{gid}", s.base()),
                "display": "Guides", "type": "direct"}])
    );
    let r = s
        .call("GET", &format!("{path}?excludedAttributes=groups"), None)
        .await;
    assert!(r.body.get("groups").is_none(), "{}", r.body);

    // x509Certificates values are binary: base64 (RFC 7643 §2.3.6).
    let mut bad = sent.clone();
    bad["userName"] = json!("other@example.com");
    bad["externalId"] = json!("other");
    bad["x509Certificates"] = json!([{"value": "not base64!"}]);
    assert_error(
        &s.call("POST", "/Users", Some(bad)).await,
        400,
        Some("invalidValue"),
    );

    // Kiro narrows the RFC here (kiro-api.md, "The SCIM endpoint": "emails and phone numbers
    // single-valued; … any `phoneNumbers` are **rejected** (400 `invalidValue`)").
    let mut phones = sent.clone();
    phones["userName"] = json!("phones@example.com");
    phones["externalId"] = json!("phones");
    phones["phoneNumbers"] = json!([{"value": "555-555-8377", "type": "work"}]);
    assert_error(
        &s.call("POST", "/Users", Some(phones)).await,
        400,
        Some("invalidValue"),
    );
}

#[tokio::test]
async fn schemas_publish_the_core_user_attributes_with_their_rfc_characteristics() {
    let s = start().await;
    let r = s
        .call("GET", &format!("/Schemas/{USER_SCHEMA}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let attrs = r.body["attributes"].as_array().unwrap();
    let attr = |name: &str| {
        attrs
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("/Schemas lists `{name}`"))
    };
    for name in [
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "password",
        "emails",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ] {
        attr(name);
    }
    assert!(
        attrs.iter().all(|a| a["name"] != "phoneNumbers"),
        "Kiro rejects phoneNumbers"
    );
    assert_eq!(attr("password")["mutability"], "writeOnly");
    assert_eq!(attr("password")["returned"], "never");
    assert_eq!(attr("groups")["mutability"], "readOnly");
    assert_eq!(attr("groups")["multiValued"], true);
    assert_eq!(
        attr("x509Certificates")["subAttributes"][0]["type"],
        "binary"
    );
    assert_eq!(
        attr("photos")["subAttributes"][0]["referenceTypes"],
        json!(["external"])
    );
    let im_types = &attr("ims")["subAttributes"][2]["canonicalValues"];
    assert_eq!(
        im_types,
        &json!(["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"])
    );
}

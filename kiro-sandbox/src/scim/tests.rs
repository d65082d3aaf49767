//! HTTP-level tests of the SCIM endpoint: a router on 127.0.0.1:0 per test, called with
//! reqwest as Entra's provisioning service would.

use std::sync::Arc;

use serde_json::{Value, json};

use super::schema::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use super::{MOUNT, Scim, ScimGroup, ScimUser, TokenCheck};

mod rfc7643;
mod tutorial;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ADMIN_TOKEN: &str = "admin-issued-token";
const PROFILE: &str = "p1";

/// Accepts [`ADMIN_TOKEN`] for [`PROFILE`] only, as the admin API's token store would.
struct AdminTokens;

impl TokenCheck for AdminTokens {
    fn check(&self, directory: &str, bearer: &str) -> bool {
        directory == PROFILE && bearer == ADMIN_TOKEN
    }
}

struct Server {
    origin: String,
    scim: Arc<Scim>,
    http: reqwest::Client,
}

struct Resp {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Value,
}

async fn start() -> Server {
    let scim = Arc::new(Scim::new());
    scim.create_directory(PROFILE);
    let app = axum::Router::new()
        .nest(MOUNT, super::router(scim.clone(), Arc::new(AdminTokens)))
        .merge(super::control_router(scim.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        origin,
        scim,
        http: reqwest::Client::new(),
    }
}

impl Server {
    fn base(&self) -> String {
        format!("{}{MOUNT}/us-east-1/{PROFILE}/scim/v2", self.origin)
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Resp {
            status,
            content_type,
            location,
            body,
        }
    }

    /// A call on the profile's SCIM endpoint with the admin API's token.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.base());
        self.send(method, &url, Some(ADMIN_TOKEN), body).await
    }

    async fn create_user(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": true});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = self.call("POST", "/Users", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members});
        let r = self.call("POST", "/Groups", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    async fn patch(&self, path: &str, ops: Value) -> Resp {
        self.call(
            "PATCH",
            path,
            Some(json!({"schemas": [PATCH_OP], "Operations": ops})),
        )
        .await
    }
}

/// The SCIM error shape: status as a string, and the scimType when there is one.
fn assert_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.content_type, "application/scim+json");
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(r.body["status"], json!(status.to_string()), "{}", r.body);
    assert_eq!(r.body["scimType"].as_str(), scim_type, "{}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn q(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

#[tokio::test]
async fn discovery_endpoints_describe_what_kiro_supports() {
    let s = start().await;
    let r = s.call("GET", "/ServiceProviderConfig", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/scim+json");
    assert_eq!(r.body["patch"]["supported"], true);
    assert_eq!(r.body["bulk"]["supported"], false);
    assert_eq!(
        r.body["filter"],
        json!({"supported": true, "maxResults": 100})
    );
    assert_eq!(r.body["etag"]["supported"], false);
    assert_eq!(r.body["sort"]["supported"], false);

    let r = s.call("GET", "/Schemas", None).await;
    assert_eq!(r.body["totalResults"], 3);
    let user = &r.body["Resources"][0];
    assert_eq!(user["id"], USER_SCHEMA);
    let names: Vec<&str> = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"userName") && names.contains(&"emails"));
    assert!(
        !names.contains(&"phoneNumbers"),
        "Kiro rejects phoneNumbers"
    );
    let r = s
        .call("GET", &format!("/Schemas/{ENTERPRISE_SCHEMA}"), None)
        .await;
    let ext: Vec<&str> = r.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(ext, ["costCenter", "organization", "division"]);

    let r = s.call("GET", "/ResourceTypes", None).await;
    assert_eq!(r.body["totalResults"], 2);
    let r = s.call("GET", "/ResourceTypes/Group", None).await;
    assert_eq!(r.body["endpoint"], "/Groups");

    assert_error(
        &s.call("POST", "/ServiceProviderConfig", Some(json!({})))
            .await,
        405,
        None,
    );
    assert_error(&s.call("POST", "/Bulk", Some(json!({}))).await, 501, None);
    assert_error(&s.call("GET", "/Me", None).await, 501, None);
    assert_error(
        &s.call("POST", "/Users/.search", Some(json!({}))).await,
        501,
        None,
    );
    assert_error(&s.call("GET", "/Nope", None).await, 404, None);
}

#[tokio::test]
async fn unknown_directories_are_404_and_bad_tokens_401() {
    let s = start().await;
    let other = format!("{}{MOUNT}/us-east-1/nope/scim/v2/Users", s.origin);
    assert_error(
        &s.send("GET", &other, Some(ADMIN_TOKEN), None).await,
        404,
        None,
    );
    let users = format!("{}/Users", s.base());
    assert_error(&s.send("GET", &users, None, None).await, 401, None);
    assert_error(&s.send("GET", &users, Some("wrong"), None).await, 401, None);
    assert_eq!(
        s.send("GET", &users, Some(ADMIN_TOKEN), None).await.status,
        200
    );

    // The control route's directory and token.
    let r = s
        .send(
            "POST",
            &format!("{}/_sandbox/scim/directories", s.origin),
            None,
            Some(json!({"id": "p2", "region": "eu-west-1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let base = r.body["base_url"].as_str().unwrap();
    assert_eq!(base, format!("{}/scim/eu-west-1/p2/scim/v2", s.origin));
    let token = r.body["token"].as_str().unwrap();
    let r = s
        .send("GET", &format!("{base}/Users"), Some(token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A token opens its own directory only.
    assert_error(&s.send("GET", &users, Some(token), None).await, 401, None);
    assert_error(
        &s.send("GET", &format!("{base}/Users"), Some(ADMIN_TOKEN), None)
            .await,
        401,
        None,
    );
    s.scim.delete_directory("p2");
    assert_error(
        &s.send("GET", &format!("{base}/Users"), Some(token), None)
            .await,
        404,
        None,
    );
}

/// What Entra's provisioning service does for a new assignment, step by step.
#[tokio::test]
async fn entra_provisioning_sequence() {
    let s = start().await;
    // Test Connection: a random userName, expecting 200 and an empty ListResponse.
    let probe = format!("userName eq \"{}\"", uuid::Uuid::new_v4());
    let r = s
        .call("GET", &format!("/Users?filter={}", q(&probe)), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
    );
    // Entra looks the user up, finds nothing, creates it.
    let r = s
        .call(
            "GET",
            &format!("/Users?filter={}", q(r#"userName eq "alice@contoso.com""#)),
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 0);
    let body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "externalId": "5c6e1c52-7b1e-4a3e-9d5b-0f3f4c0a1b2c",
        "userName": "alice@contoso.com",
        "active": true,
        "displayName": "Alice",
        "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
        "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
        ENTERPRISE_SCHEMA: {"costCenter": "42"},
    });
    let r = s.call("POST", "/Users", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.location.as_deref(), r.body["meta"]["location"].as_str());
    assert_eq!(r.body["schemas"], json!([USER_SCHEMA, ENTERPRISE_SCHEMA]));
    assert_eq!(r.body[ENTERPRISE_SCHEMA]["costCenter"], "42");
    // Later cycles find it by userName (any case).
    let r = s
        .call(
            "GET",
            &format!("/Users?filter={}", q(r#"userName eq "ALICE@contoso.com""#)),
            None,
        )
        .await;
    assert_eq!(ids(&r.body), [id.as_str()]);

    // Updates: capitalized ops, string booleans, path-less values with dotted keys, filters.
    let r = s
        .patch(
            &format!("/Users/{id}"),
            json!([
                {"op": "Replace", "path": "displayName", "value": "Alice S."},
                {"op": "Add", "value": {"name.givenName": "Alicia", "title": "Engineer"}},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alicia@contoso.com"},
                {"op": "Replace", "path": "active", "value": "True"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Seattle"},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "Alice S.");
    assert_eq!(r.body["name"]["givenName"], "Alicia");
    assert_eq!(r.body["name"]["familyName"], "Smith");
    assert_eq!(r.body["title"], "Engineer");
    assert_eq!(
        r.body["emails"],
        json!([{"primary": true, "type": "work", "value": "alicia@contoso.com"}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "locality": "Seattle"}])
    );
    assert_eq!(r.body["active"], true);
    let r = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Remove", "path": "title"}]),
        )
        .await;
    assert!(r.body.get("title").is_none(), "{}", r.body);

    // Unassigning: active=false (a soft delete: the user stays, inactive).
    let r = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "value": {"active": "False"}}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.call("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(r.body["active"], false);
    let snapshot = s.scim.users(PROFILE);
    assert_eq!(snapshot.len(), 1);
    assert_eq!(
        snapshot[0],
        ScimUser {
            id: id.clone(),
            user_name: "alice@contoso.com".into(),
            external_id: Some("5c6e1c52-7b1e-4a3e-9d5b-0f3f4c0a1b2c".into()),
            display_name: Some("Alice S.".into()),
            active: false,
            given_name: Some("Alicia".into()),
            family_name: Some("Smith".into()),
            email: Some("alicia@contoso.com".into()),
        }
    );

    // Groups: created empty, then members patched in and out.
    let bob = s.create_user("bob@contoso.com", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let carol = s.create_user("carol@contoso.com", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = s.create_group("Kiro Users", &[]).await;
    let gid = group["id"].as_str().unwrap().to_string();
    let gpath = format!("/Groups/{gid}");
    let r = s
        .patch(
            &gpath,
            json!([{"op": "Add", "path": "members", "value": [{"value": id}, {"value": bob}]}]),
        )
        .await;
    // A group PATCH answers 204 (the tutorial's "Update Group" responses)…
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_null());
    // …unless the client asks for attributes back (RFC 7644 §3.5.2).
    let r = s
        .patch(
            &format!("{gpath}?attributes=members"),
            json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"][0]["value"], id.as_str());
    assert_eq!(r.body["members"][0]["type"], "User");
    assert_eq!(
        r.body["members"][0]["$ref"],
        format!("{}/Users/{id}", s.base()).as_str()
    );
    let members = |g: ScimGroup| g.members;
    assert_eq!(
        members(s.scim.groups(PROFILE).remove(0)),
        [id.clone(), bob.clone()]
    );
    s.patch(
        &gpath,
        json!([{"op": "Remove", "path": format!("members[value eq \"{id}\"]")}]),
    )
    .await;
    assert_eq!(members(s.scim.groups(PROFILE).remove(0)), [bob.as_str()]);
    s.patch(
        &gpath,
        json!([{"op": "Add", "path": "members", "value": [{"value": carol}]}]),
    )
    .await;
    s.patch(
        &gpath,
        json!([{"op": "Remove", "path": "members", "value": [{"value": bob}]}]),
    )
    .await;
    assert_eq!(members(s.scim.groups(PROFILE).remove(0)), [carol.as_str()]);
    s.patch(
        &gpath,
        json!([{"op": "Replace", "path": "members", "value": [{"value": id}, {"value": bob}]}]),
    )
    .await;
    assert_eq!(
        members(s.scim.groups(PROFILE).remove(0)),
        [id.clone(), bob.clone()]
    );
    let r = s
        .call("GET", &format!("{gpath}?excludedAttributes=members"), None)
        .await;
    assert!(r.body.get("members").is_none(), "{}", r.body);
    assert_eq!(r.body["displayName"], "Kiro Users");
    let r = s
        .call(
            "GET",
            &format!(
                "/Groups?filter={}&excludedAttributes=members",
                q(r#"displayName eq "kiro users""#)
            ),
            None,
        )
        .await;
    assert_eq!(ids(&r.body), [gid.as_str()]);
    assert!(r.body["Resources"][0].get("members").is_none());
}

#[tokio::test]
async fn user_rules_unique_names_immutable_external_ids_single_emails() {
    let s = start().await;
    let u = s
        .create_user("dana@contoso.com", json!({"externalId": "ext-1"}))
        .await;
    let id = u["id"].as_str().unwrap();
    let dup = json!({"schemas": [USER_SCHEMA], "userName": "DANA@contoso.com"});
    assert_error(
        &s.call("POST", "/Users", Some(dup)).await,
        409,
        Some("uniqueness"),
    );
    let other = s.create_user("erin@contoso.com", json!({})).await;
    let oid = other["id"].as_str().unwrap();
    assert_error(
        &s.patch(
            &format!("/Users/{oid}"),
            json!([{"op": "replace", "path": "userName", "value": "Dana@Contoso.com"}]),
        )
        .await,
        409,
        Some("uniqueness"),
    );

    let bad_ext =
        json!({"schemas": [USER_SCHEMA], "userName": "f@contoso.com", "externalId": "a_b"});
    assert_error(
        &s.call("POST", "/Users", Some(bad_ext)).await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": "externalId", "value": "ext-2"}]),
        )
        .await,
        400,
        Some("mutability"),
    );
    assert_error(
        &s.patch(
            &format!("/Users/{id}"),
            json!([{"op": "Remove", "path": "externalId"}]),
        )
        .await,
        400,
        Some("mutability"),
    );
    let put =
        json!({"schemas": [USER_SCHEMA], "userName": "dana@contoso.com", "externalId": "ext-2"});
    assert_error(
        &s.call("PUT", &format!("/Users/{id}"), Some(put)).await,
        400,
        Some("mutability"),
    );
    // A PUT may repeat it or leave it out (kept); a user without one may get one.
    let put =
        json!({"schemas": [USER_SCHEMA], "userName": "dana@contoso.com", "displayName": "Dana"});
    let r = s.call("PUT", &format!("/Users/{id}"), Some(put)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["externalId"], "ext-1");
    assert_eq!(r.body["displayName"], "Dana");
    assert!(
        r.body.get("active").is_none(),
        "PUT replaces the whole user"
    );
    let r = s
        .patch(
            &format!("/Users/{oid}"),
            json!([{"op": "Add", "path": "externalId", "value": "ext-9"}]),
        )
        .await;
    assert_eq!(r.body["externalId"], "ext-9");

    let two = json!({"schemas": [USER_SCHEMA], "userName": "g@contoso.com",
        "emails": [{"value": "g@contoso.com", "type": "work"}, {"value": "g@home.example", "type": "home"}]});
    assert_error(
        &s.call("POST", "/Users", Some(two)).await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.patch(&format!("/Users/{id}"), json!([{"op": "Add", "path": "emails", "value": [
            {"value": "a@contoso.com", "type": "work"}, {"value": "b@contoso.com", "type": "home"}]}]))
            .await,
        400,
        Some("invalidValue"),
    );
    let missing = json!({"schemas": [USER_SCHEMA], "displayName": "nobody"});
    assert_error(
        &s.call("POST", "/Users", Some(missing)).await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.call("POST", "/Users", Some(json!({"userName": "x"})))
            .await,
        400,
        Some("invalidSyntax"),
    );
    let not_json = s
        .http
        .post(format!("{}/Users", s.base()))
        .bearer_auth(ADMIN_TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

#[tokio::test]
async fn phone_numbers_and_enterprise_employee_number_department_manager_are_rejected() {
    let s = start().await;
    let u = s.create_user("hank@contoso.com", json!({})).await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let phones = json!({"schemas": [USER_SCHEMA], "userName": "p@contoso.com",
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}]});
    assert_error(
        &s.call("POST", "/Users", Some(phones)).await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.patch(&path, json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0101"}]))
            .await,
        400,
        Some("invalidValue"),
    );
    for attr in ["employeeNumber", "department", "manager"] {
        let value = if attr == "manager" {
            json!({"value": "m-1"})
        } else {
            json!("x")
        };
        let body = json!({"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "userName": format!("{attr}@contoso.com"),
            ENTERPRISE_SCHEMA: {attr: value}});
        let r = s.call("POST", "/Users", Some(body)).await;
        assert_error(&r, 400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains(attr),
            "{}",
            r.body
        );
        let op_path = format!("{ENTERPRISE_SCHEMA}:{attr}");
        assert_error(
            &s.patch(
                &path,
                json!([{"op": "Replace", "path": op_path, "value": value}]),
            )
            .await,
            400,
            Some("invalidValue"),
        );
        assert_error(
            &s.patch(
                &path,
                json!([{"op": "Add", "value": {ENTERPRISE_SCHEMA: {attr: value}}}]),
            )
            .await,
            400,
            Some("invalidValue"),
        );
    }
    // The other enterprise attributes are accepted, by URN path too.
    let r = s
        .patch(
            &path,
            json!([{"op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:division"), "value": "R&D"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENTERPRISE_SCHEMA]["division"], "R&D");
    assert_eq!(
        s.scim.users(PROFILE).len(),
        1,
        "no rejected user was stored"
    );
}

#[tokio::test]
async fn filters_are_eq_joined_with_and_on_four_attributes() {
    let s = start().await;
    let a = s
        .create_user(
            "ivy@contoso.com",
            json!({"externalId": "Ext-A", "displayName": "Ivy"}),
        )
        .await;
    let b = s
        .create_user(
            "jo@contoso.com",
            json!({"externalId": "ext-b", "displayName": "Ivy"}),
        )
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let list = |f: &str| format!("/Users?filter={}", q(f));
    assert_eq!(
        ids(&s
            .call("GET", &list(r#"displayName eq "ivy""#), None)
            .await
            .body),
        [a, b]
    );
    assert_eq!(
        ids(&s
            .call("GET", &list(r#"externalId eq "Ext-A""#), None)
            .await
            .body),
        [a]
    );
    assert!(
        ids(&s
            .call("GET", &list(r#"externalId eq "ext-a""#), None)
            .await
            .body)
        .is_empty(),
        "externalId is case-exact"
    );
    assert_eq!(
        ids(&s
            .call("GET", &list(&format!("id eq \"{b}\"")), None)
            .await
            .body),
        [b]
    );
    assert_eq!(
        ids(&s
            .call(
                "GET",
                &list(r#"displayName eq "Ivy" and userName eq "jo@contoso.com""#),
                None
            )
            .await
            .body),
        [b]
    );
    assert_eq!(
        ids(&s
            .call(
                "GET",
                &list(&format!("{USER_SCHEMA}:userName eq \"ivy@contoso.com\"")),
                None
            )
            .await
            .body),
        [a]
    );
    for bad in [
        r#"userName sw "ivy""#,
        r#"userName eq "a" or userName eq "b""#,
        r#"title eq "x""#,
        "active eq true",
    ] {
        assert_error(
            &s.call("GET", &list(bad), None).await,
            400,
            Some("invalidFilter"),
        );
    }
    assert_error(
        &s.call(
            "GET",
            &format!("/Groups?filter={}", q(r#"userName eq "x""#)),
            None,
        )
        .await,
        400,
        Some("invalidFilter"),
    );
}

#[tokio::test]
async fn lists_page_with_start_index_and_count() {
    let s = start().await;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(
            s.create_user(&format!("user{i}@contoso.com"), json!({}))
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let r = s.call("GET", "/Users?startIndex=2&count=2", None).await;
    assert_eq!(r.body["totalResults"], 5);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert_eq!(r.body["startIndex"], 2);
    assert_eq!(ids(&r.body), all[1..3]);
    let r = s.call("GET", "/Users?startIndex=5&count=10", None).await;
    assert_eq!(ids(&r.body), all[4..]);
    let r = s.call("GET", "/Users?count=0", None).await;
    assert_eq!(
        (
            r.body["totalResults"].clone(),
            r.body["itemsPerPage"].clone()
        ),
        (json!(5), json!(0))
    );
    let r = s.call("GET", "/Users?startIndex=0", None).await;
    assert_eq!(
        (ids(&r.body), r.body["startIndex"].clone()),
        (all.clone(), json!(1))
    );
    let r = s.call("GET", "/Users?attributes=userName", None).await;
    let first = r.body["Resources"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    assert_error(
        &s.call("GET", "/Users?count=many", None).await,
        400,
        Some("invalidValue"),
    );
}

#[tokio::test]
async fn group_rules_unique_names_known_members_and_deletes() {
    let s = start().await;
    let u = s.create_user("kim@contoso.com", json!({})).await;
    let uid = u["id"].as_str().unwrap();
    let g = s.create_group("Team", &[uid]).await;
    let gid = g["id"].as_str().unwrap();
    let dup = json!({"schemas": [GROUP_SCHEMA], "displayName": "team"});
    assert_error(
        &s.call("POST", "/Groups", Some(dup)).await,
        409,
        Some("uniqueness"),
    );
    let ghost = json!({"schemas": [GROUP_SCHEMA], "displayName": "Ghosts", "members": [{"value": "no-such-user"}]});
    assert_error(
        &s.call("POST", "/Groups", Some(ghost)).await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
        )
        .await,
        400,
        Some("invalidValue"),
    );
    let r = s
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "replace", "path": "displayName", "value": "Team 2"}]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = s.call("GET", &format!("/Groups/{gid}"), None).await;
    assert_eq!(r.body["displayName"], "Team 2");
    assert_eq!(r.body["members"][0]["value"], uid);

    // Deleting a user takes it out of its groups; deleted resources are gone.
    let r = s.call("DELETE", &format!("/Users/{uid}"), None).await;
    assert_eq!(r.status, 204);
    assert_error(
        &s.call("GET", &format!("/Users/{uid}"), None).await,
        404,
        None,
    );
    assert!(s.scim.groups(PROFILE)[0].members.is_empty());
    assert_eq!(
        s.call("DELETE", &format!("/Groups/{gid}"), None)
            .await
            .status,
        204
    );
    assert_error(
        &s.call("GET", &format!("/Groups/{gid}"), None).await,
        404,
        None,
    );
    assert_error(
        &s.call("DELETE", &format!("/Groups/{gid}"), None).await,
        404,
        None,
    );
    assert_error(
        &s.patch(&format!("/Groups/{gid}"), json!([])).await,
        404,
        None,
    );
}

#[tokio::test]
async fn patch_refuses_unknown_ops_paths_and_removes_without_a_path() {
    let s = start().await;
    let u = s.create_user("lee@contoso.com", json!({})).await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let refused = [
        (
            json!([{"op": "Move", "path": "title", "value": "x"}]),
            "invalidSyntax",
        ),
        (json!([{"op": "Remove"}]), "noTarget"),
        (
            json!([{"op": "Add", "path": "shoeSize", "value": "9"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "Add", "path": "name.nick", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
    ];
    for (ops, scim_type) in refused {
        assert_error(&s.patch(&path, ops).await, 400, Some(scim_type));
    }
    let r = s
        .call("PATCH", &path, Some(json!({"schemas": [PATCH_OP]})))
        .await;
    assert_error(&r, 400, Some("invalidSyntax"));
    // A rejected PATCH changes nothing.
    let r = s.call("GET", &path, None).await;
    assert_eq!(r.body["active"], true);
}

#[test]
fn control_inserts_are_upserts_and_removals_leave_groups() {
    let scim = Scim::new();
    let user = scim.insert_user(
        PROFILE,
        ScimUser {
            user_name: "mia@contoso.com".into(),
            active: true,
            email: Some("mia@contoso.com".into()),
            ..ScimUser::default()
        },
    );
    assert!(!user.id.is_empty(), "an id is assigned");
    let again = scim.insert_user(
        PROFILE,
        ScimUser {
            user_name: "MIA@contoso.com".into(),
            display_name: Some("Mia".into()),
            ..ScimUser::default()
        },
    );
    assert_eq!(again.id, user.id, "same userName, same user");
    assert_eq!(scim.users(PROFILE), std::slice::from_ref(&again));
    let group = scim.insert_group(
        PROFILE,
        ScimGroup {
            display_name: "G".into(),
            members: vec![user.id.clone()],
            ..ScimGroup::default()
        },
    );
    assert_eq!(scim.groups(PROFILE), [group]);
    assert!(scim.remove_user(PROFILE, &user.id));
    assert!(!scim.remove_user(PROFILE, &user.id));
    assert!(scim.users(PROFILE).is_empty());
    assert!(scim.groups(PROFILE)[0].members.is_empty());
    scim.delete_directory(PROFILE);
    assert!(scim.groups(PROFILE).is_empty());
}

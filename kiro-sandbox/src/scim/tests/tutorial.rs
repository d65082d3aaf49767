//! Every request/response pair of Microsoft's tutorial "Develop and plan provisioning for a
//! SCIM endpoint" (sections "User Operations" and "Group Operations"), sent verbatim to Kiro's
//! SCIM endpoint and compared with the documented response on every attribute it shows. The
//! bodies are in `kiro-sandbox/tests/data/scim_tutorial/` (its README says where from).
//!
//! Each example is about a different resource (the responses show other `externalId`s, the
//! Disable User one another user altogether), so each case runs in a fresh directory holding
//! the resource its example implies ([`Given`]), made with the tutorial's own create request.
//!
//! What is rewritten: the ids the server assigns, in the request path and body (the tutorial's
//! `5171a35d82074e068ce2` becomes the id the sandbox gave that user), and the host. What is
//! not compared, and why, is [`IGNORED`] and each case's `deviations`.

use serde_json::{Value, json};

use super::{Resp, Server, start};

macro_rules! tutorial {
    ($file:literal) => {
        include_str!(concat!("../../../tests/data/scim_tutorial/", $file))
    };
}

const CREATE_USER: &str = tutorial!("01-create-user.request.json");
const CREATE_GROUP: &str = tutorial!("10-create-group.request.json");

/// Attributes of the documented responses that are not compared, with the reason. Paths are
/// dotted, without list indices, and hold for a ListResponse's `Resources` too.
const IGNORED: [(&str, &str); 5] = [
    (
        "id",
        "server-assigned; checked to be the id of the resource the example is about",
    ),
    ("meta.created", "a server timestamp"),
    ("meta.lastModified", "a server timestamp"),
    (
        "meta.location",
        "the server's host and ids; on create it must equal the Location header",
    ),
    (
        "itemsPerPage",
        "RFC 7644 §3.4.2 makes it the number of resources on the page, which is checked; \
         the tutorial's 20 is its sample server's page size",
    ),
];

/// The resource an example is about, made before its request. `id` is the tutorial's id for
/// it, rewritten everywhere to the id the sandbox assigns.
enum Given {
    /// The tutorial's Create User request, with the `externalId` the example's response shows
    /// (`None`: the request's own).
    User {
        id: &'static str,
        external_id: Option<&'static str>,
    },
    /// The user the example's documented response shows, as it was before the request:
    /// that response without `id` and `meta`, with `before` merged over it.
    UserOfResponse { id: &'static str, before: Value },
    /// The tutorial's Create Group request, with that `externalId` and these members (ids of
    /// users given before it).
    Group {
        id: &'static str,
        external_id: Option<&'static str>,
        members: &'static [&'static str],
    },
}

/// A read after the request showing that it took effect.
enum Then {
    Shows(&'static str, Value),
    Gone(&'static str),
}

/// One example; what a case leaves out is the default: nothing given before it, no request
/// body, no documented response, nothing to read afterwards.
#[derive(Default)]
struct Case {
    name: &'static str,
    given: Vec<Given>,
    method: &'static str,
    /// As the tutorial writes it.
    path: &'static str,
    request: Option<&'static str>,
    status: u16,
    response: Option<&'static str>,
    /// The tutorial id of the resource the documented response is about.
    subject: Option<&'static str>,
    /// Attributes of this response that differ from Kiro's answer on purpose, with why.
    deviations: &'static [(&'static str, &'static str)],
    then: Option<Then>,
}

fn user(id: &'static str, external_id: &'static str) -> Given {
    Given::User {
        id,
        external_id: Some(external_id),
    }
}

fn group(
    id: &'static str,
    external_id: Option<&'static str>,
    members: &'static [&'static str],
) -> Given {
    Given::Group {
        id,
        external_id,
        members,
    }
}

fn user_cases() -> Vec<Case> {
    vec![
        Case {
            name: "Create User",
            method: "POST",
            path: "/Users",
            request: Some(CREATE_USER),
            status: 201,
            response: Some(tutorial!("01-create-user.response.json")),
            ..Case::default()
        },
        Case {
            name: "Get User",
            given: vec![user(
                "5d48a0a8e9f04aa38008",
                "58342554-38d6-4ec8-948c-50044d0a33fd",
            )],
            method: "GET",
            path: "/Users/5d48a0a8e9f04aa38008",
            status: 200,
            response: Some(tutorial!("02-get-user.response.json")),
            subject: Some("5d48a0a8e9f04aa38008"),
            ..Case::default()
        },
        Case {
            name: "Get User (not found)",
            method: "GET",
            path: "/Users/5171a35d82074e068ce2",
            status: 404,
            response: Some(tutorial!("03-get-user-not-found.response.json")),
            deviations: &[(
                "detail",
                "the tutorial: \"The detail isn't required, only status\"",
            )],
            ..Case::default()
        },
        Case {
            name: "Get User by query",
            given: vec![user(
                "2441309d85324e7793ae",
                "7fce0092-d52e-4f76-b727-3955bd72c939",
            )],
            method: "GET",
            path: "/Users?filter=userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"",
            status: 200,
            response: Some(tutorial!("04-get-user-by-query.response.json")),
            subject: Some("2441309d85324e7793ae"),
            ..Case::default()
        },
        Case {
            name: "Get User by query - Zero results",
            method: "GET",
            path: "/Users?filter=userName eq \"non-existent user\"",
            status: 200,
            response: Some(tutorial!("05-get-user-by-query-zero-results.response.json")),
            ..Case::default()
        },
        Case {
            name: "Update User [Multi-valued properties]",
            given: vec![user(
                "6764549bef60420686bc",
                "6c75de36-30fa-4d2d-a196-6bdcdb6b6539",
            )],
            method: "PATCH",
            path: "/Users/6764549bef60420686bc",
            request: Some(tutorial!("06-update-user-multi-valued.request.json")),
            status: 200,
            response: Some(tutorial!("06-update-user-multi-valued.response.json")),
            subject: Some("6764549bef60420686bc"),
            ..Case::default()
        },
        Case {
            name: "Update User [Single-valued properties]",
            given: vec![user(
                "5171a35d82074e068ce2",
                "aa1eca08-7179-4eeb-a0be-a519f7e5cd1a",
            )],
            method: "PATCH",
            path: "/Users/5171a35d82074e068ce2",
            request: Some(tutorial!("07-update-user-single-valued.request.json")),
            status: 200,
            response: Some(tutorial!("07-update-user-single-valued.response.json")),
            subject: Some("5171a35d82074e068ce2"),
            ..Case::default()
        },
        Case {
            name: "Disable User",
            given: vec![Given::UserOfResponse {
                id: "5171a35d82074e068ce2",
                before: json!({"active": true}),
            }],
            method: "PATCH",
            path: "/Users/5171a35d82074e068ce2",
            request: Some(tutorial!("08-disable-user.request.json")),
            // The tutorial shows no status line here; a PATCH answering the resource is 200
            // (RFC 7644 §3.5.2), as for the other user updates.
            status: 200,
            response: Some(tutorial!("08-disable-user.response.json")),
            subject: Some("5171a35d82074e068ce2"),
            deviations: &[(
                "meta.resourceType",
                "the tutorial writes \"Users\" here only; RFC 7643 §3.1 and its other \
                 responses say \"User\"",
            )],
            then: Some(Then::Shows(
                "/Users/5171a35d82074e068ce2",
                json!({"active": false}),
            )),
        },
        Case {
            name: "Delete User",
            given: vec![Given::User {
                id: "5171a35d82074e068ce2",
                external_id: None,
            }],
            method: "DELETE",
            path: "/Users/5171a35d82074e068ce2",
            status: 204,
            then: Some(Then::Gone("/Users/5171a35d82074e068ce2")),
            ..Case::default()
        },
    ]
}

fn group_cases() -> Vec<Case> {
    const MEMBER: &str = "f648f8d5ea4e4cd38e9c";
    let member = || Given::User {
        id: MEMBER,
        external_id: None,
    };
    vec![
        Case {
            name: "Create Group",
            method: "POST",
            path: "/Groups",
            request: Some(CREATE_GROUP),
            status: 201,
            response: Some(tutorial!("10-create-group.response.json")),
            ..Case::default()
        },
        Case {
            name: "Get Group",
            // With a member, so that `excludedAttributes=members` has something to leave out.
            given: vec![
                member(),
                group(
                    "40734ae655284ad3abcc",
                    Some("60f1bb27-2e1e-402d-bcc4-ec999564a194"),
                    &[MEMBER],
                ),
            ],
            method: "GET",
            path: "/Groups/40734ae655284ad3abcc?excludedAttributes=members",
            status: 200,
            response: Some(tutorial!("11-get-group.response.json")),
            subject: Some("40734ae655284ad3abcc"),
            ..Case::default()
        },
        Case {
            name: "Get Group by displayName",
            // With a member, so that `excludedAttributes=members` has something to leave out.
            given: vec![
                member(),
                group(
                    "8c601452cc934a9ebef9",
                    Some("0db508eb-91e2-46e4-809c-30dcbda0c685"),
                    &[MEMBER],
                ),
            ],
            method: "GET",
            path: "/Groups?excludedAttributes=members&filter=displayName eq \"displayName\"",
            status: 200,
            response: Some(tutorial!("12-get-group-by-displayname.response.json")),
            subject: Some("8c601452cc934a9ebef9"),
            ..Case::default()
        },
        Case {
            name: "Update Group [Non-member attributes]",
            given: vec![group("fa2ce26709934589afc5", None, &[])],
            method: "PATCH",
            path: "/Groups/fa2ce26709934589afc5",
            request: Some(tutorial!("13-update-group-non-member.request.json")),
            status: 204,
            then: Some(Then::Shows(
                "/Groups/fa2ce26709934589afc5",
                json!({"displayName": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}),
            )),
            ..Case::default()
        },
        Case {
            name: "Update Group [Add Members]",
            given: vec![member(), group("a99962b9f99d4c4fac67", None, &[])],
            method: "PATCH",
            path: "/Groups/a99962b9f99d4c4fac67",
            request: Some(tutorial!("14-update-group-add-members.request.json")),
            status: 204,
            then: Some(Then::Shows(
                "/Groups/a99962b9f99d4c4fac67",
                json!({"members": [{"value": MEMBER, "type": "User"}]}),
            )),
            ..Case::default()
        },
        Case {
            name: "Update Group [Remove Members]",
            given: vec![member(), group("a99962b9f99d4c4fac67", None, &[MEMBER])],
            method: "PATCH",
            path: "/Groups/a99962b9f99d4c4fac67",
            request: Some(tutorial!("15-update-group-remove-members.request.json")),
            status: 204,
            then: Some(Then::Shows(
                "/Groups/a99962b9f99d4c4fac67",
                json!({"members": []}),
            )),
            ..Case::default()
        },
        Case {
            name: "Delete Group",
            given: vec![group("cdb1ce18f65944079d37", None, &[])],
            method: "DELETE",
            path: "/Groups/cdb1ce18f65944079d37",
            status: 204,
            then: Some(Then::Gone("/Groups/cdb1ce18f65944079d37")),
            ..Case::default()
        },
    ]
}

/// The tutorial's JSON with its trailing commas (`"givenName": "givenName",\n}`) taken out;
/// they are the only thing in its samples that is not JSON. Commas inside strings are kept.
fn without_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            (escaped, in_string) = (c == '\\' && !escaped, c != '"' || escaped);
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn documented(text: &str) -> Value {
    serde_json::from_str(&without_trailing_commas(text)).expect("the tutorial's sample is JSON")
}

/// One directory of the sandbox's SCIM endpoint: its base URL and bearer token.
struct Endpoint<'a> {
    server: &'a Server,
    base: String,
    token: String,
    /// Tutorial id → the id the sandbox assigned.
    ids: Vec<(&'static str, String)>,
}

impl Endpoint<'_> {
    fn rewrite(&self, text: &str) -> String {
        self.ids
            .iter()
            .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
    }

    async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        let url = format!("{}{}", self.base, self.rewrite(path));
        let body = body.map(|b| {
            serde_json::from_str(&self.rewrite(b)).expect("the tutorial's requests are JSON")
        });
        self.server
            .send(method, &url, Some(&self.token), body)
            .await
    }

    async fn create(&mut self, given: &Given, case: &Case) {
        let (tutorial_id, path, mut body) = match given {
            Given::User { id, external_id } => {
                let mut body = documented(CREATE_USER);
                if let Some(ext) = external_id {
                    body["externalId"] = json!(ext);
                }
                (*id, "/Users", body)
            }
            Given::UserOfResponse { id, before } => {
                let mut body = documented(case.response.expect("the case documents a response"));
                let fields = body.as_object_mut().expect("a resource");
                fields.remove("id");
                fields.remove("meta");
                fields.extend(before.as_object().expect("an object").clone());
                (*id, "/Users", body)
            }
            Given::Group {
                id,
                external_id,
                members,
            } => {
                let mut body = documented(CREATE_GROUP);
                if let Some(ext) = external_id {
                    body["externalId"] = json!(ext);
                }
                let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
                body["members"] = json!(members);
                (*id, "/Groups", body)
            }
        };
        body = serde_json::from_str(&self.rewrite(&body.to_string())).unwrap();
        let r = self.call("POST", path, Some(&body.to_string())).await;
        assert_eq!(
            r.status, 201,
            "{}: making {tutorial_id}: {}",
            case.name, r.body
        );
        let id = r.body["id"].as_str().expect("a new resource has an id");
        self.ids.push((tutorial_id, id.to_string()));
    }

    fn id_of(&self, tutorial_id: &str) -> &str {
        &self
            .ids
            .iter()
            .find(|(t, _)| *t == tutorial_id)
            .expect("a given resource")
            .1
    }
}

/// RFC 7643 §2.5: null, an empty list and no attribute at all are the same state.
fn unassigned(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

/// `actual` shows every attribute `documented` shows, with the same value, except the
/// `skipped` paths.
fn assert_shows(case: &str, actual: &Value, documented: &Value, path: &str, skipped: &[&str]) {
    if skipped.contains(&path.strip_prefix("Resources.").unwrap_or(path)) {
        return;
    }
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match documented {
        d if unassigned(d) => assert!(
            unassigned(actual),
            "{case}: `{path}` is unassigned in the tutorial; Kiro answered {actual}"
        ),
        Value::Object(fields) => {
            let Some(have) = actual.as_object() else {
                panic!("{case}: `{path}` must be an object; Kiro answered {actual}");
            };
            for (key, want) in fields {
                let got = have.get(key).unwrap_or(&Value::Null);
                assert_shows(case, got, want, &at(key), skipped);
            }
        }
        Value::Array(items) => {
            let have = actual.as_array().map_or(&[][..], Vec::as_slice);
            assert_eq!(
                have.len(),
                items.len(),
                "{case}: `{path}` has another number of values: {actual}"
            );
            for (got, want) in have.iter().zip(items) {
                assert_shows(case, got, want, path, skipped);
            }
        }
        scalar => assert_eq!(actual, scalar, "{case}: `{path}`"),
    }
}

async fn run(server: &Server, number: usize, case: &Case) {
    let made = server
        .http
        .post(format!("{}/_sandbox/scim/directories", server.origin))
        .json(&json!({"id": format!("tutorial-{number}")}))
        .send()
        .await
        .unwrap();
    let made: Value = made.json().await.unwrap();
    let mut ep = Endpoint {
        server,
        base: made["base_url"].as_str().unwrap().to_string(),
        token: made["token"].as_str().unwrap().to_string(),
        ids: Vec::new(),
    };
    for given in &case.given {
        ep.create(given, case).await;
    }
    let r = ep.call(case.method, case.path, case.request).await;
    assert_eq!(r.status, case.status, "{}: {}", case.name, r.body);
    match case.response {
        None => assert!(r.body.is_null(), "{}: no body, got {}", case.name, r.body),
        Some(text) => {
            assert_eq!(r.content_type, "application/scim+json", "{}", case.name);
            let mut skipped: Vec<&str> = IGNORED.iter().map(|(p, _)| *p).collect();
            skipped.extend(case.deviations.iter().map(|(p, _)| *p));
            assert_shows(case.name, &r.body, &documented(text), "", &skipped);
            check_ignored(case, &ep, &r);
            check_excluded(case, &r);
        }
    }
    match &case.then {
        None => {}
        Some(Then::Shows(path, want)) => {
            let after = ep.call("GET", path, None).await;
            assert_eq!(after.status, 200, "{}: {}", case.name, after.body);
            let want: Value = serde_json::from_str(&ep.rewrite(&want.to_string())).unwrap();
            assert_shows(case.name, &after.body, &want, "", &[]);
        }
        Some(Then::Gone(path)) => {
            let after = ep.call("GET", path, None).await;
            assert_eq!(after.status, 404, "{}: {}", case.name, after.body);
        }
    }
}

/// `excludedAttributes=members` (the tutorial's group reads): no resource shows them, which
/// comparing the attributes the tutorial shows would not notice.
fn check_excluded(case: &Case, r: &Resp) {
    let Some((_, query)) = case.path.split_once('?') else {
        return;
    };
    let excluded: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "excludedAttributes")
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let resources = match r.body["Resources"].as_array() {
        Some(page) => page.clone(),
        None => vec![r.body.clone()],
    };
    for resource in &resources {
        for name in &excluded {
            assert!(
                resource.get(name).is_none(),
                "{}: `{name}` is excluded: {resource}",
                case.name
            );
        }
    }
}

/// What [`IGNORED`] leaves out is still checked where Kiro can be held to something.
fn check_ignored(case: &Case, ep: &Endpoint<'_>, r: &Resp) {
    let resource = match r.body["Resources"].as_array() {
        Some(page) => {
            assert_eq!(r.body["itemsPerPage"], json!(page.len()), "{}", case.name);
            page.first().cloned().unwrap_or(Value::Null)
        }
        None => r.body.clone(),
    };
    match case.subject {
        Some(tutorial_id) => assert_eq!(resource["id"], ep.id_of(tutorial_id), "{}", case.name),
        None if r.status == 201 => {
            assert!(resource["id"].as_str().is_some_and(|id| !id.is_empty()));
            assert_eq!(
                r.location.as_deref(),
                resource["meta"]["location"].as_str(),
                "{}: Location",
                case.name
            );
        }
        None => {}
    }
    if let Some(meta) = resource.get("meta") {
        for stamp in ["created", "lastModified"] {
            let text = meta[stamp].as_str().unwrap_or_default();
            assert!(
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .is_ok(),
                "{}: meta.{stamp} `{text}`",
                case.name
            );
        }
    }
}

#[tokio::test]
async fn every_tutorial_request_gets_the_documented_response() {
    let server = start().await;
    let cases: Vec<Case> = user_cases().into_iter().chain(group_cases()).collect();
    for (number, case) in cases.iter().enumerate() {
        run(&server, number, case).await;
    }
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(
        names.len(),
        16,
        "the tutorial's 15 operations, Get User twice"
    );
}

#[test]
fn trailing_commas_go_and_nothing_else_changes() {
    let text = "{\"a\": \"x,}\", \"b\": [1, 2,\n],\n}";
    assert_eq!(
        without_trailing_commas(text),
        "{\"a\": \"x,}\", \"b\": [1, 2\n]\n}"
    );
    // Every sample parses, and strictly where it has no trailing comma.
    for text in [CREATE_USER, CREATE_GROUP] {
        serde_json::from_str::<Value>(text).expect("the tutorial's requests are strict JSON");
    }
}

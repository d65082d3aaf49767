//! Graph's advanced-query rules (graph-api.md; Microsoft's "Advanced query capabilities on
//! Microsoft Entra ID objects"): `$count`, `$search` and the `ne`/`not`/`endsWith` filters
//! need `ConsistencyLevel: eventual` (the filters also `$count=true`); default queries don't.

use serde_json::json;

use super::people::all_pages;
use super::{Resp, Server, start};

/// Graph's answer to `…/$count` without `ConsistencyLevel: eventual`, as a 2025 HTTP trace of
/// real Graph shows it.
const RAW_COUNT_NEEDS_HEADER: &str = "Raw count (/$count) is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information";

const EVENTUAL: (&str, &str) = ("ConsistencyLevel", "eventual");

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /graph/v1.0/{path}` with the token and, when `eventual`, the header.
async fn get(s: &Server, tok: &str, path: &str, eventual: bool) -> Resp {
    let auth = format!("Bearer {tok}");
    let mut headers = vec![("Authorization", auth.as_str())];
    if eventual {
        headers.push(EVENTUAL);
    }
    s.raw("GET", &format!("/graph/v1.0/{path}"), &headers, b"")
        .await
        .unwrap()
}

fn assert_graph_error(r: &Resp, code: &str, message: &str) {
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.code(), code, "{:?}", r.body);
    assert_eq!(r.message(), message);
}

#[tokio::test]
async fn count_segment_needs_the_header_and_answers_a_number() {
    let s = start().await;
    let tok = s.token().await;
    for path in [
        "users/$count",
        "groups/$count",
        "applications/$count",
        "servicePrincipals/$count",
    ] {
        let r = get(&s, &tok, path, false).await;
        assert_graph_error(&r, "Request_UnsupportedQuery", RAW_COUNT_NEEDS_HEADER);
    }
    let (users, _) = all_pages(&s, &tok, "users").await;
    let r = get(&s, &tok, "users/$count", true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(r.body, json!(users.len()));
    let r = get(
        &s,
        &tok,
        &format!(
            "users/$count?$filter={}",
            enc("startswith(displayName,'Bob')")
        ),
        true,
    )
    .await;
    assert_eq!(r.body, json!(1));

    let groups = get(
        &s,
        &tok,
        &format!("groups?$filter={}", enc("displayName eq 'Kiro Developers'")),
        false,
    )
    .await;
    let gid = groups.body["value"][0]["id"].as_str().unwrap().to_string();
    let r = get(&s, &tok, &format!("groups/{gid}/members/$count"), true).await;
    assert_eq!(r.body, json!(3));
}

#[tokio::test]
async fn user_members_of_a_group_are_cast_and_counted() {
    let s = start().await;
    let tok = s.token().await;
    let groups = get(
        &s,
        &tok,
        &format!("groups?$filter={}", enc("displayName eq 'Engineering'")),
        false,
    )
    .await;
    // Engineering's direct members: the Kiro Developers group and one user.
    let gid = groups.body["value"][0]["id"].as_str().unwrap().to_string();
    let members = get(&s, &tok, &format!("groups/{gid}/members"), false).await;
    assert_eq!(members.body["value"].as_array().unwrap().len(), 2);
    let users = get(
        &s,
        &tok,
        &format!("groups/{gid}/members/microsoft.graph.user"),
        false,
    )
    .await;
    let users = users.body["value"].as_array().unwrap().clone();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["@odata.type"], "#microsoft.graph.user");

    let count = format!("groups/{gid}/members/microsoft.graph.user/$count");
    let r = get(&s, &tok, &count, false).await;
    assert_graph_error(&r, "Request_UnsupportedQuery", RAW_COUNT_NEEDS_HEADER);
    let r = get(&s, &tok, &count, true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body, json!(1));
    let r = get(&s, &tok, &format!("groups/{gid}/members/$count"), true).await;
    assert_eq!(r.body, json!(2), "the cast leaves the nested group out");
}

#[tokio::test]
async fn count_parameter_is_ignored_without_the_header_and_counts_with_it() {
    let s = start().await;
    let tok = s.token().await;
    let (users, _) = all_pages(&s, &tok, "users").await;
    let r = get(&s, &tok, "users?$count=true", false).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        r.body.get("@odata.count").is_none(),
        "silently ignored: {:?}",
        r.body
    );

    let r = get(&s, &tok, "users?$count=true&$top=2", true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["@odata.count"], json!(users.len()));
    // Only the first page carries it; the next link keeps asking for it.
    let next = r.body["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("$count=true"), "{next}");
    let path = next.split_once("/graph/v1.0/").unwrap().1;
    let r = get(&s, &tok, path, true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body.get("@odata.count").is_none());

    let r = get(&s, &tok, "users?$count=maybe", true).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn search_needs_the_header_and_quoted_clauses() {
    let s = start().await;
    let tok = s.token().await;
    let search = |q: &str| format!("users?$search={}", enc(q));
    let r = get(&s, &tok, &search("\"displayName:ali\""), false).await;
    assert_graph_error(
        &r,
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
    let r = get(&s, &tok, &search("\"displayName:ali\""), true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let names: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["givenName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice"]);
    let r = get(
        &s,
        &tok,
        &format!(
            "{}&$count=true",
            search("\"displayName:ali\" OR \"mail:bob\"")
        ),
        true,
    )
    .await;
    assert_eq!(r.body["@odata.count"], 2, "{:?}", r.body);

    let r = get(&s, &tok, &search("displayName:ali"), true).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "Request_UnsupportedQuery");
    assert!(r.message().contains("double quotes"), "{}", r.message());

    // Groups and applications search their display names by words.
    let r = get(
        &s,
        &tok,
        &format!("groups?$search={}", enc("\"displayName:developers\"")),
        true,
    )
    .await;
    assert_eq!(r.body["value"][0]["displayName"], "Kiro Developers");
    s.instantiate(&tok, "Kiro Sign-In").await;
    s.replicate_now().await;
    let r = get(
        &s,
        &tok,
        &format!("applications?$search={}", enc("\"displayName:sign\"")),
        true,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["value"][0]["displayName"], "Kiro Sign-In");
}

#[tokio::test]
async fn ne_not_and_ends_with_need_the_header_and_count() {
    let s = start().await;
    let tok = s.token().await;
    let (users, _) = all_pages(&s, &tok, "users").await;
    let domain = &s.tenant.domain;
    let ends = format!("endsWith(mail,'@{domain}')");
    let filter = |f: &str| format!("users?$filter={}", enc(f));
    for (f, op) in [
        (ends.as_str(), "endsWith"),
        ("userType ne 'Guest'", "ne"),
        ("not startsWith(displayName,'Alice')", "not"),
    ] {
        let message = format!(
            "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
        );
        // Neither, only the header, only $count=true: all refused.
        assert_graph_error(
            &get(&s, &tok, &filter(f), false).await,
            "Request_UnsupportedQuery",
            &message,
        );
        assert_graph_error(
            &get(&s, &tok, &filter(f), true).await,
            "Request_UnsupportedQuery",
            &message,
        );
        let with_count = format!("{}&$count=true", filter(f));
        assert_graph_error(
            &get(&s, &tok, &with_count, false).await,
            "Request_UnsupportedQuery",
            &message,
        );
        let r = get(&s, &tok, &with_count, true).await;
        assert_eq!(r.status, 200, "{f}: {:?}", r.body);
    }
    let r = get(&s, &tok, &format!("{}&$count=true", filter(&ends)), true).await;
    assert_eq!(r.body["@odata.count"], json!(users.len()));
    let r = get(
        &s,
        &tok,
        &format!(
            "{}&$count=true",
            filter("not(startsWith(displayName,'Alice'))")
        ),
        true,
    )
    .await;
    assert_eq!(r.body["@odata.count"], json!(users.len() - 1));
    // endsWith only on the properties Graph indexes for it, even in an advanced query.
    let r = get(
        &s,
        &tok,
        &format!("{}&$count=true", filter("endsWith(displayName,'x')")),
        true,
    )
    .await;
    assert_graph_error(
        &r,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'.",
    );
    // What the provider sends (eq, startsWith) needs none of it.
    let r = get(
        &s,
        &tok,
        &filter(&format!("userPrincipalName eq 'alice@{domain}'")),
        false,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
}

//! `/users`, `/groups` and `/groups/{id}/members`: lookups, filters, 404s, and paging with
//! the sandbox's small default page size.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{Server, start};

/// Follows `@odata.nextLink` verbatim from `path` to the end; returns the items and the
/// number of pages.
pub async fn all_pages(s: &Server, tok: &str, path: &str) -> (Vec<Value>, usize) {
    let origin = format!("http://{}", s.addr);
    let mut next = format!("/graph/v1.0/{path}");
    let mut links = HashSet::new();
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let r = s.request("GET", &next, Some(tok), None).await;
        assert_eq!(r.status, 200, "{next}: {:?}", r.body);
        pages += 1;
        items.extend(r.body["value"].as_array().unwrap().iter().cloned());
        let Some(link) = r.body["@odata.nextLink"].as_str() else {
            return (items, pages);
        };
        assert!(links.insert(link.to_string()), "repeated nextLink {link}");
        next = link
            .strip_prefix(&origin)
            .unwrap_or_else(|| panic!("nextLink {link} is not absolute on the sandbox"))
            .replace(' ', "%20");
    }
}

fn names(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn users_by_id_principal_name_and_filter() {
    let s = start().await;
    let tok = s.token().await;
    let upn = format!("alice@{}", s.tenant.domain);
    let r = s.graph(&tok, "GET", &format!("users/{upn}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["userPrincipalName"], upn.as_str());
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#users/$entity")
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let by_id = s.graph(&tok, "GET", &format!("users/{id}"), None).await;
    assert_eq!(by_id.body["displayName"], r.body["displayName"]);
    let by_upper = s
        .graph(&tok, "GET", &format!("users/{}", upn.to_uppercase()), None)
        .await;
    assert_eq!(
        by_upper.body["id"],
        id.as_str(),
        "principal names ignore case"
    );

    let r = s
        .graph(
            &tok,
            "GET",
            &format!("users?$filter=userPrincipalName%20eq%20'{upn}'"),
            None,
        )
        .await;
    assert_eq!(
        names(r.body["value"].as_array().unwrap(), "id"),
        [id.as_str()]
    );
    let r = s
        .graph(
            &tok,
            "GET",
            "users?$filter=userPrincipalName%20eq%20'nobody@x.test'",
            None,
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
    let r = s
        .graph(&tok, "GET", "users?$filter=jobTitle%20eq%20'x'", None)
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));

    for missing in [
        format!("nobody@{}", s.tenant.domain),
        "0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b".to_string(),
    ] {
        let r = s
            .graph(&tok, "GET", &format!("users/{missing}"), None)
            .await;
        assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
        assert_eq!(
            r.message(),
            format!(
                "Resource '{missing}' does not exist or one of its queried reference-property objects are not present."
            )
        );
        assert!(r.body["error"]["innerError"]["request-id"].is_string());
    }
}

#[tokio::test]
async fn groups_and_their_direct_members() {
    let s = start().await;
    let tok = s.token().await;
    let r = s
        .graph(
            &tok,
            "GET",
            "groups?$filter=displayName%20eq%20'engineering'",
            None,
        )
        .await;
    let found = r.body["value"].as_array().unwrap();
    assert_eq!(names(found, "displayName"), ["Engineering"]);
    let eng = found[0]["id"].as_str().unwrap().to_string();
    let got = s.graph(&tok, "GET", &format!("groups/{eng}"), None).await;
    assert_eq!(
        (got.status, got.body["securityEnabled"].clone()),
        (200, json!(true))
    );
    assert!(
        got.body.get("members").is_none(),
        "members are a separate call"
    );

    let (members, pages) = all_pages(&s, &tok, &format!("groups/{eng}/members")).await;
    assert_eq!(pages, 1);
    let types: Vec<&str> = members
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["#microsoft.graph.group", "#microsoft.graph.user"]);
    assert_eq!(
        members[0]["displayName"], "Kiro Developers",
        "nested group, not expanded"
    );
    assert!(members[0].get("userPrincipalName").is_none());
    assert_eq!(
        members[1]["userPrincipalName"],
        format!("dave@{}", s.tenant.domain).as_str()
    );
    assert!(members[1]["id"].is_string() && members[1]["displayName"].is_string());

    let (groups, _) = all_pages(&s, &tok, "groups").await;
    assert_eq!(
        names(&groups, "displayName"),
        ["Kiro Developers", "Kiro Admins", "Engineering"]
    );

    let missing = "0e2f4a6c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
    for path in [
        format!("groups/{missing}"),
        format!("groups/{missing}/members"),
    ] {
        let r = s.graph(&tok, "GET", &path, None).await;
        assert_eq!(
            (r.status, r.code()),
            (404, "Request_ResourceNotFound"),
            "{path}"
        );
    }
    let r = s
        .graph(&tok, "GET", "groups/not-a-guid/members", None)
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn small_default_pages_top_and_the_page_size_setting() {
    let s = start().await;
    let tok = s.token().await;
    let tid = s.tenant.tenant_id.clone();
    let group = s
        .control(
            "POST",
            &format!("tenants/{tid}/groups"),
            Some(json!({"displayName": "Big", "member_count": 12})),
        )
        .await
        .body;
    let gid = group["id"].as_str().unwrap();
    s.control("POST", "replication/flush", None).await;

    let first = s.graph(&tok, "GET", "users", None).await.body;
    assert_eq!(
        first["value"].as_array().unwrap().len(),
        5,
        "default page size 5"
    );
    assert!(
        first["@odata.nextLink"]
            .as_str()
            .unwrap()
            .starts_with("http://")
    );
    let (users, pages) = all_pages(&s, &tok, "users").await;
    assert_eq!((users.len(), pages), (17, 4), "5 seeded + 12 new users");
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 17, "no user twice across pages");

    let (members, pages) = all_pages(&s, &tok, &format!("groups/{gid}/members")).await;
    assert_eq!((members.len(), pages), (12, 3));
    let (_, pages) = all_pages(&s, &tok, &format!("groups/{gid}/members?$top=999")).await;
    assert_eq!(pages, 1);
    let (members, pages) = all_pages(&s, &tok, &format!("groups/{gid}/members?$top=4")).await;
    assert_eq!((members.len(), pages), (12, 3));
    let r = s.graph(&tok, "GET", "users?$top=1000", None).await;
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));

    let r = s
        .control("PUT", "settings", Some(json!({"page_size": 10})))
        .await;
    let settings = json!({"page_size": 10, "domain_auto_verify_ms": null, "profile_activation_ms": 0, "sync_lag_ms": 0, "provisioning_interval_ms": null});
    assert_eq!((r.status, r.body.clone()), (200, settings.clone()));
    assert_eq!(s.control("GET", "settings", None).await.body, settings);
    let (_, pages) = all_pages(&s, &tok, "users").await;
    assert_eq!(pages, 2);
    for bad in [
        json!({"page_size": 0}),
        json!({"page_size": 1000}),
        json!({"other": 1}),
    ] {
        let r = s.control("PUT", "settings", Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        s.control("GET", "settings", None).await.body["page_size"],
        10
    );
    let (_, pages) = all_pages(&s, &tok, "applications").await;
    assert_eq!(pages, 1, "applications keep Graph's default page of 100");
}

#[tokio::test]
async fn directory_objects_tell_users_from_groups() {
    let s = start().await;
    let tok = s.token().await;
    let user = s
        .graph(
            &tok,
            "GET",
            &format!("users/alice@{}", s.tenant.domain),
            None,
        )
        .await;
    let groups = s
        .graph(
            &tok,
            "GET",
            "groups?$filter=displayName%20eq%20'Kiro%20Admins'",
            None,
        )
        .await;
    let group_id = groups.body["value"][0]["id"].as_str().unwrap().to_string();
    let user_id = user.body["id"].as_str().unwrap().to_string();
    for (id, odata_type) in [
        (user_id.as_str(), "#microsoft.graph.user"),
        (group_id.as_str(), "#microsoft.graph.group"),
    ] {
        let r = s
            .graph(&tok, "GET", &format!("directoryObjects/{id}"), None)
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["@odata.type"], odata_type);
        assert_eq!(r.body["id"], id);
    }
    let missing = s
        .graph(
            &tok,
            "GET",
            "directoryObjects/8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["error"]["code"],
        json!("Request_ResourceNotFound")
    );
}

use serde_json::json;

use super::start;

#[tokio::test]
async fn filter_and_paging_through_next_links() {
    let s = start().await;
    let tok = s.token().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.instantiate(&tok, &format!("Page {i}")).await.0["id"].clone());
    }
    let (quoted, _) = s.instantiate(&tok, "O'Brien's app").await;

    // Walk the pages the way a client does: follow @odata.nextLink verbatim.
    let mut seen = Vec::new();
    let mut next = format!(
        "http://{}/graph/v1.0/applications?$filter=startswith(displayName,'Page')&$top=2",
        s.addr
    );
    let mut pages = 0;
    loop {
        let path = next
            .strip_prefix(&format!("http://{}", s.addr))
            .expect("absolute link on the sandbox")
            .to_string();
        let path = path.replace(' ', "%20");
        let r = s.request("GET", &path, Some(&tok), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        pages += 1;
        let value = r.body["value"].as_array().unwrap();
        assert!(value.len() <= 2);
        seen.extend(value.iter().map(|a| a["id"].clone()));
        match r.body["@odata.nextLink"].as_str() {
            Some(link) => {
                assert!(link.contains("$skiptoken="), "{link}");
                next = link.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);

    let r = s
        .graph(
            &tok,
            "GET",
            "applications?$filter=displayName%20eq%20'O''Brien''s%20app'",
            None,
        )
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["value"][0]["id"], quoted["id"]);
    let r = s
        .graph(
            &tok,
            "GET",
            "applications?$filter=displayName+eq+'page+3'",
            None,
        )
        .await;
    assert_eq!(
        r.body["value"][0]["id"], ids[3],
        "eq on displayName ignores case"
    );
    let app_id = quoted["appId"].as_str().unwrap();
    let r = s
        .graph(
            &tok,
            "GET",
            &format!("applications?$filter=appId%20eq%20'{app_id}'&$select=id,appId"),
            None,
        )
        .await;
    assert_eq!(
        r.body["value"],
        json!([{"id": quoted["id"], "appId": app_id}])
    );

    let r = s.graph(&tok, "GET", "applications?$top=1000", None).await;
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));
    let r = s
        .graph(&tok, "GET", "applications?$filter=notes%20eq%20'x'", None)
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));
    let r = s
        .graph(&tok, "GET", "applications?$skiptoken=bogus", None)
        .await;
    assert_eq!(r.status, 400);
    let r = s.graph(&tok, "GET", "applications", None).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 6);
    assert!(r.body.get("@odata.nextLink").is_none());
}

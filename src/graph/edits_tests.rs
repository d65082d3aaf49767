//! Scope and redirect URI edits, typed patches and shared reads against the recording fake.

use std::time::Duration;

use serde_json::{Value, json};

use super::fake::FakeGraph;
use super::{
    ApiPatch, ApplicationPatch, GraphError, PermissionScope, Platform, ServicePrincipalPatch,
    find_scope,
};

const APP: &str = "applications/obj-1";
const WAIT: Duration = Duration::from_secs(10);

fn scope_json(id: &str, value: &str, enabled: bool) -> Value {
    json!({"id": id, "value": value, "type": "User", "isEnabled": enabled,
        "adminConsentDisplayName": "Use Kiro", "adminConsentDescription": "Lets Kiro act for you",
        "userConsentDisplayName": null, "userConsentDescription": null})
}

/// The first scope carries a field this client does not model; `web` carries several.
fn app_json() -> Value {
    let mut first = scope_json("a1", "codewhisperer:completions", true);
    first["someFutureField"] = json!(7);
    json!({
        "id": "obj-1", "appId": "app-1", "displayName": "Kiro", "identifierUris": [],
        "api": {"requestedAccessTokenVersion": 2, "acceptMappedClaims": null,
            "oauth2PermissionScopes": [first]},
        "web": {"redirectUris": ["https://kiro.dev/cb"], "homePageUrl": "https://kiro.dev",
            "implicitGrantSettings": {"enableIdTokenIssuance": false},
            "redirectUriSettings": [{"uri": "https://kiro.dev/cb", "index": null}]},
        "publicClient": {"redirectUris": []},
        "spa": {"redirectUris": []}
    })
}

async fn fake_with_app() -> FakeGraph {
    let fake = FakeGraph::start().await;
    fake.put_object(APP, app_json());
    fake
}

fn scopes_patch(scopes: Vec<Value>) -> Value {
    json!({"api": {"oauth2PermissionScopes": scopes}})
}

fn scope(v: Value) -> PermissionScope {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn put_scope_appends_a_new_scope() {
    let fake = fake_with_app().await;
    let c = fake.client();
    let new = scope_json("b2", "codewhisperer:chat", true);
    let got = c
        .put_scope("obj-1", scope(new.clone()), WAIT)
        .await
        .unwrap();
    assert_eq!(got, scope(new.clone()));
    // No read-back: the client knows what it wrote (settle waits for Graph to show it).
    assert_eq!(
        fake.lines(),
        ["GET applications/obj-1", "PATCH applications/obj-1"]
    );
    let first = app_json()["api"]["oauth2PermissionScopes"][0].clone();
    assert_eq!(fake.writes()[0].body, Some(scopes_patch(vec![first, new])));
}

#[tokio::test]
async fn put_scope_disables_an_enabled_scope_before_changing_it() {
    let fake = fake_with_app().await;
    let c = fake.client();
    // built from configuration: knows nothing of someFutureField
    let mut wanted = scope_json("a1", "codewhisperer:completions", true);
    wanted["adminConsentDisplayName"] = json!("Use Kiro now");
    let got = c
        .put_scope("obj-1", scope(wanted.clone()), WAIT)
        .await
        .unwrap();

    let mut disabled = app_json()["api"]["oauth2PermissionScopes"][0].clone();
    disabled["isEnabled"] = json!(false);
    let mut written = wanted.clone();
    written["someFutureField"] = json!(7);
    let writes: Vec<_> = fake
        .writes()
        .into_iter()
        .map(|w| (w.line(), w.body))
        .collect();
    assert_eq!(
        writes,
        [
            (
                "PATCH applications/obj-1".to_string(),
                Some(scopes_patch(vec![disabled]))
            ),
            (
                "PATCH applications/obj-1".to_string(),
                Some(scopes_patch(vec![written.clone()]))
            ),
        ]
    );
    assert_eq!(got, scope(written));
    assert_eq!(
        fake.lines(),
        [
            "GET applications/obj-1",
            "PATCH applications/obj-1",
            "PATCH applications/obj-1"
        ]
    );
}

#[tokio::test]
async fn put_scope_of_a_disabled_scope_writes_once_and_unchanged_writes_nothing() {
    let fake = fake_with_app().await;
    let c = fake.client();
    let mut disabled = scope_json("a1", "codewhisperer:completions", false);
    disabled["someFutureField"] = json!(7);
    c.put_scope("obj-1", scope(disabled.clone()), WAIT)
        .await
        .unwrap();
    let mut changed = disabled.clone();
    changed["value"] = json!("codewhisperer:analysis");
    c.put_scope("obj-1", scope(changed.clone()), WAIT)
        .await
        .unwrap();
    // the disable was the whole first change; the second changes a disabled scope directly
    let bodies: Vec<_> = fake.writes().into_iter().map(|w| w.body).collect();
    assert_eq!(
        bodies,
        [
            Some(scopes_patch(vec![disabled])),
            Some(scopes_patch(vec![changed.clone()]))
        ]
    );

    let before = fake.seen().len();
    let same = c
        .put_scope("obj-1", scope(changed.clone()), WAIT)
        .await
        .unwrap();
    assert_eq!(same, scope(changed.clone()));
    // the id is a GUID: another spelling is the same scope
    let mut upper = changed.clone();
    upper["id"] = json!("A1");
    let same = c.put_scope("obj-1", scope(upper), WAIT).await.unwrap();
    assert_eq!(same, scope(changed));
    // The edits start from what the client wrote (no GET shows it yet): no request at all.
    assert!(fake.lines()[before..].is_empty(), "no change, no write");
}

#[tokio::test]
async fn remove_scope_disables_first_and_reports_absence() {
    let fake = fake_with_app().await;
    let mut app = app_json();
    let other = scope_json("b2", "codewhisperer:chat", false);
    app["api"]["oauth2PermissionScopes"]
        .as_array_mut()
        .unwrap()
        .push(other.clone());
    fake.put_object(APP, app.clone());
    let c = fake.client();
    assert!(c.remove_scope("obj-1", "a1", WAIT).await.unwrap());
    let mut disabled = app["api"]["oauth2PermissionScopes"][0].clone();
    disabled["isEnabled"] = json!(false);
    let bodies: Vec<_> = fake.writes().into_iter().map(|w| w.body).collect();
    assert_eq!(
        bodies,
        [
            Some(scopes_patch(vec![disabled, other.clone()])),
            Some(scopes_patch(vec![other.clone()]))
        ]
    );
    assert_eq!(
        fake.object(APP).unwrap()["api"]["oauth2PermissionScopes"],
        json!([other])
    );

    let writes = fake.writes().len();
    assert!(!c.remove_scope("obj-1", "a1", WAIT).await.unwrap());
    assert_eq!(
        fake.writes().len(),
        writes,
        "nothing to remove, nothing sent"
    );
}

#[tokio::test]
async fn edits_start_from_what_was_written_while_reads_are_stale_and_settle_waits_for_graph() {
    let fake = fake_with_app().await;
    // Graph shows each write only after two more reads.
    fake.stale_reads(2);
    let c = fake.client();
    let mut wanted = scope_json("a1", "codewhisperer:completions", true);
    wanted["userConsentDisplayName"] = json!("Use Kiro");
    let got = c.put_scope("obj-1", scope(wanted), WAIT).await.unwrap();
    assert_eq!(got.user_consent_display_name.as_deref(), Some("Use Kiro"));
    // A second edit right away: a GET would still show the old list, so it starts from the
    // written one and keeps the first edit.
    let added = c
        .put_scope("obj-1", scope(scope_json("c3", "x", true)), WAIT)
        .await
        .unwrap();
    assert_eq!(added.id, "c3");
    let gets = fake.lines().iter().filter(|l| l.starts_with("GET")).count();
    assert_eq!((gets, fake.writes().len()), (1, 3));
    let stored = fake.object(APP).unwrap()["api"]["oauth2PermissionScopes"].clone();
    assert_eq!(stored[0]["userConsentDisplayName"], "Use Kiro");
    assert_eq!(stored[1]["id"], "c3");
    // Reads in this process see what was written.
    let shared = c.get_application_shared("obj-1").await.unwrap().unwrap();
    assert_eq!(shared.scopes().len(), 2);
    assert_eq!(fake.lines().len(), 4, "no request for the shared read");

    // settle polls until Graph shows the writes: the two stale reads, then the new one.
    c.settle(WAIT).await;
    let gets = fake.lines().iter().filter(|l| l.starts_with("GET")).count();
    assert_eq!(gets, 1 + 3);
    assert!(c.written().pending().is_empty());

    // Graph never shows the next write: settle gives up at its timeout (and says so in the
    // log); the edit itself succeeded.
    fake.stale_reads(1000);
    c.remove_scope("obj-1", "c3", WAIT).await.unwrap();
    let started = std::time::Instant::now();
    c.settle(Duration::from_millis(300)).await;
    assert!(started.elapsed() < WAIT, "{:?}", started.elapsed());
    assert_eq!(c.written().pending(), ["obj-1"]);

    let err = c.remove_scope("missing", "a1", WAIT).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn edits_queued_together_go_out_as_one_patch_and_each_gets_its_own_outcome() {
    let fake = fake_with_app().await;
    let c = fake.client();
    // The third edit asks for a value the first scope has: it fails alone.
    let (chat, uri, taken, gone) = tokio::join!(
        c.put_scope(
            "obj-1",
            scope(scope_json("b2", "codewhisperer:chat", true)),
            WAIT
        ),
        c.add_redirect_uri(
            "obj-1",
            Platform::PublicClient,
            "kiro://kiro.oauth/callback",
            WAIT
        ),
        c.put_scope(
            "obj-1",
            scope(scope_json("d4", "codewhisperer:completions", true)),
            WAIT
        ),
        c.remove_redirect_uri("obj-1", Platform::Spa, "https://absent.example/cb", WAIT),
    );
    assert_eq!(chat.unwrap().id, "b2");
    uri.unwrap();
    let err = taken.unwrap_err();
    assert!(
        matches!(&err, GraphError::InvalidRequest(m) if m.contains("codewhisperer:completions") && m.contains("a1")),
        "{err}"
    );
    assert!(!gone.unwrap(), "absent: nothing removed");
    assert_eq!(
        fake.lines(),
        ["GET applications/obj-1", "PATCH applications/obj-1"]
    );
    let stored = fake.object(APP).unwrap();
    let ids: Vec<_> = stored["api"]["oauth2PermissionScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["a1", "b2"]);
    assert_eq!(
        stored["publicClient"]["redirectUris"],
        json!(["kiro://kiro.oauth/callback"])
    );
}

#[tokio::test]
async fn a_batch_graph_refuses_is_carried_out_one_edit_at_a_time() {
    let fake = fake_with_app().await;
    let c = fake.client();
    // Graph refuses the batch, then takes the edits one by one.
    let refused = super::fake::bad_request("One or more properties are invalid.");
    fake.script(
        "PATCH",
        APP,
        vec![refused.clone(), refused, (204, Value::Null)],
    );
    let (a, b) = tokio::join!(
        c.add_redirect_uri("obj-1", Platform::Spa, "https://a.example/cb", WAIT),
        c.add_redirect_uri("obj-1", Platform::Spa, "https://b.example/cb", WAIT),
    );
    // The first edit alone is still refused: only it fails.
    let err = a.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    b.unwrap();
    let bodies: Vec<_> = fake.writes().into_iter().map(|w| w.body.unwrap()).collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(
        bodies[0]["spa"]["redirectUris"],
        json!(["https://a.example/cb", "https://b.example/cb"])
    );
    assert_eq!(
        bodies[2]["spa"]["redirectUris"],
        json!(["https://b.example/cb"])
    );
}

#[tokio::test]
async fn redirect_uris_are_added_and_removed_one_at_a_time() {
    let fake = fake_with_app().await;
    let c = fake.client();
    c.add_redirect_uri("obj-1", Platform::Web, "https://kiro.dev/cb2", WAIT)
        .await
        .unwrap();
    // the whole web block as read (unknown fields kept), without the derived settings list
    let web = json!({"redirectUris": ["https://kiro.dev/cb", "https://kiro.dev/cb2"],
        "homePageUrl": "https://kiro.dev", "implicitGrantSettings": {"enableIdTokenIssuance": false}});
    assert_eq!(fake.writes()[0].body, Some(json!({ "web": web })));

    c.add_redirect_uri("obj-1", Platform::Web, "https://kiro.dev/cb2", WAIT)
        .await
        .unwrap();
    assert_eq!(fake.writes().len(), 1, "already present: no PATCH");

    c.add_redirect_uri(
        "obj-1",
        Platform::PublicClient,
        "kiro://kiro.oauth/callback",
        WAIT,
    )
    .await
    .unwrap();
    assert_eq!(
        fake.writes()[1].body,
        Some(json!({"publicClient": {"redirectUris": ["kiro://kiro.oauth/callback"]}}))
    );

    assert!(
        c.remove_redirect_uri("obj-1", Platform::Web, "https://kiro.dev/cb", WAIT)
            .await
            .unwrap()
    );
    assert_eq!(
        fake.writes()[2].body.as_ref().unwrap()["web"]["redirectUris"],
        json!(["https://kiro.dev/cb2"])
    );
    assert!(
        !c.remove_redirect_uri("obj-1", Platform::Spa, "https://kiro.dev/cb", WAIT)
            .await
            .unwrap()
    );
    assert_eq!(fake.writes().len(), 3, "absent: no PATCH");
    let app = c.get_application("obj-1").await.unwrap().unwrap();
    assert_eq!(app.redirect_uris(Platform::Web), ["https://kiro.dev/cb2"]);
    assert_eq!(
        app.redirect_uris(Platform::PublicClient),
        ["kiro://kiro.oauth/callback"]
    );
    assert!(app.redirect_uris(Platform::Spa).is_empty());
    assert_eq!(app.web.unwrap().extra["homePageUrl"], "https://kiro.dev");
}

#[tokio::test]
async fn concurrent_redirect_uri_adds_keep_both() {
    let fake = fake_with_app().await;
    // Graph shows each write only after two more reads: an edit that re-read too early
    // would write the list without the other edit's URI.
    fake.stale_reads(2);
    let c = fake.client();
    let (a, b) = tokio::join!(
        c.add_redirect_uri("obj-1", Platform::Spa, "https://a.example/cb", WAIT),
        c.add_redirect_uri("obj-1", Platform::Spa, "https://b.example/cb", WAIT),
    );
    a.unwrap();
    b.unwrap();
    let stored = fake.object(APP).unwrap();
    let mut uris: Vec<_> = stored["spa"]["redirectUris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    uris.sort();
    assert_eq!(uris, ["https://a.example/cb", "https://b.example/cb"]);
    assert_eq!(fake.writes().len(), 1, "queued together, written together");
}

#[tokio::test]
async fn shared_reads_make_one_request_until_the_client_writes() {
    let fake = fake_with_app().await;
    let c = fake.client();
    let reads = futures::future::join_all((0..10).map(|_| c.get_application_shared("obj-1"))).await;
    for r in &reads {
        assert_eq!(r.as_ref().unwrap().as_ref().unwrap().id, "obj-1");
    }
    let gets = || {
        fake.lines()
            .iter()
            .filter(|l| *l == "GET applications/obj-1")
            .count()
    };
    assert_eq!(gets(), 1, "10 concurrent callers share one GET");
    c.get_application_shared("obj-1").await.unwrap();
    assert_eq!(gets(), 1, "a later caller shares it too");

    let rename = ApplicationPatch {
        display_name: Some("Kiro 2".into()),
        ..ApplicationPatch::default()
    };
    c.update_application("obj-1", &rename).await.unwrap();
    let app = c.get_application_shared("obj-1").await.unwrap().unwrap();
    assert_eq!((gets(), app.display_name.as_str()), (2, "Kiro 2"));

    // an edit shares the read that confirmed it
    c.add_redirect_uri("obj-1", Platform::Spa, "https://a.example/cb", WAIT)
        .await
        .unwrap();
    let after_edit = gets();
    let app = c.get_application_shared("obj-1").await.unwrap().unwrap();
    assert_eq!(app.redirect_uris(Platform::Spa), ["https://a.example/cb"]);
    assert_eq!(gets(), after_edit);

    assert!(c.delete_application("obj-1").await.unwrap());
    assert!(c.get_application_shared("obj-1").await.unwrap().is_none());
    assert_eq!(gets(), after_edit, "the client's own delete is the answer");

    assert!(c.get_application_shared("nope").await.unwrap().is_none());
    assert!(c.get_application_shared("nope").await.unwrap().is_none());
    let misses = fake
        .lines()
        .iter()
        .filter(|l| *l == "GET applications/nope")
        .count();
    assert_eq!(misses, 1, "a 404 is shared as None");
}

#[tokio::test]
async fn typed_patches_send_exactly_what_is_set() {
    let fake = fake_with_app().await;
    fake.put_object(
        "servicePrincipals/sp-1",
        json!({"id": "sp-1", "appId": "app-1"}),
    );
    let c = fake.client();
    let patch = ApplicationPatch {
        identifier_uris: Some(vec!["api://app-1".into()]),
        api: Some(ApiPatch {
            requested_access_token_version: Some(2),
            ..ApiPatch::default()
        }),
        ..ApplicationPatch::default()
    };
    c.update_application("obj-1", &patch).await.unwrap();
    c.update_application("obj-1", &ApplicationPatch::default())
        .await
        .unwrap();
    let sp = ServicePrincipalPatch {
        display_name: Some("Kiro 2".into()),
        ..ServicePrincipalPatch::default()
    };
    c.update_service_principal("sp-1", &sp).await.unwrap();
    c.update_service_principal("sp-1", &ServicePrincipalPatch::default())
        .await
        .unwrap();
    let writes: Vec<_> = fake
        .writes()
        .into_iter()
        .map(|w| (w.line(), w.body))
        .collect();
    assert_eq!(
        writes,
        [
            (
                "PATCH applications/obj-1".to_string(),
                Some(
                    json!({"identifierUris": ["api://app-1"], "api": {"requestedAccessTokenVersion": 2}})
                )
            ),
            (
                "PATCH servicePrincipals/sp-1".to_string(),
                Some(json!({"displayName": "Kiro 2"}))
            ),
        ],
        "empty patches send nothing"
    );
    // the rest of `api` is kept by the merge, as Graph does
    let stored = fake.object(APP).unwrap();
    assert_eq!(
        stored["api"]["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn find_scope_and_platform_names() {
    let app: super::Application = serde_json::from_value(app_json()).unwrap();
    assert_eq!(
        find_scope(&app, "a1").unwrap().value.as_deref(),
        Some("codewhisperer:completions")
    );
    assert!(find_scope(&app, "zz").is_none());
    let names: Vec<_> = Platform::ALL
        .iter()
        .map(|p| (p.as_str(), p.graph_property()))
        .collect();
    assert_eq!(
        names,
        [
            ("public_client", "publicClient"),
            ("web", "web"),
            ("spa", "spa")
        ]
    );
    assert_eq!(Platform::from_name("spa"), Some(Platform::Spa));
    assert_eq!(Platform::from_name("SPA"), None);
}

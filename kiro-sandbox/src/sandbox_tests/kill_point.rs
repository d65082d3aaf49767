//! The kill point: the matched request is carried out, its answer withheld or delivered, and
//! every later request held until the test clears it; held requests are never carried out.

use serde_json::json;

use super::{Server, TEMPLATE, start};

fn instantiate_path() -> String {
    format!("/graph/v1.0/applicationTemplates/{TEMPLATE}/instantiate")
}

async fn instantiate_raw(s: &Server, token: &str, name: &str) -> Result<super::Resp, String> {
    let auth = format!("Bearer {token}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    let body = json!({"displayName": name}).to_string();
    s.raw("POST", &instantiate_path(), &headers, body.as_bytes())
        .await
}

async fn application_names(s: &Server) -> Vec<String> {
    let objects = s.objects().await;
    let apps = objects["applications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    apps.iter()
        .map(|a| a["displayName"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn before_answer_carries_the_request_out_withholds_its_answer_and_holds_the_rest() {
    let s = start().await;
    let tok = s.token().await;
    let spec =
        json!({"operation": "graph.applicationTemplates.instantiate", "hold": "before_answer"});
    assert_eq!(
        s.control("POST", "kill_point", Some(spec)).await.status,
        204
    );
    let create = instantiate_raw(&s, &tok, "Kiro");
    let wait = s.control("GET", "kill_point/wait?timeout_ms=30000", None);
    let held_read = async {
        let report = wait.await;
        assert_eq!(report.status, 200, "{:?}", report.body);
        assert_eq!(
            report.body["operation"],
            "graph.applicationTemplates.instantiate"
        );
        assert_eq!(report.body["hold"], "before_answer");
        // Frozen: the create is done but unanswered, and a later request waits.
        assert_eq!(application_names(&s).await, ["Kiro"]);
        let read = s.raw("GET", "/graph/v1.0/applications", &[], b"");
        let cleared = async {
            let held = s
                .control("GET", "kill_point/wait?held_at_least=1", None)
                .await;
            assert_eq!(held.body["held"], 1, "{:?}", held.body);
            let counted = s.sb.faults.counts.total("graph.applications.list");
            assert_eq!(counted, 0, "a held request is not counted");
            assert_eq!(s.control("DELETE", "kill_point", None).await.status, 204);
        };
        tokio::join!(read, cleared).0
    };
    let (created, read) = tokio::join!(create, held_read);
    assert!(created.is_err(), "the answer was withheld: {created:?}");
    assert!(read.is_err(), "a held request ends dropped: {read:?}");
    assert_eq!(s.sb.faults.counts.total("graph.applications.list"), 0);
    // Cleared: requests flow again, and the held read was never carried out.
    let after = s.graph(&tok, "GET", "applications", None).await;
    assert_eq!(after.status, 200);
    assert_eq!(application_names(&s).await, ["Kiro"]);
}

#[tokio::test]
async fn after_answer_delivers_the_nth_match_then_freezes_at_the_next_request() {
    let s = start().await;
    let tok = s.token().await;
    let spec = json!({
        "operation": "graph.applicationTemplates",
        "body_contains": "Second",
        "nth": 2,
        "hold": "after_answer",
    });
    assert_eq!(
        s.control("POST", "kill_point", Some(spec)).await.status,
        204
    );
    for name in ["Second one", "Other", "Second two"] {
        let created = instantiate_raw(&s, &tok, name).await.unwrap();
        assert_eq!(
            created.status, 201,
            "{name} is answered: {:?}",
            created.body
        );
    }
    let not_yet = s
        .control("GET", "kill_point/wait?timeout_ms=20", None)
        .await;
    assert_eq!(not_yet.status, 408, "nothing held yet: {:?}", not_yet.body);
    assert_eq!(not_yet.body["state"], "holding");
    let next = instantiate_raw(&s, &tok, "Second three");
    let kill = async {
        let report = s
            .control("GET", "kill_point/wait?timeout_ms=30000", None)
            .await;
        assert_eq!(report.status, 200, "{:?}", report.body);
        assert_eq!(report.body["hold"], "after_answer");
        assert_eq!(report.body["path"], instantiate_path());
        s.control("DELETE", "kill_point", None).await.status
    };
    let (next, cleared) = tokio::join!(next, kill);
    assert_eq!(cleared, 204);
    assert!(next.is_err(), "held, then dropped: {next:?}");
    assert_eq!(
        application_names(&s).await,
        ["Second one", "Other", "Second two"]
    );
}

#[tokio::test]
async fn after_an_answer_without_a_body_the_next_request_is_held() {
    let s = start().await;
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Kiro").await;
    let id = app["id"].as_str().unwrap();
    let spec = json!({"operation": "graph.applications.patch", "hold": "after_answer"});
    assert_eq!(
        s.control("POST", "kill_point", Some(spec)).await.status,
        204
    );
    let path = format!("applications/{id}");
    let patched = s
        .graph(&tok, "PATCH", &path, Some(json!({"notes": "n"})))
        .await;
    assert_eq!(patched.status, 204, "{:?}", patched.body);
    let read = s.raw("GET", "/graph/v1.0/applications", &[], b"");
    let kill = async {
        let report = s
            .control("GET", "kill_point/wait?timeout_ms=30000", None)
            .await;
        assert_eq!(
            (report.status, report.body["held"].clone()),
            (200, json!(1))
        );
        s.control("DELETE", "kill_point", None).await.status
    };
    let (read, cleared) = tokio::join!(read, kill);
    assert_eq!(cleared, 204);
    assert!(read.is_err(), "held, then dropped: {read:?}");
}

#[tokio::test]
async fn a_kill_point_without_an_operation_or_with_nth_0_is_refused() {
    let s = start().await;
    for spec in [
        json!({"operation": "", "hold": "after_answer"}),
        json!({"operation": "kiro.CreateProfile", "nth": 0, "hold": "after_answer"}),
        json!({"operation": "kiro.CreateProfile", "hold": "later"}),
    ] {
        let r = s.control("POST", "kill_point", Some(spec.clone())).await;
        assert_eq!(r.status, 400, "{spec}: {:?}", r.body);
    }
    let r = s
        .control("GET", "kill_point/wait?timeout_ms=10", None)
        .await;
    assert_eq!((r.status, r.body["state"].clone()), (408, json!("off")));
}

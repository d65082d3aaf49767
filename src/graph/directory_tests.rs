//! Users, groups, directory objects and app role assignments against the recording fake.

use std::time::Duration;

use serde_json::{Value, json};

use super::fake::{FakeGraph, bad_request, not_found};
use super::{GraphError, MemberKind};

const GUEST_UPN: &str = "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com";
const USER_SELECT: &str = "$select=id,displayName,userPrincipalName,mail,accountEnabled";
const ASSIGNED: &str = "servicePrincipals/sp-1/appRoleAssignedTo";

fn user(id: &str, upn: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "displayName": "Bob", "userPrincipalName": upn})
}

#[tokio::test]
async fn users_by_id_or_guest_upn() {
    let fake = FakeGraph::start().await;
    let guest = "users/bob_fabrikam.com%23EXT%23@contoso.onmicrosoft.com";
    fake.script(
        "GET",
        &format!("{guest}?{USER_SELECT}"),
        vec![(
            200,
            json!({"@odata.context": "ctx", "id": "u-1", "displayName": "Bob",
                "userPrincipalName": GUEST_UPN, "mail": "bob@fabrikam.com", "accountEnabled": true}),
        )],
    );
    let c = fake.client();
    let bob = c.get_user(GUEST_UPN).await.unwrap().unwrap();
    assert_eq!(
        (bob.id.as_str(), bob.account_enabled, bob.mail.as_deref()),
        ("u-1", Some(true), Some("bob@fabrikam.com"))
    );
    assert_eq!(bob.user_principal_name.as_deref(), Some(GUEST_UPN));
    assert_eq!(bob.extra["@odata.context"], "ctx");
    assert!(c.get_user("nobody@contoso.com").await.unwrap().is_none());
    assert_eq!(
        fake.lines(),
        [
            format!("GET {guest}?{USER_SELECT}"),
            format!("GET users/nobody@contoso.com?{USER_SELECT}"),
        ]
    );
}

#[tokio::test]
async fn groups_members_and_directory_objects() {
    let fake = FakeGraph::start().await;
    let group = json!({"id": "g-1", "displayName": "Kiro users", "description": "people on Kiro",
        "mailNickname": "kiro-users", "securityEnabled": true, "mailEnabled": false,
        "groupTypes": [], "visibility": null});
    fake.put_object("groups/g-1", group.clone());
    fake.script(
        "GET",
        "groups?$filter=displayName%20eq%20%27Kiro%20users%27",
        vec![(200, json!({"value": [group]}))],
    );
    let next = format!(
        "{}/graph/v1.0/groups/g-1/members?$top=999&$skiptoken=p2",
        fake.base
    );
    fake.script(
        "GET",
        "groups/g-1/members?$top=999",
        vec![(
            200,
            json!({"value": [user("u-1", "alice@contoso.com")], "@odata.nextLink": next}),
        )],
    );
    fake.script(
        "GET",
        "groups/g-1/members?$top=999&$skiptoken=p2",
        vec![(
            200,
            json!({"value": [
                {"@odata.type": "#microsoft.graph.group", "id": "g-2", "displayName": "Nested"},
                {"@odata.type": "#microsoft.graph.device", "id": "d-1", "displayName": "Laptop"}
            ]}),
        )],
    );
    fake.put_object("directoryObjects/u-1", user("u-1", "alice@contoso.com"));
    let c = fake.client();

    let g = c.get_group("g-1").await.unwrap().unwrap();
    assert_eq!(
        (
            g.mail_nickname.as_deref(),
            g.security_enabled,
            g.mail_enabled
        ),
        (Some("kiro-users"), Some(true), Some(false))
    );
    assert_eq!(g.description.as_deref(), Some("people on Kiro"));
    assert_eq!(g.extra["groupTypes"], json!([]));
    assert!(c.get_group("g-404").await.unwrap().is_none());

    let found = c.list_groups_by_display_name("Kiro users").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "g-1");

    let members = c.list_group_members("g-1").await.unwrap();
    let kinds: Vec<_> = members.iter().map(|m| (m.id.as_str(), m.kind())).collect();
    assert_eq!(
        kinds,
        [
            ("u-1", MemberKind::User),
            ("g-2", MemberKind::Group),
            ("d-1", MemberKind::Other("#microsoft.graph.device".into()))
        ]
    );
    assert_eq!(
        members[0].user_principal_name.as_deref(),
        Some("alice@contoso.com")
    );

    let o = c.get_directory_object("u-1").await.unwrap().unwrap();
    assert_eq!(o.kind(), MemberKind::User);
    assert!(c.get_directory_object("x-1").await.unwrap().is_none());

    assert_eq!(
        fake.lines(),
        [
            "GET groups/g-1",
            "GET groups/g-404",
            "GET groups?$filter=displayName%20eq%20%27Kiro%20users%27",
            "GET groups/g-1/members?$top=999",
            "GET groups/g-1/members?$top=999&$skiptoken=p2",
            "GET directoryObjects/u-1",
            "GET directoryObjects/x-1",
        ]
    );
}

fn assignment(id: &str, principal: &str) -> Value {
    json!({"id": id, "appRoleId": "18d14569-c3bd-439b-9a66-3a2aee01d14f", "principalId": principal,
        "principalType": "User", "principalDisplayName": "Alice", "resourceId": "sp-1",
        "resourceDisplayName": "Kiro", "createdDateTime": "2024-05-01T10:00:00Z",
        "deletedDateTime": null})
}

#[tokio::test]
async fn create_assignment_retries_reference_lag_only() {
    let fake = FakeGraph::start().await;
    let made = assignment("aWQtMQ_xyz-1", "u-1");
    fake.script(
        "POST",
        ASSIGNED,
        vec![
            not_found(),
            bad_request("Not a valid reference update."),
            (201, made.clone()),
        ],
    );
    // The create returns once the service principal's list shows the new assignment.
    fake.script(
        "GET",
        ASSIGNED,
        vec![(200, json!({"value": [made.clone()]}))],
    );
    let c = fake.client();
    let role = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
    let got = c
        .create_app_role_assignment("sp-1", "u-1", role, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.id, "aWQtMQ_xyz-1");
    assert_eq!(got.principal_type.as_deref(), Some("User"));
    assert_eq!(got.extra["deletedDateTime"], Value::Null);
    let body = json!({"principalId": "u-1", "resourceId": "sp-1", "appRoleId": role});
    let seen: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.line().starts_with("POST"))
        .collect();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        fake.lines().last().map(String::as_str),
        Some(format!("GET {ASSIGNED}").as_str()),
        "read back through the list"
    );
    for s in &seen {
        assert_eq!(
            (s.line(), s.body.clone()),
            (format!("POST {ASSIGNED}"), Some(body.clone()))
        );
    }

    for (answer, is) in [
        (
            bad_request("Permission being assigned already exists on the object."),
            GraphError::is_duplicate_assignment as fn(&GraphError) -> bool,
        ),
        (
            bad_request("Permission being assigned was not found on application 'app-1'."),
            GraphError::is_unknown_app_role,
        ),
    ] {
        fake.script("POST", ASSIGNED, vec![answer]);
        let before = fake.seen().len();
        let err = c
            .create_app_role_assignment("sp-1", "u-1", role, Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(is(&err), "{err}");
        assert_eq!(fake.seen().len(), before + 1, "a refusal is not retried");
    }

    fake.script("POST", ASSIGNED, vec![not_found()]);
    let err = c
        .create_app_role_assignment("sp-1", "u-1", role, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Timeout { what, .. } if what.contains("Request_ResourceNotFound")),
        "{err}"
    );
}

#[tokio::test]
async fn read_list_and_delete_assignments() {
    let fake = FakeGraph::start().await;
    let one = assignment("aWQtMQ_xyz-1", "u-1");
    fake.put_object(&format!("{ASSIGNED}/aWQtMQ_xyz-1"), one.clone());
    let next = format!("{}/graph/v1.0/{ASSIGNED}?$skiptoken=2", fake.base);
    fake.script(
        "GET",
        ASSIGNED,
        vec![(200, json!({"value": [one], "@odata.nextLink": next}))],
    );
    fake.script(
        "GET",
        &format!("{ASSIGNED}?$skiptoken=2"),
        vec![(200, json!({"value": [assignment("aWQtMg", "g-1")]}))],
    );
    let c = fake.client();
    let got = c
        .get_app_role_assignment("sp-1", "aWQtMQ_xyz-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.principal_id, "u-1");
    let all = c.list_app_role_assignments("sp-1").await.unwrap();
    let ids: Vec<_> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["aWQtMQ_xyz-1", "aWQtMg"]);
    assert!(
        c.delete_app_role_assignment("sp-1", "aWQtMQ_xyz-1")
            .await
            .unwrap()
    );
    assert!(
        !c.delete_app_role_assignment("sp-1", "aWQtMQ_xyz-1")
            .await
            .unwrap()
    );
    assert!(
        c.get_app_role_assignment("sp-1", "aWQtMQ_xyz-1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        fake.lines(),
        [
            format!("GET {ASSIGNED}/aWQtMQ_xyz-1"),
            format!("GET {ASSIGNED}"),
            format!("GET {ASSIGNED}?$skiptoken=2"),
            format!("DELETE {ASSIGNED}/aWQtMQ_xyz-1"),
            format!("DELETE {ASSIGNED}/aWQtMQ_xyz-1"),
            format!("GET {ASSIGNED}/aWQtMQ_xyz-1"),
        ]
    );
}

#[tokio::test]
async fn assignment_lists_are_shared_until_the_client_assigns_or_removes() {
    let fake = FakeGraph::start().await;
    let one = json!({"value": [assignment("a-1", "u-1")]});
    let two = json!({"value": [assignment("a-1", "u-1"), assignment("a-2", "u-2")]});
    fake.script("GET", ASSIGNED, vec![(200, one), (200, two)]);
    let c = fake.client();
    let lists =
        futures::future::join_all((0..5).map(|_| c.list_app_role_assignments_shared("sp-1"))).await;
    for l in &lists {
        assert_eq!(l.as_ref().unwrap().len(), 1);
    }
    let lists_made = || {
        fake.lines()
            .iter()
            .filter(|l| **l == format!("GET {ASSIGNED}"))
            .count()
    };
    assert_eq!(lists_made(), 1, "5 readers share one listing");

    // The client's own write drops the shared copy (after reading the new assignment back
    // through the list); the next read lists again.
    fake.script("POST", ASSIGNED, vec![(201, assignment("a-2", "u-2"))]);
    c.create_app_role_assignment(
        "sp-1",
        "u-2",
        "18d14569-c3bd-439b-9a66-3a2aee01d14f",
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    let after = c.list_app_role_assignments_shared("sp-1").await.unwrap();
    assert_eq!((lists_made(), after.len()), (3, 2));
    fake.script(
        "DELETE",
        &format!("{ASSIGNED}/a-2"),
        vec![(204, Value::Null)],
    );
    c.delete_app_role_assignment("sp-1", "a-2").await.unwrap();
    c.list_app_role_assignments_shared("sp-1").await.unwrap();
    assert_eq!(lists_made(), 4, "a delete drops it too");
}

fn unavailable() -> (u16, Value) {
    (
        503,
        json!({"error": {"code": "serviceNotAvailable", "message": "busy"}}),
    )
}

#[tokio::test]
async fn an_assignment_whose_answer_was_lost_is_found_not_made_twice() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let role = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
    let made = assignment("aWQtMQ_xyz-1", "u-1");
    // The POST made it but its answer was lost; the listing shows it.
    fake.script("POST", ASSIGNED, vec![unavailable()]);
    fake.script(
        "GET",
        ASSIGNED,
        vec![(200, json!({"value": [made.clone()]}))],
    );
    let got = c
        .create_app_role_assignment("sp-1", "u-1", role, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.id, "aWQtMQ_xyz-1");
    let posts = |f: &FakeGraph| f.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts(&fake), 1, "not posted again");

    // Not made, and not listed: tried again; a duplicate then is the lost try's own.
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script(
        "POST",
        ASSIGNED,
        vec![
            unavailable(),
            bad_request("Permission being assigned already exists on the object."),
        ],
    );
    fake.script(
        "GET",
        ASSIGNED,
        vec![(200, json!({"value": []})), (200, json!({"value": [made]}))],
    );
    let got = c
        .create_app_role_assignment("sp-1", "u-1", role, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.id, "aWQtMQ_xyz-1");
    assert_eq!(posts(&fake), 2);
}

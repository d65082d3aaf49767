//! Provision on demand of a principal against the recording fake: finding the job and rule,
//! a user, a group in batches of 5 members, and the refusals.

use std::time::Duration;

use serde_json::{Value, json};

use super::fake::FakeGraph;
use super::on_demand::{
    OnDemandError, OnDemandReport, OnDemandTarget, count_group_user_members, find_on_demand_target,
    provision_principal,
};
use super::synchronization::{ProvisionOutcome, SyncObject};

const SP: &str = "sp-1";
const JOB: &str = "scim.0123456789abcdef0123456789abcdef.6f1c2a77-1111-4222-8333-944445555666";
const JOBS: &str = "servicePrincipals/sp-1/synchronization/jobs";
const MEMBERS: &str = "groups/g-1/members?$top=999";
const TIMEOUT: Duration = Duration::from_secs(10);

fn job_path(rest: &str) -> String {
    format!("{JOBS}/{JOB}{rest}")
}

fn schema(objects: &[&str]) -> Value {
    let mappings: Vec<Value> = objects
        .iter()
        .map(|o| json!({"sourceObjectName": o, "attributeMappings": []}))
        .collect();
    json!({"id": JOB, "synchronizationRules": [{"id": "rule-1", "objectMappings": mappings}]})
}

fn target() -> OnDemandTarget {
    OnDemandTarget {
        job_id: JOB.into(),
        rule_id: "rule-1".into(),
    }
}

/// A step saying what was exported for `object_id`, as the sandbox (and the portal) reports it.
fn export(object_id: &str, action: &str) -> Value {
    json!({"name": "EntryExportAction", "type": "Action", "status": "Success",
        "description": format!("{object_id}: {action}"),
        "details": {"objectId": object_id, "action": action}})
}

fn answer(result: &str, details: Value, steps: Vec<Value>) -> (u16, Value) {
    let key = json!({"result": result, "details": details}).to_string();
    (
        200,
        json!({"key": key, "value": Value::Array(steps).to_string()}),
    )
}

fn member(id: &str, odata_type: &str) -> Value {
    json!({"@odata.type": odata_type, "id": id})
}

/// Users `u-1` to `u-{n}`, as Graph lists them among a group's members.
fn users(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| member(&format!("u-{i}"), "#microsoft.graph.user"))
        .collect()
}

/// Steps exporting users `u-{first}` to `u-{last}` with `action`.
fn exports(ids: std::ops::RangeInclusive<usize>, action: &str) -> Vec<Value> {
    ids.map(|i| export(&format!("u-{i}"), action)).collect()
}

/// Scripts the members of group `g-1`.
fn script_members(fake: &FakeGraph, members: Vec<Value>) {
    fake.script("GET", MEMBERS, vec![(200, json!({"value": members}))]);
}

/// Scripts the answers of the job's provision-on-demand calls, in order.
fn script_provisioning(fake: &FakeGraph, answers: Vec<(u16, Value)>) {
    fake.script("POST", &job_path("/provisionOnDemand"), answers);
}

/// Looks up the job and rule that provision `object` on demand.
async fn find(fake: &FakeGraph, object: SyncObject) -> Result<OnDemandTarget, OnDemandError> {
    find_on_demand_target(&fake.client(), SP, object, TIMEOUT).await
}

/// Provisions `principal_id` on demand under the fake's job, with `max_members` as the limit.
async fn provision(
    fake: &FakeGraph,
    principal_id: &str,
    object: SyncObject,
    max_members: usize,
) -> Result<OnDemandReport, OnDemandError> {
    let c = fake.client();
    provision_principal(
        &c,
        SP,
        &target(),
        principal_id,
        object,
        TIMEOUT,
        max_members,
    )
    .await
}

/// The subjects of every provision-on-demand call the fake saw.
fn subjects_sent(fake: &FakeGraph) -> Vec<Value> {
    fake.seen()
        .into_iter()
        .filter(|s| s.target.ends_with("/provisionOnDemand"))
        .map(|s| s.body.unwrap()["parameters"][0]["subjects"][0].clone())
        .collect()
}

#[tokio::test]
async fn the_single_job_and_its_rule_are_found() {
    let fake = FakeGraph::start().await;
    fake.script("GET", JOBS, vec![(200, json!({"value": [{"id": JOB}]}))]);
    fake.script("GET", &job_path("/schema"), vec![(200, schema(&["User"]))]);
    let found = find(&fake, SyncObject::User).await.unwrap();
    assert_eq!(found, target());

    let err = find(&fake, SyncObject::Group).await.unwrap_err();
    assert!(
        matches!(&err, OnDemandError::NoRule { job_id, object: SyncObject::Group } if job_id == JOB),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_job_or_several_jobs_are_refused_without_reading_a_schema() {
    let fake = FakeGraph::start().await;
    fake.script(
        "GET",
        JOBS,
        vec![
            (200, json!({"value": []})),
            (200, json!({"value": [{"id": "job-a"}, {"id": "job-b"}]})),
        ],
    );
    let err = find(&fake, SyncObject::User).await.unwrap_err();
    assert!(matches!(err, OnDemandError::NoJob), "{err:?}");
    let err = find(&fake, SyncObject::User).await.unwrap_err();
    assert!(
        matches!(&err, OnDemandError::SeveralJobs(ids) if ids == &["job-a", "job-b"]),
        "{err:?}"
    );
    assert_eq!(fake.lines(), [format!("GET {JOBS}"), format!("GET {JOBS}")]);
}

#[tokio::test]
async fn the_sync_lag_of_a_new_service_principal_is_waited_out() {
    let fake = FakeGraph::start().await;
    let lag = (
        403,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "not caught up"}}),
    );
    fake.script(
        "GET",
        JOBS,
        vec![lag, (200, json!({"value": [{"id": JOB}]}))],
    );
    fake.script(
        "GET",
        &job_path("/schema"),
        vec![(200, schema(&["User", "Group"]))],
    );
    let found = find(&fake, SyncObject::Group).await.unwrap();
    assert_eq!(found, target());
    assert_eq!(fake.lines().len(), 3);
}

#[tokio::test]
async fn a_user_is_provisioned_alone_and_the_summary_says_what_happened() {
    let fake = FakeGraph::start().await;
    let created = answer(
        "Success",
        json!({"objectId": "u-1"}),
        exports(1..=1, "Create"),
    );
    script_provisioning(&fake, vec![created]);
    let report = provision(&fake, "U-1", SyncObject::User, usize::MAX)
        .await
        .unwrap();
    assert_eq!(report.summary, "User U-1: Success (created in Kiro)");
    assert_eq!(report.calls, 1);
    assert_eq!(
        subjects_sent(&fake),
        [json!({"objectId": "U-1", "objectTypeName": "User"})]
    );
}

#[tokio::test]
async fn a_group_goes_with_its_direct_user_members_five_per_call() {
    let fake = FakeGraph::start().await;
    let mut members = users(7);
    // Nested groups and other objects are not provisioned with the group.
    members.insert(2, member("g-nested", "#microsoft.graph.group"));
    members.push(member("d-1", "#microsoft.graph.device"));
    script_members(&fake, members);
    let first = [vec![export("g-1", "Create")], exports(1..=5, "Create")].concat();
    let second = vec![
        export("g-1", "Update"),
        export("u-6", "Create"),
        export("u-7", "None"),
    ];
    script_provisioning(
        &fake,
        vec![
            answer("Success", json!({}), first),
            answer("Success", json!({}), second),
        ],
    );
    let report = provision(&fake, "g-1", SyncObject::Group, usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        report.summary,
        "Group g-1: Success (created in Kiro); 7 direct user members in 2 calls: \
         Success (6 created, 1 unchanged)"
    );
    assert_eq!(report.calls, 2);
    let sent = subjects_sent(&fake);
    let member_ids = |subject: &Value| -> Vec<String> {
        subject["links"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["objectId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s["objectId"] == "g-1"));
    assert_eq!(member_ids(&sent[0]), ["u-1", "u-2", "u-3", "u-4", "u-5"]);
    assert_eq!(member_ids(&sent[1]), ["u-6", "u-7"]);
}

#[tokio::test]
async fn a_memberless_group_is_provisioned_alone() {
    let fake = FakeGraph::start().await;
    script_members(&fake, vec![]);
    let created = answer("Success", json!({}), vec![export("g-1", "Create")]);
    script_provisioning(&fake, vec![created]);
    let report = provision(&fake, "g-1", SyncObject::Group, usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        report.summary,
        "Group g-1: Success (created in Kiro); no direct user members"
    );
    assert_eq!(
        subjects_sent(&fake),
        [json!({"objectId": "g-1", "objectTypeName": "Group"})]
    );
}

#[tokio::test]
async fn a_failure_stops_with_the_services_reason_and_what_was_done_before() {
    let fake = FakeGraph::start().await;
    script_members(&fake, users(6));
    let kiro_says = "The SCIM endpoint refused POST /Users with 400: department is not supported";
    script_provisioning(
        &fake,
        vec![
            answer("Success", json!({}), exports(1..=5, "Create")),
            answer("Failure", json!({"errorMessage": kiro_says}), vec![]),
        ],
    );
    let err = provision(&fake, "g-1", SyncObject::Group, usize::MAX)
        .await
        .unwrap_err();
    let OnDemandError::NotProvisioned {
        subject,
        outcome,
        reason,
        done_before,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(subject, "group g-1 with members u-6");
    assert_eq!(outcome, ProvisionOutcome::Failure);
    assert_eq!(reason.as_deref(), Some(kiro_says));
    assert_eq!(
        done_before.as_deref(),
        Some("Group g-1: Success; 5 of 6 direct user members in 1 of 2 calls: Success (5 created)")
    );
}

#[tokio::test]
async fn a_group_of_more_users_than_the_limit_is_left_to_the_cycle() {
    let fake = FakeGraph::start().await;
    let mut members = users(7);
    // Only users count against the limit: with the nested group there are 8 members.
    members.push(member("g-nested", "#microsoft.graph.group"));
    script_members(&fake, members);
    let report = provision(&fake, "g-1", SyncObject::Group, 6).await.unwrap();
    assert_eq!(report.calls, 0);
    assert!(subjects_sent(&fake).is_empty());
    assert_eq!(
        report.summary,
        "Group g-1: not provisioned on demand: 7 user members, more than 6; the provisioning \
         cycle provisions them"
    );
}

#[tokio::test]
async fn a_groups_user_members_are_counted_by_graph_with_an_advanced_query() {
    let fake = FakeGraph::start().await;
    let count = "groups/g-1/members/microsoft.graph.user/$count";
    fake.script("GET", count, vec![(200, json!(7))]);
    let counted = count_group_user_members(&fake.client(), "g-1").await;
    assert_eq!(counted.unwrap(), 7);
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "one call, no member listing: {seen:?}");
    assert_eq!(seen[0].target, count);
    assert_eq!(seen[0].consistency_level.as_deref(), Some("eventual"));
}

#[test]
fn a_groups_cost_is_its_calls_and_the_windows_they_wait_for() {
    use crate::graph::on_demand::group_cost;
    assert_eq!(group_cost(0), (1, Duration::ZERO));
    assert_eq!(group_cost(25), (5, Duration::ZERO));
    assert_eq!(group_cost(26), (6, Duration::from_secs(10)));
    // The example: 1,000 members, 200 calls, ~400 s.
    assert_eq!(group_cost(1000), (200, Duration::from_secs(390)));
}

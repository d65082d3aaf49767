//! Synchronization jobs, secrets, Test Connection, schema edits and provision on demand
//! against the recording fake.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::consistency::{is_sync_lag, provision_on_demand_once_assigned, retry_while_sync_lags};
use super::fake::{FakeGraph, bad_request, not_found};
use super::synchronization::{CallLimiter, ProvisionStep};
use super::{
    GraphError, MappingSource, ProvisionOutcome, ProvisionResult, SecretKey, Subject, SyncObject,
    SyncSchema, SyncSecret,
};

const SP: &str = "sp-1";
const JOB: &str = "scim.0123456789abcdef0123456789abcdef.6f1c2a77-1111-4222-8333-944445555666";
const JOBS: &str = "servicePrincipals/sp-1/synchronization/jobs";
const TOKEN: &str = "scim-token-that-must-never-show";

fn job_path(rest: &str) -> String {
    format!("{JOBS}/{JOB}{rest}")
}

fn new_job() -> Value {
    json!({"id": JOB, "templateId": "scim",
        "schedule": {"interval": "PT40M", "state": "Disabled", "expiration": null},
        "status": {"code": "NotConfigured", "countSuccessiveCompleteFailures": 0,
            "lastExecution": null, "quarantine": null},
        "synchronizationJobSettings": [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}]})
}

fn no_content() -> (u16, Value) {
    (204, Value::Null)
}

#[tokio::test]
async fn jobs_are_listed_made_read_controlled_and_deleted() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script("GET", JOBS, vec![(200, json!({"value": [new_job()]}))]);
    fake.script("POST", JOBS, vec![(201, new_job())]);
    fake.script("GET", &job_path(""), vec![(200, new_job()), not_found()]);
    for action in ["/start", "/pause", "/restart"] {
        fake.script("POST", &job_path(action), vec![no_content()]);
    }
    fake.script("DELETE", &job_path(""), vec![no_content(), not_found()]);

    let listed = c.list_sync_jobs(SP).await.unwrap();
    let made = c.create_sync_job(SP, "scim").await.unwrap();
    assert_eq!(listed, vec![made.clone()]);
    assert_eq!((made.id.as_str(), made.template_id.as_str()), (JOB, "scim"));
    let schedule = made.schedule.as_ref().unwrap();
    assert_eq!(schedule.interval.as_deref(), Some("PT40M"));
    assert_eq!(schedule.state.as_deref(), Some("Disabled"));
    let status = made.status.as_ref().unwrap();
    assert_eq!(status.code.as_deref(), Some("NotConfigured"));
    assert_eq!(status.extra["countSuccessiveCompleteFailures"], json!(0));
    // Unknown fields survive a write back.
    assert_eq!(serde_json::to_value(&made).unwrap(), new_job());

    assert_eq!(c.get_sync_job(SP, JOB).await.unwrap(), Some(made));
    assert_eq!(c.get_sync_job(SP, JOB).await.unwrap(), None);
    c.start_sync_job(SP, JOB).await.unwrap();
    c.pause_sync_job(SP, JOB).await.unwrap();
    c.restart_sync_job(SP, JOB, "Full").await.unwrap();
    assert!(c.delete_sync_job(SP, JOB).await.unwrap());
    assert!(!c.delete_sync_job(SP, JOB).await.unwrap());

    let seen: Vec<(String, Option<Value>)> = fake
        .seen()
        .into_iter()
        .map(|s| (s.line(), s.body))
        .collect();
    let line = |m: &str, rest: &str| format!("{m} {}", job_path(rest));
    assert_eq!(
        seen,
        vec![
            (format!("GET {JOBS}"), None),
            (format!("POST {JOBS}"), Some(json!({"templateId": "scim"}))),
            (line("GET", ""), None),
            (line("GET", ""), None),
            (line("POST", "/start"), None),
            (line("POST", "/pause"), None),
            (
                line("POST", "/restart"),
                Some(json!({"criteria": {"resetScope": "Full"}}))
            ),
            (line("DELETE", ""), None),
            (line("DELETE", ""), None),
        ]
    );
}

#[tokio::test]
async fn a_quarantined_job_reads_its_reason_and_last_error() {
    let fake = FakeGraph::start().await;
    let mut job = new_job();
    job["schedule"]["state"] = json!("Active");
    job["status"] = json!({"code": "Quarantine",
        "lastExecution": {"state": "Failed", "timeBegan": "2026-01-01T00:00:00Z",
            "timeEnded": "2026-01-01T00:01:00Z", "activityIdentifier": "a-1",
            "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable",
                "message": "The SCIM endpoint answered 401", "tenantActionable": true}},
        "quarantine": {"reason": "EncounteredQuarantineException", "currentBegan": "2026-01-01T00:01:00Z",
            "error": {"code": "Unauthorized", "message": "bad token"}}});
    fake.put_object(&job_path(""), job.clone());
    let got = fake.client().get_sync_job(SP, JOB).await.unwrap().unwrap();
    let status = got.status.as_ref().unwrap();
    let last = status.last_execution.as_ref().unwrap();
    assert_eq!(last.state.as_deref(), Some("Failed"));
    assert_eq!(last.time_ended.as_deref(), Some("2026-01-01T00:01:00Z"));
    let error = last.error.as_ref().unwrap();
    assert_eq!(
        error.message.as_deref(),
        Some("The SCIM endpoint answered 401")
    );
    let quarantine = status.quarantine.as_ref().unwrap();
    assert_eq!(
        quarantine.reason.as_deref(),
        Some("EncounteredQuarantineException")
    );
    assert_eq!(
        quarantine.error.as_ref().unwrap().code.as_deref(),
        Some("Unauthorized")
    );
    assert_eq!(serde_json::to_value(&got).unwrap(), job);
}

fn lag(status: u16) -> (u16, Value) {
    (
        status,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "not ready"}}),
    )
}

#[tokio::test]
async fn sync_lag_answers_are_retried_and_other_errors_are_not() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script(
        "GET",
        JOBS,
        vec![
            lag(401),
            lag(403),
            lag(409),
            (200, json!({"value": [new_job()]})),
        ],
    );
    let jobs = retry_while_sync_lags("jobs", Duration::from_secs(10), || c.list_sync_jobs(SP))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(fake.lines().len(), 4);

    fake.script("POST", JOBS, vec![bad_request("Invalid template id")]);
    let err = retry_while_sync_lags("job", Duration::from_secs(10), || {
        c.create_sync_job(SP, "nope")
    })
    .await
    .unwrap_err();
    assert_eq!(err.message(), Some("Invalid template id"));
    assert_eq!(fake.lines().len(), 5, "a refusal is not retried");

    assert!(!is_sync_lag(&GraphError::Transport("x".into())));
    // A second job is a real conflict: it returns at once.
    fake.script(
        "POST",
        JOBS,
        vec![(
            409,
            json!({"error": {"code": "Conflict", "message": "A synchronization job with template 'scim' already exists for this service principal."}}),
        )],
    );
    let err = retry_while_sync_lags("job", Duration::from_secs(10), || {
        c.create_sync_job(SP, "scim")
    })
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(fake.lines().len(), 6, "a duplicate job is not retried");
    let started = Instant::now();
    fake.script("GET", &job_path(""), vec![lag(403)]);
    let err = retry_while_sync_lags("the job", Duration::from_millis(300), || {
        c.get_sync_job(SP, JOB)
    })
    .await
    .unwrap_err();
    assert!(matches!(err, GraphError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("not ready"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

fn secrets() -> Vec<SyncSecret> {
    vec![
        SyncSecret::new(
            SecretKey::BaseAddress,
            "https://scim.example/scim/v2?aadOptscim062020",
        ),
        SyncSecret::new(SecretKey::SecretToken, TOKEN),
        SyncSecret::new(SecretKey::SyncAll, "false"),
    ]
}

fn secrets_json() -> Value {
    json!([
        {"key": "BaseAddress", "value": "https://scim.example/scim/v2?aadOptscim062020"},
        {"key": "SecretToken", "value": TOKEN},
        {"key": "SyncAll", "value": "false"}
    ])
}

#[test]
fn secret_keys_are_spelled_as_graph_wants_and_values_never_show() {
    let keys = [
        SecretKey::BaseAddress,
        SecretKey::SecretToken,
        SecretKey::SyncAll,
        SecretKey::SyncNotificationSettings,
    ];
    let names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "BaseAddress",
            "SecretToken",
            "SyncAll",
            "SyncNotificationSettings"
        ]
    );
    let shown = format!("{:?}", secrets());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("SecretToken") && shown.contains("<redacted>"));
}

#[tokio::test]
async fn secrets_are_written_whole_and_read_masked() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = "servicePrincipals/sp-1/synchronization/secrets";
    fake.script("PUT", path, vec![no_content()]);
    fake.script(
        "GET",
        path,
        vec![(
            200,
            json!({"value": [
                {"key": "BaseAddress", "value": "https://scim.example/scim/v2"},
                {"key": "SecretToken", "value": "*"},
                {"key": "SyncNotificationSettings"},
                {"key": "SyncAll", "value": false}
            ]}),
        )],
    );
    c.put_sync_secrets(SP, &secrets()).await.unwrap();
    let read = c.get_sync_secrets(SP).await.unwrap();
    assert_eq!(
        read,
        [
            ("BaseAddress".into(), "https://scim.example/scim/v2".into()),
            ("SecretToken".into(), "*".into()),
            ("SyncNotificationSettings".into(), String::new()),
            ("SyncAll".into(), "false".into()),
        ]
    );
    let writes = fake.writes();
    assert_eq!(writes[0].line(), format!("PUT {path}"));
    assert_eq!(writes[0].body, Some(json!({"value": secrets_json()})));
}

#[tokio::test]
async fn test_connection_sends_the_given_credentials_and_keeps_graphs_reason() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = job_path("/validateCredentials");
    let reason = "We could not connect to the tenant URL: the token is invalid (401).";
    fake.script("POST", &path, vec![no_content(), bad_request(reason)]);
    c.validate_credentials(SP, JOB, &secrets()).await.unwrap();
    let err = c
        .validate_credentials(SP, JOB, &secrets())
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some(reason));
    assert!(err.to_string().contains(reason), "{err}");
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    let body = json!({"useSavedCredentials": false, "credentials": secrets_json()});
    for seen in fake.seen() {
        assert_eq!(seen.line(), format!("POST {path}"));
        assert_eq!(seen.body, Some(body.clone()));
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let (logs, _guard) = crate::test_logs::CapturedLogs::start();

    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script(
        "PUT",
        "servicePrincipals/sp-1/synchronization/secrets",
        vec![no_content()],
    );
    fake.script(
        "POST",
        &job_path("/validateCredentials"),
        vec![bad_request("the endpoint refused the token")],
    );
    fake.script("POST", &job_path("/restart"), vec![no_content()]);
    c.put_sync_secrets(SP, &secrets()).await.unwrap();
    c.validate_credentials(SP, JOB, &secrets())
        .await
        .unwrap_err();
    c.restart_sync_job(SP, JOB, "Watermark").await.unwrap();

    let logged = logs.lines();
    let all = logged.join("\n");
    // Proof the capture works: a body without secrets is logged at trace.
    assert!(all.contains("Watermark"), "{all}");
    assert!(all.contains("synchronization/secrets"), "{all}");
    assert!(!all.contains(TOKEN), "{all}");
}

// --- schema --------------------------------------------------------------------------------

fn mapping(target: &str, source: Value) -> Value {
    json!({"defaultValue": null, "exportMissingReferences": false,
        "flowBehavior": "FlowWhenChanged", "flowType": "Always", "matchingPriority": 0,
        "source": source, "targetAttributeName": target})
}

fn attribute(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
}

/// A schema as Graph sends it for the non-gallery SCIM template: one rule per object type,
/// a Function source with nested parameters, and fields this client does not model.
fn schema_json() -> Value {
    let mut user_name = mapping("userName", attribute("userPrincipalName"));
    user_name["matchingPriority"] = json!(1);
    let active = mapping(
        "active",
        json!({"expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
        "name": "Switch", "type": "Function", "futureSourceField": 1,
        "parameters": [
            {"key": "source", "value": attribute("IsSoftDeleted")},
            {"key": "defaultValue", "value": {"expression": "\"\"", "name": "", "parameters": [], "type": "Constant"}}
        ]}),
    );
    json!({
        "id": "scim",
        "version": "Date:2026-01-01T00:00:00Z~ID:1",
        "directories": [{"id": "AzureActiveDirectory", "name": "Azure Active Directory",
            "objects": [{"name": "User", "attributes": [{"name": "objectId", "type": "String"}]}]}],
        "synchronizationRules": [
            {"id": "AD2SCIMUser", "name": "USER_INBOUND_USER", "editable": true, "priority": 1,
             "sourceDirectoryName": "Azure Active Directory", "targetDirectoryName": "customappsso",
             "metadata": [{"key": "defaultSourceObjectMappings", "value": "true"}],
             "objectMappings": [{
                "enabled": true, "flowTypes": "Add, Update, Delete",
                "name": "Provision Microsoft Entra ID Users", "sourceObjectName": "User",
                "targetObjectName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "scope": null, "metadata": [],
                "attributeMappings": [
                    user_name,
                    active,
                    mapping("externalId", attribute("mailNickname")),
                    mapping("phoneNumbers[type eq \"work\"].value", attribute("telephoneNumber")),
                    mapping("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", attribute("department"))
                ]}]},
            {"id": "AD2SCIMGroup", "name": "GROUP_INBOUND_GROUP", "editable": true, "priority": 2,
             "sourceDirectoryName": "Azure Active Directory", "targetDirectoryName": "customappsso",
             "objectMappings": [{
                "enabled": true, "flowTypes": "Add, Update, Delete",
                "name": "Provision Microsoft Entra ID Groups", "sourceObjectName": "Group",
                "targetObjectName": "urn:ietf:params:scim:schemas:core:2.0:Group",
                "scope": null, "metadata": [],
                "attributeMappings": [
                    mapping("displayName", attribute("displayName")),
                    mapping("externalId", attribute("objectId")),
                    mapping("members", attribute("members"))
                ]}]}
        ]
    })
}

#[test]
fn an_unedited_schema_round_trips_exactly() {
    let schema: SyncSchema = serde_json::from_value(schema_json()).unwrap();
    assert_eq!(serde_json::to_value(&schema).unwrap(), schema_json());
    assert_eq!(schema.rule_id_for(SyncObject::User), Some("AD2SCIMUser"));
    assert_eq!(schema.rule_id_for(SyncObject::Group), Some("AD2SCIMGroup"));
    let active = schema.mapping(SyncObject::User, "ACTIVE").unwrap();
    assert_eq!(active.source.kind, "Function");
    assert_eq!(
        active.source.parameters[0].value.name.as_deref(),
        Some("IsSoftDeleted")
    );
    assert_eq!(
        schema
            .mapping(SyncObject::Group, "externalId")
            .unwrap()
            .source,
        MappingSource::attribute("objectId")
    );
    assert!(schema.mapping(SyncObject::Group, "department").is_none());
}

#[tokio::test]
async fn a_read_edit_write_changes_only_the_edited_mappings() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = job_path("/schema");
    fake.put_object(&path, schema_json());
    fake.script("PUT", &path, vec![no_content()]);

    let mut schema = c.get_sync_schema(SP, JOB).await.unwrap();
    schema
        .set_mapping(
            SyncObject::User,
            "externalId",
            MappingSource::attribute("objectId"),
        )
        .unwrap();
    let removed = schema
        .remove_mapping(SyncObject::User, "phoneNumbers[type eq \"work\"].value")
        .unwrap();
    assert_eq!(
        removed.target_attribute_name,
        "phoneNumbers[type eq \"work\"].value"
    );
    assert!(
        schema
            .remove_mapping(SyncObject::User, "nickName")
            .is_none()
    );
    schema
        .set_mapping(
            SyncObject::Group,
            "urn:kiro:team",
            MappingSource::attribute("mailNickname"),
        )
        .unwrap();
    assert_eq!(schema.user_mappings_mut().unwrap().len(), 4);
    assert_eq!(schema.group_mappings_mut().unwrap().len(), 4);
    c.put_sync_schema(SP, JOB, &schema).await.unwrap();

    let mut expected = schema_json();
    let users = &mut expected["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"];
    users[2]["source"] = attribute("objectId");
    users.as_array_mut().unwrap().remove(3);
    expected["synchronizationRules"][1]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(mapping("urn:kiro:team", attribute("mailNickname")));
    let writes = fake.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].line(), format!("PUT {path}"));
    assert_eq!(writes[0].body, Some(expected));
}

#[test]
fn editing_a_schema_without_the_object_type_fails_clearly() {
    let mut schema: SyncSchema = serde_json::from_value(schema_json()).unwrap();
    schema.synchronization_rules.truncate(1);
    assert!(schema.group_mappings_mut().is_none());
    assert_eq!(schema.rule_id_for(SyncObject::Group), None);
    let err = schema
        .set_mapping(
            SyncObject::Group,
            "externalId",
            MappingSource::attribute("objectId"),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("no object mapping for Group"),
        "{err}"
    );
}

// --- provision on demand -------------------------------------------------------------------

fn step(name: &str, status: &str, description: &str, details: Value) -> Value {
    json!({"name": name, "type": "Export", "status": status, "description": description,
        "timestamp": "2026-01-01T00:00:00Z", "details": details})
}

/// Graph's answer: both fields are JSON documents inside strings.
fn answer(result: &str, details: Value, steps: Value) -> (u16, Value) {
    let key = json!({"result": result, "details": details}).to_string();
    (200, json!({"key": key, "value": steps.to_string()}))
}

fn user(id: &str) -> Subject {
    Subject::User {
        object_id: id.into(),
    }
}

#[tokio::test]
async fn provision_on_demand_sends_the_subjects_and_reads_success_and_failure() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = job_path("/provisionOnDemand");
    let scim_error = "SCIM 400: Attribute 'phoneNumbers' is not supported";
    fake.script(
        "POST",
        &path,
        vec![
            answer(
                "Success",
                json!({"objectId": "u-1"}),
                json!([step("EntryExportAdd", "Success", "User created", json!({}))]),
            ),
            answer(
                "Failure",
                json!({}),
                json!({"provisioningSteps": [
                    step("EntryImport", "Success", "Retrieved the user", json!({})),
                    step("EntryExportUpdate", "Failure", "Failed to update the user",
                        json!({"ErrorMessage": scim_error}))
                ]}),
            ),
        ],
    );
    let ok = c
        .provision_on_demand(SP, JOB, "AD2SCIMUser", &[user("u-1")])
        .await
        .unwrap();
    assert_eq!(ok.outcome, ProvisionOutcome::Success);
    assert_eq!(ok.reason, None);
    assert_eq!(ok.details, json!({"objectId": "u-1"}));
    assert_eq!(ok.steps[0].name.as_deref(), Some("EntryExportAdd"));
    assert_eq!(
        ok.steps[0].extra["timestamp"],
        json!("2026-01-01T00:00:00Z")
    );

    let group = Subject::Group {
        object_id: "g-1".into(),
        members: vec!["u-1".into(), "u-2".into()],
    };
    let failed = c
        .provision_on_demand(SP, JOB, "AD2SCIMGroup", &[group])
        .await
        .unwrap();
    assert_eq!(failed.outcome, ProvisionOutcome::Failure);
    assert_eq!(
        failed.reason.as_deref(),
        Some(format!("Failed to update the user: {scim_error}").as_str())
    );
    assert_eq!(failed.steps.len(), 2);
    assert!(!failed.is_not_assigned());

    let bodies: Vec<Option<Value>> = fake.seen().into_iter().map(|s| s.body).collect();
    assert_eq!(
        bodies,
        [
            Some(json!({"parameters": [{"ruleId": "AD2SCIMUser",
                "subjects": [{"objectId": "u-1", "objectTypeName": "User"}]}]})),
            Some(json!({"parameters": [{"ruleId": "AD2SCIMGroup",
                "subjects": [{"objectId": "g-1", "objectTypeName": "Group",
                    "links": {"members": [{"objectId": "u-1", "objectTypeName": "User"},
                                          {"objectId": "u-2", "objectTypeName": "User"}]}}]}]})),
        ]
    );
    assert!(fake.lines().iter().all(|l| *l == format!("POST {path}")));
}

#[tokio::test]
async fn too_many_group_members_or_no_subject_are_refused_before_calling() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let group = Subject::Group {
        object_id: "g-1".into(),
        members: (0..6).map(|i| format!("u-{i}")).collect(),
    };
    let err = c
        .provision_on_demand(SP, JOB, "AD2SCIMGroup", &[group])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err}");
    assert!(
        err.to_string().contains("at most 5 members of group g-1"),
        "{err}"
    );
    let err = c
        .provision_on_demand(SP, JOB, "AD2SCIMUser", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err}");
    assert!(fake.seen().is_empty());
}

#[test]
fn provision_results_name_the_reason_and_refuse_bad_shapes() {
    let skipped = ProvisionResult::parse(
        &answer(
            "Skipped",
            json!({"SkipReason": "The user is not assigned to the application"}),
            json!([]),
        )
        .1,
    )
    .unwrap();
    assert_eq!(skipped.outcome, ProvisionOutcome::Skipped);
    assert_eq!(
        skipped.reason.as_deref(),
        Some("The user is not assigned to the application")
    );
    assert!(skipped.is_not_assigned());
    let other = ProvisionResult::parse(&answer("Pending", json!(null), json!([])).1).unwrap();
    assert_eq!(other.outcome, ProvisionOutcome::Other("Pending".into()));

    for (bad, says) in [
        (json!({"value": "[]"}), "`key` is missing"),
        (
            json!({"key": {"result": "Success"}, "value": "[]"}),
            "`key` is missing or not a string",
        ),
        (
            json!({"key": "{not json", "value": "[]"}),
            "`key` is not a JSON document",
        ),
        (json!({"key": "{}", "value": "[]"}), "no `result`"),
        (
            json!({"key": "{\"result\":\"Success\"}", "value": "[1]"}),
            "provisioning steps",
        ),
    ] {
        let err = ProvisionResult::parse(&bad).unwrap_err();
        assert!(matches!(err, GraphError::Decode { .. }), "{err}");
        assert!(err.to_string().contains(says), "{says}: {err}");
    }
    // A step's type is read as `kind`.
    let step: ProvisionStep =
        serde_json::from_value(step("EntryImport", "Success", "ok", json!({}))).unwrap();
    assert_eq!(step.kind.as_deref(), Some("Export"));
}

#[tokio::test]
async fn not_assigned_answers_are_retried_until_the_assignment_arrives() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = job_path("/provisionOnDemand");
    let not_assigned = answer(
        "Skipped",
        json!({}),
        json!([step(
            "EntryScoping",
            "Skipped",
            "The user is not assigned to the application",
            json!({"SkipReason": "NotEffectivelyEntitled"})
        )]),
    );
    fake.script(
        "POST",
        &path,
        vec![
            not_assigned.clone(),
            not_assigned.clone(),
            answer("Success", json!({}), json!([])),
        ],
    );
    let got = provision_on_demand_once_assigned(
        &c,
        SP,
        JOB,
        "AD2SCIMUser",
        &[user("u-1")],
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(got.outcome, ProvisionOutcome::Success);
    assert_eq!(fake.seen().len(), 3);

    fake.script("POST", &path, vec![not_assigned]);
    // Two more calls fit Graph's 5 per 10 s; the third would wait for the limiter, and the
    // deadline bounds that wait as well.
    let started = Instant::now();
    let err = provision_on_demand_once_assigned(
        &c,
        SP,
        JOB,
        "AD2SCIMUser",
        &[user("u-1")],
        Duration::from_millis(200),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, GraphError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("NotEffectivelyEntitled"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.seen().len(), 5);
}

#[tokio::test]
async fn the_limiter_keeps_each_service_principal_within_its_window() {
    let window = Duration::from_millis(300);
    let limiter = CallLimiter::new(2, window);
    let started = Instant::now();
    limiter.acquire("sp-a").await;
    limiter.acquire("sp-a").await;
    limiter.acquire("sp-b").await;
    assert!(
        started.elapsed() < window / 2,
        "calls within the limit do not wait"
    );
    limiter.acquire("sp-a").await;
    let third = started.elapsed();
    assert!(
        third >= window,
        "the third call waited for the window: {third:?}"
    );
    assert!(third < window * 2, "{third:?}");
}

#[tokio::test]
async fn the_client_waits_before_the_sixth_call_in_ten_seconds() {
    // Graph's real window is 10 s, too long to wait in a unit test, so this checks that five
    // calls pass at once through the client's own limiter and a sixth would have to wait:
    // the limiter's waiting itself is covered above with a short window.
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let path = job_path("/provisionOnDemand");
    fake.script("POST", &path, vec![answer("Success", json!({}), json!([]))]);
    let started = Instant::now();
    for _ in 0..5 {
        c.provision_on_demand(SP, JOB, "AD2SCIMUser", &[user("u-1")])
            .await
            .unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let sixth = tokio::time::timeout(
        Duration::from_millis(300),
        c.provision_on_demand(SP, JOB, "AD2SCIMUser", &[user("u-1")]),
    )
    .await;
    assert!(sixth.is_err(), "the sixth call within 10 s waits");
    assert_eq!(fake.seen().len(), 5, "and is not sent while it waits");
    // Another service principal has its own budget.
    c.provision_on_demand("sp-2", JOB, "AD2SCIMUser", &[user("u-1")])
        .await
        .unwrap_err(); // the fake knows no such path: 404, but the call was made at once
    assert_eq!(fake.seen().len(), 6);
}

#[tokio::test]
async fn start_and_pause_are_repeated_after_a_transient_failure_but_restart_is_not() {
    let fake = FakeGraph::start().await;
    let c = fake.client();
    let unavailable = (
        503,
        json!({"error": {"code": "ServiceUnavailable", "message": "try later"}}),
    );
    for action in ["/start", "/pause", "/restart"] {
        fake.script(
            "POST",
            &job_path(action),
            vec![unavailable.clone(), no_content()],
        );
    }
    c.start_sync_job(SP, JOB).await.unwrap();
    c.pause_sync_job(SP, JOB).await.unwrap();
    let err = c.restart_sync_job(SP, JOB, "Full").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let line = |action: &str| format!("POST {}", job_path(action));
    assert_eq!(
        fake.lines(),
        [
            line("/start"),
            line("/start"),
            line("/pause"),
            line("/pause"),
            line("/restart")
        ]
    );
}

#[test]
fn a_group_without_members_is_sent_without_links() {
    let group = Subject::Group {
        object_id: "g-1".into(),
        members: Vec::new(),
    };
    let user = user("u-1");
    let sent: Vec<Value> = [group, user].iter().map(Subject::to_json).collect();
    assert_eq!(
        sent,
        [
            json!({"objectId": "g-1", "objectTypeName": "Group"}),
            json!({"objectId": "u-1", "objectTypeName": "User"})
        ]
    );
}

#[tokio::test]
async fn a_job_create_whose_answer_was_lost_is_found_not_made_twice() {
    use super::consistency::create_or_find_sync_job;
    let busy = (
        503,
        json!({"error": {"code": "serviceNotAvailable", "message": "busy"}}),
    );
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script(
        "GET",
        JOBS,
        vec![
            (200, json!({"value": []})),
            (200, json!({"value": [new_job()]})),
        ],
    );
    fake.script("POST", JOBS, vec![busy.clone()]);
    let (job, made) = create_or_find_sync_job(&c, SP, "scim", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!((job.id.as_str(), made), (JOB, true), "the lost try's job");
    let posts = |f: &FakeGraph| f.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts(&fake), 1);

    // An existing job is adopted without a POST; a refusal is not retried.
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script("GET", JOBS, vec![(200, json!({"value": [new_job()]}))]);
    let (_, made) = create_or_find_sync_job(&c, SP, "scim", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!made);
    assert_eq!(posts(&fake), 0);
    let fake = FakeGraph::start().await;
    let c = fake.client();
    fake.script("GET", JOBS, vec![(200, json!({"value": []}))]);
    fake.script("POST", JOBS, vec![bad_request("no such template")]);
    let err = create_or_find_sync_job(&c, SP, "scim", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no such template"), "{err}");
    assert_eq!(posts(&fake), 1);
}

//! The checks that need no network: what each finds, on Graph's and Kiro's JSON shapes.

use serde_json::json;

use super::entra::{identifier_uri, redirect_uris, scopes, token_version};
use super::kiro_side::profile_trust;
use super::provisioning::{Expected, arrival, job_findings, mappings};
use super::{Finding, GUIDE_REDIRECT_URIS, GUIDE_SCOPES, summary};
use crate::graph::{Application, MemberKind, SyncJob, SyncSchema};
use crate::kiro::{Group, Profile, User};

fn checks(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.check.as_str()).collect()
}

fn guide() -> Vec<String> {
    GUIDE_SCOPES.iter().map(|s| s.to_string()).collect()
}

fn uris() -> Vec<String> {
    GUIDE_REDIRECT_URIS.iter().map(|s| s.to_string()).collect()
}

fn application(version: Option<i32>, enabled: bool) -> Application {
    serde_json::from_value(json!({
        "id": "obj", "appId": "app", "identifierUris": ["api://app"],
        "api": {"requestedAccessTokenVersion": version, "oauth2PermissionScopes": [
            {"id": "1", "value": "codewhisperer:completions", "isEnabled": enabled},
            {"id": "2", "value": "codewhisperer:conversations", "isEnabled": true}]},
        "publicClient": {"redirectUris": ["kiro://kiro.oauth/callback"]},
    }))
    .unwrap()
}

#[test]
fn the_application_links() {
    let good = application(Some(2), true);
    assert!(token_version(&good).is_empty());
    assert!(identifier_uri(&good).is_empty());
    assert!(scopes(&good, &guide()).is_empty());
    // A null version is version 1, which Kiro refuses.
    assert_eq!(
        checks(&token_version(&application(None, true))),
        ["token_version"]
    );
    let disabled = scopes(&application(Some(2), false), &guide());
    assert_eq!(checks(&disabled), ["scope_disabled"]);
    assert!(disabled[0].problem.contains("codewhisperer:completions"));
    let wanted = vec!["codewhisperer:other".to_string()];
    assert_eq!(checks(&scopes(&good, &wanted)), ["scope_missing"]);
    let missing = redirect_uris(&good, &uris());
    assert_eq!(checks(&missing), ["redirect_uri"]);
    assert!(missing[0].fix.contains("http://localhost/oauth/callback"));
    let mut no_uri = good.clone();
    no_uri.identifier_uris.clear();
    let found = identifier_uri(&no_uri);
    assert!(found[0].fix.contains("api://app"), "{found:?}");
}

fn profile(issuer: &str, client_id: &str) -> Profile {
    serde_json::from_value(json!({
        "arn": "arn:aws:codewhisperer:us-east-1:123456789012:profile/P", "profileName": "kiro",
        "status": "ACTIVE", "createdAt": 0,
        "identityDetails": {"externalIdentityProviderDetails": {
            "issuerUrl": issuer, "clientId": client_id, "scimEndpoint": "https://scim/v2"}},
    }))
    .unwrap()
}

#[test]
fn the_profile_trusts_this_tenant_and_this_application() {
    let issuer = "https://login.microsoftonline.com/t/v2.0";
    let app = application(Some(2), true);
    assert!(profile_trust(&profile(issuer, "APP"), &app, issuer).is_empty());
    let v1 = "https://sts.windows.net/t/";
    assert_eq!(
        checks(&profile_trust(&profile(v1, "other"), &app, issuer)),
        ["profile_issuer", "profile_client_id"]
    );
}

fn job(status: serde_json::Value) -> SyncJob {
    serde_json::from_value(json!({"id": "scim.1", "templateId": "scim",
        "schedule": {"state": "Active"}, "status": status}))
    .unwrap()
}

#[test]
fn the_job_runs_out_of_quarantine_and_its_last_cycle_succeeded() {
    assert!(
        job_findings(&job(json!({"code": "Active",
        "lastExecution": {"state": "Succeeded"}})))
        .is_empty()
    );
    let quarantined = job(json!({"code": "Quarantine",
        "quarantine": {"reason": "EncounteredQuarantineException",
            "error": {"code": "CredentialsInvalid", "message": "401"}},
        "lastExecution": {"state": "Failed", "error": {"message": "401"}}}));
    let found = job_findings(&quarantined);
    assert_eq!(
        checks(&found),
        ["provisioning_quarantine", "provisioning_last_cycle"]
    );
    assert!(found[0].problem.contains("CredentialsInvalid"));
    let entry_errors = job_findings(&job(
        json!({"lastExecution": {"state": "EntryLevelErrors"}}),
    ));
    assert_eq!(entry_errors[0].severity, "warning");
    let mut paused = job(json!({}));
    paused.schedule.as_mut().unwrap().state = Some("Paused".into());
    assert_eq!(checks(&job_findings(&paused)), ["provisioning_state"]);
}

fn schema(mappings: serde_json::Value) -> SyncSchema {
    serde_json::from_value(
        json!({"synchronizationRules": [{"id": "r", "objectMappings": [
        {"sourceObjectName": "User", "attributeMappings": mappings}]}]}),
    )
    .unwrap()
}

fn mapping(target: &str, source: &str) -> serde_json::Value {
    json!({"targetAttributeName": target,
        "source": {"type": "Attribute", "name": source, "expression": format!("[{source}]")}})
}

#[test]
fn the_mappings_kiro_accepts() {
    let good = schema(json!([
        mapping("externalId", "objectId"),
        mapping("userName", "userPrincipalName")
    ]));
    assert!(mappings(&good).is_empty());
    let department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    let bad = schema(json!([
        mapping("externalId", "mail"),
        mapping(department, "department")
    ]));
    let found = mappings(&bad);
    assert_eq!(checks(&found), ["mapping_rejected", "mapping_external_id"]);
    assert!(found[1].problem.contains("[mail]"));
}

fn kiro_user(user_name: &str, external_id: &str) -> User {
    serde_json::from_value(json!({"userId": "k1", "userName": user_name,
        "externalId": external_id, "active": true}))
    .unwrap()
}

#[test]
fn assigned_people_arrived_with_their_object_id() {
    let ada = Expected {
        kind: MemberKind::User,
        object_id: "oid-ada".into(),
        name: "ada@contoso.com".into(),
        via: Some("Kiro Developers".into()),
    };
    let none: [Group; 0] = [];
    assert!(arrival(&ada, &[kiro_user("ada@contoso.com", "oid-ada")], &none).is_none());
    let mismatch = arrival(&ada, &[kiro_user("Ada@contoso.com", "EMP-1")], &none).unwrap();
    assert_eq!(mismatch.check, "external_id_mismatch");
    assert!(mismatch.problem.contains("EMP-1") && mismatch.problem.contains("Kiro Developers"));
    let missing = arrival(&ada, &[kiro_user("bob@contoso.com", "oid-bob")], &none).unwrap();
    assert_eq!(missing.check, "principal_missing_in_kiro");
}

#[test]
fn the_summary_has_one_line_per_finding_with_its_fix() {
    let found = token_version(&application(Some(1), true));
    let text = summary(&found);
    assert!(text.starts_with("[token_version] "), "{text}");
    assert!(
        text.contains(" Fix: Set requested_access_token_version = 2"),
        "{text}"
    );
    assert_eq!(summary(&[]), "");
}

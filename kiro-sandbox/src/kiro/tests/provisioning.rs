//! End to end: an app from the template, a Kiro profile and SCIM token, a provisioning job
//! configured through Graph, and cycles that land users and groups in the profile's SCIM
//! directory the way Entra's provisioning service would.

use serde_json::{Value, json};

use super::{Q, start_kiro};
use crate::sandbox_tests::{Resp, Server};

const USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";

#[tokio::test]
async fn a_configured_job_provisions_assigned_users_and_groups_into_kiro() {
    let k = start_kiro().await;
    let s = &k.s;
    let NewJob {
        token,
        sp_id,
        arn,
        secret,
        base,
        sync,
        job,
        created,
    } = new_job(&k, "Provisioned").await;
    assert!(job.starts_with("scim."), "{job}");
    assert_eq!(created["schedule"]["interval"], "PT40M");
    assert_eq!(created["status"]["code"], "NotConfigured");
    let again = post_scim_job(s, &token, &sync).await;
    assert_eq!(again.status, 409);

    let creds = |t: &str| json!({"useSavedCredentials": false, "credentials": [{"key": "BaseAddress", "value": base}, {"key": "SecretToken", "value": t}]});
    let validate = format!("{sync}/jobs/{job}/validateCredentials");
    let bad = s
        .graph(&token, "POST", &validate, Some(creds("wrong")))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.message().contains("the token is invalid"),
        "{}",
        bad.message()
    );
    let good = s
        .graph(&token, "POST", &validate, Some(creds(&secret)))
        .await;
    assert_eq!(good.status, 204, "{:?}", good.body);

    let unknown = s
        .graph(
            &token,
            "PUT",
            &format!("{sync}/secrets"),
            Some(json!({"value": [{"key": "baseaddress", "value": base}]})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    let put = s.graph(&token, "PUT", &format!("{sync}/secrets"), Some(json!({"value": [{"key": "BaseAddress", "value": base}, {"key": "SecretToken", "value": secret}]}))).await;
    assert_eq!(put.status, 204);
    let shown = s
        .graph(&token, "GET", &format!("{sync}/secrets"), None)
        .await;
    assert_eq!(
        shown.body["value"][1],
        json!({"key": "SecretToken", "value": "*"})
    );
    assert_eq!(shown.body["value"][0]["value"], base.as_str());

    // Edit the schema as the provider does: externalId from objectId, the enterprise
    // mappings and phone numbers Kiro rejects dropped (erin has a department).
    let mut schema = s
        .graph(&token, "GET", &format!("{sync}/jobs/{job}/schema"), None)
        .await
        .body;
    for om in schema["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap()
    {
        let is_user = om["sourceObjectName"] == "User";
        let attrs = om["attributeMappings"].as_array_mut().unwrap();
        attrs.retain(|a| {
            let t = a["targetAttributeName"].as_str().unwrap();
            !t.starts_with("phoneNumbers")
                && !t.ends_with(":employeeNumber")
                && !t.ends_with(":department")
                && !t.ends_with(":manager")
        });
        for a in attrs.iter_mut() {
            if a["targetAttributeName"] == "externalId" && is_user {
                a["source"] = json!({"expression": "[objectId]", "name": "objectId", "type": "Attribute", "parameters": []});
            }
        }
    }
    let mut broken = schema.clone();
    broken["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][0]["source"]["name"] =
        json!("nope");
    let r = s
        .graph(
            &token,
            "PUT",
            &format!("{sync}/jobs/{job}/schema"),
            Some(broken),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = s
        .graph(
            &token,
            "PUT",
            &format!("{sync}/jobs/{job}/schema"),
            Some(schema),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    let objects = s.objects().await;
    let alice = objects["users"][0]["id"].as_str().unwrap().to_string();
    let admins = objects["groups"][1].clone();
    assert_eq!(admins["displayName"], "Kiro Admins");
    let admins_id = admins["id"].as_str().unwrap().to_string();
    let mut assignment_ids = Vec::new();
    for principal in [&alice, &admins_id] {
        let r = s
            .control(
                "POST",
                &format!("tenants/{}/assignments", s.tenant.tenant_id),
                Some(
                    json!({"principalId": principal, "resourceId": sp_id, "appRoleId": USER_ROLE}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assignment_ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let r = s
        .graph(&token, "POST", &format!("{sync}/jobs/{job}/start"), None)
        .await;
    assert_eq!(r.status, 204);
    let run_path = format!("tenants/{}/provisioning/run", s.tenant.tenant_id);
    let run_body = json!({"service_principal_id": sp_id});
    let summary = s
        .control("POST", &run_path, Some(run_body.clone()))
        .await
        .body;
    assert_eq!(summary["state"], "Succeeded", "{summary}");
    let kiro = k.objects().await;
    let users: Vec<&Value> = kiro["users"].as_array().unwrap().iter().collect();
    assert_eq!(users.len(), 3, "alice and the two admins: {kiro}");
    let entra_ids: Vec<&str> = objects["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    for u in &users {
        assert!(
            entra_ids.contains(&u["externalId"].as_str().unwrap()),
            "externalId is the Entra object id: {u}"
        );
        assert_eq!(u["active"], true);
    }
    let groups = kiro["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{kiro}");
    assert_eq!(groups[0]["externalId"], admins_id.as_str());
    assert_eq!(groups[0]["members"].as_array().unwrap().len(), 2);
    let job_json = s
        .graph(&token, "GET", &format!("{sync}/jobs/{job}"), None)
        .await
        .body;
    assert_eq!(job_json["status"]["code"], "Active");
    assert_eq!(job_json["status"]["lastExecution"]["state"], "Succeeded");

    // Unassigning alice deactivates her in Kiro.
    let r = s
        .control(
            "DELETE",
            &format!(
                "tenants/{}/assignments/{}",
                s.tenant.tenant_id, assignment_ids[0]
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let summary = s
        .control("POST", &run_path, Some(run_body.clone()))
        .await
        .body;
    assert_eq!(summary["counts"]["usersDisabled"], 1, "{summary}");
    let kiro = k.objects().await;
    let alice_kiro = kiro["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["externalId"] == alice.as_str())
        .unwrap()
        .clone();
    assert_eq!(alice_kiro["active"], false);

    // Provision on demand of an unassigned user is skipped; of an admin succeeds.
    let rule = "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8";
    let pod_path = format!("{sync}/jobs/{job}/provisionOnDemand");
    let pod = |id: String| {
        let body = json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": id, "objectTypeName": "User"}]}]});
        s.graph(&token, "POST", &pod_path, Some(body))
    };
    let result = |r: &crate::sandbox_tests::Resp| -> Value {
        serde_json::from_str(r.body["key"].as_str().unwrap()).unwrap()
    };
    let bob = objects["users"][1]["id"].as_str().unwrap().to_string();
    let r = pod(bob).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let key = result(&r);
    assert_eq!(key["result"], "Skipped", "{key}");
    let dave = objects["users"][3]["id"].as_str().unwrap().to_string();
    let key = result(&pod(dave.clone()).await);
    assert_eq!(key["result"], "Success", "{key}");
    for _ in 0..3 {
        pod(dave.clone()).await;
    }
    let r = pod(dave).await;
    assert_eq!(r.status, 429, "the sixth call in 10 s");

    // A deleted SCIM token sends the job to quarantine; start clears it.
    let tokens = k
        .ok(
            &format!("{Q}.ListScimAccessTokens"),
            json!({"profileArn": arn}),
        )
        .await;
    let token_id = tokens["scimAccessTokens"][0]["tokenId"].as_str().unwrap();
    k.ok(
        &format!("{Q}.DeleteScimAccessToken"),
        json!({"profileArn": arn, "tokenId": token_id}),
    )
    .await;
    let summary = s
        .control("POST", &run_path, Some(run_body.clone()))
        .await
        .body;
    assert_eq!(summary["quarantined"], true, "{summary}");
    let job_json = s
        .graph(&token, "GET", &format!("{sync}/jobs/{job}"), None)
        .await
        .body;
    assert_eq!(job_json["status"]["code"], "Quarantine");
    assert!(
        job_json["status"]["quarantine"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("401")
    );
    s.graph(&token, "POST", &format!("{sync}/jobs/{job}/pause"), None)
        .await;
    let r = s
        .graph(&token, "POST", &format!("{sync}/jobs/{job}/start"), None)
        .await;
    assert_eq!(r.status, 204);
    let job_json = s
        .graph(&token, "GET", &format!("{sync}/jobs/{job}"), None)
        .await
        .body;
    assert!(job_json["status"]["quarantine"].is_null());
}

/// `POST {sync}/jobs` of a job from the `scim` template.
async fn post_scim_job(s: &Server, token: &str, sync: &str) -> Resp {
    let body = json!({"templateId": "scim"});
    s.graph(token, "POST", &format!("{sync}/jobs"), Some(body))
        .await
}

/// A new app's `scim` job, not yet configured, beside a new profile and a SCIM token of it.
struct NewJob {
    token: String,
    sp_id: String,
    /// The profile's ARN.
    arn: String,
    /// The profile's SCIM token.
    secret: String,
    /// The profile's SCIM endpoint.
    base: String,
    /// `servicePrincipals/{sp}/synchronization`.
    sync: String,
    job: String,
    /// The job as its POST answered.
    created: Value,
}

async fn new_job(k: &super::Kiro, profile_name: &str) -> NewJob {
    let s = &k.s;
    let token = s.token().await;
    let (_, sp) = s.instantiate(&token, "Kiro").await;
    s.replicate_now().await;
    let sp_id = sp["id"].as_str().unwrap().to_string();
    let arn = k.create_profile(profile_name).await;
    let secret = k
        .ok(
            &format!("{Q}.CreateScimAccessToken"),
            json!({"profileArn": arn}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let profile_id = arn.rsplit('/').next().unwrap();
    let base = format!("http://{}/scim/us-east-1/{profile_id}/scim/v2", s.addr);
    let sync = format!("servicePrincipals/{sp_id}/synchronization");
    let created = post_scim_job(s, &token, &sync).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let job = created.body["id"].as_str().unwrap().to_string();
    NewJob {
        token,
        sp_id,
        arn,
        secret,
        base,
        sync,
        job,
        created: created.body,
    }
}

/// A job on a new app whose secrets point at a new profile's SCIM endpoint, its schema left as
/// the template made it: `(graph token, service principal id, job id)`.
async fn job_with_template_mappings(k: &super::Kiro) -> (String, String, String) {
    let NewJob {
        token,
        sp_id,
        secret,
        base,
        sync,
        job,
        ..
    } = new_job(k, "TemplateMappings").await;
    let put = k.s.graph(&token, "PUT", &format!("{sync}/secrets"), Some(json!({"value": [{"key": "BaseAddress", "value": base}, {"key": "SecretToken", "value": secret}]}))).await;
    assert_eq!(put.status, 204, "{:?}", put.body);
    (token, sp_id, job)
}

#[tokio::test]
async fn the_kept_department_mapping_makes_kiro_reject_only_the_user_with_a_department() {
    let k = start_kiro().await;
    let s = &k.s;
    let (token, sp_id, job) = job_with_template_mappings(&k).await;
    let objects = s.objects().await;
    let users = objects["users"].as_array().unwrap();
    let by_name = |given: &str| {
        users
            .iter()
            .find(|u| u["givenName"] == given)
            .unwrap_or_else(|| panic!("seeded {given}"))
            .clone()
    };
    let (dave, erin) = (by_name("Dave"), by_name("Erin"));
    assert_eq!(erin["department"], "Platform");
    assert!(dave.get("department").is_none(), "{dave}");
    for user in [&dave, &erin] {
        let r = s
            .control(
                "POST",
                &format!("tenants/{}/assignments", s.tenant.tenant_id),
                Some(
                    json!({"principalId": user["id"], "resourceId": sp_id, "appRoleId": USER_ROLE}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let rule = crate::graph::sync::schema::RULE_ID;
    let on_demand = |id: &Value| json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": id, "objectTypeName": "User"}]}]});
    let path = format!("servicePrincipals/{sp_id}/synchronization/jobs/{job}/provisionOnDemand");
    let result = |body: &Value| -> (Value, Value) {
        let key = serde_json::from_str(body["key"].as_str().unwrap()).unwrap();
        let steps = serde_json::from_str(body["value"].as_str().unwrap()).unwrap();
        (key, steps)
    };

    let r = s
        .graph(&token, "POST", &path, Some(on_demand(&erin["id"])))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (key, steps) = result(&r.body);
    assert_eq!(key["result"], "Failure", "{key}");
    let reason = key["details"]["errorMessage"].as_str().unwrap();
    assert!(
        reason.contains("400") && reason.contains("department"),
        "Kiro's refusal is the reason: {reason}"
    );
    let failed: Vec<&Value> = steps
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "Failure")
        .collect();
    assert_eq!(failed.len(), 1, "{steps}");
    assert!(
        failed[0]["description"]
            .as_str()
            .unwrap()
            .contains("department"),
        "{steps}"
    );

    let r = s
        .graph(&token, "POST", &path, Some(on_demand(&dave["id"])))
        .await;
    let (key, _) = result(&r.body);
    assert_eq!(key["result"], "Success", "{key}");
    let kiro = k.objects().await;
    let arrived: Vec<&str> = kiro["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(
        arrived,
        ["dave"],
        "only dave, matched by the template's externalId (mailNickname): {kiro}"
    );
}

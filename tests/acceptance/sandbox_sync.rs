//! Provisioning set up straight through the sandbox, for tests that need a job without the
//! `kiro_entra_provisioning` resource: a Kiro profile and SCIM token minted through the signed
//! admin API, then the job, its secrets and its schema made through Graph as the portal does,
//! with a token from the sandbox's login endpoint. Also a test that the setup works.

use serde_json::{Value, json};

use crate::kiro_fixtures::{CLIENT_ID, REGION, issuer};
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::{AwsAccount, kiro_call};

/// A provisioning job of a service principal that delivers to a Kiro profile.
pub struct ProvisioningJob {
    pub service_principal_id: String,
    pub job_id: String,
    pub profile_arn: String,
}

/// The job's attribute mappings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mappings {
    /// As the `scim` template makes them: `externalId` ← `mailNickname`, and the enterprise
    /// `department`, `employeeNumber`, `manager` and phone numbers that Kiro rejects.
    Template,
    /// What the Kiro setup wants: `externalId` ← `objectId`, the rejected mappings removed.
    ForKiro,
}

/// Targets Kiro's SCIM endpoint rejects (kiro-api.md), as the provider names them.
use kiro_provider::kiro::scim_rules::rejects_user_attribute as rejected_by_kiro;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

impl Sandbox {
    /// An access token for Graph from the tenant's login endpoint (client credentials).
    pub fn graph_token(&self, tenant: &Tenant) -> String {
        let mut response = agent()
            .post(format!(
                "{}/login/{}/oauth2/v2.0/token",
                self.url, tenant.tenant_id
            ))
            .send_form([
                ("grant_type", "client_credentials"),
                ("client_id", tenant.client_id.as_str()),
                ("client_secret", tenant.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .expect("sandbox login");
        let body: Value = response.body_mut().read_json().expect("token JSON");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// One Graph v1.0 call; panics unless it answers 2xx. Returns the JSON body (or null).
    pub fn graph(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/graph/v1.0/{path}", self.url);
        let auth = format!("Bearer {token}");
        let result = match (method, body) {
            ("GET", _) => agent().get(&url).header("Authorization", &auth).call(),
            ("POST", Some(b)) => agent()
                .post(&url)
                .header("Authorization", &auth)
                .send_json(b),
            ("PUT", Some(b)) => agent()
                .put(&url)
                .header("Authorization", &auth)
                .send_json(b),
            ("PATCH", Some(b)) => agent()
                .patch(&url)
                .header("Authorization", &auth)
                .send_json(b),
            (m, _) => panic!("unsupported Graph call {m}"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert!(status < 300, "{method} {path} answered {status}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
        }
    }

    /// A Kiro profile of `account` for the tenant, and a SCIM access token for it: `(arn, SCIM
    /// endpoint, token)`.
    pub fn kiro_scim_endpoint(
        &self,
        tenant: &Tenant,
        account: &AwsAccount,
        profile_name: &str,
    ) -> (String, String, String) {
        let (status, created) = kiro_call(
            self,
            account,
            "AWSCodeWhispererService.CreateProfile",
            json!({
                "profileName": profile_name,
                "identitySource": {"externalIdentityProvider": {
                    "issuerUrl": issuer(tenant), "clientId": CLIENT_ID}},
            }),
        );
        assert_eq!(status, 200, "{created}");
        let arn = created["profileArn"].as_str().unwrap().to_string();
        let profiles = self.kiro_objects(account, REGION)["profiles"].clone();
        let profile = profiles
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["arn"] == arn.as_str())
            .unwrap_or_else(|| panic!("profile {arn} in {profiles:#}"));
        let endpoint =
            profile["identityDetails"]["externalIdentityProviderDetails"]["scimEndpoint"]
                .as_str()
                .expect("scimEndpoint")
                .to_string();
        let (status, token) = kiro_call(
            self,
            account,
            "AmazonQDeveloperService.CreateScimAccessToken",
            json!({"profileArn": arn}),
        );
        assert_eq!(status, 200, "the SCIM token was refused");
        let token = token["token"].as_str().expect("token").to_string();
        (arn, endpoint, token)
    }

    /// The provisioning job of `sp_id` made as an admin would in the portal: from the `scim`
    /// template, Test Connection passed, the tenant URL and token of a new Kiro profile of
    /// `account` saved, and the `mappings` written. The job is not started: only provision on
    /// demand (or [`Sandbox::run_provisioning`]) sends anything to Kiro.
    pub fn provisioning_job(
        &self,
        tenant: &Tenant,
        account: &AwsAccount,
        sp_id: &str,
        mappings: Mappings,
    ) -> ProvisioningJob {
        let (profile_arn, endpoint, scim_token) =
            self.kiro_scim_endpoint(tenant, account, "Provisioned");
        let job_id = self.portal_job(tenant, sp_id, &endpoint, &scim_token, mappings);
        ProvisioningJob {
            service_principal_id: sp_id.to_string(),
            job_id,
            profile_arn,
        }
    }

    /// The provisioning job of `sp_id` made in the portal, delivering to `endpoint` with
    /// `scim_token` (see [`Sandbox::provisioning_job`]); returns the job id.
    pub fn portal_job(
        &self,
        tenant: &Tenant,
        sp_id: &str,
        endpoint: &str,
        scim_token: &str,
        mappings: Mappings,
    ) -> String {
        let token = self.graph_token(tenant);
        let sync = format!("servicePrincipals/{sp_id}/synchronization");
        let job = self.graph(
            &token,
            "POST",
            &format!("{sync}/jobs"),
            Some(json!({"templateId": "scim"})),
        );
        let job_id = job["id"].as_str().expect("job id").to_string();
        let secrets = json!([
            {"key": "BaseAddress", "value": endpoint},
            {"key": "SecretToken", "value": scim_token},
        ]);
        self.graph(
            &token,
            "POST",
            &format!("{sync}/jobs/{job_id}/validateCredentials"),
            Some(json!({"useSavedCredentials": false, "credentials": secrets})),
        );
        self.graph(
            &token,
            "PUT",
            &format!("{sync}/secrets"),
            Some(json!({"value": secrets})),
        );
        if mappings == Mappings::ForKiro {
            let schema_path = format!("{sync}/jobs/{job_id}/schema");
            let mut schema = self.graph(&token, "GET", &schema_path, None);
            for rule in schema["synchronizationRules"].as_array_mut().unwrap() {
                for om in rule["objectMappings"].as_array_mut().unwrap() {
                    let is_user = om["sourceObjectName"] == "User";
                    let attrs = om["attributeMappings"].as_array_mut().unwrap();
                    attrs.retain(|a| !rejected_by_kiro(a["targetAttributeName"].as_str().unwrap()));
                    for a in attrs
                        .iter_mut()
                        .filter(|a| a["targetAttributeName"] == "externalId")
                    {
                        if is_user {
                            a["source"] = json!({"expression": "[objectId]", "name": "objectId",
                                "type": "Attribute", "parameters": []});
                        }
                    }
                }
            }
            self.graph(&token, "PUT", &schema_path, Some(schema));
        }
        job_id
    }

    /// The users provisioned into the job's Kiro profile.
    pub fn kiro_users_of(&self, account: &AwsAccount, job: &ProvisioningJob) -> Vec<Value> {
        self.kiro_of(account, job, "users")
    }

    /// The groups provisioned into the job's Kiro profile, each with its members' SCIM ids.
    pub fn kiro_groups_of(&self, account: &AwsAccount, job: &ProvisioningJob) -> Vec<Value> {
        self.kiro_of(account, job, "groups")
    }

    fn kiro_of(&self, account: &AwsAccount, job: &ProvisioningJob, kind: &str) -> Vec<Value> {
        let all = self.kiro_objects(account, REGION)[kind].clone();
        let all = all.as_array().cloned().unwrap_or_default();
        let mine: Vec<Value> = all
            .iter()
            .filter(|o| o["profileArn"] == job.profile_arn.as_str())
            .cloned()
            .collect();
        assert_eq!(
            mine.len(),
            all.len(),
            "every synced {kind} carries its profile ARN: {all:#?}"
        );
        mine
    }
}

/// Instantiates the non-gallery template through Graph, as the provider does; returns the new
/// service principal's id.
fn instantiate(sandbox: &Sandbox, tenant: &Tenant, name: &str) -> String {
    let token = sandbox.graph_token(tenant);
    let made = sandbox.graph(
        &token,
        "POST",
        "applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate",
        Some(json!({"displayName": name})),
    );
    made["servicePrincipal"]["id"].as_str().unwrap().to_string()
}

#[test]
fn a_job_set_up_through_the_sandbox_delivers_to_kiro() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let sp_id = instantiate(&sandbox, &tenant, "Kiro");
    sandbox.flush_replication();
    let job = sandbox.provisioning_job(&tenant, &account, &sp_id, Mappings::ForKiro);
    let jobs = sandbox.objects(&tenant)["sync_jobs"].clone();
    let listed = &jobs[0];
    assert_eq!(listed["service_principal_id"], sp_id.as_str(), "{jobs:#}");
    assert_eq!(listed["job"]["id"], job.job_id.as_str());
    assert_eq!(
        listed["secrets"][1],
        json!({"key": "SecretToken", "value": "*"})
    );
    let user_mappings =
        listed["schema"]["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
            .as_array()
            .unwrap()
            .clone();
    assert!(
        user_mappings
            .iter()
            .all(|m| !rejected_by_kiro(m["targetAttributeName"].as_str().unwrap())),
        "{user_mappings:#?}"
    );

    let dave = sandbox
        .users(&tenant)
        .into_iter()
        .find(|u| u["givenName"] == "Dave")
        .unwrap();
    sandbox.create_assignment(
        &tenant,
        dave["id"].as_str().unwrap(),
        &sp_id,
        "18d14569-c3bd-439b-9a66-3a2aee01d14f",
    );
    let summary = sandbox.run_provisioning(&tenant, &job.service_principal_id);
    assert_eq!(summary["state"], "Succeeded", "{summary}");
    let users = sandbox.kiro_users_of(&account, &job);
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["externalId"], dave["id"]);
    assert!(sandbox.kiro_groups_of(&account, &job).is_empty());
}

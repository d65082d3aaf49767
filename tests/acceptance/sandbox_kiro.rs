//! Control API wrappers for Kiro's side of the sandbox (AWS accounts, profiles and what hangs
//! off them, synced identities, the DNS stub), used by the Kiro resources' acceptance tests,
//! and a test that they reach the sandbox.

use serde_json::{Value, json};

use crate::sandbox::Sandbox;

/// Credentials of a fresh AWS account the sandbox's Kiro admin API accepts.
#[derive(Clone, Debug)]
pub struct AwsAccount {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// `path?name=value&…` with the values encoded (ARNs carry `:` and `/`).
fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{path}?{query}")
}

impl Sandbox {
    pub fn aws_account(&self) -> AwsAccount {
        let a = self.call("POST", "aws/accounts", Some(json!({})));
        let field = |k: &str| a[k].as_str().unwrap().to_string();
        AwsAccount {
            account_id: field("account_id"),
            access_key_id: field("access_key_id"),
            secret_access_key: field("secret_access_key"),
        }
    }

    /// The Kiro operations since the last count reset that change something (every one but
    /// the `List…` and `Get…` reads).
    pub fn kiro_writes(&self) -> Vec<String> {
        self.counts()
            .as_object()
            .map(|ops| {
                ops.keys()
                    .filter(|op| {
                        op.starts_with("kiro.") && !op.contains(".List") && !op.contains(".Get")
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `{profiles, domains, tokens, users, groups, assignments}` of an account in a region.
    pub fn kiro_objects(&self, account: &AwsAccount, region: &str) -> Value {
        self.call(
            "GET",
            &format!("kiro/{}/{region}/objects", account.account_id),
            None,
        )
    }

    /// The ids of the SCIM access tokens of `account`'s profiles in `region`.
    pub fn token_ids(&self, account: &AwsAccount, region: &str) -> Vec<String> {
        self.kiro_objects(account, region)["tokens"]
            .as_array()
            .map(|tokens| {
                tokens
                    .iter()
                    .map(|t| t["tokenId"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A console change: raw merge of `profileName`, `description` (null removes) and `tags`
    /// (`[{key, value}]`, replaces). Returns the profile.
    pub fn drift_profile(&self, arn: &str, patch: Value) -> Value {
        self.call(
            "PATCH",
            &with_query("kiro/profiles", &[("arn", arn)]),
            Some(patch),
        )
    }

    pub fn delete_profile_out_of_band(&self, arn: &str) {
        self.call(
            "DELETE",
            &with_query("kiro/profiles", &[("arn", arn)]),
            None,
        );
    }

    pub fn delete_domain_out_of_band(&self, arn: &str, domain: &str) {
        self.call(
            "DELETE",
            &with_query("kiro/domains", &[("arn", arn), ("domain", domain)]),
            None,
        );
    }

    /// Moves a SCIM access token's expiry to `days` from now (negative: expired), as a year
    /// passing would.
    pub fn expire_token_in(&self, arn: &str, token_id: &str, days: i64) {
        let seconds = (days * 24 * 3600).to_string();
        self.call(
            "PATCH",
            &with_query(
                "kiro/tokens",
                &[
                    ("arn", arn),
                    ("token_id", token_id),
                    ("expires_in_s", &seconds),
                ],
            ),
            Some(serde_json::json!({})),
        );
    }

    pub fn delete_token_out_of_band(&self, arn: &str, token_id: &str) {
        self.call(
            "DELETE",
            &with_query("kiro/tokens", &[("arn", arn), ("token_id", token_id)]),
            None,
        );
    }

    pub fn delete_assignment_out_of_band(&self, arn: &str, principal_id: &str) {
        self.call(
            "DELETE",
            &with_query(
                "kiro/assignments",
                &[("arn", arn), ("principal_id", principal_id)],
            ),
            None,
        );
    }

    /// Marks a login domain FAILED (as after 72 hours without its TXT record); returns it.
    pub fn fail_domain(&self, arn: &str, domain: &str) -> Value {
        self.call(
            "POST",
            &with_query("kiro/domains/fail", &[("arn", arn), ("domain", domain)]),
            Some(json!({})),
        )
    }

    /// A user in the profile's SCIM directory, as if Entra provisioned it; returns
    /// `{id, userName, externalId, displayName, active}`.
    pub fn kiro_user(&self, arn: &str, user_name: &str, external_id: &str) -> Value {
        self.call(
            "POST",
            &with_query("kiro/users", &[("arn", arn)]),
            Some(json!({"userName": user_name, "externalId": external_id})),
        )
    }

    /// A group in the profile's SCIM directory; returns `{id, displayName, externalId, members}`.
    pub fn kiro_group(
        &self,
        arn: &str,
        display_name: &str,
        external_id: &str,
        members: &[&str],
    ) -> Value {
        self.call(
            "POST",
            &with_query("kiro/groups", &[("arn", arn)]),
            Some(
                json!({"displayName": display_name, "externalId": external_id, "members": members}),
            ),
        )
    }

    pub fn delete_kiro_user(&self, arn: &str, id: &str) {
        self.call(
            "DELETE",
            &with_query("kiro/users", &[("arn", arn), ("id", id)]),
            None,
        );
    }

    /// Publishes TXT records on the DNS stub (an empty list removes the name).
    pub fn publish_txt(&self, name: &str, values: &[&str]) {
        self.call(
            "PUT",
            "dns/txt",
            Some(json!({"name": name, "values": values})),
        );
    }

    /// `Some(ms)`: PENDING login domains verify that long after association without a record;
    /// `None`: only a published TXT record verifies them.
    pub fn set_domain_auto_verify(&self, ms: Option<u64>) {
        self.call(
            "PUT",
            "settings",
            Some(json!({"domain_auto_verify_ms": ms})),
        );
    }

    /// The DNS stub's `127.0.0.1:<port>`.
    pub fn dns_addr(&self) -> String {
        self.dns.to_string()
    }

    /// Asserts the account has nothing left in the region.
    pub fn assert_kiro_empty(&self, account: &AwsAccount, region: &str) {
        let objects = self.kiro_objects(account, region);
        for kind in [
            "profiles",
            "domains",
            "tokens",
            "users",
            "groups",
            "assignments",
        ] {
            let live = objects[kind].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(
                live, 0,
                "sandbox still has Kiro {kind}: {:#}",
                objects[kind]
            );
        }
    }
}

/// One SigV4-signed admin API call, signed the way the provider signs (aws-sigv4).
pub(crate) fn kiro_call(
    sb: &Sandbox,
    account: &AwsAccount,
    target: &str,
    body: Value,
) -> (u16, Value) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let url = format!("{}/kiro/", sb.url);
    let body = body.to_string();
    let service = if target.starts_with("AWSCodeWhispererService.") {
        "codewhisperer"
    } else {
        "q"
    };
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target),
    ];
    let identity = aws_credential_types::Credentials::new(
        &account.access_key_id,
        &account.secret_access_key,
        None,
        None,
        "acceptance",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent.post(&url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let (signature, _) = instructions.into_parts();
    for h in signature {
        req = req.header(h.name(), h.value());
    }
    let mut resp = req.send(body.as_bytes()).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[test]
fn kiro_control_wrappers_reach_the_sandbox() {
    let sb = Sandbox::start();
    let account = sb.aws_account();
    sb.assert_kiro_empty(&account, "us-east-1");
    let (status, created) = kiro_call(
        &sb,
        &account,
        "AWSCodeWhispererService.CreateProfile",
        json!({
            "profileName": "Acceptance",
            "identitySource": {"externalIdentityProvider": {
                "issuerUrl": "https://login.microsoftonline.com/tid/v2.0", "clientId": "c"}},
        }),
    );
    assert_eq!(status, 200, "{created}");
    let arn = created["profileArn"].as_str().unwrap();
    assert_eq!(
        sb.drift_profile(arn, json!({"description": "drifted"}))["description"],
        "drifted"
    );

    let (_, d) = kiro_call(
        &sb,
        &account,
        "AmazonQDeveloperService.AssociateLoginDomain",
        json!({"profileArn": arn, "domainName": "acceptance.example"}),
    );
    let record = &d["loginDomain"]["verificationRecord"];
    sb.publish_txt(
        record["name"].as_str().unwrap(),
        &[record["value"].as_str().unwrap()],
    );
    assert_eq!(
        sb.kiro_objects(&account, "us-east-1")["domains"][0]["status"],
        "VERIFIED"
    );
    sb.publish_txt(record["name"].as_str().unwrap(), &[]);
    sb.set_domain_auto_verify(Some(60_000));
    sb.set_domain_auto_verify(None);
    kiro_call(
        &sb,
        &account,
        "AmazonQDeveloperService.AssociateLoginDomain",
        json!({"profileArn": arn, "domainName": "failing.example"}),
    );
    assert_eq!(sb.fail_domain(arn, "failing.example")["status"], "FAILED");
    sb.delete_domain_out_of_band(arn, "failing.example");

    let (_, token) = kiro_call(
        &sb,
        &account,
        "AmazonQDeveloperService.CreateScimAccessToken",
        json!({"profileArn": arn}),
    );
    sb.delete_token_out_of_band(arn, token["tokenId"].as_str().unwrap());

    let user = sb.kiro_user(arn, "ada@example.com", "ext-ada");
    let user_id = user["id"].as_str().unwrap();
    let group = sb.kiro_group(arn, "Devs", "ext-devs", &[user_id]);
    assert_eq!(group["members"], json!([user_id]));
    let (status, _) = kiro_call(
        &sb,
        &account,
        "AmazonQDeveloperService.CreateAssignment",
        json!({"profileArn": arn, "principalId": user_id, "principalType": "USER", "subscriptionType": "KIRO_PRO"}),
    );
    assert_eq!(status, 200);
    sb.delete_assignment_out_of_band(arn, user_id);
    sb.delete_kiro_user(arn, user_id);
    assert!(sb.dns_addr().starts_with("127.0.0.1:"));

    sb.delete_profile_out_of_band(arn);
    sb.assert_kiro_empty(&account, "us-east-1");
}

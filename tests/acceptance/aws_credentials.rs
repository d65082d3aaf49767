//! AWS credentials per tenant, against the sandbox's STS: one base identity assuming a role in
//! each tenant's account (two aliased providers), a role assumed with a web identity token
//! file, a trust policy refusing a wrong external id, static keys in the provider block, and
//! bad arguments refused at plan time without a request.

use std::time::{Duration, Instant, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;

use serde_json::{Value, json};

use crate::harness::Workspace;
use crate::kiro_fixtures::{REGION, profile};
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const STS_AUDIENCE: &str = "sts.amazonaws.com";

impl Sandbox {
    /// A role `name` in `account` with this trust policy (see the control API); its ARN.
    fn aws_role(&self, account: &AwsAccount, name: &str, trust: Value) -> String {
        let role = self.call(
            "POST",
            "aws/roles",
            Some(json!({"account_id": account.account_id, "name": name, "trust": trust})),
        );
        role["arn"].as_str().unwrap().to_string()
    }

    /// A token from the sandbox's OIDC issuer that its STS accepts.
    fn web_identity_token(&self, subject: &str) -> String {
        self.signed_token(STS_AUDIENCE, subject, 600)
    }

    fn signed_token(&self, audience: &str, subject: &str, lifetime_secs: i64) -> String {
        let t = self.call(
            "POST",
            "aws/web_identity_tokens",
            Some(json!({
                "issuer": GITHUB_ISSUER, "audience": audience, "subject": subject,
                "lifetime_secs": lifetime_secs,
            })),
        );
        t["token"].as_str().unwrap().to_string()
    }

    /// The sessions STS issued: `{role_arn, session_name, source, tags, …}`.
    fn sts_sessions(&self) -> Vec<Value> {
        self.call("GET", "aws/sessions", None)["sessions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn base_principal(account: &AwsAccount) -> String {
    format!("arn:aws:iam::{}:user/sandbox", account.account_id)
}

/// The tenant's provider block with the region, `aws` (argument lines and blocks) and the
/// sandbox's STS endpoint.
fn provider(sandbox: &Sandbox, tenant: &Tenant, alias: Option<&str>, aws: &str) -> String {
    let kiro_endpoint = format!("kiro  = \"{}/kiro\"", sandbox.url);
    sandbox
        .provider_block(tenant, alias)
        .replacen(
            "provider \"kiro\" {\n",
            &format!("provider \"kiro\" {{\n  region = \"{REGION}\"\n{aws}\n"),
            1,
        )
        .replacen(
            &kiro_endpoint,
            &format!("{kiro_endpoint}\n    sts   = \"{}/sts\"", sandbox.url),
            1,
        )
}

/// A workspace with no AWS credentials but `env` in its environment.
fn workspace(sandbox: &Sandbox, main: &str, env: &[(&str, &str)]) -> Workspace {
    let mut ws = Workspace::new();
    ws.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr());
    for (k, v) in env {
        ws.env(k, v);
    }
    ws.write_main(main);
    ws.init();
    ws
}

fn profile_arns(sandbox: &Sandbox, account: &AwsAccount) -> Vec<String> {
    sandbox.kiro_objects(account, REGION)["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["arn"].as_str().unwrap().to_string())
        .collect()
}

/// Terraform wraps diagnostics at 80 columns: compare with every run of white space as one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

#[test]
fn two_tenants_assume_a_role_each_in_their_own_account_from_one_base_identity() {
    let sandbox = Sandbox::start();
    let base = sandbox.aws_account();
    let sites: Vec<(&str, Tenant, AwsAccount)> = ["contoso", "fabrikam"]
        .into_iter()
        .map(|name| (name, sandbox.new_tenant(), sandbox.aws_account()))
        .collect();
    // One trusts the base account, the other only the base identity itself.
    let trusted = [json!([base.account_id]), json!([base_principal(&base)])];
    let roles: Vec<String> = sites
        .iter()
        .zip(trusted)
        .map(|((name, _, account), principals)| {
            let trust = json!({"principals": principals, "external_id": format!("kiro-{name}")});
            sandbox.aws_role(account, "KiroAdmin", trust)
        })
        .collect();
    let mut main = String::new();
    for ((name, tenant, _), role) in sites.iter().zip(&roles) {
        let aws = format!(
            "  assume_role {{\n    role_arn     = \"{role}\"\n    external_id  = \"kiro-{name}\"\n    \
             session_name = \"terraform-{name}\"\n    duration     = \"1h\"\n    \
             tags         = {{ tenant = \"{name}\" }}\n  }}"
        );
        main.push_str(&provider(&sandbox, tenant, Some(name), &aws));
        let resource = profile(
            tenant,
            &format!("kiro-{name}"),
            &format!("  provider = kiro.{name}\n"),
        )
        .replace("\"main\"", &format!("\"{name}\""));
        main.push_str(&resource);
    }
    let ws = workspace(
        &sandbox,
        &main,
        &[
            ("AWS_ACCESS_KEY_ID", &base.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &base.secret_access_key),
        ],
    );
    sandbox.reset_counts();
    let started = Instant::now();
    ws.apply();
    let apply_time = started.elapsed();
    let assume_calls = sandbox.count("sts.AssumeRole");

    for ((name, _, account), role) in sites.iter().zip(&roles) {
        let arn = ws.attr(&format!("kiro_profile.{name}"), "arn");
        assert_eq!(account_of(&arn), account.account_id, "{name}: {arn}");
        assert_eq!(profile_arns(&sandbox, account), vec![arn.clone()], "{name}");
        let session = sandbox
            .sts_sessions()
            .into_iter()
            .find(|s| s["role_arn"] == role.as_str())
            .unwrap_or_else(|| panic!("no STS session for {role}"));
        assert_eq!(session["source"], base_principal(&base).as_str());
        assert_eq!(session["session_name"], format!("terraform-{name}"));
        assert_eq!(session["tags"], json!([["tenant", name]]));
        assert_eq!(session["duration_seconds"], 3600);
        eprintln!("{name}: profile {arn} in account {}", account.account_id);
    }
    assert!(
        profile_arns(&sandbox, &base).is_empty(),
        "nothing lands in the base account"
    );
    eprintln!(
        "apply of 2 tenants: {apply_time:?}, sts.AssumeRole calls: {assume_calls}, \
         kiro.CreateProfile calls: {}",
        sandbox.count("kiro.CreateProfile")
    );
    assert_eq!(sandbox.count("kiro.CreateProfile"), 2);

    ws.assert_no_changes();
    ws.destroy();
    for (name, _, account) in &sites {
        assert!(
            profile_arns(&sandbox, account).is_empty(),
            "{name} destroyed"
        );
    }
}

#[test]
fn a_role_assumed_with_a_web_identity_token_file() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let trust = json!({"web_identity": {
        "issuer": GITHUB_ISSUER,
        "audience": STS_AUDIENCE,
        "subject": "repo:kiro-entra/infra:*",
    }});
    let role = sandbox.aws_role(&account, "GitHubActions", trust);
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token.jwt");
    let token = sandbox.web_identity_token("repo:kiro-entra/infra:ref:refs/heads/main");
    std::fs::write(&token_file, &token).unwrap();
    // The role ARN and session name from the environment, as GitHub Actions or EKS set them.
    let aws = format!(
        "  assume_role_with_web_identity {{\n    web_identity_token_file = \"{}\"\n  }}",
        token_file.display()
    );
    let main = format!(
        "{}{}",
        provider(&sandbox, &tenant, None, &aws),
        profile(&tenant, "kiro-ci", "")
    );
    let mut ws = workspace(
        &sandbox,
        &main,
        &[
            ("AWS_ROLE_ARN", &role),
            ("AWS_ROLE_SESSION_NAME", "gha-run-42"),
        ],
    );
    ws.env("TF_LOG", "TRACE");
    let run = ws.apply();
    let arn = ws.attr("kiro_profile.main", "arn");
    assert_eq!(account_of(&arn), account.account_id, "{arn}");
    assert_eq!(profile_arns(&sandbox, &account), vec![arn]);
    // One session per provider process (plan, apply), all of the token's subject.
    let sessions = sandbox.sts_sessions();
    assert_eq!(sessions.len(), 2, "{sessions:#?}");
    for session in &sessions {
        assert_eq!(session["role_arn"], role.as_str());
        assert_eq!(session["session_name"], "gha-run-42");
        assert_eq!(
            session["source"],
            format!("{GITHUB_ISSUER}#repo:kiro-entra/infra:ref:refs/heads/main")
        );
    }
    assert!(
        !run.output().contains(&token),
        "the token leaked into the TRACE log"
    );
    assert!(
        run.output().contains("assume_role_with_web_identity"),
        "the chosen source is logged:\n{}",
        run.stderr
    );
}

#[test]
fn a_wrong_external_id_names_the_role_and_the_sts_answer_but_no_secret() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let base = sandbox.aws_account();
    let account = sandbox.aws_account();
    let trust = json!({"principals": [base.account_id], "external_id": "the-right-id"});
    let role = sandbox.aws_role(&account, "KiroAdmin", trust);
    let aws = format!(
        "  access_key = \"{}\"\n  secret_key = \"{}\"\n  assume_role {{\n    role_arn    = \"{role}\"\n    \
         external_id = \"a-wrong-id\"\n  }}",
        base.access_key_id, base.secret_access_key
    );
    let main = format!(
        "{}{}",
        provider(&sandbox, &tenant, None, &aws),
        profile(&tenant, "kiro-refused", "")
    );
    let mut ws = workspace(&sandbox, &main, &[]);
    ws.env("TF_LOG", "TRACE");
    let run = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    let out = one_line(&run.output());
    if let Some(at) = out.find("Error: ") {
        eprintln!("{}", out[at..].chars().take(900).collect::<String>());
    }
    assert!(out.contains(&role), "names the role:\n{out}");
    assert!(out.contains("(assume_role)"), "names the source:\n{out}");
    assert!(
        out.contains("Error: Cannot assume the AWS role for Kiro"),
        "one error, on the provider block:\n{out}"
    );
    assert!(out.contains("AccessDenied"), "quotes STS:\n{out}");
    assert!(
        out.contains(&format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role}",
            base_principal(&base)
        )),
        "{out}"
    );
    assert!(
        !out.contains(&base.secret_access_key),
        "the secret key leaked"
    );
    assert_eq!(
        sandbox.count("kiro."),
        0,
        "no Kiro call without credentials"
    );
    assert_eq!(
        sandbox.count("sts.AssumeRole"),
        1,
        "a refusal is not retried"
    );
    assert!(profile_arns(&sandbox, &account).is_empty());
}

#[test]
fn static_keys_in_the_provider_block_sign_kiro_calls() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let other = sandbox.aws_account();
    let aws = format!(
        "  access_key = \"{}\"\n  secret_key = \"{}\"",
        account.access_key_id, account.secret_access_key
    );
    let main = format!(
        "{}{}",
        provider(&sandbox, &tenant, None, &aws),
        profile(&tenant, "kiro-static", "")
    );
    // The block's keys win over the environment's.
    let ws = workspace(
        &sandbox,
        &main,
        &[
            ("AWS_ACCESS_KEY_ID", &other.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &other.secret_access_key),
        ],
    );
    ws.apply();
    let arn = ws.attr("kiro_profile.main", "arn");
    assert_eq!(account_of(&arn), account.account_id, "{arn}");
    assert!(profile_arns(&sandbox, &other).is_empty());
    assert_eq!(sandbox.count("sts."), 0, "static keys need no STS");
}

#[test]
fn bad_aws_arguments_are_refused_at_plan_without_a_request() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let aws = "  assume_role {\n    role_arn     = \"arn:aws:iam::12345:role/Kiro\"\n    \
               session_name = \"has space\"\n    duration     = \"13h\"\n    \
               tags         = { \"aws:team\" = \"x\" }\n  }";
    let main = format!(
        "{}{}",
        provider(&sandbox, &tenant, None, aws),
        profile(&tenant, "kiro-bad", "")
    );
    let ws = workspace(&sandbox, &main, &[]);
    sandbox.reset_counts();
    let out = one_line(&ws.fails(&["plan", "-no-color"]).output());
    for expected in [
        "the account id must be 12 digits",
        "is not a role session name",
        "outside what STS allows for a role session: 15m to 12h",
        "the aws: prefix is reserved",
    ] {
        assert!(out.contains(expected), "{expected}:\n{out}");
    }
    let counts = sandbox.counts();
    assert_eq!(counts, json!({}), "no request at all");
}

/// An STS client of the AWS SDK pointed at the sandbox, signing with `credentials` (none:
/// anonymous, as for AssumeRoleWithWebIdentity).
async fn sts_client(sandbox: &Sandbox, credentials: Option<Credentials>) -> aws_sdk_sts::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new(REGION))
        .endpoint_url(format!("{}/sts", sandbox.url));
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c);
    }
    aws_sdk_sts::Client::new(&loader.load().await)
}

fn keys(account: &AwsAccount) -> Credentials {
    Credentials::new(
        &account.access_key_id,
        &account.secret_access_key,
        None,
        None,
        "sandbox",
    )
}

/// The service error code of a failed SDK call.
fn code<T, E>(result: Result<T, aws_sdk_sts::error::SdkError<E>>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Err(err) = result else {
        panic!("STS should have refused")
    };
    match err.as_service_error().and_then(|e| e.code()) {
        Some(code) => code.to_string(),
        None => panic!(
            "not a service error: {}",
            aws_sdk_sts::error::DisplayErrorContext(&err)
        ),
    }
}

/// The AWS SDK itself parses the sandbox's answers: identities, temporary credentials that
/// belong to the role's account, and errors with AWS's codes.
#[test]
fn the_sandbox_sts_answers_the_aws_sdk_as_aws_does() {
    let sandbox = Sandbox::start();
    let base = sandbox.aws_account();
    let tenant_account = sandbox.aws_account();
    let trust = json!({
        "principals": [base.account_id], "external_id": "x-1",
        "web_identity": {"issuer": GITHUB_ISSUER, "audience": STS_AUDIENCE, "subject": "repo:a/b:*"},
    });
    // A role of the same name in the base account, which a session's identity must not mix up.
    sandbox.aws_role(&base, "KiroAdmin", json!({}));
    let tenant_role = sandbox.call(
        "POST",
        "aws/roles",
        Some(json!({"account_id": tenant_account.account_id, "name": "KiroAdmin", "trust": trust})),
    );
    let role = tenant_role["arn"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = sts_client(&sandbox, Some(keys(&base))).await;
        let me = client.get_caller_identity().send().await.unwrap();
        assert_eq!(me.account(), Some(base.account_id.as_str()));
        assert_eq!(me.arn(), Some(base_principal(&base).as_str()));

        let assume = || {
            client
                .assume_role()
                .role_arn(&role)
                .role_session_name("probe")
        };
        let assumed = assume().external_id("x-1").send().await.unwrap();
        let c = assumed.credentials().unwrap();
        assert!(
            c.access_key_id().starts_with("ASIA"),
            "{}",
            c.access_key_id()
        );
        let expires = SystemTime::try_from(*c.expiration()).unwrap();
        let hour = SystemTime::now() + Duration::from_secs(3600);
        assert!(expires <= hour && expires + Duration::from_secs(60) > hour);
        let temp = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "t",
        );
        let as_role = sts_client(&sandbox, Some(temp))
            .await
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(as_role.account(), Some(tenant_account.account_id.as_str()));
        let assumed_arn = format!(
            "arn:aws:sts::{}:assumed-role/KiroAdmin/probe",
            tenant_account.account_id
        );
        assert_eq!(as_role.arn(), Some(assumed_arn.as_str()));
        let role_id = tenant_role["role_id"].as_str().unwrap();
        assert!(role_id.starts_with("AROA"), "{role_id}");
        assert_eq!(as_role.user_id(), Some(format!("{role_id}:probe").as_str()));

        assert_eq!(code(assume().send().await), "AccessDenied");
        assert_eq!(
            code(
                assume()
                    .external_id("x-1")
                    .duration_seconds(7200)
                    .send()
                    .await
            ),
            "ValidationError"
        );
        assert_eq!(
            code(
                client
                    .assume_role()
                    .role_arn(&role)
                    .role_session_name("a b")
                    .send()
                    .await
            ),
            "ValidationError"
        );
        let stranger = Credentials::new("AKIA0000000000000000", "nope", None, None, "t");
        let stranger = sts_client(&sandbox, Some(stranger)).await;
        assert_eq!(
            code(stranger.get_caller_identity().send().await),
            "InvalidClientTokenId"
        );

        let anonymous = sts_client(&sandbox, None).await;
        let with_token = |token: String| {
            anonymous
                .assume_role_with_web_identity()
                .role_arn(&role)
                .role_session_name("ci")
                .web_identity_token(token)
        };
        let ok =
            with_token(sandbox.signed_token(STS_AUDIENCE, "repo:a/b:ref:refs/heads/main", 600))
                .send()
                .await
                .unwrap();
        assert_eq!(
            ok.subject_from_web_identity_token(),
            Some("repo:a/b:ref:refs/heads/main")
        );
        assert_eq!(ok.provider(), Some(GITHUB_ISSUER));
        let expired = sandbox.signed_token(STS_AUDIENCE, "repo:a/b:x", -10);
        assert_eq!(
            code(with_token(expired).send().await),
            "ExpiredTokenException"
        );
        let wrong_audience = sandbox.signed_token("api://AzureADTokenExchange", "repo:a/b:x", 600);
        assert_eq!(
            code(with_token(wrong_audience).send().await),
            "InvalidIdentityToken"
        );
        let other_repo = sandbox.signed_token(STS_AUDIENCE, "repo:c/d:x", 600);
        assert_eq!(code(with_token(other_repo).send().await), "AccessDenied");
    });
    eprintln!("STS calls: {}", sandbox.counts());
}

//! `kiro-adopt`: the guide's setup made by hand in the sandbox (through its Graph and Kiro
//! APIs, never Terraform), adopted with the command's configuration. The first plan shows
//! only imports (with `--scim-token mint`, plus the provisioning's in-place secret update),
//! the apply adopts, and the next plan has nothing to do.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::Workspace;
use crate::kiro_fixtures::{REGION, issuer, kiro_config};
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::{AwsAccount, kiro_call};
use crate::sandbox_sync::Mappings;

const USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
const NON_GALLERY: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
const REDIRECT_URIS: [&str; 2] = [
    "kiro://kiro.oauth/callback",
    "http://localhost:3128/oauth/callback",
];

/// What the hand-made setup holds, for the assertions.
struct HandMade {
    object_id: String,
    client_id: String,
    sp_id: String,
    arn: String,
    group_id: String,
}

fn scope(value: &str, name: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "value": value, "type": "User",
        "isEnabled": true,
        "adminConsentDisplayName": name, "adminConsentDescription": format!("Lets Kiro use {name}."),
        "userConsentDisplayName": name, "userConsentDescription": format!("Lets Kiro use {name} for you."),
    })
}

/// The guide's Entra steps in the portal: the application from the non-gallery template, its
/// default scope disabled then replaced by the two Kiro scopes, token version 2, the
/// identifier URI, two redirect URIs; a user and a group assigned.
/// "New application" in the portal: the non-gallery template instantiated as
/// `display_name`, replicated; `(object id, client id, service principal id)`.
fn instantiate_by_hand(
    sandbox: &Sandbox,
    token: &str,
    display_name: &str,
) -> (String, String, String) {
    let made = sandbox.graph(
        token,
        "POST",
        &format!("applicationTemplates/{NON_GALLERY}/instantiate"),
        Some(json!({ "displayName": display_name })),
    );
    sandbox.flush_replication();
    let id = |object: &str, field: &str| made[object][field].as_str().unwrap().to_string();
    (
        id("application", "id"),
        id("application", "appId"),
        id("servicePrincipal", "id"),
    )
}

fn entra_by_hand(
    sandbox: &Sandbox,
    tenant: &Tenant,
    token: &str,
) -> (String, String, String, String) {
    let (object_id, client_id, sp_id) =
        instantiate_by_hand(sandbox, token, "Kiro \"by hand\" ${tenant}");
    let path = format!("applications/{object_id}");
    let app = sandbox.graph(token, "GET", &path, None);
    let mut default = app["api"]["oauth2PermissionScopes"][0].clone();
    assert_eq!(default["value"], "user_impersonation", "{app:#}");
    default["isEnabled"] = json!(false);
    let api = |scopes: Value| json!({"api": {"oauth2PermissionScopes": scopes, "requestedAccessTokenVersion": 2}});
    sandbox.graph(token, "PATCH", &path, Some(api(json!([default]))));
    sandbox.flush_replication();
    let scopes = json!([
        scope("codewhisperer:completions", "Completions"),
        scope("codewhisperer:conversations", "Conversations")
    ]);
    let mut patch = api(scopes);
    patch["identifierUris"] = json!([format!("api://{client_id}")]);
    patch["publicClient"] = json!({"redirectUris": REDIRECT_URIS});
    sandbox.graph(token, "PATCH", &path, Some(patch));
    let dave = sandbox
        .users(tenant)
        .into_iter()
        .find(|u| u["givenName"] == "Dave")
        .unwrap();
    let group = sandbox.create_group(tenant, "Kiro Developers", 1);
    let group_id = group["id"].as_str().unwrap().to_string();
    for principal in [dave["id"].as_str().unwrap(), &group_id] {
        sandbox.graph(
            token,
            "POST",
            &format!("servicePrincipals/{sp_id}/appRoleAssignedTo"),
            Some(json!({"principalId": principal, "resourceId": sp_id, "appRoleId": USER_ROLE})),
        );
    }
    sandbox.flush_replication();
    (object_id, client_id, sp_id, group_id)
}

fn kiro_ok(sandbox: &Sandbox, account: &AwsAccount, target: &str, body: Value) -> Value {
    let (status, answer) = kiro_call(sandbox, account, target, body);
    assert_eq!(status, 200, "{target}: {answer}");
    answer
}

/// In the console: the profile `create_profile` asks for, a SCIM token minted in it, and the
/// provisioning job made in the portal with that token and `mappings`; returns the profile's
/// ARN and the job's id.
fn profile_and_portal_job(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    create_profile: Value,
    sp_id: &str,
    mappings: Mappings,
) -> (String, String) {
    let created = kiro_ok(
        sandbox,
        account,
        "AWSCodeWhispererService.CreateProfile",
        create_profile,
    );
    let arn = created["profileArn"].as_str().unwrap().to_string();
    let profile = sandbox.kiro_objects(account, REGION)["profiles"][0].clone();
    let endpoint = profile["identityDetails"]["externalIdentityProviderDetails"]["scimEndpoint"]
        .as_str()
        .unwrap();
    let token = kiro_ok(
        sandbox,
        account,
        "AmazonQDeveloperService.CreateScimAccessToken",
        json!({"profileArn": arn}),
    );
    let job_id = sandbox.portal_job(
        tenant,
        sp_id,
        endpoint,
        token["token"].as_str().unwrap(),
        mappings,
    );
    (arn, job_id)
}

/// The guide's Kiro steps in the console: the profile trusting the application, a SCIM token
/// saved in the portal's provisioning job, a cycle run, a verified domain, the group
/// subscribed.
fn kiro_by_hand(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    entra: (String, String, String, String),
) -> HandMade {
    let (object_id, client_id, sp_id, group_id) = entra;
    let profile = json!({
        "profileName": "kiro-by-hand",
        "description": "Made in the console",
        "identitySource": {"externalIdentityProvider": {"issuerUrl": issuer(tenant), "clientId": client_id}},
    });
    let (arn, job_id) =
        profile_and_portal_job(sandbox, tenant, account, profile, &sp_id, Mappings::ForKiro);
    let graph_token = sandbox.graph_token(tenant);
    let start = format!("servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/start");
    sandbox.graph(&graph_token, "POST", &start, Some(json!({})));
    let cycle = sandbox.run_provisioning(tenant, &sp_id);
    assert_eq!(cycle["state"], "Succeeded", "{cycle}");
    let d = kiro_ok(
        sandbox,
        account,
        "AmazonQDeveloperService.AssociateLoginDomain",
        json!({"profileArn": arn, "domainName": "corp.example.com"}),
    );
    let record = &d["loginDomain"]["verificationRecord"];
    sandbox.publish_txt(
        record["name"].as_str().unwrap(),
        &[record["value"].as_str().unwrap()],
    );
    let groups = sandbox.kiro_objects(account, REGION)["groups"].clone();
    let kiro_group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["externalId"] == group_id.as_str())
        .unwrap_or_else(|| panic!("the group in Kiro: {groups:#}"))
        .clone();
    kiro_ok(
        sandbox,
        account,
        "AmazonQDeveloperService.CreateAssignment",
        json!({
        "profileArn": arn, "principalId": kiro_group["id"], "principalType": "GROUP",
        "subscriptionType": "KIRO_PRO_PLUS"}),
    );
    assert_eq!(
        sandbox.kiro_objects(account, REGION)["domains"][0]["status"],
        "VERIFIED"
    );
    HandMade {
        object_id,
        client_id,
        sp_id,
        arn,
        group_id,
    }
}

/// Runs the built `kiro-adopt` in the workspace with the provider's environment variables.
fn kiro_adopt(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    ws: &Workspace,
    extra: &[&str],
) -> String {
    let url = &sandbox.url;
    let out = Command::new(env!("CARGO_BIN_EXE_kiro-adopt"))
        .args(extra)
        .current_dir(&ws.dir)
        .env_clear()
        .env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_CLIENT_ID", &tenant.client_id)
        .env("ARM_CLIENT_SECRET", &tenant.client_secret)
        .env("KIRO_ENDPOINT_GRAPH", format!("{url}/graph"))
        .env("KIRO_ENDPOINT_LOGIN", format!("{url}/login"))
        .env("KIRO_ENDPOINT_KIRO", format!("{url}/kiro"))
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run kiro-adopt");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "kiro-adopt failed: {stderr}");
    stderr
}

fn adoption_workspace(sandbox: &Sandbox, tenant: &Tenant, account: &AwsAccount) -> Workspace {
    let mut ws = Workspace::new();
    ws.env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr());
    ws.write_main(&kiro_config(sandbox, tenant, ""));
    ws
}

/// The plan's summary line and every action it lists, for assertions.
fn plan(ws: &Workspace) -> (String, Vec<String>) {
    let (_, run) = ws.plan_exit_code();
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let actions = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("# ") && l.contains(" will be "))
        .map(|l| l.trim().to_string())
        .collect();
    (summary.to_string(), actions)
}

/// A fresh sandbox tenant and AWS account in which the whole guide was done by hand.
fn guide_made_by_hand() -> (Sandbox, Tenant, AwsAccount, HandMade) {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let token = sandbox.graph_token(&tenant);
    let entra = entra_by_hand(&sandbox, &tenant, &token);
    let made = kiro_by_hand(&sandbox, &tenant, &account, entra);
    (sandbox, tenant, account, made)
}

#[test]
fn a_setup_made_by_hand_is_adopted_with_only_imports() {
    let (sandbox, tenant, account, made) = guide_made_by_hand();

    let ws = adoption_workspace(&sandbox, &tenant, &account);
    let said = kiro_adopt(
        &sandbox,
        &tenant,
        &account,
        &ws,
        &["--application", &made.client_id],
    );
    assert!(
        said.contains("2 scope(s), 2 redirect URI(s), 2 assignment(s), a provisioning job"),
        "{said}"
    );
    assert!(said.contains("1 domain(s), 1 subscription(s)"), "{said}");
    let written = ws.read("adopted.tf");
    eprintln!("---- adopted.tf ----\n{written}");
    for expected in [
        "application_id = kiro_entra_application.this.id",
        "resource \"kiro_entra_api_scope\" \"codewhisperer_completions\"",
        "tenant_url           = kiro_profile.this.scim_endpoint",
        "client_id   = kiro_entra_application.this.client_id",
        "external_id    = kiro_entra_assignment.kiro_developers.principal_id",
        &format!("id = \"{}\"", made.object_id),
        &format!("id = \"{}/scopes/", made.object_id),
        &format!("principal_id         = \"{}\"", made.group_id),
    ] {
        assert!(written.contains(expected), "{expected:?} in\n{written}");
    }
    ws.ok(&["fmt", "-check", "-no-color", "adopted.tf"]);
    ws.init();
    let (summary, actions) = plan(&ws);
    assert_eq!(
        summary, "Plan: 11 to import, 0 to add, 0 to change, 0 to destroy.",
        "{actions:#?}"
    );
    assert!(
        actions.iter().all(|a| a.ends_with("will be imported")),
        "{actions:#?}"
    );
    let apply = ws.apply();
    assert!(
        apply
            .stdout
            .contains("Resources: 11 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    ws.assert_no_changes();
    assert_eq!(
        ws.attr("kiro_entra_provisioning.this", "service_principal_id"),
        made.sp_id
    );
    assert_eq!(ws.attr("kiro_profile.this", "arn"), made.arn);
}

#[test]
fn minting_a_scim_token_on_adoption_is_the_one_in_place_update() {
    let (sandbox, tenant, account, made) = guide_made_by_hand();
    let saved_before = sandbox.saved_scim_token(&tenant, &made.sp_id);

    let ws = adoption_workspace(&sandbox, &tenant, &account);
    kiro_adopt(
        &sandbox,
        &tenant,
        &account,
        &ws,
        &[
            "--application",
            "Kiro \"by hand\" ${tenant}",
            "--profile",
            "kiro-by-hand",
            "--scim-token",
            "mint",
        ],
    );
    ws.init();
    let (summary, actions) = plan(&ws);
    assert_eq!(
        summary, "Plan: 11 to import, 0 to add, 1 to change, 0 to destroy.",
        "{actions:#?}"
    );
    let changed: Vec<&String> = actions
        .iter()
        .filter(|a| !a.ends_with("will be imported"))
        .collect();
    assert_eq!(
        changed,
        ["# kiro_entra_provisioning.this will be updated in-place"],
        "{actions:#?}"
    );
    ws.apply();
    ws.assert_no_changes();
    assert_ne!(
        sandbox.saved_scim_token(&tenant, &made.sp_id),
        saved_before,
        "Entra uses the minted token"
    );
    assert!(
        !ws.attr("kiro_entra_provisioning.this", "kiro_scim_token_id")
            .is_empty()
    );
    let _ = made.client_id;
}

#[test]
fn a_scim_token_from_a_variable_is_sent_once_and_never_stored() {
    let (sandbox, tenant, account, made) = guide_made_by_hand();
    // A second token from Kiro's console, as a person rotating by hand would make it.
    let given = kiro_ok(
        &sandbox,
        &account,
        "AmazonQDeveloperService.CreateScimAccessToken",
        json!({"profileArn": made.arn}),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(sandbox.saved_scim_token(&tenant, &made.sp_id), given);

    let mut ws = adoption_workspace(&sandbox, &tenant, &account);
    kiro_adopt(
        &sandbox,
        &tenant,
        &account,
        &ws,
        &["--application", &made.client_id, "--scim-token", "variable"],
    );
    let written = ws.read("adopted.tf");
    for expected in [
        "variable \"scim_token\"",
        "secret_token_wo         = var.scim_token",
        "secret_token_wo_version = 1",
    ] {
        assert!(written.contains(expected), "{expected:?} in\n{written}");
    }
    ws.env("TF_VAR_scim_token", &given);
    ws.init();
    let (summary, actions) = plan(&ws);
    assert_eq!(
        summary, "Plan: 11 to import, 0 to add, 1 to change, 0 to destroy.",
        "{actions:#?}"
    );
    assert!(
        actions.contains(&"# kiro_entra_provisioning.this will be updated in-place".to_string()),
        "{actions:#?}"
    );
    let apply = ws.apply();
    assert!(!apply.output().contains(&given), "the token was shown");
    assert_eq!(
        sandbox.saved_scim_token(&tenant, &made.sp_id),
        given,
        "Entra uses the token given"
    );
    assert!(
        !ws.read("terraform.tfstate").contains(&given),
        "the token was stored"
    );
    ws.assert_no_changes();
}

/// The Entra side of [`a_setup_that_strays_from_the_guide_is_adopted_with_only_imports`]:
/// `(client id, service principal id, the assigned user)`.
fn stray_entra(sandbox: &Sandbox, tenant: &Tenant) -> (String, String, Value) {
    let token = sandbox.graph_token(tenant);
    let (object_id, client_id, sp_id) = instantiate_by_hand(sandbox, &token, "Kiro EU");
    let path = format!("applications/{object_id}");
    let app = sandbox.graph(&token, "GET", &path, None);
    let mut admin = scope("codewhisperer:completions", "Completions");
    admin["type"] = json!("Admin");
    admin["isEnabled"] = json!(false);
    let scopes = json!([app["api"]["oauth2PermissionScopes"][0], admin]);
    sandbox.graph(
        &token,
        "PATCH",
        &path,
        Some(json!({"api": {"oauth2PermissionScopes": scopes},
        "web": {"redirectUris": ["https://kiro.example.com/callback"]}})),
    );
    sandbox.drift_service_principal(tenant, &sp_id, json!({"appRoleAssignmentRequired": false}));
    let dave = sandbox
        .users(tenant)
        .into_iter()
        .find(|u| u["givenName"] == "Dave")
        .unwrap();
    sandbox.graph(
        &token,
        "POST",
        &format!("servicePrincipals/{sp_id}/appRoleAssignedTo"),
        Some(json!({"principalId": dave["id"], "resourceId": sp_id, "appRoleId": USER_ROLE})),
    );
    sandbox.flush_replication();
    (client_id, sp_id, dave)
}

/// The Kiro side: a tagged profile, the paused job with the template's mappings, the user
/// placed in Kiro and subscribed.
fn stray_kiro(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    entra: &(String, String, Value),
) {
    let (client_id, sp_id, dave) = entra;
    let profile = json!({
        "profileName": "kiro-eu", "tags": [{"key": "cost center", "value": "42"}],
        "identitySource": {"externalIdentityProvider": {"issuerUrl": issuer(tenant), "clientId": client_id}},
    });
    let (arn, _) =
        profile_and_portal_job(sandbox, tenant, account, profile, sp_id, Mappings::Template);
    let kiro_dave = sandbox.kiro_user(
        &arn,
        dave["userPrincipalName"].as_str().unwrap(),
        dave["id"].as_str().unwrap(),
    );
    kiro_ok(
        sandbox,
        account,
        "AmazonQDeveloperService.CreateAssignment",
        json!({
        "profileArn": arn, "principalId": kiro_dave["id"], "principalType": "USER", "subscriptionType": "KIRO_PRO"}),
    );
}

/// A setup that strays from the guide wherever a resource has a default: token version 1, the
/// template scope kept beside an `Admin` scope that is disabled, "Assignment required?" off, a
/// web redirect URI, the job paused with the template's mappings (`externalId` from
/// `mailNickname`, the ones Kiro rejects), a tagged profile, a user subscribed. Each shows as
/// an argument, and the plan still shows only imports.
#[test]
fn a_setup_that_strays_from_the_guide_is_adopted_with_only_imports() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let entra = stray_entra(&sandbox, &tenant);
    stray_kiro(&sandbox, &tenant, &account, &entra);
    let client_id = &entra.0;

    let ws = adoption_workspace(&sandbox, &tenant, &account);
    kiro_adopt(
        &sandbox,
        &tenant,
        &account,
        &ws,
        &["--application", "Kiro EU"],
    );
    let written = ws.read("adopted.tf");
    eprintln!("---- adopted.tf ----\n{written}");
    // Compared with the alignment padding folded away.
    let flat = written.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "requested_access_token_version = 1",
        "keep_default_scope = true",
        "assignment_required = false",
        "type = \"Admin\" enabled = false",
        "platform = \"web\"",
        "enabled = false remove_unsupported_mappings = false",
        "source_attribute = \"mailNickname\"",
        "\"cost center\" = \"42\"",
        "external_id = kiro_entra_assignment.dave_chen.principal_id",
        "# The application has no Application ID URI",
    ] {
        assert!(flat.contains(expected), "{expected:?} in\n{written}");
    }
    ws.ok(&["fmt", "-check", "-no-color", "adopted.tf"]);
    ws.init();
    // No identifier URI was set: the one change besides the imports adds the portal's default.
    let (_, run) = ws.plan_exit_code();
    let flat = run.flat_stdout();
    assert!(
        flat.contains("Plan: 7 to import, 0 to add, 1 to change, 0 to destroy.")
            && flat.contains("kiro_entra_application.this will be updated in-place")
            && flat.contains(&format!("+ identifier_uri = \"api://{client_id}\""))
            && flat.matches("will be updated in-place").count() == 1
            && !flat.contains("will be created")
            && !flat.contains("replaced")
            && !flat.contains("destroyed"),
        "{}",
        run.stdout
    );
    ws.apply();
    ws.assert_no_changes();
}

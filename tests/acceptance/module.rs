//! `examples/modules/kiro-entra` called as users call it, against a sandbox tenant and AWS
//! account: its input checks, and the path a real tenant takes without Route 53 — apply with
//! `verify_domains = false`, publish the `dns_records` output, apply with `true` — with a
//! write-only SCIM token, a plan per principal and principals given by object id.

use serde_json::{Value, json};

use crate::harness::Workspace;
use crate::kiro_fixtures::REGION;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

const GROUP: &str = "Kiro Developers";
const DOMAIN: &str = "two-step.example";

/// A root configuration calling the module (copied beside it as in the repository) with the
/// sandbox tenant's provider, an aws provider that asks nothing of AWS, and `arguments`.
fn module_workspace(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    arguments: &str,
    extra: &str,
) -> Workspace {
    let mut ws = Workspace::new();
    ws.add_example_modules();
    ws.add_aws_mirror();
    ws.env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr());
    let provider = sandbox.provider_block(tenant, None).replacen(
        "provider \"kiro\" {\n",
        &format!("provider \"kiro\" {{\n  region = \"{REGION}\"\n"),
        1,
    );
    ws.write(
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    kiro = {{ source = "kiro-entra/kiro" }}
    aws  = {{ source = "hashicorp/aws" }}
  }}
}}

{provider}
provider "aws" {{
  region                      = "{REGION}"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}}

module "kiro" {{
  source = "../modules/kiro-entra"
{arguments}
}}

output "kiro" {{
  value = {{
    client_id     = module.kiro.client_id
    issuer_url    = module.kiro.issuer_url
    profile_arn   = module.kiro.profile_arn
    scim_endpoint = module.kiro.scim_endpoint
    dns_records   = module.kiro.dns_records
    domain_status = module.kiro.domain_status
    subscriptions = module.kiro.subscriptions
    kiro_groups   = module.kiro.kiro_groups
    kiro_users    = module.kiro.kiro_users
    assignments   = module.kiro.assignments
  }}
}}
{extra}"#
        ),
    );
    ws.init();
    ws
}

fn module_output(ws: &Workspace) -> Value {
    let outputs: Value = serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).unwrap();
    outputs["kiro"]["value"].clone()
}

#[test]
fn bad_module_inputs_are_refused_with_their_rules() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let ws = module_workspace(
        &sandbox,
        &tenant,
        &account,
        r#"  profile_name      = "1-starts-with-a-digit"
  domains           = ["https://contoso.com"]
  users             = ["not-a-upn"]
  subscription_plan = "KIRO_GOLD"
  route53_zone_id   = "not-a-zone""#,
        "",
    );
    let out = ws.fails(&["plan", "-no-color"]).output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for rule in [
        "profile_name must start with a letter",
        "domains must be domain names such as contoso.com",
        "users must be user principal names",
        "subscription_plan must be KIRO_PRO, KIRO_PRO_PLUS, KIRO_POWER or null",
        "route53_zone_id must be a hosted zone id",
    ] {
        assert!(flat.contains(rule), "{rule}:\n{out}");
    }
    assert!(sandbox.applications(&tenant).is_empty());

    // A plan for nobody assigned (checked against the other inputs, so only once they are
    // valid themselves).
    let ws = module_workspace(
        &sandbox,
        &tenant,
        &account,
        r#"  profile_name       = "typo"
  groups             = ["Kiro Developers"]
  subscription_plans = { "Kiro Develpers" = "KIRO_POWER" }"#,
        "",
    );
    let out = ws.fails(&["plan", "-no-color"]).output();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Each subscription_plans key must be written as in groups"),
        "{out}"
    );

    // Checked once the inputs are valid: a write-only token mode without the token.
    let ws = module_workspace(
        &sandbox,
        &tenant,
        &account,
        r#"  profile_name    = "no-token"
  scim_token_mode = "write_only""#,
        "",
    );
    let out = ws.fails(&["plan", "-no-color"]).output();
    assert!(
        out.contains("scim_token_mode = \"write_only\" needs scim_token."),
        "{out}"
    );
    assert!(sandbox.applications(&tenant).is_empty());
}

#[test]
fn two_step_domain_verification_with_a_write_only_token() {
    let sandbox = Sandbox::start();
    // As in real life: only a published TXT record verifies a domain.
    sandbox.set_domain_auto_verify(None);
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let dave = sandbox
        .users(&tenant)
        .into_iter()
        .find(|u| u["givenName"] == "Dave")
        .expect("the seeded user Dave");
    let dave_id = dave["id"].as_str().unwrap().to_string();
    // The SCIM token comes from outside the module (here a kiro_access_token of the root
    // configuration, for the profile the module makes) and is passed write-only.
    let mut ws = module_workspace(
        &sandbox,
        &tenant,
        &account,
        &format!(
            r#"  profile_name       = "two-step"
  domains            = ["{DOMAIN}"]
  verify_domains     = var.verify_domains
  groups             = ["{GROUP}"]
  user_object_ids    = ["{dave_id}"]
  subscription_plans = {{ "{GROUP}" = "KIRO_POWER", "{dave_id}" = "NONE" }}
  scim_token_mode    = "write_only"
  scim_token         = kiro_access_token.scim.token
  token_rotation     = "1""#
        ),
        r#"
variable "verify_domains" {
  type = bool
}

resource "kiro_access_token" "scim" {
  profile_arn = module.kiro.profile_arn
  description = "Entra provisioning"
}
"#,
    );

    // Step 1: everything but the wait; the record to publish is in the outputs.
    ws.env("TF_VAR_verify_domains", "false");
    ws.apply();
    let out = module_output(&ws);
    let record = &out["dns_records"][DOMAIN];
    assert_eq!(record["type"], "TXT", "{out:#}");
    assert_eq!(out["domain_status"][DOMAIN], "PENDING", "{out:#}");
    let group = sandbox.seeded_group(&tenant, GROUP);
    assert_eq!(
        out["kiro_groups"][GROUP]["external_id"], group["id"],
        "{out:#}"
    );
    assert_eq!(out["kiro_users"][&dave_id]["external_id"], json!(dave_id));
    assert_eq!(out["subscriptions"][GROUP]["plan"], "KIRO_POWER", "{out:#}");
    assert!(
        out["subscriptions"].get(&dave_id).is_none(),
        "NONE leaves Dave unsubscribed: {out:#}"
    );
    let kiro = sandbox.kiro_objects(&account, REGION);
    assert_eq!(
        kiro["tokens"].as_array().map_or(0, Vec::len),
        1,
        "write-only mode mints no token of its own: {kiro:#}"
    );
    assert_eq!(
        kiro["assignments"].as_array().map_or(0, Vec::len),
        1,
        "{kiro:#}"
    );

    // Step 2: publish, then apply again waiting for the verification.
    sandbox.publish_txt(
        record["name"].as_str().unwrap(),
        &[record["value"].as_str().unwrap()],
    );
    ws.env("TF_VAR_verify_domains", "true");
    ws.apply();
    assert_eq!(module_output(&ws)["domain_status"][DOMAIN], "VERIFIED");
    ws.assert_no_changes();

    ws.destroy();
    sandbox.assert_empty(&tenant);
    sandbox.assert_kiro_empty(&account, REGION);
}

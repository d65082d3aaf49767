//! Workspaces for the Kiro resources: AWS credentials of a sandbox account
//! in the environment, the region in the provider block, and the provider's
//! DNS lookups pointed at the sandbox's DNS stub.

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

pub const REGION: &str = "us-east-1";
/// An Entra application's client id, for profiles that need one.
pub const CLIENT_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

pub fn issuer(tenant: &Tenant) -> String {
    format!(
        "https://login.microsoftonline.com/{}/v2.0",
        tenant.tenant_id
    )
}

/// The provider block (Entra tenant + region + sandbox endpoints), then `body`.
pub fn kiro_config(sandbox: &Sandbox, tenant: &Tenant, body: &str) -> String {
    let provider = sandbox.provider_block(tenant, None).replacen(
        "provider \"kiro\" {\n",
        "provider \"kiro\" {\n  region = \"us-east-1\"\n",
        1,
    );
    format!("{provider}\n{body}")
}

/// An initialised workspace whose provider signs Kiro calls as `account`.
pub fn kiro_workspace(
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
    body: &str,
) -> Workspace {
    let mut ws = Workspace::new();
    ws.env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr());
    ws.write_main(&kiro_config(sandbox, tenant, body));
    ws.init();
    ws
}

/// `kiro_profile.main` for the tenant.
pub fn profile(tenant: &Tenant, name: &str, extra: &str) -> String {
    format!(
        r#"resource "kiro_profile" "main" {{
  name       = "{name}"
  issuer_url = "{}"
  client_id  = "{CLIENT_ID}"
{extra}}}
"#,
        issuer(tenant)
    )
}

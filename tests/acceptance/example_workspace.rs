//! A workspace holding `examples/complete/main.tf` as it is, configured the way the README's
//! first command configures it — through the environment — here for a sandbox tenant and
//! AWS account: the sandbox's seeded group and a domain as `TF_VAR_*` (the example has no
//! sandbox defaults), hashicorp/aws from the machine's plugin mirror (the example can publish
//! the domain's record in Route 53). Shared by the whole-guide test and the benchmark, which
//! pass the user (`TF_VAR_kiro_user`) themselves.

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

pub fn complete_example(sandbox: &Sandbox, tenant: &Tenant, account: &AwsAccount) -> Workspace {
    let mut ws = Workspace::new();
    configure_for_sandbox(&mut ws, sandbox, tenant, account);
    ws.add_aws_mirror();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/complete/main.tf");
    std::fs::copy(example, ws.dir.join("main.tf")).expect("examples/complete/main.tf");
    ws
}

/// The environment the README's first command sets, here for a sandbox tenant and AWS
/// account: credentials, endpoints, the DNS stub, and the seeded group and a domain as
/// `TF_VAR_*`.
pub fn configure_for_sandbox(
    ws: &mut Workspace,
    sandbox: &Sandbox,
    tenant: &Tenant,
    account: &AwsAccount,
) {
    ws.env("ARM_TENANT_ID", &tenant.tenant_id)
        .env("ARM_CLIENT_ID", &tenant.client_id)
        .env("ARM_CLIENT_SECRET", &tenant.client_secret)
        .env("KIRO_ENDPOINT_LOGIN", &format!("{}/login", sandbox.url))
        .env("KIRO_ENDPOINT_GRAPH", &format!("{}/graph", sandbox.url))
        .env("KIRO_ENDPOINT_KIRO", &format!("{}/kiro", sandbox.url))
        .env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr())
        .env("TF_VAR_kiro_group", "Kiro Developers")
        .env("TF_VAR_company_domain", "kirosandbox.example");
}

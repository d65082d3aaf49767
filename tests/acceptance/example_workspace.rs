//! A workspace holding `examples/complete/main.tf` as it is, configured the way the README's
//! first command configures it — through the environment — here for a sandbox tenant and
//! AWS account. Shared by the whole-guide test and the benchmark.

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

pub fn complete_example(sandbox: &Sandbox, tenant: &Tenant, account: &AwsAccount) -> Workspace {
    let mut ws = Workspace::new();
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
        .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr());
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/complete/main.tf");
    std::fs::copy(example, ws.dir.join("main.tf")).expect("examples/complete/main.tf");
    ws
}

//! `examples/multi-tenant` as it is — three tenants, each its own sandbox Entra tenant and AWS
//! account, one aliased provider pair and one `examples/modules/kiro-entra` call each —
//! applied together; then a change to one tenant plans changes only in its module, removing
//! one tenant's module destroys only its objects, and one tenant's wrong client secret fails
//! that tenant's provider (named with its alias and tenant id) while the others still read.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::Workspace;
use crate::kiro_fixtures::REGION;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::AwsAccount;

const TENANTS: [&str; 3] = ["contoso", "fabrikam", "northwind"];
const GROUP: &str = "Kiro Developers";

struct Site {
    name: &'static str,
    tenant: Tenant,
    account: AwsAccount,
    /// The seeded user Dave's UPN in this tenant.
    user: String,
}

fn sites(sandbox: &Sandbox) -> Vec<Site> {
    TENANTS
        .iter()
        .map(|&name| {
            let tenant = sandbox.new_tenant();
            let user = sandbox
                .users(&tenant)
                .into_iter()
                .find(|u| u["givenName"] == "Dave")
                .and_then(|u| u["userPrincipalName"].as_str().map(str::to_string))
                .expect("every sandbox tenant has Dave");
            Site {
                name,
                tenant,
                account: sandbox.aws_account(),
                user,
            }
        })
        .collect()
}

/// `terraform.tfvars.json`: what each tenant's module does (the group, Dave, a domain), with
/// `token_rotation` per tenant.
fn tfvars(sites: &[Site], rotation: &dyn Fn(&str) -> &'static str) -> String {
    let tenants: serde_json::Map<String, Value> = sites
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                json!({
                    "tenant_id": s.tenant.tenant_id,
                    "client_id": s.tenant.client_id,
                    "aws_profile": s.name,
                    "region": REGION,
                    "profile_name": format!("kiro-{}", s.name),
                    "domains": [format!("{}.example", s.name)],
                    "groups": [GROUP],
                    "users": [s.user],
                    "token_rotation": rotation(s.name),
                }),
            )
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "tenants": tenants })).unwrap()
}

/// The example's files in a fresh workspace, the module beside it as in the repository, each
/// tenant's AWS account as a profile of a shared credentials file, and the client secrets
/// (with `wrong_secret_for` given a wrong one) in `TF_VAR_client_secrets`.
fn multi_tenant_workspace(
    sandbox: &Sandbox,
    sites: &[Site],
    wrong_secret_for: Option<&str>,
) -> Workspace {
    let mut ws = Workspace::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multi-tenant");
    for entry in std::fs::read_dir(&example).expect("examples/multi-tenant") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, ws.dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    ws.add_example_modules();
    ws.add_aws_mirror();
    ws.write("terraform.tfvars.json", &tfvars(sites, &|_| "initial"));
    let aws = ws.dir.parent().unwrap().join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    let credentials: String = sites
        .iter()
        .map(|s| {
            format!(
                "[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
                s.name, s.account.access_key_id, s.account.secret_access_key
            )
        })
        .collect();
    std::fs::write(aws.join("credentials"), credentials).unwrap();
    std::fs::write(aws.join("config"), "").unwrap();
    let secrets: serde_json::Map<String, Value> = sites
        .iter()
        .map(|s| {
            let secret = if wrong_secret_for == Some(s.name) {
                "wrong-secret-for-this-tenant".to_string()
            } else {
                s.tenant.client_secret.clone()
            };
            (s.name.to_string(), Value::String(secret))
        })
        .collect();
    ws.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        &aws.join("credentials").to_string_lossy(),
    )
    .env("AWS_CONFIG_FILE", &aws.join("config").to_string_lossy())
    .env("AWS_EC2_METADATA_DISABLED", "true")
    .env("KIRO_ENDPOINT_LOGIN", &format!("{}/login", sandbox.url))
    .env("KIRO_ENDPOINT_GRAPH", &format!("{}/graph", sandbox.url))
    .env("KIRO_ENDPOINT_KIRO", &format!("{}/kiro", sandbox.url))
    .env("KIRO_DNS_RESOLVER", &sandbox.dns_addr())
    .env("TF_VAR_client_secrets", &Value::Object(secrets).to_string());
    ws
}

/// How many objects of each kind a tenant has on both sides, and its application ids.
fn inventory(sandbox: &Sandbox, site: &Site) -> Value {
    let entra = sandbox.objects(&site.tenant);
    let kiro = sandbox.kiro_objects(&site.account, REGION);
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let mut application_ids: Vec<String> = sandbox
        .applications(&site.tenant)
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    application_ids.sort();
    let kiro_counts: serde_json::Map<String, Value> = [
        "profiles",
        "domains",
        "tokens",
        "users",
        "groups",
        "assignments",
    ]
    .iter()
    .map(|k| (k.to_string(), json!(count(&kiro[*k]))))
    .collect();
    json!({
        "applications": application_ids,
        "service_principals": count(&entra["service_principals"]),
        "assignments": count(&entra["assignments"]),
        "sync_jobs": count(&entra["sync_jobs"]),
        "kiro": kiro_counts,
    })
}

/// Each tenant got the guide in its own tenant and account: the group (with its members) and
/// Dave in Kiro with their Entra object ids, both subscribed, and the outputs saying so.
fn assert_each_tenant_delivered(sandbox: &Sandbox, sites: &[Site], ws: &Workspace) {
    let outputs: Value = serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).unwrap();
    for site in sites {
        let group = sandbox.seeded_group(&site.tenant, GROUP);
        let members = group["members"].as_array().unwrap().len();
        let kiro = sandbox.kiro_objects(&site.account, REGION);
        let users = kiro["users"].as_array().cloned().unwrap_or_default();
        assert_eq!(users.len(), members + 1, "{}: {users:#?}", site.name);
        let subscriptions = kiro["assignments"].as_array().map_or(0, Vec::len);
        assert_eq!(
            subscriptions, 2,
            "{}: the group and Dave: {kiro:#}",
            site.name
        );
        let out = &outputs[site.name]["value"];
        assert_eq!(
            out["kiro_groups"][GROUP]["external_id"], group["id"],
            "{}: {out:#}",
            site.name
        );
        assert_eq!(
            out["kiro_groups"][GROUP]["member_count"],
            json!(members),
            "{}: {out:#}",
            site.name
        );
        let arn = out["profile_arn"].as_str().unwrap_or_default();
        assert!(
            arn.contains(&site.account.account_id),
            "{}: the profile is in the tenant's own account: {out:#}",
            site.name
        );
        let record = &out["dns_records"][format!("{}.example", site.name)];
        assert_eq!(record["type"], "TXT", "{}: {out:#}", site.name);
        assert_eq!(sandbox.applications(&site.tenant).len(), 1, "{}", site.name);
    }
}

/// The addresses a saved plan would change (anything but no-op), sorted.
fn changed_addresses(ws: &Workspace, plan_file: &str) -> Vec<String> {
    let plan: Value = serde_json::from_str(&ws.ok(&["show", "-json", plan_file]).stdout).unwrap();
    let mut changed: Vec<String> = plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["change"]["actions"] != json!(["no-op"]))
        .filter_map(|c| c["address"].as_str().map(str::to_string))
        .collect();
    changed.sort();
    changed
}

#[test]
fn three_tenants_apply_change_and_leave_independently() {
    let sandbox = Sandbox::start();
    sandbox.set_domain_auto_verify(Some(300));
    let sites = sites(&sandbox);
    let ws = multi_tenant_workspace(&sandbox, &sites, None);
    ws.init();
    ws.apply();
    assert_each_tenant_delivered(&sandbox, &sites, &ws);

    // A new token_rotation for fabrikam alone: only fabrikam's module plans changes.
    ws.write(
        "terraform.tfvars.json",
        &tfvars(&sites, &|name| {
            if name == "fabrikam" {
                "2027-01"
            } else {
                "initial"
            }
        }),
    );
    ws.ok(&["plan", "-out=rotate.tfplan", "-no-color"]);
    let changed = changed_addresses(&ws, "rotate.tfplan");
    assert!(
        changed.contains(&"module.fabrikam.kiro_entra_provisioning.this".to_string()),
        "the rotation is planned: {changed:#?}"
    );
    assert!(
        changed.iter().all(|a| a.starts_with("module.fabrikam.")),
        "only fabrikam's module changes: {changed:#?}"
    );

    // Fabrikam leaves: its module's file goes, its providers stay for the destroy.
    ws.write("terraform.tfvars.json", &tfvars(&sites, &|_| "initial"));
    let kept: Vec<(&Site, Value)> = sites
        .iter()
        .filter(|s| s.name != "fabrikam")
        .map(|s| (s, inventory(&sandbox, s)))
        .collect();
    std::fs::remove_file(ws.dir.join("fabrikam.tf")).unwrap();
    let removal = ws.apply();
    for line in removal
        .stdout
        .lines()
        .filter(|l| l.contains("Destroying..."))
    {
        assert!(
            line.starts_with("module.fabrikam."),
            "only fabrikam's objects are destroyed: {line}\n{}",
            removal.stdout
        );
    }
    assert!(
        removal.stdout.contains("0 added, 0 changed,"),
        "{}",
        removal.stdout
    );
    let fabrikam = sites.iter().find(|s| s.name == "fabrikam").unwrap();
    sandbox.assert_empty(&fabrikam.tenant);
    sandbox.assert_kiro_empty(&fabrikam.account, REGION);
    for (site, before) in &kept {
        assert_eq!(
            &inventory(&sandbox, site),
            before,
            "{}'s objects are intact",
            site.name
        );
    }
    ws.assert_no_changes();

    ws.destroy();
    for site in &sites {
        sandbox.assert_empty(&site.tenant);
        sandbox.assert_kiro_empty(&site.account, REGION);
    }
}

#[test]
fn one_tenants_wrong_secret_fails_only_that_tenant() {
    let sandbox = Sandbox::start();
    let sites = sites(&sandbox);
    let ws = multi_tenant_workspace(&sandbox, &sites, Some("contoso"));
    ws.init();
    let run = ws.fails(&["plan", "-no-color"]);
    let out = run.output();
    let contoso = &sites[0].tenant;
    // What the user sees: Terraform names the provider block (with its alias), the provider
    // names the tenant, the client and where the secret came from.
    assert!(
        out.contains("provider[\"registry.terraform.io/kiro-entra/kiro\"].contoso"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Cannot sign in to Entra tenant {}",
            contoso.tenant_id
        )),
        "{out}"
    );
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "client {} with a client secret from the `client_secret` argument",
            contoso.client_id
        )),
        "{out}"
    );
    assert!(out.contains("AADSTS"), "Entra's reason: {out}");
    assert!(!out.contains("wrong-secret-for-this-tenant"), "{out}");
    assert_eq!(
        out.matches("Error: ").count(),
        1,
        "one error, for contoso's provider:\n{out}"
    );
    // The other tenants' plans went on: their lookups completed with their own credentials,
    // and Terraform shows what it planned for them (and nothing for contoso).
    assert!(
        out.contains("Terraform planned the following actions, but then encountered a problem"),
        "{out}"
    );
    for site in &sites[1..] {
        let read = format!(
            "module.{}.data.kiro_entra_group.by_name[\"{GROUP}\"]: Read complete",
            site.name
        );
        assert!(out.contains(&read), "{read}\n{out}");
        let planned = format!("# module.{}.kiro_profile.this will be created", site.name);
        assert!(out.contains(&planned), "{planned}\n{out}");
    }
    assert!(!out.contains("# module.contoso."), "{out}");
}

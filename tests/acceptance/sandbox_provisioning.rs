//! The sandbox's provisioning side, for the tests: jobs as `objects` lists them, a cycle run
//! now, the portal's mapping edits and deletes, and the saved token (a test seam).

use serde_json::{Value, json};

use crate::sandbox::{Sandbox, Tenant};

impl Sandbox {
    /// The synchronization job of a service principal, as `objects` lists it (`job`,
    /// masked `secrets`, `entry_errors`, `schema`), or `None`.
    pub fn sync_job(&self, tenant: &Tenant, sp_id: &str) -> Option<Value> {
        self.objects(tenant)["sync_jobs"]
            .as_array()?
            .iter()
            .find(|j| j["service_principal_id"] == sp_id)
            .cloned()
    }

    /// Runs one provisioning cycle of the service principal's job now; its summary.
    pub fn run_provisioning(&self, tenant: &Tenant, sp_id: &str) -> Value {
        self.call(
            "POST",
            &format!("tenants/{}/provisioning/run", tenant.tenant_id),
            Some(json!({"service_principal_id": sp_id})),
        )
    }

    /// A mapping edited in the portal: `rule` is `users` or `groups`, `source` `"[attr]"`,
    /// or `None` to delete the mapping.
    pub fn edit_mapping_in_portal(
        &self,
        tenant: &Tenant,
        sp_id: &str,
        rule: &str,
        target: &str,
        source: Option<&str>,
    ) {
        self.call(
            "PATCH",
            &format!(
                "tenants/{}/service_principals/{sp_id}/synchronization/schema",
                tenant.tenant_id
            ),
            Some(json!({"rule": rule, "target": target, "source": source})),
        );
    }

    /// The job deleted in the portal.
    pub fn delete_sync_job_out_of_band(&self, tenant: &Tenant, sp_id: &str) {
        self.call(
            "DELETE",
            &format!(
                "tenants/{}/service_principals/{sp_id}/synchronization/job",
                tenant.tenant_id
            ),
            None,
        );
    }

    /// The SCIM token Entra saved, unmasked (the sandbox's test seam).
    pub fn saved_scim_token(&self, tenant: &Tenant, sp_id: &str) -> String {
        self.call(
            "GET",
            &format!(
                "tenants/{}/service_principals/{sp_id}/synchronization/secret_token",
                tenant.tenant_id
            ),
            None,
        )["value"]
            .as_str()
            .expect("a saved SecretToken")
            .to_string()
    }
}

/// The source expression of the mapping of `target` in a job's schema (`users` or `groups`).
pub fn mapping_source(job: &Value, object: &str, target: &str) -> Option<String> {
    let source_object = if object == "users" { "User" } else { "Group" };
    job["schema"]["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().cloned().unwrap_or_default())
        .find(|m| m["sourceObjectName"] == source_object)?["attributeMappings"]
        .as_array()?
        .iter()
        .find(|a| a["targetAttributeName"] == target)
        .map(|a| {
            a["source"]["expression"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
}

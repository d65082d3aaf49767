//! Control API wrappers for Entra's people and app role assignments, used by acceptance
//! tests of the assignment resources, and a test that they reach the sandbox.

use serde_json::{Value, json};

use crate::sandbox::{Sandbox, Tenant};

fn array(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

impl Sandbox {
    /// Makes every pending object, change and assignment visible to Graph reads now, so
    /// tests never sleep out the replication lag.
    pub fn flush_replication(&self) {
        self.call("POST", "replication/flush", Some(json!({})));
    }

    /// Page length of user, group, member and assignment lists without `$top` (1–999).
    pub fn set_page_size(&self, n: usize) {
        self.call("PUT", "settings", Some(json!({"page_size": n})));
    }

    /// A new user (its user principal name made from `name` on the tenant's domain).
    pub fn create_user(&self, tenant: &Tenant, name: &str) -> Value {
        self.call(
            "POST",
            &format!("tenants/{}/users", tenant.tenant_id),
            Some(json!({"displayName": name})),
        )
    }

    /// Deletes a user with its group memberships and app role assignments.
    pub fn delete_user(&self, tenant: &Tenant, id: &str) {
        self.call(
            "DELETE",
            &format!("tenants/{}/users/{id}", tenant.tenant_id),
            None,
        );
    }

    /// A new security group with `member_count` new users as its members; the answer lists
    /// the member ids under `members`.
    pub fn create_group(&self, tenant: &Tenant, name: &str, member_count: usize) -> Value {
        self.call(
            "POST",
            &format!("tenants/{}/groups", tenant.tenant_id),
            Some(json!({"displayName": name, "member_count": member_count})),
        )
    }

    pub fn delete_group(&self, tenant: &Tenant, id: &str) {
        self.call(
            "DELETE",
            &format!("tenants/{}/groups/{id}", tenant.tenant_id),
            None,
        );
    }

    /// Every app role assignment of the tenant, ignoring replication lag.
    pub fn assignments(&self, tenant: &Tenant) -> Vec<Value> {
        array(&self.objects(tenant)["assignments"])
    }

    /// Assigns a user or group to an app role of a service principal "in the portal":
    /// Graph's rules apply, and the assignment is visible at once.
    pub fn create_assignment(
        &self,
        tenant: &Tenant,
        principal_id: &str,
        service_principal_id: &str,
        app_role_id: &str,
    ) -> Value {
        self.call(
            "POST",
            &format!("tenants/{}/assignments", tenant.tenant_id),
            Some(json!({
                "principalId": principal_id,
                "resourceId": service_principal_id,
                "appRoleId": app_role_id,
            })),
        )
    }

    /// Removes an assignment out of band (as an admin would in the portal).
    pub fn delete_assignment(&self, tenant: &Tenant, id: &str) {
        self.call(
            "DELETE",
            &format!("tenants/{}/assignments/{id}", tenant.tenant_id),
            None,
        );
    }

    pub fn users(&self, tenant: &Tenant) -> Vec<Value> {
        array(&self.objects(tenant)["users"])
    }

    /// Every group of the tenant, each with its direct member ids under `members`.
    pub fn groups(&self, tenant: &Tenant) -> Vec<Value> {
        array(&self.objects(tenant)["groups"])
    }

    /// One of the groups every tenant is seeded with: "Kiro Developers", "Kiro Admins" or
    /// "Engineering".
    pub fn seeded_group(&self, tenant: &Tenant, display_name: &str) -> Value {
        self.groups(tenant)
            .into_iter()
            .find(|g| g["displayName"] == display_name)
            .unwrap_or_else(|| panic!("the sandbox has no group named {display_name:?}"))
    }
}

/// Instantiates the non-gallery template through Graph, as the provider would; returns the
/// new service principal.
fn instantiate(sandbox: &Sandbox, tenant: &Tenant, name: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let token: Value = agent
        .post(format!(
            "{}/login/{}/oauth2/v2.0/token",
            sandbox.url, tenant.tenant_id
        ))
        .send_form([
            ("grant_type", "client_credentials"),
            ("client_id", tenant.client_id.as_str()),
            ("client_secret", tenant.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .expect("sandbox login")
        .body_mut()
        .read_json()
        .expect("token JSON");
    let token = token["access_token"].as_str().expect("access_token");
    let created: Value = agent
        .post(format!(
            "{}/graph/v1.0/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate",
            sandbox.url
        ))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"displayName": name}))
        .expect("instantiate")
        .body_mut()
        .read_json()
        .expect("instantiate JSON");
    created["servicePrincipal"].clone()
}

#[test]
fn entra_control_wrappers_reach_the_sandbox() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    sandbox.set_page_size(7);
    let user = sandbox.create_user(&tenant, "Wrapper User");
    let user_id = user["id"].as_str().unwrap();
    assert!(sandbox.users(&tenant).iter().any(|u| u["id"] == user["id"]));
    let group = sandbox.create_group(&tenant, "Wrapper Group", 2);
    assert_eq!(group["members"].as_array().unwrap().len(), 2);
    assert_eq!(sandbox.users(&tenant).len(), 8, "5 seeded, 1 + 2 new");
    let developers = sandbox.seeded_group(&tenant, "Kiro Developers");
    assert_eq!(developers["members"].as_array().unwrap().len(), 3);
    sandbox.flush_replication();
    assert!(sandbox.assignments(&tenant).is_empty());
    sandbox.assert_empty(&tenant);

    let sp = instantiate(&sandbox, &tenant, "Wrapped");
    let sp_id = sp["id"].as_str().unwrap();
    let user_role = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
    let a = sandbox.create_assignment(
        &tenant,
        developers["id"].as_str().unwrap(),
        sp_id,
        user_role,
    );
    assert_eq!(a["principalType"], "Group");
    assert_eq!(sandbox.assignments(&tenant), vec![a.clone()]);
    sandbox.delete_assignment(&tenant, a["id"].as_str().unwrap());
    assert!(sandbox.assignments(&tenant).is_empty());

    sandbox.delete_group(&tenant, group["id"].as_str().unwrap());
    sandbox.delete_user(&tenant, user_id);
    assert_eq!(sandbox.groups(&tenant).len(), 3);
    assert_eq!(sandbox.users(&tenant).len(), 7);
}

//! App role assignments: users and groups assigned to an enterprise application.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::client::{GraphClient, GraphRequest};
use super::consistency::{retry_while_reference_lags, wait_until};
use super::error::GraphError;
use super::path_segment;

/// An app role assignment (`/servicePrincipals/{id}/appRoleAssignedTo/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    /// Opaque id (about 43 characters).
    pub id: String,
    /// The app role; `00000000-0000-0000-0000-000000000000` is the default access role.
    pub app_role_id: String,
    /// The user, group or service principal assigned.
    pub principal_id: String,
    /// `User`, `Group` or `ServicePrincipal`.
    #[serde(default)]
    pub principal_type: Option<String>,
    /// The principal's display name.
    #[serde(default)]
    pub principal_display_name: Option<String>,
    /// The service principal the role belongs to.
    pub resource_id: String,
    /// Its display name.
    #[serde(default)]
    pub resource_display_name: Option<String>,
    /// Creation time (RFC 3339), as Graph gave it.
    #[serde(default)]
    pub created_date_time: Option<String>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `servicePrincipals/{spId}/appRoleAssignedTo`, encoded.
fn assigned_to_path(sp_id: &str) -> String {
    format!(
        "servicePrincipals/{}/appRoleAssignedTo",
        path_segment(sp_id)
    )
}

impl GraphClient {
    /// `POST /servicePrincipals/{spId}/appRoleAssignedTo`: assigns the app role to the
    /// principal. Graph's answers while a just-created principal or service principal has not
    /// replicated ([`GraphError::is_reference_lag`]) are retried until `timeout`; a duplicate
    /// ([`GraphError::is_duplicate_assignment`]) or an unknown role
    /// ([`GraphError::is_unknown_app_role`]) returns at once. Those answers mean nothing was
    /// made, so repeating the POST cannot make two. An ambiguous failure (5xx, lost
    /// connection) may have made the assignment: it is looked for before the POST is repeated.
    pub async fn create_app_role_assignment(
        &self,
        sp_id: &str,
        principal_id: &str,
        app_role_id: &str,
        timeout: Duration,
    ) -> Result<AppRoleAssignment, GraphError> {
        let request = GraphRequest::post(
            assigned_to_path(sp_id),
            json!({"principalId": principal_id, "resourceId": sp_id, "appRoleId": app_role_id}),
        );
        let what = format!(
            "Graph to accept assigning app role {app_role_id} of service principal {sp_id} to {principal_id}"
        );
        let deadline = Instant::now() + timeout;
        let mut lost_answer = false;
        let made = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match retry_while_reference_lags(&what, left, || self.execute(&request)).await {
                // The POST may have been carried out: look for it before trying again.
                Err(e) if e.is_ambiguous() && Instant::now() < deadline => {
                    tracing::warn!(error = %e, %sp_id, %principal_id, "assigning gave no usable answer; looking for the assignment before trying again");
                    lost_answer = true;
                    if let Some(found) = self
                        .find_assignment(sp_id, principal_id, app_role_id)
                        .await?
                    {
                        break Ok(found);
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                // A try whose answer was lost made it; Graph shows it once it has replicated.
                Err(e) if e.is_duplicate_assignment() && lost_answer => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    break wait_until(
                        "the assignment made by a try whose answer was lost",
                        left,
                        || self.find_assignment(sp_id, principal_id, app_role_id),
                    )
                    .await;
                }
                other => break other,
            }
        };
        self.shared_assignment_lists().forget(sp_id);
        let made = made?;
        // Read your own write: the next refresh finds assignments in the service principal's
        // list, which misses a new one while it replicates. Returning before the list shows it
        // would let that refresh take the new assignment for a deleted one.
        let left = deadline.saturating_duration_since(Instant::now());
        let id = made.id.clone();
        self.confirm_write(
            "the new assignment to show in the service principal's list",
            left,
            || async {
                Ok(self
                    .list_app_role_assignments(sp_id)
                    .await?
                    .into_iter()
                    .find(|a| a.id == id))
            },
        )
        .await?;
        self.shared_assignment_lists().forget(sp_id);
        Ok(made)
    }

    /// The service principal's assignment of `app_role_id` to `principal_id`, if Graph shows it.
    async fn find_assignment(
        &self,
        sp_id: &str,
        principal_id: &str,
        app_role_id: &str,
    ) -> Result<Option<AppRoleAssignment>, GraphError> {
        let all = self.list_app_role_assignments(sp_id).await?;
        Ok(all.into_iter().find(|a| {
            a.principal_id.eq_ignore_ascii_case(principal_id)
                && a.app_role_id.eq_ignore_ascii_case(app_role_id)
        }))
    }

    /// `GET /servicePrincipals/{spId}/appRoleAssignedTo/{id}`; `None` on 404.
    pub async fn get_app_role_assignment(
        &self,
        sp_id: &str,
        id: &str,
    ) -> Result<Option<AppRoleAssignment>, GraphError> {
        let path = format!("{}/{}", assigned_to_path(sp_id), path_segment(id));
        self.get_opt(&path).await
    }

    /// Every assignment to the service principal (all pages).
    pub async fn list_app_role_assignments(
        &self,
        sp_id: &str,
    ) -> Result<Vec<AppRoleAssignment>, GraphError> {
        self.list(&assigned_to_path(sp_id)).await
    }

    /// Every assignment to the service principal, shared: concurrent and later calls for the
    /// same service principal make one (paged) listing between them, until this client
    /// assigns or removes an assignment there, which drops the shared copy. For refreshes of
    /// many assignments of one enterprise application.
    pub async fn list_app_role_assignments_shared(
        &self,
        sp_id: &str,
    ) -> Result<Arc<Vec<AppRoleAssignment>>, GraphError> {
        self.shared_assignment_lists()
            .get(sp_id, || async {
                Ok(Arc::new(self.list_app_role_assignments(sp_id).await?))
            })
            .await
    }

    /// `DELETE /servicePrincipals/{spId}/appRoleAssignedTo/{id}`; `false` when it was already
    /// gone.
    pub async fn delete_app_role_assignment(
        &self,
        sp_id: &str,
        id: &str,
    ) -> Result<bool, GraphError> {
        let path = format!("{}/{}", assigned_to_path(sp_id), path_segment(id));
        let deleted = self.delete(&path).await;
        self.shared_assignment_lists().forget(sp_id);
        deleted
    }
}

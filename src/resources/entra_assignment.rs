//! `kiro_entra_assignment`: assigns a user or group to the enterprise
//! application ("Users and groups"), which is what lets them sign in to Kiro
//! and what SCIM provisioning sends to Kiro; with `provision_on_demand`, it
//! also sends them to Kiro at once (`entra_assignment_provisioning.rs`).

#[path = "entra_assignment_provisioning.rs"]
mod provisioning;

use std::time::Duration;

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{guid, int_between, is_guid, same_guid};
use crate::framework::value::TfValue;
use crate::graph::assignments::AppRoleAssignment;
use crate::graph::client::GraphClient;
use crate::graph::consistency::wait_until;
use crate::graph::error::GraphError;
use crate::{attr, tf_model};

use super::take_over::NaturalKey;
use super::{GraphFailure, bad_import_id, import_parts};

/// The `User` app role of the non-gallery template.
pub const TEMPLATE_USER_ROLE: &str = "18d14569-c3bd-439b-9a66-3a2aee01d14f";
/// How long a principal that Graph does not show may be new and still
/// replicating, before it counts as missing.
const PRINCIPAL_LAG: Duration = Duration::from_secs(60);
/// `on_demand_member_limit`'s default: 50 calls, about 100 seconds of an apply.
const DEFAULT_MEMBER_LIMIT: i64 = 250;

tf_model! {
    pub struct AssignmentModel {
        /// `<service principal id>/<assignment id>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// Object id of the enterprise application (`kiro_entra_application.<name>.service_principal_id`).
        service_principal_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// Object id of the user or group to assign.
        principal_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// The app role to assign; the default is the template's `User` role.
        app_role_id: String [default(TfValue::string(TEMPLATE_USER_ROLE)), requires_replace, equivalent(same_guid), validate(guid())],
        /// `User` or `Group`.
        principal_type: Option<String> [computed, use_state_for_unknown],
        /// The user's or group's display name.
        principal_display_name: Option<String> [computed],
        /// Run "Provision on demand" after assigning (or when this turns true): the user, or
        /// the group and its direct user members (5 per call; Graph allows 5 calls per 10
        /// seconds, so a large group takes about 2 seconds per 5 members within
        /// `timeouts`), are sent to Kiro at once instead of at the next provisioning cycle.
        /// Needs the application's provisioning job (`kiro_entra_provisioning`, with
        /// `depends_on` on it). Fails with the provisioning service's reason when it does not
        /// succeed, e.g. when Kiro rejects an attribute. An import cannot know it and leaves it
        /// null; setting it then records the value without provisioning (the existing
        /// assignment is the provisioning cycle's to keep in Kiro).
        provision_on_demand: Option<bool> [default(TfValue::Bool(false))],
        /// The most user members a group may have to be provisioned on demand (default 250:
        /// 50 calls, about 100 seconds). A larger group is assigned, and its members are left
        /// to the provisioning cycle (about every 40 minutes); the plan says so, and
        /// `provisioning_result` records it.
        on_demand_member_limit: i64 [default(TfValue::Number(DEFAULT_MEMBER_LIMIT.into())), validate(int_between(1, 10000))],
        /// What provision on demand did, e.g. `User <object id>: Success (created in Kiro)`;
        /// for a group, the group's and its members' outcomes. Null when
        /// `provision_on_demand` is false. Recorded when provisioning runs; not read back.
        provisioning_result: Option<String> [computed],
    }
}

impl AssignmentModel {
    fn observed(mut self, a: &AppRoleAssignment) -> Self {
        self.id = Some(format!("{}/{}", self.service_principal_id, a.id));
        self.principal_id = a.principal_id.clone();
        self.app_role_id = a.app_role_id.clone();
        self.principal_type = a.principal_type.clone();
        self.principal_display_name = a.principal_display_name.clone();
        self
    }

    fn assignment_id(&self) -> Option<&str> {
        self.id
            .as_deref()
            .and_then(|id| id.split_once('/'))
            .map(|(_, a)| a)
    }
}

/// The assignment, from the service principal's list shared by every
/// assignment of it in this refresh (one listing, not one per assignment).
async fn find(
    graph: &GraphClient,
    sp_id: &str,
    assignment_id: &str,
) -> Result<Option<AppRoleAssignment>, GraphError> {
    match graph.list_app_role_assignments_shared(sp_id).await {
        Ok(all) => Ok(all.iter().find(|a| a.id == assignment_id).cloned()),
        // The enterprise application is gone, and its assignments with it.
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A principal holds an app role on a service principal once.
fn natural_key(plan: &AssignmentModel) -> NaturalKey {
    key_of(
        &plan.service_principal_id,
        &plan.principal_id,
        &plan.app_role_id,
    )
}

fn key_of(sp_id: &str, principal_id: &str, app_role_id: &str) -> NaturalKey {
    NaturalKey {
        type_name: EntraAssignment::TYPE_NAME,
        key: format!(
            "{}/{}/{}",
            sp_id.to_ascii_lowercase(),
            principal_id.to_ascii_lowercase(),
            app_role_id.to_ascii_lowercase()
        ),
        described: format!(
            "the assignment of principal {principal_id} to app role {app_role_id} of service \
             principal {sp_id}"
        ),
        at: AttrPath::attr(attr!(AssignmentModel, principal_id)),
    }
}

/// Warns when a planned create will take over an assignment that exists (see
/// [`NaturalKey::will_take_over`]). A list that fails is left to the apply.
async fn warn_of_take_over(graph: &GraphClient, plan: &mut PlanContext<'_>) {
    if !plan.is_create() {
        return;
    }
    let known = |name: &str| plan.planned(name).as_str().map(str::to_string);
    let (Some(sp_id), Some(principal_id), Some(role)) = (
        known(attr!(AssignmentModel, service_principal_id)),
        known(attr!(AssignmentModel, principal_id)),
        known(attr!(AssignmentModel, app_role_id)),
    ) else {
        return;
    };
    let Ok(all) = graph.list_app_role_assignments_shared(&sp_id).await else {
        return;
    };
    if let Some(found) = all
        .iter()
        .find(|a| same_guid(&a.principal_id, &principal_id) && same_guid(&a.app_role_id, &role))
    {
        key_of(&sp_id, &principal_id, &role).will_take_over(&found.id, &mut plan.diagnostics);
    }
}

/// The assignment Graph refused to make twice (one an interrupted apply made): read
/// fresh, and waited for while the list lags behind the write that made it.
async fn existing(
    graph: &GraphClient,
    plan: &AssignmentModel,
    timeout: Duration,
) -> Result<AppRoleAssignment, Diagnostics> {
    let lag = timeout.min(PRINCIPAL_LAG);
    wait_until("the existing assignment to be listed", lag, || async {
        let all = graph
            .list_app_role_assignments(&plan.service_principal_id)
            .await?;
        Ok(all.into_iter().find(|a| {
            same_guid(&a.principal_id, &plan.principal_id)
                && same_guid(&a.app_role_id, &plan.app_role_id)
        }))
    })
    .await
    .map_err(|e| match e {
        GraphError::Timeout { .. } => Diagnostic::error(
            "This assignment already exists",
            format!(
                "Graph says principal {} already has app role {} on service principal {}, \
                 but does not list that assignment (waited {lag:?}). Import it once it shows: \
                 terraform import <resource address> {}/<assignment id>",
                plan.principal_id,
                plan.app_role_id,
                plan.service_principal_id,
                plan.service_principal_id
            ),
        )
        .at(AttrPath::attr(attr!(AssignmentModel, principal_id)))
        .into(),
        e => e.fail("list the service principal's assignments"),
    })
}

/// `on_demand_member_limit` as a count (validated to be at least 1).
fn member_limit(limit: &i64) -> usize {
    usize::try_from(*limit).unwrap_or(1)
}

pub struct EntraAssignment;

#[async_trait]
impl ManagedResource<Clients> for EntraAssignment {
    type Model = AssignmentModel;
    const TYPE_NAME: &'static str = "kiro_entra_assignment";
    const DESCRIPTION: &'static str = "Assigns a user or group to the enterprise application \
        (\"Users and groups\"). Assigned users can sign in to Kiro, and provisioning sends \
        assigned users and groups (a group's direct members, not nested groups) to Kiro.";
    // Provision on demand sends 5 members per call and Graph allows 5 calls per 10 s: a
    // 750-member group takes about 5 minutes, so creating (or turning it on) may take 20.
    const TIMEOUTS: Timeouts = Timeouts::minutes(20, 20, 5);

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        provisioning::plan_result(plan);
        if let Some(clients) = client {
            provisioning::warn_of_group_cost(&clients.graph, plan).await;
            warn_of_take_over(&clients.graph, plan).await;
        }
        if !plan.is_create() {
            // An in-place update does not change the principal; only a refresh does.
            let name = attr!(AssignmentModel, principal_display_name);
            let prior = plan.prior(name).clone();
            plan.set(name, prior);
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: AssignmentModel,
        op: &Operation,
    ) -> Result<AssignmentModel, Diagnostics> {
        let graph = &clients.graph;
        let key = natural_key(&plan);
        key.claim(clients)?;
        // A principal Graph does not show may be new (lag) or gone: wait a
        // little, then say which it is instead of retrying for the whole
        // create timeout.
        let lag = op.remaining().min(PRINCIPAL_LAG);
        let principal = wait_until("the principal to be visible", lag, || {
            graph.get_directory_object(&plan.principal_id)
        })
        .await
        .map_err(|e| match e {
            GraphError::Timeout { .. } => Diagnostic::error(
                "Principal not found",
                format!(
                    "No user or group with object id {} exists in this tenant (waited {lag:?} in \
                     case it was just created). If it was deleted, remove this assignment or \
                     point it at another principal.",
                    plan.principal_id
                ),
            )
            .at(AttrPath::attr(attr!(AssignmentModel, principal_id)))
            .into(),
            e => e.fail("look up the principal"),
        })?;
        // The provisioning job is looked up before assigning: without one, nothing is made.
        let on_demand = if plan.provision_on_demand == Some(true) {
            let object = provisioning::object_of_principal(&principal)?;
            let target =
                provisioning::target(graph, &plan.service_principal_id, object, op.remaining())
                    .await?;
            Some((object, target))
        } else {
            None
        };
        let made = graph
            .create_app_role_assignment(
                &plan.service_principal_id,
                &plan.principal_id,
                &plan.app_role_id,
                op.remaining(),
            )
            .await;
        let assignment = match made {
            Ok(a) => a,
            Err(e) if e.is_duplicate_assignment() => {
                let found = existing(graph, &plan, op.remaining()).await?;
                key.took_over(op, &found.id);
                found
            }
            Err(e) if e.is_unknown_app_role() => {
                return Err(Diagnostic::error(
                    "Unknown app role",
                    format!(
                        "The enterprise application has no app role {} ({e}).",
                        plan.app_role_id
                    ),
                )
                .at(AttrPath::attr(attr!(AssignmentModel, app_role_id)))
                .into());
            }
            Err(e) => return Err(e.fail("assign the principal")),
        };
        let mut assigned = plan.observed(&assignment);
        if let Some((object, target)) = on_demand {
            // The assignment exists: if provisioning fails, it is kept (tainted).
            op.exists(&assigned);
            let result = provisioning::provision(
                graph,
                &assigned.service_principal_id,
                &target,
                &assigned.principal_id,
                object,
                op.remaining(),
                member_limit(&assigned.on_demand_member_limit),
            )
            .await?;
            assigned.provisioning_result = Some(result);
        }
        Ok(assigned)
    }

    async fn read(
        &self,
        clients: &Clients,
        state: AssignmentModel,
    ) -> Result<Option<AssignmentModel>, Diagnostics> {
        let Some(assignment_id) = state.assignment_id().map(str::to_string) else {
            return Ok(None);
        };
        let found = find(&clients.graph, &state.service_principal_id, &assignment_id)
            .await
            .map_err(|e| e.fail("read the assignment"))?;
        if found.is_none() {
            tracing::info!(%assignment_id, "assignment is gone (or its principal was deleted); removing it from state");
        }
        Ok(found.map(|a| state.observed(&a)))
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: AssignmentModel,
        plan: AssignmentModel,
        op: &Operation,
    ) -> Result<AssignmentModel, Diagnostics> {
        // Every other argument forces replacement: only `provision_on_demand` (and
        // `timeouts`) change here, and turning it on provisions now. After an import (null)
        // the value is only recorded: an apply of an adopted assignment changes nothing remote.
        let provisioning_result = match (prior.provision_on_demand, plan.provision_on_demand) {
            (_, Some(false) | None) | (None, Some(true)) => None,
            (Some(true), Some(true)) => prior.provisioning_result.clone(),
            (Some(false), Some(true)) => Some(
                provisioning::find_and_provision(
                    &clients.graph,
                    &prior.service_principal_id,
                    prior.principal_type.as_deref(),
                    &prior.principal_id,
                    op.remaining(),
                    member_limit(&plan.on_demand_member_limit),
                )
                .await?,
            ),
        };
        Ok(AssignmentModel {
            provision_on_demand: plan.provision_on_demand,
            provisioning_result,
            ..prior
        })
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: AssignmentModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let Some(assignment_id) = state.assignment_id() else {
            return Ok(());
        };
        clients
            .graph
            .delete_app_role_assignment(&state.service_principal_id, assignment_id)
            .await
            .map(|_| ())
            .map_err(|e| e.fail("remove the assignment"))
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<AssignmentModel, Diagnostics> {
        let usage = "<service principal id>/<assignment id>";
        let [sp_id, assignment_id] = import_parts(id, usage)?;
        if !is_guid(&sp_id) {
            return Err(bad_import_id(id, usage));
        }
        let found = find(&clients.graph, &sp_id, &assignment_id)
            .await
            .map_err(|e| e.fail("look up the assignment"))?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Cannot import: assignment not found",
                    format!("Service principal {sp_id} has no assignment {assignment_id}."),
                ))
            })?;
        Ok(AssignmentModel {
            service_principal_id: sp_id,
            on_demand_member_limit: DEFAULT_MEMBER_LIMIT,
            ..AssignmentModel::default()
        }
        .observed(&found))
    }
}

//! `provision_on_demand` of `kiro_entra_assignment`: the Terraform side of
//! [`crate::graph::on_demand`] — which principal type to provision, and the
//! diagnostics for the person running Terraform.

use std::time::Duration;

use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::plan::PlanContext;
use crate::framework::timeouts::human;
use crate::framework::value::TfValue;
use crate::graph::GraphClient;
use crate::graph::directory::{DirectoryObject, MemberKind};
use crate::graph::on_demand::{
    OnDemandError, OnDemandTarget, count_group_user_members, find_on_demand_target, group_cost,
    provision_principal,
};
use crate::graph::synchronization::{ProvisionOutcome, SyncObject};

use super::super::GraphFailure;
use super::AssignmentModel;
use crate::attr;

/// The attribute the diagnostics point at.
const ATTRIBUTE: &str = "provision_on_demand";

/// Plans `provisioning_result`: known after apply only when provisioning will run (on create,
/// or when `provision_on_demand` turns from false to true), null when it is off, else as it
/// was (an imported assignment, whose `provision_on_demand` is null, is not provisioned).
pub(super) fn plan_result(plan: &mut PlanContext<'_>) {
    let on = attr!(AssignmentModel, provision_on_demand);
    let result = attr!(AssignmentModel, provisioning_result);
    // An import cannot know whether the assignment was provisioned on demand and leaves it
    // null; left out of the configuration it stays null (the default is for new assignments),
    // so the configuration `-generate-config-out` writes plans clean.
    if !plan.is_create() && plan.prior(on).is_null() && plan.config(on).is_null() {
        plan.set(on, TfValue::Null);
    }
    let wanted = plan.planned(on);
    let value = if wanted.is_unknown() {
        TfValue::unknown()
    } else if *wanted != TfValue::Bool(true) {
        TfValue::Null
    } else if plan.is_create() || *plan.prior(on) == TfValue::Bool(false) {
        TfValue::unknown()
    } else {
        plan.prior(result).clone()
    };
    plan.set(result, value);
}

/// Warns at plan time what provisioning a group on demand will cost (its user members, the
/// calls, the time), or that it is over `on_demand_member_limit` and left to the cycle. Only
/// when provisioning will run and the principal and limit are known; a lookup that fails says
/// nothing here (the apply reports it).
pub(super) async fn warn_of_group_cost(graph: &GraphClient, plan: &mut PlanContext<'_>) {
    let result = attr!(AssignmentModel, provisioning_result);
    let limit = attr!(AssignmentModel, on_demand_member_limit);
    let (Some(principal_id), Some(limit)) = (
        plan.planned(attr!(AssignmentModel, principal_id)).as_str(),
        plan.planned(limit).as_number().and_then(|n| n.as_u64()),
    ) else {
        return;
    };
    if !plan.planned(result).is_unknown() || plan.planned(ATTRIBUTE).as_bool() != Some(true) {
        return;
    }
    let principal_id = principal_id.to_string();
    let Ok(Some(principal)) = graph.get_directory_object(&principal_id).await else {
        return;
    };
    if principal.kind() != MemberKind::Group {
        return;
    }
    let Ok(members) = count_group_user_members(graph, &principal_id).await else {
        return;
    };
    let warning = group_cost_warning(&principal_id, members, limit as usize);
    plan.diagnostics.push(warning.at(AttrPath::attr(ATTRIBUTE)));
}

/// The plan's words for [`warn_of_group_cost`].
fn group_cost_warning(group_id: &str, members: usize, limit: usize) -> Diagnostic {
    if members > limit {
        return Diagnostic::warning(
            "A group too large to provision on demand",
            format!(
                "Group {group_id} has {members} user members, more than on_demand_member_limit \
                 ({limit}). The assignment is made, but its members are not provisioned on \
                 demand: the provisioning cycle (about every 40 minutes) sends them to Kiro."
            ),
        );
    }
    let (calls, waits) = group_cost(members);
    let waiting = match waits.is_zero() {
        true => "no waiting for Graph's limit of 5 calls per 10 seconds".to_string(),
        false => format!(
            "at least {} of waiting for Graph's limit of 5 calls per 10 seconds",
            human(waits)
        ),
    };
    Diagnostic::warning(
        "Provisioning a group on demand",
        format!(
            "Group {group_id} has {members} user members: provisioning it on demand takes {calls} \
             call(s) of at most 5 members, with {waiting}. Above on_demand_member_limit \
             ({limit}) members are left to the provisioning cycle instead."
        ),
    )
}

fn at_attribute(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .at(AttrPath::attr(ATTRIBUTE))
        .into()
}

/// The object type of a directory object; anything but a user or group cannot be provisioned.
pub(super) fn object_of_principal(principal: &DirectoryObject) -> Result<SyncObject, Diagnostics> {
    let kind = match principal.kind() {
        MemberKind::User => "User".to_string(),
        MemberKind::Group => "Group".to_string(),
        MemberKind::Other(t) => t.trim_start_matches("#microsoft.graph.").to_string(),
    };
    object_of(Some(&kind), &principal.id)
}

/// The object type of a principal as Graph names it (`User`, `Group`); anything else cannot
/// be provisioned.
fn object_of(principal_type: Option<&str>, principal_id: &str) -> Result<SyncObject, Diagnostics> {
    match principal_type {
        Some(t) if t.eq_ignore_ascii_case("User") => Ok(SyncObject::User),
        Some(t) if t.eq_ignore_ascii_case("Group") => Ok(SyncObject::Group),
        other => Err(at_attribute(
            "Cannot provision this principal on demand",
            format!(
                "Principal {principal_id} is a {}, not a user or group; provisioning only sends \
                 users and groups to Kiro. Set provision_on_demand = false for it.",
                other.unwrap_or("principal of unknown type")
            ),
        )),
    }
}

/// Finds the provisioning job and rule before anything is changed, so that a missing job
/// fails the plan's apply without leaving an assignment behind.
pub(super) async fn target(
    graph: &GraphClient,
    sp_id: &str,
    object: SyncObject,
    timeout: Duration,
) -> Result<OnDemandTarget, Diagnostics> {
    find_on_demand_target(graph, sp_id, object, timeout)
        .await
        .map_err(|e| diagnose(e, sp_id))
}

/// Provisions the assigned principal; returns the summary kept in `provisioning_result`.
pub(super) async fn provision(
    graph: &GraphClient,
    sp_id: &str,
    target: &OnDemandTarget,
    principal_id: &str,
    object: SyncObject,
    timeout: Duration,
    max_members: usize,
) -> Result<String, Diagnostics> {
    let report = provision_principal(
        graph,
        sp_id,
        target,
        principal_id,
        object,
        timeout,
        max_members,
    )
    .await
    .map_err(|e| diagnose(e, sp_id))?;
    tracing::info!(service_principal = %sp_id, principal = %principal_id, calls = report.calls,
        result = %report.summary, "provisioned on demand");
    Ok(report.summary)
}

/// Finds the job and provisions an existing assignment's principal (`principal_type` as the
/// assignment gives it); returns the summary.
pub(super) async fn find_and_provision(
    graph: &GraphClient,
    sp_id: &str,
    principal_type: Option<&str>,
    principal_id: &str,
    timeout: Duration,
    max_members: usize,
) -> Result<String, Diagnostics> {
    let started = tokio::time::Instant::now();
    let object = object_of(principal_type, principal_id)?;
    let target = target(graph, sp_id, object, timeout).await?;
    let left = timeout.saturating_sub(started.elapsed());
    provision(
        graph,
        sp_id,
        &target,
        principal_id,
        object,
        left,
        max_members,
    )
    .await
}

fn diagnose(err: OnDemandError, sp_id: &str) -> Diagnostics {
    match err {
        OnDemandError::NoJob => at_attribute(
            "No provisioning job to run",
            format!(
                "provision_on_demand = true needs the enterprise application's provisioning job, \
                 and service principal {sp_id} has none. Create it with a kiro_entra_provisioning \
                 resource first, and add depends_on = [kiro_entra_provisioning.<name>] to this \
                 assignment so that Terraform configures provisioning before assigning."
            ),
        ),
        OnDemandError::SeveralJobs(ids) => at_attribute(
            "Several provisioning jobs",
            format!(
                "Service principal {sp_id} has {} provisioning jobs ({}), so which one to run is \
                 unclear. Remove the extra ones in the portal (Provisioning) or set \
                 provision_on_demand = false.",
                ids.len(),
                ids.join(", ")
            ),
        ),
        OnDemandError::NoRule { job_id, object } => at_attribute(
            "The provisioning job does not provision this kind of principal",
            format!(
                "The schema of provisioning job {job_id} has no mapping for {} objects, so \
                 provision on demand cannot send this principal. Check the job's attribute \
                 mappings in the portal.",
                object.as_str()
            ),
        ),
        OnDemandError::NotProvisioned {
            subject,
            outcome,
            reason,
            done_before,
        } => {
            let outcome = match outcome {
                ProvisionOutcome::Failure => "Failure".to_string(),
                ProvisionOutcome::Skipped => "Skipped".to_string(),
                ProvisionOutcome::Success => "Success".to_string(),
                ProvisionOutcome::Other(o) => o,
            };
            let mut reason =
                reason.unwrap_or_else(|| "the provisioning service gave no reason".into());
            if !reason.ends_with(['.', '!', '?']) {
                reason.push('.');
            }
            let before = done_before
                .map(|d| format!("\n\nBefore that: {d}."))
                .unwrap_or_default();
            at_attribute(
                "Provision on demand did not succeed",
                format!(
                    "Provisioning {subject} to Kiro ended with {outcome}: {reason}{before}\n\n\
                     If Kiro rejected an attribute (such as department, manager, employeeNumber \
                     or a phone number), remove that mapping from the provisioning job \
                     (kiro_entra_provisioning's remove_unsupported_mappings), then apply again."
                ),
            )
        }
        OnDemandError::Graph(e) => at_diagnostics(e.fail("provision on demand")),
    }
}

fn at_diagnostics(mut diags: Diagnostics) -> Diagnostics {
    for d in &mut diags.0 {
        if d.attribute.is_none() {
            d.attribute = Some(AttrPath::attr(ATTRIBUTE));
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::managed::Managed;
    use crate::framework::model::Model;
    use crate::framework::plan::plan;
    use crate::framework::resource::Resource;

    const SP: &str = "0c6a1c1e-0000-4000-8000-000000000001";
    const USER: &str = "0c6a1c1e-0000-4000-8000-000000000002";

    fn state(on: impl Into<Option<bool>>, result: Option<&str>) -> TfValue {
        AssignmentModel {
            id: Some(format!("{SP}/a-1")),
            service_principal_id: SP.into(),
            principal_id: USER.into(),
            app_role_id: super::super::TEMPLATE_USER_ROLE.into(),
            principal_type: Some("User".into()),
            principal_display_name: Some("Dave Diaz".into()),
            provision_on_demand: on.into(),
            on_demand_member_limit: 250,
            provisioning_result: result.map(str::to_string),
        }
        .to_value()
    }

    /// The planned `provisioning_result` for a configuration with `on`, from `prior`.
    fn planned_result(prior: &TfValue, on: TfValue) -> TfValue {
        let schema =
            Resource::<crate::clients::Clients>::schema(&Managed(super::super::EntraAssignment));
        let config = AssignmentModel {
            service_principal_id: SP.into(),
            principal_id: USER.into(),
            ..AssignmentModel::default()
        }
        .to_value();
        let TfValue::Object(mut config) = config else {
            unreachable!()
        };
        for computed in [
            "id",
            "principal_type",
            "principal_display_name",
            "provisioning_result",
            "app_role_id",
        ] {
            config.insert(computed.into(), TfValue::Null);
        }
        config.insert("provision_on_demand".into(), on);
        let config = TfValue::Object(config);
        // Terraform proposes the configuration with prior values for unset computed attributes.
        let mut proposed = config.clone();
        if let (TfValue::Object(p), TfValue::Object(before)) = (&mut proposed, prior) {
            for (k, v) in p.iter_mut() {
                if v.is_null() {
                    *v = before.get(k).cloned().unwrap_or(TfValue::Null);
                }
            }
        }
        let mut ctx = plan(&schema, prior, &proposed, &config);
        plan_result(&mut ctx);
        let (planned, _, _) = ctx.finish();
        planned.get_attr("provisioning_result").cloned().unwrap()
    }

    #[test]
    fn the_result_is_unknown_only_when_provisioning_will_run() {
        let off = TfValue::Bool(false);
        let on = TfValue::Bool(true);
        assert_eq!(planned_result(&TfValue::Null, off.clone()), TfValue::Null);
        assert_eq!(
            planned_result(&TfValue::Null, TfValue::Null),
            TfValue::Null,
            "default false"
        );
        assert!(planned_result(&TfValue::Null, on.clone()).is_unknown());
        assert!(planned_result(&state(false, None), on.clone()).is_unknown());
        assert!(planned_result(&TfValue::Null, TfValue::unknown()).is_unknown());
        let done = "User x: Success (created in Kiro)";
        assert_eq!(
            planned_result(&state(true, Some(done)), on.clone()),
            TfValue::string(done)
        );
        assert_eq!(planned_result(&state(true, Some(done)), off), TfValue::Null);
        // Imported (null): setting it records the value without provisioning.
        assert_eq!(planned_result(&state(None, None), on), TfValue::Null);
        assert_eq!(
            planned_result(&state(None, None), TfValue::Null),
            TfValue::Null
        );
    }

    #[test]
    fn errors_say_what_to_do_and_point_at_provision_on_demand() {
        let d = &diagnose(OnDemandError::NoJob, SP).0[0];
        assert_eq!(d.attribute, Some(AttrPath::attr(ATTRIBUTE)));
        for needle in ["kiro_entra_provisioning", "depends_on", SP] {
            assert!(d.detail.contains(needle), "{needle}: {}", d.detail);
        }
        let d = &diagnose(
            OnDemandError::NotProvisioned {
                subject: format!("user {USER}"),
                outcome: ProvisionOutcome::Failure,
                reason: Some("The SCIM endpoint refused POST /Users with 400: department".into()),
                done_before: None,
            },
            SP,
        )
        .0[0];
        assert_eq!(d.summary, "Provision on demand did not succeed");
        assert!(
            d.detail.contains(&format!(
                "user {USER} to Kiro ended with Failure: The SCIM endpoint refused"
            )),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("Before that"), "{}", d.detail);
        let d = &diagnose(OnDemandError::SeveralJobs(vec!["a".into(), "b".into()]), SP).0[0];
        assert!(
            d.detail.contains("2 provisioning jobs (a, b)"),
            "{}",
            d.detail
        );
        let not_principal = object_of(Some("ServicePrincipal"), USER).unwrap_err();
        assert!(
            not_principal.0[0].detail.contains("is a ServicePrincipal"),
            "{}",
            not_principal.0[0].detail
        );
    }
}

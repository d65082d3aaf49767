//! `kiro_entra_provisioning`: the enterprise application's automatic provisioning into Kiro
//! (the portal's Provisioning blade): the `scim` job, its credentials after a passing Test
//! Connection, the attribute mappings Kiro needs, and whether the job runs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::model::{Blocks, OptionalBlock, Sensitive};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{guid, is_guid, max_length, not_blank, one_of, same_guid};
use crate::framework::value::TfValue;
use crate::{attr, tf_model};

use super::entra_provisioning_job::{
    edit_schema, job_and_token, observe_job, observe_rules, run_state, wanted,
};
use super::entra_provisioning_mappings as mappings;
use super::entra_provisioning_secret::{self as secret, Minted};
use super::input_rules::{profile_arn, service_url};
use super::token_expiry::{self, Expiry};
use super::{GraphFailure, bad_import_id};

tf_model! {
    /// One attribute mapping the resource manages.
    pub struct MappingBlock {
        /// `user` or `group`: whose mapping this is.
        object: String [required, validate(one_of(&["user", "group"]))],
        /// The SCIM attribute written in Kiro, as the portal names it: `externalId`,
        /// `userName`, `emails[type eq "work"].value`, …
        target_attribute: String [required, validate(not_blank())],
        /// The Entra attribute the value comes from, e.g. `objectId` or `mail`. Set this or
        /// `expression`.
        source_attribute: Option<String> [optional, validate(not_blank())],
        /// An expression in the portal's mapping language instead, e.g.
        /// `Join(" ", [givenName], [surname])`.
        expression: Option<String> [optional],
    }
    rules {
        ExactlyOneOf(source_attribute, expression);
    }
}

tf_model! {
    /// A Kiro SCIM access token the provider mints and keeps out of state.
    pub struct ScimTokenBlock {
        /// The Kiro profile whose token is minted (`kiro_profile.<name>.arn`).
        profile_arn: String [required, validate(profile_arn())],
        /// Any change of these values mints a new token: Entra switches to it after a passing
        /// Test Connection, then the old one is deleted.
        rotation_triggers: Option<BTreeMap<String, String>> [optional],
        /// The token's description in Kiro (at most 200 characters; the provider adds
        /// `[terraform <service principal id>]`, by which it recognises tokens it minted for
        /// this provisioning, e.g. one left by an interrupted apply, and deletes them).
        description: Option<String> [optional, validate(max_length(secret::DESCRIPTION_MAX))],
        /// How long before the minted token expires (`kiro_scim_token_expires_at`) a plan mints
        /// its successor (a duration such as `"720h"`, 30 days): Entra switches to it after a
        /// passing Test Connection, then the old one is deleted. Unset: plans only warn, from
        /// 30 days before.
        rotate_before: Option<String> [optional, validate(token_expiry::rotate_before())],
    }
}

tf_model! {
    pub struct ProvisioningModel {
        /// The service principal id (one provisioning job per enterprise application).
        id: Option<String> [computed, use_state_for_unknown],
        /// Object id of the enterprise application (`kiro_entra_application.<name>.service_principal_id`).
        service_principal_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// Kiro's SCIM endpoint, the "Tenant URL" (`kiro_profile.<name>.scim_endpoint`): https
        /// (plain http only to a loopback host), with a host and no fragment.
        tenant_url: String [required, validate(service_url())],
        /// The SCIM access token ("Secret Token"), kept in state (sensitive). At most one of
        /// `secret_token`, `secret_token_wo` or a `kiro_scim_token` block; with none, the
        /// credentials already saved in Entra are kept (a job set up in the portal and
        /// imported: Entra never returns its token, so this is what an import writes).
        secret_token: Option<Sensitive> [optional, sensitive, validate(not_blank())],
        /// The SCIM access token, write-only: sent to Entra, never stored in state or plan
        /// (Terraform 1.11+). Change `secret_token_wo_version` to send a new one.
        secret_token_wo: Option<Sensitive> [optional, sensitive, write_only, validate(not_blank())],
        /// Any new value sends `secret_token_wo` to Entra again.
        secret_token_wo_version: Option<i64> [optional],
        /// Run "Test Connection" before saving the credentials; a failed test is an error
        /// that says why, and nothing is saved.
        test_connection: bool [default(TfValue::Bool(true))],
        /// `assigned` (only assigned users and groups, the portal's default) or `all`.
        sync_scope: String [default(TfValue::string("assigned")), validate(one_of(&["assigned", "all"]))],
        /// `true` starts the job (provisioning runs); `false` pauses it.
        enabled: bool [default(TfValue::Bool(true))],
        /// Remove the user mappings Kiro rejects (`employeeNumber`, `department`, `manager`,
        /// `phoneNumbers[...]`), which otherwise make provisioning fail. Reads `false` when
        /// such a mapping is back in the job (e.g. added in the portal).
        remove_unsupported_mappings: bool [default(TfValue::Bool(true))],
        /// Mappings applied on top of the template's. Users' `externalId` is mapped from
        /// `objectId` (the guide's step) unless a block maps `externalId` itself; a change made
        /// in the portal to a managed mapping shows in the plan. Removing a block leaves that
        /// mapping as it is.
        attribute_mapping: Blocks<MappingBlock>,
        /// Mint the SCIM token in Kiro instead of passing one: only its id is kept.
        kiro_scim_token: OptionalBlock<ScimTokenBlock>,
        /// The id of the minted token (with a `kiro_scim_token` block).
        kiro_scim_token_id: Option<String> [computed, use_state_for_unknown],
        /// When the minted token expires (RFC 3339; a year after it was minted). Once it has,
        /// provisioning fails and Entra quarantines the job: plans warn 30 days before, and
        /// `kiro_scim_token.rotate_before` rotates it.
        kiro_scim_token_expires_at: Option<String> [computed, use_state_for_unknown],
        /// The synchronization job's id.
        job_id: Option<String> [computed, use_state_for_unknown],
        /// The synchronization rule that provisions users (for provision on demand).
        user_rule_id: Option<String> [computed, use_state_for_unknown],
        /// The synchronization rule that provisions groups.
        group_rule_id: Option<String> [computed, use_state_for_unknown],
        /// The job's status code: `NotRun`, `Active`, `Paused` or `Quarantine`.
        status: Option<String> [computed],
        /// The last cycle's outcome (`Succeeded`, `Failed`, `EntryLevelErrors`), with its error.
        last_cycle: Option<String> [computed],
        /// Why the job is quarantined, when it is.
        quarantine_reason: Option<String> [computed],
    }
    rules {
        AtMostOneOf(secret_token, secret_token_wo, kiro_scim_token)
            because "With none, the credentials saved in Entra are kept as they are.";
        RequiredTogether(secret_token_wo, secret_token_wo_version)
            because "Terraform sends a write-only secret again only when its version changes.";
    }
}

pub struct EntraProvisioning;

#[async_trait]
impl ManagedResource<Clients> for EntraProvisioning {
    type Model = ProvisioningModel;
    const TYPE_NAME: &'static str = "kiro_entra_provisioning";
    const DESCRIPTION: &'static str = "Automatic provisioning of the enterprise application \
        into Kiro (the Provisioning blade): the `scim` job with Kiro's SCIM endpoint and token, \
        saved after a passing Test Connection; `externalId` mapped from `objectId`; the \
        mappings Kiro rejects removed; and the job started. The token can be minted by the \
        provider itself (`kiro_scim_token`) so that it never appears in state.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(10, 10, 5);

    fn validate(&self, config: &TfValue, diags: &mut Diagnostics) {
        // Blocks are checked when wholly known (values from other resources may not be yet).
        if let Some(blocks) = config
            .get_attr(attr!(ProvisioningModel, attribute_mapping))
            .filter(|b| b.is_wholly_known())
            && let Ok(blocks) = <Blocks<MappingBlock> as crate::framework::model::Field>::from_field(
                blocks,
                &AttrPath::attr("attribute_mapping"),
            )
        {
            // Rejected mappings are refused only while they are being removed; an unknown
            // setting waits (the check runs again at apply, once it is known).
            let remove =
                match config.get_attr(attr!(ProvisioningModel, remove_unsupported_mappings)) {
                    None | Some(TfValue::Null) => true,
                    Some(v) => v.as_bool().unwrap_or(false),
                };
            mappings::validate(&blocks, remove, diags);
        }
    }

    async fn modify_plan(&self, _clients: Option<&Clients>, plan: &mut PlanContext<'_>) {
        let sp = plan
            .planned(attr!(ProvisioningModel, service_principal_id))
            .clone();
        plan.set(attr!(ProvisioningModel, id), sp);
        let token_id = attr!(ProvisioningModel, kiro_scim_token_id);
        let expires_at = attr!(ProvisioningModel, kiro_scim_token_expires_at);
        let block = attr!(ProvisioningModel, kiro_scim_token);
        if plan.planned(block).is_null() {
            plan.set(token_id, TfValue::Null);
            plan.set(expires_at, TfValue::Null);
            return;
        }
        // A new token is minted when there is none yet, when anything it is saved with changes
        // (but not its rotation window), or when it comes within that window of expiring.
        let remint = plan.is_create()
            || plan.prior(token_id).is_null()
            || minting_block(plan.planned(block)) != minting_block(plan.prior(block))
            || [
                attr!(ProvisioningModel, tenant_url),
                attr!(ProvisioningModel, sync_scope),
            ]
            .iter()
            .any(|name| plan.planned(name) != plan.prior(name))
            || expiry_says_rotate(plan);
        if remint {
            plan.set(token_id, TfValue::unknown());
            plan.set(expires_at, TfValue::unknown());
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: ProvisioningModel,
        op: &Operation,
    ) -> Result<ProvisioningModel, Diagnostics> {
        let graph = &clients.graph;
        let sp_id = plan.service_principal_id.clone();
        wanted(&plan)?;
        let (job, made_here, minted) = job_and_token(clients, &plan, op).await?;
        let mut model = ProvisioningModel {
            id: Some(sp_id.clone()),
            job_id: Some(job.id.clone()),
            ..plan.clone()
        };
        // A job made here is recorded at once, so that even a timeout leaves it in state
        // (tainted) rather than behind; an adopted one only once it is configured, so that a
        // failure never plans the deletion of a job that was there before.
        if made_here {
            op.exists(&model);
        }
        // Takes back what this create made when it fails before the credentials are saved.
        let (sp_ref, job_ref) = (sp_id.as_str(), job.id.as_str());
        let undo = move |minted: Option<(String, String)>| async move {
            if let Some((profile, token_id)) = minted {
                secret::delete_minted(clients, &profile, &token_id).await?;
            }
            if made_here {
                graph
                    .delete_sync_job(sp_ref, job_ref)
                    .await
                    .map_err(|e| e.fail("remove the provisioning job again"))?;
            }
            op.forget();
            Ok::<(), Diagnostics>(())
        };
        let (token, minted) = match (plan.kiro_scim_token.as_ref(), minted) {
            (
                Some(block),
                Some(Ok(Minted {
                    token_id,
                    token,
                    expires_at,
                })),
            ) => {
                model.kiro_scim_token_id = Some(token_id.clone());
                model.kiro_scim_token_expires_at = Some(expires_at);
                op.exists(&model);
                (Some(token), Some((block.profile_arn.clone(), token_id)))
            }
            (_, Some(Err(failed))) => {
                undo(None).await?;
                return Err(failed);
            }
            _ => (secret::configured(&plan), None),
        };
        let saved = match &token {
            Some(token) => secret::test_and_save(clients, &model, &job.id, token).await,
            // No secret: a job that was there keeps its saved credentials.
            None => secret::check_saved(clients, &model).await,
        };
        if let Err(failed) = saved {
            undo(minted).await?;
            return Err(failed);
        }
        op.exists(&model);
        edit_schema(graph, &mut model, &job.id).await?;
        run_state(graph, &mut model, &job.id).await?;
        Ok(model)
    }

    async fn read(
        &self,
        clients: &Clients,
        mut state: ProvisioningModel,
    ) -> Result<Option<ProvisioningModel>, Diagnostics> {
        let graph = &clients.graph;
        let sp_id = state.service_principal_id.clone();
        let Some(job_id) = state.job_id.clone() else {
            return Ok(None);
        };
        let Some(job) = graph
            .get_sync_job(&sp_id, &job_id)
            .await
            .map_err(|e| e.fail("read the provisioning job"))?
        else {
            tracing::info!(%sp_id, %job_id, "provisioning job is gone; removing it from state");
            return Ok(None);
        };
        observe_job(&mut state, &job);
        let schedule = job.schedule.and_then(|s| s.state).unwrap_or_default();
        state.enabled = schedule.eq_ignore_ascii_case("Active");

        let secrets = graph
            .get_sync_secrets(&sp_id)
            .await
            .map_err(|e| e.fail("read the provisioning credentials"))?;
        let saved = |key: &str| secret::saved_value(&secrets, key);
        if let Some(url) = saved("BaseAddress") {
            state.tenant_url = url.to_string();
        }
        state.sync_scope = match saved("SyncAll") {
            Some(v) if v.eq_ignore_ascii_case("true") => "all".into(),
            _ => "assigned".into(),
        };

        let schema = graph
            .get_sync_schema(&sp_id, &job_id)
            .await
            .map_err(|e| e.fail("read the provisioning schema"))?;
        state.attribute_mapping = mappings::observe(&schema, &state.attribute_mapping);
        state.remove_unsupported_mappings =
            mappings::observed_remove_unsupported(state.remove_unsupported_mappings, &schema);
        observe_rules(&mut state, &schema);

        if let (Some(block), Some(token_id)) = (
            state.kiro_scim_token.as_ref(),
            state.kiro_scim_token_id.clone(),
        ) {
            state.kiro_scim_token_expires_at =
                secret::minted_expiry(clients, &block.profile_arn, &token_id).await?;
            if state.kiro_scim_token_expires_at.is_none() {
                tracing::info!(%token_id, "the minted SCIM access token is gone from Kiro; the next apply mints a new one");
                state.kiro_scim_token_id = None;
            }
        }
        Ok(Some(state))
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: ProvisioningModel,
        plan: ProvisioningModel,
        _op: &Operation,
    ) -> Result<ProvisioningModel, Diagnostics> {
        let graph = &clients.graph;
        let job_id = prior.job_id.clone().unwrap_or_default();
        let mut model = ProvisioningModel {
            id: Some(plan.service_principal_id.clone()),
            job_id: Some(job_id.clone()),
            ..plan.clone()
        };
        let old_minted = prior
            .kiro_scim_token
            .as_ref()
            .zip(prior.kiro_scim_token_id.clone())
            .map(|(b, id)| (b.profile_arn.clone(), id));
        let secrets_changed = plan.tenant_url != prior.tenant_url
            || plan.sync_scope != prior.sync_scope
            || plan.secret_token != prior.secret_token
            || plan.secret_token_wo_version != prior.secret_token_wo_version;
        let token = match (
            plan.kiro_scim_token.as_ref(),
            plan.kiro_scim_token_id.as_ref(),
        ) {
            (Some(block), None) => {
                let keep = prior.kiro_scim_token_id.as_deref();
                let Minted {
                    token_id,
                    token,
                    expires_at,
                } = secret::mint(clients, block, &plan.service_principal_id, keep).await?;
                model.kiro_scim_token_id = Some(token_id);
                model.kiro_scim_token_expires_at = Some(expires_at);
                Some(token)
            }
            // No secret configured: the saved credentials stay, and must still match.
            (None, _) if secret::configured(&plan).is_none() => {
                if secrets_changed {
                    secret::check_saved(clients, &plan).await?;
                }
                None
            }
            (None, _) if secrets_changed || old_minted.is_some() => secret::configured(&plan),
            _ => None,
        };
        if let Some(token) = &token {
            if let Err(failed) = secret::test_and_save(clients, &model, &job_id, token).await {
                if let (Some(block), Some(new_id)) =
                    (plan.kiro_scim_token.as_ref(), &model.kiro_scim_token_id)
                    && plan.kiro_scim_token_id.is_none()
                {
                    secret::delete_minted(clients, &block.profile_arn, new_id).await?;
                }
                return Err(failed);
            }
            // Entra uses the new token now; the old minted one can go.
            if let Some((profile, old_id)) = &old_minted
                && model.kiro_scim_token_id.as_ref() != Some(old_id)
            {
                secret::delete_minted(clients, profile, old_id).await?;
            }
        }
        edit_schema(graph, &mut model, &job_id).await?;
        run_state(graph, &mut model, &job_id).await?;
        Ok(model)
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: ProvisioningModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let sp_id = &state.service_principal_id;
        if let Some(job_id) = &state.job_id {
            // Deleting the job stops it; a job (or service principal) already gone is fine.
            match clients.graph.delete_sync_job(sp_id, job_id).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.fail("delete the provisioning job")),
            }
        }
        if let (Some(block), Some(token_id)) =
            (state.kiro_scim_token.as_ref(), &state.kiro_scim_token_id)
        {
            secret::delete_minted(clients, &block.profile_arn, token_id).await?;
        }
        Ok(())
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<ProvisioningModel, Diagnostics> {
        let usage = "<service principal id>";
        if !is_guid(id) {
            return Err(bad_import_id(id, usage));
        }
        let jobs = clients
            .graph
            .list_sync_jobs(id)
            .await
            .map_err(|e| e.fail("list the provisioning jobs"))?;
        let job = match jobs.as_slice() {
            [job] => job.clone(),
            [] => {
                return Err(Diagnostic::error(
                    "Cannot import: no provisioning job",
                    format!("Service principal {id} has no provisioning job to import; create it with this resource instead."),
                )
                .into());
            }
            many => {
                return Err(Diagnostic::error(
                    "Cannot import: several provisioning jobs",
                    format!(
                        "Service principal {id} has {} provisioning jobs ({}); this resource manages one.",
                        many.len(),
                        many.iter().map(|j| j.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .into());
            }
        };
        Ok(ProvisioningModel {
            id: Some(id.to_string()),
            service_principal_id: id.to_string(),
            job_id: Some(job.id),
            // The defaults, which read then corrects from what the job holds.
            test_connection: true,
            remove_unsupported_mappings: true,
            ..ProvisioningModel::default()
        })
    }
}

/// The `kiro_scim_token` block without `rotate_before`, which says when to mint, not what.
fn minting_block(block: &TfValue) -> TfValue {
    let mut block = block.clone();
    if let Some(window) = block.get_attr_mut(attr!(ScimTokenBlock, rotate_before)) {
        *window = TfValue::Null;
    }
    block
}

/// Warns on a minted token near its expiry; true when it is within `rotate_before`.
fn expiry_says_rotate(plan: &mut PlanContext<'_>) -> bool {
    let at = AttrPath::attr(attr!(ProvisioningModel, kiro_scim_token_expires_at));
    let prior = |name| plan.prior(name).as_str().map(str::to_string);
    let (Some(expires_at), Some(token_id)) = (
        prior(attr!(ProvisioningModel, kiro_scim_token_expires_at)),
        prior(attr!(ProvisioningModel, kiro_scim_token_id)),
    ) else {
        return false;
    };
    let block = plan.planned(attr!(ProvisioningModel, kiro_scim_token));
    let window = block.get_attr(attr!(ScimTokenBlock, rotate_before));
    let window = token_expiry::window(window.and_then(TfValue::as_str));
    let Some(verdict) = token_expiry::judge(&expires_at, OffsetDateTime::now_utc(), window) else {
        return false;
    };
    let token = format!("The SCIM access token minted for provisioning ({token_id})");
    if let Some(d) = token_expiry::diagnostic(&token, &expires_at, &verdict, at) {
        plan.diagnostics.push(d);
    }
    matches!(verdict, Expiry::Rotate { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::Model;

    #[test]
    fn schema_has_the_two_blocks_and_a_write_only_secret() {
        let blocks = ProvisioningModel::blocks();
        let names: Vec<&str> = blocks.iter().map(|b| b.type_name.as_str()).collect();
        assert_eq!(names, ["attribute_mapping", "kiro_scim_token"]);
        let attrs = ProvisioningModel::attributes();
        let wo = attrs.iter().find(|a| a.name == "secret_token_wo").unwrap();
        assert!(wo.write_only && wo.sensitive);
        assert!(
            attrs
                .iter()
                .find(|a| a.name == "secret_token")
                .unwrap()
                .sensitive
        );
    }
}

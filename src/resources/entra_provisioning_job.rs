//! The provisioning job of `kiro_entra_provisioning`: found or made, its schema edited to the
//! managed mappings, started or paused, and its state read into the model.

use crate::attr;
use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::Operation;
use crate::graph::client::GraphClient;
use crate::graph::consistency::create_or_find_sync_job;
use crate::graph::synchronization::{SyncJob, SyncObject, SyncSchema};

use super::GraphFailure;
use super::entra_provisioning::ProvisioningModel;
use super::entra_provisioning_mappings as mappings;
use super::entra_provisioning_secret::{self as secret, Minted};

/// The configuration's mappings, or the error that validation reports first.
pub fn wanted(model: &ProvisioningModel) -> Result<Vec<mappings::Wanted>, Diagnostics> {
    mappings::wanted(&model.attribute_mapping).map_err(|e| {
        Diagnostic::error("Invalid attribute mapping", e)
            .at(AttrPath::attr(attr!(ProvisioningModel, attribute_mapping)))
            .into()
    })
}

/// The job's state in the model's computed attributes.
pub fn observe_job(model: &mut ProvisioningModel, job: &SyncJob) {
    model.job_id = Some(job.id.clone());
    let status = job.status.clone().unwrap_or_default();
    model.status = status.code.clone();
    model.last_cycle = status.last_execution.and_then(|e| {
        let state = e.state?;
        Some(match e.error.and_then(|err| err.message) {
            Some(message) => format!("{state}: {message}"),
            None => state,
        })
    });
    model.quarantine_reason = status.quarantine.map(|q| {
        let reason = q.reason.unwrap_or_else(|| "Quarantine".into());
        match q.error.and_then(|e| e.message) {
            Some(message) => format!("{reason}: {message}"),
            None => reason,
        }
    });
}

/// The schema's rule ids (what provision on demand needs) in the model.
pub fn observe_rules(model: &mut ProvisioningModel, schema: &SyncSchema) {
    model.user_rule_id = schema.rule_id_for(SyncObject::User).map(str::to_string);
    model.group_rule_id = schema.rule_id_for(SyncObject::Group).map(str::to_string);
}

/// Reads the schema, makes the managed mappings true, writes it back when that changed
/// anything, and records the rule ids.
pub async fn edit_schema(
    graph: &GraphClient,
    model: &mut ProvisioningModel,
    job_id: &str,
) -> Result<(), Diagnostics> {
    let sp_id = model.service_principal_id.clone();
    let mut schema = graph
        .get_sync_schema(&sp_id, job_id)
        .await
        .map_err(|e| e.fail("read the provisioning schema"))?;
    let changed = mappings::apply(
        &mut schema,
        &wanted(model)?,
        model.remove_unsupported_mappings,
    )
    .map_err(|e| e.fail("edit the attribute mappings"))?;
    if changed {
        graph
            .put_sync_schema(&sp_id, job_id, &schema)
            .await
            .map_err(|e| e.fail("save the attribute mappings"))?;
    }
    observe_rules(model, &schema);
    Ok(())
}

/// Starts or pauses the job as `enabled` says, then reads its status.
pub async fn run_state(
    graph: &GraphClient,
    model: &mut ProvisioningModel,
    job_id: &str,
) -> Result<(), Diagnostics> {
    let sp_id = model.service_principal_id.clone();
    let switched = if model.enabled {
        graph.start_sync_job(&sp_id, job_id).await
    } else {
        graph.pause_sync_job(&sp_id, job_id).await
    };
    switched.map_err(|e| {
        e.fail(if model.enabled {
            "start provisioning"
        } else {
            "pause provisioning"
        })
    })?;
    let job = graph
        .get_sync_job(&sp_id, job_id)
        .await
        .map_err(|e| e.fail("read the provisioning job"))?
        .ok_or_else(|| Diagnostics::from(Diagnostic::error("Provisioning job vanished", format!("Job {job_id} of service principal {sp_id} disappeared while it was being set up."))))?;
    observe_job(model, &job);
    Ok(())
}

/// The service principal's one job: adopted when there is one (said in the log), made from
/// the `scim` template otherwise. `true` with a job made here.
pub async fn find_or_create_job(
    graph: &GraphClient,
    sp_id: &str,
    op: &Operation,
) -> Result<(SyncJob, bool), Diagnostics> {
    let (job, made_here) = create_or_find_sync_job(graph, sp_id, "scim", op.remaining())
        .await
        .map_err(|e| e.fail("create the provisioning job"))?;
    if !made_here {
        tracing::info!(%sp_id, job_id = %job.id, "adopting the service principal's existing provisioning job");
    }
    Ok((job, made_here))
}

/// The service principal's job ([`find_or_create_job`]: `true` when made here) and, with a
/// `kiro_scim_token` block, a token minted for it, side by side: a new service principal's
/// job waits out the provisioning service's lag (seconds after the application is made), and
/// Kiro mints meanwhile instead of after. When the job cannot be had, a token minted for it is
/// deleted again; a failed mint is returned with the job, for the caller to take the job back.
pub async fn job_and_token(
    clients: &Clients,
    plan: &ProvisioningModel,
    op: &Operation,
) -> Result<(SyncJob, bool, Option<Result<Minted, Diagnostics>>), Diagnostics> {
    let sp_id = plan.service_principal_id.as_str();
    let block = plan.kiro_scim_token.as_ref();
    let minting = async {
        match block {
            Some(block) => Some(secret::mint(clients, block, sp_id, None).await),
            None => None,
        }
    };
    let (job, minted) = tokio::join!(find_or_create_job(&clients.graph, sp_id, op), minting);
    match (job, minted, block) {
        (Ok((job, made_here)), minted, _) => Ok((job, made_here, minted)),
        (Err(failed), Some(Ok(minted)), Some(block)) => {
            secret::delete_minted(clients, &block.profile_arn, &minted.token_id).await?;
            Err(failed)
        }
        (Err(mut failed), Some(Err(mint_failed)), _) => {
            failed.extend(mint_failed);
            Err(failed)
        }
        (Err(failed), _, _) => Err(failed),
    }
}

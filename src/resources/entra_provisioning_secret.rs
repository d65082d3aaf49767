//! The SCIM secret of `kiro_entra_provisioning`: given by the configuration (in state, or
//! write-only), or minted in Kiro by the provider and never kept. Whichever it is, it is
//! tested ("Test Connection") before Entra saves it, and a minted token that did not make it
//! into Entra is deleted again, so a failed apply never leaves a stray token behind.

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::graph::error::GraphError;
use crate::graph::synchronization::{SecretKey, SyncSecret};
use crate::kiro::KiroError;
use crate::kiro::wire::ProfileArn;
use crate::secret::Secret;

use super::entra_provisioning::{ProvisioningModel, ScimTokenBlock};
use super::token_expiry::rfc3339;
use super::{GraphFailure, KiroFailure, kiro};

/// A token minted for this resource: its id (kept in state) and its value (never kept).
pub struct Minted {
    pub token_id: String,
    pub token: Secret,
    /// RFC 3339.
    pub expires_at: String,
}

/// How many times a mint whose answer was lost is tried.
const MINT_ATTEMPTS: usize = 3;

/// What every token minted for one enterprise application's provisioning carries at the end
/// of its description: a token whose id never reached state (the apply was killed after the
/// mint, or after Entra saved it) is recognised by it as this resource's own.
pub fn mint_marker(sp_id: &str) -> String {
    format!("[terraform {sp_id}]")
}

/// The longest description a `kiro_scim_token` block may give: Kiro allows 256 characters,
/// and the marker takes the rest.
pub const DESCRIPTION_MAX: usize = 200;

/// Mints a SCIM access token on the block's profile for service principal `sp_id`'s
/// provisioning. Tokens minted for it earlier and not `keep` (the one Entra uses now, as
/// state knows it) are orphans of an interrupted apply and are deleted first, so kills never
/// fill the profile's 2 places. The quota error names the tokens the profile has, since a
/// rotation needs room for one more. A mint whose answer was lost (5xx, dropped connection)
/// may have made a token whose secret nobody will ever see: it is found by comparing the
/// profile's tokens with those before the call, deleted, and the mint tried again.
pub async fn mint(
    clients: &Clients,
    block: &ScimTokenBlock,
    sp_id: &str,
    keep: Option<&str>,
) -> Result<Minted, Diagnostics> {
    let kiro = kiro(clients).await?;
    let arn = ProfileArn::from(block.profile_arn.as_str());
    let marker = mint_marker(sp_id);
    let description = format!(
        "{} {marker}",
        block
            .description
            .as_deref()
            .unwrap_or("Entra ID automatic provisioning (managed by Terraform)")
    );
    let description = description.as_str();
    let tokens = || async {
        kiro.list_scim_access_tokens(&arn)
            .await
            .map_err(|e| e.fail("list the profile's SCIM access tokens"))
    };
    let token_ids = || async {
        tokens()
            .await
            .map(|tokens| tokens.into_iter().map(|t| t.token_id).collect::<Vec<_>>())
    };
    for orphan in tokens().await?.into_iter().filter(|t| {
        Some(t.token_id.as_str()) != keep
            && t.description
                .as_deref()
                .is_some_and(|d| d.ends_with(&marker))
    }) {
        tracing::info!(token_id = %orphan.token_id, "deleting a SCIM access token minted for this provisioning by an earlier, interrupted apply");
        delete_minted(clients, &block.profile_arn, &orphan.token_id).await?;
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let before = token_ids().await?;
        let err = match kiro.create_scim_access_token(&arn, Some(description)).await {
            Ok(made) => {
                tracing::info!(token_id = %made.token_id, profile = %block.profile_arn, "minted a Kiro SCIM access token for provisioning");
                return Ok(Minted {
                    token_id: made.token_id,
                    token: made.token,
                    expires_at: rfc3339(made.expires_at),
                });
            }
            Err(e) if e.is_quota_exceeded() => return Err(quota_error(e, &before)),
            Err(e) => e,
        };
        if !err.is_ambiguous() || attempt == MINT_ATTEMPTS {
            return Err(err.fail("mint a Kiro SCIM access token"));
        }
        tracing::warn!(error = %err, "minting a SCIM access token gave no usable answer; removing any token it made, then trying again");
        for stray in token_ids().await?.iter().filter(|id| !before.contains(id)) {
            delete_minted(clients, &block.profile_arn, stray).await?;
        }
    }
}

fn quota_error(e: KiroError, existing: &[String]) -> Diagnostics {
    let existing = existing
        .iter()
        .map(|id| format!("  {id}"))
        .collect::<Vec<_>>()
        .join("\n");
    Diagnostic::error(
        "The profile has no room for another SCIM access token",
        format!(
            "{e}\nA Kiro profile holds at most 2 SCIM access tokens, and minting a new one for \
             provisioning needs one free. The profile has:\n{existing}\nDelete one that nothing \
             uses and apply again."
        ),
    )
    .at(AttrPath::attr("kiro_scim_token").then_attr("profile_arn"))
    .into()
}

/// Deletes a token minted earlier; one already gone is fine.
pub async fn delete_minted(
    clients: &Clients,
    profile_arn: &str,
    token_id: &str,
) -> Result<(), Diagnostics> {
    let arn = ProfileArn::from(profile_arn);
    match kiro(clients)
        .await?
        .delete_scim_access_token(&arn, token_id)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.fail("delete the old Kiro SCIM access token")),
    }
}
/// When the minted token expires (RFC 3339), or `None` when it is gone from Kiro (also when its
/// profile is).
/// True when the minted token still exists in Kiro (`false` also when its profile is gone).
pub async fn minted_expiry(
    clients: &Clients,
    profile_arn: &str,
    token_id: &str,
) -> Result<Option<String>, Diagnostics> {
    let arn = ProfileArn::from(profile_arn);
    kiro(clients)
        .await?
        .get_scim_access_token(&arn, token_id)
        .await
        .map(|t| t.map(|t| rfc3339(t.expires_at)))
        .map_err(|e| e.fail("read the minted SCIM access token"))
}

/// The configured secret: `secret_token`, or the write-only `secret_token_wo`.
pub fn configured(model: &ProvisioningModel) -> Option<Secret> {
    model
        .secret_token
        .clone()
        .or_else(|| model.secret_token_wo.clone())
}

/// The value Entra holds for `key` among a job's saved credentials (the token comes back
/// masked, but present).
pub fn saved_value<'a>(saved: &'a [(String, String)], key: &str) -> Option<&'a str> {
    saved
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// With no secret configured, the credentials already saved in Entra are kept as they are (a
/// job set up in the portal, adopted by import): they must be there, and hold the tenant URL
/// and scope the configuration names, because saving others means sending a secret too
/// (Graph replaces all of a job's credentials at once).
pub async fn check_saved(clients: &Clients, model: &ProvisioningModel) -> Result<(), Diagnostics> {
    let saved = clients
        .graph
        .get_sync_secrets(&model.service_principal_id)
        .await
        .map_err(|e| e.fail("read the provisioning credentials"))?;
    let value = |key: &str| saved_value(&saved, key);
    let no_secret = "Set secret_token, secret_token_wo or a kiro_scim_token block to save new \
                     credentials; without one, the provider keeps those saved in Entra.";
    if value("SecretToken").is_none_or(str::is_empty) {
        return Err(Diagnostic::error(
            "No SCIM token to keep",
            format!("Entra holds no saved token for this application's provisioning. {no_secret}"),
        )
        .at(AttrPath::attr("secret_token"))
        .into());
    }
    let scope = if model.sync_scope == "all" {
        "true"
    } else {
        "false"
    };
    let saved_scope = value("SyncAll").unwrap_or("false");
    let wrong = if value("BaseAddress") != Some(model.tenant_url.as_str()) {
        Some((
            "tenant_url",
            value("BaseAddress").unwrap_or("nothing").to_string(),
        ))
    } else if !saved_scope.eq_ignore_ascii_case(scope) {
        Some(("sync_scope", format!("SyncAll = {saved_scope}")))
    } else {
        None
    };
    match wrong {
        Some((attribute, saved)) => Err(Diagnostic::error(
            "Saved credentials differ",
            format!(
                "Entra's saved provisioning credentials hold {saved}, not what {attribute} says, \
                 and changing them means saving the token again. {no_secret}"
            ),
        )
        .at(AttrPath::attr(attribute))
        .into()),
        None => Ok(()),
    }
}

/// The attribute the secret came from, for diagnostics.
fn secret_attribute(model: &ProvisioningModel) -> AttrPath {
    if model.kiro_scim_token.is_some() {
        AttrPath::attr("kiro_scim_token")
    } else if model.secret_token_wo.is_some() {
        AttrPath::attr("secret_token_wo")
    } else {
        AttrPath::attr("secret_token")
    }
}

fn secrets(model: &ProvisioningModel, token: &Secret) -> Vec<SyncSecret> {
    vec![
        SyncSecret::new(SecretKey::BaseAddress, model.tenant_url.clone()),
        SyncSecret::new(SecretKey::SecretToken, token.expose()),
        SyncSecret::new(
            SecretKey::SyncAll,
            if model.sync_scope == "all" {
                "true"
            } else {
                "false"
            },
        ),
    ]
}

/// Test Connection (when the model asks for it), then saves the tenant URL, the token and
/// the scope in Entra. A refused test saves nothing and says why, on the attribute most
/// likely at fault.
pub async fn test_and_save(
    clients: &Clients,
    model: &ProvisioningModel,
    job_id: &str,
    token: &Secret,
) -> Result<(), Diagnostics> {
    let graph = &clients.graph;
    let sp_id = &model.service_principal_id;
    let secrets = secrets(model, token);
    if model.test_connection {
        if let Err(e) = graph.validate_credentials(sp_id, job_id, &secrets).await {
            return Err(test_failed(model, e));
        }
        tracing::info!(%sp_id, "Test Connection passed");
    }
    graph
        .put_sync_secrets(sp_id, &secrets)
        .await
        .map_err(|e| e.fail("save the provisioning credentials"))
}

fn test_failed(model: &ProvisioningModel, e: GraphError) -> Diagnostics {
    let message = e.to_string();
    let lower = message.to_ascii_lowercase();
    let about_token = ["401", "credential", "token", "unauthori"]
        .iter()
        .any(|w| lower.contains(w));
    let at = if about_token {
        secret_attribute(model)
    } else {
        AttrPath::attr("tenant_url")
    };
    Diagnostic::error(
        "Test Connection failed",
        format!(
            "Entra could not connect to Kiro's SCIM endpoint {} with this token, so nothing was \
             saved.\n{message}",
            model.tenant_url
        ),
    )
    .at(at)
    .into()
}

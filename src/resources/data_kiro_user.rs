//! Data source `kiro_user`: a user that SCIM synced into a profile.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::managed::DataSourceDef;
use crate::framework::validators::{guid, not_blank};
use crate::kiro::wire::{ProfileArn, UserFilter};
use crate::tf_model;

use super::input_rules::profile_arn;
use super::{KiroFailure, kiro};

tf_model! {
    pub struct KiroUserModel {
        /// Kiro's id of the user (a subscription's `principal_id`).
        id: Option<String> [computed],
        /// The profile's ARN.
        profile_arn: String [required, validate(profile_arn())],
        /// The user's Entra object id, which provisioning copies into `externalId`. Exactly one
        /// of `external_id` and `user_name`.
        external_id: Option<String> [optional, computed, validate(guid())],
        /// The user's SCIM `userName` (usually the UPN). Exactly one of `external_id` and
        /// `user_name`.
        user_name: Option<String> [optional, computed, validate(not_blank())],
        /// Display name.
        display_name: Option<String> [computed],
        /// `false` once provisioning soft-deleted the user.
        active: Option<bool> [computed],
    }
    rules {
        ExactlyOneOf(external_id, user_name);
    }
}

pub struct KiroUserLookup;

#[async_trait]
impl DataSourceDef<Clients> for KiroUserLookup {
    type Model = KiroUserModel;
    const TYPE_NAME: &'static str = "kiro_user";
    const DESCRIPTION: &'static str = "Looks up a user that provisioning synced into a Kiro profile, by external id or user name.";

    async fn read(
        &self,
        clients: &Clients,
        config: KiroUserModel,
    ) -> Result<KiroUserModel, Diagnostics> {
        let filter = UserFilter {
            external_id: config.external_id.clone(),
            user_name: config.user_name.clone(),
        };
        let arn = ProfileArn::from(config.profile_arn.as_str());
        let users = kiro(clients)
            .await?
            .list_users(&arn, &filter)
            .await
            .map_err(|e| e.fail("list the users"))?;
        let u = users.into_iter().next().ok_or_else(|| {
            Diagnostic::error(
                "User not found in Kiro",
                format!(
                    "No user {} has been synced into profile {arn}. Is it assigned to the enterprise \
                     application, and has provisioning run?",
                    config.external_id.as_deref().or(config.user_name.as_deref()).unwrap_or_default()
                ),
            )
        })?;
        Ok(KiroUserModel {
            id: Some(u.user_id),
            profile_arn: config.profile_arn,
            external_id: Some(u.external_id),
            user_name: Some(u.user_name),
            display_name: u.display_name,
            active: Some(u.active),
        })
    }
}

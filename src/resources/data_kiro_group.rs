//! Data source `kiro_group`: a group that SCIM synced into a profile.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::managed::DataSourceDef;
use crate::framework::validators::{guid, not_blank};
use crate::kiro::wire::{GroupFilter, ProfileArn};
use crate::tf_model;

use super::input_rules::profile_arn;
use super::{KiroFailure, kiro};

tf_model! {
    pub struct KiroGroupModel {
        /// Kiro's id of the group (a subscription's `principal_id`).
        id: Option<String> [computed],
        /// The profile's ARN.
        profile_arn: String [required, validate(profile_arn())],
        /// The group's Entra object id, which provisioning copies into `externalId`. Exactly one
        /// of `external_id` and `display_name`.
        external_id: Option<String> [optional, computed, validate(guid())],
        /// The group's display name. Exactly one of `external_id` and `display_name`.
        display_name: Option<String> [optional, computed, validate(not_blank())],
        /// How many members Kiro has for the group.
        member_count: Option<i64> [computed],
    }
    rules {
        ExactlyOneOf(external_id, display_name);
    }
}

pub struct KiroGroupLookup;

#[async_trait]
impl DataSourceDef<Clients> for KiroGroupLookup {
    type Model = KiroGroupModel;
    const TYPE_NAME: &'static str = "kiro_group";
    const DESCRIPTION: &'static str = "Looks up a group that provisioning synced into a Kiro profile, by external id or display name.";

    async fn read(
        &self,
        clients: &Clients,
        config: KiroGroupModel,
    ) -> Result<KiroGroupModel, Diagnostics> {
        let filter = GroupFilter {
            external_id: config.external_id.clone(),
            display_name: config.display_name.clone(),
        };
        let arn = ProfileArn::from(config.profile_arn.as_str());
        let groups = kiro(clients)
            .await?
            .list_groups(&arn, &filter)
            .await
            .map_err(|e| e.fail("list the groups"))?;
        let g = groups.into_iter().next().ok_or_else(|| {
            Diagnostic::error(
                "Group not found in Kiro",
                format!(
                    "No group {} has been synced into profile {arn}. Is it assigned to the enterprise \
                     application, and has provisioning run?",
                    config.external_id.as_deref().or(config.display_name.as_deref()).unwrap_or_default()
                ),
            )
        })?;
        Ok(KiroGroupModel {
            id: Some(g.group_id),
            profile_arn: config.profile_arn,
            external_id: Some(g.external_id),
            display_name: Some(g.display_name),
            member_count: Some(g.member_count as i64),
        })
    }
}

//! Data source `kiro_profile`: a profile by name or ARN.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::managed::DataSourceDef;
use crate::framework::validators::StringCheck;
use crate::tf_model;

use super::input_rules::profile_arn;
use super::kiro_profile::check_profile_name;
use super::{KiroFailure, kiro};

tf_model! {
    pub struct ProfileLookup {
        /// The profile ARN.
        id: Option<String> [computed],
        /// The profile's name. Exactly one of `name` and `arn`.
        name: Option<String> [optional, computed, validate(StringCheck(check_profile_name))],
        /// The profile's ARN. Exactly one of `name` and `arn`.
        arn: Option<String> [optional, computed, validate(profile_arn())],
        /// Description.
        description: Option<String> [computed],
        /// The identity provider's issuer.
        issuer_url: Option<String> [computed],
        /// The identity provider application's client id.
        client_id: Option<String> [computed],
        /// The profile's SCIM endpoint (Entra's provisioning "Tenant URL").
        scim_endpoint: Option<String> [computed],
        /// `CREATING`, `ACTIVE` or `DELETING`.
        status: Option<String> [computed],
    }
    rules {
        ExactlyOneOf(name, arn);
    }
}

pub struct KiroProfileLookup;

#[async_trait]
impl DataSourceDef<Clients> for KiroProfileLookup {
    type Model = ProfileLookup;
    const TYPE_NAME: &'static str = "kiro_profile";
    const DESCRIPTION: &'static str =
        "Looks up a Kiro profile in the provider's region by name or ARN.";

    async fn read(
        &self,
        clients: &Clients,
        config: ProfileLookup,
    ) -> Result<ProfileLookup, Diagnostics> {
        let profiles = kiro(clients)
            .await?
            .list_profiles()
            .await
            .map_err(|e| e.fail("list the profiles"))?;
        let found = profiles
            .into_iter()
            .find(|p| match (&config.arn, &config.name) {
                (Some(arn), _) => p.arn.as_str() == arn,
                (None, Some(name)) => &p.profile_name == name,
                (None, None) => false,
            });
        let p = found.ok_or_else(|| {
            Diagnostic::error(
                "Profile not found",
                format!(
                    "No Kiro profile {} in this account and region.",
                    config
                        .arn
                        .as_deref()
                        .or(config.name.as_deref())
                        .unwrap_or_default()
                ),
            )
        })?;
        let idp = &p.identity_details.external_identity_provider_details;
        Ok(ProfileLookup {
            id: Some(p.arn.to_string()),
            name: Some(p.profile_name.clone()),
            arn: Some(p.arn.to_string()),
            description: p.description.clone(),
            issuer_url: Some(idp.issuer_url.clone()),
            client_id: Some(idp.client_id.clone()),
            scim_endpoint: Some(idp.scim_endpoint.clone()),
            status: Some(p.status.to_string()),
        })
    }
}

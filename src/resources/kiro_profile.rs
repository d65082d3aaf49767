//! `kiro_profile`: the Kiro profile connected to an existing identity
//! provider (here: the Entra application's issuer and client id).

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{StringCheck, guid, max_length, same_guid};
use crate::kiro::KiroClient;
use crate::kiro::wire::{
    CreateProfile, IdentitySource, Profile, ProfileArn, ProfileStatus, Tag, UpdateProfile,
};
use crate::poll::{self, Pace};
use crate::{attr, tf_model};

use super::input_rules::aws_tags;
use super::take_over::NaturalKey;
use super::{KiroFailure, kiro};

tf_model! {
    pub struct ProfileModel {
        /// The profile ARN.
        id: Option<String> [computed, use_state_for_unknown],
        /// The profile's name: a letter, then letters, digits, `_` or `-`; at most 100
        /// characters; unique in the region.
        name: String [required, validate(StringCheck(check_profile_name))],
        /// A description of the profile.
        description: Option<String> [optional, validate(max_length(256))],
        /// The identity provider's OpenID issuer, e.g.
        /// `kiro_entra_application.<name>.issuer_url`, or its OpenID metadata document URL
        /// (`…/.well-known/openid-configuration`); Kiro stores the issuer, and either form plans
        /// clean.
        issuer_url: String [required, requires_replace, equivalent(same_issuer), validate(StringCheck(check_issuer_url))],
        /// The Entra application's client id (`kiro_entra_application.<name>.client_id`).
        client_id: String [required, requires_replace, equivalent(same_guid), validate(guid())],
        /// The Entra tenant id, when Kiro should be told it explicitly.
        tenant_id: Option<String> [optional, requires_replace, equivalent(same_guid), validate(guid())],
        /// Tags of the profile: at most 50; keys of 1 to 128 characters, not starting with
        /// `aws:`; values of at most 256 characters.
        tags: Option<BTreeMap<String, String>> [optional, validate(aws_tags())],
        /// The profile ARN (same as `id`).
        arn: Option<String> [computed, use_state_for_unknown],
        /// The profile's SCIM endpoint: the "Tenant URL" of Entra's automatic provisioning.
        scim_endpoint: Option<String> [computed, use_state_for_unknown],
        /// `CREATING`, `ACTIVE` or `DELETING`.
        status: Option<String> [computed],
    }
}

/// `[a-zA-Z][a-zA-Z0-9_-]{0,99}`, the contract's profile name pattern.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= 100 {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a profile name: start with a letter, then use letters, digits, \
             `_` or `-`, at most 100 characters."
        ))
    }
}

const METADATA_SUFFIX: &str = "/.well-known/openid-configuration";

/// An https URL without query or fragment.
pub fn check_issuer_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})."))?;
    if parsed.scheme() != "https" {
        return Err(format!(
            "{url:?} must use https, e.g. https://login.microsoftonline.com/<tenant id>/v2.0."
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must not have a query string or fragment."));
    }
    Ok(())
}

/// An issuer and its metadata document URL (or a trailing slash) name one issuer.
pub fn same_issuer(a: &str, b: &str) -> bool {
    issuer_of(a) == issuer_of(b)
}

/// The issuer an issuer URL or metadata document URL stands for.
fn issuer_of(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    url.strip_suffix(METADATA_SUFFIX).unwrap_or(url)
}

fn tags_of(tags: &Option<BTreeMap<String, String>>) -> Vec<Tag> {
    tags.iter()
        .flatten()
        .map(|(k, v)| Tag::new(k.clone(), v.clone()))
        .collect()
}

impl ProfileModel {
    fn observed(mut self, p: &Profile) -> Self {
        let idp = &p.identity_details.external_identity_provider_details;
        self.id = Some(p.arn.to_string());
        self.arn = Some(p.arn.to_string());
        self.name = p.profile_name.clone();
        self.description = p.description.clone();
        // Another spelling of the same issuer keeps the configured one (`same_issuer`).
        self.issuer_url = idp.issuer_url.clone();
        self.client_id = idp.client_id.clone();
        self.tenant_id = idp.tenant_id.clone();
        let tags: BTreeMap<String, String> = p
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        self.tags = (!tags.is_empty() || self.tags.is_some()).then_some(tags);
        self.scim_endpoint = Some(idp.scim_endpoint.clone());
        self.status = Some(p.status.to_string());
        self
    }

    fn arn(&self) -> ProfileArn {
        ProfileArn::from(self.arn.clone().or(self.id.clone()).unwrap_or_default())
    }
}

/// Waits until the profile reads `ACTIVE` (a new profile is `CREATING` first).
async fn wait_active(
    clients: &Clients,
    arn: &ProfileArn,
    op: &Operation,
) -> Result<Profile, Diagnostics> {
    let kiro = kiro(clients).await?;
    let found = poll::until(
        "the profile to become ACTIVE",
        op.remaining(),
        Pace::QUICK,
        || async {
            let p = kiro.get_profile(arn).await?;
            let seen = p
                .as_ref()
                .map_or("not listed yet".into(), |p| p.status.to_string());
            Ok((p.filter(|p| p.status == ProfileStatus::Active), seen))
        },
    )
    .await
    .map_err(|e: crate::kiro::KiroError| e.fail("read the new profile"))?;
    found.ok_or_else(|| {
        Diagnostic::error(
            "Profile not active in time",
            format!("Profile {arn} did not become ACTIVE within the create timeout."),
        )
        .into()
    })
}

pub struct KiroProfile;

/// The profile named as `plan` names it whose identity source is `plan`'s application
/// and tenant: an application this configuration holds, so a profile found connected to
/// it was made for it (by an apply killed before it saved state), not by someone else.
async fn connected_to_our_application(
    kiro: &KiroClient,
    name: &str,
    client_id: &str,
    issuer_url: &str,
) -> Result<Option<Profile>, Diagnostics> {
    let profiles = kiro
        .list_profiles()
        .await
        .map_err(|e| e.fail("list the profiles"))?;
    Ok(profiles.into_iter().find(|p| {
        let idp = &p.identity_details.external_identity_provider_details;
        p.profile_name == name
            && same_guid(&idp.client_id, client_id)
            && same_issuer(&idp.issuer_url, issuer_url)
    }))
}

/// A profile is taken over by its name and the application it is connected to.
fn profile_key(name: &str, client_id: &str) -> NaturalKey {
    NaturalKey {
        type_name: KiroProfile::TYPE_NAME,
        key: format!("{client_id}|{name}"),
        described: format!("the profile {name:?} connected to application {client_id}"),
        at: AttrPath::attr(attr!(ProfileModel, name)),
    }
}

impl KiroProfile {
    /// Takes over `found` (see [`connected_to_our_application`]), with a warning, and
    /// gives it the configured description and tags.
    async fn take_over(
        &self,
        clients: &Clients,
        found: Profile,
        plan: ProfileModel,
        op: &Operation,
    ) -> Result<ProfileModel, Diagnostics> {
        let key = profile_key(&plan.name, &plan.client_id);
        key.claim(clients)?;
        key.took_over(op, found.arn.as_str());
        let prior = plan.clone().observed(&found);
        op.exists(&prior);
        self.update(clients, prior, plan, op).await
    }
}

#[async_trait]
impl ManagedResource<Clients> for KiroProfile {
    type Model = ProfileModel;
    const TYPE_NAME: &'static str = "kiro_profile";
    const DESCRIPTION: &'static str = "The Kiro profile connected to an external identity \
        provider (Entra ID): its issuer and application client id. Name, description and tags \
        change in place; a different identity provider makes a new profile.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(10, 10, 10);

    /// Warns before the apply when the create will take over a profile (see
    /// [`connected_to_our_application`]). A list that fails is left to the apply.
    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        let (Some(clients), true) = (client, plan.is_create()) else {
            return;
        };
        let config = |name| plan.config(name).as_str().map(str::to_string);
        let (Some(name), Some(client_id), Some(issuer_url)) = (
            config(attr!(ProfileModel, name)),
            config(attr!(ProfileModel, client_id)),
            config(attr!(ProfileModel, issuer_url)),
        ) else {
            return;
        };
        let Ok(kiro) = kiro(clients).await else {
            return;
        };
        if let Ok(Some(found)) =
            connected_to_our_application(kiro, &name, &client_id, &issuer_url).await
        {
            profile_key(&name, &client_id)
                .will_take_over(found.arn.as_str(), &mut plan.diagnostics);
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: ProfileModel,
        op: &Operation,
    ) -> Result<ProfileModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let mut request = CreateProfile::new(
            plan.name.clone(),
            IdentitySource::external(
                plan.issuer_url.clone(),
                plan.client_id.clone(),
                plan.tenant_id.clone(),
            ),
        )
        .tags(tags_of(&plan.tags));
        if let Some(d) = &plan.description {
            request = request.description(d.clone());
        }
        let arn = match kiro.create_profile(&request).await {
            Ok(arn) => arn,
            Err(e) if e.is_conflict() => {
                let Some(ours) = connected_to_our_application(
                    kiro,
                    &plan.name,
                    &plan.client_id,
                    &plan.issuer_url,
                )
                .await?
                else {
                    return Err(Diagnostic::error(
                        "A profile with this name exists",
                        format!(
                            "{e}\nProfile names are unique in a region. Choose another name, or \
                             import the existing profile: terraform import <resource address> \
                             <profile arn>."
                        ),
                    )
                    .at(AttrPath::attr(attr!(ProfileModel, name)))
                    .into());
                };
                return self.take_over(clients, ours, plan, op).await;
            }
            Err(e) => return Err(e.fail("create the profile")),
        };
        op.exists(&ProfileModel {
            id: Some(arn.to_string()),
            arn: Some(arn.to_string()),
            ..plan.clone()
        });
        let profile = wait_active(clients, &arn, op).await?;
        Ok(plan.observed(&profile))
    }

    async fn read(
        &self,
        clients: &Clients,
        state: ProfileModel,
    ) -> Result<Option<ProfileModel>, Diagnostics> {
        let arn = state.arn();
        let found = kiro(clients)
            .await?
            .get_profile(&arn)
            .await
            .map_err(|e| e.fail("read the profile"))?;
        if found.is_none() {
            tracing::info!(%arn, "profile is gone; removing it from state");
        }
        Ok(found.map(|p| state.observed(&p)))
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: ProfileModel,
        plan: ProfileModel,
        op: &Operation,
    ) -> Result<ProfileModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let arn = prior.arn();
        if prior.name != plan.name || prior.description != plan.description {
            let update = UpdateProfile {
                profile_arn: arn.clone(),
                profile_name: (prior.name != plan.name).then(|| plan.name.clone()),
                description: (prior.description != plan.description)
                    .then(|| plan.description.clone().unwrap_or_default()),
            };
            kiro.update_profile(&update)
                .await
                .map_err(|e| e.fail("update the profile"))?;
        }
        if prior.tags != plan.tags {
            let wanted = tags_of(&plan.tags);
            let gone: Vec<String> = tags_of(&prior.tags)
                .into_iter()
                .filter(|t| !wanted.iter().any(|w| w.key == t.key))
                .map(|t| t.key)
                .collect();
            if !gone.is_empty() {
                kiro.untag_resource(arn.as_str(), &gone)
                    .await
                    .map_err(|e| e.fail("remove tags"))?;
            }
            if !wanted.is_empty() {
                kiro.tag_resource(arn.as_str(), &wanted)
                    .await
                    .map_err(|e| e.fail("set tags"))?;
            }
        }
        let profile = wait_active(clients, &arn, op).await?;
        Ok(plan.observed(&profile))
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: ProfileModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        kiro(clients)
            .await?
            .delete_profile(&state.arn())
            .await
            .map(|_| ())
            .map_err(|e| e.fail("delete the profile"))
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<ProfileModel, Diagnostics> {
        let arn = ProfileArn::from(id);
        kiro(clients)
            .await?
            .get_profile(&arn)
            .await
            .map_err(|e| e.fail("look up the profile"))?
            .ok_or_else(|| {
                Diagnostic::error(
                    "Cannot import: profile not found",
                    format!(
                        "No profile {id:?} in this account and region. Import with the profile ARN."
                    ),
                )
            })?;
        Ok(ProfileModel {
            id: Some(id.to_string()),
            arn: Some(id.to_string()),
            ..ProfileModel::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_issuers() {
        assert!(check_profile_name("kiro-main_1").is_ok());
        for bad in ["", "1kiro", "has space", "ä", &"a".repeat(101)] {
            assert!(check_profile_name(bad).is_err(), "{bad}");
        }
        assert!(check_issuer_url("https://login.microsoftonline.com/t/v2.0").is_ok());
        assert!(check_issuer_url("http://login.microsoftonline.com/t/v2.0").is_err());
        assert!(check_issuer_url("https://x/?a=1").is_err());
        assert_eq!(
            issuer_of("https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration"),
            "https://login.microsoftonline.com/t/v2.0"
        );
        assert_eq!(
            issuer_of("https://login.microsoftonline.com/t/v2.0/"),
            "https://login.microsoftonline.com/t/v2.0"
        );
    }
}

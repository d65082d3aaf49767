//! `kiro_subscription`: subscribes a synced user or group to a Kiro plan,
//! by Kiro's principal id or by the Entra object id that provisioning
//! copies into `externalId` (then waiting until SCIM has delivered it).

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::{guid, one_of};
use crate::kiro::KiroClient;
use crate::kiro::wire::{
    Assignment, AssignmentSpec, AssignmentStatus, GroupFilter, PrincipalType, ProfileArn,
    SubscriptionType, UserFilter,
};
use crate::poll::{self, Pace};
use crate::{attr, tf_model};

use super::input_rules::{kiro_principal_id, profile_arn};
use super::take_over::NaturalKey;
use super::{KiroFailure, bad_import_id, kiro};

const PLANS: &[&str] = &["KIRO_PRO", "KIRO_PRO_PLUS", "KIRO_POWER"];

tf_model! {
    pub struct SubscriptionModel {
        /// `<profile arn>|<principal type>|<principal id>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// The profile's ARN (`kiro_profile.<name>.arn`).
        profile_arn: String [required, requires_replace, validate(profile_arn())],
        /// `USER` or `GROUP`.
        principal_type: String [required, requires_replace, validate(one_of(&["USER", "GROUP"]))],
        /// Kiro's id of the user or group (a GUID, as the `kiro_user` and `kiro_group` data
        /// sources give it). Set this, `external_id`, or both naming the same principal (as an
        /// import and `-generate-config-out` write them); with `external_id` alone it is found
        /// and shown here.
        principal_id: Option<String> [optional, computed, requires_replace, use_state_for_unknown, validate(kiro_principal_id())],
        /// The Entra object id of the user or group, which provisioning copies into SCIM's
        /// `externalId`. The create waits (within `timeouts.create`) until SCIM has delivered
        /// the principal to Kiro. An import reads it from the principal, so a configuration
        /// that names the principal either way plans clean.
        external_id: Option<String> [optional, computed, requires_replace, use_state_for_unknown, validate(guid())],
        /// `KIRO_PRO`, `KIRO_PRO_PLUS` or `KIRO_POWER`; changes in place.
        plan: String [required, validate(one_of(PLANS))],
        /// `ACTIVE` or `CANCELED`.
        status: Option<String> [computed],
    }
    rules {
        AtLeastOneOf(principal_id, external_id);
    }
}

impl SubscriptionModel {
    fn kind(&self) -> PrincipalType {
        PrincipalType::from_wire(&self.principal_type)
    }

    fn spec(&self, principal_id: &str) -> AssignmentSpec {
        AssignmentSpec {
            profile_arn: ProfileArn::from(self.profile_arn.as_str()),
            principal_id: principal_id.to_string(),
            principal_type: self.kind(),
            subscription_type: SubscriptionType::from_wire(&self.plan),
        }
    }

    fn observed(mut self, a: &Assignment) -> Self {
        self.id = Some(format!(
            "{}|{}|{}",
            self.profile_arn, a.principal_type, a.principal_id
        ));
        self.principal_id = Some(a.principal_id.clone());
        self.plan = a.subscription_type.to_string();
        self.status = Some(a.status.to_string());
        self
    }
}

/// Kiro's id of the principal whose `externalId` is `external_id`, if SCIM
/// has delivered it.
async fn by_external_id(
    kiro: &KiroClient,
    arn: &ProfileArn,
    kind: &PrincipalType,
    external_id: &str,
) -> Result<Option<String>, Diagnostics> {
    let found = if *kind == PrincipalType::Group {
        let filter = GroupFilter {
            external_id: Some(external_id.to_string()),
            ..GroupFilter::default()
        };
        kiro.list_groups(arn, &filter)
            .await
            .map(|g| g.into_iter().next().map(|g| g.group_id))
    } else {
        let filter = UserFilter {
            external_id: Some(external_id.to_string()),
            ..UserFilter::default()
        };
        kiro.list_users(arn, &filter)
            .await
            .map(|u| u.into_iter().next().map(|u| u.user_id))
    };
    found.map_err(|e| e.fail("look up the principal"))
}

/// The `externalId` of Kiro's principal `principal_id` (the Entra object id SCIM delivered it
/// with), when it has one.
async fn external_id_of(
    kiro: &KiroClient,
    arn: &ProfileArn,
    kind: &PrincipalType,
    principal_id: &str,
) -> Result<Option<String>, Diagnostics> {
    let found = if *kind == PrincipalType::Group {
        kiro.list_groups(arn, &GroupFilter::default())
            .await
            .map(|g| {
                g.into_iter()
                    .find(|g| g.group_id == principal_id)
                    .map(|g| g.external_id)
            })
    } else {
        kiro.list_users(arn, &UserFilter::default()).await.map(|u| {
            u.into_iter()
                .find(|u| u.user_id == principal_id)
                .map(|u| u.external_id)
        })
    };
    Ok(found
        .map_err(|e| e.fail("look up the principal"))?
        .filter(|id| !id.is_empty()))
}

/// The principal's subscription, if it is in force: a `CANCELED` one (its
/// principal left Kiro, or it was cancelled in the console) counts as gone,
/// so the plan creates it again.
async fn find(
    kiro: &KiroClient,
    m: &SubscriptionModel,
    principal_id: &str,
) -> Result<Option<Assignment>, Diagnostics> {
    let profile = ProfileArn::from(m.profile_arn.as_str());
    find_in_force(kiro, &profile, &m.kind(), principal_id).await
}

async fn find_in_force(
    kiro: &KiroClient,
    profile: &ProfileArn,
    kind: &PrincipalType,
    principal_id: &str,
) -> Result<Option<Assignment>, Diagnostics> {
    Ok(find_any(kiro, profile, kind, principal_id)
        .await?
        .filter(|a| a.status != AssignmentStatus::Canceled))
}

async fn find_any(
    kiro: &KiroClient,
    profile: &ProfileArn,
    kind: &PrincipalType,
    principal_id: &str,
) -> Result<Option<Assignment>, Diagnostics> {
    match kiro.list_assignments(profile).await {
        Ok(all) => Ok(all
            .into_iter()
            .find(|a| a.principal_id == principal_id && a.principal_type == *kind)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.fail("read the subscriptions")),
    }
}

/// Subscribes `principal_id` as `plan` says. A principal has one subscription per
/// profile: a cancelled one gives way to the new one, and one in force (made by an
/// interrupted apply) is taken over and given the configured plan.
async fn subscribe(
    kiro: &KiroClient,
    plan: &SubscriptionModel,
    principal_id: &str,
    key: &NaturalKey,
    op: &Operation,
) -> Result<Assignment, Diagnostics> {
    let arn = ProfileArn::from(plan.profile_arn.as_str());
    match find_any(kiro, &arn, &plan.kind(), principal_id).await? {
        Some(old) if old.status == AssignmentStatus::Canceled => {
            kiro.delete_assignment(&arn, principal_id, &plan.kind())
                .await
                .map_err(|e| e.fail("remove the cancelled subscription"))?;
        }
        Some(in_force) => {
            key.took_over(op, principal_id);
            return set_plan(kiro, plan, principal_id, in_force).await;
        }
        None => {}
    }
    match kiro.create_assignment(&plan.spec(principal_id)).await {
        Ok(()) => read_back(kiro, plan, principal_id).await,
        // Made meanwhile (a look-before-repeat found it, or a racing apply).
        Err(e) if e.is_conflict() => {
            key.took_over(op, principal_id);
            let in_force = read_back(kiro, plan, principal_id).await?;
            set_plan(kiro, plan, principal_id, in_force).await
        }
        Err(e) if e.is_not_found() => Err(Diagnostic::error(
            "Principal not found in Kiro",
            format!(
                "{e}\nOnly users and groups synced into the profile by SCIM can be subscribed."
            ),
        )
        .at(AttrPath::attr(attr!(SubscriptionModel, principal_id)))
        .into()),
        Err(e) => Err(e.fail("subscribe the principal")),
    }
}

/// Gives a subscription found in force the configured plan, when it has another.
async fn set_plan(
    kiro: &KiroClient,
    plan: &SubscriptionModel,
    principal_id: &str,
    in_force: Assignment,
) -> Result<Assignment, Diagnostics> {
    if in_force.subscription_type == SubscriptionType::from_wire(&plan.plan) {
        return Ok(in_force);
    }
    kiro.update_assignment(&plan.spec(principal_id))
        .await
        .map_err(|e| e.fail("change the subscription's plan"))?;
    read_back(kiro, plan, principal_id).await
}

/// The subscription just written, as Kiro lists it.
async fn read_back(
    kiro: &KiroClient,
    plan: &SubscriptionModel,
    principal_id: &str,
) -> Result<Assignment, Diagnostics> {
    find(kiro, plan, principal_id).await?.ok_or_else(|| {
        Diagnostic::error(
            "Subscription not found",
            format!("The subscription of {principal_id} did not read back."),
        )
        .into()
    })
}

/// A principal has one subscription per profile: its natural key.
fn subscription_key(profile_arn: &str, principal_type: &str, principal_id: &str) -> NaturalKey {
    NaturalKey {
        type_name: KiroSubscription::TYPE_NAME,
        key: format!("{profile_arn}|{principal_type}|{principal_id}"),
        described: format!(
            "the subscription of {principal_type} {principal_id} in profile {profile_arn}"
        ),
        at: AttrPath::attr(attr!(SubscriptionModel, principal_id)),
    }
}

/// Warns at plan time when a planned subscription will take over one in force (see
/// [`NaturalKey::will_take_over`]): the principal is named by a known `principal_id`, or by
/// a known `external_id` that SCIM has delivered. Reads that fail are left to the apply.
async fn warn_of_take_over(clients: &Clients, plan: &mut PlanContext<'_>) {
    let config = |name| plan.config(name).as_str().map(str::to_string);
    let (Some(arn), Some(principal_type)) = (
        config(attr!(SubscriptionModel, profile_arn)),
        config(attr!(SubscriptionModel, principal_type)),
    ) else {
        return;
    };
    let principal_id = config(attr!(SubscriptionModel, principal_id));
    let external_id = config(attr!(SubscriptionModel, external_id));
    let Ok(kiro) = kiro(clients).await else {
        return;
    };
    let (profile, kind) = (
        ProfileArn::from(arn.as_str()),
        PrincipalType::from_wire(&principal_type),
    );
    let principal_id = match (principal_id, external_id) {
        (Some(id), _) => id,
        (None, Some(external)) => match by_external_id(kiro, &profile, &kind, &external).await {
            Ok(Some(id)) => id,
            _ => return,
        },
        (None, None) => return,
    };
    if let Ok(Some(_)) = find_in_force(kiro, &profile, &kind, &principal_id).await {
        subscription_key(&arn, &principal_type, &principal_id)
            .will_take_over(&principal_id, &mut plan.diagnostics);
    }
}

pub struct KiroSubscription;

#[async_trait]
impl ManagedResource<Clients> for KiroSubscription {
    type Model = SubscriptionModel;
    const TYPE_NAME: &'static str = "kiro_subscription";
    const DESCRIPTION: &'static str = "Subscribes a user or group that provisioning synced into \
        Kiro to a Kiro plan. Name the principal by Kiro's id, or by its Entra object id \
        (`external_id`), in which case the create waits until SCIM has delivered it. The plan \
        changes in place; a principal removed from Kiro plans the subscription again.";
    // A subscription by external_id waits for SCIM to deliver the principal: at most one
    // provisioning cycle (Entra runs one every 40 minutes) after it was assigned.
    const TIMEOUTS: Timeouts = Timeouts::minutes(45, 5, 5);

    async fn modify_plan(&self, client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        if let (Some(clients), true) = (client, plan.is_create()) {
            warn_of_take_over(clients, plan).await;
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: SubscriptionModel,
        op: &Operation,
    ) -> Result<SubscriptionModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let arn = ProfileArn::from(plan.profile_arn.as_str());
        let delivered = match &plan.external_id {
            None => None,
            Some(external) => {
                let kind = plan.kind();
                let what = format!(
                    "SCIM to deliver the {} with externalId {external}",
                    plan.principal_type
                );
                poll::until(&what, op.remaining(), Pace::PATIENT, || async {
                    let found = by_external_id(kiro, &arn, &kind, external).await?;
                    Ok::<_, Diagnostics>((found, "not in Kiro yet".to_string()))
                })
                .await?
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Principal not delivered by SCIM",
                        format!(
                            "No {} with externalId {external} arrived in the Kiro profile through \
                             SCIM within the create timeout ({:?}). Check that it is assigned to the \
                             enterprise application and that provisioning runs (its last cycle and \
                             any quarantine show on kiro_entra_provisioning).",
                            plan.principal_type,
                            op.timeout()
                        ),
                    )
                    .at(AttrPath::attr(attr!(SubscriptionModel, external_id)))
                })
                .map(Some)?
            }
        };
        let principal_id = match (plan.principal_id.clone(), delivered) {
            (Some(id), Some(found)) if id != found => {
                return Err(Diagnostic::error(
                    "principal_id and external_id name different principals",
                    format!(
                        "The {} with externalId {} is {found} in Kiro, not {id}. Set one of the \
                         two, or both naming the same principal (as an import writes them).",
                        plan.principal_type,
                        plan.external_id.clone().unwrap_or_default()
                    ),
                )
                .at(AttrPath::attr(attr!(SubscriptionModel, principal_id)))
                .into());
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => {
                return Err(Diagnostic::error(
                    "Missing argument",
                    "Set principal_id or external_id.",
                )
                .at(AttrPath::attr(attr!(SubscriptionModel, principal_id)))
                .into());
            }
        };
        let key = subscription_key(&plan.profile_arn, &plan.principal_type, &principal_id);
        key.claim(clients)?;
        let made = subscribe(kiro, &plan, &principal_id, &key, op).await?;
        Ok(plan.observed(&made))
    }

    async fn read(
        &self,
        clients: &Clients,
        state: SubscriptionModel,
    ) -> Result<Option<SubscriptionModel>, Diagnostics> {
        let Some(principal_id) = state.principal_id.clone() else {
            return Ok(None);
        };
        let found = find(kiro(clients).await?, &state, &principal_id).await?;
        if found.is_none() {
            tracing::info!(%principal_id, "subscription (or its principal) is gone; removing it from state");
        }
        Ok(found.map(|a| state.observed(&a)))
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: SubscriptionModel,
        plan: SubscriptionModel,
        _op: &Operation,
    ) -> Result<SubscriptionModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let principal_id = prior.principal_id.clone().unwrap_or_default();
        kiro.update_assignment(&plan.spec(&principal_id))
            .await
            .map_err(|e| e.fail("change the subscription's plan"))?;
        let plan = SubscriptionModel {
            principal_id: Some(principal_id.clone()),
            ..plan
        };
        let now = find(kiro, &plan, &principal_id).await?.ok_or_else(|| {
            Diagnostic::error(
                "Subscription not found",
                format!("The subscription of {principal_id} did not read back."),
            )
        })?;
        Ok(plan.observed(&now))
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: SubscriptionModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let Some(principal_id) = state.principal_id.clone() else {
            return Ok(());
        };
        let arn = ProfileArn::from(state.profile_arn.as_str());
        match kiro(clients)
            .await?
            .delete_assignment(&arn, &principal_id, &state.kind())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.fail("cancel the subscription")),
        }
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<SubscriptionModel, Diagnostics> {
        let usage = "<profile arn>|<USER or GROUP>|<principal id>";
        let parts: Vec<&str> = id.rsplitn(3, '|').collect();
        let [principal_id, kind, arn] = parts[..] else {
            return Err(bad_import_id(id, usage));
        };
        if !["USER", "GROUP"].contains(&kind) || principal_id.is_empty() {
            return Err(bad_import_id(id, usage));
        }
        let model = SubscriptionModel {
            profile_arn: arn.to_string(),
            principal_type: kind.to_string(),
            principal_id: Some(principal_id.to_string()),
            ..SubscriptionModel::default()
        };
        let kiro = kiro(clients).await?;
        let found = find(kiro, &model, principal_id).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import: subscription not found",
                format!("Profile {arn} has no subscription for {kind} {principal_id}."),
            )
        })?;
        // The Entra object id has one true reading: the principal's externalId. With it, a
        // configuration written by `external_id` (as examples/complete is) plans clean.
        let external_id =
            external_id_of(kiro, &ProfileArn::from(arn), &model.kind(), principal_id).await?;
        Ok(SubscriptionModel {
            external_id,
            ..model
        }
        .observed(&found))
    }
}

//! `kiro_access_token`: a SCIM access token of a profile. Kiro returns the
//! secret once, so it is kept (sensitive) in state; it cannot be imported.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::model::Sensitive;
use crate::framework::plan::PlanContext;
use crate::framework::validators::max_length;
use crate::framework::value::TfValue;
use crate::kiro::KiroClient;
use crate::kiro::wire::{ProfileArn, ScimAccessToken};
use crate::{attr, tf_model};

use super::input_rules::profile_arn;
use super::token_expiry::{self, Expiry, rfc3339};
use super::{KiroFailure, kiro};

tf_model! {
    pub struct AccessTokenModel {
        /// `<profile arn>|<token_id>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// The profile's ARN (`kiro_profile.<name>.arn`).
        profile_arn: String [required, requires_replace, validate(profile_arn())],
        /// A description of the token (what uses it).
        description: Option<String> [optional, requires_replace, validate(max_length(256))],
        /// Any change of these values makes a new token. With `create_before_destroy`, the new
        /// token exists before the old one is deleted.
        rotation_triggers: Option<BTreeMap<String, String>> [optional, requires_replace],
        /// The SCIM access token, returned by Kiro only when it is made.
        token: Option<Sensitive> [computed, sensitive, use_state_for_unknown],
        /// The token's id.
        token_id: Option<String> [computed, use_state_for_unknown],
        /// When the token was made (RFC 3339).
        created_at: Option<String> [computed, use_state_for_unknown],
        /// When the token expires (RFC 3339; one year after it was made). Plans warn once it is
        /// less than 30 days away.
        expires_at: Option<String> [computed, use_state_for_unknown],
        /// How long before `expires_at` a plan makes a new token (a duration such as `"720h"`,
        /// 30 days); with `create_before_destroy`, the new token exists before the old one is
        /// deleted. Unset: plans only warn.
        rotate_before: Option<String> [optional, validate(token_expiry::rotate_before())],
    }
}

/// The tokens a profile has, for the quota error.
async fn token_list(kiro: &KiroClient, arn: &ProfileArn) -> String {
    match kiro.list_scim_access_tokens(arn).await {
        Ok(tokens) => tokens
            .iter()
            .map(|t: &ScimAccessToken| {
                format!(
                    "  {} ({}made {}, last used {})",
                    t.token_id,
                    t.description
                        .as_deref()
                        .map(|d| format!("{d:?}, "))
                        .unwrap_or_default(),
                    rfc3339(t.created_at),
                    t.last_used_at
                        .map(rfc3339)
                        .unwrap_or_else(|| "never".into())
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("  (listing them failed: {e})"),
    }
}

pub struct KiroAccessToken;

#[async_trait]
impl ManagedResource<Clients> for KiroAccessToken {
    type Model = AccessTokenModel;
    const TYPE_NAME: &'static str = "kiro_access_token";
    const DESCRIPTION: &'static str = "A SCIM access token of a Kiro profile (Settings → \
        Identity management → Access Tokens → Generate Token), for Entra's automatic \
        provisioning. Kiro shows the secret only once, so it is kept in state (sensitive); this \
        resource cannot be imported. A profile holds at most 2 tokens: rotate with \
        `rotation_triggers` and `create_before_destroy`.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(5, 5, 5);

    async fn modify_plan(&self, _client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        let expires = attr!(AccessTokenModel, expires_at);
        let (Some(expires_at), Some(token_id)) = (
            plan.prior(expires).as_str().map(str::to_string),
            plan.prior(attr!(AccessTokenModel, token_id)).as_str(),
        ) else {
            return;
        };
        let token = format!("SCIM access token {token_id}");
        // A window still unknown (another resource's attribute) cannot be judged now, and the
        // apply may not add a replacement the plan lacked: this plan only warns.
        let window =
            token_expiry::window(plan.config(attr!(AccessTokenModel, rotate_before)).as_str());
        let Some(verdict) = token_expiry::judge(&expires_at, OffsetDateTime::now_utc(), window)
        else {
            return;
        };
        let at = AttrPath::attr(expires);
        if let Some(d) = token_expiry::diagnostic(&token, &expires_at, &verdict, at) {
            plan.diagnostics.push(d);
        }
        if matches!(verdict, Expiry::Rotate { .. }) {
            plan.set(expires, TfValue::unknown());
            plan.require_replace(expires);
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: AccessTokenModel,
        _op: &Operation,
    ) -> Result<AccessTokenModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let arn = ProfileArn::from(plan.profile_arn.as_str());
        let made = match kiro
            .create_scim_access_token(&arn, plan.description.as_deref())
            .await
        {
            Ok(made) => made,
            Err(e) if e.is_quota_exceeded() => {
                return Err(Diagnostic::error(
                    "The profile already has the most tokens Kiro allows",
                    format!(
                        "{e}\nA Kiro profile holds at most 2 SCIM access tokens. It has:\n{}\nDelete one \
                         that nothing uses (in the Kiro console, or by removing its kiro_access_token \
                         resource) and apply again. To rotate a token without downtime, change its \
                         rotation_triggers with create_before_destroy = true.",
                        token_list(kiro, &arn).await
                    ),
                )
                .at(AttrPath::attr(attr!(AccessTokenModel, profile_arn)))
                .into());
            }
            Err(e) => return Err(e.fail("create the SCIM access token")),
        };
        Ok(AccessTokenModel {
            id: Some(format!("{}|{}", plan.profile_arn, made.token_id)),
            token: Some(made.token),
            token_id: Some(made.token_id),
            created_at: Some(rfc3339(made.created_at)),
            expires_at: Some(rfc3339(made.expires_at)),
            ..plan
        })
    }

    async fn read(
        &self,
        clients: &Clients,
        state: AccessTokenModel,
    ) -> Result<Option<AccessTokenModel>, Diagnostics> {
        let arn = ProfileArn::from(state.profile_arn.as_str());
        let Some(token_id) = state.token_id.clone() else {
            return Ok(None);
        };
        let tokens = match kiro(clients).await?.list_scim_access_tokens(&arn).await {
            Ok(tokens) => tokens,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e.fail("read the SCIM access tokens")),
        };
        let found = tokens.into_iter().find(|t| t.token_id == token_id);
        if found.is_none() {
            tracing::info!(%token_id, "SCIM access token is gone; removing it from state");
        }
        Ok(found.map(|t| AccessTokenModel {
            expires_at: Some(rfc3339(t.expires_at)),
            ..state
        }))
    }

    async fn update(
        &self,
        _clients: &Clients,
        _prior: AccessTokenModel,
        plan: AccessTokenModel,
        _op: &Operation,
    ) -> Result<AccessTokenModel, Diagnostics> {
        // Every argument forces replacement; only `timeouts` can change here.
        Ok(plan)
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: AccessTokenModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let arn = ProfileArn::from(state.profile_arn.as_str());
        let Some(token_id) = state.token_id else {
            return Ok(());
        };
        match kiro(clients)
            .await?
            .delete_scim_access_token(&arn, &token_id)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.fail("delete the SCIM access token")),
        }
    }

    async fn import(&self, _clients: &Clients, _id: &str) -> Result<AccessTokenModel, Diagnostics> {
        Err(Diagnostic::error(
            "kiro_access_token cannot be imported",
            "Kiro returns a SCIM access token's secret only when the token is made, so an existing \
             token cannot be brought under Terraform with its secret. Create a new one with this \
             resource (a profile holds 2), switch what uses the old one, then delete the old one \
             in the Kiro console.",
        )
        .into())
    }
}

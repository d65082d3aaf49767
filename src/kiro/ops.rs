//! The named operations of the Kiro admin API on [`KiroClient`]: each builds its request from
//! the typed shapes of [`wire`](super::wire), sends it, and decodes the typed answer. Callers
//! never build JSON.
//!
//! Conventions (kube-rs style): `list_*` follow `nextToken` to the last page; `get_*` return
//! `Ok(None)` when the object does not exist; `delete_*` / `disassociate_*` return `false`
//! when the object was already gone.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::*;
use super::{KiroClient, KiroError, KiroRequest};
use crate::retry::{Attempt, RetryPolicy, retry};

/// Builds the request value for `operation` with `body` (pure: no I/O).
pub fn build_request(
    operation: Operation,
    body: &impl Serialize,
) -> Result<KiroRequest, KiroError> {
    let body = serde_json::to_value(body).map_err(|e| {
        KiroError::Config(format!("cannot encode the {} request: {e}", operation.name))
    })?;
    Ok(KiroRequest::new(operation.service, operation.name, body))
}

/// `Ok(true)` for a success, `Ok(false)` for ResourceNotFoundException.
fn gone_is_false(result: Result<Empty, KiroError>) -> Result<bool, KiroError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A list under a profile that is gone (ResourceNotFoundException) reads as empty: whatever
/// was under it is gone too.
fn none_if_profile_gone<T>(result: Result<Vec<T>, KiroError>) -> Result<Vec<T>, KiroError> {
    match result {
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        other => other,
    }
}

impl KiroClient {
    async fn invoke<T: DeserializeOwned>(
        &self,
        operation: Operation,
        body: &impl Serialize,
    ) -> Result<T, KiroError> {
        self.call(build_request(operation, body)?).await
    }

    async fn invoke_paged<T: DeserializeOwned>(
        &self,
        operation: Operation,
        body: &impl Serialize,
        items: &str,
    ) -> Result<Vec<T>, KiroError> {
        self.call_paged(build_request(operation, body)?, items)
            .await
    }

    // -- profiles -------------------------------------------------------------------------

    /// Creates a profile. Retries reuse `request.client_token`, so a create whose answer was
    /// lost is not made twice. ConflictException: another profile has this name.
    pub async fn create_profile(&self, request: &CreateProfile) -> Result<ProfileArn, KiroError> {
        let resp: ProfileArnResponse = self.invoke(CREATE_PROFILE, request).await?;
        Ok(resp.profile_arn)
    }

    /// Every profile in the region (all pages).
    pub async fn list_profiles(&self) -> Result<Vec<Profile>, KiroError> {
        let body = ListProfilesRequest {
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_PROFILES, &body, PROFILES_ITEMS)
            .await
    }

    /// The profile with this ARN, or `None` (there is no GetProfile: lists and matches).
    pub async fn get_profile(&self, arn: &ProfileArn) -> Result<Option<Profile>, KiroError> {
        Ok(self
            .list_profiles()
            .await?
            .into_iter()
            .find(|p| &p.arn == arn))
    }

    /// Renames or re-describes a profile (members left `None` are unchanged).
    pub async fn update_profile(&self, request: &UpdateProfile) -> Result<ProfileArn, KiroError> {
        let resp: ProfileArnResponse = self.invoke(UPDATE_PROFILE, request).await?;
        Ok(resp.profile_arn)
    }

    /// Deletes a profile with its domains, tokens, synced identities and subscriptions;
    /// `false` when it was already gone.
    pub async fn delete_profile(&self, arn: &ProfileArn) -> Result<bool, KiroError> {
        let body = ProfileRef { profile_arn: arn };
        gone_is_false(self.invoke(DELETE_PROFILE, &body).await)
    }

    /// Adds or overwrites tags on a resource (a profile ARN) **[assumed shape]**.
    pub async fn tag_resource(&self, resource_arn: &str, tags: &[Tag]) -> Result<(), KiroError> {
        let body = TagResourceRequest { resource_arn, tags };
        let _: Empty = self.invoke(TAG_RESOURCE, &body).await?;
        Ok(())
    }

    /// Removes tags by key **[assumed shape]**.
    pub async fn untag_resource(
        &self,
        resource_arn: &str,
        tag_keys: &[String],
    ) -> Result<(), KiroError> {
        let body = UntagResourceRequest {
            resource_arn,
            tag_keys,
        };
        let _: Empty = self.invoke(UNTAG_RESOURCE, &body).await?;
        Ok(())
    }

    /// The tags of a resource **[assumed shape]**.
    pub async fn list_tags_for_resource(&self, resource_arn: &str) -> Result<Vec<Tag>, KiroError> {
        let resp: TagsResponse = self
            .invoke(LIST_TAGS_FOR_RESOURCE, &ResourceRef { resource_arn })
            .await?;
        Ok(resp.tags)
    }

    // -- login domains --------------------------------------------------------------------

    /// Associates `domain_name` with the profile; the answer carries the TXT record to
    /// publish. ConflictException: another profile claimed the domain.
    pub async fn associate_login_domain(
        &self,
        arn: &ProfileArn,
        domain_name: &str,
    ) -> Result<LoginDomain, KiroError> {
        let body = LoginDomainRef {
            profile_arn: arn,
            domain_name,
        };
        let resp: AssociateLoginDomainResponse = self.invoke(ASSOCIATE_LOGIN_DOMAIN, &body).await?;
        Ok(resp.login_domain)
    }

    /// Every domain of the profile (all pages).
    pub async fn list_login_domains(
        &self,
        arn: &ProfileArn,
    ) -> Result<Vec<LoginDomain>, KiroError> {
        let body = ProfilePageRequest {
            profile_arn: arn,
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_LOGIN_DOMAINS, &body, LOGIN_DOMAINS_ITEMS)
            .await
    }

    /// The profile's association of `domain_name` (compared case-insensitively, as DNS
    /// names are), or `None`, also when the profile itself is gone.
    pub async fn get_login_domain(
        &self,
        arn: &ProfileArn,
        domain_name: &str,
    ) -> Result<Option<LoginDomain>, KiroError> {
        let wanted = domain_name.trim_end_matches('.');
        let domains = none_if_profile_gone(self.list_login_domains(arn).await)?;
        Ok(domains.into_iter().find(|d| {
            d.domain_name
                .trim_end_matches('.')
                .eq_ignore_ascii_case(wanted)
        }))
    }

    /// Removes the domain from the profile; `false` when it was not associated.
    pub async fn disassociate_login_domain(
        &self,
        arn: &ProfileArn,
        domain_name: &str,
    ) -> Result<bool, KiroError> {
        let body = LoginDomainRef {
            profile_arn: arn,
            domain_name,
        };
        gone_is_false(self.invoke(DISASSOCIATE_LOGIN_DOMAIN, &body).await)
    }

    // -- SCIM access tokens ---------------------------------------------------------------

    /// Creates a SCIM access token; its secret is in the answer only. Not retried after a
    /// failure the service may have acted on (there is no idempotency token, and a profile
    /// may hold only 2 active tokens: ServiceQuotaExceededException beyond).
    pub async fn create_scim_access_token(
        &self,
        arn: &ProfileArn,
        description: Option<&str>,
    ) -> Result<CreatedToken, KiroError> {
        let body = CreateScimAccessTokenRequest {
            profile_arn: arn,
            description,
        };
        self.invoke(CREATE_SCIM_ACCESS_TOKEN, &body).await
    }

    /// The profile's tokens, without secrets (all pages).
    pub async fn list_scim_access_tokens(
        &self,
        arn: &ProfileArn,
    ) -> Result<Vec<ScimAccessToken>, KiroError> {
        let body = ProfilePageRequest {
            profile_arn: arn,
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_SCIM_ACCESS_TOKENS, &body, SCIM_ACCESS_TOKENS_ITEMS)
            .await
    }

    /// The listed token with this id, or `None`, also when the profile itself is gone.
    pub async fn get_scim_access_token(
        &self,
        arn: &ProfileArn,
        token_id: &str,
    ) -> Result<Option<ScimAccessToken>, KiroError> {
        let tokens = none_if_profile_gone(self.list_scim_access_tokens(arn).await)?;
        Ok(tokens.into_iter().find(|t| t.token_id == token_id))
    }

    /// Revokes a token at once; `false` when it was already gone.
    pub async fn delete_scim_access_token(
        &self,
        arn: &ProfileArn,
        token_id: &str,
    ) -> Result<bool, KiroError> {
        let body = ScimAccessTokenRef {
            profile_arn: arn,
            token_id,
        };
        gone_is_false(self.invoke(DELETE_SCIM_ACCESS_TOKEN, &body).await)
    }

    // -- synced identities and subscriptions ----------------------------------------------

    /// Users synced into the profile that match `filter` (all pages).
    pub async fn list_users(
        &self,
        arn: &ProfileArn,
        filter: &UserFilter,
    ) -> Result<Vec<User>, KiroError> {
        let body = ListUsersRequest {
            profile_arn: arn,
            filter,
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_USERS, &body, USERS_ITEMS).await
    }

    /// Groups synced into the profile that match `filter` (all pages).
    pub async fn list_groups(
        &self,
        arn: &ProfileArn,
        filter: &GroupFilter,
    ) -> Result<Vec<Group>, KiroError> {
        let body = ListGroupsRequest {
            profile_arn: arn,
            filter,
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_GROUPS, &body, GROUPS_ITEMS).await
    }

    /// Subscribes a synced user or group. ResourceNotFoundException: not a synced
    /// identity; ConflictException: already assigned. A try that fails ambiguously
    /// ([`KiroError::is_ambiguous`]) may have subscribed the principal: the subscription is
    /// looked for before the call is repeated, and a conflict after such a try is that
    /// try's own subscription.
    pub async fn create_assignment(&self, spec: &AssignmentSpec) -> Result<(), KiroError> {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..self.retry_policy().clone()
        };
        // Only an ambiguous failure leads to another attempt, so attempt > 1 means the answer
        // to an earlier one was lost.
        retry(&policy, CREATE_ASSIGNMENT.name, |attempt| async move {
            if attempt > 1 {
                match self.subscribed(spec).await {
                    Ok(true) => return Attempt::Done(Ok(())),
                    Ok(false) => {}
                    Err(e) => return Attempt::Done(Err(e)),
                }
            }
            match self.invoke::<Empty>(CREATE_ASSIGNMENT, spec).await {
                Ok(_) => Attempt::Done(Ok(())),
                Err(e) if e.is_conflict() && attempt > 1 => Attempt::Done(Ok(())),
                Err(e) if e.is_ambiguous() => {
                    tracing::warn!(error = %e, principal_id = %spec.principal_id, "subscribing gave no usable answer; looking for the subscription before trying again");
                    Attempt::retry(e)
                }
                Err(e) => Attempt::Done(Err(e)),
            }
        })
        .await
    }

    /// Whether the principal of `spec` is subscribed as `spec` asks.
    async fn subscribed(&self, spec: &AssignmentSpec) -> Result<bool, KiroError> {
        let found = self
            .get_assignment(&spec.profile_arn, &spec.principal_id, &spec.principal_type)
            .await?;
        Ok(found.is_some_and(|a| {
            a.status == AssignmentStatus::Active && a.subscription_type == spec.subscription_type
        }))
    }

    /// Changes an assignment's tier.
    pub async fn update_assignment(&self, spec: &AssignmentSpec) -> Result<(), KiroError> {
        let _: Empty = self.invoke(UPDATE_ASSIGNMENT, spec).await?;
        Ok(())
    }

    /// Cancels an assignment; `false` when there was none.
    pub async fn delete_assignment(
        &self,
        arn: &ProfileArn,
        principal_id: &str,
        principal_type: &PrincipalType,
    ) -> Result<bool, KiroError> {
        let body = AssignmentRef {
            profile_arn: arn,
            principal_id,
            principal_type,
        };
        gone_is_false(self.invoke(DELETE_ASSIGNMENT, &body).await)
    }

    /// The assignment of this principal, or `None`, also when the profile itself is gone.
    pub async fn get_assignment(
        &self,
        arn: &ProfileArn,
        principal_id: &str,
        principal_type: &PrincipalType,
    ) -> Result<Option<Assignment>, KiroError> {
        let assignments = none_if_profile_gone(self.list_assignments(arn).await)?;
        Ok(assignments
            .into_iter()
            .find(|a| a.principal_id == principal_id && &a.principal_type == principal_type))
    }

    /// The profile's assignments (all pages) **[assumed operation]**.
    pub async fn list_assignments(&self, arn: &ProfileArn) -> Result<Vec<Assignment>, KiroError> {
        let body = ProfilePageRequest {
            profile_arn: arn,
            max_results: PAGE_SIZE,
        };
        self.invoke_paged(LIST_ASSIGNMENTS, &body, ASSIGNMENTS_ITEMS)
            .await
    }
}

#[cfg(test)]
mod tests;

//! `kiro_domain_verification`: waits until the domain reads `VERIFIED` (the
//! pattern of `aws_acm_certificate_validation`). When it does not, the error
//! names the record that must exist and what DNS answers for it now.

use std::time::Duration;

use async_trait::async_trait;

use crate::clients::Clients;
use crate::dns;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::validators::StringCheck;
use crate::kiro::wire::{LoginDomain, LoginDomainStatus, ProfileArn};
use crate::poll::{self, Pace};
use crate::tf_model;

use super::input_rules::profile_arn;
use super::kiro_domain::{check_domain_name, domain_id, normalize_domain, same_domain};
use super::{KiroFailure, kiro};

tf_model! {
    pub struct VerificationModel {
        /// `<profile arn>|<domain>`.
        id: Option<String> [computed, use_state_for_unknown],
        /// The profile's ARN (`kiro_domain.<name>.profile_arn`).
        profile_arn: String [required, requires_replace, validate(profile_arn())],
        /// The domain (`kiro_domain.<name>.domain_name`).
        domain_name: String [required, requires_replace, equivalent(same_domain), validate(StringCheck(check_domain_name))],
        /// The domain's status when the wait ended (`VERIFIED`).
        status: Option<String> [computed, use_state_for_unknown],
    }
}

/// What public DNS answers for the record now, in words.
pub(crate) async fn dns_answer(name: &str) -> String {
    match dns::lookup_txt(name).await {
        Ok(values) if values.is_empty() => format!("DNS has no TXT record for {name}."),
        Ok(values) => format!(
            "DNS answers for {name} with TXT {}.",
            values
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => {
            format!("Looking the record up failed, so what DNS answers now is not known: {e}.")
        }
    }
}

/// The error for a domain that did not verify: the record, the service's
/// last word, and DNS's current answer.
async fn not_verified(d: &LoginDomain, why: &str) -> Diagnostics {
    let record = &d.verification_record;
    Diagnostic::error(
        format!("Domain {} is not verified", d.domain_name),
        format!(
            "{why} The service last reported {}.\nThis DNS record must exist:\n  {} {} {:?}\n{}",
            d.status,
            record.name,
            record.record_type,
            record.value,
            dns_answer(&record.name).await
        ),
    )
    .into()
}

pub struct KiroDomainVerification;

#[async_trait]
impl ManagedResource<Clients> for KiroDomainVerification {
    type Model = VerificationModel;
    const TYPE_NAME: &'static str = "kiro_domain_verification";
    const DESCRIPTION: &'static str = "Waits until a domain added with `kiro_domain` reads \
        `VERIFIED`, which happens once its TXT record is published (like \
        `aws_acm_certificate_validation`). Progress shows in the log (`TF_LOG=INFO`); on \
        `FAILED` or timeout the error names the record that must exist and what DNS answers for \
        it now. Destroying it only forgets the wait.";
    const TIMEOUTS: Timeouts = Timeouts {
        create: Some(Duration::from_secs(45 * 60)),
        update: None,
        delete: None,
    };

    async fn create(
        &self,
        clients: &Clients,
        mut plan: VerificationModel,
        op: &Operation,
    ) -> Result<VerificationModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let arn = ProfileArn::from(plan.profile_arn.as_str());
        let domain =
            normalize_domain(&plan.domain_name).unwrap_or_else(|_| plan.domain_name.clone());
        // The last answer, for the error when the wait ends without VERIFIED.
        let last: std::sync::Mutex<Option<LoginDomain>> = std::sync::Mutex::new(None);
        let what = format!("domain {domain} to be VERIFIED");
        let verified = poll::until(&what, op.remaining(), Pace::PATIENT, || {
            let (kiro, arn, domain, last) = (kiro, &arn, &domain, &last);
            async move {
                let d = kiro
                    .get_login_domain(arn, domain)
                    .await
                    .map_err(|e| e.fail("read the domain"))?;
                let Some(d) = d else {
                    return Err(Diagnostic::error(
                        "Domain not found",
                        format!(
                            "Profile {arn} has no domain {domain}; add it with kiro_domain first."
                        ),
                    )
                    .into());
                };
                let seen = d.status.to_string();
                let done = match d.status {
                    LoginDomainStatus::Verified => Some(Ok(seen.clone())),
                    LoginDomainStatus::Failed => Some(Err(())),
                    _ => None,
                };
                *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
                Ok::<_, Diagnostics>((done, seen))
            }
        })
        .await?;
        let last = last.into_inner().unwrap_or_else(|e| e.into_inner());
        match (verified, last) {
            (Some(Ok(status)), _) => {
                plan.id = Some(domain_id(&plan.profile_arn, &domain));
                plan.status = Some(status);
                Ok(plan)
            }
            (Some(Err(())), Some(d)) => {
                Err(not_verified(&d, "The service gave up checking (FAILED).").await)
            }
            (None, Some(d)) => Err(not_verified(
                &d,
                &format!(
                    "It was not verified within the create timeout ({:?}).",
                    op.timeout()
                ),
            )
            .await),
            (_, None) => {
                Err(Diagnostic::error("Domain not found", format!("No domain {domain}.")).into())
            }
        }
    }

    async fn read(
        &self,
        clients: &Clients,
        state: VerificationModel,
    ) -> Result<Option<VerificationModel>, Diagnostics> {
        let arn = ProfileArn::from(state.profile_arn.as_str());
        let domain =
            normalize_domain(&state.domain_name).unwrap_or_else(|_| state.domain_name.clone());
        let found = match kiro(clients).await?.get_login_domain(&arn, &domain).await {
            Ok(found) => found,
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.fail("read the domain")),
        };
        // A domain that is gone or no longer verified needs the wait again.
        Ok(found
            .filter(|d| d.status == LoginDomainStatus::Verified)
            .map(|d| VerificationModel {
                status: Some(d.status.to_string()),
                ..state
            }))
    }

    async fn update(
        &self,
        _clients: &Clients,
        _prior: VerificationModel,
        plan: VerificationModel,
        _op: &Operation,
    ) -> Result<VerificationModel, Diagnostics> {
        Ok(plan)
    }

    async fn delete(
        &self,
        _clients: &Clients,
        _state: VerificationModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }
}

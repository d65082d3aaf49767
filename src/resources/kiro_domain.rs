//! `kiro_domain`: a company domain added to the profile, with the TXT record
//! the service asks for, exactly as it gives it, ready for any DNS provider.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{ManagedResource, Operation, Timeouts};
use crate::framework::plan::PlanContext;
use crate::framework::validators::StringCheck;
use crate::framework::value::TfValue;
use crate::kiro::wire::{LoginDomain, ProfileArn};
use crate::{attr, tf_model};

use super::input_rules::profile_arn;
use super::take_over::NaturalKey;
use super::{KiroFailure, kiro};

tf_model! {
    pub struct DomainModel {
        /// `<profile arn>|<domain>`, with the domain lower-cased (and in punycode).
        id: Option<String> [computed, use_state_for_unknown],
        /// The profile's ARN (`kiro_profile.<name>.arn`).
        profile_arn: String [required, requires_replace, validate(profile_arn())],
        /// The company domain, e.g. `example.com`. Compared case-insensitively; international
        /// names are sent in punycode.
        domain_name: String [required, requires_replace, equivalent(same_domain), validate(StringCheck(check_domain_name))],
        /// The verification token the service issued.
        verification_token: Option<String> [computed, use_state_for_unknown],
        /// Name of the DNS record to publish.
        dns_record_name: Option<String> [computed, use_state_for_unknown],
        /// Type of the DNS record to publish (`TXT`).
        dns_record_type: Option<String> [computed, use_state_for_unknown],
        /// Value of the DNS record to publish.
        dns_record_value: Option<String> [computed, use_state_for_unknown],
        /// `PENDING`, `VERIFIED` or `FAILED` (after 72 hours without the record).
        status: Option<String> [computed],
    }
}

/// The domain as the service knows it: lower-case, punycode, no trailing dot.
pub fn normalize_domain(name: &str) -> Result<String, String> {
    let not_a_domain = || format!("{name:?} is not a domain name (e.g. example.com).");
    if name.contains("://") || name.contains('/') || name.contains(char::is_whitespace) {
        return Err(not_a_domain());
    }
    let ascii = match url::Host::parse(name.trim_end_matches('.')) {
        Ok(url::Host::Domain(d)) => d,
        _ => return Err(not_a_domain()),
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if ascii.len() > 253 || !labels.iter().all(label_ok) {
        return Err(not_a_domain());
    }
    if labels.len() < 2 {
        return Err(format!(
            "{name:?} has a single label; a company domain has at least two labels (example.com)."
        ));
    }
    Ok(ascii)
}

pub fn check_domain_name(name: &str) -> Result<(), String> {
    normalize_domain(name).map(|_| ())
}

/// A domain written differently (letter case, trailing dot, Unicode or punycode) is the same
/// domain: the update stores the new form in place instead of replacing the object.
pub fn same_domain(a: &str, b: &str) -> bool {
    matches!((normalize_domain(a), normalize_domain(b)), (Ok(a), Ok(b)) if a == b)
}

pub fn domain_id(arn: &str, domain: &str) -> String {
    format!("{arn}|{domain}")
}

impl DomainModel {
    pub(crate) fn normalized(&self) -> String {
        normalize_domain(&self.domain_name).unwrap_or_else(|_| self.domain_name.to_lowercase())
    }

    fn observed(mut self, d: &LoginDomain) -> Self {
        if self.normalized() != d.domain_name {
            self.domain_name = d.domain_name.clone();
        }
        self.id = Some(domain_id(&self.profile_arn, &d.domain_name));
        self.verification_token = Some(d.verification_token.clone());
        self.dns_record_name = Some(d.verification_record.name.clone());
        self.dns_record_type = Some(d.verification_record.record_type.clone());
        self.dns_record_value = Some(d.verification_record.value.clone());
        self.status = Some(d.status.to_string());
        self
    }
}

pub struct KiroDomain;

#[async_trait]
impl ManagedResource<Clients> for KiroDomain {
    type Model = DomainModel;
    const TYPE_NAME: &'static str = "kiro_domain";
    const DESCRIPTION: &'static str = "A company domain added to a Kiro profile (Settings → \
        Identity management → Domains). The TXT record to publish comes back exactly as the \
        service gives it (`dns_record_name`, `dns_record_type`, `dns_record_value`), ready for \
        `aws_route53_record` or any DNS provider; `kiro_domain_verification` waits until the \
        service has seen it.";
    const TIMEOUTS: Timeouts = Timeouts::minutes(5, 5, 5);

    async fn modify_plan(&self, _client: Option<&Clients>, plan: &mut PlanContext<'_>) {
        // The id shows the domain as the service will hold it.
        if plan.is_create()
            && let (Some(arn), Some(name)) = (
                plan.config(attr!(DomainModel, profile_arn)).as_str(),
                plan.config(attr!(DomainModel, domain_name)).as_str(),
            )
            && let Ok(domain) = normalize_domain(name)
        {
            plan.set(
                attr!(DomainModel, id),
                TfValue::string(domain_id(arn, &domain)),
            );
        }
    }

    async fn create(
        &self,
        clients: &Clients,
        plan: DomainModel,
        op: &Operation,
    ) -> Result<DomainModel, Diagnostics> {
        let kiro = kiro(clients).await?;
        let arn = ProfileArn::from(plan.profile_arn.as_str());
        let domain = plan.normalized();
        let key = NaturalKey {
            type_name: Self::TYPE_NAME,
            key: domain_id(&plan.profile_arn, &domain),
            described: format!("the domain {domain} of profile {}", plan.profile_arn),
            at: AttrPath::attr(attr!(DomainModel, domain_name)),
        };
        key.claim(clients)?;
        let made = match kiro.associate_login_domain(&arn, &domain).await {
            Ok(d) => d,
            Err(e) if e.is_conflict() => {
                // On this profile already (an interrupted apply added it): taken over.
                // On another profile: that profile's, never ours to take.
                let on_this_profile = kiro
                    .get_login_domain(&arn, &domain)
                    .await
                    .map_err(|e| e.fail("read the domain"))?;
                let Some(found) = on_this_profile else {
                    return Err(Diagnostic::error(
                        "Domain already claimed",
                        format!(
                            "{e}\n{domain} is claimed by another Kiro profile; a domain \
                             belongs to one profile only."
                        ),
                    )
                    .at(AttrPath::attr(attr!(DomainModel, domain_name)))
                    .into());
                };
                key.took_over(op, &key.key);
                found
            }
            Err(e) => return Err(e.fail("add the domain")),
        };
        Ok(plan.observed(&made))
    }

    async fn read(
        &self,
        clients: &Clients,
        state: DomainModel,
    ) -> Result<Option<DomainModel>, Diagnostics> {
        let arn = ProfileArn::from(state.profile_arn.as_str());
        let found = match kiro(clients)
            .await?
            .get_login_domain(&arn, &state.normalized())
            .await
        {
            Ok(found) => found,
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.fail("read the domain")),
        };
        if found.is_none() {
            tracing::info!(domain = %state.domain_name, "domain is gone; removing it from state");
        }
        Ok(found.map(|d| state.observed(&d)))
    }

    async fn update(
        &self,
        _clients: &Clients,
        _prior: DomainModel,
        plan: DomainModel,
        _op: &Operation,
    ) -> Result<DomainModel, Diagnostics> {
        // Every argument forces replacement; only `timeouts` can change here.
        Ok(plan)
    }

    async fn delete(
        &self,
        clients: &Clients,
        state: DomainModel,
        _op: &Operation,
    ) -> Result<(), Diagnostics> {
        let arn = ProfileArn::from(state.profile_arn.as_str());
        match kiro(clients)
            .await?
            .disassociate_login_domain(&arn, &state.normalized())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.fail("remove the domain")),
        }
    }

    async fn import(&self, clients: &Clients, id: &str) -> Result<DomainModel, Diagnostics> {
        let usage = "<profile arn>|<domain>";
        let Some((arn, domain)) = id.rsplit_once('|') else {
            return Err(super::bad_import_id(id, usage));
        };
        let written = domain.to_string();
        let domain = normalize_domain(domain).map_err(|_| super::bad_import_id(id, usage))?;
        let found = kiro(clients)
            .await?
            .get_login_domain(&ProfileArn::from(arn), &domain)
            .await
            .map_err(|e| e.fail("look up the domain"))?;
        if found.is_none() {
            return Err(Diagnostic::error(
                "Cannot import: domain not found",
                format!("Profile {arn} has no domain {domain}."),
            )
            .into());
        }
        // The domain as the import ID writes it, so that it can match the
        // configuration's form.
        Ok(DomainModel {
            profile_arn: arn.to_string(),
            domain_name: written,
            ..DomainModel::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_lower_cased_and_punycoded() {
        assert_eq!(
            normalize_domain("Corp.Example.COM").unwrap(),
            "corp.example.com"
        );
        assert_eq!(normalize_domain("example.com.").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "not a domain",
            "-bad.example.com",
            "https://example.com",
            "a..b",
            "x_y.com",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
        assert!(
            normalize_domain("localhost")
                .unwrap_err()
                .contains("at least two labels")
        );
    }
}

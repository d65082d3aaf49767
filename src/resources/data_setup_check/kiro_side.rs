//! Kiro's side: the profile trusting the application (step 3), the domains (step 4) and the
//! subscriptions (step 7).

use crate::graph::{Application, GraphClient};
use crate::kiro::{
    GroupFilter, KiroClient, LoginDomain, LoginDomainStatus, PrincipalType, Profile, ProfileArn,
    ProfileStatus, UserFilter,
};
use crate::resources::kiro_domain_verification::dns_answer;

use super::{Finding, Severity, step};

/// The profile, or a finding saying why there is none.
pub(super) async fn profile(
    kiro: &KiroClient,
    arn: &ProfileArn,
    findings: &mut Vec<Finding>,
) -> Option<Profile> {
    match kiro.get_profile(arn).await {
        Ok(Some(p)) => Some(p),
        Ok(None) => {
            findings.push(Finding::error(
                step::PROFILE,
                "profile",
                format!(
                    "No Kiro profile {arn} in this account and region.",
                    arn = arn.as_str()
                ),
                "Give `profile_arn` the ARN of the profile (kiro_profile.<name>.arn), and check \
                 the provider's region.",
            ));
            None
        }
        Err(e) => {
            findings.push(Finding::unreadable(
                step::PROFILE,
                "profile",
                "the profile",
                e,
            ));
            None
        }
    }
}

pub(super) fn profile_status(profile: &Profile) -> Vec<Finding> {
    match &profile.status {
        ProfileStatus::Active => vec![],
        status => vec![Finding::new(
            step::PROFILE,
            "profile_status",
            if *status == ProfileStatus::Creating {
                Severity::Warning
            } else {
                Severity::Error
            },
            format!("The profile is {status}, not ACTIVE."),
            "Wait until the profile is ACTIVE; a DELETING profile must be created again.",
        )],
    }
}

/// The profile trusts this tenant's v2 issuer and this application's client id.
pub(super) fn profile_trust(profile: &Profile, app: &Application, issuer: &str) -> Vec<Finding> {
    let idp = &profile.identity_details.external_identity_provider_details;
    let mut findings = Vec::new();
    if idp.issuer_url.trim_end_matches('/') != issuer.trim_end_matches('/') {
        findings.push(Finding::error(
            step::PROFILE,
            "profile_issuer",
            format!(
                "The profile trusts the issuer {}, not this tenant's {issuer}, so Kiro refuses \
                 the application's tokens.",
                idp.issuer_url
            ),
            format!(
                "The issuer cannot change: replace the profile with issuer_url = \"{issuer}\" \
                 (kiro_entra_application.<name>.issuer_url)."
            ),
        ));
    }
    if !idp.client_id.eq_ignore_ascii_case(&app.app_id) {
        findings.push(Finding::error(
            step::PROFILE,
            "profile_client_id",
            format!(
                "The profile trusts the client id {}, not the application's {}.",
                idp.client_id, app.app_id
            ),
            format!(
                "The client id cannot change: replace the profile with client_id = \"{}\" \
                 (kiro_entra_application.<name>.client_id).",
                app.app_id
            ),
        ));
    }
    findings
}

/// Every wanted domain associated and verified; for one that is not, what DNS answers now.
pub(super) async fn domains(
    kiro: &KiroClient,
    arn: &ProfileArn,
    wanted: Option<&[String]>,
) -> Vec<Finding> {
    let associated = match kiro.list_login_domains(arn).await {
        Ok(d) => d,
        Err(e) => {
            return vec![Finding::unreadable(
                step::DOMAINS,
                "domain",
                "the domains",
                e,
            )];
        }
    };
    let same = |d: &LoginDomain, name: &str| {
        d.domain_name
            .trim_end_matches('.')
            .eq_ignore_ascii_case(name.trim_end_matches('.'))
    };
    let mut findings = Vec::new();
    for name in wanted.unwrap_or_default() {
        if !associated.iter().any(|d| same(d, name)) {
            findings.push(Finding::error(
                step::DOMAINS,
                "domain_missing",
                format!("The domain {name} is not added to the profile."),
                format!(
                    "Add a kiro_domain with domain_name = \"{name}\", then publish its record."
                ),
            ));
        }
    }
    let checked = associated
        .iter()
        .filter(|d| wanted.is_none_or(|w| w.iter().any(|name| same(d, name))));
    for domain in checked {
        findings.extend(domain_status(domain).await);
    }
    findings
}

async fn domain_status(domain: &LoginDomain) -> Option<Finding> {
    let severity = match domain.status {
        LoginDomainStatus::Verified => return None,
        LoginDomainStatus::Pending => Severity::Warning,
        _ => Severity::Error,
    };
    let record = &domain.verification_record;
    Some(Finding::new(
        step::DOMAINS,
        "domain_status",
        severity,
        format!(
            "The domain {} is {}, not VERIFIED: people of this domain cannot sign in. {}",
            domain.domain_name,
            domain.status,
            dns_answer(&record.name).await
        ),
        format!(
            "Publish the DNS record {} {} {:?}; a FAILED domain must then be added again \
             (replace the kiro_domain), a PENDING one verifies once Kiro sees the record.",
            record.name, record.record_type, record.value
        ),
    ))
}

/// Every subscription's principal still synced, active and still in Entra.
pub(super) async fn subscriptions(
    graph: &GraphClient,
    kiro: &KiroClient,
    arn: &ProfileArn,
) -> Vec<Finding> {
    let read = async {
        let assignments = kiro.list_assignments(arn).await?;
        let users = kiro.list_users(arn, &UserFilter::default()).await?;
        let groups = kiro.list_groups(arn, &GroupFilter::default()).await?;
        Ok::<_, crate::kiro::KiroError>((assignments, users, groups))
    };
    let (assignments, users, groups) = match read.await {
        Ok(r) => r,
        Err(e) => {
            let what = "the subscriptions and synced identities";
            return vec![Finding::unreadable(
                step::SUBSCRIPTIONS,
                "subscription",
                what,
                e,
            )];
        }
    };
    let mut findings = Vec::new();
    for a in &assignments {
        let external_id = match a.principal_type {
            PrincipalType::User => users
                .iter()
                .find(|u| u.user_id == a.principal_id && u.active)
                .map(|u| u.external_id.clone()),
            _ => groups
                .iter()
                .find(|g| g.group_id == a.principal_id)
                .map(|g| g.external_id.clone()),
        };
        let gone = match &external_id {
            None => Some(format!(
                "The {} {} is subscribed to {} but is no longer synced into Kiro (or is \
                 inactive).",
                a.principal_type, a.principal_id, a.subscription_type
            )),
            Some(id) => match graph.get_directory_object(id).await {
                Ok(None) => Some(format!(
                    "The {} {} is subscribed to {} but its Entra object {id} no longer exists.",
                    a.principal_type, a.principal_id, a.subscription_type
                )),
                Ok(Some(_)) => None,
                Err(e) => {
                    let what = format!("the Entra object {id} of a subscribed principal");
                    findings.push(Finding::unreadable(
                        step::SUBSCRIPTIONS,
                        "subscription_principal_gone",
                        &what,
                        e,
                    ));
                    None
                }
            },
        };
        if let Some(problem) = gone {
            findings.push(Finding::error(
                step::SUBSCRIPTIONS,
                "subscription_principal_gone",
                problem,
                format!(
                    "Remove the subscription (the kiro_subscription of principal {}), or \
                     subscribe the principal that replaced it.",
                    a.principal_id
                ),
            ));
        }
    }
    findings
}

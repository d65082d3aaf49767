//! Data source `kiro_setup_check`: a doctor for the whole guide. It reads the chain for one
//! application and one profile — the application's token version, identifier URI, scopes and
//! redirect URIs; the profile's issuer and client id; the domains and what DNS answers for
//! their records; the provisioning job, its mappings and who arrived in Kiro; the
//! subscriptions — and returns `ok` and one finding per broken link, each with the step of the
//! guide it belongs to and how to fix it.
//!
//! A failed read is a finding too (what could not be read, and why), not an error: in a
//! `check` block the doctor should always say something useful. Each check is one function
//! returning its findings; `read` composes them.

mod entra;
mod kiro_side;
mod provisioning;

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::managed::DataSourceDef;
use crate::framework::model::Objects;
use crate::framework::validators::not_blank;
use crate::kiro::ProfileArn;
use crate::tf_model;

use super::input_rules::profile_arn;
use super::kiro;

/// The scopes the guide exposes ("Expose an API").
pub const GUIDE_SCOPES: [&str; 2] = ["codewhisperer:completions", "codewhisperer:conversations"];

/// The redirect URIs the guide adds under "Mobile and desktop applications": where the Kiro
/// IDE receives sign-ins.
pub const GUIDE_REDIRECT_URIS: [&str; 2] = [
    "kiro://kiro.oauth/callback",
    "http://localhost/oauth/callback",
];

/// The steps of the guide, as findings name them.
mod step {
    pub const EXPOSE_API: &str = "1. Expose an API";
    pub const REDIRECT_URIS: &str = "2. Add the redirect URIs";
    pub const PROFILE: &str = "3. Connect the Kiro profile";
    pub const DOMAINS: &str = "4. Verify the company domain";
    pub const PROVISIONING: &str = "5. Set up automatic provisioning";
    pub const ASSIGNMENTS: &str = "6. Assign users and groups";
    pub const SUBSCRIPTIONS: &str = "7. Subscribe users and groups";
}

tf_model! {
    /// One broken link of the chain.
    pub struct Finding {
        /// The step of the guide it belongs to, e.g. `1. Expose an API`.
        step: String,
        /// A stable id of the check, e.g. `token_version`.
        check: String,
        /// `error`: sign-in, provisioning or a subscription fails; `warning`: not yet, or not
        /// for everyone.
        severity: String,
        /// What is wrong, with the values found.
        problem: String,
        /// How to fix it.
        fix: String,
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Finding {
    fn new(
        step: &str,
        check: &str,
        severity: Severity,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            step: step.into(),
            check: check.into(),
            severity: match severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// An error-level finding.
    fn error(step: &str, check: &str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding::new(step, check, Severity::Error, problem, fix)
    }

    /// A read that failed, so the check could not be made.
    fn unreadable(step: &str, check: &str, what: &str, error: impl std::fmt::Display) -> Self {
        Finding::error(
            step,
            check,
            format!("Could not read {what}: {error}"),
            "Make sure the identity Terraform runs as may read it (see the production \
             prerequisites guide), then plan again.",
        )
    }

    fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

tf_model! {
    pub struct SetupCheckModel {
        /// `<application>|<profile arn>`.
        id: Option<String> [computed],
        /// The Entra application Kiro signs in against: its client id or its object id.
        application: String [required, validate(not_blank())],
        /// The Kiro profile's ARN.
        profile_arn: String [required, validate(profile_arn())],
        /// The domains to check; default: every domain of the profile.
        domains: Option<Vec<String>> [optional],
        /// Object ids of the users and groups to check in Kiro; default: every user and group
        /// assigned to the enterprise application.
        principals: Option<Vec<String>> [optional],
        /// The scopes the application must expose, enabled; default: the guide's
        /// `codewhisperer:completions` and `codewhisperer:conversations`.
        scopes: Option<Vec<String>> [optional],
        /// The redirect URIs ("Mobile and desktop applications") the application must have;
        /// default: the guide's `kiro://kiro.oauth/callback` and
        /// `http://localhost/oauth/callback`.
        redirect_uris: Option<Vec<String>> [optional],
        /// True when no finding is an `error`.
        ok: Option<bool> [computed],
        /// What is broken: `step` (of the guide), `check` (a stable id such as
        /// `token_version`), `severity` (`error` or `warning`), `problem` and `fix`.
        findings: Option<Objects<Finding>> [computed],
        /// The findings as text, one per line (`[check] problem Fix: …`), for a `check`
        /// block's `error_message`; empty when there are none.
        summary: Option<String> [computed],
    }
}

/// What the checks were asked to look at.
pub(crate) struct Wanted {
    scopes: Vec<String>,
    redirect_uris: Vec<String>,
    domains: Option<Vec<String>>,
    principals: Option<Vec<String>>,
}

impl Wanted {
    fn from(config: &SetupCheckModel) -> Wanted {
        let or_guide = |given: &Option<Vec<String>>, guide: &[&str]| {
            given
                .clone()
                .unwrap_or_else(|| guide.iter().map(|s| s.to_string()).collect())
        };
        Wanted {
            scopes: or_guide(&config.scopes, &GUIDE_SCOPES),
            redirect_uris: or_guide(&config.redirect_uris, &GUIDE_REDIRECT_URIS),
            domains: config.domains.clone(),
            principals: config.principals.clone(),
        }
    }
}

/// The findings as lines of text.
fn summary(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("[{}] {} Fix: {}", f.check, f.problem, f.fix))
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct SetupCheck;

#[async_trait]
impl DataSourceDef<Clients> for SetupCheck {
    type Model = SetupCheckModel;
    const TYPE_NAME: &'static str = "kiro_setup_check";
    const DESCRIPTION: &'static str = "Checks the whole guide for one application and one \
        profile, link by link, and says what is broken and how to fix it. Use it in a `check` \
        block so that `terraform plan` warns.";

    async fn read(
        &self,
        clients: &Clients,
        config: SetupCheckModel,
    ) -> Result<SetupCheckModel, Diagnostics> {
        let wanted = Wanted::from(&config);
        let arn = ProfileArn(config.profile_arn.clone());
        let kiro = kiro(clients).await?;
        let mut findings = Vec::new();
        let app = entra::application(&clients.graph, &config.application, &mut findings).await;
        let profile = kiro_side::profile(kiro, &arn, &mut findings).await;
        if let Some(app) = &app {
            findings.extend(entra::token_version(&app.application));
            findings.extend(entra::identifier_uri(&app.application));
            findings.extend(entra::scopes(&app.application, &wanted.scopes));
            findings.extend(entra::redirect_uris(
                &app.application,
                &wanted.redirect_uris,
            ));
        }
        if let Some(profile) = &profile {
            findings.extend(kiro_side::profile_status(profile));
            if let Some(app) = &app {
                let issuer = clients.issuer_url();
                findings.extend(kiro_side::profile_trust(profile, &app.application, &issuer));
            }
            findings.extend(kiro_side::domains(kiro, &arn, wanted.domains.as_deref()).await);
        }
        let sp = app.as_ref().and_then(|a| a.service_principal.as_ref());
        if let (Some(sp), Some(profile)) = (sp, &profile) {
            let graph = &clients.graph;
            findings.extend(provisioning::job(graph, &sp.id, profile).await);
            let scope = wanted.principals.as_deref();
            findings.extend(provisioning::principals(graph, kiro, &sp.id, &arn, scope).await);
        }
        if profile.is_some() {
            findings.extend(kiro_side::subscriptions(&clients.graph, kiro, &arn).await);
        }
        Ok(SetupCheckModel {
            id: Some(format!("{}|{}", config.application, config.profile_arn)),
            ok: Some(!findings.iter().any(Finding::is_error)),
            summary: Some(summary(&findings)),
            findings: Some(Objects(findings)),
            ..config
        })
    }
}

#[cfg(test)]
mod tests;

//! Resources and data sources, one file each: model, schema, CRUD and
//! import, on the typed layer of `framework::managed`.

pub mod data_entra_group;
pub mod data_entra_user;
pub mod data_kiro_group;
pub mod data_kiro_profile;
pub mod data_kiro_user;
pub mod data_setup_check;
pub mod entra_api_scope;
pub mod entra_application;
pub mod entra_assignment;
pub mod entra_provisioning;
mod entra_provisioning_job;
mod entra_provisioning_mappings;
mod entra_provisioning_secret;
pub mod entra_redirect_uri;
pub mod input_rules;
pub mod kiro_access_token;
pub mod kiro_domain;
pub mod kiro_domain_verification;
pub mod kiro_profile;
pub mod kiro_subscription;
mod take_over;
mod token_expiry;
pub mod uri_rules;

use std::sync::Arc;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::{Managed, Query};
use crate::framework::resource::{DataSource, Resource};
use crate::graph::error::GraphError;
use crate::kiro::{KiroClient, KiroError};

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(Managed(entra_application::EntraApplication)),
        Arc::new(Managed(entra_api_scope::EntraApiScope)),
        Arc::new(Managed(entra_redirect_uri::EntraRedirectUri)),
        Arc::new(Managed(entra_assignment::EntraAssignment)),
        Arc::new(Managed(entra_provisioning::EntraProvisioning)),
        Arc::new(Managed(kiro_profile::KiroProfile)),
        Arc::new(Managed(kiro_domain::KiroDomain)),
        Arc::new(Managed(kiro_domain_verification::KiroDomainVerification)),
        Arc::new(Managed(kiro_access_token::KiroAccessToken)),
        Arc::new(Managed(kiro_subscription::KiroSubscription)),
    ]
}

pub fn all_data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![
        Arc::new(Query(data_entra_user::EntraUser)),
        Arc::new(Query(data_entra_group::EntraGroup)),
        Arc::new(Query(data_kiro_profile::KiroProfileLookup)),
        Arc::new(Query(data_kiro_user::KiroUserLookup)),
        Arc::new(Query(data_kiro_group::KiroGroupLookup)),
        Arc::new(Query(data_setup_check::SetupCheck)),
    ]
}

/// Graph property names (as error `details[].target` gives them) and the
/// attribute each one belongs to.
pub type Targets = &'static [(&'static str, &'static str)];

/// A Graph failure as a diagnostic: what we were doing, then Graph's code,
/// message and request-id (what Microsoft support asks for).
pub(crate) trait GraphFailure {
    fn fail(self, doing: &str) -> Diagnostics;
    /// Like `fail`, but on the attribute whose Graph property the error
    /// names, so Terraform points at the line of configuration.
    fn fail_at(self, doing: &str, targets: Targets) -> Diagnostics;
}

impl GraphFailure for GraphError {
    fn fail(self, doing: &str) -> Diagnostics {
        Diagnostic::error(format!("Failed to {doing}"), self.to_string()).into()
    }

    fn fail_at(self, doing: &str, targets: Targets) -> Diagnostics {
        let attribute = self.targets().into_iter().find_map(|target| {
            targets
                .iter()
                .find(|(property, _)| property.eq_ignore_ascii_case(target))
                .map(|(_, attribute)| *attribute)
        });
        let diagnostic = Diagnostic::error(format!("Failed to {doing}"), self.to_string());
        match attribute {
            Some(a) => diagnostic.at(AttrPath::attr(a)).into(),
            None => diagnostic.into(),
        }
    }
}

/// The Kiro client, built on first use (the AWS credential chain and region
/// are consulted only when a Kiro resource needs them).
pub(crate) async fn kiro(clients: &Clients) -> Result<&KiroClient, Diagnostics> {
    clients.kiro().await.map_err(|e| {
        Diagnostic::error(
            "Cannot set up the Kiro API client",
            format!(
                "{e}\nKiro resources need AWS credentials (the standard chain: environment, shared \
                 files, SSO, web identity, instance role) and the profile's region (the provider's \
                 `region`, or AWS_REGION)."
            ),
        )
        .into()
    })
}

/// A Kiro API failure as a diagnostic: what we were doing, then the
/// service's error type, message and request id.
pub(crate) trait KiroFailure {
    fn fail(self, doing: &str) -> Diagnostics;
}

impl KiroFailure for KiroError {
    fn fail(self, doing: &str) -> Diagnostics {
        Diagnostic::error(format!("Failed to {doing}"), self.to_string()).into()
    }
}

/// The application a sub-resource (scope, redirect URI) names does not exist.
pub(crate) fn application_missing(application_id: &str, attribute: &str) -> Diagnostics {
    Diagnostic::error(
        "Application not found",
        format!("No application with object id {application_id} exists in this tenant."),
    )
    .at(AttrPath::attr(attribute))
    .into()
}

/// Splits an import ID of the form `a/b/…` into exactly `N` non-empty parts;
/// the last part keeps any further slashes (a redirect URI has them).
pub(crate) fn import_parts<const N: usize>(
    id: &str,
    usage: &str,
) -> Result<[String; N], Diagnostics> {
    let parts: Vec<String> = id.splitn(N, '/').map(str::to_string).collect();
    match <[String; N]>::try_from(parts) {
        Ok(parts) if parts.iter().all(|p| !p.is_empty()) => Ok(parts),
        _ => Err(bad_import_id(id, usage)),
    }
}

pub(crate) fn bad_import_id(id: &str, usage: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid import ID",
        format!("{id:?} is not an import ID of this resource; use {usage}."),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_split_into_parts() {
        let [a, b, c] =
            import_parts::<3>("app/public_client/kiro://kiro.oauth/callback", "x").unwrap();
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("app", "public_client", "kiro://kiro.oauth/callback")
        );
        assert!(import_parts::<2>("only", "x").is_err());
        assert!(import_parts::<2>("a/", "x").is_err());
        let err = import_parts::<2>("", "<sp id>/<assignment id>").unwrap_err();
        assert!(err.0[0].detail.contains("<sp id>/<assignment id>"));
    }
}

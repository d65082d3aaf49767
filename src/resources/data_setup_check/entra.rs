//! The application's side of sign-in: steps 1 and 2 of the guide.

use crate::graph::{Application, GraphClient, Platform, ServicePrincipal};
use crate::resources::entra_application::{default_identifier_uri, token_version as version_of};

use super::{Finding, step};

/// The application and its enterprise application, as read.
pub(super) struct App {
    pub application: Application,
    pub service_principal: Option<ServicePrincipal>,
}

/// The application named by client id or object id, and its service principal; a finding
/// when either is missing or cannot be read.
pub(super) async fn application(
    graph: &GraphClient,
    client_or_object_id: &str,
    findings: &mut Vec<Finding>,
) -> Option<App> {
    let found = match graph.get_application(client_or_object_id).await {
        Ok(None) => graph.get_application_by_app_id(client_or_object_id).await,
        other => other,
    };
    let application = match found {
        Ok(Some(app)) => app,
        Ok(None) => {
            findings.push(Finding::error(
                step::EXPOSE_API,
                "application",
                format!(
                    "No application has the client id or object id {client_or_object_id} in \
                     this tenant."
                ),
                "Give `application` the client id (or object id) of the app registration Kiro \
                 signs in against (kiro_entra_application.<name>.client_id).",
            ));
            return None;
        }
        Err(e) => {
            findings.push(Finding::unreadable(
                step::EXPOSE_API,
                "application",
                "the application",
                e,
            ));
            return None;
        }
    };
    let service_principal = match graph
        .find_service_principal_by_app_id(&application.app_id)
        .await
    {
        Ok(Some(sp)) => Some(sp),
        Ok(None) => {
            findings.push(Finding::error(
                step::PROVISIONING,
                "service_principal",
                format!(
                    "The application {} has no enterprise application (service principal), so \
                     nobody can be assigned or provisioned.",
                    application.app_id
                ),
                "Create the application from the non-gallery template (kiro_entra_application \
                 does), or add its enterprise application in the portal.",
            ));
            None
        }
        Err(e) => {
            let what = "the enterprise application";
            findings.push(Finding::unreadable(
                step::PROVISIONING,
                "service_principal",
                what,
                e,
            ));
            None
        }
    };
    Some(App {
        application,
        service_principal,
    })
}

/// Kiro trusts the v2 issuer: v1 tokens carry `sts.windows.net` and are refused.
pub(super) fn token_version(app: &Application) -> Vec<Finding> {
    let version = version_of(app);
    if version == 2 {
        return vec![];
    }
    vec![Finding::error(
        step::EXPOSE_API,
        "token_version",
        format!(
            "The application's requested access token version is {version}; Kiro accepts only \
             version 2 tokens (issuer https://login.microsoftonline.com/<tenant>/v2.0), so \
             sign-in fails."
        ),
        "Set requested_access_token_version = 2 on kiro_entra_application (in the portal: \
         Manifest, \"requestedAccessTokenVersion\": 2).",
    )]
}

/// The scopes need an Application ID URI to be named by.
pub(super) fn identifier_uri(app: &Application) -> Vec<Finding> {
    if !app.identifier_uris.is_empty() {
        return vec![];
    }
    vec![Finding::error(
        step::EXPOSE_API,
        "identifier_uri",
        "The application has no Application ID URI, so its scopes cannot be requested.",
        format!(
            "Set identifier_uri on kiro_entra_application (default {}), or in the portal: \
             Expose an API, Application ID URI, Add.",
            default_identifier_uri(&app.app_id)
        ),
    )]
}

/// Every wanted scope exposed and enabled.
pub(super) fn scopes(app: &Application, wanted: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for value in wanted {
        let scope = app
            .scopes()
            .iter()
            .find(|s| s.value.as_deref() == Some(value.as_str()));
        match scope {
            None => findings.push(Finding::error(
                step::EXPOSE_API,
                "scope_missing",
                format!("The application does not expose the scope {value}."),
                format!(
                    "Add a kiro_entra_api_scope with value = \"{value}\" (in the portal: Expose \
                     an API, Add a scope)."
                ),
            )),
            Some(s) if !s.is_enabled => findings.push(Finding::error(
                step::EXPOSE_API,
                "scope_disabled",
                format!("The scope {value} is disabled, so Kiro cannot request it."),
                format!(
                    "Set enabled = true on the kiro_entra_api_scope of {value} (in the portal: \
                     Expose an API, the scope, State: Enabled)."
                ),
            )),
            Some(_) => {}
        }
    }
    findings
}

/// Every wanted redirect URI under "Mobile and desktop applications".
pub(super) fn redirect_uris(app: &Application, wanted: &[String]) -> Vec<Finding> {
    let present = app.redirect_uris(Platform::PublicClient);
    wanted
        .iter()
        .filter(|uri| !present.iter().any(|p| p == *uri))
        .map(|uri| {
            Finding::error(
                step::REDIRECT_URIS,
                "redirect_uri",
                format!(
                    "The redirect URI {uri} is missing under \"Mobile and desktop \
                     applications\", so the Kiro IDE cannot receive the sign-in."
                ),
                format!(
                    "Add a kiro_entra_redirect_uri with uri = \"{uri}\" (platform \
                     public_client; in the portal: Authentication, Mobile and desktop \
                     applications)."
                ),
            )
        })
        .collect()
}

//! Reads every piece of the guide that exists, through the provider's clients, into a
//! [`Setup`]: what each resource's import will read, so the configuration written from it
//! plans clean.

use std::collections::BTreeMap;

use crate::clients::Clients;
use crate::framework::model::Blocks;
use crate::framework::validators::is_guid;
use crate::graph::applications::{Application, Platform, TEMPLATE_SCOPE_VALUE};
use crate::graph::client::GraphClient;
use crate::graph::error::GraphError;
use crate::kiro::wire::{AssignmentStatus, GroupFilter, Profile, ProfileArn, UserFilter};
use crate::kiro::{KiroClient, KiroError};
use crate::resources::entra_application::{default_identifier_uri, token_version};
use crate::resources::entra_provisioning_mappings as mappings;

use super::{
    AdoptError, FoundApplication, FoundAssignment, FoundMapping, FoundProfile, FoundProvisioning,
    FoundRedirectUri, FoundScope, FoundSubscription, Setup,
};

/// What to look for: the application by object id, client id or display name; the profile
/// by ARN or name, or (when `None`) the one profile that trusts the application.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub application: String,
    pub profile: Option<String>,
}

fn graph_err(doing: &str) -> impl FnOnce(GraphError) -> AdoptError + '_ {
    move |source| AdoptError::Graph {
        doing: doing.to_string(),
        source,
    }
}

fn kiro_err(doing: &str) -> impl FnOnce(KiroError) -> AdoptError + '_ {
    move |source| AdoptError::Kiro {
        doing: doing.to_string(),
        source,
    }
}

/// Finds the application and everything of the guide hanging off it.
pub async fn discover(clients: &Clients, lookup: &Lookup) -> Result<Setup, AdoptError> {
    let graph = &clients.graph;
    let app = find_application(graph, &lookup.application).await?;
    let sp = graph
        .find_service_principal_by_app_id(&app.app_id)
        .await
        .map_err(graph_err("look up the enterprise application"))?
        .ok_or_else(|| {
            AdoptError::NotFound(format!(
                "Application {} (client id {}) has no enterprise application (service \
                 principal); the guide makes one with the application.",
                app.id, app.app_id
            ))
        })?;
    let application = FoundApplication {
        object_id: app.id.clone(),
        client_id: app.app_id.clone(),
        display_name: app.display_name.clone(),
        service_principal_id: sp.id.clone(),
        token_version: token_version(&app),
        identifier_uri: identifier_uri(&app),
        identifier_uri_missing: app.identifier_uris.is_empty(),
        keep_default_scope: app
            .scopes()
            .iter()
            .any(|s| s.value.as_deref() == Some(TEMPLATE_SCOPE_VALUE)),
        assignment_required: sp.app_role_assignment_required,
        tenant_id: clients.tenant_id.clone(),
        issuer_url: clients.issuer_url(),
    };
    let assignments = assignments(graph, &sp.id).await?;
    let provisioning = provisioning(graph, &sp.id).await?;
    let kiro = clients
        .kiro()
        .await
        .map_err(kiro_err("set up the Kiro client"))?;
    let profile = find_profile(kiro, lookup.profile.as_deref(), &app.app_id).await?;
    let (domains, subscriptions) = match &profile {
        Some(p) => {
            let arn = ProfileArn::from(p.arn.clone());
            (domains(kiro, &arn).await?, subscriptions(kiro, &arn).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Setup {
        scopes: scopes(&app),
        redirect_uris: redirect_uris(&app),
        application,
        assignments,
        provisioning,
        profile,
        domains,
        subscriptions,
    })
}

/// The identifier URI when it is not the portal's default (several show joined, as the
/// resource reads them).
fn identifier_uri(app: &Application) -> Option<String> {
    let default = default_identifier_uri(&app.app_id);
    match app.identifier_uris.as_slice() {
        [only] if *only == default => None,
        [] => None,
        uris => Some(uris.join(", ")),
    }
}

async fn find_application(graph: &GraphClient, wanted: &str) -> Result<Application, AdoptError> {
    let doing = "look up the application";
    if is_guid(wanted) {
        if let Some(app) = graph
            .get_application(wanted)
            .await
            .map_err(graph_err(doing))?
        {
            return Ok(app);
        }
        if let Some(app) = graph
            .get_application_by_app_id(wanted)
            .await
            .map_err(graph_err(doing))?
        {
            return Ok(app);
        }
    }
    let mut named = graph
        .list_applications_by_display_name(wanted)
        .await
        .map_err(graph_err(doing))?;
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(AdoptError::NotFound(format!(
            "No application has the object id, client id or display name {wanted:?}."
        ))),
        _ => Err(AdoptError::NotFound(format!(
            "Several applications are named {wanted:?}; name one by its object id or client \
             id:\n{}",
            named
                .iter()
                .map(|a| format!("  object id {} (client id {})", a.id, a.app_id))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

/// The scopes other than the template's own (that one is `keep_default_scope`).
fn scopes(app: &Application) -> Vec<FoundScope> {
    let mut found: Vec<FoundScope> = app
        .scopes()
        .iter()
        .filter(|s| s.value.as_deref() != Some(TEMPLATE_SCOPE_VALUE))
        .map(|s| FoundScope {
            id: s.id.clone(),
            value: s.value.clone().unwrap_or_default(),
            kind: s.kind.clone().unwrap_or_else(|| "User".into()),
            enabled: s.is_enabled,
            admin_consent_display_name: s.admin_consent_display_name.clone(),
            admin_consent_description: s.admin_consent_description.clone(),
            user_consent_display_name: s.user_consent_display_name.clone(),
            user_consent_description: s.user_consent_description.clone(),
        })
        .collect();
    found.sort_by(|a, b| (&a.value, &a.id).cmp(&(&b.value, &b.id)));
    found
}

fn redirect_uris(app: &Application) -> Vec<FoundRedirectUri> {
    Platform::ALL
        .into_iter()
        .flat_map(|p| {
            let mut uris = app.redirect_uris(p).to_vec();
            uris.sort();
            uris.into_iter().map(move |uri| FoundRedirectUri {
                platform: p.as_str().to_string(),
                uri,
            })
        })
        .collect()
}

async fn assignments(graph: &GraphClient, sp_id: &str) -> Result<Vec<FoundAssignment>, AdoptError> {
    let listed = graph
        .list_app_role_assignments(sp_id)
        .await
        .map_err(graph_err("list the enterprise application's assignments"))?;
    let mut found: Vec<FoundAssignment> = listed
        .into_iter()
        .map(|a| FoundAssignment {
            id: a.id,
            principal_id: a.principal_id,
            principal_type: a.principal_type.unwrap_or_default(),
            principal_display_name: a.principal_display_name.unwrap_or_default(),
            app_role_id: a.app_role_id,
        })
        .collect();
    found.sort_by(|a, b| {
        (&a.principal_display_name, &a.id).cmp(&(&b.principal_display_name, &b.id))
    });
    Ok(found)
}

/// The provisioning job, as `kiro_entra_provisioning`'s import and read see it.
async fn provisioning(
    graph: &GraphClient,
    sp_id: &str,
) -> Result<Option<FoundProvisioning>, AdoptError> {
    let jobs = graph
        .list_sync_jobs(sp_id)
        .await
        .map_err(graph_err("list the provisioning jobs"))?;
    let job = match jobs.as_slice() {
        [] => return Ok(None),
        [job] => job,
        many => {
            return Err(AdoptError::NotFound(format!(
                "The enterprise application {sp_id} has {} provisioning jobs; \
                 kiro_entra_provisioning manages one. Delete the extra ones in the portal.",
                many.len()
            )));
        }
    };
    let secrets = graph
        .get_sync_secrets(sp_id)
        .await
        .map_err(graph_err("read the provisioning credentials"))?;
    let saved = |key: &str| {
        secrets
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let schema = graph
        .get_sync_schema(sp_id, &job.id)
        .await
        .map_err(graph_err("read the provisioning mappings"))?;
    let schedule = job.schedule.as_ref().and_then(|s| s.state.clone());
    let mappings = mappings::observe(&schema, &Blocks(Vec::new()))
        .0
        .into_iter()
        .map(|b| FoundMapping {
            object: b.object,
            target_attribute: b.target_attribute,
            source_attribute: b.source_attribute,
            expression: b.expression,
        })
        .collect();
    Ok(Some(FoundProvisioning {
        tenant_url: saved("BaseAddress").unwrap_or_default(),
        enabled: schedule.is_some_and(|s| s.eq_ignore_ascii_case("Active")),
        sync_scope: match saved("SyncAll") {
            Some(v) if v.eq_ignore_ascii_case("true") => "all".into(),
            _ => "assigned".into(),
        },
        remove_unsupported_mappings: mappings::observed_remove_unsupported(true, &schema),
        mappings,
    }))
}

/// The profile named (by ARN or name), or the one profile whose identity provider is the
/// application; `None` when nothing was named and no profile trusts it.
async fn find_profile(
    kiro: &KiroClient,
    wanted: Option<&str>,
    client_id: &str,
) -> Result<Option<FoundProfile>, AdoptError> {
    let profiles = kiro
        .list_profiles()
        .await
        .map_err(kiro_err("list the Kiro profiles"))?;
    let client = |p: &Profile| {
        p.identity_details
            .external_identity_provider_details
            .client_id
            .clone()
    };
    let mut matching: Vec<Profile> = profiles
        .into_iter()
        .filter(|p| match wanted {
            Some(w) => p.arn.as_str() == w || p.profile_name == w,
            None => client(p).eq_ignore_ascii_case(client_id),
        })
        .collect();
    match (matching.len(), wanted) {
        (1, _) => Ok(Some(found_profile(matching.remove(0)))),
        (0, None) => Ok(None),
        (0, Some(w)) => Err(AdoptError::NotFound(format!(
            "No Kiro profile in this account and region has the ARN or name {w:?}."
        ))),
        (_, _) => Err(AdoptError::NotFound(format!(
            "Several Kiro profiles match ({}); name one with --profile <ARN>.",
            matching
                .iter()
                .map(|p| p.arn.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn found_profile(p: Profile) -> FoundProfile {
    let idp = p.identity_details.external_identity_provider_details;
    FoundProfile {
        arn: p.arn.to_string(),
        name: p.profile_name,
        description: p.description,
        issuer_url: idp.issuer_url,
        client_id: idp.client_id,
        tenant_id: idp.tenant_id,
        tags: p.tags.into_iter().map(|t| (t.key, t.value)).collect(),
        scim_endpoint: idp.scim_endpoint,
    }
}

async fn domains(kiro: &KiroClient, arn: &ProfileArn) -> Result<Vec<String>, AdoptError> {
    let mut names: Vec<String> = kiro
        .list_login_domains(arn)
        .await
        .map_err(kiro_err("list the profile's domains"))?
        .into_iter()
        .map(|d| d.domain_name)
        .collect();
    names.sort();
    Ok(names)
}

/// The profile's subscriptions in force, each with the Entra object id its principal was
/// provisioned with.
async fn subscriptions(
    kiro: &KiroClient,
    arn: &ProfileArn,
) -> Result<Vec<FoundSubscription>, AdoptError> {
    let assignments = kiro
        .list_assignments(arn)
        .await
        .map_err(kiro_err("list the profile's subscriptions"))?;
    let users = kiro
        .list_users(arn, &UserFilter::default())
        .await
        .map_err(kiro_err("list the profile's users"))?;
    let groups = kiro
        .list_groups(arn, &GroupFilter::default())
        .await
        .map_err(kiro_err("list the profile's groups"))?;
    let principals: BTreeMap<&str, (&str, &str)> = users
        .iter()
        .map(|u| {
            (
                u.user_id.as_str(),
                (u.external_id.as_str(), u.user_name.as_str()),
            )
        })
        .chain(groups.iter().map(|g| {
            let names = (g.external_id.as_str(), g.display_name.as_str());
            (g.group_id.as_str(), names)
        }))
        .collect();
    let mut found: Vec<FoundSubscription> = assignments
        .into_iter()
        .filter(|a| a.status == AssignmentStatus::Active)
        .map(|a| {
            let (external_id, name) = principals
                .get(a.principal_id.as_str())
                .copied()
                .unwrap_or(("", ""));
            FoundSubscription {
                principal_type: a.principal_type.to_string(),
                external_id: (!external_id.is_empty()).then(|| external_id.to_string()),
                principal_name: name.to_string(),
                principal_id: a.principal_id,
                plan: a.subscription_type.to_string(),
            }
        })
        .collect();
    found.sort_by(|a, b| {
        (&a.principal_name, &a.principal_id).cmp(&(&b.principal_name, &b.principal_id))
    });
    Ok(found)
}

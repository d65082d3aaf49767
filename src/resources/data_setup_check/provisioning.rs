//! Automatic provisioning (step 5) and who arrived in Kiro (step 6).

use crate::graph::directory::MemberKind;
use crate::graph::{GraphClient, SyncJob, SyncObject, SyncSchema};
use crate::kiro::scim_rules::rejects_user_attribute;
use crate::kiro::{
    Group as KiroGroup, GroupFilter, KiroClient, KiroError, Profile, ProfileArn, User as KiroUser,
    UserFilter,
};
use crate::resources::entra_provisioning_mappings::{DEFAULT_SOURCE, DEFAULT_TARGET};

use super::{Finding, Severity, step};

const RESTART: &str = "After fixing the cause, restart provisioning (in the portal: \
    Provisioning, Restart provisioning; or apply kiro_entra_provisioning again).";

/// The job: there is one, it runs, it is not quarantined, its last cycle succeeded, it sends
/// to the profile's SCIM endpoint, and its mappings are what Kiro accepts.
pub(super) async fn job(graph: &GraphClient, sp_id: &str, profile: &Profile) -> Vec<Finding> {
    let job = match graph.list_sync_jobs(sp_id).await {
        Ok(jobs) => jobs.into_iter().next(),
        Err(e) => {
            let what = "the provisioning job";
            return vec![Finding::unreadable(
                step::PROVISIONING,
                "provisioning_job",
                what,
                e,
            )];
        }
    };
    let Some(job) = job else {
        return vec![Finding::error(
            step::PROVISIONING,
            "provisioning_job",
            "The enterprise application has no provisioning job: nobody is sent to Kiro.",
            "Add kiro_entra_provisioning with tenant_url = the profile's scim_endpoint (in the \
             portal: Provisioning, Automatic).",
        )];
    };
    let mut findings = job_findings(&job);
    findings.extend(tenant_url(graph, sp_id, profile).await);
    match graph.get_sync_schema(sp_id, &job.id).await {
        Ok(schema) => findings.extend(mappings(&schema)),
        Err(e) => findings.push(Finding::unreadable(
            step::PROVISIONING,
            "mapping",
            "the attribute mappings",
            e,
        )),
    }
    findings
}

/// What the job's own status says: its state, quarantine and last cycle.
pub(super) fn job_findings(job: &SyncJob) -> Vec<Finding> {
    let mut findings = job_state(job);
    findings.extend(quarantine(job));
    findings.extend(last_cycle(job));
    findings
}

fn job_state(job: &SyncJob) -> Vec<Finding> {
    let state = job.schedule.as_ref().and_then(|s| s.state.as_deref());
    if state == Some("Active") {
        return vec![];
    }
    vec![Finding::error(
        step::PROVISIONING,
        "provisioning_state",
        format!(
            "The provisioning job is {}, not running: changes in Entra do not reach Kiro.",
            state.unwrap_or("without a schedule")
        ),
        "Set enabled = true on kiro_entra_provisioning (in the portal: Provisioning, \
         Provisioning Status: On).",
    )]
}

fn quarantine(job: &SyncJob) -> Vec<Finding> {
    let Some(q) = job.status.as_ref().and_then(|s| s.quarantine.as_ref()) else {
        return vec![];
    };
    let error = q.error.as_ref();
    vec![Finding::error(
        step::PROVISIONING,
        "provisioning_quarantine",
        format!(
            "The provisioning job is in quarantine ({}): {} {}",
            q.reason.as_deref().unwrap_or("no reason given"),
            error.and_then(|e| e.code.as_deref()).unwrap_or_default(),
            error.and_then(|e| e.message.as_deref()).unwrap_or_default(),
        ),
        format!(
            "Most often the SCIM token was revoked or expired: rotate it (change \
             rotation_triggers of kiro_scim_token) so that Test Connection passes. {RESTART}"
        ),
    )]
}

fn last_cycle(job: &SyncJob) -> Vec<Finding> {
    let Some(last) = job.status.as_ref().and_then(|s| s.last_execution.as_ref()) else {
        return vec![];
    };
    let state = last.state.as_deref().unwrap_or_default();
    let severity = match state {
        "Succeeded" | "" => return vec![],
        "EntryLevelErrors" => Severity::Warning,
        _ => Severity::Error,
    };
    let error = last.error.as_ref();
    vec![Finding::new(
        step::PROVISIONING,
        "provisioning_last_cycle",
        severity,
        format!(
            "The last provisioning cycle (began {}) ended {state}: {} {}",
            last.time_began.as_deref().unwrap_or("at an unknown time"),
            error.and_then(|e| e.code.as_deref()).unwrap_or_default(),
            error.and_then(|e| e.message.as_deref()).unwrap_or_default(),
        ),
        format!(
            "Read the provisioning logs of the enterprise application for the users it \
             names. {RESTART}"
        ),
    )]
}

/// The saved Tenant URL is the profile's SCIM endpoint.
async fn tenant_url(graph: &GraphClient, sp_id: &str, profile: &Profile) -> Vec<Finding> {
    let secrets = match graph.get_sync_secrets(sp_id).await {
        Ok(s) => s,
        Err(e) => {
            let what = "the provisioning credentials";
            return vec![Finding::unreadable(
                step::PROVISIONING,
                "tenant_url",
                what,
                e,
            )];
        }
    };
    let endpoint = &profile
        .identity_details
        .external_identity_provider_details
        .scim_endpoint;
    let saved = secrets
        .iter()
        .find(|(k, _)| k == "BaseAddress")
        .map(|(_, v)| v);
    if saved.is_some_and(|s| s.trim_end_matches('/') == endpoint.trim_end_matches('/')) {
        return vec![];
    }
    vec![Finding::error(
        step::PROVISIONING,
        "tenant_url",
        format!(
            "Provisioning sends to {}, not to the profile's SCIM endpoint {endpoint}.",
            saved.map_or("no Tenant URL", String::as_str)
        ),
        format!("Set tenant_url = \"{endpoint}\" on kiro_entra_provisioning."),
    )]
}

/// The user mappings Kiro rejects, and `externalId` from `objectId`.
pub(super) fn mappings(schema: &SyncSchema) -> Vec<Finding> {
    let mut findings: Vec<Finding> = schema
        .mappings(SyncObject::User)
        .iter()
        .filter(|m| rejects_user_attribute(&m.target_attribute_name))
        .map(|m| {
            Finding::error(
                step::PROVISIONING,
                "mapping_rejected",
                format!(
                    "Users are sent with {}, which Kiro rejects: their provisioning fails.",
                    m.target_attribute_name
                ),
                format!(
                    "Remove the mapping of {} (remove_unsupported_mappings = true on \
                     kiro_entra_provisioning, the default; in the portal: Provisioning, \
                     Mappings, Users, Delete). {RESTART}",
                    m.target_attribute_name
                ),
            )
        })
        .collect();
    let external_id = schema.mapping(SyncObject::User, DEFAULT_TARGET);
    let source = external_id.and_then(|m| m.source.name.as_deref());
    if source != Some(DEFAULT_SOURCE) {
        findings.push(Finding::error(
            step::PROVISIONING,
            "mapping_external_id",
            format!(
                "Users' externalId comes from {}, not objectId: Kiro cannot match people to \
                 their Entra accounts, and subscriptions by external_id find nobody.",
                external_id
                    .and_then(|m| m.source.expression.as_deref())
                    .unwrap_or("nothing")
            ),
            format!(
                "Map externalId from [objectId] (kiro_entra_provisioning does so unless an \
                 attribute_mapping says otherwise). {RESTART}"
            ),
        ));
    }
    findings
}

/// Who is expected in Kiro: a user or group, by object id, with what Kiro may know it by.
pub(super) struct Expected {
    pub kind: MemberKind,
    pub object_id: String,
    /// The user principal name or group display name.
    pub name: String,
    /// The group that brought a member, for the problem's wording.
    pub via: Option<String>,
}

/// Every assigned user and group (or those of `only`), and each assigned group's direct
/// user members, arrived in Kiro with `externalId` = their object id.
pub(super) async fn principals(
    graph: &GraphClient,
    kiro: &KiroClient,
    sp_id: &str,
    arn: &ProfileArn,
    only: Option<&[String]>,
) -> Vec<Finding> {
    let expected = match expected(graph, sp_id, only).await {
        Ok(e) => e,
        Err(e) => {
            let what = "the assigned users and groups";
            return vec![Finding::unreadable(
                step::ASSIGNMENTS,
                "assignment",
                what,
                e,
            )];
        }
    };
    let synced = async {
        let users = kiro.list_users(arn, &UserFilter::default()).await?;
        let groups = kiro.list_groups(arn, &GroupFilter::default()).await?;
        Ok::<_, KiroError>((users, groups))
    };
    let (users, groups) = match synced.await {
        Ok(s) => s,
        Err(e) => {
            let what = "the users and groups synced into Kiro";
            return vec![Finding::unreadable(
                step::ASSIGNMENTS,
                "assignment",
                what,
                e,
            )];
        }
    };
    expected
        .iter()
        .filter_map(|e| arrival(e, &users, &groups))
        .collect()
}

/// The assigned principals (or `only`), and the direct user members of the groups.
async fn expected(
    graph: &GraphClient,
    sp_id: &str,
    only: Option<&[String]>,
) -> Result<Vec<Expected>, crate::graph::GraphError> {
    let mut expected = Vec::new();
    for a in graph.list_app_role_assignments(sp_id).await? {
        if only.is_some_and(|o| !o.iter().any(|id| id.eq_ignore_ascii_case(&a.principal_id))) {
            continue;
        }
        let name = a.principal_display_name.clone().unwrap_or_default();
        match a.principal_type.as_deref() {
            Some("User") => {
                let upn = graph.get_user(&a.principal_id).await?;
                let upn = upn.and_then(|u| u.user_principal_name).unwrap_or(name);
                expected.push(Expected {
                    kind: MemberKind::User,
                    object_id: a.principal_id,
                    name: upn,
                    via: None,
                });
            }
            Some("Group") => {
                for m in graph.list_group_members(&a.principal_id).await? {
                    if m.kind() == MemberKind::User {
                        expected.push(Expected {
                            kind: MemberKind::User,
                            name: m.user_principal_name.unwrap_or_default(),
                            object_id: m.id,
                            via: Some(name.clone()),
                        });
                    }
                }
                expected.push(Expected {
                    kind: MemberKind::Group,
                    object_id: a.principal_id,
                    name,
                    via: None,
                });
            }
            _ => {}
        }
    }
    Ok(expected)
}

/// A finding when `e` is not in Kiro, or is there under another `externalId`.
pub(super) fn arrival(e: &Expected, users: &[KiroUser], groups: &[KiroGroup]) -> Option<Finding> {
    let (kind, external_ids): (&str, Vec<(&str, bool)>) = match e.kind {
        MemberKind::User => (
            "user",
            users
                .iter()
                .filter(|u| u.active)
                .map(|u| {
                    (
                        u.external_id.as_str(),
                        u.user_name.eq_ignore_ascii_case(&e.name),
                    )
                })
                .collect(),
        ),
        _ => (
            "group",
            groups
                .iter()
                .map(|g| (g.external_id.as_str(), g.display_name == e.name))
                .collect(),
        ),
    };
    if external_ids
        .iter()
        .any(|(id, _)| id.eq_ignore_ascii_case(&e.object_id))
    {
        return None;
    }
    let who = match &e.via {
        Some(group) => format!("The {kind} {} (member of {group}, {})", e.name, e.object_id),
        None => format!("The assigned {kind} {} ({})", e.name, e.object_id),
    };
    let other = external_ids.iter().find(|(_, same_name)| *same_name);
    Some(match other {
        Some((id, _)) => Finding::error(
            step::ASSIGNMENTS,
            "external_id_mismatch",
            format!("{who} arrived in Kiro with externalId {id}, not its object id."),
            format!(
                "Map externalId from [objectId] for {kind}s, then delete the {kind} in Kiro \
                 so that provisioning creates it again. {RESTART}"
            ),
        ),
        None => Finding::error(
            step::ASSIGNMENTS,
            "principal_missing_in_kiro",
            format!("{who} is assigned but not in Kiro."),
            "Provision it on demand (provision_on_demand = true on its kiro_entra_assignment) \
             or wait for the next cycle; if it still does not arrive, the provisioning logs \
             say why.",
        ),
    })
}

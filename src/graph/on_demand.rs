//! "Provision on demand" of one assigned principal, as the portal's button does it: find the
//! service principal's provisioning job and the rule for the object type, then provision a
//! user alone, or a group with its direct user members in calls of at most
//! [`MAX_GROUP_MEMBERS_ON_DEMAND`]. Each call waits out the "not yet assigned" lag and Graph's
//! 5 calls per 10 s (see [`provision_on_demand_once_assigned`]).

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::client::GraphRequest;
use super::consistency::{provision_on_demand_once_assigned, retry_while_sync_lags};
use super::directory::MemberKind;
use super::error::GraphError;
use super::synchronization::{
    MAX_GROUP_MEMBERS_ON_DEMAND, ON_DEMAND_CALLS, ON_DEMAND_WINDOW, ProvisionOutcome,
    ProvisionResult, Subject, SyncObject,
};
use super::{GraphClient, path_segment};

/// How long the synchronization calls that find the job may answer as if the service
/// principal were new (401/403/409), before that counts as a real refusal.
const SYNC_LAG: Duration = Duration::from_secs(60);

/// What provisioning a group of `members` users on demand costs: calls of at most
/// [`MAX_GROUP_MEMBERS_ON_DEMAND`] members, and the time Graph's limit of [`ON_DEMAND_CALLS`]
/// calls per [`ON_DEMAND_WINDOW`] makes them take at least (the calls' own time comes on top).
pub fn group_cost(members: usize) -> (usize, Duration) {
    let calls = members.div_ceil(MAX_GROUP_MEMBERS_ON_DEMAND).max(1);
    // The first window's calls go at once; every further one waits for a slot.
    let windows = (calls.saturating_sub(1) / ON_DEMAND_CALLS) as u32;
    (calls, ON_DEMAND_WINDOW * windows)
}

/// How many users are among a group's direct members (what provisioning it on demand sends),
/// counted by Graph rather than listed: `…/members/microsoft.graph.user/$count`, an advanced
/// query, whose index may lag a membership change of the last seconds. For an estimate (the
/// plan's cost warning); provisioning lists the members it sends.
pub async fn count_group_user_members(
    client: &GraphClient,
    group_id: &str,
) -> Result<usize, GraphError> {
    let path = format!(
        "groups/{}/members/microsoft.graph.user/$count",
        path_segment(group_id)
    );
    client
        .execute(&GraphRequest::get(path).advanced_query())
        .await
}

/// The users among a group's direct members: what provisioning it on demand sends.
pub async fn group_user_members(
    client: &GraphClient,
    group_id: &str,
) -> Result<Vec<String>, GraphError> {
    Ok(client
        .list_group_members(group_id)
        .await?
        .into_iter()
        .filter(|m| m.kind() == MemberKind::User)
        .map(|m| m.id)
        .collect())
}

/// The job and rule provision on demand runs under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDemandTarget {
    /// The provisioning job's id.
    pub job_id: String,
    /// The id of the schema rule that provisions the object type.
    pub rule_id: String,
}

/// Why provision on demand could not run or did not succeed.
#[derive(Debug)]
pub enum OnDemandError {
    /// The service principal has no provisioning job.
    NoJob,
    /// The service principal has several jobs (their ids): which one to use is unclear.
    SeveralJobs(Vec<String>),
    /// The job's schema has no rule for this object type.
    NoRule {
        /// The job.
        job_id: String,
        /// The object type.
        object: SyncObject,
    },
    /// The provisioning service answered something other than Success.
    NotProvisioned {
        /// What was sent, e.g. `group <id> with members a, b`.
        subject: String,
        /// Graph's outcome.
        outcome: ProvisionOutcome,
        /// Why, in the provisioning service's words.
        reason: Option<String>,
        /// The summary of the calls that did succeed before this one.
        done_before: Option<String>,
    },
    /// A Graph call failed (or the wait for the assignment ran out).
    Graph(GraphError),
}

impl From<GraphError> for OnDemandError {
    fn from(e: GraphError) -> Self {
        Self::Graph(e)
    }
}

/// What provision on demand did, in one line per principal (see [`Self::summary`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDemandReport {
    /// e.g. `User <oid>: Success (created in Kiro)`.
    pub summary: String,
    /// How many provision-on-demand calls it took.
    pub calls: usize,
}

impl fmt::Display for OnDemandReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// The single provisioning job of `sp_id` and its rule for `object`. Waits out the
/// synchronization lag of a new service principal for at most a minute (or `timeout`).
pub async fn find_on_demand_target(
    client: &GraphClient,
    sp_id: &str,
    object: SyncObject,
    timeout: Duration,
) -> Result<OnDemandTarget, OnDemandError> {
    let lag = timeout.min(SYNC_LAG);
    let jobs = retry_while_sync_lags("the provisioning jobs to be readable", lag, || {
        client.list_sync_jobs(sp_id)
    })
    .await?;
    let job_id = match jobs.as_slice() {
        [] => return Err(OnDemandError::NoJob),
        [job] => job.id.clone(),
        several => {
            return Err(OnDemandError::SeveralJobs(
                several.iter().map(|j| j.id.clone()).collect(),
            ));
        }
    };
    let schema = retry_while_sync_lags("the provisioning schema to be readable", lag, || {
        client.get_sync_schema(sp_id, &job_id)
    })
    .await?;
    let rule_id = schema
        .rule_id_for(object)
        .map(str::to_string)
        .ok_or_else(|| OnDemandError::NoRule {
            job_id: job_id.clone(),
            object,
        })?;
    Ok(OnDemandTarget { job_id, rule_id })
}

/// Provisions the assigned `principal_id` (a user, or a group with its direct user members)
/// on demand under `target`, within `timeout` in all. A group of more than `max_members` users
/// is not provisioned on demand (0 calls): its members are left to the provisioning cycle.
pub async fn provision_principal(
    client: &GraphClient,
    sp_id: &str,
    target: &OnDemandTarget,
    principal_id: &str,
    object: SyncObject,
    timeout: Duration,
    max_members: usize,
) -> Result<OnDemandReport, OnDemandError> {
    let deadline = Instant::now() + timeout;
    let call = |subject: Subject| async move {
        let left = deadline.saturating_duration_since(Instant::now());
        provision_on_demand_once_assigned(
            client,
            sp_id,
            &target.job_id,
            &target.rule_id,
            std::slice::from_ref(&subject),
            left,
        )
        .await
    };
    match object {
        SyncObject::User => {
            let result = call(Subject::User {
                object_id: principal_id.to_string(),
            })
            .await?;
            let subject = format!("user {principal_id}");
            succeeded(&result, &subject, None)?;
            Ok(OnDemandReport {
                summary: format!(
                    "User {principal_id}: {}",
                    outcome_text(&result, principal_id)
                ),
                calls: 1,
            })
        }
        SyncObject::Group => {
            let members = group_user_members(client, principal_id).await?;
            if members.len() > max_members {
                return Ok(OnDemandReport {
                    summary: format!(
                        "Group {principal_id}: not provisioned on demand: {} user members, more \
                         than {max_members}; the provisioning cycle provisions them",
                        members.len()
                    ),
                    calls: 0,
                });
            }
            let batches: Vec<Vec<String>> = if members.is_empty() {
                vec![Vec::new()]
            } else {
                members
                    .chunks(MAX_GROUP_MEMBERS_ON_DEMAND)
                    .map(<[String]>::to_vec)
                    .collect()
            };
            let mut group = GroupTally::new(principal_id, members.len(), batches.len());
            for batch in batches {
                let subject = if batch.is_empty() {
                    format!("group {principal_id}")
                } else {
                    format!("group {principal_id} with members {}", batch.join(", "))
                };
                let result = call(Subject::Group {
                    object_id: principal_id.to_string(),
                    members: batch.clone(),
                })
                .await?;
                let before = (group.calls_done > 0).then(|| group.summary());
                succeeded(&result, &subject, before)?;
                group.add(&result, &batch);
            }
            Ok(OnDemandReport {
                summary: group.summary(),
                calls: group.calls_done,
            })
        }
    }
}

fn succeeded(
    result: &ProvisionResult,
    subject: &str,
    done_before: Option<String>,
) -> Result<(), OnDemandError> {
    if result.outcome == ProvisionOutcome::Success {
        return Ok(());
    }
    Err(OnDemandError::NotProvisioned {
        subject: subject.to_string(),
        outcome: result.outcome.clone(),
        reason: result.reason.clone(),
        done_before,
    })
}

/// A group's calls so far.
struct GroupTally {
    group_id: String,
    members: usize,
    calls: usize,
    calls_done: usize,
    /// The group's own outcome, from the first call.
    group: Option<String>,
    /// Member actions in order of first appearance, with counts.
    member_actions: Vec<(&'static str, usize)>,
    /// Members the answers did not describe one by one.
    members_without_action: usize,
}

impl GroupTally {
    fn new(group_id: &str, members: usize, calls: usize) -> Self {
        Self {
            group_id: group_id.to_string(),
            members,
            calls,
            calls_done: 0,
            group: None,
            member_actions: Vec::new(),
            members_without_action: 0,
        }
    }

    fn add(&mut self, result: &ProvisionResult, batch: &[String]) {
        self.calls_done += 1;
        if self.group.is_none() {
            self.group = Some(outcome_text(result, &self.group_id));
        }
        for member in batch {
            match action_of(result, member) {
                Some(action) => match self.member_actions.iter_mut().find(|(a, _)| *a == action) {
                    Some((_, n)) => *n += 1,
                    None => self.member_actions.push((action, 1)),
                },
                None => self.members_without_action += 1,
            }
        }
    }

    fn summary(&self) -> String {
        let group = self.group.as_deref().unwrap_or("Success");
        if self.members == 0 {
            return format!("Group {}: {group}; no direct user members", self.group_id);
        }
        let mut parts: Vec<String> = self
            .member_actions
            .iter()
            .map(|(action, n)| format!("{n} {action}"))
            .collect();
        if self.members_without_action > 0 {
            parts.push(format!("{} provisioned", self.members_without_action));
        }
        let plural = |n: usize| if n == 1 { "call" } else { "calls" };
        let progress = if self.calls_done == self.calls {
            format!(
                "{} direct user members in {} {}",
                self.members,
                self.calls,
                plural(self.calls)
            )
        } else {
            let done: usize = self.member_actions.iter().map(|(_, n)| n).sum::<usize>()
                + self.members_without_action;
            format!(
                "{done} of {} direct user members in {} of {} calls",
                self.members, self.calls_done, self.calls
            )
        };
        format!(
            "Group {}: {group}; {progress}: Success ({})",
            self.group_id,
            parts.join(", ")
        )
    }
}

/// `Success (created in Kiro)`, or just the outcome when the answer does not say what was done.
fn outcome_text(result: &ProvisionResult, object_id: &str) -> String {
    let outcome = match &result.outcome {
        ProvisionOutcome::Success => "Success",
        ProvisionOutcome::Failure => "Failure",
        ProvisionOutcome::Skipped => "Skipped",
        ProvisionOutcome::Other(other) => other.as_str(),
    };
    match action_of(result, object_id) {
        Some("unchanged") => format!("{outcome} (already up to date in Kiro)"),
        Some(action) => format!("{outcome} ({action} in Kiro)"),
        None => outcome.to_string(),
    }
}

/// What the export step for `object_id` did: `created`, `updated`, `unchanged`, `disabled`,
/// `enabled` or `deleted`. Steps name the action in `details.action` or in the step name
/// (`EntryExportAdd`, `EntryExportUpdate`, …).
fn action_of(result: &ProvisionResult, object_id: &str) -> Option<&'static str> {
    result
        .steps
        .iter()
        .filter(|s| s.status.as_deref() == Some("Success"))
        .filter(|s| {
            s.details
                .get("objectId")
                .and_then(|v| v.as_str())
                .is_some_and(|id| id.eq_ignore_ascii_case(object_id))
        })
        .find_map(|s| {
            let named = s.details.get("action").and_then(|v| v.as_str());
            let from_name = s
                .name
                .as_deref()
                .and_then(|n| n.strip_prefix("EntryExport"));
            match named.or(from_name)?.to_ascii_lowercase().as_str() {
                "create" | "add" => Some("created"),
                "update" => Some("updated"),
                "none" | "nochange" | "skip" | "skipped" => Some("unchanged"),
                "disable" => Some("disabled"),
                "enable" => Some("enabled"),
                "delete" => Some("deleted"),
                _ => None,
            }
        })
}

//! Provisioning (synchronization) of a service principal: jobs, secrets, Test Connection,
//! the attribute-mapping schema and provision on demand.
//!
//! Models keep every field they do not name in `extra`, so a read–edit–write (the schema
//! above all, which is PUT whole) never drops what Graph sent.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::client::{GraphClient, GraphRequest};
use super::error::GraphError;
use super::path_segment;
use crate::secret::Secret;

// --- jobs ------------------------------------------------------------------------------------

/// A synchronization job (`/servicePrincipals/{id}/synchronization/jobs/{jobId}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncJob {
    /// Opaque id, e.g. `scim.<32 hex>.<guid>`.
    pub id: String,
    /// The template the job was made from, e.g. `scim`.
    #[serde(default)]
    pub template_id: String,
    /// When the job runs.
    #[serde(default)]
    pub schedule: Option<SyncSchedule>,
    /// How the job is doing.
    #[serde(default)]
    pub status: Option<SyncStatus>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `job.schedule`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSchedule {
    /// ISO 8601 duration between cycles, e.g. `PT40M`.
    #[serde(default)]
    pub interval: Option<String>,
    /// `Active`, `Disabled` or `Paused`.
    #[serde(default)]
    pub state: Option<String>,
    /// Every other field Graph sent (e.g. `expiration`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `job.status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `NotConfigured`, `NotRun`, `Active`, `Paused` or `Quarantine`.
    #[serde(default)]
    pub code: Option<String>,
    /// The last cycle.
    #[serde(default)]
    pub last_execution: Option<SyncExecution>,
    /// Set while the job is quarantined.
    #[serde(default)]
    pub quarantine: Option<SyncQuarantine>,
    /// Every other field Graph sent (counts, progress, watermarks…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `status.lastExecution`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncExecution {
    /// `Succeeded`, `Failed` or `EntryLevelErrors`.
    #[serde(default)]
    pub state: Option<String>,
    /// Why the cycle failed.
    #[serde(default)]
    pub error: Option<SyncErrorInfo>,
    /// Start (RFC 3339), as Graph gave it.
    #[serde(default)]
    pub time_began: Option<String>,
    /// End (RFC 3339), as Graph gave it.
    #[serde(default)]
    pub time_ended: Option<String>,
    /// Every other field Graph sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An error Graph reports inside a job's status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorInfo {
    /// e.g. `SystemForCrossDomainIdentityManagementCredentialValidationUnavailable`.
    #[serde(default)]
    pub code: Option<String>,
    /// The text to show.
    #[serde(default)]
    pub message: Option<String>,
    /// Every other field Graph sent (e.g. `tenantActionable`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `status.quarantine`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncQuarantine {
    /// e.g. `EncounteredQuarantineException`.
    #[serde(default)]
    pub reason: Option<String>,
    /// What put the job in quarantine.
    #[serde(default)]
    pub error: Option<SyncErrorInfo>,
    /// Every other field Graph sent (`currentBegan`, `nextAttempt`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct ValueList<T> {
    value: Vec<T>,
}

fn jobs_path(sp_id: &str) -> String {
    format!(
        "servicePrincipals/{}/synchronization/jobs",
        path_segment(sp_id)
    )
}

fn job_path(sp_id: &str, job_id: &str) -> String {
    format!("{}/{}", jobs_path(sp_id), path_segment(job_id))
}

fn secrets_path(sp_id: &str) -> String {
    format!(
        "servicePrincipals/{}/synchronization/secrets",
        path_segment(sp_id)
    )
}

// --- secrets ---------------------------------------------------------------------------------

/// The synchronization secret keys this provider writes. Graph compares them case-exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKey {
    /// The SCIM tenant URL.
    BaseAddress,
    /// The SCIM bearer token.
    SecretToken,
    /// `"false"`: provision only assigned users and groups (the portal's default).
    SyncAll,
    /// Notification e-mail settings (a JSON string).
    SyncNotificationSettings,
}

impl SecretKey {
    /// The key as Graph spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BaseAddress => "BaseAddress",
            Self::SecretToken => "SecretToken",
            Self::SyncAll => "SyncAll",
            Self::SyncNotificationSettings => "SyncNotificationSettings",
        }
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One synchronization secret. Every value is a [`Secret`] (even the URL), so none can be
/// printed by accident; `Debug` shows `<redacted>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSecret {
    /// Which secret.
    pub key: SecretKey,
    /// Its value.
    pub value: Secret,
}

impl SyncSecret {
    /// A secret `key` = `value`.
    pub fn new(key: SecretKey, value: impl Into<String>) -> Self {
        Self {
            key,
            value: Secret::new(value),
        }
    }
}

/// `[{"key": …, "value": …}]` with the values exposed: only for a `sensitive` request body.
fn secrets_json(secrets: &[SyncSecret]) -> Value {
    secrets
        .iter()
        .map(|s| json!({"key": s.key.as_str(), "value": s.value.expose()}))
        .collect()
}

/// A `{key, value}` pair as `GET …/secrets` returns it. The value is read as any JSON, so a
/// shape we do not expect can never be quoted (secret and all) in a decode error.
#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

impl KeyValue {
    fn value_text(self) -> String {
        match self.value {
            Value::Null => String::new(),
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

// --- schema ----------------------------------------------------------------------------------

/// The object types a synchronization rule provisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncObject {
    /// Entra users.
    User,
    /// Entra groups.
    Group,
}

impl SyncObject {
    /// `User` or `Group`, as Graph spells `sourceObjectName` and `objectTypeName`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }
}

/// A job's schema (`GET …/jobs/{jobId}/schema`). Written back whole with
/// [`GraphClient::put_sync_schema`]; fields not named here (`directories`, …) are kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSchema {
    /// Schema id.
    #[serde(default)]
    pub id: Option<String>,
    /// Schema version.
    #[serde(default)]
    pub version: Option<String>,
    /// The rules, one or more, whose object mappings hold the attribute mappings.
    #[serde(default)]
    pub synchronization_rules: Vec<SyncRule>,
    /// Every other field Graph sent (`directories`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `synchronizationRules[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRule {
    /// The rule id provision on demand needs.
    pub id: String,
    /// The rule's name.
    #[serde(default)]
    pub name: Option<String>,
    /// What the rule provisions.
    #[serde(default)]
    pub object_mappings: Vec<ObjectMapping>,
    /// Every other field Graph sent (`editable`, `priority`, directory names, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `objectMappings[]`: how one source object type becomes a target one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMapping {
    /// Whether this object type is provisioned.
    #[serde(default)]
    pub enabled: bool,
    /// e.g. `Provision Microsoft Entra ID Users`.
    #[serde(default)]
    pub name: Option<String>,
    /// `User` or `Group`.
    #[serde(default)]
    pub source_object_name: String,
    /// e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    #[serde(default)]
    pub target_object_name: Option<String>,
    /// The attribute mappings.
    #[serde(default)]
    pub attribute_mappings: Vec<AttributeMapping>,
    /// Every other field Graph sent (`flowTypes`, `scope`, `metadata`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `attributeMappings[]`: one target attribute and where its value comes from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    /// Where the value comes from.
    pub source: MappingSource,
    /// The SCIM attribute written, e.g. `externalId` or `emails[type eq "work"].value`.
    pub target_attribute_name: String,
    /// Used when the source has no value.
    #[serde(default)]
    pub default_value: Option<String>,
    /// `FlowWhenChanged` or `FlowAlways`.
    #[serde(default)]
    pub flow_behavior: Option<String>,
    /// `Always`, `ObjectAddOnly`, …
    #[serde(default)]
    pub flow_type: Option<String>,
    /// Non-zero for attributes used to match existing target objects.
    #[serde(default)]
    pub matching_priority: i64,
    /// Every other field Graph sent (`exportMissingReferences`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A mapping's `source`: an attribute, a constant or a function of further sources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingSource {
    /// The expression as the portal shows it, e.g. `[objectId]`.
    #[serde(default)]
    pub expression: Option<String>,
    /// The attribute, constant or function name.
    #[serde(default)]
    pub name: Option<String>,
    /// `Attribute`, `Function` or `Constant`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A function's arguments.
    #[serde(default)]
    pub parameters: Vec<MappingParameter>,
    /// Every other field Graph sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One argument of a `Function` source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MappingParameter {
    /// The parameter's name, e.g. `source`.
    pub key: String,
    /// Its value.
    pub value: MappingSource,
    /// Every other field Graph sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MappingSource {
    /// The source attribute `name`, e.g. `objectId` → `{"expression":"[objectId]",
    /// "name":"objectId","type":"Attribute","parameters":[]}`.
    pub fn attribute(name: &str) -> Self {
        Self {
            expression: Some(format!("[{name}]")),
            name: Some(name.to_string()),
            kind: "Attribute".into(),
            ..Self::default()
        }
    }
}

impl SyncSchema {
    fn object_mapping(&self, object: SyncObject) -> Option<(&SyncRule, &ObjectMapping)> {
        self.synchronization_rules.iter().find_map(|rule| {
            let mapping = rule
                .object_mappings
                .iter()
                .find(|m| m.source_object_name == object.as_str())?;
            Some((rule, mapping))
        })
    }

    fn mappings_mut(&mut self, object: SyncObject) -> Option<&mut Vec<AttributeMapping>> {
        self.synchronization_rules
            .iter_mut()
            .flat_map(|rule| rule.object_mappings.iter_mut())
            .find(|m| m.source_object_name == object.as_str())
            .map(|m| &mut m.attribute_mappings)
    }

    /// The users' attribute mappings (the first object mapping whose source is `User`).
    pub fn user_mappings_mut(&mut self) -> Option<&mut Vec<AttributeMapping>> {
        self.mappings_mut(SyncObject::User)
    }

    /// The groups' attribute mappings (the first object mapping whose source is `Group`).
    pub fn group_mappings_mut(&mut self) -> Option<&mut Vec<AttributeMapping>> {
        self.mappings_mut(SyncObject::Group)
    }

    /// The attribute mappings of `object` (none when the schema has no mapping for it).
    pub fn mappings(&self, object: SyncObject) -> &[AttributeMapping] {
        self.object_mapping(object)
            .map(|(_, m)| m.attribute_mappings.as_slice())
            .unwrap_or_default()
    }

    /// The id of the rule that provisions `object`: what provision on demand needs.
    pub fn rule_id_for(&self, object: SyncObject) -> Option<&str> {
        self.object_mapping(object)
            .map(|(rule, _)| rule.id.as_str())
    }

    /// The mapping of `object` that writes `target` (SCIM attribute names compare
    /// case-insensitively).
    pub fn mapping(&self, object: SyncObject, target: &str) -> Option<&AttributeMapping> {
        let (_, mappings) = self.object_mapping(object)?;
        mappings
            .attribute_mappings
            .iter()
            .find(|m| m.target_attribute_name.eq_ignore_ascii_case(target))
    }

    /// Makes `target` of `object` come from `source`. An existing mapping keeps everything
    /// else (flow, matching, default value, unknown fields); a new one gets the portal's
    /// defaults. Fails when the schema has no mapping for `object` at all.
    pub fn set_mapping(
        &mut self,
        object: SyncObject,
        target: &str,
        source: MappingSource,
    ) -> Result<(), GraphError> {
        let Some(mappings) = self.mappings_mut(object) else {
            return Err(no_object_mapping(object));
        };
        match mappings
            .iter_mut()
            .find(|m| m.target_attribute_name.eq_ignore_ascii_case(target))
        {
            Some(existing) => existing.source = source,
            None => {
                let mut extra = Map::new();
                extra.insert("exportMissingReferences".into(), Value::Bool(false));
                mappings.push(AttributeMapping {
                    source,
                    target_attribute_name: target.to_string(),
                    default_value: None,
                    flow_behavior: Some("FlowWhenChanged".into()),
                    flow_type: Some("Always".into()),
                    matching_priority: 0,
                    extra,
                });
            }
        }
        Ok(())
    }

    /// Removes the mapping of `object` that writes `target`; returns it, or `None` when there
    /// was none.
    pub fn remove_mapping(&mut self, object: SyncObject, target: &str) -> Option<AttributeMapping> {
        let mappings = self.mappings_mut(object)?;
        let index = mappings
            .iter()
            .position(|m| m.target_attribute_name.eq_ignore_ascii_case(target))?;
        Some(mappings.remove(index))
    }
}

fn no_object_mapping(object: SyncObject) -> GraphError {
    GraphError::InvalidRequest(format!(
        "the synchronization schema has no object mapping for {} objects, so its attribute \
         mappings cannot be edited",
        object.as_str()
    ))
}

// --- provision on demand ---------------------------------------------------------------------

/// Graph's limit on members per provision-on-demand call for a group.
pub const MAX_GROUP_MEMBERS_ON_DEMAND: usize = 5;

/// What to provision on demand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A user, by object id.
    User {
        /// The user's object id.
        object_id: String,
    },
    /// A group and up to [`MAX_GROUP_MEMBERS_ON_DEMAND`] of its user members, by object id.
    Group {
        /// The group's object id.
        object_id: String,
        /// Member users' object ids.
        members: Vec<String>,
    },
}

impl Subject {
    /// The subject as `provisionOnDemand` takes it.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::User { object_id } => json!({"objectId": object_id, "objectTypeName": "User"}),
            Self::Group { object_id, members } => {
                let mut subject = json!({"objectId": object_id, "objectTypeName": "Group"});
                if !members.is_empty() {
                    let members: Vec<Value> = members
                        .iter()
                        .map(|m| json!({"objectId": m, "objectTypeName": "User"}))
                        .collect();
                    subject["links"] = json!({"members": members});
                }
                subject
            }
        }
    }
}

/// The outcome Graph reports for a provision-on-demand call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProvisionOutcome {
    /// Provisioned (or already up to date).
    Success,
    /// Provisioning was tried and failed; see [`ProvisionResult::reason`].
    Failure,
    /// Not provisioned, e.g. not assigned or out of scope; see [`ProvisionResult::reason`].
    Skipped,
    /// Something this client does not know, as Graph spelled it.
    Other(String),
}

/// One provisioning step Graph reports (import, scoping, matching, action, export).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionStep {
    /// Step name, e.g. `EntryExportAdd`.
    #[serde(default)]
    pub name: Option<String>,
    /// Step type, e.g. `Export`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `Success`, `Failure`, `Warning` or `Skipped`.
    #[serde(default)]
    pub status: Option<String>,
    /// What happened, in words.
    #[serde(default)]
    pub description: Option<String>,
    /// Step details (free form).
    #[serde(default)]
    pub details: Value,
    /// Every other field Graph sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A provision-on-demand answer, decoded from Graph's JSON-in-strings.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvisionResult {
    /// Success, Failure or Skipped.
    pub outcome: ProvisionOutcome,
    /// `details` of the result, as sent.
    pub details: Value,
    /// The steps, in order.
    pub steps: Vec<ProvisionStep>,
    /// For a Failure or Skipped outcome: why, in Graph's words.
    pub reason: Option<String>,
}

impl ProvisionResult {
    /// True when Graph's answer says the subject is not (yet) assigned to the application:
    /// right after an assignment this is replication lag, not a refusal.
    pub fn is_not_assigned(&self) -> bool {
        if self.outcome == ProvisionOutcome::Success {
            return false;
        }
        let mut text = self.details.to_string();
        text.push_str(self.reason.as_deref().unwrap_or_default());
        for step in &self.steps {
            text.push_str(step.description.as_deref().unwrap_or_default());
            text.push_str(&step.details.to_string());
        }
        let text = text.to_ascii_lowercase();
        ["not assigned", "notassigned", "noteffectivelyentitled"]
            .iter()
            .any(|needle| text.contains(needle))
    }

    /// Parses the `{key, value}` answer; `key` and `value` are JSON documents in strings.
    pub fn parse(answer: &Value) -> Result<Self, GraphError> {
        const CONTEXT: &str = "reading a provision-on-demand result";
        let embedded = |field: &str| -> Result<Value, GraphError> {
            let text = answer.get(field).and_then(Value::as_str).ok_or_else(|| {
                GraphError::decode(CONTEXT, format!("`{field}` is missing or not a string"))
            })?;
            serde_json::from_str(text).map_err(|e| {
                GraphError::decode(CONTEXT, format!("`{field}` is not a JSON document: {e}"))
            })
        };
        let key = embedded("key")?;
        let outcome = match key.get("result").and_then(Value::as_str) {
            Some("Success") => ProvisionOutcome::Success,
            Some("Failure") => ProvisionOutcome::Failure,
            Some("Skipped") => ProvisionOutcome::Skipped,
            Some(other) => ProvisionOutcome::Other(other.to_string()),
            None => return Err(GraphError::decode(CONTEXT, "`key` has no `result`")),
        };
        let details = key.get("details").cloned().unwrap_or(Value::Null);
        let steps_json = match embedded("value")? {
            Value::Object(mut o) => o.remove("provisioningSteps").unwrap_or(Value::Null),
            other => other,
        };
        let steps: Vec<ProvisionStep> = match steps_json {
            Value::Null => Vec::new(),
            other => serde_json::from_value(other)
                .map_err(|e| GraphError::decode(CONTEXT, format!("the provisioning steps: {e}")))?,
        };
        let reason = match outcome {
            ProvisionOutcome::Success => None,
            _ => reason_text(&details, &steps),
        };
        Ok(Self {
            outcome,
            details,
            steps,
            reason,
        })
    }
}

/// The reason to show: a message-like field of `details`, else the first step that did not
/// succeed (its description and its details' message, which holds e.g. the SCIM error).
fn reason_text(details: &Value, steps: &[ProvisionStep]) -> Option<String> {
    if let Some(text) = message_in(details) {
        return Some(text);
    }
    let step = steps.iter().find(|s| {
        matches!(s.status.as_deref(), Some(status) if status != "Success" && status != "Warning")
    })?;
    let parts: Vec<String> = [step.description.clone(), message_in(&step.details)]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(": "))
}

fn message_in(details: &Value) -> Option<String> {
    match details {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => ["errorMessage", "message", "reason", "skipReason", "error"]
            .iter()
            .find_map(|wanted| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
                    .and_then(|(_, v)| message_in(v))
            }),
        _ => None,
    }
}

/// Graph allows 5 provision-on-demand calls per 10 s per job.
pub const ON_DEMAND_CALLS: usize = 5;
/// The window of [`ON_DEMAND_CALLS`].
pub const ON_DEMAND_WINDOW: Duration = Duration::from_secs(10);

/// Keeps calls under "`calls` per `window`" per key (a service principal) by waiting. It
/// remembers the start of the last `calls` calls per key — a sliding window: a token bucket
/// refilled evenly would allow a burst plus a refill, more than `calls` in one window.
#[derive(Debug)]
pub struct CallLimiter {
    calls: usize,
    window: Duration,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for CallLimiter {
    fn default() -> Self {
        Self::new(ON_DEMAND_CALLS, ON_DEMAND_WINDOW)
    }
}

impl CallLimiter {
    /// At most `calls` (≥ 1) per `window` per key.
    pub fn new(calls: usize, window: Duration) -> Self {
        Self {
            calls: calls.max(1),
            window,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call for `key` fits the limit, and counts it.
    pub async fn acquire(&self, key: &str) {
        loop {
            let wait = {
                let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
                let starts = recent.entry(key.to_string()).or_default();
                let now = Instant::now();
                while starts
                    .front()
                    .is_some_and(|&t| now.duration_since(t) >= self.window)
                {
                    starts.pop_front();
                }
                if starts.len() < self.calls {
                    starts.push_back(now);
                    return;
                }
                self.window - now.duration_since(starts[0])
            };
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "waiting for Graph's provision-on-demand rate limit"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

// --- operations ------------------------------------------------------------------------------

impl GraphClient {
    /// `GET …/synchronization/jobs`.
    pub async fn list_sync_jobs(&self, sp_id: &str) -> Result<Vec<SyncJob>, GraphError> {
        self.list(&jobs_path(sp_id)).await
    }

    /// `POST …/synchronization/jobs {"templateId": template_id}` → the new job. Not repeated
    /// after a lost answer (a second job would be refused or made).
    pub async fn create_sync_job(
        &self,
        sp_id: &str,
        template_id: &str,
    ) -> Result<SyncJob, GraphError> {
        self.post(&jobs_path(sp_id), &json!({"templateId": template_id}))
            .await
    }

    /// `GET …/jobs/{jobId}`; `None` when the job (or the service principal) is gone.
    pub async fn get_sync_job(
        &self,
        sp_id: &str,
        job_id: &str,
    ) -> Result<Option<SyncJob>, GraphError> {
        self.get_opt(&job_path(sp_id, job_id)).await
    }

    /// `DELETE …/jobs/{jobId}`: `true` if deleted, `false` if it was already gone.
    pub async fn delete_sync_job(&self, sp_id: &str, job_id: &str) -> Result<bool, GraphError> {
        self.delete(&job_path(sp_id, job_id)).await
    }

    /// `POST …/jobs/{jobId}/start`: enables or resumes the job and clears a quarantine.
    /// Safe to repeat, so retried after transient failures.
    pub async fn start_sync_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        let path = format!("{}/start", job_path(sp_id, job_id));
        let req = GraphRequest::new(Method::POST, path).retry_safe(true);
        self.send(&req).await.map(drop)
    }

    /// `POST …/jobs/{jobId}/pause`. Safe to repeat, so retried after transient failures.
    pub async fn pause_sync_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        let path = format!("{}/pause", job_path(sp_id, job_id));
        let req = GraphRequest::new(Method::POST, path).retry_safe(true);
        self.send(&req).await.map(drop)
    }

    /// `POST …/jobs/{jobId}/restart {"criteria":{"resetScope": reset_scope}}`, where
    /// `reset_scope` is Graph's comma-separated list (`Full`, `Watermark`, `QuarantineState`,
    /// …).
    pub async fn restart_sync_job(
        &self,
        sp_id: &str,
        job_id: &str,
        reset_scope: &str,
    ) -> Result<(), GraphError> {
        let path = format!("{}/restart", job_path(sp_id, job_id));
        let body = json!({"criteria": {"resetScope": reset_scope}});
        self.send(&GraphRequest::post(path, body)).await.map(drop)
    }

    /// `PUT …/synchronization/secrets {"value":[{key, value}…]}`. The body is never logged.
    pub async fn put_sync_secrets(
        &self,
        sp_id: &str,
        secrets: &[SyncSecret],
    ) -> Result<(), GraphError> {
        let body = json!({"value": secrets_json(secrets)});
        let req = GraphRequest::put(secrets_path(sp_id), body).sensitive();
        self.send(&req).await.map(drop)
    }

    /// `GET …/synchronization/secrets` as `(key, value)` pairs; Graph masks secret values
    /// (`"*"`), a key without a value reads as `""`, and a non-string value as its JSON text.
    pub async fn get_sync_secrets(&self, sp_id: &str) -> Result<Vec<(String, String)>, GraphError> {
        // Sensitive: a real Graph masks the token, but the body is not ours to log.
        let req = GraphRequest::get(secrets_path(sp_id)).sensitive();
        let list: ValueList<KeyValue> = self.execute(&req).await?;
        Ok(list
            .value
            .into_iter()
            .map(|kv| (kv.key.clone(), kv.value_text()))
            .collect())
    }

    /// Test Connection: `POST …/jobs/{jobId}/validateCredentials` with `secrets` (not the saved
    /// ones). A refusal is an error whose [`GraphError::message`] says why, in Graph's words.
    pub async fn validate_credentials(
        &self,
        sp_id: &str,
        job_id: &str,
        secrets: &[SyncSecret],
    ) -> Result<(), GraphError> {
        let path = format!("{}/validateCredentials", job_path(sp_id, job_id));
        let body = json!({"useSavedCredentials": false, "credentials": secrets_json(secrets)});
        // It only probes the endpoint, so repeating it after a transient failure is harmless.
        let req = GraphRequest::post(path, body).sensitive().retry_safe(true);
        self.send(&req).await.map(drop)
    }

    /// `GET …/jobs/{jobId}/schema`.
    pub async fn get_sync_schema(
        &self,
        sp_id: &str,
        job_id: &str,
    ) -> Result<SyncSchema, GraphError> {
        self.get(&format!("{}/schema", job_path(sp_id, job_id)))
            .await
    }

    /// `PUT …/jobs/{jobId}/schema` with the whole schema (Graph replaces it).
    pub async fn put_sync_schema(
        &self,
        sp_id: &str,
        job_id: &str,
        schema: &SyncSchema,
    ) -> Result<(), GraphError> {
        self.put(&format!("{}/schema", job_path(sp_id, job_id)), schema)
            .await
    }

    /// `POST …/jobs/{jobId}/provisionOnDemand` for `subjects` under rule `rule_id` (see
    /// [`SyncSchema::rule_id_for`]). Waits as needed to stay within Graph's 5 calls per 10 s
    /// for this service principal. Refuses a group with more than
    /// [`MAX_GROUP_MEMBERS_ON_DEMAND`] members, or no subject at all, before calling.
    pub async fn provision_on_demand(
        &self,
        sp_id: &str,
        job_id: &str,
        rule_id: &str,
        subjects: &[Subject],
    ) -> Result<ProvisionResult, GraphError> {
        if subjects.is_empty() {
            return Err(GraphError::InvalidRequest(
                "provision on demand needs at least one user or group".into(),
            ));
        }
        for subject in subjects {
            if let Subject::Group { object_id, members } = subject
                && members.len() > MAX_GROUP_MEMBERS_ON_DEMAND
            {
                return Err(GraphError::InvalidRequest(format!(
                    "provision on demand takes at most {MAX_GROUP_MEMBERS_ON_DEMAND} members of \
                     group {object_id} per call, not {}; split the members over several calls",
                    members.len()
                )));
            }
        }
        let subjects: Vec<Value> = subjects.iter().map(Subject::to_json).collect();
        let body = json!({"parameters": [{"ruleId": rule_id, "subjects": subjects}]});
        let path = format!("{}/provisionOnDemand", job_path(sp_id, job_id));
        self.on_demand_limiter().acquire(sp_id).await;
        // Provisioning the same subjects again only brings Kiro to the same state, so a call
        // whose answer was lost (5xx, dropped connection) is simply repeated.
        let request = GraphRequest::post(path, body).retry_safe(true);
        let answer: Value = self.execute(&request).await?;
        ProvisionResult::parse(&answer)
    }
}

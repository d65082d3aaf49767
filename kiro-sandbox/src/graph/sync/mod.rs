//! `/servicePrincipals/{spId}/synchronization/…`: provisioning secrets, the one `scim` job of
//! a service principal made from the non-gallery template, its schema, its actions and
//! provision on demand. Cycles themselves are the engine's ([`crate::provisioning`]).

pub mod schema;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::errors::{GraphError, GraphResult};
use super::route::{SyncAction, SyncRoute};
use super::templates::TEMPLATE_IDS;
use super::{Req, json as json_response, no_content};
use crate::provisioning;
use crate::state::{Sandbox, Tenant, now_rfc3339};

/// The secret keys Graph accepts (case-exact) and whether a read shows their value.
pub const SECRET_KEYS: [(&str, bool); 4] = [
    ("BaseAddress", true),
    ("SecretToken", false),
    ("SyncAll", true),
    ("SyncNotificationSettings", true),
];

/// Provision on demand: calls allowed per window, and members per group subject.
pub const ON_DEMAND_CALLS: usize = 5;
pub const ON_DEMAND_WINDOW: Duration = Duration::from_secs(10);
pub const ON_DEMAND_MEMBERS: usize = 5;

pub type SyncStore = HashMap<String, SpSync>;

/// The provisioning side of one service principal.
#[derive(Default)]
pub struct SpSync {
    /// Saved secrets in the order they were put.
    pub secrets: Vec<(String, String)>,
    pub job: Option<Job>,
}

impl SpSync {
    pub fn secret(&self, key: &str) -> Option<&str> {
        self.secrets
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Secrets as `GET …/secrets` shows them: secret values masked as `"*"`.
    pub fn masked_secrets(&self) -> Vec<Value> {
        self.secrets
            .iter()
            .map(|(k, v)| {
                let shown = SECRET_KEYS.iter().any(|(name, shown)| name == k && *shown);
                json!({"key": k, "value": if shown { v.as_str() } else { "*" }})
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScheduleState {
    Disabled,
    Active,
    Paused,
}

impl ScheduleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleState::Disabled => "Disabled",
            ScheduleState::Active => "Active",
            ScheduleState::Paused => "Paused",
        }
    }
}

/// One synchronization job and what Entra remembers about its cycles.
pub struct Job {
    pub id: String,
    pub schedule: ScheduleState,
    pub schema: Value,
    pub last_execution: Option<Value>,
    pub last_successful_execution: Option<Value>,
    pub quarantine: Option<Value>,
    /// Entra object id → SCIM id of what this job provisioned ("escrow").
    pub provisioned_users: HashMap<String, String>,
    pub provisioned_groups: HashMap<String, String>,
    /// Entry-level errors of the last cycle: `{objectId, objectTypeName, error}`.
    pub entry_errors: Vec<Value>,
    /// Start instants of recent provision-on-demand calls (the rate limit).
    pub on_demand_calls: VecDeque<Instant>,
    pub last_cycle_at: Option<Instant>,
    /// Held for the length of a cycle, so two cycles of one job never interleave.
    pub cycle_lock: Arc<Mutex<()>>,
}

impl Job {
    fn new(id: String) -> Self {
        Self {
            schema: schema::template(&id),
            id,
            schedule: ScheduleState::Disabled,
            last_execution: None,
            last_successful_execution: None,
            quarantine: None,
            provisioned_users: HashMap::new(),
            provisioned_groups: HashMap::new(),
            entry_errors: Vec::new(),
            on_demand_calls: VecDeque::new(),
            last_cycle_at: None,
            cycle_lock: Arc::new(Mutex::new(())),
        }
    }

    pub fn status_code(&self, configured: bool) -> &'static str {
        if self.quarantine.is_some() {
            return "Quarantine";
        }
        match self.schedule {
            ScheduleState::Active => "Active",
            ScheduleState::Paused => "Paused",
            ScheduleState::Disabled if configured => "NotRun",
            ScheduleState::Disabled => "NotConfigured",
        }
    }

    /// The job as Graph shows it.
    pub fn json(&self, configured: bool) -> Value {
        let users = self.provisioned_users.len();
        let groups = self.provisioned_groups.len();
        json!({
            "id": self.id,
            "templateId": "scim",
            "schedule": {"expiration": null, "interval": "PT40M", "state": self.schedule.as_str()},
            "status": {
                "code": self.status_code(configured),
                "countSuccessiveCompleteFailures": 0,
                "escrowsPruned": false,
                "lastExecution": self.last_execution,
                "lastSuccessfulExecution": self.last_successful_execution,
                "lastSuccessfulExecutionWithExports": self.last_successful_execution,
                "progress": [],
                "quarantine": self.quarantine,
                "synchronizedEntryCountByType": [
                    {"key": "User", "value": users},
                    {"key": "Group", "value": groups},
                ],
                "troubleshootingUrl": null,
            },
            "synchronizationJobSettings": [],
        })
    }
}

/// Whether BaseAddress and SecretToken are both saved.
pub fn configured(sp: &SpSync) -> bool {
    sp.secret("BaseAddress").is_some() && sp.secret("SecretToken").is_some()
}

/// A lower-case service principal id that exists (visible to Graph) and was made from the
/// non-gallery template, past the synchronization lag. `write_kind` picks the lag error.
fn check_sp(tenant: &Tenant, sp_id: &str, route: &SyncRoute, req: &Req<'_>) -> GraphResult<()> {
    let now = Instant::now();
    let sp = tenant
        .directory
        .service_principals
        .get(sp_id)
        .filter(|s| s.is_visible(now))
        .ok_or_else(|| GraphError::not_found(sp_id))?;
    let lag = Duration::from_millis(req.sandbox.settings().sync_lag_ms);
    if sp.visible_at + lag > now {
        return Err(lag_error(route));
    }
    let template = sp.str("applicationTemplateId").to_ascii_lowercase();
    if !TEMPLATE_IDS.contains(&template.as_str()) {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!(
                "The service principal '{sp_id}' does not support provisioning: only applications made from the non-gallery application template ('Integrate any other application') can provision with the 'scim' template."
            ),
        ));
    }
    Ok(())
}

/// What the provisioning service answers while it has not caught up with a new service
/// principal: reads 403, a new job 409, other writes 401 (all retryable).
fn lag_error(route: &SyncRoute) -> GraphError {
    let message = "The synchronization service has not caught up with this service principal yet (it was created moments ago). Retry shortly.";
    match route {
        SyncRoute::ListJobs
        | SyncRoute::GetJob(_)
        | SyncRoute::GetSecrets
        | SyncRoute::GetSchema(_) => GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            message,
        ),
        SyncRoute::CreateJob => GraphError::new(StatusCode::CONFLICT, "Conflict", message),
        _ => GraphError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message),
    }
}

fn job_not_found(job_id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The synchronization job '{job_id}' does not exist on this service principal."),
    )
}

/// The job named `job_id` of `sp`, or Graph's 404.
pub fn job_mut<'a>(tenant: &'a mut Tenant, sp_id: &str, job_id: &str) -> GraphResult<&'a mut Job> {
    tenant
        .sync
        .get_mut(sp_id)
        .and_then(|s| s.job.as_mut())
        .filter(|j| j.id == job_id)
        .ok_or_else(|| job_not_found(job_id))
}

pub async fn handle(
    sb: &Arc<Sandbox>,
    tenant: &Arc<Mutex<Tenant>>,
    sp_id: &str,
    route: SyncRoute,
    req: &Req<'_>,
) -> GraphResult<Response> {
    {
        let t = tenant.lock().await;
        check_sp(&t, sp_id, &route, req)?;
    }
    match route {
        SyncRoute::Action(job, SyncAction::ValidateCredentials) => {
            validate_credentials(tenant, sp_id, &job, req).await
        }
        SyncRoute::Action(job, SyncAction::ProvisionOnDemand) => {
            provision_on_demand(sb, tenant, sp_id, &job, req).await
        }
        SyncRoute::Action(job, action @ (SyncAction::Start | SyncAction::Restart)) => {
            {
                let mut t = tenant.lock().await;
                let j = job_mut(&mut t, sp_id, &job)?;
                j.schedule = ScheduleState::Active;
                j.quarantine = None;
                if action == SyncAction::Restart {
                    restart(j, req)?;
                }
            }
            // Entra runs the first cycle shortly after the call, not within it.
            provisioning::spawn_cycle(sb.clone(), tenant.clone(), sp_id.to_string());
            Ok(no_content())
        }
        SyncRoute::Action(job, SyncAction::Pause) => {
            let mut t = tenant.lock().await;
            job_mut(&mut t, sp_id, &job)?.schedule = ScheduleState::Paused;
            Ok(no_content())
        }
        other => {
            let mut t = tenant.lock().await;
            handle_locked(&mut t, sp_id, other, req)
        }
    }
}

/// `restart {"criteria":{"resetScope":"…"}}`: a full reset forgets what was provisioned, so
/// the next cycle matches everything again.
fn restart(job: &mut Job, req: &Req<'_>) -> GraphResult<()> {
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        req.json_object()?
    };
    let scope = body
        .get("criteria")
        .and_then(|c| c.get("resetScope"))
        .and_then(Value::as_str)
        .unwrap_or("Full");
    if scope.contains("Full") || scope.contains("Escrows") || scope.contains("Watermark") {
        job.provisioned_users.clear();
        job.provisioned_groups.clear();
    }
    job.entry_errors.clear();
    job.last_execution = None;
    Ok(())
}

fn handle_locked(
    t: &mut Tenant,
    sp_id: &str,
    route: SyncRoute,
    req: &Req<'_>,
) -> GraphResult<Response> {
    match route {
        SyncRoute::ListJobs => {
            let sp = t.sync.get(sp_id);
            let jobs: Vec<Value> = sp
                .and_then(|s| s.job.as_ref().map(|j| j.json(configured(s))))
                .into_iter()
                .collect();
            let context = req.ctx.context(
                &format!("servicePrincipals('{sp_id}')/synchronization/jobs"),
                false,
            );
            Ok(json_response(
                StatusCode::OK,
                json!({"@odata.context": context, "value": jobs}),
            ))
        }
        SyncRoute::CreateJob => {
            let body = req.json_object()?;
            match body.get("templateId").and_then(Value::as_str) {
                Some("scim") => {}
                other => {
                    return Err(GraphError::bad_request(
                        "BadRequest",
                        format!(
                            "The templateId {other:?} is not a synchronization template of this application; use \"scim\"."
                        ),
                    ));
                }
            }
            if t.sync.get(sp_id).is_some_and(|s| s.job.is_some()) {
                return Err(GraphError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    "A synchronization job with template 'scim' already exists for this service principal.",
                ));
            }
            let hex = t.new_guid().replace('-', "");
            let id = format!("scim.{hex}.{}", t.id);
            let sp = t.sync.entry(sp_id.to_string()).or_default();
            sp.job = Some(Job::new(id));
            let body = sp.job.as_ref().map(|j| j.json(configured(sp)));
            Ok(json_response(StatusCode::CREATED, body.unwrap_or_default()))
        }
        SyncRoute::GetJob(job) => {
            let configured = t.sync.get(sp_id).is_some_and(configured);
            Ok(json_response(
                StatusCode::OK,
                job_mut(t, sp_id, &job)?.json(configured),
            ))
        }
        SyncRoute::DeleteJob(job) => {
            job_mut(t, sp_id, &job)?;
            if let Some(sp) = t.sync.get_mut(sp_id) {
                sp.job = None;
            }
            Ok(no_content())
        }
        SyncRoute::GetSecrets => {
            let value = t
                .sync
                .get(sp_id)
                .map(SpSync::masked_secrets)
                .unwrap_or_default();
            Ok(json_response(StatusCode::OK, json!({"value": value})))
        }
        SyncRoute::PutSecrets => {
            let secrets = parse_secrets(&req.json_object()?, "value")?;
            t.sync.entry(sp_id.to_string()).or_default().secrets = secrets;
            Ok(no_content())
        }
        SyncRoute::GetSchema(job) => Ok(json_response(
            StatusCode::OK,
            job_mut(t, sp_id, &job)?.schema.clone(),
        )),
        SyncRoute::PutSchema(job) => {
            let j = job_mut(t, sp_id, &job)?;
            let mut schema = Value::Object(req.json_object()?);
            schema::validate(&schema).map_err(|m| GraphError::bad_request("BadRequest", m))?;
            schema["id"] = Value::String(j.id.clone());
            j.schema = schema;
            Ok(no_content())
        }
        SyncRoute::Action(..) => Err(GraphError::method_not_allowed()),
    }
}

/// `[{"key","value"}]` under `field`, with known, case-exact keys.
fn parse_secrets(body: &Map<String, Value>, field: &str) -> GraphResult<Vec<(String, String)>> {
    let Some(items) = body.get(field).and_then(Value::as_array) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("The body must have a '{field}' list of {{\"key\", \"value\"}} pairs."),
        ));
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        let key = item["key"].as_str().unwrap_or_default();
        if !SECRET_KEYS.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = SECRET_KEYS.iter().map(|(k, _)| *k).collect();
            return Err(GraphError::bad_request(
                "BadRequest",
                format!(
                    "The secret key '{key}' is not valid; keys are case-sensitive: {}.",
                    known.join(", ")
                ),
            ));
        }
        let Some(value) = item["value"].as_str() else {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("The secret '{key}' needs a string 'value'."),
            ));
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Test Connection: probes the tenant URL the way Entra does.
async fn validate_credentials(
    tenant: &Arc<Mutex<Tenant>>,
    sp_id: &str,
    job: &str,
    req: &Req<'_>,
) -> GraphResult<Response> {
    let body = req.json_object()?;
    let use_saved = body
        .get("useSavedCredentials")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let secrets = {
        let mut t = tenant.lock().await;
        job_mut(&mut t, sp_id, job)?;
        if use_saved {
            t.sync
                .get(sp_id)
                .map(|s| s.secrets.clone())
                .unwrap_or_default()
        } else {
            parse_secrets(&body, "credentials")?
        }
    };
    let find = |key: &str| {
        secrets
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let (Some(base), Some(token)) = (find("BaseAddress"), find("SecretToken")) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Both BaseAddress (the tenant URL) and SecretToken are needed to test the connection.",
        ));
    };
    provisioning::probe(&base, &token)
        .await
        .map_err(|m| GraphError::bad_request("CredentialValidationFailed", m))?;
    Ok(no_content())
}

async fn provision_on_demand(
    sb: &Arc<Sandbox>,
    tenant: &Arc<Mutex<Tenant>>,
    sp_id: &str,
    job: &str,
    req: &Req<'_>,
) -> GraphResult<Response> {
    let body = req.json_object()?;
    let request = parse_on_demand(&body)?;
    {
        let mut t = tenant.lock().await;
        let j = job_mut(&mut t, sp_id, job)?;
        let rule_known = j.schema["synchronizationRules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["id"].as_str() == Some(request.rule_id.as_str()));
        if !rule_known {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!(
                    "The ruleId '{}' is not a rule of this job's schema.",
                    request.rule_id
                ),
            ));
        }
        let now = Instant::now();
        while j
            .on_demand_calls
            .front()
            .is_some_and(|at| *at + ON_DEMAND_WINDOW <= now)
        {
            j.on_demand_calls.pop_front();
        }
        if j.on_demand_calls.len() >= ON_DEMAND_CALLS {
            let wait = j.on_demand_calls[0] + ON_DEMAND_WINDOW - now;
            return Err(GraphError {
                retry_after: Some(wait.as_secs().max(1)),
                ..GraphError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    format!(
                        "Provision on demand is limited to {ON_DEMAND_CALLS} calls per {} seconds per job.",
                        ON_DEMAND_WINDOW.as_secs()
                    ),
                )
            });
        }
        j.on_demand_calls.push_back(now);
    }
    let (result, steps) = provisioning::on_demand(
        sb.clone(),
        tenant.clone(),
        sp_id.to_string(),
        request.subject,
    )
    .await;
    Ok(json_response(
        StatusCode::OK,
        json!({
            "@odata.context": req.ctx.context("microsoft.graph.stringKeyStringValuePair", true),
            "key": result.to_string(),
            "value": steps.to_string(),
        }),
    ))
}

/// One provision-on-demand subject.
#[derive(Clone, Debug)]
pub struct Subject {
    pub object_id: String,
    /// `User` or `Group`.
    pub kind: String,
    /// A group's members to provision with it.
    pub members: Vec<String>,
}

struct OnDemand {
    rule_id: String,
    subject: Subject,
}

fn parse_on_demand(body: &Map<String, Value>) -> GraphResult<OnDemand> {
    let bad = |m: &str| GraphError::bad_request("BadRequest", m.to_string());
    let params = body
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|p| p.len() == 1)
        .ok_or_else(|| bad("'parameters' must be a list of exactly one {ruleId, subjects}."))?;
    let rule_id = params[0]["ruleId"]
        .as_str()
        .ok_or_else(|| bad("'parameters[0].ruleId' is required."))?
        .to_string();
    let subjects = params[0]["subjects"]
        .as_array()
        .filter(|s| s.len() == 1)
        .ok_or_else(|| bad("'parameters[0].subjects' must hold exactly one subject."))?;
    let s = &subjects[0];
    let object_id = s["objectId"]
        .as_str()
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .ok_or_else(|| bad("A subject's 'objectId' must be an object id (GUID)."))?
        .to_ascii_lowercase();
    let kind = match s["objectTypeName"].as_str() {
        Some(k @ ("User" | "Group")) => k.to_string(),
        _ => {
            return Err(bad(
                "A subject's 'objectTypeName' must be \"User\" or \"Group\".",
            ));
        }
    };
    let members: Vec<String> = s["links"]["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["objectId"].as_str().map(str::to_ascii_lowercase))
        .collect();
    if kind == "User" && !members.is_empty() {
        return Err(bad("Only a Group subject may have 'links.members'."));
    }
    if members.len() > ON_DEMAND_MEMBERS {
        return Err(bad(&format!(
            "At most {ON_DEMAND_MEMBERS} members of a group can be provisioned on demand per call; got {}.",
            members.len()
        )));
    }
    Ok(OnDemand {
        rule_id,
        subject: Subject {
            object_id,
            kind,
            members,
        },
    })
}

/// `lastExecution` of a cycle.
pub fn execution(began: &str, state: &str, error: Option<(&str, &str)>, counts: &Value) -> Value {
    json!({
        "activityIdentifier": uuid::Uuid::new_v4().to_string(),
        "countEntitled": counts["entitled"],
        "countEntitledForProvisioning": counts["entitled"],
        "countEscrowed": 0,
        "countEscrowedRaw": 0,
        "countExported": counts["exported"],
        "countExports": counts["exported"],
        "countImported": counts["entitled"],
        "countImportedDeltas": 0,
        "countImportedReferenceDeltas": 0,
        "error": error.map(|(code, message)| json!({"code": code, "message": message, "tenantActionable": true})),
        "state": state,
        "timeBegan": began,
        "timeEnded": now_rfc3339(),
    })
}

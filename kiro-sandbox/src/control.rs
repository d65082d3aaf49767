//! The `/_sandbox` control API used by tests and benchmarks: no auth, no faults, no lag,
//! not counted. Errors are `{"error":"…"}`.
//!
//! - `GET  /_sandbox/health` → `{"ok":true}`
//! - `POST /_sandbox/tenants` `{}` → 201 `{tenant_id, client_id, client_secret, domain}`
//! - `GET|PUT /_sandbox/faults` (PUT: any subset of the flat fields, which apply to every
//!   service, and per-service overrides `{"login"|"graph"|"kiro": {…}}`; global
//!   `replication_lag_ms`, `instantiate_false_404_rate` and `lost_answer_rate`, the share of
//!   writes carried out whose answer is then dropped) → the effective settings per service
//! - `GET /_sandbox/counts` → `{"counts":{op: n}}`; `DELETE` resets → 204
//! - `GET /_sandbox/counts/wait?prefix=kiro.ListUsers&at_least=1&timeout_ms=60000` answers
//!   once the counts whose operation starts with `prefix` add up to `at_least` → 200
//!   `{"total": n}`, or 408 `{"error", "total"}` when `timeout_ms` (default 60 s) passes first:
//!   how a test acts "while the provider waits" without sleeping
//! - `POST|DELETE /_sandbox/kill_point`, `GET /_sandbox/kill_point/wait`: freeze the services
//!   at one chosen request so a test can kill its client there (see `kill_point.rs`)
//! - `GET /_sandbox/tenants/{t}/objects` → applications, service_principals, deleted_items,
//!   users, groups (with `members`), assignments (ignoring lag)
//! - `PATCH /_sandbox/tenants/{t}/applications/{id}` raw merge (drift) → 200 object;
//! - `PATCH /_sandbox/tenants/{t}/service_principals/{id}` raw merge of an enterprise
//!   application (a portal change, e.g. "Assignment required?") → 200 object;
//!   `DELETE` the same path → 204 (out-of-band delete)
//! - `POST /_sandbox/tenants/{t}/federated_tokens` `{client_id, token}` → 204
//! - workload identity (federated credentials, OIDC tokens, GitHub / Azure DevOps requesters,
//!   App Service identity): see `control_identity.rs`
//! - `POST /_sandbox/tenants/{t}/certificates` `{client_id, thumbprint}` → 204 (`thumbprint`
//!   is compared with the assertion's `x5t`/`x5t#S256` header as is, e.g. base64url SHA-1)
//! - `POST /_sandbox/tenants/{t}/bearer_tokens` `{token}` → 204: Graph accepts this externally
//!   issued access token (e.g. from a fake `az account get-access-token`) for the tenant
//! - `POST /_sandbox/replication/flush` → 204: every object, pending change (application,
//!   service principal) and assignment of every tenant is visible to Graph reads now
//! - `GET|PUT /_sandbox/settings` (PUT: any of `{page_size, domain_auto_verify_ms,
//!   profile_activation_ms}`) → the settings; `page_size` (1–999, default 5) is the page length
//!   of user, group, member and assignment lists without `$top`, and of Kiro lists without
//!   `maxResults` (capped at 100); `domain_auto_verify_ms` (default null = off) verifies a
//!   PENDING login domain that long after association even without its TXT record;
//!   `profile_activation_ms` (default 0) is how long a new profile stays CREATING
//! - `POST /_sandbox/tenants/{t}/users` `{displayName, department?}` → 201 user (its user
//!   principal name is made from the name on the tenant's domain); `DELETE …/users/{id}` → 204, also removing its
//!   group memberships and assignments. New users and groups reach Graph reads after the
//!   replication lag, like ones an admin adds.
//! - `POST /_sandbox/tenants/{t}/groups` `{displayName, members?: [ids], member_count?: n}`
//!   (`member_count` makes n new users and adds them) → 201 group with `members` (ids);
//!   `DELETE …/groups/{id}` → 204
//! - `POST /_sandbox/tenants/{t}/assignments` `{principalId, resourceId, appRoleId}` → 201
//!   assignment: made "in the portal", with Graph's rules but visible at once;
//!   `DELETE …/assignments/{id}` → 204 (out-of-band removal)
//! - `GET /_sandbox/tenants/{t}/objects` also lists `sync_jobs`: `{service_principal_id, job
//!   (as Graph shows it), secrets (masked), entry_errors, schema}`
//! - `POST /_sandbox/tenants/{t}/provisioning/run` `{service_principal_id}` → 200 the summary of
//!   one provisioning cycle run now `{state, error, counts, entryErrors, quarantined}`; 409 when
//!   the job cannot run (no job, no secrets)
//! - `PATCH /_sandbox/tenants/{t}/service_principals/{sp}/synchronization/schema`
//!   `{"rule": "users"|"groups", "target": "externalId", "source": "[mail]" | null}` (null
//!   deletes the mapping) or `{"schema": {…}}` (whole replacement, no checks): a portal edit →
//!   200 the schema
//! - `DELETE /_sandbox/tenants/{t}/service_principals/{sp}/synchronization/job` → 204: the job
//!   deleted in the portal (its secrets stay); `PATCH` of the same path `{"quarantine": {…} |
//!   null, "lastExecution": {…} | null}` sets what Entra records of the job's cycles (left-out
//!   members unchanged) → 200 the job as Graph shows it
//! - `GET /_sandbox/tenants/{t}/service_principals/{sp}/synchronization/secret_token` → 200
//!   `{value}`: the saved token unmasked, for tests proving it never reaches Terraform's files
//! - settings `sync_lag_ms` (default 0: synchronization calls answer 401/403/409 that long
//!   after the service principal appears) and `provisioning_interval_ms` (default null = off:
//!   Active jobs run a cycle that often)
//!
//! Kiro (profiles are named by `arn`, in any account; errors name the admin API's error type):
//! - `POST /_sandbox/aws/accounts` `{}` → 201 `{account_id, access_key_id,
//!   secret_access_key}`; `{"session": true}` adds `session_token`, which every request
//!   signed with that key must then carry as `X-Amz-Security-Token`
//! - `GET /_sandbox/kiro/{account}/{region}/objects` → `{profiles, domains, tokens, users,
//!   groups, assignments}`: profiles as ListProfiles shows them; the others each with
//!   `profileArn`; tokens without secrets; users `{id, userName, externalId, displayName,
//!   active}` and groups `{id, displayName, externalId, members}` from the SCIM directories;
//!   pending domains are re-checked first
//! - `PATCH /_sandbox/kiro/profiles?arn=…` `{profileName?, description? (null removes),
//!   tags?: [{key, value}] (replaces), issuerUrl?, clientId?}` → 200 profile: a console
//!   change, no rule checks (the identity source too, which the admin API cannot change);
//!   `DELETE /_sandbox/kiro/profiles?arn=…` → 204, with everything of the profile
//! - `PATCH /_sandbox/kiro/tokens?arn=…&token_id=…&expires_in_s=N` moves the token's expiry to
//!   N seconds from now (negative: expired) → 204
//! - `DELETE /_sandbox/kiro/domains?arn=…&domain=…`, `DELETE /_sandbox/kiro/tokens?arn=…&token_id=…`,
//!   `DELETE /_sandbox/kiro/assignments?arn=…&principal_id=…` → 204 (out-of-band removals)
//! - `POST /_sandbox/kiro/domains/fail?arn=…&domain=…` → 200 domain, now FAILED (stands in for
//!   72 hours without the TXT record)
//! - `POST /_sandbox/kiro/users?arn=…` `{userName, externalId?, displayName?}` → 201 user and
//!   `POST /_sandbox/kiro/groups?arn=…` `{displayName, externalId?, members?: [ids]}` → 201
//!   group: synced identities "as if SCIM delivered them"; `DELETE
//!   /_sandbox/kiro/users?arn=…&id=…` → 204 (its assignments then list as CANCELED)
//!
//! STS (`/sts/`, the query protocol; see `sts/mod.rs`):
//! - `POST /_sandbox/aws/roles` `{account_id, name, max_session_duration? (3600–43200,
//!   default 3600), trust: {principals: [account id | arn:aws:iam::<acct>:root | principal
//!   ARN], external_id?, web_identity?: {issuer, audience, subject? (trailing * matches the
//!   rest)}}}` → 201 role `{arn, role_id, account_id, name, …}` in an existing sandbox account
//! - `POST /_sandbox/aws/web_identity_tokens` `{issuer, audience, subject, lifetime_secs?
//!   (default 600, negative: expired)}` → 201 `{token}`: a JWT the sandbox's STS accepts
//! - `GET /_sandbox/aws/sessions` → `{sessions: [{access_key_id, role_arn, assumed_role_arn,
//!   session_name, source, tags, duration_seconds}]}`: what STS issued (no secrets)
//!
//! - `PUT /_sandbox/dns/txt` `{name, values: [..]}` → 204 (an empty list removes the name):
//!   the DNS stub answers these TXT records, and pending login domains see them at once;
//!   `GET /_sandbox/dns` → `{"txt": {name: [values]}}`

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::directory::{in_order, merge};
use entra::group_json;

#[path = "control_entra.rs"]
mod entra;
#[path = "control_identity.rs"]
mod identity;
#[path = "kiro/control.rs"]
mod kiro;
#[path = "sts/control.rs"]
mod sts;
use crate::faults::FaultSettingsPatch;
use crate::state::{Client, Sandbox, Tenant, now_rfc3339};

type Sb = State<Arc<Sandbox>>;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(
            "/_sandbox/health",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .route("/_sandbox/tenants", post(create_tenant))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/counts", get(get_counts).delete(reset_counts))
        .route("/_sandbox/counts/wait", get(wait_for_count))
        .route("/_sandbox/tenants/{tenant}/objects", get(objects))
        .route(
            "/_sandbox/tenants/{tenant}/applications/{id}",
            patch(drift_application).delete(delete_application),
        )
        .route(
            "/_sandbox/tenants/{tenant}/service_principals/{id}",
            patch(drift_service_principal),
        )
        .route(
            "/_sandbox/tenants/{tenant}/federated_tokens",
            post(add_federated_token),
        )
        .route(
            "/_sandbox/tenants/{tenant}/certificates",
            post(add_certificate),
        )
        .route(
            "/_sandbox/tenants/{tenant}/bearer_tokens",
            post(add_bearer_token),
        )
        .merge(entra::router())
        .merge(identity::router())
        .merge(kiro::router())
        .merge(sts::router())
        .merge(crate::provisioning::control::router())
        .merge(crate::kill_point::router())
}

/// A control API failure, answered as `{"error":"…"}`.
struct Fail(StatusCode, String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"error": self.1}))).into_response()
    }
}

fn fail(status: StatusCode, message: impl Into<String>) -> Fail {
    Fail(status, message.into())
}

type Answer = Result<Response, Fail>;

/// Parses a JSON body; an empty body reads as `{}`.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Fail> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

async fn tenant(sb: &Sandbox, key: &str) -> Result<Arc<tokio::sync::Mutex<Tenant>>, Fail> {
    sb.tenant(key)
        .await
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("unknown tenant '{key}'")))
}

async fn create_tenant(State(sb): Sb, bytes: Bytes) -> Answer {
    body::<serde_json::Map<String, Value>>(&bytes)?;
    let info = sb.create_tenant().await;
    tracing::info!(tenant = %info.tenant_id, "sandbox tenant created");
    Ok((StatusCode::CREATED, axum::Json(info)).into_response())
}

async fn get_faults(State(sb): Sb) -> Response {
    axum::Json(sb.faults.settings()).into_response()
}

async fn put_faults(State(sb): Sb, bytes: Bytes) -> Answer {
    let patch: FaultSettingsPatch = body(&bytes)?;
    let settings = sb
        .faults
        .update(&patch)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, e))?;
    Ok(axum::Json(settings).into_response())
}

async fn get_counts(State(sb): Sb) -> Response {
    axum::Json(json!({"counts": sb.faults.counts.snapshot()})).into_response()
}

#[derive(Deserialize)]
struct CountWait {
    prefix: String,
    at_least: u64,
    timeout_ms: Option<u64>,
}

async fn wait_for_count(State(sb): Sb, Query(wait): Query<CountWait>) -> Response {
    let timeout = Duration::from_millis(wait.timeout_ms.unwrap_or(60_000));
    let total = sb
        .faults
        .counts
        .wait_for(&wait.prefix, wait.at_least, timeout)
        .await;
    if total >= wait.at_least {
        return axum::Json(json!({"total": total})).into_response();
    }
    let error = format!(
        "{} request(s) starting with {:?} within {timeout:?}; {total} arrived",
        wait.at_least, wait.prefix
    );
    let body = json!({"error": error, "total": total});
    (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}

async fn reset_counts(State(sb): Sb) -> Response {
    sb.faults.counts.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// Every object of the tenant, ignoring replication lag.
async fn objects(State(sb): Sb, Path(key): Path<String>) -> Answer {
    let t = tenant(&sb, &key).await?;
    let t = t.lock().await;
    let dir = &t.directory;
    let all = |m| {
        in_order(m)
            .into_iter()
            .map(|s| Value::Object(s.obj.clone()))
            .collect::<Vec<_>>()
    };
    let groups: Vec<Value> = dir.groups.iter().map(group_json).collect();
    Ok(axum::Json(json!({
        "applications": all(&dir.applications),
        "service_principals": all(&dir.service_principals),
        "deleted_items": all(&dir.deleted),
        "users": dir.users,
        "groups": groups,
        "assignments": all(&dir.assignments),
        "sync_jobs": crate::provisioning::control::jobs_json(&t),
    }))
    .into_response())
}

/// A change made in the portal: raw merge, no rule checks, visible at once.
async fn drift_application(
    State(sb): Sb,
    Path((key, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let patch: serde_json::Map<String, Value> = body(&bytes)?;
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    let id = id.to_ascii_lowercase();
    let stored = t
        .directory
        .applications
        .get_mut(&id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("unknown application '{id}'")))?;
    let obj = merged_now(stored, &patch);
    t.directory.sync_service_principal(&id, Duration::ZERO);
    Ok(axum::Json(Value::Object(obj)).into_response())
}

/// `patch` merged into the newest version of `stored`, visible at once (a portal change).
fn merged_now(
    stored: &mut crate::directory::Stored,
    patch: &serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    let mut next = stored.obj.clone();
    merge(&mut next, patch);
    stored.update(next.clone(), Duration::ZERO);
    next
}

/// A change made in the portal to an enterprise application, visible at once.
async fn drift_service_principal(
    State(sb): Sb,
    Path((key, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let patch: serde_json::Map<String, Value> = body(&bytes)?;
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    let id = id.to_ascii_lowercase();
    let stored = t.directory.service_principals.get_mut(&id).ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            format!("unknown service principal '{id}'"),
        )
    })?;
    let obj = merged_now(stored, &patch);
    Ok(axum::Json(Value::Object(obj)).into_response())
}

/// An out-of-band delete (the app lands in deleted items; its service principal goes).
async fn delete_application(State(sb): Sb, Path((key, id)): Path<(String, String)>) -> Answer {
    let t = tenant(&sb, &key).await?;
    let mut t = t.lock().await;
    t.directory
        .delete_application(&id, &now_rfc3339())
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("unknown application '{id}'")))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FederatedToken {
    client_id: String,
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Certificate {
    client_id: String,
    thumbprint: String,
}

async fn add_federated_token(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: FederatedToken = body(&bytes)?;
    with_client(&sb, &key, &req.client_id, |c| {
        c.federated_tokens.insert(req.token.clone());
    })
    .await
}

async fn add_certificate(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: Certificate = body(&bytes)?;
    with_client(&sb, &key, &req.client_id, |c| {
        c.cert_thumbprints.insert(req.thumbprint.clone());
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BearerToken {
    token: String,
}

async fn add_bearer_token(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: BearerToken = body(&bytes)?;
    let token = req.token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "token must be non-empty and without whitespace",
        ));
    }
    let tenant_id = tenant(&sb, &key).await?.lock().await.id.clone();
    sb.accept_token(token, &tenant_id, "");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn with_client(
    sb: &Sandbox,
    key: &str,
    client_id: &str,
    f: impl FnOnce(&mut Client),
) -> Answer {
    let t = tenant(sb, key).await?;
    let mut t = t.lock().await;
    let client = t
        .clients
        .get_mut(&client_id.to_ascii_lowercase())
        .ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                format!("unknown client '{client_id}' in tenant '{key}'"),
            )
        })?;
    f(client);
    Ok(StatusCode::NO_CONTENT.into_response())
}

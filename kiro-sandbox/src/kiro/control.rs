//! Control API routes for AWS accounts, Kiro's objects and the DNS stub (documented in the
//! module comment of `control.rs`, whose helpers this child module uses).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Fail, Sb, body, fail};
use crate::kiro::store::{DomainStatus, epoch_now};
use crate::kiro::{ApiError, base_url, ops, timing};
use crate::scim::{ScimGroup, ScimUser};
use crate::state::Sandbox;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/aws/accounts", post(create_account))
        .route("/_sandbox/kiro/{account}/{region}/objects", get(objects))
        .route(
            "/_sandbox/kiro/profiles",
            axum::routing::patch(drift_profile).delete(delete_profile),
        )
        .route("/_sandbox/kiro/domains", delete(delete_domain))
        .route("/_sandbox/kiro/domains/fail", post(fail_domain))
        .route(
            "/_sandbox/kiro/tokens",
            delete(delete_token).patch(expire_token),
        )
        .route("/_sandbox/kiro/assignments", delete(delete_assignment))
        .route("/_sandbox/kiro/users", post(add_user).delete(remove_user))
        .route("/_sandbox/kiro/groups", post(add_group))
        .route("/_sandbox/dns/txt", put(put_txt))
        .route("/_sandbox/dns", get(get_dns))
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        fail(e.status(), format!("{}: {}", e.kind, e.message))
    }
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Fail> {
    q.get(name).map(String::as_str).ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            format!("the query parameter '{name}' is required"),
        )
    })
}

/// Runs `f` on the profile named by the `arn` parameter, in whatever account.
fn on_profile<T>(
    sb: &Sandbox,
    q: &HashMap<String, String>,
    f: impl FnOnce(&mut crate::kiro::store::Profile) -> Result<T, ApiError>,
) -> Result<T, Fail> {
    let arn = param(q, "arn")?;
    Ok(sb.kiro.with_any_profile(arn, timing(sb), f)?)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    #[serde(default)]
    session: bool,
}

async fn create_account(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: NewAccount = body(&bytes)?;
    let account = sb.kiro.create_account(req.session);
    tracing::info!(account = %account.account_id, "sandbox AWS account created");
    Ok((StatusCode::CREATED, axum::Json(account)).into_response())
}

fn control_user(u: &ScimUser) -> Value {
    json!({
        "id": u.id,
        "userName": u.user_name,
        "externalId": u.external_id,
        "displayName": u.display_name,
        "active": u.active,
    })
}

fn control_group(g: &ScimGroup) -> Value {
    json!({
        "id": g.id,
        "displayName": g.display_name,
        "externalId": g.external_id,
        "members": g.members,
    })
}

fn with_arn(arn: &str, mut v: Value) -> Value {
    v["profileArn"] = json!(arn);
    v
}

/// Everything of one account and region, domains refreshed, token secrets never shown.
async fn objects(
    State(sb): Sb,
    Path((account, region)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let base = base_url(&headers);
    let kiro = &sb.kiro;
    let per_profile = kiro.each_profile(&account, &region, timing(&sb), |p| {
        let domains: Vec<Value> = p
            .domains
            .iter()
            .map(|d| with_arn(&p.arn, d.json()))
            .collect();
        let tokens: Vec<Value> = p
            .tokens
            .iter()
            .map(|t| with_arn(&p.arn, t.json()))
            .collect();
        (
            p.json(&base, std::time::Instant::now()),
            p.arn.clone(),
            p.id.clone(),
            domains,
            tokens,
            p.assignments.clone(),
        )
    });
    let (mut profiles, mut domains, mut tokens) = (vec![], vec![], vec![]);
    let (mut users, mut groups, mut assignments) = (vec![], vec![], vec![]);
    // The SCIM directory is read after the Kiro state's lock is released.
    for (profile, arn, id, d, t, a) in per_profile {
        profiles.push(profile);
        domains.extend(d);
        tokens.extend(t);
        let synced_users = kiro.scim.users(&id);
        let synced_groups = kiro.scim.groups(&id);
        for a in &a {
            let synced = match a.principal_type.as_str() {
                "USER" => synced_users.iter().any(|u| u.id == a.principal_id),
                _ => synced_groups.iter().any(|g| g.id == a.principal_id),
            };
            assignments.push(with_arn(&arn, ops::assignment_json(a, synced)));
        }
        users.extend(synced_users.iter().map(|u| with_arn(&arn, control_user(u))));
        groups.extend(
            synced_groups
                .iter()
                .map(|g| with_arn(&arn, control_group(g))),
        );
    }
    Ok(axum::Json(json!({
        "profiles": profiles,
        "domains": domains,
        "tokens": tokens,
        "users": users,
        "groups": groups,
        "assignments": assignments,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProfileDrift {
    profile_name: Option<String>,
    /// `null` removes the description.
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    tags: Option<Vec<DriftTag>>,
    /// The identity source, which the admin API cannot change: a profile left pointing at
    /// another issuer or application.
    issuer_url: Option<String>,
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DriftTag {
    key: String,
    value: String,
}

/// Tells a member given as `null` (Some(None)) from an absent one (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A change made in the console: raw merge of name, description, tags and the identity
/// source's issuer and client id, no rule checks.
async fn drift_profile(
    State(sb): Sb,
    Query(q): Params,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let patch: ProfileDrift = body(&bytes)?;
    let base = base_url(&headers);
    let profile = on_profile(&sb, &q, |p| {
        if let Some(name) = patch.profile_name {
            p.name = name;
        }
        if let Some(d) = patch.description {
            p.description = d;
        }
        if let Some(tags) = patch.tags {
            p.tags = tags.into_iter().map(|t| (t.key, t.value)).collect();
        }
        if let Some(issuer) = patch.issuer_url {
            p.issuer_url = issuer;
        }
        if let Some(client_id) = patch.client_id {
            p.client_id = client_id;
        }
        Ok(p.json(&base, std::time::Instant::now()))
    })?;
    Ok(axum::Json(profile).into_response())
}

async fn delete_profile(State(sb): Sb, Query(q): Params) -> Answer {
    sb.kiro.delete_profile(param(&q, "arn")?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn domain_param(q: &HashMap<String, String>) -> Result<String, Fail> {
    Ok(param(q, "domain")?
        .trim_end_matches('.')
        .to_ascii_lowercase())
}

async fn delete_domain(State(sb): Sb, Query(q): Params) -> Answer {
    let domain = domain_param(&q)?;
    on_profile(&sb, &q, |p| {
        let before = p.domains.len();
        p.domains.retain(|d| d.name != domain);
        if p.domains.len() == before {
            return Err(ApiError::not_found(format!(
                "no domain '{domain}' in {}",
                p.arn
            )));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Stands in for "72 hours without the record": the domain is FAILED from now on.
async fn fail_domain(State(sb): Sb, Query(q): Params) -> Answer {
    let domain = domain_param(&q)?;
    let d = on_profile(&sb, &q, |p| {
        let d = p
            .domains
            .iter_mut()
            .find(|d| d.name == domain)
            .ok_or_else(|| ApiError::not_found(format!("no domain '{domain}' in {}", p.arn)))?;
        d.status = DomainStatus::Failed;
        d.verified_at = None;
        Ok(d.json())
    })?;
    Ok(axum::Json(d).into_response())
}

async fn delete_token(State(sb): Sb, Query(q): Params) -> Answer {
    let id = param(&q, "token_id")?.to_string();
    on_profile(&sb, &q, |p| {
        let before = p.tokens.len();
        p.tokens.retain(|t| t.id != id);
        if p.tokens.len() == before {
            return Err(ApiError::not_found(format!("no token '{id}' in {}", p.arn)));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Moves a token's expiry (`expires_in_s` from now; negative: already expired), as a year
/// passing would: the tests of expiry warnings and rotation cannot wait a year.
async fn expire_token(State(sb): Sb, Query(q): Params) -> Answer {
    let id = param(&q, "token_id")?.to_string();
    let seconds: i64 = param(&q, "expires_in_s")?
        .parse()
        .map_err(|_| ApiError::validation("expires_in_s must be a whole number of seconds"))?;
    let expires_at = epoch_now() + seconds;
    on_profile(&sb, &q, |p| {
        let token = p.tokens.iter_mut().find(|t| t.id == id);
        let token =
            token.ok_or_else(|| ApiError::not_found(format!("no token '{id}' in {}", p.arn)))?;
        token.expires_at = expires_at;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_assignment(State(sb): Sb, Query(q): Params) -> Answer {
    let principal = param(&q, "principal_id")?.to_string();
    on_profile(&sb, &q, |p| {
        let before = p.assignments.len();
        p.assignments.retain(|a| a.principal_id != principal);
        if p.assignments.len() == before {
            return Err(ApiError::not_found(format!(
                "no assignment of '{principal}' in {}",
                p.arn
            )));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewUser {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
}

/// A user "as if SCIM delivered it".
async fn add_user(State(sb): Sb, Query(q): Params, bytes: Bytes) -> Answer {
    let req: NewUser = body(&bytes)?;
    if req.user_name.trim().is_empty() {
        return Err(fail(StatusCode::BAD_REQUEST, "userName must not be empty"));
    }
    let dir = on_profile(&sb, &q, |p| Ok(p.id.clone()))?;
    let user = sb.kiro.scim.insert_user(
        &dir,
        ScimUser {
            user_name: req.user_name,
            external_id: req.external_id,
            display_name: req.display_name,
            active: true,
            ..ScimUser::default()
        },
    );
    Ok((StatusCode::CREATED, axum::Json(control_user(&user))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewGroup {
    display_name: String,
    external_id: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

/// A group "as if SCIM delivered it".
async fn add_group(State(sb): Sb, Query(q): Params, bytes: Bytes) -> Answer {
    let req: NewGroup = body(&bytes)?;
    if req.display_name.trim().is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "displayName must not be empty",
        ));
    }
    let dir = on_profile(&sb, &q, |p| Ok(p.id.clone()))?;
    let group = sb.kiro.scim.insert_group(
        &dir,
        ScimGroup {
            display_name: req.display_name,
            external_id: req.external_id,
            members: req.members,
            ..ScimGroup::default()
        },
    );
    Ok((StatusCode::CREATED, axum::Json(control_group(&group))).into_response())
}

async fn remove_user(State(sb): Sb, Query(q): Params) -> Answer {
    let id = param(&q, "id")?.to_string();
    let dir = on_profile(&sb, &q, |p| Ok(p.id.clone()))?;
    if !sb.kiro.scim.remove_user(&dir, &id) {
        return Err(fail(
            StatusCode::NOT_FOUND,
            format!("no synced user '{id}'"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TxtRecord {
    name: String,
    values: Vec<String>,
}

async fn put_txt(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: TxtRecord = body(&bytes)?;
    if crate::kiro::dns::normalize_name(&req.name).is_empty() {
        return Err(fail(StatusCode::BAD_REQUEST, "name must not be empty"));
    }
    sb.kiro.dns.set(&req.name, req.values);
    // Pending domains see the record at once, not only at the next tick.
    sb.kiro.refresh_all(timing(&sb));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_dns(State(sb): Sb) -> Response {
    axum::Json(json!({"txt": sb.kiro.dns.all()})).into_response()
}

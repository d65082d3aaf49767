//! The admin API's operations: request shapes, validation and answers, per `kiro-api.md`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::sigv4::Caller;
use super::store::{Assignment, NewProfile, Timing};
use super::{ApiError, CODEWHISPERER_PREFIX, Q_PREFIX};
use crate::scim::{ScimGroup, ScimUser};
use crate::state::Sandbox;

/// The largest page a list operation serves (`maxResults` 1–100).
pub const MAX_RESULTS: usize = 100;
const MAX_TAGS: usize = 50;
const OPENID_METADATA: &str = "/.well-known/openid-configuration";
const SUBSCRIPTION_TYPES: [&str; 3] = ["KIRO_PRO", "KIRO_PRO_PLUS", "KIRO_POWER"];

pub struct Ctx<'a> {
    pub sb: &'a Sandbox,
    pub caller: &'a Caller,
    pub base_url: String,
    pub timing: Timing,
    /// Page length when a list request has no `maxResults`.
    pub page_size: usize,
}

pub fn dispatch(
    ctx: &Ctx<'_>,
    prefix: &str,
    operation: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let op = operation;
    match (prefix, op) {
        (CODEWHISPERER_PREFIX, "CreateProfile") => create_profile(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "ListProfiles") => list_profiles(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "UpdateProfile") => update_profile(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "DeleteProfile") => delete_profile(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "TagResource") => tag_resource(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "UntagResource") => untag_resource(ctx, parse(body)?),
        (CODEWHISPERER_PREFIX, "ListTagsForResource") => list_tags(ctx, parse(body)?),
        (Q_PREFIX, "AssociateLoginDomain") => associate_domain(ctx, parse(body)?),
        (Q_PREFIX, "ListLoginDomains") => list_domains(ctx, parse(body)?),
        (Q_PREFIX, "DisassociateLoginDomain") => disassociate_domain(ctx, parse(body)?),
        (Q_PREFIX, "CreateScimAccessToken") => create_token(ctx, parse(body)?),
        (Q_PREFIX, "ListScimAccessTokens") => list_tokens(ctx, parse(body)?),
        (Q_PREFIX, "DeleteScimAccessToken") => delete_token(ctx, parse(body)?),
        (Q_PREFIX, "ListUsers") => list_users(ctx, parse(body)?),
        (Q_PREFIX, "ListGroups") => list_groups(ctx, parse(body)?),
        (Q_PREFIX, "CreateAssignment") => put_assignment(ctx, parse(body)?, false),
        (Q_PREFIX, "UpdateAssignment") => put_assignment(ctx, parse(body)?, true),
        (Q_PREFIX, "DeleteAssignment") => delete_assignment(ctx, parse(body)?),
        (Q_PREFIX, "ListAssignments") => list_assignments(ctx, parse(body)?),
        _ => Err(ApiError::unknown_operation(format!(
            "{prefix}.{op} is not an operation of this service."
        ))),
    }
}

fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::validation(format!("1 validation error detected: {e}")))
}

/// `maxResults` and `nextToken` of a list request.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Paging {
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// One page of `items`; the token is opaque to clients and bound to what it lists.
fn page<T>(
    ctx: &Ctx<'_>,
    items: Vec<T>,
    paging: &Paging,
    what: &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match paging.max_results {
        None => ctx.page_size.max(1),
        Some(n) if (1..=MAX_RESULTS as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {MAX_RESULTS}"
            )));
        }
    };
    let start = match &paging.next_token {
        None => 0,
        Some(token) => URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix(&format!("{what}:"))
                    .and_then(|n| n.parse().ok())
            })
            .ok_or_else(|| {
                ApiError::validation(format!("Invalid nextToken '{token}' for this list."))
            })?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next =
        (start + size < total).then(|| URL_SAFE_NO_PAD.encode(format!("{what}:{}", start + size)));
    Ok((page, next))
}

fn paged(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut v = json!({ key: items });
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    v
}

#[derive(Deserialize)]
struct Tag {
    key: String,
    value: String,
}

fn check_tags(tags: Vec<Tag>) -> Result<BTreeMap<String, String>, ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::validation(format!(
            "At most {MAX_TAGS} tags per resource; got {}.",
            tags.len()
        )));
    }
    let mut out = BTreeMap::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 || t.key.starts_with("aws:") {
            return Err(ApiError::validation(format!(
                "Tag key '{}' must be 1 to 128 characters and not start with 'aws:'.",
                t.key
            )));
        }
        if t.value.chars().count() > 256 {
            return Err(ApiError::validation(format!(
                "The value of tag '{}' is longer than 256 characters.",
                t.key
            )));
        }
        out.insert(t.key, t.value);
    }
    Ok(out)
}

/// `[a-zA-Z][a-zA-Z0-9_-]{0,99}`, the console's profile name rule.
fn check_profile_name(name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= 100 {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "1 validation error detected: Value '{name}' at 'profileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][a-zA-Z0-9_-]{{0,99}}"
        )))
    }
}

/// The issuer, from the issuer itself or its OpenID metadata document URL.
fn issuer(url: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if parsed.is_none() {
        return Err(ApiError::validation(format!(
            "issuerUrl '{url}' is not an absolute https URL of an OpenID issuer or of its {OPENID_METADATA} document."
        )));
    }
    let issuer = url.strip_suffix(OPENID_METADATA).unwrap_or(url);
    Ok(issuer.trim_end_matches('/').to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateProfile {
    profile_name: String,
    description: Option<String>,
    identity_source: IdentitySource,
    client_token: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentitySource {
    external_identity_provider: ExternalIdp,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExternalIdp {
    issuer_url: String,
    client_id: String,
    tenant_id: Option<String>,
}

fn create_profile(ctx: &Ctx<'_>, req: CreateProfile) -> Result<Value, ApiError> {
    check_profile_name(&req.profile_name)?;
    let idp = req.identity_source.external_identity_provider;
    if idp.client_id.trim().is_empty() {
        return Err(ApiError::validation(
            "identitySource.externalIdentityProvider.clientId must not be empty.",
        ));
    }
    if req
        .client_token
        .as_deref()
        .is_some_and(|t| t.is_empty() || t.len() > 256)
    {
        return Err(ApiError::validation(
            "clientToken must be 1 to 256 characters.",
        ));
    }
    let new = NewProfile {
        name: req.profile_name,
        description: req.description,
        issuer_url: issuer(&idp.issuer_url)?,
        client_id: idp.client_id,
        tenant_id: idp.tenant_id,
        tags: check_tags(req.tags.unwrap_or_default())?,
        client_token: req.client_token,
    };
    let c = ctx.caller;
    let arn = ctx
        .sb
        .kiro
        .create_profile(&c.account_id, &c.region, new, ctx.timing)?;
    Ok(json!({"profileArn": arn}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListProfiles {
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn list_profiles(ctx: &Ctx<'_>, req: ListProfiles) -> Result<Value, ApiError> {
    let c = ctx.caller;
    let all = ctx
        .sb
        .kiro
        .profiles_json(&c.account_id, &c.region, &ctx.base_url);
    let paging = Paging {
        max_results: req.max_results,
        next_token: req.next_token,
    };
    let (items, next) = page(ctx, all, &paging, "profiles")?;
    Ok(paged("profiles", items, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateProfile {
    profile_arn: String,
    profile_name: Option<String>,
    description: Option<String>,
}

/// Runs `f` on the caller's profile `arn`.
fn on_profile<T>(
    ctx: &Ctx<'_>,
    arn: &str,
    f: impl FnOnce(&mut super::store::Profile) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let c = ctx.caller;
    ctx.sb
        .kiro
        .with_profile(&c.account_id, &c.region, arn, ctx.timing, f)
}

fn update_profile(ctx: &Ctx<'_>, req: UpdateProfile) -> Result<Value, ApiError> {
    on_profile(ctx, &req.profile_arn, |_| Ok(()))?;
    if let Some(name) = &req.profile_name {
        check_profile_name(name)?;
        ctx.sb.kiro.rename(&req.profile_arn, name)?;
    }
    if let Some(d) = req.description {
        on_profile(ctx, &req.profile_arn, |p| {
            p.description = Some(d);
            Ok(())
        })?;
    }
    Ok(json!({"profileArn": req.profile_arn}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileArn {
    profile_arn: String,
}

fn delete_profile(ctx: &Ctx<'_>, req: ProfileArn) -> Result<Value, ApiError> {
    on_profile(ctx, &req.profile_arn, |_| Ok(()))?;
    ctx.sb.kiro.delete_profile(&req.profile_arn)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TagResource {
    resource_arn: String,
    tags: Vec<Tag>,
}

fn tag_resource(ctx: &Ctx<'_>, req: TagResource) -> Result<Value, ApiError> {
    let tags = check_tags(req.tags)?;
    on_profile(ctx, &req.resource_arn, |p| {
        let mut merged = p.tags.clone();
        merged.extend(tags);
        if merged.len() > MAX_TAGS {
            return Err(ApiError::validation(format!(
                "At most {MAX_TAGS} tags per resource."
            )));
        }
        p.tags = merged;
        Ok(json!({}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UntagResource {
    resource_arn: String,
    tag_keys: Vec<String>,
}

fn untag_resource(ctx: &Ctx<'_>, req: UntagResource) -> Result<Value, ApiError> {
    on_profile(ctx, &req.resource_arn, |p| {
        for k in &req.tag_keys {
            p.tags.remove(k);
        }
        Ok(json!({}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceArn {
    resource_arn: String,
}

fn list_tags(ctx: &Ctx<'_>, req: ResourceArn) -> Result<Value, ApiError> {
    on_profile(ctx, &req.resource_arn, |p| {
        Ok(json!({"tags": p.tags_json()}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DomainRequest {
    profile_arn: String,
    domain_name: String,
}

/// A lower-case DNS name of at least two labels (letters, digits, hyphens).
fn check_domain(name: &str) -> Result<String, ApiError> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    let ok = labels.len() >= 2
        && name.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(name)
    } else {
        Err(ApiError::validation(format!(
            "domainName '{name}' is not a domain name such as example.com."
        )))
    }
}

fn associate_domain(ctx: &Ctx<'_>, req: DomainRequest) -> Result<Value, ApiError> {
    let domain = check_domain(&req.domain_name)?;
    let c = ctx.caller;
    let d = ctx.sb.kiro.associate_domain(
        &c.account_id,
        &c.region,
        &req.profile_arn,
        &domain,
        ctx.timing,
    )?;
    Ok(json!({"loginDomain": d}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileList {
    profile_arn: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

impl ProfileList {
    fn paging(&self) -> Paging {
        Paging {
            max_results: self.max_results,
            next_token: self.next_token.clone(),
        }
    }
}

fn list_domains(ctx: &Ctx<'_>, req: ProfileList) -> Result<Value, ApiError> {
    let all = on_profile(ctx, &req.profile_arn, |p| {
        Ok(p.domains.iter().map(|d| d.json()).collect())
    })?;
    let (items, next) = page(ctx, all, &req.paging(), "domains")?;
    Ok(paged("loginDomains", items, next))
}

fn disassociate_domain(ctx: &Ctx<'_>, req: DomainRequest) -> Result<Value, ApiError> {
    let domain = req
        .domain_name
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    on_profile(ctx, &req.profile_arn, |p| {
        let before = p.domains.len();
        p.domains.retain(|d| d.name != domain);
        if p.domains.len() == before {
            return Err(ApiError::not_found(format!(
                "The domain '{domain}' is not associated with profile '{}'.",
                p.arn
            )));
        }
        Ok(json!({}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateToken {
    profile_arn: String,
    description: Option<String>,
}

fn create_token(ctx: &Ctx<'_>, req: CreateToken) -> Result<Value, ApiError> {
    on_profile(ctx, &req.profile_arn, |p| {
        ctx.sb.kiro.create_token(p, req.description)
    })
}

fn list_tokens(ctx: &Ctx<'_>, req: ProfileList) -> Result<Value, ApiError> {
    let all = on_profile(ctx, &req.profile_arn, |p| {
        Ok(p.tokens.iter().map(|t| t.json()).collect())
    })?;
    let (items, next) = page(ctx, all, &req.paging(), "tokens")?;
    Ok(paged("scimAccessTokens", items, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteToken {
    profile_arn: String,
    token_id: String,
}

fn delete_token(ctx: &Ctx<'_>, req: DeleteToken) -> Result<Value, ApiError> {
    on_profile(ctx, &req.profile_arn, |p| {
        let before = p.tokens.len();
        p.tokens.retain(|t| t.id != req.token_id);
        if p.tokens.len() == before {
            return Err(ApiError::not_found(format!(
                "SCIM access token '{}' was not found in profile '{}'.",
                req.token_id, p.arn
            )));
        }
        Ok(json!({}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListIdentities {
    profile_arn: String,
    filter: Option<IdentityFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentityFilter {
    external_id: Option<String>,
    user_name: Option<String>,
    display_name: Option<String>,
}

/// The profile's id (its SCIM directory), found without holding the state while SCIM runs.
fn directory(ctx: &Ctx<'_>, arn: &str) -> Result<String, ApiError> {
    on_profile(ctx, arn, |p| Ok(p.id.clone()))
}

pub fn user_json(u: &ScimUser) -> Value {
    let mut v = json!({"userId": u.id, "userName": u.user_name, "active": u.active});
    if let Some(e) = &u.external_id {
        v["externalId"] = json!(e);
    }
    if let Some(d) = &u.display_name {
        v["displayName"] = json!(d);
    }
    v
}

pub fn group_json(g: &ScimGroup) -> Value {
    let mut v =
        json!({"groupId": g.id, "displayName": g.display_name, "memberCount": g.members.len()});
    if let Some(e) = &g.external_id {
        v["externalId"] = json!(e);
    }
    v
}

fn list_users(ctx: &Ctx<'_>, req: ListIdentities) -> Result<Value, ApiError> {
    let dir = directory(ctx, &req.profile_arn)?;
    let f = req.filter.unwrap_or_default();
    if f.display_name.is_some() {
        return Err(ApiError::validation(
            "ListUsers filters on externalId and userName only.",
        ));
    }
    let users: Vec<Value> = ctx
        .sb
        .kiro
        .scim
        .users(&dir)
        .iter()
        .filter(|u| {
            f.external_id
                .as_ref()
                .is_none_or(|e| u.external_id.as_ref() == Some(e))
        })
        .filter(|u| {
            f.user_name
                .as_ref()
                .is_none_or(|n| u.user_name.eq_ignore_ascii_case(n))
        })
        .map(user_json)
        .collect();
    let paging = Paging {
        max_results: req.max_results,
        next_token: req.next_token,
    };
    let (items, next) = page(ctx, users, &paging, "users")?;
    Ok(paged("users", items, next))
}

fn list_groups(ctx: &Ctx<'_>, req: ListIdentities) -> Result<Value, ApiError> {
    let dir = directory(ctx, &req.profile_arn)?;
    let f = req.filter.unwrap_or_default();
    if f.user_name.is_some() {
        return Err(ApiError::validation(
            "ListGroups filters on externalId and displayName only.",
        ));
    }
    let groups: Vec<Value> = ctx
        .sb
        .kiro
        .scim
        .groups(&dir)
        .iter()
        .filter(|g| {
            f.external_id
                .as_ref()
                .is_none_or(|e| g.external_id.as_ref() == Some(e))
        })
        .filter(|g| {
            f.display_name
                .as_ref()
                .is_none_or(|n| g.display_name.eq_ignore_ascii_case(n))
        })
        .map(group_json)
        .collect();
    let paging = Paging {
        max_results: req.max_results,
        next_token: req.next_token,
    };
    let (items, next) = page(ctx, groups, &paging, "groups")?;
    Ok(paged("groups", items, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PutAssignment {
    profile_arn: String,
    principal_id: String,
    principal_type: String,
    subscription_type: String,
}

/// Whether the principal is a synced identity of the directory.
fn principal_exists(ctx: &Ctx<'_>, dir: &str, principal_type: &str, id: &str) -> bool {
    match principal_type {
        "USER" => ctx.sb.kiro.scim.users(dir).iter().any(|u| u.id == id),
        _ => ctx.sb.kiro.scim.groups(dir).iter().any(|g| g.id == id),
    }
}

fn check_principal_type(t: &str) -> Result<(), ApiError> {
    if matches!(t, "USER" | "GROUP") {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "principalType '{t}' must be USER or GROUP."
        )))
    }
}

/// CreateAssignment (`update` false) or UpdateAssignment (`update` true, a tier change).
fn put_assignment(ctx: &Ctx<'_>, req: PutAssignment, update: bool) -> Result<Value, ApiError> {
    check_principal_type(&req.principal_type)?;
    if !SUBSCRIPTION_TYPES.contains(&req.subscription_type.as_str()) {
        return Err(ApiError::validation(format!(
            "subscriptionType '{}' must be one of {}.",
            req.subscription_type,
            SUBSCRIPTION_TYPES.join(", ")
        )));
    }
    let dir = directory(ctx, &req.profile_arn)?;
    if !update && !principal_exists(ctx, &dir, &req.principal_type, &req.principal_id) {
        return Err(ApiError::not_found(format!(
            "No synced {} '{}' in profile '{}': principals must be provisioned through SCIM first.",
            req.principal_type.to_ascii_lowercase(),
            req.principal_id,
            req.profile_arn
        )));
    }
    on_profile(ctx, &req.profile_arn, |p| {
        let existing = p
            .assignments
            .iter_mut()
            .find(|a| a.principal_id == req.principal_id && a.principal_type == req.principal_type);
        match (existing, update) {
            (Some(_), false) => Err(ApiError::conflict(format!(
                "{} '{}' already has a subscription in this profile; use UpdateAssignment to change its tier.",
                req.principal_type, req.principal_id
            ))),
            (None, true) => Err(ApiError::not_found(format!(
                "{} '{}' has no subscription in profile '{}'.",
                req.principal_type, req.principal_id, p.arn
            ))),
            (Some(a), true) => {
                a.subscription_type = req.subscription_type;
                Ok(json!({}))
            }
            (None, false) => {
                p.assignments.push(Assignment {
                    principal_id: req.principal_id,
                    principal_type: req.principal_type,
                    subscription_type: req.subscription_type,
                });
                Ok(json!({}))
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteAssignment {
    profile_arn: String,
    principal_id: String,
    principal_type: String,
}

fn delete_assignment(ctx: &Ctx<'_>, req: DeleteAssignment) -> Result<Value, ApiError> {
    check_principal_type(&req.principal_type)?;
    on_profile(ctx, &req.profile_arn, |p| {
        let before = p.assignments.len();
        p.assignments.retain(|a| {
            !(a.principal_id == req.principal_id && a.principal_type == req.principal_type)
        });
        if p.assignments.len() == before {
            return Err(ApiError::not_found(format!(
                "{} '{}' has no subscription in profile '{}'.",
                req.principal_type, req.principal_id, p.arn
            )));
        }
        Ok(json!({}))
    })
}

/// An assignment as listed: ACTIVE while its principal is still synced, CANCELED after the
/// principal left the directory.
pub fn assignment_json(a: &Assignment, synced: bool) -> Value {
    json!({
        "principalId": a.principal_id,
        "principalType": a.principal_type,
        "subscriptionType": a.subscription_type,
        "status": if synced { "ACTIVE" } else { "CANCELED" },
    })
}

fn list_assignments(ctx: &Ctx<'_>, req: ProfileList) -> Result<Value, ApiError> {
    let (dir, assignments) = on_profile(ctx, &req.profile_arn, |p| {
        Ok((p.id.clone(), p.assignments.clone()))
    })?;
    let all = assignments
        .iter()
        .map(|a| {
            assignment_json(
                a,
                principal_exists(ctx, &dir, &a.principal_type, &a.principal_id),
            )
        })
        .collect();
    let (items, next) = page(ctx, all, &req.paging(), "assignments")?;
    Ok(paged("assignments", items, next))
}

//! Kiro's state: AWS accounts (access keys), and per account and region the profiles with
//! their login domains, SCIM access tokens and subscription assignments. Synced users and
//! groups live in the SCIM module's directory of each profile (keyed by profile id).
//!
//! Lock order: [`Kiro`]'s own mutex, then the TXT records' mutex. The SCIM directory is
//! never called while the mutex is held (its token check calls back into [`Kiro`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::dns::TxtRecords;
use super::sigv4::KeyInfo;
use crate::scim::{Scim, TokenCheck};

/// How long a `clientToken` makes CreateProfile idempotent.
pub const CLIENT_TOKEN_WINDOW: Duration = Duration::from_secs(8 * 3600);
/// Active SCIM access tokens a profile may have at once.
pub const MAX_SCIM_TOKENS: usize = 2;
/// Lifetime of a SCIM access token.
pub const SCIM_TOKEN_LIFETIME_SECS: i64 = 365 * 24 * 3600;
/// Prefix of the TXT record name that proves a login domain: `_kiro-verification.<domain>`.
pub const VERIFICATION_LABEL: &str = "_kiro-verification";

/// Credentials made by the control API.
#[derive(Clone, Debug, Serialize)]
pub struct AwsAccount {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DomainStatus {
    Pending,
    Verified,
    Failed,
}

pub struct Domain {
    pub name: String,
    pub status: DomainStatus,
    pub token: String,
    pub created_at: i64,
    associated: Instant,
    pub verified_at: Option<i64>,
}

impl Domain {
    pub fn record_name(&self) -> String {
        format!("{VERIFICATION_LABEL}.{}", self.name)
    }

    pub fn record_value(&self) -> String {
        format!("kiro-verification={}", self.token)
    }

    /// PENDING → VERIFIED when the TXT record is published, or when auto-verification is on
    /// and its delay has passed since association.
    fn refresh(&mut self, dns: &TxtRecords, auto_verify: Option<Duration>, now: Instant) {
        if self.status != DomainStatus::Pending {
            return;
        }
        let published = dns
            .values(&self.record_name())
            .iter()
            .any(|v| *v == self.record_value());
        let auto = auto_verify.is_some_and(|d| now >= self.associated + d);
        if published || auto {
            self.status = DomainStatus::Verified;
            self.verified_at = Some(epoch_now());
        }
    }

    pub fn json(&self) -> Value {
        let mut v = json!({
            "domainName": self.name,
            "status": self.status,
            "verificationToken": self.token,
            "verificationRecord": {
                "name": self.record_name(),
                "type": "TXT",
                "value": self.record_value(),
            },
            "createdAt": self.created_at,
        });
        if let Some(at) = self.verified_at {
            v["verifiedAt"] = json!(at);
        }
        v
    }
}

pub struct ScimToken {
    pub id: String,
    pub description: Option<String>,
    /// SHA-256 of the secret: the secret itself is shown once and never kept.
    secret_sha256: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

impl ScimToken {
    pub fn json(&self) -> Value {
        let mut v = json!({
            "tokenId": self.id,
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some(at) = self.last_used_at {
            v["lastUsedAt"] = json!(at);
        }
        v
    }
}

#[derive(Clone, Debug)]
pub struct Assignment {
    pub principal_id: String,
    pub principal_type: String,
    pub subscription_type: String,
}

pub struct Profile {
    pub id: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    pub issuer_url: String,
    pub client_id: String,
    pub tenant_id: Option<String>,
    pub created_at: i64,
    active_at: Instant,
    pub tags: BTreeMap<String, String>,
    pub domains: Vec<Domain>,
    pub tokens: Vec<ScimToken>,
    pub assignments: Vec<Assignment>,
}

impl Profile {
    pub fn status(&self, now: Instant) -> &'static str {
        if now < self.active_at {
            "CREATING"
        } else {
            "ACTIVE"
        }
    }

    pub fn scim_endpoint(&self, base_url: &str) -> String {
        format!("{base_url}/scim/{}/{}/scim/v2", self.region, self.id)
    }

    pub fn tags_json(&self) -> Value {
        Value::Array(
            self.tags
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect(),
        )
    }

    pub fn json(&self, base_url: &str, now: Instant) -> Value {
        let mut idp = json!({
            "issuerUrl": self.issuer_url,
            "clientId": self.client_id,
            "scimEndpoint": self.scim_endpoint(base_url),
        });
        if let Some(t) = &self.tenant_id {
            idp["tenantId"] = json!(t);
        }
        let mut v = json!({
            "arn": self.arn,
            "profileName": self.name,
            "status": self.status(now),
            "createdAt": self.created_at,
            "identityDetails": {"externalIdentityProviderDetails": idp},
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if !self.tags.is_empty() {
            v["tags"] = self.tags_json();
        }
        v
    }
}

/// What CreateProfile needs besides the caller.
pub struct NewProfile {
    pub name: String,
    pub description: Option<String>,
    pub issuer_url: String,
    pub client_id: String,
    pub tenant_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub client_token: Option<String>,
}

impl NewProfile {
    /// Everything but the client token, to tell a retry from a different request.
    fn fingerprint(&self) -> String {
        json!([
            self.name,
            self.description,
            self.issuer_url,
            self.client_id,
            self.tenant_id,
            self.tags
        ])
        .to_string()
    }
}

struct ClientTokenUse {
    arn: String,
    fingerprint: String,
    at: Instant,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, KeyInfo>,
    /// Every profile of every account and region, in creation order.
    profiles: Vec<Profile>,
    /// (account, region, clientToken) → the profile it made.
    client_tokens: HashMap<(String, String, String), ClientTokenUse>,
}

pub struct Kiro {
    inner: Mutex<Inner>,
    rng: Mutex<StdRng>,
    pub scim: Arc<Scim>,
    pub dns: Arc<TxtRecords>,
}

/// Timing switches read from the sandbox settings for each call.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub domain_auto_verify: Option<Duration>,
    pub profile_activation: Duration,
}

pub fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_string(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `arn:aws:codewhisperer:<region>:<account>:profile/<id>` → (region, account, id).
pub fn parse_arn(arn: &str) -> Result<(&str, &str, &str), ApiError> {
    let bad = || {
        ApiError::validation(format!(
            "profileArn '{arn}' is not a profile ARN (arn:aws:codewhisperer:<region>:<account>:profile/<id>)."
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [
        "arn",
        _partition,
        "codewhisperer",
        region,
        account,
        resource,
    ] = parts[..]
    else {
        return Err(bad());
    };
    let id = resource.strip_prefix("profile/").ok_or_else(bad)?;
    if region.is_empty() || account.is_empty() || id.is_empty() {
        return Err(bad());
    }
    Ok((region, account, id))
}

fn not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!("Profile '{arn}' was not found."))
}

impl Kiro {
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::default(),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x6b69_726f)),
            scim: Arc::new(Scim::new()),
            dns: Arc::new(TxtRecords::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn random(&self, alphabet: &[u8], len: usize) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        random_string(&mut rng, alphabet, len)
    }

    fn guid(&self) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        crate::state::new_guid(&mut *rng)
    }

    /// A new AWS account with one access key of its IAM user `sandbox` (and a session token
    /// when `session`).
    pub fn create_account(&self, session: bool) -> AwsAccount {
        let account_id = self.random(b"0123456789", 12);
        let principal_arn = format!("arn:aws:iam::{account_id}:user/sandbox");
        self.new_key(&account_id, principal_arn, session, None)
    }

    /// Temporary credentials (an `ASIA…` key with a session token) of `principal_arn` in
    /// `account_id`, valid until `expires_at`: what STS hands out for an assumed role.
    pub fn issue_session(
        &self,
        account_id: &str,
        principal_arn: String,
        expires_at: SystemTime,
    ) -> AwsAccount {
        self.new_key(account_id, principal_arn, true, Some(expires_at))
    }

    fn new_key(
        &self,
        account_id: &str,
        principal_arn: String,
        session: bool,
        expires_at: Option<SystemTime>,
    ) -> AwsAccount {
        let prefix = if session { "ASIA" } else { "AKIA" };
        let access_key_id = format!("{prefix}{}", self.random(UPPER_ALNUM, 16));
        const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let secret_access_key = self.random(SECRET, 40);
        let session_token = session.then(|| self.random(SECRET, 120));
        self.lock().keys.insert(
            access_key_id.clone(),
            KeyInfo {
                account_id: account_id.to_string(),
                secret: secret_access_key.clone(),
                session_token: session_token.clone(),
                principal_arn,
                expires_at,
            },
        );
        AwsAccount {
            account_id: account_id.to_string(),
            access_key_id,
            secret_access_key,
            session_token,
        }
    }

    /// True when some access key belongs to `account_id`.
    pub fn has_account(&self, account_id: &str) -> bool {
        self.lock()
            .keys
            .values()
            .any(|k| k.account_id == account_id)
    }

    pub fn key(&self, access_key_id: &str) -> Option<KeyInfo> {
        self.lock().keys.get(access_key_id).cloned()
    }

    /// Runs `f` on the profile `arn` of `account`/`region` with its domains refreshed.
    pub fn with_profile<T>(
        &self,
        account: &str,
        region: &str,
        arn: &str,
        timing: Timing,
        f: impl FnOnce(&mut Profile) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (arn_region, arn_account, _) = parse_arn(arn)?;
        if arn_region != region || arn_account != account {
            return Err(not_found(arn));
        }
        let mut inner = self.lock();
        let profile = inner
            .profiles
            .iter_mut()
            .find(|p| p.arn == arn)
            .ok_or_else(|| not_found(arn))?;
        self.refresh_profile(profile, timing);
        f(profile)
    }

    /// Like [`Kiro::with_profile`] for the control API: any account, found by ARN alone.
    pub fn with_any_profile<T>(
        &self,
        arn: &str,
        timing: Timing,
        f: impl FnOnce(&mut Profile) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (region, account, _) = parse_arn(arn)?;
        let (region, account) = (region.to_string(), account.to_string());
        self.with_profile(&account, &region, arn, timing, f)
    }

    fn refresh_profile(&self, profile: &mut Profile, timing: Timing) {
        let now = Instant::now();
        for d in &mut profile.domains {
            d.refresh(&self.dns, timing.domain_auto_verify, now);
        }
    }

    /// Re-checks every pending domain (the background tick).
    pub fn refresh_all(&self, timing: Timing) {
        let mut inner = self.lock();
        for p in &mut inner.profiles {
            self.refresh_profile(p, timing);
        }
    }

    /// Profiles of one account and region, each rendered, in creation order.
    pub fn profiles_json(&self, account: &str, region: &str, base_url: &str) -> Vec<Value> {
        let now = Instant::now();
        self.lock()
            .profiles
            .iter()
            .filter(|p| p.account_id == account && p.region == region)
            .map(|p| p.json(base_url, now))
            .collect()
    }

    /// Every profile's rendering of one account and region through `f`, refreshed first.
    pub fn each_profile<T>(
        &self,
        account: &str,
        region: &str,
        timing: Timing,
        mut f: impl FnMut(&Profile) -> T,
    ) -> Vec<T> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        for p in inner
            .profiles
            .iter_mut()
            .filter(|p| p.account_id == account && p.region == region)
        {
            self.refresh_profile(p, timing);
            out.push(f(p));
        }
        out
    }

    /// CreateProfile: idempotent per clientToken for 8 hours; names unique per account and
    /// region. Returns the profile ARN.
    pub fn create_profile(
        &self,
        account: &str,
        region: &str,
        new: NewProfile,
        timing: Timing,
    ) -> Result<String, ApiError> {
        let fingerprint = new.fingerprint();
        let token_key = new
            .client_token
            .as_ref()
            .map(|t| (account.to_string(), region.to_string(), t.clone()));
        {
            let mut inner = self.lock();
            let now = Instant::now();
            inner
                .client_tokens
                .retain(|_, u| now.duration_since(u.at) < CLIENT_TOKEN_WINDOW);
            if let Some(used) = token_key.as_ref().and_then(|k| inner.client_tokens.get(k)) {
                if used.fingerprint != fingerprint {
                    return Err(ApiError::conflict(
                        "clientToken was already used with different parameters; use a new clientToken for a different request.",
                    ));
                }
                if inner.profiles.iter().any(|p| p.arn == used.arn) {
                    return Ok(used.arn.clone());
                }
            }
            if inner
                .profiles
                .iter()
                .any(|p| p.account_id == account && p.region == region && p.name == new.name)
            {
                return Err(ApiError::conflict(format!(
                    "A profile named '{}' already exists in {region}.",
                    new.name
                )));
            }
        }
        let id = loop {
            let id = self.random(UPPER_ALNUM, 12);
            if !self.lock().profiles.iter().any(|p| p.id == id) {
                break id;
            }
        };
        // The directory exists before the profile is visible, so SCIM never meets a profile
        // without one.
        self.scim.create_directory(&id);
        let arn = format!("arn:aws:codewhisperer:{region}:{account}:profile/{id}");
        let mut inner = self.lock();
        // Another create with the same name may have won while the lock was released.
        if inner
            .profiles
            .iter()
            .any(|p| p.account_id == account && p.region == region && p.name == new.name)
        {
            drop(inner);
            self.scim.delete_directory(&id);
            return Err(ApiError::conflict(format!(
                "A profile named '{}' already exists in {region}.",
                new.name
            )));
        }
        inner.profiles.push(Profile {
            id,
            arn: arn.clone(),
            account_id: account.to_string(),
            region: region.to_string(),
            name: new.name,
            description: new.description,
            issuer_url: new.issuer_url,
            client_id: new.client_id,
            tenant_id: new.tenant_id,
            created_at: epoch_now(),
            active_at: Instant::now() + timing.profile_activation,
            tags: new.tags,
            domains: Vec::new(),
            tokens: Vec::new(),
            assignments: Vec::new(),
        });
        if let Some(key) = token_key {
            inner.client_tokens.insert(
                key,
                ClientTokenUse {
                    arn: arn.clone(),
                    fingerprint,
                    at: Instant::now(),
                },
            );
        }
        Ok(arn)
    }

    /// Renames a profile, keeping names unique per account and region.
    pub fn rename(&self, arn: &str, name: &str) -> Result<(), ApiError> {
        let mut inner = self.lock();
        let (account, region) = {
            let p = inner
                .profiles
                .iter()
                .find(|p| p.arn == arn)
                .ok_or_else(|| not_found(arn))?;
            (p.account_id.clone(), p.region.clone())
        };
        if inner.profiles.iter().any(|p| {
            p.arn != arn && p.account_id == account && p.region == region && p.name == name
        }) {
            return Err(ApiError::conflict(format!(
                "A profile named '{name}' already exists in {region}."
            )));
        }
        if let Some(p) = inner.profiles.iter_mut().find(|p| p.arn == arn) {
            p.name = name.to_string();
        }
        Ok(())
    }

    /// Deletes a profile with its domains, tokens, assignments and SCIM directory.
    pub fn delete_profile(&self, arn: &str) -> Result<(), ApiError> {
        let removed = {
            let mut inner = self.lock();
            let at = inner
                .profiles
                .iter()
                .position(|p| p.arn == arn)
                .ok_or_else(|| not_found(arn))?;
            inner.profiles.remove(at)
        };
        self.scim.delete_directory(&removed.id);
        Ok(())
    }

    /// AssociateLoginDomain under the lock, so two profiles never claim one domain.
    pub fn associate_domain(
        &self,
        account: &str,
        region: &str,
        arn: &str,
        domain: &str,
        timing: Timing,
    ) -> Result<Value, ApiError> {
        let token = self.random(b"0123456789abcdef", 32);
        let (arn_region, arn_account, _) = parse_arn(arn)?;
        if arn_region != region || arn_account != account {
            return Err(not_found(arn));
        }
        let mut inner = self.lock();
        if !inner.profiles.iter().any(|p| p.arn == arn) {
            return Err(not_found(arn));
        }
        if let Some(other) = inner
            .profiles
            .iter()
            .find(|p| p.arn != arn && p.domains.iter().any(|d| d.name == domain))
        {
            return Err(ApiError::conflict(format!(
                "The domain '{domain}' is already associated with another profile ({}).",
                other.arn
            )));
        }
        let profile = inner
            .profiles
            .iter_mut()
            .find(|p| p.arn == arn)
            .ok_or_else(|| not_found(arn))?;
        if !profile.domains.iter().any(|d| d.name == domain) {
            profile.domains.push(Domain {
                name: domain.to_string(),
                status: DomainStatus::Pending,
                token,
                created_at: epoch_now(),
                associated: Instant::now(),
                verified_at: None,
            });
        }
        self.refresh_profile(profile, timing);
        let d = profile
            .domains
            .iter()
            .find(|d| d.name == domain)
            .ok_or_else(|| ApiError::internal("the domain just associated is missing"))?;
        Ok(d.json())
    }

    /// CreateScimAccessToken: returns the token (with its secret, shown this once).
    pub fn create_token(
        &self,
        profile: &mut Profile,
        description: Option<String>,
    ) -> Result<Value, ApiError> {
        let now = epoch_now();
        let active = profile.tokens.iter().filter(|t| t.expires_at > now).count();
        if active >= MAX_SCIM_TOKENS {
            return Err(ApiError::quota(format!(
                "Quota 'Active SCIM access tokens per profile' ({MAX_SCIM_TOKENS}) reached for profile '{}'. Delete a token before creating another.",
                profile.arn
            )));
        }
        let secret = self.random(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            64,
        );
        let token = ScimToken {
            id: self.guid(),
            description,
            secret_sha256: sha256_hex(&secret),
            created_at: now,
            expires_at: now + SCIM_TOKEN_LIFETIME_SECS,
            last_used_at: None,
        };
        let v = json!({
            "tokenId": token.id,
            "token": secret,
            "createdAt": token.created_at,
            "expiresAt": token.expires_at,
        });
        profile.tokens.push(token);
        Ok(v)
    }
}

impl TokenCheck for Kiro {
    /// A SCIM bearer token is good for its profile's directory until deleted or expired;
    /// each good use sets `lastUsedAt`.
    fn check(&self, directory: &str, bearer: &str) -> bool {
        let hash = sha256_hex(bearer);
        let now = epoch_now();
        let mut inner = self.lock();
        let Some(profile) = inner.profiles.iter_mut().find(|p| p.id == directory) else {
            return false;
        };
        match profile
            .tokens
            .iter_mut()
            .find(|t| t.secret_sha256 == hash && t.expires_at > now)
        {
            Some(t) => {
                t.last_used_at = Some(now);
                true
            }
            None => false,
        }
    }
}

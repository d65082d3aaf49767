//! Shared sandbox state: tenants (each with its own directory), issued access tokens,
//! fault settings and counters. One module per service area hangs its data off [`Tenant`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::{Mutex, RwLock};

use crate::directory::Directory;
use crate::faults::{FaultSettings, Faults};
use crate::kiro::store::Kiro;
use crate::seed;
use crate::sts::roles::Sts;

/// Lifetime of issued access tokens (`expires_in` is one second less, like Entra).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Everything a Terraform identity needs to sign in to one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub domain: String,
}

/// A client (the identity Terraform runs as) that may sign in to a tenant.
#[derive(Debug, Default)]
pub struct Client {
    pub secret: String,
    /// Exact federated (OIDC) tokens accepted as `client_assertion`.
    pub federated_tokens: HashSet<String>,
    /// Certificate thumbprints (`x5t` / `x5t#S256` header) accepted for signed assertions.
    pub cert_thumbprints: HashSet<String>,
    /// Federated identity credentials: assertions from these issuers and subjects, for one of
    /// the audiences, signed by the sandbox's OIDC key, are accepted.
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A federated identity credential, as Graph's `federatedIdentityCredential`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

pub struct Tenant {
    pub id: String,
    /// Verified domains; the first is the initial `*.onmicrosoft.com` domain.
    pub domains: Vec<String>,
    /// Keyed by lower-case client id.
    pub clients: HashMap<String, Client>,
    pub directory: Directory,
    /// Provisioning (synchronization) secrets and jobs, keyed by lower-case service principal id.
    pub sync: crate::graph::sync::SyncStore,
    rng: StdRng,
}

impl Tenant {
    pub fn new(id: &str, domain: &str, sandbox_seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(mix(sandbox_seed, id));
        let (users, groups) = seed::people(&mut rng, domain);
        Self {
            id: id.to_string(),
            domains: vec![domain.to_string()],
            clients: HashMap::new(),
            directory: Directory::new(users, groups),
            sync: Default::default(),
            rng,
        }
    }

    pub fn domain(&self) -> &str {
        &self.domains[0]
    }

    /// A new object id, deterministic for a given seed, tenant and order of creation.
    pub fn new_guid(&mut self) -> String {
        new_guid(&mut self.rng)
    }

    /// A new app role assignment id: like Entra's, 43 url-safe base64 characters (32 bytes,
    /// here the principal's id followed by 16 random bytes), opaque to clients.
    pub fn new_assignment_id(&mut self, principal_id: &str) -> String {
        use base64::Engine;
        let principal = uuid::Uuid::parse_str(principal_id).unwrap_or_default();
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(principal.as_bytes());
        self.rng.fill(&mut bytes[16..]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// Sandbox-wide settings that are not faults (`GET|PUT /_sandbox/settings`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Page size of user, group, member and app role assignment lists when the request
    /// has no `$top`; small by default so tests cross page boundaries.
    /// Kiro lists without `maxResults` use it too (at most 100).
    pub page_size: usize,
    /// When set, a PENDING login domain turns VERIFIED this long after association even
    /// without its TXT record.
    pub domain_auto_verify_ms: Option<u64>,
    /// How long a new Kiro profile stays CREATING before it is ACTIVE.
    pub profile_activation_ms: u64,
    /// How long after a service principal appears its synchronization calls still fail
    /// (401/403/409), like Entra's provisioning service catching up.
    pub sync_lag_ms: u64,
    /// When set, an Active provisioning job runs a cycle this often (Entra: every 40 minutes).
    pub provisioning_interval_ms: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            page_size: 5,
            domain_auto_verify_ms: None,
            profile_activation_ms: 0,
            sync_lag_ms: 0,
            provisioning_interval_ms: None,
        }
    }
}

/// A partial update of [`Settings`]: omitted fields keep their value.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub page_size: Option<usize>,
    /// `null` turns auto-verification off; absent keeps the value.
    #[serde(default, deserialize_with = "present")]
    pub domain_auto_verify_ms: Option<Option<u64>>,
    pub profile_activation_ms: Option<u64>,
    pub sync_lag_ms: Option<u64>,
    /// `null` turns periodic provisioning cycles off; absent keeps the value.
    #[serde(default, deserialize_with = "present")]
    pub provisioning_interval_ms: Option<Option<u64>>,
}

/// Tells a member given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    <Option<u64> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The largest page Graph serves (`$top` is capped at 999).
pub const MAX_PAGE_SIZE: usize = 999;

#[derive(Clone, Debug)]
pub struct TokenInfo {
    pub tenant_id: String,
    /// The client the token was issued to; empty for an externally issued token.
    /// Only tests read it so far; a library crate warns where the binary did not.
    #[allow(dead_code)]
    pub client_id: String,
    pub expires_at: Instant,
}

pub struct Sandbox {
    seed: u64,
    /// Keyed by lower-case tenant id.
    tenants: RwLock<HashMap<String, Arc<Mutex<Tenant>>>>,
    /// Lower-case domain → tenant id, so the login endpoint accepts either.
    domains: RwLock<HashMap<String, String>>,
    tokens: StdMutex<HashMap<String, TokenInfo>>,
    rng: StdMutex<StdRng>,
    settings: StdMutex<Settings>,
    pub faults: Faults,
    /// Kiro's admin API state, keyed by AWS account and region (not per Entra tenant).
    pub kiro: Arc<Kiro>,
    /// STS: roles and their trust policies, issued sessions (keys live in `kiro`).
    pub sts: Arc<Sts>,
    /// The emulated OIDC issuers and managed identity endpoints.
    pub identity: crate::identity::IdentityState,
    /// Where the services freeze so a test can kill its client there (`kill_point.rs`).
    pub kill_point: crate::kill_point::KillPoint,
}

impl Sandbox {
    pub fn new(seed: u64, faults: FaultSettings) -> Self {
        let kiro = Arc::new(Kiro::new(seed));
        Self {
            seed,
            tenants: RwLock::default(),
            domains: RwLock::default(),
            tokens: StdMutex::default(),
            rng: StdMutex::new(StdRng::seed_from_u64(seed)),
            settings: StdMutex::default(),
            faults: Faults::new(faults, seed),
            kiro: kiro.clone(),
            sts: Arc::new(Sts::new(seed, kiro)),
            identity: Default::default(),
            kill_point: Default::default(),
        }
    }

    /// Adds a seeded tenant with one client; an existing tenant id is replaced.
    pub async fn add_tenant(&self, tenant_id: &str, client_id: &str, secret: &str, domain: &str) {
        let tenant_id = tenant_id.to_ascii_lowercase();
        let mut tenant = Tenant::new(&tenant_id, domain, self.seed);
        tenant.clients.insert(
            client_id.to_ascii_lowercase(),
            Client {
                secret: secret.to_string(),
                ..Client::default()
            },
        );
        self.domains
            .write()
            .await
            .insert(domain.to_ascii_lowercase(), tenant_id.clone());
        self.tenants
            .write()
            .await
            .insert(tenant_id, Arc::new(Mutex::new(tenant)));
    }

    /// A fresh isolated tenant with random (seeded) ids and a random secret.
    pub async fn create_tenant(&self) -> TenantInfo {
        let (tenant_id, client_id, secret) = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            let tenant_id = new_guid(&mut rng);
            let client_id = new_guid(&mut rng);
            let secret = random_secret(&mut rng);
            (tenant_id, client_id, secret)
        };
        let domain = format!("t{}.onmicrosoft.com", &tenant_id.replace('-', "")[..12]);
        self.add_tenant(&tenant_id, &client_id, &secret, &domain)
            .await;
        TenantInfo {
            tenant_id,
            client_id,
            client_secret: secret,
            domain,
        }
    }

    /// Finds a tenant by id or by one of its domains (case-insensitive).
    pub async fn tenant(&self, id_or_domain: &str) -> Option<Arc<Mutex<Tenant>>> {
        let key = id_or_domain.to_ascii_lowercase();
        let id = match self.domains.read().await.get(&key) {
            Some(id) => id.clone(),
            None => key,
        };
        self.tenants.read().await.get(&id).cloned()
    }

    /// Every tenant, for background work such as periodic provisioning cycles.
    pub async fn all_tenants(&self) -> Vec<Arc<Mutex<Tenant>>> {
        self.tenants.read().await.values().cloned().collect()
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Applies a settings patch after validating it; on error nothing changes.
    pub fn update_settings(&self, patch: &SettingsPatch) -> Result<Settings, String> {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Some(0)) = patch.provisioning_interval_ms {
            return Err("provisioning_interval_ms must be positive (null turns it off)".into());
        }
        if let Some(n) = patch.page_size {
            if !(1..=MAX_PAGE_SIZE).contains(&n) {
                return Err(format!(
                    "page_size must be between 1 and {MAX_PAGE_SIZE}, got {n}"
                ));
            }
            settings.page_size = n;
        }
        if let Some(ms) = patch.domain_auto_verify_ms {
            settings.domain_auto_verify_ms = ms;
        }
        if let Some(ms) = patch.profile_activation_ms {
            settings.profile_activation_ms = ms;
        }
        if let Some(ms) = patch.sync_lag_ms {
            settings.sync_lag_ms = ms;
        }
        if let Some(ms) = patch.provisioning_interval_ms {
            settings.provisioning_interval_ms = ms;
        }
        Ok(settings.clone())
    }

    /// Makes every pending object, change and assignment of every tenant visible now.
    pub async fn flush_replication(&self) {
        let tenants: Vec<_> = self.tenants.read().await.values().cloned().collect();
        let now = Instant::now();
        for t in tenants {
            t.lock().await.directory.replicate_all(now);
        }
    }

    pub fn issue_token(&self, tenant_id: &str, client_id: &str) -> String {
        let token = {
            let mut rng = rand::rng();
            let bytes: [u8; 32] = rng.random();
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        self.accept_token(&token, tenant_id, client_id);
        token
    }

    /// Makes Graph accept `token` for the tenant for [`TOKEN_LIFETIME`]: tokens issued here and
    /// externally issued ones (e.g. what `az account get-access-token` printed).
    pub fn accept_token(&self, token: &str, tenant_id: &str, client_id: &str) {
        let info = TokenInfo {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            expires_at: Instant::now() + TOKEN_LIFETIME,
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, t| t.expires_at > Instant::now());
        tokens.insert(token.to_string(), info);
    }

    /// The token's binding, or `None` when unknown or expired.
    pub fn check_token(&self, token: &str) -> Option<TokenInfo> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(token)
            .filter(|t| t.expires_at > Instant::now())
            .cloned()
    }
}

/// FNV-1a over the seed and a tenant id: a stable per-tenant RNG seed.
fn mix(seed: u64, tenant_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes().iter().chain(tenant_id.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn new_guid(rng: &mut impl Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn random_secret(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
    let body: String = (0..34)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("sbx8Q~{body}")
}

/// Graph's timestamp format: `2024-05-01T12:34:56Z`.
pub fn now_rfc3339() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tenants_are_found_by_id_or_domain_and_are_seeded_deterministically() {
        let a = Sandbox::new(42, FaultSettings::default());
        let b = Sandbox::new(42, FaultSettings::default());
        let ta = a.create_tenant().await;
        let tb = b.create_tenant().await;
        assert_eq!(ta.tenant_id, tb.tenant_id);
        assert!(ta.domain.ends_with(".onmicrosoft.com"));
        let by_domain = a.tenant(&ta.domain.to_uppercase()).await.unwrap();
        let by_id = a.tenant(&ta.tenant_id).await.unwrap();
        assert!(Arc::ptr_eq(&by_domain, &by_id));
        let ua: Vec<String> = by_id
            .lock()
            .await
            .directory
            .users
            .iter()
            .map(|u| u.id.clone())
            .collect();
        let tb = b.tenant(&tb.tenant_id).await.unwrap();
        let ub: Vec<String> = tb
            .lock()
            .await
            .directory
            .users
            .iter()
            .map(|u| u.id.clone())
            .collect();
        assert_eq!(ua, ub);
        assert_eq!(ua.len(), 5);
    }

    #[test]
    fn tokens_are_bound_and_unknown_tokens_rejected() {
        let s = Sandbox::new(1, FaultSettings::default());
        let t = s.issue_token("tid", "cid");
        assert_eq!(s.check_token(&t).unwrap().tenant_id, "tid");
        assert!(s.check_token("nope").is_none());
        s.accept_token("from-az", "tid2", "");
        let info = s.check_token("from-az").unwrap();
        assert_eq!(
            (info.tenant_id.as_str(), info.client_id.as_str()),
            ("tid2", "")
        );
        assert!(s.check_token(&t).is_some(), "earlier tokens stay valid");
    }

    #[test]
    fn settings_reject_bad_page_sizes_and_keep_the_old_value() {
        let s = Sandbox::new(1, FaultSettings::default());
        assert_eq!(s.settings().page_size, 5);
        let set = |n| SettingsPatch {
            page_size: Some(n),
            ..SettingsPatch::default()
        };
        assert_eq!(s.update_settings(&set(999)).unwrap().page_size, 999);
        assert!(s.update_settings(&set(0)).is_err());
        assert!(s.update_settings(&set(1000)).is_err());
        assert_eq!(s.settings().page_size, 999);
    }

    #[tokio::test]
    async fn assignment_ids_are_opaque_url_safe_and_distinct() {
        let s = Sandbox::new(1, FaultSettings::default());
        let t = s.create_tenant().await;
        let t = s.tenant(&t.tenant_id).await.unwrap();
        let mut t = t.lock().await;
        let principal = t.new_guid();
        let a = t.new_assignment_id(&principal);
        let b = t.new_assignment_id(&principal);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn timestamps_look_like_graph() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z'));
    }
}

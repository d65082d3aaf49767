//! STS's state: IAM roles in sandbox accounts with their trust policies, and the sessions STS
//! issued. Web identity tokens are the sandbox's emulated OIDC issuers' tokens, signed and
//! verified by [`IdentityState`] (the one signer of the sandbox). Temporary credentials become access keys of the role's account in Kiro's key
//! store, so the admin API's SigV4 check maps them to that account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::StsError;
use crate::identity::IdentityState;
use crate::kiro::sigv4::Caller;
use crate::kiro::store::{AwsAccount, Kiro};

/// Role session lengths STS allows (`DurationSeconds`), and its default.
pub const MIN_DURATION: u64 = 900;
pub const DEFAULT_DURATION: u64 = 3600;
pub const MAX_DURATION: u64 = 43_200;

/// Who may assume a role, as its trust policy says.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// `AWS` principals allowed to call AssumeRole: an account id or
    /// `arn:aws:iam::<account>:root` (any principal of that account), or a principal's ARN.
    #[serde(default)]
    pub principals: Vec<String>,
    /// The `sts:ExternalId` condition: AssumeRole must send exactly this.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The federated OIDC principal allowed to call AssumeRoleWithWebIdentity.
    #[serde(default)]
    pub web_identity: Option<WebIdentityTrust>,
}

/// `Federated: <issuer>` with its `aud` and `sub` conditions.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebIdentityTrust {
    pub issuer: String,
    pub audience: String,
    /// `StringLike` on `sub`: a trailing `*` matches any rest; absent allows any subject.
    #[serde(default)]
    pub subject: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Role {
    pub arn: String,
    pub role_id: String,
    pub account_id: String,
    pub name: String,
    pub max_session_duration: u64,
    pub trust: Trust,
}

/// One session STS issued, as the control API lists it (never its secret or token).
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub access_key_id: String,
    pub role_arn: String,
    pub assumed_role_arn: String,
    pub session_name: String,
    /// The caller's ARN for AssumeRole; `<issuer>#<sub>` for a web identity.
    pub source: String,
    pub tags: Vec<(String, String)>,
    pub duration_seconds: u64,
}

/// Temporary credentials and who they are.
pub struct Issued {
    pub credentials: AwsAccount,
    pub expires_at: SystemTime,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
}

/// What AssumeRole asks for.
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration: Option<u64>,
    pub tags: Vec<(String, String)>,
}

/// The claims of a verified web identity token.
pub struct WebIdentity {
    pub issuer: String,
    pub audience: String,
    pub subject: String,
}

#[derive(Default)]
struct Inner {
    roles: HashMap<String, Role>,
    sessions: Vec<Session>,
}

pub struct Sts {
    kiro: Arc<Kiro>,
    inner: Mutex<Inner>,
    rng: Mutex<StdRng>,
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `arn:<partition>:iam::<12 digits>:role/<path/name>` → (account, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = parts[..] else {
        return None;
    };
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    let digits = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (!partition.is_empty() && digits && !name.is_empty()).then_some((account, name))
}

fn not_authorized(who: &str, action: &str, role_arn: &str) -> StsError {
    StsError::access_denied(format!(
        "User: {who} is not authorized to perform: {action} on resource: {role_arn}"
    ))
}

impl Sts {
    pub fn new(seed: u64, kiro: Arc<Kiro>) -> Self {
        Self {
            kiro,
            inner: Mutex::default(),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x0057_5354)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn random_upper(&self, len: usize) -> String {
        const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (0..len)
            .map(|_| UPPER_ALNUM[rng.random_range(0..UPPER_ALNUM.len())] as char)
            .collect()
    }

    /// A role `name` in an existing sandbox account.
    pub fn create_role(
        &self,
        account_id: &str,
        name: &str,
        max_session_duration: Option<u64>,
        trust: Trust,
    ) -> Result<Role, String> {
        if !self.kiro.has_account(account_id) {
            return Err(format!("no sandbox AWS account '{account_id}'"));
        }
        let name_ok = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !name_ok {
            return Err(format!("'{name}' is not a valid IAM role name"));
        }
        let max = max_session_duration.unwrap_or(DEFAULT_DURATION);
        if !(DEFAULT_DURATION..=MAX_DURATION).contains(&max) {
            return Err(format!(
                "max_session_duration {max} must be from {DEFAULT_DURATION} to {MAX_DURATION}"
            ));
        }
        let role = Role {
            arn: format!("arn:aws:iam::{account_id}:role/{name}"),
            role_id: format!("AROA{}", self.random_upper(17)),
            account_id: account_id.to_string(),
            name: name.to_string(),
            max_session_duration: max,
            trust,
        };
        self.lock().roles.insert(role.arn.clone(), role.clone());
        Ok(role)
    }

    pub fn sessions(&self) -> Vec<Session> {
        self.lock().sessions.clone()
    }

    /// The `UserId` GetCallerIdentity shows: `<role id>:<session>` for an assumed role, a
    /// stable `AIDA…` id for a user.
    pub fn user_id(&self, principal_arn: &str) -> String {
        if let Some((prefix, rest)) = principal_arn.split_once(":assumed-role/")
            && let Some((role, session)) = rest.split_once('/')
        {
            // arn:aws:sts::<account>:assumed-role/<role>/<session>
            let account = prefix.rsplit(':').next().unwrap_or("");
            let role_arn = format!("arn:aws:iam::{account}:role/{role}");
            if let Some(r) = self.lock().roles.get(&role_arn) {
                return format!("{}:{session}", r.role_id);
            }
        }
        use sha2::{Digest, Sha256};
        let digest = hex::encode_upper(Sha256::digest(principal_arn.as_bytes()));
        format!("AIDA{}", &digest[..17])
    }

    /// AssumeRole for `caller`: the trust policy's principals and ExternalId condition, then
    /// the session length against the role's maximum.
    pub fn assume_role(&self, caller: &Caller, req: AssumeRole) -> Result<Issued, StsError> {
        let denied = || not_authorized(&caller.principal_arn, "sts:AssumeRole", &req.role_arn);
        let role = self
            .lock()
            .roles
            .get(&req.role_arn)
            .cloned()
            .ok_or_else(denied)?;
        let root = format!("arn:aws:iam::{}:root", caller.account_id);
        let trusted = role
            .trust
            .principals
            .iter()
            .any(|p| *p == caller.account_id || *p == root || *p == caller.principal_arn);
        if !trusted
            || role
                .trust
                .external_id
                .as_deref()
                .is_some_and(|want| req.external_id.as_deref() != Some(want))
        {
            return Err(denied());
        }
        let duration = checked_duration(&role, req.duration)?;
        let source = caller.principal_arn.clone();
        Ok(self.issue(&role, &req.session_name, source, req.tags, duration))
    }

    /// AssumeRoleWithWebIdentity: the token's signature and expiry, then the role's
    /// federated principal (issuer) and its audience and subject conditions.
    pub fn assume_role_with_web_identity(
        &self,
        signer: &IdentityState,
        role_arn: &str,
        session_name: &str,
        token: &str,
        duration: Option<u64>,
    ) -> Result<(Issued, WebIdentity), StsError> {
        let identity = WebIdentity::verified(signer, token, SystemTime::now())?;
        let denied =
            || StsError::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity");
        let role = self
            .lock()
            .roles
            .get(role_arn)
            .cloned()
            .ok_or_else(denied)?;
        let trust = role
            .trust
            .web_identity
            .as_ref()
            .filter(|w| w.issuer == identity.issuer);
        let Some(trust) = trust else {
            return Err(StsError::invalid_identity_token(format!(
                "No OpenIDConnect provider found in your account for {}",
                identity.issuer
            )));
        };
        if trust.audience != identity.audience {
            return Err(StsError::invalid_identity_token("Incorrect token audience"));
        }
        if !subject_matches(trust.subject.as_deref(), &identity.subject) {
            return Err(denied());
        }
        let duration = checked_duration(&role, duration)?;
        let source = format!("{}#{}", identity.issuer, identity.subject);
        let issued = self.issue(&role, session_name, source, vec![], duration);
        Ok((issued, identity))
    }

    fn issue(
        &self,
        role: &Role,
        session_name: &str,
        source: String,
        tags: Vec<(String, String)>,
        duration_seconds: u64,
    ) -> Issued {
        let assumed_role_arn = format!(
            "arn:aws:sts::{}:assumed-role/{}/{session_name}",
            role.account_id, role.name
        );
        let expires_at = SystemTime::now() + Duration::from_secs(duration_seconds);
        let credentials =
            self.kiro
                .issue_session(&role.account_id, assumed_role_arn.clone(), expires_at);
        tracing::info!(role = %role.arn, session = %session_name, source = %source, "STS issued a role session");
        self.lock().sessions.push(Session {
            access_key_id: credentials.access_key_id.clone(),
            role_arn: role.arn.clone(),
            assumed_role_arn: assumed_role_arn.clone(),
            session_name: session_name.to_string(),
            source,
            tags,
            duration_seconds,
        });
        Issued {
            credentials,
            expires_at,
            assumed_role_id: format!("{}:{session_name}", role.role_id),
            assumed_role_arn,
        }
    }
}

impl WebIdentity {
    /// The claims of `token` once its signature (by the sandbox's issuers' key) and expiry check.
    fn verified(signer: &IdentityState, token: &str, now: SystemTime) -> Result<Self, StsError> {
        let invalid = || {
            StsError::invalid_identity_token(
                "The web identity token that was passed could not be validated by Amazon Web \
                 Services. Get a new identity token from the identity provider and then retry \
                 the request.",
            )
        };
        let claims = signer.verified_claims(token.trim()).ok_or_else(invalid)?;
        let text = |k: &str| claims[k].as_str().map(str::to_string).ok_or_else(invalid);
        let exp = claims["exp"].as_i64().ok_or_else(invalid)?;
        if exp <= epoch(now) {
            return Err(StsError::expired_token(format!(
                "Token expired: current date/time {} must be before the expiration date/time {exp}",
                epoch(now)
            )));
        }
        Ok(Self {
            issuer: text("iss")?,
            audience: text("aud")?,
            subject: text("sub")?,
        })
    }
}

fn subject_matches(pattern: Option<&str>, subject: &str) -> bool {
    match pattern {
        None => true,
        Some(p) => match p.strip_suffix('*') {
            Some(prefix) => subject.starts_with(prefix),
            None => p == subject,
        },
    }
}

fn checked_duration(role: &Role, asked: Option<u64>) -> Result<u64, StsError> {
    let duration = asked.unwrap_or(DEFAULT_DURATION);
    if duration < MIN_DURATION {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to \
             satisfy constraint: Member must have value greater than or equal to {MIN_DURATION}"
        )));
    }
    if duration > role.max_session_duration {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts() -> (Sts, AwsAccount) {
        let kiro = Arc::new(Kiro::new(1));
        let account = kiro.create_account(false);
        (Sts::new(1, kiro), account)
    }

    #[test]
    fn role_arns_are_parsed_strictly() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/team/deploy"),
            Some(("123456789012", "deploy"))
        );
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_none());
        assert!(parse_role_arn("arn:aws:sts::123456789012:role/x").is_none());
    }

    #[test]
    fn tokens_verify_and_expire() {
        let signer = IdentityState::default();
        let token = signer.sign("https://issuer", "repo:a/b", "sts.amazonaws.com", 600);
        let now = SystemTime::now();
        let id = WebIdentity::verified(&signer, &token, now).ok().unwrap();
        assert_eq!(
            (
                id.issuer.as_str(),
                id.subject.as_str(),
                id.audience.as_str()
            ),
            ("https://issuer", "repo:a/b", "sts.amazonaws.com")
        );
        let later = now + Duration::from_secs(601);
        let expired = WebIdentity::verified(&signer, &token, later).err().unwrap();
        assert_eq!(expired.code, "ExpiredTokenException");
        let forged = format!("{}x", &token[..token.len() - 1]);
        let refused = WebIdentity::verified(&signer, &forged, now).err().unwrap();
        assert_eq!(refused.code, "InvalidIdentityToken");
        let other_key = WebIdentity::verified(&IdentityState::default(), &token, now);
        assert_eq!(other_key.err().unwrap().code, "InvalidIdentityToken");
    }

    #[test]
    fn trust_needs_the_principal_and_external_id() {
        let (sts, account) = sts();
        let trust = Trust {
            principals: vec![account.account_id.clone()],
            external_id: Some("tenant-a".into()),
            web_identity: None,
        };
        let role = sts
            .create_role(&account.account_id, "kiro", None, trust)
            .unwrap();
        let caller = Caller {
            account_id: account.account_id.clone(),
            principal_arn: format!("arn:aws:iam::{}:user/sandbox", account.account_id),
            access_key_id: account.access_key_id.clone(),
            region: "us-east-1".into(),
        };
        let ask = |external_id: Option<&str>, duration| AssumeRole {
            role_arn: role.arn.clone(),
            session_name: "s".into(),
            external_id: external_id.map(str::to_string),
            duration,
            tags: vec![],
        };
        let err = sts
            .assume_role(&caller, ask(Some("wrong"), None))
            .err()
            .unwrap();
        assert_eq!(err.code, "AccessDenied");
        assert!(err.message.contains(&role.arn), "{}", err.message);
        let err = sts
            .assume_role(&caller, ask(Some("tenant-a"), Some(7200)))
            .err()
            .unwrap();
        assert_eq!(err.code, "ValidationError");
        let issued = sts
            .assume_role(&caller, ask(Some("tenant-a"), None))
            .ok()
            .unwrap();
        assert!(issued.credentials.access_key_id.starts_with("ASIA"));
        assert_eq!(
            issued.assumed_role_arn,
            format!("arn:aws:sts::{}:assumed-role/kiro/s", account.account_id)
        );
        let stranger = Caller {
            account_id: "999999999999".into(),
            principal_arn: "arn:aws:iam::999999999999:user/x".into(),
            ..caller
        };
        assert_eq!(
            sts.assume_role(&stranger, ask(Some("tenant-a"), None))
                .err()
                .unwrap()
                .code,
            "AccessDenied"
        );
    }
}

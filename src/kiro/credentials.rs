//! AWS credentials, region and endpoint for the Kiro API, from the standard AWS chain
//! (`aws-config`): environment, shared config/credentials files, SSO, web identity, container
//! and instance roles; or static keys from the provider block, and roles assumed on top
//! (see [`super::aws_auth`]).
//!
//! Loading is fast and offline: the region comes only from the settings, `AWS_REGION` /
//! `AWS_DEFAULT_REGION` or the selected profile (never from instance metadata), and
//! credentials are resolved lazily on the first call, then cached until shortly before
//! they expire.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::meta::region::ProvideRegion;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use url::Url;

use super::aws_auth::{self, AwsAuth, sts_answer};
use super::error::{KiroError, error_chain};
use crate::endpoint;

/// The set of shared config/credentials files to read (re-exported from `aws-config`).
#[allow(deprecated)]
pub type ProfileFiles = aws_config::profile::profile_file::ProfileFiles;
/// The kind of a shared file: `Config` or `Credentials` (re-exported from `aws-config`).
#[allow(deprecated)]
pub type ProfileFileKind = aws_config::profile::profile_file::ProfileFileKind;

/// Credentials are refreshed when they expire within this margin.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// What the provider configuration says about AWS (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KiroSettings {
    /// Kiro profile region, e.g. `us-east-1`.
    pub region: Option<String>,
    /// Named AWS profile (else `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// Endpoint override; https, or http to a loopback host.
    pub endpoint: Option<Url>,
    /// Static keys, roles to assume and the STS endpoint.
    pub auth: AwsAuth,
}

/// Where configuration is read from. The default is the real process environment and
/// `~/.aws/{config,credentials}`; tests pass explicit files and ignore the environment.
#[derive(Clone, Debug, Default)]
pub struct ConfigSources {
    /// Explicit shared files instead of the default ones.
    pub profile_files: Option<ProfileFiles>,
    /// Ignore the process environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, …).
    pub ignore_environment: bool,
}

/// Resolved region, endpoint and a lazily resolved, cached credentials provider. Cheap to
/// clone; clones share the cache. Its `Debug` shows no credentials.
#[derive(Clone)]
pub struct AwsContext {
    inner: Arc<Inner>,
}

struct Inner {
    region: String,
    endpoint: Url,
    profile: Option<String>,
    /// Where credentials come from, for errors (e.g. the role assumed).
    source: Option<String>,
    provider: SharedCredentialsProvider,
    cache: tokio::sync::Mutex<Option<Credentials>>,
}

impl fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsContext")
            .field("region", &self.inner.region)
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("profile", &self.inner.profile)
            .finish_non_exhaustive()
    }
}

impl AwsContext {
    /// A context from explicit parts (e.g. static test credentials). `endpoint` defaults to
    /// `https://codewhisperer.<region>.amazonaws.com/`; `profile` only names the AWS profile
    /// in credential errors.
    pub fn new(
        region: &str,
        endpoint: Option<Url>,
        provider: impl ProvideCredentials + 'static,
        profile: Option<String>,
    ) -> Result<Self, KiroError> {
        let endpoint = endpoint_for(region, endpoint)?;
        let provider = SharedCredentialsProvider::new(provider);
        let cache = tokio::sync::Mutex::new(None);
        let region = region.to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                region,
                endpoint,
                profile,
                source: None,
                provider,
                cache,
            }),
        })
    }

    /// Names where credentials come from in credential errors.
    fn with_source(mut self, source: String) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.source = Some(source);
        }
        self
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The endpoint requests are POSTed to.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The AWS profile explicitly selected, if any.
    pub fn profile(&self) -> Option<&str> {
        self.inner.profile.as_deref()
    }

    /// Current credentials: cached ones while they are valid for at least another minute,
    /// else freshly resolved (concurrent callers wait for a single resolution).
    pub async fn credentials(&self) -> Result<Credentials, KiroError> {
        let mut cached = self.inner.cache.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| fresh(c, SystemTime::now())) {
            return Ok(c.clone());
        }
        let creds = self
            .inner
            .provider
            .provide_credentials()
            .await
            .map_err(|e| {
                if let Some(source) = &self.inner.source {
                    let why = sts_answer(&e)
                        .map(|answer| format!("STS answered {answer}"))
                        .unwrap_or_else(|| error_chain(&e));
                    return KiroError::Credentials(format!("{source}: {why}"));
                }
                let mut msg = error_chain(&e);
                if let Some(p) = &self.inner.profile {
                    msg.push_str(&format!(" (AWS profile `{p}`)"));
                } else if matches!(e, CredentialsError::CredentialsNotLoaded(_)) {
                    msg.push_str(
                        " (none found in the environment, the shared AWS files, SSO, web \
                         identity, or a container or instance role)",
                    );
                }
                KiroError::Credentials(msg)
            })?;
        *cached = Some(creds.clone());
        Ok(creds)
    }
}

fn fresh(creds: &Credentials, now: SystemTime) -> bool {
    creds.expiry().is_none_or(|exp| exp > now + EXPIRY_MARGIN)
}

/// An AWS region name such as `us-east-1`: it becomes part of a host name. The same rule the
/// provider's `region` argument and profile ARNs are checked with at plan time, so a region
/// from the environment or an AWS profile is held to it too.
pub fn is_valid_region(region: &str) -> bool {
    super::arn::is_region_name(region)
}

/// The endpoint: the validated override, or `https://codewhisperer.<region>.amazonaws.com/`.
pub fn endpoint_for(region: &str, endpoint: Option<Url>) -> Result<Url, KiroError> {
    if !is_valid_region(region) {
        return Err(KiroError::Config(format!(
            "region {region:?} is not a valid AWS region name (e.g. us-east-1)"
        )));
    }
    let Some(url) = endpoint else {
        let url = format!("https://codewhisperer.{region}.amazonaws.com/");
        return Url::parse(&url).map_err(|e| KiroError::Config(format!("{url}: {e}")));
    };
    let ok = endpoint::is_allowed(&url);
    if !ok || url.cannot_be_a_base() || url.host().is_none() {
        return Err(KiroError::Config(format!(
            "Kiro endpoint {url} must be https (plain http only for a loopback host)"
        )));
    }
    Ok(url)
}

/// Loads region, endpoint and credentials provider from the real environment and files.
pub async fn load(settings: &KiroSettings) -> Result<AwsContext, KiroError> {
    load_with(settings, ConfigSources::default()).await
}

/// [`load`] with explicit configuration sources (the test seam).
pub async fn load_with(
    settings: &KiroSettings,
    sources: ConfigSources,
) -> Result<AwsContext, KiroError> {
    let env = |name: &str| {
        if sources.ignore_environment {
            return None;
        }
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    };
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let explicit_profile = non_empty(&settings.profile).or_else(|| env("AWS_PROFILE"));
    let selected = explicit_profile
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let files = sources.profile_files.clone().unwrap_or_default();

    // An explicitly selected profile must exist (the AWS CLI refuses unknown profiles too).
    if let Some(name) = &explicit_profile {
        let set = aws_config::profile::load(
            &Default::default(),
            &Default::default(),
            &files,
            Some(name.clone().into()),
        )
        .await
        .map_err(|e| KiroError::Config(format!("cannot read the AWS shared config files: {e}")))?;
        if set.get_profile(name).is_none() {
            return Err(KiroError::Config(format!(
                "AWS profile `{name}` was not found in the shared config or credentials files \
                 (check `aws_profile` / AWS_PROFILE)"
            )));
        }
    }

    let region = match non_empty(&settings.region)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
    {
        Some(region) => region,
        None => (ProfileFileRegionProvider::builder().profile_files(files))
            .profile_name(&selected)
            .build()
            .region()
            .await
            .map(|r| r.to_string())
            .ok_or_else(|| {
                KiroError::Config(
                    "no AWS region configured for Kiro: set the provider's `region` argument or \
                 AWS_REGION (or `region` in the AWS profile)"
                        .into(),
                )
            })?,
    };
    let region = region.trim().to_string();
    // Validate before any network-capable provider is built.
    let endpoint = endpoint_for(&region, settings.endpoint.clone())?;

    let sdk = sdk_config(&region, &selected, sources).await;
    let chain = sdk
        .credentials_provider()
        .ok_or_else(|| KiroError::Credentials("no AWS credentials provider available".into()))?;
    if settings.auth == AwsAuth::default() {
        return AwsContext::new(&region, Some(endpoint), chain, explicit_profile);
    }
    let (provider, source) = aws_auth::provider(&settings.auth, chain, &sdk).await;
    tracing::info!(source = %source, "AWS credentials for Kiro");
    Ok(AwsContext::new(&region, Some(endpoint), provider, explicit_profile)?.with_source(source))
}

async fn sdk_config(region: &str, profile: &str, sources: ConfigSources) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .profile_name(profile);
    if let Some(files) = sources.profile_files {
        loader = loader.profile_files(files);
    }
    if sources.ignore_environment {
        loader = loader.empty_test_environment();
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

    fn files(dir: &tempfile::TempDir, config: &str, credentials: &str) -> ConfigSources {
        let (c, k) = (dir.path().join("config"), dir.path().join("credentials"));
        std::fs::write(&c, config).unwrap();
        std::fs::write(&k, credentials).unwrap();
        let profile_files = ProfileFiles::builder()
            .with_file(ProfileFileKind::Config, c)
            .with_file(ProfileFileKind::Credentials, k)
            .build();
        ConfigSources {
            profile_files: Some(profile_files),
            ignore_environment: true,
        }
    }

    fn kiro_files(dir: &tempfile::TempDir) -> ConfigSources {
        let creds = format!(
            "[kiro]\naws_access_key_id = AKIDKIRO\naws_secret_access_key = {SECRET}\n\
             aws_session_token = tok\n"
        );
        files(dir, "[profile kiro]\nregion = eu-central-1\n", &creds)
    }

    #[tokio::test]
    async fn static_keys_and_region_from_a_named_profile() {
        let dir = tempfile::tempdir().unwrap();
        let settings = KiroSettings {
            profile: Some("kiro".into()),
            ..Default::default()
        };
        let ctx = load_with(&settings, kiro_files(&dir)).await.unwrap();
        assert_eq!(ctx.region(), "eu-central-1");
        assert_eq!(
            ctx.endpoint().as_str(),
            "https://codewhisperer.eu-central-1.amazonaws.com/"
        );
        let creds = ctx.credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "AKIDKIRO");
        assert_eq!(creds.session_token(), Some("tok"));
        assert!(!format!("{ctx:?}").contains(SECRET));
        // The settings' region wins over the profile's.
        let settings = KiroSettings {
            region: Some("us-east-1".into()),
            ..settings
        };
        let ctx = load_with(&settings, kiro_files(&dir)).await.unwrap();
        assert_eq!(ctx.region(), "us-east-1");
    }

    #[tokio::test]
    async fn missing_profile_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let settings = KiroSettings {
            profile: Some("nope".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        let err = load_with(&settings, kiro_files(&dir)).await.unwrap_err();
        assert!(matches!(err, KiroError::Config(_)), "{err}");
        assert!(
            err.to_string().contains("AWS profile `nope` was not found"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_region_anywhere_fails_fast_naming_region() {
        let dir = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let err = load_with(&KiroSettings::default(), files(&dir, "", ""))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        let text = err.to_string();
        assert!(
            text.contains("`region`") && text.contains("AWS_REGION"),
            "{text}"
        );
    }

    #[test]
    fn endpoints_default_and_overrides() {
        let url = |s: &str| Some(Url::parse(s).unwrap());
        assert_eq!(
            endpoint_for("us-east-1", None).unwrap().as_str(),
            "https://codewhisperer.us-east-1.amazonaws.com/"
        );
        assert!(endpoint_for("us-east-1", url("http://127.0.0.1:9/kiro")).is_ok());
        assert!(endpoint_for("us-east-1", url("https://kiro.example/")).is_ok());
        assert!(endpoint_for("us-east-1", url("http://kiro.example/")).is_err());
        assert!(endpoint_for("us-east-1/x", None).is_err());
        assert!(endpoint_for("", None).is_err());
        assert!(endpoint_for("useast1", None).is_err());
    }

    #[test]
    fn freshness_respects_expiry_margin() {
        let now = SystemTime::now();
        let creds = |exp| Credentials::new("A", "S", None, exp, "test");
        assert!(fresh(&creds(None), now));
        assert!(fresh(&creds(Some(now + Duration::from_secs(600))), now));
        assert!(!fresh(&creds(Some(now + Duration::from_secs(30))), now));
    }
}

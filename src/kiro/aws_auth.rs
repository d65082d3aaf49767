//! AWS credentials beyond the standard chain, as the `aws` provider configures them: static
//! keys, a role assumed with a web identity token (read from its file at every use), and a
//! role assumed from the credentials so far (optionally with an external id, a session length
//! and session tags). In the `aws` provider's order: the web identity role first, then
//! `assume_role` on top of whatever came before. STS is reached at its regional endpoint or
//! the configured override.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use url::Url;

use crate::secret::Secret;

/// What the provider block says about AWS credentials beyond the chain (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsAuth {
    pub static_keys: Option<StaticKeys>,
    pub web_identity: Option<WebIdentityRole>,
    pub assume_role: Option<AssumeRoleSettings>,
    /// STS endpoint override (private endpoints, the sandbox).
    pub sts_endpoint: Option<Url>,
}

impl AwsAuth {
    /// True when credentials come from STS (a role is assumed).
    pub fn assumes_a_role(&self) -> bool {
        self.assume_role.is_some() || self.web_identity.is_some()
    }
}

/// `access_key`, `secret_key` and `token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticKeys {
    pub access_key: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

/// The `assume_role` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
    pub tags: BTreeMap<String, String>,
}

/// The `assume_role_with_web_identity` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebIdentityRole {
    pub role_arn: String,
    pub token_file: PathBuf,
    pub session_name: Option<String>,
}

fn default_session_name() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("terraform-provider-kiro-{millis}")
}

/// The credentials provider `auth` describes on top of `chain` (the standard AWS chain), and
/// how to name it in errors, e.g. "role arn:… (assume_role) from static keys (access_key)".
pub async fn provider(
    auth: &AwsAuth,
    chain: SharedCredentialsProvider,
    sdk: &SdkConfig,
) -> (SharedCredentialsProvider, String) {
    let sts_config = match &auth.sts_endpoint {
        Some(url) => sdk
            .to_builder()
            .endpoint_url(url.as_str().trim_end_matches('/'))
            .build(),
        None => sdk.clone(),
    };
    let (mut current, mut describe) = match &auth.static_keys {
        Some(keys) => (
            SharedCredentialsProvider::new(keys.credentials()),
            format!("static keys (access_key {})", keys.access_key),
        ),
        None => (chain, "the standard AWS credential chain".to_string()),
    };
    if let Some(web) = &auth.web_identity {
        // Unsigned, as STS takes it: the token is the credential, and asking the standard
        // chain first could wait on instance metadata outside AWS.
        let mut anonymous = sts_config.to_builder();
        anonymous.set_credentials_provider(None);
        current = SharedCredentialsProvider::new(WebIdentityProvider {
            client: aws_sdk_sts::Client::new(&anonymous.build()),
            role: web.clone(),
        });
        describe = format!(
            "role {} (assume_role_with_web_identity, token file {})",
            web.role_arn,
            web.token_file.display()
        );
    }
    if let Some(role) = &auth.assume_role {
        let mut builder = AssumeRoleProvider::builder(&role.role_arn)
            .configure(&sts_config)
            .session_name(
                role.session_name
                    .clone()
                    .unwrap_or_else(default_session_name),
            );
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        if let Some(d) = role.duration {
            builder = builder.session_length(d);
        }
        if !role.tags.is_empty() {
            builder = builder.tags(role.tags.clone());
        }
        current = SharedCredentialsProvider::new(builder.build_from_provider(current).await);
        describe = format!("role {} (assume_role) from {describe}", role.role_arn);
    }
    (current, describe)
}

impl StaticKeys {
    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key,
            self.secret_key.expose(),
            self.token.as_ref().map(|t| t.expose().to_string()),
            None,
            "provider block",
        )
    }
}

/// AssumeRoleWithWebIdentity with the token file re-read on every call (CI systems rotate
/// it). aws-config's own web identity provider cannot be pointed at another STS endpoint.
#[derive(Debug)]
struct WebIdentityProvider {
    client: aws_sdk_sts::Client,
    role: WebIdentityRole,
}

impl WebIdentityProvider {
    async fn load(&self) -> provider::Result {
        let path = &self.role.token_file;
        let token = tokio::fs::read_to_string(path).await.map_err(|e| {
            CredentialsError::invalid_configuration(format!(
                "cannot read the web identity token file {}: {e}",
                path.display()
            ))
        })?;
        let session_name = (self.role.session_name.clone()).unwrap_or_else(default_session_name);
        let answer = (self.client.assume_role_with_web_identity())
            .role_arn(&self.role.role_arn)
            .role_session_name(session_name)
            .web_identity_token(token.trim())
            .send()
            .await
            .map_err(CredentialsError::provider_error)?;
        let c = answer.credentials.ok_or_else(|| {
            CredentialsError::unhandled(
                "STS answered AssumeRoleWithWebIdentity without credentials",
            )
        })?;
        let expiry = SystemTime::try_from(c.expiration).map_err(CredentialsError::unhandled)?;
        Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expiry),
            "AssumeRoleWithWebIdentity",
        ))
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

/// STS's own answer inside a credentials error, e.g. "HTTP 403, AccessDenied: User: … is
/// not authorized to perform: sts:AssumeRole on resource: …"; `None` when STS did not answer.
pub fn sts_answer(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(answer) = e
            .downcast_ref::<SdkError<AssumeRoleError>>()
            .and_then(describe_sdk_error)
            .or_else(|| {
                e.downcast_ref::<SdkError<AssumeRoleWithWebIdentityError>>()
                    .and_then(describe_sdk_error)
            })
        {
            return Some(answer);
        }
        next = e.source();
    }
    None
}

fn describe_sdk_error<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<String> {
    let service = e.as_service_error()?;
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = service.code().unwrap_or("an error");
    let message = service.message().unwrap_or("(no message)");
    Some(match status {
        Some(s) => format!("HTTP {s}, {code}: {message}"),
        None => format!("{code}: {message}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::BehaviorVersion;

    async fn sdk() -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await
    }

    #[tokio::test]
    async fn static_keys_replace_the_chain_and_the_description_never_shows_the_secret() {
        let chain = SharedCredentialsProvider::new(Credentials::for_tests());
        let auth = AwsAuth {
            static_keys: Some(StaticKeys {
                access_key: "AKIDSTATIC".into(),
                secret_key: Secret::new("s3cr3t-key"),
                token: Some(Secret::new("tok3n")),
            }),
            ..Default::default()
        };
        let (p, describe) = provider(&auth, chain, &sdk().await).await;
        let creds = p.provide_credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "AKIDSTATIC");
        assert_eq!(creds.secret_access_key(), "s3cr3t-key");
        assert_eq!(creds.session_token(), Some("tok3n"));
        assert_eq!(describe, "static keys (access_key AKIDSTATIC)");
        assert!(!format!("{auth:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn roles_are_described_in_the_order_they_apply() {
        let chain = SharedCredentialsProvider::new(Credentials::for_tests());
        let auth = AwsAuth {
            web_identity: Some(WebIdentityRole {
                role_arn: "arn:aws:iam::111111111111:role/ci".into(),
                token_file: "/var/run/token".into(),
                session_name: None,
            }),
            assume_role: Some(AssumeRoleSettings {
                role_arn: "arn:aws:iam::222222222222:role/tenant".into(),
                ..Default::default()
            }),
            sts_endpoint: Some(Url::parse("http://127.0.0.1:9/sts").unwrap()),
            ..Default::default()
        };
        let (_, describe) = provider(&auth, chain, &sdk().await).await;
        assert_eq!(
            describe,
            "role arn:aws:iam::222222222222:role/tenant (assume_role) from role \
             arn:aws:iam::111111111111:role/ci (assume_role_with_web_identity, token file \
             /var/run/token)"
        );
    }

    #[tokio::test]
    async fn an_unreadable_token_file_is_named_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let web = WebIdentityProvider {
            client: aws_sdk_sts::Client::new(&sdk().await),
            role: WebIdentityRole {
                role_arn: "arn:aws:iam::111111111111:role/ci".into(),
                token_file: dir.path().join("missing"),
                session_name: None,
            },
        };
        let err = web.provide_credentials().await.unwrap_err();
        let text = crate::error_text::error_chain(&err);
        assert!(text.contains("web identity token file"), "{text}");
        assert!(text.contains("missing"), "{text}");
    }
}

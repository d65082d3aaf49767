//! Kiro admin API client: AWS credentials and region from the standard AWS chain, the AWS
//! JSON 1.0 transport (SigV4, `X-Amz-Target`), typed errors, retries and paging.
//!
//! The wire contract is modeled, not published by AWS (see `spec/kiro-api.md`): endpoint,
//! region, target prefixes and signing names are all configurable. Knows nothing about
//! Terraform.

pub mod arn;
pub mod aws_auth;
pub mod client;
pub mod credentials;
pub mod error;
pub mod ops;
pub mod scim_rules;
pub mod wire;

pub use client::KiroClient;
pub use credentials::{
    AwsContext, ConfigSources, KiroSettings, ProfileFileKind, ProfileFiles, endpoint_for, load,
    load_with,
};
pub use error::KiroError;
pub use wire::{
    Assignment, AssignmentSpec, AssignmentStatus, CreateProfile, CreatedToken, Group, GroupFilter,
    IdentitySource, LoginDomain, LoginDomainStatus, PrincipalType, Profile, ProfileArn,
    ProfileStatus, ScimAccessToken, SubscriptionType, Tag, UpdateProfile, User, UserFilter,
    VerificationRecord,
};

use serde_json::Value;

use crate::retry::RetryPolicy;

/// Which of the two services an operation belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KiroService {
    /// Profiles: `AWSCodeWhispererService`, signing name `codewhisperer`.
    Profiles,
    /// Login domains, SCIM tokens, identities, subscriptions: `AmazonQDeveloperService`, `q`.
    Identity,
}

/// Target prefix and SigV4 signing name of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceNames {
    /// `X-Amz-Target` prefix, e.g. `AWSCodeWhispererService`.
    pub target_prefix: String,
    /// SigV4 signing (service) name, e.g. `codewhisperer`.
    pub signing_name: String,
}

impl ServiceNames {
    /// Defaults for [`KiroService::Profiles`].
    pub fn profiles() -> Self {
        Self {
            target_prefix: wire::PROFILES_TARGET_PREFIX.into(),
            signing_name: wire::PROFILES_SIGNING_NAME.into(),
        }
    }
    /// Defaults for [`KiroService::Identity`].
    pub fn identity() -> Self {
        Self {
            target_prefix: wire::IDENTITY_TARGET_PREFIX.into(),
            signing_name: wire::IDENTITY_SIGNING_NAME.into(),
        }
    }
}

/// How to build a [`KiroClient`] (everything but the AWS context).
#[derive(Clone, Debug)]
pub struct KiroClientConfig {
    /// The HTTP client (connection pool, TLS).
    pub http: reqwest::Client,
    /// Retries for throttling and transient failures.
    pub retry: RetryPolicy,
    /// Names for [`KiroService::Profiles`].
    pub profiles: ServiceNames,
    /// Names for [`KiroService::Identity`].
    pub identity: ServiceNames,
    /// `User-Agent` header value.
    pub user_agent: String,
}

impl Default for KiroClientConfig {
    fn default() -> Self {
        Self {
            http: reqwest::Client::new(),
            retry: RetryPolicy::default(),
            profiles: ServiceNames::profiles(),
            identity: ServiceNames::identity(),
            user_agent: concat!("terraform-provider-kiro/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

/// One operation call as a value; sent by [`KiroClient::call`].
#[derive(Clone, Debug, PartialEq)]
pub struct KiroRequest {
    /// The service the operation belongs to.
    pub service: KiroService,
    /// The operation, e.g. `ListProfiles`.
    pub operation: String,
    /// The JSON body (never logged).
    pub body: Value,
    /// May the call be repeated after a failure that it may have survived (dropped
    /// connection, 5xx)? By default every operation except a `Create…` without `clientToken`.
    pub idempotent: bool,
}

impl KiroRequest {
    /// A request for `operation` of `service`.
    pub fn new(service: KiroService, operation: impl Into<String>, body: Value) -> Self {
        let operation = operation.into();
        let idempotent = !operation.starts_with("Create") || body.get("clientToken").is_some();
        Self {
            service,
            operation,
            body,
            idempotent,
        }
    }
    /// A [`KiroService::Profiles`] request.
    pub fn profiles(operation: impl Into<String>, body: Value) -> Self {
        Self::new(KiroService::Profiles, operation, body)
    }
    /// A [`KiroService::Identity`] request.
    pub fn identity(operation: impl Into<String>, body: Value) -> Self {
        Self::new(KiroService::Identity, operation, body)
    }
    /// Declares whether repeating the call after a possibly-processed failure is safe.
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.idempotent = safe;
        self
    }
}

/// End-to-end tests of the transport against a local axum stub.
#[cfg(test)]
mod signing_tests;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use aws_credential_types::Credentials;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use serde_json::{Value, json};

    use super::*;

    pub(crate) const AKID: &str = "AKIDEXAMPLE";
    pub(crate) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// A client for `endpoint` with static session credentials and millisecond retries.
    pub(crate) fn client(endpoint: Option<&str>) -> KiroClient {
        let creds = Credentials::new(AKID, SECRET, Some("SESSIONTOKEN".into()), None, "test");
        let endpoint = endpoint.map(|e| url::Url::parse(e).unwrap());
        let aws = AwsContext::new("us-east-1", endpoint, creds, None).unwrap();
        let retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        };
        KiroClient::new(
            aws,
            KiroClientConfig {
                retry,
                ..Default::default()
            },
        )
    }

    pub(crate) type Hits = Arc<AtomicU32>;

    fn error(
        status: StatusCode,
        body: Value,
        headers: Vec<(&'static str, &'static str)>,
    ) -> Response {
        let mut resp = (status, axum::Json(body)).into_response();
        for (k, v) in headers {
            resp.headers_mut().insert(k, v.parse().unwrap());
        }
        resp
    }

    /// Dispatches on `X-Amz-Target`; counts hits.
    async fn stub(
        axum::extract::State(hits): axum::extract::State<Hits>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        let body: Value = serde_json::from_slice(&body).unwrap();
        let n = hits.fetch_add(1, Ordering::SeqCst);
        assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(headers["x-amz-security-token"], "SESSIONTOKEN");
        let auth = headers["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        let target = headers["x-amz-target"].to_str().unwrap().to_string();
        let token = body.get("nextToken").and_then(Value::as_str);
        let ok = |v: Value| axum::Json(v).into_response();
        let rid = ("x-amzn-RequestId", "rid-7");
        match (target.as_str(), n, token) {
            ("AWSCodeWhispererService.DescribeThing", _, _) => ok(json!({"profileArn": "arn:x"})),
            ("AWSCodeWhispererService.BadShape", _, _) => {
                ok(json!({"profileArn": "tok-secret", "n": 1}))
            }
            ("AWSCodeWhispererService.Throttled2", 0 | 1, _) => error(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"__type": "ThrottlingException", "message": "slow down"}),
                vec![("retry-after", "0")],
            ),
            ("AWSCodeWhispererService.Throttled2", _, _) => ok(json!({})),
            ("AmazonQDeveloperService.Validate", _, _) => error(
                StatusCode::BAD_REQUEST,
                json!({"__type": "com.amazon.kiro#ValidationException", "message": "bad name"}),
                vec![rid],
            ),
            ("AmazonQDeveloperService.Gone", _, _) => error(
                StatusCode::NOT_FOUND,
                json!({"message": "no such domain"}),
                vec![
                    rid,
                    (
                        "x-amzn-ErrorType",
                        "aws.kiro#ResourceNotFoundException:http://x/",
                    ),
                ],
            ),
            ("AWSCodeWhispererService.ListProfiles", _, None) => {
                ok(json!({"profiles": [{"arn": "a1"}], "nextToken": "t1"}))
            }
            ("AWSCodeWhispererService.ListProfiles", _, Some("t1")) => {
                ok(json!({"profiles": [{"arn": "a2"}, {"arn": "a3"}], "nextToken": "t2"}))
            }
            ("AWSCodeWhispererService.ListProfiles", _, Some("t2")) => {
                ok(json!({"profiles": [{"arn": "a4"}]}))
            }
            ("AmazonQDeveloperService.ListLoginDomains", _, _) => {
                ok(json!({"loginDomains": [], "nextToken": "same"}))
            }
            _ => error(
                StatusCode::BAD_REQUEST,
                json!({"__type": "UnknownOperationException"}),
                vec![],
            ),
        }
    }

    pub(crate) async fn setup() -> (KiroClient, Hits) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Hits::default();
        let app = axum::Router::new().fallback(stub).with_state(hits.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (client(Some(&base)), hits)
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Arn {
        profile_arn: String,
    }

    #[test]
    fn request_values() {
        let r = KiroRequest::profiles("ListProfiles", json!({}));
        assert!(r.idempotent && r.service == KiroService::Profiles);
        assert!(!KiroRequest::identity("CreateScimAccessToken", json!({})).idempotent);
        assert!(KiroRequest::profiles("CreateProfile", json!({"clientToken": "c"})).idempotent);
        assert!(
            !KiroRequest::profiles("X", json!({}))
                .retry_safe(false)
                .idempotent
        );
    }

    #[tokio::test]
    async fn success_decodes_and_bad_shapes_fail_closed() {
        let (c, _) = setup().await;
        let got: Arn = c
            .call(KiroRequest::profiles("DescribeThing", json!({})))
            .await
            .unwrap();
        assert_eq!(got.profile_arn, "arn:x");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Wrong {
            n: String,
        }
        let err = c
            .call::<Wrong>(KiroRequest::profiles("BadShape", json!({})))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, KiroError::Decode { operation, .. } if operation == "BadShape"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_honouring_retry_after() {
        let (c, hits) = setup().await;
        let req = KiroRequest::profiles("Throttled2", json!({}));
        let _: Value = c.call(req).await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn paging_follows_next_token_and_guards_repeats() {
        let (c, hits) = setup().await;
        let req = KiroRequest::profiles("ListProfiles", json!({"maxResults": 2}));
        let arns: Vec<Value> = c.call_paged(req, "profiles").await.unwrap();
        let arns: Vec<&str> = arns.iter().map(|p| p["arn"].as_str().unwrap()).collect();
        assert_eq!(
            (arns, hits.swap(0, Ordering::SeqCst)),
            (vec!["a1", "a2", "a3", "a4"], 3)
        );
        let req = KiroRequest::identity("ListLoginDomains", json!({"profileArn": "p"}));
        let err = c
            .call_paged::<Value>(req, "loginDomains")
            .await
            .unwrap_err();
        assert!(matches!(err, KiroError::Decode { .. }) && err.to_string().contains("nextToken"));
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn transport_errors_are_retried_then_reported() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let c = client(Some(&base));
        let err = c
            .call::<Value>(KiroRequest::profiles("ListProfiles", json!({})))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, KiroError::Transport(m) if m.contains("4 attempt")),
            "{err}"
        );
    }
}

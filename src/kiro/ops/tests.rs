//! Every named operation against a local fake server: method, path, `X-Amz-Target`, the
//! signing name in the credential scope, the body; paging; error types; idempotent create.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::macros::datetime;

use crate::kiro::tests::client;
use crate::kiro::wire::*;
use crate::kiro::{KiroClient, KiroError};

const ARN: &str = "arn:aws:codewhisperer:us-east-1:123456789012:profile/P1";
const SECRET_TOKEN: &str = "scim-secret-7f3a9c";

/// One request as the fake server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    /// `X-Amz-Target`.
    target: String,
    /// The service of the SigV4 credential scope (`…/us-east-1/<service>/aws4_request`).
    signing_name: String,
    body: Value,
}

/// Answers the `n`-th request (0-based): status and JSON body.
type Handler = Arc<dyn Fn(&Seen, usize) -> (u16, Value) + Send + Sync>;

#[derive(Clone)]
struct State {
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn serve(
    axum::extract::State(state): axum::extract::State<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let auth = headers["authorization"].to_str().unwrap();
    let scope = auth
        .split("Credential=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        target: headers["x-amz-target"].to_str().unwrap().to_string(),
        signing_name: scope.split('/').nth(3).unwrap().to_string(),
        body: serde_json::from_slice(&body).unwrap(),
    };
    let n = {
        let mut all = state.seen.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    let (status, reply) = (state.handler)(&seen, n);
    (StatusCode::from_u16(status).unwrap(), axum::Json(reply)).into_response()
}

struct Fake {
    client: KiroClient,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(handler: impl Fn(&Seen, usize) -> (u16, Value) + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let state = State {
            handler: Arc::new(handler),
            seen: Arc::default(),
        };
        let seen = state.seen.clone();
        let app = axum::Router::new().fallback(serve).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            client: client(Some(&base)),
            seen,
        }
    }

    /// Answers the requests in order with `replies`.
    async fn scripted(replies: Vec<(u16, Value)>) -> Self {
        Self::start(move |seen, n| {
            replies
                .get(n)
                .cloned()
                .unwrap_or_else(|| panic!("unexpected request #{n}: {seen:?}"))
        })
        .await
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Asserts one request's transport and body.
fn check(seen: &Seen, operation: &str, body: Value) {
    let service = if matches!(
        operation,
        "CreateProfile"
            | "ListProfiles"
            | "UpdateProfile"
            | "DeleteProfile"
            | "TagResource"
            | "UntagResource"
            | "ListTagsForResource"
    ) {
        ("AWSCodeWhispererService", "codewhisperer")
    } else {
        ("AmazonQDeveloperService", "q")
    };
    assert_eq!(seen.method, Method::POST, "{operation}");
    assert_eq!(seen.path, "/", "{operation}");
    assert_eq!(seen.target, format!("{}.{operation}", service.0));
    assert_eq!(seen.signing_name, service.1, "{operation}");
    assert_eq!(seen.body, body, "{operation}");
}

fn error(status: u16, error_type: &str, message: &str) -> (u16, Value) {
    (status, json!({"__type": error_type, "message": message}))
}

fn ok(body: Value) -> (u16, Value) {
    (200, body)
}

fn profile_json(arn: &str, name: &str) -> Value {
    json!({
        "arn": arn,
        "profileName": name,
        "status": "ACTIVE",
        "createdAt": 1_704_164_645,
        "identityDetails": {"externalIdentityProviderDetails": {
            "issuerUrl": "https://login.microsoftonline.com/tid/v2.0",
            "clientId": "cid",
            "tenantId": "tid",
            "scimEndpoint": "https://scim.us-east-1.kiro.aws/P1/scim/v2",
            "futureMember": true
        }},
        "tags": [{"key": "team", "value": "dev"}],
        "somethingNew": {"ignored": 1}
    })
}

fn domain_json(name: &str, status: &str) -> Value {
    json!({
        "domainName": name,
        "status": status,
        "verificationToken": "vt-1",
        "verificationRecord": {"name": format!("_kiro.{name}"), "type": "TXT", "value": "kiro=vt-1"},
        "createdAt": 1_704_164_645,
        "verifiedAt": null
    })
}

fn arn() -> ProfileArn {
    ProfileArn::from(ARN)
}

#[tokio::test]
async fn profile_operations() {
    let fake = Fake::scripted(vec![
        ok(json!({"profileArn": ARN})),
        ok(json!({"profiles": [profile_json("arn:other", "other")], "nextToken": "p2"})),
        ok(json!({"profiles": [profile_json(ARN, "kiro")]})),
        ok(json!({"profiles": []})),
        ok(json!({"profileArn": ARN})),
        ok(json!({})),
        error(404, "ResourceNotFoundException", "no such profile"),
    ])
    .await;
    let c = &fake.client;
    let source = IdentitySource::external(
        "https://login.microsoftonline.com/tid/v2.0",
        "cid",
        Some("tid".into()),
    );
    let create = CreateProfile::new("kiro", source)
        .description("Entra sign-in")
        .tags(vec![Tag::new("team", "dev")]);
    assert_eq!(c.create_profile(&create).await.unwrap(), arn());
    let profile = c.get_profile(&arn()).await.unwrap().unwrap();
    assert_eq!(profile.profile_name, "kiro");
    assert_eq!(profile.status, ProfileStatus::Active);
    assert_eq!(profile.created_at, datetime!(2024-01-02 03:04:05 UTC));
    assert_eq!(
        profile
            .identity_details
            .external_identity_provider_details
            .scim_endpoint,
        "https://scim.us-east-1.kiro.aws/P1/scim/v2"
    );
    assert_eq!(profile.tags, vec![Tag::new("team", "dev")]);
    assert_eq!(c.get_profile(&arn()).await.unwrap(), None);
    let update = UpdateProfile {
        profile_arn: arn(),
        profile_name: None,
        description: Some("new".into()),
    };
    assert_eq!(c.update_profile(&update).await.unwrap(), arn());
    assert!(c.delete_profile(&arn()).await.unwrap());
    assert!(!c.delete_profile(&arn()).await.unwrap(), "already gone");

    let seen = fake.take();
    assert_eq!(seen.len(), 7);
    check(
        &seen[0],
        "CreateProfile",
        json!({
            "profileName": "kiro",
            "description": "Entra sign-in",
            "identitySource": {"externalIdentityProvider": {
                "issuerUrl": "https://login.microsoftonline.com/tid/v2.0",
                "clientId": "cid",
                "tenantId": "tid"
            }},
            "clientToken": create.client_token,
            "tags": [{"key": "team", "value": "dev"}]
        }),
    );
    check(&seen[1], "ListProfiles", json!({"maxResults": 100}));
    check(
        &seen[2],
        "ListProfiles",
        json!({"maxResults": 100, "nextToken": "p2"}),
    );
    check(&seen[3], "ListProfiles", json!({"maxResults": 100}));
    check(
        &seen[4],
        "UpdateProfile",
        json!({"profileArn": ARN, "description": "new"}),
    );
    check(&seen[5], "DeleteProfile", json!({"profileArn": ARN}));
    check(&seen[6], "DeleteProfile", json!({"profileArn": ARN}));
}

#[tokio::test]
async fn tag_operations() {
    let fake = Fake::scripted(vec![
        ok(json!({})),
        ok(json!({})),
        ok(json!({"tags": [{"key": "a", "value": "1"}]})),
    ])
    .await;
    let c = &fake.client;
    c.tag_resource(ARN, &[Tag::new("a", "1")]).await.unwrap();
    c.untag_resource(ARN, &["b".to_string()]).await.unwrap();
    assert_eq!(
        c.list_tags_for_resource(ARN).await.unwrap(),
        vec![Tag::new("a", "1")]
    );
    let seen = fake.take();
    check(
        &seen[0],
        "TagResource",
        json!({"resourceArn": ARN, "tags": [{"key": "a", "value": "1"}]}),
    );
    check(
        &seen[1],
        "UntagResource",
        json!({"resourceArn": ARN, "tagKeys": ["b"]}),
    );
    check(&seen[2], "ListTagsForResource", json!({"resourceArn": ARN}));
}

#[tokio::test]
async fn login_domain_operations() {
    let fake = Fake::scripted(vec![
        ok(json!({"loginDomain": domain_json("example.com", "PENDING")})),
        ok(json!({"loginDomains": [domain_json("other.com", "VERIFIED")], "nextToken": "d2"})),
        ok(json!({"loginDomains": [domain_json("example.com", "PENDING")]})),
        ok(json!({"loginDomains": [domain_json("example.com", "PENDING")]})),
        error(404, "ResourceNotFoundException", "no such profile"),
        ok(json!({})),
        error(404, "ResourceNotFoundException", "no such domain"),
    ])
    .await;
    let c = &fake.client;
    let domain = c
        .associate_login_domain(&arn(), "example.com")
        .await
        .unwrap();
    assert_eq!(domain.status, LoginDomainStatus::Pending);
    assert_eq!(
        domain.verification_record,
        VerificationRecord {
            name: "_kiro.example.com".into(),
            record_type: "TXT".into(),
            value: "kiro=vt-1".into()
        }
    );
    assert_eq!(domain.verified_at, None);
    let all = c.list_login_domains(&arn()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|d| d.domain_name.as_str()).collect();
    assert_eq!(names, ["other.com", "example.com"]);
    assert_eq!(all[0].status, LoginDomainStatus::Verified);
    let found = c.get_login_domain(&arn(), "Example.COM.").await.unwrap();
    assert_eq!(found.unwrap().domain_name, "example.com");
    assert_eq!(
        c.get_login_domain(&arn(), "example.com").await.unwrap(),
        None,
        "a profile that is gone has no domains"
    );
    assert!(
        c.disassociate_login_domain(&arn(), "example.com")
            .await
            .unwrap()
    );
    assert!(
        !c.disassociate_login_domain(&arn(), "example.com")
            .await
            .unwrap()
    );

    let seen = fake.take();
    let domain_ref = json!({"profileArn": ARN, "domainName": "example.com"});
    check(&seen[0], "AssociateLoginDomain", domain_ref.clone());
    check(
        &seen[1],
        "ListLoginDomains",
        json!({"profileArn": ARN, "maxResults": 100}),
    );
    check(
        &seen[2],
        "ListLoginDomains",
        json!({"profileArn": ARN, "maxResults": 100, "nextToken": "d2"}),
    );
    check(
        &seen[3],
        "ListLoginDomains",
        json!({"profileArn": ARN, "maxResults": 100}),
    );
    check(&seen[5], "DisassociateLoginDomain", domain_ref.clone());
    check(&seen[6], "DisassociateLoginDomain", domain_ref);
}

#[tokio::test]
async fn scim_access_token_operations() {
    let fake = Fake::scripted(vec![
        ok(json!({
            "tokenId": "tok-1", "token": SECRET_TOKEN,
            "createdAt": 1_704_164_645, "expiresAt": 1_735_700_645
        })),
        ok(json!({"scimAccessTokens": [
            {"tokenId": "tok-1", "description": "entra", "createdAt": 1_704_164_645,
             "expiresAt": 1_735_700_645, "lastUsedAt": 1_704_164_700},
        ], "nextToken": "t2"})),
        ok(json!({"scimAccessTokens": [
            {"tokenId": "tok-0", "createdAt": 1, "expiresAt": 2}
        ]})),
        ok(json!({})),
        error(404, "ResourceNotFoundException", "no such token"),
    ])
    .await;
    let c = &fake.client;
    let created = c
        .create_scim_access_token(&arn(), Some("entra"))
        .await
        .unwrap();
    assert_eq!(created.token_id, "tok-1");
    assert_eq!(created.token.expose(), SECRET_TOKEN);
    assert_eq!(created.expires_at, datetime!(2025-01-01 03:04:05 UTC));
    let debug = format!("{created:?}");
    assert!(
        !debug.contains(SECRET_TOKEN) && debug.contains("<redacted>"),
        "{debug}"
    );
    let tokens = c.list_scim_access_tokens(&arn()).await.unwrap();
    let ids: Vec<&str> = tokens.iter().map(|t| t.token_id.as_str()).collect();
    assert_eq!(ids, ["tok-1", "tok-0"]);
    assert_eq!(
        tokens[0].last_used_at,
        Some(datetime!(2024-01-02 03:05:00 UTC))
    );
    assert_eq!(tokens[1].description, None);
    assert!(c.delete_scim_access_token(&arn(), "tok-1").await.unwrap());
    assert!(!c.delete_scim_access_token(&arn(), "tok-1").await.unwrap());

    let seen = fake.take();
    check(
        &seen[0],
        "CreateScimAccessToken",
        json!({"profileArn": ARN, "description": "entra"}),
    );
    check(
        &seen[1],
        "ListScimAccessTokens",
        json!({"profileArn": ARN, "maxResults": 100}),
    );
    check(
        &seen[2],
        "ListScimAccessTokens",
        json!({"profileArn": ARN, "maxResults": 100, "nextToken": "t2"}),
    );
    let token_ref = json!({"profileArn": ARN, "tokenId": "tok-1"});
    check(&seen[3], "DeleteScimAccessToken", token_ref.clone());
    check(&seen[4], "DeleteScimAccessToken", token_ref);
}

#[tokio::test]
async fn identity_and_assignment_operations() {
    let fake = Fake::scripted(vec![
        ok(
            json!({"users": [{"userId": "u1", "userName": "ada@example.com",
            "externalId": "oid-1", "active": true}], "nextToken": "u2"}),
        ),
        ok(
            json!({"users": [{"userId": "u2", "userName": "bob@example.com",
            "externalId": "oid-2", "displayName": "Bob", "active": false}]}),
        ),
        ok(json!({"users": []})),
        ok(json!({"groups": [{"groupId": "g1", "displayName": "Devs",
            "externalId": "oid-g", "memberCount": 3}]})),
        ok(json!({})),
        ok(json!({})),
        ok(
            json!({"assignments": [{"principalId": "g1", "principalType": "GROUP",
            "subscriptionType": "KIRO_PRO_PLUS", "status": "ACTIVE"}]}),
        ),
        ok(json!({})),
        error(404, "ResourceNotFoundException", "no such assignment"),
    ])
    .await;
    let c = &fake.client;
    let users = c.list_users(&arn(), &UserFilter::default()).await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[1].display_name.as_deref(), Some("Bob"));
    assert!(users[0].active && !users[1].active);
    let filter = UserFilter {
        external_id: Some("oid-9".into()),
        user_name: None,
    };
    assert!(c.list_users(&arn(), &filter).await.unwrap().is_empty());
    let groups = c
        .list_groups(
            &arn(),
            &GroupFilter {
                external_id: None,
                display_name: Some("Devs".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (groups[0].group_id.as_str(), groups[0].member_count),
        ("g1", 3)
    );
    let mut spec = AssignmentSpec {
        profile_arn: arn(),
        principal_id: "g1".into(),
        principal_type: PrincipalType::Group,
        subscription_type: SubscriptionType::KiroPro,
    };
    c.create_assignment(&spec).await.unwrap();
    spec.subscription_type = SubscriptionType::KiroProPlus;
    c.update_assignment(&spec).await.unwrap();
    let assignments = c.list_assignments(&arn()).await.unwrap();
    assert_eq!(
        assignments[0].subscription_type,
        SubscriptionType::KiroProPlus
    );
    assert_eq!(assignments[0].status, AssignmentStatus::Active);
    assert!(
        c.delete_assignment(&arn(), "g1", &PrincipalType::Group)
            .await
            .unwrap()
    );
    assert!(
        !c.delete_assignment(&arn(), "g1", &PrincipalType::Group)
            .await
            .unwrap()
    );

    let seen = fake.take();
    check(
        &seen[0],
        "ListUsers",
        json!({"profileArn": ARN, "maxResults": 100}),
    );
    check(
        &seen[1],
        "ListUsers",
        json!({"profileArn": ARN, "maxResults": 100, "nextToken": "u2"}),
    );
    check(
        &seen[2],
        "ListUsers",
        json!({"profileArn": ARN, "filter": {"externalId": "oid-9"}, "maxResults": 100}),
    );
    check(
        &seen[3],
        "ListGroups",
        json!({"profileArn": ARN, "filter": {"displayName": "Devs"}, "maxResults": 100}),
    );
    let assignment = |tier: &str| {
        json!({"profileArn": ARN, "principalId": "g1", "principalType": "GROUP",
               "subscriptionType": tier})
    };
    check(&seen[4], "CreateAssignment", assignment("KIRO_PRO"));
    check(&seen[5], "UpdateAssignment", assignment("KIRO_PRO_PLUS"));
    check(
        &seen[6],
        "ListAssignments",
        json!({"profileArn": ARN, "maxResults": 100}),
    );
    let assignment_ref = json!({"profileArn": ARN, "principalId": "g1", "principalType": "GROUP"});
    check(&seen[7], "DeleteAssignment", assignment_ref.clone());
    check(&seen[8], "DeleteAssignment", assignment_ref);
}

/// The service creates the profile, then the answer fails (500): the retry carries the same
/// `clientToken`, and the service answers with the profile it already made.
#[tokio::test]
async fn a_retried_create_makes_one_profile() {
    let created: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = created.clone();
    let fake = Fake::start(move |seen, n| {
        let token = seen.body["clientToken"].as_str().unwrap().to_string();
        let mut store = store.lock().unwrap();
        let index = match store.iter().position(|t| *t == token) {
            Some(index) => index,
            None => {
                store.push(token);
                store.len() - 1
            }
        };
        if n == 0 {
            return error(500, "InternalServerException", "lost the answer");
        }
        ok(json!({"profileArn": format!("arn:aws:codewhisperer:us-east-1:1:profile/P{index}")}))
    })
    .await;
    let request = CreateProfile::new("kiro", IdentitySource::external("https://i", "c", None));
    let got = fake.client.create_profile(&request).await.unwrap();
    assert_eq!(got.as_str(), "arn:aws:codewhisperer:us-east-1:1:profile/P0");
    let seen = fake.take();
    assert_eq!(seen.len(), 2, "one failed attempt, one retry");
    assert_eq!(
        seen[0].body, seen[1].body,
        "the retry repeats the same request"
    );
    assert_eq!(*created.lock().unwrap(), vec![request.client_token.clone()]);
}

/// A token create is not repeated after a failure the service may have acted on.
#[tokio::test]
async fn a_failed_token_create_is_not_retried() {
    let fake = Fake::scripted(vec![error(500, "InternalServerException", "oops")]).await;
    let err = fake
        .client
        .create_scim_access_token(&arn(), None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), Some("InternalServerException"));
    let seen = fake.take();
    assert_eq!(seen.len(), 1);
    check(
        &seen[0],
        "CreateScimAccessToken",
        json!({"profileArn": ARN}),
    );
}

type Predicate = fn(&KiroError) -> bool;

#[tokio::test]
async fn error_types_map_to_predicates_and_are_not_retried() {
    let cases: [(u16, &str, Predicate); 5] = [
        (400, "ValidationException", KiroError::is_validation),
        (404, "ResourceNotFoundException", KiroError::is_not_found),
        (409, "ConflictException", KiroError::is_conflict),
        (
            402,
            "ServiceQuotaExceededException",
            KiroError::is_quota_exceeded,
        ),
        (403, "AccessDeniedException", KiroError::is_access_denied),
    ];
    for (status, error_type, predicate) in cases {
        let fake = Fake::scripted(vec![error(status, error_type, "because")]).await;
        let err = fake
            .client
            .associate_login_domain(&arn(), "example.com")
            .await
            .unwrap_err();
        assert!(predicate(&err), "{error_type}: {err}");
        let others: [Predicate; 5] = [
            KiroError::is_validation,
            KiroError::is_not_found,
            KiroError::is_conflict,
            KiroError::is_quota_exceeded,
            KiroError::is_access_denied,
        ];
        assert_eq!(others.iter().filter(|p| p(&err)).count(), 1, "{err}");
        assert_eq!(
            err.to_string(),
            format!("Kiro API error in AssociateLoginDomain (HTTP {status}) {error_type}: because")
        );
        assert_eq!(fake.take().len(), 1, "{error_type} is not retried");
    }
}

#[tokio::test]
async fn responses_missing_required_fields_fail_closed_naming_the_operation() {
    let mut incomplete = profile_json(ARN, "kiro");
    incomplete.as_object_mut().unwrap().remove("status");
    let fake = Fake::scripted(vec![
        ok(json!({})),
        ok(json!({"profiles": [incomplete]})),
        ok(json!({"loginDomain": {"domainName": "example.com"}})),
        ok(json!({"tags": null})),
    ])
    .await;
    let c = &fake.client;
    let request = CreateProfile::new("kiro", IdentitySource::external("https://i", "c", None));
    let err = c.create_profile(&request).await.unwrap_err();
    assert!(
        matches!(&err, KiroError::Decode { operation, message }
            if operation == "CreateProfile" && message.contains("profileArn")),
        "{err}"
    );
    let err = c.get_profile(&arn()).await.unwrap_err();
    assert!(
        matches!(&err, KiroError::Decode { operation, message }
            if operation == "ListProfiles" && message.contains("status")),
        "{err}"
    );
    let err = c
        .associate_login_domain(&arn(), "example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KiroError::Decode { operation, .. } if operation == "AssociateLoginDomain"),
        "{err}"
    );
    // `null` for a list reads as empty, not as a failure.
    assert!(c.list_tags_for_resource(ARN).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_scim_token_never_shows_in_debug_logs_or_errors() {
    let (logs, _guard) = crate::test_logs::CapturedLogs::start();
    let fake = Fake::scripted(vec![
        ok(json!({"tokenId": "tok-1", "token": SECRET_TOKEN,
            "createdAt": 1_704_164_645, "expiresAt": 1_735_700_645})),
        // A shape we do not understand, with the secret in it.
        ok(json!({"tokenId": "tok-2", "token": SECRET_TOKEN,
            "createdAt": SECRET_TOKEN, "expiresAt": 1})),
        ok(json!({"tokenId": "tok-3", "token": [SECRET_TOKEN],
            "createdAt": 1, "expiresAt": 1})),
    ])
    .await;
    let c = &fake.client;
    let created = c.create_scim_access_token(&arn(), None).await.unwrap();
    let mut shown = vec![format!("{created:?}"), format!("{:?}", created.token)];
    for _ in 0..2 {
        let err = c.create_scim_access_token(&arn(), None).await.unwrap_err();
        assert!(matches!(err, KiroError::Decode { .. }), "{err}");
        shown.extend([err.to_string(), format!("{err:?}")]);
    }
    let logged = logs.lines();
    assert!(!logged.is_empty(), "the client logs each request");
    shown.extend(logged);
    for text in shown {
        assert!(!text.contains(SECRET_TOKEN), "{text}");
    }
}

#[tokio::test]
async fn getters_match_in_the_list_and_read_a_gone_profile_as_none() {
    let token = |id: &str| json!({"tokenId": id, "createdAt": 1, "expiresAt": 2});
    let assignment = |id: &str, kind: &str| {
        json!({"principalId": id, "principalType": kind,
               "subscriptionType": "KIRO_POWER", "status": "CANCELED"})
    };
    let fake = Fake::scripted(vec![
        ok(json!({"scimAccessTokens": [token("tok-0"), token("tok-1")]})),
        ok(json!({"scimAccessTokens": [token("tok-0")]})),
        error(404, "ResourceNotFoundException", "no such profile"),
        ok(json!({"assignments": [assignment("x1", "USER"), assignment("x1", "GROUP")]})),
        ok(json!({"assignments": [assignment("x1", "USER")]})),
        error(404, "ResourceNotFoundException", "no such profile"),
        error(403, "AccessDeniedException", "denied"),
    ])
    .await;
    let c = &fake.client;
    let found = c.get_scim_access_token(&arn(), "tok-1").await.unwrap();
    assert_eq!(found.unwrap().token_id, "tok-1");
    assert_eq!(
        c.get_scim_access_token(&arn(), "tok-1").await.unwrap(),
        None
    );
    assert_eq!(
        c.get_scim_access_token(&arn(), "tok-1").await.unwrap(),
        None
    );
    let group = c
        .get_assignment(&arn(), "x1", &PrincipalType::Group)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (group.principal_type, group.subscription_type, group.status),
        (
            PrincipalType::Group,
            SubscriptionType::KiroPower,
            AssignmentStatus::Canceled
        )
    );
    let missing = c.get_assignment(&arn(), "x1", &PrincipalType::Group).await;
    assert_eq!(missing.unwrap(), None);
    let gone = c.get_assignment(&arn(), "x1", &PrincipalType::User).await;
    assert_eq!(gone.unwrap(), None);
    // Any other error is an error, never `None`.
    let err = c
        .get_assignment(&arn(), "x1", &PrincipalType::User)
        .await
        .unwrap_err();
    assert!(err.is_access_denied(), "{err}");
    let seen = fake.take();
    let page = json!({"profileArn": ARN, "maxResults": 100});
    for s in &seen[..3] {
        check(s, "ListScimAccessTokens", page.clone());
    }
    for s in &seen[3..] {
        check(s, "ListAssignments", page.clone());
    }
}

/// A subscription whose answer was lost (500) is looked for before it is made again; a
/// conflict after such a try is that try's own subscription.
#[tokio::test]
async fn a_subscription_whose_answer_was_lost_is_found_not_refused() {
    let spec = AssignmentSpec {
        profile_arn: arn(),
        principal_id: "g1".into(),
        principal_type: PrincipalType::Group,
        subscription_type: SubscriptionType::KiroPro,
    };
    let lost = || error(500, "InternalServerException", "lost the answer");
    let listed = |items: Value| ok(json!({"assignments": items}));
    let active = json!([{"principalId": "g1", "principalType": "GROUP",
        "subscriptionType": "KIRO_PRO", "status": "ACTIVE"}]);

    let fake = Fake::scripted(vec![lost(), listed(active)]).await;
    fake.client.create_assignment(&spec).await.unwrap();
    let seen = fake.take();
    assert_eq!(seen.len(), 2, "found, not made again");
    assert!(seen[1].target.ends_with(".ListAssignments"));

    let fake = Fake::scripted(vec![
        lost(),
        listed(json!([])),
        error(409, "ConflictException", "already assigned"),
    ])
    .await;
    fake.client.create_assignment(&spec).await.unwrap();
    assert_eq!(fake.take().len(), 3);

    let fake = Fake::scripted(vec![error(409, "ConflictException", "already assigned")]).await;
    let err = fake.client.create_assignment(&spec).await.unwrap_err();
    assert!(
        err.is_conflict(),
        "a plain conflict is the caller's to report"
    );
    assert_eq!(fake.take().len(), 1);
}

//! Workload identity, emulated: the OIDC issuers whose tokens Entra exchanges (GitHub Actions,
//! Azure DevOps, and any issuer a test names, e.g. an AKS cluster or HCP Terraform), and the
//! managed identity endpoints of Azure hosts (IMDS, App Service).
//!
//! - `GET /imds/{tenant}/metadata/identity/oauth2/token?api-version&resource[&client_id]`
//!   with `Metadata: true`: the tenant's client as the VM's identity (`msi_endpoint`)
//! - `GET /appservice/{tenant}/msi/token?api-version=2019-08-01&resource` with
//!   `X-IDENTITY-HEADER` (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`)
//! - `GET /github/idtoken?api-version=2.0[&audience]` with a registered bearer → `{"value"}`
//!   (`ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`)
//! - `POST /ado/{org}/{project}/_apis/distributedtask/hubs/build/plans/{plan}/jobs/{job}/oidctoken
//!   ?api-version=7.1&serviceConnectionId` with a registered bearer → `{"oidcToken"}`
//!   (`SYSTEM_OIDCREQUESTURI`, `SYSTEM_ACCESSTOKEN`)
//! - `GET /oidc/keys`: the JWKS of every emulated issuer (one RS256 key)
//!
//! Tokens are RS256 JWTs signed with the sandbox's key; the token endpoint checks an
//! assertion's issuer, subject and audience against the client's federated identity
//! credentials and its signature against that key ([`IdentityState::verify`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::{Sandbox, TOKEN_LIFETIME};

/// The issuer of GitHub Actions' OIDC tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience Entra expects of a federated token.
pub const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Lifetime of issued OIDC tokens (GitHub's are valid a few minutes).
const OIDC_TOKEN_LIFETIME_SECS: i64 = 600;
const KEY_ID: &str = "kiro-sandbox-oidc-1";

/// Who may ask GitHub's or Azure DevOps' token endpoint for a token, by bearer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    /// `github` or `ado`.
    pub kind: String,
    pub bearer: String,
    /// The token's `sub`, e.g. `repo:kiro/infra:ref:refs/heads/main` or
    /// `sc://org/project/connection`.
    pub subject: String,
    /// Azure DevOps only: the service connection the bearer may ask for.
    #[serde(default)]
    pub service_connection_id: Option<String>,
}

#[derive(Default)]
struct Registry {
    requesters: HashMap<String, Requester>,
    /// App Service identity header → tenant id.
    app_service_headers: HashMap<String, String>,
    /// Answers per endpoint (`imds`, `app_service`, `github`, `ado`) and outcome.
    hits: BTreeMap<String, u64>,
}

/// The signing key (made on first use) and what the control API registered.
#[derive(Default)]
pub struct IdentityState {
    key: OnceLock<PKey<Private>>,
    registry: Mutex<Registry>,
}

impl IdentityState {
    fn key(&self) -> &PKey<Private> {
        self.key.get_or_init(|| {
            let rsa = Rsa::generate(2048).expect("RSA key generation");
            PKey::from_rsa(rsa).expect("RSA key")
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_requester(&self, requester: Requester) {
        self.registry()
            .requesters
            .insert(requester.bearer.clone(), requester);
    }

    pub fn add_app_service_header(&self, header: &str, tenant_id: &str) {
        self.registry()
            .app_service_headers
            .insert(header.to_string(), tenant_id.to_string());
    }

    pub fn hits(&self) -> BTreeMap<String, u64> {
        self.registry().hits.clone()
    }

    fn hit(&self, endpoint: &str, status: StatusCode) {
        let key = format!("{endpoint}.{}", status.as_u16());
        *self.registry().hits.entry(key).or_default() += 1;
    }

    /// A signed RS256 JWT from `issuer` for `subject` and `audience`, valid for
    /// `lifetime_secs` (negative: already expired).
    pub fn sign(&self, issuer: &str, subject: &str, audience: &str, lifetime_secs: i64) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": KEY_ID});
        let claims = json!({
            "iss": issuer, "sub": subject, "aud": audience,
            "iat": now, "nbf": now.min(now + lifetime_secs), "exp": now + lifetime_secs,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), self.key()).expect("signer");
        signer.update(input.as_bytes()).expect("sign");
        let signature = signer.sign_to_vec().expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The claims of `jwt` when it carries a valid signature by the sandbox's issuers' key
    /// (signature only: what the claims say, e.g. `exp`, is the caller's to judge).
    pub fn verified_claims(&self, jwt: &str) -> Option<Value> {
        if !self.verify(jwt) {
            return None;
        }
        let claims = jwt.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(claims).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// True when `jwt` carries a valid RS256 signature by the sandbox's issuers' key.
    pub fn verify(&self, jwt: &str) -> bool {
        let mut parts = jwt.rsplitn(2, '.');
        let (Some(signature), Some(input)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        Verifier::new(MessageDigest::sha256(), self.key())
            .and_then(|mut v| {
                v.update(input.as_bytes())?;
                v.verify(&signature)
            })
            .unwrap_or(false)
    }

    fn jwks(&self) -> Value {
        let rsa = self.key().rsa().expect("RSA key");
        let b64 = |n: &openssl::bn::BigNumRef| URL_SAFE_NO_PAD.encode(n.to_vec());
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID,
            "n": b64(rsa.n()), "e": b64(rsa.e()),
        }]})
    }
}

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/imds/{tenant}/metadata/identity/oauth2/token", get(imds))
        .route("/appservice/{tenant}/msi/token", get(app_service))
        .route("/github/idtoken", get(github))
        .route(
            "/ado/{org}/{project}/_apis/distributedtask/hubs/build/plans/{plan}/jobs/{job}/oidctoken",
            post(azure_devops),
        )
        .route(
            "/oidc/keys",
            get(|State(sb): State<Arc<Sandbox>>| async move { axum::Json(sb.identity.jwks()) }),
        )
}

type Params = Query<HashMap<String, String>>;

/// IMDS's and App Service's error shape.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (status, axum::Json(body)).into_response()
}

/// GitHub's and Azure DevOps' error shape.
fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({"message": text}))).into_response()
}

async fn imds(
    State(sb): State<Arc<Sandbox>>,
    Path(tenant): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let answer = imds_answer(&sb, &tenant, &q, &headers).await;
    sb.identity.hit("imds", answer.status());
    answer
}

async fn imds_answer(
    sb: &Sandbox,
    tenant: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d);
    if headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return bad("Required metadata header not specified");
    }
    if q.get("api-version").is_none_or(|v| v.is_empty()) {
        return bad("Required query variable 'api-version' is missing");
    }
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return bad("Required audience parameter not specified");
    };
    managed_token(sb, tenant, q.get("client_id"), resource, true).await
}

async fn app_service(
    State(sb): State<Arc<Sandbox>>,
    Path(tenant): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let header = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok());
    let known = header.and_then(|h| sb.identity.registry().app_service_headers.get(h).cloned());
    let answer = match (
        known,
        q.get("api-version").map(String::as_str),
        q.get("resource"),
    ) {
        (None, _, _) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
        ),
        (Some(t), _, _) if !t.eq_ignore_ascii_case(&tenant) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER header belongs to another app.",
        ),
        (_, Some("2019-08-01"), Some(resource)) if !resource.is_empty() => {
            managed_token(&sb, &tenant, q.get("client_id"), resource, false).await
        }
        (_, Some("2019-08-01"), _) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The resource parameter is missing.",
        ),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "api-version must be 2019-08-01 with X-IDENTITY-HEADER.",
        ),
    };
    sb.identity.hit("app_service", answer.status());
    answer
}

/// A Graph token for the tenant's client as the host's identity (IMDS answers with numbers
/// as strings, and the same fields App Service has plus `expires_in`).
async fn managed_token(
    sb: &Sandbox,
    tenant: &str,
    client_id: Option<&String>,
    resource: &str,
    imds: bool,
) -> Response {
    let not_found = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        )
    };
    let Some(t) = sb.tenant(tenant).await else {
        return not_found();
    };
    let (tenant_id, client) = {
        let t = t.lock().await;
        let client = match client_id {
            Some(id) => t
                .clients
                .contains_key(&id.to_ascii_lowercase())
                .then(|| id.to_ascii_lowercase()),
            None => t.clients.keys().next().cloned(),
        };
        (t.id.clone(), client)
    };
    let Some(client) = client else {
        return not_found();
    };
    let token = sb.issue_token(&tenant_id, &client);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let secs = TOKEN_LIFETIME.as_secs() as i64 - 1;
    let mut body = json!({
        "access_token": token, "client_id": client, "resource": resource,
        "token_type": "Bearer", "expires_on": (now + secs).to_string(),
    });
    if imds {
        body["expires_in"] = json!(secs.to_string());
        body["ext_expires_in"] = json!(secs.to_string());
        body["not_before"] = json!(now.to_string());
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The registered requester for the request's bearer, if it is of `kind`.
fn requester(sb: &Sandbox, headers: &HeaderMap, kind: &str) -> Option<Requester> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    let registry = sb.identity.registry();
    registry
        .requesters
        .get(bearer)
        .filter(|r| r.kind == kind)
        .cloned()
}

async fn github(State(sb): State<Arc<Sandbox>>, Query(q): Params, headers: HeaderMap) -> Response {
    let answer = match requester(&sb, &headers, "github") {
        None => message(StatusCode::UNAUTHORIZED, "Bad credentials"),
        Some(r) => {
            // Without `audience`, GitHub uses the URL of the repository owner.
            let owner = r
                .subject
                .trim_start_matches("repo:")
                .split('/')
                .next()
                .unwrap_or("");
            let default_audience = format!("https://github.com/{owner}");
            let audience = q.get("audience").cloned().unwrap_or(default_audience);
            let token = sb.identity.sign(
                GITHUB_ISSUER,
                &r.subject,
                &audience,
                OIDC_TOKEN_LIFETIME_SECS,
            );
            (
                StatusCode::OK,
                axum::Json(json!({"count": token.len(), "value": token})),
            )
                .into_response()
        }
    };
    sb.identity.hit("github", answer.status());
    answer
}

async fn azure_devops(
    State(sb): State<Arc<Sandbox>>,
    Path((org, _project, _plan, _job)): Path<(String, String, String, String)>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let connection = q.get("serviceConnectionId");
    let answer = match (requester(&sb, &headers, "ado"), q.get("api-version")) {
        (None, _) => message(
            StatusCode::UNAUTHORIZED,
            "TF400813: The user '' is not authorized to access this resource.",
        ),
        (Some(_), None) => message(
            StatusCode::BAD_REQUEST,
            "VSS0001: The api-version query parameter is required.",
        ),
        (Some(r), Some(_))
            if connection.is_none() || r.service_connection_id.as_ref() != connection =>
        {
            message(
                StatusCode::BAD_REQUEST,
                "The service connection does not exist, or the pipeline is not authorized to use it.",
            )
        }
        (Some(r), Some(_)) => {
            let issuer = format!("https://vstoken.dev.azure.com/{org}");
            let token = sb.identity.sign(
                &issuer,
                &r.subject,
                ENTRA_AUDIENCE,
                OIDC_TOKEN_LIFETIME_SECS,
            );
            (StatusCode::OK, axum::Json(json!({"oidcToken": token}))).into_response()
        }
    };
    sb.identity.hit("ado", answer.status());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let state = IdentityState::default();
        let jwt = state.sign("https://issuer.example", "sub-1", ENTRA_AUDIENCE, 60);
        assert!(state.verify(&jwt));
        assert_eq!(state.verified_claims(&jwt).unwrap()["sub"], "sub-1");
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            json!({"iss": "https://issuer.example", "sub": "other", "aud": ENTRA_AUDIENCE})
                .to_string(),
        );
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert!(!state.verify(&forged));
        assert_eq!(state.verified_claims(&forged), None);
        assert!(
            !IdentityState::default().verify(&jwt),
            "another sandbox's key"
        );
        assert_eq!(state.jwks()["keys"][0]["kid"], KEY_ID);
    }
}

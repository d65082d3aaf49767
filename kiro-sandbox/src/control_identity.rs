//! Control API routes for workload identity (see `identity.rs`):
//!
//! - `POST /_sandbox/tenants/{t}/federated_credentials` `{client_id, name, issuer, subject,
//!   audiences}` → 201 the credential: the client's federated identity credential, as Graph's
//!   `POST /applications/{id}/federatedIdentityCredentials` makes it
//! - `POST /_sandbox/oidc/tokens` `{issuer, subject, audience, lifetime_secs?}` → 200 `{token}`:
//!   a JWT signed by the sandbox's issuer key, as an AKS cluster or HCP Terraform would issue
//! - `POST /_sandbox/oidc/requesters` `{kind: "github"|"ado", bearer, subject,
//!   service_connection_id?}` → 204: who may ask GitHub's or Azure DevOps' token endpoint
//! - `POST /_sandbox/tenants/{t}/app_service_identity` `{}` → 201 `{identity_endpoint,
//!   identity_header}` (the endpoint as a path on the sandbox)
//! - `GET /_sandbox/identity/hits` → `{"hits": {"imds.200": n, …}}`

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Sb, body, fail, tenant, with_client};
use crate::identity::Requester;
use crate::state::{FederatedCredential, Sandbox};

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(
            "/_sandbox/tenants/{tenant}/federated_credentials",
            post(add_federated_credential),
        )
        .route("/_sandbox/oidc/tokens", post(mint_token))
        .route("/_sandbox/oidc/requesters", post(add_requester))
        .route(
            "/_sandbox/tenants/{tenant}/app_service_identity",
            post(app_service_identity),
        )
        .route("/_sandbox/identity/hits", get(hits))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFederatedCredential {
    client_id: String,
    #[serde(flatten)]
    credential: FederatedCredential,
}

async fn add_federated_credential(State(sb): Sb, Path(key): Path<String>, bytes: Bytes) -> Answer {
    let req: NewFederatedCredential = body(&bytes)?;
    let c = req.credential;
    if c.issuer.is_empty() || c.subject.is_empty() || c.audiences.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "issuer, subject and audiences must not be empty",
        ));
    }
    let shown = json!(c);
    with_client(&sb, &key, &req.client_id, |client| {
        client.federated_credentials.push(c);
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(shown)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintToken {
    issuer: String,
    subject: String,
    audience: String,
    #[serde(default)]
    lifetime_secs: Option<i64>,
}

async fn mint_token(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: MintToken = body(&bytes)?;
    let lifetime = req.lifetime_secs.unwrap_or(600);
    let token = sb
        .identity
        .sign(&req.issuer, &req.subject, &req.audience, lifetime);
    Ok(axum::Json(json!({"token": token})).into_response())
}

async fn add_requester(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: Requester = body(&bytes)?;
    if !matches!(req.kind.as_str(), "github" | "ado") || req.bearer.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "kind must be \"github\" or \"ado\", and bearer non-empty",
        ));
    }
    sb.identity.add_requester(req);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn app_service_identity(State(sb): Sb, Path(key): Path<String>) -> Answer {
    let tenant_id = tenant(&sb, &key).await?.lock().await.id.clone();
    let header = uuid::Uuid::new_v4().simple().to_string();
    sb.identity.add_app_service_header(&header, &tenant_id);
    let body = json!({
        "identity_endpoint": format!("/appservice/{tenant_id}/msi/token"),
        "identity_header": header,
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

async fn hits(State(sb): Sb) -> Response {
    axum::Json(json!({"hits": sb.identity.hits()})).into_response()
}

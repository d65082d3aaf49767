//! Control API routes for STS (documented in the module comment of `control.rs`, whose
//! helpers this child module uses): roles with trust policies in sandbox accounts, web
//! identity tokens from the sandbox's OIDC issuer, and the sessions STS issued.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Sb, body, fail};
use crate::state::Sandbox;
use crate::sts::roles::Trust;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/aws/roles", post(create_role))
        .route("/_sandbox/aws/web_identity_tokens", post(sign_token))
        .route("/_sandbox/aws/sessions", get(sessions))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRole {
    account_id: String,
    name: String,
    max_session_duration: Option<u64>,
    #[serde(default)]
    trust: Trust,
}

async fn create_role(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: NewRole = body(&bytes)?;
    let role = sb
        .sts
        .create_role(
            &req.account_id,
            &req.name,
            req.max_session_duration,
            req.trust,
        )
        .map_err(|e| fail(StatusCode::BAD_REQUEST, e))?;
    tracing::info!(role = %role.arn, "sandbox IAM role created");
    Ok((StatusCode::CREATED, axum::Json(role)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    issuer: String,
    audience: String,
    subject: String,
    /// Seconds until `exp`; negative for an already expired token. Default 600.
    lifetime_secs: Option<i64>,
}

async fn sign_token(State(sb): Sb, bytes: Bytes) -> Answer {
    let req: NewToken = body(&bytes)?;
    let token = sb.identity.sign(
        &req.issuer,
        &req.subject,
        &req.audience,
        req.lifetime_secs.unwrap_or(600),
    );
    Ok((StatusCode::CREATED, axum::Json(json!({"token": token}))).into_response())
}

async fn sessions(State(sb): Sb) -> Answer {
    Ok(axum::Json(json!({"sessions": sb.sts.sessions()})).into_response())
}

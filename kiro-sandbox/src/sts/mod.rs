//! AWS STS as the SDKs speak to it: the query protocol (`POST /sts/` with a form body
//! `Action=…&Version=2011-06-15&…`, XML answers and `ErrorResponse` errors). `AssumeRole` and
//! `GetCallerIdentity` are SigV4-verified (signing name `sts`) against the sandbox's access
//! keys; `AssumeRoleWithWebIdentity` is unsigned and carries a JWT from the sandbox's OIDC
//! issuer. The provider's `endpoints.sts` is `{sandbox url}/sts`.
//!
//! Requests are counted as `sts.<Action>` (no faults are injected here).

pub mod roles;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::kiro::sigv4::{self, Caller};
use crate::kiro::{ApiError, store::AwsAccount};
use crate::state::Sandbox;
use roles::{AssumeRole, Issued, parse_role_arn};

const VERSION: &str = "2011-06-15";
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An STS error: its `Code`, `Message` and HTTP status.
#[derive(Debug)]
pub struct StsError {
    pub code: &'static str,
    pub message: String,
    status: StatusCode,
}

impl StsError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status,
        }
    }
    pub fn access_denied(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", m)
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", m)
    }
    pub fn invalid_identity_token(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidIdentityToken", m)
    }
    pub fn expired_token(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ExpiredTokenException", m)
    }

    fn xml(&self, request_id: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>Sender</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            self.code,
            escape(&self.message)
        )
    }
}

/// A SigV4 failure in STS's words.
impl From<ApiError> for StsError {
    fn from(e: ApiError) -> Self {
        let code = match e.kind {
            "UnrecognizedClientException" => "InvalidClientTokenId",
            "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
            "ExpiredTokenException" => "ExpiredToken",
            _ => "SignatureDoesNotMatch",
        };
        Self::new(StatusCode::FORBIDDEN, code, e.message)
    }
}

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/sts", post(handle))
        .route("/sts/", post(handle))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let action = params.get("Action").cloned().unwrap_or_default();
    sb.faults.counts.incr(&format!("sts.{action}"));
    let incoming = sigv4::Incoming {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    let mut resp = match answer(&sb, &action, &params, &incoming) {
        Ok(result) => {
            let xml = format!(
                "<{action}Response xmlns=\"{NAMESPACE}\">\n  <{action}Result>\n{result}  \
                 </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
                 </ResponseMetadata>\n</{action}Response>\n"
            );
            xml_response(StatusCode::OK, xml, &request_id)
        }
        Err(e) => {
            tracing::warn!(action = %action, code = e.code, "STS refused: {}", e.message);
            xml_response(e.status, e.xml(&request_id), &request_id)
        }
    };
    // Names the request in the sandbox's log line (STS is not behind the fault layer).
    resp.extensions_mut().insert(crate::fault_layer::Handled {
        operation: format!("sts.{action}"),
        fault: None,
    });
    resp
}

fn answer(
    sb: &Sandbox,
    action: &str,
    params: &HashMap<String, String>,
    incoming: &sigv4::Incoming<'_>,
) -> Result<String, StsError> {
    if params.get("Version").map(String::as_str) != Some(VERSION) || action.is_empty() {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {action} for version {VERSION}"),
        ));
    }
    let signed = |sb: &Sandbox| -> Result<Caller, StsError> {
        Ok(sigv4::verify(incoming, "sts", SystemTime::now(), |k| {
            sb.kiro.key(k)
        })?)
    };
    match action {
        "AssumeRoleWithWebIdentity" => assume_role_with_web_identity(sb, params),
        "AssumeRole" => {
            let req = assume_role_request(params)?;
            let caller = signed(sb)?;
            let issued = sb.sts.assume_role(&caller, req)?;
            Ok(issued_xml(&issued))
        }
        "GetCallerIdentity" => {
            let caller = signed(sb)?;
            Ok(format!(
                "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
                escape(&caller.principal_arn),
                escape(&sb.sts.user_id(&caller.principal_arn)),
                caller.account_id
            ))
        }
        other => Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {other} for version {VERSION}"),
        )),
    }
}

fn assume_role_with_web_identity(
    sb: &Sandbox,
    params: &HashMap<String, String>,
) -> Result<String, StsError> {
    let role_arn = role_arn(params)?;
    let session_name = session_name(params)?;
    let duration = duration(params)?;
    let token = params
        .get("WebIdentityToken")
        .filter(|t| (4..=20_000).contains(&t.len()))
        .ok_or_else(|| missing("webIdentityToken"))?;
    let (issued, identity) = sb.sts.assume_role_with_web_identity(
        &sb.identity,
        &role_arn,
        &session_name,
        token,
        duration,
    )?;
    Ok(format!(
        "{}    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    \
         <Audience>{}</Audience>\n    <Provider>{}</Provider>\n",
        issued_xml(&issued),
        escape(&identity.subject),
        escape(&identity.audience),
        escape(&identity.issuer)
    ))
}

fn issued_xml(issued: &Issued) -> String {
    let AwsAccount {
        access_key_id,
        secret_access_key,
        session_token,
        ..
    } = &issued.credentials;
    let expiration = OffsetDateTime::from(issued.expires_at)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    format!(
        "    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    \
         </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{access_key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
         <Expiration>{expiration}</Expiration>\n    </Credentials>\n",
        escape(&issued.assumed_role_arn),
        escape(&issued.assumed_role_id),
        escape(secret_access_key),
        escape(session_token.as_deref().unwrap_or_default()),
    )
}

fn missing(member: &str) -> StsError {
    StsError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: \
         Member must not be null"
    ))
}

fn constraint(value: &str, member: &str, rule: &str) -> StsError {
    StsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: {rule}"
    ))
}

fn role_arn(params: &HashMap<String, String>) -> Result<String, StsError> {
    let arn = params.get("RoleArn").ok_or_else(|| missing("roleArn"))?;
    if parse_role_arn(arn).is_none() {
        return Err(StsError::validation(format!("{arn} is invalid")));
    }
    Ok(arn.clone())
}

fn session_name(params: &HashMap<String, String>) -> Result<String, StsError> {
    let name = params
        .get("RoleSessionName")
        .ok_or_else(|| missing("roleSessionName"))?;
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !(2..=64).contains(&name.len()) || !chars_ok {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length \
             from 2 to 64",
        ));
    }
    Ok(name.clone())
}

fn duration(params: &HashMap<String, String>) -> Result<Option<u64>, StsError> {
    params
        .get("DurationSeconds")
        .map(|d| {
            d.parse::<u64>()
                .map_err(|_| constraint(d, "durationSeconds", "Member must be a number"))
        })
        .transpose()
}

fn assume_role_request(params: &HashMap<String, String>) -> Result<AssumeRole, StsError> {
    let external_id = params.get("ExternalId").cloned();
    if let Some(id) = &external_id
        && !(2..=1224).contains(&id.len())
    {
        return Err(constraint(
            id,
            "externalId",
            "Member must have length from 2 to 1224",
        ));
    }
    let mut tags = Vec::new();
    while let Some(key) = params.get(&format!("Tags.member.{}.Key", tags.len() + 1)) {
        let value = params
            .get(&format!("Tags.member.{}.Value", tags.len() + 1))
            .cloned()
            .unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(constraint(
                key,
                "tags",
                "Member must have a key of 1 to 128 and a value of at most 256 characters",
            ));
        }
        tags.push((key.clone(), value));
    }
    if tags.len() > 50 {
        return Err(constraint(
            &tags.len().to_string(),
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    Ok(AssumeRole {
        role_arn: role_arn(params)?,
        session_name: session_name(params)?,
        external_id,
        duration: duration(params)?,
        tags,
    })
}

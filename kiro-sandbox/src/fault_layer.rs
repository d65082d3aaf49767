//! The one fault layer: every request to a service router (login, Graph, later Kiro + SCIM) is
//! named, counted and perhaps faulted here, with that service's settings, before its handler
//! runs. A faulted request never reaches the handler, so it has no side effect — except a
//! write whose answer is lost (`lost_answer_rate`): it is carried out, then dropped. The control
//! API is not behind this layer ([`Service::of_path`] also maps it to no service).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::{self, Fault, Service};
use crate::kill_point;
use crate::state::Sandbox;
use crate::{graph, login};

/// What the fault layer decided for a request; the request log reads it from the response.
#[derive(Clone, Debug)]
pub struct Handled {
    pub operation: String,
    pub fault: Option<&'static str>,
}

pub async fn fault_layer(State(sb): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let Some(service) = Service::of_path(req.uri().path()) else {
        return next.run(req).await;
    };
    let op = operation(service, req.method(), req.uri().path(), req.headers());
    let Ok((req, matched)) = sb.kill_point.admit(&op, req).await else {
        return held(op);
    };
    let fault = sb.faults.gate(service, &op).await;
    let mut lost = false;
    let mut resp = match &fault {
        None if sb.faults.roll_lost_answer(req.method()) => {
            // Carried out, then the answer is lost on the way back.
            drop(next.run(req).await);
            lost = true;
            faults::dropped_response()
        }
        None => next.run(req).await,
        Some(f) => fault_response(service, f, req.uri().path(), req.headers())
            .unwrap_or_else(faults::dropped_response),
    };
    resp.extensions_mut().insert(Handled {
        operation: op,
        fault: if lost {
            Some("answer_lost")
        } else {
            fault.as_ref().map(kind)
        },
    });
    match matched {
        Some(matched) => kill_point::answer(sb, matched, resp).await,
        None => resp,
    }
}

/// A request held by the kill point and released when it was cleared: never carried out.
fn held(operation: String) -> Response {
    let mut resp = faults::dropped_response();
    resp.extensions_mut().insert(Handled {
        operation,
        fault: Some("held"),
    });
    resp
}

fn kind(fault: &Fault) -> &'static str {
    match fault {
        Fault::Throttled { .. } => "throttled",
        Fault::Unavailable { .. } => "5xx",
        Fault::Dropped => "dropped",
    }
}

/// The operation name a request is counted under.
fn operation(service: Service, method: &Method, path: &str, headers: &HeaderMap) -> String {
    match service {
        Service::Login => login::OPERATION.to_string(),
        Service::Graph => graph::operation(method, path),
        Service::Kiro => kiro_operation(method, path, headers),
    }
}

/// The service's own error shape for an injected fault; `None` drops the connection.
fn fault_response(
    service: Service,
    fault: &Fault,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    match service {
        Service::Login => login::fault_response(fault, headers),
        Service::Graph => graph::fault_response(fault, headers),
        Service::Kiro => kiro_fault_response(fault, path),
    }
}

const SCIM_RESOURCES: [&str; 5] = [
    "Users",
    "Groups",
    "ServiceProviderConfig",
    "Schemas",
    "ResourceTypes",
];

/// `kiro.<Operation>` from the AWS JSON 1.0 `X-Amz-Target` header (`Prefix.Operation`) for the
/// admin API; `scim.<Resource>.<method>` for the SCIM endpoint.
fn kiro_operation(method: &Method, path: &str, headers: &HeaderMap) -> String {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    if segments.next() == Some("scim") {
        let resource = segments
            .find_map(|s| SCIM_RESOURCES.iter().find(|r| r.eq_ignore_ascii_case(s)))
            .copied()
            .unwrap_or("unknown");
        return format!("scim.{resource}.{}", method.as_str().to_ascii_lowercase());
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit_once('.'))
        .map(|(_, op)| op)
        .filter(|op| !op.is_empty())
        .unwrap_or("unknown");
    format!("kiro.{target}")
}

/// Kiro's answers to an injected fault: AWS JSON 1.0 errors (`__type` and `x-amzn-ErrorType`,
/// see kiro-api.md) for the admin API, the SCIM error schema for `/scim`.
fn kiro_fault_response(fault: &Fault, path: &str) -> Option<Response> {
    let (status, retry_after) = match fault {
        Fault::Dropped => return None,
        Fault::Throttled { retry_after } => (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after)),
        Fault::Unavailable {
            status,
            retry_after,
        } => (*status, *retry_after),
    };
    let mut resp = if path.starts_with("/scim") {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.as_str(),
            "detail": "The service is temporarily unable to handle the request. Retry later.",
        });
        let mut resp = (status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json"),
        );
        resp
    } else {
        let error_type = match status {
            StatusCode::TOO_MANY_REQUESTS => "ThrottlingException",
            StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailableException",
            _ => "InternalServerException",
        };
        let body =
            json!({"__type": error_type, "message": "Rate exceeded or service busy; retry later."});
        let mut resp = (status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        h.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
        resp
    };
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiro_operations_are_named_from_the_target_or_the_scim_resource() {
        let mut h = HeaderMap::new();
        assert_eq!(kiro_operation(&Method::POST, "/kiro/", &h), "kiro.unknown");
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSCodeWhispererService.CreateProfile"),
        );
        assert_eq!(
            kiro_operation(&Method::POST, "/kiro/", &h),
            "kiro.CreateProfile"
        );
        assert_eq!(
            kiro_operation(&Method::GET, "/scim/abc/v2/users/42", &h),
            "scim.Users.get"
        );
        assert_eq!(
            kiro_operation(&Method::GET, "/scim/abc/v2/Nope", &h),
            "scim.unknown.get"
        );
    }

    #[tokio::test]
    async fn kiro_faults_use_aws_json_errors_and_scim_errors() {
        let throttled = Fault::Throttled { retry_after: 3 };
        let resp = kiro_fault_response(&throttled, "/kiro/").unwrap();
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["x-amzn-errortype"], "ThrottlingException");
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["__type"], "ThrottlingException");

        let unavailable = Fault::Unavailable {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None,
        };
        let resp = kiro_fault_response(&unavailable, "/scim/p/v2/Users").unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/scim+json"
        );
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], "503");

        assert!(kiro_fault_response(&Fault::Dropped, "/kiro/").is_none());
    }
}

//! SigV4 verification of admin API requests, as AWS does it: the canonical request is rebuilt
//! from what arrived and the headers the client says it signed, and the signature recomputed
//! with the caller's secret.
//!
//! The canonical request is built here because `aws-sigv4`'s signer decides by itself which
//! headers to sign, so it cannot reproduce an arbitrary client's `SignedHeaders`; the signing
//! key and the signature come from `aws_sigv4::sign::v4` (`generate_signing_key`,
//! `calculate_signature`), the same code the provider signs with.

use std::time::{Duration, SystemTime};

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use super::ApiError;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far `X-Amz-Date` may be from the sandbox's clock, as at AWS.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// What the sandbox knows about an access key id.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub account_id: String,
    pub secret: String,
    /// Set for temporary credentials: requests must carry exactly this `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// Who the key belongs to: an IAM user, or an assumed-role session
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
    pub principal_arn: String,
    /// When temporary credentials stop working.
    pub expires_at: Option<SystemTime>,
}

/// The parts of an HTTP request a signature covers.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Who signed a verified request, and for which region and service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub principal_arn: String,
    pub access_key_id: String,
    pub region: String,
}

struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies `req` for `expected_service` (the signing name its target belongs to), in the
/// order AWS reports problems: unknown key, session token, clock skew, scope, signature.
pub fn verify(
    req: &Incoming<'_>,
    expected_service: &str,
    now: SystemTime,
    lookup: impl FnOnce(&str) -> Option<KeyInfo>,
) -> Result<Caller, ApiError> {
    let raw = header(req.headers, "authorization").ok_or_else(|| {
        ApiError::missing_auth(
            "Missing Authentication Token: the request has no SigV4 Authorization header.",
        )
    })?;
    let auth = parse_authorization(raw)?;
    let key = lookup(auth.access_key_id).ok_or_else(|| {
        ApiError::unrecognized_client("The security token included in the request is invalid.")
    })?;
    let sent_token = header(req.headers, "x-amz-security-token");
    if sent_token != key.session_token.as_deref() {
        return Err(ApiError::unrecognized_client(
            "The security token included in the request is invalid.",
        ));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::expired_token(
            "The security token included in the request is expired",
        ));
    }
    let amz_date = header(req.headers, "x-amz-date").ok_or_else(|| {
        ApiError::invalid_signature("The request has no X-Amz-Date header; SigV4 requires it.")
    })?;
    let signed_at = parse_amz_date(amz_date)?;
    check_skew(amz_date, signed_at, now)?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(ApiError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..amz_date.len().min(8)]
        )));
    }
    if auth.service != expected_service {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{expected_service}'."
        )));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(ApiError::invalid_signature(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let body_hash = hex::encode(Sha256::digest(req.body));
    if let Some(claimed) = header(req.headers, "x-amz-content-sha256")
        && !claimed.eq_ignore_ascii_case(&body_hash)
        && claimed != "UNSIGNED-PAYLOAD"
    {
        return Err(ApiError::invalid_signature(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    let canonical = canonical_request(req, &auth.signed_headers, &body_hash)?;
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let signing_key = generate_signing_key(&key.secret, signed_at, auth.region, auth.service);
    let expected = calculate_signature(signing_key, string_to_sign.as_bytes());
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(ApiError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        ));
    }
    Ok(Caller {
        account_id: key.account_id,
        principal_arn: key.principal_arn,
        access_key_id: auth.access_key_id.to_string(),
        region: auth.region.to_string(),
    })
}

fn parse_authorization(raw: &str) -> Result<Authorization<'_>, ApiError> {
    let malformed = |what: &str| {
        ApiError::invalid_signature(format!(
            "Authorization header is not a valid {ALGORITHM} header: {what}."
        ))
    };
    let rest = raw
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| malformed("it must start with AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(malformed(&format!("unexpected part '{part}'"))),
        }
    }
    let credential = credential.ok_or_else(|| malformed("Credential is missing"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed("SignedHeaders is missing"))?;
    let signature = signature.ok_or_else(|| malformed("Signature is missing"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(malformed(
            "Credential must be <access key id>/<date>/<region>/<service>/aws4_request",
        ));
    };
    if terminator != "aws4_request" || access_key_id.is_empty() || region.is_empty() {
        return Err(malformed(
            "Credential must be <access key id>/<date>/<region>/<service>/aws4_request",
        ));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

fn parse_amz_date(amz_date: &str) -> Result<SystemTime, ApiError> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(amz_date, format)
        .map(|t| t.assume_utc().into())
        .map_err(|_| {
            ApiError::invalid_signature(format!(
                "X-Amz-Date '{amz_date}' is not in the form YYYYMMDD'T'HHMMSS'Z'."
            ))
        })
}

fn amz_date(t: SystemTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from(t)
        .format(format)
        .unwrap_or_else(|_| "?".to_string())
}

/// AWS's own wording for a request signed too long ago or too far in the future.
fn check_skew(sent: &str, signed_at: SystemTime, now: SystemTime) -> Result<(), ApiError> {
    let now_text = amz_date(now);
    if signed_at + MAX_SKEW < now {
        return Err(ApiError::invalid_signature(format!(
            "Signature expired: {sent} is now earlier than {} ({now_text} - 5 min.)",
            amz_date(now - MAX_SKEW)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(ApiError::invalid_signature(format!(
            "Signature not yet current: {sent} is still later than {} ({now_text} + 5 min.)",
            amz_date(now + MAX_SKEW)
        )));
    }
    Ok(())
}

/// The SigV4 canonical request over the headers the client listed, in its order.
fn canonical_request(
    req: &Incoming<'_>,
    signed_headers: &[&str],
    body_hash: &str,
) -> Result<String, ApiError> {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(*name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(ApiError::invalid_signature(format!(
                "The request signature names the header '{name}' in SignedHeaders, but the request has no such header."
            )));
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{}\n{body_hash}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query.unwrap_or("")),
        signed_headers.join(";"),
    ))
}

/// Each path segment URI-encoded once more, as AWS does for every service but S3.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding of everything but unreserved characters, upper-case hex.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn collapse_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_parts_follow_sigv4() {
        assert_eq!(canonical_uri("/kiro/"), "/kiro/");
        assert_eq!(canonical_uri("/a b/%41"), "/a%20b/%2541");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(collapse_spaces("  a   b "), "a b");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn malformed_authorization_headers_are_named() {
        let err = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/q, SignedHeaders=host, Signature=00",
        )
        .err()
        .unwrap();
        assert!(
            err.message.contains("Credential must be"),
            "{}",
            err.message
        );
        let err = parse_authorization("Bearer x").err().unwrap();
        assert_eq!(err.kind, "InvalidSignatureException");
    }
}

//! SigV4 verification: good, unknown key, wrong secret, tampered header or body, stale or
//! future date, wrong signing name, session tokens; and the AWS JSON error shape.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{CW, Q, Signing, account, error_type, message, signed_headers, start_kiro};

const LIST: &str = "AWSCodeWhispererService.ListProfiles";
const MISMATCH: &str = "The request signature we calculated does not match";

#[tokio::test]
async fn a_correct_signature_is_accepted_and_counted() {
    let k = start_kiro().await;
    let r = k.call(LIST, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body, json!({"profiles": []}));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    assert!(r.header("x-amzn-requestid").is_some());
    let counts = k.s.control("GET", "counts", None).await.body;
    assert_eq!(counts["counts"]["kiro.ListProfiles"], 1);
}

#[tokio::test]
async fn unknown_keys_and_wrong_secrets_are_refused() {
    let k = start_kiro().await;
    let mut unknown = Signing::good(&k.creds);
    unknown.creds.access_key_id = "AKIAUNKNOWNUNKNOWN00".to_string();
    let r = k.call_as(&unknown, LIST, json!({})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "UnrecognizedClientException")
    );
    assert!(message(&r).contains("security token included in the request is invalid"));

    let mut wrong = Signing::good(&k.creds);
    wrong.creds.secret.push('x');
    let r = k.call_as(&wrong, LIST, json!({})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "InvalidSignatureException")
    );
    assert!(message(&r).starts_with(MISMATCH), "{}", message(&r));
}

#[tokio::test]
async fn a_tampered_header_or_body_byte_breaks_the_signature() {
    let k = start_kiro().await;
    let body = json!({"maxResults": 10}).to_string();
    let headers = signed_headers(&k.s.addr, LIST, body.as_bytes(), &Signing::good(&k.creds));
    assert_eq!(k.send(&headers, body.as_bytes()).await.status, 200);

    let changed_body = body.replace("10", "11");
    let r = k.send(&headers, changed_body.as_bytes()).await;
    assert_eq!(error_type(&r), "InvalidSignatureException");
    assert!(message(&r).starts_with(MISMATCH));

    // Same operation family, another target: the signed x-amz-target no longer matches.
    let mut tampered = headers.clone();
    for (k, v) in &mut tampered {
        if k == "x-amz-target" {
            *v = format!("{CW}.DeleteProfile");
        }
    }
    let r = k.send(&tampered, body.as_bytes()).await;
    assert_eq!(error_type(&r), "InvalidSignatureException");
    assert!(message(&r).starts_with(MISMATCH));

    let unsigned: Vec<_> = headers
        .iter()
        .filter(|(k, _)| k != "authorization")
        .cloned()
        .collect();
    let r = k.send(&unsigned, body.as_bytes()).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "MissingAuthenticationTokenException")
    );
}

#[tokio::test]
async fn dates_more_than_five_minutes_off_are_refused() {
    let k = start_kiro().await;
    let mut stale = Signing::good(&k.creds);
    stale.time = SystemTime::now() - Duration::from_secs(6 * 60);
    let r = k.call_as(&stale, LIST, json!({})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "InvalidSignatureException")
    );
    assert!(
        message(&r).starts_with("Signature expired:"),
        "{}",
        message(&r)
    );

    let mut future = Signing::good(&k.creds);
    future.time = SystemTime::now() + Duration::from_secs(6 * 60);
    let r = k.call_as(&future, LIST, json!({})).await;
    assert!(
        message(&r).starts_with("Signature not yet current:"),
        "{}",
        message(&r)
    );

    let mut slightly_off = Signing::good(&k.creds);
    slightly_off.time = SystemTime::now() - Duration::from_secs(4 * 60);
    assert_eq!(k.call_as(&slightly_off, LIST, json!({})).await.status, 200);
}

#[tokio::test]
async fn each_target_prefix_needs_its_own_signing_name() {
    let k = start_kiro().await;
    let mut as_q = Signing::good(&k.creds);
    as_q.service = Some("q".to_string());
    let r = k.call_as(&as_q, LIST, json!({})).await;
    assert_eq!(error_type(&r), "InvalidSignatureException");
    assert!(message(&r).contains("'codewhisperer'"), "{}", message(&r));

    let arn = k.create_profile("Signing").await;
    let mut as_cw = Signing::good(&k.creds);
    as_cw.service = Some("codewhisperer".to_string());
    let target = format!("{Q}.ListLoginDomains");
    let r = k.call_as(&as_cw, &target, json!({"profileArn": arn})).await;
    assert_eq!(error_type(&r), "InvalidSignatureException");
    assert!(message(&r).contains("'q'"), "{}", message(&r));
    assert_eq!(
        k.call(&target, json!({"profileArn": arn})).await.status,
        200
    );

    let r = k.call(&format!("{CW}.CreateAssignment"), json!({})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (400, "UnknownOperationException")
    );
}

#[tokio::test]
async fn session_credentials_need_their_token() {
    let k = start_kiro().await;
    let session = account(&k.s, true).await;
    assert!(session.session_token.is_some());
    let good = Signing::good(&session);
    assert_eq!(k.call_as(&good, LIST, json!({})).await.status, 200);

    let mut without = good.clone();
    without.creds.session_token = None;
    let r = k.call_as(&without, LIST, json!({})).await;
    assert_eq!(error_type(&r), "UnrecognizedClientException");

    let mut forged = good.clone();
    forged.creds.session_token = Some("forged".to_string());
    assert_eq!(
        error_type(&k.call_as(&forged, LIST, json!({})).await),
        "UnrecognizedClientException"
    );

    // A long-term key with a token it was never issued is refused too.
    let mut extra = Signing::good(&k.creds);
    extra.creds.session_token = Some("made-up".to_string());
    assert_eq!(
        error_type(&k.call_as(&extra, LIST, json!({})).await),
        "UnrecognizedClientException"
    );
}

#[tokio::test]
async fn the_region_comes_from_the_credential_scope() {
    let k = start_kiro().await;
    let arn = k.create_profile("East").await;
    assert!(arn.starts_with(&format!(
        "arn:aws:codewhisperer:us-east-1:{}:profile/",
        k.creds.account_id
    )));
    let mut west = Signing::good(&k.creds);
    west.region = "eu-west-1".to_string();
    let r = k.call_as(&west, LIST, json!({})).await;
    assert_eq!(
        r.body,
        json!({"profiles": []}),
        "another region has its own profiles"
    );
    let r = k
        .call_as(
            &west,
            &format!("{CW}.DeleteProfile"),
            json!({"profileArn": arn}),
        )
        .await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (404, "ResourceNotFoundException")
    );
}

#[tokio::test]
async fn injected_faults_reach_the_admin_api_with_aws_errors() {
    let k = start_kiro().await;
    let r =
        k.s.control(
            "PUT",
            "faults",
            Some(json!({"kiro": {"throttle_rate": 1.0}})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = k.call(LIST, json!({})).await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (429, "ThrottlingException")
    );
    let counts = k.s.control("GET", "counts", None).await.body;
    assert_eq!(counts["counts"]["kiro.ListProfiles"], 1);
}

//! Login domains: association rules, verification by TXT record (API reads, the tick and the
//! DNS stub), auto-verification, forced failure, out-of-band removal.

use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::{Value, json};

use super::{Kiro, Q, Signing, account, error_type, start_kiro};

async fn associate(k: &Kiro, arn: &str, domain: &str) -> Value {
    k.ok(
        &format!("{Q}.AssociateLoginDomain"),
        json!({"profileArn": arn, "domainName": domain}),
    )
    .await["loginDomain"]
        .clone()
}

async fn domains(k: &Kiro, arn: &str) -> Vec<Value> {
    k.ok(&format!("{Q}.ListLoginDomains"), json!({"profileArn": arn}))
        .await["loginDomains"]
        .as_array()
        .unwrap()
        .clone()
}

async fn publish(k: &Kiro, name: &Value, values: Value) {
    let r =
        k.s.control(
            "PUT",
            "dns/txt",
            Some(json!({"name": name, "values": values})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
}

#[tokio::test]
async fn a_domain_is_pending_until_its_txt_record_is_published() {
    let k = start_kiro().await;
    let arn = k.create_profile("Domains").await;
    let d = associate(&k, &arn, "Example.COM").await;
    assert_eq!(d["domainName"], "example.com");
    assert_eq!(d["status"], "PENDING");
    let token = d["verificationToken"].as_str().unwrap();
    assert_eq!(
        d["verificationRecord"],
        json!({
            "name": "_kiro-verification.example.com",
            "type": "TXT",
            "value": format!("kiro-verification={token}"),
        })
    );
    assert!(d.get("verifiedAt").is_none());

    publish(&k, &d["verificationRecord"]["name"], json!(["unrelated"])).await;
    assert_eq!(
        domains(&k, &arn).await[0]["status"],
        "PENDING",
        "a wrong value proves nothing"
    );
    publish(
        &k,
        &d["verificationRecord"]["name"],
        json!(["unrelated", d["verificationRecord"]["value"]]),
    )
    .await;
    let listed = domains(&k, &arn).await;
    assert_eq!(listed[0]["status"], "VERIFIED");
    assert!(listed[0]["verifiedAt"].is_i64());
    assert_eq!(
        associate(&k, &arn, "example.com").await["status"],
        "VERIFIED",
        "re-associating returns it"
    );
}

#[tokio::test]
async fn the_background_tick_verifies_without_api_reads() {
    let k = start_kiro().await;
    let arn = k.create_profile("Tick").await;
    let d = associate(&k, &arn, "tick.example").await;
    // Published directly, bypassing the control route's immediate re-check.
    k.s.sb.kiro.dns.set(
        d["verificationRecord"]["name"].as_str().unwrap(),
        vec![
            d["verificationRecord"]["value"]
                .as_str()
                .unwrap()
                .to_string(),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let verified =
            k.s.sb
                .kiro
                .with_any_profile(&arn, super::super::timing(&k.s.sb), |p| {
                    Ok(p.domains[0].status == crate::kiro::store::DomainStatus::Verified)
                });
        if verified.unwrap() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tick never verified the domain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn auto_verification_and_forced_failure() {
    let k = start_kiro().await;
    let r =
        k.s.control(
            "PUT",
            "settings",
            Some(json!({"domain_auto_verify_ms": 100})),
        )
        .await;
    assert_eq!(r.body["domain_auto_verify_ms"], 100);
    let arn = k.create_profile("Auto").await;
    associate(&k, &arn, "auto.example").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while domains(&k, &arn).await[0]["status"] != "VERIFIED" {
        assert!(
            Instant::now() < deadline,
            "auto-verification never happened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r =
        k.s.control(
            "PUT",
            "settings",
            Some(json!({"domain_auto_verify_ms": null})),
        )
        .await;
    assert!(r.body["domain_auto_verify_ms"].is_null());

    associate(&k, &arn, "failing.example").await;
    let r =
        k.s.control(
            "POST",
            &format!("kiro/domains/fail?arn={arn}&domain=failing.example"),
            None,
        )
        .await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("FAILED")));
    let failed = domains(&k, &arn)
        .await
        .into_iter()
        .find(|d| d["domainName"] == "failing.example")
        .unwrap();
    assert_eq!(failed["status"], "FAILED");
    publish(
        &k,
        &failed["verificationRecord"]["name"],
        json!([failed["verificationRecord"]["value"]]),
    )
    .await;
    let failed = domains(&k, &arn)
        .await
        .into_iter()
        .find(|d| d["domainName"] == "failing.example")
        .unwrap();
    assert_eq!(failed["status"], "FAILED", "a failed domain stays failed");
}

#[tokio::test]
async fn a_domain_belongs_to_one_profile_anywhere() {
    let k = start_kiro().await;
    let arn = k.create_profile("Owner").await;
    associate(&k, &arn, "claimed.example").await;
    let other_account = account(&k.s, false).await;
    let mut other = Signing::good(&other_account);
    other.region = "eu-west-1".to_string();
    let create = json!({
        "profileName": "Thief",
        "identitySource": {"externalIdentityProvider": {"issuerUrl": "https://issuer.example/v2.0", "clientId": "c"}},
    });
    let thief = k
        .call_as(&other, "AWSCodeWhispererService.CreateProfile", create)
        .await
        .body["profileArn"]
        .clone();
    let r = k
        .call_as(
            &other,
            &format!("{Q}.AssociateLoginDomain"),
            json!({"profileArn": thief, "domainName": "CLAIMED.example"}),
        )
        .await;
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (409, "ConflictException")
    );

    for bad in ["nodot", "-bad.example", "sp ace.example"] {
        let r = k
            .call(
                &format!("{Q}.AssociateLoginDomain"),
                json!({"profileArn": arn, "domainName": bad}),
            )
            .await;
        assert_eq!(error_type(&r), "ValidationException", "{bad}");
    }
    let disassociate = format!("{Q}.DisassociateLoginDomain");
    k.ok(
        &disassociate,
        json!({"profileArn": arn, "domainName": "claimed.example"}),
    )
    .await;
    let r = k
        .call(
            &disassociate,
            json!({"profileArn": arn, "domainName": "claimed.example"}),
        )
        .await;
    assert_eq!(error_type(&r), "ResourceNotFoundException");
    assert_eq!(
        k.call_as(
            &other,
            &format!("{Q}.AssociateLoginDomain"),
            json!({"profileArn": thief, "domainName": "claimed.example"})
        )
        .await
        .status,
        200
    );

    associate(&k, &arn, "gone.example").await;
    let path = format!("kiro/domains?arn={arn}&domain=gone.example");
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 204);
    assert!(domains(&k, &arn).await.is_empty());
    assert_eq!(k.s.control("DELETE", &path, None).await.status, 404);
}

#[tokio::test]
async fn list_login_domains_pages() {
    let k = start_kiro().await;
    let arn = k.create_profile("Many").await;
    for i in 0..3 {
        associate(&k, &arn, &format!("d{i}.example")).await;
    }
    let list = format!("{Q}.ListLoginDomains");
    let first = k
        .ok(&list, json!({"profileArn": arn, "maxResults": 2}))
        .await;
    assert_eq!(first["loginDomains"].as_array().unwrap().len(), 2);
    let rest = k
        .ok(
            &list,
            json!({"profileArn": arn, "maxResults": 2, "nextToken": first["nextToken"]}),
        )
        .await;
    assert_eq!(rest["loginDomains"][0]["domainName"], "d2.example");
    assert!(rest.get("nextToken").is_none());
}

/// One UDP exchange with the DNS stub, built with hickory-proto.
async fn query_txt(dns: std::net::SocketAddr, name: &str) -> Message {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut q = Message::query();
    q.metadata.recursion_desired = true;
    q.add_query(Query::query(
        Name::from_ascii(name).unwrap(),
        RecordType::TXT,
    ));
    socket.send_to(&q.to_vec().unwrap(), dns).await.unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("the DNS stub answers within 5 s")
        .unwrap();
    let answer = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(answer.metadata.id, q.metadata.id);
    answer
}

/// The same over TCP (two-byte length prefix each way).
async fn query_txt_tcp(dns: std::net::SocketAddr, name: &str) -> Message {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(dns).await.unwrap();
    let mut q = Message::query();
    q.add_query(Query::query(
        Name::from_ascii(name).unwrap(),
        RecordType::TXT,
    ));
    let bytes = q.to_vec().unwrap();
    let len = u16::try_from(bytes.len()).unwrap().to_be_bytes();
    stream.write_all(&len).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer).await.unwrap();
    Message::from_vec(&answer).unwrap()
}

#[test]
fn the_dns_stub_answers_published_txt_records_over_udp_and_tcp() {
    let running = crate::start_in_background(crate::Options::default());
    let http = reqwest::blocking::Client::new();
    let put = |values: Value| {
        let r = http
            .put(format!("{}/_sandbox/dns/txt", running.url))
            .json(&json!({"name": "_kiro-verification.stub.example", "values": values}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
    };
    put(json!(["kiro-verification=abc"]));
    let listed: Value = http
        .get(format!("{}/_sandbox/dns", running.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        listed["txt"]["_kiro-verification.stub.example"],
        json!(["kiro-verification=abc"])
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = rt.block_on(query_txt(
        running.dns_addr,
        "_kiro-verification.stub.example.",
    ));
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    let texts: Vec<String> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["kiro-verification=abc".to_string()]);
    let over_tcp = rt.block_on(query_txt_tcp(
        running.dns_addr,
        "_kiro-verification.stub.example.",
    ));
    assert_eq!(over_tcp.answers.len(), 1);
    put(json!([]));
    let answer = rt.block_on(query_txt(
        running.dns_addr,
        "_kiro-verification.stub.example.",
    ));
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
}

//! A DNS stub on loopback that answers TXT queries from records published through the control
//! API (`PUT /_sandbox/dns/txt`), so the provider's real resolver can be pointed at it.
//!
//! UDP and TCP on the same port. A published name answers its TXT values (other types: an
//! empty NOERROR answer); any other name answers NXDOMAIN. The wire format is `hickory-proto`'s
//! (the DNS crate of the Rust ecosystem, whose resolver the provider can use against this stub).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// TTL of every answer: short, since tests publish and withdraw records at will.
const TTL: u32 = 1;
/// One DNS character-string holds at most 255 bytes; longer values span several.
const MAX_CHARACTER_STRING: usize = 255;

/// Published TXT records: lower-case name without the trailing dot → values.
#[derive(Default)]
pub struct TxtRecords {
    records: Mutex<BTreeMap<String, Vec<String>>>,
}

/// The form names are stored and looked up in.
pub fn normalize_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl TxtRecords {
    /// Replaces the values of `name`; an empty list removes it.
    pub fn set(&self, name: &str, values: Vec<String>) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let name = normalize_name(name);
        if values.is_empty() {
            records.remove(&name);
        } else {
            records.insert(name, values);
        }
    }

    pub fn values(&self, name: &str) -> Vec<String> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records
            .get(&normalize_name(name))
            .cloned()
            .unwrap_or_default()
    }

    pub fn all(&self) -> BTreeMap<String, Vec<String>> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The answer to one DNS message (`None` when it is not even a DNS header).
    pub fn answer(&self, packet: &[u8], max_len: Option<usize>) -> Option<Vec<u8>> {
        let request = match Message::from_vec(packet) {
            Ok(m) => m,
            Err(_) => {
                let id = u16::from_be_bytes([*packet.first()?, *packet.get(1)?]);
                return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                    .to_vec()
                    .ok();
            }
        };
        if request.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.authoritative = true;
        response.add_queries(request.queries.iter().cloned());
        if request.metadata.op_code != OpCode::Query {
            response.metadata.response_code = ResponseCode::NotImp;
        } else if let Some(query) = request.queries.first() {
            let values = self.values(&query.name().to_ascii());
            if values.is_empty() {
                response.metadata.response_code = ResponseCode::NXDomain;
            } else if query.query_type() == RecordType::TXT {
                for value in values {
                    response.add_answer(txt_record(query.name(), &value));
                }
            }
        } else {
            response.metadata.response_code = ResponseCode::FormErr;
        }
        let bytes = response.to_vec().ok()?;
        match max_len {
            // UDP: an answer that does not fit is truncated, and the resolver retries on TCP.
            Some(max) if bytes.len() > max.max(usize::from(request.max_payload())) => {
                response.truncate().to_vec().ok()
            }
            _ => Some(bytes),
        }
    }
}

fn txt_record(name: &Name, value: &str) -> Record {
    let chunks: Vec<&[u8]> = value.as_bytes().chunks(MAX_CHARACTER_STRING).collect();
    let chunks = if chunks.is_empty() {
        vec![&b""[..]]
    } else {
        chunks
    };
    Record::from_rdata(name.clone(), TTL, RData::TXT(TXT::from_bytes(chunks)))
}

/// The stub's sockets: UDP and TCP on one loopback port.
pub struct DnsListener {
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
}

impl DnsListener {
    /// Binds UDP and TCP on `addr`; with port 0, a port free for both.
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        let mut last_error = None;
        // With port 0 the UDP port may be taken for TCP; a few tries find one free for both.
        for _ in 0..20 {
            let udp = std::net::UdpSocket::bind(addr)?;
            let port = udp.local_addr()?.port();
            match std::net::TcpListener::bind(SocketAddr::new(addr.ip(), port)) {
                Ok(tcp) => {
                    udp.set_nonblocking(true)?;
                    tcp.set_nonblocking(true)?;
                    return Ok(Self { udp, tcp });
                }
                Err(e) if addr.port() == 0 => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no port free for UDP and TCP")))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

/// Answers DNS queries on both sockets until the future is dropped or a socket fails.
pub async fn serve(listener: DnsListener, records: Arc<TxtRecords>) -> io::Result<()> {
    let udp = tokio::net::UdpSocket::from_std(listener.udp)?;
    let tcp = tokio::net::TcpListener::from_std(listener.tcp)?;
    let udp_records = records.clone();
    let udp_loop = async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, peer) = udp.recv_from(&mut buf).await?;
            if let Some(answer) = udp_records.answer(&buf[..n], Some(512)) {
                // A lost UDP answer is the client's to retry, as with any DNS server.
                let _ = udp.send_to(&answer, peer).await;
            }
        }
    };
    let tcp_loop = async move {
        loop {
            let (stream, _) = tcp.accept().await?;
            let records = records.clone();
            tokio::spawn(async move {
                if let Err(e) = answer_tcp(stream, &records).await {
                    tracing::debug!("DNS stub: TCP connection ended: {e}");
                }
            });
        }
    };
    tokio::select! {
        r = udp_loop => r,
        r = tcp_loop => r,
    }
}

/// DNS over TCP: each message is preceded by its two-byte length.
async fn answer_tcp(mut stream: tokio::net::TcpStream, records: &TxtRecords) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return Ok(());
        }
        let mut packet = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut packet).await?;
        let Some(answer) = records.answer(&packet, None) else {
            return Ok(());
        };
        let len = u16::try_from(answer.len()).map_err(|_| io::Error::other("answer too long"))?;
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(&answer).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        m.to_vec().unwrap()
    }

    fn texts(answer: &Message) -> Vec<String> {
        answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn published_names_answer_their_values_others_nxdomain() {
        let records = TxtRecords::default();
        let long = "v".repeat(300);
        records.set(
            "_Kiro-Verification.Example.COM.",
            vec!["a=1".into(), long.clone()],
        );
        let answer = Message::from_vec(
            &records
                .answer(
                    &query("_kiro-verification.example.com.", RecordType::TXT),
                    None,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(texts(&answer), vec!["a=1".to_string(), long]);

        let other_type = Message::from_vec(
            &records
                .answer(
                    &query("_kiro-verification.example.com.", RecordType::A),
                    None,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(other_type.metadata.response_code, ResponseCode::NoError);
        assert!(other_type.answers.is_empty());

        let missing = Message::from_vec(
            &records
                .answer(&query("nope.example.com.", RecordType::TXT), None)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);

        records.set("_kiro-verification.example.com", vec![]);
        let removed = Message::from_vec(
            &records
                .answer(
                    &query("_kiro-verification.example.com.", RecordType::TXT),
                    None,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(removed.metadata.response_code, ResponseCode::NXDomain);
    }

    #[test]
    fn oversized_udp_answers_are_truncated_and_garbage_is_a_format_error() {
        let records = TxtRecords::default();
        records.set(
            "big.example.com",
            (0..10).map(|i| format!("{i}{}", "x".repeat(200))).collect(),
        );
        let udp = records
            .answer(&query("big.example.com.", RecordType::TXT), Some(512))
            .unwrap();
        let udp = Message::from_vec(&udp).unwrap();
        assert!(udp.metadata.truncation);
        assert!(udp.answers.is_empty());
        let tcp = records
            .answer(&query("big.example.com.", RecordType::TXT), None)
            .unwrap();
        assert_eq!(Message::from_vec(&tcp).unwrap().answers.len(), 10);

        let garbage = records.answer(&[0x12, 0x34, 0xff], None).unwrap();
        let garbage = Message::from_vec(&garbage).unwrap();
        assert_eq!(garbage.metadata.id, 0x1234);
        assert_eq!(garbage.metadata.response_code, ResponseCode::FormErr);
    }
}

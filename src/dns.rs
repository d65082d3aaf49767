//! DNS TXT lookups, for telling the user what DNS answers for a domain-verification record
//! right now (the Kiro service checks the record itself; this only explains a wait).
//!
//! Uses the system's resolver configuration (`/etc/resolv.conf`), which is what `dig` on the
//! same machine would ask. `KIRO_DNS_RESOLVER=<ip>:<port>` points every lookup at that one
//! nameserver instead (the sandbox serves a DNS stub there). Timeouts are short and a lookup
//! is made once per nameserver: a lookup that cannot be answered comes back quickly as
//! [`DnsError::LookupFailed`], never as an empty answer.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as ResponseError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData};
use hickory_resolver::{Resolver, TokioResolver};

/// Environment variable naming the one nameserver (`<ip>:<port>`) to ask instead of the
/// system's.
pub const RESOLVER_ENV: &str = "KIRO_DNS_RESOLVER";

/// Wait for one answer from one nameserver.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound for a whole lookup, whatever the number of configured nameservers.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(5);

/// Why a TXT lookup gave no answer.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name is not a valid DNS name.
    #[error("`{name}` is not a valid DNS name: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `KIRO_DNS_RESOLVER` is set but is not `<ip>:<port>`.
    #[error("{RESOLVER_ENV}=`{value}` is not a nameserver address of the form <ip>:<port>")]
    InvalidResolver {
        /// The variable's value.
        value: String,
    },
    /// The system's resolver configuration could not be read.
    #[error("cannot read the system DNS resolver configuration: {0}")]
    SystemConfig(String),
    /// The lookup itself failed (no nameserver reachable, timeout, SERVFAIL, REFUSED, …): it
    /// says nothing about whether the record exists.
    #[error("the DNS lookup of TXT records for `{name}` via {nameservers} failed: {reason}")]
    LookupFailed {
        /// The name looked up.
        name: String,
        /// The nameserver(s) asked, for the reader to retry by hand (`dig @…`).
        nameservers: String,
        /// What went wrong.
        reason: String,
    },
}

/// Which nameserver(s) to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nameservers {
    /// The system's resolver configuration.
    System,
    /// Exactly this nameserver, over UDP (falling back to TCP for truncated answers).
    At(SocketAddr),
}

impl Nameservers {
    /// [`Nameservers::At`] from `KIRO_DNS_RESOLVER` when set (and not empty), else
    /// [`Nameservers::System`].
    pub fn from_env() -> Result<Self, DnsError> {
        Self::from_setting(std::env::var(RESOLVER_ENV).ok().as_deref())
    }

    /// [`Nameservers::from_env`] for a given value of the variable (`None` = unset).
    pub fn from_setting(value: Option<&str>) -> Result<Self, DnsError> {
        match value {
            Some(value) if !value.trim().is_empty() => Self::parse(value),
            _ => Ok(Self::System),
        }
    }

    /// Parses `<ip>:<port>` (IPv6 as `[::1]:53`).
    pub fn parse(value: &str) -> Result<Self, DnsError> {
        value
            .trim()
            .parse::<SocketAddr>()
            .map(Self::At)
            .map_err(|_| DnsError::InvalidResolver {
                value: value.to_string(),
            })
    }

    fn describe(&self, config: &ResolverConfig) -> String {
        match self {
            Self::At(addr) => addr.to_string(),
            Self::System => {
                let ips: Vec<String> = config
                    .name_servers()
                    .iter()
                    .map(|ns| ns.ip.to_string())
                    .collect();
                if ips.is_empty() {
                    "the system resolver (no nameserver configured)".into()
                } else {
                    format!("the system resolver ({})", ips.join(", "))
                }
            }
        }
    }
}

/// The TXT records published at `name`, each record's character-strings joined into one
/// string (as `dig +short` shows them, without quotes). No record, or no such name, is
/// `Ok(vec![])`. Asks the nameserver of `KIRO_DNS_RESOLVER` when set, else the system's.
pub async fn lookup_txt(name: &str) -> Result<Vec<String>, DnsError> {
    lookup_txt_via(name, &Nameservers::from_env()?).await
}

/// [`lookup_txt`] against explicit nameservers.
pub async fn lookup_txt_via(
    name: &str,
    nameservers: &Nameservers,
) -> Result<Vec<String>, DnsError> {
    let fqdn = fully_qualified(name)?;
    let (config, mut options) = match nameservers {
        Nameservers::System => hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| DnsError::SystemConfig(e.to_string()))?,
        Nameservers::At(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            (
                ResolverConfig::from_name_servers(vec![server]),
                ResolverOpts::default(),
            )
        }
    };
    let asked = nameservers.describe(&config);
    let failed = |reason: String| DnsError::LookupFailed {
        name: name.to_string(),
        nameservers: asked.clone(),
        reason,
    };
    // One short attempt per nameserver (`attempts` counts retries), no cache: the answer is
    // for a person watching a record appear, and a dead network must not hold up the caller.
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 0;
    options.cache_size = 0;
    let resolver: TokioResolver =
        Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .map_err(|e| failed(e.to_string()))?;
    let lookup = match tokio::time::timeout(LOOKUP_DEADLINE, resolver.txt_lookup(fqdn)).await {
        Err(_) => return Err(failed(format!("no answer within {LOOKUP_DEADLINE:?}"))),
        Ok(Err(e)) if is_empty_answer(&e) => return Ok(Vec::new()),
        Ok(Err(e)) => return Err(failed(e.to_string())),
        Ok(Ok(lookup)) => lookup,
    };
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect())
}

/// `example.com` → `example.com.`, so no search domain is ever appended.
fn fully_qualified(name: &str) -> Result<Name, DnsError> {
    let trimmed = name.trim();
    let invalid = |reason: String| DnsError::InvalidName {
        name: name.to_string(),
        reason,
    };
    if trimmed.is_empty() || trimmed == "." {
        return Err(invalid("it is empty".into()));
    }
    let absolute = if trimmed.ends_with('.') {
        trimmed.to_string()
    } else {
        format!("{trimmed}.")
    };
    Name::from_ascii(&absolute).map_err(|e| invalid(e.to_string()))
}

/// NXDOMAIN or an empty NOERROR answer: the name has no TXT record. Any other response code
/// (SERVFAIL, REFUSED, …) means the question went unanswered.
fn is_empty_answer(error: &NetError) -> bool {
    match error {
        NetError::Dns(ResponseError::NoRecordsFound(none)) => matches!(
            none.response_code,
            ResponseCode::NoError | ResponseCode::NXDomain
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use hickory_resolver::proto::op::{Message, OpCode};
    use hickory_resolver::proto::rr::rdata::TXT;
    use hickory_resolver::proto::rr::{Record, RecordType};
    use tokio::net::UdpSocket;

    use super::*;

    /// A one-zone UDP nameserver: TXT answers for `_kiro.example.com.`, NOERROR with no
    /// answer for `empty.example.com.`, SERVFAIL for `broken.example.com.`, NXDOMAIN
    /// otherwise.
    async fn stub_nameserver() -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let (len, peer) = socket.recv_from(&mut buf).await.unwrap();
                let query = Message::from_vec(&buf[..len]).unwrap();
                let question = query.queries[0].clone();
                let mut reply = Message::response(query.metadata.id, OpCode::Query);
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.metadata.recursion_available = true;
                reply.add_query(question.clone());
                let name = question.name().to_ascii();
                match (name.as_str(), question.query_type()) {
                    ("_kiro.example.com.", RecordType::TXT) => {
                        for parts in [vec!["kiro-verification=abc"], vec!["v=spf1 ", "-all"]] {
                            let parts = parts.into_iter().map(String::from).collect();
                            reply.add_answer(Record::from_rdata(
                                question.name().clone(),
                                60,
                                RData::TXT(TXT::new(parts)),
                            ));
                        }
                    }
                    ("empty.example.com." | "_kiro.example.com.", _) => {}
                    ("broken.example.com.", _) => {
                        reply.metadata.response_code = ResponseCode::ServFail;
                    }
                    _ => reply.metadata.response_code = ResponseCode::NXDomain,
                }
                socket
                    .send_to(&reply.to_vec().unwrap(), peer)
                    .await
                    .unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn answers_come_from_the_stub_nameserver() {
        let stub = Nameservers::At(stub_nameserver().await);
        let got = lookup_txt_via("_kiro.example.com", &stub).await.unwrap();
        assert_eq!(got, vec!["kiro-verification=abc", "v=spf1 -all"]);
        // A trailing dot is the same name.
        let again = lookup_txt_via("_kiro.example.com.", &stub).await.unwrap();
        assert_eq!(again, got);
        assert_eq!(
            lookup_txt_via("empty.example.com", &stub).await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            lookup_txt_via("nowhere.example.com", &stub).await.unwrap(),
            Vec::<String>::new()
        );
    }

    #[tokio::test]
    async fn servfail_is_a_failed_lookup_not_an_empty_answer() {
        let addr = stub_nameserver().await;
        let err = lookup_txt_via("broken.example.com", &Nameservers::At(addr))
            .await
            .unwrap_err();
        match &err {
            DnsError::LookupFailed {
                name, nameservers, ..
            } => {
                assert_eq!(name, "broken.example.com");
                assert_eq!(nameservers, &addr.to_string());
            }
            other => panic!("expected LookupFailed, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreachable_nameserver_fails_fast_with_a_plain_error() {
        // A bound socket that never answers: the query times out.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let started = Instant::now();
        let err = lookup_txt_via("_kiro.example.com", &Nameservers::At(addr))
            .await
            .unwrap_err();
        assert!(started.elapsed() < QUERY_TIMEOUT + Duration::from_secs(1));
        assert!(matches!(err, DnsError::LookupFailed { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "the DNS lookup of TXT records for `_kiro.example.com` via 127.0.0.1:"
            ),
            "{text}"
        );
        drop(silent);
        // Nothing listening at all.
        let started = Instant::now();
        let err = lookup_txt_via("_kiro.example.com", &Nameservers::At(addr))
            .await
            .unwrap_err();
        assert!(started.elapsed() < QUERY_TIMEOUT + Duration::from_secs(1));
        assert!(matches!(err, DnsError::LookupFailed { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn bad_names_and_resolver_addresses_are_refused() {
        let stub = Nameservers::At("127.0.0.1:9".parse().unwrap());
        for name in ["", ".", "a..b"] {
            let err = lookup_txt_via(name, &stub).await.unwrap_err();
            assert!(
                matches!(err, DnsError::InvalidName { .. }),
                "{name}: {err:?}"
            );
        }
        assert_eq!(
            Nameservers::from_setting(None).unwrap(),
            Nameservers::System
        );
        assert_eq!(
            Nameservers::from_setting(Some(" ")).unwrap(),
            Nameservers::System
        );
        assert_eq!(
            Nameservers::from_setting(Some("127.0.0.1:5300")).unwrap(),
            Nameservers::At("127.0.0.1:5300".parse().unwrap())
        );
        assert_eq!(
            Nameservers::parse("[::1]:5353").unwrap(),
            Nameservers::At("[::1]:5353".parse().unwrap())
        );
        let err = Nameservers::parse("localhost:53").unwrap_err();
        assert_eq!(
            err.to_string(),
            "KIRO_DNS_RESOLVER=`localhost:53` is not a nameserver address of the form <ip>:<port>"
        );
    }
}

//! Endpoint URLs shared by every client: which hosts may be reached over
//! plain http (loopback only, so credentials never cross a network
//! unencrypted).

use url::{Host, Url};

/// True for `127.0.0.0/8`, `::1` and `localhost`: the only hosts where plain http is allowed.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// https anywhere, or plain http to a loopback host.
pub fn is_allowed(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_http() {
        for ok in [
            "https://graph.microsoft.com",
            "http://127.0.0.1:8787/graph",
            "http://127.9.9.9/",
            "http://[::1]:1/",
            "http://LOCALHOST/x",
        ] {
            assert!(is_allowed(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://graph.microsoft.com",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
        ] {
            assert!(!is_allowed(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}

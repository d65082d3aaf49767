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

/// A URL the provider, or a service on its behalf, will call (an endpoint override, Entra's
/// provisioning "Tenant URL"): https, or plain http to a loopback host; a host; no user name or
/// password; no fragment. A query string is the caller's to allow or refuse.
pub fn check_service_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw)
        .map_err(|e| format!("{raw:?} is not a URL ({e}); expected e.g. https://host/path."))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Not quoted: the part before the host may be a password.
        return Err(
            "The URL carries a user name or password before its host; give credentials in \
             their own arguments, never in a URL."
                .to_string(),
        );
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{raw:?} uses plain http to a host that is not loopback; credentials and tokens \
                 would cross the network unencrypted. Use https (http is allowed only for \
                 localhost, 127.0.0.0/8 and ::1)."
            ));
        }
        other => return Err(format!("{raw:?} has the scheme {other:?}; use https.")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{raw:?} has no host."));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "{raw:?} has a fragment (#…), which a service URL cannot have."
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_are_https_or_loopback_http_with_a_host_and_no_fragment() {
        for ok in [
            "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2",
            "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/",
            "HTTPS://SCIM.EXAMPLE.COM/scim/v2",
            "https://scim.example.com/scim/v2?aadOptscim062020",
            "http://127.0.0.1:8787/kiro/scim/P1/scim/v2",
            "http://localhost/scim",
            "http://[::1]:1/",
            "https://graph.microsoft.com",
        ] {
            assert!(check_service_url(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("ftp://scim.example.com/scim/v2", "scheme \"ftp\""),
            ("http://scim.example.com/scim/v2", "not loopback"),
            ("https://scim.example.com/scim/v2#top", "fragment"),
            ("not a url", "is not a URL"),
            ("", "is not a URL"),
            ("scim.example.com/scim/v2", "is not a URL"),
            ("mailto:admin@example.com", "scheme \"mailto\""),
            ("file:///etc/passwd", "scheme \"file\""),
        ] {
            let err = check_service_url(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        let err = check_service_url("https://admin:hunter2@scim.example.com/").unwrap_err();
        assert!(err.contains("user name or password"), "{err}");
        assert!(
            !err.contains("hunter2"),
            "the password is never repeated: {err}"
        );
    }

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

//! Entra's rules for the URIs an application holds — identifier URIs
//! ("Application ID URI") and redirect URIs per platform — checked at plan
//! time so a typo fails before any request.

use crate::graph::applications::Platform;

/// Graph's limit for one redirect URI.
const MAX_URI_LENGTH: usize = 256;

/// Plan-time check of an identifier URI (Graph's forms: `api://…`,
/// `https://…`, `urn:…`), so a typo fails before any request.
pub fn check_identifier_uri(uri: &str) -> Result<(), String> {
    if uri.chars().any(char::is_whitespace) {
        return Err(format!("{uri:?} contains white space."));
    }
    if uri.contains('*') {
        return Err(format!(
            "{uri:?} contains a wildcard (*), which Entra does not allow."
        ));
    }
    let url = url::Url::parse(uri).map_err(|e| {
        format!("{uri:?} is not a URI ({e}); use the form api://<client id> or https://<verified domain>/<path>.")
    })?;
    match url.scheme() {
        "api" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!(
                    "{uri:?} has no host after the scheme, e.g. api://<client id>."
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("{uri:?} must not have a query string or fragment."));
            }
            Ok(())
        }
        "urn" => Ok(()),
        other => Err(format!(
            "{uri:?} has scheme {other:?}; identifier URIs use api://, https:// or urn:."
        )),
    }
}

/// Graph's rules for a redirect URI on `platform`, checked at plan time.
pub fn check_redirect_uri(uri: &str, platform: Platform) -> Result<(), String> {
    let length = uri.chars().count();
    if length > MAX_URI_LENGTH {
        return Err(format!(
            "The URI is {length} characters long; Entra allows at most {MAX_URI_LENGTH}."
        ));
    }
    if uri.contains('*') {
        return Err(format!(
            "{uri:?} contains a wildcard (*), which Entra does not allow here."
        ));
    }
    let url = url::Url::parse(uri).map_err(|e| format!("{uri:?} is not an absolute URI ({e})."))?;
    if url.fragment().is_some() {
        return Err(format!(
            "{uri:?} has a fragment (#…), which redirect URIs cannot have."
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            if matches!(url.host_str(), Some("localhost" | "127.0.0.1")) {
                Ok(())
            } else {
                Err(format!(
                    "{uri:?} uses http to a host other than localhost or 127.0.0.1; use https."
                ))
            }
        }
        scheme if platform == Platform::PublicClient => {
            if url.cannot_be_a_base() && !uri.contains("://") {
                Err(format!(
                    "{uri:?} has no \"://\" after the scheme {scheme:?}, e.g. kiro://kiro.oauth/callback."
                ))
            } else {
                Ok(())
            }
        }
        scheme => Err(format!(
            "{uri:?} has the custom scheme {scheme:?}, which only the public_client (Mobile and \
             desktop applications) platform allows; {} URIs use https (or http for localhost).",
            platform.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_uri_forms() {
        assert!(check_identifier_uri("api://8adf8e6e-67b2-4cf2-a259-e3dc5476c621").is_ok());
        assert!(check_identifier_uri("https://contoso.com/kiro").is_ok());
        assert!(check_identifier_uri("urn:kiro:app").is_ok());
        for bad in [
            "not a uri",
            "api://",
            "http://contoso.com",
            "api://x/*",
            "kiro",
            "https://x.com/?a=b",
        ] {
            assert!(check_identifier_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uri_rules_per_platform() {
        use Platform::*;
        for (uri, platform) in [
            ("kiro://kiro.oauth/callback", PublicClient),
            ("http://localhost/oauth/callback", PublicClient),
            ("http://127.0.0.1:8080/cb", Web),
            ("https://app.contoso.com/cb", Spa),
            ("ms-app://s-1-15-2", PublicClient),
        ] {
            assert!(check_redirect_uri(uri, platform).is_ok(), "{uri}");
        }
        for (uri, platform) in [
            ("kiro://kiro.oauth/callback", Web),
            ("http://contoso.com/cb", PublicClient),
            ("https://contoso.com/cb#frag", Web),
            ("https://*.contoso.com/cb", Spa),
            ("not a uri", PublicClient),
            ("mailto:someone", PublicClient),
        ] {
            assert!(check_redirect_uri(uri, platform).is_err(), "{uri}");
        }
        let long = format!("https://contoso.com/{}", "a".repeat(240));
        assert!(
            check_redirect_uri(&long, Web)
                .unwrap_err()
                .contains("at most 256")
        );
    }
}

//! Plan-time checks of the arguments several resources, data sources and the provider block
//! share: profile ARNs, service URLs, user principal names, Kiro principal ids, AWS regions and
//! tags. Each is a [`Validator`] for a `validate(...)` option of `tf_model!` (or a provider
//! schema attribute); the rules themselves live beside the code that sends the value (the
//! Kiro client's [`ProfileArn::parse`], [`crate::endpoint::check_service_url`]), so what the
//! plan accepts is what the clients would send.

use crate::framework::diag::{AttrPath, Diagnostics};
use crate::framework::validators::{StringCheck, Validator, is_guid};
use crate::framework::value::TfValue;
use crate::kiro::arn;
use crate::kiro::wire::ProfileArn;

use super::kiro_domain::check_domain_name;

/// A Kiro profile ARN (`kiro_profile.<name>.arn`): partition, service, region, account,
/// resource type and id each checked.
pub fn profile_arn() -> impl Validator {
    StringCheck(|s: &str| ProfileArn::parse(s).map(|_| ()))
}

/// A URL a service is given to call (Entra's provisioning "Tenant URL"): https, or plain http
/// only to a loopback host; a host; no fragment. A query string is kept (Entra's feature flags
/// such as `?aadOptscim062020` are written there).
pub fn service_url() -> impl Validator {
    StringCheck(|s: &str| crate::endpoint::check_service_url(s).map(|_| ()))
}

/// An AWS region name such as `us-east-1`.
pub fn region() -> impl Validator {
    StringCheck(arn::check_region)
}

/// The longest local part (before `@`) of a user principal name Entra allows.
const MAX_UPN_LOCAL_PART: usize = 64;

/// A user principal name, `<name>@<domain>` (e.g. `alice@contoso.com`, or a guest's
/// `alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`).
pub fn user_principal_name() -> impl Validator {
    StringCheck(check_user_principal_name)
}

pub fn check_user_principal_name(upn: &str) -> Result<(), String> {
    let form = "a user principal name is <name>@<domain>, e.g. alice@contoso.com";
    let Some((local, domain)) = upn.rsplit_once('@') else {
        return Err(format!("{upn:?} has no @; {form}."));
    };
    if local.is_empty() || local.contains('@') {
        return Err(format!("{upn:?} is not one name and one @; {form}."));
    }
    if local.chars().count() > MAX_UPN_LOCAL_PART {
        return Err(format!(
            "{upn:?} has more than {MAX_UPN_LOCAL_PART} characters before the @, which Entra \
             does not allow."
        ));
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{upn:?} contains white space; {form}."));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(format!(
            "{upn:?} has a dot at the start or end of its name, or two in a row, which Entra \
             does not allow."
        ));
    }
    check_domain_name(domain).map_err(|problem| format!("{upn:?}: after the @, {problem}"))
}

/// Kiro's id of a synced user or group (a subscription's `principal_id`). Kiro's identities are
/// modeled on IAM Identity Center's **[assumed]**: a GUID, optionally after 10 hex digits and
/// a `-` (`90677d3a4c-…`).
pub fn kiro_principal_id() -> impl Validator {
    StringCheck(check_kiro_principal_id)
}

pub fn check_kiro_principal_id(id: &str) -> Result<(), String> {
    let guid = match id.split_once('-') {
        Some((prefix, rest)) if prefix.len() == 10 => {
            if prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                rest
            } else {
                id
            }
        }
        _ => id,
    };
    if is_guid(guid) {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a Kiro user or group id: a GUID such as \
             8adf8e6e-67b2-4cf2-a259-e3dc5476c621, optionally after 10 hex digits and `-` \
             (kiro_user or kiro_group data source's `id`)."
        ))
    }
}

/// AWS's limits on resource tags.
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const TAG_PUNCTUATION: &str = " _.:/=+-@";

/// Tags on an AWS resource: at most 50; keys 1 to 128 characters, not starting with the
/// reserved `aws:`; values at most 256; letters, digits, spaces and `_ . : / = + - @`. Each
/// problem is reported on its key; a value not yet known is checked once it is.
pub fn aws_tags() -> impl Validator {
    AwsTags
}

struct AwsTags;

impl Validator for AwsTags {
    fn validate(&self, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics) {
        let TfValue::Map(tags) = value else { return };
        if tags.len() > MAX_TAGS {
            diags.attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!(
                    "{} tags are set; AWS allows at most {MAX_TAGS} on a resource.",
                    tags.len()
                ),
            );
        }
        for (key, value) in tags {
            let problem = check_tag_key(key)
                .err()
                .or_else(|| value.as_str().and_then(|v| check_tag_value(key, v).err()));
            if let Some(problem) = problem {
                let at = path.then_key(key.clone());
                diags.attr_error(at.clone(), format!("Invalid value for {at}"), problem);
            }
        }
    }
}

fn tag_chars_ok(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || TAG_PUNCTUATION.contains(c))
}

fn check_tag_key(key: &str) -> Result<(), String> {
    let n = key.chars().count();
    if n == 0 || n > MAX_TAG_KEY {
        return Err(format!(
            "The tag key {key:?} is {n} characters long; AWS allows 1 to {MAX_TAG_KEY}."
        ));
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(format!(
            "The tag key {key:?} starts with \"aws:\", which AWS reserves for its own tags."
        ));
    }
    if !tag_chars_ok(key) {
        return Err(format!(
            "The tag key {key:?} has a character AWS does not allow in tags; use letters, \
             digits, spaces and _ . : / = + - @."
        ));
    }
    Ok(())
}

fn check_tag_value(key: &str, value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n > MAX_TAG_VALUE {
        return Err(format!(
            "The value of the tag {key:?} is {n} characters long; AWS allows at most \
             {MAX_TAG_VALUE}."
        ));
    }
    if !tag_chars_ok(value) {
        return Err(format!(
            "The value of the tag {key:?} has a character AWS does not allow in tags; use \
             letters, digits, spaces and _ . : / = + - @."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(v: &dyn Validator, value: TfValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        v.validate(&value, &AttrPath::attr("a"), &mut diags);
        diags
    }

    fn refuses(v: &dyn Validator, s: &str) -> bool {
        errors(v, TfValue::string(s)).has_errors()
    }

    #[test]
    fn profile_arn_validator_refuses_other_arns_on_the_attribute() {
        let v = profile_arn();
        assert!(!refuses(
            &v,
            "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
        ));
        for bad in [
            "not-an-arn",
            "arn:aws:s3:::bucket",
            "arn:aws:codewhisperer:us-east-1:123456789012:profile",
        ] {
            let diags = errors(&v, TfValue::string(bad));
            assert_eq!(diags.0.len(), 1, "{bad}");
            assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("a")));
        }
    }

    #[test]
    fn service_url_keeps_trailing_slashes_and_queries() {
        let v = service_url();
        for ok in [
            "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/",
            "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2",
            "https://scim.example.com/scim/v2?aadOptscim062020",
            "http://127.0.0.1:45123/kiro/scim/ABC/scim/v2",
        ] {
            assert!(!refuses(&v, ok), "{ok}");
        }
        for bad in [
            "ftp://scim.example.com/",
            "http://scim.example.com/scim/v2",
            "https://scim.example.com/scim/v2#x",
            "scim.example.com",
        ] {
            assert!(refuses(&v, bad), "{bad}");
        }
    }

    #[test]
    fn region_validator() {
        assert!(!refuses(&region(), "eu-central-1"));
        assert!(refuses(&region(), "Frankfurt"));
    }

    #[test]
    fn user_principal_names() {
        for ok in [
            "alice@contoso.com",
            "Alice.Smith@Contoso.COM",
            "alice_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "o'brien@contoso.com",
            "alice@bücher.example",
        ] {
            assert!(check_user_principal_name(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("alice", "has no @"),
            ("@contoso.com", "one name and one @"),
            ("a@b@contoso.com", "one name and one @"),
            ("alice smith@contoso.com", "white space"),
            (".alice@contoso.com", "dot"),
            ("alice..smith@contoso.com", "dot"),
            ("alice@contoso", "single label"),
            ("alice@", "not a domain name"),
            ("alice@https://contoso.com", "not a domain name"),
        ] {
            let err = check_user_principal_name(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        let long = format!("{}@contoso.com", "a".repeat(65));
        assert!(check_user_principal_name(&long).unwrap_err().contains("64"));
    }

    #[test]
    fn kiro_principal_ids() {
        for ok in [
            "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            "8ADF8E6E-67B2-4CF2-A259-E3DC5476C621",
            "90677d3a4c-8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
        ] {
            assert!(check_kiro_principal_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "alice",
            "has space",
            "8adf8e6e67b24cf2a259e3dc5476c621",
            "90677d3a4z-8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            "{8adf8e6e-67b2-4cf2-a259-e3dc5476c621}",
        ] {
            assert!(check_kiro_principal_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn entra_object_ids_keep_every_spelling_of_a_guid() {
        // `external_id` (subscription, kiro_user, kiro_group) takes the framework's GUID check.
        let v = crate::framework::validators::guid();
        for ok in [
            "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            "8ADF8E6E-67B2-4CF2-A259-E3DC5476C621",
        ] {
            assert!(!refuses(&v, ok), "{ok}");
        }
        for bad in ["alice@contoso.com", "", "8adf8e6e67b24cf2a259e3dc5476c621"] {
            assert!(refuses(&v, bad), "{bad:?}");
        }
        assert!(!errors(&v, TfValue::unknown()).has_errors());
        assert!(!errors(&profile_arn(), TfValue::Null).has_errors());
    }

    fn tags(pairs: &[(&str, TfValue)]) -> TfValue {
        TfValue::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn tags_are_checked_per_key_and_unknown_values_wait() {
        let v = aws_tags();
        let fine = tags(&[
            ("team", TfValue::string("Kiro platform")),
            ("cost-center", TfValue::string("")),
            ("owner", TfValue::string("alice@contoso.com")),
            ("Ümlaut", TfValue::string("größe")),
            ("later", TfValue::unknown()),
        ]);
        assert!(!errors(&v, fine).has_errors());
        for (key, value, says) in [
            ("aws:owner", "x", "reserves"),
            ("AWS:Owner", "x", "reserves"),
            ("", "x", "1 to 128"),
            ("team", "a;b", "does not allow"),
            ("a{b}", "x", "does not allow"),
        ] {
            let diags = errors(&v, tags(&[(key, TfValue::string(value))]));
            assert_eq!(diags.0.len(), 1, "{key:?}");
            assert!(diags.0[0].detail.contains(says), "{key:?}: {:?}", diags.0);
            assert_eq!(
                diags.0[0].attribute,
                Some(AttrPath::attr("a").then_key(key.to_string()))
            );
        }
        let long_key = "k".repeat(129);
        assert!(errors(&v, tags(&[(&long_key, TfValue::string("x"))])).has_errors());
        let long_value = TfValue::string("v".repeat(257));
        assert!(errors(&v, tags(&[("k", long_value)])).has_errors());
        let many: Vec<(String, TfValue)> = (0..51)
            .map(|i| (format!("k{i}"), TfValue::string("v")))
            .collect();
        let many = TfValue::Map(many.into_iter().collect());
        assert_eq!(errors(&v, many).0.len(), 1);
    }
}

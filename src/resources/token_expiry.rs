//! When a Kiro SCIM access token runs out. Kiro's tokens last a year; once the one Entra holds
//! has expired, every provisioning cycle fails and Entra quarantines the job, with nothing in
//! Terraform to show it. So a plan warns as the day comes near, and with `rotate_before` it
//! plans the new token itself, inside that window, where the person running Terraform sees it.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::framework::diag::{AttrPath, Diagnostic};
use crate::framework::timeouts::{human, parse_duration};
use crate::framework::validators::{StringCheck, Validator};

/// A token that expires within this is warned about even without `rotate_before`.
pub const WARN_WITHIN: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long Kiro's SCIM access tokens last (`kiro-api.md`: one year).
const LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a plan makes of a token's expiry.
#[derive(Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Further off than every window: nothing to say.
    Far,
    /// Within [`WARN_WITHIN`] (or past), and no `rotate_before` window reached: a warning.
    Near { left: Option<Duration> },
    /// Within `rotate_before`: the plan makes a new token.
    Rotate { left: Option<Duration> },
}

/// Judges `expires_at` (RFC 3339, as the state holds it) at `now`. `None` when the state holds
/// no readable time (a token made before the provider recorded expiry: the next refresh reads it).
pub fn judge(
    expires_at: &str,
    now: OffsetDateTime,
    rotate_before: Option<Duration>,
) -> Option<Expiry> {
    let expires_at = OffsetDateTime::parse(expires_at, &Rfc3339).ok()?;
    // `None`: already expired.
    let left = Duration::try_from(expires_at - now).ok();
    let within = |window: Duration| left.is_none_or(|left| left <= window);
    Some(match rotate_before {
        Some(window) if within(window) => Expiry::Rotate { left },
        _ if within(WARN_WITHIN) => Expiry::Near { left },
        _ => Expiry::Far,
    })
}

/// The plan's diagnostic for `verdict`, on `at`: `token` names the token for the person
/// running Terraform ("SCIM access token 1234…").
pub fn diagnostic(
    token: &str,
    expires_at: &str,
    verdict: &Expiry,
    at: AttrPath,
) -> Option<Diagnostic> {
    let when = |left: &Option<Duration>| match left {
        Some(left) => format!("expires at {expires_at}, in {}", human_days(*left)),
        None => format!("expired at {expires_at}"),
    };
    let diagnostic = match verdict {
        Expiry::Far => return None,
        Expiry::Near { left } => Diagnostic::warning(
            "A SCIM access token expires soon",
            format!(
                "{token} {}. Once it has expired, Entra's provisioning into Kiro fails and the job \
                 is quarantined. Set rotate_before (for example \"720h\", 30 days) to have the \
                 plan rotate it, or change rotation_triggers to rotate it now.",
                when(left)
            ),
        ),
        Expiry::Rotate { left } => Diagnostic::warning(
            "Rotating a SCIM access token before it expires",
            format!(
                "{token} {}, within rotate_before: this plan makes a new token.",
                when(left)
            ),
        ),
    };
    Some(diagnostic.at(at))
}

/// `rotate_before`: a duration (Go syntax, as `timeouts`) shorter than a token's lifetime,
/// which would otherwise rotate at every plan.
pub fn rotate_before() -> impl Validator {
    StringCheck(|text: &str| {
        let window = parse_duration(text)?;
        if window.is_zero() || window >= LIFETIME {
            return Err(format!(
                "{text:?} must be more than nothing and less than a token's lifetime (8760h, one \
                 year); 720h (30 days) leaves time to notice a failed rotation."
            ));
        }
        Ok(())
    })
}

/// The configured window, if any and readable (it was validated).
pub fn window(rotate_before: Option<&str>) -> Option<Duration> {
    rotate_before.and_then(|text| parse_duration(text).ok())
}

/// A time as the state holds it (RFC 3339).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn human_days(left: Duration) -> String {
    let days = left.as_secs() / (24 * 3600);
    match days {
        0 => human(left),
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::framework::diag::Diagnostics;
    use crate::framework::value::TfValue;

    const NOW: OffsetDateTime = datetime!(2026-12-02 12:00 UTC);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn expiry_is_far_near_or_time_to_rotate() {
        let in_days = |days: i64| (NOW + time::Duration::days(days)).format(&Rfc3339).unwrap();
        assert_eq!(judge(&in_days(200), NOW, None), Some(Expiry::Far));
        assert_eq!(
            judge(&in_days(20), NOW, None),
            Some(Expiry::Near {
                left: Some(20 * DAY)
            })
        );
        assert_eq!(
            judge(&in_days(-1), NOW, None),
            Some(Expiry::Near { left: None })
        );
        assert_eq!(
            judge(&in_days(50), NOW, Some(60 * DAY)),
            Some(Expiry::Rotate {
                left: Some(50 * DAY)
            })
        );
        assert_eq!(judge(&in_days(50), NOW, Some(10 * DAY)), Some(Expiry::Far));
        assert_eq!(
            judge(&in_days(5), NOW, Some(10 * DAY)),
            Some(Expiry::Rotate {
                left: Some(5 * DAY)
            })
        );
        assert_eq!(judge("not a time", NOW, None), None);
    }

    #[test]
    fn the_warning_says_when_and_what_to_do() {
        let near = Expiry::Near {
            left: Some(3 * DAY),
        };
        let d = diagnostic("token t1", "2026-12-05T12:00:00Z", &near, AttrPath::root()).unwrap();
        assert!(d.detail.contains("in 3 days") && d.detail.contains("rotate_before"));
        let gone = Expiry::Near { left: None };
        let d = diagnostic("token t1", "2026-12-01T12:00:00Z", &gone, AttrPath::root()).unwrap();
        assert!(d.detail.contains("expired at 2026-12-01T12:00:00Z"));
        assert!(diagnostic("t", "x", &Expiry::Far, AttrPath::root()).is_none());
    }

    #[test]
    fn rotate_before_is_a_window_shorter_than_a_year() {
        let accepts = |text: &str| {
            let mut diags = Diagnostics::new();
            rotate_before().validate(&TfValue::string(text), &AttrPath::root(), &mut diags);
            !diags.has_errors()
        };
        assert!(accepts("720h"));
        assert!(!accepts("0s") && !accepts("8760h") && !accepts("30d"));
    }
}

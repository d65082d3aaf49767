//! Attribute validators, run at plan time on known, non-null values. Each
//! reports a diagnostic on the attribute and never calls an API.

use super::diag::{AttrPath, Diagnostics};
use super::value::TfValue;

pub trait Validator: Send + Sync {
    fn validate(&self, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics);
}

/// A validator from a closure over the string value, returning the problem.
pub struct StringCheck<F>(pub F);

impl<F> Validator for StringCheck<F>
where
    F: Fn(&str) -> Result<(), String> + Send + Sync,
{
    fn validate(&self, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && let Err(problem) = (self.0)(s)
        {
            diags.attr_error(path.clone(), format!("Invalid value for {path}"), problem);
        }
    }
}

/// A string that is not empty and not only white space.
pub fn not_blank() -> impl Validator {
    StringCheck(|s: &str| {
        if s.trim().is_empty() {
            Err("The value must not be empty.".to_string())
        } else {
            Ok(())
        }
    })
}

pub fn max_length(max: usize) -> impl Validator {
    StringCheck(move |s: &str| {
        let n = s.chars().count();
        if n > max {
            Err(format!(
                "The value is {n} characters long; at most {max} are allowed."
            ))
        } else {
            Ok(())
        }
    })
}

/// A string from a fixed list.
pub fn one_of(allowed: &'static [&'static str]) -> impl Validator {
    StringCheck(move |s: &str| {
        if allowed.contains(&s) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not allowed. Expected one of: {}.",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    })
}

/// A canonical GUID such as `00000000-0000-0000-0000-000000000000`.
pub fn guid() -> impl Validator {
    StringCheck(|s: &str| {
        if is_guid(s) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)."
            ))
        }
    })
}

pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A whole number within an inclusive range.
pub struct IntBetween(pub i64, pub i64);

impl Validator for IntBetween {
    fn validate(&self, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics) {
        let Some(n) = value.as_number() else { return };
        match n.as_i64() {
            Some(i) if i >= self.0 && i <= self.1 => {}
            _ => diags.attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!(
                    "{n} is not allowed: expected a whole number from {} to {}.",
                    self.0, self.1
                ),
            ),
        }
    }
}

pub fn int_between(min: i64, max: i64) -> impl Validator {
    IntBetween(min, max)
}

/// A Go-style duration such as `45m`, `1h30m` or `90s` (the `timeouts` block).
pub fn duration() -> impl Validator {
    StringCheck(|s: &str| super::timeouts::parse_duration(s).map(|_| ()))
}

/// Cross-attribute check: exactly one of `names` is set in `config` (an
/// unknown value counts as set: it will be). Reports on the attributes.
pub fn exactly_one_of(config: &TfValue, names: &[&str], diags: &mut Diagnostics) {
    if super::write_only::refuse_in_group(names, diags) {
        return;
    }
    let set: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| config.get_attr(n).is_some_and(|v| !v.is_null()))
        .collect();
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match set.as_slice() {
        [_] => {}
        [] => diags.attr_error(
            AttrPath::attr(names[0]),
            "Missing argument",
            format!("Set exactly one of {list}."),
        ),
        [_, rest @ ..] => {
            for n in rest {
                diags.attr_error(
                    AttrPath::attr(*n),
                    "Conflicting arguments",
                    format!("Set exactly one of {list}; {} are set.", set.join(" and ")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_of_points_at_the_extra_or_missing_attribute() {
        let names = ["object_id", "display_name"];
        let mut diags = Diagnostics::new();
        let one = TfValue::object([
            ("object_id", TfValue::string("x")),
            ("display_name", TfValue::Null),
        ]);
        exactly_one_of(&one, &names, &mut diags);
        assert!(diags.is_empty());
        let unknown = TfValue::object([
            ("object_id", TfValue::Null),
            ("display_name", TfValue::unknown()),
        ]);
        exactly_one_of(&unknown, &names, &mut diags);
        assert!(diags.is_empty(), "unknown counts as set");
        let both = TfValue::object([
            ("object_id", TfValue::string("x")),
            ("display_name", TfValue::string("y")),
        ]);
        exactly_one_of(&both, &names, &mut diags);
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("display_name")));
        let mut diags = Diagnostics::new();
        exactly_one_of(
            &TfValue::object([("object_id", TfValue::Null)]),
            &names,
            &mut diags,
        );
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("object_id")));
        assert!(diags.0[0].detail.contains("`object_id`, `display_name`"));
    }

    fn run(v: &dyn Validator, value: TfValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        v.validate(&value, &AttrPath::attr("a"), &mut diags);
        diags
    }

    #[test]
    fn not_blank_rejects_empty_and_spaces() {
        assert!(run(&not_blank(), TfValue::String(String::new())).has_errors());
        assert!(run(&not_blank(), TfValue::String("  ".into())).has_errors());
        assert!(!run(&not_blank(), TfValue::String("x".into())).has_errors());
    }

    #[test]
    fn validators_skip_unknown_and_null() {
        assert!(!run(&not_blank(), TfValue::unknown()).has_errors());
        assert!(!run(&int_between(1, 2), TfValue::Null).has_errors());
    }

    #[test]
    fn int_between_points_at_attribute() {
        let diags = run(&int_between(1, 2), TfValue::Number(3i64.into()));
        assert!(diags.has_errors());
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("a")));
        assert!(diags.0[0].detail.contains("from 1 to 2"));
        assert!(run(&int_between(1, 2), TfValue::Number(1.5f64.into())).has_errors());
    }

    #[test]
    fn guid_and_one_of() {
        assert!(is_guid("8adf8e6e-67b2-4cf2-a259-e3dc5476c621"));
        assert!(!is_guid("8adf8e6e-67b2-4cf2-a259-e3dc5476c62"));
        assert!(run(&one_of(&["a", "b"]), TfValue::String("c".into())).has_errors());
        assert!(run(&max_length(2), TfValue::String("abc".into())).has_errors());
    }
}

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

/// Two spellings of one GUID (Entra answers in lower case; people paste upper case too).
pub fn same_guid(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
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

/// A rule across attributes of one block (the root of a resource, or each nested block),
/// declared in the model (`tf_model!`'s `rules { … }`) and run by the framework wherever the
/// configuration is checked: at validate and plan time, and again at apply, when every value
/// is known.
///
/// As in terraform-plugin-framework-validators, a rule whose attributes include an unknown
/// value says nothing until that value is known: `secret_token = var.wo ? null : x` may still
/// turn out null, so it neither counts as set nor as unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigRule {
    pub kind: RuleKind,
    pub attributes: Vec<&'static str>,
    /// Why the rule exists, added to its diagnostic.
    pub why: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// Exactly one of the attributes is set.
    ExactlyOneOf,
    /// At least one of them is set.
    AtLeastOneOf,
    /// At most one of them is set.
    AtMostOneOf,
    /// All of them or none.
    RequiredTogether,
}

/// Whether a configuration value is set, not set, or not known yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presence {
    Set,
    Unset,
    Unknown,
}

fn presence(value: Option<&TfValue>) -> Presence {
    match value {
        None | Some(TfValue::Null) => Presence::Unset,
        Some(v) if !v.is_known() => Presence::Unknown,
        // A list or set of blocks written zero times is not set.
        Some(TfValue::List(items) | TfValue::Set(items)) if items.is_empty() => Presence::Unset,
        // A `dynamic` single block whose `for_each` is unknown reaches the provider as an
        // object whose written attributes are all unknown (literals included): it may turn
        // out absent. One known, non-null attribute shows the block is really there.
        Some(TfValue::Object(attrs))
            if attrs.values().any(TfValue::is_unknown)
                && !attrs.values().any(|v| v.is_known() && !v.is_null()) =>
        {
            Presence::Unknown
        }
        Some(_) => Presence::Set,
    }
}

fn listed(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ConfigRule {
    pub fn new(kind: RuleKind, attributes: Vec<&'static str>) -> ConfigRule {
        ConfigRule {
            kind,
            attributes,
            why: None,
        }
    }

    /// The reason the diagnostic gives.
    pub fn because(mut self, why: &'static str) -> ConfigRule {
        self.why = Some(why);
        self
    }

    /// The rule as the docs state it.
    pub fn describe(&self) -> String {
        let names = listed(&self.attributes);
        let rule = match self.kind {
            RuleKind::ExactlyOneOf => format!("Exactly one of {names} must be set."),
            RuleKind::AtLeastOneOf => format!("At least one of {names} must be set."),
            RuleKind::AtMostOneOf => format!("At most one of {names} may be set."),
            RuleKind::RequiredTogether => format!("{names} are set together or not at all."),
        };
        match self.why {
            Some(why) => format!("{rule} {why}"),
            None => rule,
        }
    }

    /// Whether the attributes' values in `object` keep the rule; `None` while any of them is
    /// unknown.
    pub fn holds(&self, object: &TfValue) -> Option<bool> {
        let states: Vec<Presence> = self
            .attributes
            .iter()
            .map(|n| presence(object.get_attr(n)))
            .collect();
        if states.contains(&Presence::Unknown) {
            return None;
        }
        let set = states.iter().filter(|p| **p == Presence::Set).count();
        Some(match self.kind {
            RuleKind::ExactlyOneOf => set == 1,
            RuleKind::AtLeastOneOf => set >= 1,
            RuleKind::AtMostOneOf => set <= 1,
            RuleKind::RequiredTogether => set == 0 || set == self.attributes.len(),
        })
    }

    /// Reports a broken rule on each attribute to change (under `at`, the block's path).
    pub fn check(&self, object: &TfValue, at: &AttrPath, diags: &mut Diagnostics) {
        if self.holds(object) != Some(false) {
            return;
        }
        let (set, unset): (Vec<&str>, Vec<&str>) = self
            .attributes
            .iter()
            .partition(|n| presence(object.get_attr(n)) == Presence::Set);
        let list = listed(&self.attributes);
        let why = self.why.map(|w| format!(" {w}")).unwrap_or_default();
        let mut report = |name: &str, summary: &str, detail: String| {
            diags.attr_error(at.then_attr(name), summary, format!("{detail}{why}"))
        };
        match (self.kind, set.as_slice()) {
            (RuleKind::RequiredTogether, _) => {
                for n in unset {
                    report(
                        n,
                        "Missing argument",
                        format!("{} is set, so {n} must be set too.", set.join(" and ")),
                    );
                }
            }
            (RuleKind::ExactlyOneOf | RuleKind::AtLeastOneOf, []) => report(
                self.attributes[0],
                "Missing argument",
                format!("Set one of {list}."),
            ),
            (_, [_, extra @ ..]) => {
                for n in extra {
                    report(
                        n,
                        "Conflicting arguments",
                        format!("Set only one of {list}; {} are set.", set.join(" and ")),
                    );
                }
            }
            (_, []) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(attrs: &[(&str, TfValue)]) -> TfValue {
        TfValue::object(attrs.iter().cloned())
    }

    fn checked(rule: &ConfigRule, config: &TfValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        rule.check(config, &AttrPath::root(), &mut diags);
        diags
    }

    #[test]
    fn exactly_one_of_points_at_the_extra_or_missing_attribute() {
        let rule = ConfigRule::new(RuleKind::ExactlyOneOf, vec!["object_id", "display_name"]);
        let one = object(&[
            ("object_id", TfValue::string("x")),
            ("display_name", TfValue::Null),
        ]);
        assert!(checked(&rule, &one).is_empty());
        let both = object(&[
            ("object_id", TfValue::string("x")),
            ("display_name", TfValue::string("y")),
        ]);
        let diags = checked(&rule, &both);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("display_name")));
        assert_eq!(diags.0[0].summary, "Conflicting arguments");
        let none = object(&[("object_id", TfValue::Null)]);
        let diags = checked(&rule, &none);
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("object_id")));
        assert!(diags.0[0].detail.contains("`object_id`, `display_name`"));
    }

    #[test]
    fn rules_wait_while_any_of_their_values_is_unknown() {
        // `secret_token = var.wo ? null : x`: unknown may still become null, so neither a
        // conflict nor a missing value can be told yet.
        for kind in [
            RuleKind::ExactlyOneOf,
            RuleKind::AtLeastOneOf,
            RuleKind::AtMostOneOf,
            RuleKind::RequiredTogether,
        ] {
            let rule = ConfigRule::new(kind, vec!["a", "b", "c"]);
            for config in [
                object(&[
                    ("a", TfValue::unknown()),
                    ("b", TfValue::string("x")),
                    ("c", TfValue::string("y")),
                ]),
                object(&[
                    ("a", TfValue::unknown()),
                    ("b", TfValue::Null),
                    ("c", TfValue::Null),
                ]),
            ] {
                assert_eq!(rule.holds(&config), None, "{kind:?}");
                assert!(checked(&rule, &config).is_empty(), "{kind:?}");
            }
        }
    }

    #[test]
    fn each_kind_refuses_only_what_breaks_it() {
        let s = || TfValue::string("x");
        let cases: &[(RuleKind, [bool; 3], bool)] = &[
            (RuleKind::ExactlyOneOf, [true, false, false], true),
            (RuleKind::ExactlyOneOf, [false, false, false], false),
            (RuleKind::ExactlyOneOf, [true, true, false], false),
            (RuleKind::AtLeastOneOf, [true, true, true], true),
            (RuleKind::AtLeastOneOf, [false, false, false], false),
            (RuleKind::AtMostOneOf, [false, false, false], true),
            (RuleKind::AtMostOneOf, [false, true, true], false),
            (RuleKind::RequiredTogether, [true, true, true], true),
            (RuleKind::RequiredTogether, [false, false, false], true),
            (RuleKind::RequiredTogether, [true, false, true], false),
        ];
        for (kind, set, ok) in cases {
            let rule = ConfigRule::new(*kind, vec!["a", "b", "c"]).because("Why.");
            let config = object(&[
                ("a", if set[0] { s() } else { TfValue::Null }),
                ("b", if set[1] { s() } else { TfValue::Null }),
                ("c", if set[2] { s() } else { TfValue::Null }),
            ]);
            assert_eq!(rule.holds(&config), Some(*ok), "{kind:?} {set:?}");
            let diags = checked(&rule, &config);
            assert_eq!(diags.is_empty(), *ok, "{kind:?} {set:?}");
            assert!(diags.0.iter().all(|d| d.detail.ends_with("Why.")));
        }
        // A single block from a `dynamic` whose for_each is unknown may be absent: it waits.
        let dynamic = object(&[
            ("a", s()),
            (
                "b",
                object(&[("arn", TfValue::unknown()), ("note", TfValue::Null)]),
            ),
        ]);
        let pair = ConfigRule::new(RuleKind::ExactlyOneOf, vec!["a", "b"]);
        assert_eq!(pair.holds(&dynamic), None);
        let written = object(&[
            ("a", s()),
            ("b", object(&[("arn", TfValue::unknown()), ("note", s())])),
        ]);
        assert_eq!(
            pair.holds(&written),
            Some(false),
            "a known attribute shows the block is there"
        );
        // An empty list of blocks is not set; a block list with items is.
        let rule = ConfigRule::new(RuleKind::ExactlyOneOf, vec!["a", "blocks"]);
        let empty = object(&[("a", TfValue::Null), ("blocks", TfValue::List(vec![]))]);
        assert_eq!(rule.holds(&empty), Some(false));
        let one = object(&[
            ("a", TfValue::Null),
            ("blocks", TfValue::List(vec![object(&[])])),
        ]);
        assert_eq!(rule.holds(&one), Some(true));
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

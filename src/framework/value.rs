//! Dynamically typed Terraform values (the provider-side view of cty values).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use super::types::{CodecError, Type};

/// Largest decimal exponent magnitude a [`Number`] accepts (far beyond anything Terraform
/// produces; keeps conversions bounded).
const MAX_EXPONENT: i64 = 1_000_000;

/// Exponents (of the last significant digit) within which `Display` writes plain decimal
/// notation; outside it uses scientific notation (`1.5e+100`).
const PLAIN_RANGE: i64 = 64;

/// An arbitrary-precision decimal number in canonical form.
///
/// The value is `(-1)^negative × digits × 10^exp`, where `digits` has no leading or trailing
/// zeros (zero is `digits == "0"`, `exp == 0`, not negative). Equality, hashing and ordering are
/// numeric: `1 == 1.0 == 1e0`, `-0 == 0`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: String,
    exp: i64,
}

/// Error from parsing a [`Number`].
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("invalid number {text:?}: {reason}")]
pub struct ParseNumberError {
    pub text: String,
    pub reason: &'static str,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: "0".to_string(),
            exp: 0,
        }
    }

    /// Builds the canonical form from raw parts (digits may have leading/trailing zeros).
    fn from_parts(negative: bool, digits: &str, exp: i64) -> Result<Number, &'static str> {
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() {
            return Ok(Number::zero());
        }
        let without_trailing = trimmed.trim_end_matches('0');
        let exp = exp
            .checked_add((trimmed.len() - without_trailing.len()) as i64)
            .ok_or("exponent out of range")?;
        // bound the position of the most significant digit, too
        let top = exp.saturating_add(without_trailing.len() as i64);
        if exp.abs() > MAX_EXPONENT || top.abs() > MAX_EXPONENT {
            return Err("exponent out of range");
        }
        Ok(Number {
            negative,
            digits: without_trailing.to_string(),
            exp,
        })
    }

    /// Converts a finite `f64` (shortest decimal that round-trips); `None` for NaN/infinity.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        // `{:e}` prints the shortest representation that round-trips, e.g. `1.5e-7`.
        format!("{f:e}").parse().ok()
    }

    pub fn is_zero(&self) -> bool {
        self.digits == "0"
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// The value as `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The value as `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|v| u64::try_from(v).ok())
    }

    fn as_i128(&self) -> Option<i128> {
        if self.exp < 0 || self.digits.len() as i64 + self.exp > 30 {
            return None;
        }
        let mut v: i128 = self.digits.parse().ok()?;
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(if self.negative { -v } else { v })
    }

    /// The nearest `f64` (±infinity when out of range).
    pub fn as_f64(&self) -> f64 {
        // Rust's float parsing is correctly rounded.
        let text = format!(
            "{}{}e{}",
            if self.negative { "-" } else { "" },
            self.digits,
            self.exp
        );
        text.parse().unwrap_or(f64::NAN)
    }

    /// The `f64` holding exactly this number, if it round-trips (same canonical decimal).
    pub fn to_f64_exact(&self) -> Option<f64> {
        let f = self.as_f64();
        (f.is_finite() && Number::from_f64(f).as_ref() == Some(self)).then_some(f)
    }

    /// Position of the decimal point relative to the start of `digits`.
    fn point(&self) -> i64 {
        self.digits.len() as i64 + self.exp
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        self.point().cmp(&other.point()).then_with(|| {
            // same magnitude order: compare digit strings, padding the shorter with zeros
            let (a, b) = (self.digits.as_bytes(), other.digits.as_bytes());
            for i in 0..a.len().max(b.len()) {
                let x = a.get(i).copied().unwrap_or(b'0');
                let y = b.get(i).copied().unwrap_or(b'0');
                match x.cmp(&y) {
                    Ordering::Equal => continue,
                    o => return o,
                }
            }
            Ordering::Equal
        })
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Number {
    type Err = ParseNumberError;

    /// Accepts decimal text: optional sign, digits with an optional fraction, optional exponent
    /// (`-12`, `+0.5`, `.5`, `5.`, `1e10`, `1.5E-3`). No infinities, NaN or hex.
    fn from_str(text: &str) -> Result<Number, ParseNumberError> {
        let err = |reason| ParseNumberError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let s = text;
        let (negative, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("no digits"));
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err("not a decimal number"));
        }
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("malformed exponent"));
                }
                if digits.trim_start_matches('0').len() > 12 {
                    return Err(err("exponent out of range"));
                }
                e.parse().map_err(|_| err("malformed exponent"))?
            }
        };
        let mut digits = String::with_capacity(int_part.len() + frac_part.len());
        digits.push_str(int_part);
        digits.push_str(frac_part);
        let exp = exp
            .checked_sub(frac_part.len() as i64)
            .ok_or_else(|| err("exponent out of range"))?;
        Number::from_parts(negative, &digits, exp).map_err(err)
    }
}

/// Canonical text: plain decimal (`-12`, `0.001`, `123456789012345678901234567890`) unless the
/// number is extremely large or small, then scientific (`1.5e+100`, `1e-100`). Always valid as
/// a JSON number and accepted by Terraform's number parser.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        let point = self.point();
        if self.exp >= 0 && self.exp <= PLAIN_RANGE {
            f.write_str(&self.digits)?;
            for _ in 0..self.exp {
                f.write_str("0")?;
            }
            Ok(())
        } else if self.exp < 0 && point >= -PLAIN_RANGE {
            if point <= 0 {
                f.write_str("0.")?;
                for _ in 0..(-point) {
                    f.write_str("0")?;
                }
                f.write_str(&self.digits)
            } else {
                let (i, fr) = self.digits.split_at(point as usize);
                write!(f, "{i}.{fr}")
            }
        } else {
            let (first, rest) = self.digits.split_at(1);
            f.write_str(first)?;
            if !rest.is_empty() {
                write!(f, ".{rest}")?;
            }
            let e = point - 1;
            if e < 0 {
                write!(f, "e-{}", -e)
            } else {
                write!(f, "e+{e}")
            }
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

macro_rules! number_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(v: $t) -> Number {
                let negative = v < 0 as $t;
                let mut digits = v.to_string();
                if negative {
                    digits.remove(0);
                }
                // integers of these widths always fit the exponent bounds
                Number::from_parts(negative, &digits, 0).unwrap_or_else(|_| Number::zero())
            }
        }
    )*};
}
number_from_int!(
    i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, isize, usize
);

impl From<f64> for Number {
    /// Converts a finite float.
    ///
    /// # Panics
    /// On NaN or infinity; use [`Number::from_f64`] for untrusted floats.
    fn from(f: f64) -> Number {
        Number::from_f64(f).expect("Number::from(f64) requires a finite float")
    }
}

/// Refinements Terraform may attach to an unknown value (cty "refined unknowns").
///
/// All fields are optional facts; an unknown without refinements is `TfValue::Unknown(None)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UnknownRefinements {
    /// The wire value of refinement 1 ("is null"): `Some(false)` = definitely not null
    /// (the only value Terraform sends), `Some(true)` = definitely null.
    pub nullness: Option<bool>,
    /// A known prefix of an unknown string.
    pub string_prefix: Option<String>,
    /// Lower bound of an unknown number, and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an unknown number, and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Minimum length of an unknown collection.
    pub length_lower: Option<i64>,
    /// Maximum length of an unknown collection.
    pub length_upper: Option<i64>,
}

impl UnknownRefinements {
    /// True when no refinement is set.
    pub fn is_empty(&self) -> bool {
        *self == UnknownRefinements::default()
    }

    /// The refinements that can apply to a value of type `ty`, as Terraform accepts them:
    /// none for `dynamic`; nullness for any other type; the string prefix (at most 255 bytes)
    /// for strings; number bounds for numbers; length bounds for lists, sets and maps.
    pub fn for_type(&self, ty: &Type) -> UnknownRefinements {
        if *ty == Type::Dynamic {
            return UnknownRefinements::default();
        }
        let is_collection = matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_));
        UnknownRefinements {
            nullness: self.nullness,
            string_prefix: match (ty, &self.string_prefix) {
                (Type::String, Some(p)) if !p.is_empty() => Some(truncate_prefix(p)),
                _ => None,
            },
            number_lower: self.number_lower.clone().filter(|_| *ty == Type::Number),
            number_upper: self.number_upper.clone().filter(|_| *ty == Type::Number),
            length_lower: self.length_lower.filter(|_| is_collection),
            length_upper: self.length_upper.filter(|_| is_collection),
        }
    }

    /// True when Terraform promised the eventual value will not be null.
    pub fn definitely_not_null(&self) -> bool {
        self.nullness == Some(false)
    }
}

/// Longest string prefix refinement written (Terraform rejects refinement payloads over 1 KiB
/// and itself truncates prefixes to 256 bytes).
const MAX_PREFIX_BYTES: usize = 255;

fn truncate_prefix(p: &str) -> String {
    if p.len() <= MAX_PREFIX_BYTES {
        return p.to_string();
    }
    let mut end = MAX_PREFIX_BYTES;
    while !p.is_char_boundary(end) {
        end -= 1;
    }
    // drop one more character: a combining mark after the cut could change the last one
    let cut = &p[..end];
    match cut.char_indices().next_back() {
        Some((i, _)) => cut[..i].to_string(),
        None => String::new(),
    }
}

/// A dynamically typed Terraform value.
///
/// Values are interpreted against a [`Type`]; the codecs check that they agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TfValue {
    Null,
    /// Not yet known (during plan); optionally refined.
    Unknown(Option<Box<UnknownRefinements>>),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<TfValue>),
    /// Elements in the order they were received (Terraform does not require an order).
    Set(Vec<TfValue>),
    Map(BTreeMap<String, TfValue>),
    Object(BTreeMap<String, TfValue>),
    Tuple(Vec<TfValue>),
    /// A value at a position whose type constraint is "dynamic": carries its concrete type.
    /// A bare `Null`/`Unknown` at a dynamic position means "null/unknown of unknown type".
    Dynamic(Type, Box<TfValue>),
}

impl TfValue {
    /// A plain unknown value.
    pub fn unknown() -> TfValue {
        TfValue::Unknown(None)
    }

    /// An unknown value with refinements (a plain unknown if `r` is empty).
    pub fn unknown_refined(r: UnknownRefinements) -> TfValue {
        if r.is_empty() {
            TfValue::Unknown(None)
        } else {
            TfValue::Unknown(Some(Box::new(r)))
        }
    }

    pub fn string(s: impl Into<String>) -> TfValue {
        TfValue::String(s.into())
    }

    pub fn number(n: impl Into<Number>) -> TfValue {
        TfValue::Number(n.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, TfValue)>) -> TfValue {
        TfValue::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map value from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, TfValue)>) -> TfValue {
        TfValue::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Looks through `Dynamic` wrappers.
    pub fn inner(&self) -> &TfValue {
        let mut v = self;
        while let TfValue::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    pub fn is_null(&self) -> bool {
        matches!(self.inner(), TfValue::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.inner(), TfValue::Unknown(_))
    }

    /// Not unknown at the top level (nested values may still be unknown).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// No unknown value anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            TfValue::Unknown(_) => false,
            TfValue::Null | TfValue::Bool(_) | TfValue::Number(_) | TfValue::String(_) => true,
            TfValue::List(vs) | TfValue::Set(vs) | TfValue::Tuple(vs) => {
                vs.iter().all(TfValue::is_wholly_known)
            }
            TfValue::Map(m) | TfValue::Object(m) => m.values().all(TfValue::is_wholly_known),
            TfValue::Dynamic(_, v) => v.is_wholly_known(),
        }
    }

    /// The refinements of an unknown value.
    pub fn refinements(&self) -> Option<&UnknownRefinements> {
        match self.inner() {
            TfValue::Unknown(Some(r)) => Some(r),
            _ => None,
        }
    }

    /// An attribute of an object value (`None` if not an object or no such attribute).
    pub fn get_attr(&self, name: &str) -> Option<&TfValue> {
        match self.inner() {
            TfValue::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// Mutable access to an attribute of an object value.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut TfValue> {
        match self {
            TfValue::Object(m) => m.get_mut(name),
            TfValue::Dynamic(_, inner) => inner.get_attr_mut(name),
            _ => None,
        }
    }

    /// An element of a map value.
    pub fn get_key(&self, key: &str) -> Option<&TfValue> {
        match self.inner() {
            TfValue::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[TfValue]> {
        match self.inner() {
            TfValue::List(v) | TfValue::Set(v) | TfValue::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, TfValue>> {
        match self.inner() {
            TfValue::Map(m) | TfValue::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.inner() {
            TfValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.inner() {
            TfValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.inner() {
            TfValue::Number(n) => Some(n),
            _ => None,
        }
    }

    /// A best-effort concrete type for this value (used when a non-`Dynamic` value is encoded
    /// at a dynamic position). Null/unknown give `Dynamic`; lists/sets/maps need their
    /// non-null elements to agree on a type (an empty collection has no inferable type).
    pub fn infer_type(&self) -> Option<Type> {
        fn uniform<'a>(vs: impl Iterator<Item = &'a TfValue>) -> Option<Type> {
            let mut found: Option<Type> = None;
            for v in vs {
                let t = v.infer_type()?;
                if t == Type::Dynamic {
                    continue;
                }
                match &found {
                    None => found = Some(t),
                    Some(f) if *f == t => {}
                    Some(_) => return None,
                }
            }
            found
        }
        match self {
            TfValue::Null | TfValue::Unknown(_) => Some(Type::Dynamic),
            TfValue::Bool(_) => Some(Type::Bool),
            TfValue::Number(_) => Some(Type::Number),
            TfValue::String(_) => Some(Type::String),
            TfValue::Dynamic(t, _) => Some(t.clone()),
            TfValue::List(vs) => uniform(vs.iter()).map(Type::list),
            TfValue::Set(vs) => uniform(vs.iter()).map(Type::set),
            TfValue::Map(m) => uniform(m.values()).map(Type::map),
            TfValue::Tuple(vs) => vs
                .iter()
                .map(TfValue::infer_type)
                .collect::<Option<Vec<_>>>()
                .map(Type::Tuple),
            TfValue::Object(m) => m
                .iter()
                .map(|(k, v)| v.infer_type().map(|t| (k.clone(), t)))
                .collect::<Option<Vec<_>>>()
                .map(Type::object),
        }
    }

    /// A short description of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TfValue::Null => "null",
            TfValue::Unknown(_) => "unknown",
            TfValue::Bool(_) => "bool",
            TfValue::Number(_) => "number",
            TfValue::String(_) => "string",
            TfValue::List(_) => "list",
            TfValue::Set(_) => "set",
            TfValue::Map(_) => "map",
            TfValue::Object(_) => "object",
            TfValue::Tuple(_) => "tuple",
            TfValue::Dynamic(..) => "dynamic value",
        }
    }
}

impl From<bool> for TfValue {
    fn from(b: bool) -> TfValue {
        TfValue::Bool(b)
    }
}

impl From<&str> for TfValue {
    fn from(s: &str) -> TfValue {
        TfValue::String(s.to_string())
    }
}

impl From<String> for TfValue {
    fn from(s: String) -> TfValue {
        TfValue::String(s)
    }
}

impl From<Number> for TfValue {
    fn from(n: Number) -> TfValue {
        TfValue::Number(n)
    }
}

impl From<i64> for TfValue {
    fn from(n: i64) -> TfValue {
        TfValue::Number(n.into())
    }
}

impl<T: Into<TfValue>> From<Option<T>> for TfValue {
    /// `None` becomes null.
    fn from(v: Option<T>) -> TfValue {
        v.map_or(TfValue::Null, Into::into)
    }
}

/// Encoders refuse an object value with attributes its type does not have
/// (a provider bug that Terraform would otherwise reject less clearly).
pub(crate) fn reject_extra_attributes(
    fields: &BTreeMap<String, TfValue>,
    attrs: &BTreeMap<String, Type>,
    path: impl FnOnce() -> String,
    ty: &Type,
) -> Result<(), CodecError> {
    let extra: Vec<String> = fields
        .keys()
        .filter(|k| !attrs.contains_key(*k))
        .cloned()
        .collect();
    if extra.is_empty() {
        Ok(())
    } else {
        Err(CodecError::UnexpectedAttributes {
            path: path(),
            names: extra,
            ty: ty.to_string(),
        })
    }
}

/// The concrete type to record for a plain value placed at a `dynamic`
/// position (encoders wrap it as `TfValue::Dynamic`).
pub(crate) fn concrete_type_for_dynamic(
    v: &TfValue,
    path: impl FnOnce() -> String,
) -> Result<Type, CodecError> {
    match v.infer_type() {
        Some(concrete) if concrete != Type::Dynamic => Ok(concrete),
        _ => Err(CodecError::Mismatch {
            path: path(),
            expected: "a value of known type at a dynamic position (TfValue::Dynamic)".into(),
            found: format!("{} whose type cannot be inferred", v.kind_name()),
        }),
    }
}

/// Encoders refuse a tuple whose element count differs from its type's.
pub(crate) fn check_tuple_len(
    items: &[TfValue],
    elems: &[Type],
    path: impl FnOnce() -> String,
    ty: &Type,
) -> Result<(), CodecError> {
    if items.len() == elems.len() {
        Ok(())
    } else {
        Err(CodecError::Mismatch {
            path: path(),
            expected: format!("{ty} ({} elements)", elems.len()),
            found: format!("tuple of {} elements", items.len()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn number_canonical_text() {
        for (input, canon) in [
            ("0", "0"),
            ("-0", "0"),
            ("000", "0"),
            ("0.000", "0"),
            ("1", "1"),
            ("1.0", "1"),
            ("+1.50", "1.5"),
            ("-12.340", "-12.34"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1E-3", "0.001"),
            ("123.456e1", "1234.56"),
            ("0.1000000000000000000001", "0.1000000000000000000001"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("1e100", "1e+100"),
            ("-2.5e-100", "-2.5e-100"),
            (
                "1e64",
                "10000000000000000000000000000000000000000000000000000000000000000",
            ),
        ] {
            let v = n(input);
            assert_eq!(v.to_string(), canon, "{input}");
            assert_eq!(n(canon), v, "canonical text of {input} parses back");
        }
    }

    #[test]
    fn number_rejects_garbage() {
        for bad in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "abc",
            "1.2.3",
            "0x10",
            "NaN",
            "inf",
            "1 ",
            " 1",
            "1e99999999999999",
        ] {
            assert!(bad.parse::<Number>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn number_equality_and_order() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(Number::from(1i64), Number::from(1.0f64));
        assert_eq!(n("-0"), Number::zero());
        let mut v: Vec<Number> = ["10", "-1", "0.5", "-2.5", "0", "1e30", "0.05", "9.99"]
            .iter()
            .map(|s| n(s))
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(Number::to_string).collect();
        assert_eq!(
            s,
            [
                "-2.5",
                "-1",
                "0",
                "0.05",
                "0.5",
                "9.99",
                "10",
                "1000000000000000000000000000000"
            ]
        );
        assert!(n("1.01") > n("1.0099999"));
        assert!(n("-1.01") < n("-1.0099999"));
    }

    #[test]
    fn number_conversions() {
        assert_eq!(n("42").as_i64(), Some(42));
        assert_eq!(n("4.2e1").as_i64(), Some(42));
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("9223372036854775808").as_u64(), Some(1 << 63));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1e40").as_i64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("-2.5e-3").as_f64(), -0.0025);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
        assert_eq!(Number::from(0.1f64).to_string(), "0.1");
        assert_eq!(Number::from(1e21f64).to_string(), "1000000000000000000000");
        assert_eq!(Number::from(-1.5e-7f64).to_string(), "-0.00000015");
        assert_eq!(Number::from(i64::MIN).to_string(), "-9223372036854775808");
        assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
        assert_eq!(n("0.1").to_f64_exact(), Some(0.1));
        assert_eq!(n("0.1000000000000000000001").to_f64_exact(), None);
        assert_eq!(n("123456789012345678901234567890").to_f64_exact(), None);
        assert_eq!(n("1e20").to_f64_exact(), Some(1e20));
    }

    #[test]
    fn value_accessors() {
        let v = TfValue::object([
            ("name", TfValue::string("x")),
            ("count", TfValue::number(3)),
            ("on", TfValue::Bool(true)),
            ("later", TfValue::unknown()),
            ("nothing", TfValue::Null),
            (
                "dyn",
                TfValue::Dynamic(Type::String, Box::new(TfValue::string("d"))),
            ),
        ]);
        assert_eq!(v.get_attr("name").and_then(TfValue::as_str), Some("x"));
        assert_eq!(
            v.get_attr("count")
                .and_then(TfValue::as_number)
                .and_then(Number::as_i64),
            Some(3)
        );
        assert_eq!(v.get_attr("on").and_then(TfValue::as_bool), Some(true));
        assert_eq!(v.get_attr("dyn").and_then(TfValue::as_str), Some("d"));
        assert!(v.get_attr("later").unwrap().is_unknown());
        assert!(!v.get_attr("later").unwrap().is_known());
        assert!(v.get_attr("nothing").unwrap().is_null());
        assert!(v.get_attr("missing").is_none());
        assert!(v.is_known());
        assert!(!v.is_wholly_known());
        assert!(!v.is_null());
        let dyn_null = TfValue::Dynamic(Type::String, Box::new(TfValue::Null));
        assert!(dyn_null.is_null());
        let dyn_unknown = TfValue::Dynamic(Type::String, Box::new(TfValue::unknown()));
        assert!(dyn_unknown.is_unknown());
        assert!(!dyn_unknown.is_wholly_known());
        assert!(TfValue::List(vec![TfValue::Null, TfValue::from("a")]).is_wholly_known());
        assert_eq!(TfValue::from(None::<String>), TfValue::Null);
        assert_eq!(
            TfValue::unknown_refined(UnknownRefinements::default()),
            TfValue::unknown()
        );
    }

    #[test]
    fn infer_types() {
        let v = TfValue::object([
            ("a", TfValue::string("x")),
            ("b", TfValue::List(vec![TfValue::number(1), TfValue::Null])),
            ("c", TfValue::Null),
        ]);
        assert_eq!(
            v.infer_type(),
            Some(Type::object([
                ("a", Type::String),
                ("b", Type::list(Type::Number)),
                ("c", Type::Dynamic)
            ]))
        );
        assert_eq!(TfValue::List(vec![]).infer_type(), None);
        assert_eq!(
            TfValue::List(vec![TfValue::number(1), TfValue::string("x")]).infer_type(),
            None
        );
    }
}

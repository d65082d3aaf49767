//! Typed access to Terraform values: `Value<T>` is Known, Null or Unknown,
//! and resource models convert to and from `TfValue` objects through
//! `ObjectReader` / `ObjectBuilder` with errors that name the attribute.

use std::collections::BTreeMap;

use super::diag::{AttrPath, Diagnostic};
use super::value::{Number, TfValue};

/// A value as Terraform knows it during planning.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value<T> {
    Known(T),
    #[default]
    Null,
    Unknown,
}

impl<T> Value<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Value::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Value::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Value<U> {
        match self {
            Value::Known(v) => Value::Known(f(v)),
            Value::Null => Value::Null,
            Value::Unknown => Value::Unknown,
        }
    }
}

impl<T: Clone> Value<T> {
    /// The known value, or `default` when null (unknown also gives `default`;
    /// callers at apply time never see unknowns).
    pub fn or(&self, default: T) -> T {
        self.known().cloned().unwrap_or(default)
    }
}

impl<T> From<Option<T>> for Value<T> {
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => Value::Known(v),
            None => Value::Null,
        }
    }
}

/// Conversion of a known, non-null Terraform value into a Rust type.
pub trait FromTf: Sized {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic>;
}

/// Conversion of a Rust value into a Terraform value.
pub trait IntoTf {
    fn into_tf(self) -> TfValue;
}

fn wrong_type(path: &AttrPath, expected: &str, found: &TfValue) -> Diagnostic {
    Diagnostic::error(
        "Unexpected value type",
        format!("Expected {expected} at {path}, found {found:?}. This is a bug in the provider."),
    )
    .at(path.clone())
}

impl FromTf for String {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| wrong_type(path, "a string", value))
    }
}

impl FromTf for bool {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        value
            .as_bool()
            .ok_or_else(|| wrong_type(path, "a bool", value))
    }
}

impl FromTf for i64 {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        value
            .as_number()
            .and_then(Number::as_i64)
            .ok_or_else(|| wrong_type(path, "a whole number", value))
    }
}

impl<T: FromTf> FromTf for Vec<T> {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            TfValue::List(items) | TfValue::Set(items) | TfValue::Tuple(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| T::from_tf(v, &path.then_index(i as i64)))
                .collect(),
            other => Err(wrong_type(path, "a list", other)),
        }
    }
}

impl<T: FromTf> FromTf for BTreeMap<String, T> {
    fn from_tf(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            TfValue::Map(items) | TfValue::Object(items) => items
                .iter()
                .map(|(k, v)| Ok((k.clone(), T::from_tf(v, &path.then_key(k.clone()))?)))
                .collect(),
            other => Err(wrong_type(path, "a map", other)),
        }
    }
}

impl IntoTf for String {
    fn into_tf(self) -> TfValue {
        TfValue::String(self)
    }
}

impl IntoTf for &str {
    fn into_tf(self) -> TfValue {
        TfValue::String(self.to_string())
    }
}

impl IntoTf for bool {
    fn into_tf(self) -> TfValue {
        TfValue::Bool(self)
    }
}

impl IntoTf for i64 {
    fn into_tf(self) -> TfValue {
        TfValue::Number(Number::from(self))
    }
}

impl<T: IntoTf> IntoTf for Value<T> {
    fn into_tf(self) -> TfValue {
        match self {
            Value::Known(v) => v.into_tf(),
            Value::Null => TfValue::Null,
            Value::Unknown => TfValue::unknown(),
        }
    }
}

impl<T: IntoTf> IntoTf for Option<T> {
    fn into_tf(self) -> TfValue {
        match self {
            Some(v) => v.into_tf(),
            None => TfValue::Null,
        }
    }
}

impl<T: IntoTf> IntoTf for BTreeMap<String, T> {
    fn into_tf(self) -> TfValue {
        TfValue::Map(self.into_iter().map(|(k, v)| (k, v.into_tf())).collect())
    }
}

/// Reads typed attributes out of an object value (a resource's config,
/// plan or state).
pub struct ObjectReader<'a> {
    value: &'a TfValue,
    path: AttrPath,
}

impl<'a> ObjectReader<'a> {
    pub fn new(value: &'a TfValue) -> Self {
        ObjectReader {
            value,
            path: AttrPath::root(),
        }
    }

    pub fn raw(&self, name: &str) -> &'a TfValue {
        static NULL: TfValue = TfValue::Null;
        self.value.get_attr(name).unwrap_or(&NULL)
    }

    pub fn get<T: FromTf>(&self, name: &str) -> Result<Value<T>, Diagnostic> {
        let raw = self.raw(name);
        if raw.is_null() {
            Ok(Value::Null)
        } else if raw.is_unknown() {
            Ok(Value::Unknown)
        } else {
            T::from_tf(raw, &self.path.then_attr(name)).map(Value::Known)
        }
    }

    /// A value that must be known and set (e.g. an `id` read from state).
    pub fn require<T: FromTf>(&self, name: &str) -> Result<T, Diagnostic> {
        self.get(name)?.into_known().ok_or_else(|| {
            Diagnostic::error(
                "Missing value",
                format!("{name} has no known value here. This is a bug in the provider."),
            )
            .at(self.path.then_attr(name))
        })
    }
}

/// Builds an object value attribute by attribute.
#[derive(Default)]
pub struct ObjectBuilder(BTreeMap<String, TfValue>);

impl ObjectBuilder {
    pub fn new() -> Self {
        ObjectBuilder(BTreeMap::new())
    }

    pub fn set(mut self, name: &str, value: impl IntoTf) -> Self {
        self.0.insert(name.to_string(), value.into_tf());
        self
    }

    pub fn set_raw(mut self, name: &str, value: TfValue) -> Self {
        self.0.insert(name.to_string(), value);
        self
    }

    pub fn build(self) -> TfValue {
        TfValue::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_distinguishes_known_null_unknown() {
        let v = ObjectBuilder::new()
            .set("a", "x")
            .set_raw("b", TfValue::Null)
            .set_raw("c", TfValue::unknown())
            .set("n", 2i64)
            .build();
        let r = ObjectReader::new(&v);
        assert_eq!(r.get::<String>("a").unwrap(), Value::Known("x".to_string()));
        assert_eq!(r.get::<String>("b").unwrap(), Value::Null);
        assert_eq!(r.get::<String>("c").unwrap(), Value::Unknown);
        assert_eq!(r.get::<String>("missing").unwrap(), Value::Null);
        assert_eq!(r.require::<i64>("n").unwrap(), 2);
        let err = r.get::<bool>("a").unwrap_err();
        assert_eq!(err.attribute, Some(AttrPath::attr("a")));
        assert!(r.require::<String>("b").is_err());
    }

    #[test]
    fn typed_values_round_trip() {
        let tags: BTreeMap<String, String> = [("k".to_string(), "v".to_string())].into();
        let v = tags.clone().into_tf();
        assert_eq!(
            BTreeMap::<String, String>::from_tf(&v, &AttrPath::root()).unwrap(),
            tags
        );
        assert_eq!(Value::<bool>::Unknown.into_tf(), TfValue::unknown());
        assert_eq!(Value::Known(3i64).map(|n| n + 1), Value::Known(4));
    }
}

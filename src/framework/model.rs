//! Typed resource models: a resource declares its attributes once, as a
//! Rust struct, with [`tf_model!`](crate::tf_model). The macro derives the
//! schema's attributes (names are the field names, types come from the
//! field types, the doc comment is the description) and the conversions to
//! and from Terraform values, so an attribute name cannot be misspelt in one
//! place and right in another: the compiler checks every use.
//!
//! ```text
//! tf_model! {
//!     pub struct RedirectUriModel {
//!         /// `<application object id>/<platform>/<uri>`.
//!         id: Option<String> [computed, use_state_for_unknown],
//!         /// The application's object id.
//!         application_id: String [required, requires_replace, validate(guid())],
//!     }
//! }
//! ```
//!
//! Field types: `String`, `bool`, `i64`, `Vec<String>` (list), `BTreeMap<String, String>`
//! (map), [`Sensitive`], and `Option<T>` of those for attributes that may be null (optional
//! or computed). At apply time an unknown value (a computed attribute not yet set) reads as
//! `None`.

use std::collections::BTreeMap;

use super::diag::{AttrPath, Diagnostic};
use super::schema::Attribute;
use super::typed::{FromTf, IntoTf};
use super::types::Type;
use super::value::TfValue;
use crate::secret::Secret;

/// A Rust type that holds one attribute's value.
pub trait Field: Sized + Default {
    /// The attribute's Terraform type.
    fn tf_type() -> Type;
    /// From a (known) state, plan or config value; null and unknown are
    /// only acceptable for `Option` fields.
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic>;
    fn to_field(&self) -> TfValue;
}

fn missing(path: &AttrPath) -> Diagnostic {
    Diagnostic::error(
        "Missing value",
        format!("{path} has no known value here. This is a bug in the provider."),
    )
    .at(path.clone())
}

fn present<'v>(value: &'v TfValue, path: &AttrPath) -> Result<&'v TfValue, Diagnostic> {
    if value.is_null() || value.is_unknown() {
        Err(missing(path))
    } else {
        Ok(value)
    }
}

macro_rules! scalar_field {
    ($t:ty, $tf:expr) => {
        impl Field for $t {
            fn tf_type() -> Type {
                $tf
            }
            fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
                <$t as FromTf>::from_tf(present(value, path)?, path)
            }
            fn to_field(&self) -> TfValue {
                self.clone().into_tf()
            }
        }
    };
}

scalar_field!(String, Type::String);
scalar_field!(bool, Type::Bool);
scalar_field!(i64, Type::Number);
scalar_field!(BTreeMap<String, String>, Type::Map(Box::new(Type::String)));

impl Field for Vec<String> {
    fn tf_type() -> Type {
        Type::List(Box::new(Type::String))
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        <Vec<String> as FromTf>::from_tf(present(value, path)?, path)
    }
    fn to_field(&self) -> TfValue {
        TfValue::List(self.iter().map(|s| TfValue::String(s.clone())).collect())
    }
}

/// A string attribute marked sensitive in the schema, held as a [`Secret`]
/// so it never prints.
pub type Sensitive = Secret;

impl Field for Secret {
    fn tf_type() -> Type {
        Type::String
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        String::from_field(value, path).map(Secret::new)
    }
    fn to_field(&self) -> TfValue {
        TfValue::String(self.expose().to_string())
    }
}

impl<T: Field> Field for Option<T> {
    fn tf_type() -> Type {
        T::tf_type()
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        if value.is_null() || value.is_unknown() {
            Ok(None)
        } else {
            T::from_field(value, path).map(Some)
        }
    }
    fn to_field(&self) -> TfValue {
        match self {
            Some(v) => v.to_field(),
            None => TfValue::Null,
        }
    }
}

/// What [`tf_model!`](crate::tf_model) implements for a model struct.
pub trait Model: Sized + Send + Sync + 'static {
    /// The attribute names, in declaration order.
    fn attribute_names() -> Vec<&'static str>;
    /// The schema attributes, built from the field declarations.
    fn attributes() -> Vec<Attribute>;
    /// From an object value (state, plan, or config).
    fn from_value(value: &TfValue) -> Result<Self, Diagnostic>;
    /// From a stored state, which may be partial: right after an import it
    /// holds little more than the id, and `read` fills in the rest. Null
    /// reads as the field type's default.
    fn from_state(value: &TfValue) -> Result<Self, Diagnostic>;
    /// To an object value holding exactly the model's attributes.
    fn to_value(&self) -> TfValue;
}

/// Turns doc-comment lines into a description: lines are joined with a
/// space, an empty line starts a new paragraph.
pub fn doc_text(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut paragraph_break = false;
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            paragraph_break = !out.is_empty();
            continue;
        }
        if paragraph_break {
            out.push_str("\n\n");
            paragraph_break = false;
        } else if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// The attribute name of a field: a keyword such as `type` is written
/// `r#type` in Rust and named `type` in Terraform.
pub fn tf_name(field: &'static str) -> &'static str {
    field.strip_prefix("r#").unwrap_or(field)
}

/// Reads one field out of an object value.
pub fn read_field<T: Field>(object: &TfValue, name: &str) -> Result<T, Diagnostic> {
    static NULL: TfValue = TfValue::Null;
    T::from_field(
        object.get_attr(name).unwrap_or(&NULL),
        &AttrPath::attr(name),
    )
}

/// Reads one field out of a stored state; null is the type's default.
pub fn read_state_field<T: Field>(object: &TfValue, name: &str) -> Result<T, Diagnostic> {
    match object.get_attr(name) {
        None | Some(TfValue::Null) => Ok(T::default()),
        Some(v) => T::from_field(v, &AttrPath::attr(name)),
    }
}

/// Declares a resource or data source model; see the [module docs](self).
#[macro_export]
macro_rules! tf_model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty $([ $($opt:ident $(( $($arg:expr),* ))?),* $(,)? ])?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $crate::framework::model::Model for $name {
            fn attribute_names() -> Vec<&'static str> {
                vec![$($crate::framework::model::tf_name(stringify!($field))),*]
            }

            fn attributes() -> Vec<$crate::framework::schema::Attribute> {
                vec![$(
                    $crate::framework::schema::Attribute::new(
                        $crate::framework::model::tf_name(stringify!($field)),
                        <$ty as $crate::framework::model::Field>::tf_type(),
                    )
                    .describe($crate::framework::model::doc_text(&[$($doc),*]))
                    $($( .$opt($($($arg),*)?) )*)?
                ),*]
            }

            fn from_value(
                value: &$crate::framework::value::TfValue,
            ) -> Result<Self, $crate::framework::diag::Diagnostic> {
                Ok($name {
                    $( $field: $crate::framework::model::read_field(value, $crate::framework::model::tf_name(stringify!($field)))?, )*
                })
            }

            fn from_state(
                value: &$crate::framework::value::TfValue,
            ) -> Result<Self, $crate::framework::diag::Diagnostic> {
                Ok($name {
                    $( $field: $crate::framework::model::read_state_field(value, $crate::framework::model::tf_name(stringify!($field)))?, )*
                })
            }

            fn to_value(&self) -> $crate::framework::value::TfValue {
                let mut attrs = std::collections::BTreeMap::new();
                $(
                    attrs.insert(
                        $crate::framework::model::tf_name(stringify!($field)).to_string(),
                        $crate::framework::model::Field::to_field(&self.$field),
                    );
                )*
                $crate::framework::value::TfValue::Object(attrs)
            }
        }
    };
}

/// The name of a model's attribute, checked at compile time:
/// `attr!(ApplicationModel, display_name)` is `"display_name"`, and a
/// misspelt field does not compile.
#[macro_export]
macro_rules! attr {
    ($model:ty, $field:ident) => {{
        let _exists = |m: &$model| {
            let _ = &m.$field;
        };
        $crate::framework::model::tf_name(stringify!($field))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::validators::not_blank;

    crate::tf_model! {
        /// A model for the tests.
        struct Thing {
            /// The id.
            id: Option<String> [computed, use_state_for_unknown],
            /// The name,
            /// on two lines.
            ///
            /// Second paragraph.
            name: String [required, validate(not_blank())],
            /// A flag.
            enabled: bool [default(TfValue::Bool(true))],
            count: Option<i64> [optional],
            tags: Option<BTreeMap<String, String>> [optional],
            uris: Vec<String> [required],
            token: Option<Sensitive> [computed, sensitive],
            /// A keyword as a name.
            r#type: Option<String> [optional],
        }
    }

    #[test]
    fn schema_comes_from_the_fields() {
        let attrs = Thing::attributes();
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, Thing::attribute_names());
        assert_eq!(
            names,
            [
                "id", "name", "enabled", "count", "tags", "uris", "token", "type"
            ]
        );
        assert_eq!(attr!(Thing, r#type), "type");
        let name = &attrs[1];
        assert!(name.required && name.validators.len() == 1);
        assert_eq!(
            name.description,
            "The name, on two lines.\n\nSecond paragraph."
        );
        assert!(attrs[0].computed && attrs[0].use_state_for_unknown);
        assert_eq!(attrs[2].default, Some(TfValue::Bool(true)));
        assert_eq!(attrs[3].ty, Type::Number);
        assert_eq!(attrs[4].ty, Type::Map(Box::new(Type::String)));
        assert_eq!(attrs[5].ty, Type::List(Box::new(Type::String)));
        assert!(attrs[6].sensitive);
        assert_eq!(attr!(Thing, enabled), "enabled");
    }

    #[test]
    fn values_round_trip_and_unknown_reads_as_none() {
        let thing = Thing {
            id: Some("1".into()),
            name: "n".into(),
            enabled: false,
            count: None,
            tags: Some([("k".to_string(), "v".to_string())].into()),
            uris: vec!["a".into()],
            token: Some(Secret::new("t")),
            r#type: Some("User".into()),
        };
        let value = thing.to_value();
        assert_eq!(Thing::from_value(&value).unwrap(), thing);

        let TfValue::Object(mut attrs) = value else {
            unreachable!()
        };
        attrs.insert("id".into(), TfValue::unknown());
        let planned = Thing::from_value(&TfValue::Object(attrs.clone())).unwrap();
        assert_eq!(planned.id, None);

        let imported = Thing::from_state(&TfValue::object([("id", TfValue::string("9"))])).unwrap();
        assert_eq!(imported.id.as_deref(), Some("9"));
        assert_eq!(imported.name, "");

        attrs.insert("name".into(), TfValue::Null);
        let err = Thing::from_value(&TfValue::Object(attrs)).unwrap_err();
        assert_eq!(err.attribute, Some(AttrPath::attr("name")));
    }

    #[test]
    fn doc_text_joins_lines_and_keeps_paragraphs() {
        assert_eq!(doc_text(&[" a", " b", "", " c"]), "a b\n\nc");
        assert_eq!(doc_text(&[]), "");
    }
}

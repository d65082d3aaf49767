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
//!
//! Rules across attributes follow the struct, in a `rules { … }` clause, one per line:
//! `ExactlyOneOf(principal_id, external_id);` or `RequiredTogether(a, b) because "…";` (the
//! kinds of [`RuleKind`](super::validators::RuleKind)); the framework checks them wherever
//! the block is, and waits while a value they involve is unknown.
//!
//! Nested blocks are fields too: [`Blocks<M>`] for a block written any number of times
//! (`attribute_mapping { … }`) and [`OptionalBlock<M>`] for one written at most once
//! (`kiro_scim_token { … }`), where `M` is another `tf_model!` struct. A block field's doc
//! comment describes the block; block fields take no options (a nested model's own fields
//! carry their validators).

use std::collections::BTreeMap;

use super::diag::{AttrPath, Diagnostic, PathStep};
use super::schema::{Attribute, Block, NestedBlock, Nesting};
use super::typed::{FromTf, IntoTf};
use super::types::Type;
use super::validators::ConfigRule;
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
    /// For a nested-block field: the schema block named `name`. Attributes answer `None`.
    fn nested_block(_name: &str, _description: String) -> Option<NestedBlock> {
        None
    }
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

/// A nested block written any number of times, in order (`Nesting::List`); none is an
/// empty list.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocks<M>(pub Vec<M>);

/// A nested block written at most once (`Nesting::Single`); `None` when left out.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionalBlock<M>(pub Option<M>);

impl<M> Default for Blocks<M> {
    fn default() -> Self {
        Blocks(Vec::new())
    }
}

impl<M> Default for OptionalBlock<M> {
    fn default() -> Self {
        OptionalBlock(None)
    }
}

impl<M> std::ops::Deref for Blocks<M> {
    type Target = Vec<M>;
    fn deref(&self) -> &Vec<M> {
        &self.0
    }
}

impl<M> std::ops::Deref for OptionalBlock<M> {
    type Target = Option<M>;
    fn deref(&self) -> &Option<M> {
        &self.0
    }
}

/// `diagnostic`, which a nested model reported relative to itself, placed under `prefix`.
fn nested(mut diagnostic: Diagnostic, prefix: &AttrPath) -> Diagnostic {
    let inner: Vec<PathStep> = diagnostic.attribute.take().map(|p| p.0).unwrap_or_default();
    let mut path = prefix.clone();
    path.0.extend(inner);
    diagnostic.at(path)
}

impl<M: Model + Clone + std::fmt::Debug + PartialEq> Field for Blocks<M> {
    fn tf_type() -> Type {
        Type::List(Box::new(M::block(String::new()).value_type()))
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            TfValue::Null => Ok(Blocks(Vec::new())),
            TfValue::List(items) | TfValue::Set(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    M::from_value(item).map_err(|d| nested(d, &path.then_index(i as i64)))
                })
                .collect::<Result<Vec<M>, Diagnostic>>()
                .map(Blocks),
            _ => Err(missing(path)),
        }
    }
    fn to_field(&self) -> TfValue {
        TfValue::List(self.0.iter().map(Model::to_value).collect())
    }
    fn nested_block(name: &str, description: String) -> Option<NestedBlock> {
        Some(NestedBlock::new(name, Nesting::List, M::block(description)))
    }
}

impl<M: Model + Clone + std::fmt::Debug + PartialEq> Field for OptionalBlock<M> {
    fn tf_type() -> Type {
        M::block(String::new()).value_type()
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        if value.is_null() {
            return Ok(OptionalBlock(None));
        }
        M::from_value(value)
            .map(|m| OptionalBlock(Some(m)))
            .map_err(|d| nested(d, path))
    }
    fn to_field(&self) -> TfValue {
        self.0
            .as_ref()
            .map(Model::to_value)
            .unwrap_or(TfValue::Null)
    }
    fn nested_block(name: &str, description: String) -> Option<NestedBlock> {
        // Terraform wants min = max items for a single block; 0/0 means "optional".
        Some(NestedBlock::new(
            name,
            Nesting::Single,
            M::block(description),
        ))
    }
}

/// An attribute (not a block) holding a list of objects with `M`'s attributes: what a data
/// source computes as a list of records (a block cannot be computed-only).
#[derive(Clone, Debug, PartialEq)]
pub struct Objects<M>(pub Vec<M>);

impl<M> Default for Objects<M> {
    fn default() -> Self {
        Objects(Vec::new())
    }
}

impl<M> std::ops::Deref for Objects<M> {
    type Target = Vec<M>;
    fn deref(&self) -> &Vec<M> {
        &self.0
    }
}

impl<M: Model + Clone + std::fmt::Debug + PartialEq> Field for Objects<M> {
    fn tf_type() -> Type {
        Type::List(Box::new(M::block(String::new()).value_type()))
    }
    fn from_field(value: &TfValue, path: &AttrPath) -> Result<Self, Diagnostic> {
        Blocks::<M>::from_field(value, path).map(|b| Objects(b.0))
    }
    fn to_field(&self) -> TfValue {
        TfValue::List(self.0.iter().map(Model::to_value).collect())
    }
}

/// What [`tf_model!`](crate::tf_model) implements for a model struct.
pub trait Model: Sized + Send + Sync + 'static {
    /// The attribute names, in declaration order.
    fn attribute_names() -> Vec<&'static str>;
    /// The schema attributes, built from the field declarations (block fields excluded).
    fn attributes() -> Vec<Attribute>;
    /// The nested blocks, from the [`Blocks`] and [`OptionalBlock`] fields.
    fn blocks() -> Vec<NestedBlock>;
    /// The rules across the model's attributes (`rules { … }` in `tf_model!`).
    fn rules() -> Vec<ConfigRule> {
        Vec::new()
    }
    /// The model as a schema block with this description.
    fn block(description: String) -> Block {
        let mut block = Block::new(description);
        block.attributes = Self::attributes();
        block.blocks = Self::blocks();
        block.rules = Self::rules();
        block
    }
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
        $(
            rules {
                $( $rule:ident ( $($rule_field:ident),+ ) $(because $why:literal)? ; )*
            }
        )?
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
                let mut attributes = Vec::new();
                $(
                    if <$ty as $crate::framework::model::Field>::nested_block("", String::new()).is_none() {
                        attributes.push(
                            $crate::framework::schema::Attribute::new(
                                $crate::framework::model::tf_name(stringify!($field)),
                                <$ty as $crate::framework::model::Field>::tf_type(),
                            )
                            .describe($crate::framework::model::doc_text(&[$($doc),*]))
                            $($( .$opt($($($arg),*)?) )*)?
                        );
                    }
                )*
                attributes
            }

            fn blocks() -> Vec<$crate::framework::schema::NestedBlock> {
                let mut blocks = Vec::new();
                $(
                    if let Some(block) = <$ty as $crate::framework::model::Field>::nested_block(
                        $crate::framework::model::tf_name(stringify!($field)),
                        $crate::framework::model::doc_text(&[$($doc),*]),
                    ) {
                        blocks.push(block);
                    }
                )*
                blocks
            }

            $(
                fn rules() -> Vec<$crate::framework::validators::ConfigRule> {
                    vec![$(
                        $crate::framework::validators::ConfigRule::new(
                            $crate::framework::validators::RuleKind::$rule,
                            vec![$($crate::attr!($name, $rule_field)),+],
                        )
                        $(.because($why))?
                    ),*]
                }
            )?

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

    crate::tf_model! {
        /// A nested block's model.
        struct Mapping {
            /// Target.
            target: String [required, validate(not_blank())],
            /// Source.
            source: Option<String> [optional],
        }
    }

    crate::tf_model! {
        struct WithBlocks {
            id: Option<String> [computed],
            /// Mappings, any number.
            mapping: Blocks<Mapping>,
            /// At most one.
            token: OptionalBlock<Mapping>,
        }
    }

    #[test]
    fn block_fields_become_nested_blocks_not_attributes() {
        let attrs = WithBlocks::attributes();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].name, "id");
        let blocks = WithBlocks::blocks();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].type_name, "mapping");
        assert_eq!(blocks[0].nesting, Nesting::List);
        assert_eq!(blocks[0].block.description, "Mappings, any number.");
        assert_eq!(blocks[0].block.attributes.len(), 2);
        assert!(blocks[0].block.attributes[0].required);
        assert_eq!(blocks[0].block.attributes[0].validators.len(), 1);
        assert_eq!(blocks[1].nesting, Nesting::Single);
        assert_eq!((blocks[1].min_items, blocks[1].max_items), (0, 0));
        let Type::Object { attrs, .. } = WithBlocks::block(String::new()).value_type() else {
            unreachable!()
        };
        assert!(matches!(attrs["mapping"], Type::List(_)));
        assert!(matches!(attrs["token"], Type::Object { .. }));
    }

    crate::tf_model! {
        struct WithObjects {
            /// Computed records.
            records: Option<Objects<Mapping>> [computed],
        }
    }

    #[test]
    fn object_lists_are_computed_attributes_that_round_trip() {
        assert!(WithObjects::blocks().is_empty());
        let attrs = WithObjects::attributes();
        assert_eq!(attrs[0].name, "records");
        assert!(attrs[0].computed);
        let Type::List(inner) = &attrs[0].ty else {
            panic!("{:?}", attrs[0].ty)
        };
        assert!(matches!(**inner, Type::Object { .. }));
        let model = WithObjects {
            records: Some(Objects(vec![Mapping {
                target: "externalId".into(),
                source: Some("objectId".into()),
            }])),
        };
        assert_eq!(WithObjects::from_value(&model.to_value()).unwrap(), model);
    }

    #[test]
    fn blocks_round_trip_and_errors_point_inside_them() {
        let m = |t: &str| Mapping {
            target: t.into(),
            source: None,
        };
        let value = WithBlocks {
            id: None,
            mapping: Blocks(vec![m("a"), m("b")]),
            token: OptionalBlock(Some(m("c"))),
        }
        .to_value();
        let back = WithBlocks::from_value(&value).unwrap();
        assert_eq!(back.mapping.len(), 2);
        assert_eq!(back.token.as_ref().unwrap().target, "c");

        let none = WithBlocks::default().to_value();
        assert_eq!(none.get_attr("mapping"), Some(&TfValue::List(vec![])));
        assert_eq!(none.get_attr("token"), Some(&TfValue::Null));
        let back = WithBlocks::from_value(&none).unwrap();
        assert!(back.mapping.is_empty() && back.token.is_none());

        let TfValue::Object(mut attrs) = value else {
            unreachable!()
        };
        let bad = TfValue::object([("target", TfValue::Null), ("source", TfValue::Null)]);
        attrs.insert(
            "mapping".into(),
            TfValue::List(vec![m("a").to_value(), bad]),
        );
        let err = WithBlocks::from_value(&TfValue::Object(attrs)).unwrap_err();
        assert_eq!(
            err.attribute,
            Some(AttrPath::attr("mapping").then_index(1).then_attr("target"))
        );
    }

    #[test]
    fn doc_text_joins_lines_and_keeps_paragraphs() {
        assert_eq!(doc_text(&[" a", " b", "", " c"]), "a b\n\nc");
        assert_eq!(doc_text(&[]), "");
    }
}

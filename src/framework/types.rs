//! Terraform type constraints (cty types) and the codec error type.
//!
//! A [`Type`] is what a schema attribute's `type` bytes carry on the wire: compact JSON such as
//! `"string"`, `["list","string"]` or `["object",{"a":"number"},["a"]]` (the third element lists
//! optional attributes).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

/// A Terraform type constraint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    String,
    Number,
    Bool,
    /// `"dynamic"` (HCL `any`): the concrete type travels with the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// An object type; `optional` names attributes that may be omitted in configuration
    /// (only meaningful for type constraints; every attribute is always present on the wire).
    Object {
        attrs: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

impl Type {
    /// An object type without optional attributes.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// An object type with the given optional attributes (they must be among `attrs`).
    pub fn object_with_optional<K: Into<String>, O: Into<String>>(
        attrs: impl IntoIterator<Item = (K, Type)>,
        optional: impl IntoIterator<Item = O>,
    ) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: optional.into_iter().map(Into::into).collect(),
        }
    }

    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }

    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }

    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }

    /// True for string, number and bool.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The attribute types of an object type.
    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object { attrs, .. } => Some(attrs),
            _ => None,
        }
    }

    /// True when `dynamic` appears anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object { attrs, .. } => attrs.values().any(Type::has_dynamic),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
        }
    }

    /// The compact JSON wire form of this type.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec![Json::from("list"), t.to_json()]),
            Type::Set(t) => Json::Array(vec![Json::from("set"), t.to_json()]),
            Type::Map(t) => Json::Array(vec![Json::from("map"), t.to_json()]),
            Type::Object { attrs, optional } => {
                let obj: serde_json::Map<String, Json> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut parts = vec![Json::from("object"), Json::Object(obj)];
                if !optional.is_empty() {
                    parts.push(Json::Array(
                        optional.iter().map(|k| Json::from(k.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
            Type::Tuple(ts) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(ts.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The compact JSON wire form as bytes (what `Schema.Attribute.type` carries).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing a `serde_json::Value` cannot fail.
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// Parses the compact JSON wire form.
    pub fn from_json(v: &Json) -> Result<Type, CodecError> {
        fn bad(msg: impl Into<String>) -> CodecError {
            CodecError::InvalidType {
                message: msg.into(),
            }
        }
        match v {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(bad(format!("unknown primitive type {other:?}"))),
            },
            Json::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("a complex type must be an array starting with its kind"))?;
                let arg = parts
                    .get(1)
                    .ok_or_else(|| bad(format!("{kind:?} type needs a second element")))?;
                let max_len = if kind == "object" { 3 } else { 2 };
                if parts.len() > max_len {
                    return Err(bad(format!(
                        "{kind:?} type has {} elements, at most {max_len} allowed",
                        parts.len()
                    )));
                }
                match kind {
                    "list" => Ok(Type::List(Box::new(Type::from_json(arg)?))),
                    "set" => Ok(Type::Set(Box::new(Type::from_json(arg)?))),
                    "map" => Ok(Type::Map(Box::new(Type::from_json(arg)?))),
                    "tuple" => {
                        let elems = arg
                            .as_array()
                            .ok_or_else(|| bad("tuple element types must be a JSON array"))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    "object" => {
                        let obj = arg
                            .as_object()
                            .ok_or_else(|| bad("object attribute types must be a JSON object"))?;
                        let mut attrs = BTreeMap::new();
                        for (k, t) in obj {
                            attrs.insert(k.clone(), Type::from_json(t)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = parts.get(2) {
                            let names = opt.as_array().ok_or_else(|| {
                                bad("object optional attributes must be a JSON array of names")
                            })?;
                            for n in names {
                                let n = n.as_str().ok_or_else(|| {
                                    bad("object optional attribute names must be strings")
                                })?;
                                if !attrs.contains_key(n) {
                                    return Err(bad(format!(
                                        "optional attribute {n:?} is not an attribute of the object"
                                    )));
                                }
                                optional.insert(n.to_string());
                            }
                        }
                        Ok(Type::Object { attrs, optional })
                    }
                    other => Err(bad(format!("unknown complex type kind {other:?}"))),
                }
            }
            other => Err(bad(format!("unexpected JSON {other} as a type"))),
        }
    }

    /// Parses the compact JSON wire form from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, CodecError> {
        let v: Json = serde_json::from_slice(bytes).map_err(|e| CodecError::InvalidType {
            message: format!("not valid JSON: {e}"),
        })?;
        Type::from_json(&v)
    }
}

/// HCL type-expression syntax, e.g. `list(object({id=string, name=optional(string)}))`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object { attrs, optional } => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if optional.contains(k) {
                        write!(f, "{k}=optional({t})")?;
                    } else {
                        write!(f, "{k}={t}")?;
                    }
                }
                f.write_str("})")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

/// Errors of the msgpack and JSON value codecs and of type parsing.
///
/// `path` fields are attribute paths like `.api.scopes[2].value` or `.tags["env"]`
/// (empty = the root value, displayed as `(root)`).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The data (or the in-memory value, when encoding) has the wrong shape for the type.
    #[error("at {}: expected {expected}, found {found}", at(path))]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    /// An object carries attributes its type does not have.
    #[error(
        "at {}: unsupported attribute(s) {} for {ty}",
        at(path),
        quote_list(names)
    )]
    UnexpectedAttributes {
        path: String,
        names: Vec<String>,
        ty: String,
    },
    /// A string (or map key / attribute name) is not valid UTF-8.
    #[error("at {}: string is not valid UTF-8", at(path))]
    InvalidUtf8 { path: String },
    /// The input ended in the middle of a value.
    #[error("at {}: unexpected end of input", at(path))]
    Truncated { path: String },
    /// An unknown value where none can be represented (JSON).
    #[error(
        "at {}: value is unknown; unknown values cannot be encoded as JSON",
        at(path)
    )]
    Unknown { path: String },
    /// Anything else that is wrong with the data at `path`.
    #[error("at {}: {message}", at(path))]
    Invalid { path: String, message: String },
    /// Bytes left over after a complete value.
    #[error("{count} unexpected trailing byte(s) after the value")]
    TrailingData { count: usize },
    /// A type constraint could not be parsed.
    #[error("invalid type constraint: {message}")]
    InvalidType { message: String },
}

impl CodecError {
    /// The attribute path the error refers to (`""` = root), if it refers to one.
    pub fn path(&self) -> Option<&str> {
        match self {
            CodecError::Mismatch { path, .. }
            | CodecError::UnexpectedAttributes { path, .. }
            | CodecError::InvalidUtf8 { path }
            | CodecError::Truncated { path }
            | CodecError::Unknown { path }
            | CodecError::Invalid { path, .. } => Some(path),
            CodecError::TrailingData { .. } | CodecError::InvalidType { .. } => None,
        }
    }
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One step of an attribute path, used by the codecs to say where an error is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathStep {
    Attr(String),
    Index(usize),
    Key(String),
}

/// Renders a path like `.api.scopes[2].value` or `.tags["env"]`.
pub(crate) fn render_path(steps: &[PathStep]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for step in steps {
        match step {
            PathStep::Attr(a) => {
                s.push('.');
                s.push_str(a);
            }
            PathStep::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
            PathStep::Key(k) => {
                let _ = write!(s, "[{k:?}]");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rt(t: &Type) {
        let j = t.to_json();
        assert_eq!(&Type::from_json(&j).unwrap(), t, "via value {j}");
        let b = t.to_json_bytes();
        assert_eq!(&Type::from_json_bytes(&b).unwrap(), t);
    }

    #[test]
    fn primitives_wire_form() {
        assert_eq!(Type::String.to_json(), json!("string"));
        assert_eq!(Type::Number.to_json(), json!("number"));
        assert_eq!(Type::Bool.to_json(), json!("bool"));
        assert_eq!(Type::Dynamic.to_json(), json!("dynamic"));
        assert_eq!(Type::String.to_json_bytes(), b"\"string\"");
        for t in [Type::String, Type::Number, Type::Bool, Type::Dynamic] {
            rt(&t);
        }
    }

    #[test]
    fn collections_wire_form() {
        let t = Type::list(Type::set(Type::map(Type::String)));
        assert_eq!(t.to_json(), json!(["list", ["set", ["map", "string"]]]));
        assert_eq!(
            t.to_json_bytes(),
            br#"["list",["set",["map","string"]]]"#.to_vec()
        );
        rt(&t);
        let t = Type::Tuple(vec![Type::String, Type::list(Type::Number), Type::Dynamic]);
        assert_eq!(
            t.to_json(),
            json!(["tuple", ["string", ["list", "number"], "dynamic"]])
        );
        rt(&t);
        rt(&Type::Tuple(vec![]));
    }

    #[test]
    fn object_without_and_with_optional() {
        let t = Type::object([("id", Type::String), ("n", Type::Number)]);
        assert_eq!(
            t.to_json(),
            json!(["object", {"id": "string", "n": "number"}])
        );
        assert_eq!(
            t.to_json_bytes(),
            br#"["object",{"id":"string","n":"number"}]"#.to_vec()
        );
        rt(&t);
        let t = Type::object_with_optional(
            [
                ("id", Type::String),
                ("tags", Type::map(Type::String)),
                ("n", Type::Number),
            ],
            ["tags", "n"],
        );
        assert_eq!(
            t.to_json(),
            json!(["object", {"id": "string", "tags": ["map", "string"], "n": "number"}, ["n", "tags"]])
        );
        rt(&t);
        rt(&Type::object(Vec::<(String, Type)>::new()));
        // nested: list of objects with optionals
        rt(&Type::list(t));
    }

    #[test]
    fn parse_from_terraform_bytes() {
        let t = Type::from_json_bytes(
            br#"["object",{"a":["list",["object",{"b":"bool"}]],"c":"dynamic"},["c"]]"#,
        )
        .unwrap();
        let Type::Object { attrs, optional } = &t else {
            panic!("not an object")
        };
        assert_eq!(attrs["c"], Type::Dynamic);
        assert_eq!(attrs["a"], Type::list(Type::object([("b", Type::Bool)])));
        assert!(optional.contains("c"));
        assert_eq!(
            t.to_string(),
            "object({a=list(object({b=bool})), c=optional(dynamic)})"
        );
    }

    #[test]
    fn invalid_types() {
        for bad in [
            json!("str"),
            json!(1),
            json!(null),
            json!([]),
            json!(["list"]),
            json!(["list", "string", "x"]),
            json!(["frob", "string"]),
            json!(["object", ["string"]]),
            json!(["object", {"a": "string"}, ["b"]]),
            json!(["object", {"a": "string"}, "a"]),
            json!(["object", {"a": "string"}, [1]]),
            json!(["object", {"a": "string"}, ["a"], 4]),
            json!(["tuple", "string"]),
            json!(["map", ["list", "nope"]]),
        ] {
            let e = Type::from_json(&bad).unwrap_err();
            assert!(matches!(e, CodecError::InvalidType { .. }), "{bad}: {e}");
        }
        assert!(Type::from_json_bytes(b"[\"list\"").is_err());
    }

    #[test]
    fn path_rendering() {
        let p = [
            PathStep::Attr("api".into()),
            PathStep::Attr("scopes".into()),
            PathStep::Index(2),
            PathStep::Attr("value".into()),
            PathStep::Key("a\"b".into()),
        ];
        assert_eq!(render_path(&p), r#".api.scopes[2].value["a\"b"]"#);
        let e = CodecError::Mismatch {
            path: String::new(),
            expected: "string".into(),
            found: "nil".into(),
        };
        assert_eq!(e.to_string(), "at (root): expected string, found nil");
        assert_eq!(e.path(), Some(""));
    }
}

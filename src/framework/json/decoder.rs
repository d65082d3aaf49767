//! Parsed JSON → `TfValue`, directed by the type.

use std::collections::BTreeMap;

use super::super::types::{CodecError, PathStep, Type, render_path};
use super::super::value::{Number, TfValue};
use super::DecodeOptions;
use super::parser::Node;

pub(super) fn decode_node(
    node: Node,
    ty: &Type,
    opts: DecodeOptions,
) -> Result<TfValue, CodecError> {
    let mut d = Decoder {
        path: Vec::new(),
        opts,
    };
    d.value(node, ty)
}

struct Decoder {
    path: Vec<PathStep>,
    opts: DecodeOptions,
}

impl Decoder {
    fn path(&self) -> String {
        render_path(&self.path)
    }

    fn mismatch(&self, expected: impl ToString, node: &Node) -> CodecError {
        CodecError::Mismatch {
            path: self.path(),
            expected: expected.to_string(),
            found: node.kind().to_string(),
        }
    }

    fn invalid(&self, message: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            path: self.path(),
            message: message.into(),
        }
    }

    fn number(&self, text: &str, node: &Node) -> Result<Number, CodecError> {
        text.parse::<Number>().map_err(|e| CodecError::Mismatch {
            path: self.path(),
            expected: "number".into(),
            found: format!("{} that is not a number ({e})", node.kind()),
        })
    }

    fn value(&mut self, node: Node, ty: &Type) -> Result<TfValue, CodecError> {
        if let Node::Null = node {
            return Ok(TfValue::Null);
        }
        match ty {
            Type::String => match node {
                Node::String(s) => Ok(TfValue::String(s)),
                Node::Number(n) => Ok(TfValue::String(n)),
                Node::Bool(b) => Ok(TfValue::String(b.to_string())),
                other => Err(self.mismatch(ty, &other)),
            },
            Type::Number => match &node {
                Node::Number(n) | Node::String(n) => Ok(TfValue::Number(self.number(n, &node)?)),
                other => Err(self.mismatch(ty, other)),
            },
            Type::Bool => match node {
                Node::Bool(b) => Ok(TfValue::Bool(b)),
                Node::String(s) if s == "true" => Ok(TfValue::Bool(true)),
                Node::String(s) if s == "false" => Ok(TfValue::Bool(false)),
                other => Err(self.mismatch(ty, &other)),
            },
            Type::List(elem) | Type::Set(elem) => self.sequence(node, ty, elem),
            Type::Tuple(elems) => self.tuple(node, ty, elems),
            Type::Map(elem) => self.map(node, ty, elem),
            Type::Object { attrs, .. } => self.object(node, ty, attrs),
            Type::Dynamic => self.dynamic(node),
        }
    }

    /// A list or set (`ty`) of `elem`.
    fn sequence(&mut self, node: Node, ty: &Type, elem: &Type) -> Result<TfValue, CodecError> {
        let Node::Array(items) = node else {
            return Err(self.mismatch(ty, &node));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            self.path.push(PathStep::Index(i));
            out.push(self.value(item, elem)?);
            self.path.pop();
        }
        Ok(match ty {
            Type::Set(_) => TfValue::Set(out),
            _ => TfValue::List(out),
        })
    }

    fn tuple(&mut self, node: Node, ty: &Type, elems: &[Type]) -> Result<TfValue, CodecError> {
        let Node::Array(items) = node else {
            return Err(self.mismatch(ty, &node));
        };
        if items.len() != elems.len() {
            return Err(CodecError::Mismatch {
                path: self.path(),
                expected: format!("{ty} ({} elements)", elems.len()),
                found: format!("JSON array of {} elements", items.len()),
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, (item, et)) in items.into_iter().zip(elems).enumerate() {
            self.path.push(PathStep::Index(i));
            out.push(self.value(item, et)?);
            self.path.pop();
        }
        Ok(TfValue::Tuple(out))
    }

    fn map(&mut self, node: Node, ty: &Type, elem: &Type) -> Result<TfValue, CodecError> {
        let Node::Object(members) = node else {
            return Err(self.mismatch(ty, &node));
        };
        let mut out = BTreeMap::new();
        for (k, item) in members {
            if out.contains_key(&k) {
                return Err(self.invalid(format!("duplicate map key {k:?}")));
            }
            self.path.push(PathStep::Key(k));
            let v = self.value(item, elem)?;
            let Some(PathStep::Key(k)) = self.path.pop() else {
                unreachable!("path stack out of balance")
            };
            out.insert(k, v);
        }
        Ok(TfValue::Map(out))
    }

    /// An object of `attrs`: unknown attributes are refused unless the options ignore them,
    /// and missing ones are null.
    fn object(
        &mut self,
        node: Node,
        ty: &Type,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<TfValue, CodecError> {
        let Node::Object(members) = node else {
            return Err(self.mismatch(ty, &node));
        };
        let mut out = BTreeMap::new();
        let mut extra = Vec::new();
        for (k, item) in members {
            let Some(at) = attrs.get(&k) else {
                extra.push(k);
                continue;
            };
            if out.contains_key(&k) {
                return Err(self.invalid(format!("duplicate attribute {k:?}")));
            }
            self.path.push(PathStep::Attr(k));
            let v = self.value(item, at)?;
            let Some(PathStep::Attr(k)) = self.path.pop() else {
                unreachable!("path stack out of balance")
            };
            out.insert(k, v);
        }
        if !extra.is_empty() && !self.opts.ignore_undefined_attributes {
            return Err(CodecError::UnexpectedAttributes {
                path: self.path(),
                names: extra,
                ty: ty.to_string(),
            });
        }
        for name in attrs.keys() {
            if !out.contains_key(name) {
                out.insert(name.clone(), TfValue::Null);
            }
        }
        Ok(TfValue::Object(out))
    }

    /// A dynamic value: `{"value": …, "type": …}` with the type in Terraform's JSON form.
    fn dynamic(&mut self, node: Node) -> Result<TfValue, CodecError> {
        let Node::Object(members) = node else {
            return Err(self.mismatch("dynamic value {\"value\":…,\"type\":…}", &node));
        };
        let mut type_node = None;
        let mut value_node = None;
        for (k, v) in members {
            let slot = match k.as_str() {
                "type" => &mut type_node,
                "value" => &mut value_node,
                _ => {
                    return Err(self.invalid(format!(
                        "dynamic value has unexpected key {k:?} (only \"value\" and \"type\")"
                    )));
                }
            };
            if slot.replace(v).is_some() {
                return Err(self.invalid(format!("dynamic value has duplicate key {k:?}")));
            }
        }
        let Some(type_node) = type_node else {
            return Err(self.invalid("dynamic value is missing \"type\""));
        };
        let concrete = Type::from_json(&type_node.into_serde())
            .map_err(|e| self.invalid(format!("dynamic value carries an invalid type: {e}")))?;
        let inner = match value_node {
            Some(v) => self.value(v, &concrete)?,
            None => return Err(self.invalid("dynamic value is missing \"value\"")),
        };
        Ok(TfValue::Dynamic(concrete, Box::new(inner)))
    }
}

//! `TfValue` → JSON text, directed by the type.

use std::fmt::Write;

use super::super::types::{CodecError, PathStep, Type, render_path};
use super::super::value::{
    TfValue, check_tuple_len, concrete_type_for_dynamic, reject_extra_attributes,
};

pub(super) fn encode_all(value: &TfValue, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut e = Encoder {
        out: String::new(),
        path: Vec::new(),
    };
    e.value(value, ty)?;
    Ok(e.out.into_bytes())
}

struct Encoder {
    out: String,
    path: Vec<PathStep>,
}

impl Encoder {
    fn path(&self) -> String {
        render_path(&self.path)
    }

    fn str(&mut self, s: &str) {
        // serializing a &str cannot fail
        self.out
            .push_str(&serde_json::to_string(s).unwrap_or_default());
    }

    fn value(&mut self, v: &TfValue, ty: &Type) -> Result<(), CodecError> {
        match (v, ty) {
            (TfValue::Null, _) => {
                self.out.push_str("null");
                Ok(())
            }
            (TfValue::Unknown(_), _) => Err(CodecError::Unknown { path: self.path() }),
            (TfValue::Dynamic(concrete, inner), Type::Dynamic) => {
                self.out.push_str("{\"value\":");
                self.value(inner, concrete)?;
                self.out.push_str(",\"type\":");
                self.out
                    .push_str(&String::from_utf8_lossy(&concrete.to_json_bytes()));
                self.out.push('}');
                Ok(())
            }
            (TfValue::Dynamic(concrete, inner), _) if concrete == ty => self.value(inner, ty),
            (_, Type::Dynamic) => {
                let concrete = concrete_type_for_dynamic(v, || self.path())?;
                self.value(&TfValue::Dynamic(concrete, Box::new(v.clone())), ty)
            }
            (TfValue::String(s), Type::String) => {
                self.str(s);
                Ok(())
            }
            (TfValue::Bool(b), Type::Bool) => {
                self.out.push_str(if *b { "true" } else { "false" });
                Ok(())
            }
            (TfValue::Number(n), Type::Number) => {
                let _ = write!(self.out, "{n}");
                Ok(())
            }
            (TfValue::List(items), Type::List(elem)) | (TfValue::Set(items), Type::Set(elem)) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(PathStep::Index(i));
                    self.value(item, elem)?;
                    self.path.pop();
                }
                self.out.push(']');
                Ok(())
            }
            (TfValue::Tuple(items), Type::Tuple(elems)) => {
                check_tuple_len(items, elems, || self.path(), ty)?;
                self.out.push('[');
                for (i, (item, et)) in items.iter().zip(elems).enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(PathStep::Index(i));
                    self.value(item, et)?;
                    self.path.pop();
                }
                self.out.push(']');
                Ok(())
            }
            (TfValue::Map(entries), Type::Map(elem)) => {
                self.out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.str(k);
                    self.out.push(':');
                    self.path.push(PathStep::Key(k.clone()));
                    self.value(item, elem)?;
                    self.path.pop();
                }
                self.out.push('}');
                Ok(())
            }
            (TfValue::Object(fields), Type::Object { attrs, .. }) => {
                reject_extra_attributes(fields, attrs, || self.path(), ty)?;
                self.out.push('{');
                for (i, (name, at)) in attrs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.str(name);
                    self.out.push(':');
                    self.path.push(PathStep::Attr(name.clone()));
                    match fields.get(name) {
                        Some(item) => self.value(item, at)?,
                        None => self.out.push_str("null"),
                    }
                    self.path.pop();
                }
                self.out.push('}');
                Ok(())
            }
            _ => Err(CodecError::Mismatch {
                path: self.path(),
                expected: ty.to_string(),
                found: v.kind_name().to_string(),
            }),
        }
    }
}

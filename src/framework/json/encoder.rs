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
                self.array(items.iter().map(|item| (item, elem.as_ref())))
            }
            (TfValue::Tuple(items), Type::Tuple(elems)) => {
                check_tuple_len(items, elems, || self.path(), ty)?;
                self.array(items.iter().zip(elems))
            }
            (TfValue::Map(entries), Type::Map(elem)) => {
                self.members(entries.iter().map(|(k, item)| {
                    (
                        k.as_str(),
                        PathStep::Key(k.clone()),
                        Some(item),
                        elem.as_ref(),
                    )
                }))
            }
            (TfValue::Object(fields), Type::Object { attrs, .. }) => {
                reject_extra_attributes(fields, attrs, || self.path(), ty)?;
                self.members(attrs.iter().map(|(name, at)| {
                    (
                        name.as_str(),
                        PathStep::Attr(name.clone()),
                        fields.get(name),
                        at,
                    )
                }))
            }
            _ => Err(CodecError::Mismatch {
                path: self.path(),
                expected: ty.to_string(),
                found: v.kind_name().to_string(),
            }),
        }
    }

    /// `[…]` of each item with its type, at its index.
    fn array<'a>(
        &mut self,
        items: impl IntoIterator<Item = (&'a TfValue, &'a Type)>,
    ) -> Result<(), CodecError> {
        self.out.push('[');
        for (i, (item, ty)) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.path.push(PathStep::Index(i));
            self.value(item, ty)?;
            self.path.pop();
        }
        self.out.push(']');
        Ok(())
    }

    /// `{…}` of each member: its key, its step in the path, its value (absent: `null`) and
    /// its type.
    fn members<'a>(
        &mut self,
        members: impl IntoIterator<Item = (&'a str, PathStep, Option<&'a TfValue>, &'a Type)>,
    ) -> Result<(), CodecError> {
        self.out.push('{');
        for (i, (key, step, item, ty)) in members.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.str(key);
            self.out.push(':');
            self.path.push(step);
            match item {
                Some(item) => self.value(item, ty)?,
                None => self.out.push_str("null"),
            }
            self.path.pop();
        }
        self.out.push('}');
        Ok(())
    }
}

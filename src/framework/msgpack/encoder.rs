//! `TfValue` → msgpack, directed by the type.

use rmp::encode as wr;

use super::super::types::{CodecError, PathStep, Type, render_path};
use super::super::value::{
    Number, TfValue, UnknownRefinements, check_tuple_len, concrete_type_for_dynamic,
    reject_extra_attributes,
};
use super::*;

pub(super) fn encode_all(value: &TfValue, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut e = Encoder {
        out: Vec::new(),
        path: Vec::new(),
    };
    e.value(value, ty)?;
    Ok(e.out)
}

struct Encoder {
    out: Vec<u8>,
    path: Vec<PathStep>,
}

impl Encoder {
    fn path(&self) -> String {
        render_path(&self.path)
    }

    fn mismatch(&self, ty: &Type, v: &TfValue) -> CodecError {
        CodecError::Mismatch {
            path: self.path(),
            expected: ty.to_string(),
            found: v.kind_name().to_string(),
        }
    }

    fn write_err<E: wr::RmpWriteErr>(&self, e: wr::ValueWriteError<E>) -> CodecError {
        CodecError::Invalid {
            path: self.path(),
            message: format!("msgpack write failed: {e:?}"),
        }
    }

    fn len32(&self, len: usize) -> Result<u32, CodecError> {
        u32::try_from(len).map_err(|_| CodecError::Invalid {
            path: self.path(),
            message: format!("length {len} is too large for msgpack"),
        })
    }

    fn nil(&mut self) {
        // writing to a Vec cannot fail
        let _ = wr::write_nil(&mut self.out);
    }

    fn str(&mut self, s: &str) -> Result<(), CodecError> {
        self.len32(s.len())?;
        wr::write_str(&mut self.out, s).map_err(|e| self.write_err(e))
    }

    fn array_len(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len32(len)?;
        wr::write_array_len(&mut self.out, len)
            .map(drop)
            .map_err(|e| self.write_err(e))
    }

    fn map_len(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len32(len)?;
        wr::write_map_len(&mut self.out, len)
            .map(drop)
            .map_err(|e| self.write_err(e))
    }

    fn number(&mut self, n: &Number) -> Result<(), CodecError> {
        if let Some(i) = n.as_i64() {
            wr::write_sint(&mut self.out, i)
                .map(drop)
                .map_err(|e| self.write_err(e))
        } else if let Some(u) = n.as_u64() {
            wr::write_uint(&mut self.out, u)
                .map(drop)
                .map_err(|e| self.write_err(e))
        } else if let Some(f) = n.to_f64_exact() {
            wr::write_f64(&mut self.out, f).map_err(|e| self.write_err(e))
        } else {
            self.str(&n.to_string())
        }
    }

    /// Only refinements that apply to `ty` are written: Terraform rejects the others.
    fn unknown(&mut self, r: Option<&UnknownRefinements>, ty: &Type) -> Result<(), CodecError> {
        let r = r.map(|r| r.for_type(ty));
        let Some(r) = r.as_ref().filter(|r| !r.is_empty()) else {
            wr::write_ext_meta(&mut self.out, 1, EXT_UNKNOWN).map_err(|e| self.write_err(e))?;
            self.out.push(0);
            return Ok(());
        };
        let mut sub = Encoder {
            out: Vec::new(),
            path: Vec::new(),
        };
        let count = [
            r.nullness.is_some(),
            r.string_prefix.is_some(),
            r.number_lower.is_some(),
            r.number_upper.is_some(),
            r.length_lower.is_some(),
            r.length_upper.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        sub.map_len(count)?;
        let key = |sub: &mut Encoder, k: i64| {
            let _ = wr::write_sint(&mut sub.out, k);
        };
        if let Some(b) = r.nullness {
            key(&mut sub, REFN_NULLNESS);
            let _ = wr::write_bool(&mut sub.out, b);
        }
        if let Some(p) = &r.string_prefix {
            key(&mut sub, REFN_STRING_PREFIX);
            sub.str(p)?;
        }
        for (k, bound) in [
            (REFN_NUMBER_LOWER, &r.number_lower),
            (REFN_NUMBER_UPPER, &r.number_upper),
        ] {
            if let Some((n, inclusive)) = bound {
                key(&mut sub, k);
                sub.array_len(2)?;
                sub.number(n)?;
                let _ = wr::write_bool(&mut sub.out, *inclusive);
            }
        }
        for (k, len) in [
            (REFN_LENGTH_LOWER, r.length_lower),
            (REFN_LENGTH_UPPER, r.length_upper),
        ] {
            if let Some(len) = len {
                key(&mut sub, k);
                let _ = wr::write_sint(&mut sub.out, len);
            }
        }
        let len = self.len32(sub.out.len())?;
        wr::write_ext_meta(&mut self.out, len, EXT_REFINED_UNKNOWN)
            .map_err(|e| self.write_err(e))?;
        self.out.extend_from_slice(&sub.out);
        Ok(())
    }

    fn value(&mut self, v: &TfValue, ty: &Type) -> Result<(), CodecError> {
        match (v, ty) {
            (TfValue::Null, _) => {
                self.nil();
                Ok(())
            }
            (TfValue::Unknown(r), _) => self.unknown(r.as_deref(), ty),
            (TfValue::Dynamic(concrete, inner), Type::Dynamic) => {
                self.array_len(2)?;
                let type_json = concrete.to_json_bytes();
                self.len32(type_json.len())?;
                wr::write_bin(&mut self.out, &type_json).map_err(|e| self.write_err(e))?;
                self.value(inner, concrete)
            }
            // a dynamic wrapper at a statically typed position: fine if the types agree
            (TfValue::Dynamic(concrete, inner), _) if concrete == ty => self.value(inner, ty),
            (_, Type::Dynamic) => {
                let concrete = concrete_type_for_dynamic(v, || self.path())?;
                self.value(&TfValue::Dynamic(concrete, Box::new(v.clone())), ty)
            }
            (TfValue::String(s), Type::String) => self.str(s),
            (TfValue::Bool(b), Type::Bool) => {
                let _ = wr::write_bool(&mut self.out, *b);
                Ok(())
            }
            (TfValue::Number(n), Type::Number) => self.number(n),
            (TfValue::List(items), Type::List(elem)) | (TfValue::Set(items), Type::Set(elem)) => {
                self.array_len(items.len())?;
                for (i, item) in items.iter().enumerate() {
                    self.path.push(PathStep::Index(i));
                    self.value(item, elem)?;
                    self.path.pop();
                }
                Ok(())
            }
            (TfValue::Tuple(items), Type::Tuple(elems)) => {
                check_tuple_len(items, elems, || self.path(), ty)?;
                self.array_len(items.len())?;
                for (i, (item, et)) in items.iter().zip(elems).enumerate() {
                    self.path.push(PathStep::Index(i));
                    self.value(item, et)?;
                    self.path.pop();
                }
                Ok(())
            }
            (TfValue::Map(entries), Type::Map(elem)) => {
                self.map_len(entries.len())?;
                for (k, item) in entries {
                    self.str(k)?;
                    self.path.push(PathStep::Key(k.clone()));
                    self.value(item, elem)?;
                    self.path.pop();
                }
                Ok(())
            }
            (TfValue::Object(fields), Type::Object { attrs, .. }) => {
                reject_extra_attributes(fields, attrs, || self.path(), ty)?;
                self.map_len(attrs.len())?;
                for (name, at) in attrs {
                    self.str(name)?;
                    self.path.push(PathStep::Attr(name.clone()));
                    match fields.get(name) {
                        Some(item) => self.value(item, at)?,
                        None => self.nil(),
                    }
                    self.path.pop();
                }
                Ok(())
            }
            _ => Err(self.mismatch(ty, v)),
        }
    }
}

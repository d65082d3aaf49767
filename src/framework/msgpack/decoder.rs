//! msgpack → `TfValue`, directed by the type.

use std::collections::BTreeMap;

use rmp::Marker;
use rmp::decode::{self as rd, MessageLen};

use super::super::types::{CodecError, PathStep, Type, render_path};
use super::super::value::{Number, TfValue, UnknownRefinements};
use super::*;

/// Decodes a whole message; bytes left over are an error.
pub(super) fn decode_all(bytes: &[u8], ty: &Type) -> Result<TfValue, CodecError> {
    let mut d = Decoder {
        rest: bytes,
        path: Vec::new(),
        depth: 0,
    };
    let v = d.value(ty)?;
    if !d.rest.is_empty() {
        return Err(CodecError::TrailingData {
            count: d.rest.len(),
        });
    }
    Ok(v)
}

/// Any msgpack integer marker, signed or unsigned, of any width.
fn is_int(m: Marker) -> bool {
    matches!(
        m,
        Marker::FixPos(_)
            | Marker::FixNeg(_)
            | Marker::U8
            | Marker::U16
            | Marker::U32
            | Marker::U64
            | Marker::I8
            | Marker::I16
            | Marker::I32
            | Marker::I64
    )
}

fn marker_name(m: Marker) -> &'static str {
    match m {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "extension",
        Marker::Reserved => "reserved byte 0xc1",
        // The rest are the integer markers (see `is_int`).
        _ => "integer",
    }
}

fn is_ext(m: Marker) -> bool {
    matches!(
        m,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

struct Decoder<'a> {
    rest: &'a [u8],
    path: Vec<PathStep>,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn path(&self) -> String {
        render_path(&self.path)
    }

    fn truncated(&self) -> CodecError {
        CodecError::Truncated { path: self.path() }
    }

    fn invalid(&self, message: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            path: self.path(),
            message: message.into(),
        }
    }

    fn mismatch(&self, expected: impl ToString, m: Marker) -> CodecError {
        CodecError::Mismatch {
            path: self.path(),
            expected: expected.to_string(),
            found: format!("msgpack {}", marker_name(m)),
        }
    }

    fn peek(&self) -> Result<Marker, CodecError> {
        match self.rest.first() {
            Some(&b) => Ok(Marker::from_u8(b)),
            None => Err(self.truncated()),
        }
    }

    /// Maps an rmp read error: I/O errors on a slice can only mean the input ended early.
    fn read_err<E: rd::RmpReadErr>(&self, e: rd::ValueReadError<E>) -> CodecError {
        match e {
            rd::ValueReadError::TypeMismatch(m) => self.invalid(format!(
                "unexpected msgpack {} (decoder bug)",
                marker_name(m)
            )),
            rd::ValueReadError::InvalidMarkerRead(_) | rd::ValueReadError::InvalidDataRead(_) => {
                self.truncated()
            }
        }
    }

    fn take(&mut self, len: u32) -> Result<&'a [u8], CodecError> {
        let len = len as usize;
        if self.rest.len() < len {
            return Err(self.truncated());
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    fn str_bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let len = rd::read_str_len(&mut self.rest).map_err(|e| self.read_err(e))?;
        self.take(len)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let bytes = self.str_bytes()?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(CodecError::InvalidUtf8 { path: self.path() }),
        }
    }

    fn array_len(&mut self) -> Result<u32, CodecError> {
        rd::read_array_len(&mut self.rest).map_err(|e| self.read_err(e))
    }

    fn map_len(&mut self) -> Result<u32, CodecError> {
        rd::read_map_len(&mut self.rest).map_err(|e| self.read_err(e))
    }

    /// Skips one complete msgpack value of any shape.
    fn skip(&mut self) -> Result<(), CodecError> {
        match MessageLen::len_of(self.rest) {
            Ok(n) if n <= self.rest.len() => {
                self.rest = &self.rest[n..];
                Ok(())
            }
            Ok(_) | Err(rd::LenError::Truncated(_)) => Err(self.truncated()),
            Err(rd::LenError::ParseError) => Err(self.invalid("malformed msgpack value")),
        }
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.invalid(format!("value nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn value(&mut self, ty: &Type) -> Result<TfValue, CodecError> {
        let m = self.peek()?;
        if m == Marker::Null {
            self.rest = &self.rest[1..];
            return Ok(TfValue::Null);
        }
        if is_ext(m) {
            return self.unknown(ty);
        }
        match ty {
            Type::String => match m {
                Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                    Ok(TfValue::String(self.string()?))
                }
                _ => Err(self.mismatch(ty, m)),
            },
            Type::Bool => match m {
                Marker::True | Marker::False => {
                    self.rest = &self.rest[1..];
                    Ok(TfValue::Bool(m == Marker::True))
                }
                _ => Err(self.mismatch(ty, m)),
            },
            Type::Number => Ok(TfValue::Number(self.number()?)),
            Type::List(elem) | Type::Set(elem) => self.list(m, ty, elem),
            Type::Tuple(elems) => self.tuple(m, ty, elems),
            Type::Map(elem) => self.map(m, ty, elem),
            Type::Object { attrs, .. } => self.object(m, ty, attrs),
            Type::Dynamic => self.dynamic(m),
        }
    }

    fn list(&mut self, m: Marker, ty: &Type, elem: &Type) -> Result<TfValue, CodecError> {
        let len = match m {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => self.array_len()?,
            _ => return Err(self.mismatch(ty, m)),
        };
        self.enter()?;
        // every element takes at least one byte: don't trust huge lengths
        let mut items = Vec::with_capacity((len as usize).min(self.rest.len()));
        for i in 0..len as usize {
            self.path.push(PathStep::Index(i));
            items.push(self.value(elem)?);
            self.path.pop();
        }
        self.depth -= 1;
        Ok(match ty {
            Type::Set(_) => TfValue::Set(items),
            _ => TfValue::List(items),
        })
    }

    fn tuple(&mut self, m: Marker, ty: &Type, elems: &[Type]) -> Result<TfValue, CodecError> {
        let len = match m {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => self.array_len()?,
            _ => return Err(self.mismatch(ty, m)),
        };
        if len as usize != elems.len() {
            return Err(CodecError::Mismatch {
                path: self.path(),
                expected: format!("{ty} ({} elements)", elems.len()),
                found: format!("msgpack array of {len} elements"),
            });
        }
        self.enter()?;
        let mut items = Vec::with_capacity(elems.len());
        for (i, et) in elems.iter().enumerate() {
            self.path.push(PathStep::Index(i));
            items.push(self.value(et)?);
            self.path.pop();
        }
        self.depth -= 1;
        Ok(TfValue::Tuple(items))
    }

    fn map(&mut self, m: Marker, ty: &Type, elem: &Type) -> Result<TfValue, CodecError> {
        let len = match m {
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => self.map_len()?,
            _ => return Err(self.mismatch(ty, m)),
        };
        self.enter()?;
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let key = self.key("map key")?;
            if map.contains_key(&key) {
                return Err(self.invalid(format!("duplicate map key {key:?}")));
            }
            self.path.push(PathStep::Key(key));
            let v = self.value(elem)?;
            let Some(PathStep::Key(key)) = self.path.pop() else {
                unreachable!("path stack out of balance")
            };
            map.insert(key, v);
        }
        self.depth -= 1;
        Ok(TfValue::Map(map))
    }

    fn object(
        &mut self,
        m: Marker,
        ty: &Type,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<TfValue, CodecError> {
        let len = match m {
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => self.map_len()?,
            _ => return Err(self.mismatch(ty, m)),
        };
        self.enter()?;
        let mut obj = BTreeMap::new();
        let mut extra = Vec::new();
        for _ in 0..len {
            let key = self.key("attribute name")?;
            let Some(at) = attrs.get(&key) else {
                self.skip()?;
                extra.push(key);
                continue;
            };
            if obj.contains_key(&key) {
                return Err(self.invalid(format!("duplicate attribute {key:?}")));
            }
            self.path.push(PathStep::Attr(key));
            let v = self.value(at)?;
            let Some(PathStep::Attr(key)) = self.path.pop() else {
                unreachable!("path stack out of balance")
            };
            obj.insert(key, v);
        }
        if !extra.is_empty() {
            return Err(CodecError::UnexpectedAttributes {
                path: self.path(),
                names: extra,
                ty: ty.to_string(),
            });
        }
        for name in attrs.keys() {
            if !obj.contains_key(name) {
                obj.insert(name.clone(), TfValue::Null);
            }
        }
        self.depth -= 1;
        Ok(TfValue::Object(obj))
    }

    fn dynamic(&mut self, m: Marker) -> Result<TfValue, CodecError> {
        if m != Marker::FixArray(2) && !matches!(m, Marker::Array16 | Marker::Array32) {
            return Err(self.mismatch("dynamic value [type, value]", m));
        }
        let len = self.array_len()?;
        if len != 2 {
            return Err(CodecError::Mismatch {
                path: self.path(),
                expected: "dynamic value [type, value]".into(),
                found: format!("msgpack array of {len} elements"),
            });
        }
        let tm = self.peek()?;
        let type_json = match tm {
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let len = rd::read_bin_len(&mut self.rest).map_err(|e| self.read_err(e))?;
                self.take(len)?
            }
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => self.str_bytes()?,
            _ => return Err(self.mismatch("type JSON (msgpack bin) of a dynamic value", tm)),
        };
        let concrete = Type::from_json_bytes(type_json)
            .map_err(|e| self.invalid(format!("dynamic value carries an invalid type: {e}")))?;
        self.enter()?;
        let inner = self.value(&concrete)?;
        self.depth -= 1;
        Ok(TfValue::Dynamic(concrete, Box::new(inner)))
    }

    fn key(&mut self, what: &str) -> Result<String, CodecError> {
        let m = self.peek()?;
        match m {
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => self.string(),
            _ => Err(self.mismatch(format!("{what} (msgpack string)"), m)),
        }
    }

    fn number(&mut self) -> Result<Number, CodecError> {
        let m = self.peek()?;
        match m {
            m if is_int(m) => {
                let v: i128 = rd::read_int(&mut self.rest).map_err(|e| match e {
                    rd::NumValueReadError::InvalidMarkerRead(_)
                    | rd::NumValueReadError::InvalidDataRead(_) => self.truncated(),
                    _ => self.invalid("integer out of range"),
                })?;
                Ok(Number::from(v))
            }
            Marker::F32 | Marker::F64 => {
                let f = if m == Marker::F32 {
                    rd::read_f32(&mut self.rest).map(f64::from)
                } else {
                    rd::read_f64(&mut self.rest)
                }
                .map_err(|e| self.read_err(e))?;
                Number::from_f64(f).ok_or_else(|| self.invalid(format!("number {f} is not finite")))
            }
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let s = self.string()?;
                s.parse().map_err(|e| CodecError::Mismatch {
                    path: self.path(),
                    expected: "number".into(),
                    found: format!("msgpack string that is not a number ({e})"),
                })
            }
            _ => Err(self.mismatch(Type::Number, m)),
        }
    }

    /// Reads an extension value as an unknown (refined when it is code 12).
    /// Refinements that cannot apply to `ty` are dropped (cty never refines a dynamic unknown).
    fn unknown(&mut self, ty: &Type) -> Result<TfValue, CodecError> {
        let meta = rd::read_ext_meta(&mut self.rest).map_err(|e| self.read_err(e))?;
        let payload = self.take(meta.size)?;
        if meta.typeid != EXT_REFINED_UNKNOWN {
            return Ok(TfValue::Unknown(None));
        }
        // Refinements are advisory: a malformed payload degrades to a plain unknown.
        let r = parse_refinements(payload).unwrap_or_default();
        Ok(TfValue::unknown_refined(r.for_type(ty)))
    }
}

/// Parses the msgpack map of a refined unknown; `None` if it is malformed. Unknown keys and
/// values of unexpected shape are ignored.
fn parse_refinements(payload: &[u8]) -> Option<UnknownRefinements> {
    let mut d = Decoder {
        rest: payload,
        path: Vec::new(),
        depth: 0,
    };
    let mut r = UnknownRefinements::default();
    let len = d.map_len().ok()?;
    for _ in 0..len {
        let key: i64 = rd::read_int(&mut d.rest).ok()?;
        let start = d.rest;
        let parsed: Option<()> = (|| {
            match key {
                REFN_NULLNESS => r.nullness = Some(rd::read_bool(&mut d.rest).ok()?),
                REFN_STRING_PREFIX => r.string_prefix = Some(d.string().ok()?),
                REFN_NUMBER_LOWER | REFN_NUMBER_UPPER => {
                    if d.array_len().ok()? != 2 {
                        return None;
                    }
                    let n = d.number().ok()?;
                    let inclusive = rd::read_bool(&mut d.rest).ok()?;
                    if key == REFN_NUMBER_LOWER {
                        r.number_lower = Some((n, inclusive));
                    } else {
                        r.number_upper = Some((n, inclusive));
                    }
                }
                REFN_LENGTH_LOWER => r.length_lower = Some(rd::read_int(&mut d.rest).ok()?),
                REFN_LENGTH_UPPER => r.length_upper = Some(rd::read_int(&mut d.rest).ok()?),
                _ => return None,
            }
            Some(())
        })();
        if parsed.is_none() {
            // unknown key or unexpected value shape: skip the value
            d.rest = start;
            d.skip().ok()?;
        }
    }
    Some(r)
}

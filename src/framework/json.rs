//! The JSON encoding of Terraform values (`RawState.json` and the `DynamicValue.json`
//! fallback), directed by a [`Type`].
//!
//! Same shapes as cty's JSON format: null is `null`, numbers are JSON numbers (kept exact: the
//! input is parsed by a small parser here that keeps number text, because serde_json without
//! `arbitrary_precision` would round big numbers to `f64`), lists/sets/tuples are arrays,
//! maps/objects are objects, a value at a `dynamic` position is `{"value":…,"type":…}`.
//! Unknown values cannot be represented.
//!
//! Like cty, decoding is lenient with primitives: a string may come as a JSON number or bool,
//! a number or bool as a JSON string (old state files contain such values).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::types::{CodecError, PathStep, Type, render_path};
use super::value::{Number, TfValue, concrete_type_for_dynamic, reject_extra_attributes};

/// Nesting limit for JSON input.
const MAX_DEPTH: usize = 128;

/// Options for [`decode_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeOptions {
    /// Drop object attributes the type does not know instead of failing (useful for stored
    /// state written by an older schema of the same version, as terraform-plugin-framework does).
    pub ignore_undefined_attributes: bool,
}

/// Decodes a JSON value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<TfValue, CodecError> {
    decode_with(bytes, ty, DecodeOptions::default())
}

/// Decodes a JSON value of type `ty` with options.
pub fn decode_with(bytes: &[u8], ty: &Type, opts: DecodeOptions) -> Result<TfValue, CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CodecError::InvalidUtf8 {
        path: String::new(),
    })?;
    let mut p = Parser {
        s: text,
        pos: 0,
        depth: 0,
    };
    p.ws();
    let node = p.value()?;
    p.ws();
    if p.pos != text.len() {
        return Err(CodecError::TrailingData {
            count: text.len() - p.pos,
        });
    }
    let mut d = Decoder {
        path: Vec::new(),
        opts,
    };
    d.value(node, ty)
}

/// Encodes `value` as JSON according to `ty`; fails on unknown values.
pub fn encode(value: &TfValue, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut e = Encoder {
        out: String::new(),
        path: Vec::new(),
    };
    e.value(value, ty)?;
    Ok(e.out.into_bytes())
}

/// A parsed JSON value with number text kept verbatim and object members in input order.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "JSON null",
            Node::Bool(_) => "JSON boolean",
            Node::Number(_) => "JSON number",
            Node::String(_) => "JSON string",
            Node::Array(_) => "JSON array",
            Node::Object(_) => "JSON object",
        }
    }

    /// Converts to a `serde_json::Value` (for type constraints, which hold no numbers).
    fn into_serde(self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(b),
            Node::Number(n) => serde_json::from_str(&n).unwrap_or(J::Null),
            Node::String(s) => J::String(s),
            Node::Array(a) => J::Array(a.into_iter().map(Node::into_serde).collect()),
            Node::Object(o) => J::Object(o.into_iter().map(|(k, v)| (k, v.into_serde())).collect()),
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> CodecError {
        if self.pos >= self.s.len() {
            return CodecError::Truncated {
                path: String::new(),
            };
        }
        CodecError::Invalid {
            path: String::new(),
            message: format!("invalid JSON at byte {}: {msg}", self.pos),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &str, node: Node) -> Result<Node, CodecError> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(node)
        } else if word.starts_with(&self.s[self.pos..]) {
            self.pos = self.s.len();
            Err(self.err("truncated literal"))
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn value(&mut self) -> Result<Node, CodecError> {
        match self.peek() {
            None => Err(self.err("expected a value")),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if !self.eat(b']') {
                    loop {
                        self.ws();
                        items.push(self.value()?);
                        self.ws();
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b']') {
                            break;
                        }
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
                self.depth -= 1;
                Ok(Node::Array(items))
            }
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                let mut members = Vec::new();
                self.ws();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return Err(self.err("expected a string key"));
                        }
                        let k = self.string()?;
                        self.ws();
                        if !self.eat(b':') {
                            return Err(self.err("expected ':'"));
                        }
                        self.ws();
                        members.push((k, self.value()?));
                        self.ws();
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b'}') {
                            break;
                        }
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
                self.depth -= 1;
                Ok(Node::Object(members))
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CodecError::Invalid {
                path: String::new(),
                message: format!("JSON nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// JSON number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<Node, CodecError> {
        let start = self.pos;
        self.eat(b'-');
        if self.eat(b'0') {
            if let Some(b'0'..=b'9') = self.peek() {
                return Err(self.err("leading zero in number"));
            }
        } else if self.digits() == 0 {
            return Err(self.err("expected digits"));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.err("expected digits after '.'"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(self.err("expected exponent digits"));
            }
        }
        Ok(Node::Number(self.s[start..self.pos].to_string()))
    }

    fn hex4(&mut self) -> Result<u32, CodecError> {
        let Some(h) = self.s.get(self.pos..self.pos + 4) else {
            self.pos = self.s.len();
            return Err(self.err("truncated \\u escape"));
        };
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // stopped at an ASCII byte (or the end), so this is a char boundary
            out.push_str(&self.s[start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(c) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let ch = char::from_u32(code)
                                .ok_or_else(|| self.err("unpaired surrogate in \\u escape"))?;
                            out.push(ch);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
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
            Type::List(elem) | Type::Set(elem) => {
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
            Type::Tuple(elems) => {
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
            Type::Map(elem) => {
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
            Type::Object { attrs, .. } => {
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
            Type::Dynamic => {
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
                let concrete = Type::from_json(&type_node.into_serde()).map_err(|e| {
                    self.invalid(format!("dynamic value carries an invalid type: {e}"))
                })?;
                let inner = match value_node {
                    Some(v) => self.value(v, &concrete)?,
                    None => return Err(self.invalid("dynamic value is missing \"value\"")),
                };
                Ok(TfValue::Dynamic(concrete, Box::new(inner)))
            }
        }
    }
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
                if items.len() != elems.len() {
                    return Err(CodecError::Mismatch {
                        path: self.path(),
                        expected: format!("{ty} ({} elements)", elems.len()),
                        found: format!("tuple of {} elements", items.len()),
                    });
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::value::UnknownRefinements;

    fn n(s: &str) -> TfValue {
        TfValue::Number(s.parse().unwrap())
    }

    fn s(x: &str) -> TfValue {
        TfValue::string(x)
    }

    #[track_caller]
    fn rt(v: &TfValue, ty: &Type) -> String {
        let bytes = encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
        let text = String::from_utf8(bytes.clone()).unwrap();
        // the output is valid JSON
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("invalid JSON {text}: {e}"));
        let back = decode(&bytes, ty).unwrap_or_else(|e| panic!("decode {text}: {e}"));
        assert_eq!(&back, v, "round trip through {text}");
        text
    }

    #[test]
    fn primitives() {
        assert_eq!(
            rt(&s("a\"b\\c\n✓\u{1}"), &Type::String),
            r#""a\"b\\c\n✓\u0001""#
        );
        assert_eq!(rt(&TfValue::Bool(true), &Type::Bool), "true");
        assert_eq!(rt(&n("-12.5"), &Type::Number), "-12.5");
        for t in [
            Type::String,
            Type::Number,
            Type::Bool,
            Type::Dynamic,
            Type::list(Type::String),
        ] {
            assert_eq!(rt(&TfValue::Null, &t), "null");
        }
    }

    #[test]
    fn numbers_keep_precision() {
        for text in [
            "123456789012345678901234567890",
            "0.1000000000000000000001",
            "18446744073709551616",
            "-9223372036854775809",
            "1e+100",
            "1.5e-100",
            "0",
        ] {
            assert_eq!(rt(&n(text), &Type::Number), text);
        }
        // input forms that JSON allows, normalized
        let d = |t: &str| decode(t.as_bytes(), &Type::Number).unwrap();
        assert_eq!(d("1.50"), n("1.5"));
        assert_eq!(d("1E3"), n("1000"));
        assert_eq!(d("-0"), n("0"));
        assert_eq!(
            d("123456789012345678901234567890.000000000000000000001"),
            n("123456789012345678901234567890.000000000000000000001")
        );
        // a number in a string (old states)
        assert_eq!(d(r#""42""#), n("42"));
    }

    #[test]
    fn lenient_primitives_like_cty() {
        assert_eq!(decode(b"12", &Type::String).unwrap(), s("12"));
        assert_eq!(decode(b"true", &Type::String).unwrap(), s("true"));
        assert_eq!(
            decode(br#""false""#, &Type::Bool).unwrap(),
            TfValue::Bool(false)
        );
        assert!(decode(br#""yes""#, &Type::Bool).is_err());
        assert!(decode(br#""x1""#, &Type::Number).is_err());
    }

    fn state_type() -> Type {
        Type::object_with_optional(
            [
                ("id", Type::String),
                ("tags", Type::map(Type::String)),
                ("ports", Type::set(Type::Number)),
                (
                    "api",
                    Type::object([(
                        "scopes",
                        Type::list(Type::object([("value", Type::String)])),
                    )]),
                ),
                ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
                ("extra", Type::Dynamic),
            ],
            ["tags"],
        )
    }

    #[test]
    fn structures_round_trip() {
        let ty = state_type();
        let v = TfValue::object([
            ("id", s("abc")),
            (
                "tags",
                TfValue::map([("env", s("prod")), ("team", TfValue::Null)]),
            ),
            ("ports", TfValue::Set(vec![n("443"), n("80")])),
            (
                "api",
                TfValue::object([(
                    "scopes",
                    TfValue::List(vec![TfValue::object([("value", s("read"))])]),
                )]),
            ),
            ("pair", TfValue::Tuple(vec![s("k"), TfValue::Bool(false)])),
            (
                "extra",
                TfValue::Dynamic(
                    Type::object([("n", Type::Number), ("l", Type::list(Type::String))]),
                    Box::new(TfValue::object([
                        ("n", n("0.1000000000000000000001")),
                        ("l", TfValue::List(vec![s("x")])),
                    ])),
                ),
            ),
        ]);
        let text = rt(&v, &ty);
        assert!(text.contains(
            r#""extra":{"value":{"l":["x"],"n":0.1000000000000000000001},"type":["object",{"l":["list","string"],"n":"number"}]}"#
        ), "{text}");
        for attr in ["id", "tags", "ports", "api", "pair", "extra"] {
            let mut w = v.clone();
            *w.get_attr_mut(attr).unwrap() = TfValue::Null;
            rt(&w, &ty);
        }
        rt(
            &TfValue::Dynamic(
                Type::list(Type::Number),
                Box::new(TfValue::List(vec![n("1")])),
            ),
            &Type::Dynamic,
        );
        rt(
            &TfValue::Dynamic(Type::String, Box::new(TfValue::Null)),
            &Type::Dynamic,
        );
    }

    #[test]
    fn decode_state_as_terraform_stores_it() {
        let ty = state_type();
        let text = r#" {
            "id": "abc",
            "ports": [80, 443],
            "api": {"scopes": [{"value": "read"}, {"value": null}]},
            "pair": ["k", true],
            "extra": {"type": "string", "value": "hi"},
            "tags": {"a": "\u00e9\ud83d\ude00"}
        } "#;
        let v = decode(text.as_bytes(), &ty).unwrap();
        assert_eq!(v.get_attr("id").unwrap().as_str(), Some("abc"));
        assert_eq!(
            v.get_attr("ports").unwrap(),
            &TfValue::Set(vec![n("80"), n("443")])
        );
        assert_eq!(
            v.get_attr("extra").unwrap(),
            &TfValue::Dynamic(Type::String, Box::new(s("hi")))
        );
        assert_eq!(
            v.get_attr("tags").unwrap().get_key("a").unwrap().as_str(),
            Some("é😀")
        );
        // missing attributes are null
        let v = decode(br#"{"id":"x"}"#, &ty).unwrap();
        assert!(v.get_attr("api").unwrap().is_null());
        // extra attributes: an error naming them, or dropped on request
        let e = decode(br#"{"id":"x","old":1,"older":{}}"#, &ty).unwrap_err();
        assert!(e.to_string().contains(r#""old", "older""#), "{e}");
        let v = decode_with(
            br#"{"id":"x","old":1}"#,
            &ty,
            DecodeOptions {
                ignore_undefined_attributes: true,
            },
        )
        .unwrap();
        assert_eq!(v.get_attr("id").unwrap().as_str(), Some("x"));
        assert!(v.get_attr("old").is_none());
    }

    #[test]
    fn unknowns_cannot_be_encoded() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let v = TfValue::object([("a", TfValue::List(vec![s("x"), TfValue::unknown()]))]);
        let e = encode(&v, &ty).unwrap_err();
        assert_eq!(
            e,
            CodecError::Unknown {
                path: ".a[1]".into()
            }
        );
        let r = TfValue::unknown_refined(UnknownRefinements {
            nullness: Some(false),
            ..Default::default()
        });
        assert!(encode(&r, &Type::String).is_err());
    }

    #[test]
    fn errors() {
        let ty = state_type();
        let e = decode(br#"{"api":{"scopes":[{"value":"a"},{"value":[]}]}}"#, &ty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at .api.scopes[1].value: expected string, found JSON array"
        );
        let e = decode(br#"{"tags":{"k":{}}}"#, &ty).unwrap_err();
        assert_eq!(e.path(), Some(r#".tags["k"]"#));
        let e = decode(br#"{"pair":["a"]}"#, &ty).unwrap_err();
        assert!(matches!(e, CodecError::Mismatch { .. }), "{e}");
        // bad UTF-8
        assert!(matches!(
            decode(b"\"\xff\"", &Type::String).unwrap_err(),
            CodecError::InvalidUtf8 { .. }
        ));
        // truncated
        for t in [
            "",
            "{",
            r#"{"id""#,
            r#"{"id":"#,
            r#"{"id":"ab"#,
            "[1,",
            "tru",
            r#""\u00"#,
            "-",
        ] {
            let e = decode(t.as_bytes(), &ty)
                .or_else(|_| decode(t.as_bytes(), &Type::list(Type::Number)))
                .or_else(|_| decode(t.as_bytes(), &Type::String))
                .or_else(|_| decode(t.as_bytes(), &Type::Bool))
                .unwrap_err();
            assert!(matches!(e, CodecError::Truncated { .. }), "{t:?}: {e}");
        }
        // malformed
        for t in [
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "nul",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"a\nb\"",
            "[1,]",
            "NaN",
            "{\"a\":1,}",
        ] {
            assert!(decode(t.as_bytes(), &Type::Dynamic).is_err(), "{t}");
            assert!(
                decode(t.as_bytes(), &Type::list(Type::Number)).is_err(),
                "{t}"
            );
        }
        // trailing data, duplicates
        assert!(matches!(
            decode(b"1 2", &Type::Number).unwrap_err(),
            CodecError::TrailingData { count: 1 }
        ));
        assert!(decode(br#"{"id":"a","id":"b"}"#, &ty).is_err());
        assert!(decode(br#"{"a":"a","a":"b"}"#, &Type::map(Type::String)).is_err());
        // dynamic shape
        assert!(decode(br#"{"value":1}"#, &Type::Dynamic).is_err());
        assert!(decode(br#"{"type":"number"}"#, &Type::Dynamic).is_err());
        assert!(decode(br#"{"type":"nope","value":1}"#, &Type::Dynamic).is_err());
        assert!(decode(br#"{"type":"number","value":1,"x":2}"#, &Type::Dynamic).is_err());
        assert!(decode(b"1", &Type::Dynamic).is_err());
        // deep nesting is an error, not a stack overflow
        let deep = "[".repeat(100_000);
        assert!(decode(deep.as_bytes(), &Type::Dynamic).is_err());
    }
}

//! A small JSON parser that keeps number text verbatim (serde_json without
//! `arbitrary_precision` would round big numbers to `f64`).

use super::super::types::CodecError;
use super::MAX_DEPTH;

/// Parses a whole JSON document; anything after the value is an error.
pub(super) fn parse(bytes: &[u8]) -> Result<Node, CodecError> {
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
    Ok(node)
}

/// A parsed JSON value with number text kept verbatim and object members in input order.
#[derive(Debug)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    pub(super) fn kind(&self) -> &'static str {
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
    pub(super) fn into_serde(self) -> serde_json::Value {
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

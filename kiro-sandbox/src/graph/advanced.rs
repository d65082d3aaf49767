//! Graph's advanced queries on directory objects (graph-api.md, "Response conventions";
//! Microsoft's "Advanced query capabilities on Microsoft Entra ID objects"): `$search`, the
//! `$count` segment and parameter, and the `$filter` operators `ne`, `not` and `endsWith`
//! work only with the `ConsistencyLevel: eventual` header (and, for those operators,
//! `$count=true`); without them Graph answers the documented 400s below.

use super::errors::GraphError;
use super::query::{FilterSpec, Object};

/// `GET …/$count` without the header. Microsoft's advanced-query page tabulates an older
/// answer (`Request_BadRequest`, "$count is not currently supported."); Graph answers this one
/// today (seen in a 2025 HTTP trace of `GET /beta/applications/$count`, ScEntra issue #17).
pub fn count_segment_needs_header() -> GraphError {
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        "Raw count (/$count) is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
    )
}

/// `$search` without the header (documented message).
pub fn search_needs_header() -> GraphError {
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    )
}

/// A `$filter` operator of advanced queries without the header or `$count=true` (documented
/// for `endsWith`; Graph words it the same way for `ne` and `not`).
pub fn operator_needs_advanced_query(operator: &str) -> GraphError {
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        format!(
            "Operator '{operator}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
        ),
    )
}

/// A parsed `$search`: clauses `"property:text"` joined with `AND`/`OR` (upper case, outside
/// the quotes), grouped with parentheses.
#[derive(Clone, Debug, PartialEq)]
pub enum Search {
    Clause { property: String, text: String },
    And(Box<Search>, Box<Search>),
    Or(Box<Search>, Box<Search>),
}

impl Search {
    pub fn matches(&self, obj: &Object) -> bool {
        match self {
            Search::Clause { property, text } => {
                let value = obj.get(property).and_then(|v| v.as_str()).unwrap_or("");
                if matches!(property.as_str(), "displayName" | "description") {
                    tokenized_match(value, text)
                } else {
                    // Other properties search as startsWith (Graph's "$search" docs).
                    value.to_lowercase().starts_with(&text.to_lowercase())
                }
            }
            Search::And(a, b) => a.matches(obj) && b.matches(obj),
            Search::Or(a, b) => a.matches(obj) || b.matches(obj),
        }
    }
}

/// Graph's tokenization: words split at spaces, symbols, letter/digit changes and a change
/// from lower to upper case; compared without case, in any order. Words joined only by
/// symbols also count as one (`helloworld` finds `hello-world`). Every word searched for
/// must start a word of the value.
fn tokenized_match(value: &str, text: &str) -> bool {
    let joined: String = value
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    let mut have = tokens(value);
    have.extend(tokens(&joined));
    tokens(text)
        .iter()
        .all(|want| have.iter().any(|h| h.starts_with(want.as_str())))
}

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let boundary = match prev {
            None => false,
            Some(p) => {
                !c.is_alphanumeric()
                    || p.is_lowercase() && c.is_uppercase()
                    || p.is_alphabetic() != c.is_alphabetic()
            }
        };
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word).to_lowercase());
        }
        if c.is_alphanumeric() {
            word.push(c);
        }
        prev = Some(c).filter(|c| c.is_alphanumeric());
    }
    if !word.is_empty() {
        out.push(word.to_lowercase());
    }
    out
}

/// Parses `$search` against the properties `spec` lets `$filter` use (Graph: "Any property
/// that can be used in $filter can also be used inside $search").
pub fn parse_search(raw: &str, spec: &FilterSpec) -> Result<Search, GraphError> {
    let mut p = Parser {
        chars: raw.chars().collect(),
        at: 0,
        raw,
        spec,
    };
    let search = p.or()?;
    p.skip_spaces();
    if p.at < p.chars.len() {
        return Err(p.syntax("unexpected text after the last clause"));
    }
    Ok(search)
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    raw: &'a str,
    spec: &'a FilterSpec,
}

impl Parser<'_> {
    /// The exact wording of Graph's `$search` syntax errors is not documented; this one says
    /// what is wrong and what the form is.
    fn syntax(&self, why: &str) -> GraphError {
        GraphError::bad_request(
            "Request_UnsupportedQuery",
            format!(
                "Syntax error in $search '{}' at position {}: {why}. Each clause is \"property:text\" in double quotes; AND and OR go between clauses.",
                self.raw, self.at
            ),
        )
    }

    fn skip_spaces(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_spaces();
        let end = self.at + word.len();
        let matches = self.chars.get(self.at..end).is_some_and(|w| {
            w.iter().copied().eq(word.chars())
                && self
                    .chars
                    .get(end)
                    .is_none_or(|c| c.is_whitespace() || *c == '(' || *c == '"')
        });
        if matches {
            self.at = end;
        }
        matches
    }

    fn or(&mut self) -> Result<Search, GraphError> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Search::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Search, GraphError> {
        let mut left = self.term()?;
        while self.keyword("AND") {
            left = Search::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Search, GraphError> {
        self.skip_spaces();
        match self.chars.get(self.at) {
            Some('(') => {
                self.at += 1;
                let inner = self.or()?;
                self.skip_spaces();
                if self.chars.get(self.at) != Some(&')') {
                    return Err(self.syntax("a `(` is not closed"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some('"') => self.clause(),
            _ => Err(self.syntax("a clause must be in double quotes")),
        }
    }

    /// `"property:text"`; inside the quotes `\"` and `\\` are escapes.
    fn clause(&mut self) -> Result<Search, GraphError> {
        self.at += 1;
        let mut body = String::new();
        loop {
            match self.chars.get(self.at) {
                None => return Err(self.syntax("a quoted clause is not closed")),
                Some('\\') if matches!(self.chars.get(self.at + 1), Some('"' | '\\')) => {
                    body.push(self.chars[self.at + 1]);
                    self.at += 2;
                }
                Some('"') => {
                    self.at += 1;
                    break;
                }
                Some(c) => {
                    body.push(*c);
                    self.at += 1;
                }
            }
        }
        let Some((property, text)) = body.split_once(':') else {
            return Err(self.syntax("a clause names its property, as \"displayName:text\""));
        };
        let property = property.trim();
        let known = self
            .spec
            .eq
            .iter()
            .chain(self.spec.starts_with)
            .find(|p| p.eq_ignore_ascii_case(property))
            .ok_or_else(|| {
                GraphError::bad_request(
                    "Request_UnsupportedQuery",
                    format!(
                        "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                        self.spec.resource
                    ),
                )
            })?;
        Ok(Search::Clause {
            property: (*known).to_string(),
            text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SPEC: FilterSpec = FilterSpec {
        resource: "User",
        eq: &["displayName", "mail"],
        starts_with: &["displayName"],
        ends_with: &["mail"],
        any_eq: &[],
    };

    fn obj(v: serde_json::Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tokens_split_as_graph_documents() {
        assert_eq!(tokens("hello world"), ["hello", "world"]);
        assert_eq!(tokens("HelloWorld"), ["hello", "world"]);
        assert_eq!(tokens("HELLOworld"), ["helloworld"]);
        assert_eq!(tokens("hello123world"), ["hello", "123", "world"]);
        assert_eq!(tokens("hello.world"), ["hello", "world"]);
    }

    #[test]
    fn clauses_and_or_and_parentheses() {
        let s = parse_search(r#""displayName:Guthr" OR "mail:zed""#, &SPEC).unwrap();
        assert!(s.matches(&obj(json!({"displayName": "Dana Guthrie", "mail": "d@x"}))));
        assert!(s.matches(&obj(json!({"displayName": "Other", "mail": "Zed@x"}))));
        assert!(!s.matches(&obj(json!({"displayName": "Other", "mail": "y@x"}))));
        let s = parse_search(
            r#""displayName:one" AND ("displayName:video" OR "displayName:drive")"#,
            &SPEC,
        )
        .unwrap();
        assert!(s.matches(&obj(json!({"displayName": "OneVideo"}))));
        assert!(!s.matches(&obj(json!({"displayName": "OneNote"}))));
        let s = parse_search(r#""displayName:helloworld""#, &SPEC).unwrap();
        assert!(s.matches(&obj(json!({"displayName": "hello-world"}))));
        let s = parse_search(r#""displayName:say \"hi\"""#, &SPEC).unwrap();
        assert_eq!(
            s,
            Search::Clause {
                property: "displayName".into(),
                text: "say \"hi\"".into()
            }
        );
    }

    #[test]
    fn unquoted_lower_case_or_unknown_properties_are_refused() {
        for bad in [
            "displayName:foo",
            r#""displayName:a" or "displayName:b""#,
            r#""displayName:a"#,
            r#""foo""#,
            r#"("displayName:a""#,
        ] {
            let e = parse_search(bad, &SPEC).unwrap_err();
            assert_eq!(e.code, "Request_UnsupportedQuery", "{bad}");
            assert!(e.message.contains("Syntax error"), "{bad}: {}", e.message);
        }
        let e = parse_search(r#""jobTitle:x""#, &SPEC).unwrap_err();
        assert!(e.message.contains("property 'jobTitle' of resource 'User'"));
    }
}

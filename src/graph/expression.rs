//! Attribute-mapping expressions as the Entra portal writes them — `[objectId]`,
//! `"constant"`, `Join(" ", [givenName], [surname])` — parsed into the [`MappingSource`] tree
//! the synchronization schema stores, so a mapping can be written as text and compared with
//! what Graph holds whatever its spacing.
//!
//! Function parameter keys follow the portal's names for the functions that have them
//! (`Join`: `separator`, then `source`…; `Switch`: `source`, `defaultValue`, then `key`/`value`
//! pairs); other functions' arguments are all `source` **[assumed: Graph's parseExpression
//! names them per function; the synchronization engine evaluates them in order]**.

use super::synchronization::{MappingParameter, MappingSource};

/// Parses `text` into a mapping source; the error says where and what was expected.
pub fn parse_expression(text: &str) -> Result<MappingSource, String> {
    let mut parser = Parser {
        text,
        chars: text.char_indices().collect(),
        at: 0,
    };
    let source = parser.source()?;
    parser.skip_space();
    if parser.at < parser.chars.len() {
        return Err(parser.unexpected("the end of the expression"));
    }
    Ok(source)
}

/// Whether two sources compute the same thing (names of functions and attributes compare
/// case-insensitively, as Entra does; the `expression` text and unknown fields are ignored).
pub fn same_source(a: &MappingSource, b: &MappingSource) -> bool {
    let names_match = match (&a.name, &b.name) {
        (Some(x), Some(y)) if a.kind == "Constant" => x == y,
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (x, y) => x == y,
    };
    a.kind.eq_ignore_ascii_case(&b.kind)
        && names_match
        && a.parameters.len() == b.parameters.len()
        && a.parameters
            .iter()
            .zip(&b.parameters)
            .all(|(p, q)| same_source(&p.value, &q.value))
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|&(_, c)| c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn unexpected(&self, expected: &str) -> String {
        match self.chars.get(self.at) {
            Some(&(offset, c)) => format!(
                "expected {expected} at character {} of {:?}, found {c:?}",
                offset + 1,
                self.text
            ),
            None => format!("expected {expected}, but {:?} ends there", self.text),
        }
    }

    fn source(&mut self) -> Result<MappingSource, String> {
        self.skip_space();
        match self.peek() {
            Some('[') => self.attribute(),
            Some('"') => self.constant(),
            Some(c) if c.is_ascii_alphabetic() => self.function(),
            _ => Err(self.unexpected("[attribute], \"constant\" or Function(…)")),
        }
    }

    fn attribute(&mut self) -> Result<MappingSource, String> {
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c != ']') {
            self.at += 1;
        }
        if self.peek() != Some(']') {
            return Err(self.unexpected("']'"));
        }
        let name: String = self.chars[start..self.at].iter().map(|&(_, c)| c).collect();
        self.at += 1;
        let name = name.trim();
        if name.is_empty() {
            return Err("an attribute name between [ and ] is empty".into());
        }
        Ok(MappingSource::attribute(name))
    }

    fn constant(&mut self) -> Result<MappingSource, String> {
        self.at += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(self.unexpected("a closing '\"'")),
                Some('"') => {
                    self.at += 1;
                    break;
                }
                Some('\\') if self.chars.get(self.at + 1).is_some_and(|&(_, c)| c == '"') => {
                    value.push('"');
                    self.at += 2;
                }
                Some(c) => {
                    value.push(c);
                    self.at += 1;
                }
            }
        }
        Ok(MappingSource {
            expression: Some(format!("\"{}\"", value.replace('"', "\\\""))),
            name: Some(value),
            kind: "Constant".into(),
            ..MappingSource::default()
        })
    }

    fn function(&mut self) -> Result<MappingSource, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.at += 1;
        }
        let name: String = self.chars[start..self.at].iter().map(|&(_, c)| c).collect();
        self.skip_space();
        if self.peek() != Some('(') {
            return Err(self.unexpected(&format!("'(' after the function name {name}")));
        }
        self.at += 1;
        let mut arguments = Vec::new();
        self.skip_space();
        if self.peek() == Some(')') {
            self.at += 1;
        } else {
            loop {
                arguments.push(self.source()?);
                self.skip_space();
                match self.peek() {
                    Some(',') => self.at += 1,
                    Some(')') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.unexpected(&format!("',' or ')' in {name}(…)"))),
                }
            }
        }
        let end = self.chars.get(self.at).map_or(self.text.len(), |&(o, _)| o);
        let text = &self.text[self.chars[start].0..end];
        let parameters = arguments
            .into_iter()
            .enumerate()
            .map(|(i, value)| MappingParameter {
                key: parameter_key(&name, i).to_string(),
                value,
                extra: Default::default(),
            })
            .collect();
        Ok(MappingSource {
            expression: Some(text.trim().to_string()),
            name: Some(name),
            kind: "Function".into(),
            parameters,
            ..MappingSource::default()
        })
    }
}

fn parameter_key(function: &str, index: usize) -> &'static str {
    match (function.to_ascii_lowercase().as_str(), index) {
        ("join", 0) => "separator",
        ("switch", 0) => "source",
        ("switch", 1) => "defaultValue",
        ("switch", i) if i % 2 == 0 => "key",
        ("switch", _) => "value",
        _ => "source",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_constants_and_nested_functions() {
        let a = parse_expression(" [objectId] ").unwrap();
        assert_eq!(a, MappingSource::attribute("objectId"));

        let c = parse_expression(r#""say \"hi\"""#).unwrap();
        assert_eq!(c.kind, "Constant");
        assert_eq!(c.name.as_deref(), Some(r#"say "hi""#));

        let f = parse_expression(r#"Join(" ", [givenName], Switch([surname], "x", "a", "b"))"#)
            .unwrap();
        assert_eq!(f.kind, "Function");
        assert_eq!(f.name.as_deref(), Some("Join"));
        let keys: Vec<&str> = f.parameters.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["separator", "source", "source"]);
        let switch = &f.parameters[2].value;
        let keys: Vec<&str> = switch.parameters.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["source", "defaultValue", "key", "value"]);
        assert_eq!(
            f.expression.as_deref(),
            Some(r#"Join(" ", [givenName], Switch([surname], "x", "a", "b"))"#)
        );
    }

    #[test]
    fn spacing_and_name_case_do_not_matter_but_constants_do() {
        let a = parse_expression(r#"Join(" ",[givenName],[surname])"#).unwrap();
        let b = parse_expression(r#"join( " " , [GivenName] , [surname] )"#).unwrap();
        assert!(same_source(&a, &b));
        let c = parse_expression(r#"Join("-", [givenName], [surname])"#).unwrap();
        assert!(!same_source(&a, &c));
        assert!(!same_source(
            &MappingSource::attribute("mail"),
            &MappingSource::attribute("objectId")
        ));
    }

    #[test]
    fn errors_say_where() {
        for (text, needle) in [
            ("[objectId", "']'"),
            ("Join(\" \", [a]", "',' or ')'"),
            ("\"open", "closing"),
            ("[a] [b]", "end of the expression"),
            ("", "[attribute]"),
            ("Join [a]", "'('"),
            ("[ ]", "empty"),
        ] {
            let err = parse_expression(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}

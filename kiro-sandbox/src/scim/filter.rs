//! SCIM filters as Kiro supports them: `attr eq value`, joined with `and` (kiro-api.md,
//! "Filters"). Every other operator, `or`, `not` and grouping is refused with
//! `invalidFilter`, so a client relying on more learns it at once.

use serde_json::Value;

use super::error::ScimError;

/// One `attr eq value` comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Eq {
    pub attr: String,
    pub value: Value,
}

const UNSUPPORTED: &str = "Kiro's SCIM filters support only `eq` comparisons joined with `and`";

/// Parses `filter` into its comparisons (all of which must hold).
pub fn parse(filter: &str) -> Result<Vec<Eq>, ScimError> {
    let tokens = tokenize(filter)?;
    let mut out = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let [Token::Word(attr), Token::Word(op), value, tail @ ..] = rest else {
            return Err(ScimError::invalid_filter(format!(
                "cannot read filter `{filter}`: expected `attribute eq value`"
            )));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ScimError::invalid_filter(format!(
                "operator `{op}` in `{filter}`: {UNSUPPORTED}"
            )));
        }
        if !is_attr_path(attr) {
            return Err(ScimError::invalid_filter(format!(
                "`{attr}` in `{filter}` is not an attribute name"
            )));
        }
        let value = match value {
            Token::Str(s) => Value::String(s.clone()),
            Token::Word(w) => literal(w).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "`{w}` in `{filter}` is not a value (strings are in double quotes)"
                ))
            })?,
        };
        out.push(Eq {
            attr: attr.clone(),
            value,
        });
        match tail {
            [] => return Ok(out),
            [Token::Word(join), more @ ..] if join.eq_ignore_ascii_case("and") => rest = more,
            [Token::Word(join), ..] => {
                return Err(ScimError::invalid_filter(format!(
                    "`{join}` in `{filter}`: {UNSUPPORTED}"
                )));
            }
            [Token::Str(s), ..] => {
                return Err(ScimError::invalid_filter(format!(
                    "unexpected \"{s}\" in `{filter}`"
                )));
            }
        }
    }
}

fn literal(word: &str) -> Option<Value> {
    match word {
        w if w.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
        w if w.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
        w if w.eq_ignore_ascii_case("null") => Some(Value::Null),
        w => serde_json::from_str::<serde_json::Number>(w)
            .ok()
            .map(Value::Number),
    }
}

fn is_attr_path(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-' | '$'))
}

#[derive(Debug)]
enum Token {
    Word(String),
    Str(String),
}

fn tokenize(filter: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = filter.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            // A JSON string: find its closing quote, honouring backslash escapes.
            chars.next();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in chars.by_ref() {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| {
                ScimError::invalid_filter(format!("unterminated string in `{filter}`"))
            })?;
            let s: String = serde_json::from_str(&filter[start..=end])
                .map_err(|e| ScimError::invalid_filter(format!("bad string in `{filter}`: {e}")))?;
            tokens.push(Token::Str(s));
        } else if matches!(c, '(' | ')' | '[' | ']') {
            return Err(ScimError::invalid_filter(format!(
                "`{c}` in `{filter}`: {UNSUPPORTED}"
            )));
        } else {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() || matches!(c, '"' | '(' | ')' | '[' | ']') {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            tokens.push(Token::Word(filter[start..end].to_string()));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn eq_comparisons_joined_with_and() {
        let f = parse(r#"userName eq "a b\"c" AND externalId Eq "x-1""#).unwrap();
        assert_eq!(
            f,
            [
                Eq {
                    attr: "userName".into(),
                    value: json!("a b\"c")
                },
                Eq {
                    attr: "externalId".into(),
                    value: json!("x-1")
                },
            ]
        );
        let f = parse("active eq true").unwrap();
        assert_eq!(f[0].value, json!(true));
    }

    #[test]
    fn everything_else_is_an_invalid_filter() {
        for bad in [
            r#"userName co "a""#,
            r#"userName sw "a""#,
            "userName pr",
            r#"userName eq "a" or userName eq "b""#,
            r#"not (userName eq "a")"#,
            r#"emails[type eq "work"]"#,
            r#"userName eq "unterminated"#,
            "userName eq bareword",
            "",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{bad}: {e:?}");
            assert_eq!(e.status, 400);
        }
    }
}

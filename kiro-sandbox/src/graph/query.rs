//! OData query options for collections: `$filter` (the forms Graph supports on directory
//! objects), `$top`, `$skiptoken` paging with an absolute `@odata.nextLink`, `$select`, and
//! the advanced queries ([`super::advanced`]): `$search`, `$count` and `@odata.count`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::advanced::{self, Search};
use super::errors::{GraphError, GraphResult};
use super::{Ctx, Req};

pub type Object = Map<String, Value>;

/// Which properties a resource lets `$filter` use, per operator.
pub struct FilterSpec {
    pub resource: &'static str,
    pub eq: &'static [&'static str],
    pub starts_with: &'static [&'static str],
    /// Only in advanced queries (Graph: `mail`, `otherMails`, `userPrincipalName`,
    /// `proxyAddresses` of users).
    pub ends_with: &'static [&'static str],
    pub any_eq: &'static [&'static str],
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Eq(String, String),
    /// Advanced queries only, on the properties `eq` takes.
    Ne(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
    AnyEq(String, String),
    /// Advanced queries only.
    Not(Box<Filter>),
}

impl Filter {
    pub fn matches(&self, obj: &Object) -> bool {
        let text = |p: &str| obj.get(p).and_then(Value::as_str).map(str::to_lowercase);
        match self {
            Filter::Eq(p, v) => text(p) == Some(v.to_lowercase()),
            Filter::Ne(p, v) => text(p) != Some(v.to_lowercase()),
            Filter::StartsWith(p, v) => text(p).is_some_and(|t| t.starts_with(&v.to_lowercase())),
            Filter::EndsWith(p, v) => text(p).is_some_and(|t| t.ends_with(&v.to_lowercase())),
            Filter::AnyEq(p, v) => obj.get(p).and_then(Value::as_array).is_some_and(|a| {
                a.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case(v)))
            }),
            Filter::Not(f) => !f.matches(obj),
        }
    }

    /// The operator that makes this an advanced query, if any.
    fn advanced_operator(&self) -> Option<&'static str> {
        match self {
            Filter::Not(_) => Some("not"),
            Filter::Ne(..) => Some("ne"),
            Filter::EndsWith(..) => Some("endsWith"),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    filter: Option<Filter>,
    raw_filter: Option<String>,
    search: Option<Search>,
    raw_search: Option<String>,
    /// `$count=true` in an advanced query: the first page carries `@odata.count`.
    count: bool,
    /// `GET …/$count`: the answer is the number alone.
    count_segment: bool,
    top: Option<usize>,
    skip: usize,
    select: Option<Vec<String>>,
}

const DEFAULT_TOP: usize = 100;

impl ListQuery {
    pub fn parse(req: &Req<'_>, spec: &FilterSpec) -> GraphResult<Self> {
        let mut q = ListQuery {
            count_segment: req.count_segment,
            ..ListQuery::default()
        };
        let mut count = false;
        for (name, value) in &req.query {
            match name.as_str() {
                "$filter" => {
                    q.filter = Some(parse_filter(value, spec)?);
                    q.raw_filter = Some(value.clone());
                }
                "$search" => q.raw_search = Some(value.clone()),
                "$count" => count = parse_count(value)?,
                "$top" => q.top = Some(parse_top(value)?),
                "$skiptoken" => q.skip = decode_skiptoken(value)?,
                "$select" => q.select = Some(split_select(value)),
                _ => {}
            }
        }
        if let Some(raw) = &q.raw_search {
            if !req.eventual {
                return Err(advanced::search_needs_header());
            }
            q.search = Some(advanced::parse_search(raw, spec)?);
        }
        if let Some(op) = q.filter.as_ref().and_then(Filter::advanced_operator)
            && !(req.eventual && (count || q.count_segment))
        {
            return Err(advanced::operator_needs_advanced_query(op));
        }
        // Without the header Graph ignores `$count=true` silently (documented).
        q.count = count && req.eventual;
        Ok(q)
    }

    /// Whether `obj` passes `$filter` and `$search`.
    pub fn matches(&self, obj: &Object) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(obj))
            && self.search.as_ref().is_none_or(|s| s.matches(obj))
    }

    /// The answer for `items` (already filtered and ordered): one page of at most `$top`
    /// (Graph's default 100 without it), with `@odata.nextLink` when more remain and
    /// `@odata.count` on the first page when asked; for `…/$count`, the number as text.
    /// `path` is e.g. `applications`.
    pub fn page(&self, ctx: &Ctx, path: &str, context_set: &str, items: Vec<Object>) -> Response {
        self.page_of(DEFAULT_TOP, ctx, path, context_set, items)
    }

    /// Like [`ListQuery::page`], with `default_top` items per page when there is no `$top`.
    pub fn page_of(
        &self,
        default_top: usize,
        ctx: &Ctx,
        path: &str,
        context_set: &str,
        items: Vec<Object>,
    ) -> Response {
        if self.count_segment {
            let mut resp = (StatusCode::OK, items.len().to_string()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain;charset=utf-8"),
            );
            return resp;
        }
        let top = self.top.unwrap_or(default_top).max(1);
        let end = (self.skip + top).min(items.len());
        let start = self.skip.min(end);
        let value: Vec<Value> = items[start..end]
            .iter()
            .map(|o| Value::Object(project(o, self.select.as_deref())))
            .collect();
        let mut body = json!({"@odata.context": ctx.context(context_set, false), "value": value});
        if self.count && self.skip == 0 {
            body["@odata.count"] = json!(items.len());
        }
        if end < items.len() {
            body["@odata.nextLink"] = Value::String(self.next_link(ctx, path, end));
        }
        super::json(StatusCode::OK, body)
    }

    fn next_link(&self, ctx: &Ctx, path: &str, next: usize) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut parts = Vec::new();
        if let Some(f) = &self.raw_filter {
            parts.push(format!("$filter={}", enc(f)));
        }
        if let Some(search) = &self.raw_search {
            parts.push(format!("$search={}", enc(search)));
        }
        if self.count {
            parts.push("$count=true".to_string());
        }
        if let Some(top) = self.top {
            parts.push(format!("$top={top}"));
        }
        if let Some(sel) = &self.select {
            parts.push(format!("$select={}", enc(&sel.join(","))));
        }
        let token = URL_SAFE_NO_PAD.encode(format!("sbx-skip:{next}"));
        parts.push(format!("$skiptoken={token}"));
        format!("{}/graph/v1.0/{path}?{}", ctx.base, parts.join("&"))
    }
}

/// `$select` of a single-entity request, if any.
pub fn select(query: &[(String, String)]) -> Option<Vec<String>> {
    query
        .iter()
        .find(|(k, _)| k == "$select")
        .map(|(_, v)| split_select(v))
}

fn split_select(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Keeps only the selected properties (all of them without `$select`).
pub fn project(obj: &Object, select: Option<&[String]>) -> Object {
    match select {
        None => obj.clone(),
        Some(props) => obj
            .iter()
            .filter(|(k, _)| props.iter().any(|p| p.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn parse_count(v: &str) -> GraphResult<bool> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(GraphError::bad_request(
            "BadRequest",
            format!(
                "Invalid value '{v}' for $count query option found. The $count query option requires a Boolean value."
            ),
        )),
    }
}

fn parse_top(v: &str) -> GraphResult<usize> {
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=999).contains(&n) => Ok(n),
        _ => Err(GraphError::bad_request(
            "Request_UnsupportedQuery",
            format!("Invalid page size specified: '{v}'. Must be between 1 and 999 inclusive."),
        )),
    }
}

fn decode_skiptoken(v: &str) -> GraphResult<usize> {
    URL_SAFE_NO_PAD
        .decode(v.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("sbx-skip:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            GraphError::bad_request(
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            )
        })
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if "()/:,".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else if c == '\'' {
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated string literal at position {i}")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(lit));
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            return Err(format!("syntax error at position {i}"));
        }
    }
    Ok(out)
}

fn parse_filter(s: &str, spec: &FilterSpec) -> GraphResult<Filter> {
    let toks = lex(s).map_err(|why| filter_syntax(s, why))?;
    parse_clause(&toks, s, spec)
}

fn filter_syntax(s: &str, why: String) -> GraphError {
    GraphError::bad_request(
        "BadRequest",
        format!("Invalid filter clause: {why} in '{s}'."),
    )
}

fn unsupported_property(prop: &str, spec: &FilterSpec) -> GraphError {
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        format!(
            "Unsupported or invalid query filter clause specified for property '{prop}' of resource '{}'.",
            spec.resource
        ),
    )
}

/// One clause: `p eq|ne 'v'`, `startsWith|endsWith(p,'v')`, `p/any(x:x eq 'v')`, or `not`
/// before a clause (with or without parentheses).
fn parse_clause(toks: &[Tok], s: &str, spec: &FilterSpec) -> GraphResult<Filter> {
    use Tok::{Ident as I, Punct as P, Str as S};
    let is = |t: &str, name: &str| t.eq_ignore_ascii_case(name);
    let allowed = |p: &str, list: &[&'static str]| {
        list.iter()
            .find(|a| a.eq_ignore_ascii_case(p))
            .map(|a| a.to_string())
            .ok_or_else(|| unsupported_property(p, spec))
    };
    Ok(match toks {
        [I(not), rest @ ..] if is(not, "not") && !rest.is_empty() => {
            let inner = match rest {
                [P('('), inner @ .., P(')')] => inner,
                _ => rest,
            };
            Filter::Not(Box::new(parse_clause(inner, s, spec)?))
        }
        [I(p), I(op), S(v)] if is(op, "eq") => Filter::Eq(allowed(p, spec.eq)?, v.clone()),
        [I(p), I(op), S(v)] if is(op, "ne") => Filter::Ne(allowed(p, spec.eq)?, v.clone()),
        [I(f), P('('), I(p), P(','), S(v), P(')')] if is(f, "startswith") => {
            Filter::StartsWith(allowed(p, spec.starts_with)?, v.clone())
        }
        [I(f), P('('), I(p), P(','), S(v), P(')')] if is(f, "endswith") => {
            Filter::EndsWith(allowed(p, spec.ends_with)?, v.clone())
        }
        [
            I(p),
            P('/'),
            I(any),
            P('('),
            I(x),
            P(':'),
            I(x2),
            I(op),
            S(v),
            P(')'),
        ] if is(any, "any") && x == x2 && is(op, "eq") => {
            Filter::AnyEq(allowed(p, spec.any_eq)?, v.clone())
        }
        _ => return Err(filter_syntax(s, "unsupported expression".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: FilterSpec = FilterSpec {
        resource: "Application",
        eq: &["displayName", "appId"],
        starts_with: &["displayName"],
        ends_with: &[],
        any_eq: &["identifierUris"],
    };

    #[test]
    fn filter_forms_and_quote_escaping() {
        let f = parse_filter("displayName eq 'O''Brien''s app'", &SPEC).unwrap();
        assert_eq!(f, Filter::Eq("displayName".into(), "O'Brien's app".into()));
        let f = parse_filter("startswith(displayname,'Kiro')", &SPEC).unwrap();
        assert_eq!(f, Filter::StartsWith("displayName".into(), "Kiro".into()));
        let f = parse_filter("identifierUris/any(x:x eq 'api://a')", &SPEC).unwrap();
        assert!(f.matches(json!({"identifierUris":["API://A"]}).as_object().unwrap()));
        let e = parse_filter("notes eq 'x'", &SPEC).unwrap_err();
        assert_eq!(e.code, "Request_UnsupportedQuery");
        assert_eq!(
            parse_filter("displayName eq x", &SPEC).unwrap_err().code,
            "BadRequest"
        );
        assert_eq!(
            parse_filter("displayName eq 'x", &SPEC).unwrap_err().code,
            "BadRequest"
        );
    }

    #[test]
    fn top_bounds_and_skiptoken_round_trip() {
        assert!(parse_top("0").is_err());
        assert!(parse_top("1000").is_err());
        assert_eq!(parse_top("999").unwrap(), 999);
        let token = URL_SAFE_NO_PAD.encode("sbx-skip:7");
        assert_eq!(decode_skiptoken(&token).unwrap(), 7);
        assert_eq!(
            decode_skiptoken("garbage").unwrap_err().code,
            "Directory_ExpiredPageToken"
        );
    }
}

//! Resource documents: what a client sends is checked against the schema table and stored in
//! canonical form (attribute names spelled as published, string booleans made booleans,
//! read-only and empty values dropped); what is stored is rendered back with `id`, `schemas`
//! and `meta`, then trimmed by `attributes`/`excludedAttributes`.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::schema::{
    Attr, EXTERNAL_ID, Kind, REJECTED_USER_ATTRIBUTES, Resource, SINGLE_VALUED_USER_ATTRIBUTES,
    get_ci,
};

/// Attributes a client may send but the server owns; they are ignored on input.
const SERVER_OWNED: [&str; 4] = ["schemas", "id", "meta", "groups"];

/// Checks a client's document and returns its canonical stored form (no `id`, `schemas`,
/// `meta`). PATCH results go through here too, so every write obeys the same rules.
pub fn canonicalize(
    res: Resource,
    input: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in input {
        if SERVER_OWNED.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        if let Some((urn, ext_attrs)) = res.extension().filter(|(u, _)| u.eq_ignore_ascii_case(key))
        {
            if value.is_null() {
                continue;
            }
            let Value::Object(fields) = value else {
                return Err(ScimError::invalid_syntax(format!(
                    "{urn} must be an object"
                )));
            };
            let mut ext = Map::new();
            for (name, v) in fields {
                reject_if_unsupported(res, urn, name)?;
                let attr = ext_attrs
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| unknown(urn, name))?;
                if let Some(v) = convert(attr, v, attr.name)? {
                    ext.insert(attr.name.to_string(), v);
                }
            }
            if !ext.is_empty() {
                out.insert(urn.to_string(), Value::Object(ext));
            }
            continue;
        }
        reject_if_unsupported(res, res.schema(), key)?;
        let attr = res.attr(key).ok_or_else(|| unknown(res.schema(), key))?;
        let converted = convert(attr, value, attr.name)?;
        if attr.mutability == "writeOnly" {
            // `password` (RFC 7643 §4.1.1): accepted, but Kiro's users sign in through Entra,
            // so it is never stored and therefore never returned.
            continue;
        }
        if let Some(v) = converted {
            out.insert(attr.name.to_string(), v);
        }
    }
    check_rules(res, &out)?;
    Ok(out)
}

fn unknown(schema: &str, name: &str) -> ScimError {
    ScimError::invalid_syntax(format!(
        "attribute `{name}` is not in schema {schema} as Kiro publishes it (see /Schemas)"
    ))
}

/// Kiro answers 400 `invalidValue` for these (kiro-api.md, "The SCIM endpoint"): Entra's
/// default mappings send them, and Kiro's users report that provisioning then fails.
pub fn reject_if_unsupported(res: Resource, schema: &str, name: &str) -> Result<(), ScimError> {
    if res != Resource::User {
        return Ok(());
    }
    match REJECTED_USER_ATTRIBUTES
        .iter()
        .find(|(s, a)| s.eq_ignore_ascii_case(schema) && a.eq_ignore_ascii_case(name))
    {
        Some((s, a)) => Err(ScimError::invalid_value(format!(
            "Kiro does not accept `{a}` ({s}); remove it from the attribute mappings"
        ))),
        None => Ok(()),
    }
}

/// One attribute's value in canonical form; `None` when it is empty or null (cleared).
fn convert(attr: &Attr, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items = match value {
            Value::Array(items) => items.clone(),
            // A single value where a list belongs: Entra's path-less PATCH values do this.
            one => vec![one.clone()],
        };
        let mut out = Vec::new();
        for item in &items {
            if let Some(v) = convert_one(attr, item, path)?
                && !out.contains(&v)
            {
                out.push(v);
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    if value.is_array() {
        return Err(ScimError::invalid_syntax(format!(
            "`{path}` is single-valued; got a list"
        )));
    }
    convert_one(attr, value, path)
}

fn convert_one(attr: &Attr, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    match (attr.kind, value) {
        (_, Value::Null) => Ok(None),
        (Kind::String | Kind::Reference, Value::String(_)) => Ok(Some(value.clone())),
        (Kind::Binary, Value::String(s)) => {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|e| {
                    ScimError::invalid_value(format!(
                        "`{path}` must be base64 (RFC 7643 §2.3.6): {e}"
                    ))
                })?;
            Ok(Some(value.clone()))
        }
        (Kind::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        // Entra sends booleans as the strings "True"/"False" in PATCH values.
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(json!(true)))
        }
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(json!(false)))
        }
        (Kind::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            for (name, v) in fields {
                let sub = attr.sub_attr(name).ok_or_else(|| {
                    ScimError::invalid_syntax(format!("`{path}` has no sub-attribute `{name}`"))
                })?;
                // Read-only and derived sub-attributes (a member's `display`, `$ref`) are
                // the server's to fill in.
                if sub.mutability == "readOnly"
                    || sub.kind == Kind::Reference && attr.name == "members"
                {
                    continue;
                }
                if let Some(v) = convert(sub, v, &format!("{path}.{}", sub.name))? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (kind, other) => Err(ScimError::invalid_value(format!(
            "`{path}` must be {}; got {other}",
            match kind {
                Kind::String | Kind::Reference => "a string",
                Kind::Boolean => "a boolean (or \"True\"/\"False\")",
                Kind::Complex => "an object",
                Kind::Binary => "base64 text",
            }
        ))),
    }
}

fn is_valid_external_id(id: &str) -> bool {
    id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn check_rules(res: Resource, doc: &Map<String, Value>) -> Result<(), ScimError> {
    let required = res
        .attrs()
        .iter()
        .find(|a| a.required)
        .expect("each resource has a required attribute");
    match doc.get(required.name) {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        _ => {
            return Err(ScimError::invalid_value(format!(
                "`{}` is required and must not be empty",
                required.name
            )));
        }
    }
    if let Some(Value::String(ext)) = doc.get(EXTERNAL_ID.name)
        && !is_valid_external_id(ext)
    {
        return Err(ScimError::invalid_value(format!(
            "externalId `{ext}` may contain only letters, digits and `-`"
        )));
    }
    if res == Resource::User {
        for name in SINGLE_VALUED_USER_ATTRIBUTES {
            if let Some(Value::Array(items)) = doc.get(name)
                && items.len() > 1
            {
                return Err(ScimError::invalid_value(format!(
                    "Kiro keeps one value of `{name}`; got {}",
                    items.len()
                )));
            }
        }
    }
    if let Some(Value::Array(members)) = doc.get("members")
        && let Some(m) = members.iter().find(|m| !m["value"].is_string())
    {
        return Err(ScimError::invalid_value(format!(
            "each member needs a `value` (the member's id); got {m}"
        )));
    }
    Ok(())
}

/// When a resource was made and last changed.
#[derive(Clone, Debug)]
pub struct Meta {
    pub created: time::OffsetDateTime,
    pub last_modified: time::OffsetDateTime,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC timestamp formats as RFC 3339")
}

/// The full representation of a stored resource. Members get `$ref` and `type`; not the
/// read-only `display`, which clients never sent and would see as a changed value.
pub fn render(res: Resource, id: &str, doc: &Map<String, Value>, meta: &Meta, base: &str) -> Value {
    let mut schemas = vec![json!(res.schema())];
    if let Some((urn, _)) = res.extension()
        && doc.contains_key(urn)
    {
        schemas.push(json!(urn));
    }
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(id));
    for (k, v) in doc {
        out.insert(k.clone(), v.clone());
    }
    if let Some(Value::Array(members)) = out.get_mut("members") {
        for m in members.iter_mut() {
            let value = m["value"].as_str().unwrap_or_default().to_string();
            m["$ref"] = json!(format!("{base}/Users/{value}"));
            m["type"] = json!("User");
        }
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": res.name(),
            "created": rfc3339(meta.created),
            "lastModified": rfc3339(meta.last_modified),
            "location": format!("{base}/{}/{id}", res.endpoint()),
        }),
    );
    Value::Object(out)
}

/// One entry of `attributes`/`excludedAttributes`: the top-level key it names and, for
/// `name.givenName`, the sub-attribute.
struct Selector {
    key: String,
    sub: Option<String>,
}

fn selectors(res: Resource, list: &str) -> Vec<Selector> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (key, rest) = split_schema(res, s);
            match (key, rest) {
                (Some(urn), None) => Selector {
                    key: urn.to_string(),
                    sub: None,
                },
                (schema, Some(rest)) => {
                    let (attr, sub) = match rest.split_once('.') {
                        Some((a, b)) => (a.to_string(), Some(b.to_string())),
                        None => (rest.to_string(), None),
                    };
                    match schema {
                        // An extension attribute: keep or drop it inside the extension.
                        Some(urn) => Selector {
                            key: urn.to_string(),
                            sub: Some(attr),
                        },
                        None => Selector { key: attr, sub },
                    }
                }
                (None, None) => Selector {
                    key: s.to_string(),
                    sub: None,
                },
            }
        })
        .collect()
}

/// Splits a schema URN prefix off an attribute path: `(Some(extension urn), rest)` for an
/// extension's attribute, `(None, rest)` for a core one.
pub fn split_schema(res: Resource, path: &str) -> (Option<&'static str>, Option<&str>) {
    let strip = |urn: &str| -> Option<Option<&str>> {
        let head = path.get(..urn.len())?;
        if !head.eq_ignore_ascii_case(urn) {
            return None;
        }
        match &path[urn.len()..] {
            "" => Some(None),
            tail => tail.strip_prefix(':').map(Some),
        }
    };
    if let Some((urn, _)) = res.extension()
        && let Some(rest) = strip(urn)
    {
        return (Some(urn), rest);
    }
    match strip(res.schema()) {
        Some(Some(rest)) => (None, Some(rest)),
        _ => (None, Some(path)),
    }
}

/// Applies `attributes` (only these, plus `id` and `schemas`) or `excludedAttributes`.
pub fn project(
    res: Resource,
    doc: Value,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Value {
    let Value::Object(mut full) = doc else {
        return doc;
    };
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let mut out = Map::new();
        for always in ["schemas", "id"] {
            if let Some(v) = full.get(always) {
                out.insert(always.into(), v.clone());
            }
        }
        for sel in selectors(res, list) {
            let Some((key, value)) = get_ci(&full, &sel.key) else {
                continue;
            };
            let key = key.clone();
            match sel.sub {
                None => {
                    out.insert(key, value.clone());
                }
                Some(sub) => {
                    let picked = pick_sub(value, &sub);
                    if let Some(picked) = picked {
                        merge_into(out.entry(key).or_insert_with(|| Value::Null), picked);
                    }
                }
            }
        }
        return Value::Object(out);
    }
    if let Some(list) = excluded {
        for sel in selectors(res, list) {
            if ["schemas", "id"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&sel.key))
            {
                continue;
            }
            let Some(key) = get_ci(&full, &sel.key).map(|(k, _)| k.clone()) else {
                continue;
            };
            match sel.sub {
                None => {
                    full.remove(&key);
                }
                Some(sub) => {
                    if let Some(v) = full.get_mut(&key) {
                        drop_sub(v, &sub);
                    }
                }
            }
        }
    }
    Value::Object(full)
}

fn pick_sub(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(m) => get_ci(m, sub).map(|(k, v)| json!({ k.clone(): v.clone() })),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|i| pick_sub(i, sub)).collect(),
        )),
        _ => None,
    }
}

fn merge_into(target: &mut Value, picked: Value) {
    match (target, picked) {
        (Value::Object(t), Value::Object(p)) => t.extend(p),
        (t, p) => *t = p,
    }
}

fn drop_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Object(m) => {
            if let Some(k) = get_ci(m, sub).map(|(k, _)| k.clone()) {
                m.remove(&k);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| drop_sub(i, sub)),
        _ => {}
    }
}

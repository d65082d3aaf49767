//! PATCH (RFC 7644 §3.5.2) as Entra's provisioning service sends it: `op` in any case
//! (`Add`/`Replace`/`Remove`), path-less value objects whose keys may themselves be paths
//! (`name.givenName`, an extension URN), value filters (`emails[type eq "work"].value`,
//! `members[value eq "id"]`), and `members` removed by a value list. The result is checked
//! by [`canonicalize`] like any other write.

use serde_json::{Map, Value};

use super::document::{canonicalize, reject_if_unsupported, split_schema};
use super::error::ScimError;
use super::filter::{self, Eq};
use super::schema::{Attr, Kind, Resource, get_ci};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp request body to the stored document `doc`; returns the new document.
pub fn apply(
    res: Resource,
    old: &Map<String, Value>,
    body: &Value,
) -> Result<Map<String, Value>, ScimError> {
    let Some(body) = body.as_object() else {
        return Err(ScimError::invalid_syntax(
            "a PATCH body is a PatchOp object",
        ));
    };
    let Some((_, Value::Array(ops))) = get_ci(body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "a PatchOp needs an `Operations` list",
        ));
    };
    let mut doc = old.clone();
    for op in ops {
        let Some(op) = op.as_object() else {
            return Err(ScimError::invalid_syntax(format!(
                "a PATCH operation is an object; got {op}"
            )));
        };
        let name = get_ci(op, "op")
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_default();
        let kind = match name.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            _ => {
                return Err(ScimError::invalid_syntax(format!(
                    "PATCH `op` must be add, replace or remove; got `{name}`"
                )));
            }
        };
        let path = get_ci(op, "path")
            .and_then(|(_, v)| v.as_str())
            .filter(|p| !p.trim().is_empty());
        let value = get_ci(op, "value").map(|(_, v)| v);
        apply_op(res, &mut doc, kind, path.map(str::trim), value)?;
    }
    if res == Resource::User {
        keep_formatted_in_step(old, &mut doc);
    }
    canonicalize(res, &doc)
}

/// The given, middle and family names joined with spaces (what Entra's default mapping of
/// `name.formatted` makes).
fn joined_name(name: &Map<String, Value>) -> String {
    ["givenName", "middleName", "familyName"]
        .iter()
        .filter_map(|k| name.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `name.formatted` that was its parts joined follows a PATCH of the parts that leaves it
/// alone, as the response to the tutorial's "Update User [Multi-valued properties]" shows
/// ("givenName updatedFamilyName"). One the client wrote otherwise, or changed in the same
/// PATCH, is kept as sent.
fn keep_formatted_in_step(old: &Map<String, Value>, new: &mut Map<String, Value>) {
    let Some(Value::Object(old_name)) = old.get("name") else {
        return;
    };
    let Some(Value::Object(new_name)) = new.get_mut("name") else {
        return;
    };
    let formatted = old_name.get("formatted");
    let derived = formatted.and_then(Value::as_str) == Some(joined_name(old_name).as_str());
    if !derived || new_name.get("formatted") != formatted {
        return;
    }
    let now = joined_name(new_name);
    if !now.is_empty() {
        new_name.insert("formatted".into(), Value::String(now));
    }
}

/// A resolved PATCH path.
struct Target {
    extension: Option<&'static str>,
    attr: &'static Attr,
    filter: Option<Vec<Eq>>,
    sub: Option<&'static Attr>,
}

fn apply_op(
    res: Resource,
    doc: &mut Map<String, Value>,
    op: Op,
    path: Option<&str>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let Some(path) = path else {
        return apply_without_path(res, doc, op, value);
    };
    let (extension, rest) = split_schema(res, path);
    let Some(rest) = rest else {
        let urn = extension.expect("split_schema returns no rest only for an extension URN");
        return apply_to_extension(res, doc, op, urn, value);
    };
    let target = resolve(res, extension, rest, path)?;
    let container = match target.extension {
        None => doc,
        Some(urn) => {
            let ext = doc
                .entry(urn.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !ext.is_object() {
                *ext = Value::Object(Map::new());
            }
            ext.as_object_mut().expect("made an object above")
        }
    };
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax(format!(
            "`{path}`: add and replace need a `value`"
        )));
    }
    let value = value.cloned().unwrap_or(Value::Null);
    let attr = target.attr;
    match (&target.filter, target.sub) {
        (None, None) => whole(container, attr, op, canonical_keys(attr, value)),
        (None, Some(sub)) => {
            apply_to_sub_attribute(container, attr, sub, op, &value);
            Ok(())
        }
        (Some(filter), sub) => {
            apply_to_filtered(container, attr, (filter, sub), op, &value);
            Ok(())
        }
    }
}

/// An operation without `path`: the value's attributes one by one (remove needs a path).
fn apply_without_path(
    res: Resource,
    doc: &mut Map<String, Value>,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if op == Op::Remove {
        return Err(ScimError::no_target("a remove operation needs a `path`"));
    }
    let Some(Value::Object(fields)) = value else {
        return Err(ScimError::invalid_syntax(
            "an operation without `path` needs an object `value`",
        ));
    };
    for (key, v) in fields {
        apply_op(res, doc, op, Some(key), Some(v))?;
    }
    Ok(())
}

/// An operation on a whole extension (`path` is its URN): removed, or its attributes one by one.
fn apply_to_extension(
    res: Resource,
    doc: &mut Map<String, Value>,
    op: Op,
    urn: &str,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if op == Op::Remove {
        doc.remove(urn);
        return Ok(());
    }
    let Some(Value::Object(fields)) = value else {
        return Err(ScimError::invalid_syntax(format!(
            "the value for {urn} must be an object"
        )));
    };
    // An extension object may repeat `schemas`; the resource's own list is the server's.
    for (key, v) in fields
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
    {
        apply_op(res, doc, op, Some(&format!("{urn}:{key}")), Some(v))?;
    }
    Ok(())
}

/// `attr.sub` without a filter: on every element of a multi-valued `attr` (one is made when
/// there is none to add to), or on the complex `attr`.
fn apply_to_sub_attribute(
    container: &mut Map<String, Value>,
    attr: &Attr,
    sub: &Attr,
    op: Op,
    value: &Value,
) {
    let entry = container
        .entry(attr.name.to_string())
        .or_insert(Value::Null);
    if attr.multi {
        let items = as_items(entry);
        if items.is_empty() && op != Op::Remove {
            items.push(Value::Object(Map::new()));
        }
        for item in items.iter_mut() {
            set_sub(item, sub, op, value);
        }
    } else {
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        set_sub(entry, sub, op, value);
    }
}

/// `attr[filter]` or `attr[filter].sub`: on the elements the filter matches.
fn apply_to_filtered(
    container: &mut Map<String, Value>,
    attr: &Attr,
    (filter, sub): (&[Eq], Option<&Attr>),
    op: Op,
    value: &Value,
) {
    let items = as_items(
        container
            .entry(attr.name.to_string())
            .or_insert(Value::Null),
    );
    let matches = |item: &Value| filter.iter().all(|eq| matches_eq(attr, item, eq));
    match (op, sub) {
        (Op::Remove, None) => items.retain(|i| !matches(i)),
        (Op::Remove, Some(sub)) => items
            .iter_mut()
            .filter(|i| matches(i))
            .for_each(|i| set_sub(i, sub, op, value)),
        (_, sub) => {
            if !items.iter().any(&matches) {
                // No element yet: Entra's `emails[type eq "work"].value` on a user
                // without that email expects it to be created with the filter's values.
                let mut fresh = Map::new();
                for eq in filter {
                    fresh.insert(eq.attr.clone(), eq.value.clone());
                }
                items.push(Value::Object(fresh));
            }
            for item in items.iter_mut().filter(|i| matches(i)) {
                match sub {
                    Some(sub) => set_sub(item, sub, op, value),
                    None => merge(item, canonical_keys(attr, value.clone())),
                }
            }
        }
    }
}

fn resolve(
    res: Resource,
    extension: Option<&'static str>,
    rest: &str,
    path: &str,
) -> Result<Target, ScimError> {
    let name_end = rest.find(['[', '.']).unwrap_or(rest.len());
    let name = &rest[..name_end];
    reject_if_unsupported(res, extension.unwrap_or(res.schema()), name)?;
    let attr = match extension {
        Some(urn) => res
            .extension()
            .filter(|(u, _)| *u == urn)
            .and_then(|(_, attrs)| attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))),
        None => res.attr(name),
    }
    .ok_or_else(|| {
        ScimError::invalid_path(format!(
            "`{path}` names no attribute Kiro accepts (see /Schemas)"
        ))
    })?;
    let mut tail = &rest[name_end..];
    let mut filter = None;
    if let Some(after) = tail.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| ScimError::invalid_path(format!("`{path}`: unclosed `[`")))?;
        if !(attr.multi && attr.kind == Kind::Complex) {
            return Err(ScimError::invalid_path(format!(
                "`{path}`: only multi-valued complex attributes take a filter"
            )));
        }
        let mut eqs = filter::parse(&after[..close])
            .map_err(|e| ScimError::invalid_path(format!("`{path}`: {}", e.detail)))?;
        for eq in &mut eqs {
            let sub = attr.sub_attr(&eq.attr).ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "`{path}`: `{}` has no sub-attribute `{}`",
                    attr.name, eq.attr
                ))
            })?;
            eq.attr = sub.name.to_string();
        }
        filter = Some(eqs);
        tail = &after[close + 1..];
    }
    let sub = match tail {
        "" => None,
        t => {
            let name = t
                .strip_prefix('.')
                .ok_or_else(|| ScimError::invalid_path(format!("`{path}`: cannot read `{t}`")))?;
            Some(attr.sub_attr(name).ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "`{path}`: `{}` has no sub-attribute `{name}`",
                    attr.name
                ))
            })?)
        }
    };
    Ok(Target {
        extension,
        attr,
        filter,
        sub,
    })
}

/// An op on a whole attribute.
fn whole(
    container: &mut Map<String, Value>,
    attr: &Attr,
    op: Op,
    value: Value,
) -> Result<(), ScimError> {
    let key = attr.name.to_string();
    match op {
        Op::Remove if attr.multi && !value.is_null() => {
            // `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`: only those.
            let gone: Vec<Value> = match value {
                Value::Array(items) => items,
                one => vec![one],
            };
            let items = as_items(container.entry(key).or_insert(Value::Null));
            items.retain(|item| !gone.iter().any(|g| same_element(item, g)));
        }
        Op::Remove => {
            container.remove(&key);
        }
        _ if value.is_null() => {
            container.remove(&key);
        }
        Op::Add if attr.multi => {
            let new = match value {
                Value::Array(items) => items,
                one => vec![one],
            };
            let items = as_items(container.entry(key).or_insert(Value::Null));
            for n in new {
                if !items.iter().any(|i| same_element(i, &n)) {
                    items.push(n);
                }
            }
        }
        Op::Replace if attr.multi => {
            let new = match value {
                Value::Array(items) => items,
                one => vec![one],
            };
            container.insert(key, Value::Array(new));
        }
        // RFC 7644 §3.5.2.1/3: a complex value's sub-attributes are set, the others kept.
        _ if attr.kind == Kind::Complex => {
            merge(container.entry(key).or_insert(Value::Null), value)
        }
        _ => {
            container.insert(key, value);
        }
    }
    Ok(())
}

/// Elements are the same when both have the same `value` (members, emails), else when equal.
fn same_element(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn set_sub(item: &mut Value, sub: &Attr, op: Op, value: &Value) {
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    let obj = item.as_object_mut().expect("made an object above");
    if op == Op::Remove || value.is_null() {
        obj.remove(sub.name);
    } else {
        obj.insert(sub.name.to_string(), value.clone());
    }
}

fn merge(target: &mut Value, value: Value) {
    match (target.as_object_mut(), value) {
        (Some(t), Value::Object(v)) => t.extend(v),
        (_, v) => *target = v,
    }
}

/// The attribute's list, made one if it was missing or single.
fn as_items(entry: &mut Value) -> &mut Vec<Value> {
    if !entry.is_array() {
        *entry = match entry.take() {
            Value::Null => Value::Array(Vec::new()),
            one => Value::Array(vec![one]),
        };
    }
    entry.as_array_mut().expect("made an array above")
}

/// Spells the sub-attribute keys of a complex value as published, so merging never leaves
/// `givenName` and `GivenName` side by side; unknown keys stay for [`canonicalize`] to refuse.
fn canonical_keys(attr: &Attr, value: Value) -> Value {
    if attr.kind != Kind::Complex {
        return value;
    }
    let fix = |v: Value| match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (attr.sub_attr(&k).map_or(k, |s| s.name.to_string()), v))
                .collect(),
        ),
        other => other,
    };
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(fix).collect()),
        other => fix(other),
    }
}

fn matches_eq(attr: &Attr, item: &Value, eq: &Eq) -> bool {
    let case_exact = attr.sub_attr(&eq.attr).is_some_and(|s| s.case_exact);
    match (item.get(&eq.attr), &eq.value) {
        (Some(Value::String(a)), Value::String(b)) if !case_exact => a.eq_ignore_ascii_case(b),
        (Some(a), b) => a == b,
        (None, b) => b.is_null(),
    }
}

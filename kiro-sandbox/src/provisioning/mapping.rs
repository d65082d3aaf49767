//! Attribute mappings: evaluating a mapping's source against an Entra object, and reading and
//! writing SCIM attributes named the way Entra names targets (`name.givenName`,
//! `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:department`).

use serde_json::{Map, Value, json};

/// The value of a mapping's source for `entity` (an Entra user or group as JSON, with
/// `objectId`); `None` when empty (Entra exports nothing then).
pub fn eval(source: &Value, entity: &Map<String, Value>) -> Option<String> {
    let name = source["name"].as_str().unwrap_or_default();
    match source["type"].as_str().unwrap_or_default() {
        "Attribute" => match entity.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(bool_text(*b).to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        "Constant" => Some(name.to_string()),
        "Function" => function(name, &params(source), entity),
        _ => None,
    }
}

fn params(source: &Value) -> Vec<(&str, &Value)> {
    source["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["key"].as_str().unwrap_or_default(), &p["value"]))
        .collect()
}

fn function(name: &str, params: &[(&str, &Value)], entity: &Map<String, Value>) -> Option<String> {
    match name {
        // Switch(source, default, key1, value1, key2, value2, …)
        "Switch" => {
            let (_, source) = params.first()?;
            let input = eval(source, entity).unwrap_or_default();
            let default = params.get(1).and_then(|(_, v)| eval(v, entity));
            params[2.min(params.len())..]
                .chunks(2)
                .find(|pair| {
                    pair.len() == 2 && eval(pair[0].1, entity).unwrap_or_default() == input
                })
                .map_or(default, |pair| eval(pair[1].1, entity))
        }
        // Join(separator, source1, source2, …): empty sources are left out.
        "Join" => {
            let (_, sep) = params.first()?;
            let sep = eval(sep, entity).unwrap_or_default();
            let parts: Vec<String> = params[1..]
                .iter()
                .filter_map(|(_, v)| eval(v, entity))
                .collect();
            (!parts.is_empty()).then(|| parts.join(&sep))
        }
        "Not" => {
            let (_, v) = params.first()?;
            let b = eval(v, entity)?.eq_ignore_ascii_case("true");
            Some(bool_text(!b).to_string())
        }
        _ => None,
    }
}

/// Entra's spelling of booleans in SCIM PATCH values.
pub fn bool_text(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Targets whose SCIM type is boolean.
pub fn is_boolean(target: &str) -> bool {
    target.eq_ignore_ascii_case("active")
}

/// A target's parts: extension URN, attribute, `[type eq "x"]` filter value, sub-attribute.
struct Path<'a> {
    urn: Option<&'a str>,
    attr: &'a str,
    type_filter: Option<&'a str>,
    sub: Option<&'a str>,
}

fn split(target: &str) -> Path<'_> {
    if target.starts_with("urn:")
        && let Some((urn, attr)) = target.rsplit_once(':')
    {
        return Path {
            urn: Some(urn),
            attr,
            type_filter: None,
            sub: None,
        };
    }
    if let Some((attr, rest)) = target.split_once('[') {
        let (filter, sub) = rest.split_once(']').unwrap_or((rest, ""));
        let type_filter = filter
            .split_once(" eq ")
            .map(|(_, v)| v.trim().trim_matches('"'));
        let sub = sub.strip_prefix('.').filter(|s| !s.is_empty());
        return Path {
            urn: None,
            attr,
            type_filter,
            sub,
        };
    }
    match target.split_once('.') {
        Some((attr, sub)) => Path {
            urn: None,
            attr,
            type_filter: None,
            sub: Some(sub),
        },
        None => Path {
            urn: None,
            attr: target,
            type_filter: None,
            sub: None,
        },
    }
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The value of `target` in a SCIM document, if set.
pub fn get(doc: &Map<String, Value>, target: &str) -> Option<Value> {
    let p = split(target);
    if let Some(urn) = p.urn {
        return get_ci(get_ci(doc, urn)?.as_object()?, p.attr).cloned();
    }
    let value = get_ci(doc, p.attr)?;
    let item = match p.type_filter {
        Some(kind) => {
            let items = value.as_array()?;
            items
                .iter()
                .find(|i| {
                    i["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
                })
                .or_else(|| items.first())?
        }
        None => value,
    };
    match p.sub {
        Some(sub) => get_ci(item.as_object()?, sub).cloned(),
        None => Some(item.clone()),
    }
}

/// Sets `target` in a SCIM document being built for a create.
pub fn set(doc: &mut Map<String, Value>, target: &str, value: Value) {
    let p = split(target);
    if let Some(urn) = p.urn {
        let ext = doc.entry(urn).or_insert_with(|| json!({}));
        if let Some(ext) = ext.as_object_mut() {
            ext.insert(p.attr.to_string(), value);
        }
        return;
    }
    match (p.type_filter, p.sub) {
        (Some(kind), sub) => {
            let list = doc.entry(p.attr).or_insert_with(|| json!([]));
            let Some(items) = list.as_array_mut() else {
                return;
            };
            let at = items.iter().position(|i| i["type"] == kind);
            let at = at.unwrap_or_else(|| {
                let mut item = json!({"type": kind});
                if p.attr == "emails" {
                    item["primary"] = json!(true);
                }
                items.push(item);
                items.len() - 1
            });
            items[at][sub.unwrap_or("value")] = value;
        }
        (None, Some(sub)) => {
            let obj = doc.entry(p.attr).or_insert_with(|| json!({}));
            obj[sub] = value;
        }
        (None, None) => {
            doc.insert(p.attr.to_string(), value);
        }
    }
}

/// Whether a SCIM value equals what the mapping wants (booleans may come back as text).
pub fn same(current: Option<&Value>, wanted: &Value) -> bool {
    match (current, wanted) {
        (Some(Value::Bool(a)), Value::Bool(b)) => a == b,
        (Some(Value::String(a)), Value::Bool(b)) => a.eq_ignore_ascii_case(bool_text(*b)),
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::sync::schema::{self, ENTERPRISE};

    fn user() -> Map<String, Value> {
        json!({"objectId": "oid", "givenName": "Alice", "surname": "", "mail": "a@x", "IsSoftDeleted": "False", "accountEnabled": true})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn sources_evaluate_attributes_constants_switch_and_join() {
        let u = user();
        assert_eq!(
            eval(&schema::attribute("objectId"), &u).as_deref(),
            Some("oid")
        );
        assert_eq!(
            eval(&schema::attribute("surname"), &u),
            None,
            "empty is not exported"
        );
        assert_eq!(eval(&schema::attribute("jobTitle"), &u), None);
        assert_eq!(
            eval(&schema::attribute("accountEnabled"), &u).as_deref(),
            Some("True")
        );
        assert_eq!(eval(&schema::constant("x"), &u).as_deref(), Some("x"));
        let t = schema::template("j");
        let users = schema::object_mapping_for(&t, "User").unwrap();
        let source = |target: &str| {
            schema::attribute_mappings(users)
                .into_iter()
                .find(|a| a["targetAttributeName"] == target)
                .unwrap()["source"]
                .clone()
        };
        assert_eq!(eval(&source("active"), &u).as_deref(), Some("True"));
        let mut deleted = u.clone();
        deleted.insert("IsSoftDeleted".into(), json!("True"));
        assert_eq!(eval(&source("active"), &deleted).as_deref(), Some("False"));
        assert_eq!(
            eval(&source("name.formatted"), &u).as_deref(),
            Some("Alice")
        );
    }

    #[test]
    fn targets_are_set_and_read_back_by_entra_paths() {
        let mut doc = Map::new();
        set(&mut doc, "userName", json!("a@x"));
        set(&mut doc, "name.givenName", json!("Alice"));
        set(&mut doc, "emails[type eq \"work\"].value", json!("a@x"));
        set(&mut doc, &format!("{ENTERPRISE}:department"), json!("R&D"));
        assert_eq!(
            doc["emails"],
            json!([{"type": "work", "primary": true, "value": "a@x"}])
        );
        assert_eq!(doc[ENTERPRISE]["department"], "R&D");
        assert_eq!(get(&doc, "NAME.givenName"), Some(json!("Alice")));
        assert_eq!(
            get(&doc, "emails[type eq \"work\"].value"),
            Some(json!("a@x"))
        );
        assert_eq!(
            get(&doc, &format!("{ENTERPRISE}:department")),
            Some(json!("R&D"))
        );
        assert_eq!(get(&doc, "title"), None);
        assert!(same(Some(&json!("False")), &json!(false)));
        assert!(!same(None, &json!("x")));
    }
}

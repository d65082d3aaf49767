//! Delegated permission scopes and app roles ("entitlements"): shape, uniqueness, and the
//! rule that an enabled entitlement can only be disabled in place, never removed or changed.

use serde_json::{Map, Value};

use super::errors::{GraphError, GraphResult};

type Object = Map<String, Value>;

pub const SCOPE_FIELDS: [&str; 6] = [
    "value",
    "type",
    "adminConsentDisplayName",
    "adminConsentDescription",
    "userConsentDisplayName",
    "userConsentDescription",
];
pub const ROLE_FIELDS: [&str; 4] = ["value", "displayName", "description", "allowedMemberTypes"];

pub type ItemCheck = fn(&Object) -> GraphResult<()>;

/// Shape of each scope / role, plus unique ids and values.
pub fn check_entitlements(
    list: &Value,
    prop: &str,
    resource: &str,
    item: ItemCheck,
) -> GraphResult<()> {
    let items = list
        .as_array()
        .ok_or_else(|| GraphError::invalid_value(prop, resource))?;
    let mut ids = Vec::new();
    let mut values = Vec::new();
    for it in items {
        let obj = it
            .as_object()
            .ok_or_else(|| GraphError::invalid_value(prop, resource))?;
        item(obj)?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if ids.contains(&id) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "The id '{id}' is used by more than one entry of '{prop}'; ids must be unique."
                ),
            ));
        }
        ids.push(id);
        if let Some(v) = obj.get("value").and_then(Value::as_str) {
            let v = v.to_ascii_lowercase();
            if values.contains(&v) {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    format!(
                        "The value '{v}' is used by more than one entry of '{prop}'; values must be unique."
                    ),
                ));
            }
            values.push(v);
        }
    }
    Ok(())
}

fn check_guid(obj: &Object, resource: &str) -> GraphResult<()> {
    match obj.get("id").and_then(Value::as_str) {
        Some(id) if uuid::Uuid::parse_str(id).is_ok() => Ok(()),
        _ => Err(GraphError::invalid_value("id", resource)),
    }
}

fn valid_value(v: &str) -> bool {
    !v.is_empty()
        && v.chars().count() <= 120
        && !v.chars().any(char::is_whitespace)
        && !v.starts_with('.')
}

/// Absent, null, or passing `check`.
fn optional(obj: &Object, key: &str, check: impl Fn(&Value) -> bool) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(v) => check(v),
    }
}

pub fn check_scope(s: &Object) -> GraphResult<()> {
    const R: &str = "PermissionScope";
    check_guid(s, R)?;
    if !s
        .get("value")
        .and_then(Value::as_str)
        .is_some_and(valid_value)
    {
        return Err(GraphError::invalid_value("value", R));
    }
    if !matches!(
        s.get("type").and_then(Value::as_str),
        Some("User" | "Admin")
    ) {
        return Err(GraphError::invalid_value("type", R));
    }
    if !optional(s, "isEnabled", Value::is_boolean) {
        return Err(GraphError::invalid_value("isEnabled", R));
    }
    for f in &SCOPE_FIELDS[2..] {
        if !optional(s, f, Value::is_string) {
            return Err(GraphError::invalid_value(f, R));
        }
    }
    Ok(())
}

pub fn check_role(r: &Object) -> GraphResult<()> {
    const R: &str = "AppRole";
    check_guid(r, R)?;
    if !optional(r, "value", |v| v.as_str().is_some_and(valid_value)) {
        return Err(GraphError::invalid_value("value", R));
    }
    let types_ok = r
        .get("allowedMemberTypes")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|t| matches!(t.as_str(), Some("User" | "Application")))
        });
    if !types_ok {
        return Err(GraphError::invalid_value("allowedMemberTypes", R));
    }
    for f in ["displayName", "description"] {
        if !optional(r, f, Value::is_string) {
            return Err(GraphError::invalid_value(f, R));
        }
    }
    if !optional(r, "isEnabled", Value::is_boolean) {
        return Err(GraphError::invalid_value("isEnabled", R));
    }
    Ok(())
}

/// An enabled scope or role must stay in the list: unchanged while it stays enabled, or
/// disabled in place (a PATCH that disables it may change its other fields too).
pub fn check_enabled_kept(old: Option<&Value>, new: &Value, fields: &[&str]) -> GraphResult<()> {
    let Some(old) = old.and_then(Value::as_array) else {
        return Ok(());
    };
    let new = new.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let field = |o: &Value, f: &str| o.get(f).cloned().unwrap_or(Value::Null);
    for o in old
        .iter()
        .filter(|o| o.get("isEnabled") == Some(&Value::Bool(true)))
    {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let same = new.iter().find(|n| {
            n.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        });
        // A missing `isEnabled` reads back as false, so it disables the entry too.
        let allowed = same.is_some_and(|n| {
            n.get("isEnabled") != Some(&Value::Bool(true))
                || fields.iter().all(|f| field(o, f) == field(n, f))
        });
        if !allowed {
            return Err(GraphError::bad_request(
                "CannotDeleteOrUpdateEnabledEntitlement",
                "Permission (scope or role) cannot be deleted or updated unless disabled first.",
            ));
        }
    }
    Ok(())
}

/// Missing optional sub-properties of scopes and roles read back as Graph shows them.
pub fn fill_defaults(merged: &mut Object) {
    let lists = [merged
        .get_mut("api")
        .and_then(|a| a.get_mut("oauth2PermissionScopes"))];
    for list in lists.into_iter().flatten() {
        for s in list.as_array_mut().into_iter().flatten() {
            if let Some(s) = s.as_object_mut() {
                s.entry("isEnabled").or_insert(Value::Bool(false));
                for f in &SCOPE_FIELDS[2..] {
                    s.entry(*f).or_insert(Value::Null);
                }
            }
        }
    }
    if let Some(roles) = merged.get_mut("appRoles").and_then(Value::as_array_mut) {
        for r in roles.iter_mut().filter_map(Value::as_object_mut) {
            r.entry("isEnabled").or_insert(Value::Bool(false));
            r.entry("origin")
                .or_insert(Value::String("Application".into()));
            for f in ["value", "displayName", "description"] {
                r.entry(f).or_insert(Value::Null);
            }
        }
    }
}

//! The synchronization schema of the non-gallery (`scim`) template: one rule with the users
//! and groups object mappings and their default attribute mappings, the checks a `PUT
//! …/schema` passes, and the portal's single-mapping edit.

use serde_json::{Map, Value, json};

/// The rule id of the SCIM template (what `provisionOnDemand` names as `ruleId`).
pub const RULE_ID: &str = "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8";
pub const USERS_MAPPING: &str = "Provision Microsoft Entra ID Users";
pub const GROUPS_MAPPING: &str = "Provision Microsoft Entra ID Groups";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Source attributes of an Entra user that mappings may name (Entra's directory schema, the
/// part a SCIM app can use). The sandbox's users carry values for some of them only; the others
/// read as empty, which Entra does not export.
pub const USER_SOURCES: &[&str] = &[
    "objectId",
    "userPrincipalName",
    "mail",
    "mailNickname",
    "displayName",
    "givenName",
    "surname",
    "accountEnabled",
    "userType",
    "jobTitle",
    "department",
    "employeeId",
    "manager",
    "companyName",
    "preferredLanguage",
    "telephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
    "physicalDeliveryOfficeName",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "IsSoftDeleted",
];

pub const GROUP_SOURCES: &[&str] = &[
    "objectId",
    "displayName",
    "mailNickname",
    "description",
    "mail",
    "members",
    "IsSoftDeleted",
];

/// Expression functions the sandbox evaluates (Entra has more; others are refused with 400).
pub const FUNCTIONS: &[&str] = &["Switch", "Join", "Not"];

pub fn attribute(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "type": "Attribute", "parameters": []})
}

pub fn constant(value: &str) -> Value {
    json!({"expression": format!("\"{value}\""), "name": value, "type": "Constant", "parameters": []})
}

fn mapping(target: &str, source: Value, matching_priority: u32, flow: &str) -> Value {
    json!({
        "defaultValue": null,
        "exportMissingReferences": false,
        "flowBehavior": "FlowWhenChanged",
        "flowType": flow,
        "matchingPriority": matching_priority,
        "source": source,
        "targetAttributeName": target,
    })
}

fn always(target: &str, source: &str) -> Value {
    mapping(target, attribute(source), 0, "Always")
}

/// `Switch([IsSoftDeleted], , "False", "True", "True", "False")`: Entra's `active` mapping.
fn active_switch() -> Value {
    let param = |key: &str, value: Value| json!({"key": key, "value": value});
    json!({
        "expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
        "name": "Switch",
        "type": "Function",
        "parameters": [
            param("source", attribute("IsSoftDeleted")),
            param("defaultValue", constant("")),
            param("key", constant("False")),
            param("value", constant("True")),
            param("key", constant("True")),
            param("value", constant("False")),
        ],
    })
}

/// `Join(" ", [givenName], [surname])`.
fn join_names() -> Value {
    json!({
        "expression": "Join(\" \", [givenName], [surname])",
        "name": "Join",
        "type": "Function",
        "parameters": [
            {"key": "separator", "value": constant(" ")},
            {"key": "source", "value": attribute("givenName")},
            {"key": "source", "value": attribute("surname")},
        ],
    })
}

fn user_mappings() -> Vec<Value> {
    let ent = |a: &str| format!("{ENTERPRISE}:{a}");
    vec![
        mapping("userName", attribute("userPrincipalName"), 1, "Always"),
        mapping("active", active_switch(), 0, "Always"),
        always("displayName", "displayName"),
        always("title", "jobTitle"),
        always("emails[type eq \"work\"].value", "mail"),
        always("preferredLanguage", "preferredLanguage"),
        always("name.givenName", "givenName"),
        always("name.familyName", "surname"),
        mapping("name.formatted", join_names(), 0, "Always"),
        always(
            "addresses[type eq \"work\"].formatted",
            "physicalDeliveryOfficeName",
        ),
        always("addresses[type eq \"work\"].streetAddress", "streetAddress"),
        always("addresses[type eq \"work\"].locality", "city"),
        always("addresses[type eq \"work\"].region", "state"),
        always("addresses[type eq \"work\"].postalCode", "postalCode"),
        always("addresses[type eq \"work\"].country", "country"),
        always("phoneNumbers[type eq \"work\"].value", "telephoneNumber"),
        always("phoneNumbers[type eq \"mobile\"].value", "mobile"),
        always(
            "phoneNumbers[type eq \"fax\"].value",
            "facsimileTelephoneNumber",
        ),
        mapping("externalId", attribute("mailNickname"), 2, "Always"),
        always(&ent("employeeNumber"), "employeeId"),
        always(&ent("department"), "department"),
        always(&ent("manager"), "manager"),
    ]
}

fn group_mappings() -> Vec<Value> {
    vec![
        mapping("displayName", attribute("displayName"), 1, "Always"),
        always("externalId", "objectId"),
        always("members", "members"),
    ]
}

fn object_mapping(name: &str, source: &str, target: &str, attributes: Vec<Value>) -> Value {
    json!({
        "enabled": true,
        "flowTypes": "Add, Update, Delete",
        "metadata": [],
        "name": name,
        "scope": null,
        "sourceObjectName": source,
        "targetObjectName": target,
        "attributeMappings": attributes,
    })
}

/// The schema a new `scim` job starts with.
pub fn template(job_id: &str) -> Value {
    json!({
        "id": job_id,
        "version": "date:2024-01-01T00:00:00Z~",
        "directories": [
            {"id": "AAD", "name": "Microsoft Entra ID", "objects": [{"name": "User"}, {"name": "Group"}]},
            {"id": "SCIM", "name": "customappsso", "objects": [{"name": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, {"name": "urn:ietf:params:scim:schemas:core:2.0:Group"}]},
        ],
        "synchronizationRules": [{
            "id": RULE_ID,
            "name": "USER_OUTBOUND_TO_SCIM",
            "editable": true,
            "priority": 1,
            "sourceDirectoryName": "Microsoft Entra ID",
            "targetDirectoryName": "customappsso",
            "containerFilter": {"includedContainers": []},
            "groupFilter": {"includedGroups": []},
            "metadata": [],
            "objectMappings": [
                object_mapping(USERS_MAPPING, "User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", user_mappings()),
                object_mapping(GROUPS_MAPPING, "Group", "urn:ietf:params:scim:schemas:core:2.0:Group", group_mappings()),
            ],
        }],
    })
}

/// The object mapping for `User` or `Group` sources (the first enabled one of any rule).
pub fn object_mapping_for<'a>(schema: &'a Value, source_object: &str) -> Option<&'a Value> {
    rules(schema)
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| {
            m["sourceObjectName"].as_str() == Some(source_object)
                && m["enabled"].as_bool().unwrap_or(true)
        })
}

fn rules(schema: &Value) -> impl Iterator<Item = &Value> {
    schema["synchronizationRules"]
        .as_array()
        .into_iter()
        .flatten()
}

/// Checks a whole schema sent with `PUT …/schema`; the error says what is wrong, for Graph's 400.
pub fn validate(schema: &Value) -> Result<(), String> {
    let Some(rules) = schema.get("synchronizationRules").and_then(Value::as_array) else {
        return Err("The schema must have a 'synchronizationRules' list.".into());
    };
    for rule in rules {
        let id = rule["id"].as_str().unwrap_or_default();
        if id.is_empty() {
            return Err("Every synchronization rule needs an 'id'.".into());
        }
        let Some(mappings) = rule.get("objectMappings").and_then(Value::as_array) else {
            return Err(format!("Rule '{id}' must have an 'objectMappings' list."));
        };
        for om in mappings {
            let source_object = om["sourceObjectName"].as_str().unwrap_or_default();
            let sources = match source_object {
                "User" => USER_SOURCES,
                "Group" => GROUP_SOURCES,
                other => {
                    return Err(format!(
                        "Object mapping '{}' has an unknown sourceObjectName '{other}' (User or Group).",
                        om["name"].as_str().unwrap_or_default()
                    ));
                }
            };
            let Some(attrs) = om.get("attributeMappings").and_then(Value::as_array) else {
                return Err(format!(
                    "Object mapping for '{source_object}' must have an 'attributeMappings' list."
                ));
            };
            for a in attrs {
                let target = a["targetAttributeName"].as_str().unwrap_or_default();
                if target.is_empty() {
                    return Err(format!(
                        "Every attribute mapping of '{source_object}' needs a 'targetAttributeName'."
                    ));
                }
                validate_source(&a["source"], sources)
                    .map_err(|e| format!("Attribute mapping to '{target}': {e}"))?;
            }
        }
    }
    Ok(())
}

fn validate_source(source: &Value, sources: &[&str]) -> Result<(), String> {
    let name = source["name"].as_str().unwrap_or_default();
    match source["type"].as_str().unwrap_or_default() {
        "Attribute" => {
            if sources.contains(&name) {
                Ok(())
            } else {
                Err(format!("the source attribute '{name}' does not exist."))
            }
        }
        "Constant" => Ok(()),
        "Function" => {
            if !FUNCTIONS.contains(&name) {
                return Err(format!(
                    "the function '{name}' is not supported by the sandbox (supported: {}).",
                    FUNCTIONS.join(", ")
                ));
            }
            for p in source["parameters"].as_array().into_iter().flatten() {
                validate_source(&p["value"], sources)?;
            }
            Ok(())
        }
        other => Err(format!(
            "the source type '{other}' is not Attribute, Constant or Function."
        )),
    }
}

/// The portal's edit of one mapping of the users (`rule` "users") or groups ("groups") object
/// mapping: `source` `"[attr]"` maps from that attribute (replacing or adding the mapping),
/// `None` deletes the mapping. No rule checks, like a change made in the portal.
pub fn edit_mapping(
    schema: &mut Value,
    rule: &str,
    target: &str,
    source: Option<&str>,
) -> Result<(), String> {
    let source_object = match rule {
        "users" | "User" => "User",
        "groups" | "Group" => "Group",
        other => {
            return Err(format!(
                "rule must be \"users\" or \"groups\", got {other:?}"
            ));
        }
    };
    let source = match source {
        None => None,
        Some(s) => {
            let name = s
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or_else(|| format!("source must look like \"[attribute]\", got {s:?}"))?;
            Some(attribute(name))
        }
    };
    let om = schema["synchronizationRules"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|r| r["objectMappings"].as_array_mut().into_iter().flatten())
        .find(|m| m["sourceObjectName"].as_str() == Some(source_object))
        .ok_or_else(|| format!("the schema has no object mapping for {source_object}"))?;
    let Some(attrs) = om["attributeMappings"].as_array_mut() else {
        return Err(format!(
            "the {source_object} mapping has no attributeMappings"
        ));
    };
    let at = attrs
        .iter()
        .position(|a| a["targetAttributeName"].as_str() == Some(target));
    match (at, source) {
        (Some(i), Some(src)) => attrs[i]["source"] = src,
        (Some(i), None) => {
            attrs.remove(i);
        }
        (None, Some(src)) => attrs.push(mapping(target, src, 0, "Always")),
        (None, None) => return Err(format!("no mapping to '{target}' to delete")),
    }
    Ok(())
}

/// Attribute mappings of an object mapping, as objects.
pub fn attribute_mappings(om: &Value) -> Vec<Map<String, Value>> {
    om["attributeMappings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_object().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_validates_and_an_unknown_source_does_not() {
        let mut s = template("job");
        assert_eq!(validate(&s), Ok(()));
        let users = object_mapping_for(&s, "User").unwrap();
        assert_eq!(users["name"], USERS_MAPPING);
        let external = attribute_mappings(users)
            .into_iter()
            .find(|a| a["targetAttributeName"] == "externalId")
            .unwrap();
        assert_eq!(external["source"]["expression"], "[mailNickname]");
        edit_mapping(&mut s, "users", "externalId", Some("[nonsense]")).unwrap();
        let err = validate(&s).unwrap_err();
        assert!(err.contains("'nonsense' does not exist"), "{err}");
        edit_mapping(&mut s, "users", "externalId", None).unwrap();
        assert_eq!(validate(&s), Ok(()));
        assert!(edit_mapping(&mut s, "users", "externalId", None).is_err());
        assert!(edit_mapping(&mut s, "apps", "x", None).is_err());
        assert!(validate(&json!({"id": "x"})).is_err());
    }
}

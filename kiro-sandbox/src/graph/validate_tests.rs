use serde_json::json;

use super::*;
use crate::graph::uris::{identifier_uri_allowed, redirect_uri_problem};

const TENANT: &str = "11111111-2222-4333-8444-555555555555";
const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

fn rules(domains: &[String]) -> Rules<'_> {
    Rules {
        tenant_id: TENANT,
        domains,
        app_id: APP,
        other_uris: vec![],
    }
}

#[test]
fn identifier_uri_forms() {
    let domains = vec!["contoso.onmicrosoft.com".to_string()];
    let r = rules(&domains);
    for ok in [
        format!("api://{APP}"),
        format!("API://{TENANT}/{APP}"),
        format!("api://{TENANT}/anything"),
        format!("api://something/{APP}"),
        "https://contoso.onmicrosoft.com/kiro".to_string(),
        "https://api.contoso.onmicrosoft.com".to_string(),
        "api://contoso.onmicrosoft.com/kiro".to_string(),
    ] {
        assert!(identifier_uri_allowed(&ok, &r), "{ok}");
    }
    for bad in [
        "https://notcontoso.onmicrosoft.com/x",
        "https://example.com",
        "api://kiro",
        "http://contoso.onmicrosoft.com/x",
        "https://*.contoso.onmicrosoft.com",
        "",
        "api://",
    ] {
        assert!(!identifier_uri_allowed(bad, &r), "{bad}");
    }
}

#[test]
fn redirect_uri_problems() {
    assert_eq!(redirect_uri_problem("https://kiro.dev/cb", false), None);
    assert_eq!(
        redirect_uri_problem("http://localhost:1234/cb", false),
        None
    );
    assert_eq!(redirect_uri_problem("http://127.0.0.1/cb", false), None);
    assert!(redirect_uri_problem("http://kiro.dev/cb", false).is_some());
    assert!(redirect_uri_problem("http://kiro.dev/cb", true).is_some());
    assert_eq!(
        redirect_uri_problem("kiro://kiro.oauth/callback", true),
        None
    );
    assert!(redirect_uri_problem("kiro://kiro.oauth/callback", false).is_some());
    assert!(redirect_uri_problem("https://kiro.dev/#frag", false).is_some());
    assert!(redirect_uri_problem("https://*.kiro.dev", false).is_some());
    assert!(redirect_uri_problem(&format!("https://kiro.dev/{}", "a".repeat(240)), true).is_some());
}

#[test]
fn enabled_roles_follow_the_same_rule_and_defaults_are_filled() {
    let current = json!({
        "appRoles": [{"id": APP, "allowedMemberTypes": ["User"], "displayName": "User", "description": "User",
                       "isEnabled": true, "origin": "Application", "value": null}],
        "api": {"oauth2PermissionScopes": []}
    });
    let current = current.as_object().unwrap();
    let domains = vec![];
    let r = rules(&domains);
    let patch = json!({"appRoles": []});
    let mut merged = current.clone();
    let e =
        check_application_patch(current, patch.as_object().unwrap(), &mut merged, &r).unwrap_err();
    assert_eq!(e.code, "CannotDeleteOrUpdateEnabledEntitlement");

    let patch =
        json!({"api": {"oauth2PermissionScopes": [{"id": TENANT, "value": "a", "type": "Admin"}]}});
    let mut merged = current.clone();
    crate::directory::merge(&mut merged, patch.as_object().unwrap());
    check_application_patch(current, patch.as_object().unwrap(), &mut merged, &r).unwrap();
    let scope = &merged["api"]["oauth2PermissionScopes"][0];
    assert_eq!(scope["isEnabled"], false);
    assert!(scope["adminConsentDescription"].is_null());
}

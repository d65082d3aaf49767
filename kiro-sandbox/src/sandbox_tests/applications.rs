use std::time::Duration;

use serde_json::{Value, json};

use super::{TEMPLATE, start};
use crate::faults::FaultSettingsPatch;

#[tokio::test]
async fn instantiate_creates_the_template_defaults() {
    let s = start().await;
    let tok = s.token().await;
    let (app, sp) = s.instantiate(&tok, "Kiro").await;
    assert_eq!(app["displayName"], "Kiro");
    assert_eq!(app["identifierUris"], json!([]));
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["api"]["requestedAccessTokenVersion"], Value::Null);
    let scopes = app["api"]["oauth2PermissionScopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0]["value"], "user_impersonation");
    assert_eq!(scopes[0]["type"], "User");
    assert_eq!(scopes[0]["isEnabled"], true);
    assert!(uuid::Uuid::parse_str(scopes[0]["id"].as_str().unwrap()).is_ok());
    let roles: Vec<&str> = app["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "18d14569-c3bd-439b-9a66-3a2aee01d14f",
            "b9632174-c057-4f7e-951b-be3adc52bfe6"
        ]
    );
    for p in ["publicClient", "web", "spa"] {
        assert_eq!(app[p]["redirectUris"], json!([]));
    }
    assert!(app["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert_ne!(app["id"], app["appId"]);
    assert_eq!(sp["appId"], app["appId"]);
    assert_eq!(sp["displayName"], "Kiro");
    assert_eq!(sp["appRoleAssignmentRequired"], true);
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(
        sp["tags"],
        json!([
            "WindowsAzureActiveDirectoryIntegratedApp",
            "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"
        ])
    );
    assert_eq!(sp["appRoles"], app["appRoles"]);

    // Not idempotent: the same name makes a second pair.
    let (again, _) = s.instantiate(&tok, "Kiro").await;
    assert_ne!(again["id"], app["id"]);
    let all = s.objects().await;
    assert_eq!(all["applications"].as_array().unwrap().len(), 2);
    assert_eq!(all["service_principals"].as_array().unwrap().len(), 2);

    let r = s
        .graph(
            &tok,
            "POST",
            "applicationTemplates/11111111-2222-4333-8444-555555555555/instantiate",
            Some(json!({"displayName":"x"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    let r = s
        .graph(
            &tok,
            "POST",
            &format!("applicationTemplates/{TEMPLATE}/instantiate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn replication_lag_hides_new_objects_even_from_their_creator() {
    let s = start().await;
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(60_000),
        ..Default::default()
    });
    let tok = s.token().await;
    let (app, sp) = s.instantiate(&tok, "Laggy").await;
    let id = app["id"].as_str().unwrap();
    let app_id = app["appId"].as_str().unwrap();
    let r = s
        .graph(&tok, "GET", &format!("applications/{id}"), None)
        .await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    assert_eq!(
        r.message(),
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    let r = s
        .graph(
            &tok,
            "PATCH",
            &format!("applications/{id}"),
            Some(json!({"displayName":"y"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = s
        .graph(
            &tok,
            "GET",
            "applications?$filter=displayName%20eq%20'Laggy'",
            None,
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
    let r = s
        .graph(
            &tok,
            "GET",
            &format!("servicePrincipals?$filter=appId%20eq%20'{app_id}'"),
            None,
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
    let r = s
        .graph(
            &tok,
            "DELETE",
            &format!("servicePrincipals/{}", sp["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    // Replication completes (fast-forwarded here, so a slow machine cannot flake the test).
    s.replicate_now().await;
    let r = s
        .graph(&tok, "GET", &format!("applications/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#applications/$entity")
    );
    assert_eq!(r.header("request-id").map(str::len), Some(36));
    let r = s
        .graph(
            &tok,
            "GET",
            &format!("applications(appId='{app_id}')"),
            None,
        )
        .await;
    assert_eq!(r.body["id"], app["id"]);
    let r = s
        .graph(
            &tok,
            "GET",
            &format!("servicePrincipals?$filter=appId%20eq%20'{app_id}'"),
            None,
        )
        .await;
    assert_eq!(r.body["value"][0]["id"], sp["id"]);
}

#[tokio::test]
async fn delete_moves_to_deleted_items_and_removes_the_service_principal() {
    let s = start().await;
    let tok = s.token().await;
    let (a, sp) = s.instantiate(&tok, "Gone").await;
    let id = a["id"].as_str().unwrap();
    let r = s
        .graph(
            &tok,
            "DELETE",
            &format!("applications(appId='{}')", a["appId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.graph(&tok, "GET", &format!("applications/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        s.graph(
            &tok,
            "GET",
            &format!("servicePrincipals/{}", sp["id"].as_str().unwrap()),
            None
        )
        .await
        .status,
        404
    );
    let r = s
        .graph(&tok, "GET", &format!("directory/deletedItems/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["@odata.type"], "#microsoft.graph.application");
    assert!(r.body["deletedDateTime"].is_string());
    let r = s
        .graph(
            &tok,
            "GET",
            "directory/deletedItems/microsoft.graph.application",
            None,
        )
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.graph(
            &tok,
            "DELETE",
            &format!("directory/deletedItems/{id}"),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        s.graph(
            &tok,
            "DELETE",
            &format!("directory/deletedItems/{id}"),
            None
        )
        .await
        .status,
        404
    );
    let all = s.objects().await;
    assert_eq!(
        (
            all["applications"].clone(),
            all["service_principals"].clone(),
            all["deleted_items"].clone()
        ),
        (json!([]), json!([]), json!([]))
    );
}

#[tokio::test]
async fn graph_rejects_bad_requests_with_graph_errors() {
    let s = start().await;
    let tok = s.token().await;
    let r = s
        .request("GET", "/graph/v1.0/applications", None, None)
        .await;
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
    assert!(r.body["error"]["innerError"]["request-id"].is_string());
    let r = s
        .request("GET", "/graph/v1.0/applications", Some("forged"), None)
        .await;
    assert_eq!(r.status, 401);
    let (a, _) = s.instantiate(&tok, "Bad").await;
    let path = format!("applications/{}", a["id"].as_str().unwrap());
    let r = s
        .raw(
            "PATCH",
            &format!("/graph/v1.0/{path}"),
            &[("Authorization", &format!("Bearer {tok}"))],
            b"{nope",
        )
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, "BadRequest"));
    for bad in [
        json!({"displayName":""}),
        json!({"appId":"x"}),
        json!({"noSuchProperty":1}),
        json!({"signInAudience":"Everyone"}),
    ] {
        assert_eq!(
            s.graph(&tok, "PATCH", &path, Some(bad.clone()))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    let r = s.graph(&tok, "GET", "nonsense", None).await;
    assert_eq!(
        (r.status, r.message()),
        (400, "Resource not found for the segment 'nonsense'.")
    );
    let r = s.graph(&tok, "PUT", &path, Some(json!({}))).await;
    assert_eq!(r.status, 405);

    // Tokens are bound to their tenant.
    let other = s.sb.create_tenant().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", other.client_id.as_str()),
        ("client_secret", other.client_secret.as_str()),
        ("scope", super::GRAPH_SCOPE),
    ];
    let other_tok = s.login(&other.tenant_id, &form).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.graph(&other_tok, "GET", &path, None).await.status, 404);
}

#[tokio::test]
async fn objects_become_visible_once_the_lag_has_passed() {
    let s = start().await;
    s.set_faults(FaultSettingsPatch {
        replication_lag_ms: Some(50),
        ..Default::default()
    });
    let tok = s.token().await;
    let (app, _) = s.instantiate(&tok, "Quick").await;
    let path = format!("applications/{}", app["id"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(s.graph(&tok, "GET", &path, None).await.status, 200);
}

#[tokio::test]
async fn service_principal_patch_renames_and_refuses_read_only_properties() {
    let s = start().await;
    let tok = s.token().await;
    let (_, sp) = s.instantiate(&tok, "Kiro").await;
    let path = format!("servicePrincipals/{}", sp["id"].as_str().unwrap());
    let r = s
        .graph(
            &tok,
            "PATCH",
            &path,
            Some(json!({"displayName": "Kiro IDE"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s.graph(&tok, "GET", &path, None).await;
    assert_eq!(r.body["displayName"], "Kiro IDE");
    let r = s
        .graph(&tok, "PATCH", &path, Some(json!({"appId": "x"})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "Request_BadRequest");
    let r = s
        .graph(&tok, "PATCH", &path, Some(json!({"displayName": ""})))
        .await;
    assert_eq!(r.status, 400);
}

//! Typed partial updates: only the fields a patch sets are sent.

use serde::Serialize;

use super::applications::{ApiApplication, Application, PermissionScope, Platform, RedirectUris};

/// The body of `PATCH /applications/{id}`. Unset fields are left out, so Graph keeps them;
/// set list fields replace the whole list.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationPatch {
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The whole list of application ID URIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_uris: Option<Vec<String>>,
    /// e.g. `AzureADMyOrg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in_audience: Option<String>,
    /// Sub-properties of `api`; those left unset are kept by Graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiPatch>,
    /// The whole `publicClient` block (send it as read, with `extra`, to keep what Graph added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_client: Option<RedirectUris>,
    /// The whole `web` block (as for `public_client`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<RedirectUris>,
    /// The whole `spa` block (as for `public_client`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spa: Option<RedirectUris>,
}

impl ApplicationPatch {
    /// True when the patch sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets the block of `platform`.
    pub fn set_platform(&mut self, platform: Platform, block: RedirectUris) {
        let slot = match platform {
            Platform::PublicClient => &mut self.public_client,
            Platform::Web => &mut self.web,
            Platform::Spa => &mut self.spa,
        };
        *slot = Some(block);
    }

    /// `app` as Graph holds it once this patch is carried out: what it sets replaces.
    pub fn apply_to(&self, app: &mut Application) {
        if let Some(name) = &self.display_name {
            app.display_name.clone_from(name);
        }
        if let Some(uris) = &self.identifier_uris {
            app.identifier_uris.clone_from(uris);
        }
        if let Some(audience) = &self.sign_in_audience {
            app.sign_in_audience = Some(audience.clone());
        }
        if let Some(api) = &self.api {
            let target = app.api.get_or_insert_with(ApiApplication::default);
            if let Some(version) = api.requested_access_token_version {
                target.requested_access_token_version = Some(version);
            }
            if let Some(scopes) = &api.oauth2_permission_scopes {
                target.oauth2_permission_scopes.clone_from(scopes);
            }
        }
        for (block, slot) in [
            (&self.public_client, &mut app.public_client),
            (&self.web, &mut app.web),
            (&self.spa, &mut app.spa),
        ] {
            if let Some(block) = block {
                *slot = Some(block.clone());
            }
        }
    }

    /// Sets, on top of this patch, what `later` sets.
    pub fn merge(&mut self, later: ApplicationPatch) {
        let ApplicationPatch {
            display_name,
            identifier_uris,
            sign_in_audience,
            api,
            public_client,
            web,
            spa,
        } = later;
        fn over<T>(slot: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *slot = value;
            }
        }
        over(&mut self.display_name, display_name);
        over(&mut self.identifier_uris, identifier_uris);
        over(&mut self.sign_in_audience, sign_in_audience);
        over(&mut self.public_client, public_client);
        over(&mut self.web, web);
        over(&mut self.spa, spa);
        if let Some(api) = api {
            let mine = self.api.get_or_insert_with(ApiPatch::default);
            over(
                &mut mine.requested_access_token_version,
                api.requested_access_token_version,
            );
            over(
                &mut mine.oauth2_permission_scopes,
                api.oauth2_permission_scopes,
            );
        }
    }

    /// A patch of the whole scope list only.
    pub fn scopes(scopes: Vec<PermissionScope>) -> Self {
        Self {
            api: Some(ApiPatch {
                oauth2_permission_scopes: Some(scopes),
                ..ApiPatch::default()
            }),
            ..Self::default()
        }
    }
}

/// The `api` part of an [`ApplicationPatch`]: only the sub-properties set are sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiPatch {
    /// 1 or 2 (Kiro needs 2, the v2 issuer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_access_token_version: Option<i32>,
    /// The whole list of delegated scopes. Graph refuses to change or drop an enabled scope;
    /// [`GraphClient::put_scope`](super::GraphClient::put_scope) and
    /// [`GraphClient::remove_scope`](super::GraphClient::remove_scope) handle that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_permission_scopes: Option<Vec<PermissionScope>>,
}

/// The body of `PATCH /servicePrincipals/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalPatch {
    /// New display name (the enterprise application's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// "Assignment required?": only assigned users and groups may sign in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_role_assignment_required: Option<bool>,
}

impl ServicePrincipalPatch {
    /// True when the patch sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    #[test]
    fn sends_only_what_is_set() {
        assert_eq!(
            serde_json::to_value(ApplicationPatch::default()).unwrap(),
            json!({})
        );
        assert!(ApplicationPatch::default().is_empty());
        let patch = ApplicationPatch {
            display_name: Some("Kiro".into()),
            api: Some(ApiPatch {
                requested_access_token_version: Some(2),
                ..ApiPatch::default()
            }),
            ..ApplicationPatch::default()
        };
        assert!(!patch.is_empty());
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({"displayName": "Kiro", "api": {"requestedAccessTokenVersion": 2}})
        );
        let mut extra = Map::new();
        extra.insert("homePageUrl".into(), json!("https://kiro.dev"));
        let mut patch = ApplicationPatch {
            identifier_uris: Some(vec![]),
            ..ApplicationPatch::default()
        };
        patch.set_platform(
            Platform::Web,
            RedirectUris {
                redirect_uris: vec!["https://a/cb".into()],
                extra,
            },
        );
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({"identifierUris": [], "web": {"redirectUris": ["https://a/cb"], "homePageUrl": "https://kiro.dev"}})
        );
        assert_eq!(
            serde_json::to_value(ApplicationPatch::scopes(vec![])).unwrap(),
            json!({"api": {"oauth2PermissionScopes": []}})
        );
        let sp = ServicePrincipalPatch {
            display_name: Some("Kiro 2".into()),
            ..ServicePrincipalPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&sp).unwrap(),
            json!({"displayName": "Kiro 2"})
        );
        assert!(ServicePrincipalPatch::default().is_empty());
    }
}

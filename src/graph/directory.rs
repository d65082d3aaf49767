//! Users, groups, group members and directory objects (read only).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client::GraphClient;
use super::error::GraphError;
use super::{encode, filter_eq, path_segment};

/// The user properties [`GraphClient::get_user`] asks for: Graph leaves `accountEnabled` out
/// unless it is selected.
const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,accountEnabled";

/// Page size for member listings (Graph's maximum).
const MAX_PAGE: u32 = 999;

/// A user (`/users/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// e.g. `alice@contoso.com`, or `bob_fabrikam.com#EXT#@contoso.onmicrosoft.com` for a guest.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default)]
    pub mail: Option<String>,
    /// Whether the account may sign in.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A group (`/groups/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name (not unique in a tenant).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Mail alias.
    #[serde(default)]
    pub mail_nickname: Option<String>,
    /// A security group.
    #[serde(default)]
    pub security_enabled: Option<bool>,
    /// A mail-enabled group (Microsoft 365 or distribution group).
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    /// Every other field Graph sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Any directory object: a group member or `GET /directoryObjects/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// e.g. `#microsoft.graph.user`.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Users only.
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

/// What kind of principal a directory object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// `#microsoft.graph.user`.
    User,
    /// `#microsoft.graph.group`.
    Group,
    /// Anything else (a device, a service principal, an org contact…), with its `@odata.type`,
    /// or an empty string when Graph gave none.
    Other(String),
}

impl DirectoryObject {
    /// The kind, from `@odata.type`.
    pub fn kind(&self) -> MemberKind {
        match self.odata_type.as_deref() {
            Some("#microsoft.graph.user") => MemberKind::User,
            Some("#microsoft.graph.group") => MemberKind::Group,
            other => MemberKind::Other(other.unwrap_or_default().to_string()),
        }
    }
}

/// A user id or user principal name as a path segment. Everything but unreserved characters
/// and `@` is percent-encoded: guest UPNs contain `#` (`…#EXT#@…`), which would otherwise end
/// the path.
fn user_segment(id_or_upn: &str) -> String {
    encode(id_or_upn, b"@")
}

impl GraphClient {
    /// `GET /users/{id | userPrincipalName}` with the [`User`] fields selected; `None` on 404.
    pub async fn get_user(&self, id_or_upn: &str) -> Result<Option<User>, GraphError> {
        let path = format!("users/{}?$select={USER_SELECT}", user_segment(id_or_upn));
        self.get_opt(&path).await
    }

    /// `GET /groups/{id}`; `None` on 404.
    pub async fn get_group(&self, id: &str) -> Result<Option<Group>, GraphError> {
        self.get_opt(&format!("groups/{}", path_segment(id))).await
    }

    /// Groups whose display name equals `name` (all pages; names are not unique).
    pub async fn list_groups_by_display_name(&self, name: &str) -> Result<Vec<Group>, GraphError> {
        self.list(&format!("groups?{}", filter_eq("displayName", name)))
            .await
    }

    /// The direct members of a group (all pages, 999 per page). Nested groups are listed as
    /// members of kind [`MemberKind::Group`], not expanded.
    pub async fn list_group_members(
        &self,
        group_id: &str,
    ) -> Result<Vec<DirectoryObject>, GraphError> {
        let path = format!("groups/{}/members?$top={MAX_PAGE}", path_segment(group_id));
        self.list(&path).await
    }

    /// `GET /directoryObjects/{id}`, to tell what kind of principal an id is; `None` on 404.
    pub async fn get_directory_object(
        &self,
        id: &str,
    ) -> Result<Option<DirectoryObject>, GraphError> {
        self.get_opt(&format!("directoryObjects/{}", path_segment(id)))
            .await
    }
}

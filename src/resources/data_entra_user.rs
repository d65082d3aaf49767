//! Data source `kiro_entra_user`: looks a user up by user principal name or
//! object id, e.g. to assign them to the application.

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::managed::DataSourceDef;
use crate::framework::validators::guid;
use crate::tf_model;

use super::GraphFailure;
use super::input_rules::user_principal_name;

tf_model! {
    pub struct UserModel {
        /// The user's object id.
        id: Option<String> [computed],
        /// The user principal name to look up, e.g. `alice@contoso.com`. Exactly one of
        /// `user_principal_name` and `object_id`.
        user_principal_name: Option<String> [optional, computed, validate(user_principal_name())],
        /// The object id to look up. Exactly one of `user_principal_name` and `object_id`.
        object_id: Option<String> [optional, computed, validate(guid())],
        /// Display name.
        display_name: Option<String> [computed],
        /// Primary email address.
        mail: Option<String> [computed],
        /// Whether the account may sign in.
        account_enabled: Option<bool> [computed],
    }
    rules {
        ExactlyOneOf(user_principal_name, object_id);
    }
}

pub struct EntraUser;

#[async_trait]
impl DataSourceDef<Clients> for EntraUser {
    type Model = UserModel;
    const TYPE_NAME: &'static str = "kiro_entra_user";
    const DESCRIPTION: &'static str = "Looks up an Entra user by user principal name or object id.";

    async fn read(&self, clients: &Clients, config: UserModel) -> Result<UserModel, Diagnostics> {
        let key = config
            .object_id
            .clone()
            .or(config.user_principal_name.clone())
            .unwrap_or_default();
        let user = clients
            .graph
            .get_user(&key)
            .await
            .map_err(|e| e.fail("look up the user"))?
            .ok_or_else(|| {
                Diagnostic::error(
                    "User not found",
                    format!("No user {key:?} exists in tenant {}.", clients.tenant_id),
                )
            })?;
        Ok(UserModel {
            id: Some(user.id.clone()),
            object_id: Some(user.id),
            user_principal_name: user.user_principal_name,
            display_name: user.display_name,
            mail: user.mail,
            account_enabled: user.account_enabled,
        })
    }
}

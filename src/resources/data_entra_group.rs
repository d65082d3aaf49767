//! Data source `kiro_entra_group`: looks a group up by display name or
//! object id, with its direct members (what provisioning sends to Kiro:
//! nested groups are not provisioned).

use async_trait::async_trait;

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::DataSourceDef;
use crate::framework::validators::{guid, max_length, not_blank};
use crate::graph::directory::{Group, MemberKind};
use crate::{attr, tf_model};

use super::GraphFailure;

tf_model! {
    pub struct GroupModel {
        /// The group's object id.
        id: Option<String> [computed],
        /// The display name to look up. Display names are not unique: when several groups
        /// have it, the error lists them so one can be chosen by `object_id`.
        display_name: Option<String> [optional, computed, validate(not_blank()), validate(max_length(256))],
        /// The object id to look up. Exactly one of `display_name` and `object_id`.
        object_id: Option<String> [optional, computed, validate(guid())],
        /// Description.
        description: Option<String> [computed],
        /// Mail alias.
        mail_nickname: Option<String> [computed],
        /// Whether it is a security group.
        security_enabled: Option<bool> [computed],
        /// Object ids of the group's direct members (users and groups).
        members: Option<Vec<String>> [computed],
        /// Object ids of the direct members that are users: the people provisioning sends
        /// to Kiro for this group.
        member_user_ids: Option<Vec<String>> [computed],
    }
    rules {
        ExactlyOneOf(display_name, object_id);
    }
}

pub struct EntraGroup;

fn candidates(groups: &[Group]) -> String {
    groups
        .iter()
        .map(|g| {
            format!(
                "  {} ({})",
                g.id,
                g.description.as_deref().unwrap_or("no description")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[async_trait]
impl DataSourceDef<Clients> for EntraGroup {
    type Model = GroupModel;
    const TYPE_NAME: &'static str = "kiro_entra_group";
    const DESCRIPTION: &'static str =
        "Looks up an Entra group by display name or object id, with its direct members.";

    async fn read(&self, clients: &Clients, config: GroupModel) -> Result<GroupModel, Diagnostics> {
        let graph = &clients.graph;
        let group = match (&config.object_id, &config.display_name) {
            (Some(id), _) => graph
                .get_group(id)
                .await
                .map_err(|e| e.fail("look up the group"))?
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Group not found",
                        format!(
                            "No group with object id {id} exists in tenant {}.",
                            clients.tenant_id
                        ),
                    )
                    .at(AttrPath::attr(attr!(GroupModel, object_id)))
                })?,
            (None, name) => {
                let name = name.clone().unwrap_or_default();
                let mut found = graph
                    .list_groups_by_display_name(&name)
                    .await
                    .map_err(|e| e.fail("look up the group"))?;
                match found.len() {
                    1 => found.remove(0),
                    0 => {
                        return Err(Diagnostic::error(
                            "Group not found",
                            format!(
                                "No group named {name:?} exists in tenant {}.",
                                clients.tenant_id
                            ),
                        )
                        .at(AttrPath::attr(attr!(GroupModel, display_name)))
                        .into());
                    }
                    n => {
                        return Err(Diagnostic::error(
                            "Several groups have this name",
                            format!(
                                "{n} groups are named {name:?}; choose one with object_id:\n{}",
                                candidates(&found)
                            ),
                        )
                        .at(AttrPath::attr(attr!(GroupModel, display_name)))
                        .into());
                    }
                }
            }
        };
        let members = graph
            .list_group_members(&group.id)
            .await
            .map_err(|e| e.fail("list the group's members"))?;
        let users = members
            .iter()
            .filter(|m| m.kind() == MemberKind::User)
            .map(|m| m.id.clone())
            .collect();
        Ok(GroupModel {
            id: Some(group.id.clone()),
            object_id: Some(group.id),
            display_name: group.display_name,
            description: group.description,
            mail_nickname: group.mail_nickname,
            security_enabled: group.security_enabled,
            members: Some(members.into_iter().map(|m| m.id).collect()),
            member_user_ids: Some(users),
        })
    }
}

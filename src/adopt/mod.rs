//! `kiro-adopt`: finds a setup made by hand in the Entra and AWS portals (the guide's steps)
//! and writes the Terraform configuration that adopts it: an `import` block and a resource
//! block for every piece found, so `terraform plan` shows only imports.
//!
//! Discovery (`discover`) reads through the provider's own clients, configured from the
//! provider's environment variables (`connect`); the written configuration (`config`) is
//! rendered by a small HCL writer (`hcl`) that knows nothing of Kiro.

mod config;
mod connect;
mod discover;
pub mod hcl;
mod names;

use std::collections::BTreeMap;

pub use config::{ScimTokenMode, write_configuration};
pub use connect::connect;
pub use discover::{Lookup, discover};

use crate::graph::error::GraphError;
use crate::kiro::KiroError;

/// Why adopting stopped, for the person running the command.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("cannot {doing}: {source}")]
    Graph { doing: String, source: GraphError },
    #[error("cannot {doing}: {source}")]
    Kiro { doing: String, source: KiroError },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Config(String),
}

/// Everything of the guide that was found, as the resources' imports will read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Setup {
    pub application: FoundApplication,
    pub scopes: Vec<FoundScope>,
    pub redirect_uris: Vec<FoundRedirectUri>,
    pub assignments: Vec<FoundAssignment>,
    pub provisioning: Option<FoundProvisioning>,
    pub profile: Option<FoundProfile>,
    /// The profile's domains, lower-cased as Kiro keeps them.
    pub domains: Vec<String>,
    pub subscriptions: Vec<FoundSubscription>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundApplication {
    pub object_id: String,
    pub client_id: String,
    pub display_name: String,
    pub service_principal_id: String,
    pub token_version: i64,
    /// `None` when it is the portal's default `api://<client id>`, or there is none.
    pub identifier_uri: Option<String>,
    /// The application has no identifier URI: the guide's "Expose an API" step was skipped.
    pub identifier_uri_missing: bool,
    /// The template's `user_impersonation` scope is still there.
    pub keep_default_scope: bool,
    pub assignment_required: bool,
    /// The directory (tenant) id.
    pub tenant_id: String,
    /// The issuer Kiro must trust for this tenant.
    pub issuer_url: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundScope {
    pub id: String,
    pub value: String,
    /// `User` or `Admin`.
    pub kind: String,
    pub enabled: bool,
    pub admin_consent_display_name: Option<String>,
    pub admin_consent_description: Option<String>,
    pub user_consent_display_name: Option<String>,
    pub user_consent_description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundRedirectUri {
    /// `public_client`, `web` or `spa`.
    pub platform: String,
    pub uri: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundAssignment {
    pub id: String,
    pub principal_id: String,
    /// `User` or `Group`.
    pub principal_type: String,
    pub principal_display_name: String,
    pub app_role_id: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundProvisioning {
    /// The saved "Tenant URL".
    pub tenant_url: String,
    pub enabled: bool,
    /// `assigned` or `all`.
    pub sync_scope: String,
    pub remove_unsupported_mappings: bool,
    /// The mappings an import reads as managed: the `externalId` mapping, when it is not the
    /// guide's `objectId` (no block is needed for that one: it is the resource's default).
    pub mappings: Vec<FoundMapping>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundMapping {
    pub object: String,
    pub target_attribute: String,
    pub source_attribute: Option<String>,
    pub expression: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundProfile {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub issuer_url: String,
    pub client_id: String,
    pub tenant_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub scim_endpoint: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundSubscription {
    /// `USER` or `GROUP`.
    pub principal_type: String,
    /// Kiro's id of the principal.
    pub principal_id: String,
    /// The Entra object id the principal was provisioned with (SCIM `externalId`).
    pub external_id: Option<String>,
    /// The user name or group display name in Kiro, for the block's name.
    pub principal_name: String,
    pub plan: String,
}

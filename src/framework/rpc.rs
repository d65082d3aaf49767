//! The boundary between the plugin server and the framework: one method per
//! protocol RPC, with values still encoded (the server never decodes them;
//! the framework does, with the schema it owns).

use async_trait::async_trait;

use super::diag::{AttrPath, Diagnostics};
use super::schema::Schema;

/// A value as it travels: msgpack (what Terraform sends) or JSON (fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedValue {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

impl EncodedValue {
    pub fn msgpack(bytes: Vec<u8>) -> Self {
        EncodedValue {
            msgpack: bytes,
            json: Vec::new(),
        }
    }
}

/// What the Terraform client said it can do (the protocol's `ClientCapabilities`); an
/// older client sends nothing, which reads as all `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    /// Terraform 1.11+: write-only attributes stay out of plan and state.
    pub write_only_attributes_allowed: bool,
}

pub struct ProviderSchemas {
    pub provider: Schema,
    pub resources: Vec<(String, Schema)>,
    pub data_sources: Vec<(String, Schema)>,
}

pub struct PlanRequest {
    pub type_name: String,
    pub prior_state: Option<EncodedValue>,
    pub proposed_new_state: Option<EncodedValue>,
    pub config: Option<EncodedValue>,
    pub prior_private: Vec<u8>,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned_state: Option<EncodedValue>,
    pub requires_replace: Vec<AttrPath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest {
    pub type_name: String,
    pub prior_state: Option<EncodedValue>,
    pub planned_state: Option<EncodedValue>,
    pub config: Option<EncodedValue>,
    pub planned_private: Vec<u8>,
}

#[derive(Default)]
pub struct ApplyResponse {
    pub new_state: Option<EncodedValue>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Default)]
pub struct ReadResponse {
    pub new_state: Option<EncodedValue>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ImportedResource {
    pub type_name: String,
    pub state: EncodedValue,
    pub private: Vec<u8>,
}

#[derive(Default)]
pub struct ImportResponse {
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

/// Everything the plugin server asks of a provider.
#[async_trait]
pub trait ProviderService: Send + Sync + 'static {
    fn schemas(&self) -> ProviderSchemas;
    async fn validate_provider_config(&self, config: EncodedValue) -> Diagnostics;
    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: EncodedValue,
        client: ClientCapabilities,
    ) -> Diagnostics;
    async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: EncodedValue,
    ) -> Diagnostics;
    async fn configure(&self, terraform_version: &str, config: EncodedValue) -> Diagnostics;
    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw_json: Vec<u8>,
    ) -> (Option<EncodedValue>, Diagnostics);
    async fn read_resource(
        &self,
        type_name: &str,
        current_state: EncodedValue,
        private: Vec<u8>,
    ) -> ReadResponse;
    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse;
    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse;
    async fn import_resource_state(&self, type_name: &str, id: &str) -> ImportResponse;
    async fn read_data_source(
        &self,
        type_name: &str,
        config: EncodedValue,
    ) -> (Option<EncodedValue>, Diagnostics);
    /// Terraform asks running operations to stop (Ctrl-C).
    async fn stop(&self);
    /// Terraform is done with this process (go-plugin's Shutdown): finish what must be done
    /// before it ends. Nothing by default.
    async fn finish(&self) {}
}

//! What a resource or data source implements. The required part is small
//! (schema + CRUD); importing, plan changes, cross-attribute validation and
//! state upgrades are opt-in with defaults that do the usual thing.

use async_trait::async_trait;

use super::diag::{Diagnostic, Diagnostics};
use super::plan::PlanContext;
use super::schema::Schema;
use super::value::TfValue;

/// What an apply produced: the new state (possibly partial, when an error
/// happened after the remote object was made — Terraform then keeps it as
/// tainted so nothing is lost) and diagnostics.
pub struct Applied {
    pub state: Option<TfValue>,
    pub diagnostics: Diagnostics,
}

impl Applied {
    pub fn ok(state: TfValue) -> Self {
        Applied {
            state: Some(state),
            diagnostics: Diagnostics::new(),
        }
    }

    pub fn failed(diagnostics: impl Into<Diagnostics>) -> Self {
        Applied {
            state: None,
            diagnostics: diagnostics.into(),
        }
    }

    /// The object exists but finishing it failed.
    pub fn partial(state: TfValue, diagnostics: impl Into<Diagnostics>) -> Self {
        Applied {
            state: Some(state),
            diagnostics: diagnostics.into(),
        }
    }
}

impl From<Result<TfValue, Diagnostics>> for Applied {
    fn from(r: Result<TfValue, Diagnostics>) -> Self {
        match r {
            Ok(state) => Applied::ok(state),
            Err(diags) => Applied::failed(diags),
        }
    }
}

/// The values an apply works from.
pub struct ApplyRequest<'a> {
    /// Null on create.
    pub prior: &'a TfValue,
    pub planned: &'a TfValue,
    /// The configuration, the only place write-only values appear.
    pub config: &'a TfValue,
}

#[async_trait]
pub trait Resource<C: Send + Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks across attributes, at validate/plan time, with no API call.
    /// Attribute validators from the schema have already run.
    fn validate(&self, _config: &TfValue, _diags: &mut Diagnostics) {}

    /// Adjusts the plan the framework made (defaults, unknowns, replace).
    async fn modify_plan(&self, _client: Option<&C>, _plan: &mut PlanContext<'_>) {}

    async fn create(&self, client: &C, req: ApplyRequest<'_>) -> Applied;

    /// `Ok(None)` when the remote object is gone: Terraform drops it from
    /// state and plans to create it again.
    async fn read(&self, client: &C, state: &TfValue) -> Result<Option<TfValue>, Diagnostics>;

    async fn update(&self, client: &C, req: ApplyRequest<'_>) -> Applied;

    async fn delete(&self, client: &C, state: &TfValue) -> Result<(), Diagnostics>;

    /// Turns an import ID into a state that `read` can complete.
    async fn import(&self, _client: &C, _id: &str) -> Result<TfValue, Diagnostics> {
        Err(Diagnostic::error(
            "Resource Import Not Implemented",
            format!("{} cannot be imported.", self.type_name()),
        )
        .into())
    }

    /// Rewrites a state stored by an older schema version (as JSON) into
    /// the current shape. The default accepts only the current version.
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if from_version == current {
            Ok(state)
        } else {
            Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "{} state has version {from_version}, but this provider only knows version {current}. \
                     Use the provider version that wrote this state.",
                    self.type_name()
                ),
            )
            .into())
        }
    }
}

#[async_trait]
pub trait DataSource<C: Send + Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &TfValue, _diags: &mut Diagnostics) {}
    async fn read(&self, client: &C, config: &TfValue) -> Result<TfValue, Diagnostics>;
}

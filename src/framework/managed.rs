//! The typed resource layer: a resource implements [`ManagedResource`] on
//! its [`Model`], and [`Managed`] adapts it to the runtime's [`Resource`]
//! trait. What every resource would otherwise repeat lives here once:
//! decoding plans and states into the model (write-only values taken from
//! the configuration), the `timeouts` block and its limits, keeping an
//! object that was made but not finished in state (Terraform then marks it
//! tainted, so nothing is lost), and carrying `timeouts` from plan to state.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::diag::{Diagnostic, Diagnostics, Severity};
use super::model::Model;
use super::plan::{PlanContext, changes_remote_object};
use super::resource::{Applied, ApplyRequest, DataSource, Resource};
use super::schema::Schema;
use super::timeouts::{human, timeout_for, timeouts_block};
use super::value::TfValue;

/// The default limits of the operations a resource's `timeouts` block
/// offers; `None` leaves the operation out of the block (and unbounded
/// here: the clients bound their own retries).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeouts {
    pub create: Option<Duration>,
    pub update: Option<Duration>,
    pub delete: Option<Duration>,
}

impl Timeouts {
    /// No `timeouts` block.
    pub const NONE: Timeouts = Timeouts {
        create: None,
        update: None,
        delete: None,
    };

    pub const fn minutes(create: u64, update: u64, delete: u64) -> Timeouts {
        Timeouts {
            create: Some(Duration::from_secs(create * 60)),
            update: Some(Duration::from_secs(update * 60)),
            delete: Some(Duration::from_secs(delete * 60)),
        }
    }

    fn operations(&self) -> Vec<(&'static str, Duration)> {
        [
            ("create", self.create),
            ("update", self.update),
            ("delete", self.delete),
        ]
        .into_iter()
        .filter_map(|(name, d)| d.map(|d| (name, d)))
        .collect()
    }
}

/// One create, update or delete in progress: its time limit, and the place
/// where a create records the remote object as soon as it exists.
pub struct Operation {
    timeout: Duration,
    started: Instant,
    existing: Mutex<Option<TfValue>>,
    warnings: Mutex<Diagnostics>,
}

/// Said of a create that failed after the remote object was made.
const KEPT: &str = "\n\nThe object was made and is kept in state, marked tainted: the next apply \
                    replaces it.";

/// Effectively unbounded, for operations without a `timeouts` entry.
const UNBOUNDED: Duration = Duration::from_secs(24 * 3600);

impl Operation {
    pub fn new(timeout: Duration) -> Operation {
        Operation {
            timeout,
            started: Instant::now(),
            existing: Mutex::new(None),
            warnings: Mutex::new(Diagnostics::new()),
        }
    }

    /// The limit of the whole operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What is left of the limit, less a small reserve; waits inside the
    /// operation use this, so that they run out (and say what they were
    /// waiting for) just before the whole operation's limit does.
    pub fn remaining(&self) -> Duration {
        let reserve = (self.timeout / 20).min(Duration::from_secs(5));
        self.timeout
            .saturating_sub(reserve)
            .saturating_sub(self.started.elapsed())
    }

    /// Records that the remote object exists, as `model`. If the rest of
    /// the create fails or runs out of time, this is the state Terraform
    /// keeps (tainted): the next apply replaces the object instead of
    /// leaving it behind unmanaged.
    pub fn exists<M: Model>(&self, model: &M) {
        *self.existing.lock().unwrap_or_else(|e| e.into_inner()) = Some(model.to_value());
    }

    /// Takes back [`exists`](Self::exists): the service refused the object,
    /// so there is nothing to keep.
    pub fn forget(&self) {
        *self.existing.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Something the person running Terraform should know about an operation
    /// that goes on (say, a create that took over an object it found): shown
    /// as a warning whether the operation then succeeds or fails.
    pub fn warn(&self, warning: Diagnostic) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    fn take_warnings(&self) -> Diagnostics {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn existing(&self) -> Option<TfValue> {
        self.existing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What a typed resource implements. Required: the model, names, and CRUD;
/// the rest is opt-in.
#[async_trait]
pub trait ManagedResource<C: Send + Sync>: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    /// The resource's description in the schema (and so in the docs).
    const DESCRIPTION: &'static str;
    const TIMEOUTS: Timeouts = Timeouts::NONE;

    /// Checks across attributes, at validate/plan time, with no API call.
    fn validate(&self, _config: &TfValue, _diags: &mut Diagnostics) {}

    /// Adjusts the framework's plan (values only the provider can know).
    async fn modify_plan(&self, _client: Option<&C>, _plan: &mut PlanContext<'_>) {}

    async fn create(
        &self,
        client: &C,
        plan: Self::Model,
        op: &Operation,
    ) -> Result<Self::Model, Diagnostics>;

    /// `Ok(None)` when the remote object is gone: Terraform drops it from
    /// state and plans to create it again.
    async fn read(
        &self,
        client: &C,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics>;

    async fn update(
        &self,
        client: &C,
        prior: Self::Model,
        plan: Self::Model,
        op: &Operation,
    ) -> Result<Self::Model, Diagnostics>;

    async fn delete(
        &self,
        client: &C,
        state: Self::Model,
        op: &Operation,
    ) -> Result<(), Diagnostics>;

    /// Turns an import ID into a state that `read` completes.
    async fn import(&self, _client: &C, _id: &str) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Resource Import Not Implemented",
            format!("{} cannot be imported.", Self::TYPE_NAME),
        )
        .into())
    }
}

/// Adapts a [`ManagedResource`] to the runtime.
pub struct Managed<R>(pub R);

fn schema_of<M: Model>(description: &str, timeouts: &Timeouts) -> Schema {
    let mut block = M::block(description.to_string());
    let operations = timeouts.operations();
    if !operations.is_empty() {
        block = block.block(timeouts_block(&operations));
    }
    Schema::new(0, block)
}

/// The value with the configuration's write-only attributes filled in: the
/// configuration is the only place Terraform sends them.
fn with_write_only(schema: &Schema, value: &TfValue, config: &TfValue) -> TfValue {
    let mut value = value.clone();
    for a in schema.block.attributes.iter().filter(|a| a.write_only) {
        if let (Some(slot), Some(configured)) =
            (value.get_attr_mut(&a.name), config.get_attr(&a.name))
        {
            *slot = configured.clone();
        }
    }
    value
}

fn decode<M: Model>(value: &TfValue) -> Result<M, Diagnostics> {
    M::from_value(value).map_err(Diagnostics::from)
}

fn decode_state<M: Model>(value: &TfValue) -> Result<M, Diagnostics> {
    M::from_state(value).map_err(Diagnostics::from)
}

/// The model's value plus the `timeouts` block of `source` (plan or state).
fn with_timeouts(value: TfValue, source: &TfValue) -> TfValue {
    match (value, source.get_attr("timeouts")) {
        (TfValue::Object(mut attrs), Some(t)) => {
            attrs.insert("timeouts".into(), t.clone());
            TfValue::Object(attrs)
        }
        (value, _) => value,
    }
}

/// `value` with each attribute that has a semantic equality spelt as `held` spells it, where
/// the two are one value: the spelling in the configuration (or already in state) stays, so
/// a service that answers in its own form shows no change.
fn keep_spelling(schema: &Schema, mut value: TfValue, held: &TfValue) -> TfValue {
    for a in schema
        .block
        .attributes
        .iter()
        .filter(|a| a.equivalent.is_some())
    {
        if let (Some(slot), Some(held)) = (value.get_attr_mut(&a.name), held.get_attr(&a.name))
            && slot != held
            && a.spells_same(held, slot)
        {
            *slot = held.clone();
        }
    }
    value
}

impl<R> Managed<R> {
    fn limit<C: Send + Sync>(
        value: &TfValue,
        operation: &str,
        default: Option<Duration>,
    ) -> Duration
    where
        R: ManagedResource<C>,
    {
        match default {
            Some(d) => timeout_for(value, operation, d),
            None => UNBOUNDED,
        }
    }

    fn timed_out<C: Send + Sync>(operation: &str, limit: Duration, kept: bool) -> Diagnostic
    where
        R: ManagedResource<C>,
    {
        let after = if kept { KEPT } else { "" };
        Diagnostic::error(
            format!("Timed out: {operation} {}", R::TYPE_NAME),
            format!(
                "The {operation} did not finish within {} (timeouts.{operation}). The service may \
                 be slow or still replicating; raise the limit in the resource's timeouts block \
                 if this persists.{after}",
                human(limit)
            ),
        )
    }
}

#[async_trait]
impl<C, R> Resource<C> for Managed<R>
where
    C: Send + Sync + 'static,
    R: ManagedResource<C>,
{
    fn type_name(&self) -> &'static str {
        R::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema_of::<R::Model>(R::DESCRIPTION, &R::TIMEOUTS)
    }

    fn validate(&self, config: &TfValue, diags: &mut Diagnostics) {
        self.0.validate(config, diags);
    }

    async fn modify_plan(&self, client: Option<&C>, plan: &mut PlanContext<'_>) {
        self.0.modify_plan(client, plan).await;
    }

    async fn create(&self, client: &C, req: ApplyRequest<'_>) -> Applied {
        let schema = self.schema();
        let planned = with_write_only(&schema, req.planned, req.config);
        let model = match decode::<R::Model>(&planned) {
            Ok(m) => m,
            Err(d) => return Applied::failed(d),
        };
        let limit = Self::limit::<C>(req.planned, "create", R::TIMEOUTS.create);
        let op = Operation::new(limit);
        let outcome = tokio::time::timeout(limit, self.0.create(client, model, &op)).await;
        let kept = op.existing().map(|v| with_timeouts(v, req.planned));
        let mut applied = match outcome {
            Ok(Ok(made)) => Applied::ok(with_timeouts(
                keep_spelling(&schema, made.to_value(), req.planned),
                req.planned,
            )),
            Ok(Err(mut diags)) => match kept {
                Some(state) => {
                    for d in diags.0.iter_mut().filter(|d| d.severity == Severity::Error) {
                        d.detail.push_str(KEPT);
                    }
                    Applied::partial(state, diags)
                }
                None => Applied::failed(diags),
            },
            Err(_) => {
                let diag = Self::timed_out::<C>("create", limit, kept.is_some());
                match kept {
                    Some(state) => Applied::partial(state, diag),
                    None => Applied::failed(diag),
                }
            }
        };
        applied.diagnostics.extend(op.take_warnings());
        applied
    }

    async fn read(&self, client: &C, state: &TfValue) -> Result<Option<TfValue>, Diagnostics> {
        let model = decode_state::<R::Model>(state)?;
        let schema = self.schema();
        Ok(self
            .0
            .read(client, model)
            .await?
            .map(|m| with_timeouts(keep_spelling(&schema, m.to_value(), state), state)))
    }

    async fn update(&self, client: &C, req: ApplyRequest<'_>) -> Applied {
        let schema = self.schema();
        if !changes_remote_object(&schema, req.prior, req.planned) && req.planned.is_wholly_known()
        {
            // Only the form changed (a value's spelling, `timeouts`) and the plan left nothing
            // for the resource to find out: the state takes the configuration's form, and
            // nothing remote is touched.
            return Applied::ok(req.planned.clone());
        }
        let decoded = decode_state::<R::Model>(req.prior).and_then(|prior| {
            decode::<R::Model>(&with_write_only(&schema, req.planned, req.config))
                .map(|plan| (prior, plan))
        });
        let (prior, plan) = match decoded {
            Ok(v) => v,
            Err(d) => return Applied::failed(d),
        };
        let limit = Self::limit::<C>(req.planned, "update", R::TIMEOUTS.update);
        let op = Operation::new(limit);
        match tokio::time::timeout(limit, self.0.update(client, prior, plan, &op)).await {
            Ok(Ok(updated)) => Applied::ok(with_timeouts(
                keep_spelling(&schema, updated.to_value(), req.planned),
                req.planned,
            )),
            Ok(Err(diags)) => Applied::failed(diags),
            Err(_) => Applied::failed(Self::timed_out::<C>("update", limit, false)),
        }
    }

    async fn delete(&self, client: &C, state: &TfValue) -> Result<(), Diagnostics> {
        let model = decode_state::<R::Model>(state)?;
        let limit = Self::limit::<C>(state, "delete", R::TIMEOUTS.delete);
        let op = Operation::new(limit);
        tokio::time::timeout(limit, self.0.delete(client, model, &op))
            .await
            .unwrap_or_else(|_| Err(Self::timed_out::<C>("delete", limit, false).into()))
    }

    async fn import(&self, client: &C, id: &str) -> Result<TfValue, Diagnostics> {
        // Only what the import found; `read` fills in the rest and the
        // defaults, which is why `read` decodes states leniently.
        Ok(self.0.import(client, id).await?.to_value())
    }
}

/// What a typed data source implements.
#[async_trait]
pub trait DataSourceDef<C: Send + Sync>: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;

    /// Checks across arguments (e.g. exactly one way to look the object up).
    fn validate(&self, _config: &TfValue, _diags: &mut Diagnostics) {}

    /// Looks the object up; `config` has the arguments, the rest is null.
    async fn read(&self, client: &C, config: Self::Model) -> Result<Self::Model, Diagnostics>;
}

/// Adapts a [`DataSourceDef`] to the runtime.
pub struct Query<D>(pub D);

#[async_trait]
impl<C, D> DataSource<C> for Query<D>
where
    C: Send + Sync + 'static,
    D: DataSourceDef<C>,
{
    fn type_name(&self) -> &'static str {
        D::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema_of::<D::Model>(D::DESCRIPTION, &Timeouts::NONE)
    }

    fn validate(&self, config: &TfValue, diags: &mut Diagnostics) {
        self.0.validate(config, diags);
    }

    async fn read(&self, client: &C, config: &TfValue) -> Result<TfValue, Diagnostics> {
        let model = decode_state::<D::Model>(config)?;
        Ok(self.0.read(client, model).await?.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::diag::AttrPath;

    crate::tf_model! {
        struct Widget {
            /// Id.
            id: Option<String> [computed, use_state_for_unknown],
            /// Name.
            name: String [required],
            /// A secret that is never stored.
            secret_wo: Option<String> [optional, write_only],
        }
    }

    /// Fails after recording the object when the name says so; sleeps
    /// past any limit when asked.
    struct Widgets;

    #[async_trait]
    impl ManagedResource<()> for Widgets {
        type Model = Widget;
        const TYPE_NAME: &'static str = "test_widget";
        const DESCRIPTION: &'static str = "A widget.";
        const TIMEOUTS: Timeouts = Timeouts {
            create: Some(Duration::from_secs(60)),
            update: None,
            delete: Some(Duration::from_secs(60)),
        };

        async fn create(
            &self,
            _: &(),
            mut plan: Widget,
            op: &Operation,
        ) -> Result<Widget, Diagnostics> {
            assert_eq!(
                plan.secret_wo.as_deref(),
                Some("s3cret"),
                "write-only value from config"
            );
            plan.id = Some("w-1".into());
            match plan.name.as_str() {
                "half" => {
                    op.exists(&plan);
                    Err(Diagnostic::error("boom", "finishing failed").into())
                }
                "found" => {
                    op.warn(Diagnostic::warning("Took over", "it was there"));
                    Ok(plan)
                }
                "slow" => {
                    op.exists(&plan);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    unreachable!()
                }
                _ => Ok(plan),
            }
        }
        async fn read(&self, _: &(), state: Widget) -> Result<Option<Widget>, Diagnostics> {
            Ok(Some(state))
        }
        async fn update(
            &self,
            _: &(),
            _: Widget,
            plan: Widget,
            _: &Operation,
        ) -> Result<Widget, Diagnostics> {
            Ok(plan)
        }
        async fn delete(&self, _: &(), _: Widget, _: &Operation) -> Result<(), Diagnostics> {
            Ok(())
        }
    }

    fn planned(name: &str, timeout: Option<&str>) -> TfValue {
        let mut v = Widget {
            id: None,
            name: name.into(),
            secret_wo: None,
        }
        .to_value();
        let t = TfValue::object([(
            "create",
            timeout.map(TfValue::string).unwrap_or(TfValue::Null),
        )]);
        if let TfValue::Object(attrs) = &mut v {
            attrs.insert("id".into(), TfValue::unknown());
            attrs.insert("timeouts".into(), t);
        }
        v
    }

    fn config(name: &str) -> TfValue {
        TfValue::object([
            ("name", TfValue::string(name)),
            ("secret_wo", TfValue::string("s3cret")),
        ])
    }

    async fn create(name: &str, timeout: Option<&str>) -> Applied {
        let planned = planned(name, timeout);
        Managed(Widgets)
            .create(
                &(),
                ApplyRequest {
                    prior: &TfValue::Null,
                    planned: &planned,
                    config: &config(name),
                },
            )
            .await
    }

    #[test]
    fn schema_has_the_model_and_the_timeouts_it_offers() {
        let schema = Resource::<()>::schema(&Managed(Widgets));
        assert_eq!(schema.block.description, "A widget.");
        assert_eq!(schema.block.attributes.len(), 3);
        let timeouts = schema.block.get_block("timeouts").expect("timeouts block");
        let ops: Vec<&str> = timeouts
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(ops, ["create", "delete"]);
    }

    #[tokio::test]
    async fn create_returns_the_model_with_the_planned_timeouts() {
        let applied = create("ok", Some("2m")).await;
        assert!(applied.diagnostics.is_empty());
        let state = applied.state.unwrap();
        assert_eq!(state.get_attr("id"), Some(&TfValue::string("w-1")));
        assert_eq!(
            state
                .get_attr("timeouts")
                .and_then(|t| t.get_attr("create")),
            Some(&TfValue::string("2m"))
        );
    }

    #[tokio::test]
    async fn a_create_s_warnings_reach_terraform_with_its_state() {
        let applied = create("found", None).await;
        assert!(!applied.diagnostics.has_errors());
        assert_eq!(applied.diagnostics.0.len(), 1);
        assert_eq!(applied.diagnostics.0[0].severity, Severity::Warning);
        assert_eq!(applied.diagnostics.0[0].summary, "Took over");
        assert!(applied.state.is_some());
    }

    #[tokio::test]
    async fn a_made_but_unfinished_object_is_kept() {
        let applied = create("half", None).await;
        assert!(applied.diagnostics.has_errors());
        assert!(applied.diagnostics.0[0].detail.contains("kept in state"));
        let state = applied.state.expect("kept in state");
        assert_eq!(state.get_attr("id"), Some(&TfValue::string("w-1")));
    }

    #[tokio::test]
    async fn the_timeouts_block_bounds_the_whole_create() {
        let applied = create("slow", Some("1s")).await;
        let d = &applied.diagnostics.0[0];
        assert!(d.summary.contains("Timed out: create test_widget"), "{d:?}");
        assert!(d.detail.contains("within 1s"), "{}", d.detail);
        assert!(d.detail.contains("kept in state"), "{}", d.detail);
        assert!(applied.state.is_some());
    }

    #[tokio::test]
    async fn decode_errors_point_at_the_attribute() {
        let mut planned = planned("x", None);
        if let TfValue::Object(a) = &mut planned {
            a.insert("name".into(), TfValue::Null);
        }
        let applied = Managed(Widgets)
            .create(
                &(),
                ApplyRequest {
                    prior: &TfValue::Null,
                    planned: &planned,
                    config: &config("x"),
                },
            )
            .await;
        assert_eq!(
            applied.diagnostics.0[0].attribute,
            Some(AttrPath::attr("name"))
        );
    }

    #[test]
    fn durations_read_like_terraform() {
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::ZERO), "0s");
    }
}

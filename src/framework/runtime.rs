//! The framework's implementation of the protocol: decodes values with the
//! schemas, runs validators, plans, and dispatches to resources.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{RwLock, watch};

use super::diag::{AttrPath, Diagnostic, Diagnostics};
use super::resource::{self, Applied, DataSource, Resource};
use super::rpc::{self, EncodedValue, ProviderSchemas, ProviderService};
use super::schema::{Block, Nesting, Schema};
use super::types::Type;
use super::value::TfValue;
use super::{json, msgpack, plan, write_only};

/// What a concrete provider supplies to the framework.
#[async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    /// The API clients that resources use once the provider is configured.
    type Client: Send + Sync + 'static;

    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;

    /// Checks across provider arguments (no network).
    fn validate(&self, _config: &TfValue, _diags: &mut Diagnostics) {}

    async fn configure(
        &self,
        config: &TfValue,
        terraform_version: &str,
    ) -> Result<Self::Client, Diagnostics>;

    /// Before the process ends, with the configured client (see
    /// [`ProviderService::finish`]). Nothing by default.
    async fn finish(&self, _client: &Self::Client) {}
}

struct Registered<T: ?Sized> {
    implementation: Arc<T>,
    schema: Schema,
    ty: Type,
}

pub struct Runtime<P: ProviderDef> {
    def: P,
    provider_schema: Schema,
    resources: BTreeMap<String, Registered<dyn Resource<P::Client>>>,
    data_sources: BTreeMap<String, Registered<dyn DataSource<P::Client>>>,
    client: RwLock<Option<Arc<P::Client>>>,
    stop_tx: watch::Sender<bool>,
}

impl<P: ProviderDef> Runtime<P> {
    pub fn new(def: P) -> Self {
        let resources = def
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                (
                    r.type_name().to_string(),
                    Registered {
                        implementation: r,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources = def
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.value_type();
                (
                    d.type_name().to_string(),
                    Registered {
                        implementation: d,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let provider_schema = def.schema();
        Runtime {
            def,
            provider_schema,
            resources,
            data_sources,
            client: RwLock::new(None),
            stop_tx: watch::channel(false).0,
        }
    }

    fn resource(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn Resource<P::Client>>, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            )
            .into()
        })
    }

    async fn client(&self) -> Result<Arc<P::Client>, Diagnostics> {
        self.client.read().await.clone().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The provider configuration has values that are not known yet (they depend on \
                 other resources), so the provider could not connect. Apply the resources they \
                 depend on first (terraform apply -target=...).",
            )
            .into()
        })
    }

    /// Runs `work` unless Terraform asks the provider to stop first.
    /// Runs the change Terraform planned: a delete (null plan), a create (null prior) or an
    /// update, unless Terraform asks the provider to stop first. A failed delete, and an update
    /// that returns no state, keep the prior state.
    async fn perform(
        &self,
        implementation: &dyn Resource<P::Client>,
        client: &P::Client,
        req: resource::ApplyRequest<'_>,
    ) -> Applied {
        let stopped = || {
            Applied::failed(Diagnostic::error(
                "Stopped",
                "Terraform asked the provider to stop.",
            ))
        };
        let prior = req.prior;
        if req.planned.is_null() {
            let delete = async {
                Applied::from(
                    implementation
                        .delete(client, prior)
                        .await
                        .map(|_| TfValue::Null),
                )
            };
            let deleted = self.unless_stopped(delete, stopped).await;
            if deleted.diagnostics.has_errors() {
                Applied::partial(prior.clone(), deleted.diagnostics)
            } else {
                deleted
            }
        } else if prior.is_null() {
            self.unless_stopped(implementation.create(client, req), stopped)
                .await
        } else {
            let updated = self
                .unless_stopped(implementation.update(client, req), stopped)
                .await;
            match updated.state {
                Some(_) => updated,
                None => Applied::partial(prior.clone(), updated.diagnostics),
            }
        }
    }

    async fn unless_stopped<T>(
        &self,
        work: impl Future<Output = T>,
        stopped: impl FnOnce() -> T,
    ) -> T {
        let mut rx = self.stop_tx.subscribe();
        if *rx.borrow() {
            return stopped();
        }
        tokio::select! {
            out = work => out,
            _ = rx.wait_for(|s| *s) => stopped(),
        }
    }
}

fn decode(value: &EncodedValue, ty: &Type, what: &str) -> Result<TfValue, Diagnostics> {
    let result = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        json::decode(&value.json, ty)
    } else {
        return Ok(TfValue::Null);
    };
    result.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!(
                "The {what} could not be decoded: {e}. This is a bug in the provider or Terraform."
            ),
        )
        .into()
    })
}

fn decode_opt(value: &Option<EncodedValue>, ty: &Type, what: &str) -> Result<TfValue, Diagnostics> {
    match value {
        Some(v) => decode(v, ty, what),
        None => Ok(TfValue::Null),
    }
}

fn encode(value: &TfValue, ty: &Type) -> Result<EncodedValue, Diagnostics> {
    msgpack::encode(value, ty).map(EncodedValue::msgpack).map_err(|e| {
        Diagnostic::error(
            "Invalid value from the provider",
            format!("The provider produced a value it could not encode: {e}. This is a bug in the provider."),
        )
        .into()
    })
}

/// Runs the schema's validators and rules over a configuration, descending
/// into nested blocks, and reports each problem on its attribute. Unknown
/// values are skipped (and rules that involve one wait): they are checked
/// again once known, at the latest at apply.
pub fn validate_block(block: &Block, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics) {
    block.walk(value, path, &mut |block, value, path| {
        for rule in &block.rules {
            rule.check(value, path, diags);
        }
        for a in &block.attributes {
            let Some(v) = value.get_attr(&a.name) else {
                continue;
            };
            if v.is_null() || !v.is_known() {
                continue;
            }
            for validator in &a.validators {
                validator.validate(v, &path.then_attr(a.name.clone()), diags);
            }
        }
    });
}

/// Makes an object produced by a resource fit its schema: attributes it
/// left out become null (nested list/set blocks become empty).
fn conform(block: &Block, value: TfValue) -> TfValue {
    let TfValue::Object(mut attrs) = value else {
        return value;
    };
    for a in &block.attributes {
        attrs.entry(a.name.clone()).or_insert(TfValue::Null);
        if a.write_only {
            attrs.insert(a.name.clone(), TfValue::Null);
        }
    }
    for b in &block.blocks {
        let empty = match b.nesting {
            Nesting::List => TfValue::List(Vec::new()),
            Nesting::Set => TfValue::Set(Vec::new()),
            Nesting::Map => TfValue::Map(BTreeMap::new()),
            Nesting::Single | Nesting::Group => TfValue::Null,
        };
        attrs.entry(b.type_name.clone()).or_insert(empty);
    }
    TfValue::Object(attrs)
}

/// What an apply answers when it cannot give a new state: the prior state, and the private
/// data of the plan.
struct Kept {
    state: Option<EncodedValue>,
    private: Vec<u8>,
}

/// The answer to an apply: the new state (conformed to the schema, with no unknowns left), or
/// the prior state with the diagnostics that say why not.
fn applied_response(
    block: &Block,
    ty: &Type,
    type_name: &str,
    applied: Applied,
    kept: Kept,
) -> rpc::ApplyResponse {
    let mut diagnostics = applied.diagnostics;
    let state = (applied.state)
        .map(|s| conform(block, s))
        .unwrap_or(TfValue::Null);
    let encoded = no_unknowns(&state, type_name).and_then(|()| encode(&state, ty));
    let new_state = match encoded {
        Ok(v) => Some(v),
        Err(d) => {
            diagnostics.extend(d);
            kept.state
        }
    };
    rpc::ApplyResponse {
        new_state,
        private: kept.private,
        diagnostics,
    }
}

fn no_unknowns(value: &TfValue, type_name: &str) -> Result<(), Diagnostics> {
    if value.is_wholly_known() {
        Ok(())
    } else {
        Err(Diagnostic::error(
            "Provider produced an unknown value",
            format!("{type_name} left a value unknown after apply. This is a bug in the provider."),
        )
        .into())
    }
}

#[async_trait]
impl<P: ProviderDef> ProviderService for Runtime<P> {
    fn schemas(&self) -> ProviderSchemas {
        ProviderSchemas {
            provider: self.provider_schema.clone(),
            resources: self
                .resources
                .iter()
                .map(|(n, r)| (n.clone(), r.schema.clone()))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(n, d)| (n.clone(), d.schema.clone()))
                .collect(),
        }
    }

    async fn validate_provider_config(&self, config: EncodedValue) -> Diagnostics {
        let ty = self.provider_schema.value_type();
        let config = match decode(&config, &ty, "provider configuration") {
            Ok(c) => c,
            Err(d) => return d,
        };
        let mut diags = Diagnostics::new();
        validate_block(
            &self.provider_schema.block,
            &config,
            &AttrPath::root(),
            &mut diags,
        );
        self.def.validate(&config, &mut diags);
        diags
    }

    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: EncodedValue,
        client: rpc::ClientCapabilities,
    ) -> Diagnostics {
        let r = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => return d,
        };
        let config = match decode(&config, &r.ty, "resource configuration") {
            Ok(c) => c,
            Err(d) => return d,
        };
        let mut diags = Diagnostics::new();
        validate_block(&r.schema.block, &config, &AttrPath::root(), &mut diags);
        write_only::refuse_for_client(client, &r.schema.block, &config, &mut diags);
        r.implementation.validate(&config, &mut diags);
        diags
    }

    async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: EncodedValue,
    ) -> Diagnostics {
        let Some(d) = self.data_sources.get(type_name) else {
            return Diagnostic::error("Unknown data source", type_name.to_string()).into();
        };
        let config = match decode(&config, &d.ty, "data source configuration") {
            Ok(c) => c,
            Err(diags) => return diags,
        };
        let mut diags = Diagnostics::new();
        validate_block(&d.schema.block, &config, &AttrPath::root(), &mut diags);
        d.implementation.validate(&config, &mut diags);
        diags
    }

    async fn configure(&self, terraform_version: &str, config: EncodedValue) -> Diagnostics {
        let ty = self.provider_schema.value_type();
        let config = match decode(&config, &ty, "provider configuration") {
            Ok(c) => c,
            Err(d) => return d,
        };
        if !config.is_wholly_known() {
            // Values come from resources not yet applied; resources report
            // that if they need the client during this run.
            return Diagnostics::new();
        }
        match self.def.configure(&config, terraform_version).await {
            Ok(client) => {
                *self.client.write().await = Some(Arc::new(client));
                Diagnostics::new()
            }
            Err(d) => d,
        }
    }

    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw_json: Vec<u8>,
    ) -> (Option<EncodedValue>, Diagnostics) {
        let r = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => return (None, d),
        };
        let parsed: serde_json::Value = match serde_json::from_slice(&raw_json) {
            Ok(v) => v,
            Err(e) => {
                return (
                    None,
                    Diagnostic::error(
                        "Invalid stored state",
                        format!("The state is not valid JSON: {e}"),
                    )
                    .into(),
                );
            }
        };
        let upgraded = match r.implementation.upgrade_state(version, parsed) {
            Ok(v) => v,
            Err(d) => return (None, d),
        };
        let result = serde_json::to_vec(&upgraded)
            .map_err(|e| {
                Diagnostics::from(Diagnostic::error("Invalid stored state", e.to_string()))
            })
            .and_then(|bytes| {
                decode(
                    &EncodedValue {
                        msgpack: Vec::new(),
                        json: bytes,
                    },
                    &r.ty,
                    "stored state",
                )
            })
            .and_then(|v| encode(&conform(&r.schema.block, v), &r.ty));
        match result {
            Ok(v) => (Some(v), Diagnostics::new()),
            Err(d) => (None, d),
        }
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current_state: EncodedValue,
        private: Vec<u8>,
    ) -> rpc::ReadResponse {
        let result: Result<EncodedValue, Diagnostics> = async {
            let r = self.resource(type_name)?;
            let state = decode(&current_state, &r.ty, "current state")?;
            let client = self.client().await?;
            let read = self
                .unless_stopped(r.implementation.read(&client, &state), || {
                    Err(
                        Diagnostic::error("Stopped", "Terraform asked the provider to stop.")
                            .into(),
                    )
                })
                .await?;
            let new_state = match read {
                Some(v) => conform(&r.schema.block, v),
                None => TfValue::Null,
            };
            encode(&new_state, &r.ty)
        }
        .await;
        match result {
            Ok(v) => rpc::ReadResponse {
                new_state: Some(v),
                private,
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => rpc::ReadResponse {
                new_state: Some(current_state),
                private,
                diagnostics,
            },
        }
    }

    async fn plan_resource_change(&self, req: rpc::PlanRequest) -> rpc::PlanResponse {
        let result: Result<rpc::PlanResponse, Diagnostics> = async {
            let r = self.resource(&req.type_name)?;
            let prior = decode_opt(&req.prior_state, &r.ty, "prior state")?;
            let proposed = decode_opt(&req.proposed_new_state, &r.ty, "proposed new state")?;
            let config = decode_opt(&req.config, &r.ty, "configuration")?;
            if proposed.is_null() {
                // Destroy: nothing to plan.
                return Ok(rpc::PlanResponse {
                    planned_state: req.proposed_new_state.clone(),
                    planned_private: req.prior_private.clone(),
                    ..Default::default()
                });
            }
            let mut ctx = plan::plan(&r.schema, &prior, &proposed, &config);
            let client = self.client.read().await.clone();
            r.implementation
                .modify_plan(client.as_deref(), &mut ctx)
                .await;
            let (planned, requires_replace, diagnostics) = ctx.finish();
            Ok(rpc::PlanResponse {
                planned_state: Some(encode(&planned, &r.ty)?),
                requires_replace,
                planned_private: req.prior_private.clone(),
                diagnostics,
            })
        }
        .await;
        result.unwrap_or_else(|diagnostics| rpc::PlanResponse {
            diagnostics,
            ..Default::default()
        })
    }

    async fn apply_resource_change(&self, req: rpc::ApplyRequest) -> rpc::ApplyResponse {
        let r = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return rpc::ApplyResponse {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode_opt(&req.prior_state, &r.ty, "prior state")?,
                decode_opt(&req.planned_state, &r.ty, "planned state")?,
                decode_opt(&req.config, &r.ty, "configuration")?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(v) => v,
            Err(diagnostics) => {
                return rpc::ApplyResponse {
                    new_state: req.prior_state,
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let client = match self.client().await {
            Ok(c) => c,
            Err(diagnostics) => {
                return rpc::ApplyResponse {
                    new_state: req.prior_state,
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let implementation = &r.implementation;
        if !planned.is_null() {
            // Terraform validated this configuration while some values were still unknown,
            // and checks on those waited; every value is known now, so they run before any
            // request is made.
            let mut checks = Diagnostics::new();
            validate_block(&r.schema.block, &config, &AttrPath::root(), &mut checks);
            implementation.validate(&config, &mut checks);
            if checks.has_errors() {
                return rpc::ApplyResponse {
                    new_state: req.prior_state,
                    private: req.planned_private,
                    diagnostics: checks,
                };
            }
        }
        let apply_req = resource::ApplyRequest {
            prior: &prior,
            planned: &planned,
            config: &config,
        };
        let applied = self
            .perform(implementation.as_ref(), &client, apply_req)
            .await;
        let kept = Kept {
            state: req.prior_state,
            private: req.planned_private,
        };
        applied_response(&r.schema.block, &r.ty, &req.type_name, applied, kept)
    }

    async fn import_resource_state(&self, type_name: &str, id: &str) -> rpc::ImportResponse {
        let result: Result<rpc::ImportResponse, Diagnostics> = async {
            let r = self.resource(type_name)?;
            let client = self.client().await?;
            let state = r.implementation.import(&client, id).await?;
            let state = conform(&r.schema.block, state);
            Ok(rpc::ImportResponse {
                imported: vec![rpc::ImportedResource {
                    type_name: type_name.to_string(),
                    state: encode(&state, &r.ty)?,
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::new(),
            })
        }
        .await;
        result.unwrap_or_else(|diagnostics| rpc::ImportResponse {
            imported: Vec::new(),
            diagnostics,
        })
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: EncodedValue,
    ) -> (Option<EncodedValue>, Diagnostics) {
        let result: Result<EncodedValue, Diagnostics> = async {
            let d = self.data_sources.get(type_name).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Unknown data source",
                    type_name.to_string(),
                ))
            })?;
            let config = decode(&config, &d.ty, "data source configuration")?;
            // Checks that waited for values unknown at validate time run now, before the read.
            let mut checks = Diagnostics::new();
            validate_block(&d.schema.block, &config, &AttrPath::root(), &mut checks);
            d.implementation.validate(&config, &mut checks);
            if checks.has_errors() {
                return Err(checks);
            }
            let client = self.client().await?;
            let state = d.implementation.read(&client, &config).await?;
            encode(&conform(&d.schema.block, state), &d.ty)
        }
        .await;
        match result {
            Ok(v) => (Some(v), Diagnostics::new()),
            Err(d) => (None, d),
        }
    }

    async fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }

    async fn finish(&self) {
        let client = self.client.read().await.clone();
        if let Some(client) = client {
            self.def.finish(&client).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;
    use crate::framework::typed::{ObjectBuilder, ObjectReader};
    use crate::framework::validators::not_blank;

    struct Thing;

    #[async_trait]
    impl Resource<()> for Thing {
        fn type_name(&self) -> &'static str {
            "test_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                1,
                Block::new("t")
                    .attribute(Attribute::string("id").computed().use_state_for_unknown())
                    .attribute(Attribute::string("name").required().validate(not_blank()))
                    .attribute(Attribute::string("secret_wo").optional().write_only()),
            )
        }
        async fn create(&self, _: &(), req: resource::ApplyRequest<'_>) -> Applied {
            let name: String = ObjectReader::new(req.planned).require("name").unwrap();
            if name == "leave-unknown" {
                return Applied::ok(req.planned.clone());
            }
            // Echo the write-only value back: the runtime must drop it.
            let secret = ObjectReader::new(req.config).raw("secret_wo").clone();
            Applied::ok(
                ObjectBuilder::new()
                    .set("id", "id-1")
                    .set("name", name)
                    .set_raw("secret_wo", secret)
                    .build(),
            )
        }
        async fn read(&self, _: &(), state: &TfValue) -> Result<Option<TfValue>, Diagnostics> {
            let name: String = ObjectReader::new(state).require("name")?;
            Ok((name != "gone").then(|| state.clone()))
        }
        async fn update(&self, _: &(), req: resource::ApplyRequest<'_>) -> Applied {
            Applied::ok(req.planned.clone())
        }
        async fn delete(&self, _: &(), _: &TfValue) -> Result<(), Diagnostics> {
            Ok(())
        }
    }

    struct TestProvider;

    #[async_trait]
    impl ProviderDef for TestProvider {
        type Client = ();
        fn schema(&self) -> Schema {
            Schema::new(0, Block::new("p"))
        }
        fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
            vec![Arc::new(Thing)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
            Vec::new()
        }
        async fn configure(&self, _: &TfValue, _: &str) -> Result<(), Diagnostics> {
            Ok(())
        }
    }

    fn ty() -> Type {
        Thing.schema().value_type()
    }

    fn enc(v: &TfValue) -> EncodedValue {
        EncodedValue::msgpack(msgpack::encode(v, &ty()).unwrap())
    }

    fn dec(v: &EncodedValue) -> TfValue {
        msgpack::decode(&v.msgpack, &ty()).unwrap()
    }

    fn config(name: &str) -> TfValue {
        ObjectBuilder::new()
            .set_raw("id", TfValue::Null)
            .set("name", name)
            .set("secret_wo", "hunter2")
            .build()
    }

    async fn runtime() -> Runtime<TestProvider> {
        let rt = Runtime::new(TestProvider);
        let cfg = EncodedValue::msgpack(
            msgpack::encode(
                &TfValue::object::<&str>([]),
                &Schema::new(0, Block::new("p")).value_type(),
            )
            .unwrap(),
        );
        assert!(rt.configure("1.11.4", cfg).await.is_empty());
        rt
    }

    #[tokio::test]
    async fn validation_points_at_the_attribute() {
        let rt = runtime().await;
        let diags = rt
            .validate_resource_config("test_thing", enc(&config("")), Default::default())
            .await;
        assert!(diags.has_errors());
        assert_eq!(diags.0[0].attribute, Some(AttrPath::attr("name")));
        let unknown = rt
            .validate_resource_config("nope", enc(&config("x")), Default::default())
            .await;
        assert!(unknown.has_errors());
    }

    #[tokio::test]
    async fn create_plans_unknown_id_and_drops_write_only_values() {
        let rt = runtime().await;
        let cfg = config("a");
        let plan = rt
            .plan_resource_change(rpc::PlanRequest {
                type_name: "test_thing".into(),
                prior_state: None,
                proposed_new_state: Some(enc(&cfg)),
                config: Some(enc(&cfg)),
                prior_private: Vec::new(),
            })
            .await;
        assert!(!plan.diagnostics.has_errors(), "{:?}", plan.diagnostics);
        let planned = dec(plan.planned_state.as_ref().unwrap());
        assert!(planned.get_attr("id").unwrap().is_unknown());
        assert_eq!(planned.get_attr("secret_wo"), Some(&TfValue::Null));
        let applied = rt
            .apply_resource_change(rpc::ApplyRequest {
                type_name: "test_thing".into(),
                prior_state: None,
                planned_state: plan.planned_state,
                config: Some(enc(&cfg)),
                planned_private: Vec::new(),
            })
            .await;
        assert!(
            !applied.diagnostics.has_errors(),
            "{:?}",
            applied.diagnostics
        );
        let state = dec(applied.new_state.as_ref().unwrap());
        assert_eq!(state.get_attr("id"), Some(&TfValue::String("id-1".into())));
        assert_eq!(
            state.get_attr("secret_wo"),
            Some(&TfValue::Null),
            "write-only never stored"
        );
    }

    #[tokio::test]
    async fn an_unknown_left_after_apply_is_an_error_not_a_state() {
        let rt = runtime().await;
        let planned = ObjectBuilder::new()
            .set_raw("id", TfValue::unknown())
            .set("name", "leave-unknown")
            .set_raw("secret_wo", TfValue::Null)
            .build();
        let applied = rt
            .apply_resource_change(rpc::ApplyRequest {
                type_name: "test_thing".into(),
                prior_state: None,
                planned_state: Some(enc(&planned)),
                config: Some(enc(&config("leave-unknown"))),
                planned_private: Vec::new(),
            })
            .await;
        assert!(applied.diagnostics.has_errors());
        assert!(applied.new_state.is_none());
    }

    #[tokio::test]
    async fn vanished_object_reads_as_null() {
        let rt = runtime().await;
        let state = ObjectBuilder::new()
            .set("id", "1")
            .set("name", "gone")
            .set_raw("secret_wo", TfValue::Null)
            .build();
        let read = rt
            .read_resource("test_thing", enc(&state), b"p".to_vec())
            .await;
        assert!(read.diagnostics.is_empty());
        assert_eq!(dec(read.new_state.as_ref().unwrap()), TfValue::Null);
        assert_eq!(read.private, b"p".to_vec());
    }

    #[tokio::test]
    async fn state_upgrade_accepts_current_version_and_refuses_others() {
        let rt = runtime().await;
        let json = br#"{"id":"1","name":"n"}"#.to_vec();
        let (state, diags) = rt
            .upgrade_resource_state("test_thing", 1, json.clone())
            .await;
        assert!(diags.is_empty(), "{diags:?}");
        let state = dec(&state.unwrap());
        assert_eq!(state.get_attr("name"), Some(&TfValue::String("n".into())));
        assert_eq!(state.get_attr("secret_wo"), Some(&TfValue::Null));
        let (none, diags) = rt.upgrade_resource_state("test_thing", 0, json).await;
        assert!(none.is_none());
        assert!(diags.0[0].summary.contains("Unsupported state version"));
    }

    #[tokio::test]
    async fn destroy_plan_passes_through() {
        let rt = runtime().await;
        let null = EncodedValue::msgpack(msgpack::encode(&TfValue::Null, &ty()).unwrap());
        let plan = rt
            .plan_resource_change(rpc::PlanRequest {
                type_name: "test_thing".into(),
                prior_state: Some(enc(&config("a"))),
                proposed_new_state: Some(null.clone()),
                config: Some(null.clone()),
                prior_private: Vec::new(),
            })
            .await;
        assert_eq!(plan.planned_state, Some(null));
        assert!(plan.requires_replace.is_empty());
    }
}

//! The `tfplugin5.Provider` gRPC service: maps each RPC onto the
//! framework's `ProviderService`, and turns a panic in any RPC into an
//! error diagnostic instead of a dead process.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tonic::{Request, Response, Status};

use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::rpc::{self, ProviderService};

use super::convert::{self, diagnostics, dynamic_in, dynamic_in_or_null, dynamic_out};
use super::proto::tfplugin5 as pb;
use super::proto::tfplugin5::provider_server::Provider;

pub struct PluginProvider {
    service: Arc<dyn ProviderService>,
}

impl PluginProvider {
    pub fn new(service: Arc<dyn ProviderService>) -> Self {
        PluginProvider { service }
    }
}

/// Runs an RPC body; a panic becomes `on_panic(diagnostics)`.
async fn guarded<T>(
    rpc: &'static str,
    body: impl Future<Output = T>,
    on_panic: impl FnOnce(Vec<pb::Diagnostic>) -> T,
) -> Result<Response<T>, Status> {
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(out) => Ok(Response::new(out)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            tracing::error!(rpc, panic = %message, "provider panicked");
            let diag = Diagnostic::error(
                "The provider hit an internal error",
                format!(
                    "{rpc} panicked: {message}. This is a bug in terraform-provider-kiro; please \
                     report it with the Terraform configuration that triggered it."
                ),
            );
            Ok(Response::new(on_panic(diagnostics(Diagnostics::from(
                diag,
            )))))
        }
    }
}

#[tonic::async_trait]
impl Provider for PluginProvider {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let schemas = self.service.schemas();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: schemas
                .data_sources
                .into_iter()
                .map(|(type_name, _)| pb::get_metadata::DataSourceMetadata { type_name })
                .collect(),
            resources: schemas
                .resources
                .into_iter()
                .map(|(type_name, _)| pb::get_metadata::ResourceMetadata { type_name })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: Vec::new(),
        }))
    }

    async fn get_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let schemas = self.service.schemas();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&schemas.provider)),
            resource_schemas: schemas
                .resources
                .iter()
                .map(|(n, s)| (n.clone(), convert::schema(s)))
                .collect(),
            data_source_schemas: schemas
                .data_sources
                .iter()
                .map(|(n, s)| (n.clone(), convert::schema(s)))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: Default::default(),
            ephemeral_resource_schemas: Default::default(),
        }))
    }

    async fn prepare_provider_config(
        &self,
        request: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        let config = request.into_inner().config;
        let service = self.service.clone();
        guarded(
            "PrepareProviderConfig",
            async move {
                let diags = service
                    .validate_provider_config(dynamic_in_or_null(config.clone()))
                    .await;
                pb::prepare_provider_config::Response {
                    prepared_config: config,
                    diagnostics: diagnostics(diags),
                }
            },
            |diagnostics| pb::prepare_provider_config::Response {
                prepared_config: None,
                diagnostics,
            },
        )
        .await
    }

    async fn validate_resource_type_config(
        &self,
        request: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "ValidateResourceTypeConfig",
            async {
                let diags = self
                    .service
                    .validate_resource_config(
                        &req.type_name,
                        dynamic_in_or_null(req.config.clone()),
                        convert::client_capabilities(req.client_capabilities),
                    )
                    .await;
                pb::validate_resource_type_config::Response {
                    diagnostics: diagnostics(diags),
                }
            },
            |diagnostics| pb::validate_resource_type_config::Response { diagnostics },
        )
        .await
    }

    async fn validate_data_source_config(
        &self,
        request: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "ValidateDataSourceConfig",
            async {
                let diags = self
                    .service
                    .validate_data_source_config(
                        &req.type_name,
                        dynamic_in_or_null(req.config.clone()),
                    )
                    .await;
                pb::validate_data_source_config::Response {
                    diagnostics: diagnostics(diags),
                }
            },
            |diagnostics| pb::validate_data_source_config::Response { diagnostics },
        )
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "UpgradeResourceState",
            async {
                let raw = req.raw_state.map(|r| r.json).unwrap_or_default();
                let (state, diags) = if raw.is_empty() {
                    (None, Diagnostics::from(Diagnostic::error(
                        "Unsupported state format",
                        "The stored state has no JSON form (only the legacy flatmap form), which this provider does not read.",
                    )))
                } else {
                    self.service
                        .upgrade_resource_state(&req.type_name, req.version, raw)
                        .await
                };
                pb::upgrade_resource_state::Response {
                    upgraded_state: state.map(dynamic_out),
                    diagnostics: diagnostics(diags),
                }
            },
            |diagnostics| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics,
            },
        )
        .await
    }

    async fn configure(
        &self,
        request: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "Configure",
            async {
                let diags = self
                    .service
                    .configure(
                        &req.terraform_version,
                        dynamic_in_or_null(req.config.clone()),
                    )
                    .await;
                pb::configure::Response {
                    diagnostics: diagnostics(diags),
                }
            },
            |diagnostics| pb::configure::Response { diagnostics },
        )
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let current = req.current_state.clone();
        guarded(
            "ReadResource",
            async {
                let out = self
                    .service
                    .read_resource(
                        &req.type_name,
                        dynamic_in_or_null(req.current_state.clone()),
                        req.private.clone(),
                    )
                    .await;
                pb::read_resource::Response {
                    new_state: out.new_state.map(dynamic_out),
                    diagnostics: diagnostics(out.diagnostics),
                    private: out.private,
                    deferred: None,
                }
            },
            |diagnostics| pb::read_resource::Response {
                new_state: current,
                diagnostics,
                private: Vec::new(),
                deferred: None,
            },
        )
        .await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "PlanResourceChange",
            async {
                let out = self
                    .service
                    .plan_resource_change(rpc::PlanRequest {
                        type_name: req.type_name.clone(),
                        prior_state: dynamic_in(req.prior_state.clone()),
                        proposed_new_state: dynamic_in(req.proposed_new_state.clone()),
                        config: dynamic_in(req.config.clone()),
                        prior_private: req.prior_private.clone(),
                    })
                    .await;
                pb::plan_resource_change::Response {
                    planned_state: out.planned_state.map(dynamic_out),
                    requires_replace: out
                        .requires_replace
                        .into_iter()
                        .map(convert::attr_path)
                        .collect(),
                    planned_private: out.planned_private,
                    diagnostics: diagnostics(out.diagnostics),
                    legacy_type_system: false,
                    deferred: None,
                }
            },
            |diagnostics| pb::plan_resource_change::Response {
                diagnostics,
                ..Default::default()
            },
        )
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let prior = req.prior_state.clone();
        guarded(
            "ApplyResourceChange",
            async {
                let out = self
                    .service
                    .apply_resource_change(rpc::ApplyRequest {
                        type_name: req.type_name.clone(),
                        prior_state: dynamic_in(req.prior_state.clone()),
                        planned_state: dynamic_in(req.planned_state.clone()),
                        config: dynamic_in(req.config.clone()),
                        planned_private: req.planned_private.clone(),
                    })
                    .await;
                pb::apply_resource_change::Response {
                    new_state: out.new_state.map(dynamic_out),
                    private: out.private,
                    diagnostics: diagnostics(out.diagnostics),
                    legacy_type_system: false,
                }
            },
            |diagnostics| pb::apply_resource_change::Response {
                new_state: prior,
                diagnostics,
                ..Default::default()
            },
        )
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "ImportResourceState",
            async {
                let out = self
                    .service
                    .import_resource_state(&req.type_name, &req.id)
                    .await;
                pb::import_resource_state::Response {
                    imported_resources: out
                        .imported
                        .into_iter()
                        .map(|r| pb::import_resource_state::ImportedResource {
                            type_name: r.type_name,
                            state: Some(dynamic_out(r.state)),
                            private: r.private,
                        })
                        .collect(),
                    diagnostics: diagnostics(out.diagnostics),
                    deferred: None,
                }
            },
            |diagnostics| pb::import_resource_state::Response {
                diagnostics,
                ..Default::default()
            },
        )
        .await
    }

    async fn move_resource_state(
        &self,
        _request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Err(Status::unimplemented(
            "moved blocks across resource types are not supported",
        ))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        guarded(
            "ReadDataSource",
            async {
                let (state, diags) = self
                    .service
                    .read_data_source(&req.type_name, dynamic_in_or_null(req.config.clone()))
                    .await;
                pb::read_data_source::Response {
                    state: state.map(dynamic_out),
                    diagnostics: diagnostics(diags),
                    deferred: None,
                }
            },
            |diagnostics| pb::read_data_source::Response {
                diagnostics,
                ..Default::default()
            },
        )
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        _request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Err(Status::unimplemented("this provider has no functions"))
    }

    async fn stop(
        &self,
        _request: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        self.service.stop().await;
        Ok(Response::new(pb::stop::Response {
            error: String::new(),
        }))
    }
}

/// `get_provider_schema_optional`: the provider builds its schemas itself and needs no
/// GetProviderSchema call to be set up, so Terraform may answer it from the schema it already
/// read in this command. Without it Terraform asks every provider process it starts (twice
/// per aliased provider per plan) for the whole schema again.
fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::diag::AttrPath;
    use crate::framework::runtime::Runtime;
    use crate::framework::value::TfValue;
    use crate::provider::KiroProvider;

    #[tokio::test]
    async fn a_panicking_rpc_becomes_an_error_diagnostic() {
        let out = guarded(
            "ReadResource",
            async {
                if std::hint::black_box(true) {
                    panic!("boom at the attribute");
                }
                pb::read_resource::Response::default()
            },
            |diagnostics| pb::read_resource::Response {
                diagnostics,
                ..Default::default()
            },
        )
        .await
        .expect("a response, not a gRPC error");
        let d = &out.get_ref().diagnostics[0];
        assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
        assert!(
            d.detail
                .contains("ReadResource panicked: boom at the attribute"),
            "{}",
            d.detail
        );
    }

    /// A `kiro_entra_provisioning` configuration as Terraform sends it: every attribute
    /// null and every nested block absent, except `set`.
    fn provisioning_config(set: &[(&str, TfValue)]) -> pb::DynamicValue {
        use crate::framework::schema::Nesting;
        let schemas = Runtime::new(KiroProvider).schemas();
        let (_, schema) = schemas
            .resources
            .into_iter()
            .find(|(name, _)| name == "kiro_entra_provisioning")
            .expect("the provisioning resource");
        let mut attrs: Vec<(String, TfValue)> = schema
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), TfValue::Null))
            .collect();
        attrs.extend(schema.block.blocks.iter().map(|b| {
            let absent = match b.nesting {
                Nesting::List => TfValue::List(Vec::new()),
                Nesting::Set => TfValue::Set(Vec::new()),
                Nesting::Map => TfValue::Map(Default::default()),
                Nesting::Single | Nesting::Group => TfValue::Null,
            };
            (b.type_name.clone(), absent)
        }));
        let mut config = TfValue::object(attrs);
        for (name, value) in set {
            *config
                .get_attr_mut(name)
                .expect("an attribute of the schema") = value.clone();
        }
        pb::DynamicValue {
            msgpack: crate::framework::msgpack::encode(&config, &schema.value_type()).unwrap(),
            json: Vec::new(),
        }
    }

    /// ValidateResourceTypeConfig as Terraform calls it, with or without the 1.11 capability.
    #[tokio::test]
    async fn a_write_only_secret_is_refused_unless_the_client_can_hold_it() {
        let provider = PluginProvider::new(Arc::new(Runtime::new(KiroProvider)));
        let config = provisioning_config(&[
            (
                "service_principal_id",
                TfValue::string("8adf8e6e-67b2-4cf2-a259-e3dc5476c621"),
            ),
            ("tenant_url", TfValue::string("https://scim.example/v2")),
            ("secret_token_wo", TfValue::string("a secret")),
            ("secret_token_wo_version", TfValue::number(1i64)),
        ]);
        let validate = async |client_capabilities| {
            provider
                .validate_resource_type_config(Request::new(
                    pb::validate_resource_type_config::Request {
                        type_name: "kiro_entra_provisioning".to_string(),
                        config: Some(config.clone()),
                        client_capabilities,
                    },
                ))
                .await
                .expect("a response")
                .into_inner()
                .diagnostics
        };

        let cannot_hold = pb::ClientCapabilities {
            deferral_allowed: true,
            write_only_attributes_allowed: false,
        };
        // Before 1.11 the field does not exist on the wire at all.
        for client in [None, Some(cannot_hold)] {
            let diags = validate(client).await;
            assert_eq!(diags.len(), 1, "{diags:?}");
            let d = &diags[0];
            assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
            assert_eq!(
                d.attribute,
                Some(convert::attr_path(AttrPath::attr("secret_token_wo")))
            );
            assert!(
                d.detail.contains("`secret_token`") && d.detail.contains("`kiro_scim_token {}`"),
                "{}",
                d.detail
            );
            assert!(!d.detail.contains("a secret"), "{}", d.detail);
        }

        let can_hold = pb::ClientCapabilities {
            deferral_allowed: false,
            write_only_attributes_allowed: true,
        };
        let diags = validate(Some(can_hold)).await;
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[tokio::test]
    async fn a_normal_rpc_passes_through() {
        let out = guarded("Stop", async { 7 }, |_| 0).await.unwrap();
        assert_eq!(*out.get_ref(), 7);
    }
}

//! The `kiro` provider: its configuration schema and the API clients it
//! hands to resources.

pub mod aws_auth;
pub mod config;
mod credential_sources;

use std::sync::Arc;

use async_trait::async_trait;

pub use crate::clients::Clients;
use crate::entra::EntraCredential;
use crate::entra::token::{TokenSource, token_source};
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::resource::{DataSource, Resource};
use crate::framework::runtime::ProviderDef;
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::validators::{guid, not_blank, one_of};
use crate::framework::value::TfValue;
use crate::graph::client::{GraphClient, GraphConfig};
use crate::graph::consistency::WaitModel;
use crate::kiro::KiroSettings;
use crate::resources::{self, input_rules};
use crate::retry::RetryPolicy;
use config::ProviderConfig;

#[derive(Default)]
pub struct KiroProvider;

fn endpoint_attr(name: &str, what: &str, env: &str) -> Attribute {
    Attribute::string(name).optional().describe(format!(
        "Base URL of {what}, for private endpoints and the sandbox. Plain `http://` is refused \
         unless the host is loopback. Env: `{env}`."
    ))
}

/// The arguments that pick the Entra credential (azuread's names; see `config::STRING_ARGS`).
fn entra_credential_attributes(block: Block) -> Block {
    workload_identity_attributes(client_credential_attributes(block))
}

/// The client id and the client secret and certificate arguments.
fn client_credential_attributes(block: Block) -> Block {
    block
        .attribute(
            Attribute::string("client_id")
                .optional()
                .validate(guid())
                .describe("Client id of the identity Terraform runs as (with `use_msi`, of a user-assigned managed identity). Env `ARM_CLIENT_ID`; with `use_aks_workload_identity` also `AZURE_CLIENT_ID`."),
        )
        .attribute(
            Attribute::string("client_id_file_path")
                .optional()
                .validate(not_blank())
                .describe("A file holding the client id (must agree with `client_id` when both are set). Env `ARM_CLIENT_ID_FILE_PATH`."),
        )
        .attribute(
            Attribute::string("client_secret")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("Client secret. Env `ARM_CLIENT_SECRET`."),
        )
        .attribute(
            Attribute::string("client_secret_file_path")
                .optional()
                .validate(not_blank())
                .describe("A file holding the client secret (must agree with `client_secret` when both are set). Env `ARM_CLIENT_SECRET_FILE_PATH`."),
        )
        .attribute(
            Attribute::string("client_certificate")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("A PKCS#12 client certificate, base64-encoded, inline (wins over `client_certificate_path`). Env `ARM_CLIENT_CERTIFICATE`."),
        )
        .attribute(
            Attribute::string("client_certificate_path")
                .optional()
                .validate(not_blank())
                .describe("Path to a PKCS#12 client certificate. Env `ARM_CLIENT_CERTIFICATE_PATH`."),
        )
        .attribute(
            Attribute::string("client_certificate_password")
                .optional()
                .sensitive()
                .describe("Password of the PKCS#12 file. Env `ARM_CLIENT_CERTIFICATE_PASSWORD`."),
        )
}

/// The arguments of the federated, managed identity and Azure CLI sources.
fn workload_identity_attributes(block: Block) -> Block {
    block
        .attribute(
            Attribute::bool("use_oidc")
                .optional()
                .describe("Authenticate with a federated OIDC token (workload identity): `oidc_token`, `oidc_token_file_path`, or one asked for from Azure DevOps or GitHub Actions. Env `ARM_USE_OIDC`."),
        )
        .attribute(
            Attribute::string("oidc_token")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("The OIDC token. Env `ARM_OIDC_TOKEN`, then HCP Terraform's `TFC_WORKLOAD_IDENTITY_TOKEN`."),
        )
        .attribute(
            Attribute::string("oidc_token_file_path")
                .optional()
                .validate(not_blank())
                .describe("A file holding the OIDC token, re-read on every use. Env `ARM_OIDC_TOKEN_FILE_PATH`, then HCP Terraform's `TFC_WORKLOAD_IDENTITY_TOKEN_PATH`; with `use_aks_workload_identity` also `AZURE_FEDERATED_TOKEN_FILE`."),
        )
        .attribute(
            Attribute::string("oidc_request_url")
                .optional()
                .validate(not_blank())
                .describe("URL to ask for an OIDC token on every sign-in (GitHub Actions; Azure DevOps with `ado_pipeline_service_connection_id`), with audience `api://AzureADTokenExchange`. Env `ARM_OIDC_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_URL`, `SYSTEM_OIDCREQUESTURI`."),
        )
        .attribute(
            Attribute::string("oidc_request_token")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("Bearer token for `oidc_request_url`. Env `ARM_OIDC_REQUEST_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `SYSTEM_ACCESSTOKEN`."),
        )
        .attribute(
            Attribute::string("ado_pipeline_service_connection_id")
                .optional()
                .validate(not_blank())
                .describe("Azure DevOps service connection whose OIDC token to ask for. Env `ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID`, `ARM_OIDC_AZURE_SERVICE_CONNECTION_ID`."),
        )
        .attribute(
            Attribute::bool("use_aks_workload_identity")
                .optional()
                .describe("AKS workload identity: `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and `AZURE_AUTHORITY_HOST` stand in for the arguments not set. Env `ARM_USE_AKS_WORKLOAD_IDENTITY`."),
        )
        .attribute(
            Attribute::bool("use_msi")
                .optional()
                .describe("Authenticate as the host's managed identity (IMDS, or App Service's `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`). Env `ARM_USE_MSI`."),
        )
        .attribute(
            Attribute::string("msi_endpoint")
                .optional()
                .validate(not_blank())
                .describe("The managed identity token URL (default `http://169.254.169.254/metadata/identity/oauth2/token`); https, or plain http to a loopback or 169.254.0.0/16 address. Env `ARM_MSI_ENDPOINT`."),
        )
        .attribute(
            Attribute::bool("use_cli")
                .optional()
                .describe("Use `az account get-access-token` when no other credential is set (default true). Env `ARM_USE_CLI`."),
        )
}

pub fn provider_schema() -> Schema {
    let endpoints = Block::new("Endpoint overrides.")
        .attribute(endpoint_attr(
            "graph",
            "Microsoft Graph (without `/v1.0`)",
            "KIRO_ENDPOINT_GRAPH",
        ))
        .attribute(endpoint_attr(
            "login",
            "the Entra login authority",
            "KIRO_ENDPOINT_LOGIN",
        ))
        .attribute(endpoint_attr(
            "kiro",
            "the Kiro admin API",
            "KIRO_ENDPOINT_KIRO",
        ))
        .attribute(endpoint_attr(
            "sts",
            "AWS STS, for `assume_role` and `assume_role_with_web_identity`",
            aws_auth::STS_ENDPOINT_ENV,
        ));
    let root = entra_credential_attributes(
        Block::new("Connects Microsoft Entra ID (through Microsoft Graph) to Kiro.").attribute(
            Attribute::string("tenant_id")
                .optional()
                .validate(guid())
                .describe("Entra directory (tenant) id. Must be set, here or in env `ARM_TENANT_ID` (hence optional in the schema); configuring the provider fails without it."),
        ),
    )
    .attribute(
        Attribute::string("environment")
            .optional()
            .validate(one_of(&["global", "usgovernment", "china"]))
            .describe("Entra cloud: `global` (default), `usgovernment` or `china`. Env `ARM_ENVIRONMENT`."),
    )
    .attribute(
        Attribute::string("region")
            .optional()
            .validate(input_rules::region())
            .describe("AWS region of the Kiro profile, e.g. `us-east-1`. Env `AWS_REGION`, `AWS_DEFAULT_REGION`."),
    )
    .attribute(
        Attribute::string("aws_profile")
            .optional()
            .validate(not_blank())
            .describe("Named AWS profile; credentials come from the standard AWS chain. Env `AWS_PROFILE`."),
    )
    .block(NestedBlock::new("endpoints", Nesting::Single, endpoints));
    Schema::new(0, aws_auth::arguments(root))
}

/// The longest the process waits, before it ends, for Graph to show this run's application
/// writes.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

#[async_trait]
impl ProviderDef for KiroProvider {
    type Client = Clients;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Clients>>> {
        resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Clients>>> {
        resources::all_data_sources()
    }

    fn validate(&self, config: &TfValue, diags: &mut Diagnostics) {
        // Endpoint URLs are checked here so a bad one fails at plan time,
        // before any request (env overrides are checked in configure).
        if let Some(endpoints) = config.get_attr("endpoints") {
            for name in ["graph", "login", "kiro", "sts"] {
                if let Some(raw) = endpoints.get_attr(name).and_then(|v| v.as_str())
                    && let Err(problem) = config::check_endpoint(raw)
                {
                    diags.push(
                        Diagnostic::error(format!("Invalid endpoint for {name}"), problem)
                            .at(crate::framework::AttrPath::attr("endpoints").then_attr(name)),
                    );
                }
            }
        }
    }

    /// Application writes return before Graph shows them; the next command's refresh reads
    /// them, so the process ends only once Graph shows them (a few seconds of replication lag
    /// at most, usually already past).
    async fn finish(&self, clients: &Clients) {
        clients.graph.settle(SETTLE_TIMEOUT).await;
    }

    async fn configure(
        &self,
        config: &TfValue,
        terraform_version: &str,
    ) -> Result<Clients, Diagnostics> {
        let resolved = config::resolve(config, &config::process_env)?;
        let aws_auth = aws_auth::resolve(config, &config::process_env)?;
        let user_agent = user_agent(terraform_version);
        let http = http_client(&user_agent)?;
        let tokens = entra_tokens(&resolved, http.clone())?;
        sign_in_now(&resolved, tokens.as_ref()).await?;
        let graph = graph_client(&resolved, tokens, http.clone(), &user_agent)?;
        let assumes_a_role = aws_auth.assumes_a_role();
        let clients = Clients::new(
            graph,
            resolved.tenant_id,
            resolved.environment,
            KiroSettings {
                region: resolved.region,
                profile: resolved.aws_profile,
                endpoint: resolved.endpoints.kiro,
                auth: aws_auth,
            },
            http,
            user_agent,
        );
        if assumes_a_role {
            aws_auth::assume_now(&clients).await?;
        }
        Ok(clients)
    }
}

/// The one HTTP client every API client of this provider instance shares.
fn http_client(user_agent: &str) -> Result<reqwest::Client, Diagnostics> {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot build the HTTP client",
                e.to_string(),
            ))
        })
}

/// Who the provider signs in as, for its errors: a client id, or the Azure CLI's account.
fn signing_in_as(resolved: &ProviderConfig) -> String {
    resolved
        .credential
        .client_id()
        .map(|id| format!("client {id}"))
        .unwrap_or_else(|| "the signed-in Azure CLI account".to_string())
}

/// The source of Graph tokens for the configured tenant, credential and login endpoint.
fn entra_tokens(
    resolved: &ProviderConfig,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenSource>, Diagnostics> {
    let env = resolved.environment;
    let authority = (resolved.endpoints.login.clone()).unwrap_or_else(|| env.authority_host());
    let credential = resolved.credential.clone();
    token_source(
        &authority,
        &resolved.tenant_id,
        env.graph_scope(),
        credential,
        http,
    )
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot set up Entra credentials",
            format!(
                "Tenant {}, {}, {}: {e}",
                resolved.tenant_id,
                signing_in_as(resolved),
                resolved.credential_source
            ),
        ))
    })
}

/// Signs in once, now, so a bad credential is one error that Terraform shows against this
/// provider block (with its alias: the tenant in a multi-tenant configuration) rather than one
/// per resource; the token is cached for the Graph calls that follow. The Azure CLI is the
/// fallback when nothing is configured, and a configuration with only Kiro resources must not
/// need it, so it is asked only when Graph is called.
async fn sign_in_now(
    resolved: &ProviderConfig,
    tokens: &dyn TokenSource,
) -> Result<(), Diagnostics> {
    if matches!(resolved.credential, EntraCredential::AzureCli) {
        return Ok(());
    }
    tokens.token().await.map(drop).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            format!("Cannot sign in to Entra tenant {}", resolved.tenant_id),
            format!(
                "Signing in as {} with {} failed: {e}",
                signing_in_as(resolved),
                resolved.credential_source
            ),
        ))
    })
}

/// The Graph client of the configured cloud (or `endpoints.graph`), with the wait model the
/// environment asks for.
fn graph_client(
    resolved: &ProviderConfig,
    tokens: Arc<dyn TokenSource>,
    http: reqwest::Client,
    user_agent: &str,
) -> Result<GraphClient, Diagnostics> {
    let base_url =
        (resolved.endpoints.graph.clone()).unwrap_or_else(|| resolved.environment.graph_endpoint());
    let graph = GraphClient::new(GraphConfig {
        base_url,
        tokens,
        http,
        retry: RetryPolicy::default(),
        user_agent: user_agent.to_string(),
    })
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid Microsoft Graph endpoint",
            e.to_string(),
        ))
    })?;
    Ok(graph.with_wait_model(WaitModel::from_env()))
}

fn user_agent(terraform_version: &str) -> String {
    format!(
        "terraform-provider-kiro/{} Terraform/{terraform_version}",
        env!("CARGO_PKG_VERSION")
    )
}

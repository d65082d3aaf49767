//! The API clients a configured provider hands to resources and data
//! sources: one set per provider block (aliased blocks for several tenants
//! each have their own). Lives apart from `provider` so that resources
//! depend on the clients, not on the provider that builds them.

use tokio::sync::OnceCell;

use crate::entra::cloud::Environment;
use crate::graph::client::GraphClient;
use crate::kiro::{self, KiroClient, KiroClientConfig, KiroError, KiroSettings};

/// What resources get once the provider is configured. One per provider
/// block: aliased blocks for several tenants each have their own.
pub struct Clients {
    pub graph: GraphClient,
    pub tenant_id: String,
    pub environment: Environment,
    /// Natural keys claimed by creates in this process (see [`Claims`]).
    pub claims: Claims,
    kiro_settings: KiroSettings,
    kiro: OnceCell<KiroClient>,
    http: reqwest::Client,
    user_agent: String,
}

impl Clients {
    pub fn new(
        graph: GraphClient,
        tenant_id: String,
        environment: Environment,
        kiro_settings: KiroSettings,
        http: reqwest::Client,
        user_agent: String,
    ) -> Self {
        Clients {
            graph,
            tenant_id,
            environment,
            claims: Claims::default(),
            kiro_settings,
            kiro: OnceCell::new(),
            http,
            user_agent,
        }
    }

    /// The issuer Kiro must trust for this tenant.
    pub fn issuer_url(&self) -> String {
        self.environment.issuer_url(&self.tenant_id)
    }

    pub fn openid_configuration_url(&self) -> String {
        self.environment.openid_configuration_url(&self.tenant_id)
    }

    /// The Kiro client, built on first use: the AWS credential chain and
    /// region are consulted only when a Kiro resource needs them, so an
    /// Entra-only configuration needs no AWS setup.
    pub async fn kiro(&self) -> Result<&KiroClient, KiroError> {
        self.kiro
            .get_or_try_init(|| async {
                let aws = kiro::load(&self.kiro_settings).await?;
                Ok(KiroClient::new(
                    aws,
                    KiroClientConfig {
                        http: self.http.clone(),
                        user_agent: self.user_agent.clone(),
                        ..KiroClientConfig::default()
                    },
                ))
            })
            .await
    }
}

/// The remote objects that resources of one provider block made or took over in this
/// process, by natural key (a scope's value on its application, say). A create that
/// would take over an object found by its key first claims the key: when another
/// resource of the same configuration already holds it, one object would end up under
/// two resources, and the create stops instead.
#[derive(Default)]
pub struct Claims(std::sync::Mutex<std::collections::HashSet<String>>);

impl Claims {
    /// `false` when the key was claimed already in this process.
    pub fn claim(&self, key: String) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key)
    }
}

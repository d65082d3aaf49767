//! The provider's clients, configured exactly as a provider block with no arguments would be:
//! every setting comes from the provider's environment variables (`ARM_*` for Entra, the AWS
//! chain and `AWS_REGION` for Kiro, `KIRO_ENDPOINT_*` for private endpoints and the sandbox).

use crate::clients::Clients;
use crate::framework::runtime::ProviderDef;
use crate::framework::value::TfValue;
use crate::provider::KiroProvider;

use super::AdoptError;

/// Signs in as the provider would; a bad or missing setting is the provider's own message.
pub async fn connect() -> Result<Clients, AdoptError> {
    // Stands where Terraform's version goes in the provider's User-Agent.
    let user_agent = format!("none (kiro-adopt {})", env!("CARGO_PKG_VERSION"));
    KiroProvider
        .configure(&TfValue::Null, &user_agent)
        .await
        .map_err(|diags| {
            let text: Vec<String> = diags
                .iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect();
            AdoptError::Config(format!(
                "the provider's settings (from its environment variables) do not work:\n{}",
                text.join("\n")
            ))
        })
}

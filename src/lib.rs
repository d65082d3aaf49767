//! terraform-provider-kiro: connects Microsoft Entra ID to Kiro.
//!
//! Layers, each knowing only the one below it:
//! - [`server`]: go-plugin handshake, mTLS and gRPC (the only code that sees
//!   protobuf types);
//! - [`framework`]: typed values, codecs, schemas, diagnostics, planning;
//! - [`provider`] and [`resources`]: the Terraform-facing provider;
//! - [`entra`], [`graph`]: API clients that know nothing of Terraform;
//! - [`docs`]: the Registry pages, rendered from the schemas.

pub mod adopt;
pub mod clients;
pub mod dns;
pub mod docs;
pub mod endpoint;
pub mod entra;
pub mod error_text;
pub mod framework;
pub mod graph;
pub mod kiro;
pub mod poll;
pub mod provider;
pub mod resources;
pub mod retry;
pub mod secret;
pub mod server;
#[cfg(test)]
pub(crate) mod test_logs;

//! Resources, one file each: model, schema, CRUD and import.

pub mod entra_application;

use std::sync::Arc;

use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::resource::Resource;
use crate::graph::error::GraphError;
use crate::provider::Clients;

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![Arc::new(entra_application::EntraApplication)]
}

/// A Graph failure as a diagnostic: what we were doing, then Graph's code,
/// message and request-id (what Microsoft support asks for).
pub(crate) fn graph_failure(doing: &str, err: GraphError) -> Diagnostics {
    Diagnostic::error(format!("Failed to {doing}"), err.to_string()).into()
}

//! Resources, one file each: model, schema, CRUD and import.

pub mod entra_application;

use std::sync::Arc;

use crate::clients::Clients;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::resource::Resource;
use crate::graph::error::GraphError;

pub fn all_data_sources() -> Vec<Arc<dyn crate::framework::resource::DataSource<Clients>>> {
    Vec::new()
}

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![Arc::new(entra_application::EntraApplication)]
}

/// A Graph failure as a diagnostic: what we were doing, then Graph's code,
/// message and request-id (what Microsoft support asks for).
pub(crate) fn graph_failure(doing: &str, err: GraphError) -> Diagnostics {
    Diagnostic::error(format!("Failed to {doing}"), err.to_string()).into()
}

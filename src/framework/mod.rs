//! A small typed framework over the plugin protocol: values, codecs,
//! schemas, diagnostics, planning, and the resource traits. It knows
//! nothing of protobuf (the server layer) nor of Entra or Kiro.

pub mod diag;
pub mod json;
pub mod managed;
pub mod model;
pub mod msgpack;
pub mod plan;
pub mod resource;
pub mod rpc;
pub mod runtime;
pub mod schema;
pub mod timeouts;
pub mod typed;
pub mod types;
pub mod validators;
pub mod value;
pub mod write_only;

pub use diag::{AttrPath, Diagnostic, Diagnostics};
pub use managed::{DataSourceDef, Managed, ManagedResource, Operation, Query, Timeouts};
pub use model::{Model, Sensitive};
pub use resource::{Applied, ApplyRequest, DataSource, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use typed::{ObjectBuilder, ObjectReader, Value};
pub use types::Type;
pub use value::TfValue;

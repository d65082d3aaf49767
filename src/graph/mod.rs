//! Microsoft Graph v1.0 client: typed errors, retries, paging, eventual-consistency waits,
//! per-object locks, and the application / service-principal operations.
//!
//! Knows nothing about Terraform.

pub mod applications;
pub mod assignments;
pub mod client;
pub mod consistency;
pub mod directory;
pub mod edit_queue;
pub mod edits;
pub mod error;
pub mod expression;
pub mod locks;
pub mod on_demand;
pub mod paging;
pub mod patch;
mod shared;
pub mod synchronization;
mod written;

pub use crate::retry::RetryPolicy;
pub use applications::{
    ApiApplication, AppRole, Application, InstantiateResult, PermissionScope, Platform,
    RedirectUris, ServicePrincipal,
};
pub use assignments::AppRoleAssignment;
pub use client::{GraphClient, GraphConfig, GraphRequest, GraphResponse, Target};
pub use consistency::WaitModel;
pub use consistency::{
    instantiate_or_find, provision_on_demand_once_assigned, retry_while_lagging,
    retry_while_reference_lags, retry_while_sync_lags, wait_for_application,
    wait_for_service_principal, wait_until,
};
pub use directory::{DirectoryObject, Group, MemberKind, User};
pub use edits::{Edit, Outcome, find_scope};
pub use error::{ErrorDetail, GraphError};
pub use locks::ObjectLocks;
pub use patch::{ApiPatch, ApplicationPatch, ServicePrincipalPatch};
pub use synchronization::{
    AttributeMapping, MappingSource, ProvisionOutcome, ProvisionResult, SecretKey, Subject,
    SyncJob, SyncObject, SyncSchema, SyncSecret,
};

/// Result of Graph operations.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

// --- OData path and query encoding ---------------------------------------------------------

/// Percent-encodes everything but RFC 3986 unreserved characters and the bytes in `keep`.
fn encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes one path segment (an object id) so it cannot change the path.
pub fn path_segment(id: &str) -> String {
    encode(id, b"")
}

/// An OData string literal: quoted, with single quotes doubled (not percent-encoded).
pub fn odata_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// An alternate-key segment, e.g. `applications(appId='…')`.
pub fn key_segment(entity_set: &str, property: &str, value: &str) -> String {
    format!(
        "{entity_set}({property}={})",
        encode(&odata_literal(value), b"'")
    )
}

/// A `$filter=<property> eq '<value>'` query parameter, percent-encoded.
pub fn filter_eq(property: &str, value: &str) -> String {
    format!(
        "$filter={}",
        encode(&format!("{property} eq {}", odata_literal(value)), b"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_helpers() {
        assert_eq!(path_segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(odata_literal("O'Brien"), "'O''Brien'");
        assert_eq!(
            key_segment("applications", "appId", "x'/y"),
            "applications(appId='x''%2Fy')"
        );
        assert_eq!(
            filter_eq("displayName", "a 'b'&c"),
            "$filter=displayName%20eq%20%27a%20%27%27b%27%27%26c%27"
        );
    }
}

#[cfg(test)]
mod directory_tests;
#[cfg(test)]
mod edits_tests;
#[cfg(test)]
pub(crate) mod fake;
/// Local fake servers for unit tests.
#[cfg(test)]
mod on_demand_tests;
#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod synchronization_tests;

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{GraphClient, GraphConfig, RetryPolicy};
    use crate::entra::StaticTokenSource;
    use crate::secret::Secret;

    /// Serves the router made by `make(base)` on 127.0.0.1:0; returns `http://127.0.0.1:P`.
    pub async fn serve(make: impl FnOnce(String) -> axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = make(base.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    /// A client for `{base}/graph` with a fixed token and millisecond retries.
    pub fn client(base: &str) -> GraphClient {
        let retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        };
        GraphClient::new(GraphConfig {
            base_url: url::Url::parse(&format!("{base}/graph")).unwrap(),
            tokens: Arc::new(StaticTokenSource(Secret::new("test-token"))),
            http: reqwest::Client::new(),
            retry,
            user_agent: "kiro-test".into(),
        })
        .unwrap()
    }
}

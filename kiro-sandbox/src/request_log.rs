//! The sandbox's own log: one line per request (method, path with query secrets redacted,
//! status, operation, injected fault), plus whatever the handlers warn about. The binary
//! writes it to stderr; an in-process sandbox keeps it in a [`MemoryLog`].

use std::io;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use tracing_subscriber::fmt::MakeWriter;

use crate::fault_layer::Handled;

/// Target of the per-request lines, so filters can single them out.
pub const TARGET: &str = "kiro_sandbox::request";

pub async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = redacted(req.uri());
    let control = req.uri().path().starts_with("/_sandbox");
    let resp = next.run(req).await;
    let handled = resp.extensions().get::<Handled>();
    let op = match handled {
        Some(h) => h.operation.as_str(),
        None if control => "control",
        None => "-",
    };
    match handled.and_then(|h| h.fault) {
        // The client sees no status at all: the connection closes.
        Some("dropped") => {
            tracing::warn!(target: TARGET, "{method} {path} (dropped) {op} fault=dropped");
        }
        Some(kind) => {
            let status = resp.status().as_u16();
            tracing::warn!(target: TARGET, "{method} {path} {status} {op} fault={kind}");
        }
        None => {
            let status = resp.status().as_u16();
            tracing::info!(target: TARGET, "{method} {path} {status} {op}");
        }
    }
    resp
}

/// Query parameter names whose values are credentials and never logged.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["secret", "assertion", "password", "token", "signature"]
        .iter()
        .any(|s| name.contains(s))
        || matches!(name.as_str(), "code" | "sig" | "key")
}

/// The path and query, with the values of secret-looking parameters replaced by `***`.
fn redacted(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(&decoded(name)) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

fn decoded(name: &str) -> String {
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// A log sink in memory, shared by every clone; one formatted event per write.
#[derive(Clone, Default)]
pub struct MemoryLog(Arc<Mutex<Vec<u8>>>);

impl MemoryLog {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for MemoryLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for MemoryLog {
    type Writer = MemoryLog;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_values_are_redacted_and_the_rest_kept() {
        let uri: Uri = "/graph/v1.0/applications?$filter=displayName%20eq%20'x'&client_secret=s3cr3t&$skiptoken=abc"
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/graph/v1.0/applications?$filter=displayName%20eq%20'x'&client_secret=***&$skiptoken=***"
        );
        let plain: Uri = "/login/t/oauth2/v2.0/token".parse().unwrap();
        assert_eq!(redacted(&plain), "/login/t/oauth2/v2.0/token");
    }
}

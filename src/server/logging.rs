//! Logs to stderr as hclog JSON lines, which Terraform (go-plugin) parses
//! and shows under TF_LOG / TF_LOG_PROVIDER with the right level.
//!
//! Only this crate's own events pass below WARN: the HTTP and TLS stacks log
//! headers and frames at TRACE, and nothing that could carry a credential
//! may reach Terraform's log, even at TF_LOG=TRACE.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The level Terraform asked for (TF_LOG_PROVIDER, else TF_LOG).
pub fn level_from_env() -> LevelFilter {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok())
        .unwrap_or_default();
    match raw.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

/// Installs the hclog JSON logger for the provider process.
pub fn init() {
    let level = level_from_env();
    let filter = Targets::new()
        .with_target("kiro_provider", level)
        .with_target("terraform_provider_kiro", level)
        .with_default(level.min(LevelFilter::WARN));
    let _ = tracing_subscriber::registry()
        .with(HclogJson.with_filter(filter))
        .try_init();
}

struct HclogJson;

#[derive(Default)]
struct Fields {
    message: String,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.put(field, serde_json::Value::String(text));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, serde_json::Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.extra.insert(field.name().to_string(), value);
        }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// One hclog JSON line for an event.
pub fn format_line(
    level: &Level,
    message: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut line = serde_json::Map::new();
    line.insert("@level".into(), level_name(level).into());
    line.insert("@message".into(), message.into());
    line.insert("@module".into(), "kiro".into());
    // go-plugin parses `@timestamp` with the exact layout 2006-01-02T15:04:05.000000Z07:00
    // and, when that fails, logs the whole line as plain text at DEBUG: six digits, always.
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    let stamp = time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default();
    line.insert("@timestamp".into(), stamp.into());
    for (k, v) in fields {
        line.insert(k.clone(), v.clone());
    }
    serde_json::Value::Object(line).to_string()
}

impl<S: Subscriber> Layer<S> for HclogJson {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = format_line(event.metadata().level(), &fields.message, &fields.extra);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_is_hclog_json() {
        let mut extra = serde_json::Map::new();
        extra.insert("status".into(), 204.into());
        let line = format_line(&Level::DEBUG, "graph request", &extra);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "graph request");
        assert_eq!(v["status"], 204);
        let stamp = v["@timestamp"].as_str().unwrap();
        // 2026-12-02T11:54:30.632145Z: the layout go-plugin parses, microseconds exactly.
        assert_eq!(stamp.len(), 27, "{stamp}");
        assert_eq!(
            (&stamp[10..11], &stamp[19..20], &stamp[26..]),
            ("T", ".", "Z")
        );
    }
}

//! Test helper: captures this crate's log events, so tests can show that
//! secrets never reach the logs (and that the lines they check exist).

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::SubscriberExt;

/// Every event of this crate, as ` field=value` text, in order.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<String>>>);

impl CapturedLogs {
    /// Captures on this thread until the guard is dropped.
    pub fn start() -> (CapturedLogs, DefaultGuard) {
        let logs = CapturedLogs::default();
        let guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(logs.clone()));
        // While exactly one `Dispatch` exists, tracing caches a call site's
        // interest from whichever thread hits it first (tokio-rs/tracing#3611):
        // another test's thread, with no subscriber, would silence these lines
        // here. A second, never-dropped dispatch makes it ask every subscriber.
        static SECOND_DISPATCH: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
        SECOND_DISPATCH
            .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        tracing::callsite::rebuild_interest_cache();
        (logs, guard)
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CapturedLogs {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        if event.metadata().target().starts_with("kiro_provider") {
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(text.0);
        }
    }
}

//! When the plugin process ends: after `GRPCController.Shutdown`, as soon as
//! Terraform has its answer.
//!
//! go-plugin's own servers stop the gRPC server inside the Shutdown handler;
//! Terraform then waits for the process to exit before it starts the next
//! provider, once per provider process, twice per plan. A fixed pause before
//! exiting would be paid every time, and exiting at once could drop the
//! answer. Terraform closes its connection as soon as the answer arrives
//! (go-plugin's `GRPCClient.Close`: Shutdown, then `Conn.Close`), so the
//! process ends when the last plugin connection has closed after Shutdown.
//! A client that keeps its connection open is given [`LINGER`] to read the
//! answer. The process exits from the task that sees the last connection
//! close: handing over to the main thread first costs a wake-up, which takes
//! milliseconds on a busy machine.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tonic::transport::server::Connected;

/// How long the process stays after Shutdown while a client keeps its
/// connection open (Terraform never does; it kills a provider that has not
/// exited after 2 s).
pub const LINGER: Duration = Duration::from_millis(250);

/// Open plugin connections and whether Shutdown was called.
#[derive(Default)]
pub struct Lifecycle {
    open: AtomicUsize,
    shutdown: AtomicBool,
    changed: Notify,
    /// Called where the last connection closes after Shutdown.
    on_done: Option<fn()>,
}

impl Lifecycle {
    /// A lifecycle that only counts (the tests').
    #[cfg(test)]
    pub fn new() -> Arc<Self> {
        Arc::new(Lifecycle::default())
    }

    /// The plugin process's lifecycle: it exits as soon as it is done.
    pub fn ending_the_process() -> Arc<Self> {
        Arc::new(Lifecycle {
            on_done: Some(|| std::process::exit(0)),
            ..Lifecycle::default()
        })
    }

    /// Counts a plugin connection until it closes.
    pub fn track<S>(self: &Arc<Self>, io: S) -> Tracked<S> {
        self.open.fetch_add(1, Ordering::SeqCst);
        Tracked {
            io,
            lifecycle: Some(self.clone()),
        }
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.changed.notify_one();
    }

    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
        if let Some(on_done) = self.on_done
            && self.done()
        {
            on_done();
        }
        self.changed.notify_one();
    }

    fn done(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst) && self.open.load(Ordering::SeqCst) == 0
    }

    /// Returns once Shutdown was called and every connection has closed, or
    /// [`LINGER`] after Shutdown at the latest.
    pub async fn until_shut_down(&self) {
        while !self.shutdown.load(Ordering::SeqCst) {
            self.changed.notified().await;
        }
        let _ = tokio::time::timeout(LINGER, async {
            while !self.done() {
                self.changed.notified().await;
            }
        })
        .await;
    }
}

/// A plugin connection that tells its [`Lifecycle`] when it ends: at end of
/// stream or a read error (the earliest sign), or when dropped.
pub struct Tracked<S> {
    io: S,
    lifecycle: Option<Arc<Lifecycle>>,
}

impl<S> Tracked<S> {
    #[cfg(test)]
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    fn mark_closed(&mut self) {
        if let Some(lifecycle) = self.lifecycle.take() {
            lifecycle.closed();
        }
    }
}

impl<S> Drop for Tracked<S> {
    fn drop(&mut self) {
        self.mark_closed();
    }
}

impl<S: Send + 'static> Connected for Tracked<S> {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let wanted = buf.remaining() > 0;
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if wanted && buf.filled().len() == before => self.mark_closed(),
            Poll::Ready(Err(_)) => self.mark_closed(),
            _ => {}
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shut_down_once_the_last_connection_has_closed() {
        let lifecycle = Lifecycle::new();
        let (client, server) = tokio::io::duplex(64);
        let mut server = lifecycle.track(server);
        let waiting = tokio::spawn({
            let lifecycle = lifecycle.clone();
            async move { lifecycle.until_shut_down().await }
        });
        lifecycle.request_shutdown();
        assert!(!lifecycle.done(), "a connection is still open");
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(lifecycle.done(), "end of stream counts as closed");
        waiting.await.unwrap();
        drop(server);
        assert_eq!(lifecycle.open.load(Ordering::SeqCst), 0, "counted once");
    }

    #[tokio::test]
    async fn the_hook_runs_where_the_last_connection_closes_after_shutdown() {
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let lifecycle = Arc::new(Lifecycle {
            on_done: Some(|| {
                DONE.fetch_add(1, Ordering::SeqCst);
            }),
            ..Lifecycle::default()
        });
        let (first, second) = (lifecycle.track(()), lifecycle.track(()));
        drop(first);
        lifecycle.request_shutdown();
        assert_eq!(
            DONE.load(Ordering::SeqCst),
            0,
            "one connection is still open"
        );
        drop(second);
        assert_eq!(DONE.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn connections_closing_without_shutdown_do_not_end_the_process() {
        let lifecycle = Lifecycle::new();
        let (mut client, server) = tokio::io::duplex(64);
        drop(lifecycle.track(server));
        client.shutdown().await.unwrap();
        assert!(!lifecycle.done());
    }

    #[tokio::test]
    async fn a_client_that_keeps_its_connection_open_does_not_keep_the_process() {
        let lifecycle = Lifecycle::new();
        let (_client, server) = tokio::io::duplex(64);
        let _server = lifecycle.track(server);
        lifecycle.request_shutdown();
        lifecycle.until_shut_down().await;
        assert!(
            !lifecycle.done(),
            "returned after LINGER, the connection still open"
        );
    }
}

//! The plugin server: go-plugin handshake, auto-mTLS and gRPC. This is the
//! only layer that sees protobuf types.

mod convert;
mod go_plugin;
mod lifecycle;
pub mod logging;
pub mod proto;
mod tfplugin;
pub mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, Router};

use crate::framework::rpc::ProviderService;
use lifecycle::{Lifecycle, Tracked};

/// Terraform's go-plugin magic cookie: proof we were started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const PROTOCOL_VERSION: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("Terraform asked for plugin protocol versions {0:?}; this provider speaks only 5")]
    UnsupportedProtocol(String),
    #[error("no free TCP port on 127.0.0.1 in {0}..={1}")]
    NoPort(u16, u16),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// How the provider was started.
pub enum Mode {
    /// By Terraform: handshake line on stdout, mutual TLS.
    Managed,
    /// By hand with `--debug`: print a TF_REATTACH_PROVIDERS value and serve
    /// without TLS (Terraform's reattach mode does not negotiate TLS).
    Debug { provider_address: String },
}

fn env_port(name: &str) -> Option<u16> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

async fn bind() -> Result<TcpListener, ServeError> {
    let (min, max) = match (env_port("PLUGIN_MIN_PORT"), env_port("PLUGIN_MAX_PORT")) {
        (Some(min), Some(max)) if min <= max => (min, max),
        _ => return Ok(TcpListener::bind("127.0.0.1:0").await?),
    };
    for port in min..=max {
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(l);
        }
    }
    Err(ServeError::NoPort(min, max))
}

/// Accepts one plugin connection with Nagle's algorithm off. Every answer
/// Terraform waits for is a small TLS record; with Nagle on, the last one
/// waits for the peer's delayed ACK (~40 ms on Linux) before it is sent,
/// and Terraform makes several such round trips per provider start.
async fn accept(listener: &TcpListener) -> std::io::Result<TcpStream> {
    let (tcp, _) = listener.accept().await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// Plaintext connections (debug mode, or a client without a certificate),
/// also without Nagle, each counted by `lifecycle`.
fn plain_incoming(
    listener: TcpListener,
    lifecycle: Arc<Lifecycle>,
) -> impl futures::Stream<Item = std::io::Result<Tracked<TcpStream>>> {
    futures::stream::unfold(listener, move |listener| {
        let lifecycle = lifecycle.clone();
        async move {
            let conn = accept(&listener).await.map(|tcp| lifecycle.track(tcp));
            Some((conn, listener))
        }
    })
}

/// Accepts TLS connections in a task of its own, each handshake off the
/// accept loop so that a slow or bad client does not hold up the next one.
/// Started before the gRPC services exist: Terraform's TLS handshake then
/// runs while they are built.
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    lifecycle: Arc<Lifecycle>,
) -> ReceiverStream<Result<Tracked<TlsStream<TcpStream>>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let tcp = match accept(&listener).await {
                Ok(tcp) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a plugin connection failed");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            let lifecycle = lifecycle.clone();
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(lifecycle.track(tls))).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "TLS handshake failed"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

async fn router(service: Arc<dyn ProviderService>, lifecycle: Arc<Lifecycle>) -> Router {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            proto::plugin::grpc_controller_server::GrpcControllerServer::new(
                go_plugin::Controller::new(lifecycle, service.clone()),
            ),
        )
        .add_service(proto::plugin::grpc_stdio_server::GrpcStdioServer::new(
            go_plugin::Stdio,
        ))
        .add_service(proto::plugin::grpc_broker_server::GrpcBrokerServer::new(
            go_plugin::Broker,
        ))
        .add_service(
            proto::tfplugin5::provider_server::ProviderServer::new(tfplugin::PluginProvider::new(
                service,
            ))
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20),
        )
}

/// Serves `incoming` until Shutdown has been answered (see [`lifecycle`]).
async fn serve_until_shut_down<S, IO>(
    router: Router,
    incoming: S,
    lifecycle: &Lifecycle,
) -> Result<(), ServeError>
where
    S: futures::Stream<Item = std::io::Result<IO>> + Send + 'static,
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Connected + Unpin + Send + 'static,
{
    tokio::select! {
        served = router.serve_with_incoming(incoming) => Ok(served?),
        () = lifecycle.until_shut_down() => Ok(()),
    }
}

/// Serves the provider until Terraform shuts it down. `make_service` runs
/// after the handshake line is out: nothing Terraform does before it
/// connects needs the provider's schemas.
pub async fn serve(
    make_service: impl FnOnce() -> Arc<dyn ProviderService>,
    mode: Mode,
) -> Result<(), ServeError> {
    if let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS")
        && !versions
            .split(',')
            .any(|v| v.trim() == PROTOCOL_VERSION.to_string())
    {
        return Err(ServeError::UnsupportedProtocol(versions));
    }
    let lifecycle = Lifecycle::ending_the_process();
    let client_pem = std::env::var("PLUGIN_CLIENT_CERT").unwrap_or_default();
    match mode {
        Mode::Debug { provider_address } => {
            let listener = bind().await?;
            let addr: SocketAddr = listener.local_addr()?;
            let router = router(make_service(), lifecycle.clone()).await;
            let reattach = serde_json::json!({
                provider_address: {
                    "Protocol": "grpc",
                    "ProtocolVersion": PROTOCOL_VERSION,
                    "Pid": std::process::id(),
                    "Test": true,
                    "Addr": { "Network": "tcp", "String": addr.to_string() },
                }
            });
            println!("Provider started in debug mode. To attach Terraform, set:\n");
            println!("\tTF_REATTACH_PROVIDERS='{reattach}'\n");
            std::io::stdout().flush()?;
            let incoming = plain_incoming(listener, lifecycle.clone());
            serve_until_shut_down(router, incoming, &lifecycle).await
        }
        // Terraform >= 0.15 always sends a client certificate.
        Mode::Managed if client_pem.trim().is_empty() => {
            let listener = bind().await?;
            let addr: SocketAddr = listener.local_addr()?;
            println!("1|{PROTOCOL_VERSION}|tcp|{addr}|grpc|");
            std::io::stdout().flush()?;
            let router = router(make_service(), lifecycle.clone()).await;
            let incoming = plain_incoming(listener, lifecycle.clone());
            serve_until_shut_down(router, incoming, &lifecycle).await
        }
        Mode::Managed => {
            let listener = bind().await?;
            let addr: SocketAddr = listener.local_addr()?;
            let identity = tls::generate_identity().map_err(ServeError::Tls)?;
            let client_cert = tls::parse_client_cert(&client_pem).map_err(ServeError::Tls)?;
            let config = tls::server_config(&identity, client_cert).map_err(ServeError::Tls)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&identity.cert_der);
            println!("1|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}");
            std::io::stdout().flush()?;
            tracing::debug!(%addr, "plugin server listening");
            let incoming = tls_incoming(listener, acceptor, lifecycle.clone());
            let router = router(make_service(), lifecycle.clone()).await;
            serve_until_shut_down(router, incoming, &lifecycle).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guards the plan-latency fix: a connection the server accepts has
    /// TCP_NODELAY set, so small answers are not held back by Nagle.
    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let server_side = accept(&listener).await.unwrap();
        assert!(server_side.nodelay().unwrap());
        drop(client.await.unwrap());

        let mut incoming = Box::pin(plain_incoming(listener, Lifecycle::new()));
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        use futures::StreamExt;
        let conn = incoming.next().await.unwrap().unwrap();
        assert!(conn.get_ref().nodelay().unwrap());
        drop(client.await.unwrap());
    }
}

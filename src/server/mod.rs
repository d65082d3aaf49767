//! The plugin server: go-plugin handshake, auto-mTLS and gRPC. This is the
//! only layer that sees protobuf types.

mod convert;
mod go_plugin;
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
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, Router};

use crate::framework::rpc::ProviderService;

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

/// Plaintext connections (debug mode), also without Nagle.
fn plain_incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<TcpStream>> {
    futures::stream::unfold(listener, |listener| async move {
        let conn = accept(&listener).await;
        Some((conn, listener))
    })
}

/// A TLS connection that tonic can serve.
struct TlsConn(tokio_rustls::server::TlsStream<TcpStream>);

impl Connected for TlsConn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl tokio::io::AsyncRead for TlsConn {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsConn {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

async fn router(service: Arc<dyn ProviderService>) -> Router {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            proto::plugin::grpc_controller_server::GrpcControllerServer::new(go_plugin::Controller),
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

/// Serves the provider until Terraform shuts it down.
pub async fn serve(service: Arc<dyn ProviderService>, mode: Mode) -> Result<(), ServeError> {
    if let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS")
        && !versions
            .split(',')
            .any(|v| v.trim() == PROTOCOL_VERSION.to_string())
    {
        return Err(ServeError::UnsupportedProtocol(versions));
    }
    let listener = bind().await?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = router(service).await;

    match mode {
        Mode::Debug { provider_address } => {
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
            router.serve_with_incoming(plain_incoming(listener)).await?;
            Ok(())
        }
        Mode::Managed => {
            let client_pem = std::env::var("PLUGIN_CLIENT_CERT").unwrap_or_default();
            if client_pem.trim().is_empty() {
                // Terraform >= 0.15 always sends a client certificate.
                println!("1|{PROTOCOL_VERSION}|tcp|{addr}|grpc|");
                std::io::stdout().flush()?;
                router.serve_with_incoming(plain_incoming(listener)).await?;
                return Ok(());
            }
            let identity = tls::generate_identity().map_err(ServeError::Tls)?;
            let client_cert = tls::parse_client_cert(&client_pem).map_err(ServeError::Tls)?;
            let config = tls::server_config(&identity, client_cert).map_err(ServeError::Tls)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&identity.cert_der);
            println!("1|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}");
            std::io::stdout().flush()?;
            tracing::debug!(%addr, "plugin server listening");

            // Accept TLS handshakes off the accept loop so a slow or bad
            // client does not hold up the next connection.
            let (tx, rx) = mpsc::channel::<Result<TlsConn, std::io::Error>>(16);
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
                    tokio::spawn(async move {
                        match acceptor.accept(tcp).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(TlsConn(tls))).await;
                            }
                            Err(e) => tracing::warn!(error = %e, "TLS handshake failed"),
                        }
                    });
                }
            });
            router.serve_with_incoming(ReceiverStream::new(rx)).await?;
            Ok(())
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

        let mut incoming = Box::pin(plain_incoming(listener));
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        use futures::StreamExt;
        let conn = incoming.next().await.unwrap().unwrap();
        assert!(conn.nodelay().unwrap());
        drop(client.await.unwrap());
    }
}

//! go-plugin's side services: GRPCController (Shutdown), GRPCStdio and
//! GRPCBroker. Terraform opens the stdio and broker streams on every start;
//! we have nothing to send on them, so they stay open and idle.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::lifecycle::Lifecycle;
use super::proto::plugin as pb;
use crate::framework::rpc::ProviderService;

type Idle<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Answers Shutdown once the provider has finished what must be done before
/// the process ends ([`ProviderService::finish`]); the process ends once
/// Terraform has the answer (see [`Lifecycle`]).
pub struct Controller {
    lifecycle: Arc<Lifecycle>,
    service: Arc<dyn ProviderService>,
}

impl Controller {
    pub fn new(lifecycle: Arc<Lifecycle>, service: Arc<dyn ProviderService>) -> Self {
        Controller { lifecycle, service }
    }
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        self.service.finish().await;
        tracing::debug!("GRPCController.Shutdown: exiting once the answer is read");
        self.lifecycle.request_shutdown();
        Ok(Response::new(pb::Empty {}))
    }
}

pub struct Stdio;

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Idle<pb::StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

pub struct Broker;

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Idle<pb::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        // We never broker extra connections; drain what Terraform sends.
        let mut incoming = request.into_inner();
        tokio::spawn(async move { while let Ok(Some(_)) = incoming.message().await {} });
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

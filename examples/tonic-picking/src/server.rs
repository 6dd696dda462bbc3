//! The server side of `fulfillment.v1.PickingLists`, written as tonic-build
//! would generate it: a trait for the handlers and a `Service<http::Request<B>>`
//! that dispatches on the path and runs each call through
//! [`tonic::server::Grpc`] with a [`ProstCodec`].

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::codegen::{BoxFuture, StdError};
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

use crate::proto::{
    GetPickingListRequest, ListPickingListsRequest, ListPickingListsResponse, PickingList,
    StartPickingRequest, UpdateItemsRequest,
};

/// The fully qualified service name.
pub const SERVICE_NAME: &str = "fulfillment.v1.PickingLists";

/// The handlers of `fulfillment.v1.PickingLists`.
pub trait PickingLists: Send + Sync + 'static {
    /// `ListPickingLists`.
    fn list_picking_lists(
        &self,
        request: Request<ListPickingListsRequest>,
    ) -> impl Future<Output = Result<Response<ListPickingListsResponse>, Status>> + Send;

    /// `GetPickingList`.
    fn get_picking_list(
        &self,
        request: Request<GetPickingListRequest>,
    ) -> impl Future<Output = Result<Response<PickingList>, Status>> + Send;

    /// `StartPicking`.
    fn start_picking(
        &self,
        request: Request<StartPickingRequest>,
    ) -> impl Future<Output = Result<Response<PickingList>, Status>> + Send;

    /// `UpdateItems`.
    fn update_items(
        &self,
        request: Request<UpdateItemsRequest>,
    ) -> impl Future<Output = Result<Response<PickingList>, Status>> + Send;
}

/// Serves a [`PickingLists`] implementation over gRPC.
#[derive(Debug)]
pub struct PickingListsServer<T> {
    inner: Arc<T>,
}

impl<T> PickingListsServer<T> {
    /// Wraps the handlers.
    pub fn new(inner: T) -> Self {
        PickingListsServer {
            inner: Arc::new(inner),
        }
    }
}

impl<T> Clone for PickingListsServer<T> {
    fn clone(&self) -> Self {
        PickingListsServer {
            inner: self.inner.clone(),
        }
    }
}

impl<T> NamedService for PickingListsServer<T> {
    const NAME: &'static str = SERVICE_NAME;
}

/// Runs one unary call: decode the request, call `handler`, encode the answer.
fn unary<B, Req, Res, F, Fut>(
    req: http::Request<B>,
    handler: F,
) -> BoxFuture<http::Response<tonic::body::Body>, Infallible>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
    Req: prost::Message + Default + Send + 'static,
    Res: prost::Message + Send + 'static,
    F: FnMut(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = tonic::server::Grpc::new(ProstCodec::<Res, Req>::default());
        Ok(grpc.unary(tower::service_fn(handler), req).await)
    })
}

impl<T, B> tower::Service<http::Request<B>> for PickingListsServer<T>
where
    T: PickingLists,
    B: http_body::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        match req.uri().path() {
            "/fulfillment.v1.PickingLists/ListPickingLists" => unary(req, move |r| {
                let inner = inner.clone();
                async move { inner.list_picking_lists(r).await }
            }),
            "/fulfillment.v1.PickingLists/GetPickingList" => unary(req, move |r| {
                let inner = inner.clone();
                async move { inner.get_picking_list(r).await }
            }),
            "/fulfillment.v1.PickingLists/StartPicking" => unary(req, move |r| {
                let inner = inner.clone();
                async move { inner.start_picking(r).await }
            }),
            "/fulfillment.v1.PickingLists/UpdateItems" => unary(req, move |r| {
                let inner = inner.clone();
                async move { inner.update_items(r).await }
            }),
            _ => Box::pin(async {
                let mut res = http::Response::new(tonic::body::Body::default());
                let h = res.headers_mut();
                h.insert(
                    Status::GRPC_STATUS,
                    (tonic::Code::Unimplemented as i32).into(),
                );
                h.insert(
                    http::header::CONTENT_TYPE,
                    tonic::metadata::GRPC_CONTENT_TYPE,
                );
                Ok(res)
            }),
        }
    }
}

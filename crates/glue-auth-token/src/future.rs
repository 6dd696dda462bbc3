//! Response futures.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use glue_auth_core::ResponseBody;
use http::Response;
use http_body_util::Full;
use pin_project_lite::pin_project;

use crate::endpoint::AnswerFuture;

/// An answer of the endpoints themselves: ready at once, or the one boxed
/// future that reads the body and asks the stores.
pub(crate) enum LocalAnswer {
    Ready(Option<Response<Bytes>>),
    Boxed(AnswerFuture),
}

impl Future for LocalAnswer {
    type Output = Response<Bytes>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<Bytes>> {
        match self.get_mut() {
            LocalAnswer::Ready(response) => match response.take() {
                Some(res) => Poll::Ready(res),
                None => panic!("response future polled after completion"),
            },
            LocalAnswer::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

pin_project! {
    /// Response future of [`TokenEndpoint`](crate::TokenEndpoint).
    ///
    /// Forwarded requests poll the inner future in place (no allocation);
    /// answers that need no I/O are ready at once; only the endpoints' own
    /// answers (store look-ups, bcrypt) run in one boxed future.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Local { answer: LocalAnswer },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn local(answer: LocalAnswer) -> Self {
        ResponseFuture {
            kind: Kind::Local { answer },
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Local { .. } => "Local",
        };
        f.debug_tuple("ResponseFuture").field(&state).finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => {
                let res = ready!(future.poll(cx))?;
                Poll::Ready(Ok(res.map(ResponseBody::new)))
            }
            KindProj::Local { answer } => {
                let res = ready!(Pin::new(answer).poll(cx));
                Poll::Ready(Ok(res.map(ResponseBody::local)))
            }
        }
    }
}

/// Response future of the standalone [`TokenServer`](crate::TokenServer)
/// service.
pub struct ServerFuture {
    answer: LocalAnswer,
}

impl ServerFuture {
    pub(crate) fn new(answer: LocalAnswer) -> Self {
        ServerFuture { answer }
    }
}

impl fmt::Debug for ServerFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerFuture").finish_non_exhaustive()
    }
}

impl Future for ServerFuture {
    type Output = Result<Response<Full<Bytes>>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let res = ready!(Pin::new(&mut self.answer).poll(cx));
        Poll::Ready(Ok(res.map(Full::new)))
    }
}

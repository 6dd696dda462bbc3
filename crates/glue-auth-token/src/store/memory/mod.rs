//! In-memory stores: for tests, demos and small single-instance deployments.

mod assignments;
mod codes;
mod directory;
mod file;
mod log;
mod refresh;

use std::sync::{Mutex, MutexGuard};

pub use super::Warehouse;
pub use codes::MemoryAuthorizationCodes;
pub use directory::MemoryDirectory;
pub use file::LoadError;
pub use log::MemoryAccessTokenLog;
pub use refresh::MemoryRefreshTokens;

use super::{StoreError, StoreFuture};

fn ready<'a, T: Send + 'a>(v: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls a memory store's future, which is always ready (unit tests).
#[cfg(test)]
fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("memory stores are always ready"),
    }
}

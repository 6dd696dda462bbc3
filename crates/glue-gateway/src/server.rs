//! Accept loop: HTTP/1.1 and h2c (hyper-util auto), connection and header
//! limits, SIGHUP key reload, graceful shutdown on SIGTERM / Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use crate::app::Gateway;
use crate::config::Settings;
use crate::proxy::Local;

/// The process's signal handlers, installed at start (before the database
/// connect, which may retry for `database_connect_timeout`): from then on
/// SIGHUP no longer kills the process and SIGTERM / Ctrl-C stop it cleanly.
pub(crate) struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers (needs the runtime).
    pub(crate) fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let install = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for {name}");
                    None
                }
            };
            Signals {
                term: install(SignalKind::terminate(), "SIGTERM"),
                int: install(SignalKind::interrupt(), "SIGINT"),
                hup: install(SignalKind::hangup(), "SIGHUP: key reload disabled"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves when the process is asked to stop.
    pub(crate) async fn shutdown(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                if let Some(s) = s
                    && s.recv().await.is_some()
                {
                    return;
                }
                std::future::pending::<()>().await;
            }
            tokio::select! {
                () = recv(&mut self.int) => "SIGINT",
                () = recv(&mut self.term) => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}

#[cfg(unix)]
fn spawn_reload_on_sighup(
    hup: Option<tokio::signal::unix::Signal>,
    gateway: Gateway,
    files: Vec<std::path::PathBuf>,
) {
    let Some(mut hup) = hup else {
        return;
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match gateway.reload_keys() {
                Ok(n) => {
                    metrics::counter!("glue_gateway_key_reloads_total", "result" => "ok")
                        .increment(1);
                    tracing::info!(keys = n, files = ?files, "keys reloaded");
                }
                Err(e) => {
                    metrics::counter!("glue_gateway_key_reloads_total", "result" => "error")
                        .increment(1);
                    tracing::error!(error = %e, "key reload failed; the previous keys stay in use");
                }
            }
        }
    });
}

/// Reads the key files every `interval` and reloads the keys when any of
/// them changed (no signal needed: a Kubernetes secret update sends none).
/// Polling compares contents, so it also sees the atomic symlink swap of a
/// mounted secret (which inotify on the file would miss), needs no
/// dependency and works on every platform; key files are a few KiB.
/// A reload that fails (a pair half written) is retried when the files
/// change again; the old keys stay meanwhile.
fn spawn_key_file_watch(gateway: Gateway, files: Vec<std::path::PathBuf>, interval: Duration) {
    if files.is_empty() {
        return;
    }
    let read_all = |files: &[std::path::PathBuf]| -> Vec<Option<Vec<u8>>> {
        files.iter().map(|f| std::fs::read(f).ok()).collect()
    };
    tokio::spawn(async move {
        let mut seen = read_all(&files);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let now = read_all(&files);
            if now == seen {
                continue;
            }
            seen = now;
            match gateway.reload_keys() {
                Ok(n) => {
                    metrics::counter!("glue_gateway_key_reloads_total", "result" => "ok")
                        .increment(1);
                    tracing::info!(keys = n, files = ?files, "key files changed; keys reloaded");
                }
                Err(e) => {
                    metrics::counter!("glue_gateway_key_reloads_total", "result" => "error")
                        .increment(1);
                    tracing::error!(error = %e, "key files changed but the reload failed; the previous keys stay in use");
                }
            }
        }
    });
}

/// HTTP/2 PING interval on an idle connection, and how long the peer has to
/// answer one before the connection is closed.
const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 flow-control windows: what a client may push before the gateway
/// reads it (hyper's defaults are 1 MiB per stream and per connection).
const H2_STREAM_WINDOW: u32 = 64 * 1024;
const H2_CONNECTION_WINDOW: u32 = 256 * 1024;

/// Resolves when a connection has not delivered its first complete request
/// head (the first service call notifies `seen`) within `limit`; never
/// resolves once it has. hyper-util's auto builder reads the protocol
/// preface without a timer and h2c has no header timeout of its own, so
/// without this a silent or slow client holds a connection permit forever.
async fn first_request_deadline(seen: &Notify, limit: Duration) {
    if tokio::time::timeout(limit, seen.notified()).await.is_ok() {
        std::future::pending::<()>().await;
    }
}

/// Serves one accepted connection to its end (or until it sent no complete
/// request head within `head_limit`), then gives its permit back.
async fn drive<F, E>(
    conn: F,
    seen: Arc<Notify>,
    head_limit: Duration,
    peer: SocketAddr,
    permit: tokio::sync::OwnedSemaphorePermit,
) where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::select! {
        res = conn => {
            if let Err(e) = res {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        }
        () = first_request_deadline(&seen, head_limit) => {
            tracing::debug!(%peer, "no complete request head within header_read_timeout; connection closed");
        }
    }
    metrics::gauge!("glue_gateway_open_connections").decrement(1.0);
    drop(permit);
}

/// Serves until a shutdown signal, then lets in-flight requests finish.
pub(crate) async fn run(
    settings: Settings,
    listener: TcpListener,
    gateway: Gateway,
    mut signals: Signals,
) -> std::io::Result<()> {
    #[cfg(unix)]
    spawn_reload_on_sighup(
        signals.hup.take(),
        gateway.clone(),
        crate::keys::reloadable_files(&settings),
    );

    if let Some(interval) = settings.key_watch_interval {
        spawn_key_file_watch(
            gateway.clone(),
            crate::keys::reloadable_files(&settings),
            interval,
        );
    }

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(settings.max_header_size)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT)
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_concurrent_streams(settings.h2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(settings.max_header_size).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let shutdown = signals.shutdown();
    tokio::pin!(shutdown);
    let direct_upstream = gateway.direct_upstream();

    let signal = loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break "closed",
            },
            s = &mut shutdown => break s,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            s = &mut shutdown => break s,
        };
        let _ = stream.set_nodelay(true);
        let gw = gateway.clone();
        let seen = Arc::new(Notify::new());
        let first_request = Arc::clone(&seen);
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // A stored permit: cheap, and no race with the deadline's waiter.
            first_request.notify_one();
            req.extensions_mut().insert::<SocketAddr>(peer);
            let gw = gw.clone();
            async move { Ok::<_, std::convert::Infallible>(gw.serve(req).await) }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        metrics::gauge!("glue_gateway_open_connections").increment(1.0);
        let head_limit = settings.header_read_timeout;
        if direct_upstream {
            // The connection's own upstream connections, driven on its task
            // (the proxy finds them with `Local::current`).
            let conn = Local::new().serve(conn);
            tokio::spawn(drive(conn, seen, head_limit, peer, permit));
        } else {
            tokio::spawn(drive(conn, seen, head_limit, peer, permit));
        }
    };
    drop(listener);
    tracing::info!(
        signal,
        timeout_s = settings.shutdown_timeout.as_secs(),
        "shutting down: no new connections, finishing in-flight requests"
    );
    match tokio::time::timeout(settings.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("shutdown timeout reached; closing remaining connections"),
    }
    Ok(())
}

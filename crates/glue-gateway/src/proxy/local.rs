//! Upstream connections owned by one downstream connection and driven on
//! that connection's task.
//!
//! hyper-util's pooled client runs every upstream connection as a task of
//! its own, checks a connection out of a shared pool (locks, a key per
//! request) and, when the answer's body is still streaming, spawns one more
//! task per request that waits to put the connection back. Here the
//! downstream connection's task polls its upstream connections itself
//! ([`Serve`]), beside the server connection: handing a request to the
//! upstream connection, its answer to the service and the body chunks on to
//! the client are calls within one task, and the next request of the
//! connection finds its upstream connection without a pool.
//!
//! An HTTP/1.1 downstream connection keeps its upstream connection
//! (keep-alive) for its next requests, opens another one when it finds none
//! ready (the upstream closed it, or a request was dropped mid-way and
//! hyper closed it), at most [`MAX_PER_CONNECTION`] at once, past that the
//! proxy uses its pool; they close with it (so they are bounded by the
//! downstream connections, whose idle time `header_read_timeout` bounds).
//! The service futures of HTTP/2 streams run on tasks of their own, where
//! [`Local::current`] finds nothing: they use the pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};

use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use pin_project_lite::pin_project;
use tokio::net::TcpStream;

use crate::body::Body;

/// Upstream connections one downstream connection opens at once (an
/// HTTP/1.1 client needs one at a time).
pub(crate) const MAX_PER_CONNECTION: usize = 8;

/// How many times [`Serve`] polls its parts again, within one poll, after
/// they woke each other; then it yields to the scheduler (a long body
/// relayed chunk after chunk must not hold the worker thread).
const ROUNDS_PER_POLL: u32 = 32;

/// One upstream connection's driver: hyper's connection future.
type Driver = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

tokio::task_local! {
    /// The upstream connections of the downstream connection whose task
    /// runs: set by [`Serve`] while it polls the server connection (and so
    /// the HTTP/1.1 service futures within it).
    static CURRENT: Local;
}

/// The upstream connections of one downstream connection. Cheap to clone;
/// the proxy finds it with [`Local::current`].
#[derive(Clone)]
pub(crate) struct Local(Arc<Hub>);

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.0.state();
        f.debug_struct("Local")
            .field("open", &state.open)
            .field("idle", &state.idle.len())
            .field("ended", &state.ended)
            .finish()
    }
}

struct Hub {
    signal: Arc<Signal>,
    /// Raised when a driver waits in `State::incoming`.
    adopt: Arc<Flag>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Senders not lent to a request (the connection may still be finishing
    /// the previous answer's body: `is_ready` tells).
    idle: Vec<SendRequest<Body>>,
    /// Connections open or being opened.
    open: usize,
    /// Drivers of new connections, for [`Serve`] to take over.
    incoming: Vec<Driver>,
    /// The downstream connection's task is gone: nothing polls drivers here.
    ended: bool,
}

/// What [`Local::checkout`] found.
pub(crate) enum Checkout {
    /// A connection ready for a request (it served one before).
    Ready(SendRequest<Body>),
    /// None is ready; open one and hand its driver to [`Local::adopt`].
    Connect(Slot),
    /// The limit is reached or the downstream connection is gone.
    Unavailable,
}

/// One counted connection of a [`Local`]; released when dropped (the
/// connect failed, or the connection's driver finished).
pub(crate) struct Slot(Weak<Hub>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(hub) = self.0.upgrade() {
            let mut state = hub.state();
            state.open = state.open.saturating_sub(1);
        }
    }
}

impl Hub {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Local {
    /// The upstream connections of the downstream connection being served
    /// on this task, if any.
    pub(crate) fn current() -> Option<Local> {
        CURRENT.try_with(Local::clone).ok()
    }

    /// A sender that can take a request now, or a slot to open a connection.
    pub(crate) fn checkout(&self) -> Checkout {
        let mut state = self.0.state();
        if state.ended {
            return Checkout::Unavailable;
        }
        // Closed connections go (their drivers release their slots); busy
        // ones stay for later.
        state.idle.retain(|s| !s.is_closed());
        if let Some(i) = state.idle.iter().position(SendRequest::is_ready) {
            return Checkout::Ready(state.idle.swap_remove(i));
        }
        if state.open >= MAX_PER_CONNECTION {
            return Checkout::Unavailable;
        }
        state.open += 1;
        Checkout::Connect(Slot(Arc::downgrade(&self.0)))
    }

    /// Gives a sender back once its answer's head arrived (the body may
    /// still be streaming: the sender is ready again after it).
    pub(crate) fn checkin(&self, sender: SendRequest<Body>) {
        let mut state = self.0.state();
        if !state.ended && !sender.is_closed() {
            state.idle.push(sender);
        }
    }

    /// Hands a new connection to the downstream connection's task, which
    /// drives it from now on. `slot` is released when the connection ends.
    pub(crate) fn adopt(&self, conn: Connection<TokioIo<TcpStream>, Body>, slot: Slot) {
        let driver: Driver = Box::pin(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "upstream connection ended with an error");
            }
        });
        let mut state = self.0.state();
        if state.ended {
            // Nothing polls this hub's drivers any more (the proxy runs
            // within `Serve`, so this does not happen; should it, the
            // connection is driven as a task of its own).
            drop(state);
            tokio::spawn(driver);
            return;
        }
        state.incoming.push(driver);
        drop(state);
        self.0.adopt.wake_by_ref();
    }
}

/// What the wakers of [`Serve`]'s parts share: whether `Serve::poll` is
/// running (then a wake-up only raises the part's flag, and the running
/// poll sees it) and the task's waker (else).
struct Signal {
    polling: AtomicBool,
    task: Mutex<Option<Waker>>,
}

/// The waker of one part of [`Serve`]: raises its flag, and wakes the task
/// unless `Serve::poll` runs.
struct Flag {
    woken: AtomicBool,
    signal: Arc<Signal>,
}

impl Flag {
    fn new(signal: &Arc<Signal>) -> Arc<Flag> {
        Arc::new(Flag {
            // Every part is polled once at first.
            woken: AtomicBool::new(true),
            signal: Arc::clone(signal),
        })
    }

    fn take(&self) -> bool {
        self.woken.swap(false, SeqCst)
    }

    fn raised(&self) -> bool {
        self.woken.load(SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        if !self.signal.polling.load(SeqCst) {
            let task = self
                .signal
                .task
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(waker) = task.as_ref() {
                waker.wake_by_ref();
            }
        }
    }
}

impl Local {
    /// The (empty) upstream connections of a new downstream connection;
    /// [`Local::serve`] drives them.
    pub(crate) fn new() -> Local {
        let signal = Arc::new(Signal {
            polling: AtomicBool::new(false),
            task: Mutex::new(None),
        });
        Local(Arc::new(Hub {
            adopt: Flag::new(&signal),
            signal,
            state: Mutex::new(State::default()),
        }))
    }

    /// The future that serves the downstream connection `conn` and drives
    /// these upstream connections, on the same task.
    pub(crate) fn serve<F: Future>(&self, conn: F) -> Serve<F> {
        let conn_flag = Flag::new(&self.0.signal);
        Serve {
            conn,
            conn_waker: Waker::from(Arc::clone(&conn_flag)),
            conn_flag,
            hub: Arc::clone(&self.0),
            drivers: Vec::new(),
        }
    }
}

struct Part {
    driver: Driver,
    flag: Arc<Flag>,
    waker: Waker,
}

pin_project! {
    /// Serves a downstream connection and drives its upstream connections
    /// in one future. Each part (the server connection, every upstream
    /// connection) is polled only when its own waker fired; parts waking
    /// each other during a poll are polled again in the same poll.
    pub(crate) struct Serve<F> {
        #[pin]
        conn: F,
        conn_flag: Arc<Flag>,
        conn_waker: Waker,
        hub: Arc<Hub>,
        drivers: Vec<Part>,
    }

    impl<F> PinnedDrop for Serve<F> {
        fn drop(this: Pin<&mut Self>) {
            this.project().hub.end();
        }
    }
}

impl Hub {
    /// The downstream connection is done: no more checkouts; idle
    /// connections close (their drivers go with `Serve`).
    fn end(&self) {
        let mut state = self.state();
        state.ended = true;
        let idle = std::mem::take(&mut state.idle);
        let incoming = std::mem::take(&mut state.incoming);
        drop(state);
        drop(idle);
        drop(incoming);
    }
}

impl<F: Future> Future for Serve<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let signal = &this.hub.signal;
        {
            let mut task = signal.task.lock().unwrap_or_else(PoisonError::into_inner);
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        signal.polling.store(true, SeqCst);
        let mut rounds = 0;
        loop {
            if this.conn_flag.take()
                && let Poll::Ready(out) = CURRENT.sync_scope(Local(Arc::clone(this.hub)), || {
                    this.conn
                        .as_mut()
                        .poll(&mut Context::from_waker(this.conn_waker))
                })
            {
                signal.polling.store(false, SeqCst);
                this.hub.end();
                return Poll::Ready(out);
            }
            if this.hub.adopt.take() {
                let incoming = std::mem::take(&mut this.hub.state().incoming);
                for driver in incoming {
                    let flag = Flag::new(signal);
                    this.drivers.push(Part {
                        driver,
                        waker: Waker::from(Arc::clone(&flag)),
                        flag,
                    });
                }
            }
            let mut i = 0;
            while i < this.drivers.len() {
                let part = &mut this.drivers[i];
                if part.flag.take()
                    && part
                        .driver
                        .as_mut()
                        .poll(&mut Context::from_waker(&part.waker))
                        .is_ready()
                {
                    this.drivers.swap_remove(i);
                    continue;
                }
                i += 1;
            }
            let raised = |conn: &Flag, hub: &Hub, drivers: &[Part]| {
                conn.raised() || hub.adopt.raised() || drivers.iter().any(|p| p.flag.raised())
            };
            if !raised(this.conn_flag, this.hub, this.drivers) {
                signal.polling.store(false, SeqCst);
                // A wake-up between the check and the store saw `polling`
                // set and only raised its flag: look once more.
                if !raised(this.conn_flag, this.hub, this.drivers) {
                    return Poll::Pending;
                }
                signal.polling.store(true, SeqCst);
            }
            rounds += 1;
            if rounds >= ROUNDS_PER_POLL {
                signal.polling.store(false, SeqCst);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part woken from another thread while the task waits wakes the
    /// task; one woken during the poll is polled again in the same poll.
    #[test]
    fn parts_woken_during_a_poll_run_in_that_poll() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // The "server connection": finishes once the "upstream" driver
            // has run and notified it.
            let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
            let local = Local::new();
            let serve = local.serve(async move { rx.await.unwrap() });
            let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
            {
                let driver: Driver = Box::pin(async move {
                    go_rx.await.unwrap();
                    let _ = tx.send(7);
                });
                let mut state = local.0.state();
                state.incoming.push(driver);
            }
            local.0.adopt.wake_by_ref();
            let waker = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                go_tx.send(()).unwrap();
            });
            assert_eq!(serve.await, 7);
            waker.join().unwrap();
            // Ended: no more checkouts.
            assert!(matches!(local.checkout(), Checkout::Unavailable));
        });
    }

    #[test]
    fn checkout_counts_connections_up_to_the_limit() {
        let local = Local::new();
        let mut slots = Vec::new();
        for _ in 0..MAX_PER_CONNECTION {
            match local.checkout() {
                Checkout::Connect(slot) => slots.push(slot),
                _ => panic!("expected a slot"),
            }
        }
        assert!(matches!(local.checkout(), Checkout::Unavailable));
        // A failed connect (or a closed connection) frees its slot.
        slots.pop();
        assert!(matches!(local.checkout(), Checkout::Connect(_)));
    }

    /// Parts that wake each other (within a poll, from the reactor, from
    /// other threads) many times over: none of the wake-ups is lost.
    #[test]
    fn no_wake_up_is_lost() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            const ROUNDS: u32 = 5_000;
            let mut tasks = Vec::new();
            for conn in 0..4u32 {
                tasks.push(tokio::spawn(async move {
                    let local = Local::new();
                    // Three "upstream connections": one answers at once, one
                    // after a yield, one from another thread.
                    let mut to_drivers = Vec::new();
                    let (back_tx, mut back_rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
                    for kind in 0..3u32 {
                        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
                        to_drivers.push(tx);
                        let back = back_tx.clone();
                        let driver: Driver = Box::pin(async move {
                            while let Some(n) = rx.recv().await {
                                match kind {
                                    0 => {}
                                    1 => tokio::task::yield_now().await,
                                    _ => {
                                        let (tx, rx) = tokio::sync::oneshot::channel();
                                        std::thread::spawn(move || tx.send(()).unwrap());
                                        rx.await.unwrap();
                                    }
                                }
                                if back.send(n).is_err() {
                                    return;
                                }
                            }
                        });
                        local.0.state().incoming.push(driver);
                        local.0.adopt.wake_by_ref();
                    }
                    let serve = local.serve(async move {
                        for n in 0..ROUNDS {
                            let i = (n + conn) as usize % to_drivers.len();
                            to_drivers[i].send(n).unwrap();
                            assert_eq!(back_rx.recv().await, Some(n));
                        }
                    });
                    tokio::time::timeout(std::time::Duration::from_secs(60), serve)
                        .await
                        .expect("a wake-up was lost");
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
}

//! The log writer: formatted lines are appended to a shared buffer on the
//! request's thread and written to stderr by one writer thread, which writes
//! what has gathered. It is woken by the first line after a write; a line
//! that comes within [`PACE`] of the last write waits for the rest of that
//! pause (unless the buffer passes [`FLUSH_AT`]), so that lines gather. A
//! quiet gateway writes each line at once; under load: one write and at
//! most one wake-up per pause, not per line, however long the lines and
//! however idle the writer's core.
//!
//! Why not `tracing_appender::non_blocking`: it sends every line through a
//! channel whose receiver sleeps, so each access-log line costs a futex wake
//! of the writer thread and a context switch (measured: about 10 µs of CPU per
//! request of the demo gateway with the access log on, against none with it
//! off; `docs/benchmarks.md`). Here a line costs an uncontended lock and a
//! copy; the writer thread wakes about 20 times a second at most under load.
//!
//! Lossy by design: past [`LIMIT`] bytes waiting (stderr blocked or far too
//! slow), lines are dropped and counted ([`LogWriter::dropped_lines`], exported
//! as `glue_gateway_log_lines_dropped_total`); a request never waits for
//! stderr. [`LogGuard`] writes what is left when dropped (at exit).

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The writer thread writes at least this often while lines wait.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A buffer this full wakes the writer thread at once.
pub(crate) const FLUSH_AT: usize = 64 * 1024;
/// The shortest time between two writes, unless the buffer passes
/// [`FLUSH_AT`]: at most about 100 writes a second.
const PACE: Duration = Duration::from_millis(10);
/// Bytes that may wait; beyond, lines are dropped and counted.
pub(crate) const LIMIT: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `MakeWriter` handed to `tracing_subscriber::fmt`: cheap to clone.
#[derive(Clone)]
pub(crate) struct LogWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread and writes what is left, when dropped.
pub(crate) struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread over `out`.
pub(crate) fn spawn(out: impl Write + Send + 'static) -> io::Result<(LogWriter, LogGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        wake: Condvar::new(),
        dropped: AtomicU64::new(0),
    });
    let worker = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("glue-gateway-log".into())
        .spawn(move || run(&worker, out))?;
    Ok((
        LogWriter {
            shared: Arc::clone(&shared),
        },
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn run(shared: &Shared, mut out: impl Write) {
    let mut spare = Vec::new();
    let mut last_write: Option<Instant> = None;
    loop {
        let closed = {
            let mut st = shared.lock();
            if st.buf.is_empty() && !st.closed {
                st = shared
                    .wake
                    .wait_timeout(st, FLUSH_EVERY)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            // Lines soon after a write (a busy gateway) wait for the rest of
            // the pause, so that more gather; a full buffer or the close
            // ends the wait.
            if let Some(rest) = last_write.and_then(|t| PACE.checked_sub(t.elapsed())) {
                st = shared
                    .wake
                    .wait_timeout_while(st, rest, |st| st.buf.len() < FLUSH_AT && !st.closed)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            std::mem::swap(&mut st.buf, &mut spare);
            st.closed
        };
        if !spare.is_empty() {
            // A failing stderr loses these lines; nothing else can be done.
            let _ = out.write_all(&spare).and_then(|()| out.flush());
            last_write = Some(Instant::now());
            spare.clear();
            if spare.capacity() > 4 * FLUSH_AT {
                spare.shrink_to(FLUSH_AT);
            }
        }
        if closed {
            let rest = std::mem::take(&mut shared.lock().buf);
            let _ = out.write_all(&rest).and_then(|()| out.flush());
            return;
        }
    }
}

impl LogWriter {
    /// Lines dropped because too much was waiting.
    pub(crate) fn dropped_lines(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    fn push(&self, line: &[u8]) {
        let mut st = self.shared.lock();
        if st.buf.len() + line.len() > LIMIT {
            drop(st);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was = st.buf.len();
        st.buf.extend_from_slice(line);
        // The first line after a write wakes the writer (a quiet gateway
        // logs at once; under load the writer then waits out the pause), so
        // this is at most one wake per write, not per line.
        let wake = was == 0 || (was < FLUSH_AT && st.buf.len() >= FLUSH_AT);
        drop(st);
        if wake {
            self.shared.wake.notify_one();
        }
    }
}

/// One event's bytes, pushed as one piece when the formatter is done.
pub(crate) struct Line {
    writer: LogWriter,
    buf: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.writer.push(&self.buf);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            writer: self.clone(),
            buf: Vec::with_capacity(256),
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let mut s = self.0.lock().unwrap();
            s.0.extend_from_slice(b);
            s.1 += 1;
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn line(w: &LogWriter, text: &str) {
        use tracing_subscriber::fmt::MakeWriter;
        let mut l = w.make_writer();
        l.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn lines_arrive_whole_in_order_in_few_writes_and_all_at_exit() {
        let sink = Sink::default();
        let (w, guard) = spawn(sink.clone()).unwrap();
        for i in 0..10_000 {
            line(&w, &format!("line {i}\n"));
        }
        drop(guard);
        let (bytes, writes) = &*sink.0.lock().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines
                .iter()
                .enumerate()
                .all(|(i, l)| *l == format!("line {i}"))
        );
        assert!(*writes < 100, "{writes} writes for 10,000 lines");
        assert_eq!(w.dropped_lines(), 0);
    }

    /// Lines that come a little apart, each waking an idle writer, are
    /// still written a pause apart, not one write each (the writer's core
    /// being idle is what made `PACE` by size fail: 1,405 writes for 10,000
    /// short lines in one CI run).
    #[test]
    fn a_steady_trickle_is_written_a_pause_apart() {
        let sink = Sink::default();
        let (w, guard) = spawn(sink.clone()).unwrap();
        let start = Instant::now();
        for i in 0..200 {
            line(&w, &format!("line {i}\n"));
            std::thread::sleep(Duration::from_micros(200));
        }
        let elapsed = start.elapsed();
        drop(guard);
        let (bytes, writes) = &*sink.0.lock().unwrap();
        assert_eq!(String::from_utf8_lossy(bytes).lines().count(), 200);
        let bound = elapsed.as_millis() / PACE.as_millis() + 2;
        assert!(
            *writes as u128 <= bound,
            "{writes} writes for 200 lines in {elapsed:?} (at most {bound})"
        );
    }

    #[test]
    fn a_blocked_output_drops_and_counts_lines_instead_of_waiting() {
        struct Blocked(std::sync::mpsc::Receiver<()>);
        impl Write for Blocked {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                let _ = self.0.recv();
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (w, guard) = spawn(Blocked(rx)).unwrap();
        let big = "x".repeat(1024) + "\n";
        // Twice the limit: the writer is stuck on its first write.
        for _ in 0..(2 * LIMIT / big.len()) {
            line(&w, &big);
        }
        assert!(w.dropped_lines() > 0);
        drop(tx);
        drop(guard);
    }
}

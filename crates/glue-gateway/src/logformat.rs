//! The text log format: `tracing-subscriber`'s full format, byte for byte,
//! with the access log's line written without the generic formatting
//! machinery.
//!
//! The access log is one event per request, so its formatting is paid on
//! every request: through `tracing_subscriber::fmt::format::Full` it went
//! through `core::fmt` for each field name and value, `nu_ansi_term` styles
//! that print nothing without colours, and a `Display` of the timestamp
//! (together 4.6 % of the proxy gateway's CPU samples in a profile,
//! `docs/benchmarks.md`). [`Text`] writes that line itself when nothing
//! could make it differ from the full format's: no colours, no span around
//! the event, and exactly the access event's fields. Every other event, and
//! the access event in any other situation, goes to the full format. The
//! tests hold both paths to the same bytes.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{Format, FormatEvent, FormatFields, Full, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::registry::LookupSpan;

/// The target of the access log's events (`--log 'glue_gateway::access=off'`
/// turns it off).
pub(crate) const ACCESS_TARGET: &str = "glue_gateway::access";

/// The access event's fields, in order.
const ACCESS_FIELDS: [&str; 8] = [
    "message",
    "method",
    "route",
    "status",
    "outcome",
    "rejection",
    "reason",
    "elapsed_us",
];

/// One answered request, as the access log records it.
pub(crate) struct Access<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) route: &'static str,
    pub(crate) status: u16,
    pub(crate) outcome: &'a str,
    pub(crate) rejection: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) elapsed_us: u64,
}

impl Access<'_> {
    /// Emits the access event (`info`, target [`ACCESS_TARGET`]).
    pub(crate) fn log(&self) {
        tracing::info!(
            target: ACCESS_TARGET,
            method = %self.method,
            route = self.route,
            status = self.status,
            outcome = self.outcome,
            rejection = self.rejection,
            reason = self.reason,
            elapsed_us = self.elapsed_us,
            "request"
        );
    }
}

/// The gateway's text format: [`Format<Full, T>`] with a direct path for
/// the access event.
pub(crate) struct Text<T> {
    full: Format<Full, T>,
    timer: T,
}

impl<T: FormatTime + Clone> Text<T> {
    pub(crate) fn new(timer: T) -> Self {
        Text {
            full: Format::default().with_timer(timer.clone()),
            timer,
        }
    }
}

impl<S, N, T> FormatEvent<S, N> for Text<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let direct = !writer.has_ansi_escapes()
            && meta.target() == ACCESS_TARGET
            && *meta.level() == Level::INFO
            && meta.fields().iter().map(|f| f.name()).eq(ACCESS_FIELDS)
            && ctx.event_scope().is_none();
        if !direct {
            return self.full.format_event(ctx, writer, event);
        }
        #[cfg(test)]
        tests::DIRECT.with(|n| n.set(n.get() + 1));
        // What `Format<Full, _>` writes: the time, the padded level, the
        // target, the fields.
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str("  INFO glue_gateway::access: ")?;
        let sanitize = writer.sanitizes_ansi_escapes();
        let mut fields = Fields {
            writer: &mut writer,
            sanitize,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// Writes fields as `DefaultFields` does: `name=value` separated by
/// spaces, values by `Debug`, the message first and bare.
struct Fields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    sanitize: bool,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// The space before every field but the first.
    fn separator(&mut self) -> fmt::Result {
        if self.first {
            self.first = false;
            Ok(())
        } else {
            self.writer.write_char(' ')
        }
    }

    /// The separator and `name=`.
    fn name(&mut self, field: &Field) -> fmt::Result {
        self.separator()?;
        let name = field.name();
        self.writer
            .write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_char('=')
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            return self.record_debug(field, &format_args!("{value}"));
        }
        self.result = self.name(field).and_then(|()| {
            // `str`'s `Debug` changes nothing but `"` and `\` in printable
            // ASCII.
            if value
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
            {
                self.writer.write_char('"')?;
                self.writer.write_str(value)?;
                self.writer.write_char('"')
            } else {
                write!(self.writer, "{value:?}")
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_err() {
            return;
        }
        self.result = self
            .name(field)
            .and_then(|()| self.writer.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.result = self.separator().and_then(|()| {
                if self.sanitize {
                    write!(Sanitized(self.writer), "{value:?}")
                } else {
                    write!(self.writer, "{value:?}")
                }
            });
            return;
        }
        self.result = self
            .name(field)
            .and_then(|()| write!(self.writer, "{value:?}"));
    }
}

/// Escapes what `tracing-subscriber` escapes in a message when it sanitizes:
/// the C0 controls of terminal escape sequences, DEL and the C1 controls.
struct Sanitized<'w, 'a>(&'w mut Writer<'a>);

impl fmt::Write for Sanitized<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", ch as u32)?,
                _ => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

/// UTC time with microseconds, `2026-12-04T13:33:44.816374Z`: the text
/// `tracing_subscriber::fmt::time::SystemTime` writes, without `core::fmt`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct UtcMicros;

/// 9999-12-31T23:59:59Z: the last second with a four-digit year.
const LAST_FOUR_DIGIT_SECOND: u64 = 253_402_300_799;

impl FormatTime for UtcMicros {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) if d.as_secs() <= LAST_FOUR_DIGIT_SECOND => {
                w.write_str(utc_micros(d.as_secs(), d.subsec_micros()).as_str()?)
            }
            // Before 1970 or after 9999: the library's own formatting.
            _ => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

/// A formatted time: 27 ASCII bytes.
struct Stamp([u8; 27]);

impl Stamp {
    fn as_str(&self) -> Result<&str, fmt::Error> {
        std::str::from_utf8(&self.0).map_err(|_| fmt::Error)
    }
}

/// `secs` since the epoch (at most [`LAST_FOUR_DIGIT_SECOND`]) and the
/// microseconds of that second.
fn utc_micros(secs: u64, micros: u32) -> Stamp {
    let c = crate::civil::Civil::from_unix(i64::try_from(secs).unwrap_or(i64::MAX));
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, c.year.unsigned_abs());
    put(5, 2, c.month.into());
    put(8, 2, c.day.into());
    put(11, 2, c.hour.into());
    put(14, 2, c.minute.into());
    put(17, 2, c.second.into());
    put(20, 6, u64::from(micros));
    Stamp(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::{Arc, Mutex};

    thread_local! {
        /// Lines written by the direct path on this thread.
        pub(super) static DIRECT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn direct_lines() -> usize {
        DIRECT.with(std::cell::Cell::get)
    }

    /// A timer that writes a fixed text, so that both formats' lines can be
    /// compared whole.
    #[derive(Clone)]
    struct Fixed;

    impl FormatTime for Fixed {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("T")
        }
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `emit` logs through the gateway's format (`ours`) or
    /// `tracing-subscriber`'s full format with the same settings.
    fn render(ours: bool, ansi: bool, emit: impl FnOnce()) -> String {
        let out = Captured::default();
        let sink = out.clone();
        let builder = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(ansi)
            .with_max_level(Level::TRACE);
        if ours {
            let subscriber = builder.event_format(Text::new(Fixed)).finish();
            tracing::subscriber::with_default(subscriber, emit);
        } else {
            let subscriber = builder.with_timer(Fixed).finish();
            tracing::subscriber::with_default(subscriber, emit);
        }
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn same(ansi: bool, emit: impl Fn()) -> String {
        let theirs = render(false, ansi, &emit);
        let ours = render(true, ansi, &emit);
        assert_eq!(ours, theirs);
        ours
    }

    fn methods() -> impl Strategy<Value = http::Method> {
        prop_oneof![
            Just(http::Method::GET),
            Just(http::Method::PATCH),
            Just(http::Method::OPTIONS),
            "[A-Za-z!#$%&'*+.^_`|~0-9-]{1,12}"
                .prop_map(|m| http::Method::from_bytes(m.as_bytes()).unwrap()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any values, printable or not, come out as the full format writes
        /// them.
        #[test]
        fn access_lines_are_the_full_formats_bytes(
            method in methods(),
            status in any::<u16>(),
            outcome in prop_oneof![Just(String::new()), Just("ok".to_owned()), any::<String>()],
            rejection in prop_oneof![Just(String::new()), "[ -~]{0,20}", any::<String>()],
            reason in prop_oneof![Just(String::new()), "[a-z_\"\\\\]{0,20}", "\\PC{0,8}"],
            elapsed_us in any::<u64>(),
        ) {
            let before = direct_lines();
            let line = same(false, || {
                Access {
                    method: &method,
                    route: "/picking-lists",
                    status,
                    outcome: &outcome,
                    rejection: &rejection,
                    reason: &reason,
                    elapsed_us,
                }
                .log()
            });
            prop_assert!(line.starts_with("T  INFO glue_gateway::access: request method="));
            prop_assert_eq!(direct_lines(), before + 1);
        }
    }

    #[test]
    fn known_stamps() {
        for (secs, micros, want) in [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 7, "2000-02-29T00:00:00.000007Z"),
            (1_709_164_799, 999_999, "2024-02-28T23:59:59.999999Z"),
            (1_796_391_224, 816_374, "2026-12-04T13:33:44.816374Z"),
            (4_107_542_400, 0, "2100-03-01T00:00:00.000000Z"),
            (LAST_FOUR_DIGIT_SECOND, 1, "9999-12-31T23:59:59.000001Z"),
        ] {
            assert_eq!(utc_micros(secs, micros).as_str().unwrap(), want, "{secs}");
        }
    }

    /// Both clocks read now: the same text but for the digits below the
    /// second (read again if a second boundary fell between them).
    #[test]
    fn the_clock_reads_as_tracing_subscribers() {
        let text = |t: &dyn FormatTime| {
            let mut s = String::new();
            t.format_time(&mut Writer::new(&mut s)).unwrap();
            s
        };
        let agreed = (0..5).any(|_| {
            let theirs = text(&tracing_subscriber::fmt::time::SystemTime);
            let ours = text(&UtcMicros);
            assert_eq!(ours.len(), theirs.len(), "{ours} / {theirs}");
            ours[..20] == theirs[..20] && ours.ends_with('Z')
        });
        assert!(agreed);
    }

    #[test]
    fn other_events_and_situations_take_the_full_format() {
        let method = http::Method::GET;
        let access = || {
            Access {
                method: &method,
                route: "/picking-lists",
                status: 403,
                outcome: "rejected",
                rejection: "scope",
                reason: "warehouse\u{1b}[31m",
                elapsed_us: 12,
            }
            .log()
        };
        // The access event's fields with another message, sanitized as the
        // full format sanitizes it: the direct path.
        let before = direct_lines();
        same(false, || {
            tracing::info!(
                target: ACCESS_TARGET,
                method = %method,
                route = "/",
                status = 1u16,
                outcome = "",
                rejection = "",
                reason = "",
                elapsed_us = 2u64,
                "re\u{1b}[2Jquest\u{7}\u{9b}\u{7f}\\ \""
            );
        });
        assert_eq!(direct_lines(), before + 1);
        // Colours on.
        same(true, access);
        // Inside a span.
        same(false, || {
            let span = tracing::info_span!("conn", peer = "127.0.0.1:1");
            span.in_scope(access);
        });
        // Another event of the access target, other events and levels.
        same(false, || {
            tracing::info!(target: ACCESS_TARGET, status = 200u16, "request");
            tracing::info!(target: ACCESS_TARGET, message = "re\u{1b}quest\u{9b}", status = 200u16);
            tracing::warn!(path = "/x", error = %"boom", "the private key file is readable");
            tracing::debug!(r#type = "x", n = -3i64, f = 1.5f64, yes = true);
        });
        assert_eq!(direct_lines(), before + 1);
    }
}

//! `glue-gateway`: a ready Spryker Glue Backend API authentication gateway.
//!
//! `POST /token` and `POST /warehouse-tokens`, bearer validation and Spryker's
//! per-route scopes, in front of a built-in demo picking-lists service or an
//! upstream Glue backend (`--upstream`). See `docs/operations.md`.

#![forbid(unsafe_code)]

mod admin;
mod app;
mod assignments;
mod body;
mod civil;
mod config;
mod demo;
mod files;
mod keys;
mod logformat;
mod logwriter;
mod observe;
mod openapi;
mod proxy;
mod reads;
mod screen;
mod server;
mod stack;
mod stores;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, Settings};

/// Exit code for configuration errors (as for usage errors).
const EXIT_CONFIG: u8 = 2;

/// The last start-up line on stdout.
const READY_LINE: &str = "glue-gateway ready";

/// The log pipeline: events are formatted on the request's thread and
/// appended to a buffer that one writer thread writes to stderr in batches
/// (`logwriter`: no wake-up per line; lossy past 8 MiB waiting, counted in
/// `glue_gateway_log_lines_dropped_total`). The guard writes what is left
/// when it is dropped, at exit.
fn init_logging(s: &Settings, default: &str) -> (logwriter::LogGuard, logwriter::LogWriter) {
    let filter = match &s.log {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
    };
    let (writer, guard) = match logwriter::spawn(std::io::stderr()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("glue-gateway: cannot start the log writer thread: {e}");
            std::process::exit(1);
        }
    };
    let dropped = writer.clone();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    if s.log_json {
        builder.json().flatten_event(true).init();
    } else {
        builder
            .event_format(logformat::Text::new(logformat::UtcMicros))
            .init();
    }
    (guard, dropped)
}

fn install_metrics(enabled: bool) -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    if !enabled {
        return None;
    }
    let buckets = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let builder = metrics_exporter_prometheus::PrometheusBuilder::new();
    let builder = match builder.set_buckets(&buckets) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "metrics disabled");
            return None;
        }
    };
    match builder.install_recorder() {
        Ok(handle) => Some(handle),
        Err(e) => {
            tracing::warn!(error = %e, "metrics disabled");
            None
        }
    }
}

/// Whether the demo user can log in (for the start-up hint and warning).
async fn demo_user_active(settings: &Settings, stores: &stores::Stores) -> bool {
    use glue_auth_token::store::UserStatus;
    match (&settings.database.url, stores.sql()) {
        (config::DatabaseUrl::Memory, _) => true,
        (_, Some(store)) => matches!(
            store.user("sonia@spryker.com").await,
            Ok(Some(u)) if u.status == UserStatus::Active
        ),
        _ => false,
    }
}

fn config_error(e: &ConfigError) -> ExitCode {
    eprintln!("glue-gateway: configuration error: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn main() -> ExitCode {
    let cli = config::Cli::parse();
    let settings = match config::load(cli.config.as_deref(), cli.options) {
        Ok(s) => s,
        Err(e) => return config_error(&e),
    };
    // Admin commands talk on stdout; their logs stay quiet unless asked.
    let (_log_guard, dropped_log_lines) = init_logging(
        &settings,
        if cli.command.is_some() {
            "warn"
        } else {
            "info"
        },
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("glue-gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match cli.command {
        Some(command) => runtime.block_on(admin::run(settings, command)),
        None => runtime.block_on(start(settings, dropped_log_lines)),
    };
    // Connections are closed by now (within `shutdown_timeout`); a password
    // verification still running on the blocking pool must not hold the
    // exit (dropping the runtime would wait for it).
    runtime.shutdown_timeout(SHUTDOWN_BLOCKING_GRACE);
    code
}

/// How long the exit waits for blocking work (bcrypt) still running after
/// the connections are closed.
const SHUTDOWN_BLOCKING_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

async fn start(mut settings: Settings, dropped_log_lines: logwriter::LogWriter) -> ExitCode {
    // Before anything slow: a SIGHUP must not kill a starting gateway, and a
    // SIGTERM while the database is retried stops it cleanly.
    let mut signals = server::Signals::install();
    let material = match keys::load(&settings) {
        Ok(m) => m,
        Err(e) => return config_error(&e),
    };
    if material.dev {
        let dir = settings.data_dir.display();
        if material.generated {
            tracing::warn!(
                path = %settings.data_dir.join(keys::DEV_PRIVATE).display(),
                "generated a DEVELOPMENT RSA key pair"
            );
        }
        tracing::warn!(
            "!!! USING THE DEVELOPMENT KEY PAIR IN {dir}: tokens are signed with a key that \
             is not yours to trust. Set PRIVATE_KEY_PATH and PUBLIC_KEY_PATH (or \
             SPRYKER_OAUTH_KEY_PRIVATE / SPRYKER_OAUTH_KEY_PUBLIC) for anything but a demo. !!!"
        );
    }
    let metrics = install_metrics(settings.metrics);
    if let Some(handle) = &metrics {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
    }
    let opened = tokio::select! {
        opened = stores::Stores::open(&settings.database, &settings.client_ids) => opened,
        signal = signals.shutdown() => {
            tracing::info!(signal, "stopped while opening the stores");
            return ExitCode::SUCCESS;
        }
    };
    let stores = match opened {
        Ok(s) => s,
        Err(stores::OpenError::Config(e)) => return config_error(&e),
        Err(stores::OpenError::Database(e)) => {
            tracing::error!(database = %settings.database.url, error = %e, "cannot open the database");
            eprintln!(
                "glue-gateway: cannot open the database {}: {e}",
                settings.database.url
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        store = stores.kind(),
        database = %settings.database.url,
        source = settings.database.source,
        "stores open"
    );
    // The dummy hash of unknown users costs what the stored hashes cost.
    let (cost, cost_source) = match (settings.database.password_cost, stores.sql()) {
        (Some(c), _) => (c, "password_cost"),
        (None, Some(store)) => (store.password_cost(), "the stored hashes"),
        (None, None) => (settings.hashing.password_cost, "the default"),
    };
    settings.hashing.password_cost = cost;
    tracing::info!(
        password_cost = cost,
        source = cost_source,
        "dummy hash and admin commands use this bcrypt cost"
    );
    #[cfg(feature = "redis")]
    let redis = match &settings.redis {
        Some(r) => match app::redis_throttle(&settings, r) {
            Ok(t) => {
                if let Err(e) = t.connect().await {
                    tracing::warn!(
                        redis = t.url(),
                        error = %e,
                        "login throttle: Redis does not answer at start; failed logins are counted \
                         in this process until it does"
                    );
                }
                Some(t)
            }
            Err(e) => return config_error(&e),
        },
        None => None,
    };
    let demo_users = demo_user_active(&settings, &stores).await;
    if demo_users && stores.sql().is_some() {
        tracing::warn!(
            "the demo user sonia@spryker.com (with the published demo password) is active in the database: \
             block it (`glue-gateway user block sonia@spryker.com`) before going live"
        );
    }
    let gateway = match app::Gateway::new(
        settings.clone(),
        material.clone(),
        stores,
        #[cfg(feature = "redis")]
        redis,
        metrics,
        Some(dropped_log_lines),
    ) {
        Ok(g) => g,
        Err(e) => return config_error(&e),
    };
    if let Some(jwks) = &settings.jwks {
        // Verify-only behind another gateway: serve once its keys are here,
        // or after the wait with none (every token 401 until they arrive).
        if !gateway.keys_ready(settings.request_timeout).await {
            tracing::error!(
                jwks_url = %jwks.url,
                "no keys from the JWKS URL yet; tokens are refused until they arrive"
            );
        }
    }
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            return config_error(&ConfigError::new(
                "listen",
                format!("cannot listen on {}: {e}", settings.listen),
            ));
        }
    };
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("glue-gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listen = %local,
        mode = if settings.upstream.is_some() { "upstream" } else { "demo" },
        upstream = settings.upstream.as_ref().map(ToString::to_string),
        issues_tokens = gateway.issues_tokens(),
        keys = material.verify.len(),
        jwks_url = settings.jwks.as_ref().map(|j| j.url.as_str()),
        "glue-gateway ready"
    );
    {
        // A parseable line for scripts and tests, then a hint for humans,
        // then a marker: whatever start-up prints on stdout comes before it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "glue-gateway listening on http://{local}");
        if demo_users && gateway.issues_tokens() {
            let _ = writeln!(
                out,
                "try: curl -s -X POST http://{local}/token -d 'grant_type=password&username=sonia@spryker.com&password=change123'"
            );
        }
        let _ = writeln!(out, "{READY_LINE}");
        let _ = out.flush();
    }
    match server::run(settings, listener, gateway, signals).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

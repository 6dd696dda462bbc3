//! PostgreSQL test databases: `GLUE_TEST_DATABASE_URL` names a server (run
//! the tests through `scripts/with-postgres.sh` to get a throw-away one);
//! without it, PostgreSQL tests print a notice and pass as skipped.

use std::process::Command;

use sqlx::Connection;

/// The server's URL, or `None` (and a notice) when no server is configured.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("GLUE_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED {test}: GLUE_TEST_DATABASE_URL is not set \
                 (run through scripts/with-postgres.sh to test against PostgreSQL)"
            );
            None
        }
    }
}

/// `url` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{host}/{name}?{q}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Creates a database with a random name on the server; returns its URL.
pub fn create_database(server: &str, tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut random = [0u8; 4];
    let _ = aws_lc_rs::rand::fill(&mut random);
    let name = format!(
        "glue_gw_{tag}_{}_{nanos}_{}",
        std::process::id(),
        u32::from_le_bytes(random)
    );
    block_on(async {
        let mut conn = sqlx::PgConnection::connect(server).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    with_database(server, &name)
}

/// Runs one query returning a single integer.
pub fn scalar(url: &str, sql: &str) -> i64 {
    block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        n
    })
}

/// `pg_ctl -D $PGDATA ARGS`, as the user the server runs as; `None` when the
/// server is not ours to control (no `PGDATA` / `GLUE_PG_BIN`).
pub fn pg_ctl(args: &[&str]) -> Option<bool> {
    let bin = std::env::var("GLUE_PG_BIN").ok()?;
    let data = std::env::var("PGDATA").ok()?;
    let user = std::env::var("GLUE_PG_USER").unwrap_or_default();
    let pg_ctl = format!("{bin}/pg_ctl");
    let mut cmd = if user.is_empty() {
        Command::new(&pg_ctl)
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &pg_ctl]);
        c
    };
    cmd.args(["-D", &data]).args(args);
    cmd.stdout(std::process::Stdio::null());
    Some(cmd.status().map(|s| s.success()).unwrap_or(false))
}

/// Starts the server (after a `stop`).
pub fn start_server() -> bool {
    let log = std::env::var("GLUE_PG_LOG").unwrap_or_else(|_| "/dev/null".into());
    pg_ctl(&["-l", &log, "-w", "-t", "30", "start"]).unwrap_or(false)
}

/// Whether the tests may stop and start the server.
pub fn server_control(test: &str) -> bool {
    if std::env::var("PGDATA").is_err() || std::env::var("GLUE_PG_BIN").is_err() {
        eprintln!(
            "SKIPPED {test}: PGDATA / GLUE_PG_BIN not set (run through scripts/with-postgres.sh)"
        );
        return false;
    }
    true
}

/// Starts the server again if a failed assertion left it stopped.
pub struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        if pg_ctl(&["status"]) == Some(false) {
            start_server();
        }
    }
}

/// Runs SQL statements (a script) on the database.
pub fn execute(url: &str, sql: &'static str) {
    block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    })
}

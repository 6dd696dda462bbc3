//! MariaDB/MySQL test databases: `GLUE_TEST_MYSQL_URL` names a server (run
//! the tests through `scripts/with-mariadb.sh` to get a throw-away one);
//! without it, MariaDB tests print a notice and pass as skipped.

#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use sqlx::Connection;

/// The server's URL, or `None` (and a notice) when no server is configured.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("GLUE_TEST_MYSQL_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED {test}: GLUE_TEST_MYSQL_URL is not set \
                 (run through scripts/with-mariadb.sh to test against MariaDB)"
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
    let (scheme, rest) = base.split_once("://").expect("a mysql:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{host}/{name}?{q}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}

/// A connection to `url` (a `mariadb://` URL as `mysql://`).
pub async fn connect(url: &str) -> sqlx::MySqlConnection {
    let url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    };
    sqlx::MySqlConnection::connect(&url).await.unwrap()
}

/// Creates a database with a random name (and `options`, e.g. a character
/// set); returns its URL.
pub async fn create_database_with(server: &str, tag: &str, options: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("glue_test_{tag}_{}_{nanos}", std::process::id());
    let mut conn = connect(server).await;
    sqlx::raw_sql(&format!("CREATE DATABASE `{name}` {options}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    with_database(server, &name)
}

/// Creates a database with a random name; returns its URL.
pub async fn create_database(server: &str, tag: &str) -> String {
    create_database_with(server, tag, "").await
}

/// One database for the whole test binary, created on first use (on a
/// runtime of its own: every `#[tokio::test]` has its own runtime, and
/// connections must not outlive theirs).
pub fn binary_database(tag: &'static str) -> Option<String> {
    static DB: OnceLock<Option<String>> = OnceLock::new();
    DB.get_or_init(|| {
        let server = server_url(tag)?;
        let url = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(create_database(&server, tag))
        })
        .join()
        .unwrap();
        Some(url)
    })
    .clone()
}

#[test]
fn database_names_are_swapped() {
    assert_eq!(
        with_database("mysql://u:p@127.0.0.1:5/glue", "x"),
        "mysql://u:p@127.0.0.1:5/x"
    );
    assert_eq!(
        with_database("mariadb://u@h/db?ssl-mode=disabled", "y"),
        "mariadb://u@h/y?ssl-mode=disabled"
    );
}

//! MariaDB/MySQL test databases: `GLUE_TEST_MYSQL_URL` names a server (run
//! the tests through `scripts/with-mariadb.sh` to get a throw-away one);
//! without it, MariaDB tests print a notice and pass as skipped.

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

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `mysql://` for sqlx (`mariadb://` is the gateway's synonym).
pub fn sqlx_url(url: &str) -> String {
    match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    }
}

/// Creates a database with a random name on the server; returns its URL.
pub fn create_database(server: &str, tag: &str) -> String {
    create_database_with(server, tag, "")
}

/// [`create_database`] with options (`CHARACTER SET utf8`: Spryker's).
pub fn create_database_with(server: &str, tag: &str, options: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("glue_gw_{tag}_{}_{nanos}", std::process::id());
    block_on(async {
        let mut conn = sqlx::MySqlConnection::connect(&sqlx_url(server))
            .await
            .unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE `{name}` {options}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a mysql:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{host}/{name}?{q}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}

/// Runs SQL statements (several, `;`-separated) on `url`.
pub fn execute(url: &str, sql: &'static str) {
    block_on(async {
        let mut conn = sqlx::MySqlConnection::connect(&sqlx_url(url))
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    })
}

/// The first column of the first row of a query, as an integer.
pub fn scalar(url: &str, sql: &str) -> i64 {
    block_on(async {
        let mut conn = sqlx::MySqlConnection::connect(&sqlx_url(url))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        n
    })
}

//! The gateway on an existing Spryker MariaDB database (a fresh one per
//! test on the server `GLUE_TEST_MYSQL_URL` names; skipped with a notice
//! without it): Spryker's tables as Propel makes them for MySQL, PHP-made
//! `$2y$` hashes. Login, warehouse token, and one winner among 32 concurrent
//! refreshes through two instances. And a start from Spryker's
//! `SPRYKER_DB_*` variables alone, on MariaDB and on PostgreSQL.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;

const SPRYKER_MYSQL: &str =
    include_str!("../../glue-auth-sql/tests/fixtures/spryker_schema_mysql.sql");
const SPRYKER_PG: &str = include_str!("../../glue-auth-sql/tests/fixtures/spryker_schema.sql");

/// A fresh database with Spryker's tables and data (utf8, as Spryker
/// creates it).
fn spryker_mariadb(server: &str, tag: &str) -> String {
    let url = my::create_database_with(server, tag, "CHARACTER SET utf8");
    my::execute(&url, SPRYKER_MYSQL);
    url
}

#[test]
fn gateway_on_an_existing_spryker_mariadb_database() {
    let Some(server) = my::server_url("gateway_on_an_existing_spryker_mariadb_database") else {
        return;
    };
    let url = spryker_mariadb(&server, "spryker");
    let tables = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE()";
    let before = my::scalar(&url, tables);
    let args = [
        "--database-url",
        url.as_str(),
        "--database-layout",
        "spryker",
        "--refresh-grant",
        // 31 losers from one address: throttling is not under test here.
        "--throttle-per-address",
        "0",
        "--throttle-per-username",
        "0",
        "--database-max-connections",
        "16",
        "--database-acquire-timeout",
        "10",
    ];
    let a = Gateway::start(&args);
    let data = a.dir.path().join("data");
    let private = data.join("dev-private.pem").display().to_string();
    let public = data.join("dev-public.pem").display().to_string();
    let mut args_b = args.to_vec();
    args_b.extend_from_slice(&["--private-key-path", &private, "--public-key-path", &public]);
    let b = Gateway::start(&args_b);
    for gw in [&a, &b] {
        let h = gw.get("/healthz").send().json();
        assert_eq!(
            (h["store"].as_str(), h["database"].as_str()),
            (Some("mysql"), Some("ok")),
            "{h}"
        );
        // The dummy hash takes the cost of the shop's hashes.
        assert!(
            gw.stderr().contains("password_cost=10") && gw.stderr().contains("the stored hashes"),
            "{}",
            gw.stderr()
        );
    }

    // Login against the PHP-made $2y$ hash, then a warehouse token.
    let login = a.login_as(DEMO_USER, DEMO_PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text());
    let user = login.json()["access_token"].as_str().unwrap().to_owned();
    let wh = b.warehouse_token(&user);
    assert_eq!(b.get("/picking-lists").bearer(&wh).send().status, 200);
    // Harald is blocked (status 1) in the shop.
    assert_eq!(b.login_as("harald@spryker.com", DEMO_PASSWORD).status, 400);

    // 32 concurrent redemptions of one refresh token, half through each.
    let refresh = login.json()["refresh_token"].as_str().unwrap().to_owned();
    const N: usize = 32;
    let barrier = Arc::new(Barrier::new(N));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let addr = if i % 2 == 0 { a.addr } else { b.addr };
            let barrier = Arc::clone(&barrier);
            let body = format!("grant_type=refresh_token&refresh_token={refresh}");
            thread::spawn(move || {
                let req = Req {
                    addr,
                    method: "POST".into(),
                    path: "/token".into(),
                    headers: vec![(
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    )],
                    body: body.into_bytes(),
                }
                .encode();
                barrier.wait();
                (i % 2, send_raw(addr, &req))
            })
        })
        .collect();
    let results: Vec<(usize, Res)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<&(usize, Res)> = results.iter().filter(|(_, r)| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        results
            .iter()
            .map(|(i, r)| (i, r.status, r.text()))
            .collect::<Vec<_>>()
    );
    for (_, r) in results.iter().filter(|(_, r)| r.status != 200) {
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(r.json()[0]["code"], "invalid_grant", "{}", r.text());
    }
    let served: [usize; 2] = [0, 1].map(|k| results.iter().filter(|(i, _)| *i == k).count());
    eprintln!(
        "32 refreshes ({} through a, {} through b): winner through {}",
        served[0],
        served[1],
        if winners[0].0 == 0 { "a" } else { "b" }
    );
    let access = winners[0].1.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for gw in [&a, &b] {
        assert!(!gw.warehouse_token(&access).is_empty());
    }
    // Nothing created or altered in Spryker's schema.
    assert_eq!(my::scalar(&url, tables), before);
}

/// `scheme://user[:password]@host:port/db` → (user, password, host, port,
/// db).
fn parts(url: &str) -> (String, String, String, String, String) {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.split('?').next().unwrap();
    let (userinfo, rest) = rest.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (hostport, db) = rest.split_once('/').unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    (
        user.to_owned(),
        password.to_owned(),
        host.to_owned(),
        port.to_owned(),
        db.to_owned(),
    )
}

/// Starts a gateway with only Spryker's database variables (no
/// `DATABASE_URL`, no layout setting) and logs in.
fn start_from_spryker_variables(engine: &str, url: &str, store: &str) {
    let (user, password, host, port, db) = parts(url);
    let env = [
        ("SPRYKER_DB_ENGINE", engine),
        ("SPRYKER_DB_HOST", host.as_str()),
        ("SPRYKER_DB_PORT", port.as_str()),
        ("SPRYKER_DB_DATABASE", db.as_str()),
        ("SPRYKER_DB_USERNAME", user.as_str()),
        ("SPRYKER_DB_PASSWORD", password.as_str()),
    ];
    let gw = Gateway::start_with(&[], &env);
    let h = gw.get("/healthz").send().json();
    assert_eq!(
        (h["store"].as_str(), h["database"].as_str()),
        (Some(store), Some("ok")),
        "{h}"
    );
    let log = gw.stderr();
    assert!(log.contains("SPRYKER_DB_*"), "{log}");
    if !password.is_empty() {
        assert!(!log.contains(&password), "the password is in the log");
    }
    let token = gw.login();
    assert!(!gw.warehouse_token(&token).is_empty());
}

#[test]
fn spryker_db_variables_alone_connect_to_mariadb_and_postgresql() {
    const TEST: &str = "spryker_db_variables_alone_connect_to_mariadb_and_postgresql";
    if let Some(server) = my::server_url(TEST) {
        let url = spryker_mariadb(&server, "spryker_env");
        start_from_spryker_variables("mysql", &url, "mysql");
    }
    if let Some(server) = pg::server_url(TEST) {
        let url = pg::create_database(&server, "spryker_env");
        pg::execute(&url, SPRYKER_PG);
        start_from_spryker_variables("pgsql", &url, "postgres");
    }
}

//! Two gateway processes on one PostgreSQL database (a fresh one per test,
//! on the server `GLUE_TEST_DATABASE_URL` names; skipped with a notice
//! without it): one refresh token redeemed concurrently through both
//! instances has exactly one winner, and a user blocked through one
//! instance's admin command cannot log in through the other.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;

/// Starts two instances on `url` sharing one key pair (the first one's dev
/// keys), as a scaled-out deployment would.
fn two_instances(url: &str, extra: &[&str]) -> (Gateway, Gateway) {
    let mut args = vec!["--database-url", url, "--database-seed-demo"];
    args.extend_from_slice(extra);
    let a = Gateway::start(&args);
    let data = a.dir.path().join("data");
    let private = data.join("dev-private.pem").display().to_string();
    let public = data.join("dev-public.pem").display().to_string();
    let mut args_b = args.clone();
    args_b.extend_from_slice(&["--private-key-path", &private, "--public-key-path", &public]);
    let b = Gateway::start(&args_b);
    (a, b)
}

#[test]
fn concurrent_refreshes_through_two_instances_have_one_winner() {
    let Some(server) = pg::server_url("concurrent_refreshes_through_two_instances") else {
        return;
    };
    let url = pg::create_database(&server, "refresh");
    let (a, b) = two_instances(
        &url,
        &[
            "--refresh-grant",
            // 31 losers from one address: throttling is not under test here.
            "--throttle-per-address",
            "0",
            "--throttle-per-username",
            "0",
            // 16 concurrent redemptions per instance: a connection each, and
            // time to wait for one on a loaded machine (not under test either).
            "--database-max-connections",
            "16",
            "--database-acquire-timeout",
            "10",
        ],
    );
    for gw in [&a, &b] {
        let h = gw.get("/healthz").send().json();
        assert_eq!(
            (h["store"].as_str(), h["database"].as_str()),
            (Some("postgres"), Some("ok"))
        );
    }

    let login = a.login_as(DEMO_USER, DEMO_PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text());
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
    eprintln!(
        "winner through instance {}",
        if winners[0].0 == 0 { "a" } else { "b" }
    );
    // Validation is stateless: the winner's access token works on both
    // instances (same key set).
    let access = winners[0].1.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for gw in [&a, &b] {
        assert_eq!(gw.get("/picking-lists").bearer(&access).send().status, 200);
    }
    // The replay revoked the family: the winner's new refresh token is dead
    // too (on either instance).
    let next = winners[0].1.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = b.refresh(&next);
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(
        pg::scalar(
            &url,
            "SELECT COUNT(*) FROM spy_oauth_refresh_token WHERE revoked_at IS NULL"
        ) == 0
    );
}

#[test]
fn a_user_blocked_through_one_instance_cannot_log_in_through_the_other() {
    let Some(server) = pg::server_url("a_user_blocked_through_one_instance") else {
        return;
    };
    let url = pg::create_database(&server, "block");
    let (a, b) = two_instances(&url, &[]);
    // The admin commands of instance a: its data directory, the database URL
    // from the environment as an operator would set it.
    let env = [("DATABASE_URL", url.as_str())];
    let admin_a = |args: &[&str], stdin: &str| admin(a.dir.path(), args, &env, stdin);

    // A warehouse user: Glue assigns warehouses to those only (5202).
    admin_a(
        &[
            "user",
            "add",
            "kim@example.com",
            "--password-stdin",
            "--warehouse-user",
        ],
        "kim-pass-9-long\n",
    )
    .ok();
    admin_a(&["warehouse", "assign", "kim@example.com", "1"], "").ok();
    // Added through a, logs in through b, and gets a warehouse token there.
    let res = b.login_as("kim@example.com", "kim-pass-9-long");
    assert_eq!(res.status, 200, "{}", res.text());
    let user_token = res.json()["access_token"].as_str().unwrap().to_owned();
    let wh = b.warehouse_token(&user_token);
    assert_eq!(a.get("/picking-lists").bearer(&wh).send().status, 200);

    admin_a(&["user", "block", "kim@example.com"], "").ok();
    for gw in [&b, &a] {
        let res = gw.login_as("kim@example.com", "kim-pass-9-long");
        assert_eq!(res.status, 400, "{}", res.text());
        assert_eq!(res.json()[0]["code"], "invalid_grant");
    }
    // Other users are untouched; unblocking works across instances too.
    assert_eq!(b.login_as(DEMO_USER, DEMO_PASSWORD).status, 200);
    admin_a(&["user", "unblock", "kim@example.com"], "").ok();
    assert_eq!(b.login_as("kim@example.com", "kim-pass-9-long").status, 200);
    // Issued access tokens were logged in the shared database.
    assert!(pg::scalar(&url, "SELECT COUNT(*) FROM spy_oauth_access_token") >= 4);
}

#[test]
fn gateway_on_an_existing_spryker_database() {
    let Some(server) = pg::server_url("gateway_on_an_existing_spryker_database") else {
        return;
    };
    let url = pg::create_database(&server, "spryker");
    // Spryker's tables and data, as a shop has them (PHP-made $2y$ hashes,
    // Propel's integer status, a refresh token Spryker wrote itself).
    pg::execute(
        &url,
        include_str!("../../glue-auth-sql/tests/fixtures/spryker_schema.sql"),
    );
    let columns = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public'";
    let before = pg::scalar(&url, columns);

    // Without the layout setting the gateway refuses to migrate over it
    // (sqlx leaves its bookkeeping table `_sqlx_migrations` behind).
    let (status, stderr) = run_to_exit(&["--database-url", &url], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`database_layout`"), "{stderr}");
    assert_eq!(
        pg::scalar(
            &url,
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        ),
        before
    );
    let before = pg::scalar(&url, columns);

    let gw = Gateway::start(&[
        "--database-url",
        &url,
        "--database-layout",
        "spryker",
        "--refresh-grant",
    ]);
    let login = gw.login_as(DEMO_USER, DEMO_PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text());
    let user = login.json()["access_token"].as_str().unwrap().to_owned();
    let wh = gw.warehouse_token(&user);
    assert_eq!(gw.get("/picking-lists").bearer(&wh).send().status, 200);
    let refresh = login.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(gw.refresh(&refresh).status, 200);
    // Harald is blocked (status 1) in the shop.
    let res = gw.login_as("harald@spryker.com", DEMO_PASSWORD);
    assert_eq!(res.status, 400, "{}", res.text());

    // The admin commands work on Spryker's tables too.
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("GLUE_GATEWAY_DATABASE_LAYOUT", "spryker"),
    ];
    admin(
        gw.dir.path(),
        &["user", "unblock", "harald@spryker.com"],
        &env,
        "",
    )
    .ok();
    assert_eq!(gw.login_as("harald@spryker.com", DEMO_PASSWORD).status, 200);

    // Rows written Spryker's way; nothing created or altered.
    assert!(pg::scalar(&url, "SELECT COUNT(*) FROM spy_oauth_access_token") >= 3);
    assert_eq!(
        pg::scalar(
            &url,
            "SELECT COUNT(*) FROM spy_oauth_refresh_token WHERE length(identifier) = 64"
        ),
        // sonia's login, her warehouse token, the rotation's successor,
        // harald's login after the unblock.
        4
    );
    assert_eq!(pg::scalar(&url, columns), before);
}

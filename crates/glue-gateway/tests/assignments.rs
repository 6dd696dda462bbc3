//! `/warehouse-user-assignments` end to end against the real binary, on
//! SQLite, PostgreSQL (`GLUE_TEST_DATABASE_URL`) and MariaDB
//! (`GLUE_TEST_MYSQL_URL`): every route × token kind (Back Office user,
//! warehouse user, warehouse token, none, bad) with Glue's statuses, codes
//! and messages; 16 concurrent activations leave one active; and the robot
//! flow (an admin assigns, the user exchanges, the admin deactivates, the
//! next exchange is 403 `5101`).

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use glue_auth_token::store::uuid_for;
use serde_json::{Value, json};
use sqlx::Connection;

const ROUTE: &str = "/warehouse-user-assignments";

/// A gateway on one database, and what its admin commands need.
struct Env {
    gw: Gateway,
    admin_env: Vec<(&'static str, String)>,
    /// `sqlite:…`, `postgres://…` or `mysql://…`, for raw SQL.
    sql_url: String,
    engine: &'static str,
}

impl Env {
    fn admin(&self, args: &[&str], stdin: &str) -> AdminRun {
        let env: Vec<(&str, &str)> = self
            .admin_env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        admin(self.gw.dir.path(), args, &env, stdin)
    }

    /// Adds a user; returns their uuid.
    fn add_user(&self, name: &str, warehouse_user: bool) -> String {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        if warehouse_user {
            args.push("--warehouse-user");
        }
        let run = self.admin(&args, "secret-pass-1\n");
        let out = run.ok();
        let uuid = out
            .split("uuid ")
            .nth(1)
            .and_then(|r| r.get(..36))
            .unwrap_or_else(|| panic!("no uuid in {out}"));
        uuid.to_owned()
    }

    fn login(&self, name: &str) -> String {
        let res = self.gw.login_as(name, "secret-pass-1");
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    fn execute(&self, sql: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            match self.engine {
                "sqlite" => {
                    let mut c = sqlx::SqliteConnection::connect(&self.sql_url)
                        .await
                        .unwrap();
                    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                }
                "postgres" => {
                    let mut c = sqlx::PgConnection::connect(&self.sql_url).await.unwrap();
                    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                }
                _ => {
                    let mut c = sqlx::MySqlConnection::connect(&self.sql_url).await.unwrap();
                    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                }
            }
        });
    }

    fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Res {
        let mut req = self
            .gw
            .req(method, path)
            .header("content-type", JSON_API)
            .header("accept", JSON_API);
        if let Some(t) = token {
            req = req.bearer(t);
        }
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        req.send()
    }
}

fn sqlite_env() -> Env {
    let gw = Gateway::start(&[]);
    let file = gw.dir.path().join("data").join("glue.db");
    Env {
        sql_url: format!("sqlite:{}", file.display()),
        gw,
        admin_env: Vec::new(),
        engine: "sqlite",
    }
}

fn server_env(engine: &'static str, url: String) -> Env {
    let gw = Gateway::start(&[
        "--database-url",
        &url,
        "--database-seed-demo",
        "--database-max-connections",
        "16",
        "--database-acquire-timeout",
        "10",
    ]);
    Env {
        gw,
        admin_env: vec![("DATABASE_URL", url.clone())],
        sql_url: if engine == "mysql" {
            my::sqlx_url(&url)
        } else {
            url
        },
        engine,
    }
}

fn pg_env(test: &str) -> Option<Env> {
    let server = pg::server_url(test)?;
    Some(server_env(
        "postgres",
        pg::create_database(&server, "assign"),
    ))
}

fn my_env(test: &str) -> Option<Env> {
    let server = my::server_url(test)?;
    Some(server_env("mysql", my::create_database(&server, "assign")))
}

/// Status, code and message of an error answer, either envelope.
fn glue_error(res: &Res) -> (u16, Option<String>, String) {
    let doc = res.json();
    let e = if doc.get("errors").is_some() {
        doc["errors"][0].clone()
    } else {
        doc[0].clone()
    };
    assert_eq!(e["status"], res.status, "{doc}");
    (
        res.status,
        e["code"].as_str().map(str::to_owned),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// What one token kind gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok(u16),
    Err(u16, Option<&'static str>, &'static str),
}

const BAD: Expect = Expect::Err(401, Some("001"), "Invalid access token.");
const NONE: Expect = Expect::Err(401, None, "Unauthorized request.");
/// The scope layer: a warehouse token, or a warehouse user on a method
/// outside their allowlist.
const SCOPE: Expect = Expect::Err(403, None, "Unauthorized request.");
const NOT_FOUND: Expect = Expect::Err(404, Some("5201"), "Warehouse user assignment not found.");

/// Token kinds, in the order each case sends them.
const KINDS: [&str; 5] = ["bad", "none", "warehouse", "warehouse-user", "back-office"];

fn check(
    env: &Env,
    tokens: &[Option<&str>; 5],
    case: &(&str, String, Option<String>, [Expect; 5]),
) -> Vec<Res> {
    let (method, path, body, expect) = case;
    let mut answers = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let res = env.send(method, path, *token, body.as_deref());
        let what = format!(
            "{} {method} {path} as {}: {}",
            env.engine,
            KINDS[i],
            res.text()
        );
        match expect[i] {
            Expect::Ok(status) => {
                assert_eq!(res.status, status, "{what}");
                if status != 204 {
                    assert_eq!(res.header("content-type"), Some(JSON_API), "{what}");
                }
            }
            Expect::Err(status, code, message) => {
                assert_eq!(
                    glue_error(&res),
                    (status, code.map(str::to_owned), message.to_owned()),
                    "{what}"
                );
            }
        }
        answers.push(res);
    }
    answers
}

fn body(user: &str, warehouse: &str, active: Value) -> String {
    json!({"data": {"type": "warehouse-user-assignments", "attributes": {
        "userUuid": user, "warehouse": {"uuid": warehouse}, "isActive": active}}})
    .to_string()
}

/// Every route × token kind, with Glue's answers.
fn route_matrix(env: &Env) {
    let w1 = uuid_for("spy_stock", 1);
    let w2 = uuid_for("spy_stock", 2);
    let picker = env.add_user("picker@example.com", true);
    let other = env.add_user("other@example.com", true);
    env.admin(&["warehouse", "assign", "picker@example.com", "1"], "")
        .ok();
    env.admin(
        &[
            "warehouse",
            "assign",
            "other@example.com",
            "2",
            "--inactive",
        ],
        "",
    )
    .ok();
    let bo = env.gw.login();
    let wu = env.login("picker@example.com");
    let wh = env.gw.warehouse_token(&wu);
    let tokens = [
        Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
        None,
        Some(wh.as_str()),
        Some(wu.as_str()),
        Some(bo.as_str()),
    ];
    // The uuids, as the warehouse user and the Back Office see them.
    let own = env.send("GET", ROUTE, Some(&wu), None).json();
    assert_eq!(own["data"].as_array().unwrap().len(), 1, "{own}");
    let own_id = own["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(own["data"][0]["attributes"]["userUuid"], picker);
    let filter = format!("{ROUTE}?filter[warehouse-user-assignments.userUuid]={other}");
    let theirs = env.send("GET", &filter, Some(&bo), None).json();
    let other_id = theirs["data"][0]["id"].as_str().unwrap().to_owned();

    let ok = Expect::Ok;
    let only_bo = |e: Expect| [BAD, NONE, SCOPE, SCOPE, e];
    let cases: Vec<(&str, String, Option<String>, [Expect; 5])> = vec![
        ("GET", ROUTE.into(), None, [BAD, NONE, SCOPE, ok(200), ok(200)]),
        ("GET", format!("{ROUTE}/"), None, [BAD, NONE, SCOPE, ok(200), ok(200)]),
        ("GET", format!("{ROUTE}/{own_id}"), None, [BAD, NONE, SCOPE, ok(200), ok(200)]),
        ("GET", format!("{ROUTE}/{other_id}"), None, [BAD, NONE, SCOPE, NOT_FOUND, ok(200)]),
        ("GET", format!("{ROUTE}/no-such-assignment"), None, [BAD, NONE, SCOPE, NOT_FOUND, NOT_FOUND]),
        (
            "PATCH",
            format!("{ROUTE}/{other_id}"),
            Some(r#"{"data":{"attributes":{"isActive":false}}}"#.into()),
            [BAD, NONE, SCOPE, NOT_FOUND, ok(200)],
        ),
        (
            "PATCH",
            format!("{ROUTE}/{own_id}"),
            Some(r#"{"data":{"type":"warehouse-user-assignments","attributes":{"isActive":"true"}}}"#.into()),
            [BAD, NONE, SCOPE, ok(200), ok(200)],
        ),
        (
            "PATCH",
            format!("{ROUTE}/no-such-assignment"),
            Some(r#"{"data":{"attributes":{"isActive":true}}}"#.into()),
            [BAD, NONE, SCOPE, NOT_FOUND, NOT_FOUND],
        ),
        ("POST", ROUTE.into(), Some(body(&other, &w1, json!(false))), only_bo(ok(201))),
        (
            "POST",
            ROUTE.into(),
            Some(body(&other, &w1, json!("false"))),
            only_bo(Expect::Err(400, Some("5206"), "Warehouse user assignment already exists.")),
        ),
        (
            "POST",
            ROUTE.into(),
            Some(body("no-such-user", &w1, json!(true))),
            only_bo(Expect::Err(400, Some("5202"), "User not found.")),
        ),
        (
            // The demo user is a Back Office user, not a warehouse user.
            "POST",
            ROUTE.into(),
            Some(body(DEMO_UUID, &w1, json!(true))),
            only_bo(Expect::Err(400, Some("5202"), "User not found.")),
        ),
        (
            "POST",
            ROUTE.into(),
            Some(body(&other, "no-such-warehouse", json!(true))),
            only_bo(Expect::Err(400, Some("5203"), "Warehouse not found.")),
        ),
        (
            "POST",
            ROUTE.into(),
            Some("not json".into()),
            only_bo(Expect::Err(400, None, "Request body is not valid JSON.")),
        ),
        (
            "POST",
            ROUTE.into(),
            Some(r#"{"data":{"type":"picking-lists","attributes":{}}}"#.into()),
            only_bo(Expect::Err(400, None, "`data.type` must be `warehouse-user-assignments`.")),
        ),
        (
            "PUT",
            format!("{ROUTE}/{other_id}"),
            Some("{}".into()),
            only_bo(Expect::Err(405, None, "Method not allowed.")),
        ),
        (
            "GET",
            format!("{ROUTE}?filter[isActive]=true"),
            None,
            [
                BAD,
                NONE,
                SCOPE,
                Expect::Err(400, Some("011"), "Unsupported `Filter` format is used. Please use `filter[resource.property]`"),
                Expect::Err(400, Some("011"), "Unsupported `Filter` format is used. Please use `filter[resource.property]`"),
            ],
        ),
    ];
    let mut created = None;
    for case in &cases {
        let answers = check(env, &tokens, case);
        if case.0 == "POST" && case.3[4] == ok(201) {
            created = Some(answers[4].json());
        }
    }

    // Shapes (Glue's formatter): a collection is an array with links, one
    // resource by id an object, a POST an object.
    let doc = env.send("GET", ROUTE, Some(&bo), None).json();
    let data = doc["data"].as_array().unwrap();
    assert!(data.len() >= 3, "{doc}");
    assert!(doc["links"]["self"].as_str().unwrap().ends_with(ROUTE));
    let mine = env.send("GET", ROUTE, Some(&wu), None).json();
    assert!(
        mine["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["attributes"]["userUuid"] == picker),
        "{mine}"
    );
    let created = created.unwrap();
    let a = &created["data"];
    assert!(a.is_object(), "{created}");
    assert_eq!(a["type"], "warehouse-user-assignments");
    assert_eq!(
        a["attributes"],
        json!({"userUuid": other, "isActive": false,
               "warehouse": {"uuid": w1, "name": "Warehouse1", "isActive": true}})
    );
    let new_id = a["id"].as_str().unwrap().to_owned();
    assert!(
        a["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{ROUTE}/{new_id}"))
    );
    let one = env
        .send("GET", &format!("{ROUTE}/{new_id}"), Some(&bo), None)
        .json();
    assert!(
        one["data"].is_object() && one.get("links").is_none(),
        "{one}"
    );
    // Filters.
    for (query, n) in [
        (
            format!("filter[warehouse-user-assignments.userUuid]={other}"),
            2,
        ),
        (
            format!(
                "filter[warehouse-user-assignments.userUuid]={other}&filter[warehouse-user-assignments.isActive]=true"
            ),
            0,
        ),
        (
            format!(
                "filter[warehouse-user-assignments.warehouseUuid]={w2}&filter[warehouse-user-assignments.userUuid]={other}"
            ),
            1,
        ),
        (
            format!("filter[warehouse-user-assignments.uuid]={new_id}"),
            1,
        ),
    ] {
        let doc = env
            .send("GET", &format!("{ROUTE}?{query}"), Some(&bo), None)
            .json();
        assert_eq!(doc["data"].as_array().unwrap().len(), n, "{query}: {doc}");
    }
    // Two broken rules: both errors, in Glue's order.
    let res = env.send(
        "POST",
        ROUTE,
        Some(&bo),
        Some(&body("no-such-user", "no-such-warehouse", json!(false))),
    );
    assert_eq!(res.status, 400);
    let doc = res.json();
    let codes: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["5202", "5203"], "{doc}");
    // Deleting: the Back Office may, a warehouse user may not (scope).
    for (token, status) in [(&wu, 403), (&bo, 204), (&bo, 404)] {
        let res = env.send("DELETE", &format!("{ROUTE}/{new_id}"), Some(token), None);
        assert_eq!(res.status, status, "{}", res.text());
    }
    // Bodies over the limit: 413, never 500.
    let huge = "x".repeat(1024 * 1024 + 10);
    let res = env.send("POST", ROUTE, Some(&bo), Some(&huge));
    assert_eq!(res.status, 413, "{}", res.text());

    // A user deleted since the token was issued: 403 5204 for the
    // collection, 404 5201 for one.
    let gone = env.add_user("gone@example.com", true);
    let gone_token = env.login("gone@example.com");
    env.execute(&format!("DELETE FROM spy_user WHERE uuid = '{gone}'"));
    let res = env.send("GET", ROUTE, Some(&gone_token), None);
    assert_eq!(
        glue_error(&res),
        (403, Some("5204".into()), "Operation is forbidden.".into())
    );
    let res = env.send("GET", &format!("{ROUTE}/{own_id}"), Some(&gone_token), None);
    assert_eq!(glue_error(&res).1.as_deref(), Some("5201"));
}

/// 16 concurrent `PATCH isActive=true` of 16 assignments of one user: all
/// 200, exactly one active afterwards.
fn concurrent_activations(env: &Env) {
    const N: usize = 16;
    let user = env.add_user("busy@example.com", true);
    let bo = env.gw.login();
    let mut ids = Vec::new();
    for i in 0..N {
        let id = 700 + i as i64;
        let name = format!("Busy{id}");
        env.admin(&["warehouse", "add", &name, "--id", &id.to_string()], "")
            .ok();
        let res = env.send(
            "POST",
            ROUTE,
            Some(&bo),
            Some(&body(&user, &uuid_for("spy_stock", id), json!(false))),
        );
        assert_eq!(res.status, 201, "{}", res.text());
        ids.push(res.json()["data"]["id"].as_str().unwrap().to_owned());
    }
    let barrier = Arc::new(Barrier::new(N));
    let addr = env.gw.addr;
    let handles: Vec<_> = ids
        .iter()
        .map(|id| {
            let req = Req {
                addr,
                method: "PATCH".into(),
                path: format!("{ROUTE}/{id}"),
                headers: vec![
                    ("content-type".into(), JSON_API.into()),
                    ("authorization".into(), format!("Bearer {bo}")),
                ],
                body: br#"{"data":{"attributes":{"isActive":true}}}"#.to_vec(),
            }
            .encode();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                send_raw(addr, &req)
            })
        })
        .collect();
    for h in handles {
        let res = h.join().unwrap();
        assert_eq!(res.status, 200, "{} {}", env.engine, res.text());
    }
    let query = format!(
        "{ROUTE}?filter[warehouse-user-assignments.userUuid]={user}&filter[warehouse-user-assignments.isActive]=true"
    );
    let doc = env.send("GET", &query, Some(&bo), None).json();
    assert_eq!(
        doc["data"].as_array().unwrap().len(),
        1,
        "{}: {doc}",
        env.engine
    );
}

/// The robot flow: an admin logs in and assigns a warehouse user, the user
/// exchanges their token, the admin deactivates the assignment, and the
/// user's next exchange is 403 5101 (the warehouse token they hold stays
/// valid until it expires, as in Glue).
fn robot_flow(env: &Env) {
    let robot = env.add_user("robot@example.com", true);
    let admin = env.gw.login();
    let res = env.send(
        "POST",
        ROUTE,
        Some(&admin),
        Some(&body(&robot, &uuid_for("spy_stock", 1), json!(true))),
    );
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["data"]["id"].as_str().unwrap().to_owned();
    let user = env.login("robot@example.com");
    let lists = env.send("GET", "/picking-lists", Some(&user), None).json();
    assert_eq!(lists["data"].as_array().unwrap().len(), 3, "{lists}");
    let wh = env.gw.warehouse_token(&user);
    assert_eq!(
        env.send("GET", "/picking-lists", Some(&wh), None).status,
        200
    );

    let res = env.send(
        "PATCH",
        &format!("{ROUTE}/{id}"),
        Some(&admin),
        Some(r#"{"data":{"attributes":{"isActive":false}}}"#),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["attributes"]["isActive"], false);
    let res = env.gw.post("/warehouse-tokens").bearer(&user).send();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(
        res.json(),
        json!([{"status": 403, "code": "5101", "message": "Operation is forbidden."}])
    );
    // This instance's cached reads followed the write at once.
    let lists = env.send("GET", "/picking-lists", Some(&user), None).json();
    assert_eq!(lists["data"], json!([]), "{lists}");
    // Issued warehouse tokens stay valid until they expire (Glue).
    assert_eq!(
        env.send("GET", "/picking-lists", Some(&wh), None).status,
        200
    );

    // Active again through the admin command, deleted through the API.
    env.admin(&["warehouse", "activate", &id], "").ok();
    assert_eq!(
        env.gw.post("/warehouse-tokens").bearer(&user).send().status,
        201
    );
    let res = env.send("DELETE", &format!("{ROUTE}/{id}"), Some(&admin), None);
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(res.body.is_empty());
    assert_eq!(
        env.gw.post("/warehouse-tokens").bearer(&user).send().status,
        403
    );
    // The admin command refuses with Glue's codes.
    let run = env.admin(&["warehouse", "deactivate", &id], "");
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("5201 Warehouse user assignment not found."),
        "{run:?}"
    );
    let run = env.admin(&["warehouse", "assign", DEMO_USER, "2"], "");
    assert!(run.stderr.contains("5202 User not found."), "{run:?}");
    let listed = env.admin(
        &["warehouse", "assignments", "--user", "robot@example.com"],
        "",
    );
    assert_eq!(listed.ok().lines().count(), 1, "{listed:?}");
}

fn all(env: Env) {
    route_matrix(&env);
    concurrent_activations(&env);
    robot_flow(&env);
}

#[test]
fn assignments_on_sqlite() {
    all(sqlite_env());
}

#[test]
fn assignments_on_postgres() {
    if let Some(env) = pg_env("assignments_on_postgres") {
        all(env);
    }
}

#[test]
fn assignments_on_mariadb() {
    if let Some(env) = my_env("assignments_on_mariadb") {
        all(env);
    }
}

#[test]
fn assignments_in_memory() {
    // memory: the demo data; no admin commands (they need a database).
    let gw = Gateway::start(&["--database-url", "memory:"]);
    let bo = gw.login();
    let doc = gw
        .get(ROUTE)
        .header("accept", JSON_API)
        .bearer(&bo)
        .send()
        .json();
    let data = doc["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{doc}");
    assert_eq!(data[0]["attributes"]["userUuid"], DEMO_UUID);
    assert_eq!(
        data[0]["attributes"]["warehouse"]["uuid"],
        uuid_for("spy_stock", 1)
    );
}

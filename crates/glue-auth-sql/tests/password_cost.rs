//! Password costs read from the database: a shop whose hashes are cost 12
//! (PHP 8.4's default) gets a cost-12 dummy hash, so that an unknown or
//! blocked user takes as long as a wrong password (username enumeration by
//! timing), and the admin operations hash at cost 12 too.
//!
//! The timing test is statistical like glue-auth-token's `tests/timing.rs`:
//! interleaved rounds of wrong password / unknown user / blocked user, the
//! median of each round's paired ratio compared to 1 (15 % tolerance). A
//! dummy of cost 10 against stored cost 12 gives a ratio of about 0.25.

use std::time::{Duration, Instant};

use bytes::Bytes;
use glue_auth_sql::{NewUser, SqlStore};
use glue_auth_token::{HashingSettings, SigningKey, ThrottleSettings, TokenServer};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceExt, service_fn};

const PASSWORD: &str = "correct horse battery";

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("glue.db").display());
    (dir, url)
}

/// Users `ann`, `bob` (blocked) and `cy` whose stored hashes have `costs`
/// (PHP's `$2y$` form); then a store connected without a set cost.
async fn database_with_costs(url: &str, costs: [u32; 3]) -> SqlStore {
    let setup = SqlStore::builder(url)
        .seed_demo(false)
        .password_cost(4)
        .connect()
        .await
        .unwrap();
    for name in ["ann@example.com", "bob@example.com", "cy@example.com"] {
        setup.add_user(NewUser::new(name, "x")).await.unwrap();
    }
    setup.block_user("bob@example.com").await.unwrap();
    setup.close().await;
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    for (name, cost) in ["ann@example.com", "bob@example.com", "cy@example.com"]
        .into_iter()
        .zip(costs)
    {
        let hash = bcrypt::hash_with_result(PASSWORD, cost)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        sqlx::query("UPDATE spy_user SET password = ? WHERE username = ?")
            .bind(hash)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    SqlStore::builder(url)
        .seed_demo(false)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_most_common_stored_cost_is_used_unless_one_is_set() {
    let (_dir, url) = temp_db();
    let store = database_with_costs(&url, [4, 5, 5]).await;
    assert_eq!(store.password_cost(), 5);
    // The admin operations hash at that cost.
    store
        .set_password("ann@example.com", "a new password")
        .await
        .unwrap();
    let ann = store.user("ann@example.com").await.unwrap().unwrap();
    assert_eq!(ann.password_hash.cost(), Some(5));
    assert!(ann.password_hash.expose().starts_with("$2y$05$"));
    store.close().await;
    // A set cost wins.
    let set = SqlStore::builder(&url)
        .seed_demo(false)
        .password_cost(6)
        .connect()
        .await
        .unwrap();
    assert_eq!(set.password_cost(), 6);
    // No hashes: 10.
    let (_dir2, empty) = temp_db();
    let none = SqlStore::builder(&empty)
        .seed_demo(false)
        .connect()
        .await
        .unwrap();
    assert_eq!(none.password_cost(), 10);
}

type Svc = tower::util::BoxCloneService<
    Request<Full<Bytes>>,
    Response<glue_auth_core::ResponseBody<Full<Bytes>>>,
    std::convert::Infallible,
>;

async fn login(app: &mut Svc, user: &str) -> u16 {
    let body = format!(
        "grant_type=password&username={}&password=wrong-password",
        user.replace('@', "%40")
    );
    let req = Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let res = app.ready().await.unwrap().call(req).await.unwrap();
    let status = res.status().as_u16();
    let _ = res.into_body().collect().await;
    status
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enumeration_timing_on_a_database_of_cost_12_hashes() {
    const COST: u32 = 12;
    let (_dir, url) = temp_db();
    let store = database_with_costs(&url, [COST; 3]).await;
    assert_eq!(store.password_cost(), COST);
    let server = TokenServer::builder(
        SigningKey::generate().unwrap(),
        store.clone(),
        store.clone(),
    )
    // As the gateway does: the dummy hash takes the stored cost.
    .hashing(HashingSettings {
        password_cost: store.password_cost(),
        ..HashingSettings::default()
    })
    .throttle(ThrottleSettings {
        per_username: 0,
        per_address: 0,
        ..ThrottleSettings::default()
    })
    .build()
    .unwrap();
    let inner = service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let mut app: Svc = tower::util::BoxCloneService::new(server.layer().layer(inner));

    // Warm up.
    login(&mut app, "ann@example.com").await;
    login(&mut app, "ghost@example.com").await;
    let (mut unknown, mut blocked, mut wrong) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..15 {
        let users = [
            "ann@example.com".to_owned(),
            format!("ghost{i}@example.com"),
            "bob@example.com".to_owned(),
        ];
        let mut took = [Duration::ZERO; 3];
        for k in 0..3 {
            let j = (i + k) % 3;
            let t = Instant::now();
            assert_eq!(login(&mut app, &users[j]).await, 400);
            took[j] = t.elapsed();
        }
        wrong.push(took[0]);
        unknown.push(took[1].as_secs_f64() / took[0].as_secs_f64());
        blocked.push(took[2].as_secs_f64() / took[0].as_secs_f64());
    }
    wrong.sort();
    let w = wrong[wrong.len() / 2];
    eprintln!("median wrong password at cost {COST}: {w:?}");
    for (name, ratios) in [("unknown", unknown), ("blocked", blocked)] {
        let ratio = median(ratios);
        eprintln!("median paired ratio {name}/wrong: {ratio:.3}");
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{name} user / wrong password at stored cost {COST}: {ratio:.3}"
        );
    }
}

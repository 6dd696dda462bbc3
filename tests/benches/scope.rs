//! Criterion bench `scope`: the per-request cost of the scope layer.
//!
//! - `check/*`: [`RouteTable::check`] on the Spryker preset, the whole
//!   decision the layer makes per request: an allowed picking-list read by a
//!   warehouse token, a refused item PATCH by the same token (rendering the
//!   refusal is not included), and an allowed request on the table's last
//!   route (the longest scan).
//! - `layer/allowed`: one call of the [`ScopeLayer`] service on an allowed
//!   request, inner service answering at once (request built outside the
//!   measurement).
//!
//! - `stack/allowed`: the whole authentication stack in the documented order —
//!   `BearerAuthLayer` (cache hit), `ScopeLayer::spryker()`, then
//!   `TokenEndpointLayer` (forwarding) — on `GET /picking-lists` with a valid
//!   user token, inner service answering at once; the comparison point of
//!   `scripts/load.sh`.
//!
//! Run: `cargo bench -p glue-auth-integration-tests --bench scope`.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use glue_auth_core::{Claims, Principal, RequestHead, Scopes, UserPrincipal, WarehousePrincipal};
use glue_auth_scope::{RouteTable, ScopeLayer};
use http::{Request, Response};
use tower::{Layer, Service};

const LIST: &str = "/picking-lists/7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b";

fn warehouse() -> Claims {
    Claims::builder(
        Principal::Warehouse(WarehousePrincipal::new(1)),
        Scopes::from_iter(["warehouse"]),
    )
    .build()
}

fn back_office() -> Claims {
    Claims::builder(
        Principal::User(UserPrincipal::new(
            4,
            "0d743cc3-a772-5145-971e-d4018ee7a489",
            None::<String>,
        )),
        Scopes::from_iter(["user", "back-office-user"]),
    )
    .build()
}

fn check(c: &mut Criterion) {
    let table = RouteTable::spryker_backend();
    let warehouse = warehouse();
    let back_office = back_office();
    let mut g = c.benchmark_group("check");

    let get = Request::get(LIST).body(()).unwrap();
    assert!(
        table
            .check(&RequestHead::of(&get), Some(&warehouse))
            .is_ok()
    );
    g.bench_function("allowed", |b| {
        b.iter(|| {
            table.check(
                black_box(&RequestHead::of(&get)),
                black_box(Some(&warehouse)),
            )
        })
    });

    let patch = Request::patch(format!("{LIST}/picking-list-items"))
        .body(())
        .unwrap();
    assert!(
        table
            .check(&RequestHead::of(&patch), Some(&warehouse))
            .is_err()
    );
    g.bench_function("refused", |b| {
        b.iter(|| {
            table.check(
                black_box(&RequestHead::of(&patch)),
                black_box(Some(&warehouse)),
            )
        })
    });

    let delete = Request::delete("/warehouse-user-assignments/4bb1f2a0")
        .body(())
        .unwrap();
    assert!(
        table
            .check(&RequestHead::of(&delete), Some(&back_office))
            .is_ok()
    );
    g.bench_function("allowed_last_route", |b| {
        b.iter(|| {
            table.check(
                black_box(&RequestHead::of(&delete)),
                black_box(Some(&back_office)),
            )
        })
    });
    g.finish();
}

/// Polls a future that is ready at once.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("not ready"),
    }
}

fn layer(c: &mut Criterion) {
    let mut svc = ScopeLayer::spryker().layer(tower::service_fn(|_req: Request<()>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(())))
    }));
    let claims = warehouse();
    let request = || {
        let mut req = Request::get(LIST).body(()).unwrap();
        req.extensions_mut().insert(claims.principal().clone());
        req.extensions_mut().insert(claims.clone());
        req
    };
    assert_eq!(now(svc.call(request())).unwrap().status(), 200);
    c.bench_function("layer/allowed", |b| {
        b.iter_batched(
            request,
            |req| {
                let ready = now(std::future::poll_fn(|cx| svc.poll_ready(cx)));
                ready.unwrap();
                now(svc.call(req))
            },
            BatchSize::SmallInput,
        )
    });
}

fn stack(c: &mut Criterion) {
    use glue_auth_bearer::{BearerAuthLayer, Validator};
    use glue_auth_token::{MemoryDirectory, SigningKey, TokenServer};

    let pem = std::fs::read(
        glue_auth_integration_tests::fixtures().join("foreign-signer/test-private.pem"),
    )
    .unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    let keys = key.key_set();
    let users = MemoryDirectory::demo();
    let tokens = TokenServer::builder(key, users.clone(), users)
        .build()
        .unwrap();
    let mut svc = tower::ServiceBuilder::new()
        .layer(BearerAuthLayer::new(Validator::new(keys)))
        .layer(ScopeLayer::spryker())
        .layer(tokens.layer())
        .service(tower::service_fn(|_req: Request<String>| {
            std::future::ready(Ok::<_, Infallible>(Response::new(String::new())))
        }));
    let token = glue_auth_integration_tests::sign(
        r#"{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#,
        r#"["user","back-office-user"]"#,
        3600,
    );
    let header = http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let request = || {
        Request::get("/picking-lists")
            .header(http::header::AUTHORIZATION, header.clone())
            .body(String::new())
            .unwrap()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let first = rt.block_on(async {
        std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
        svc.call(request()).await.unwrap()
    });
    assert_eq!(first.status(), 200);
    c.bench_function("stack/allowed", |b| {
        b.iter_batched(
            request,
            |req| {
                now(std::future::poll_fn(|cx| svc.poll_ready(cx))).unwrap();
                now(svc.call(req))
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, check, layer, stack);
criterion_main!(benches);

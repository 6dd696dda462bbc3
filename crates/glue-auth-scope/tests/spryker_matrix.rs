//! The Spryker suite preset (SPEC §5.2), row by row: every principal on every
//! route, with and without a trailing slash, in the plain and JSON:API
//! envelopes, with exact status and body.

mod common;

use bytes::Bytes;
use common::{Answer, authorize, echo, send, user, warehouse};
use glue_auth_core::{Claims, JSON_API, Rejection};
use glue_auth_scope::{ScopeLayer, SprykerBackend};
use http::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use tower::{Layer, service_fn};

/// The expected outcome of one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum E {
    /// Reaches the inner service.
    Ok,
    /// 401 "Unauthorized request." (no token).
    Ur401,
    /// 403 "Unauthorized request." (a token that does not fit; or no token with
    /// the older-release setting).
    Ur403,
    /// 403 "Authorization failed." (picking-list strategy).
    Af403,
}

use E::{Af403, Ok as Pass, Ur401, Ur403};

impl E {
    fn status(self) -> u16 {
        match self {
            Pass => 200,
            Ur401 => 401,
            Ur403 | Af403 => 403,
        }
    }

    fn plain_body(self) -> &'static str {
        match self {
            Pass => unreachable!(),
            Ur401 => r#"[{"status":401,"code":null,"message":"Unauthorized request."}]"#,
            Ur403 => r#"[{"status":403,"code":null,"message":"Unauthorized request."}]"#,
            Af403 => r#"[{"status":403,"code":null,"message":"Authorization failed."}]"#,
        }
    }

    fn json_api_body(self) -> &'static str {
        match self {
            Pass => unreachable!(),
            Ur401 => r#"{"errors":[{"status":401,"code":null,"message":"Unauthorized request."}]}"#,
            Ur403 => r#"{"errors":[{"status":403,"code":null,"message":"Unauthorized request."}]}"#,
            Af403 => r#"{"errors":[{"status":403,"code":null,"message":"Authorization failed."}]}"#,
        }
    }
}

const ID: &str = "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b";

/// The principals, in the column order of [`MATRIX`].
const WHO: [&str; 5] = [
    "user back-office-user",
    "user warehouse-user",
    "legacy user",
    "warehouse",
    "no token",
];

fn principals() -> [Option<Claims>; 5] {
    [
        Some(user(&["user", "back-office-user"])),
        Some(user(&["user", "warehouse-user"])),
        Some(user(&["user"])),
        Some(warehouse(1, &["warehouse"])),
        None,
    ]
}

/// method, path (`{id}` is replaced by [`ID`]), outcome per principal
/// (columns: back-office user, warehouse user, legacy user, warehouse, none).
const MATRIX: &[(&str, &str, [E; 5])] = &[
    // Picking lists: warehouse or user.
    ("GET", "/picking-lists", [Pass, Pass, Af403, Pass, Af403]),
    ("HEAD", "/picking-lists", [Pass, Pass, Af403, Pass, Af403]),
    (
        "GET",
        "/picking-lists/{id}",
        [Pass, Pass, Af403, Pass, Af403],
    ),
    (
        "POST",
        "/picking-lists/{id}/start-picking",
        [Pass, Pass, Af403, Pass, Af403],
    ),
    // User required + user scope, warehouse-user allowed.
    (
        "PATCH",
        "/picking-lists/{id}/picking-list-items",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    (
        "POST",
        "/warehouse-tokens",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    (
        "GET",
        "/warehouse-user-assignments",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    (
        "GET",
        "/warehouse-user-assignments/{id}",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    (
        "PATCH",
        "/warehouse-user-assignments",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    (
        "PATCH",
        "/warehouse-user-assignments/{id}",
        [Pass, Pass, Pass, Ur403, Ur401],
    ),
    // User required + user scope, warehouse-user refused.
    (
        "POST",
        "/warehouse-user-assignments",
        [Pass, Ur403, Pass, Ur403, Ur401],
    ),
    (
        "POST",
        "/warehouse-user-assignments/{id}",
        [Pass, Ur403, Pass, Ur403, Ur401],
    ),
    (
        "DELETE",
        "/warehouse-user-assignments",
        [Pass, Ur403, Pass, Ur403, Ur401],
    ),
    (
        "DELETE",
        "/warehouse-user-assignments/{id}",
        [Pass, Ur403, Pass, Ur403, Ur401],
    ),
    (
        "PUT",
        "/warehouse-user-assignments/{id}",
        [Pass, Ur403, Pass, Ur403, Ur401],
    ),
    // OPTIONS always passes.
    ("OPTIONS", "/picking-lists", [Pass; 5]),
    ("OPTIONS", "/picking-lists/{id}/start-picking", [Pass; 5]),
    (
        "OPTIONS",
        "/picking-lists/{id}/picking-list-items",
        [Pass; 5],
    ),
    ("OPTIONS", "/warehouse-tokens", [Pass; 5]),
    ("OPTIONS", "/warehouse-user-assignments/{id}", [Pass; 5]),
    // Public.
    ("POST", "/token", [Pass; 5]),
    // Not in the table: public by default.
    ("GET", "/picking-lists/{id}/unknown", [Pass; 5]),
    ("GET", "/warehouse-tokens", [Pass; 5]),
    ("GET", "/", [Pass; 5]),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Env {
    /// No `Content-Type`, no `Accept`.
    Plain,
    /// `Content-Type: application/vnd.api+json` (JSON:API for every method).
    ContentType,
    /// `Accept: application/vnd.api+json` (JSON:API for GET only).
    Accept,
}

fn request(method: &str, path: &str, env: Env, claims: Option<&Claims>) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    match env {
        Env::Plain => {}
        Env::ContentType => b = b.header(CONTENT_TYPE, JSON_API),
        Env::Accept => b = b.header(ACCEPT, JSON_API),
    }
    let mut req = b.body(Full::default()).unwrap();
    authorize(&mut req, claims);
    req
}

fn assert_answer(a: &Answer, method: &str, path: &str, env: Env, expect: E, ctx: &str) {
    assert_eq!(a.status, expect.status(), "{ctx}: {}", a.body);
    if expect == Pass {
        assert_eq!(a.body, format!("reached {method} {path}"), "{ctx}");
        assert!(a.rejection.is_none(), "{ctx}");
        return;
    }
    let json_api = env == Env::ContentType || (env == Env::Accept && method == "GET");
    let (body, ct) = if json_api {
        (expect.json_api_body(), JSON_API)
    } else {
        (expect.plain_body(), "application/json")
    };
    assert_eq!(a.body, body, "{ctx}");
    assert_eq!(a.headers[CONTENT_TYPE], ct, "{ctx}");
    // The typed reason travels in the response extensions.
    let rejection = a.rejection.as_ref().expect("rejection in extensions");
    match (expect, rejection) {
        (
            Ur401,
            Rejection::Unauthorized {
                status: StatusCode::UNAUTHORIZED,
                credentials: false,
                required_scope: Some(_),
            },
        ) => assert_eq!(a.headers[WWW_AUTHENTICATE], "Bearer", "{ctx}"),
        (
            Ur403,
            Rejection::Unauthorized {
                status: StatusCode::FORBIDDEN,
                required_scope: Some(_),
                ..
            },
        )
        | (
            Af403,
            Rejection::AuthorizationFailed {
                required_scope: Some(_),
                ..
            },
        ) => assert!(!a.headers.contains_key(WWW_AUTHENTICATE), "{ctx}"),
        _ => panic!("{ctx}: unexpected rejection {rejection:?}"),
    }
}

#[tokio::test]
async fn spryker_preset_matrix() {
    let app = ScopeLayer::spryker().layer(service_fn(echo));
    let principals = principals();
    let mut checked = 0;
    for &(method, pattern, expected) in MATRIX {
        let path = pattern.replace("{id}", ID);
        let slashed = if path == "/" {
            path.clone()
        } else {
            format!("{path}/")
        };
        for (col, claims) in principals.iter().enumerate() {
            for p in [&path, &slashed] {
                for env in [Env::Plain, Env::ContentType, Env::Accept] {
                    let ctx = format!("{method} {p} as {} ({env:?})", WHO[col]);
                    let a = send(&app, request(method, p, env, claims.as_ref())).await;
                    assert_answer(&a, method, p, env, expected[col], &ctx);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, MATRIX.len() * 5 * 2 * 3);
}

/// Older releases: 403 instead of 401 when no token was sent, nothing else
/// changes.
#[tokio::test]
async fn older_release_status_without_token() {
    let table = SprykerBackend::new()
        .unauthenticated_status(glue_auth_core::UnauthenticatedStatus::Forbidden)
        .build()
        .unwrap();
    let app = ScopeLayer::new(table).layer(service_fn(echo));
    for &(method, pattern, expected) in MATRIX {
        let path = pattern.replace("{id}", ID);
        let a = send(&app, request(method, &path, Env::Plain, None)).await;
        let ctx = format!("{method} {path}");
        match expected[4] {
            Ur401 => {
                assert_eq!(a.status, 403, "{ctx}");
                assert_eq!(a.body, Ur403.plain_body(), "{ctx}");
                assert!(!a.headers.contains_key(WWW_AUTHENTICATE), "{ctx}");
                assert!(
                    matches!(
                        a.rejection,
                        Some(Rejection::Unauthorized {
                            credentials: false,
                            ..
                        })
                    ),
                    "{ctx}"
                );
            }
            other => assert_answer(&a, method, &path, Env::Plain, other, &ctx),
        }
    }
}

/// Tokens the matrix does not cover: a warehouse token without the
/// `warehouse` scope, a user token with only unknown scopes, and the
/// warehouse-existence setting.
#[tokio::test]
async fn picking_lists_edge_tokens() {
    let plain = ScopeLayer::spryker().layer(service_fn(echo));
    let checked = ScopeLayer::new(
        SprykerBackend::new()
            .warehouse_exists(|id| id == 1)
            .build()
            .unwrap(),
    )
    .layer(service_fn(echo));
    let path = "/picking-lists";
    let cases: [(&Claims, E, E); 5] = [
        (&warehouse(1, &[]), Af403, Af403),
        (&warehouse(1, &["warehouse"]), Pass, Pass),
        (&warehouse(2, &["warehouse"]), Pass, Af403),
        (&user(&["user", "other"]), Af403, Af403),
        (&user(&["back-office-user"]), Pass, Pass),
    ];
    for (claims, without_check, with_check) in cases {
        let ctx = format!("{claims:?}");
        let a = send(&plain, request("GET", path, Env::Accept, Some(claims))).await;
        assert_answer(&a, "GET", path, Env::Accept, without_check, &ctx);
        let a = send(&checked, request("GET", path, Env::Accept, Some(claims))).await;
        assert_answer(&a, "GET", path, Env::Accept, with_check, &ctx);
    }
}

/// The RFC 6750 `scope` attribute needs meaningful `required_scope` values.
#[tokio::test]
async fn required_scopes_of_the_preset() {
    let app = ScopeLayer::spryker().layer(service_fn(echo));
    let cases: [(&str, &str, Option<Claims>, &str); 5] = [
        (
            "GET",
            "/picking-lists",
            None,
            "back-office-user warehouse-user warehouse",
        ),
        (
            "GET",
            "/picking-lists",
            Some(warehouse(1, &[])),
            "warehouse",
        ),
        ("POST", "/warehouse-tokens", None, "user"),
        (
            "POST",
            "/warehouse-tokens",
            Some(warehouse(1, &["warehouse"])),
            "user",
        ),
        (
            "DELETE",
            "/warehouse-user-assignments/1",
            Some(user(&["user", "warehouse-user"])),
            "back-office-user",
        ),
    ];
    for (method, path, claims, scope) in cases {
        let a = send(&app, request(method, path, Env::Plain, claims.as_ref())).await;
        let got = match a.rejection {
            Some(Rejection::Unauthorized { required_scope, .. })
            | Some(Rejection::AuthorizationFailed { required_scope, .. }) => required_scope,
            other => panic!("{method} {path}: {other:?}"),
        };
        assert_eq!(got.as_deref(), Some(scope), "{method} {path}");
    }
}

/// Other spellings of a protected path (doubled slashes, percent-encoded
/// characters) get the same answer as the path itself.
#[tokio::test]
async fn respellings_do_not_dodge_routes() {
    let app = ScopeLayer::spryker().layer(service_fn(echo));
    for &(method, pattern, expected) in MATRIX {
        let path = pattern.replace("{id}", ID);
        for spelled in [
            path.replace('/', "//"),
            format!("{path}//"),
            path.replacen('-', "%2D", 1),
            path.replacen('-', "%2d", 1),
        ] {
            let a = send(&app, request(method, &spelled, Env::Plain, None)).await;
            assert_eq!(a.status, expected[4].status(), "{method} {spelled}");
        }
    }
}

/// `.` and `..` segments could resolve to a protected route behind the layer
/// (an upstream that normalizes paths): refused whatever they spell, even
/// where the route itself would be public.
#[tokio::test]
async fn dot_segments_are_refused() {
    let app = ScopeLayer::spryker().layer(service_fn(echo));
    for path in [
        "/x/../warehouse-user-assignments",
        "/./picking-lists",
        "/token/%2e%2e/warehouse-tokens",
        "/public/%2E/x",
        "/a/..",
    ] {
        let a = send(&app, request("GET", path, Env::Plain, None)).await;
        assert_eq!(a.status, 401, "{path}");
        assert_eq!(
            a.body, r#"[{"status":401,"code":null,"message":"Unauthorized request."}]"#,
            "{path}"
        );
    }
    // Dots inside a segment are ordinary characters.
    let a = send(&app, request("GET", "/files/v1.2/..x", Env::Plain, None)).await;
    assert_eq!(a.status, 200);
}

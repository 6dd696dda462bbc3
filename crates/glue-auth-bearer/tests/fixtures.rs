//! Interoperability: tokens signed by an independent implementation (PyJWT)
//! and Spryker's documented samples get exactly the answer SPEC §5.1 requires.

mod common;

use common::*;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{Claims, ManualClock, NumericDate, Principal};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::{ServiceExt, service_fn};

fn load(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(path)).unwrap()).unwrap()
}

async fn run(validator: &Validator, token: &str) -> (StatusCode, Value, Option<Claims>) {
    let svc = tower::ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator.clone()))
        .service(service_fn(|req: Request<String>| async move {
            let claims = req.extensions().get::<Claims>().cloned();
            let mut res = Response::new(String::new());
            res.extensions_mut().insert(claims);
            Ok::<_, std::convert::Infallible>(res)
        }));
    let req = Request::get("/picking-lists")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let claims = res.extensions().get::<Option<Claims>>().cloned().flatten();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (status, json, claims)
}

/// The crates' own copies of the foreign-signer keys (`tests/data/` of
/// glue-auth-jwt, glue-auth-bearer and glue-auth-token, read by the tests
/// that also run from the published packages) are still `shared/fixtures`'.
#[test]
fn the_crates_copies_of_the_fixture_keys_match() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, copies) in [
        (
            "test-private.pem",
            &["glue-auth-jwt", "glue-auth-bearer", "glue-auth-token"][..],
        ),
        (
            "test-public.pem",
            &["glue-auth-bearer", "glue-auth-token"][..],
        ),
    ] {
        let original = std::fs::read(fixtures().join("foreign-signer").join(name)).unwrap();
        for krate in copies {
            let copy = crates.join(krate).join("tests/data").join(name);
            assert_eq!(
                std::fs::read(&copy).unwrap(),
                original,
                "{} differs from shared/fixtures/foreign-signer/{name}",
                copy.display()
            );
        }
    }
}

#[tokio::test]
async fn foreign_signer_cases_get_the_required_answer() {
    let fixture = load("foreign-signer/tokens.json");
    let now = NumericDate::from_f64(fixture["now"].as_f64().unwrap()).unwrap();
    let validator = Validator::builder(test_keys())
        .clock(ManualClock::new(now))
        .build()
        .unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 16, "fixture has {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let expect = &case["expect"];
        // Twice: the second answer may come from the cache and must not differ.
        for round in 0..2 {
            let (status, body, claims) = run(&validator, case["token"].as_str().unwrap()).await;
            assert_eq!(
                status.as_u16() as u64,
                expect["status"].as_u64().unwrap(),
                "{name} round {round}"
            );
            if let Some(code) = expect.get("code") {
                assert_eq!(&body[0]["code"], code, "{name}");
                assert_eq!(body[0]["status"], expect["status"], "{name}");
                assert_eq!(body[0]["message"], "Invalid access token.", "{name}");
                assert!(claims.is_none(), "{name}");
            }
            if let Some(p) = expect.get("principal") {
                let claims = claims.unwrap_or_else(|| panic!("{name}: no claims"));
                match claims.principal() {
                    Principal::User(u) => {
                        assert_eq!(u.id_user(), p["id_user"].as_i64().unwrap(), "{name}");
                        assert_eq!(u.uuid(), p["uuid"].as_str().unwrap(), "{name}");
                        assert_eq!(u.user_reference(), p["user_reference"].as_str(), "{name}");
                    }
                    Principal::Warehouse(w) => {
                        assert_eq!(
                            w.id_warehouse(),
                            p["id_warehouse"].as_i64().unwrap(),
                            "{name}"
                        );
                    }
                }
                if let Some(scopes) = expect.get("scopes") {
                    let want: Vec<&str> = scopes
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap())
                        .collect();
                    assert_eq!(claims.scopes().iter().collect::<Vec<_>>(), want, "{name}");
                }
            }
        }
    }
}

#[tokio::test]
async fn spryker_documentation_samples_parse_and_are_refused() {
    let samples = load("spryker-doc-tokens.json");
    for which in ["back_office_user", "warehouse"] {
        let sample = &samples[which];
        // The exact payload format parses (float dates, JSON-string sub).
        let claims =
            Claims::parse_unverified_payload(sample["payload_json"].as_str().unwrap()).unwrap();
        match which {
            "back_office_user" => {
                let u = claims.principal().as_user().unwrap();
                assert_eq!((u.id_user(), u.uuid()), (4, SONIA_UUID));
                assert!(claims.scopes().is_legacy_user());
                assert_eq!(claims.expires_at().as_micros(), 1_699_376_634_442_676);
            }
            _ => {
                assert_eq!(claims.principal().as_warehouse().unwrap().id_warehouse(), 1);
                assert!(claims.scopes().has_warehouse());
                assert_eq!(claims.expires_at().as_micros(), 1_700_641_066_735_831);
            }
        }
        assert_eq!(claims.audience().collect::<Vec<_>>(), ["frontend"]);
        assert_eq!(claims.jti().len(), 80);
        // Signed by Spryker's demo key, which is not ours, and long expired.
        let validator = Validator::new(test_keys());
        let (status, body, _) = run(&validator, sample["token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{which}");
        assert_eq!(body[0]["code"], "001", "{which}");
    }
}

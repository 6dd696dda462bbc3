//! `/warehouse-user-assignments[/{uuid}]` as Glue's
//! `WarehouseUsersBackendApi` serves it: `GET` (list, filterable by
//! `filter[warehouse-user-assignments.uuid|userUuid|warehouseUuid|isActive]`),
//! `GET /{uuid}`, `POST`, `PATCH /{uuid}` (`isActive`), `DELETE /{uuid}`
//! (204). Who may do what, and the store calls, are
//! [`crate::assignments`]'s, shared with the admin commands.

use bytes::Bytes;
use glue_auth_core::Claims;
use glue_auth_token::store::{Assignment, AssignmentFilter, AssignmentRefusal, NewAssignment};
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use serde_json::{Value, json};

use super::jsonapi::{Ctx, Resource, filter_key, php_bool, respond};
use super::{Demo, error, method_not_allowed, read_body, unavailable};
use crate::assignments::{Caller, Failure};
use crate::body::{Body, BoxError, full};

const TYPE: &str = "warehouse-user-assignments";

fn resource(a: &Assignment) -> Resource {
    Resource::new(
        TYPE,
        a.uuid.clone(),
        json!({
            "userUuid": a.user_uuid,
            "warehouse": {
                "uuid": a.warehouse.uuid,
                "name": a.warehouse.name,
                "isActive": a.warehouse.is_active,
            },
            "isActive": a.is_active,
        }),
    )
}

/// A list of Glue errors in one JSON:API envelope, with the first one's
/// status.
fn errors(status: StatusCode, refusals: &[AssignmentRefusal]) -> Response<Body> {
    let list: Vec<Value> = refusals
        .iter()
        .map(|r| json!({"status": status.as_u16(), "code": r.code(), "message": r.message()}))
        .collect();
    respond(status, &json!({ "errors": list }))
}

fn failure(f: Failure) -> Response<Body> {
    match f {
        Failure::NotFound => errors(StatusCode::NOT_FOUND, &[AssignmentRefusal::NotFound]),
        Failure::Forbidden => errors(StatusCode::FORBIDDEN, &[AssignmentRefusal::Forbidden]),
        Failure::Refused(list) => errors(StatusCode::BAD_REQUEST, &list),
        Failure::Store(e) => unavailable(&e),
    }
}

fn bad_request(message: &'static str) -> Response<Body> {
    error(StatusCode::BAD_REQUEST, None, message)
}

/// `true`, `false`, and the strings Glue's clients send for them (`"true"`,
/// `"false"`, `"1"`, `"0"`, and the numbers 1 and 0).
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A refused body: the message of the 400.
type Invalid = &'static str;

/// The `attributes` of a JSON:API body of this resource type.
fn attributes(body: &[u8]) -> Result<serde_json::Map<String, Value>, Invalid> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| "Request body is not valid JSON.")?;
    let Some(data) = doc.get("data").and_then(Value::as_object) else {
        return Err("Request body must be a JSON:API document with a `data` object.");
    };
    if data.get("type").is_some_and(|t| t != TYPE) {
        return Err("`data.type` must be `warehouse-user-assignments`.");
    }
    match data.get("attributes") {
        Some(Value::Object(a)) => Ok(a.clone()),
        None => Ok(serde_json::Map::new()),
        Some(_) => Err("`data.attributes` must be an object."),
    }
}

fn is_active(a: &serde_json::Map<String, Value>) -> Result<Option<bool>, Invalid> {
    match a.get("isActive") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => boolean(v).map(Some).ok_or("`isActive` must be a boolean."),
    }
}

fn new_assignment(body: &[u8]) -> Result<NewAssignment, Invalid> {
    let a = attributes(body)?;
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let Some(user) = text(a.get("userUuid")) else {
        return Err("`userUuid` is required.");
    };
    let Some(warehouse) = text(a.get("warehouse").and_then(|w| w.get("uuid"))) else {
        return Err("`warehouse.uuid` is required.");
    };
    Ok(NewAssignment::new(user, warehouse).active(is_active(&a)?.unwrap_or(false)))
}

/// `filter[warehouse-user-assignments.*]`; other resources' filters are
/// ignored, as in Glue; a repeated key: the last value.
fn filter(pairs: &[(String, String)]) -> AssignmentFilter {
    let mut f = AssignmentFilter::all();
    for (k, v) in pairs {
        match filter_key(k) {
            Ok(Some((TYPE, "uuid", _))) => f.uuid = Some(v.clone()),
            Ok(Some((TYPE, "userUuid", _))) => f.user_uuid = Some(v.clone()),
            Ok(Some((TYPE, "warehouseUuid", _))) => f.warehouse_uuid = Some(v.clone()),
            Ok(Some((TYPE, "isActive", _))) => f.is_active = Some(php_bool(v)),
            _ => {}
        }
    }
    f
}

/// Answers an assignment route.
pub(super) async fn handle<B>(
    demo: &Demo,
    req: Request<B>,
    ctx: Ctx,
    pairs: &[(String, String)],
) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let allowed = matches!(
        (&ctx.id, &ctx.method),
        (None, &Method::GET | &Method::POST)
            | (Some(_), &Method::GET | &Method::PATCH | &Method::DELETE)
    );
    if !allowed {
        return method_not_allowed(if ctx.id.is_some() {
            "GET, HEAD, PATCH, DELETE"
        } else {
            "GET, HEAD, POST"
        });
    }
    let assignments = &demo.inner.assignments;
    let caller = match req.extensions().get::<Claims>() {
        Some(claims) => match assignments.caller(claims).await {
            Ok(c) => c,
            Err(e) => return unavailable(&e),
        },
        // The scope layer lets only users through; a stack without a bearer
        // layer would land here.
        None => Caller::Unknown,
    };
    let id = ctx.id.clone().unwrap_or_default();
    let done =
        |status: StatusCode, a: Assignment| respond(status, &ctx.document(&[resource(&a)], &[]));
    match (ctx.id.is_some(), ctx.method.clone()) {
        (false, Method::GET) => match assignments.list(&caller, filter(pairs)).await {
            Ok(list) => {
                let data: Vec<Resource> = list.iter().map(resource).collect();
                respond(StatusCode::OK, &ctx.document(&data, &[]))
            }
            Err(f) => failure(f),
        },
        (true, Method::GET) => match assignments.get(&caller, &id).await {
            Ok(a) => done(StatusCode::OK, a),
            Err(f) => failure(f),
        },
        (false, _) => {
            let body = match read_body(req, demo.inner.body_limit).await {
                Ok(b) => b,
                Err(e) => return e.response(),
            };
            let new = match new_assignment(&body) {
                Ok(n) => n,
                Err(message) => return bad_request(message),
            };
            match assignments.create(&caller, new).await {
                Ok(a) => {
                    tracing::info!(assignment = %a.uuid, user = %a.user_uuid, active = a.is_active, "warehouse user assignment created");
                    done(StatusCode::CREATED, a)
                }
                Err(f) => failure(f),
            }
        }
        (true, Method::PATCH) => {
            let body = match read_body(req, demo.inner.body_limit).await {
                Ok(b) => b,
                Err(e) => return e.response(),
            };
            let (attrs, active) = match attributes(&body).and_then(|a| Ok((is_active(&a)?, a))) {
                Ok((active, attrs)) => (attrs, active),
                Err(message) => return bad_request(message),
            };
            let current = match assignments.get(&caller, &id).await {
                Ok(a) => a,
                Err(f) => return failure(f),
            };
            // Glue would apply a new user or warehouse too, checking the
            // caller against the old one only; we change `isActive` only.
            let user = attrs.get("userUuid").and_then(Value::as_str);
            let warehouse = attrs
                .get("warehouse")
                .and_then(|w| w.get("uuid"))
                .and_then(Value::as_str);
            if user.is_some_and(|u| u != current.user_uuid)
                || warehouse.is_some_and(|w| w != current.warehouse.uuid)
            {
                return bad_request("Only `isActive` can be changed.");
            }
            let Some(active) = active else {
                return done(StatusCode::OK, current);
            };
            match assignments.set_active(&caller, &id, active).await {
                Ok(a) => {
                    tracing::info!(assignment = %a.uuid, user = %a.user_uuid, active = a.is_active, "warehouse user assignment changed");
                    done(StatusCode::OK, a)
                }
                Err(f) => failure(f),
            }
        }
        (true, _) => match assignments.delete(&caller, &id).await {
            Ok(a) => {
                tracing::info!(assignment = %a.uuid, user = %a.user_uuid, "warehouse user assignment deleted");
                let mut res = Response::new(full(Bytes::new()));
                *res.status_mut() = StatusCode::NO_CONTENT;
                res
            }
            Err(f) => failure(f),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let ok = br#"{"data":{"type":"warehouse-user-assignments","attributes":{"userUuid":"u","warehouse":{"uuid":"w"},"isActive":"true"}}}"#;
        let n = new_assignment(ok).unwrap();
        assert_eq!(
            (n.user_uuid.as_str(), n.warehouse_uuid.as_str(), n.is_active),
            ("u", "w", true)
        );
        let no_type = br#"{"data":{"attributes":{"userUuid":"u","warehouse":{"uuid":"w"}}}}"#;
        assert!(!new_assignment(no_type).unwrap().is_active);
        for bad in [
            &b"{"[..],
            br#"{"data":[]}"#,
            br#"{"data":{"type":"x","attributes":{"userUuid":"u","warehouse":{"uuid":"w"}}}}"#,
            br#"{"data":{"attributes":{"warehouse":{"uuid":"w"}}}}"#,
            br#"{"data":{"attributes":{"userUuid":"u"}}}"#,
            br#"{"data":{"attributes":{"userUuid":"u","warehouse":{"uuid":"w"},"isActive":"yes"}}}"#,
            br#"{"data":{"attributes":7}}"#,
        ] {
            assert!(
                new_assignment(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(boolean(&json!(0)), Some(false));
        assert_eq!(boolean(&json!(2)), None);
    }

    #[test]
    fn filters() {
        let pairs = super::super::jsonapi::query_pairs(Some(
            "filter[warehouse-user-assignments.userUuid]=u&filter[warehouse-user-assignments.isActive]=1&filter[other.userUuid]=x",
        ));
        let f = filter(&pairs);
        assert_eq!(f.user_uuid.as_deref(), Some("u"));
        assert_eq!(f.is_active, Some(true));
        assert_eq!(f.warehouse_uuid, None);
    }

    /// A store that is down: every call fails.
    #[derive(Debug)]
    struct Down;

    fn down<'a, T: Send + 'a>() -> glue_auth_token::store::StoreFuture<'a, T> {
        Box::pin(async {
            Err(glue_auth_token::store::StoreError::unavailable(
                std::io::Error::other("down"),
            ))
        })
    }

    impl glue_auth_token::store::AssignmentStore for Down {
        fn user_by_uuid<'a>(
            &'a self,
            _: &'a str,
        ) -> glue_auth_token::store::StoreFuture<'a, Option<glue_auth_token::store::UserRecord>>
        {
            down()
        }
        fn find_warehouse<'a>(
            &'a self,
            _: glue_auth_token::store::WarehouseRef<'a>,
        ) -> glue_auth_token::store::StoreFuture<'a, Option<glue_auth_token::store::Warehouse>>
        {
            down()
        }
        fn list_assignments<'a>(
            &'a self,
            _: &'a AssignmentFilter,
        ) -> glue_auth_token::store::StoreFuture<'a, Vec<Assignment>> {
            down()
        }
        fn create_assignment(
            &self,
            _: NewAssignment,
        ) -> glue_auth_token::store::StoreFuture<'_, glue_auth_token::store::AssignmentResult>
        {
            down()
        }
        fn set_assignment_active<'a>(
            &'a self,
            _: &'a str,
            _: bool,
        ) -> glue_auth_token::store::StoreFuture<'a, glue_auth_token::store::AssignmentResult>
        {
            down()
        }
        fn delete_assignment<'a>(
            &'a self,
            _: &'a str,
        ) -> glue_auth_token::store::StoreFuture<'a, glue_auth_token::store::AssignmentResult>
        {
            down()
        }
    }

    #[test]
    fn a_store_that_is_down_is_503_with_retry_after() {
        use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal};
        use http_body_util::{BodyExt, Full};
        use std::sync::Arc;

        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = glue_auth_token::MemoryDirectory::demo();
            let reads = Arc::new(crate::reads::Reads::new(Arc::new(dir)));
            let rules = crate::assignments::Assignments::new(Arc::new(Down), None);
            let demo = Demo::new(reads, rules, 1024);
            let claims = Claims::builder(
                Principal::User(UserPrincipal::new(4, "u", None::<String>)),
                Scopes::from_iter(["user", "back-office-user"]),
            )
            .expires_at(NumericDate::from_micros(i64::MAX / 2))
            .build();
            for (method, path) in [
                ("GET", "/warehouse-user-assignments"),
                ("DELETE", "/warehouse-user-assignments/x"),
            ] {
                let mut req = http::Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Full::<Bytes>::default())
                    .unwrap();
                req.extensions_mut().insert(claims.clone());
                let res = demo.call(req).await;
                assert_eq!(res.status(), 503);
                assert_eq!(res.headers()["retry-after"], "5");
                let body = res.into_body().collect().await.unwrap().to_bytes();
                let doc: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(doc["errors"][0]["status"], 503, "{doc}");
            }
        });
    }
}

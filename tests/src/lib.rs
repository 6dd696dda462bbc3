//! Shared helpers of the cross-crate integration tests: Spryker-format tokens
//! signed with the workspace's test key, the expectation vocabulary of the
//! route-table matrices (including the token endpoint's answers), an HTTP/2
//! client for the tonic example's port, and the example binaries on loopback
//! sockets.
//!
//! The tests themselves live in `tests/` (one matrix per transport, the
//! one-verification-per-request count, the tower-http composition and
//! loopback-socket tests); the scope benchmark in `benches/scope.rs`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use glue_auth_bearer::KeySet;
use glue_auth_core::{Envelope, GlueError, NumericDate};
use glue_auth_token::SigningKey;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{Algorithm, EncodingKey};

/// The demo user's uuid (`sonia@spryker.com`, `id_user` 4), assigned to
/// warehouse 1 in every example.
pub const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

/// A picking list of warehouse 1 in every example's demo data.
pub const LIST_ID: &str = "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b";

/// An item of [`LIST_ID`] (quantity 2).
pub const ITEM_ID: &str = "a1b2c3d4-0001-4000-8000-000000000001";

/// `shared/fixtures` beside the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// The test public key set.
pub fn test_keys() -> KeySet {
    let pem =
        std::fs::read(fixtures().join("foreign-signer/test-public.pem")).expect("test public key");
    KeySet::from_pem(&pem).expect("valid test public key")
}

/// The test private key as the token endpoint's signing key (its public
/// half is [`test_keys`]).
pub fn test_signing_key() -> SigningKey {
    let pem = std::fs::read(fixtures().join("foreign-signer/test-private.pem"))
        .expect("test private key");
    SigningKey::from_pem(&pem).expect("valid test private key")
}

/// The demo user's login (`sonia@spryker.com` / `change123`), a form body of
/// `POST /token`.
pub const SONIA_LOGIN: &str = "grant_type=password&username=sonia%40spryker.com&password=change123";

/// The token endpoint's answer to `POST /token` with an empty body (SPEC §2).
pub const UNSUPPORTED_EMPTY_GRANT: &str =
    r#"[{"status":400,"code":"unsupported_grant_type","message":"Grant type \"\" not found"}]"#;

/// What Glue answers a JSON:API request to `/token` or `/warehouse-tokens`.
pub const PLAIN_NOT_FOUND: &str = r#"[{"status":404,"code":"007","message":"Not found"}]"#;

fn signing_key() -> EncodingKey {
    let pem = std::fs::read(fixtures().join("foreign-signer/test-private.pem"))
        .expect("test private key");
    EncodingKey::from_rsa_pem(&pem).expect("valid test private key")
}

/// Who a request speaks for: the columns of every matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// User token, scopes `["user","back-office-user"]`.
    BackOffice,
    /// User token, scopes `["user","warehouse-user"]`.
    WarehouseUser,
    /// User token issued before Feb 2024, scopes exactly `["user"]`.
    LegacyUser,
    /// Warehouse token (`{"id_warehouse":1}`), scopes `["warehouse"]`.
    Warehouse,
    /// No `Authorization` header.
    NoToken,
    /// A Spryker-shaped token whose signature does not match its payload.
    BadToken,
}

impl Caller {
    /// Every caller, in matrix column order.
    pub const ALL: [Caller; 6] = [
        Caller::BackOffice,
        Caller::WarehouseUser,
        Caller::LegacyUser,
        Caller::Warehouse,
        Caller::NoToken,
        Caller::BadToken,
    ];

    /// The `Authorization` header value, if any. Tokens are valid from now on
    /// for 8 hours (user) or 7 days (warehouse).
    pub fn authorization(self) -> Option<String> {
        let user =
            r#"{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#;
        let token = match self {
            Caller::BackOffice => sign(user, r#"["user","back-office-user"]"#, 28_800),
            Caller::WarehouseUser => sign(user, r#"["user","warehouse-user"]"#, 28_800),
            Caller::LegacyUser => sign(user, r#"["user"]"#, 28_800),
            Caller::Warehouse => sign(r#"{"id_warehouse":1}"#, r#"["warehouse"]"#, 604_800),
            Caller::NoToken => return None,
            Caller::BadToken => {
                // A warehouse token's signature on a back-office payload.
                let forged = sign(user, r#"["user","back-office-user"]"#, 28_800);
                let genuine = sign(r#"{"id_warehouse":1}"#, r#"["warehouse"]"#, 604_800);
                let (head, _) = forged.rsplit_once('.').expect("three parts");
                let (_, sig) = genuine.rsplit_once('.').expect("three parts");
                format!("{head}.{sig}")
            }
        };
        Some(format!("Bearer {token}"))
    }
}

/// A token in Spryker's exact format (header `{"typ":"JWT","alg":"RS256"}`,
/// float dates with microseconds, JSON-encoded `sub`), issued now.
pub fn sign(sub: &str, scopes: &str, ttl_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let iat = i64::try_from(now.as_micros()).expect("µs fit in i64");
    let exp = iat + ttl_secs * 1_000_000;
    let date = |us| NumericDate::from_micros(us).to_string();
    let payload = format!(
        r#"{{"aud":"frontend","jti":"{jti}","iat":{iat},"nbf":{iat},"exp":{exp},"sub":{sub},"scopes":{scopes}}}"#,
        jti = "5f".repeat(40),
        iat = date(iat),
        exp = date(exp),
        sub = serde_json::to_string(sub).expect("string"),
    );
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let msg = format!(
        "{}.{}",
        b64(r#"{"typ":"JWT","alg":"RS256"}"#),
        b64(&payload)
    );
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &signing_key(), Algorithm::RS256)
        .expect("RS256 signature");
    format!("{msg}.{sig}")
}

/// What a matrix cell expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The layers let the request through and the demo handler answered it
    /// with this 2xx status (gRPC: status 0).
    Handler(u16),
    /// The layers let the request through to a route the demo does not serve:
    /// the handler's fallback answers 404 `007` "Not found" (proof that the
    /// scope layer passed it).
    Fallback404,
    /// Refused by the scope layer: 401 "Unauthorized request.", code null
    /// (no credentials; gRPC 16).
    Unauthorized401,
    /// Refused by the scope layer: 403 "Unauthorized request.", code null (a
    /// token that does not fit; gRPC 7).
    Unauthorized403,
    /// Refused by the picking-list strategy: 403 "Authorization failed.",
    /// code null (a token that does not fit; gRPC 7).
    AuthFailed403,
    /// Refused by the picking-list strategy without any token: the same 403
    /// "Authorization failed." over HTTP, gRPC 16 UNAUTHENTICATED.
    AuthFailedAnonymous403,
    /// Refused by the bearer layer: 401 `001` "Invalid access token." (gRPC 16).
    InvalidToken401,
    /// The layers let the request through and the token endpoint answered it
    /// with this HTTP status, in plain JSON with `Cache-Control: no-store`
    /// (also on the gRPC port: the token routes are HTTP there).
    /// [`check_token_endpoint_answer`] checks the body where it is fixed.
    TokenEndpoint(u16),
}

impl Expect {
    /// The Glue error object of a refusal or fallback; `None` for
    /// [`Expect::Handler`] and [`Expect::TokenEndpoint`].
    pub fn glue_error(self) -> Option<GlueError> {
        Some(match self {
            Expect::Handler(_) | Expect::TokenEndpoint(_) => return None,
            Expect::Fallback404 => GlueError::NOT_FOUND,
            Expect::Unauthorized401 => {
                GlueError::new_static(StatusCode::UNAUTHORIZED, None, "Unauthorized request.")
            }
            Expect::Unauthorized403 => {
                GlueError::new_static(StatusCode::FORBIDDEN, None, "Unauthorized request.")
            }
            Expect::AuthFailed403 | Expect::AuthFailedAnonymous403 => {
                GlueError::new_static(StatusCode::FORBIDDEN, None, "Authorization failed.")
            }
            Expect::InvalidToken401 => GlueError::INVALID_ACCESS_TOKEN,
        })
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Expect::Handler(status) | Expect::TokenEndpoint(status) => status,
            other => other.glue_error().map_or(500, |e| e.status().as_u16()),
        }
    }

    /// The exact body of a refusal or fallback in `envelope`.
    pub fn body(self, envelope: Envelope) -> Option<String> {
        let e = self.glue_error()?;
        Some(String::from_utf8(e.to_body(envelope).to_vec()).expect("JSON is UTF-8"))
    }

    /// The `grpc-status` a gRPC service answers; `None` for
    /// [`Expect::TokenEndpoint`], a plain HTTP answer without one.
    pub fn grpc_code(self) -> Option<i32> {
        Some(match self {
            Expect::Handler(_) => 0,
            Expect::Fallback404 => 12,
            Expect::Unauthorized401 | Expect::InvalidToken401 | Expect::AuthFailedAnonymous403 => {
                16
            }
            Expect::Unauthorized403 | Expect::AuthFailed403 => 7,
            Expect::TokenEndpoint(_) => return None,
        })
    }
}

/// Checks an answer of the token endpoint: `status`, plain JSON, no
/// `grpc-status`, the cache headers of the token routes, and the body where
/// it is fixed: the exact error array of an empty login (400 on `/token`)
/// and of a JSON:API request (404), and the exact shape of a warehouse token
/// (201, see [`check_warehouse_token_body`]). Other answers (a 200 login) are
/// checked for status and headers only.
pub fn check_token_endpoint_answer(path: &str, status: u16, answer: &Answer) -> Result<(), String> {
    if answer.status != status {
        return Err(format!(
            "status {} (expected {status} from the token endpoint), body {}",
            answer.status, answer.body
        ));
    }
    let header = |name: &str| answer.header(name);
    if header("content-type") != Some("application/json") {
        return Err(format!("content-type {:?}", header("content-type")));
    }
    if header("grpc-status").is_some() {
        return Err("a grpc-status on a token endpoint answer".into());
    }
    let route = path.trim_end_matches('/');
    match (route, status) {
        (_, 201) => {
            check_warehouse_token_body(&answer.body)?;
        }
        ("/token", 400) => expect_body(&answer.body, UNSUPPORTED_EMPTY_GRANT)?,
        (_, 404) => {
            // Glue's generic "no such route", without the token routes' cache headers.
            return expect_body(&answer.body, PLAIN_NOT_FOUND);
        }
        _ => {}
    }
    let cache = (header("cache-control"), header("pragma"));
    if cache != (Some("no-store"), Some("no-cache")) {
        return Err(format!("cache headers {cache:?}"));
    }
    Ok(())
}

fn expect_body(got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("body {got}, expected {want}"))
    }
}

/// The body of `POST /warehouse-tokens`' 201 for the demo user (SPEC §3): a
/// one-element array, exactly the camelCase keys `tokenType` `"Bearer"`,
/// `expiresIn` 604800, `accessToken` (an RS256 JWT in Spryker's header, for
/// warehouse 1, scopes `["warehouse"]`) and `refreshToken` (64 lowercase hex
/// characters). Returns the access token; `Err` describes the first
/// difference.
pub fn check_warehouse_token_body(body: &str) -> Result<String, String> {
    let doc: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?;
    let [object] = doc.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err(format!("not a one-element array: {body}"));
    };
    let Some(fields) = object.as_object() else {
        return Err(format!("not an object: {body}"));
    };
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["accessToken", "expiresIn", "refreshToken", "tokenType"] {
        return Err(format!("keys {keys:?}: {body}"));
    }
    if object["tokenType"] != "Bearer" || object["expiresIn"] != 604_800 {
        return Err(format!("tokenType / expiresIn: {body}"));
    }
    let refresh = object["refreshToken"].as_str().unwrap_or_default();
    if refresh.len() != 64
        || !refresh
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!("refreshToken {refresh:?}"));
    }
    let access = object["accessToken"].as_str().unwrap_or_default();
    let parts: Vec<&str> = access.split('.').collect();
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    };
    if parts.len() != 3 || decode(parts[0]) != r#"{"typ":"JWT","alg":"RS256"}"# {
        return Err(format!("accessToken {access:?} is not a Spryker RS256 JWT"));
    }
    let claims: serde_json::Value = serde_json::from_str(&decode(parts[1]))
        .map_err(|e| format!("accessToken payload ({e})"))?;
    if claims["sub"] != r#"{"id_warehouse":1}"#
        || claims["scopes"] != serde_json::json!(["warehouse"])
    {
        return Err(format!("accessToken claims {claims}"));
    }
    Ok(access.to_owned())
}

/// Status, headers, body (as text) and trailers of one answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body, as text (invalid UTF-8, such as a gRPC message,
    /// replaced).
    pub body: String,
    /// The trailers, if the body ended with some.
    pub trailers: Option<HeaderMap>,
}

impl Answer {
    /// Reads a whole response.
    pub async fn of<B>(res: Response<B>) -> Answer
    where
        B: http_body::Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = res.into_parts();
        let collected = body.collect().await.expect("response body");
        let trailers = collected.trailers().cloned();
        let bytes = collected.to_bytes();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            trailers,
        }
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A `POST` with an optional `Authorization` value and a form body.
pub fn post(path: &str, authorization: Option<&str>, form: &str) -> Request<Full<Bytes>> {
    let mut b = Request::post(path);
    if let Some(a) = authorization {
        b = b.header(http::header::AUTHORIZATION, a);
    }
    if !form.is_empty() {
        b = b.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    b.body(Full::new(Bytes::from(form.to_owned())))
        .expect("valid request")
}

/// One HTTP/2 (prior knowledge, h2c) connection to a loopback server, as the
/// tonic example's port speaks: plain requests (the token routes) and gRPC
/// alike.
#[derive(Debug, Clone)]
pub struct H2Client {
    sender: hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    origin: String,
}

impl H2Client {
    /// Connects to `addr` (`host:port`).
    pub async fn connect(addr: &str) -> H2Client {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .expect("HTTP/2 handshake");
        tokio::spawn(conn);
        H2Client {
            sender,
            origin: format!("http://{addr}"),
        }
    }

    /// Sends `req` (its URI a path; h2 needs scheme and authority, added
    /// here) and reads the whole answer.
    pub async fn send(&mut self, mut req: Request<Full<Bytes>>) -> Answer {
        let uri = format!("{}{}", self.origin, req.uri());
        *req.uri_mut() = uri.parse().expect("absolute URI");
        self.sender.ready().await.expect("connection ready");
        let res = self.sender.send_request(req).await.expect("answer");
        Answer::of(res).await
    }
}

/// A Back Office user token of a user without an active warehouse
/// assignment (not in the demo data), valid for an hour: `POST
/// /warehouse-tokens` answers it 403 `5101` (gRPC 7).
pub fn unassigned_user_token() -> String {
    sign(
        r#"{"user_reference":null,"id_user":13,"uuid":"00000000-0000-0000-0000-000000000013"}"#,
        r#"["user","back-office-user"]"#,
        3600,
    )
}

/// The token endpoint's refusal of a user without an active warehouse
/// assignment (SPEC §3).
pub const NO_ACTIVE_WAREHOUSE: &str =
    r#"[{"status":403,"code":"5101","message":"Operation is forbidden."}]"#;

/// A warehouse token (`{"id_warehouse":1}`, scopes `["warehouse"]`), valid for
/// an hour.
pub fn warehouse_token() -> String {
    sign(r#"{"id_warehouse":1}"#, r#"["warehouse"]"#, 3600)
}

/// An example binary started for a test on a free loopback port; killed when
/// dropped, even when the test fails.
#[derive(Debug)]
pub struct SpawnedServer {
    child: std::process::Child,
    addr: String,
}

impl SpawnedServer {
    /// Starts `bin --port 0` and reads its first stdout line,
    /// `listening on {scheme}://ADDR`.
    pub fn start(bin: &str, scheme: &str) -> Self {
        Self::start_with(bin, scheme, &[])
    }

    /// [`start`](Self::start) with more arguments (`--private-key PATH`).
    pub fn start_with(bin: &str, scheme: &str, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(bin)
            .args(["--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first stdout line");
        let prefix = format!("listening on {scheme}://");
        let addr = line.trim().strip_prefix(&prefix).map(str::to_owned);
        let mut server = SpawnedServer {
            child,
            addr: String::new(),
        };
        server.addr = addr.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        server
    }

    /// The bound `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

/// Runs `bin --port 0 ARGS` expecting it to fail at start-up; its exit status
/// and standard error.
pub fn start_fails(bin: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let out = std::process::Command::new(bin)
        .args(["--port", "0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 `GET` on a fresh connection (`Connection: close`); the whole
/// answer, head and body, as text.
pub fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    http_request(addr, "GET", path, token, "")
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), with a
/// form body when `form` is not empty; the whole answer, head and body, as
/// text.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    form: &str,
) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let content_type = if form.is_empty() {
        ""
    } else {
        "Content-Type: application/x-www-form-urlencoded\r\n"
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}{content_type}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .expect("write request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read answer");
    answer
}

/// The body of a whole HTTP/1.1 answer (after the blank line).
pub fn http_body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

//! Shared helpers of the cross-crate integration tests: Spryker-format tokens
//! signed with the workspace's test key, and the expectation vocabulary of the
//! route-table matrices.
//!
//! The tests themselves live in `tests/` (one file per framework, plus the
//! tower-http composition and loopback-socket tests); the scope benchmark in
//! `benches/scope.rs`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_bearer::KeySet;
use glue_auth_core::{Envelope, GlueError, NumericDate};
use http::StatusCode;
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
}

impl Expect {
    /// The Glue error object of a refusal or fallback; `None` for
    /// [`Expect::Handler`].
    pub fn glue_error(self) -> Option<GlueError> {
        Some(match self {
            Expect::Handler(_) => return None,
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
            Expect::Handler(status) => status,
            other => other.glue_error().map_or(500, |e| e.status().as_u16()),
        }
    }

    /// The exact body of a refusal or fallback in `envelope`.
    pub fn body(self, envelope: Envelope) -> Option<String> {
        let e = self.glue_error()?;
        Some(String::from_utf8(e.to_body(envelope).to_vec()).expect("JSON is UTF-8"))
    }

    /// The `grpc-status` a gRPC service answers.
    pub fn grpc_code(self) -> i32 {
        match self {
            Expect::Handler(_) => 0,
            Expect::Fallback404 => 12,
            Expect::Unauthorized401 | Expect::InvalidToken401 | Expect::AuthFailedAnonymous403 => {
                16
            }
            Expect::Unauthorized403 | Expect::AuthFailed403 => 7,
        }
    }
}

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
        use std::io::BufRead;
        let mut child = std::process::Command::new(bin)
            .args(["--port", "0"])
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

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 `GET` on a fresh connection (`Connection: close`); the whole
/// answer, head and body, as text.
pub fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read answer");
    answer
}

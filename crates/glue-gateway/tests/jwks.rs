//! Two gateways end to end: an issuing one whose key files are watched (no
//! signal), and a verify-only one following it through `--jwks-url`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use common::*;

/// Writes `private.pem` and `public.pem` (write elsewhere, then rename: a
/// reader never sees half a file).
fn write_key_pair(dir: &Path) {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap();
    let spki = aws_lc_rs::signature::KeyPair::public_key(&pair)
        .as_der()
        .unwrap();
    let private = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
    let public = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
    std::fs::write(dir.join("private.pem.tmp"), private).unwrap();
    std::fs::write(dir.join("public.pem.tmp"), public).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(dir.join("private.pem.tmp"), mode).unwrap();
    }
    std::fs::rename(dir.join("private.pem.tmp"), dir.join("private.pem")).unwrap();
    std::fs::rename(dir.join("public.pem.tmp"), dir.join("public.pem")).unwrap();
}

fn copy_atomically(from: &Path, to: &Path) {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

fn jwks_kids(gw: &Gateway) -> Vec<String> {
    let res = gw.get("/.well-known/jwks.json").send();
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> Option<String> {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().map(str::to_owned)
}

fn status(gw: &Gateway, token: &str) -> u16 {
    gw.get("/picking-lists").bearer(token).send().status
}

/// Waits (bounded) until `cond` holds.
fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if cond() {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The issuer with its key files: `private.pem`, `public.pem`, and
/// `previous.pem` (the rotation slot in `extra_public_key_paths`, holding the
/// current key until a rotation: duplicates count once).
fn start_issuer(extra_args: &[&str]) -> (Gateway, std::path::PathBuf) {
    let dir = TempDir::new();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    write_key_pair(&keys);
    copy_atomically(&keys.join("public.pem"), &keys.join("previous.pem"));
    let private = keys.join("private.pem").display().to_string();
    let public = keys.join("public.pem").display().to_string();
    let previous = keys.join("previous.pem").display().to_string();
    let mut args = vec![
        "--key-watch-interval",
        "1",
        "--extra-public-key-paths",
        &previous,
    ];
    args.extend_from_slice(extra_args);
    let gw = Gateway::start_in(
        dir,
        &args,
        &[("PRIVATE_KEY_PATH", &private), ("PUBLIC_KEY_PATH", &public)],
    );
    (gw, keys)
}

/// The operator's rotation: the current public key goes to the rotation
/// slot, then the new pair replaces the current one. No signal.
fn rotate(keys: &Path) {
    copy_atomically(&keys.join("public.pem"), &keys.join("previous.pem"));
    write_key_pair(keys);
}

#[test]
fn a_verify_only_gateway_follows_the_issuers_key_rotation() {
    // The issuer names the key in every token (jwt_kid): gateways that
    // follow its JWKS then never guess which key a token needs.
    let (issuer, keys) = start_issuer(&["--jwt-kid"]);
    let jwks_url = format!("http://{}/.well-known/jwks.json", issuer.addr);
    let verifier = Gateway::start(&[
        "--jwks-url",
        &jwks_url,
        "--jwks-cooldown",
        "1",
        "--jwks-min-refresh",
        "2",
        "--jwks-max-refresh",
        "2",
    ]);
    assert!(!verifier.stderr().contains("DEVELOPMENT"));
    // Verify-only: no /token.
    assert_eq!(verifier.login_as(DEMO_USER, DEMO_PASSWORD).status, 404);
    let old_kids = jwks_kids(&issuer);
    assert_eq!(old_kids.len(), 1);
    assert_eq!(jwks_kids(&verifier), old_kids);

    let old_token = issuer.login();
    assert_eq!(kid_of(&old_token).as_deref(), Some(old_kids[0].as_str()));
    assert_eq!(status(&verifier, &old_token), 200);

    // Rotation by files only; the issuer's watch reloads within its interval.
    rotate(&keys);
    wait_until(Duration::from_secs(10), "issuer reload", || {
        jwks_kids(&issuer).len() == 2
    });
    assert!(issuer.stderr().contains("key files changed; keys reloaded"));
    let new_token = issuer.login();
    let new_kid = kid_of(&new_token).unwrap();
    assert_ne!(new_kid, old_kids[0]);
    assert_eq!(status(&issuer, &new_token), 200);

    // The verifier meets an unknown kid, refetches (at most once per 1 s
    // cooldown) and accepts the new token within the cooldown.
    let took = wait_until(
        Duration::from_secs(10),
        "verifier accepts the new key",
        || status(&verifier, &new_token) == 200,
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    // Old tokens stay valid everywhere until they expire (or the old key is
    // retired).
    assert_eq!(status(&verifier, &old_token), 200);
    assert_eq!(status(&issuer, &old_token), 200);

    // Retiring the old key: the slot gets the current key again. The issuer
    // drops it at its next poll, the verifier at its next refresh.
    copy_atomically(&keys.join("public.pem"), &keys.join("previous.pem"));
    wait_until(
        Duration::from_secs(10),
        "issuer retires the old key",
        || jwks_kids(&issuer) == [new_kid.clone()],
    );
    assert_eq!(status(&issuer, &old_token), 401);
    wait_until(
        Duration::from_secs(10),
        "verifier retires the old key",
        || status(&verifier, &old_token) == 401,
    );
    assert_eq!(status(&verifier, &new_token), 200);
}

#[test]
fn a_verify_only_gateway_keeps_its_keys_while_the_issuer_is_down() {
    let (issuer, _keys) = start_issuer(&["--jwt-kid"]);
    let jwks_url = format!("http://{}/.well-known/jwks.json", issuer.addr);
    let verifier = Gateway::start(&["--jwks-url", &jwks_url, "--jwks-cooldown", "1"]);
    let token = issuer.login();
    assert_eq!(status(&verifier, &token), 200);
    drop(issuer);
    // A token with a kid the verifier does not know: 401, and a refetch
    // that fails (logged), never a 500.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"typ":"JWT","alg":"RS256","kid":"unknown"}"#)
    };
    let unknown = parts.join(".");
    assert_eq!(status(&verifier, &unknown), 401);
    wait_until(
        Duration::from_secs(10),
        "the failed refetch is logged",
        || verifier.stderr().contains("key source failed"),
    );
    assert_eq!(status(&verifier, &unknown), 401);
    assert_eq!(status(&verifier, &token), 200);
}

#[test]
fn the_issuer_rotates_by_its_key_files_and_keeps_kid_less_tokens_of_the_previous_key() {
    // Glue's default: tokens without kid while one key is configured.
    let (issuer, keys) = start_issuer(&[]);
    let old_token = issuer.login();
    assert_eq!(kid_of(&old_token), None);
    rotate(&keys);
    wait_until(Duration::from_secs(10), "issuer reload", || {
        jwks_kids(&issuer).len() == 2
    });
    // Two keys now: new tokens name theirs; kid-less tokens go to the
    // previous key (kidless_key = previous, the default), not to each key.
    let new_token = issuer.login();
    assert!(kid_of(&new_token).is_some());
    assert_eq!(status(&issuer, &new_token), 200);
    assert_eq!(status(&issuer, &old_token), 200);
    // A broken key file keeps the keys (logged), and is picked up once fixed.
    std::fs::write(keys.join("public.pem"), "-----BEGIN PUBLIC KEY-----\n").unwrap();
    wait_until(
        Duration::from_secs(10),
        "the failed reload is logged",
        || issuer.stderr().contains("the reload failed"),
    );
    assert_eq!(status(&issuer, &new_token), 200);
}

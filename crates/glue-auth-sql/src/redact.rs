//! [`redact_url`]: database URLs without their secrets, for logs, errors and
//! `Debug` output.

use glue_auth_core::PercentDecode;

/// What a password is replaced with.
const MASK: &str = "***";

/// What a URL that cannot be taken apart safely is replaced with.
const REDACTED: &str = "<redacted>";

/// Query parameters whose value is a secret (compared case-insensitively,
/// after percent-decoding the name, as the drivers decode it).
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// A database URL as it may be shown: in logs, error messages and `Debug`
/// output. Every password is replaced with `***`:
///
/// - the password of the userinfo (`postgres://user:***@host/db`, and the
///   same for `mysql://`, `mariadb://` and any other scheme). The
///   userinfo ends at the **last** `@` of the authority, as URL parsers (and
///   so the drivers) split it, so a password with an unencoded `@` is masked
///   whole;
/// - the value of every `password` and `sslpassword` query parameter, the
///   name compared case-insensitively and percent-decoded
///   (`postgres://host/db?password=***`).
///
/// Everything else is kept, so the result still says which database is
/// meant: `sqlite:glue.db`, `sqlite::memory:` and plain file paths come back
/// unchanged (but for secret query parameters); so does a URL without a
/// password (`postgres://glue@db.internal:5432/glue`).
///
/// When the URL cannot be taken apart without guessing where a password
/// ends, the result is `<scheme>://<redacted>`, or just `<redacted>` when
/// not even the scheme is recognisable: for example an `@` after the first
/// `/`, `?` or `#` of the authority (a password with an unencoded `/`, or
/// an `@` in the query of a URL that also has a `user:` part), an invalid
/// scheme, control characters, or a scheme-less `user:password@host`.
/// Nothing of a password is ever shown, at the price of sometimes showing
/// less than could have been.
///
/// ```
/// use glue_auth_sql::redact_url;
///
/// assert_eq!(redact_url("postgres://glue:s3cret@db:5432/glue"), "postgres://glue:***@db:5432/glue");
/// assert_eq!(redact_url("mysql://glue:s3cret@db:3306/glue"), "mysql://glue:***@db:3306/glue");
/// assert_eq!(redact_url("mariadb://glue:s3cret@db/glue"), "mariadb://glue:***@db/glue");
/// assert_eq!(redact_url("postgres://glue:p@ss@db/glue"), "postgres://glue:***@db/glue");
/// assert_eq!(
///     redact_url("postgres://db/glue?sslmode=require&PassWord=s3cret"),
///     "postgres://db/glue?sslmode=require&PassWord=***"
/// );
/// assert_eq!(redact_url("sqlite:data/glue.db"), "sqlite:data/glue.db");
/// assert_eq!(redact_url("postgres://glue:pa/ss@db/glue"), "postgres://<redacted>");
/// ```
pub fn redact_url(url: &str) -> String {
    redact(url.trim()).unwrap_or_else(|fallback| fallback)
}

/// `Ok`: the redacted URL; `Err`: the safe fallback form.
fn redact(url: &str) -> Result<String, String> {
    if url.chars().any(char::is_control) {
        return Err(REDACTED.to_owned());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_without_authority(url);
    };
    if !is_scheme(scheme) {
        return Err(REDACTED.to_owned());
    }
    let fallback = || format!("{scheme}://{REDACTED}");
    // The authority as a URL parser sees it: up to the first `/`, `?` or `#`.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if let Some(at) = tail.rfind('@') {
        // An `@` after the authority: harmless in a path or query, unless
        // it ends a userinfo whose password holds a `/`, `?` or `#`, which
        // cannot be told apart here. A userinfo without `:` has no password.
        if rest[..end + at].contains(':') {
            return Err(fallback());
        }
    }
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:{MASK}@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = redact_query(tail).ok_or_else(fallback)?;
    Ok(format!("{scheme}://{authority}{tail}"))
}

/// `sqlite:path`, `sqlite::memory:`, a plain path: no authority, so no
/// userinfo; only the query can hold a password.
fn redact_without_authority(url: &str) -> Result<String, String> {
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    let before_query = path.split('?').next().unwrap_or(path);
    // `user:password@host` without a scheme: not a path anyone means.
    if let Some(at) = before_query.rfind('@')
        && before_query[..at].contains(':')
    {
        return Err(REDACTED.to_owned());
    }
    redact_query(url).ok_or_else(|| REDACTED.to_owned())
}

/// Masks the secret parameters of the query (everything after the first
/// `?`; a `#` is taken as part of a value, so a password holding one is
/// masked whole). `None` when a parameter name does not decode.
fn redact_query(s: &str) -> Option<String> {
    let Some((head, query)) = s.split_once('?') else {
        return Some(s.to_owned());
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(head);
    out.push('?');
    for (i, param) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match param.split_once('=') {
            Some((name, _value)) if is_secret(name)? => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(param),
        }
    }
    Some(out)
}

/// Whether a query parameter name is one of [`SECRET_PARAMS`] once
/// form-decoded ([`PercentDecode::form`]). `None` for a malformed escape (a
/// `%` without two hex digits): drivers may read it differently, so the
/// caller redacts the whole URL.
fn is_secret(name: &str) -> Option<bool> {
    let b = name.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    if (0..b.len()).any(|i| b[i] == b'%' && !(hex(i + 1) && hex(i + 2))) {
        return None;
    }
    let decoded: Vec<u8> = PercentDecode::form(b).collect();
    let decoded = String::from_utf8_lossy(&decoded);
    let decoded = decoded.trim();
    Some(
        SECRET_PARAMS
            .iter()
            .any(|p| decoded.eq_ignore_ascii_case(p)),
    )
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::redact_url as r;

    /// Asserts the redaction and that no fragment of `secret` survives.
    #[track_caller]
    fn check(url: &str, want: &str, secret: &str) {
        let got = r(url);
        assert_eq!(got, want, "{url}");
        if !secret.is_empty() {
            assert!(!got.contains(secret), "{url} → {got} leaks {secret}");
        }
    }

    #[test]
    fn sqlite_and_paths_are_unchanged() {
        for url in [
            "sqlite::memory:",
            "sqlite:glue.db",
            "sqlite:data/glue.db",
            "sqlite:/var/lib/glue/glue.db",
            "sqlite://var/lib/glue/glue.db",
            "sqlite:///var/lib/glue/glue.db",
            "sqlite:glue.db?mode=rwc",
            "sqlite:file:memdb1?mode=memory&cache=shared",
            "glue.db",
            "./data/glue.db",
            "/var/lib/glue@2/glue.db",
            "sqlite:/srv/a:b/glue.db",
        ] {
            check(url, url, "");
        }
        check("  sqlite:glue.db\n", "sqlite:glue.db", "");
    }

    #[test]
    fn postgres_without_password_is_unchanged() {
        for url in [
            "postgres://localhost/glue",
            "postgres://db.internal:5432/glue",
            "postgresql://glue@db.internal:5432/glue",
            "postgres://glue@/glue?host=/run/postgresql",
            "postgres:///glue",
            "postgres://[::1]:5432/glue",
            "postgres://glue@[::1]:5432/glue?sslmode=require",
            "postgres://db/glue?user=ann@example.com",
            "postgres://db/glue?application_name=x&password_file=y",
        ] {
            check(url, url, "");
        }
    }

    #[test]
    fn userinfo_passwords_are_masked() {
        check(
            "postgres://glue:s3cret@127.0.0.1:5432/db",
            "postgres://glue:***@127.0.0.1:5432/db",
            "s3cret",
        );
        check(
            "postgresql://glue:s3cret@db",
            "postgresql://glue:***@db",
            "s3cret",
        );
        check("postgres://:s3cret@db/x", "postgres://:***@db/x", "s3cret");
        check("postgres://glue:@db/x", "postgres://glue:***@db/x", "");
        check(
            "postgres://glue:s%40cr%2Fet@db/x",
            "postgres://glue:***@db/x",
            "cr",
        );
        check(
            "postgres://glue:a:b:c@db/x",
            "postgres://glue:***@db/x",
            "a:b:c",
        );
        check(
            "postgres://glue:s3cret@[::1]:5432/x?sslmode=disable",
            "postgres://glue:***@[::1]:5432/x?sslmode=disable",
            "s3cret",
        );
    }

    #[test]
    fn mysql_and_mariadb_urls_are_masked_alike() {
        for scheme in ["mysql", "mariadb"] {
            check(
                &format!("{scheme}://glue:s3cret@127.0.0.1:3306/glue"),
                &format!("{scheme}://glue:***@127.0.0.1:3306/glue"),
                "s3cret",
            );
            check(
                &format!("{scheme}://glue:p@ss@db/glue?ssl-mode=required"),
                &format!("{scheme}://glue:***@db/glue?ssl-mode=required"),
                "ss@",
            );
            check(
                &format!("{scheme}://glue@db/glue?password=s3cret&charset=utf8mb4"),
                &format!("{scheme}://glue@db/glue?password=***&charset=utf8mb4"),
                "s3cret",
            );
            check(
                &format!("{scheme}://glue@[::1]:3306/glue?socket=/run/mysqld/mysqld.sock"),
                &format!("{scheme}://glue@[::1]:3306/glue?socket=/run/mysqld/mysqld.sock"),
                "",
            );
            check(
                &format!("{scheme}://glue:pa/ss@db/glue"),
                &format!("{scheme}://<redacted>"),
                "ss",
            );
        }
    }

    #[test]
    fn an_at_in_the_password_is_masked_whole() {
        check(
            "postgres://glue:p@ss@db:5432/glue",
            "postgres://glue:***@db:5432/glue",
            "ss@",
        );
        check(
            "postgres://glue:@@@@db/glue",
            "postgres://glue:***@db/glue",
            "@@",
        );
        check(
            "postgres://glue:top@secret@db",
            "postgres://glue:***@db",
            "secret",
        );
    }

    #[test]
    fn query_passwords_are_masked() {
        check(
            "postgres://h/db?password=s3cret",
            "postgres://h/db?password=***",
            "s3cret",
        );
        check(
            "postgres://h/db?sslmode=verify-full&sslpassword=k3y&application_name=g",
            "postgres://h/db?sslmode=verify-full&sslpassword=***&application_name=g",
            "k3y",
        );
        check(
            "postgres://h/db?PASSWORD=s3cret&SslPassword=k3y",
            "postgres://h/db?PASSWORD=***&SslPassword=***",
            "s3cret",
        );
        check(
            "postgres://h/db?pass%77ord=s3cret",
            "postgres://h/db?pass%77ord=***",
            "s3cret",
        );
        check(
            "postgres://glue:one@h/db?password=two",
            "postgres://glue:***@h/db?password=***",
            "one",
        );
        check(
            "postgres:///db?password=s3cret#frag",
            "postgres:///db?password=***",
            "s3cret",
        );
        check(
            "postgres://h?password=s3cret",
            "postgres://h?password=***",
            "s3cret",
        );
        check(
            "sqlite:glue.db?password=s3cret",
            "sqlite:glue.db?password=***",
            "s3cret",
        );
        check("glue.db?password=s3cret", "glue.db?password=***", "s3cret");
    }

    #[test]
    fn ambiguous_or_garbage_urls_fall_back() {
        // An unencoded `/`, `?` or `#` in the password.
        check(
            "postgres://glue:pa/ss@db/glue",
            "postgres://<redacted>",
            "ss",
        );
        check(
            "postgres://glue:pa?ss@db/glue",
            "postgres://<redacted>",
            "ss",
        );
        check(
            "postgres://glue:pa#ss@db/glue",
            "postgres://<redacted>",
            "ss",
        );
        // `user:` plus an `@` further on: which one ends the userinfo?
        check(
            "postgres://glue:s3cret@db/glue?user=ann@example.com",
            "postgres://<redacted>",
            "s3cret",
        );
        check("postgres://db:5432/x?u=a@b", "postgres://<redacted>", "");
        // A broken percent-encoding in a parameter name.
        check(
            "postgres://h/db?pass%7=s3cret",
            "postgres://<redacted>",
            "s3cret",
        );
        check("sqlite:x.db?%zz=s3cret", "<redacted>", "s3cret");
        check("sqlite:x.db?%+1=s3cret", "<redacted>", "s3cret");
        check("sqlite:x.db?password%=s3cret", "<redacted>", "s3cret");
        // No usable scheme.
        check("://glue:s3cret@db", "<redacted>", "s3cret");
        check("post gres://glue:s3cret@db", "<redacted>", "s3cret");
        check("1pg://glue:s3cret@db", "<redacted>", "s3cret");
        check("glue:s3cret@db/glue", "<redacted>", "s3cret");
        check("sqlite:glue:s3cret@db", "<redacted>", "s3cret");
        // Control characters.
        check("postgres://glue:s3\ncret@db", "<redacted>", "s3");
        check("postgres://glue:s3\0cret@db", "<redacted>", "s3");
        // Harmless garbage stays readable.
        check("", "", "");
        check("not a url", "not a url", "");
        check("postgres://", "postgres://", "");
        check("postgres://@", "postgres://@", "");
        check("%%%", "%%%", "");
    }

    #[test]
    fn non_ascii_does_not_panic() {
        check(
            "postgres://glü:pässwört@dö/ü?pässword=x&password=ü",
            "postgres://glü:***@dö/ü?pässword=x&password=***",
            "pässwört",
        );
        check("postgres://h/db?%C3%A9=1", "postgres://h/db?%C3%A9=1", "");
        check("postgres://h/db?%E2=1", "postgres://h/db?%E2=1", "");
    }
}

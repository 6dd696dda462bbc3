//! Redirect URIs registered per client, and how a requested one is matched
//! (SPEC §2a): exactly, except that a loopback URI (`http://127.0.0.1`,
//! `http://[::1]`, `http://localhost`) matches whatever its port, as RFC 8252
//! §7.3 asks for native apps.

use std::collections::HashMap;

/// A redirect URI split for matching. `None` from [`Loopback::parse`] means
/// "not a loopback URI": those match exactly.
#[derive(Debug, PartialEq, Eq)]
struct Loopback<'a> {
    host: &'a str,
    /// Path, query (no fragment: refused at registration).
    rest: &'a str,
}

impl<'a> Loopback<'a> {
    fn parse(uri: &'a str) -> Option<Loopback<'a>> {
        let after = strip_prefix_ci(uri, "http://")?;
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.contains('@') {
            return None;
        }
        let host = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']')?;
            let port = &v6[close + 1..];
            if !valid_port(port) {
                return None;
            }
            &authority[..close + 2]
        } else {
            let (host, port) = match authority.rfind(':') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            };
            if !valid_port(port) {
                return None;
            }
            host
        };
        let loopback =
            host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost");
        loopback.then_some(Loopback { host, rest })
    }

    fn same(&self, other: &Loopback<'_>) -> bool {
        self.host.eq_ignore_ascii_case(other.host) && self.rest == other.rest
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `""` or `:` followed by 1–5 digits.
fn valid_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Whether a requested redirect URI matches a registered one.
pub(crate) fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (Loopback::parse(registered), Loopback::parse(requested)) {
        (Some(r), Some(q)) => r.same(&q),
        _ => false,
    }
}

/// Whether a URI may be registered: absolute (a scheme), no fragment, no
/// whitespace or control characters (RFC 6749 §3.1.2).
pub(crate) fn registrable(uri: &str) -> bool {
    let scheme_ok = uri.find(':').is_some_and(|i| {
        i > 0
            && uri[..i].bytes().enumerate().all(|(k, b)| {
                b.is_ascii_alphabetic() || (k > 0 && (b.is_ascii_digit() || b"+-.".contains(&b)))
            })
    });
    scheme_ok && !uri.contains('#') && !uri.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// The redirect URIs of each client.
#[derive(Debug, Default, Clone)]
pub(crate) struct RedirectUris(HashMap<Box<str>, Vec<Box<str>>>);

impl RedirectUris {
    pub(crate) fn add(&mut self, client: &str, uri: &str) {
        let list = self.0.entry(client.into()).or_default();
        if !list.iter().any(|u| **u == *uri) {
            list.push(uri.into());
        }
    }

    pub(crate) fn clients(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| &**k)
    }

    pub(crate) fn uris(&self) -> impl Iterator<Item = &str> {
        self.0.values().flatten().map(|u| &**u)
    }

    /// The redirect URI a code is bound to: the requested one when it
    /// matches one of the client's; when none is requested, the client's
    /// only URI (league/oauth2-server's rule). `None`: `invalid_client`.
    pub(crate) fn resolve(&self, client: &str, requested: Option<&str>) -> Option<String> {
        let list = self.0.get(client)?;
        match requested {
            Some(uri) => list.iter().any(|r| matches(r, uri)).then(|| uri.to_owned()),
            None => match list.as_slice() {
                [only] => Some(only.to_string()),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_loopback_matching() {
        let table: &[(&str, &str, bool)] = &[
            ("https://app.example/cb", "https://app.example/cb", true),
            ("https://app.example/cb", "https://app.example/cb/", false),
            (
                "https://app.example/cb",
                "https://app.example/cb?x=1",
                false,
            ),
            (
                "https://app.example/cb",
                "https://app.example:8443/cb",
                false,
            ),
            ("https://app.example/cb", "https://APP.example/cb", false),
            // Loopback: any port, same host, path and query.
            ("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", true),
            ("http://127.0.0.1:8080/cb", "http://127.0.0.1:9/cb", true),
            ("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true),
            ("http://[::1]/cb", "http://[::1]:4000/cb", true),
            ("http://localhost:3000/", "http://LOCALHOST:4000/", true),
            (
                "http://localhost/demo/",
                "http://localhost:4000/demo/?a",
                false,
            ),
            ("http://127.0.0.1/cb", "http://127.0.0.1:1/other", false),
            ("http://127.0.0.1/cb", "http://localhost:1/cb", false),
            ("http://127.0.0.1/cb", "http://127.0.0.2:1/cb", false),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1.evil.example/cb",
                false,
            ),
            ("http://127.0.0.1/cb", "http://evil@127.0.0.1:1/cb", false),
            ("http://127.0.0.1/cb", "http://127.0.0.1:abc/cb", false),
            ("http://127.0.0.1/cb", "http://127.0.0.1:123456/cb", false),
            ("http://127.0.0.1/cb", "https://127.0.0.1:1/cb", false),
            ("https://127.0.0.1/cb", "https://127.0.0.1:1/cb", false),
            ("http://example.com/cb", "http://example.com:1/cb", false),
        ];
        for (registered, requested, want) in table {
            assert_eq!(
                matches(registered, requested),
                *want,
                "{registered} vs {requested}"
            );
        }
    }

    #[test]
    fn registration_and_resolution() {
        assert!(registrable("https://app.example/cb"));
        assert!(registrable("com.spryker.oryx:/callback"));
        assert!(!registrable("/relative"));
        assert!(!registrable("https://app.example/cb#frag"));
        assert!(!registrable("https://app.example/c b"));
        assert!(!registrable(""));
        let mut r = RedirectUris::default();
        r.add("frontend", "http://localhost/cb");
        assert_eq!(
            r.resolve("frontend", Some("http://localhost:1234/cb"))
                .as_deref(),
            Some("http://localhost:1234/cb")
        );
        assert_eq!(
            r.resolve("frontend", None).as_deref(),
            Some("http://localhost/cb")
        );
        assert_eq!(r.resolve("other", None), None);
        r.add("frontend", "https://app.example/cb");
        assert_eq!(r.resolve("frontend", None), None);
        assert_eq!(r.resolve("frontend", Some("https://evil.example/cb")), None);
    }
}

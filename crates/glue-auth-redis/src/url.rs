//! Redis URLs as they may be shown: the password masked.

/// `redis://user:secret@host/0` → `redis://user:***@host/0`; a URL without
/// a password is returned as it is.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let (userinfo, host) = authority.split_at(at);
    let user = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        // `redis://secret@host`: redis-rs takes a lone userinfo as the
        // password.
        None => "***".to_owned(),
    };
    format!("{scheme}://{user}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(redact("redis://:pw@h:1/2"), "redis://:***@h:1/2");
        assert_eq!(redact("redis://u:p@ss@h/"), "redis://u:***@h/");
        assert_eq!(redact("redis://pw@h"), "redis://***@h");
        assert_eq!(redact("not a url"), "not a url");
    }
}

//! The parameters of a `POST /token` request, from a form or a JSON body.
//!
//! SPEC §2: a body that parses as a JSON object is JSON whatever the
//! `Content-Type`; anything else is read as `application/x-www-form-urlencoded`.
//! Keys may be snake_case, camelCase or PascalCase. A parameter given twice
//! (also under two spellings), a non-string value for a known key, or bytes that
//! are not UTF-8 (after percent-decoding) make the request malformed: no
//! replacement characters are ever substituted.

use std::fmt;

use glue_auth_core::PercentDecode;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use zeroize::Zeroizing;

/// The parameters the endpoints read. Unknown keys are ignored.
#[derive(Default)]
pub(crate) struct TokenParams {
    pub(crate) grant_type: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Zeroizing<String>>,
    pub(crate) scope: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) refresh_token: Option<Zeroizing<String>>,
    /// A duplicate key, a non-string value or invalid UTF-8 was seen.
    pub(crate) malformed: bool,
    seen: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Param {
    GrantType,
    Username,
    Password,
    Scope,
    ClientId,
    RefreshToken,
}

fn canonical(key: &str) -> Option<Param> {
    Some(match key {
        "grant_type" | "grantType" | "GrantType" => Param::GrantType,
        "username" | "Username" => Param::Username,
        "password" | "Password" => Param::Password,
        "scope" | "Scope" => Param::Scope,
        "client_id" | "clientId" | "ClientId" => Param::ClientId,
        "refresh_token" | "refreshToken" | "RefreshToken" => Param::RefreshToken,
        _ => return None,
    })
}

impl TokenParams {
    /// Parses a request body.
    pub(crate) fn parse(body: &[u8]) -> TokenParams {
        if let Ok(params) = serde_json::from_slice::<TokenParams>(body) {
            return params;
        }
        Self::parse_form(body)
    }

    fn set(&mut self, param: Param, value: Option<String>) {
        let bit = 1u8 << (param as u8);
        if self.seen & bit != 0 {
            self.malformed = true;
            return;
        }
        self.seen |= bit;
        match param {
            Param::GrantType => self.grant_type = value,
            Param::Username => self.username = value,
            Param::Password => self.password = value.map(Zeroizing::new),
            Param::Scope => self.scope = value,
            Param::ClientId => self.client_id = value,
            Param::RefreshToken => self.refresh_token = value.map(Zeroizing::new),
        }
    }

    fn parse_form(body: &[u8]) -> TokenParams {
        let mut params = TokenParams::default();
        if std::str::from_utf8(body).is_err() {
            params.malformed = true;
            return params;
        }
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let (Some(key), Some(value)) = (percent_decode(key), percent_decode(value)) else {
                params.malformed = true;
                continue;
            };
            if let Some(param) = canonical(&key) {
                params.set(param, Some(value.to_string()));
            }
        }
        params
    }
}

/// Form decoding ([`PercentDecode::form`]: `+` is a space, a `%` not
/// followed by two hex digits stays as it is, as PHP does). `None` when the
/// result is not UTF-8.
fn percent_decode(input: &[u8]) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    out.extend(PercentDecode::form(input));
    let bytes = std::mem::take(&mut *out);
    match String::from_utf8(bytes) {
        Ok(s) => Some(Zeroizing::new(s)),
        Err(e) => {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            None
        }
    }
}

/// A JSON value of a known key: a string, null, or something else.
enum Scalar {
    Str(String),
    Null,
    Other,
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> de::Deserialize<'de> for TokenParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenParams;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenParams, A::Error> {
                let mut params = TokenParams::default();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(param) = canonical(&key) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    match map.next_value::<Scalar>()? {
                        Scalar::Str(s) => params.set(param, Some(s)),
                        Scalar::Null => params.set(param, None),
                        Scalar::Other => {
                            params.set(param, None);
                            params.malformed = true;
                        }
                    }
                }
                Ok(params)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(body: &str) -> TokenParams {
        TokenParams::parse(body.as_bytes())
    }

    #[test]
    fn form_with_encoding() {
        let t = p("grant_type=password&username=sonia%40spryker.com&password=change+123%25&x=1");
        assert!(!t.malformed);
        assert_eq!(t.grant_type.as_deref(), Some("password"));
        assert_eq!(t.username.as_deref(), Some("sonia@spryker.com"));
        assert_eq!(
            t.password.as_deref().map(String::as_str),
            Some("change 123%")
        );
    }

    #[test]
    fn key_spellings_and_duplicates() {
        let t = p("grantType=password&Username=a&Password=b&clientId=frontend");
        assert!(!t.malformed);
        assert_eq!(t.client_id.as_deref(), Some("frontend"));
        assert!(p("grant_type=password&grantType=password").malformed);
        assert!(p("username=a&username=a").malformed);
        assert!(p(r#"{"username":"a","Username":"a"}"#).malformed);
        // Other spellings are unknown keys.
        assert!(p("GRANT_TYPE=password").grant_type.is_none());
    }

    #[test]
    fn json_wins_and_types() {
        let t = p(
            r#" {"grant_type":"password","username":"a","password":"p\u00e9","extra":[1,{"a":2}]} "#,
        );
        assert!(!t.malformed);
        assert_eq!(t.password.as_deref().map(String::as_str), Some("pé"));
        assert!(p(r#"{"username":4}"#).malformed);
        let n = p(r#"{"grant_type":null}"#);
        assert!(!n.malformed && n.grant_type.is_none());
        // Not an object: read as a form (and finds nothing).
        assert!(p(r#"["grant_type"]"#).grant_type.is_none());
    }

    #[test]
    fn non_utf8_is_malformed() {
        assert!(TokenParams::parse(b"username=\xff&password=x").malformed);
        assert!(p("username=%ff&password=x").malformed);
        assert!(p("username=%C3%A9").username.as_deref() == Some("é"));
        assert_eq!(p("username=100%").username.as_deref(), Some("100%"));
        assert_eq!(p("username=%zz").username.as_deref(), Some("%zz"));
    }
}

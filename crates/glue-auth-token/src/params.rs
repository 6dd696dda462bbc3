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
    /// `/authorize` (SPEC §2a): `response_type`.
    pub(crate) response_type: Option<String>,
    /// `/authorize` and the code grant: `redirect_uri`.
    pub(crate) redirect_uri: Option<String>,
    /// `/authorize`: `code_challenge`.
    pub(crate) code_challenge: Option<String>,
    /// `/authorize`: `code_challenge_method`.
    pub(crate) code_challenge_method: Option<String>,
    /// `/authorize`: `state`, echoed back.
    pub(crate) state: Option<String>,
    /// The code grant: `code`.
    pub(crate) code: Option<Zeroizing<String>>,
    /// The code grant: `code_verifier`.
    pub(crate) code_verifier: Option<Zeroizing<String>>,
    /// A duplicate key, a non-string value or invalid UTF-8 was seen.
    pub(crate) malformed: bool,
    seen: u16,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Param {
    GrantType,
    Username,
    Password,
    Scope,
    ClientId,
    RefreshToken,
    ResponseType,
    RedirectUri,
    CodeChallenge,
    CodeChallengeMethod,
    State,
    Code,
    CodeVerifier,
}

fn canonical(key: &str) -> Option<Param> {
    Some(match key {
        "grant_type" | "grantType" | "GrantType" => Param::GrantType,
        "username" | "Username" => Param::Username,
        "password" | "Password" => Param::Password,
        "scope" | "Scope" => Param::Scope,
        "client_id" | "clientId" | "ClientId" => Param::ClientId,
        "refresh_token" | "refreshToken" | "RefreshToken" => Param::RefreshToken,
        "response_type" | "responseType" | "ResponseType" => Param::ResponseType,
        "redirect_uri" | "redirectUri" | "RedirectUri" => Param::RedirectUri,
        "code_challenge" | "codeChallenge" | "CodeChallenge" => Param::CodeChallenge,
        "code_challenge_method" | "codeChallengeMethod" | "CodeChallengeMethod" => {
            Param::CodeChallengeMethod
        }
        "state" | "State" => Param::State,
        "code" | "Code" => Param::Code,
        "code_verifier" | "codeVerifier" | "CodeVerifier" => Param::CodeVerifier,
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
        let bit = 1u16 << (param as u16);
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
            Param::ResponseType => self.response_type = value,
            Param::RedirectUri => self.redirect_uri = value,
            Param::CodeChallenge => self.code_challenge = value,
            Param::CodeChallengeMethod => self.code_challenge_method = value,
            Param::State => self.state = value,
            Param::Code => self.code = value.map(Zeroizing::new),
            Param::CodeVerifier => self.code_verifier = value.map(Zeroizing::new),
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
    fn code_flow_parameters() {
        let t = p(
            "response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_challenge=abc&code_challenge_method=S256&state=s%20t&code=c&code_verifier=v",
        );
        assert!(!t.malformed);
        assert_eq!(t.response_type.as_deref(), Some("code"));
        assert_eq!(t.redirect_uri.as_deref(), Some("http://127.0.0.1/cb"));
        assert_eq!(t.code_challenge.as_deref(), Some("abc"));
        assert_eq!(t.code_challenge_method.as_deref(), Some("S256"));
        assert_eq!(t.state.as_deref(), Some("s t"));
        assert_eq!(t.code.as_deref().map(String::as_str), Some("c"));
        assert_eq!(t.code_verifier.as_deref().map(String::as_str), Some("v"));
        assert!(p("code=a&code=b").malformed);
        assert!(p(r#"{"codeVerifier":"a","code_verifier":"b"}"#).malformed);
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

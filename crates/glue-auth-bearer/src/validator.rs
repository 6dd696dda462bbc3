//! Header parsing, token verification and the validated-token cache.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use glue_auth_core::{
    Claims, Clock, InvalidReason, NumericDate, Rejection, SystemClock, UnauthenticatedStatus,
};
use glue_auth_jwt::{KeySet, TokenError};

use crate::Issuer;
use crate::cache::{Entry, TokenCache};
use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Default largest accepted token: 8 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// Default number of validated tokens kept in the cache.
pub const DEFAULT_CACHE_CAPACITY: u64 = 10_000;

/// A setting that cannot work, reported when the validator is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The maximum token length must be between 64 bytes and 64 KiB.
    MaxTokenLen(usize),
    /// The leeway must not exceed one hour.
    Leeway(Duration),
    /// An audience allowlist needs at least one entry.
    EmptyAudienceList,
    /// A cache needs a capacity of at least one entry.
    CacheCapacity,
    /// An issuer needs an audience allowlist (or `any_audience`).
    IssuerAudience(String),
    /// Two issuers with the same `iss`, or an empty one.
    DuplicateIssuer(String),
    /// An issuer's algorithm allowlist is empty.
    IssuerAlgorithms(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MaxTokenLen(n) => {
                write!(
                    f,
                    "max_token_len must be between 64 and 65536 bytes, not {n}"
                )
            }
            ConfigError::Leeway(d) => write!(f, "leeway must be at most 3600 s, not {d:?}"),
            ConfigError::EmptyAudienceList => f.write_str("the audience allowlist is empty"),
            ConfigError::CacheCapacity => f.write_str("cache_capacity must be at least 1"),
            ConfigError::IssuerAudience(iss) => write!(
                f,
                "issuer {iss:?} needs an audience allowlist (or any_audience)"
            ),
            ConfigError::DuplicateIssuer(iss) => {
                write!(f, "issuer {iss:?} is empty or configured twice")
            }
            ConfigError::IssuerAlgorithms(iss) => {
                write!(f, "issuer {iss:?} accepts no algorithm")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Hit and miss counts of the validated-token cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Tokens answered from the cache.
    pub hits: u64,
    /// Tokens that needed a signature check.
    pub misses: u64,
    /// Entries currently held (approximate).
    pub entries: u64,
}

/// Validates bearer tokens the way Glue does (SPEC §5.1), synchronously,
/// against in-memory keys, with a cache of validated tokens.
///
/// Cheap to clone: clones share keys, settings and cache. The
/// [`BearerAuthLayer`](crate::BearerAuthLayer) wraps one; the token endpoint
/// uses one to check the user token of `POST /warehouse-tokens`.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeySet,
    /// Other issuers, chosen by `iss`; empty: `iss` is not even read (Glue).
    issuers: Box<[Issuer]>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    audiences: Option<Box<[Box<str>]>>,
    max_token_len: usize,
    missing_token_status: UnauthenticatedStatus,
    cache: Option<TokenCache>,
}

/// Builder for [`Validator`]; every setting is checked in [`build`](Self::build).
#[derive(Debug)]
pub struct ValidatorBuilder {
    keys: KeySet,
    issuers: Vec<Issuer>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    audiences: Option<Vec<String>>,
    max_token_len: usize,
    missing_token_status: UnauthenticatedStatus,
    cache_capacity: Option<u64>,
}

impl ValidatorBuilder {
    /// Clock to check dates against (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Leeway for `exp`, `nbf` and `iat` (default: zero, as Glue).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accept only tokens whose `aud` contains one of these client ids
    /// (default: `aud` is not checked, as Glue).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// Tokens longer than this are refused before decoding (default 8 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Status of the `002` "Missing access token." answer: 401 (default,
    /// current Glue) or 403 (older releases).
    pub fn missing_token_status(mut self, status: UnauthenticatedStatus) -> Self {
        self.missing_token_status = status;
        self
    }

    /// Also accepts tokens of another issuer, chosen by their `iss` claim
    /// (see [`Issuer`]). Tokens without `iss` (Glue's) keep Glue's rules and
    /// keys; a token whose `iss` names no configured issuer is 401 `001`.
    /// Without any issuer, `iss` is not read at all, as in Glue.
    pub fn issuer(mut self, issuer: Issuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Number of validated tokens to cache (default 10 000). Each entry holds
    /// the token (at most `max_token_len` bytes) and its claims.
    pub fn cache_capacity(mut self, entries: u64) -> Self {
        self.cache_capacity = Some(entries);
        self
    }

    /// Turns the validated-token cache off: every request checks a signature.
    pub fn no_cache(mut self) -> Self {
        self.cache_capacity = None;
        self
    }

    /// Checks the settings and builds the validator.
    pub fn build(self) -> Result<Validator, ConfigError> {
        if !(64..=65536).contains(&self.max_token_len) {
            return Err(ConfigError::MaxTokenLen(self.max_token_len));
        }
        if self.leeway > Duration::from_secs(3600) {
            return Err(ConfigError::Leeway(self.leeway));
        }
        let audiences = match self.audiences {
            Some(list) if list.is_empty() => return Err(ConfigError::EmptyAudienceList),
            Some(list) => Some(list.into_iter().map(String::into_boxed_str).collect()),
            None => None,
        };
        for (i, issuer) in self.issuers.iter().enumerate() {
            let iss = issuer.iss();
            if iss.is_empty() || self.issuers[..i].iter().any(|o| o.iss() == iss) {
                return Err(ConfigError::DuplicateIssuer(iss.to_owned()));
            }
            match &issuer.audiences {
                Some(list) if list.is_empty() => return Err(ConfigError::EmptyAudienceList),
                None if !issuer.any_audience => {
                    return Err(ConfigError::IssuerAudience(iss.to_owned()));
                }
                _ => {}
            }
            if issuer.algorithms.is_empty() {
                return Err(ConfigError::IssuerAlgorithms(iss.to_owned()));
            }
        }
        let cache = match self.cache_capacity {
            Some(0) => return Err(ConfigError::CacheCapacity),
            Some(capacity) => Some(TokenCache::new(capacity)),
            None => None,
        };
        Ok(Validator {
            inner: Arc::new(Inner {
                keys: self.keys,
                issuers: self.issuers.into_boxed_slice(),
                clock: self.clock,
                leeway: self.leeway,
                audiences,
                max_token_len: self.max_token_len,
                missing_token_status: self.missing_token_status,
                cache,
            }),
        })
    }
}

/// No allowlist, or one of the token's audiences is on it.
fn audience_ok<S: AsRef<str>>(allowed: Option<&[S]>, claims: &Claims) -> bool {
    allowed.is_none_or(|allowed| {
        claims
            .audience()
            .any(|a| allowed.iter().any(|x| x.as_ref() == a))
    })
}

/// Whether `bytes` holds ASCII whitespace (as [`u8::is_ascii_whitespace`])
/// and whether it holds a byte outside ASCII, in one pass without early
/// exit, which the compiler vectorises.
fn scan(bytes: &[u8]) -> (bool, bool) {
    let (mut whitespace, mut high) = (0u8, 0u8);
    for &b in bytes {
        whitespace |= u8::from(b == b' ')
            | u8::from(b == b'\t')
            | u8::from(b == b'\n')
            | u8::from(b == 0x0c)
            | u8::from(b == b'\r');
        high |= b;
    }
    (whitespace != 0, high >= 0x80)
}

fn invalid(reason: InvalidReason) -> Rejection {
    Rejection::InvalidToken { reason }
}

impl Validator {
    /// Starts a builder with Glue's defaults: zero leeway, no audience check,
    /// 8 KiB maximum, `002` answered with 401, cache of 10 000 tokens.
    pub fn builder(keys: KeySet) -> ValidatorBuilder {
        ValidatorBuilder {
            keys,
            issuers: Vec::new(),
            clock: Arc::new(SystemClock),
            leeway: Duration::ZERO,
            audiences: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            missing_token_status: UnauthenticatedStatus::Unauthorized,
            cache_capacity: Some(DEFAULT_CACHE_CAPACITY),
        }
    }

    /// A validator with Glue's defaults.
    pub fn new(keys: KeySet) -> Self {
        Self::builder(keys)
            .build()
            .expect("the default settings are valid")
    }

    /// The key set Glue tokens (no `iss`) are checked against.
    pub fn keys(&self) -> &KeySet {
        &self.inner.keys
    }

    /// The other issuers, in configuration order.
    pub fn issuers(&self) -> &[Issuer] {
        &self.inner.issuers
    }

    fn key_set_of(&self, source: usize) -> &KeySet {
        match source {
            0 => &self.inner.keys,
            i => &self.inner.issuers[i - 1].keys,
        }
    }

    /// The clock dates are checked against.
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    /// Reads the `Authorization` header(s) as Glue does (SPEC §5.1):
    ///
    /// - no header: `Ok(None)`, the route's policy decides;
    /// - fewer than two whitespace-separated parts: `002` Missing access token;
    /// - several headers, another scheme than `Bearer` (any case), extra parts,
    ///   a token that fails any check: `001` Invalid access token (401);
    /// - a valid token whose subject is neither user nor warehouse: 400 `001`;
    /// - otherwise the claims.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Claims>, Rejection> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid(InvalidReason::MultipleHeaders));
        }
        // Whitespace-separated parts: the scheme, then the token. The scheme
        // is short and found by a plain search.
        let value = value.as_bytes().trim_ascii();
        let Some(end) = value.iter().position(u8::is_ascii_whitespace) else {
            return Err(Rejection::MissingToken {
                status: self.inner.missing_token_status.status(),
            });
        };
        let scheme = &value[..end];
        let token = value[end..].trim_ascii_start();
        let now = self.inner.clock.now();
        // A token byte-equal to one validated before is answered by the
        // cache before the checks below: every cached token passed them
        // (no whitespace, ASCII only, within the size), so the answer is
        // the same, and a hit costs one hash and one compare of the token.
        if let Some(cache) = &self.inner.cache
            && token.len() <= self.inner.max_token_len
            && scheme.eq_ignore_ascii_case(b"bearer")
            && let Some(answer) = self.cached(cache, token, now)
        {
            return bearer_answer(answer);
        }
        // The token (most of the value) is checked for further whitespace
        // and non-ASCII bytes in one branch-free pass (a profile showed a
        // byte-by-byte split over the whole value as the largest cost of
        // this function).
        let (whitespace, non_ascii) = scan(token);
        if whitespace || !scheme.eq_ignore_ascii_case(b"bearer") {
            return Err(invalid(InvalidReason::Scheme));
        }
        if token.len() > self.inner.max_token_len {
            return Err(invalid(InvalidReason::Oversized));
        }
        if non_ascii {
            return Err(invalid(InvalidReason::NotAscii));
        }
        let token = std::str::from_utf8(token).map_err(|_| invalid(InvalidReason::NotAscii))?;
        bearer_answer(self.verify_and_cache(token, now))
    }

    /// Validates one compact JWT: size, RS256 signature against the key set,
    /// Spryker's payload format, `exp`/`nbf`/`iat` with the leeway, and the
    /// audience allowlist. Answers from the cache when the same token was
    /// validated before under the same keys and has not expired since.
    ///
    /// With [issuers](ValidatorBuilder::issuer) configured, a token with an
    /// `iss` claim is checked by that issuer's rules instead (its keys,
    /// algorithms, audiences and claim mapping).
    ///
    /// A token whose key is unknown is refused at once
    /// ([`InvalidReason::UnknownKey`]): a key source that can refetch is
    /// asked to in the background, and a later request with that `kid`
    /// succeeds once the new keys landed. Nothing here waits or does I/O.
    pub fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_len {
            return Err(InvalidReason::Oversized.into());
        }
        let now = inner.clock.now();
        if let Some(cache) = &inner.cache
            && let Some(answer) = self.cached(cache, token.as_bytes(), now)
        {
            return answer;
        }
        self.verify_and_cache(token, now)
    }

    /// The cache's answer for exactly these bytes, if it holds them under
    /// the current keys: the claims, or the date check's refusal (then the
    /// entry goes). `None`: verify the token.
    fn cached(
        &self,
        cache: &TokenCache,
        token: &[u8],
        now: NumericDate,
    ) -> Option<Result<Claims, TokenError>> {
        let entry = cache.get(token)?;
        if entry.generation != self.key_set_of(entry.source).generation() {
            cache.invalidate(token);
            return None;
        }
        if let Err(reason) = entry.claims.check_time(now, self.inner.leeway) {
            cache.invalidate(token);
            return Some(Err(reason.into()));
        }
        cache.count_hit();
        Some(Ok(entry.claims))
    }

    /// A token the cache could not answer: signature, dates and audience,
    /// then into the cache.
    fn verify_and_cache(&self, token: &str, now: NumericDate) -> Result<Claims, TokenError> {
        let inner = &*self.inner;
        if let Some(cache) = &inner.cache {
            cache.count_miss();
        }
        let (source, (claims, generation)) = self.verify(token)?;
        claims.check_time(now, inner.leeway)?;
        let audience_ok = match source {
            0 => audience_ok(inner.audiences.as_deref(), &claims),
            i => audience_ok(inner.issuers[i - 1].audiences.as_deref(), &claims),
        };
        if !audience_ok {
            return Err(InvalidReason::Audience.into());
        }
        if let Some(cache) = &inner.cache {
            let ttl = claims
                .expires_at()
                .saturating_add(inner.leeway)
                .duration_since(now);
            cache.insert(
                token,
                Entry {
                    claims: claims.clone(),
                    source,
                    generation,
                    ttl,
                },
            );
        }
        Ok(claims)
    }

    /// The signature and payload: Glue's rules, or an issuer's.
    fn verify(&self, token: &str) -> Result<(usize, (Claims, u64)), TokenError> {
        let inner = &*self.inner;
        if inner.issuers.is_empty() {
            return Ok((0, inner.keys.verify(token)?));
        }
        match glue_auth_jwt::peek_issuer(token)? {
            None => Ok((0, inner.keys.verify(token)?)),
            Some(iss) => {
                let i = inner
                    .issuers
                    .iter()
                    .position(|x| x.iss() == iss)
                    .ok_or(InvalidReason::Issuer)?;
                Ok((i + 1, inner.issuers[i].verify(token)?))
            }
        }
    }

    /// Cache counters (all zero when the cache is off).
    pub fn cache_stats(&self) -> CacheStats {
        self.inner
            .cache
            .as_ref()
            .map_or_else(CacheStats::default, TokenCache::stats)
    }

    /// Empties the cache (it also ignores entries from before a key change
    /// on its own).
    pub fn clear_cache(&self) {
        if let Some(c) = &self.inner.cache {
            c.clear();
        }
    }
}

/// The bearer layer's reading of a validation result.
fn bearer_answer(result: Result<Claims, TokenError>) -> Result<Option<Claims>, Rejection> {
    match result {
        Ok(claims) => Ok(Some(claims)),
        Err(TokenError::Invalid(reason)) => Err(invalid(reason)),
        Err(TokenError::UnsupportedSubject) => Err(Rejection::UnsupportedSubject),
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Validator")
            .field("keys", &i.keys)
            .field("issuers", &i.issuers)
            .field("leeway", &i.leeway)
            .field("audiences", &i.audiences)
            .field("max_token_len", &i.max_token_len)
            .field("missing_token_status", &i.missing_token_status)
            .field("cache", &self.cache_stats())
            .finish()
    }
}

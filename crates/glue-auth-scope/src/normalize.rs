//! [`normalize_path`]: one spelling of a request path, decided before the
//! route table and forwarded as is, so that the scope decision and an
//! upstream that decodes the path (Symfony decodes it with `rawurldecode`
//! before routing) see the same path.

use std::borrow::Cow;
use std::fmt;

/// Why a path is refused by [`normalize_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsafePath {
    /// Not an absolute path (`/…`).
    NotAbsolute,
    /// `%2F` or `%2f`: an upstream would decode it into a segment separator
    /// the route table never saw.
    EncodedSlash,
    /// `\` or `%5C`: some servers treat it as a separator.
    Backslash,
    /// `;`: path parameters (`/a;x=1`), which servers strip or keep
    /// differently.
    PathParameter,
    /// An escape of a character that is not unreserved (`%20`, `%25`, `%00`,
    /// `%3B`, non-ASCII, …): its decoded form is not a path this table can
    /// classify.
    EncodedCharacter,
    /// A raw control character, space or other byte outside RFC 3986's
    /// `pchar`.
    Character,
    /// A `.` or `..` segment (also spelled `%2e`): an upstream may resolve it
    /// to another route.
    DotSegment,
}

impl fmt::Display for UnsafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnsafePath::NotAbsolute => "the path is not absolute",
            UnsafePath::EncodedSlash => "the path contains an encoded '/'",
            UnsafePath::Backslash => "the path contains a backslash",
            UnsafePath::PathParameter => "the path contains ';'",
            UnsafePath::EncodedCharacter => "the path encodes a reserved or non-ASCII character",
            UnsafePath::Character => "the path contains a character outside RFC 3986",
            UnsafePath::DotSegment => "the path contains a '.' or '..' segment",
        })
    }
}

impl std::error::Error for UnsafePath {}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` and `/`, without `;` and `%` (handled apart).
fn plain(b: u8) -> bool {
    unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// The one spelling of `path` that both the route table and an upstream see:
///
/// - escapes of unreserved characters are decoded (`/%70icking-lists` is
///   `/picking-lists`);
/// - every other escape is refused (`%2F`, `%5C`, `%20`, `%25`, `%00`,
///   non-ASCII): an upstream that decodes the path once would see a path
///   the table never classified;
/// - `\`, `;` (path parameters) and bytes outside RFC 3986's `pchar` are
///   refused;
/// - empty segments collapse (`//a` is `/a`); a trailing slash stays;
/// - `.` and `..` segments are refused;
/// - letter case is kept (`/WAREHOUSE-TOKENS` is not `/warehouse-tokens`:
///   the table decides on the path as sent).
///
/// Borrows `path` when it is already normal (the common case: no
/// allocation).
///
/// ```
/// use glue_auth_scope::{UnsafePath, normalize_path};
///
/// assert_eq!(normalize_path("/picking-lists/7f2a/").unwrap(), "/picking-lists/7f2a/");
/// assert_eq!(normalize_path("//%70icking-lists").unwrap(), "/picking-lists");
/// assert_eq!(normalize_path("/picking-lists%2F7f2a"), Err(UnsafePath::EncodedSlash));
/// assert_eq!(normalize_path("/warehouse-tokens;x=1"), Err(UnsafePath::PathParameter));
/// assert_eq!(normalize_path("/a/%2e%2e/token"), Err(UnsafePath::DotSegment));
/// ```
pub fn normalize_path(path: &str) -> Result<Cow<'_, str>, UnsafePath> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(UnsafePath::NotAbsolute);
    }
    let mut clean = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let (Some(h), Some(l)) = (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(UnsafePath::EncodedCharacter);
                };
                match h << 4 | l {
                    b'/' => return Err(UnsafePath::EncodedSlash),
                    b'\\' => return Err(UnsafePath::Backslash),
                    b';' => return Err(UnsafePath::PathParameter),
                    v if unreserved(v) => clean = false,
                    _ => return Err(UnsafePath::EncodedCharacter),
                }
                i += 3;
                continue;
            }
            b'\\' => return Err(UnsafePath::Backslash),
            b';' => return Err(UnsafePath::PathParameter),
            b'/' if bytes.get(i + 1) == Some(&b'/') => clean = false,
            b if plain(b) => {}
            _ => return Err(UnsafePath::Character),
        }
        i += 1;
    }
    let out: Cow<'_, str> = if clean {
        Cow::Borrowed(path)
    } else {
        let mut out = String::with_capacity(path.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = if bytes[i] == b'%' {
                // Checked above: an escape of an unreserved character.
                let v = bytes
                    .get(i + 1)
                    .copied()
                    .and_then(hex)
                    .zip(bytes.get(i + 2).copied().and_then(hex))
                    .map_or(b'%', |(h, l)| h << 4 | l);
                i += 3;
                v
            } else {
                i += 1;
                bytes[i - 1]
            };
            if b == b'/' && out.ends_with('/') {
                continue;
            }
            out.push(char::from(b));
        }
        Cow::Owned(out)
    };
    if out.split('/').any(|s| s == "." || s == "..") {
        return Err(UnsafePath::DotSegment);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_paths_are_borrowed() {
        for p in [
            "/",
            "/picking-lists",
            "/picking-lists/7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b/picking-list-items",
            "/warehouse-tokens/",
            "/a:b@c!$&'()*+,=",
        ] {
            assert!(
                matches!(normalize_path(p), Ok(Cow::Borrowed(x)) if x == p),
                "{p}"
            );
        }
    }

    #[test]
    fn unreserved_escapes_decode_and_empty_segments_collapse() {
        assert_eq!(
            normalize_path("/%70icking-lists").unwrap(),
            "/picking-lists"
        );
        assert_eq!(normalize_path("/%7E%2d%5F%2E1").unwrap(), "/~-_.1");
        assert_eq!(
            normalize_path("//picking-lists//x/").unwrap(),
            "/picking-lists/x/"
        );
        assert_eq!(
            normalize_path("/WAREHOUSE-TOKENS").unwrap(),
            "/WAREHOUSE-TOKENS"
        );
    }

    #[test]
    fn the_attacks_are_refused() {
        type U = UnsafePath;
        for (p, why) in [
            ("/picking-lists%2Fx", U::EncodedSlash),
            ("/picking-lists%2fx", U::EncodedSlash),
            ("/picking-lists\\x", U::Backslash),
            ("/picking-lists%5cx", U::Backslash),
            ("/warehouse-tokens;x=1", U::PathParameter),
            ("/warehouse-tokens%3B", U::PathParameter),
            ("/warehouse-tokens%00", U::EncodedCharacter),
            ("/warehouse-tokens%20", U::EncodedCharacter),
            ("/picking-lists/%2570", U::EncodedCharacter),
            ("/%C3%A9", U::EncodedCharacter),
            ("/x%", U::EncodedCharacter),
            ("/x%2", U::EncodedCharacter),
            ("/x%zz", U::EncodedCharacter),
            ("/a b", U::Character),
            ("/a\u{7f}", U::Character),
            ("/a\"", U::Character),
            ("/a/../token", U::DotSegment),
            ("/a/%2E%2e/token", U::DotSegment),
            ("/./token", U::DotSegment),
            ("picking-lists", U::NotAbsolute),
            ("", U::NotAbsolute),
        ] {
            assert_eq!(normalize_path(p), Err(why), "{p:?}");
        }
    }

    #[test]
    fn normal_form_is_a_fixed_point() {
        for p in ["//%70icking-lists//%2D/", "/%41%42/c"] {
            let once = normalize_path(p).unwrap().into_owned();
            assert_eq!(normalize_path(&once).unwrap(), once);
        }
    }
}

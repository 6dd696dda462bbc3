//! Percent-decoding (RFC 3986 §2.1), the one decoder of the workspace: form
//! bodies, URL paths and URL userinfo all go through [`PercentDecode`].

/// Decodes `%XX` escapes lazily, byte by byte, without allocating.
///
/// PHP's rules, which Spryker's clients are used to: a `%` not followed by
/// two hex digits stays as it is (`100%` is `100%`, `%zz` is `%zz`); with
/// [`form`](PercentDecode::form), `+` is a space (`application/x-www-form-urlencoded`).
///
/// ```
/// use glue_auth_core::PercentDecode;
///
/// let decoded: Vec<u8> = PercentDecode::form(b"change+123%25").collect();
/// assert_eq!(decoded, b"change 123%");
/// // Paths: `+` is a plus, and the comparison needs no buffer.
/// assert!(PercentDecode::path(b"%74oke+n").eq(b"toke+n".iter().copied()));
/// assert_eq!(PercentDecode::path(b"100%").collect::<Vec<u8>>(), b"100%");
/// ```
#[derive(Debug, Clone)]
pub struct PercentDecode<'a> {
    input: &'a [u8],
    plus_is_space: bool,
}

impl<'a> PercentDecode<'a> {
    /// Decoding for URL paths and userinfo: `+` stays `+`.
    pub fn path(input: &'a [u8]) -> Self {
        PercentDecode {
            input,
            plus_is_space: false,
        }
    }

    /// Decoding for `application/x-www-form-urlencoded`: `+` is a space.
    pub fn form(input: &'a [u8]) -> Self {
        PercentDecode {
            input,
            plus_is_space: true,
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Iterator for PercentDecode<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.input.split_first()?;
        self.input = rest;
        match b {
            b'%' => {
                if let [h, l, rest @ ..] = self.input
                    && let (Some(h), Some(l)) = (hex(*h), hex(*l))
                {
                    self.input = rest;
                    return Some(h << 4 | l);
                }
                Some(b'%')
            }
            b'+' if self.plus_is_space => Some(b' '),
            b => Some(b),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.input.len().div_ceil(3), Some(self.input.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> Vec<u8> {
        PercentDecode::path(s.as_bytes()).collect()
    }

    #[test]
    fn php_rules() {
        assert_eq!(path("%74oken"), b"token");
        assert_eq!(path("toke%6E"), b"token");
        assert_eq!(path("toke%6"), b"toke%6");
        assert_eq!(path("toke%6E%"), b"token%");
        assert_eq!(path("%zz"), b"%zz");
        assert_eq!(path("%"), b"%");
        assert_eq!(path("a+b"), b"a+b");
        assert_eq!(path("%2570"), b"%70");
        assert_eq!(PercentDecode::form(b"a+b%2B").collect::<Vec<u8>>(), b"a b+");
        assert_eq!(path("%C3%A9"), "é".as_bytes());
    }
}

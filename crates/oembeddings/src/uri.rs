//! Syntax check for absolute URIs (RFC 3986 section 4.3), as the OEmbeddings attributes need.
//!
//! Only syntax is checked: any scheme is accepted (`x-sfomuseum:object:1846754371` is a URI),
//! nothing is resolved or fetched.

/// Whether `s` is an absolute URI: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
///
/// The scheme must start with a letter and continue with letters, digits, `+`, `-` or `.`;
/// the rest may hold only unreserved and reserved characters and `%` followed by two hex
/// digits; there is at most one `#`. Spaces, other ASCII characters and non-ASCII characters
/// (IRIs) are rejected: they must be percent-encoded.
pub fn is_absolute_uri(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return false;
    };
    let (scheme, rest) = (&bytes[..colon], &bytes[colon + 1..]);
    let scheme_ok = matches!(scheme.first(), Some(b) if b.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    // Nearly every URI holds neither escapes nor a fragment: one table pass decides.
    if rest.iter().all(|&b| PLAIN_URI_CHARS[usize::from(b)]) {
        return true;
    }
    let mut fragments = 0;
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'%' => {
                let hex = rest.get(i + 1..i + 3);
                if !matches!(hex, Some(h) if h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
                continue;
            }
            b'#' => fragments += 1,
            b if URI_CHARS[usize::from(b)] => {}
            _ => return false,
        }
        i += 1;
    }
    fragments <= 1
}

/// [`URI_CHARS`] as bytes, for the vectorisable pass over URIs without `%` or `#`.
const PLAIN_URI_CHARS: [bool; 256] = URI_CHARS;

/// Unreserved and reserved characters of RFC 3986 (sections 2.2, 2.3), except `%` and `#`,
/// as a table: validators check several URIs per record.
const URI_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'['
                    | b']'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::is_absolute_uri;

    #[test]
    fn accepts_absolute_uris_of_any_scheme() {
        for ok in [
            "https://collection.sfomuseum.org/objects/1511924931/",
            "http://example.com/a%20b?q=1#frag",
            "x-sfomuseum:object:1846754371",
            "urn:isbn:0451450523",
            "data:image/png;base64,iVBORw0KGgo=",
            "mailto:collections@sfomuseum.org",
            "https://[2001:db8::1]/",
        ] {
            assert!(is_absolute_uri(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_relative_references_and_bad_characters() {
        for bad in [
            "",
            "collection.sfomuseum.org/objects/1",
            "/objects/1",
            ":no-scheme",
            "1http://example.com/",
            "http://example.com/a b",
            "http://example.com/%zz",
            "http://example.com/%4",
            "https://example.com/café",
            "http://example.com/#a#b",
            "http://example.com/\"quoted\"",
            "ht_tp://example.com/",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }
}

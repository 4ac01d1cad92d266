//! The two HTTP authentication schemes and their header syntax: the
//! challenge (`WWW-Authenticate`) and the credentials (`Authorization`)
//! fields, RFC 7235 with the token68 of RFC 4559 / MS-NTHT.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use http::header::{HeaderValue, WWW_AUTHENTICATE};

/// An HTTP authentication scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// RFC 4559 `Negotiate`, on the Negotiate package.
    Negotiate,
    /// MS-NTHT `NTLM`, on the NTLM package.
    Ntlm,
}

impl Scheme {
    /// Every scheme, in the order a client prefers them (and a server offers
    /// them by default): `Negotiate`, then `NTLM`.
    pub const ALL: [Scheme; 2] = [Scheme::Negotiate, Scheme::Ntlm];

    /// The scheme's word in the headers.
    pub fn word(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }

    /// The package the scheme's tokens go to.
    pub fn package(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }

    /// The scheme named `word` (case-insensitive, RFC 7235 §2.1).
    pub fn from_word(word: &str) -> Option<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.word().eq_ignore_ascii_case(word))
    }
}

impl std::fmt::Display for Scheme {
    /// The scheme's word (`Negotiate`, `NTLM`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// `<scheme> <base64 token>`, the value of an `Authorization` or
/// `WWW-Authenticate` field carrying a token.
pub fn token_header(scheme: Scheme, token: &[u8]) -> HeaderValue {
    let mut text = String::with_capacity(scheme.word().len() + 1 + token.len().div_ceil(3) * 4);
    text.push_str(scheme.word());
    text.push(' ');
    BASE64.encode_string(token, &mut text);
    // A scheme word and base64 are visible ASCII: always a valid value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(scheme.word()))
}

/// One challenge of a `WWW-Authenticate` field for a scheme of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme.
    pub scheme: Scheme,
    /// The decoded token; empty for a bare challenge.
    pub token: Vec<u8>,
}

/// Why a header's token could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSyntax {
    /// The data after the scheme word is not standard base64.
    NotBase64,
}

/// Splits `<word> [data]` (one challenge or credentials item) into the scheme
/// (when it is one of ours) and its decoded token.
pub fn parse_item(item: &str) -> Option<Result<Challenge, TokenSyntax>> {
    let item = item.trim();
    let (word, data) = item.split_once([' ', '\t']).unwrap_or((item, ""));
    let scheme = Scheme::from_word(word)?;
    Some(
        BASE64
            .decode(data.trim())
            .map(|token| Challenge { scheme, token })
            .map_err(|_| TokenSyntax::NotBase64),
    )
}

/// The challenges of our schemes in the `WWW-Authenticate` fields of
/// `headers`, in order. Fields may hold several comma-separated challenges
/// (RFC 7235 §4.1); base64 has no comma, so splitting on commas is safe for
/// ours, and other schemes' items (and their auth-params) are skipped.
/// A challenge of ours whose data is not base64 is skipped too.
pub fn challenges(headers: &HeaderMap) -> Vec<Challenge> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|text| text.split(','))
        .filter_map(parse_item)
        .filter_map(Result::ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for field in fields {
            map.append(WWW_AUTHENTICATE, HeaderValue::from_str(field).unwrap());
        }
        map
    }

    #[test]
    fn challenges_are_found_in_separate_and_comma_separated_fields() {
        let found = challenges(&headers(&[
            "Basic realm=\"x, y\"",
            "negotiate, NTLM TlRMTVNTUAAC",
            "Digest realm=\"a\", nonce=\"b\"",
        ]));
        assert_eq!(
            found,
            [
                Challenge {
                    scheme: Scheme::Negotiate,
                    token: vec![]
                },
                Challenge {
                    scheme: Scheme::Ntlm,
                    token: b"NTLMSSP\0\x02".to_vec()
                },
            ]
        );
    }

    #[test]
    fn a_token_that_is_not_base64_is_refused() {
        assert_eq!(
            parse_item("Negotiate ***"),
            Some(Err(TokenSyntax::NotBase64))
        );
        assert_eq!(parse_item("Bearer abc"), None);
        assert!(challenges(&headers(&["Negotiate ***"])).is_empty());
    }

    #[test]
    fn token_header_round_trips() {
        let value = token_header(Scheme::Ntlm, b"\x01\x02\x03\xff");
        assert_eq!(value, "NTLM AQID/w==");
        let parsed = parse_item(value.to_str().unwrap()).unwrap().unwrap();
        assert_eq!(parsed.token, b"\x01\x02\x03\xff");
    }
}

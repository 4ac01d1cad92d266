//! The Test package's handshake tokens on the wire.
//!
//! ```text
//! "TSSP" | version 2 | type | leg | legs | body | SHA-256 checksum of all before it
//! Hello     (1): flags u32 BE | client SPAKE2 element X [32] | domain len u16 BE | domain | user len u16 BE | user
//! Challenge (2): server SPAKE2 element Y [32] | server key confirmation [32]
//! Proof     (3): client key confirmation [32]
//! Confirm   (4): confirmation MAC [32]
//! ```
//! The checksum catches corruption and is what CompleteAuthToken fills in;
//! the security comes from SPAKE2 and the keyed MACs in the bodies. Version 1
//! (the password-derived HMAC challenge, an offline guessing oracle) is refused.

use sha2::{Digest, Sha256};
use sspi_core::{SecurityError, SecurityResult, SecurityStatus};

const MAGIC: &[u8; 4] = b"TSSP";
const VERSION: u8 = 2;
const HEADER_LEN: usize = 8;
/// Length of the trailing checksum.
pub const CHECKSUM_LEN: usize = 32;
/// Longest user or domain name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 256;
/// `cbMaxToken`: no token is longer (the largest is a hello with two maximal names).
pub const MAX_TOKEN: usize = 1024;

/// A token's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// Leg 1, client to server.
    Hello {
        /// The ISC_REQ flags the client asked for.
        flags: u32,
        /// The client's SPAKE2 element.
        element: &'a [u8; 32],
        /// The client's domain.
        domain: &'a str,
        /// The client's user name.
        user: &'a str,
    },
    /// Leg 2, server to client.
    Challenge {
        /// The server's SPAKE2 element.
        element: &'a [u8; 32],
        /// The server's key confirmation.
        proof: &'a [u8; 32],
    },
    /// Leg 3, client to server.
    Proof {
        /// The client's key confirmation.
        proof: &'a [u8; 32],
    },
    /// Legs 4 and later, alternating.
    Confirm {
        /// HMAC of the transcript under the confirmation key.
        mac: &'a [u8; 32],
    },
}

impl Body<'_> {
    fn kind(&self) -> u8 {
        match self {
            Body::Hello { .. } => 1,
            Body::Challenge { .. } => 2,
            Body::Proof { .. } => 3,
            Body::Confirm { .. } => 4,
        }
    }

    /// The name of the message, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Body::Hello { .. } => "hello",
            Body::Challenge { .. } => "challenge",
            Body::Proof { .. } => "proof",
            Body::Confirm { .. } => "confirm",
        }
    }
}

/// A parsed or to-be-written token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// Which leg this is (1-based).
    pub leg: u8,
    /// How many legs the sender's handshake has.
    pub legs: u8,
    /// The body.
    pub body: Body<'a>,
}

/// Reads a token, checking its framing and checksum; never panics on any input.
pub fn parse(bytes: &[u8]) -> SecurityResult<Token<'_>> {
    let invalid = |what: &str| SecurityError::invalid_token(format!("Test token: {what}"));
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(invalid(&format!("{} bytes is too short", bytes.len())));
    }
    if bytes.len() > MAX_TOKEN {
        return Err(invalid(&format!(
            "{} bytes is longer than the maximum {MAX_TOKEN}",
            bytes.len()
        )));
    }
    if &bytes[..4] != MAGIC {
        return Err(invalid("not a Test package token (bad magic)"));
    }
    if bytes[4] != VERSION {
        return Err(invalid(&format!("unsupported version {}", bytes[4])));
    }
    let (signed, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if Sha256::digest(signed).as_slice() != checksum {
        return Err(invalid(
            "checksum mismatch (corrupted, or CompleteAuthToken was not called)",
        ));
    }
    let (kind, leg, legs) = (bytes[5], bytes[6], bytes[7]);
    let mut body = Reader(&signed[HEADER_LEN..]);
    let parsed = match kind {
        1 => {
            let flags = body.u32()?;
            let element = body.array()?;
            let domain = body.name()?;
            let user = body.name()?;
            Body::Hello {
                flags,
                element,
                domain,
                user,
            }
        }
        2 => Body::Challenge {
            element: body.array()?,
            proof: body.array()?,
        },
        3 => Body::Proof {
            proof: body.array()?,
        },
        4 => Body::Confirm { mac: body.array()? },
        other => return Err(invalid(&format!("unknown message type {other}"))),
    };
    if !body.0.is_empty() {
        return Err(invalid(&format!(
            "{} unexpected bytes after the {}",
            body.0.len(),
            parsed.name()
        )));
    }
    Ok(Token {
        leg,
        legs,
        body: parsed,
    })
}

impl Token<'_> {
    /// Writes the token into `out` with its checksum left zero; returns the length.
    pub fn write(&self, out: &mut [u8]) -> SecurityResult<usize> {
        let mut w = Writer { out, at: 0 };
        w.put(MAGIC)?;
        w.put(&[VERSION, self.body.kind(), self.leg, self.legs])?;
        match self.body {
            Body::Hello {
                flags,
                element,
                domain,
                user,
            } => {
                w.put(&flags.to_be_bytes())?;
                w.put(element)?;
                for name in [domain, user] {
                    if name.len() > MAX_NAME_LEN {
                        return Err(SecurityError::new(
                            SecurityStatus::SEC_E_INVALID_PARAMETER,
                            format!("names are limited to {MAX_NAME_LEN} bytes"),
                        ));
                    }
                    w.put(&(name.len() as u16).to_be_bytes())?;
                    w.put(name.as_bytes())?;
                }
            }
            Body::Challenge { element, proof } => {
                w.put(element)?;
                w.put(proof)?;
            }
            Body::Proof { proof } => w.put(proof)?,
            Body::Confirm { mac } => w.put(mac)?,
        }
        w.put(&[0u8; CHECKSUM_LEN])?;
        Ok(w.at)
    }
}

/// Fills in the checksum of a written token (what CompleteAuthToken does).
pub fn finish(token: &mut [u8]) {
    if token.len() >= CHECKSUM_LEN {
        let (signed, checksum) = token.split_at_mut(token.len() - CHECKSUM_LEN);
        checksum.copy_from_slice(&Sha256::digest(signed));
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> SecurityResult<&'a [u8]> {
        if self.0.len() < n {
            return Err(SecurityError::invalid_token("Test token: truncated body"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> SecurityResult<u32> {
        let b = self.array::<4>()?;
        Ok(u32::from_be_bytes(*b))
    }

    fn array<const N: usize>(&mut self) -> SecurityResult<&'a [u8; N]> {
        self.take(N)?
            .try_into()
            .map_err(|_| SecurityError::invalid_token("Test token: truncated body"))
    }

    fn name(&mut self) -> SecurityResult<&'a str> {
        let len = u16::from_be_bytes(*self.array::<2>()?) as usize;
        if len > MAX_NAME_LEN {
            return Err(SecurityError::invalid_token(format!(
                "Test token: a name of {len} bytes is longer than {MAX_NAME_LEN}"
            )));
        }
        std::str::from_utf8(self.take(len)?)
            .map_err(|_| SecurityError::invalid_token("Test token: a name is not UTF-8"))
    }
}

struct Writer<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> SecurityResult<()> {
        let end = self.at + bytes.len();
        let Some(dst) = self.out.get_mut(self.at..end) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
                format!("the output TOKEN buffer needs up to {MAX_TOKEN} bytes"),
            ));
        };
        dst.copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let element = [7u8; 32];
        let token = Token {
            leg: 1,
            legs: 3,
            body: Body::Hello {
                flags: 0x12,
                element: &element,
                domain: "EXAMPLE",
                user: "alice",
            },
        };
        let mut buf = [0u8; MAX_TOKEN];
        let n = token.write(&mut buf).unwrap();
        assert!(parse(&buf[..n]).is_err(), "unfinished token must not parse");
        finish(&mut buf[..n]);
        assert_eq!(parse(&buf[..n]).unwrap(), token);
        for cut in 0..n {
            assert_eq!(
                parse(&buf[..cut]).unwrap_err().status(),
                SecurityStatus::SEC_E_INVALID_TOKEN
            );
        }
        buf[10] ^= 1;
        assert_eq!(
            parse(&buf[..n]).unwrap_err().status(),
            SecurityStatus::SEC_E_INVALID_TOKEN
        );
        let mut small = [0u8; 20];
        assert_eq!(
            token.write(&mut small).unwrap_err().status(),
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL
        );
    }
}

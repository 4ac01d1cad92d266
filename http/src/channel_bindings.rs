//! TLS channel bindings for HTTP authentication: `tls-server-end-point`
//! (RFC 5929 §4), the binding Windows' Extended Protection, curl and
//! requests-ntlm use, handed to the packages as SECBUFFER_CHANNEL_BINDINGS.

use der::Decode as _;
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::der;
use x509_cert::der::asn1::ObjectIdentifier as Oid;

/// The prefix of the application data (`tls-server-end-point:`).
pub const TLS_SERVER_END_POINT: &[u8] = b"tls-server-end-point:";

/// Why a certificate gives no `tls-server-end-point` binding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndPointError {
    /// The certificate is not DER X.509.
    #[error("the server certificate is not a DER X.509 certificate: {0}")]
    NotACertificate(String),
    /// RFC 5929 §4.1 defines no hash for the signature algorithm (e.g.
    /// Ed25519, or RSASSA-PSS whose hash lives in its parameters).
    #[error(
        "RFC 5929 defines no tls-server-end-point hash for the certificate's signature algorithm {0}"
    )]
    UndefinedHash(String),
}

// Signature algorithms (RFC 3279, RFC 4055, RFC 5758), by the hash they use.
const MD5_OR_SHA1: [Oid; 5] = [
    Oid::new_unwrap("1.2.840.113549.1.1.4"), // md5WithRSAEncryption
    Oid::new_unwrap("1.2.840.113549.1.1.5"), // sha1WithRSAEncryption
    Oid::new_unwrap("1.2.840.10045.4.1"),    // ecdsa-with-SHA1
    Oid::new_unwrap("1.2.840.10040.4.3"),    // dsa-with-sha1
    Oid::new_unwrap("1.3.14.3.2.29"),        // sha1WithRSASignature (OIW)
];
const SHA224: [Oid; 3] = [
    Oid::new_unwrap("1.2.840.113549.1.1.14"), // sha224WithRSAEncryption
    Oid::new_unwrap("1.2.840.10045.4.3.1"),   // ecdsa-with-SHA224
    Oid::new_unwrap("2.16.840.1.101.3.4.3.1"), // dsa-with-sha224
];
const SHA256: [Oid; 3] = [
    Oid::new_unwrap("1.2.840.113549.1.1.11"), // sha256WithRSAEncryption
    Oid::new_unwrap("1.2.840.10045.4.3.2"),   // ecdsa-with-SHA256
    Oid::new_unwrap("2.16.840.1.101.3.4.3.2"), // dsa-with-sha256
];
const SHA384: [Oid; 2] = [
    Oid::new_unwrap("1.2.840.113549.1.1.12"), // sha384WithRSAEncryption
    Oid::new_unwrap("1.2.840.10045.4.3.3"),   // ecdsa-with-SHA384
];
const SHA512: [Oid; 2] = [
    Oid::new_unwrap("1.2.840.113549.1.1.13"), // sha512WithRSAEncryption
    Oid::new_unwrap("1.2.840.10045.4.3.4"),   // ecdsa-with-SHA512
];

/// The `tls-server-end-point` application data of the server certificate
/// `certificate` (DER, as sent in the TLS Certificate message):
/// `tls-server-end-point:` followed by the certificate's hash, with the hash
/// of its signature algorithm, SHA-256 when that is MD5 or SHA-1 (RFC 5929
/// §4.1).
///
/// Wrap it in a SEC_CHANNEL_BINDINGS with [`sspi_core::sec_channel_bindings`]
/// for a SECBUFFER_CHANNEL_BINDINGS buffer.
pub fn tls_server_end_point(certificate: &[u8]) -> Result<Vec<u8>, EndPointError> {
    let parsed = Certificate::from_der(certificate)
        .map_err(|e| EndPointError::NotACertificate(e.to_string()))?;
    let algorithm = parsed.signature_algorithm().oid;
    let hash: Vec<u8> = if MD5_OR_SHA1.contains(&algorithm) || SHA256.contains(&algorithm) {
        sha2::Sha256::digest(certificate).to_vec()
    } else if SHA224.contains(&algorithm) {
        sha2::Sha224::digest(certificate).to_vec()
    } else if SHA384.contains(&algorithm) {
        sha2::Sha384::digest(certificate).to_vec()
    } else if SHA512.contains(&algorithm) {
        sha2::Sha512::digest(certificate).to_vec()
    } else {
        return Err(EndPointError::UndefinedHash(algorithm.to_string()));
    };
    let mut data = Vec::with_capacity(TLS_SERVER_END_POINT.len() + hash.len());
    data.extend_from_slice(TLS_SERVER_END_POINT);
    data.extend_from_slice(&hash);
    Ok(data)
}

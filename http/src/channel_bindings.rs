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

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(algorithm: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
        rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec()
    }

    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        for (algorithm, hash) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, 32),
            (&rcgen::PKCS_ECDSA_P384_SHA384, 48),
        ] {
            let der = certificate(algorithm);
            let data = tls_server_end_point(&der).unwrap();
            assert_eq!(&data[..TLS_SERVER_END_POINT.len()], TLS_SERVER_END_POINT);
            assert_eq!(data.len(), TLS_SERVER_END_POINT.len() + hash);
            let expected: Vec<u8> = match hash {
                32 => sha2::Sha256::digest(&der).to_vec(),
                _ => sha2::Sha384::digest(&der).to_vec(),
            };
            assert_eq!(&data[TLS_SERVER_END_POINT.len()..], expected);
        }
    }

    #[test]
    fn ed25519_and_garbage_give_no_binding() {
        let der = certificate(&rcgen::PKCS_ED25519);
        assert!(matches!(
            tls_server_end_point(&der),
            Err(EndPointError::UndefinedHash(oid)) if oid == "1.3.101.112"
        ));
        assert!(matches!(
            tls_server_end_point(b"\x30\x03\x02\x01\x00"),
            Err(EndPointError::NotACertificate(_))
        ));
    }
}

//! What the KDC tests share: AS-REQs built by the Kerberos package's own client code.

use picky_krb::data_types::PaData;
use sspi_package_kerberos::internal::as_exchange::{AsRequest, as_req};
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::transport::KdcTarget;

/// The AS-REQ `client` sends for a TGT with `password`'s etypes, nonce
/// `nonce` and the PA-DATA `padata`, asking for a one-hour ticket.
pub fn as_req_bytes(
    client: &Principal,
    password: &[u8],
    nonce: u32,
    padata: Vec<PaData>,
) -> Vec<u8> {
    let kdc = KdcTarget {
        realm: &client.realm,
        addresses: &[],
        timeout: std::time::Duration::from_secs(1),
        retries: 0,
    };
    let etypes = Etype::ALL;
    let request = AsRequest {
        client,
        password,
        etypes: &etypes,
        lifetime: 3600,
        kdc: &kdc,
        known_key: None,
    };
    as_req(&request, nonce, padata).expect("the package builds its AS-REQ")
}

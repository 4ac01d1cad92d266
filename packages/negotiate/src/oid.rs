//! SPNEGO mechanism OIDs.
//!
//! An [`Oid`] holds the DER *content* octets of an OBJECT IDENTIFIER (no tag, no length), so it
//! compares byte for byte with what a peer sent. The well-known mechanisms are constants; peers'
//! unknown mechanisms are kept as received ([`Oid::from_bytes`]).

use std::borrow::Cow;
use std::fmt;

use der::oid::{ObjectIdentifier, ObjectIdentifierRef};

/// A mechanism OBJECT IDENTIFIER, as its DER content octets.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Oid(Cow<'static, [u8]>);

impl Oid {
    /// An OID from static DER content octets (for constants; not validated).
    pub const fn from_der_content(content: &'static [u8]) -> Self {
        Oid(Cow::Borrowed(content))
    }

    /// An OID from DER content octets received from a peer; `None` unless the octets are a
    /// well-formed OID encoding (minimal base-128 arcs, last octet without the continuation bit).
    pub fn from_bytes(content: Vec<u8>) -> Option<Self> {
        ObjectIdentifierRef::from_bytes(&content).ok()?;
        Some(Oid(Cow::Owned(content)))
    }

    /// An OID from dotted text such as `1.2.840.113554.1.2.2`.
    pub fn parse_dotted(text: &str) -> Option<Self> {
        let oid = ObjectIdentifier::new(text).ok()?;
        Some(Oid(Cow::Owned(oid.as_bytes().to_vec())))
    }

    /// The DER content octets (no tag, no length).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The complete DER TLV: `06 LL` followed by the content octets.
    pub fn to_der(&self) -> Vec<u8> {
        crate::token::tlv(der::Tag::ObjectIdentifier, &self.0)
    }

    /// The mechanism family this OID names, if it is one this package composes.
    pub fn family(&self) -> Option<MechFamily> {
        family(self)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ObjectIdentifierRef::from_bytes(&self.0) {
            Ok(oid) => fmt::Display::fmt(oid, f),
            // Only constants can hold unvalidated bytes; show them rather than fail.
            Err(_) => {
                f.write_str("oid:")?;
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            o if *o == SPNEGO => "SPNEGO",
            o if *o == KRB5 => "KRB5",
            o if *o == MS_KRB5 => "MS_KRB5",
            o if *o == KRB5_U2U => "KRB5_U2U",
            o if *o == NTLMSSP => "NTLMSSP",
            o if *o == NEGOEX => "NEGOEX",
            _ => return write!(f, "Oid({self})"),
        };
        write!(f, "Oid({name} {self})")
    }
}

/// SPNEGO itself, 1.3.6.1.5.5.2 (RFC 4178 §4.2).
pub const SPNEGO: Oid = Oid::from_der_content(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
/// Kerberos V5, 1.2.840.113554.1.2.2 (RFC 4121).
pub const KRB5: Oid =
    Oid::from_der_content(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);
/// Microsoft's Kerberos OID, 1.2.840.48018.1.2.2 (RFC 4178 App. C).
pub const MS_KRB5: Oid =
    Oid::from_der_content(&[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02]);
/// Kerberos user-to-user, 1.2.840.113554.1.2.2.3.
pub const KRB5_U2U: Oid =
    Oid::from_der_content(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03]);
/// NTLMSSP, 1.3.6.1.4.1.311.2.2.10.
pub const NTLMSSP: Oid =
    Oid::from_der_content(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]);
/// NegoEx (MS-NEGOEX), 1.3.6.1.4.1.311.2.2.30.
pub const NEGOEX: Oid =
    Oid::from_der_content(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e]);

/// A family of mechanisms this package composes: the inner package that implements it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MechFamily {
    /// Kerberos V5 (the `Kerberos` package), under either Kerberos OID.
    Kerberos,
    /// NTLM (the `NTLM` package).
    Ntlm,
}

const KERBEROS_OIDS: &[Oid] = &[MS_KRB5, KRB5];
const NTLM_OIDS: &[Oid] = &[NTLMSSP];

impl MechFamily {
    /// The OIDs an initiator lists for this family, in Windows' order
    /// (Kerberos: MS-KRB5 then KRB5; NTLM: NTLMSSP).
    pub fn oids(self) -> &'static [Oid] {
        match self {
            MechFamily::Kerberos => KERBEROS_OIDS,
            MechFamily::Ntlm => NTLM_OIDS,
        }
    }

    /// The SSPI package name of this family (`"Kerberos"`, `"NTLM"`).
    pub fn package_name(self) -> &'static str {
        match self {
            MechFamily::Kerberos => "Kerberos",
            MechFamily::Ntlm => "NTLM",
        }
    }

    /// The family of an SSPI package name, compared case-insensitively.
    pub fn from_package_name(name: &str) -> Option<Self> {
        [MechFamily::Kerberos, MechFamily::Ntlm]
            .into_iter()
            .find(|f| f.package_name().eq_ignore_ascii_case(name))
    }
}

/// The family of a mechanism OID: KRB5 and MS_KRB5 are Kerberos (U2U is not), NTLMSSP is NTLM.
pub fn family(oid: &Oid) -> Option<MechFamily> {
    if *oid == KRB5 || *oid == MS_KRB5 {
        Some(MechFamily::Kerberos)
    } else if *oid == NTLMSSP {
        Some(MechFamily::Ntlm)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_display_as_the_notes_say() {
        assert_eq!(SPNEGO.to_string(), "1.3.6.1.5.5.2");
        assert_eq!(KRB5.to_string(), "1.2.840.113554.1.2.2");
        assert_eq!(MS_KRB5.to_string(), "1.2.840.48018.1.2.2");
        assert_eq!(KRB5_U2U.to_string(), "1.2.840.113554.1.2.2.3");
        assert_eq!(NTLMSSP.to_string(), "1.3.6.1.4.1.311.2.2.10");
        assert_eq!(NEGOEX.to_string(), "1.3.6.1.4.1.311.2.2.30");
    }

    #[test]
    fn dotted_text_parses_to_the_constants() {
        for oid in [SPNEGO, KRB5, MS_KRB5, KRB5_U2U, NTLMSSP, NEGOEX] {
            assert_eq!(Oid::parse_dotted(&oid.to_string()), Some(oid));
        }
        assert_eq!(Oid::parse_dotted("not an oid"), None);
        assert_eq!(Oid::parse_dotted(""), None);
    }

    #[test]
    fn der_tlv_matches_the_notes() {
        assert_eq!(
            KRB5.to_der(),
            [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 2]
        );
        assert_eq!(SPNEGO.to_der(), [6, 6, 0x2b, 6, 1, 5, 5, 2]);
    }

    #[test]
    fn from_bytes_validates() {
        assert_eq!(Oid::from_bytes(KRB5.as_bytes().to_vec()), Some(KRB5));
        assert_eq!(Oid::from_bytes(vec![]), None);
        // continuation bit on the last octet
        assert_eq!(Oid::from_bytes(vec![0x2b, 0x86]), None);
    }

    #[test]
    fn families() {
        assert_eq!(family(&KRB5), Some(MechFamily::Kerberos));
        assert_eq!(family(&MS_KRB5), Some(MechFamily::Kerberos));
        assert_eq!(family(&KRB5_U2U), None);
        assert_eq!(family(&NTLMSSP), Some(MechFamily::Ntlm));
        assert_eq!(family(&NEGOEX), None);
        assert_eq!(family(&SPNEGO), None);
        assert_eq!(MechFamily::Kerberos.oids(), [MS_KRB5, KRB5]);
        assert_eq!(MechFamily::Ntlm.oids(), [NTLMSSP]);
        assert_eq!(
            MechFamily::from_package_name("kerberos"),
            Some(MechFamily::Kerberos)
        );
        assert_eq!(
            MechFamily::from_package_name("ntlm"),
            Some(MechFamily::Ntlm)
        );
        assert_eq!(
            MechFamily::from_package_name("NTLM"),
            Some(MechFamily::Ntlm)
        );
        assert_eq!(MechFamily::from_package_name("Negotiate"), None);
        for f in [MechFamily::Kerberos, MechFamily::Ntlm] {
            assert_eq!(MechFamily::from_package_name(f.package_name()), Some(f));
        }
    }
}

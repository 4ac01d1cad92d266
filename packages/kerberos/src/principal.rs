//! Principal names: `component/component@REALM`, with `\` escaping `/`, `@` and `\`.

use picky_asn1::restricted_string::Ia5String;
use picky_asn1::wrapper::{Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, IntegerAsn1};
use picky_krb::data_types::{KerberosStringAsn1, PrincipalName, Realm};
use std::fmt;

/// NT-PRINCIPAL: a user.
pub const NT_PRINCIPAL: i32 = 1;
/// NT-SRV-INST: a service instance (`krbtgt/REALM`, `host/name`).
pub const NT_SRV_INST: i32 = 2;
/// NT-SRV-HST: a service with a host name.
pub const NT_SRV_HST: i32 = 3;

/// A principal: name type, name components and realm. Comparisons ignore the
/// name type, as RFC 4120 6.2 asks.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The name type.
    pub name_type: i32,
    /// The name components (`["host", "server.example.com"]`).
    pub components: Vec<String>,
    /// The realm.
    pub realm: String,
}

impl PartialEq for Principal {
    fn eq(&self, other: &Self) -> bool {
        self.components == other.components && self.realm == other.realm
    }
}

impl Eq for Principal {}

impl std::hash::Hash for Principal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.components.hash(state);
        self.realm.hash(state);
    }
}

impl Principal {
    /// Parses `a/b@REALM` (`default_realm` when no realm is given). A name
    /// with one component is a user (NT-PRINCIPAL), with more a service
    /// instance (NT-SRV-INST).
    pub fn parse(text: &str, default_realm: &str) -> Result<Principal, String> {
        let mut components = vec![String::new()];
        let mut realm: Option<String> = None;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let in_realm = realm.is_some();
            let c = match c {
                '\\' => match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('0') => '\0',
                    Some(other) => other,
                    None => return Err(format!("principal {text:?} ends with a lone '\\'")),
                },
                '/' if !in_realm => {
                    components.push(String::new());
                    continue;
                }
                '@' if !in_realm => {
                    realm = Some(String::new());
                    continue;
                }
                c => c,
            };
            match realm.as_mut() {
                Some(r) => r.push(c),
                None => components.last_mut().ok_or("empty principal")?.push(c),
            }
        }
        if components.iter().any(String::is_empty) {
            return Err(format!("principal {text:?} has an empty name component"));
        }
        let realm = match realm {
            Some(r) if r.is_empty() => {
                return Err(format!("principal {text:?} has an empty realm"));
            }
            Some(r) => r,
            None if default_realm.is_empty() => {
                return Err(format!(
                    "principal {text:?} names no realm and no default realm is configured"
                ));
            }
            None => default_realm.to_string(),
        };
        if !text.is_ascii() || !realm.is_ascii() {
            return Err(format!("principal {text:?} is not ASCII"));
        }
        let name_type = if components.len() == 1 {
            NT_PRINCIPAL
        } else {
            NT_SRV_INST
        };
        Ok(Principal {
            name_type,
            components,
            realm,
        })
    }

    /// A target name as InitializeSecurityContext receives it (pszTargetName):
    ///
    /// * an SPN, `service/host[:port][@REALM]` (any name with a `/`), parsed as
    ///   written (MIT keeps a Kerberos name's case); without a realm, the
    ///   host's realm by `realm_of_host` (krb5.conf `[domain_realm]`), else
    ///   `default_realm`;
    /// * a GSS host-based service name, `service@host` (RFC 2743 4.1,
    ///   GSS_C_NT_HOSTBASED_SERVICE), read as MIT does: `service/host` of
    ///   name type NT-SRV-HST, the service's case kept, the host lower-cased
    ///   without a final dot, the realm the host's by `realm_of_host`, else
    ///   `default_realm`: `HOST@Server.Example` is `HOST/server.example`
    ///   (MIT lower-cases the host only);
    /// * `name@REALM` where REALM `is_realm` (a configured realm), and a bare
    ///   `name`: a principal, as [`Principal::parse`] reads it.
    pub fn parse_target(
        text: &str,
        default_realm: &str,
        realm_of_host: impl Fn(&str) -> Option<String>,
        is_realm: impl Fn(&str) -> bool,
    ) -> Result<Principal, String> {
        let has_slash = unescaped(text, '/').is_some();
        if has_slash {
            let mut p = Principal::parse(text, "-")?;
            if unescaped(text, '@').is_none() {
                let host = p.components.get(1).map(|h| host_of(h)).unwrap_or_default();
                p.realm = realm_of_host(&host)
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| default_realm.to_string());
                if p.realm.is_empty() {
                    return Err(format!(
                        "target {text:?} names no realm and no default realm is configured"
                    ));
                }
            }
            return Ok(p);
        }
        let Some(at) = unescaped(text, '@') else {
            return Principal::parse(text, default_realm);
        };
        let (service, host) = (&text[..at], &text[at + 1..]);
        if is_realm(host) {
            return Principal::parse(text, default_realm);
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if service.is_empty() || host.is_empty() {
            return Err(format!(
                "target {text:?}: a host-based service name is service@host, both non-empty"
            ));
        }
        if service.contains('\\') || host.contains(['\\', '@']) || !text.is_ascii() {
            return Err(format!(
                "target {text:?} is neither an SPN (service/host) nor a host-based name (service@host)"
            ));
        }
        let realm = realm_of_host(&host)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| default_realm.to_string());
        if realm.is_empty() {
            return Err(format!(
                "target {text:?}: no realm for host {host:?} and no default realm is configured"
            ));
        }
        Ok(Principal {
            name_type: NT_SRV_HST,
            components: vec![service.to_string(), host],
            realm,
        })
    }

    /// A user `name@realm`.
    pub fn user(name: &str, realm: &str) -> Principal {
        Principal {
            name_type: NT_PRINCIPAL,
            components: vec![name.to_string()],
            realm: realm.to_string(),
        }
    }

    /// The ticket-granting service of `realm`: `krbtgt/REALM@REALM`.
    pub fn krbtgt(realm: &str) -> Principal {
        Principal {
            name_type: NT_SRV_INST,
            components: vec!["krbtgt".to_string(), realm.to_string()],
            realm: realm.to_string(),
        }
    }

    /// True for `krbtgt/<realm>@<realm>`.
    pub fn is_krbtgt(&self) -> bool {
        self.components.len() == 2
            && self.components.first().is_some_and(|c| c == "krbtgt")
            && self.components.get(1) == Some(&self.realm)
    }

    /// The name without the realm, components joined by `/` (escaped).
    pub fn name(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            escape_into(&mut out, c);
        }
        out
    }

    /// The default salt: the realm, then every component, concatenated.
    pub fn salt(&self) -> Vec<u8> {
        let mut salt = self.realm.as_bytes().to_vec();
        for c in &self.components {
            salt.extend_from_slice(c.as_bytes());
        }
        salt
    }

    /// The ASN.1 PrincipalName (the realm travels separately).
    pub fn to_asn1(&self) -> Result<PrincipalName, String> {
        let strings = self
            .components
            .iter()
            .map(|c| kerberos_string(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PrincipalName {
            name_type: ExplicitContextTag0::from(integer(i64::from(self.name_type))),
            name_string: ExplicitContextTag1::from(Asn1SequenceOf::from(strings)),
        })
    }

    /// The realm as an ASN.1 Realm.
    pub fn realm_asn1(&self) -> Result<Realm, String> {
        kerberos_string(&self.realm)
    }

    /// A principal from its ASN.1 name and realm.
    pub fn from_asn1(name: &PrincipalName, realm: &Realm) -> Principal {
        Principal {
            name_type: int_value(&name.name_type.0).unwrap_or(0) as i32,
            components: name
                .name_string
                .0
                .0
                .iter()
                .map(|s| s.0.to_string())
                .collect(),
            realm: realm.0.to_string(),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut realm = String::new();
        escape_into(&mut realm, &self.realm);
        write!(f, "{}@{}", self.name(), realm)
    }
}

/// The byte offset of the first `c` not escaped by `\\`.
fn unescaped(text: &str, c: char) -> Option<usize> {
    let mut escaped = false;
    for (i, ch) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == c {
            return Some(i);
        }
    }
    None
}

/// The host of an SPN's second component: without `:port`, a final dot, case.
fn host_of(component: &str) -> String {
    let host = match component.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => component,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '/' | '@' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
}

/// A KerberosString (IA5) from text; non-ASCII is an error.
pub fn kerberos_string(text: &str) -> Result<KerberosStringAsn1, String> {
    Ia5String::from_string(text.to_string())
        .map(KerberosStringAsn1::from)
        .map_err(|_| format!("{text:?} is not an IA5 (ASCII) string"))
}

/// A DER INTEGER of `value` (minimal two's complement).
pub fn integer(value: i64) -> IntegerAsn1 {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    IntegerAsn1::from(bytes[start..].to_vec())
}

/// A DER INTEGER of an unsigned 32-bit value (nonce, kvno, sequence number).
pub fn unsigned(value: u32) -> IntegerAsn1 {
    integer(i64::from(value))
}

/// The value of an INTEGER that fits in an i64.
pub fn int_value(value: &IntegerAsn1) -> Option<i64> {
    crate::der::integer(value.as_signed_bytes_be())
}

/// The value of an INTEGER that is an unsigned 32-bit number (also accepts
/// the negative encoding some implementations use for values above 2^31).
pub fn u32_value(value: &IntegerAsn1) -> Option<u32> {
    let v = int_value(value)?;
    if (0..=i64::from(u32::MAX)).contains(&v) {
        Some(v as u32)
    } else if (i64::from(i32::MIN)..0).contains(&v) {
        Some(v as i32 as u32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let p = Principal::parse("host/server.example@EXAMPLE.COM", "OTHER").unwrap();
        assert_eq!(p.components, ["host", "server.example"]);
        assert_eq!(p.realm, "EXAMPLE.COM");
        assert_eq!(p.name_type, NT_SRV_INST);
        assert_eq!(p.to_string(), "host/server.example@EXAMPLE.COM");
        let u = Principal::parse("alice", "R").unwrap();
        assert_eq!(
            (u.to_string(), u.name_type),
            ("alice@R".to_string(), NT_PRINCIPAL)
        );
        assert_eq!(u.salt(), b"Ralice");
        let e = Principal::parse(r"a\/b@R", "").unwrap();
        assert_eq!(e.components, ["a/b"]);
        assert_eq!(e.to_string(), r"a\/b@R");
        assert!(Principal::parse("a//b", "R").is_err());
        assert!(Principal::parse("a@", "R").is_err());
        assert!(Principal::parse("a", "").is_err());
        assert!(Principal::parse("a\\", "R").is_err());
        assert!(Principal::krbtgt("R").is_krbtgt());
    }

    fn target(text: &str) -> Result<Principal, String> {
        Principal::parse_target(
            text,
            "CLIENT.REALM",
            |host| {
                (host == "web.example.com" || host.ends_with(".example.com"))
                    .then(|| "EXAMPLE.COM".to_string())
            },
            |realm| realm == "CLIENT.REALM" || realm == "EXAMPLE.COM",
        )
    }

    #[test]
    fn host_based_service_names_follow_mit_case_rules() {
        let p = target("HOST@Server.Example.COM.").unwrap();
        assert_eq!(p.components, ["HOST", "server.example.com"]);
        assert_eq!(p.realm, "EXAMPLE.COM");
        assert_eq!(p.name_type, NT_SRV_HST);
        assert_eq!(p.to_string(), "HOST/server.example.com@EXAMPLE.COM");
        let p = target("host@localhost").unwrap();
        assert_eq!(p.to_string(), "host/localhost@CLIENT.REALM");
        let p = target("HTTP@web.example.com").unwrap();
        assert_eq!(p.to_string(), "HTTP/web.example.com@EXAMPLE.COM");
        assert!(target("@host").is_err());
        assert!(target("host@").is_err());
        assert!(target("host@a@b").is_err());
    }

    #[test]
    fn spns_keep_their_case_and_find_their_realm() {
        let p = target("HTTP/Web.Example.com").unwrap();
        assert_eq!(p.components, ["HTTP", "Web.Example.com"]);
        assert_eq!(p.realm, "EXAMPLE.COM");
        assert_eq!(p.name_type, NT_SRV_INST);
        let p = target("HTTP/web.example.com:8080").unwrap();
        assert_eq!(p.components, ["HTTP", "web.example.com:8080"]);
        assert_eq!(p.realm, "EXAMPLE.COM");
        let p = target("host/localhost").unwrap();
        assert_eq!(p.to_string(), "host/localhost@CLIENT.REALM");
        let p = target("host/web.example.com@OTHER").unwrap();
        assert_eq!(p.realm, "OTHER");
        assert!(target("host/").is_err());
    }

    #[test]
    fn principal_names_with_a_known_realm_stay_principals() {
        let p = target("alice@EXAMPLE.COM").unwrap();
        assert_eq!(
            (p.components, p.realm),
            (vec!["alice".to_string()], "EXAMPLE.COM".to_string())
        );
        let p = target("alice").unwrap();
        assert_eq!(p.to_string(), "alice@CLIENT.REALM");
        assert!(target("").is_err());
        let none = Principal::parse_target("HOST@server", "", |_| None, |_| false);
        assert!(none.unwrap_err().contains("no default realm"));
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer(0).as_signed_bytes_be(), [0]);
        assert_eq!(integer(128).as_signed_bytes_be(), [0, 128]);
        assert_eq!(integer(-1).as_signed_bytes_be(), [0xff]);
        assert_eq!(integer(5).as_signed_bytes_be(), [5]);
        assert_eq!(u32_value(&unsigned(0xdead_beef)), Some(0xdead_beef));
        assert_eq!(u32_value(&integer(-2)), Some(0xffff_fffe));
    }
}

//! A site for the Negotiate tests: the real Kerberos, NTLM and Negotiate
//! plugins in one registry, with the embedded KDC running (or a KDC address
//! nobody answers on), a service keytab and NTLM users, in one temporary
//! directory. Included by the `negotiate*` tests with `#[path]`.
#![allow(dead_code)]

use sspi_core::{AuthIdentity, CredentialUse};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_plugin_host::{CredentialsHandle, SecurityHost};
use sspi_tests::RegistryFile;

/// The Kerberos realm.
pub const REALM: &str = "SSPI-PLUG.TEST";
/// The service the tests authenticate to.
pub const SERVICE: &str = "host/localhost";

const DATABASE: &str = "\
alice              password alice-password
host/localhost     password host-service-secret
";

/// Whether the site's KDC answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdc {
    /// The embedded KDC runs.
    Running,
    /// The registry names an address where nothing listens.
    Down,
}

/// A running site.
pub struct Site {
    /// The KDC, when it runs (stops on drop).
    pub kdc: Option<KdcHandle>,
    /// The registry file (and its directory).
    pub registry: RegistryFile,
}

impl Site {
    /// A host loaded from the site's registry.
    pub fn host(&self) -> SecurityHost {
        self.registry.host()
    }
}

/// A loopback address nothing listens on (bound, then released).
pub fn dead_address() -> String {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let address = socket.local_addr().expect("address");
    drop(socket);
    address.to_string()
}

/// The registry: `negotiate` lines in the Negotiate key, the KDC at `kdc`.
pub fn registry_text(kdc: &str, providers: &str, negotiate: &str) -> String {
    registry_text_for(REALM, kdc, "service.keytab", providers, negotiate)
}

/// The registry for Kerberos realm `realm` (KDC at `kdc`, the service's keys
/// in `keytab`, alice / alice-password).
pub fn registry_text_for(
    realm: &str,
    kdc: &str,
    keytab: &str,
    providers: &str,
    negotiate: &str,
) -> String {
    format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="{providers}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{realm}"
"Keytab"="{keytab}"
"ServicePrincipal"="{SERVICE}"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"KdcTimeout"=dword:000001f4
"KdcRetries"=dword:00000000

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{realm}]
"KdcNames"="{kdc}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DnsComputerName"="server.sspi-plug.test"
"DnsDomainName"="sspi-plug.test"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\alice]
"Password"="alice-password"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Negotiate]
{negotiate}
"#
    )
}

/// The three plugins, Negotiate last.
pub const PROVIDERS: &str = "sspi_kerberos.dll, sspi_ntlm.dll, sspi_negotiate.dll";

/// A site whose Negotiate key holds `negotiate` lines.
pub fn site(kdc: Kdc, negotiate: &str) -> Site {
    site_with(kdc, PROVIDERS, negotiate)
}

/// A site with other `providers`.
pub fn site_with(kdc: Kdc, providers: &str, negotiate: &str) -> Site {
    let db = Database::parse(DATABASE, REALM, "test-database").expect("database");
    let keytab = db.keytab(&[SERVICE]).expect("service keytab");
    let (kdc, address) = match kdc {
        Kdc::Running => {
            let handle = KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db))
                .expect("KDC starts");
            let address = handle.addr().to_string();
            (Some(handle), address)
        }
        Kdc::Down => (None, dead_address()),
    };
    let registry = RegistryFile::new(&registry_text(&address, providers, negotiate));
    std::fs::write(
        registry.dir.path().join("service.keytab"),
        keytab.to_bytes().expect("keytab bytes"),
    )
    .expect("write keytab");
    Site { kdc, registry }
}

/// Client credentials of `package` (default user, or `identity`).
pub fn client(
    host: &SecurityHost,
    package: &str,
    identity: Option<AuthIdentity>,
) -> CredentialsHandle {
    host.acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, identity)
        .unwrap_or_else(|e| panic!("{package} client credentials: {e}"))
}

/// Server credentials of `package`.
pub fn server(
    host: &SecurityHost,
    package: &str,
    identity: Option<AuthIdentity>,
) -> CredentialsHandle {
    host.acquire_credentials_handle(package, None, CredentialUse::INBOUND, identity)
        .unwrap_or_else(|e| panic!("{package} server credentials: {e}"))
}

//! A Kerberos realm for the end-to-end tests: the embedded KDC on 127.0.0.1,
//! its database, a service keytab and a registry naming the real plugin,
//! all in one temporary directory. Included by the `kerberos*` tests with
//! `#[path]`; on its own it is an empty test binary.
#![allow(dead_code)]

use sspi_core::{AuthIdentity, CredentialUse};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_plugin_host::{CredentialsHandle, SecurityHost};
use sspi_tests::RegistryFile;

/// The test realm.
pub const REALM: &str = "SSPI-PLUG.TEST";
/// The service the tests authenticate to.
pub const SERVICE: &str = "host/localhost";

/// The KDC database of the tests.
pub const DATABASE: &str = "\
# principal        password or keys
alice              password alice-password
bob                password bob-password
host/localhost     password host-service-secret
";

/// A running realm: KDC, registry, keytab.
pub struct Realm {
    /// The KDC (stops on drop).
    pub kdc: KdcHandle,
    /// The registry file (and its directory, holding the keytab).
    pub registry: RegistryFile,
}

impl Realm {
    /// A host loaded from the realm's registry.
    pub fn host(&self) -> SecurityHost {
        self.registry.host()
    }

    /// AS requests the KDC answered so far.
    pub fn as_requests(&self) -> u64 {
        self.kdc
            .state()
            .as_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// TGS requests the KDC answered so far.
    pub fn tgs_requests(&self) -> u64 {
        self.kdc
            .state()
            .tgs_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The package key for a KDC at `kdc` plus `extra` lines.
pub fn registry_text(kdc: &str, extra: &str) -> String {
    format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{REALM}"
"Keytab"="service.keytab"
"ServicePrincipal"="{SERVICE}"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"KdcTimeout"=dword:000007d0
"KdcRetries"=dword:00000000
{extra}
[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{REALM}]
"KdcNames"="{kdc}"
"#
    )
}

/// The test database.
pub fn database() -> Database {
    Database::parse(DATABASE, REALM, "test-database").expect("database")
}

/// A realm with the default database and `config` changes to the KDC, and
/// `extra` lines in the package's registry key.
pub fn realm_with(tune: impl FnOnce(&mut KdcConfig), extra: &str) -> Realm {
    realm_from(DATABASE, &[SERVICE], tune, extra)
}

/// A realm with the KDC database `database` (the realm [`REALM`]), the keys
/// of `services` in `service.keytab`, `config` changes to the KDC, and
/// `extra` lines in the package's registry key.
pub fn realm_from(
    database: &str,
    services: &[&str],
    tune: impl FnOnce(&mut KdcConfig),
    extra: &str,
) -> Realm {
    let db = Database::parse(database, REALM, "test-database").expect("database");
    let keytab = db.keytab(services).expect("service keytab");
    let mut config = KdcConfig::new(db);
    tune(&mut config);
    let kdc = KdcHandle::start("127.0.0.1:0".parse().unwrap(), config).expect("KDC starts");
    let registry = RegistryFile::new(&registry_text(&kdc.addr().to_string(), extra));
    std::fs::write(
        registry.dir.path().join("service.keytab"),
        keytab.to_bytes().expect("keytab bytes"),
    )
    .expect("write keytab");
    Realm { kdc, registry }
}

/// A realm with defaults.
pub fn realm() -> Realm {
    realm_with(|_| {}, "")
}

/// Client credentials (the default user, or `identity`) and server credentials.
pub fn credentials(
    host: &SecurityHost,
    identity: Option<AuthIdentity>,
) -> (CredentialsHandle, CredentialsHandle) {
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, identity)
        .expect("client credentials");
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .expect("server credentials");
    (client, server)
}

//! A client of the demo realm for the CLI's HTTP tests: the embedded KDC on
//! `kdc/demo/database.txt` (a free port) and a client registry for it
//! (Kerberos as alice, Negotiate without NTLM fallback).
#![allow(dead_code)] // each test binary uses part of it

use sspi_kdc::{Database, KdcConfig, KdcHandle};
use std::path::{Path, PathBuf};

/// The demo realm's KDC on a free port and a client registry for it.
pub struct Client {
    _kdc: KdcHandle,
    /// A directory for the test's files.
    pub dir: tempfile::TempDir,
    /// The client registry.
    pub registry: PathBuf,
}

/// Starts the KDC and writes the registry.
pub fn client() -> Client {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let db = Database::load(&root.join("kdc/demo/database.txt"), "SSPI-PLUG.TEST").unwrap();
    let kdc = KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("client.reg");
    std::fs::write(
        &registry,
        format!(
            r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll, sspi_ntlm.dll, sspi_negotiate.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="SSPI-PLUG.TEST"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\SSPI-PLUG.TEST]
"KdcNames"="{}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Negotiate]
"Packages"="Kerberos, NTLM"
"AllowNtlmFallback"=dword:00000000
"#,
            kdc.addr()
        ),
    )
    .unwrap();
    Client {
        _kdc: kdc,
        dir,
        registry,
    }
}

//! Helpers for the end-to-end tests: registry files in temporary directories,
//! hosts built from them, and the Test package's standard configuration.
//!
//! The plugin libraries are the ones cargo built in this target directory
//! (`target/debug/libsspi_test.so`, ...); the host finds them beside the test
//! binary's directory, exactly as `sspi` finds them beside itself.

use sspi_core::{
    AscReq, AuthIdentity, CredentialUse, IscReq, SecBuffer, SecBufferRef, SecurityStatus,
};
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::path::PathBuf;

pub mod export_peer;
pub mod net;

// Link the Test package so that `builtin:test` is registered.
pub use sspi_package_test;

/// What the tests ask for on the client side.
pub const ISC_REQ: IscReq = IscReq::PROTECTED_CONNECTION;

/// What the tests ask for on the server side.
pub const ASC_REQ: AscReq = AscReq::PROTECTED_CONNECTION;

/// A registry file in its own temporary directory.
pub struct RegistryFile {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
}

impl RegistryFile {
    /// Writes `text` to `sspi.reg` in a new temporary directory.
    pub fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("sspi.reg");
        std::fs::write(&path, text).expect("write registry file");
        Self { dir, path }
    }

    /// A host loaded from this file.
    pub fn host(&self) -> SecurityHost {
        SecurityHost::from_registry_files(&[&self.path]).expect("registry loads")
    }
}

/// The Test package's key: `legs`, `CompleteAuthToken`, users alice and bob
/// (domain SSPI-PLUG), default user alice.
pub fn test_package_key(legs: u32, complete_auth_token: bool) -> String {
    format!(
        r#"[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test]
"Legs"=dword:{legs:08x}
"CompleteAuthToken"=dword:{complete:08x}
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test\Users\alice]
"Password"="alice-password"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test\Users\bob]
"Password"="bob-password"
"#,
        complete = u32::from(complete_auth_token)
    )
}

/// A whole registry: `providers` (the `Providers` value) plus the Test package's key.
pub fn registry_text(providers: &str, legs: u32, complete_auth_token: bool) -> String {
    format!(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"{providers}\"\n\n{}",
        test_package_key(legs, complete_auth_token)
    )
}

/// Client (OUTBOUND, with `identity` or the default user) and server (INBOUND)
/// credentials of the Test package.
pub fn credentials(
    host: &SecurityHost,
    identity: Option<AuthIdentity>,
) -> (CredentialsHandle, CredentialsHandle) {
    let client = host
        .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, identity)
        .expect("client credentials");
    let server = host
        .acquire_credentials_handle("Test", None, CredentialUse::INBOUND, None)
        .expect("server credentials");
    (client, server)
}

/// A complete Test package handshake with the default user.
pub fn established(host: &SecurityHost) -> CompletedHandshake {
    let (client, server) = credentials(host, None);
    loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).expect("handshake")
}

/// One handshake leg driven by hand, on the client (InitializeSecurityContext)
/// or the server (AcceptSecurityContext): the status (or the error's status)
/// and the token produced.
pub fn leg(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    client: bool,
    input: Option<&[u8]>,
) -> (SecurityStatus, Vec<u8>) {
    let mut out = vec![0u8; 1024];
    let mut output = [SecBuffer::token(&mut out)];
    let input_buffers = [SecBufferRef::token(input.unwrap_or_default())];
    let input: &[SecBufferRef<'_>] = if input.is_some() { &input_buffers } else { &[] };
    let result = if client {
        credentials
            .initialize_security_context(context, None, ISC_REQ, input, &mut output)
            .map(|step| step.status)
    } else {
        credentials
            .accept_security_context(context, ASC_REQ, input, &mut output)
            .map(|step| step.status)
    };
    match result {
        Ok(status) => (status, output[0].as_slice().to_vec()),
        Err(e) => (e.status(), Vec::new()),
    }
}

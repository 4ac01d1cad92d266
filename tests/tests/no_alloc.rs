//! Per-message calls through the host allocate nothing — counted inside the
//! plugin too (see `common/counting_malloc.rs`). A control measurement proves
//! allocations inside the plugin are seen. The Test package's calls, and
//! NTLM's DecryptMessage from one SECBUFFER_STREAM buffer.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use sspi_core::{CredentialUse, Qop, SecBuffer, SecBufferType};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, established, registry_text};

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

#[test]
fn sign_verify_encrypt_decrypt_through_the_plugin_allocate_nothing() {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 4, false));
    let host = registry.host();
    let mut done = established(&host);

    counting_malloc::assert_per_message_calls_allocate_nothing(&mut done);
}

/// The NTLM plugin with SSPI-PLUG\alice.
fn ntlm_registry() -> RegistryFile {
    RegistryFile::new(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_ntlm.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\alice]
"Password"="alice-password"
"#,
    )
}

#[test]
fn ntlm_decrypt_from_a_stream_buffer_allocates_nothing() {
    let registry = ntlm_registry();
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
        .expect("client credentials");
    let server = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::INBOUND, None)
        .expect("server credentials");
    let mut done =
        loopback::handshake(&client, &server, Some("host/server"), ISC_REQ, ASC_REQ).unwrap();

    const N: usize = 1024;
    let mut data = vec![0u8; N];
    let mut token = vec![0u8; 16];
    let mut stream = vec![0u8; N + 16];
    let mut failures = 0usize;
    let mut opened = 0usize;
    let allocations = counting_malloc::measure(|| {
        for round in 0..400 {
            let (from, to) = if round % 2 == 0 {
                (&mut done.client, &mut done.server)
            } else {
                (&mut done.server, &mut done.client)
            };
            data.fill(0x5A);
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            failures += usize::from(from.encrypt_message(Qop::DEFAULT, &mut message, 0).is_err());
            stream[..16].copy_from_slice(&token);
            stream[16..].copy_from_slice(&data);
            let mut message = [
                SecBuffer::new(SecBufferType::STREAM, &mut stream),
                SecBuffer::data(&mut []),
            ];
            failures += usize::from(to.decrypt_message(&mut message, 0).is_err());
            let plain = message[1].as_slice();
            opened += usize::from(plain.len() == N && plain.iter().all(|&b| b == 0x5A));
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(opened, 400, "DATA pointed at the plaintext every time");
    assert_eq!(
        allocations, 0,
        "NTLM stream-form DecryptMessage allocated {allocations} times"
    );
}

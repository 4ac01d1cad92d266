//! `ntlm`: the NTLM package (loaded as the plugin, through the host) against
//! the Devolutions `sspi` crate and the raw primitives.
//!
//! * `ntlm_handshake/{ours_plugin,sspi_rs}`: a full 3-leg handshake, both sides
//!   in process (ours through `loopback::handshake`);
//! * `ntlm_seal_unseal_64KiB/{ours_plugin,sspi_rs,raw_rc4_hmac_md5}`: one
//!   EncryptMessage + DecryptMessage of 64 KiB; "raw" is the same RC4 and
//!   HMAC-MD5 work done directly with the `rc4`, `hmac` and `md-5` crates.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use rc4::{Rc4, StreamCipher};
use sspi::{
    AuthIdentity as DAuthIdentity, AuthIdentityBuffers, BufferType, ClientRequestFlags,
    CredentialUse as DCredentialUse, DataRepresentation, EncryptionFlags, Ntlm, SecurityBuffer,
    SecurityBufferRef, SecurityStatus as DStatus, ServerRequestFlags, Sspi, SspiImpl, Username,
};
use sspi_core::{CredentialUse, Qop, SecBuffer};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::hint::black_box;

const TARGET: &str = "host/server.sspi-plug.test";
const LEN: usize = 64 * 1024;

fn registry() -> RegistryFile {
    let registry = RegistryFile::new(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_ntlm.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"
"UserDatabase"="users.txt"
"#,
    );
    let mut users = String::new();
    for i in 0..1000 {
        users.push_str(&format!("SSPI-PLUG:user{i}:password-{i}\n"));
    }
    users.push_str("SSPI-PLUG:alice:alice-password\n");
    std::fs::write(registry.dir.path().join("users.txt"), users).unwrap();
    registry
}

fn sspi_rs(inbound: bool) -> (Ntlm, Option<AuthIdentityBuffers>) {
    let mut ntlm = Ntlm::new();
    let identity = DAuthIdentity {
        username: Username::new("alice", Some("SSPI-PLUG")).unwrap(),
        password: "alice-password".to_string().into(),
    };
    let creds = ntlm
        .acquire_credentials_handle()
        .with_credential_use(if inbound {
            DCredentialUse::Inbound
        } else {
            DCredentialUse::Outbound
        })
        .with_auth_data(&identity)
        .execute(&mut ntlm)
        .unwrap()
        .credentials_handle;
    (ntlm, creds)
}

fn sspi_rs_initialize(
    ntlm: &mut Ntlm,
    creds: &mut Option<AuthIdentityBuffers>,
    input: Option<Vec<u8>>,
) -> Vec<u8> {
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let has_input = input.is_some();
    let mut input = vec![SecurityBuffer::new(
        input.unwrap_or_default(),
        BufferType::Token,
    )];
    let mut builder = ntlm
        .initialize_security_context()
        .with_credentials_handle(creds)
        .with_context_requirements(
            ClientRequestFlags::CONFIDENTIALITY
                | ClientRequestFlags::INTEGRITY
                | ClientRequestFlags::REPLAY_DETECT
                | ClientRequestFlags::SEQUENCE_DETECT,
        )
        .with_target_data_representation(DataRepresentation::Native)
        .with_target_name(TARGET)
        .with_output(&mut output);
    if has_input {
        builder = builder.with_input(&mut input);
    }
    ntlm.initialize_security_context_impl(&mut builder)
        .unwrap()
        .resolve_to_result()
        .unwrap();
    output.remove(0).buffer
}

fn sspi_rs_accept(
    ntlm: &mut Ntlm,
    creds: &mut Option<AuthIdentityBuffers>,
    input: Vec<u8>,
) -> Vec<u8> {
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let mut input = vec![SecurityBuffer::new(input, BufferType::Token)];
    let builder = ntlm
        .accept_security_context()
        .with_credentials_handle(creds)
        .with_context_requirements(
            ServerRequestFlags::CONFIDENTIALITY | ServerRequestFlags::INTEGRITY,
        )
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let status = ntlm
        .accept_security_context_impl(builder)
        .unwrap()
        .resolve_to_result()
        .unwrap()
        .status;
    if status == DStatus::CompleteNeeded {
        ntlm.complete_auth_token(&mut output).unwrap();
    }
    output.remove(0).buffer
}

/// A complete sspi-rs handshake: (client, server).
fn sspi_rs_handshake() -> (Ntlm, Ntlm) {
    let (mut client, mut client_creds) = sspi_rs(false);
    let (mut server, mut server_creds) = sspi_rs(true);
    let negotiate = sspi_rs_initialize(&mut client, &mut client_creds, None);
    let challenge = sspi_rs_accept(&mut server, &mut server_creds, negotiate);
    let authenticate = sspi_rs_initialize(&mut client, &mut client_creds, Some(challenge));
    let last = sspi_rs_accept(&mut server, &mut server_creds, authenticate);
    assert!(last.is_empty());
    (client, server)
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("ntlm_handshake");
    let registry = registry();
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::INBOUND, None)
        .unwrap();
    group.bench_function("ours_plugin", |b| {
        b.iter(|| {
            black_box(
                loopback::handshake(&client, &server, Some(TARGET), ISC_REQ, ASC_REQ).unwrap(),
            )
        })
    });
    group.bench_function("sspi_rs", |b| b.iter(|| black_box(sspi_rs_handshake())));
    group.finish();
}

/// The raw work of one seal + unseal: HMAC-MD5 over seq || data, RC4 of the
/// data and of the 8-byte checksum; then the reverse with the peer's handle.
struct Raw {
    sign: hmac::Hmac<md5::Md5>,
    send: Rc4,
    receive: Rc4,
    sequence: u32,
}

impl Raw {
    fn new() -> Self {
        let key = [0x42u8; 16];
        Self {
            sign: <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(&key).unwrap(),
            send: Rc4::new_from_slice(&key).unwrap(),
            receive: Rc4::new_from_slice(&key).unwrap(),
            sequence: 0,
        }
    }

    fn seal_unseal(&mut self, data: &mut [u8], token: &mut [u8; 16]) {
        let seq = self.sequence.to_le_bytes();
        self.sequence += 1;
        let mac = self
            .sign
            .clone()
            .chain_update(seq)
            .chain_update(&*data)
            .finalize()
            .into_bytes();
        self.send.apply_keystream(data);
        token[4..12].copy_from_slice(&mac[..8]);
        self.send.apply_keystream(&mut token[4..12]);
        token[12..].copy_from_slice(&seq);

        self.receive.apply_keystream(data);
        let mac = self
            .sign
            .clone()
            .chain_update(&token[12..])
            .chain_update(&*data)
            .finalize()
            .into_bytes();
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&token[4..12]);
        self.receive.apply_keystream(&mut checksum);
        assert_eq!(checksum, mac[..8]);
    }
}

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("ntlm_seal_unseal_64KiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    let mut data = vec![0xA5u8; LEN];
    let mut token = vec![0u8; 16];

    let registry = registry();
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut done = loopback::handshake(&client, &server, Some(TARGET), ISC_REQ, ASC_REQ).unwrap();
    group.bench_function("ours_plugin", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            done.client
                .encrypt_message(Qop::DEFAULT, &mut message, 0)
                .unwrap();
            black_box(done.server.decrypt_message(&mut message, 0).unwrap());
        })
    });

    let (mut sspi_client, mut sspi_server) = sspi_rs_handshake();
    group.bench_function("sspi_rs", |b| {
        b.iter(|| {
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            sspi_client
                .encrypt_message(EncryptionFlags::empty(), &mut message)
                .unwrap();
            black_box(sspi_server.decrypt_message(&mut message).unwrap());
        })
    });

    let mut raw = Raw::new();
    let mut raw_token = [0u8; 16];
    group.bench_function("raw_rc4_hmac_md5", |b| {
        b.iter(|| raw.seal_unseal(black_box(&mut data), &mut raw_token))
    });
    group.finish();
    assert!(data.iter().all(|&b| b == 0xA5), "every variant round-trips");
}

criterion_group!(benches, handshake, seal);
criterion_main!(benches);

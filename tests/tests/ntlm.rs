//! The NTLM package end to end: loaded as the real plugin (`sspi_ntlm.dll`)
//! and as a built-in (`builtin:ntlm`) through registry files, against itself
//! and against the Devolutions `sspi` crate (both directions), with the
//! server's refusals, per-message protection, and a malloc count of the
//! per-message calls inside the plugin.

use sspi_core::{
    AuthIdentity, ContextFlags, CredentialUse, IscRet, MessageError, Qop, SecBuffer, SecBufferRef,
    SecBufferType, SecurityError, SecurityStatus,
};
use sspi_package_ntlm as _;
use sspi_plugin_host::loopback::{self, CompletedHandshake, TokenFlow};
use sspi_plugin_host::{CredentialsHandle, PackageSource, SecurityContextHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};

const TARGET: &str = "host/server.sspi-plug.test";

/// A registry with the NTLM package (`providers`), users from a database
/// file beside it and from the registry.
fn ntlm_registry(providers: &str) -> RegistryFile {
    let registry = RegistryFile::new(&format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="{providers}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"LmCompatibilityLevelClient"=dword:00000003
"LmCompatibilityLevelServer"=dword:00000005
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DnsComputerName"="server.sspi-plug.test"
"DnsDomainName"="sspi-plug.test"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"
"UserDatabase"="users.txt"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\carol]
"Password"="alice-password"
"#
    ));
    std::fs::write(
        registry.dir.path().join("users.txt"),
        "# DOMAIN:user:password or DOMAIN:user:<NT hash>\n\
         SSPI-PLUG:alice:alice-password\n\
         SSPI-PLUG:bob:bob-password\n\
         OTHER-DOM:alice:alice-password\n",
    )
    .unwrap();
    registry
}

fn credentials(
    host: &SecurityHost,
    identity: Option<AuthIdentity>,
) -> (CredentialsHandle, CredentialsHandle) {
    let client = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, identity)
        .expect("client credentials");
    let server = host
        .acquire_credentials_handle("ntlm", None, CredentialUse::INBOUND, None)
        .expect("server credentials");
    (client, server)
}

fn round_trips(
    sender: &mut SecurityContextHandle,
    receiver: &mut SecurityContextHandle,
    text: &[u8],
) {
    for _ in 0..3 {
        let mut data = text.to_vec();
        let mut signature = vec![0u8; 16];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        sender
            .make_signature(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        assert_eq!(message[1].len(), 16);
        assert_eq!(receiver.verify_signature(&mut message, 0), Ok(Qop::DEFAULT));

        let mut data = text.to_vec();
        let mut trailer = vec![0u8; 16];
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        sender
            .encrypt_message(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        assert_ne!(
            message[1].as_slice(),
            text,
            "EncryptMessage encrypts in place"
        );
        assert_eq!(receiver.decrypt_message(&mut message, 0), Ok(Qop::DEFAULT));
        assert_eq!(message[1].as_slice(), text);
    }
}

fn full_handshake(providers: &str, builtin: bool) {
    let registry = ntlm_registry(providers);
    let host = registry.host();
    let entry = &host.enumerate_security_packages()[0];
    assert_eq!(entry.name(), "NTLM");
    assert_eq!(
        matches!(entry.source(), PackageSource::Builtin { .. }),
        builtin
    );
    let info = entry.info().expect("available");
    assert_eq!(
        (info.rpc_id, info.max_token, info.capabilities.0),
        (10, 2888, 0x0008_2B37)
    );

    let (client, server) = credentials(&host, None);
    assert_eq!(
        client.query_credentials_names().unwrap(),
        r"SSPI-PLUG\alice"
    );
    let mut done = loopback::handshake(&client, &server, Some(TARGET), ISC_REQ, ASC_REQ).unwrap();
    let legs: Vec<_> = done
        .legs
        .iter()
        .map(|l| (l.flow, l.status, l.token_len > 0))
        .collect();
    assert_eq!(
        legs,
        [
            (
                TokenFlow::ClientToServer,
                SecurityStatus::SEC_I_CONTINUE_NEEDED,
                true
            ),
            (
                TokenFlow::ServerToClient,
                SecurityStatus::SEC_I_CONTINUE_NEEDED,
                true
            ),
            (TokenFlow::ClientToServer, SecurityStatus::SEC_E_OK, true),
            (TokenFlow::ServerToClient, SecurityStatus::SEC_E_OK, false),
        ]
    );
    assert_eq!(done.legs[0].token_len, 40, "NEGOTIATE with VERSION");
    let sizes = done.client.sizes().unwrap();
    assert_eq!(
        (
            sizes.max_token,
            sizes.max_signature,
            sizes.block_size,
            sizes.security_trailer
        ),
        (2888, 16, 0, 16)
    );
    assert_eq!(done.server.names().unwrap(), r"SSPI-PLUG\alice");
    assert_eq!(done.client.names().unwrap(), r"SSPI-PLUG\alice");
    let client_key = done.client.session_key().unwrap();
    assert_eq!(client_key.len(), 16);
    assert_eq!(
        client_key.expose(),
        done.server.session_key().unwrap().expose()
    );
    let isc = done.client_step.attributes;
    assert!(isc.contains(
        IscRet::CONFIDENTIALITY
            | IscRet::INTEGRITY
            | IscRet::REPLAY_DETECT
            | IscRet::SEQUENCE_DETECT
    ));
    assert!(
        !isc.contains(IscRet::MUTUAL_AUTH),
        "NTLM does not authenticate the server"
    );
    assert_eq!(
        done.client.flags().unwrap(),
        ContextFlags::Client(done.client_step.attributes)
    );
    assert_eq!(
        done.server.flags().unwrap(),
        ContextFlags::Server(done.server_step.attributes)
    );
    let lifespan = done.server.lifespan().unwrap();
    assert!(lifespan.expiry > lifespan.start);
    assert_eq!(lifespan.expiry, done.server_step.expiry);

    round_trips(&mut done.client, &mut done.server, b"client to server");
    round_trips(&mut done.server, &mut done.client, b"server to client");
}

#[test]
fn handshake_through_the_plugin() {
    full_handshake("sspi_ntlm.dll", false);
}

#[test]
fn handshake_as_a_builtin() {
    full_handshake("builtin:ntlm", true);
}

/// One handshake leg through the host, returning the token produced.
fn leg(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    client: bool,
    input: Option<&[u8]>,
) -> Result<Vec<u8>, SecurityError> {
    let mut out = vec![0u8; 2888];
    let input_buffers = [SecBufferRef::token(input.unwrap_or_default())];
    let input: &[SecBufferRef<'_>] = if input.is_some() { &input_buffers } else { &[] };
    let mut output = [SecBuffer::token(&mut out)];
    if client {
        credentials.initialize_security_context(
            context,
            Some(TARGET),
            ISC_REQ,
            input,
            &mut output,
        )?;
    } else {
        credentials.accept_security_context(context, ASC_REQ, input, &mut output)?;
    }
    Ok(output[0].as_slice().to_vec())
}

/// A handshake through the host with `tamper` applied to the AUTHENTICATE message.
fn tampered(
    host: &SecurityHost,
    identity: Option<AuthIdentity>,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> Result<(), SecurityError> {
    let (client, server) = credentials(host, identity);
    let (mut c, mut s) = (None, None);
    let negotiate = leg(&client, &mut c, true, None)?;
    let challenge = leg(&server, &mut s, false, Some(&negotiate))?;
    let mut authenticate = leg(&client, &mut c, true, Some(&challenge))?;
    tamper(&mut authenticate);
    let last = leg(&server, &mut s, false, Some(&authenticate))?;
    assert!(last.is_empty());
    Ok(())
}

fn status(result: Result<(), SecurityError>) -> SecurityStatus {
    match result {
        Ok(()) => SecurityStatus::SEC_E_OK,
        Err(e) => e.status(),
    }
}

/// Replaces a UTF-16 name in the AUTHENTICATE field whose descriptor is at `field_at`.
fn rename(authenticate: &mut [u8], field_at: usize, from: &str, to: &str) {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let (from, to) = (utf16(from), utf16(to));
    let offset =
        u32::from_le_bytes(authenticate[field_at + 4..field_at + 8].try_into().unwrap()) as usize;
    assert_eq!(&authenticate[offset..offset + from.len()], from.as_slice());
    authenticate[offset..offset + to.len()].copy_from_slice(&to);
}

#[test]
fn the_server_refuses_what_it_must() {
    let registry = ntlm_registry("sspi_ntlm.dll");
    let host = registry.host();
    let ok = status(tampered(&host, None, |_| {}));
    assert_eq!(ok, SecurityStatus::SEC_E_OK);
    let bob = AuthIdentity::new("bob", "SSPI-PLUG", "bob-password");
    assert_eq!(
        status(tampered(&host, Some(bob), |_| {})),
        SecurityStatus::SEC_E_OK
    );

    let wrong = AuthIdentity::new("bob", "SSPI-PLUG", "alice-password");
    assert_eq!(
        status(tampered(&host, Some(wrong), |_| {})),
        SecurityStatus::SEC_E_LOGON_DENIED
    );
    let unknown = AuthIdentity::new("mallory", "SSPI-PLUG", "alice-password");
    assert_eq!(
        status(tampered(&host, Some(unknown), |_| {})),
        SecurityStatus::SEC_E_LOGON_DENIED
    );

    // carol (registry) and OTHER-DOM\alice (database) share alice's password: a
    // client naming them with alice's proof is refused.
    let renamed = tampered(&host, None, |auth| rename(auth, 36, "alice", "carol"));
    assert_eq!(status(renamed), SecurityStatus::SEC_E_LOGON_DENIED);
    let redomained = tampered(&host, None, |auth| {
        rename(auth, 28, "SSPI-PLUG", "OTHER-DOM")
    });
    assert_eq!(status(redomained), SecurityStatus::SEC_E_LOGON_DENIED);
    // ...while carol herself gets in.
    let carol = AuthIdentity::new("carol", "SSPI-PLUG", "alice-password");
    assert_eq!(
        status(tampered(&host, Some(carol), |_| {})),
        SecurityStatus::SEC_E_OK
    );

    // A tampered MIC, or a flag downgrade the MIC covers.
    let mic = tampered(&host, None, |auth| auth[72] ^= 0x01);
    assert_eq!(status(mic), SecurityStatus::SEC_E_INVALID_TOKEN);
    let downgrade = tampered(&host, None, |auth| auth[60] &= !0x20);
    assert_eq!(status(downgrade), SecurityStatus::SEC_E_INVALID_TOKEN);
}

#[test]
fn malformed_messages_are_invalid_tokens_never_panics() {
    let registry = ntlm_registry("sspi_ntlm.dll");
    let host = registry.host();
    let (client, server) = credentials(&host, None);
    let (mut c, mut s) = (None, None);
    let negotiate = leg(&client, &mut c, true, None).unwrap();
    let challenge = leg(&server, &mut s, false, Some(&negotiate)).unwrap();
    let authenticate = leg(&client, &mut c, true, Some(&challenge)).unwrap();

    let mut seed = 0x1234_5678u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for (which, valid) in [(0, &negotiate), (1, &challenge), (2, &authenticate)] {
        for round in 0..200 {
            let mut bad = valid.clone();
            match round % 4 {
                0 => bad.truncate(next() as usize % valid.len()),
                1 => {
                    for _ in 0..1 + next() % 4 {
                        let i = next() as usize % bad.len();
                        bad[i] = next() as u8;
                    }
                }
                2 => {
                    // Field descriptors pointing anywhere.
                    let i = 12 + (next() as usize % 6) * 8;
                    if i + 8 <= bad.len() {
                        bad[i..i + 2].copy_from_slice(&(next() as u16).to_le_bytes());
                        bad[i + 4..i + 8].copy_from_slice(&next().to_le_bytes());
                    }
                }
                _ => bad = (0..next() % 300).map(|_| next() as u8).collect(),
            }
            let result = match which {
                0 => {
                    let mut fresh = None;
                    leg(&server, &mut fresh, false, Some(&bad)).map(|_| ())
                }
                1 => {
                    let mut fresh = None;
                    leg(&client, &mut fresh, true, None).unwrap();
                    leg(&client, &mut fresh, true, Some(&bad)).map(|_| ())
                }
                _ => {
                    let (mut fc, mut fs) = (None, None);
                    let n = leg(&client, &mut fc, true, None).unwrap();
                    leg(&server, &mut fs, false, Some(&n)).unwrap();
                    leg(&server, &mut fs, false, Some(&bad)).map(|_| ())
                }
            };
            if let Err(e) = result {
                assert!(
                    matches!(
                        e.status(),
                        SecurityStatus::SEC_E_INVALID_TOKEN
                            | SecurityStatus::SEC_E_LOGON_DENIED
                            | SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION
                    ),
                    "message {which}, round {round}: {e}"
                );
            }
        }
    }
}

fn established(host: &SecurityHost) -> CompletedHandshake {
    let (client, server) = credentials(host, None);
    loopback::handshake(&client, &server, Some(TARGET), ISC_REQ, ASC_REQ).unwrap()
}

#[test]
fn replayed_reordered_and_tampered_messages() {
    let registry = ntlm_registry("sspi_ntlm.dll");
    let host = registry.host();
    let mut done = established(&host);
    let seal = |ctx: &mut SecurityContextHandle, text: &[u8]| {
        let (mut token, mut data) = (vec![0u8; 16], text.to_vec());
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        ctx.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
        (token, data)
    };
    let open = |ctx: &mut SecurityContextHandle, sealed: &(Vec<u8>, Vec<u8>)| {
        let (mut token, mut data) = sealed.clone();
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        ctx.decrypt_message(&mut message, 0)
            .map(|_| data)
            .map_err(|e| e.status())
    };
    let m0 = seal(&mut done.client, b"first");
    let m1 = seal(&mut done.client, b"second");
    assert_eq!(
        open(&mut done.server, &m1),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    assert_eq!(open(&mut done.server, &m0).unwrap(), b"first");
    assert_eq!(
        open(&mut done.server, &m0),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    let mut bad = m1.clone();
    bad.1[3] ^= 0x10;
    assert_eq!(
        open(&mut done.server, &bad),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    let mut bad_trailer = seal(&mut done.client, b"third");
    bad_trailer.0[5] ^= 0x01;
    assert_eq!(
        open(&mut done.server, &bad_trailer),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );

    let sign = |ctx: &mut SecurityContextHandle, text: &[u8]| {
        let (mut data, mut token) = (text.to_vec(), vec![0u8; 16]);
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        ctx.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
        token
    };
    let verify = |ctx: &mut SecurityContextHandle, text: &[u8], token: &[u8]| {
        let (mut data, mut token) = (text.to_vec(), token.to_vec());
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        ctx.verify_signature(&mut message, 0)
            .map_err(|e| e.status())
    };
    let s0 = sign(&mut done.server, b"alpha");
    let s1 = sign(&mut done.server, b"beta");
    assert_eq!(
        verify(&mut done.client, b"beta", &s1),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    assert_eq!(verify(&mut done.client, b"alpha", &s0), Ok(Qop::DEFAULT));
    assert_eq!(
        verify(&mut done.client, b"alpha", &s0),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    assert_eq!(
        verify(&mut done.client, b"BETA", &s1),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    assert_eq!(
        verify(&mut done.client, b"x", &s1[..8]),
        Err(SecurityStatus::SEC_E_INVALID_TOKEN)
    );

    // A READONLY buffer is signed but not encrypted.
    let (mut header, mut body, mut token) = (b"header".to_vec(), b"body".to_vec(), vec![0u8; 16]);
    let mut message = [
        SecBuffer::new(SecBufferType::DATA.readonly(), &mut header),
        SecBuffer::data(&mut body),
        SecBuffer::token(&mut token),
    ];
    done.server
        .encrypt_message(Qop::DEFAULT, &mut message, 0)
        .unwrap();
    assert_eq!(message[0].as_slice(), b"header");
    assert_ne!(message[1].as_slice(), b"body");
    assert_eq!(
        done.client.decrypt_message(&mut message, 0),
        Ok(Qop::DEFAULT)
    );
    assert_eq!(message[1].as_slice(), b"body");
}

#[test]
fn registry_errors_name_the_file_and_line() {
    let registry = RegistryFile::new(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_ntlm.dll\"\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM]\n\"UserDatabase\"=\"users.txt\"\n",
    );
    std::fs::write(
        registry.dir.path().join("users.txt"),
        "D:u:p\nbroken line\n",
    )
    .unwrap();
    let host = registry.host();
    let err = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::INBOUND, None)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("users.txt:2:"), "{text}");

    let registry = RegistryFile::new(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_ntlm.dll\"\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM]\n\"LmCompatibilityLevelClient\"=dword:00000000\n",
    );
    let host = registry.host();
    let err = host
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("sspi.reg:7:") && text.contains("LM only"),
        "{text}"
    );
}

/// Interop with the Devolutions `sspi` crate (crates.io).
mod devolutions {
    use super::*;
    use sspi::{
        AuthIdentity as DAuthIdentity, AuthIdentityBuffers, BufferType, ClientRequestFlags,
        CredentialUse as DCredentialUse, DataRepresentation, EncryptionFlags, Ntlm, SecurityBuffer,
        SecurityBufferRef, SecurityStatus as DStatus, ServerRequestFlags, Sspi, SspiImpl, Username,
    };

    pub struct Peer {
        pub ntlm: Ntlm,
        creds: Option<AuthIdentityBuffers>,
    }

    fn identity(user: &str, domain: &str, password: &str) -> DAuthIdentity {
        DAuthIdentity {
            username: Username::new(user, Some(domain)).unwrap(),
            password: password.to_string().into(),
        }
    }

    impl Peer {
        pub fn new(inbound: bool, user: &str, domain: &str, password: &str) -> Self {
            let mut ntlm = Ntlm::new();
            let identity = identity(user, domain, password);
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
            Self { ntlm, creds }
        }

        fn buffers(input: Option<&[u8]>, bindings: Option<&[u8]>) -> Vec<SecurityBuffer> {
            let mut buffers = vec![SecurityBuffer::new(
                input.unwrap_or_default().to_vec(),
                BufferType::Token,
            )];
            if let Some(cb) = bindings {
                buffers.push(SecurityBuffer::new(
                    cb.to_vec(),
                    BufferType::ChannelBindings,
                ));
            }
            buffers
        }

        /// One client leg; returns (status, token).
        pub fn initialize(
            &mut self,
            input: Option<&[u8]>,
            bindings: Option<&[u8]>,
        ) -> sspi::Result<(DStatus, Vec<u8>)> {
            let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut input_buffers = Self::buffers(input, bindings);
            let mut builder = self
                .ntlm
                .initialize_security_context()
                .with_credentials_handle(&mut self.creds)
                .with_context_requirements(
                    ClientRequestFlags::CONFIDENTIALITY
                        | ClientRequestFlags::INTEGRITY
                        | ClientRequestFlags::REPLAY_DETECT
                        | ClientRequestFlags::SEQUENCE_DETECT,
                )
                .with_target_data_representation(DataRepresentation::Native)
                .with_target_name(TARGET)
                .with_output(&mut output);
            if input.is_some() {
                builder = builder.with_input(&mut input_buffers);
            }
            let result = self
                .ntlm
                .initialize_security_context_impl(&mut builder)?
                .resolve_to_result()?;
            Ok((result.status, output.remove(0).buffer))
        }

        /// One server leg (CompleteAuthToken included); returns (status, token).
        pub fn accept(
            &mut self,
            input: &[u8],
            bindings: Option<&[u8]>,
        ) -> sspi::Result<(DStatus, Vec<u8>)> {
            let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut input_buffers = Self::buffers(Some(input), bindings);
            let builder = self
                .ntlm
                .accept_security_context()
                .with_credentials_handle(&mut self.creds)
                .with_context_requirements(
                    ServerRequestFlags::CONFIDENTIALITY | ServerRequestFlags::INTEGRITY,
                )
                .with_target_data_representation(DataRepresentation::Native)
                .with_input(&mut input_buffers)
                .with_output(&mut output);
            let mut status = self
                .ntlm
                .accept_security_context_impl(builder)?
                .resolve_to_result()?
                .status;
            if matches!(
                status,
                DStatus::CompleteNeeded | DStatus::CompleteAndContinue
            ) {
                status = self.ntlm.complete_auth_token(&mut output)?;
            }
            Ok((status, output.remove(0).buffer))
        }

        pub fn seal(&mut self, text: &[u8]) -> (Vec<u8>, Vec<u8>) {
            let (mut token, mut data) = (vec![0u8; 16], text.to_vec());
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            self.ntlm
                .encrypt_message(EncryptionFlags::empty(), &mut message)
                .unwrap();
            (token, data)
        }

        pub fn unseal(&mut self, (token, data): &(Vec<u8>, Vec<u8>)) -> sspi::Result<Vec<u8>> {
            let (mut token, mut data) = (token.clone(), data.clone());
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            self.ntlm.decrypt_message(&mut message)?;
            Ok(message[1].data().to_vec())
        }

        pub fn sign(&mut self, text: &[u8], sequence: u32) -> Vec<u8> {
            let (mut data, mut token) = (text.to_vec(), vec![0u8; 16]);
            let mut message = [
                SecurityBufferRef::data_buf(&mut data),
                SecurityBufferRef::token_buf(&mut token),
            ];
            self.ntlm.make_signature(0, &mut message, sequence).unwrap();
            token
        }

        pub fn verify(&mut self, text: &[u8], token: &[u8], sequence: u32) -> sspi::Result<u32> {
            let (mut data, mut token) = (text.to_vec(), token.to_vec());
            let mut message = [
                SecurityBufferRef::data_buf(&mut data),
                SecurityBufferRef::token_buf(&mut token),
            ];
            self.ntlm.verify_signature(&mut message, sequence)
        }
    }
}

use devolutions::Peer;

fn our_seal(ctx: &mut SecurityContextHandle, text: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut token, mut data) = (vec![0u8; 16], text.to_vec());
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    ctx.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
    (token, data)
}

fn our_open(
    ctx: &mut SecurityContextHandle,
    (token, data): &(Vec<u8>, Vec<u8>),
) -> Result<Vec<u8>, MessageError> {
    let (mut token, mut data) = (token.clone(), data.clone());
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    ctx.decrypt_message(&mut message, 0).map(|_| data)
}

fn our_sign(ctx: &mut SecurityContextHandle, text: &[u8]) -> Vec<u8> {
    let (mut data, mut token) = (text.to_vec(), vec![0u8; 16]);
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    ctx.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
    token
}

fn our_verify(
    ctx: &mut SecurityContextHandle,
    text: &[u8],
    token: &[u8],
) -> Result<Qop, MessageError> {
    let (mut data, mut token) = (text.to_vec(), token.to_vec());
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    ctx.verify_signature(&mut message, 0)
}

/// Both directions of sealing then signing between our context and theirs.
/// Their MakeSignature/VerifySignature take the sequence number from the
/// caller; EncryptMessage/DecryptMessage count, like ours.
fn exchange(ours: &mut SecurityContextHandle, theirs: &mut Peer) {
    for i in 0..3u32 {
        let text = format!("message {i} from us");
        let sealed = our_seal(ours, text.as_bytes());
        assert_eq!(theirs.unseal(&sealed).unwrap(), text.as_bytes());
        let text = format!("message {i} from sspi-rs");
        let sealed = theirs.seal(text.as_bytes());
        assert_eq!(our_open(ours, &sealed).unwrap(), text.as_bytes());
    }
    for i in 3..6u32 {
        let text = format!("signed {i} by us");
        let token = our_sign(ours, text.as_bytes());
        theirs.verify(text.as_bytes(), &token, i).unwrap();
        let text = format!("signed {i} by sspi-rs");
        let token = theirs.sign(text.as_bytes(), i);
        assert_eq!(our_verify(ours, text.as_bytes(), &token), Ok(Qop::DEFAULT));
    }
    // Tampering is caught on both sides.
    let mut sealed = our_seal(ours, b"tamper me");
    sealed.1[0] ^= 1;
    assert!(theirs.unseal(&sealed).is_err());
    let mut token = theirs.sign(b"tamper me", 6);
    token[4] ^= 1;
    let altered = our_verify(ours, b"tamper me", &token).unwrap_err();
    assert_eq!(
        (altered.status(), altered.reason()),
        (
            SecurityStatus::SEC_E_MESSAGE_ALTERED,
            "the signature does not match the message"
        ),
        "a user debugging interop sees why"
    );
}

/// Our client (the plugin, through the host) against the sspi crate's server.
fn our_client_their_server(
    client_cb: Option<&[u8]>,
    server_cb: Option<&[u8]>,
) -> sspi::Result<(SecurityContextHandle, Peer)> {
    let registry = ntlm_registry("sspi_ntlm.dll");
    let host = registry.host();
    let (client, _) = credentials(&host, None);
    let mut server = Peer::new(true, "alice", "SSPI-PLUG", "alice-password");
    let mut ctx = None;
    let negotiate = leg(&client, &mut ctx, true, None).unwrap();
    let (status, challenge) = server.accept(&negotiate, None)?;
    assert_eq!(status, sspi::SecurityStatus::ContinueNeeded);
    let authenticate = {
        let mut out = vec![0u8; 2888];
        let mut input = vec![SecBufferRef::token(&challenge)];
        if let Some(cb) = client_cb {
            input.push(SecBufferRef::channel_bindings(cb));
        }
        let mut output = [SecBuffer::token(&mut out)];
        let step = client
            .initialize_security_context(&mut ctx, Some(TARGET), ISC_REQ, &input, &mut output)
            .unwrap();
        assert_eq!(step.status, SecurityStatus::SEC_E_OK);
        output[0].as_slice().to_vec()
    };
    let (status, last) = server.accept(&authenticate, server_cb)?;
    assert_eq!(status, sspi::SecurityStatus::Ok);
    assert!(last.is_empty());
    Ok((ctx.unwrap(), server))
}

/// The sspi crate's client against our server (the plugin, through the host).
fn their_client_our_server(
    password: &str,
    client_cb: Option<&[u8]>,
    server_cb: Option<&[u8]>,
) -> Result<(Peer, SecurityContextHandle), SecurityError> {
    let registry = ntlm_registry("sspi_ntlm.dll");
    let host = registry.host();
    let (_, server) = credentials(&host, None);
    let mut client = Peer::new(false, "alice", "SSPI-PLUG", password);
    let mut ctx = None;
    let (status, negotiate) = client.initialize(None, None).unwrap();
    assert_eq!(status, sspi::SecurityStatus::ContinueNeeded);
    let challenge = leg(&server, &mut ctx, false, Some(&negotiate))?;
    let (status, authenticate) = client.initialize(Some(&challenge), client_cb).unwrap();
    assert_eq!(status, sspi::SecurityStatus::Ok);
    let mut out = vec![0u8; 2888];
    let mut input = vec![SecBufferRef::token(&authenticate)];
    if let Some(cb) = server_cb {
        input.push(SecBufferRef::channel_bindings(cb));
    }
    let mut output = [SecBuffer::token(&mut out)];
    let step = server.accept_security_context(&mut ctx, ASC_REQ, &input, &mut output)?;
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    assert!(output[0].is_empty());
    Ok((client, ctx.unwrap()))
}

#[test]
fn interop_our_client_against_the_sspi_crate_server() {
    let (mut ours, mut theirs) = our_client_their_server(None, None).unwrap();
    assert_eq!(ours.names().unwrap(), r"SSPI-PLUG\alice");
    exchange(&mut ours, &mut theirs);
}

#[test]
fn interop_the_sspi_crate_client_against_our_server() {
    let (mut theirs, mut ours) = their_client_our_server("alice-password", None, None).unwrap();
    assert_eq!(ours.names().unwrap(), r"SSPI-PLUG\alice");
    exchange(&mut ours, &mut theirs);
    let denied = their_client_our_server("not-the-password", None, None)
        .err()
        .unwrap();
    assert_eq!(denied.status(), SecurityStatus::SEC_E_LOGON_DENIED);
}

#[test]
fn interop_channel_bindings_both_ways() {
    let a = sspi_core::sec_channel_bindings(b"tls-server-end-point:\x01\x02\x03");
    let b = sspi_core::sec_channel_bindings(b"tls-server-end-point:\x09\x09\x09");
    let (mut ours, mut theirs) = our_client_their_server(Some(&a), Some(&a)).unwrap();
    exchange(&mut ours, &mut theirs);
    let err = our_client_their_server(Some(&a), Some(&b)).err().unwrap();
    assert_eq!(err.error_type, sspi::ErrorKind::BadBindings);

    let (mut theirs, mut ours) =
        their_client_our_server("alice-password", Some(&a), Some(&a)).unwrap();
    exchange(&mut ours, &mut theirs);
    let err = their_client_our_server("alice-password", Some(&a), Some(&b))
        .err()
        .unwrap();
    assert_eq!(err.status(), SecurityStatus::SEC_E_BAD_BINDINGS);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[path = "common/counting_malloc.rs"]
mod counting_malloc;

/// The per-message calls through the plugin allocate nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod no_alloc {
    use super::*;
    use crate::counting_malloc::measure;

    #[test]
    fn per_message_calls_through_the_plugin_allocate_nothing() {
        let registry = ntlm_registry("sspi_ntlm.dll");
        let host = registry.host();
        let mut done = established(&host);
        counting_malloc::assert_per_message_calls_allocate_nothing(&mut done);

        // Failures allocate nothing either: a replayed sealed message.
        let mut data = vec![0x5Au8; 4096];
        let mut trailer = vec![0u8; 16];
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        done.server
            .encrypt_message(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        let (mut replay_trailer, mut replay_data) = (
            message[0].as_slice().to_vec(),
            message[1].as_slice().to_vec(),
        );
        assert_eq!(
            done.client.decrypt_message(&mut message, 0),
            Ok(Qop::DEFAULT)
        );
        let mut replay = [
            SecBuffer::token(&mut replay_trailer),
            SecBuffer::data(&mut replay_data),
        ];
        let mut result = Ok(Qop::DEFAULT);
        let allocations = measure(|| result = done.client.decrypt_message(&mut replay, 0));
        let refused = result.unwrap_err();
        assert_eq!(refused.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
        assert_eq!(
            refused.reason(),
            "the signature's sequence number is not the next one"
        );
        assert_eq!(
            allocations, 0,
            "a refused message allocated {allocations} times"
        );
    }
}

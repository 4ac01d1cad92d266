//! Interop of our Negotiate package (the real Kerberos, NTLM and Negotiate
//! plugins through a registry file) with the Devolutions `sspi` crate's
//! `Negotiate`, both ways, NTLM inside.
//!
//! The sspi crate's Negotiate is made to pick NTLM with its package list
//! `"ntlm"` (Kerberos and PKU2U off): without it, its client would try
//! Kerberos as soon as it finds a KDC for the user's realm (`SSPI_KDC_URL`,
//! `/etc/krb5.conf`), which would make the tests depend on the machine.
//!
//! Each test records the tokens on the wire, decoded with our codec
//! (`sspi_package_negotiate::token`): which legs carried a mechListMIC and
//! which negState values, then exchanges sealed and signed messages both ways
//! (two each, so the second message checks the RC4 keystream and the
//! sequence numbers after the mechListMIC), and has negative cases that must
//! fail.
//!
//! sspi-rs deviations tolerated here (see `/work/shared/reference/spnego-notes.md`):
//! * its acceptor answers a NegTokenInit whose first mechanism it does not
//!   take with `accept-incomplete` rather than `request-mic` (RFC 4178 §3.2 c);
//!   MIT tolerates this only when falling back to NTLM, which is the case here;
//! * it cannot read an initiator's NegTokenResp without negState (picky
//!   then takes the whole OCTET STRING TLV for the responseToken), which RFC
//!   4178 allows; ours, like Windows, MIT and pyspnego, always sends one
//!   (these tests found that our client used to leave it out).
//!
//! Kerberos inside: our client against their Kerberos server (the service
//! key from the site's keytab) completes, AP-REQ then AP-REP, no MIC; sealed
//! messages both ways (the sspi crate's Kerberos has no MakeSignature or
//! VerifySignature). Their Kerberos client gets its TGT from the embedded KDC
//! over loopback (`theirs::LoopbackKdc`, no `network_client` feature needed),
//! but the KDC refuses its TGS-REQ (`KERBEROS_BLOCKER`): that test is ignored.

#[path = "common/negotiate_fixture.rs"]
mod fixture;

use fixture::{Kdc, SERVICE};
use sspi_core::{
    AuthIdentity, MessageError, NegotiationState, Qop, SecBuffer, SecBufferRef, SecurityError,
    SecurityStatus,
};
use sspi_package_negotiate::oid::{KRB5, MS_KRB5, NTLMSSP, Oid};
use sspi_package_negotiate::token::{self, NegState};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use sspi_tests::{ASC_REQ, ISC_REQ};

/// The sspi crate's side: its `Negotiate`, NTLM inside.
mod theirs {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use sspi::kerberos::ServerProperties;
    use sspi::network_client::NetworkClient;
    use sspi::ntlm::NtlmConfig;
    use sspi::{
        AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, Credentials,
        CredentialsBuffers, DataRepresentation, EncryptionFlags, KerberosConfig,
        KerberosServerConfig, Negotiate, NegotiateConfig, NetworkProtocol, NetworkRequest,
        SecurityBuffer, SecurityBufferRef, SecurityStatus, ServerRequestFlags, Sspi, SspiImpl,
        Username,
    };

    /// The client machine's name it reports.
    const COMPUTER: &str = "WORKSTATION";

    /// A Negotiate context of the sspi crate with its credentials.
    pub struct Peer {
        pub negotiate: Negotiate,
        creds: Option<CredentialsBuffers>,
    }

    fn identity(user: &str, domain: &str, password: &str) -> AuthIdentity {
        AuthIdentity {
            username: Username::new(user, Some(domain)).unwrap(),
            password: password.to_string().into(),
        }
    }

    fn config() -> NegotiateConfig {
        NegotiateConfig::new(
            Box::new(NtlmConfig::new(COMPUTER.into())),
            // NTLM only, whatever KDC the machine may know of.
            Some("ntlm".into()),
            COMPUTER.into(),
        )
    }

    /// The sspi crate's KDC transport for the embedded KDC on loopback: its
    /// requests come framed (4-byte length) and so must the replies.
    pub struct LoopbackKdc;

    impl NetworkClient for LoopbackKdc {
        fn send(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
            let unreachable = |e: std::io::Error| {
                sspi::Error::new(
                    sspi::ErrorKind::NoAuthenticatingAuthority,
                    format!("{}: {e}", request.url),
                )
            };
            assert_eq!(request.protocol, NetworkProtocol::Tcp, "{}", request.url);
            let host = request.url.host_str().unwrap_or_default();
            assert_eq!(host, "127.0.0.1", "loopback only");
            let port = request.url.port().unwrap_or(88);
            let mut stream = TcpStream::connect((host, port)).map_err(unreachable)?;
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .map_err(unreachable)?;
            stream.write_all(&request.data).map_err(unreachable)?;
            let mut reply = vec![0u8; 4];
            stream.read_exact(&mut reply).map_err(unreachable)?;
            let len = u32::from_be_bytes(reply[..4].try_into().unwrap()) as usize;
            reply.resize(4 + len, 0);
            stream.read_exact(&mut reply[4..]).map_err(unreachable)?;
            Ok(reply)
        }
    }

    impl Peer {
        /// A Kerberos client (`REALM\\user`: its UPN form is sent as an
        /// NT-ENTERPRISE name, which our KDC does not resolve) whose KDC is at
        /// `kdc` (host:port), with the package list `kerberos` (no silent
        /// NTLM fallback to hide a Kerberos failure).
        pub fn kerberos_client(user: &str, realm: &str, password: &str, kdc: &str) -> Self {
            let config = NegotiateConfig::new(
                Box::new(KerberosConfig::new_with_kdc_url(
                    &format!("tcp://{kdc}"),
                    COMPUTER.into(),
                )),
                Some("kerberos".into()),
                COMPUTER.into(),
            );
            let mut negotiate = Negotiate::new_client(config).unwrap();
            let credentials = Credentials::AuthIdentity(AuthIdentity {
                username: Username::new(user, Some(realm)).unwrap(),
                password: password.to_string().into(),
            });
            let creds = negotiate
                .acquire_credentials_handle()
                .with_credential_use(CredentialUse::Outbound)
                .with_auth_data(&credentials)
                .execute(&mut negotiate)
                .unwrap()
                .credentials_handle;
            Self { negotiate, creds }
        }

        /// A Kerberos server for `service` (e.g. `host/localhost`) holding its
        /// ticket key (aes256 from the site's keytab); no package list, so it
        /// takes Kerberos when offered and NTLM otherwise.
        pub fn kerberos_server(service: &str, key: Vec<u8>, kdc: &str) -> Self {
            let sname: Vec<&str> = service.split('/').collect();
            let properties =
                ServerProperties::new(&sname, None, Duration::from_secs(300), Some(key.into()))
                    .unwrap();
            let config = NegotiateConfig::new(
                Box::new(KerberosServerConfig {
                    kerberos_config: KerberosConfig::new_with_kdc_url(
                        &format!("tcp://{kdc}"),
                        COMPUTER.into(),
                    ),
                    server_properties: properties,
                }),
                None,
                COMPUTER.into(),
            );
            let mut negotiate = Negotiate::new_server(config, Vec::new()).unwrap();
            let creds = negotiate
                .acquire_credentials_handle()
                .with_credential_use(CredentialUse::Inbound)
                .execute(&mut negotiate)
                .unwrap()
                .credentials_handle;
            Self { negotiate, creds }
        }

        /// EncryptMessage with a trailer of `trailer` bytes: (trailer, data).
        pub fn seal_with(&mut self, text: &[u8], trailer: usize) -> (Vec<u8>, Vec<u8>) {
            let (mut token, mut data) = (vec![0u8; trailer], text.to_vec());
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            self.negotiate
                .encrypt_message(EncryptionFlags::empty(), &mut message)
                .unwrap();
            let len = message[0].data().len();
            token.truncate(len);
            (token, data)
        }

        /// MakeSignature with a token of `size` bytes.
        pub fn sign_with(&mut self, text: &[u8], size: usize) -> sspi::Result<Vec<u8>> {
            let (mut data, mut token) = (text.to_vec(), vec![0u8; size]);
            let mut message = [
                SecurityBufferRef::data_buf(&mut data),
                SecurityBufferRef::token_buf(&mut token),
            ];
            self.negotiate.make_signature(0, &mut message, 0)?;
            let len = message[1].data().len();
            token.truncate(len);
            Ok(token)
        }

        /// (max signature, security trailer) of the established context.
        pub fn sizes(&mut self) -> (usize, usize) {
            let sizes = self.negotiate.query_context_sizes().unwrap();
            (
                sizes.max_signature as usize,
                sizes.security_trailer as usize,
            )
        }

        /// A client acting as `user`.
        pub fn client(user: &str, domain: &str, password: &str) -> Self {
            let negotiate = Negotiate::new_client(config()).unwrap();
            Self::acquire(negotiate, CredentialUse::Outbound, user, domain, password)
        }

        /// A server that knows one user.
        pub fn server(user: &str, domain: &str, password: &str) -> Self {
            let negotiate =
                Negotiate::new_server(config(), vec![identity(user, domain, password)]).unwrap();
            Self::acquire(negotiate, CredentialUse::Inbound, user, domain, password)
        }

        fn acquire(
            mut negotiate: Negotiate,
            usage: CredentialUse,
            user: &str,
            domain: &str,
            password: &str,
        ) -> Self {
            let credentials = Credentials::AuthIdentity(identity(user, domain, password));
            let creds = negotiate
                .acquire_credentials_handle()
                .with_credential_use(usage)
                .with_auth_data(&credentials)
                .execute(&mut negotiate)
                .unwrap()
                .credentials_handle;
            Self { negotiate, creds }
        }

        /// One client leg; returns (status, token).
        pub fn initialize(
            &mut self,
            target: &str,
            input: Option<&[u8]>,
        ) -> sspi::Result<(SecurityStatus, Vec<u8>)> {
            let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut input_buffers = vec![SecurityBuffer::new(
                input.unwrap_or_default().to_vec(),
                BufferType::Token,
            )];
            // Always an input buffer (empty at first), as its Kerberos wants.
            let mut builder = self
                .negotiate
                .initialize_security_context()
                .with_credentials_handle(&mut self.creds)
                .with_context_requirements(
                    ClientRequestFlags::CONFIDENTIALITY
                        | ClientRequestFlags::INTEGRITY
                        | ClientRequestFlags::REPLAY_DETECT
                        | ClientRequestFlags::SEQUENCE_DETECT,
                )
                .with_target_data_representation(DataRepresentation::Native)
                .with_target_name(target)
                .with_input(&mut input_buffers)
                .with_output(&mut output);
            let result = self
                .negotiate
                .initialize_security_context_impl(&mut builder)?
                .resolve_with_client(&LoopbackKdc)?;
            Ok((result.status, output.remove(0).buffer))
        }

        /// One server leg (CompleteAuthToken when asked); returns (status, token).
        pub fn accept(&mut self, input: &[u8]) -> sspi::Result<(SecurityStatus, Vec<u8>)> {
            let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut input_buffers = vec![SecurityBuffer::new(input.to_vec(), BufferType::Token)];
            let builder = self
                .negotiate
                .accept_security_context()
                .with_credentials_handle(&mut self.creds)
                .with_context_requirements(
                    ServerRequestFlags::CONFIDENTIALITY | ServerRequestFlags::INTEGRITY,
                )
                .with_target_data_representation(DataRepresentation::Native)
                .with_input(&mut input_buffers)
                .with_output(&mut output);
            let mut status = self
                .negotiate
                .accept_security_context_impl(builder)?
                .resolve_to_result()?
                .status;
            if matches!(
                status,
                SecurityStatus::CompleteNeeded | SecurityStatus::CompleteAndContinue
            ) {
                status = self.negotiate.complete_auth_token(&mut output)?;
            }
            Ok((status, output.remove(0).buffer))
        }

        /// EncryptMessage: (trailer, sealed data).
        pub fn seal(&mut self, text: &[u8]) -> (Vec<u8>, Vec<u8>) {
            let (mut token, mut data) = (vec![0u8; 16], text.to_vec());
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            self.negotiate
                .encrypt_message(EncryptionFlags::empty(), &mut message)
                .unwrap();
            (token, data)
        }

        /// DecryptMessage.
        pub fn unseal(&mut self, (token, data): &(Vec<u8>, Vec<u8>)) -> sspi::Result<Vec<u8>> {
            let (mut token, mut data) = (token.clone(), data.clone());
            let mut message = [
                SecurityBufferRef::token_buf(&mut token),
                SecurityBufferRef::data_buf(&mut data),
            ];
            self.negotiate.decrypt_message(&mut message)?;
            Ok(message[1].data().to_vec())
        }

        /// MakeSignature (the caller gives the sequence number).
        pub fn sign(&mut self, text: &[u8], sequence: u32) -> Vec<u8> {
            let (mut data, mut token) = (text.to_vec(), vec![0u8; 16]);
            let mut message = [
                SecurityBufferRef::data_buf(&mut data),
                SecurityBufferRef::token_buf(&mut token),
            ];
            self.negotiate
                .make_signature(0, &mut message, sequence)
                .unwrap();
            token
        }

        /// VerifySignature (the caller gives the sequence number).
        pub fn verify(&mut self, text: &[u8], token: &[u8], sequence: u32) -> sspi::Result<u32> {
            let (mut data, mut token) = (text.to_vec(), token.to_vec());
            let mut message = [
                SecurityBufferRef::data_buf(&mut data),
                SecurityBufferRef::token_buf(&mut token),
            ];
            self.negotiate.verify_signature(&mut message, sequence)
        }

        /// The package its Negotiate settled on.
        pub fn protocol(&self) -> &str {
            self.negotiate.negotiated_protocol().protocol_name()
        }
    }
}

use theirs::Peer;

/// Which side failed a handshake, and how.
#[derive(Debug)]
enum Failure {
    Ours(SecurityError),
    Theirs(sspi::Error),
}

impl Failure {
    fn ours(self) -> SecurityError {
        match self {
            Failure::Ours(e) => e,
            Failure::Theirs(e) => panic!("expected our side to fail, the sspi crate did: {e:?}"),
        }
    }

    fn theirs(self) -> sspi::Error {
        match self {
            Failure::Theirs(e) => e,
            Failure::Ours(e) => panic!("expected the sspi crate to fail, we did: {e}"),
        }
    }
}

fn oid_name(oid: &Oid) -> &'static str {
    match oid {
        o if *o == NTLMSSP => "ntlm",
        o if *o == KRB5 => "krb5",
        o if *o == MS_KRB5 => "ms-krb5",
        _ => "other",
    }
}

/// A mechanism token: `NTLM/<MessageType>` or `krb5/<TOK_ID>`.
fn mech_token_name(token: &[u8]) -> String {
    if token.starts_with(b"NTLMSSP\0") && token.len() >= 12 {
        format!("NTLM/{}", token[8])
    } else if token.first() == Some(&0x60) {
        "krb5".into()
    } else {
        format!("?{:02x?}", &token[..token.len().min(4)])
    }
}

/// The checks every NTLM mechListMIC passes: an NTLM signature (version 1,
/// 8-byte checksum) with sequence number 0 on either side.
fn check_ntlm_mic(mic: &[u8]) {
    assert_eq!(mic.len(), 16, "{mic:02x?}");
    assert_eq!(&mic[..4], [1, 0, 0, 0], "version 1: {mic:02x?}");
    assert_eq!(&mic[12..], [0, 0, 0, 0], "sequence number 0: {mic:02x?}");
}

/// One token on the wire, decoded, in one line.
fn describe(from_client: bool, first: bool, bytes: &[u8]) -> String {
    let dir = if from_client { "C>S" } else { "S>C" };
    if first {
        let init = token::decode_init(bytes).expect("the first token is a NegTokenInit");
        assert_eq!(bytes[0], 0x60, "the first token is GSS-framed");
        let mechs: Vec<_> = init.mech_types.iter().map(oid_name).collect();
        let mut text = format!("{dir} init [{}]", mechs.join(","));
        if let Some(t) = &init.mech_token {
            text += &format!(" mechToken={}", mech_token_name(t));
        }
        if init.mech_list_mic.is_some() {
            text += " mechListMIC";
        }
        return text;
    }
    let resp = token::decode_resp(bytes).expect("a later token is a NegTokenResp");
    assert_eq!(bytes[0], 0xa1, "later tokens are bare NegTokenResp");
    let mut text = format!("{dir} resp");
    match resp.neg_state {
        Some(NegState::AcceptCompleted) => text += " accept-completed",
        Some(NegState::AcceptIncomplete) => text += " accept-incomplete",
        Some(NegState::Reject) => text += " reject",
        Some(NegState::RequestMic) => text += " request-mic",
        None => text += " -",
    }
    if let Some(m) = &resp.supported_mech {
        text += &format!(" supportedMech={}", oid_name(m));
    }
    if let Some(t) = &resp.response_token {
        text += &format!(" responseToken={}", mech_token_name(t));
    }
    if let Some(mic) = &resp.mech_list_mic {
        check_ntlm_mic(mic);
        text += " mechListMIC";
    }
    text
}

/// Flips a bit in the mechListMIC of a NegTokenResp, if it has one.
fn tamper_mic(bytes: Vec<u8>) -> Vec<u8> {
    match token::decode_resp(&bytes) {
        Ok(mut resp) if resp.mech_list_mic.is_some() => {
            if let Some(mic) = resp.mech_list_mic.as_mut() {
                mic[6] ^= 0x01;
            }
            token::encode_resp(&resp)
        }
        _ => bytes,
    }
}

/// A tamper hook: (token number from 0, client-to-server?, token) -> token.
type Tamper<'a> = &'a dyn Fn(usize, bool, Vec<u8>) -> Vec<u8>;

fn untouched(_: usize, _: bool, token: Vec<u8>) -> Vec<u8> {
    token
}

/// One leg of our side: (done, token).
fn our_leg(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    client: bool,
    input: Option<&[u8]>,
) -> Result<(bool, Vec<u8>), SecurityError> {
    let mut out = vec![0u8; 48256];
    let input_buffers = [SecBufferRef::token(input.unwrap_or_default())];
    let input: &[SecBufferRef<'_>] = if input.is_some() { &input_buffers } else { &[] };
    let mut output = [SecBuffer::token(&mut out)];
    let done = if client {
        !credentials
            .initialize_security_context(context, Some(SERVICE), ISC_REQ, input, &mut output)?
            .needs_continue()
    } else {
        !credentials
            .accept_security_context(context, ASC_REQ, input, &mut output)?
            .needs_continue()
    };
    Ok((done, output[0].as_slice().to_vec()))
}

/// A completed handshake: our context, theirs, and the tokens described.
struct Done {
    ours: SecurityContextHandle,
    theirs: Peer,
    wire: Vec<String>,
}

/// Drives a handshake from the client's first call until the client is done
/// and has nothing more to send; returns the wire. `client`/`server` run one
/// leg each and return (done, token).
fn drive(
    mut client: impl FnMut(Option<&[u8]>) -> Result<(bool, Vec<u8>), Failure>,
    mut server: impl FnMut(&[u8]) -> Result<(bool, Vec<u8>), Failure>,
    tamper: Tamper<'_>,
) -> Result<Vec<String>, Failure> {
    let mut wire = Vec::new();
    let mut input: Option<Vec<u8>> = None;
    let mut server_done = false;
    for _ in 0..6 {
        let (client_done, token) = client(input.as_deref())?;
        if token.is_empty() {
            assert!(
                client_done,
                "the client stopped without finishing: {wire:?}"
            );
            assert!(server_done, "the server did not finish: {wire:?}");
            return Ok(wire);
        }
        assert!(!server_done, "a token after the server finished: {wire:?}");
        wire.push(describe(true, wire.is_empty(), &token));
        let token = tamper(wire.len() - 1, true, token);
        let (done, reply) = server(&token)?;
        server_done = done;
        if reply.is_empty() {
            assert!(client_done && server_done, "nothing to answer: {wire:?}");
            return Ok(wire);
        }
        wire.push(describe(false, false, &reply));
        input = Some(tamper(wire.len() - 1, false, reply));
    }
    panic!("the handshake did not end: {wire:?}")
}

/// Our Negotiate client against the sspi crate's Negotiate server.
fn our_client_their_server(
    site: &fixture::Site,
    identity: Option<AuthIdentity>,
    tamper: Tamper<'_>,
) -> Result<Done, Failure> {
    our_client_against_their_server_with(
        site,
        identity,
        Peer::server("alice", "SSPI-PLUG", "alice-password"),
        tamper,
    )
}

/// Our Negotiate client against the sspi crate's server `theirs`.
fn our_client_against_their_server_with(
    site: &fixture::Site,
    identity: Option<AuthIdentity>,
    mut theirs: Peer,
    tamper: Tamper<'_>,
) -> Result<Done, Failure> {
    let host = site.host();
    let credentials = fixture::client(&host, "Negotiate", identity);
    let mut context = None;
    let wire = drive(
        |input| our_leg(&credentials, &mut context, true, input).map_err(Failure::Ours),
        |input| {
            let (status, token) = theirs.accept(input).map_err(Failure::Theirs)?;
            Ok((status == sspi::SecurityStatus::Ok, token))
        },
        tamper,
    )?;
    Ok(Done {
        ours: context.expect("our context"),
        theirs,
        wire,
    })
}

/// The sspi crate's Negotiate client (as alice with `password`) against our
/// Negotiate server.
fn their_client_our_server(
    site: &fixture::Site,
    password: &str,
    tamper: Tamper<'_>,
) -> Result<Done, Failure> {
    their_client_against_our_server_with(site, Peer::client("alice", "SSPI-PLUG", password), tamper)
}

/// The sspi crate's client `theirs` against our Negotiate server.
fn their_client_against_our_server_with(
    site: &fixture::Site,
    mut theirs: Peer,
    tamper: Tamper<'_>,
) -> Result<Done, Failure> {
    let host = site.host();
    let credentials = fixture::server(&host, "Negotiate", None);
    let mut context = None;
    let wire = drive(
        |input| {
            let (status, token) = theirs.initialize(SERVICE, input).map_err(Failure::Theirs)?;
            Ok((status == sspi::SecurityStatus::Ok, token))
        },
        |input| our_leg(&credentials, &mut context, false, Some(input)).map_err(Failure::Ours),
        tamper,
    )?;
    Ok(Done {
        ours: context.expect("our context"),
        theirs,
        wire,
    })
}

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

fn sequence_of(signature: &[u8]) -> u32 {
    u32::from_le_bytes(signature[12..16].try_into().unwrap())
}

/// Two sealed then two signed messages each way, after the handshake. The
/// mechListMIC took sequence number 0 on each side and the RC4 handles were
/// restored after it, so the application's messages start at 1 and the
/// second message of each kind proves the keystreams stayed in step.
fn messages_both_ways(done: &mut Done) {
    let (ours, theirs) = (&mut done.ours, &mut done.theirs);
    for sequence in 1..=2u32 {
        let text = format!("sealed {sequence} by us");
        let sealed = our_seal(ours, text.as_bytes());
        assert_ne!(sealed.1, text.as_bytes());
        assert_eq!(sequence_of(&sealed.0), sequence);
        assert_eq!(theirs.unseal(&sealed).unwrap(), text.as_bytes());

        let text = format!("sealed {sequence} by sspi-rs");
        let sealed = theirs.seal(text.as_bytes());
        assert_eq!(sequence_of(&sealed.0), sequence);
        assert_eq!(our_open(ours, &sealed).unwrap(), text.as_bytes());
    }
    for sequence in 3..=4u32 {
        let text = format!("signed {sequence} by us");
        let signature = our_sign(ours, text.as_bytes());
        assert_eq!(sequence_of(&signature), sequence);
        theirs
            .verify(text.as_bytes(), &signature, sequence)
            .unwrap();

        let text = format!("signed {sequence} by sspi-rs");
        let signature = theirs.sign(text.as_bytes(), sequence);
        assert_eq!(
            our_verify(ours, text.as_bytes(), &signature),
            Ok(Qop::DEFAULT)
        );
    }
    // A tampered message is refused both ways.
    let mut sealed = our_seal(ours, b"tamper me");
    sealed.1[0] ^= 1;
    assert!(theirs.unseal(&sealed).is_err());
    let mut signature = theirs.sign(b"tamper me", 5);
    signature[4] ^= 1;
    assert_eq!(
        our_verify(ours, b"tamper me", &signature)
            .unwrap_err()
            .status(),
        SecurityStatus::SEC_E_MESSAGE_ALTERED
    );
}

fn negotiated(context: &SecurityContextHandle) -> (String, NegotiationState) {
    let info = context
        .negotiation_info()
        .expect("NEGOTIATION_INFO")
        .expect("a Negotiate context");
    (info.package.name.to_string(), info.state)
}

/// Our client offering NTLM only (the KDC is down, so Kerberos drops out of
/// the list): NTLM is both sides' first choice, and the MIC is exchanged
/// because NTLM's AUTHENTICATE carries a MIC (MS-SPNG).
fn our_client_with_ntlm_first() {
    let site = fixture::site(Kdc::Down, "");
    let mut done = our_client_their_server(&site, None, &untouched).expect("handshake");
    assert_eq!(
        done.wire,
        [
            "C>S init [ntlm] mechToken=NTLM/1",
            "S>C resp accept-incomplete supportedMech=ntlm responseToken=NTLM/2",
            "C>S resp accept-incomplete responseToken=NTLM/3 mechListMIC",
            "S>C resp accept-completed mechListMIC",
        ]
    );
    assert_eq!(
        negotiated(&done.ours),
        ("NTLM".into(), NegotiationState::Complete)
    );
    assert_eq!(done.theirs.protocol(), "NTLM");
    messages_both_ways(&mut done);
}

#[test]
fn our_client_with_ntlm_first_against_their_server() {
    our_client_with_ntlm_first();
}

/// Our client offering Kerberos first (the KDC answers; an optimistic
/// AP-REQ) against their NTLM-only server: a counter-proposal, which sspi-rs
/// sends as accept-incomplete (not request-mic, its known deviation); our
/// client starts NTLM afresh and the MIC exchange is mandatory.
fn our_client_counter_proposed_to_ntlm() {
    let site = fixture::site(Kdc::Running, "");
    let mut done = our_client_their_server(&site, None, &untouched).expect("handshake");
    assert_eq!(
        done.wire,
        [
            "C>S init [ms-krb5,krb5,ntlm] mechToken=krb5",
            // sspi-rs: accept-incomplete where RFC 4178 §3.2 c) says request-mic.
            "S>C resp accept-incomplete supportedMech=ntlm",
            "C>S resp accept-incomplete responseToken=NTLM/1",
            "S>C resp accept-incomplete responseToken=NTLM/2",
            "C>S resp accept-incomplete responseToken=NTLM/3 mechListMIC",
            "S>C resp accept-completed mechListMIC",
        ]
    );
    assert_eq!(
        negotiated(&done.ours),
        ("NTLM".into(), NegotiationState::Complete)
    );
    messages_both_ways(&mut done);
}

#[test]
fn our_client_counter_proposed_to_ntlm_by_their_server() {
    our_client_counter_proposed_to_ntlm();
}

/// Their client (NTLM only) against our server.
#[test]
fn their_client_against_our_server() {
    let site = fixture::site(Kdc::Running, "");
    let mut done = their_client_our_server(&site, "alice-password", &untouched).expect("handshake");
    assert_eq!(
        done.wire,
        [
            "C>S init [ntlm] mechToken=NTLM/1",
            // Our server prefers Kerberos (Packages order): NTLM is not its
            // first choice, so it asks for the MIC (RFC 4178 §3.2 c II).
            "S>C resp request-mic supportedMech=ntlm responseToken=NTLM/2",
            // sspi-rs (like Windows) says accept-incomplete in its AUTHENTICATE leg.
            "C>S resp accept-incomplete responseToken=NTLM/3 mechListMIC",
            "S>C resp accept-completed mechListMIC",
        ]
    );
    assert_eq!(
        negotiated(&done.ours),
        ("NTLM".into(), NegotiationState::Complete)
    );
    assert_eq!(done.ours.names().unwrap(), r"SSPI-PLUG\alice");
    messages_both_ways(&mut done);
}

/// Their client with a wrong password: our server says SEC_E_LOGON_DENIED.
#[test]
fn their_client_with_a_wrong_password_is_denied_by_our_server() {
    let site = fixture::site(Kdc::Running, "");
    let error = their_client_our_server(&site, "not-the-password", &untouched)
        .err()
        .expect("refused")
        .ours();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_LOGON_DENIED,
        "{error}"
    );
}

/// Their client's mechListMIC altered on the way: our server refuses it;
/// ours altered: their client refuses it.
#[test]
fn tampered_mech_list_mics_between_their_client_and_our_server_are_refused() {
    let site = fixture::site(Kdc::Running, "");
    let tamper = |_: usize, to_server: bool, token: Vec<u8>| {
        if to_server { tamper_mic(token) } else { token }
    };
    let error = their_client_our_server(&site, "alice-password", &tamper)
        .err()
        .expect("refused")
        .ours();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_INVALID_TOKEN,
        "{error}"
    );
    assert!(error.message().contains("mechListMIC"), "{error}");

    // And our server's mechListMIC altered: their client refuses it.
    let tamper = |_: usize, to_server: bool, token: Vec<u8>| {
        if to_server { token } else { tamper_mic(token) }
    };
    let error = their_client_our_server(&site, "alice-password", &tamper)
        .err()
        .expect("refused")
        .theirs();
    assert_eq!(
        error.error_type,
        sspi::ErrorKind::MessageAltered,
        "{error:?}"
    );
}

/// Our client's mechListMIC altered on the way: their server refuses it; and
/// their server's mechListMIC altered: our client refuses it. (With negState
/// added to our client's tokens, so that the MIC is what fails.)
#[test]
fn tampered_mech_list_mics_between_our_client_and_their_server_are_refused() {
    let site = fixture::site(Kdc::Down, "");
    let to_server = |_: usize, to_server: bool, token: Vec<u8>| {
        if to_server { tamper_mic(token) } else { token }
    };
    let error = our_client_their_server(&site, None, &to_server)
        .err()
        .expect("refused")
        .theirs();
    assert_eq!(
        error.error_type,
        sspi::ErrorKind::MessageAltered,
        "{error:?}"
    );

    let to_client = |_: usize, to_server: bool, token: Vec<u8>| {
        if to_server { token } else { tamper_mic(token) }
    };
    let error = our_client_their_server(&site, None, &to_client)
        .err()
        .expect("refused")
        .ours();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_INVALID_TOKEN,
        "{error}"
    );
    assert!(error.message().contains("mechListMIC"), "{error}");
}

/// Our client with a password their server does not know: refused.
#[test]
fn our_client_with_a_wrong_password_is_refused_by_their_server() {
    let site = fixture::site(Kdc::Down, "");
    let wrong = AuthIdentity::new("alice", "SSPI-PLUG", "not-the-password");
    let error = our_client_their_server(&site, Some(wrong), &untouched)
        .err()
        .expect("refused")
        .theirs();
    assert_eq!(error.error_type, sspi::ErrorKind::LogonDenied, "{error:?}");
}

/// Why the Kerberos interop test is ignored.
const KERBEROS_BLOCKER: &str = "sspi-rs's TGS-REQ authenticator carries an unkeyed RSA-MD5 \
checksum (cksumtype 7) of the KDC-REQ-BODY; the embedded KDC (kdc/src/tgs_service.rs) \
demands the session key's own checksum type and answers KRB_AP_ERR_INAPP_CKSUM \
\"checksum type 7 does not fit the session key\" before any SPNEGO token exists";

/// Their client with Kerberos inside, its KDC the embedded one on loopback
/// (the sspi crate's own generator yields the KDC requests; `LoopbackKdc`
/// carries them, so no `network_client` feature is needed), against our
/// server with the service keytab.
#[test]
#[ignore = "blocked by the embedded KDC, not Negotiate: it refuses sspi-rs's RSA-MD5 TGS-REQ checksum (KERBEROS_BLOCKER)"]
fn their_kerberos_client_against_our_server() {
    let _ = KERBEROS_BLOCKER;
    let site = fixture::site(Kdc::Running, "");
    let kdc = site.kdc.as_ref().expect("the KDC runs").addr().to_string();
    let theirs = Peer::kerberos_client("alice", fixture::REALM, "alice-password", &kdc);
    let done = their_client_against_our_server_with(&site, theirs, &untouched).expect("handshake");
    assert_eq!(done.wire[0], "C>S init [ms-krb5,krb5] mechToken=krb5");
    assert_eq!(
        negotiated(&done.ours),
        ("Kerberos".into(), NegotiationState::Complete)
    );
    assert_eq!(done.theirs.protocol(), "Kerberos");
    assert_eq!(done.ours.names().unwrap(), "alice@SSPI-PLUG.TEST");
}

/// The service's aes256-cts-hmac-sha1-96 key, from the site's keytab.
fn service_key(site: &fixture::Site) -> Vec<u8> {
    let bytes = std::fs::read(site.registry.dir.path().join("service.keytab")).unwrap();
    let keytab = sspi_package_kerberos::internal::keytab::Keytab::parse(&bytes).unwrap();
    keytab
        .entries
        .iter()
        .find(|e| e.etype == 18)
        .expect("an aes256 key")
        .key
        .to_vec()
}

/// Sealed Kerberos (RFC 4121 wrap tokens) messages, two each way, and a
/// tampered one each way refused. Signing: our MakeSignature/VerifySignature
/// work (the Negotiate tests cover them); the sspi crate's Kerberos has none
/// (UnsupportedFunction, "use encrypt_message"), so only that is checked.
fn kerberos_messages_both_ways(done: &mut Done) {
    let (ours, theirs) = (&mut done.ours, &mut done.theirs);
    let sizes = ours.sizes().unwrap();
    let (their_signature, their_trailer) = theirs.sizes();
    let our_seal = |ours: &mut SecurityContextHandle, text: &[u8]| {
        let (mut token, mut data) = (vec![0u8; sizes.security_trailer as usize], text.to_vec());
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        ours.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
        let len = message[0].len();
        token.truncate(len);
        assert_ne!(data, text);
        (token, data)
    };
    for round in 1..=2 {
        let text = format!("sealed {round} by us");
        let sealed = our_seal(ours, text.as_bytes());
        assert_eq!(theirs.unseal(&sealed).unwrap(), text.as_bytes());

        let text = format!("sealed {round} by sspi-rs");
        let sealed = theirs.seal_with(text.as_bytes(), their_trailer);
        assert_ne!(sealed.1, text.as_bytes());
        assert_eq!(our_open(ours, &sealed).unwrap(), text.as_bytes());
    }
    let mut sealed = our_seal(ours, b"tamper me");
    sealed.1[0] ^= 1;
    assert!(theirs.unseal(&sealed).is_err());
    let mut sealed = theirs.seal_with(b"tamper me", their_trailer);
    sealed.1[0] ^= 1;
    assert_eq!(
        our_open(ours, &sealed).unwrap_err().status(),
        SecurityStatus::SEC_E_MESSAGE_ALTERED
    );

    let (mut data, mut token) = (b"signed".to_vec(), vec![0u8; sizes.max_signature as usize]);
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    ours.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
    let len = message[1].len();
    token.truncate(len);
    let unsupported = theirs.verify(b"signed", &token, 0).unwrap_err();
    assert_eq!(unsupported.error_type, sspi::ErrorKind::UnsupportedFunction);
    let unsupported = theirs.sign_with(b"signed", their_signature).unwrap_err();
    assert_eq!(unsupported.error_type, sspi::ErrorKind::UnsupportedFunction);
}

/// Our client (Kerberos first, an optimistic AP-REQ) against their Kerberos
/// server, which holds the service key.
#[test]
fn our_kerberos_client_against_their_server() {
    let site = fixture::site(Kdc::Running, "");
    let kdc = site.kdc.as_ref().expect("the KDC runs").addr().to_string();
    let theirs = Peer::kerberos_server(SERVICE, service_key(&site), &kdc);
    let mut done =
        our_client_against_their_server_with(&site, None, theirs, &untouched).expect("handshake");
    // AP-REQ, then AP-REP with accept-completed and supportedMech ms-krb5
    // (their first choice of our list, as Windows answers); no mechListMIC
    // either way: Kerberos is both sides' first choice.
    assert_eq!(
        done.wire,
        [
            "C>S init [ms-krb5,krb5,ntlm] mechToken=krb5",
            "S>C resp accept-completed supportedMech=ms-krb5 responseToken=krb5",
        ]
    );
    assert_eq!(
        negotiated(&done.ours),
        ("Kerberos".into(), NegotiationState::Complete)
    );
    assert_eq!(done.theirs.protocol(), "Kerberos");
    kerberos_messages_both_ways(&mut done);

    // Their server with another key cannot read our ticket: refused.
    let theirs = Peer::kerberos_server(SERVICE, vec![0x55; 32], &kdc);
    let error = our_client_against_their_server_with(&site, None, theirs, &untouched)
        .err()
        .expect("refused")
        .theirs();
    assert_eq!(
        error.error_type,
        sspi::ErrorKind::MessageAltered,
        "{error:?}"
    );
}

//! Client and server driven in-process through sspi-core's adapter and leg
//! engine (no host): the handshake legs and their statuses, the checks of the
//! server, per-message protection and the reasons of its failures.

mod common;

use common::{Context, Package, parameters, sz};
use sspi_core::{
    AscReq, AuthIdentity, ContextFlags, CredentialUse, IscReq, IscRet, PackageParameters,
    Parameter, ParameterValue, Qop, SecBuffer, SecBufferRef, SecurityStatus, sec_channel_bindings,
};
use sspi_package_ntlm::internal::messages::{self, Authenticate, Ntlmv2Response};
use sspi_package_ntlm::internal::text::utf16le;

fn package(extra: Vec<(&str, &str, ParameterValue)>) -> Package {
    // Extra values first: the first of two values with one name wins.
    let mut entries = extra;
    entries.extend([
        ("", "DefaultDomain", sz("SSPI-PLUG")),
        ("", "DefaultUser", sz("alice")),
        ("", "NbComputerName", sz("SERVER")),
        (r"Users\alice", "Password", sz("shared-password")),
        (r"Users\carol", "Password", sz("shared-password")),
        (r"Users\alice2", "Password", sz("shared-password")),
        (r"Users\alice2", "Domain", sz("OTHER")),
    ]);
    common::open(&parameters(entries)).unwrap()
}

fn contexts(package: &Package, identity: Option<AuthIdentity>) -> (Context, Context) {
    let client = package
        .credentials(CredentialUse::OUTBOUND, identity)
        .unwrap()
        .client(Some("host/server.example"), IscReq::PROTECTED_CONNECTION)
        .unwrap();
    let server = package
        .credentials(CredentialUse::INBOUND, None)
        .unwrap()
        .server(AscReq::PROTECTED_CONNECTION)
        .unwrap();
    (client, server)
}

fn leg(
    context: &mut Context,
    client: bool,
    input: &[u8],
    bindings: Option<&[u8]>,
) -> Result<(SecurityStatus, Vec<u8>), SecurityStatus> {
    let mut out = vec![0u8; sspi_package_ntlm::MAX_TOKEN];
    let mut inputs = vec![SecBufferRef::token(input)];
    if let Some(bindings) = bindings {
        inputs.push(SecBufferRef::channel_bindings(bindings));
    }
    let mut output = [SecBuffer::token(&mut out)];
    let status = if client {
        context.isc(&inputs, &mut output)
    } else {
        context.asc(&inputs, &mut output)
    }
    .map_err(|e| {
        eprintln!("{e}");
        e.status()
    })?;
    let produced = output[0].as_slice().to_vec();
    Ok((status, produced))
}

/// The three messages of a handshake, with `tamper` applied to the AUTHENTICATE.
fn run(
    package: &Package,
    identity: Option<AuthIdentity>,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> (Context, Context, Result<SecurityStatus, SecurityStatus>) {
    let (mut client, mut server) = contexts(package, identity);
    let (status, negotiate) = leg(&mut client, true, &[], None).unwrap();
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let (status, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let (status, mut authenticate) = leg(&mut client, true, &challenge, None).unwrap();
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    tamper(&mut authenticate);
    let result = leg(&mut server, false, &authenticate, None).map(|(status, out)| {
        assert!(out.is_empty(), "ASC#2 produces no token");
        status
    });
    (client, server, result)
}

fn seal_round_trip(sender: &mut Context, receiver: &mut Context, text: &[u8]) {
    let mut data = text.to_vec();
    let mut token = [0u8; 16];
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    sender.encrypt_message(Qop::DEFAULT, &mut message).unwrap();
    assert_ne!(message[1].as_slice(), text);
    assert_eq!(receiver.decrypt_message(&mut message), Ok(Qop::DEFAULT));
    assert_eq!(message[1].as_slice(), text);
}

#[test]
fn handshake_then_protection_both_ways() {
    let package = package(vec![]);
    let (mut client, mut server, result) = run(&package, None, |_| {});
    assert_eq!(result, Ok(SecurityStatus::SEC_E_OK));
    assert_eq!(server.names().unwrap(), r"SSPI-PLUG\alice");
    assert_eq!(client.names().unwrap(), r"SSPI-PLUG\alice");
    assert_eq!(
        client.session_key().unwrap().expose(),
        server.session_key().unwrap().expose()
    );
    let Ok(ContextFlags::Client(flags)) = client.flags() else {
        panic!("a client context reports ISC_RET bits");
    };
    assert!(flags.contains(IscRet::CONFIDENTIALITY | IscRet::INTEGRITY | IscRet::REPLAY_DETECT));
    for _ in 0..3 {
        seal_round_trip(&mut client, &mut server, b"hello server");
        seal_round_trip(&mut server, &mut client, b"hello client");
    }
}

#[test]
fn wrong_password_unknown_user_and_ntlmv1_are_denied() {
    let package = package(vec![]);
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("alice", "SSPI-PLUG", "wrong")),
        |_| {},
    );
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("nobody", "SSPI-PLUG", "x")),
        |_| {},
    );
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));
    // A correct password in the wrong domain.
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("alice", "OTHER", "shared-password")),
        |_| {},
    );
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));
}

/// Rewrites the UTF-16 user name field of an AUTHENTICATE message (same length).
fn rename(authenticate: &mut [u8], field_at: usize, from: &str, to: &str) {
    let (from, to) = (utf16le(from), utf16le(to));
    assert_eq!(from.len(), to.len());
    let offset =
        u32::from_le_bytes(authenticate[field_at + 4..field_at + 8].try_into().unwrap()) as usize;
    assert_eq!(&authenticate[offset..offset + from.len()], from.as_slice());
    authenticate[offset..offset + to.len()].copy_from_slice(&to);
}

#[test]
fn another_user_sharing_the_password_is_refused() {
    let package = package(vec![]);
    // alice's proof, carol's name (carol has the same password).
    let (_, _, result) = run(&package, None, |auth| rename(auth, 36, "alice", "carol"));
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));
    // alice's proof, the domain of another alice with the same password.
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("alice2", "OTHER", "shared-password")),
        |_| {},
    );
    assert_eq!(result, Ok(SecurityStatus::SEC_E_OK));
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("alice2", "OTHER", "shared-password")),
        |auth| rename(auth, 28, "OTHER", "other"),
    );
    assert_eq!(
        result,
        Err(SecurityStatus::SEC_E_LOGON_DENIED),
        "the domain is part of NTOWFv2"
    );
}

#[test]
fn tampered_mic_and_flags_are_invalid_tokens() {
    let package = package(vec![]);
    let (_, _, result) = run(&package, None, |auth| auth[messages::MIC_OFFSET] ^= 1);
    assert_eq!(result, Err(SecurityStatus::SEC_E_INVALID_TOKEN));
    // Clearing SEAL in the AUTHENTICATE's flags (a downgrade) breaks the MIC.
    let (_, _, result) = run(&package, None, |auth| auth[60] &= !0x20);
    assert_eq!(result, Err(SecurityStatus::SEC_E_INVALID_TOKEN));
    // Flipping a bit of the NTLMv2 blob breaks the proof.
    let (_, _, result) = run(&package, None, |auth| {
        let len = auth.len();
        auth[len - 30] ^= 1;
    });
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));
}

#[test]
fn malformed_messages_are_invalid_tokens_at_every_leg() {
    let package = package(vec![]);
    let (mut client, mut server) = contexts(&package, None);
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    for bad in [
        &b""[..],
        b"NTLMSSP\0",
        b"NTLMSSP\0\x03\0\0\0",
        &negotiate[..10],
        b"garbage garbage garbage",
    ] {
        let (_, mut fresh) = contexts(&package, None);
        assert_eq!(
            leg(&mut fresh, false, bad, None).unwrap_err(),
            SecurityStatus::SEC_E_INVALID_TOKEN
        );
    }
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    for cut in [0, 8, 12, 47, 56, challenge.len() - 1] {
        let (mut fresh_client, _) = contexts(&package, None);
        let (_, n) = leg(&mut fresh_client, true, &[], None).unwrap();
        let _ = n;
        assert_eq!(
            leg(&mut fresh_client, true, &challenge[..cut], None).unwrap_err(),
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "challenge cut at {cut}"
        );
    }
    let (_, authenticate) = leg(&mut client, true, &challenge, None).unwrap();
    for cut in [0, 12, 63, 64, 88, authenticate.len() - 1] {
        let (mut c, mut s) = contexts(&package, None);
        let (_, n) = leg(&mut c, true, &[], None).unwrap();
        leg(&mut s, false, &n, None).unwrap();
        let status = leg(&mut s, false, &authenticate[..cut], None).unwrap_err();
        assert!(
            matches!(
                status,
                SecurityStatus::SEC_E_INVALID_TOKEN | SecurityStatus::SEC_E_LOGON_DENIED
            ),
            "authenticate cut at {cut}: {status}"
        );
    }
    // A failed leg leaves the context unusable, with a clear status.
    assert_eq!(
        leg(&mut server, false, b"junk", None).unwrap_err(),
        SecurityStatus::SEC_E_INVALID_TOKEN
    );
    assert_eq!(
        leg(&mut server, false, &authenticate, None).unwrap_err(),
        SecurityStatus::SEC_E_OUT_OF_SEQUENCE
    );
}

#[test]
fn an_ntlmv1_response_is_refused_with_a_clear_error() {
    let package = package(vec![]);
    let (mut client, mut server) = contexts(&package, None);
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    leg(&mut server, false, &negotiate, None).unwrap();
    let v1 = Authenticate {
        lm_response: &[1; 24],
        nt_response: &[2; 24],
        domain: &utf16le("SSPI-PLUG"),
        user: &utf16le("alice"),
        workstation: &[],
        encrypted_session_key: &[],
        flags: 0xE2088235,
        version: None,
        mic: None,
    }
    .write()
    .unwrap();
    let mut out = vec![0u8; 4096];
    let err = server
        .asc(
            &[SecBufferRef::token(&v1)],
            &mut [SecBuffer::token(&mut out)],
        )
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(err.message().contains("NTLMv1"), "{err}");

    // A NEGOTIATE without extended session security (NTLMv1 session security).
    let (_, mut server) = contexts(&package, None);
    let mut negotiate = negotiate.clone();
    negotiate[14] &= !0x08; // clear 0x00080000
    let mut out = vec![0u8; 4096];
    let err = server
        .asc(
            &[SecBufferRef::token(&negotiate)],
            &mut [SecBuffer::token(&mut out)],
        )
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION);
    assert!(err.message().contains("NTLMv1"), "{err}");
}

fn bound_handshake(
    package: &Package,
    client_cb: Option<&[u8]>,
    server_cb: Option<&[u8]>,
) -> Result<(SecurityStatus, Vec<u8>), SecurityStatus> {
    let (mut client, mut server) = contexts(package, None);
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    let (_, authenticate) = leg(&mut client, true, &challenge, client_cb).unwrap();
    leg(&mut server, false, &authenticate, server_cb)
}

#[test]
fn channel_bindings() {
    let package = package(vec![]);
    let a = sec_channel_bindings(b"tls-server-end-point:AAAA");
    let b = sec_channel_bindings(b"tls-server-end-point:BBBB");
    assert!(bound_handshake(&package, Some(&a), Some(&a)).is_ok());
    assert_eq!(
        bound_handshake(&package, Some(&a), Some(&b)).unwrap_err(),
        SecurityStatus::SEC_E_BAD_BINDINGS
    );
    // The server without bindings ignores the client's; a client without is
    // accepted unless RequireChannelBindings.
    assert!(bound_handshake(&package, Some(&a), None).is_ok());
    assert!(bound_handshake(&package, None, Some(&a)).is_ok());
    let strict = self::package(vec![(
        "",
        "RequireChannelBindings",
        ParameterValue::Dword(1),
    )]);
    assert_eq!(
        bound_handshake(&strict, None, Some(&a)).unwrap_err(),
        SecurityStatus::SEC_E_BAD_BINDINGS
    );
    // A malformed SEC_CHANNEL_BINDINGS from the application is a parameter error.
    let (mut client, mut server) = contexts(&package, None);
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    assert_eq!(
        leg(&mut client, true, &challenge, Some(&a[..20])).unwrap_err(),
        SecurityStatus::SEC_E_INVALID_PARAMETER
    );
}

#[test]
fn a_response_outside_the_clock_skew_is_refused() {
    // Re-time the client's blob: the proof then fails, so test the check with
    // a consistent client (the package's own functions) and a server clock
    // that moved on.
    use sspi_package_ntlm::internal::handshake::{self, ClientIdentity, ClientRandom};
    let package_config = |skew: u32| {
        let params = PackageParameters {
            key_path: "k".into(),
            entries: vec![
                Parameter {
                    key: r"Users\alice".into(),
                    name: "Password".into(),
                    value: sz("pw"),
                    origin: "t:1:1".into(),
                },
                Parameter {
                    key: "".into(),
                    name: "MaxClockSkew".into(),
                    value: ParameterValue::Dword(skew),
                    origin: "t:1:1".into(),
                },
            ]
            .into(),
        };
        sspi_package_ntlm::internal::config::NtlmConfig::from_parameters(&params).unwrap()
    };
    let config = package_config(300);
    let nego = handshake::negotiate_message(handshake::client_negotiate_flags(
        IscReq::PROTECTED_CONNECTION,
    ))
    .unwrap();
    let t0 = 133_000_000_000_000_000u64;
    let sent = handshake::server_challenge(&config, &nego, [7; 8], t0).unwrap();
    let identity = ClientIdentity::new(
        "alice",
        "",
        &sspi_package_ntlm::internal::crypto::nt_hash("pw"),
    );
    let random = ClientRandom::generate().unwrap();
    let out = handshake::client_authenticate(
        &identity,
        &nego,
        &sent.challenge,
        None,
        None,
        "WS",
        &random,
    )
    .unwrap();
    let response =
        Ntlmv2Response::parse(Authenticate::parse(&out.authenticate).unwrap().nt_response).unwrap();
    assert_eq!(
        response.timestamp, t0,
        "the client uses the server's MsvAvTimestamp"
    );
    let ok = handshake::server_authenticate(
        &config,
        &sent,
        &out.authenticate,
        None,
        t0 + 299 * 10_000_000,
    );
    assert_eq!(ok.map(|o| o.user).unwrap(), "alice");
    let late = handshake::server_authenticate(
        &config,
        &sent,
        &out.authenticate,
        None,
        t0 + 301 * 10_000_000,
    );
    assert_eq!(
        late.err().map(|e| e.status()),
        Some(SecurityStatus::SEC_E_TIME_SKEW)
    );
}

#[test]
fn replay_reorder_and_tamper_of_messages() {
    let package = package(vec![]);
    let (mut client, mut server, result) = run(&package, None, |_| {});
    result.unwrap();
    let seal = |ctx: &mut Context, text: &[u8]| {
        let mut data = text.to_vec();
        let mut token = vec![0u8; 16];
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        ctx.encrypt_message(Qop::DEFAULT, &mut message).unwrap();
        (token, data)
    };
    let open = |ctx: &mut Context, (token, data): &(Vec<u8>, Vec<u8>)| {
        let (mut token, mut data) = (token.clone(), data.clone());
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        ctx.decrypt_message(&mut message)
            .map(|_| data)
            .map_err(|e| e.status())
    };
    let m0 = seal(&mut client, b"zero");
    let m1 = seal(&mut client, b"one");
    assert_eq!(
        open(&mut server, &m1),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        "reordered"
    );
    assert_eq!(open(&mut server, &m0).unwrap(), b"zero");
    assert_eq!(
        open(&mut server, &m0),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        "replayed"
    );
    let mut tampered = m1.clone();
    tampered.1[0] ^= 0x80;
    assert_eq!(
        open(&mut server, &tampered),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    // The corrupted message consumed its number and keystream, as the sender's did.
    let m2 = seal(&mut client, b"two");
    assert_eq!(open(&mut server, &m2).unwrap(), b"two");

    // Signatures.
    let sign = |ctx: &mut Context, text: &[u8]| {
        let mut data = text.to_vec();
        let mut token = vec![0u8; 16];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        ctx.make_signature(Qop::DEFAULT, &mut message).unwrap();
        token
    };
    let verify = |ctx: &mut Context, text: &[u8], token: &[u8]| {
        let (mut data, mut token) = (text.to_vec(), token.to_vec());
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        ctx.verify_signature(&mut message).map_err(|e| e.status())
    };
    let s0 = sign(&mut server, b"a");
    let s1 = sign(&mut server, b"b");
    assert_eq!(
        verify(&mut client, b"b", &s1),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    assert_eq!(verify(&mut client, b"a", &s0), Ok(Qop::DEFAULT));
    assert_eq!(
        verify(&mut client, b"a", &s0),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    assert_eq!(
        verify(&mut client, b"B", &s1),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    let s2 = sign(&mut server, b"c");
    assert_eq!(verify(&mut client, b"c", &s2), Ok(Qop::DEFAULT));
    assert_eq!(
        verify(&mut client, b"c", &s2[..15]),
        Err(SecurityStatus::SEC_E_INVALID_TOKEN)
    );
}

#[test]
fn default_identity_needs_a_known_user() {
    let package = package(vec![("", "DefaultUser", sz("nobody"))]);
    let err = package
        .credentials(CredentialUse::OUTBOUND, None)
        .err()
        .unwrap();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
}

#[test]
fn a_thousand_users_from_a_database_file() {
    let dir = std::env::temp_dir().join(format!("ntlm-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.txt");
    let mut text = String::from("# 1000 users\n");
    for i in 0..1000 {
        text.push_str(&format!("CORP:user{i}:password-{i}\n"));
    }
    text.push_str("CORP:hashed:a4f49c406510bdcab6824ee7c30fd852\n");
    std::fs::write(&path, text).unwrap();
    let package = package(vec![("", "UserDatabase", sz(path.to_str().unwrap()))]);
    for (user, password) in [
        ("user0", "password-0"),
        ("user999", "password-999"),
        ("hashed", "Password"),
    ] {
        let (_, server, result) = run(
            &package,
            Some(AuthIdentity::new(user, "CORP", password)),
            |_| {},
        );
        assert_eq!(result, Ok(SecurityStatus::SEC_E_OK), "{user}");
        assert_eq!(server.names().unwrap(), format!("CORP\\{user}"));
    }
    let (_, _, result) = run(
        &package,
        Some(AuthIdentity::new("user1", "CORP", "password-2")),
        |_| {},
    );
    assert_eq!(result, Err(SecurityStatus::SEC_E_LOGON_DENIED));

    std::fs::write(&path, "CORP:ok:pw\nCORP-only-two:fields\n").unwrap();
    let params = PackageParameters {
        key_path: "k".into(),
        entries: vec![Parameter {
            key: "".into(),
            name: "UserDatabase".into(),
            value: sz("users.txt"),
            origin: format!("{}:3:1", dir.join("sspi.reg").display()).into(),
        }]
        .into(),
    };
    let err = common::open(&params).err().unwrap();
    assert_eq!(err.status(), SecurityStatus::SEC_E_CANNOT_INSTALL);
    assert!(
        err.message()
            .starts_with(&format!("{}:2: ", path.display())),
        "relative to the registry file, naming file and line: {err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_server_that_knows_its_spns_refuses_tokens_made_for_another_target() {
    // The client targets host/server.example (see `contexts`).
    let mine = package(vec![(
        "",
        "ServicePrincipalNames",
        ParameterValue::MultiSz(
            vec!["HTTP/server.example".into(), "HOST/Server.Example".into()].into(),
        ),
    )]);
    let (_, _, result) = run(&mine, None, |_| {});
    assert_eq!(
        result,
        Ok(SecurityStatus::SEC_E_OK),
        "one of its SPNs, any case"
    );

    // The same AUTHENTICATE relayed to a server that is not host/server.example.
    let other = package(vec![(
        "",
        "ServicePrincipalNames",
        sz("host/other.example, cifs/other.example"),
    )]);
    let (_, _, result) = run(&other, None, |_| {});
    assert_eq!(result, Err(SecurityStatus::SEC_E_BAD_BINDINGS));

    // A client that names no target at all is refused too once SPNs are set.
    let mut client = other
        .credentials(CredentialUse::OUTBOUND, None)
        .unwrap()
        .client(None, IscReq::PROTECTED_CONNECTION)
        .unwrap();
    let mut server = other
        .credentials(CredentialUse::INBOUND, None)
        .unwrap()
        .server(AscReq::PROTECTED_CONNECTION)
        .unwrap();
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    let (_, authenticate) = leg(&mut client, true, &challenge, None).unwrap();
    assert_eq!(
        leg(&mut server, false, &authenticate, None).map(|(s, _)| s),
        Err(SecurityStatus::SEC_E_BAD_BINDINGS)
    );

    // Unset (the default), any target is accepted.
    let (_, _, result) = run(&package(vec![]), None, |_| {});
    assert_eq!(result, Ok(SecurityStatus::SEC_E_OK));
}

#[test]
fn per_message_failures_name_their_reason() {
    let package = package(vec![]);
    let (mut client, mut server, result) = run(&package, None, |_| {});
    result.unwrap();
    let sign = |ctx: &mut Context, token: &mut [u8]| {
        let mut data = *b"data";
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(token)];
        ctx.make_signature(Qop::DEFAULT, &mut message)
    };
    let verify = |ctx: &mut Context, data: &[u8], token: &[u8]| {
        let (mut data, mut token) = (data.to_vec(), token.to_vec());
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        ctx.verify_signature(&mut message)
    };
    let failure = |result: Result<Qop, sspi_core::MessageError>| {
        let e = result.unwrap_err();
        (e.status(), e.reason())
    };

    let mut short = [0u8; 15];
    assert_eq!(
        failure(sign(&mut client, &mut short)),
        (
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
            "the TOKEN buffer is shorter than cbMaxSignature (16 bytes)"
        )
    );
    let mut data = *b"data";
    let mut trailer = [0u8; 15];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    assert_eq!(
        failure(client.encrypt_message(Qop::DEFAULT, &mut message)),
        (
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
            "the TOKEN buffer is shorter than cbSecurityTrailer (16 bytes)"
        )
    );
    let mut data = *b"data";
    assert_eq!(
        failure(client.make_signature(Qop::DEFAULT, &mut [SecBuffer::data(&mut data)])),
        (
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the message has no SECBUFFER_TOKEN buffer"
        )
    );
    let mut token = [0u8; 16];
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    assert_eq!(
        failure(client.make_signature(Qop::WRAP_NO_ENCRYPT, &mut message)).0,
        SecurityStatus::SEC_E_QOP_NOT_SUPPORTED
    );

    // None of the refused calls took a sequence number: the first signature is number 0.
    let mut s0 = [0u8; 16];
    sign(&mut client, &mut s0).unwrap();
    assert_eq!(s0[12..], 0u32.to_le_bytes());
    let mut s1 = [0u8; 16];
    sign(&mut client, &mut s1).unwrap();
    assert_eq!(
        failure(verify(&mut server, b"data", &s1)),
        (
            SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
            "the signature's sequence number is not the next one"
        )
    );
    assert_eq!(
        failure(verify(&mut server, b"data", &s0[..15])),
        (
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the NTLM signature in the TOKEN buffer is not 16 bytes long"
        )
    );
    let mut version_2 = s0;
    version_2[0] = 2;
    assert_eq!(
        failure(verify(&mut server, b"data", &version_2)),
        (
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the NTLM signature's version is not 1"
        )
    );
    assert_eq!(
        failure(verify(&mut server, b"DATA", &s0)),
        (
            SecurityStatus::SEC_E_MESSAGE_ALTERED,
            "the signature does not match the message"
        )
    );
    // The altered message used up number 0, as the sender did.
    assert_eq!(verify(&mut server, b"data", &s1), Ok(Qop::DEFAULT));

    let mut data = *b"secret";
    let mut trailer = [0u8; 16];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    server.encrypt_message(Qop::DEFAULT, &mut message).unwrap();
    data[0] ^= 1;
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    let (status, reason) = failure(client.decrypt_message(&mut message));
    assert_eq!(status, SecurityStatus::SEC_E_MESSAGE_ALTERED);
    assert!(reason.contains("altered in transit"), "{reason}");
    assert_eq!(data, [0; 6], "no unauthenticated plaintext is handed out");
}

#[test]
fn sealing_needs_confidentiality_and_the_engine_checks_completeness_and_expiry() {
    let package = package(vec![("", "ContextLifetime", ParameterValue::Dword(1))]);
    let mut client = package
        .credentials(CredentialUse::OUTBOUND, None)
        .unwrap()
        .client(None, IscReq::INTEGRITY | IscReq::CONNECTION)
        .unwrap();
    let mut server = package
        .credentials(CredentialUse::INBOUND, None)
        .unwrap()
        .server(AscReq::NONE)
        .unwrap();
    let mut token = [0u8; 16];
    let mut data = *b"early";
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    let early = client
        .make_signature(Qop::DEFAULT, &mut message)
        .unwrap_err();
    assert_eq!(early.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);

    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();
    let (_, authenticate) = leg(&mut client, true, &challenge, None).unwrap();
    leg(&mut server, false, &authenticate, None).unwrap();
    let Ok(ContextFlags::Client(flags)) = client.flags() else {
        panic!("client flags");
    };
    assert!(flags.contains(IscRet::INTEGRITY) && !flags.contains(IscRet::CONFIDENTIALITY));
    assert!(!flags.contains(IscRet::REPLAY_DETECT), "not asked for");

    let mut data = *b"secret";
    let mut trailer = [0u8; 16];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    let e = client
        .encrypt_message(Qop::DEFAULT, &mut message)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION);
    assert!(e.reason().contains("ISC_REQ_CONFIDENTIALITY"), "{e}");

    // ContextLifetime=1: a second later the engine refuses per-message calls.
    let lifespan = client.lifespan().unwrap();
    assert_eq!(lifespan.expiry.0 - lifespan.start.0, 10_000_000);
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut trailer)];
    client.make_signature(Qop::DEFAULT, &mut message).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut trailer)];
    let expired = client
        .make_signature(Qop::DEFAULT, &mut message)
        .unwrap_err();
    assert_eq!(expired.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);
}

#[test]
fn a_too_small_output_buffer_and_a_wrong_side_call_leave_the_context_usable() {
    let package = package(vec![]);
    let (mut client, mut server) = contexts(&package, None);
    let (_, negotiate) = leg(&mut client, true, &[], None).unwrap();
    let (_, challenge) = leg(&mut server, false, &negotiate, None).unwrap();

    // AcceptSecurityContext on the client context is refused and changes nothing.
    let mut out = vec![0u8; sspi_package_ntlm::MAX_TOKEN];
    let wrong = client
        .asc(
            &[SecBufferRef::token(&challenge)],
            &mut [SecBuffer::token(&mut out)],
        )
        .unwrap_err();
    assert_eq!(wrong.status(), SecurityStatus::SEC_E_INVALID_HANDLE);

    // ISC#2 into 10 bytes: SEC_E_BUFFER_TOO_SMALL, and the retry delivers the AUTHENTICATE.
    let mut small = [0u8; 10];
    let too_small = client
        .isc(
            &[SecBufferRef::token(&challenge)],
            &mut [SecBuffer::token(&mut small)],
        )
        .unwrap_err();
    assert_eq!(too_small.status(), SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
    let (status, authenticate) = leg(&mut client, true, &challenge, None).unwrap();
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    assert_eq!(
        leg(&mut server, false, &authenticate, None),
        Ok((SecurityStatus::SEC_E_OK, vec![]))
    );
    let Ok(ContextFlags::Server(flags)) = server.flags() else {
        panic!("a server context reports ASC_RET bits");
    };
    assert!(flags.contains(
        sspi_core::AscRet::REPLAY_DETECT
            | sspi_core::AscRet::SEQUENCE_DETECT
            | sspi_core::AscRet::CONFIDENTIALITY
            | sspi_core::AscRet::INTEGRITY
    ));
    seal_round_trip(&mut client, &mut server, b"after a retry");
}

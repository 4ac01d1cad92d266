//! RFC 8009 against MIT Kerberos on loopback: an MIT KDC whose every
//! principal (krbtgt, alice, host/localhost) has only
//! aes256-cts-hmac-sha384-192 keys (`scripts/mit-krb5/realm.sh DIR PORT
//! MIT.TEST aes256-cts-hmac-sha384-192`), our package configured with
//! `AllowedEnctypes` = that etype only:
//!
//! * MIT's initiator (`kinit`, then MIT GSS-API's SPNEGO with krb5 inside,
//!   `scripts/spnego/gss_spnego_peer.py`) to our Negotiate/Kerberos acceptor
//!   reading the keytab MIT's `kadmin.local ktadd` exported;
//! * our initiator (tickets from MIT's KDC with the password) to MIT's acceptor;
//! * the raw krb5 mechanism both ways too (`scripts/mit-krb5/gss_peer.py`):
//!   MIT's initiator to our Kerberos acceptor, our Kerberos initiator to MIT's
//!   acceptor;
//! * our KDC with aes-sha2-only principals (`etypes=` lines, etype 20 and
//!   19): MIT `kinit` and `kvno` get tickets in that etype, and MIT's SPNEGO
//!   initiator uses the ticket with our acceptor;
//!
//! each completing with mutual authentication, then MICs both ways, our
//! sealed message unsealed by MIT, and MIT's sealed message (one buffer, RRC 0)
//! unsealed by us as it arrives, in a SECBUFFER_STREAM buffer; our
//! contexts report etype 20's sizes, and MIT's `klist -e` shows the etype.
//!
//! Without the MIT tools and peers the tests print a loud notice and pass
//! without checking anything, except under CI (`CI=true`), where they fail.

#[path = "common/negotiate_fixture.rs"]
mod fixture;
#[path = "common/spnego_peers.rs"]
mod peers;

use peers::{MIT_REALM, PEER_MESSAGE, Peer, PeerLine, free_port, tool};
use sspi_core::{Qop, SecBuffer, SecBufferRef, SecBufferType, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::ffi::OsString;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SHA384: &str = "aes256-cts-hmac-sha384-192";
const OUR_MESSAGE: &[u8] = b"sspi-plug to peer";

/// An MIT realm with only aes256-cts-hmac-sha384-192 keys and its KDC
/// running (killed, by its id, on drop).
struct Sha2MitRealm {
    dir: tempfile::TempDir,
    port: u16,
    kdc: Child,
}

impl Drop for Sha2MitRealm {
    fn drop(&mut self) {
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
    }
}

impl Sha2MitRealm {
    fn start() -> Sha2MitRealm {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let out = Command::new("sh")
            .arg(peers::script("mit-krb5/realm.sh"))
            .arg(dir.path())
            .arg(port.to_string())
            .arg(MIT_REALM)
            .arg(SHA384)
            .output()
            .expect("run realm.sh");
        assert!(
            out.status.success(),
            "realm.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kdc = Command::new(tool("krb5kdc").expect("krb5kdc"))
            .arg("-n")
            .env("KRB5_CONFIG", dir.path().join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", dir.path().join("kdc.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start krb5kdc");
        let realm = Sha2MitRealm { dir, port, kdc };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the MIT KDC did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        realm
    }

    fn env(&self) -> Vec<(&'static str, OsString)> {
        let d = self.dir.path();
        peers::krb5_env(d, &d.join("krb5.conf"), &d.join("service.keytab"))
    }

    fn kinit_alice(&self) {
        peers::kinit(&self.env(), &format!("alice@{MIT_REALM}"), "alice-password");
    }

    /// `klist -e` of the realm's ccache.
    fn klist(&self) -> String {
        let mut command = Command::new(tool("klist").expect("klist"));
        command.arg("-e");
        for (k, v) in self.env() {
            command.env(k, v);
        }
        let out = command.output().expect("klist");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Our host: Kerberos (AllowedEnctypes = etype 20 only, the MIT
    /// keytab), NTLM and Negotiate.
    fn host(&self) -> (RegistryFile, SecurityHost) {
        let keytab = self.dir.path().join("service.keytab");
        let text = fixture::registry_text_for(
            MIT_REALM,
            &format!("127.0.0.1:{}", self.port),
            &keytab.display().to_string(),
            fixture::PROVIDERS,
            "",
        );
        let marker = "\"KdcRetries\"=dword:00000000\n";
        assert!(text.contains(marker));
        let text = text.replacen(
            marker,
            &format!(
                "{marker}\"AllowedEnctypes\"=\"{SHA384}\"\n\"KdcTimeout\"=dword:00000bb8\n\"ReplayCachePath\"=\"replay.rcache\"\n"
            ),
            1,
        );
        // A later KdcTimeout replaces the fixture's 500 ms (an MIT KDC
        // deriving keys may take longer on a loaded machine).
        let text = text.replacen("\"KdcTimeout\"=dword:000001f4\n", "", 1);
        let registry = RegistryFile::new(&text);
        let host = registry.host();
        (registry, host)
    }
}

/// The MIT tools and SPNEGO peers, or `None` after a loud notice (a
/// failure under CI, as in the other MIT tests).
fn ready(test: &str) -> Option<peers::Peers> {
    let p = peers::peers(test)?;
    if tool("klist").is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: klist is not installed; CI must run scripts/mit-krb5/install.sh");
        }
        eprintln!("!! SKIPPED {test}: klist is not installed");
        return None;
    }
    Some(p)
}

/// Etype 20's sizes on our context: MIC 40 bytes, trailer 72.
fn assert_sha384_sizes(ours: &SecurityContextHandle) {
    let sizes = ours.sizes().unwrap();
    assert_eq!(
        (sizes.max_signature, sizes.security_trailer),
        (40, 72),
        "the context's etype is aes256-cts-hmac-sha384-192"
    );
    assert_eq!(ours.session_key().unwrap().expose().len(), 32);
}

/// After both sides completed: the peer's sealed message and MIC to us, ours to it.
fn messages(ours: &mut SecurityContextHandle, peer: &mut Peer) {
    assert_sha384_sizes(ours);
    let theirs = peer.messages();
    // MIT's wrap token as it arrives (one buffer, RRC 0): SECBUFFER_STREAM.
    let mut stream = theirs.wrap.clone();
    let mut message = [
        SecBuffer::new(SecBufferType::STREAM, &mut stream),
        SecBuffer::data(&mut []),
    ];
    assert_eq!(ours.decrypt_message(&mut message, 0), Ok(Qop::DEFAULT));
    assert_eq!(message[1].as_slice(), PEER_MESSAGE.as_bytes());
    let mut data = theirs.message.clone();
    let mut mic = theirs.mic.clone();
    assert_eq!(mic.len(), 40, "MIT's MIC is 16 + 24 bytes");
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut mic)];
    assert_eq!(ours.verify_signature(&mut message, 0), Ok(Qop::DEFAULT));

    let mut token = vec![0u8; 72];
    let mut data = OUR_MESSAGE.to_vec();
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    ours.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
    let len = message[0].len();
    token.truncate(len);
    let wrap = [token, data].concat();
    let mut data = OUR_MESSAGE.to_vec();
    let mut signature = vec![0u8; 40];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    ours.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
    let len = message[1].len();
    assert_eq!(len, 40);
    signature.truncate(len);
    peer.send_wrap(&wrap);
    peer.send_mic(&signature, OUR_MESSAGE);
    match peer.next() {
        PeerLine::Unwrapped { text, sealed } => {
            assert_eq!(text.as_bytes(), OUR_MESSAGE);
            assert!(sealed, "our EncryptMessage seals");
        }
        other => panic!("MIT did not unwrap our message: {other:?}"),
    }
    assert_eq!(peer.next(), PeerLine::Verified, "MIT verifies our MIC");
    assert!(peer.exit_ok(), "the MIT peer exited with an error");
}

/// Our acceptor against a peer initiator; our context and the peer's `OK`.
fn our_server(credentials: &CredentialsHandle, peer: &mut Peer) -> SecurityContextHandle {
    let mut context = None;
    let mut done = false;
    loop {
        match peer.next() {
            PeerLine::Token(t) => {
                assert!(!done, "the peer sent a token after we completed");
                let mut out = vec![0u8; 48256];
                let mut output = [SecBuffer::token(&mut out)];
                let step = credentials
                    .accept_security_context(
                        &mut context,
                        ASC_REQ,
                        &[SecBufferRef::token(&t)],
                        &mut output,
                    )
                    .unwrap_or_else(|e| panic!("our AcceptSecurityContext: {e}"));
                let token = output[0].as_slice().to_vec();
                if !token.is_empty() {
                    peer.send(&token);
                }
                done = !step.needs_continue();
            }
            PeerLine::Ok { mech, .. } => {
                assert!(done, "the peer completed before us");
                assert_eq!(mech, "krb5");
                return context.unwrap();
            }
            other => panic!("peer: {other:?}"),
        }
    }
}

/// Our initiator against a peer acceptor; our context and the peer's client name.
fn our_client(credentials: &CredentialsHandle, peer: &mut Peer) -> (SecurityContextHandle, String) {
    let mut context = None;
    let mut input: Option<Vec<u8>> = None;
    loop {
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        let inputs: Vec<SecBufferRef<'_>> = input.iter().map(|t| SecBufferRef::token(t)).collect();
        let step = credentials
            .initialize_security_context(
                &mut context,
                Some("host/localhost"),
                ISC_REQ,
                &inputs,
                &mut output,
            )
            .unwrap_or_else(|e| panic!("our InitializeSecurityContext: {e}"));
        let token = output[0].as_slice().to_vec();
        if !token.is_empty() {
            peer.send(&token);
        }
        match peer.next() {
            PeerLine::Token(t) if step.needs_continue() => input = Some(t),
            PeerLine::Ok { mech, name } if !step.needs_continue() => {
                assert_eq!(mech, "krb5");
                return (context.unwrap(), name);
            }
            other => panic!("peer: {other:?} (our step {:?})", step.status),
        }
    }
}

#[test]
fn mit_initiator_to_our_acceptor_aes256_sha384_only() {
    let Some(p) = ready("MIT SPNEGO (krb5, aes-sha2 only) -> our Negotiate/Kerberos") else {
        return;
    };
    let realm = Sha2MitRealm::start();
    let (_registry, host) = realm.host();
    realm.kinit_alice();
    let credentials = fixture::server(&host, "Negotiate", None);
    let mut peer = Peer::mit(
        &p,
        &["initiate", "host@localhost", "--mechs", "krb5"],
        &realm.env(),
    );
    let mut ours = our_server(&credentials, &mut peer);
    assert_eq!(ours.names().unwrap(), format!("alice@{MIT_REALM}"));
    messages(&mut ours, &mut peer);
    // MIT's ccache: the TGT and the service ticket, both etype 20.
    let klist = realm.klist();
    assert!(
        klist.contains(&format!("host/localhost@{MIT_REALM}"))
            && klist.contains(
                "Etype (skey, tkt): aes256-cts-hmac-sha384-192, aes256-cts-hmac-sha384-192"
            )
            && !klist.contains("sha1"),
        "{klist}"
    );
    eprintln!("MIT initiator -> our acceptor, aes256-cts-hmac-sha384-192 only: ok");
}

#[test]
fn our_initiator_to_mit_acceptor_aes256_sha384_only() {
    let Some(p) = ready("our Negotiate/Kerberos (aes-sha2 only) -> MIT SPNEGO (krb5)") else {
        return;
    };
    let realm = Sha2MitRealm::start();
    let (_registry, host) = realm.host();
    let credentials = fixture::client(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["accept", "--mechs", "krb5"], &realm.env());
    let (mut ours, name) = our_client(&credentials, &mut peer);
    assert_eq!(name, format!("alice@{MIT_REALM}"));
    messages(&mut ours, &mut peer);
    eprintln!("our initiator -> MIT acceptor, aes256-cts-hmac-sha384-192 only: ok");
}

/// The raw krb5 mechanism (no SPNEGO): `scripts/mit-krb5/gss_peer.py`.
fn raw_peer(args: &[&str], realm: &Sha2MitRealm) -> Peer {
    Peer::spawn(
        std::path::Path::new("/usr/bin/python3"),
        &peers::script("mit-krb5/gss_peer.py"),
        args,
        &realm.env(),
    )
}

/// gss_peer.py prints "MIC <hex>" (over "signed by MIT"), then "OK ...".
fn raw_mit_mic(peer: &mut Peer) -> Vec<u8> {
    match peer.next() {
        PeerLine::Mic { mic, message } if message.is_empty() => mic,
        other => panic!("MIT: {other:?}"),
    }
}

#[test]
fn raw_krb5_both_ways_aes256_sha384_only() {
    let Some(_p) = ready("raw krb5 (aes-sha2 only) with MIT both ways") else {
        return;
    };
    let realm = Sha2MitRealm::start();
    let (_registry, host) = realm.host();
    realm.kinit_alice();
    // MIT's initiator to our Kerberos acceptor.
    let server = fixture::server(&host, "Kerberos", None);
    let target = format!("host/localhost@{MIT_REALM}");
    let mut peer = raw_peer(&["initiate", &target], &realm);
    let ap_req = peer.token();
    let mut out = vec![0u8; 12_000];
    let mut ctx = None;
    let mut output = [SecBuffer::token(&mut out)];
    let step = server
        .accept_security_context(
            &mut ctx,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut output,
        )
        .expect("our acceptor takes MIT's etype-20 AP-REQ");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    peer.send(output[0].as_slice());
    let mut ctx = ctx.unwrap();
    assert_sha384_sizes(&ctx);
    let mic = raw_mit_mic(&mut peer);
    let mut data = b"signed by MIT".to_vec();
    let mut sig = mic;
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    assert_eq!(ctx.verify_signature(&mut msg, 0), Ok(Qop::DEFAULT));

    // Our Kerberos initiator (password, MIT's KDC) to MIT's acceptor.
    let client = fixture::client(&host, "Kerberos", None);
    let mut peer = raw_peer(&["accept"], &realm);
    let mut cctx = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(&mut cctx, Some("host/localhost"), ISC_REQ, &[], &mut output)
        .expect("our AP-REQ");
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    peer.send(output[0].as_slice());
    let ap_rep = peer.token();
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(
            &mut cctx,
            Some("host/localhost"),
            ISC_REQ,
            &[SecBufferRef::token(&ap_rep)],
            &mut output,
        )
        .expect("MIT's etype-20 AP-REP");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    let mut cctx = cctx.unwrap();
    assert_sha384_sizes(&cctx);
    let mic = raw_mit_mic(&mut peer);
    let mut data = b"signed by MIT".to_vec();
    let mut sig = mic;
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    assert_eq!(cctx.verify_signature(&mut msg, 0), Ok(Qop::DEFAULT));
    eprintln!("raw krb5 with MIT both ways, aes256-cts-hmac-sha384-192 only: ok");
}

/// Our KDC issuing RFC 8009 keys to MIT: a database whose alice and
/// host/localhost have only `etypes` keys (derived from their passwords),
/// MIT `kinit` (PA-ENC-TIMESTAMP and the AS-REP in that etype, the string
/// to key of RFC 8009 on both sides) and `kvno`, then MIT's SPNEGO
/// initiator with that ticket to our acceptor (the keytab of our database),
/// messages both ways.
fn mit_tools_against_our_kdc(etype: &str, mic_len: u32, trailer: u32) {
    let Some(p) = ready("MIT kinit/kvno/GSS -> our KDC and acceptor, aes-sha2 only") else {
        return;
    };
    let realm = fixture::REALM;
    let text = format!(
        "alice etypes={etype} password alice-password\n\
         host/localhost etypes={etype} password host-service-secret\n"
    );
    let db = sspi_kdc::Database::parse(&text, realm, "sha2-database").unwrap();
    let keytab = db.keytab(&["host/localhost"]).unwrap();
    let kdc =
        sspi_kdc::KdcHandle::start("127.0.0.1:0".parse().unwrap(), sspi_kdc::KdcConfig::new(db))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keytab_path = dir.path().join("service.keytab");
    std::fs::write(&keytab_path, keytab.to_bytes().unwrap()).unwrap();
    let conf = dir.path().join("krb5.conf");
    std::fs::write(
        &conf,
        format!(
            "[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
             rdns = false\n udp_preference_limit = 1\n\
             permitted_enctypes = {etype}\n default_tkt_enctypes = {etype}\n default_tgs_enctypes = {etype}\n\
             [realms]\n {realm} = {{\n  kdc = {}\n }}\n",
            kdc.addr()
        ),
    )
    .unwrap();
    let env = peers::krb5_env(dir.path(), &conf, &keytab_path);
    peers::kinit(&env, &format!("alice@{realm}"), "alice-password");
    let mut kvno = Command::new(tool("kvno").expect("kvno"));
    kvno.arg(format!("host/localhost@{realm}"));
    for (k, v) in &env {
        kvno.env(k, v);
    }
    let out = kvno.output().unwrap();
    assert!(
        out.status.success(),
        "kvno against our KDC: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut klist = Command::new(tool("klist").unwrap());
    klist.arg("-e");
    for (k, v) in &env {
        klist.env(k, v);
    }
    let listing = String::from_utf8_lossy(&klist.output().unwrap().stdout).into_owned();
    assert!(
        listing.contains(&format!("Etype (skey, tkt): {etype}, {etype}"))
            && listing.contains(&format!("host/localhost@{realm}")),
        "{listing}"
    );

    let registry = RegistryFile::new(&fixture::registry_text_for(
        realm,
        &kdc.addr().to_string(),
        &keytab_path.display().to_string(),
        fixture::PROVIDERS,
        "",
    ));
    let host = registry.host();
    let credentials = fixture::server(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["initiate", "host@localhost", "--mechs", "krb5"], &env);
    let mut ours = our_server(&credentials, &mut peer);
    assert_eq!(ours.names().unwrap(), format!("alice@{realm}"));
    let sizes = ours.sizes().unwrap();
    assert_eq!(
        (sizes.max_signature, sizes.security_trailer),
        (mic_len, trailer)
    );
    let theirs = peer.messages();
    let mut stream = theirs.wrap.clone();
    let mut message = [
        SecBuffer::new(SecBufferType::STREAM, &mut stream),
        SecBuffer::data(&mut []),
    ];
    assert_eq!(ours.decrypt_message(&mut message, 0), Ok(Qop::DEFAULT));
    assert_eq!(message[1].as_slice(), PEER_MESSAGE.as_bytes());
    let (mut data, mut mic) = (theirs.message.clone(), theirs.mic.clone());
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut mic)];
    assert_eq!(ours.verify_signature(&mut message, 0), Ok(Qop::DEFAULT));
    let mut token = vec![0u8; trailer as usize];
    let mut data = OUR_MESSAGE.to_vec();
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    ours.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
    let len = message[0].len();
    token.truncate(len);
    let wrap = [token, data].concat();
    let mut data = OUR_MESSAGE.to_vec();
    let mut signature = vec![0u8; mic_len as usize];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    ours.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
    peer.send_wrap(&wrap);
    peer.send_mic(&signature, OUR_MESSAGE);
    assert!(matches!(
        peer.next(),
        PeerLine::Unwrapped { sealed: true, .. }
    ));
    assert_eq!(peer.next(), PeerLine::Verified, "MIT verifies our MIC");
    assert!(peer.exit_ok());
    eprintln!("MIT kinit/kvno/GSS with our KDC and acceptor, {etype} only: ok");
}

#[test]
fn mit_tools_against_our_kdc_aes256_sha384_only() {
    mit_tools_against_our_kdc(SHA384, 40, 72);
}

#[test]
fn mit_tools_against_our_kdc_aes128_sha256_only() {
    mit_tools_against_our_kdc("aes128-cts-hmac-sha256-128", 32, 64);
}

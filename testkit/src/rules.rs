//! The rules, each checked on fresh contexts so one cannot disturb another.

use crate::driver::{Pair, Turn, seal, sign, status, unseal, verify};
use crate::{Configuration, Outcome, Rule, alloc};
use sspi_core::{
    CredentialUse, MessageError, PackageCapabilities, Qop, SecBuffer, SecBufferRef, SecurityError,
    SecurityStatus,
};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};

type Check = Result<String, String>;

/// What the rules share: the credentials, the configuration and what the
/// package offers.
struct Kit<'a> {
    client: CredentialsHandle,
    server: CredentialsHandle,
    config: &'a Configuration,
    integrity: bool,
    privacy: bool,
}

pub(crate) fn check_all(
    host: &SecurityHost,
    package: &str,
    config: &Configuration,
) -> Vec<(Rule, Outcome)> {
    let kit = match Kit::new(host, package, config) {
        Ok(kit) => kit,
        Err(why) => return not_checked(Outcome::Fail(why)),
    };
    let handshake = to_outcome(kit.handshake());
    if matches!(handshake, Outcome::Fail(_)) {
        return not_checked(handshake);
    }
    let mut results = vec![(Rule::Handshake, handshake)];
    for &rule in &Rule::ALL[1..] {
        let outcome = match rule {
            Rule::Tampering => to_outcome(kit.tampering()),
            Rule::Replay => to_outcome(kit.replay()),
            Rule::Reordering => to_outcome(kit.reordering()),
            Rule::GarbageToken | Rule::TruncatedToken | Rule::OversizedToken => {
                to_outcome(kit.malformed(rule))
            }
            Rule::WrongSide => to_outcome(kit.misuse(Rule::WrongSide)),
            Rule::OutOfOrder => to_outcome(kit.misuse(Rule::OutOfOrder)),
            Rule::BufferTooSmall => to_outcome(kit.buffer_too_small()),
            Rule::NoAllocation => kit.no_allocation(),
            Rule::Handshake => continue,
        };
        results.push((rule, outcome));
    }
    results
}

/// The handshake's outcome, and every other rule not checked.
fn not_checked(handshake: Outcome) -> Vec<(Rule, Outcome)> {
    let mut results = vec![(Rule::Handshake, handshake)];
    for &rule in &Rule::ALL[1..] {
        let why = "not checked: the handshake does not complete".to_string();
        results.push((rule, Outcome::Skipped(why)));
    }
    results
}

fn to_outcome(check: Check) -> Outcome {
    match check {
        Ok(message) => Outcome::Pass(message),
        Err(message) => Outcome::Fail(message),
    }
}

/// `what` must have failed with `want`.
fn expect(
    what: &str,
    result: Result<Qop, MessageError>,
    want: SecurityStatus,
) -> Result<(), String> {
    match result {
        Ok(_) => Err(format!("{what} was accepted (expected {})", status(want))),
        Err(e) if e.status() == want => Ok(()),
        Err(e) => Err(format!(
            "{what} returned {e} (expected {}){}",
            status(want),
            internal(e.status(), e.is_panic())
        )),
    }
}

/// A refused misuse: any failure but SEC_E_INTERNAL_ERROR.
fn refused<T>(what: &str, result: Result<T, SecurityError>) -> Result<SecurityStatus, String> {
    match result {
        Ok(_) => Err(format!("{what} was not refused")),
        Err(e) if e.status() == SecurityStatus::SEC_E_INTERNAL_ERROR => Err(format!(
            "{what} returned {e}{}",
            internal(e.status(), e.is_panic())
        )),
        Err(e) => Ok(e.status()),
    }
}

/// What a SEC_E_INTERNAL_ERROR means, for the message.
fn internal(status: SecurityStatus, panicked: bool) -> &'static str {
    match (status == SecurityStatus::SEC_E_INTERNAL_ERROR, panicked) {
        (_, true) => " — the package panicked",
        (true, false) => " — the package failed internally",
        _ => "",
    }
}

const MESSAGE: &[u8] = b"sspi-testkit conformance message";

/// Deterministic bytes for garbage tokens (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

impl<'a> Kit<'a> {
    fn new(host: &SecurityHost, package: &str, config: &'a Configuration) -> Result<Self, String> {
        let info = host
            .query_security_package_info(package)
            .map_err(|e| e.to_string())?;
        let (integrity, privacy) = (
            info.capabilities.contains(PackageCapabilities::INTEGRITY),
            info.capabilities.contains(PackageCapabilities::PRIVACY),
        );
        let identity = config.identity.clone();
        let client = host
            .acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, identity)
            .map_err(|e| format!("client credentials: {e}"))?;
        let server = host
            .acquire_credentials_handle(package, None, CredentialUse::INBOUND, None)
            .map_err(|e| format!("server credentials: {e}"))?;
        Ok(Self {
            client,
            server,
            config,
            integrity,
            privacy,
        })
    }

    fn pair(&self) -> Pair<'_> {
        Pair::new(&self.client, &self.server, self.config)
    }

    /// A complete pair.
    fn established(&self) -> Result<Pair<'_>, String> {
        let mut pair = self.pair();
        pair.finish().map_err(|e| format!("handshake: {e}"))?;
        Ok(pair)
    }

    /// Signs (and seals) one message each way on `pair`; describes what worked.
    fn round_trip(&self, pair: &mut Pair<'_>) -> Check {
        let (client, server) = pair.established()?;
        let sizes = client
            .sizes()
            .map_err(|e| format!("QueryContextAttributes(SIZES): {e}"))?;
        let mut done = Vec::new();
        for name in ["client", "server"] {
            let (from, to) = match name {
                "client" => (&mut *client, &mut *server),
                _ => (&mut *server, &mut *client),
            };
            if self.integrity {
                let mut data = MESSAGE.to_vec();
                let mut signature = sign(from, &mut data, sizes.max_signature as usize)
                    .map_err(|e| format!("MakeSignature by the {name}: {e}"))?;
                verify(to, &mut data, &mut signature)
                    .map_err(|e| format!("VerifySignature of the {name}'s signature: {e}"))?;
            }
            if self.privacy {
                let mut data = MESSAGE.to_vec();
                let mut trailer = seal(from, &mut data, sizes.security_trailer as usize)
                    .map_err(|e| format!("EncryptMessage by the {name}: {e}"))?;
                if data == MESSAGE {
                    return Err(format!(
                        "EncryptMessage by the {name} left the DATA in clear"
                    ));
                }
                unseal(to, &mut data, &mut trailer)
                    .map_err(|e| format!("DecryptMessage of the {name}'s message: {e}"))?;
                if data != MESSAGE {
                    return Err(format!("the {name}'s sealed message opened to other bytes"));
                }
            }
        }
        if self.integrity {
            done.push("signatures verify both ways");
        }
        if self.privacy {
            done.push("sealed messages open both ways");
        } else {
            let mut data = MESSAGE.to_vec();
            match seal(client, &mut data, sizes.security_trailer.max(64) as usize) {
                Err(e) if e.status() == SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION => done
                    .push("EncryptMessage is SEC_E_UNSUPPORTED_FUNCTION (no SECPKG_FLAG_PRIVACY)"),
                other => {
                    return Err(format!(
                        "the package has no SECPKG_FLAG_PRIVACY but EncryptMessage returned {other:?} (expected SEC_E_UNSUPPORTED_FUNCTION)"
                    ));
                }
            }
        }
        Ok(done.join("; "))
    }

    fn handshake(&self) -> Check {
        let mut pair = self.established()?;
        let calls = pair.calls;
        let works = self.round_trip(&mut pair)?;
        Ok(format!("complete after {calls} calls; {works}"))
    }

    /// Runs `f` on a fresh pair's (client, server) for each of signing and sealing the package offers.
    fn each_protection(
        &self,
        mut f: impl FnMut(
            &mut SecurityContextHandle,
            &mut SecurityContextHandle,
            bool,
        ) -> Result<(), String>,
    ) -> Check {
        let mut kinds = Vec::new();
        for (sealing, offered) in [(false, self.integrity), (true, self.privacy)] {
            if offered {
                let mut pair = self.established()?;
                let (client, server) = pair.established()?;
                f(client, server, sealing)?;
                kinds.push(if sealing {
                    "sealed messages"
                } else {
                    "signatures"
                });
            }
        }
        if kinds.is_empty() {
            return Err("the package offers neither SECPKG_FLAG_INTEGRITY nor PRIVACY".into());
        }
        Ok(format!("checked on {}", kinds.join(" and ")))
    }

    /// An altered DATA buffer must be SEC_E_MESSAGE_ALTERED; a token with
    /// its first, middle or last byte altered must be refused, as
    /// SEC_E_MESSAGE_ALTERED or, where the byte is a header field or the
    /// sequence number, SEC_E_INVALID_TOKEN or SEC_E_OUT_OF_SEQUENCE.
    fn tampering(&self) -> Check {
        let mut token_statuses = Vec::new();
        for target in [
            Tamper::Data,
            Tamper::Token(0),
            Tamper::Token(1),
            Tamper::Token(2),
        ] {
            self.each_protection(|client, server, sealing| {
                let sizes = client.sizes().map_err(|e| e.to_string())?;
                let mut data = MESSAGE.to_vec();
                let (call, mut token, result);
                if sealing {
                    token = seal(client, &mut data, sizes.security_trailer as usize)
                        .map_err(|e| e.to_string())?;
                    let at = tamper(target, &mut data, &mut token);
                    call = format!("DecryptMessage with one bit of {at} changed");
                    result = unseal(server, &mut data, &mut token);
                } else {
                    token = sign(client, &mut data, sizes.max_signature as usize)
                        .map_err(|e| e.to_string())?;
                    let at = tamper(target, &mut data, &mut token);
                    call = format!("VerifySignature with one bit of {at} changed");
                    result = verify(server, &mut data, &mut token);
                }
                if target == Tamper::Data {
                    return expect(&call, result, SecurityStatus::SEC_E_MESSAGE_ALTERED);
                }
                match result {
                    Err(e) if TOKEN_REFUSALS.contains(&e.status()) => {
                        token_statuses.push(e.status());
                        Ok(())
                    }
                    other => expect(&call, other, SecurityStatus::SEC_E_MESSAGE_ALTERED),
                }
            })?;
        }
        token_statuses.sort_by_key(|s| s.0);
        token_statuses.dedup();
        let statuses: Vec<String> = token_statuses.into_iter().map(status).collect();
        Ok(format!(
            "altered DATA is SEC_E_MESSAGE_ALTERED, an altered token is refused ({}) ({})",
            statuses.join(", "),
            self.kinds()
        ))
    }

    fn kinds(&self) -> &'static str {
        match (self.integrity, self.privacy) {
            (true, true) => "signed and sealed",
            (true, false) => "signed; sealing not offered",
            _ => "sealed",
        }
    }

    fn replay(&self) -> Check {
        self.each_protection(|client, server, sealing| {
            let sizes = client.sizes().map_err(|e| e.to_string())?;
            let mut data = MESSAGE.to_vec();
            if sealing {
                let mut trailer = seal(client, &mut data, sizes.security_trailer as usize)
                    .map_err(|e| e.to_string())?;
                let (mut copy, mut trailer_copy) = (data.clone(), trailer.clone());
                unseal(server, &mut data, &mut trailer)
                    .map_err(|e| format!("DecryptMessage: {e}"))?;
                let result = unseal(server, &mut copy, &mut trailer_copy);
                expect(
                    "DecryptMessage of the same message again",
                    result,
                    SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                )
            } else {
                let mut signature = sign(client, &mut data, sizes.max_signature as usize)
                    .map_err(|e| e.to_string())?;
                let mut copy = signature.clone();
                verify(server, &mut data, &mut signature)
                    .map_err(|e| format!("VerifySignature: {e}"))?;
                let result = verify(server, &mut data, &mut copy);
                expect(
                    "VerifySignature of the same message again",
                    result,
                    SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                )
            }
        })
        .map(|how| format!("a replayed message is SEC_E_OUT_OF_SEQUENCE ({how})"))
    }

    fn reordering(&self) -> Check {
        self.each_protection(|client, server, sealing| {
            let sizes = client.sizes().map_err(|e| e.to_string())?;
            let (mut first, mut second) = (MESSAGE.to_vec(), b"second message".to_vec());
            if sealing {
                let len = sizes.security_trailer as usize;
                let _first = seal(client, &mut first, len).map_err(|e| e.to_string())?;
                let mut trailer = seal(client, &mut second, len).map_err(|e| e.to_string())?;
                let result = unseal(server, &mut second, &mut trailer);
                expect(
                    "DecryptMessage of the second message first",
                    result,
                    SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                )
            } else {
                let len = sizes.max_signature as usize;
                let _first = sign(client, &mut first, len).map_err(|e| e.to_string())?;
                let mut signature = sign(client, &mut second, len).map_err(|e| e.to_string())?;
                let result = verify(server, &mut second, &mut signature);
                expect(
                    "VerifySignature of the second message first",
                    result,
                    SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                )
            }
        })
        .map(|how| format!("a message before its predecessor is SEC_E_OUT_OF_SEQUENCE ({how})"))
    }

    /// Garbage, truncated or oversized tokens in place of each received token.
    fn malformed(&self, rule: Rule) -> Check {
        let calls = self.established()?.calls;
        let mut checked = 0;
        let mut failures = Vec::new();
        for call in 1..calls {
            let mut reference = self.pair();
            for _ in 0..call {
                reference
                    .step(None, None)
                    .map_err(|e| format!("handshake: {e}"))?;
            }
            let real = reference.pending.clone();
            let max_token = reference.max_token;
            let variants: Vec<(String, Vec<u8>)> = match rule {
                Rule::GarbageToken => {
                    let mut garbage = noise(real.len(), call as u64 * 0x9E37_79B9);
                    garbage[0] = !real[0];
                    vec![("random bytes of the same length".into(), garbage)]
                }
                Rule::TruncatedToken => [real.len() / 2, 1]
                    .into_iter()
                    .filter(|&len| len > 0 && len < real.len())
                    .map(|len| {
                        (
                            format!("its first {len} of {} bytes", real.len()),
                            real[..len].to_vec(),
                        )
                    })
                    .collect(),
                _ => {
                    let mut long = real.clone();
                    long.resize(max_token + 1, 0);
                    vec![(
                        format!("{} bytes (cbMaxToken {max_token})", long.len()),
                        long,
                    )]
                }
            };
            for (description, token) in variants {
                let mut pair = self.pair();
                for _ in 0..call {
                    pair.step(None, None)
                        .map_err(|e| format!("handshake: {e}"))?;
                }
                let side = side_name(pair.turn()?);
                let what = format!("call {} ({side}) given {description}", call + 1);
                match pair.step(Some(&token), None) {
                    Ok(()) => {
                        failures.push(format!(
                            "{what} was accepted (expected SEC_E_INVALID_TOKEN)"
                        ));
                    }
                    Err(e) if e.status() == SecurityStatus::SEC_E_INVALID_TOKEN => checked += 1,
                    Err(e) => failures.push(format!(
                        "{what} returned {e} (expected SEC_E_INVALID_TOKEN){}",
                        internal(e.status(), e.is_panic())
                    )),
                }
            }
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
        Ok(format!(
            "{checked} malformed token(s) in {} received leg(s): SEC_E_INVALID_TOKEN",
            calls - 1
        ))
    }

    /// Wrong-side or out-of-order calls before every leg and after the
    /// handshake; it must still complete and work.
    fn misuse(&self, rule: Rule) -> Check {
        let mut pair = self.pair();
        let mut statuses: Vec<SecurityStatus> = Vec::new();
        while pair.turn()? != Turn::Done {
            let turn = pair.turn()?;
            let leg = pair.calls + 1;
            if pair.context(turn).is_some() {
                let seen = match rule {
                    Rule::WrongSide => wrong_side(&mut pair, turn, leg)?,
                    _ => out_of_order(&mut pair, turn, leg)?,
                };
                statuses.extend(seen);
            }
            pair.step(None, None)
                .map_err(|e| format!("call {leg} failed after the refused calls before it: {e}"))?;
        }
        for turn in [Turn::Client, Turn::Server] {
            let seen = match rule {
                Rule::WrongSide => wrong_side(&mut pair, turn, 0)?,
                _ => another_leg(&mut pair, turn)?,
            };
            statuses.extend(seen);
        }
        self.round_trip(&mut pair)
            .map_err(|e| format!("after the refused calls: {e}"))?;
        statuses.sort_by_key(|s| s.0);
        statuses.dedup();
        let names: Vec<String> = statuses.into_iter().map(status).collect();
        Ok(format!(
            "refused ({}); the handshake completed and its contexts work",
            names.join(", ")
        ))
    }

    fn buffer_too_small(&self) -> Check {
        let mut pair = self.pair();
        let mut small = 0;
        while pair.turn()? != Turn::Done {
            let leg = pair.calls + 1;
            match pair.step(None, Some(0)) {
                Ok(()) if pair.pending.is_empty() => {}
                Ok(()) => return Err(format!("call {leg} wrote a token into a 0-byte buffer")),
                Err(e) if e.status() == SecurityStatus::SEC_E_BUFFER_TOO_SMALL => {
                    small += 1;
                    pair.step(None, None)
                        .map_err(|e| format!("call {leg} retried with a large buffer: {e}"))?;
                }
                Err(e) => {
                    return Err(format!(
                        "call {leg} with a 0-byte output buffer returned {e} (expected SEC_E_BUFFER_TOO_SMALL){}",
                        internal(e.status(), e.is_panic())
                    ));
                }
            }
        }
        if small == 0 {
            return Err("no leg returned SEC_E_BUFFER_TOO_SMALL for a 0-byte output buffer".into());
        }
        let (client, _) = pair.established()?;
        let mut message_checks = Vec::new();
        if self.integrity {
            let mut data = MESSAGE.to_vec();
            expect(
                "MakeSignature into a 1-byte TOKEN",
                sign(client, &mut data, 1).map(|_| Qop::DEFAULT),
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
            )?;
            message_checks.push("MakeSignature");
        }
        if self.privacy {
            let mut data = MESSAGE.to_vec();
            expect(
                "EncryptMessage with a 1-byte TOKEN",
                seal(client, &mut data, 1).map(|_| Qop::DEFAULT),
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
            )?;
            message_checks.push("EncryptMessage");
        }
        self.round_trip(&mut pair)
            .map_err(|e| format!("after the retries: {e}"))?;
        Ok(format!(
            "{small} leg(s) returned SEC_E_BUFFER_TOO_SMALL and succeeded when retried; {} with a 1-byte TOKEN too, and the next messages verify",
            message_checks.join(" and ")
        ))
    }

    fn no_allocation(&self) -> Outcome {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            return Outcome::Skipped("allocation counting needs Linux with glibc".into());
        }
        if !alloc::installed() {
            return Outcome::Fail(
                "the allocation counter is not installed: invoke sspi_testkit::count_allocations!() in this executable".into(),
            );
        }
        to_outcome(self.count_allocations())
    }

    fn count_allocations(&self) -> Check {
        const ROUNDS: usize = 100;
        let mut pair = self.established()?;
        let (client, server) = pair.established()?;
        let sizes = client.sizes().map_err(|e| e.to_string())?;
        let mut data = vec![0x5Au8; 1024];
        let mut signature = vec![0u8; sizes.max_signature as usize];
        let mut trailer = vec![0u8; sizes.security_trailer as usize];
        let (integrity, privacy) = (self.integrity, self.privacy);
        let mut failure: Option<MessageError> = None;
        let mut round = |from: &mut SecurityContextHandle, to: &mut SecurityContextHandle| {
            let mut first_error = |result: Result<Qop, MessageError>| {
                if let Err(e) = result {
                    failure.get_or_insert(e);
                }
            };
            if integrity {
                let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
                first_error(from.make_signature(Qop::DEFAULT, &mut message, 0));
                first_error(to.verify_signature(&mut message, 0));
            }
            if privacy {
                let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
                first_error(from.encrypt_message(Qop::DEFAULT, &mut message, 0));
                first_error(to.decrypt_message(&mut message, 0));
            }
        };
        // One round first: a library may set itself up lazily on first use.
        round(client, server);
        round(server, client);
        let allocations = alloc::measure(|| {
            for _ in 0..ROUNDS {
                round(client, server);
                round(server, client);
            }
        });
        if let Some(e) = failure {
            return Err(format!("a per-message call failed: {e}"));
        }
        let calls = ROUNDS * 2 * 2 * (usize::from(integrity) + usize::from(privacy));
        match allocations {
            0 => Ok(format!("{calls} per-message calls of 1 KiB, 0 allocations")),
            n => Err(format!(
                "{calls} per-message calls of 1 KiB made {n} allocation(s)"
            )),
        }
    }
}

/// Where the tampering check changes a bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tamper {
    /// The last byte of DATA.
    Data,
    /// The first (0), middle (1) or last (2) byte of the token.
    Token(u8),
}

/// What a token with one byte altered may be refused with.
const TOKEN_REFUSALS: [SecurityStatus; 3] = [
    SecurityStatus::SEC_E_MESSAGE_ALTERED,
    SecurityStatus::SEC_E_INVALID_TOKEN,
    SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
];

/// Flips one bit; says where.
fn tamper(target: Tamper, data: &mut [u8], token: &mut [u8]) -> String {
    let (bytes, name, at) = match target {
        Tamper::Data => (data, "DATA", usize::MAX),
        Tamper::Token(which) => (token, "the token", usize::from(which)),
    };
    let Some(last) = bytes.len().checked_sub(1) else {
        return format!("{name} (empty: nothing to change)");
    };
    let index = match at {
        0 => 0,
        1 => last / 2,
        _ => last,
    };
    bytes[index] ^= 0x01;
    format!("{name} (byte {index} of {})", last + 1)
}

fn side_name(turn: Turn) -> &'static str {
    match turn {
        Turn::Client => "InitializeSecurityContext",
        Turn::Server => "AcceptSecurityContext",
        Turn::Done => "none",
    }
}

/// The other side's call on the context whose turn it is, with the token it
/// is about to receive.
fn wrong_side(pair: &mut Pair<'_>, turn: Turn, leg: usize) -> Result<Vec<SecurityStatus>, String> {
    let pending = pair.pending.clone();
    let input = [SecBufferRef::token(&pending)];
    let mut out = vec![0u8; pair.max_token];
    let mut output = [SecBuffer::token(&mut out)];
    let (what, result) = match turn {
        Turn::Client => (
            "AcceptSecurityContext on the client context",
            pair.server_credentials
                .accept_security_context(&mut pair.client, pair.config.asc_req, &input, &mut output)
                .map(|_| ()),
        ),
        _ => (
            "InitializeSecurityContext on the server context",
            pair.client_credentials
                .initialize_security_context(
                    &mut pair.server,
                    pair.config.target.as_deref(),
                    pair.config.isc_req,
                    &input,
                    &mut output,
                )
                .map(|_| ()),
        ),
    };
    let when = if leg == 0 {
        "once complete".to_string()
    } else {
        format!("before call {leg}")
    };
    Ok(vec![refused(&format!("{what} {when}"), result)?])
}

/// Per-message calls, a query and CompleteAuthToken on a context still in its handshake.
fn out_of_order(
    pair: &mut Pair<'_>,
    turn: Turn,
    leg: usize,
) -> Result<Vec<SecurityStatus>, String> {
    let context = pair.context(turn).ok_or("no context")?;
    let side = if turn == Turn::Client {
        "client"
    } else {
        "server"
    };
    let mut data = MESSAGE.to_vec();
    let mut seen = Vec::new();
    let as_security = |e: MessageError| SecurityError::new(e.status(), e.reason());
    let what = format!("MakeSignature on the {side} context before call {leg}");
    seen.push(refused(
        &what,
        sign(context, &mut data, 64).map_err(as_security),
    )?);
    let what = format!("EncryptMessage on the {side} context before call {leg}");
    seen.push(refused(
        &what,
        seal(context, &mut data, 64).map_err(as_security),
    )?);
    let what = format!("QueryContextAttributes(SIZES) on the {side} context before call {leg}");
    seen.push(refused(&what, context.sizes())?);
    let mut token = vec![0u8; 16];
    let what = format!(
        "CompleteAuthToken on the {side} context before call {leg}, with nothing to complete"
    );
    seen.push(refused(
        &what,
        context.complete_auth_token(&mut [SecBuffer::token(&mut token)]),
    )?);
    Ok(seen)
}

/// One more leg on a complete context.
fn another_leg(pair: &mut Pair<'_>, turn: Turn) -> Result<Vec<SecurityStatus>, String> {
    let token = b"one more token".to_vec();
    let input = [SecBufferRef::token(&token)];
    let mut out = vec![0u8; pair.max_token];
    let mut output = [SecBuffer::token(&mut out)];
    let (what, result) = match turn {
        Turn::Client => (
            "InitializeSecurityContext on the complete client context",
            pair.client_credentials
                .initialize_security_context(
                    &mut pair.client,
                    pair.config.target.as_deref(),
                    pair.config.isc_req,
                    &input,
                    &mut output,
                )
                .map(|_| ()),
        ),
        _ => (
            "AcceptSecurityContext on the complete server context",
            pair.server_credentials
                .accept_security_context(&mut pair.server, pair.config.asc_req, &input, &mut output)
                .map(|_| ()),
        ),
    };
    Ok(vec![refused(what, result)?])
}

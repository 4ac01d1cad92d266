//! The three NTLM messages as computations: what the client puts in its
//! NEGOTIATE and AUTHENTICATE, what the server puts in its CHALLENGE and how
//! it checks the AUTHENTICATE (MS-NLMP 3.1.5 and 3.2.5, NTLMv2 with extended
//! session security only).

use crate::config::NtlmConfig;
use crate::crypto::{self, Key16};
use crate::messages::{
    self, Authenticate, AvPairs, AvPairsBuilder, Challenge, MIC_OFFSET, NTLMV1_RESPONSE_LEN,
    Negotiate, Ntlmv2Response, OUR_VERSION, av, flags,
};
use crate::system;
use crate::text::{from_utf16le, upcase, utf16le};
use hmac::Mac;
use sspi_core::{IscReq, SecurityError, SecurityResult, SecurityStatus};
use zeroize::Zeroizing;

/// The flags that decide session security; the negotiated set is what both sides offered.
pub const SESSION_FLAGS: u32 = flags::SIGN
    | flags::SEAL
    | flags::KEY_EXCH
    | flags::NEGOTIATE_128
    | flags::NEGOTIATE_56
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSIONSECURITY
    | flags::IDENTIFY;

/// The flags every NEGOTIATE of this package carries.
pub const CLIENT_BASE_FLAGS: u32 = flags::UNICODE
    | flags::OEM
    | flags::REQUEST_TARGET
    | flags::SIGN
    | flags::NTLM
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSIONSECURITY
    | flags::VERSION
    | flags::NEGOTIATE_128
    | flags::KEY_EXCH
    | flags::NEGOTIATE_56;

/// A client's identity: the names it sends and the NTOWFv2 they yield.
pub struct ClientIdentity {
    /// The user name sent in the AUTHENTICATE message.
    pub user: String,
    /// The domain sent in the AUTHENTICATE message.
    pub domain: String,
    /// ResponseKeyNT = NTOWFv2(password, user, domain).
    pub response_key: Key16,
}

impl ClientIdentity {
    /// The identity of `domain\user` with NT hash `nt_hash`.
    pub fn new(user: &str, domain: &str, nt_hash: &[u8; 16]) -> Self {
        Self {
            user: user.to_string(),
            domain: domain.to_string(),
            response_key: crypto::ntowfv2(nt_hash, user, domain),
        }
    }

    /// "DOMAIN\user", as SECPKG_ATTR_NAMES reports it.
    pub fn qualified(&self) -> String {
        qualified(&self.domain, &self.user)
    }
}

/// "DOMAIN\user", or "user" with no domain.
pub fn qualified(domain: &str, user: &str) -> String {
    if domain.is_empty() {
        user.to_string()
    } else {
        format!("{domain}\\{user}")
    }
}

/// The NEGOTIATE flags for an application's ISC_REQ flags: signing always,
/// sealing for ISC_REQ_CONFIDENTIALITY, identify for ISC_REQ_IDENTIFY.
pub fn client_negotiate_flags(req: IscReq) -> u32 {
    let mut out = CLIENT_BASE_FLAGS;
    if req.contains(IscReq::CONFIDENTIALITY) {
        out |= flags::SEAL;
    }
    if req.contains(IscReq::IDENTIFY) {
        out |= flags::IDENTIFY;
    }
    out
}

/// The client's NEGOTIATE_MESSAGE.
pub fn negotiate_message(negotiate_flags: u32) -> SecurityResult<Vec<u8>> {
    Negotiate {
        flags: negotiate_flags,
        domain: &[],
        workstation: &[],
        version: Some(OUR_VERSION),
    }
    .write()
}

/// Everything the client chooses at random or from the clock for its AUTHENTICATE.
pub struct ClientRandom {
    /// ChallengeFromClient.
    pub client_challenge: [u8; 8],
    /// The ExportedSessionKey when KEY_EXCH is negotiated.
    pub session_key: Key16,
    /// The time to use when the server sent no MsvAvTimestamp.
    pub now: u64,
}

impl ClientRandom {
    /// Fresh values from the system RNG and clock.
    pub fn generate() -> SecurityResult<Self> {
        let mut client_challenge = [0u8; 8];
        system::random(&mut client_challenge)?;
        let mut session_key = Zeroizing::new([0u8; 16]);
        system::random(session_key.as_mut())?;
        Ok(Self {
            client_challenge,
            session_key,
            now: system::filetime_now(),
        })
    }
}

/// The client's result: the AUTHENTICATE message and the session's key and flags.
pub struct ClientOutcome {
    /// The AUTHENTICATE_MESSAGE.
    pub authenticate: Vec<u8>,
    /// ExportedSessionKey.
    pub exported_session_key: Key16,
    /// The negotiated flags.
    pub negotiated: u32,
}

/// The client's AUTHENTICATE for `challenge_bytes` (MS-NLMP 3.1.5.1.2).
///
/// `channel_bindings` is the MD5 of the application's channel bindings (or
/// none: sent as Z(16)); `target` the SPN for MsvAvTargetName.
pub fn client_authenticate(
    identity: &ClientIdentity,
    negotiate_bytes: &[u8],
    challenge_bytes: &[u8],
    target: Option<&str>,
    channel_bindings: Option<[u8; 16]>,
    workstation: &str,
    random: &ClientRandom,
) -> SecurityResult<ClientOutcome> {
    let challenge = Challenge::parse(challenge_bytes)?;
    let offered = Negotiate::parse(negotiate_bytes)?.flags;
    if challenge.flags & flags::UNICODE == 0 {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the server chose OEM strings; this package speaks Unicode only",
        ));
    }
    if challenge.flags & flags::EXTENDED_SESSIONSECURITY == 0
        || challenge.flags & flags::TARGET_INFO == 0
    {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the server offers only NTLMv1/LM (no extended session security or target information); this package sends NTLMv2 only",
        ));
    }
    let negotiated = offered & challenge.flags & SESSION_FLAGS;
    if negotiated & flags::SEAL != 0 && negotiated & flags::NEGOTIATE_128 == 0 {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the server refused 128-bit session keys; sealing with weaker keys is not supported",
        ));
    }
    let server_pairs = AvPairs::parse(challenge.target_info)?;
    let server_time = server_pairs.timestamp();

    // The client's AV pairs: the server's, then MsvAvFlags (MIC present),
    // MsvAvTargetName and MsvAvChannelBindings, then MsvAvEOL.
    let mut pairs = AvPairsBuilder::new();
    for (id, value) in server_pairs.iter() {
        if !matches!(
            id,
            av::FLAGS | av::TARGET_NAME | av::CHANNEL_BINDINGS | av::SINGLE_HOST
        ) {
            pairs.push(id, value)?;
        }
    }
    let av_flags = server_pairs.av_flags() | av::FLAG_MIC_PRESENT;
    pairs.push(av::FLAGS, &av_flags.to_le_bytes())?;
    if let Some(target) = target {
        pairs.push(av::TARGET_NAME, &utf16le(target))?;
    }
    pairs.push(av::CHANNEL_BINDINGS, &channel_bindings.unwrap_or([0; 16]))?;
    let pairs = pairs.finish();

    let time = server_time.unwrap_or(random.now);
    let temp = crypto::ntlmv2_temp(time, &random.client_challenge, &pairs);
    let key = &identity.response_key;
    let nt_proof = crypto::nt_proof(key, &challenge.server_challenge, &temp);
    let mut nt_response = Vec::with_capacity(16 + temp.len());
    nt_response.extend_from_slice(&nt_proof);
    nt_response.extend_from_slice(&temp);
    let lm_response = if server_time.is_some() {
        [0u8; 24]
    } else {
        crypto::lmv2_response(key, &challenge.server_challenge, &random.client_challenge)
    };
    let key_exchange_key = crypto::session_base_key(key, &nt_proof);
    let (exported_session_key, encrypted) =
        if negotiated & flags::KEY_EXCH != 0 && negotiated & (flags::SIGN | flags::SEAL) != 0 {
            let encrypted = crypto::rc4k(&key_exchange_key, &random.session_key);
            (random.session_key.clone(), Some(encrypted))
        } else {
            (key_exchange_key, None)
        };

    let user = utf16le(&identity.user);
    let domain = utf16le(&identity.domain);
    let workstation = utf16le(workstation);
    let message_flags = negotiated
        | flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::NTLM
        | flags::TARGET_INFO
        | flags::VERSION;
    let mut authenticate = Authenticate {
        lm_response: &lm_response,
        nt_response: &nt_response,
        domain: &domain,
        user: &user,
        workstation: &workstation,
        encrypted_session_key: encrypted.as_ref().map_or(&[][..], |k| k.as_slice()),
        flags: message_flags,
        version: Some(OUR_VERSION),
        mic: Some([0; 16]),
    }
    .write()?;
    if authenticate.len() > crate::MAX_TOKEN {
        return Err(SecurityError::invalid_token(format!(
            "the server's target information would make the AUTHENTICATE message {} bytes long, more than cbMaxToken ({})",
            authenticate.len(),
            crate::MAX_TOKEN
        )));
    }
    let mic = crypto::mic(
        &exported_session_key,
        negotiate_bytes,
        challenge_bytes,
        &authenticate,
        MIC_OFFSET,
    )
    .finalize()
    .into_bytes();
    authenticate[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&mic);
    Ok(ClientOutcome {
        authenticate,
        exported_session_key,
        negotiated,
    })
}

/// What the server keeps between its CHALLENGE and the AUTHENTICATE.
pub struct ServerChallenge {
    /// The client's NEGOTIATE_MESSAGE, as received.
    pub negotiate: Vec<u8>,
    /// The CHALLENGE_MESSAGE, as sent.
    pub challenge: Vec<u8>,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// The flags chosen in the CHALLENGE.
    pub flags: u32,
}

/// The server's CHALLENGE for `negotiate_bytes` (MS-NLMP 3.2.5.1.1).
pub fn server_challenge(
    config: &NtlmConfig,
    negotiate_bytes: &[u8],
    server_challenge: [u8; 8],
    now: u64,
) -> SecurityResult<ServerChallenge> {
    let negotiate = Negotiate::parse(negotiate_bytes)?;
    let offered = negotiate.flags;
    // The CHALLENGE is always in Unicode, which this package speaks only:
    // a client that offers OEM strings alone (curl 7.88's NEGOTIATE) is
    // answered in Unicode too, and its AUTHENTICATE must then be Unicode.
    if offered & (flags::UNICODE | flags::OEM) == 0 {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the client offers neither Unicode nor OEM strings",
        ));
    }
    if offered & flags::EXTENDED_SESSIONSECURITY == 0 {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the client does not offer extended session security: NTLMv1/LM session security is refused (LmCompatibilityLevelServer)",
        ));
    }
    if offered & flags::SEAL != 0 && offered & flags::NEGOTIATE_128 == 0 {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "the client asks for sealing without 128-bit keys; weaker keys are not supported",
        ));
    }
    let mut chosen = flags::UNICODE
        | flags::NTLM
        | flags::TARGET_INFO
        | flags::TARGET_TYPE_DOMAIN
        | (offered & (SESSION_FLAGS | flags::REQUEST_TARGET | flags::VERSION));
    // LM_KEY, DATAGRAM, ANONYMOUS and OEM are never granted.
    chosen &= !(flags::LM_KEY | flags::DATAGRAM | flags::ANONYMOUS | flags::OEM);

    let target_name = utf16le(&config.nb_domain_name);
    let mut pairs = AvPairsBuilder::new();
    pairs.push(av::NB_DOMAIN_NAME, &target_name)?;
    pairs.push(av::NB_COMPUTER_NAME, &utf16le(&config.nb_computer_name))?;
    if !config.dns_domain_name.is_empty() {
        pairs.push(av::DNS_DOMAIN_NAME, &utf16le(&config.dns_domain_name))?;
    }
    if !config.dns_computer_name.is_empty() {
        pairs.push(av::DNS_COMPUTER_NAME, &utf16le(&config.dns_computer_name))?;
    }
    pairs.push(av::TIMESTAMP, &now.to_le_bytes())?;
    let target_info = pairs.finish();
    let challenge = Challenge {
        flags: chosen,
        server_challenge,
        target_name: if offered & flags::REQUEST_TARGET != 0 {
            &target_name
        } else {
            &[]
        },
        target_info: &target_info,
        version: Some(OUR_VERSION),
    }
    .write()?;
    Ok(ServerChallenge {
        negotiate: negotiate_bytes.to_vec(),
        challenge,
        server_challenge,
        flags: chosen,
    })
}

/// The server's result: who authenticated and the session's key and flags.
pub struct ServerOutcome {
    /// The user's domain, as configured.
    pub domain: String,
    /// The user name, as configured.
    pub user: String,
    /// ExportedSessionKey.
    pub exported_session_key: Key16,
    /// The negotiated flags.
    pub negotiated: u32,
}

/// Checks the client's AUTHENTICATE (MS-NLMP 3.2.5.1.2): the user and domain
/// it names, its NTLMv2 proof, the timestamp, channel bindings and the MIC.
pub fn server_authenticate(
    config: &NtlmConfig,
    sent: &ServerChallenge,
    authenticate_bytes: &[u8],
    channel_bindings: Option<[u8; 16]>,
    now: u64,
) -> SecurityResult<ServerOutcome> {
    let message = Authenticate::parse(authenticate_bytes)?;
    let denied =
        |why: &str| SecurityError::new(SecurityStatus::SEC_E_LOGON_DENIED, why.to_string());
    if message.flags & flags::ANONYMOUS != 0
        || (message.user.is_empty() && message.nt_response.is_empty())
    {
        return Err(denied("anonymous NTLM logons are refused"));
    }
    if message.nt_response.len() == NTLMV1_RESPONSE_LEN {
        return Err(denied(
            "the client sent an NTLMv1 response; this package accepts NTLMv2 only (LmCompatibilityLevelServer)",
        ));
    }
    if message.nt_response.is_empty() {
        return Err(denied(
            "the client sent only an LM response; this package accepts NTLMv2 only (LmCompatibilityLevelServer)",
        ));
    }
    let response = Ntlmv2Response::parse(message.nt_response)?;
    if message.flags & flags::EXTENDED_SESSIONSECURITY == 0 {
        return Err(SecurityError::invalid_token(
            "the AUTHENTICATE message drops extended session security",
        ));
    }
    if message.flags & flags::UNICODE == 0 {
        return Err(SecurityError::invalid_token(
            "the AUTHENTICATE message is not in Unicode, which the CHALLENGE chose (OEM strings are not supported)",
        ));
    }
    if message.flags & flags::KEY_EXCH != 0 && sent.flags & flags::KEY_EXCH == 0 {
        return Err(SecurityError::invalid_token(
            "the AUTHENTICATE message asks for key exchange, which the CHALLENGE did not offer",
        ));
    }
    let negotiated = sent.flags & message.flags & SESSION_FLAGS;
    let decode = |bytes: &[u8], what: &str| {
        from_utf16le(bytes).ok_or_else(|| {
            SecurityError::invalid_token(format!(
                "the {what} in the AUTHENTICATE message is not valid UTF-16"
            ))
        })
    };
    let user = decode(message.user, "user name")?;
    let domain = decode(message.domain, "domain name")?;

    // One lookup; the proof is computed with the names as the client sent
    // them (NTOWFv2 hashes them), so a client naming another user who shares
    // the password does not match. An unknown user costs the same work.
    let entry = config.user(&domain, &user);
    let nt_hash = entry.map_or([0u8; 16], |e| *e.nt_hash);
    let nt_hash = Zeroizing::new(nt_hash);
    let response_key = crypto::ntowfv2(&nt_hash, &user, &domain);
    let proof_ok = crypto::hmac_md5(response_key.as_ref())
        .chain_update(sent.server_challenge)
        .chain_update(response.temp)
        .verify_slice(&response.nt_proof)
        .is_ok();
    let Some(entry) = entry.filter(|_| proof_ok) else {
        return Err(denied("the user name or password is incorrect"));
    };

    let skew = config.max_clock_skew.as_nanos() / 100;
    if u128::from(now.abs_diff(response.timestamp)) > skew {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_TIME_SKEW,
            format!(
                "the NTLMv2 response's timestamp is {} s away from the server clock (MaxClockSkew {} s)",
                now.abs_diff(response.timestamp) / 10_000_000,
                config.max_clock_skew.as_secs()
            ),
        ));
    }

    if let Some(expected) = channel_bindings {
        match response.av_pairs.get(av::CHANNEL_BINDINGS) {
            Some(sent) if sent != [0u8; 16] && sent != expected => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_BAD_BINDINGS,
                    "the client's channel bindings do not match the server's",
                ));
            }
            Some(sent) if sent != [0u8; 16] => {}
            _ if config.require_channel_bindings => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_BAD_BINDINGS,
                    "the client sent no channel bindings and RequireChannelBindings is set",
                ));
            }
            _ => {}
        }
    }

    // The AV pairs are inside the proof just checked: a client cannot have
    // been talked into a name it did not send. A token made for another
    // service (relayed here) is refused when the server knows its own SPNs.
    if !config.service_principal_names.is_empty() {
        let target = response
            .av_pairs
            .get(av::TARGET_NAME)
            .and_then(from_utf16le)
            .unwrap_or_default();
        if !config
            .service_principal_names
            .iter()
            .any(|spn| upcase(spn) == upcase(&target))
        {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_BAD_BINDINGS,
                if target.is_empty() {
                    "the AUTHENTICATE message names no target (MsvAvTargetName), and ServicePrincipalNames is set".to_string()
                } else {
                    format!(
                        "the AUTHENTICATE message was made for {target}, not for this server (ServicePrincipalNames)"
                    )
                },
            ));
        }
    }

    let key_exchange_key = crypto::session_base_key(&response_key, &response.nt_proof);
    let exported_session_key =
        if negotiated & flags::KEY_EXCH != 0 && negotiated & (flags::SIGN | flags::SEAL) != 0 {
            let encrypted: [u8; 16] = message.encrypted_session_key.try_into().map_err(|_| {
                SecurityError::invalid_token(format!(
                    "the EncryptedRandomSessionKey has {} bytes, not 16",
                    message.encrypted_session_key.len()
                ))
            })?;
            crypto::rc4k(&key_exchange_key, &encrypted)
        } else {
            key_exchange_key
        };

    // We always send MsvAvTimestamp, so the client must send a MIC
    // (MS-NLMP 3.1.5.1.2), unless RequireMic is 0. MsvAvFlags is covered
    // by NTProofStr: it cannot be stripped to hide a MIC that was sent.
    if response.av_pairs.av_flags() & av::FLAG_MIC_PRESENT == 0 {
        if config.require_mic {
            return Err(SecurityError::invalid_token(
                "the AUTHENTICATE message has no MIC (MsvAvFlags lacks 0x2), which is required (RequireMic)",
            ));
        }
    } else {
        let Some(mic) = message.mic else {
            return Err(SecurityError::invalid_token(
                "MsvAvFlags announces a MIC but the AUTHENTICATE message has no room for one",
            ));
        };
        crypto::mic(
            &exported_session_key,
            &sent.negotiate,
            &sent.challenge,
            authenticate_bytes,
            messages::MIC_OFFSET,
        )
        .verify_slice(&mic)
        .map_err(|_| {
            SecurityError::invalid_token(
                "the AUTHENTICATE message's MIC does not match: the handshake was tampered with",
            )
        })?;
    }

    Ok(ServerOutcome {
        domain: entry.domain.clone(),
        user: entry.user.clone(),
        exported_session_key,
        negotiated,
    })
}

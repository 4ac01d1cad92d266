//! The client's AS exchange: a TGT for a password, with PA-ENC-TIMESTAMP
//! pre-authentication (the salt and etype from the KDC's ETYPE-INFO2).

use crate::crypto::{Etype, Key, random_u32};
use crate::krb_error::{self, KdcError};
use crate::messages::{self, PA_ENC_TIMESTAMP, PA_ETYPE_INFO2, SaltInfo};
use crate::principal::{Principal, integer, u32_value};
use crate::ticket::HeldTicket;
use crate::time::KrbTime;
use crate::transport::{KdcTarget, exchange};
use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag7,
    ExplicitContextTag8, Optional,
};
use picky_krb::data_types::{PaData, PaEncTsEnc};
use picky_krb::messages::{
    AsRep, AsReq, EncAsRepPart, EncKdcRepPart, EncTgsRepPart, KdcReq, KdcReqBody,
};
use sspi_core::{SecurityError, SecurityStatus};

/// The client's long-term key and how it was derived (kept so the next AS
/// exchange pre-authenticates at once).
#[derive(Debug, Clone)]
pub struct ClientKey {
    /// The key.
    pub key: Key,
    /// The salt it was derived with.
    pub salt: Vec<u8>,
}

/// What an AS exchange needs.
pub struct AsRequest<'a> {
    /// The client.
    pub client: &'a Principal,
    /// The password.
    pub password: &'a [u8],
    /// The etypes the client allows, preferred first.
    pub etypes: &'a [Etype],
    /// The requested ticket lifetime in seconds.
    pub lifetime: i64,
    /// The realm's KDCs.
    pub kdc: &'a KdcTarget<'a>,
    /// A key from an earlier exchange.
    pub known_key: Option<ClientKey>,
}

fn denied(message: String) -> SecurityError {
    SecurityError::new(SecurityStatus::SEC_E_LOGON_DENIED, message)
}

fn malformed(what: impl std::fmt::Display) -> SecurityError {
    SecurityError::new(
        SecurityStatus::SEC_E_INTERNAL_ERROR,
        format!("malformed reply from the KDC: {what}"),
    )
}

/// Asks for a TGT (`krbtgt/REALM@REALM`); returns it and the client key used.
pub fn request_tgt(request: &AsRequest<'_>) -> Result<(HeldTicket, ClientKey), SecurityError> {
    request_tgt_with(request, &[])
}

/// [`request_tgt`] with the client's long-term keys (a client keytab's)
/// instead of the password when `keys` is not empty: the KDC's etype picks
/// the key, and no string-to-key is run.
pub fn request_tgt_with(
    request: &AsRequest<'_>,
    keys: &[Key],
) -> Result<(HeldTicket, ClientKey), SecurityError> {
    let client = request.client;
    let mut key = request.known_key.clone();
    let mut preauth_rounds = 0;
    loop {
        let nonce = random_u32().map_err(|e| SecurityError::internal(e.to_string()))? & 0x7fff_ffff;
        let padata = match &key {
            Some(k) => vec![encrypted_timestamp(&k.key)?],
            None => Vec::new(),
        };
        let message = as_req(request, nonce, padata).map_err(SecurityError::internal)?;
        let reply = exchange(request.kdc, &message)?;
        if crate::der::application_tag(&reply) == Some(11) {
            return read_as_rep(request, &reply, nonce, key, keys);
        }
        let Some(error) = KdcError::parse(&reply) else {
            return Err(malformed("neither an AS-REP nor a KRB-ERROR"));
        };
        match error.code {
            krb_error::PREAUTH_REQUIRED if preauth_rounds < 2 => {
                preauth_rounds += 1;
                let info = preauth_info(&error, request)?;
                if key
                    .as_ref()
                    .is_some_and(|k| k.key.etype() == info.etype && k.salt == info.salt)
                {
                    return Err(denied(format!(
                        "the KDC keeps asking {client} for pre-authentication it does not accept ({})",
                        error.describe()
                    )));
                }
                key = Some(derive(request, &info, keys)?);
            }
            krb_error::PREAUTH_FAILED => {
                return Err(denied(format!(
                    "wrong password for {client}: the KDC refused the pre-authentication ({})",
                    error.describe()
                )));
            }
            krb_error::C_PRINCIPAL_UNKNOWN => {
                return Err(denied(format!(
                    "the KDC of realm {} does not know the client {client} ({})",
                    client.realm,
                    error.describe()
                )));
            }
            krb_error::SKEW => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_TIME_SKEW,
                    format!(
                        "this machine's clock differs from the KDC's by more than its allowed skew ({})",
                        error.describe()
                    ),
                ));
            }
            krb_error::ETYPE_NOSUPP => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
                    format!(
                        "the KDC has no key for {client} of the allowed encryption types {} ({})",
                        names(request.etypes),
                        error.describe()
                    ),
                ));
            }
            code => {
                return Err(SecurityError::new(
                    krb_error::status(code),
                    format!("the KDC refused a TGT for {client}: {}", error.describe()),
                ));
            }
        }
    }
}

fn names(etypes: &[Etype]) -> String {
    etypes
        .iter()
        .map(|e| e.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn derive(
    request: &AsRequest<'_>,
    info: &SaltInfo,
    keys: &[Key],
) -> Result<ClientKey, SecurityError> {
    if !keys.is_empty() {
        let key = keys
            .iter()
            .find(|k| k.etype() == info.etype)
            .cloned()
            .ok_or_else(|| {
                SecurityError::new(
                    SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
                    format!(
                        "the KDC asks {} for a key of {}, and its keytab has none",
                        request.client,
                        info.etype.name()
                    ),
                )
            })?;
        return Ok(ClientKey {
            key,
            salt: info.salt.clone(),
        });
    }
    let iterations = info
        .s2kparams
        .as_deref()
        .map(Etype::iterations_from_s2kparams)
        .transpose()
        .map_err(malformed)?;
    let key = info
        .etype
        .string_to_key(request.password, &info.salt, iterations)
        .map_err(SecurityError::internal)?;
    Ok(ClientKey {
        key,
        salt: info.salt.clone(),
    })
}

fn preauth_info(error: &KdcError, request: &AsRequest<'_>) -> Result<SaltInfo, SecurityError> {
    let default_salt = request.client.salt();
    let fallback = || SaltInfo {
        etype: request
            .etypes
            .first()
            .copied()
            .unwrap_or(Etype::Aes256CtsHmacSha196),
        salt: default_salt.clone(),
        s2kparams: None,
    };
    let Some(data) = error.data.as_deref() else {
        return Ok(fallback());
    };
    let methods: Asn1SequenceOf<PaData> =
        crate::messages::decode(data).map_err(|e| malformed(format!("METHOD-DATA: {e}")))?;
    let Some(info) = messages::find_pa_data(&methods.0, PA_ETYPE_INFO2) else {
        return Ok(fallback());
    };
    messages::choose_etype_info2(info, request.etypes, &default_salt)
        .map_err(malformed)?
        .ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
                format!(
                    "the KDC offers {} no key of the allowed encryption types {}",
                    request.client,
                    names(request.etypes)
                ),
            )
        })
}

/// PA-ENC-TIMESTAMP: the current time encrypted with the client's key.
pub fn encrypted_timestamp(key: &Key) -> Result<PaData, SecurityError> {
    let now = KrbTime::now();
    let ts = PaEncTsEnc {
        patimestamp: ExplicitContextTag0::from(now.to_kerberos()),
        pausec: Optional::from(Some(ExplicitContextTag1::from(integer(i64::from(
            now.usec,
        ))))),
    };
    let plain = picky_asn1_der::to_vec(&ts).map_err(|e| SecurityError::internal(e.to_string()))?;
    let data = key
        .encrypt_data(1, &plain, None)
        .map_err(|e| SecurityError::internal(e.to_string()))?;
    let value =
        picky_asn1_der::to_vec(&data).map_err(|e| SecurityError::internal(e.to_string()))?;
    Ok(messages::pa_data(PA_ENC_TIMESTAMP, value))
}

/// The DER AS-REQ of `request` with `nonce` and `padata`.
pub fn as_req(request: &AsRequest<'_>, nonce: u32, padata: Vec<PaData>) -> Result<Vec<u8>, String> {
    let client = request.client;
    let server = Principal::krbtgt(&client.realm);
    let till = KrbTime::now().plus(request.lifetime);
    let body = KdcReqBody {
        // Forwardable, as Windows asks for every TGT, so ISC_REQ_DELEGATE can
        // forward it (MIT's kinit asks only with -f or `forwardable`).
        kdc_options: ExplicitContextTag0::from(messages::flags(messages::kdc_options::FORWARDABLE)),
        cname: Optional::from(Some(ExplicitContextTag1::from(client.to_asn1()?))),
        realm: ExplicitContextTag2::from(client.realm_asn1()?),
        sname: Optional::from(Some(ExplicitContextTag3::from(server.to_asn1()?))),
        from: Optional::from(None),
        till: ExplicitContextTag5::from(till.to_kerberos()),
        rtime: Optional::from(None),
        nonce: ExplicitContextTag7::from(crate::principal::unsigned(nonce)),
        etype: ExplicitContextTag8::from(messages::etype_sequence(request.etypes)),
        addresses: Optional::from(None),
        enc_authorization_data: Optional::from(None),
        additional_tickets: Optional::from(None),
    };
    let req = KdcReq {
        pvno: ExplicitContextTag1::from(integer(5)),
        msg_type: ExplicitContextTag2::from(integer(10)),
        padata: Optional::from(if padata.is_empty() {
            None
        } else {
            Some(ExplicitContextTag3::from(Asn1SequenceOf::from(padata)))
        }),
        req_body: ExplicitContextTag4::from(body),
    };
    picky_asn1_der::to_vec(&AsReq::from(req)).map_err(|e| e.to_string())
}

/// Decodes a decrypted EncASRepPart, accepting the EncTGSRepPart tag some KDCs use.
pub fn enc_kdc_rep_part(plain: &[u8]) -> Option<EncKdcRepPart> {
    crate::messages::decode::<EncAsRepPart>(plain)
        .map(|p| p.0)
        .or_else(|_| crate::messages::decode::<EncTgsRepPart>(plain).map(|p| p.0))
        .ok()
}

fn read_as_rep(
    request: &AsRequest<'_>,
    reply: &[u8],
    nonce: u32,
    key: Option<ClientKey>,
    keys: &[Key],
) -> Result<(HeldTicket, ClientKey), SecurityError> {
    let rep: AsRep =
        crate::messages::decode(reply).map_err(|e| malformed(format!("AS-REP: {e}")))?;
    let rep = rep.0;
    let enc_etype = crate::principal::int_value(&rep.enc_part.0.etype.0).unwrap_or(-1);
    let key = match key {
        Some(k) if i64::from(k.key.etype().number()) == enc_etype => k,
        _ => {
            // The KDC did not ask for pre-authentication: derive the key the reply names.
            let etype = Etype::from_number(enc_etype)
                .filter(|e| request.etypes.contains(e))
                .ok_or_else(|| {
                    malformed(format!(
                        "AS-REP encrypted with {}",
                        Etype::describe(enc_etype)
                    ))
                })?;
            let default_salt = request.client.salt();
            let padata = rep
                .padata
                .0
                .as_ref()
                .map(|p| p.0.0.as_slice())
                .unwrap_or_default();
            let info = match messages::find_pa_data(padata, PA_ETYPE_INFO2) {
                Some(b) => {
                    messages::choose_etype_info2(b, &[etype], &default_salt).map_err(malformed)?
                }
                None => None,
            }
            .unwrap_or(SaltInfo {
                etype,
                salt: default_salt,
                s2kparams: None,
            });
            derive(request, &info, keys)?
        }
    };
    let plain = key.key.decrypt_data(3, &rep.enc_part.0).map_err(|_| {
        denied(format!(
            "wrong password for {}: the KDC's reply does not decrypt with its key",
            request.client
        ))
    })?;
    let part = enc_kdc_rep_part(&plain).ok_or_else(|| malformed("EncASRepPart"))?;
    if u32_value(&part.nonce.0) != Some(nonce) {
        return Err(malformed("the nonce does not match the request"));
    }
    let client = Principal::from_asn1(&rep.cname.0, &rep.crealm.0);
    let tgt = HeldTicket::from_reply(client, rep.ticket.0, &part).map_err(malformed)?;
    Ok((tgt, key))
}

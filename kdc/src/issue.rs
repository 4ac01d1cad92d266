//! What AS and TGS replies share: refusals as KRB-ERRORs, tickets, and the
//! encrypted reply part.

use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6,
    ExplicitContextTag7, ExplicitContextTag8, ExplicitContextTag9, ExplicitContextTag10,
    IntegerAsn1, OctetStringAsn1, Optional,
};
use picky_krb::data_types::{
    EncTicketPart, EncTicketPartInner, EncryptedData, LastReqInner, PaData, Ticket,
    TransitedEncoding,
};
use picky_krb::messages::{EncKdcRepPart, KdcRep};
use sspi_package_kerberos::internal::crypto::Key;
use sspi_package_kerberos::internal::krb_error::{self, ErrorReply};
use sspi_package_kerberos::internal::messages;
use sspi_package_kerberos::internal::principal::{Principal, integer};
use sspi_package_kerberos::internal::time::to_kerberos_time;

/// A refusal and the service its KRB-ERROR names.
pub type Refused = Box<(Refusal, Principal)>;

/// Why a request was refused: the KRB-ERROR to send.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The error code.
    pub code: i64,
    /// e-text.
    pub text: String,
    /// e-data (METHOD-DATA for PREAUTH_REQUIRED).
    pub data: Option<Vec<u8>>,
    /// The client, when known.
    pub client: Option<Principal>,
}

impl Refusal {
    /// A refusal with `code` and `text`.
    pub fn new(code: i64, text: impl Into<String>) -> Refusal {
        Refusal {
            code,
            text: text.into(),
            data: None,
            client: None,
        }
    }

    /// The same, naming the client.
    pub fn client(mut self, client: &Principal) -> Refusal {
        self.client = Some(client.clone());
        self
    }

    /// KRB_ERR_GENERIC for something malformed.
    pub fn malformed(what: impl std::fmt::Display) -> Refusal {
        Refusal::new(krb_error::GENERIC, format!("malformed request: {what}"))
    }

    /// The DER KRB-ERROR about `service`.
    pub fn to_der(&self, service: &Principal) -> Vec<u8> {
        let reply = ErrorReply {
            code: self.code,
            service,
            client: self.client.as_ref(),
            text: Some(&self.text),
            data: self.data.clone(),
        };
        reply.to_der().unwrap_or_else(|_| {
            // Only non-ASCII names can fail; answer without them.
            let fallback = Principal::krbtgt("UNKNOWN");
            ErrorReply {
                code: self.code,
                service: &fallback,
                client: None,
                text: None,
                data: None,
            }
            .to_der()
            .unwrap_or_default()
        })
    }
}

/// A ticket's contents.
pub struct TicketContents<'a> {
    /// Ticket flags.
    pub flags: u32,
    /// The session key.
    pub session_key: &'a Key,
    /// The client.
    pub client: &'a Principal,
    /// authtime, starttime, endtime (Unix seconds).
    pub times: (i64, i64, i64),
    /// renew-till (Unix seconds) of a renewable ticket, else `None`.
    pub renew_till: Option<i64>,
}

impl TicketContents<'_> {
    fn renew_till<T>(
        &self,
        tag: impl Fn(picky_krb::data_types::KerberosTime) -> T,
    ) -> Optional<Option<T>> {
        Optional::from(self.renew_till.map(|t| tag(to_kerberos_time(t))))
    }
}

/// Encrypts a ticket for `server` with its key.
pub fn ticket(
    server: &Principal,
    server_key: (u32, &Key),
    c: &TicketContents<'_>,
) -> Result<Ticket, Refusal> {
    let internal = |e: String| Refusal::new(krb_error::GENERIC, e);
    let (auth, start, end) = c.times;
    let part = EncTicketPart::from(EncTicketPartInner {
        flags: ExplicitContextTag0::from(messages::flags(c.flags)),
        key: ExplicitContextTag1::from(c.session_key.to_asn1()),
        crealm: ExplicitContextTag2::from(c.client.realm_asn1().map_err(internal)?),
        cname: ExplicitContextTag3::from(c.client.to_asn1().map_err(internal)?),
        transited: ExplicitContextTag4::from(TransitedEncoding {
            tr_type: ExplicitContextTag0::from(integer(1)),
            contents: ExplicitContextTag1::from(OctetStringAsn1::from(Vec::new())),
        }),
        auth_time: ExplicitContextTag5::from(to_kerberos_time(auth)),
        starttime: Optional::from(Some(ExplicitContextTag6::from(to_kerberos_time(start)))),
        endtime: ExplicitContextTag7::from(to_kerberos_time(end)),
        renew_till: c.renew_till(ExplicitContextTag8::from),
        caddr: Optional::from(None),
        authorization_data: Optional::from(None),
    });
    let plain = zeroize::Zeroizing::new(
        picky_asn1_der::to_vec(&part).map_err(|e| internal(e.to_string()))?,
    );
    let (kvno, key) = server_key;
    let encrypted = key
        .encrypt_data(2, &plain, Some(kvno))
        .map_err(|e| internal(e.to_string()))?;
    messages::ticket(server, encrypted).map_err(internal)
}

/// The EncKDCRepPart of a reply (the caller wraps it as AS or TGS).
pub fn enc_rep_part(
    server: &Principal,
    nonce: &IntegerAsn1,
    c: &TicketContents<'_>,
) -> Result<EncKdcRepPart, Refusal> {
    let internal = |e: String| Refusal::new(krb_error::GENERIC, e);
    let (auth, start, end) = c.times;
    Ok(EncKdcRepPart {
        key: ExplicitContextTag0::from(c.session_key.to_asn1()),
        last_req: ExplicitContextTag1::from(Asn1SequenceOf::from(vec![LastReqInner {
            lr_type: ExplicitContextTag0::from(integer(0)),
            lr_value: ExplicitContextTag1::from(to_kerberos_time(auth)),
        }])),
        nonce: ExplicitContextTag2::from(nonce.clone()),
        key_expiration: Optional::from(None),
        flags: ExplicitContextTag4::from(messages::flags(c.flags)),
        auth_time: ExplicitContextTag5::from(to_kerberos_time(auth)),
        start_time: Optional::from(Some(ExplicitContextTag6::from(to_kerberos_time(start)))),
        end_time: ExplicitContextTag7::from(to_kerberos_time(end)),
        renew_till: c.renew_till(ExplicitContextTag8::from),
        srealm: ExplicitContextTag9::from(server.realm_asn1().map_err(internal)?),
        sname: ExplicitContextTag10::from(server.to_asn1().map_err(internal)?),
        caddr: Optional::from(None),
        encrypted_pa_data: Optional::from(None),
    })
}

/// A KDC-REP (AS or TGS by `msg_type`).
pub fn kdc_rep(
    msg_type: i64,
    padata: Option<Vec<PaData>>,
    client: &Principal,
    ticket: Ticket,
    enc_part: EncryptedData,
) -> Result<KdcRep, Refusal> {
    let internal = |e: String| Refusal::new(krb_error::GENERIC, e);
    Ok(KdcRep {
        pvno: ExplicitContextTag0::from(integer(5)),
        msg_type: ExplicitContextTag1::from(integer(msg_type)),
        padata: Optional::from(padata.map(|p| ExplicitContextTag2::from(Asn1SequenceOf::from(p)))),
        crealm: ExplicitContextTag3::from(client.realm_asn1().map_err(internal)?),
        cname: ExplicitContextTag4::from(client.to_asn1().map_err(internal)?),
        ticket: ExplicitContextTag5::from(ticket),
        enc_part: ExplicitContextTag6::from(enc_part),
    })
}

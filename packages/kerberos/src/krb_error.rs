//! KRB-ERROR: the codes, their names, the SSPI status each maps to, and the
//! message itself (built by the KDC, read leniently by the client).

use crate::principal::{Principal, integer, kerberos_string};
use crate::time::KrbTime;
use picky_asn1::wrapper::{
    ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag4, ExplicitContextTag5,
    ExplicitContextTag6, ExplicitContextTag7, ExplicitContextTag8, ExplicitContextTag9,
    ExplicitContextTag10, ExplicitContextTag11, ExplicitContextTag12, OctetStringAsn1, Optional,
};
use picky_krb::messages::{KrbError, KrbErrorInner};
use sspi_core::SecurityStatus;

/// KDC_ERR_C_PRINCIPAL_UNKNOWN
pub const C_PRINCIPAL_UNKNOWN: i64 = 6;
/// KDC_ERR_S_PRINCIPAL_UNKNOWN
pub const S_PRINCIPAL_UNKNOWN: i64 = 7;
/// KDC_ERR_NEVER_VALID
pub const NEVER_VALID: i64 = 11;
/// KDC_ERR_POLICY
pub const POLICY: i64 = 12;
/// KDC_ERR_BADOPTION
pub const BADOPTION: i64 = 13;
/// KDC_ERR_ETYPE_NOSUPP
pub const ETYPE_NOSUPP: i64 = 14;
/// KDC_ERR_SUMTYPE_NOSUPP
pub const SUMTYPE_NOSUPP: i64 = 15;
/// KDC_ERR_PADATA_TYPE_NOSUPP
pub const PADATA_TYPE_NOSUPP: i64 = 16;
/// KDC_ERR_PREAUTH_FAILED
pub const PREAUTH_FAILED: i64 = 24;
/// KDC_ERR_PREAUTH_REQUIRED
pub const PREAUTH_REQUIRED: i64 = 25;
/// KRB_AP_ERR_BAD_INTEGRITY
pub const BAD_INTEGRITY: i64 = 31;
/// KRB_AP_ERR_TKT_EXPIRED
pub const TKT_EXPIRED: i64 = 32;
/// KRB_AP_ERR_TKT_NYV
pub const TKT_NYV: i64 = 33;
/// KRB_AP_ERR_REPEAT
pub const REPEAT: i64 = 34;
/// KRB_AP_ERR_NOT_US
pub const NOT_US: i64 = 35;
/// KRB_AP_ERR_BADMATCH
pub const BADMATCH: i64 = 36;
/// KRB_AP_ERR_SKEW
pub const SKEW: i64 = 37;
/// KRB_AP_ERR_BADVERSION
pub const BADVERSION: i64 = 39;
/// KRB_AP_ERR_MSG_TYPE
pub const MSG_TYPE: i64 = 40;
/// KRB_AP_ERR_MODIFIED
pub const MODIFIED: i64 = 41;
/// KRB_AP_ERR_BADKEYVER
pub const BADKEYVER: i64 = 44;
/// KRB_AP_ERR_NOKEY
pub const NOKEY: i64 = 45;
/// KRB_AP_ERR_MUT_FAIL
pub const MUT_FAIL: i64 = 46;
/// KRB_AP_ERR_INAPP_CKSUM
pub const INAPP_CKSUM: i64 = 50;
/// KRB_ERR_RESPONSE_TOO_BIG
pub const RESPONSE_TOO_BIG: i64 = 52;
/// KRB_ERR_GENERIC
pub const GENERIC: i64 = 60;
/// KRB_ERR_FIELD_TOOLONG
pub const FIELD_TOOLONG: i64 = 61;
/// KDC_ERR_WRONG_REALM
pub const WRONG_REALM: i64 = 68;

/// The RFC 4120 name of an error code.
pub fn name(code: i64) -> &'static str {
    match code {
        0 => "KDC_ERR_NONE",
        1 => "KDC_ERR_NAME_EXP",
        2 => "KDC_ERR_SERVICE_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        9 => "KDC_ERR_NULL_KEY",
        10 => "KDC_ERR_CANNOT_POSTDATE",
        11 => "KDC_ERR_NEVER_VALID",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        15 => "KDC_ERR_SUMTYPE_NOSUPP",
        16 => "KDC_ERR_PADATA_TYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        19 => "KDC_ERR_SERVICE_REVOKED",
        20 => "KDC_ERR_TGT_REVOKED",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        32 => "KRB_AP_ERR_TKT_EXPIRED",
        33 => "KRB_AP_ERR_TKT_NYV",
        34 => "KRB_AP_ERR_REPEAT",
        35 => "KRB_AP_ERR_NOT_US",
        36 => "KRB_AP_ERR_BADMATCH",
        37 => "KRB_AP_ERR_SKEW",
        38 => "KRB_AP_ERR_BADADDR",
        39 => "KRB_AP_ERR_BADVERSION",
        40 => "KRB_AP_ERR_MSG_TYPE",
        41 => "KRB_AP_ERR_MODIFIED",
        42 => "KRB_AP_ERR_BADORDER",
        44 => "KRB_AP_ERR_BADKEYVER",
        45 => "KRB_AP_ERR_NOKEY",
        46 => "KRB_AP_ERR_MUT_FAIL",
        50 => "KRB_AP_ERR_INAPP_CKSUM",
        52 => "KRB_ERR_RESPONSE_TOO_BIG",
        60 => "KRB_ERR_GENERIC",
        61 => "KRB_ERR_FIELD_TOOLONG",
        68 => "KDC_ERR_WRONG_REALM",
        _ => "KRB_ERR_UNKNOWN",
    }
}

/// The SSPI status a client reports for a KDC's error code.
pub fn status(code: i64) -> SecurityStatus {
    match code {
        C_PRINCIPAL_UNKNOWN | PREAUTH_FAILED | BAD_INTEGRITY | 18 | 23 | POLICY => {
            SecurityStatus::SEC_E_LOGON_DENIED
        }
        S_PRINCIPAL_UNKNOWN => SecurityStatus::SEC_E_TARGET_UNKNOWN,
        ETYPE_NOSUPP => SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
        SKEW | TKT_NYV => SecurityStatus::SEC_E_TIME_SKEW,
        TKT_EXPIRED => SecurityStatus::SEC_E_CONTEXT_EXPIRED,
        PADATA_TYPE_NOSUPP => SecurityStatus::SEC_E_UNSUPPORTED_PREAUTH,
        WRONG_REALM | NOT_US => SecurityStatus::SEC_E_WRONG_PRINCIPAL,
        BADOPTION | 3 | MSG_TYPE | BADVERSION => SecurityStatus::SEC_E_KDC_INVALID_REQUEST,
        _ => SecurityStatus::SEC_E_LOGON_DENIED,
    }
}

/// What an error reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcError {
    /// The error code.
    pub code: i64,
    /// The e-text, if any.
    pub text: Option<String>,
    /// The e-data, if any.
    pub data: Option<Vec<u8>>,
}

impl KdcError {
    /// Reads a KRB-ERROR; `None` when the message is not one.
    pub fn parse(message: &[u8]) -> Option<KdcError> {
        crate::der::krb_error(message).map(|f| KdcError {
            code: f.code,
            text: f.text,
            data: f.data,
        })
    }

    /// `KDC_ERR_PREAUTH_FAILED (24)`, with the KDC's text when it sent one.
    pub fn describe(&self) -> String {
        let mut s = format!("{} ({})", name(self.code), self.code);
        if let Some(text) = self.text.as_deref().filter(|t| !t.is_empty()) {
            let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
            s.push_str(&format!(": {clean}"));
        }
        s
    }
}

/// What a KRB-ERROR we build says.
pub struct ErrorReply<'a> {
    /// The error code.
    pub code: i64,
    /// The service realm and name the error is about.
    pub service: &'a Principal,
    /// The client, when known.
    pub client: Option<&'a Principal>,
    /// A human-readable explanation.
    pub text: Option<&'a str>,
    /// Typed e-data (METHOD-DATA for PREAUTH_REQUIRED).
    pub data: Option<Vec<u8>>,
}

impl ErrorReply<'_> {
    /// The DER KRB-ERROR.
    pub fn to_der(&self) -> Result<Vec<u8>, String> {
        picky_asn1_der::to_vec(&self.to_message()?).map_err(|e| e.to_string())
    }

    /// The KRB-ERROR message (for framing in a GSS token).
    pub fn to_message(&self) -> Result<KrbError, String> {
        let now = KrbTime::now();
        let client_name = self.client.map(Principal::to_asn1).transpose()?;
        let client_realm = self.client.map(Principal::realm_asn1).transpose()?;
        let text = self.text.map(kerberos_string).transpose()?;
        let inner = KrbErrorInner {
            pvno: ExplicitContextTag0::from(integer(5)),
            msg_type: ExplicitContextTag1::from(integer(30)),
            ctime: Optional::from(None),
            cusec: Optional::from(None),
            stime: ExplicitContextTag4::from(now.to_kerberos()),
            susec: ExplicitContextTag5::from(integer(i64::from(now.usec))),
            error_code: ExplicitContextTag6::from(self.code as u32),
            crealm: Optional::from(client_realm.map(ExplicitContextTag7::from)),
            cname: Optional::from(client_name.map(ExplicitContextTag8::from)),
            realm: ExplicitContextTag9::from(self.service.realm_asn1()?),
            sname: ExplicitContextTag10::from(self.service.to_asn1()?),
            e_text: Optional::from(text.map(ExplicitContextTag11::from)),
            e_data: Optional::from(
                self.data
                    .clone()
                    .map(|d| ExplicitContextTag12::from(OctetStringAsn1::from(d))),
            ),
        };
        Ok(KrbError::from(inner))
    }
}

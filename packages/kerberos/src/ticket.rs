//! A ticket the client holds: the ticket itself, its session key and times.

use crate::crypto::Key;
use crate::principal::Principal;
use crate::time::{KrbTime, from_kerberos_time};
use picky_krb::data_types::Ticket;
use picky_krb::messages::EncKdcRepPart;

/// A ticket with what the KDC told the client about it.
#[derive(Debug, Clone)]
pub struct HeldTicket {
    /// The client named in the ticket.
    pub client: Principal,
    /// The service the ticket is for.
    pub server: Principal,
    /// The ticket, opaque to the client.
    pub ticket: Ticket,
    /// The session key shared with the service.
    pub session_key: Key,
    /// Ticket flags.
    pub flags: u32,
    /// When the client authenticated (Unix seconds).
    pub auth_time: i64,
    /// When the ticket becomes valid.
    pub start_time: i64,
    /// When it expires.
    pub end_time: i64,
    /// Until when the KDC renews it (0: not renewable).
    pub renew_till: i64,
}

impl HeldTicket {
    /// The ticket of a KDC reply's decrypted part.
    pub fn from_reply(
        client: Principal,
        ticket: Ticket,
        part: &EncKdcRepPart,
    ) -> Result<HeldTicket, String> {
        let session_key =
            Key::from_asn1(&part.key.0).map_err(|e| format!("reply session key: {e}"))?;
        let auth_time = from_kerberos_time(&part.auth_time.0);
        let start_time = part
            .start_time
            .0
            .as_ref()
            .map(|t| from_kerberos_time(&t.0))
            .unwrap_or(auth_time);
        Ok(HeldTicket {
            client,
            server: Principal::from_asn1(&part.sname.0, &part.srealm.0),
            ticket,
            session_key,
            flags: crate::messages::flags_value(&part.flags.0),
            auth_time,
            start_time,
            end_time: from_kerberos_time(&part.end_time.0),
            renew_till: part
                .renew_till
                .0
                .as_ref()
                .map(|t| from_kerberos_time(&t.0))
                .unwrap_or(0),
        })
    }

    /// True when the ticket is still good for at least `margin` seconds.
    pub fn is_fresh(&self, margin: i64) -> bool {
        KrbTime::now().secs.saturating_add(margin) < self.end_time
    }
}

//! Ticket options: the flags and renew-till of a new ticket from the
//! request's KDC options, the presented TGT and the database (RFC 4120
//! 2.6-2.8, 3.1.3 and 3.3.3, in the way MIT's KDC reads them).
//!
//! * forwardable: given when asked, unless the client or the service is
//!   `noforward` or (TGS) the TGT is not forwardable; asked and not allowed,
//!   it is silently left out, as MIT does.
//! * forwarded (TGS only): refused with KDC_ERR_BADOPTION unless the TGT is
//!   forwardable; a ticket issued from a forwarded TGT is forwarded too.
//! * renewable with rtime (an absent or zero rtime is "as long as allowed"),
//!   or renewable-ok with a till beyond the end time given: renew-till is the
//!   earliest of the time asked, the TGT's renew-till (TGS), and the start
//!   plus the KDC's [`crate::KdcConfig::max_renewable_life`] and the client's
//!   and service's `maxrenew=`. renewable-ok gives a renewable ticket only
//!   when that renew-till is after the end time; a renewable life of zero
//!   gives none at all.
//! * renew (TGS, [`check_renewal`]): the presented ticket must be renewable
//!   (else KDC_ERR_BADOPTION), its renew-till not passed (else
//!   KRB_AP_ERR_TKT_EXPIRED) and the request must name its server (else
//!   KDC_ERR_SERVER_NOMATCH).
//! * ok-as-delegate: on tickets for a service whose line says
//!   `ok-as-delegate` (never on a `krbtgt` ticket).
//! * forwarded, renew and validate in an AS-REQ: KDC_ERR_BADOPTION (they
//!   need a ticket to act on). Postdating is not implemented (validate in a
//!   TGS-REQ is refused with KDC_ERR_BADOPTION; allow-postdate and postdated
//!   are ignored).

use crate::database::PrincipalOptions;
use crate::issue::Refusal;
use sspi_package_kerberos::internal::krb_error;
use sspi_package_kerberos::internal::messages::{kdc_options, ticket_flags};
use sspi_package_kerberos::internal::principal::Principal;

/// KDC_ERR_SERVER_NOMATCH: a renewal names another server than its ticket's.
pub const SERVER_NOMATCH: i64 = 26;

/// What the request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    /// The KDC options (the first 32 bits).
    pub options: u32,
    /// The requested end time (`till`; 0: none).
    pub till: i64,
    /// The requested renew-till (`rtime`; 0: absent or zero).
    pub rtime: i64,
}

impl Asked {
    fn has(&self, option: u32) -> bool {
        self.options & option != 0
    }

    /// Whether the request asks to renew the ticket it presents.
    pub fn renew(&self) -> bool {
        self.has(kdc_options::RENEW)
    }
}

/// The ticket a TGS-REQ presents: its flags and renew-till (0: none).
#[derive(Debug, Clone, Copy)]
pub struct Presented {
    /// Its ticket flags.
    pub flags: u32,
    /// Its renew-till.
    pub renew_till: i64,
}

/// Who the new ticket is between.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    /// The client's database options (`None`: not in the database).
    pub client: Option<PrincipalOptions>,
    /// The service.
    pub server: &'a Principal,
    /// The service's database options.
    pub server_options: PrincipalOptions,
}

/// Refuses the options an AS-REQ cannot carry.
pub fn check_as(asked: &Asked) -> Result<(), Refusal> {
    for (option, name) in [
        (kdc_options::FORWARDED, "forwarded"),
        (kdc_options::RENEW, "renew"),
        (kdc_options::VALIDATE, "validate"),
    ] {
        if asked.has(option) {
            return Err(Refusal::new(
                krb_error::BADOPTION,
                format!(
                    "the KDC option {name} needs a ticket to act on: send it in a TGS-REQ, not an AS-REQ"
                ),
            ));
        }
    }
    Ok(())
}

/// The flags of a new ticket: `presented` is the TGT of a TGS-REQ (`None`
/// for an AS-REQ, whose ticket gets `initial`; the caller adds
/// `pre-authent`). Not for renewals, which keep their ticket's flags.
pub fn flags(
    asked: &Asked,
    presented: Option<&Presented>,
    parties: &Parties<'_>,
) -> Result<u32, Refusal> {
    let mut flags = match presented {
        None => ticket_flags::INITIAL,
        Some(tgt) => tgt.flags & (ticket_flags::PRE_AUTHENT | ticket_flags::FORWARDED),
    };
    if let Some(tgt) = presented {
        if asked.has(kdc_options::VALIDATE) {
            return Err(Refusal::new(
                krb_error::BADOPTION,
                "the KDC option validate is not supported (this KDC issues no postdated tickets)",
            ));
        }
        if asked.has(kdc_options::FORWARDED) {
            if tgt.flags & ticket_flags::FORWARDABLE == 0 {
                return Err(Refusal::new(
                    krb_error::BADOPTION,
                    "the TGT is not forwardable: a forwarded ticket needs a forwardable TGT (kinit -f)",
                ));
            }
            flags |= ticket_flags::FORWARDED;
        }
    }
    let allowed = parties.client.is_none_or(|c| c.forwardable)
        && parties.server_options.forwardable
        && presented.is_none_or(|t| t.flags & ticket_flags::FORWARDABLE != 0);
    if asked.has(kdc_options::FORWARDABLE) && allowed {
        flags |= ticket_flags::FORWARDABLE;
    }
    if parties.server_options.ok_as_delegate && !is_tgs(parties.server) {
        flags |= ticket_flags::OK_AS_DELEGATE;
    }
    Ok(flags)
}

/// The renew-till of a new ticket starting at `start` and ending at `end`,
/// or `None` for a ticket that is not renewable; `max_renewable_life` is
/// the KDC's (seconds).
pub fn renew_till(
    asked: &Asked,
    presented: Option<&Presented>,
    parties: &Parties<'_>,
    max_renewable_life: i64,
    (start, end): (i64, i64),
) -> Option<i64> {
    if presented.is_some_and(|t| t.flags & ticket_flags::RENEWABLE == 0) {
        return None;
    }
    let only_ok = !asked.has(kdc_options::RENEWABLE);
    let wanted = if !only_ok {
        if asked.rtime > 0 {
            asked.rtime
        } else {
            i64::MAX
        }
    } else if asked.has(kdc_options::RENEWABLE_OK) && (asked.till == 0 || asked.till > end) {
        if asked.till > 0 { asked.till } else { i64::MAX }
    } else {
        return None;
    };
    let life = [
        Some(max_renewable_life),
        parties.client.and_then(|c| c.max_renewable_life),
        parties.server_options.max_renewable_life,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(max_renewable_life);
    if life <= 0 {
        return None;
    }
    let mut till = wanted.min(start.saturating_add(life));
    if let Some(tgt) = presented {
        till = till.min(tgt.renew_till);
    }
    // Nothing to renew into (a TGT marked renewable without a renew-till in
    // the future), or renewable-ok with nothing gained.
    if till <= start || (only_ok && till <= end) {
        return None;
    }
    Some(till)
}

/// Checks a renewal (the renew option) of `presented`, a ticket for
/// `ticket_server`, asked for `server` at `now`.
pub fn check_renewal(
    presented: &Presented,
    ticket_server: &Principal,
    server: &Principal,
    now: i64,
) -> Result<(), Refusal> {
    if presented.flags & ticket_flags::RENEWABLE == 0 {
        return Err(Refusal::new(
            krb_error::BADOPTION,
            "the ticket is not renewable (ask for a renewable one: kinit -r)",
        ));
    }
    if now > presented.renew_till {
        return Err(Refusal::new(
            krb_error::TKT_EXPIRED,
            "the ticket's renew-till time has passed: it can no longer be renewed",
        ));
    }
    if ticket_server != server {
        return Err(Refusal::new(
            SERVER_NOMATCH,
            format!("a renewal must name its ticket's server {ticket_server}, not {server}"),
        ));
    }
    Ok(())
}

fn is_tgs(principal: &Principal) -> bool {
    principal.components.first().map(String::as_str) == Some("krbtgt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renewable_tgt_without_a_renew_till_gives_no_renewable_ticket() {
        let server = Principal::parse("host/a", "R").unwrap();
        let parties = Parties {
            client: Some(PrincipalOptions::default()),
            server: &server,
            server_options: PrincipalOptions::default(),
        };
        let asked = Asked {
            options: kdc_options::RENEWABLE,
            till: 2_000,
            rtime: 0,
        };
        let broken = Presented {
            flags: ticket_flags::RENEWABLE,
            renew_till: 0,
        };
        let times = (1_000, 2_000);
        assert_eq!(
            renew_till(&asked, Some(&broken), &parties, 86_400, times),
            None
        );
        let good = Presented {
            renew_till: 5_000,
            ..broken
        };
        assert_eq!(
            renew_till(&asked, Some(&good), &parties, 86_400, times),
            Some(5_000)
        );
        assert_eq!(
            renew_till(&asked, None, &parties, 86_400, times),
            Some(1_000 + 86_400)
        );
    }
}

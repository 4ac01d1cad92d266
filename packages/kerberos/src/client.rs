//! A client credential: the principal, its password, and the tickets it has
//! earned (the TGT and service tickets are cached, so a second context does
//! not go back to the KDC while they are fresh).

use crate::as_exchange::{AsRequest, ClientKey, request_tgt};
use crate::config::KerberosConfig;
use crate::principal::Principal;
use crate::tgs_exchange::request_service_ticket;
use crate::ticket::HeldTicket;
use crate::transport::KdcTarget;
use sspi_core::{SecretBytes, SecurityError, SecurityStatus};
use std::collections::HashMap;
use std::sync::Mutex;

/// Tickets are renewed when they have less than this many seconds left.
const FRESH_MARGIN: i64 = 60;

/// The most service tickets cached per credential.
const MAX_CACHED_TICKETS: usize = 64;

/// A client's identity and ticket cache.
pub struct ClientState {
    /// The client principal.
    pub principal: Principal,
    password: SecretBytes,
    key: Mutex<Option<ClientKey>>,
    tgt: Mutex<Option<HeldTicket>>,
    tickets: Mutex<HashMap<Principal, HeldTicket>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientState {
    /// A client with a password and empty caches.
    pub fn new(principal: Principal, password: SecretBytes) -> Self {
        Self {
            principal,
            password,
            key: Mutex::new(None),
            tgt: Mutex::new(None),
            tickets: Mutex::new(HashMap::new()),
        }
    }

    fn kdc<'a>(config: &'a KerberosConfig, realm: &'a str) -> KdcTarget<'a> {
        KdcTarget {
            realm,
            addresses: config.kdcs_of(realm),
            timeout: config.kdc_timeout,
            retries: config.kdc_retries,
        }
    }

    /// The TGT: cached while fresh, else from an AS exchange.
    pub fn tgt(&self, config: &KerberosConfig) -> Result<HeldTicket, SecurityError> {
        if let Some(t) = lock(&self.tgt)
            .as_ref()
            .filter(|t| t.is_fresh(FRESH_MARGIN))
        {
            return Ok(t.clone());
        }
        let kdc = Self::kdc(config, &self.principal.realm);
        let request = AsRequest {
            client: &self.principal,
            password: self.password.expose(),
            etypes: &config.etypes,
            lifetime: config.ticket_lifetime.as_secs() as i64,
            kdc: &kdc,
            known_key: lock(&self.key).clone(),
        };
        let (tgt, key) = request_tgt(&request)?;
        tracing::debug!(client = %tgt.client, end = tgt.end_time, "obtained a TGT");
        *lock(&self.key) = Some(key);
        *lock(&self.tgt) = Some(tgt.clone());
        Ok(tgt)
    }

    /// A ticket for `service`: cached while fresh, else from a TGS exchange
    /// (getting a new TGT once if the KDC says the cached one expired).
    pub fn service_ticket(
        &self,
        config: &KerberosConfig,
        service: &Principal,
    ) -> Result<HeldTicket, SecurityError> {
        if let Some(t) = lock(&self.tickets)
            .get(service)
            .filter(|t| t.is_fresh(FRESH_MARGIN))
        {
            return Ok(t.clone());
        }
        if service.realm != self.principal.realm {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_TARGET_UNKNOWN,
                format!(
                    "the target {service} is in realm {}, but the client is in {}; cross-realm authentication is not supported",
                    service.realm, self.principal.realm
                ),
            ));
        }
        let kdc = Self::kdc(config, &service.realm);
        let lifetime = config.ticket_lifetime.as_secs() as i64;
        let tgt = self.tgt(config)?;
        let ticket = match request_service_ticket(&tgt, service, &config.etypes, lifetime, &kdc) {
            Err(e) if e.status() == SecurityStatus::SEC_E_CONTEXT_EXPIRED => {
                *lock(&self.tgt) = None;
                let tgt = self.tgt(config)?;
                request_service_ticket(&tgt, service, &config.etypes, lifetime, &kdc)?
            }
            other => other?,
        };
        tracing::debug!(client = %ticket.client, service = %ticket.server, "obtained a service ticket");
        let mut tickets = lock(&self.tickets);
        if tickets.len() >= MAX_CACHED_TICKETS {
            tickets.retain(|_, t| t.is_fresh(FRESH_MARGIN));
            if tickets.len() >= MAX_CACHED_TICKETS {
                tickets.clear();
            }
        }
        tickets.insert(service.clone(), ticket.clone());
        Ok(ticket)
    }
}

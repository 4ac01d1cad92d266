//! An established Kerberos context: its RFC 4121 per-message tokens and the
//! attributes QueryContextAttributes reports.

use crate::client::ClientState;
use crate::crypto::Key;
use crate::package::{KerberosCredentials, MAX_TOKEN, Shared};
use crate::protection::PerMessageTokens;
use crate::time::KrbTime;
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    ContextSizes, CredentialsObject, EstablishedContext, IscRet, Lifespan, SecretBytes,
    SecurityResult, TimeStamp,
};
use std::sync::Arc;

/// The Kerberos package's export payload format.
const PAYLOAD_VERSION: u8 = 1;
/// The longest client principal an imported context may carry.
const MAX_NAME: usize = 4096;

/// A complete Kerberos context, client or server.
pub struct KerberosEstablishedContext {
    tokens: PerMessageTokens,
    client_name: String,
    flags: IscRet,
    start: TimeStamp,
    expiry: TimeStamp,
    key: Key,
    /// On a server context, the client's delegated TGT.
    delegated: Option<(Arc<Shared>, Arc<ClientState>)>,
}

impl KerberosEstablishedContext {
    /// The context of `client_name`, its ticket ending at `expiry`, protected with `key`.
    pub(crate) fn new(
        tokens: PerMessageTokens,
        client_name: String,
        flags: IscRet,
        expiry: TimeStamp,
        key: Key,
    ) -> Self {
        Self {
            tokens,
            client_name,
            flags,
            start: KrbTime::now().to_timestamp(),
            expiry,
            key,
            delegated: None,
        }
    }

    /// ImportSecurityContext: the context [`EstablishedContext::export_context`]
    /// packed, of the acceptor's side when `acceptor`.
    pub(crate) fn import(payload: &[u8], acceptor: bool) -> SecurityResult<Self> {
        let mut input = PayloadReader::payload(payload, PAYLOAD_VERSION, "Kerberos")?;
        let (tokens, key) = PerMessageTokens::import(&mut input, acceptor)?;
        let client_name = input.str(MAX_NAME, "client name")?.to_owned();
        let flags = IscRet(input.u32("context flags")?);
        let start = TimeStamp(input.i64("start")?);
        let expiry = TimeStamp(input.i64("expiry")?);
        input.finish()?;
        Ok(Self {
            tokens,
            client_name,
            flags,
            start,
            expiry,
            key,
            delegated: None,
        })
    }

    /// The same context holding the client's delegated TGT (`client`).
    pub(crate) fn with_delegated(mut self, shared: Arc<Shared>, client: Arc<ClientState>) -> Self {
        self.delegated = Some((shared, client));
        self
    }
}

impl EstablishedContext for KerberosEstablishedContext {
    fn sizes(&self) -> ContextSizes {
        ContextSizes {
            max_token: MAX_TOKEN,
            // The context's etype: {28, 60} aes-sha1, {32, 64} etype 19, {40, 72} etype 20.
            max_signature: self.tokens.mic_len() as u32,
            block_size: 1,
            security_trailer: self.tokens.wrap_trailer_len() as u32,
        }
    }

    /// The client principal, `alice@REALM`, on both sides.
    fn names(&self) -> SecurityResult<String> {
        Ok(self.client_name.clone())
    }

    /// From now to the end of the ticket.
    fn lifespan(&self) -> Lifespan {
        Lifespan {
            start: self.start,
            expiry: self.expiry,
        }
    }

    fn flags(&self) -> IscRet {
        self.flags
    }

    /// The key of the message tokens (the acceptor's subkey with mutual authentication).
    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(SecretBytes::new(self.key.bytes().to_vec()))
    }

    /// Outbound credentials of the client with its delegated TGT: contexts
    /// made from them get service tickets with it (all of them share one
    /// ticket cache, in memory).
    fn delegated_credentials(&self) -> Option<CredentialsObject> {
        let (shared, client) = self.delegated.as_ref()?;
        let credentials = KerberosCredentials::outbound(Arc::clone(shared), Arc::clone(client));
        Some(CredentialsObject::from_credentials(credentials, MAX_TOKEN))
    }

    /// Payload version 1: the side, the acceptor-subkey and confidentiality
    /// flags, the key (etype and bytes), the first and the current sequence
    /// numbers, the client's name, the context flags, start and expiry. With
    /// `reset_new` the sequence numbers are the first ones (those of the AP
    /// exchange). Delegated credentials are not exported.
    fn export_context(&self, reset_new: bool) -> SecurityResult<SecretBytes> {
        let mut out = PayloadWriter::new(PAYLOAD_VERSION);
        self.tokens.export(&self.key, reset_new, &mut out);
        out.str(&self.client_name)
            .u32(self.flags.0)
            .i64(self.start.0)
            .i64(self.expiry.0);
        Ok(out.finish())
    }

    sspi_core::forward_per_message!(tokens);
}

//! An established Kerberos context: its RFC 4121 per-message tokens and the
//! attributes QueryContextAttributes reports.

use crate::crypto::Key;
use crate::package::MAX_TOKEN;
use crate::protection::PerMessageTokens;
use crate::time::KrbTime;
use sspi_core::{
    ContextSizes, EstablishedContext, IscRet, Lifespan, SecretBytes, SecurityResult, TimeStamp,
};

/// A complete Kerberos context, client or server.
pub struct KerberosEstablishedContext {
    tokens: PerMessageTokens,
    client_name: String,
    flags: IscRet,
    start: TimeStamp,
    expiry: TimeStamp,
    key: Key,
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
        }
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

    sspi_core::forward_per_message!(tokens);
}

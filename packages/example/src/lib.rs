//! The Example package: a pre-shared key (PSK) both sides hold, proved both ways
//! in three tokens (`E 1` hello: ISC_REQ, client nonce, user; `E 2`: server nonce
//! Ns and HMAC(PSK, "server" | hello | Ns); `E 3`: HMAC(PSK, "client" | hello |
//! Ns)), then HMAC-SHA256 signatures. The template to copy when writing a package:
//! README, "Writing a package", walks through it with the legs as a table.
//!
//! The PSK must be random (32 to 64 bytes), never a password: the server's proof
//! lets whoever starts a handshake test guesses offline.
//!
//! A signature (36 bytes) is the sequence number (u32 BE, [`SequenceNumbers`])
//! and HMAC-SHA256(`HMAC(PSK, "c2s"/"s2c" | hello | Ns)`, number | DATA...).
//! Sealing is not offered (the trait's default: SEC_E_UNSUPPORTED_FUNCTION).
#![warn(missing_docs)]

use SecurityError as Error;
use SecurityStatus as S;
use hmac::{KeyInit, Mac};
use sspi_core::{PackageCapabilities as Caps, prelude::*};
use std::{sync::Arc, time::Duration};

/// HMAC-SHA256 (its key state is wiped on drop).
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The package's name, as applications and the registry name it.
pub const NAME: &str = "Example";
/// `cbMaxToken`: the hello with a 256-byte user name is the largest token.
pub const MAX_TOKEN: usize = 2 + 4 + 32 + 256;
/// What a context can provide; it reports what the client asked for of these.
const OFFERED: u32 = IscReq::PROTECTED_CONNECTION.0 & !IscReq::CONFIDENTIALITY.0;

sspi_core::declare_library!(pub EXAMPLE_LIBRARY = "example" => [ExampleFactory]);

/// The registry values the package reads, under `SecurityProviders\Example`.
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec::binary("Key", "", "the pre-shared key, 32 to 64 random bytes"),
    ParameterSpec::string("DefaultUser", "", "the client's name when the application gives none"),
];

/// The package's descriptor.
pub struct ExampleFactory;

impl PackageFactory for ExampleFactory {
    type Package = ExamplePackage;

    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: Caps::INTEGRITY | Caps::CONNECTION | Caps::MUTUAL_AUTH,
            version: 1,
            rpc_id: PackageInfo::SECPKG_ID_NONE,
            max_token: MAX_TOKEN as u32,
            name: NAME.into(),
            comment: "sspi-plug Example package: a pre-shared key, HMAC-SHA256".into(),
        }
    }

    fn parameters() -> &'static [ParameterSpec] {
        PARAMETERS
    }

    fn open(params: &PackageParameters) -> SecurityResult<ExamplePackage> {
        let key = params.binary("Key")?.ok_or_else(|| params.error("Key", "no pre-shared key"))?;
        if !(32..=64).contains(&key.len()) {
            return Err(params.error("Key", "the key must have 32 to 64 bytes"));
        }
        let psk = HmacSha256::new_from_slice(key)
            .map_err(|_| Error::new(S::SEC_E_INTERNAL_ERROR, "key"))?;
        let default_user = params.string("DefaultUser")?.map(str::to_string);
        Ok(ExamplePackage(Arc::new(Shared { psk, default_user })))
    }
}

/// What every credential and context of the loaded package shares.
struct Shared {
    psk: HmacSha256,
    default_user: Option<String>,
}

impl Shared {
    /// `HMAC(PSK, label | hello | server nonce)`, not yet finalized.
    fn mac(&self, label: &[u8], hello: &[u8], nonce: &[u8]) -> HmacSha256 {
        self.psk.clone().chain_update(label).chain_update(hello).chain_update(nonce)
    }
}

/// The loaded package.
pub struct ExamplePackage(Arc<Shared>);

impl SecurityPackage for ExamplePackage {
    type Credentials = ExampleCredentials;

    /// The application's identity names the client (a password is refused: the
    /// key is the registry's); without one, `DefaultUser` does.
    fn acquire_credentials_handle(
        &self, req: CredentialsRequest,
    ) -> SecurityResult<ExampleCredentials> {
        let user = match req.auth_identity.into_option() {
            Some(id) if !id.password.is_empty() => {
                return Err(Error::new(S::SEC_E_UNKNOWN_CREDENTIALS, "Example takes no password"));
            }
            Some(id) => id.user.into_string(),
            None => self.0.default_user.clone().unwrap_or_default(),
        };
        let outbound = req.credential_use.contains(CredentialUse::OUTBOUND);
        if outbound && !(1..=256).contains(&user.len()) {
            return Err(Error::new(S::SEC_E_NO_CREDENTIALS, "no user name (1..=256 bytes)"));
        }
        Ok(ExampleCredentials { shared: self.0.clone(), credential_use: req.credential_use, user })
    }
}

/// A credential handle: the key and, outbound, the client's name.
pub struct ExampleCredentials {
    shared: Arc<Shared>,
    credential_use: CredentialUse,
    user: String,
}

impl Credentials for ExampleCredentials {
    type Client = Client;
    type Server = Server;

    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.user.clone())
    }

    fn new_client_context(&self, _target: Option<&str>, req: IscReq) -> SecurityResult<Client> {
        let hello =
            [&[b'E', 1][..], &req.0.to_be_bytes(), &random32()?, self.user.as_bytes()].concat();
        let (shared, user) = (self.shared.clone(), self.user.clone());
        Ok(Client { shared, hello, user, flags: IscRet(req.0 & OFFERED), sent: false })
    }

    fn new_server_context(&self, _req: AscReq) -> SecurityResult<Server> {
        Ok(Server { shared: self.shared.clone(), hello: None })
    }
}

/// A client's handshake: sends the hello, then checks the server's proof.
pub struct Client {
    shared: Arc<Shared>,
    hello: Vec<u8>,
    user: String,
    flags: IscRet,
    sent: bool,
}

/// A server's handshake: answers the hello, then checks the client's proof.
pub struct Server {
    shared: Arc<Shared>,
    /// After leg 2: the hello, our nonce, the client's name and flags.
    hello: Option<(Vec<u8>, [u8; 32], String, IscRet)>,
}

fn random32() -> SecurityResult<[u8; 32]> {
    let random = ring::rand::generate(&ring::rand::SystemRandom::new());
    Ok(random.map_err(|_| Error::new(S::SEC_E_INTERNAL_ERROR, "no random numbers"))?.expose())
}

/// The body of the peer's token `number`, of `len` bytes (any with `None`).
fn body<'a>(input: &LegInput<'a>, number: u8, len: Option<usize>) -> SecurityResult<&'a [u8]> {
    match input.require_token()? {
        [b'E', n, body @ ..] if *n == number && len.is_none_or(|len| body.len() == len) => Ok(body),
        _ => Err(Error::new(S::SEC_E_INVALID_TOKEN, "this is not the Example token expected")),
    }
}

impl ClientHandshake for Client {
    type Established = Established;

    fn initialize(mut self, input: LegInput<'_>) -> SecurityResult<Step<Self, Established>> {
        if !self.sent {
            self.sent = true;
            let hello = self.hello.clone();
            return Ok(Step::continue_with(self, hello));
        }
        let (nonce, proof) = body(&input, 2, Some(64))?.split_at(32);
        let mac = self.shared.mac(b"server", &self.hello, nonce).verify_slice(proof);
        mac.map_err(|_| Error::new(S::SEC_E_MUTUAL_AUTH_FAILED, "the server's proof is wrong"))?;
        let proof = self.shared.mac(b"client", &self.hello, nonce).finalize().into_bytes();
        let (hello, user) = (&self.hello, self.user);
        let established = Established::new(&self.shared, hello, nonce, true, user, self.flags)?;
        Ok(Step::done(established, [&[b'E', 3][..], &proof].concat()))
    }
}

impl ServerHandshake for Server {
    type Established = Established;

    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Established>> {
        let Some((hello, nonce, user, flags)) = self.hello else {
            let body = body(&input, 1, None)?;
            let user = match body.get(36..).map(std::str::from_utf8) {
                Some(Ok(user)) if (1..=256).contains(&user.len()) => user.to_string(),
                _ => return Err(Error::new(S::SEC_E_INVALID_TOKEN, "bad user name in token 1")),
            };
            let flags = IscRet(u32::from_be_bytes([body[0], body[1], body[2], body[3]]) & OFFERED);
            let (hello, nonce) = (input.require_token()?.to_vec(), random32()?);
            let proof = self.shared.mac(b"server", &hello, &nonce).finalize().into_bytes();
            let token = [&[b'E', 2][..], &nonce, &proof].concat();
            let next = Server { hello: Some((hello, nonce, user, flags)), ..self };
            return Ok(Step::continue_with(next, token));
        };
        let proof = body(&input, 3, Some(32))?;
        let mac = self.shared.mac(b"client", &hello, &nonce).verify_slice(proof);
        mac.map_err(|_| Error::new(S::SEC_E_LOGON_DENIED, "the client's proof is wrong"))?;
        let established = Established::new(&self.shared, &hello, &nonce, false, user, flags)?;
        Ok(Step::done(established, Vec::new()))
    }
}

const SIGNATURE_LEN: usize = 4 + 32;

/// An established context: both directions' keys, the counters, the attributes.
pub struct Established {
    sign_out: HmacSha256,
    sign_in: HmacSha256,
    numbers: SequenceNumbers,
    user: String,
    flags: IscRet,
    lifespan: Lifespan,
}

impl Established {
    /// Derives both directions' keys from the handshake.
    fn new(
        shared: &Shared, hello: &[u8], nonce: &[u8], client: bool, user: String, flags: IscRet,
    ) -> SecurityResult<Self> {
        let key = |label: &[u8]| {
            let bytes: [u8; 32] = shared.mac(label, hello, nonce).finalize().into_bytes().into();
            let bytes = zeroize::Zeroizing::new(bytes);
            HmacSha256::new_from_slice(&bytes[..]).map_err(|_| SecurityError::internal("HMAC key"))
        };
        let (out, inn) = if client { (b"c2s", b"s2c") } else { (b"s2c", b"c2s") };
        let (sign_out, sign_in) = (key(out)?, key(inn)?);
        let start = TimeStamp::now();
        let lifespan = Lifespan { start, expiry: start.after(Duration::from_secs(36_000)) };
        let numbers = SequenceNumbers::new(0, 0, u32::MAX.into());
        Ok(Self { sign_out, sign_in, numbers, user, flags, lifespan })
    }
}

/// The HMAC of `number` and every DATA buffer.
fn mac(key: &HmacSha256, number: u32, message: &[SecBuffer<'_>]) -> HmacSha256 {
    let mut mac = key.clone().chain_update(number.to_be_bytes());
    for data in message.iter().filter(|b| b.kind() == SecBufferType::DATA) {
        mac.update(data.as_slice());
    }
    mac
}

impl EstablishedContext for Established {
    fn sizes(&self) -> ContextSizes {
        let (max_token, max_signature) = (MAX_TOKEN as u32, SIGNATURE_LEN as u32);
        ContextSizes { max_token, max_signature, ..ContextSizes::default() }
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.user.clone())
    }

    fn lifespan(&self) -> Lifespan {
        self.lifespan
    }

    fn flags(&self) -> IscRet {
        self.flags
    }

    fn make_signature(&mut self, qop: Qop, message: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
        if qop != Qop::DEFAULT {
            return Err(MessageError::new(S::SEC_E_QOP_NOT_SUPPORTED, "only QOP 0"));
        }
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(MessageError::buffer_too_small("the TOKEN buffer is under cbMaxSignature"));
        }
        let number = self.numbers.next_send()? as u32;
        let tag = mac(&self.sign_out, number, message).finalize().into_bytes();
        let token = message.token_mut()?;
        token.as_mut_slice()[..4].copy_from_slice(&number.to_be_bytes());
        token.as_mut_slice()[4..SIGNATURE_LEN].copy_from_slice(&tag);
        token.truncate(SIGNATURE_LEN);
        Ok(Qop::DEFAULT)
    }

    fn verify_signature(&mut self, message: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
        let signature: [u8; SIGNATURE_LEN] = (message.token_mut()?.as_slice().try_into())
            .map_err(|_| MessageError::invalid_token("the signature is not 36 bytes"))?;
        let number = u32::from_be_bytes([signature[0], signature[1], signature[2], signature[3]]);
        // Integrity first, so a forged message cannot move the counter.
        let checked = mac(&self.sign_in, number, message).verify_slice(&signature[4..]);
        checked.map_err(|_| MessageError::altered("the signature does not match the message"))?;
        self.numbers.accept_receive(number.into())?;
        Ok(Qop::DEFAULT)
    }
}

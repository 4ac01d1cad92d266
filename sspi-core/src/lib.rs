//! # sspi-core
//!
//! The stable ABI shared by the sspi-plug host and every security package, and
//! the helpers a package author uses. This page is the author's guide: read it
//! top to bottom, then copy `packages/example` (a complete package in one
//! file) and check yours with `sspi selftest --package NAME` (crate
//! `sspi-testkit`).
//!
//! * Values with SSPI's own names: [`SecurityStatus`] (`SEC_E_*`, `SEC_I_*`),
//!   the flag sets [`IscReq`], [`IscRet`], [`AscReq`], [`AscRet`],
//!   [`CredentialUse`], [`PackageCapabilities`], buffers ([`SecBuffer`],
//!   [`SecBufferRef`], [`SecBufferType`]), [`PackageInfo`], [`ContextSizes`],
//!   [`Lifespan`], [`Qop`].
//! * The author's side (all of it in [`prelude`]): implement [`PackageFactory`],
//!   [`SecurityPackage`], [`Credentials`], a [`ClientHandshake`] and a
//!   [`ServerHandshake`] and the [`EstablishedContext`] they reach, then
//!   [`declare_library!`] in the package crate and [`export_library!`] in its
//!   `cdylib` crate. The host checks the registry values against the
//!   package's [`ParameterSpec`]s before it opens the package.
//! * The host's side: [`ffi`] holds the `#[sabi_trait]` objects and the root
//!   module ([`ffi::SspiLibraryRef`]) that plugin-host loads.
//!
//! ## The pieces of a package
//!
//! | you write | SSPI call it answers | what it returns |
//! |---|---|---|
//! | [`PackageFactory`] | EnumerateSecurityPackages, loading | [`PackageInfo`], the [`ParameterSpec`]s of the registry values it reads, and the package opened with its [`PackageParameters`] |
//! | [`SecurityPackage`] | AcquireCredentialsHandle | [`Credentials`] for a [`CredentialsRequest`] |
//! | [`Credentials`] | the first InitializeSecurityContext / AcceptSecurityContext | the first state of a [`ClientHandshake`] / [`ServerHandshake`] |
//! | [`ClientHandshake::initialize`], [`ServerHandshake::accept`] | each later leg | a [`Step`]: the next state or the [`EstablishedContext`], and the token to send |
//! | [`EstablishedContext`] | QueryContextAttributes, MakeSignature, VerifySignature, EncryptMessage, DecryptMessage | sizes, names, flags, lifespan; `Result<Qop, MessageError>` per message |
//!
//! The client and the server are distinct types, so a wrong-side call cannot
//! reach your code; a step takes its state by value and returns the next one,
//! so a failed step cannot leave a half-updated state. Everything around the
//! steps — which side may call, the status of each leg, writing the output
//! token, CompleteAuthToken, expiry, panics — is done once, by the leg engine,
//! for every package.
//!
//! ## The handshake loop
//!
//! An application drives both sides like this (what
//! `sspi_plugin_host::loopback::handshake`, `sspi-connection` and the test kit do):
//!
//! | # | who | when | input | status | output token |
//! |---|---|---|---|---|---|
//! | 1 | client: InitializeSecurityContext | first, with no input | none | SEC_I_CONTINUE_NEEDED, or SEC_E_OK for a one-token package | the first token (never empty when continuing) |
//! | 2 | server: AcceptSecurityContext | whenever the client sent a token | the client's token | SEC_I_CONTINUE_NEEDED while it needs more, then SEC_E_OK | the reply; empty only with SEC_E_OK |
//! | 3 | client: InitializeSecurityContext | whenever the server sent a token and the client is not complete | the server's token | as 2 | as 2 |
//! | 4 | the side that is not complete | **once more**, when the other side returned SEC_E_OK *with* a token | that token | SEC_E_OK | empty |
//! | — | either side | after a leg with SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE | its own output token | CompleteAuthToken, before sending it | finished in place |
//!
//! The loop ends when both sides returned SEC_E_OK (or SEC_I_COMPLETE_NEEDED,
//! then CompleteAuthToken) and no token is in flight; a side that is complete
//! and still receives a token is an error. NTLM's loop is rows 1, 2, 3 (the
//! client's AUTHENTICATE comes with SEC_E_OK) and 4 (the server's SEC_E_OK,
//! empty); Kerberos's is 1, 2 (AP-REP with SEC_E_OK) and 4 (the client checks
//! the AP-REP).
//!
//! What your step returns becomes the leg's status:
//!
//! | the step returns | status | output |
//! |---|---|---|
//! | [`Step::continue_with`]`(next, token)` | SEC_I_CONTINUE_NEEDED | `token`; it MUST NOT be empty (an empty one fails the context with SEC_E_INTERNAL_ERROR) |
//! | [`Step::done`]`(established, token)` | SEC_E_OK | `token`, or nothing when it is empty; a non-empty one gives the peer row 4 |
//! | either, `.needing_completion()` | SEC_I_COMPLETE_AND_CONTINUE / SEC_I_COMPLETE_NEEDED | written, then finished by `complete_auth_token` of the state it leads to |
//! | `Err(error)` | `error.status()` | none (the TOKEN buffer is left empty); the context is failed: every later leg is SEC_E_OUT_OF_SEQUENCE naming this error |
//! | [`Step::fail`]`(error, token)` | `error.status()` | `token`, an extended error for the peer (Kerberos' KRB-ERROR), dropped when it does not fit; the context is failed as after `Err(error)` |
//! | a panic | SEC_E_INTERNAL_ERROR | none; the context is unusable: every later call is SEC_E_INTERNAL_ERROR |
//!
//! What the engine refuses before your code runs — always with the context
//! unchanged, so the application can go on:
//!
//! | call | status |
//! |---|---|
//! | InitializeSecurityContext on a server context, AcceptSecurityContext on a client context | SEC_E_INVALID_HANDLE |
//! | a leg on a complete context; the next leg before CompleteAuthToken; CompleteAuthToken with nothing to complete | SEC_E_OUT_OF_SEQUENCE |
//! | a leg whose output TOKEN buffer is smaller than the token | SEC_E_BUFFER_TOO_SMALL: the token is held; call again with a larger buffer (the input is not read again) |
//! | a leg with no output TOKEN buffer | SEC_E_INVALID_PARAMETER |
//! | a leg whose input token is longer than the package's `cbMaxToken` | SEC_E_INVALID_TOKEN |
//! | CompleteAuthToken given another token than the one written | SEC_E_INVALID_TOKEN |
//! | MakeSignature, VerifySignature, EncryptMessage, DecryptMessage before the context is complete (or completed) | SEC_E_OUT_OF_SEQUENCE |
//! | the same after [`Lifespan::expiry`] | SEC_E_CONTEXT_EXPIRED |
//! | QueryContextAttributes (sizes, names, lifespan, session key) before the context is complete | SEC_E_INVALID_HANDLE |
//! | InitializeSecurityContext with credentials not acquired OUTBOUND, AcceptSecurityContext not INBOUND | SEC_E_WRONG_CREDENTIAL_HANDLE |
//!
//! A context whose very first leg fails (other than SEC_E_BUFFER_TOO_SMALL) is
//! not created at all, as in SSPI.
//!
//! ## The step contract
//!
//! In the manner of rsasl's mechanism rules: MUST is checked by the engine or
//! the test kit, SHOULD is what interoperating peers expect.
//!
//! * A step MUST return [`Step::continue_with`] with a non-empty token, or
//!   [`Step::done`]; it MUST NOT wait for the peer (it is called again with the
//!   peer's token) and SHOULD bound any other I/O (a KDC) with a time-out.
//! * A client's first step receives no token ([`LegInput::token`] is `None`);
//!   every other step MUST get the peer's token with [`LegInput::require_token`]
//!   (SEC_E_INVALID_TOKEN when it is missing or empty).
//! * A step MUST treat the token as hostile: malformed, truncated, oversized
//!   (longer than your `cbMaxToken`) or unexpected input MUST be
//!   SEC_E_INVALID_TOKEN ([`SecurityError::invalid_token`]), never a panic —
//!   the kit's `garbage-token`, `truncated-token` and `oversized-token` rules
//!   (the engine already refuses a token longer than your `cbMaxToken`).
//! * A wrong secret MUST fail the step: SEC_E_LOGON_DENIED at the server,
//!   SEC_E_MUTUAL_AUTH_FAILED at a client whose server did not prove itself.
//!   Proofs MUST be compared in constant time (e.g. `hmac::Mac::verify_slice`).
//! * A step that returns [`Step::done`] with a token MUST be answered by the
//!   peer's step returning [`Step::done`] with an empty token (row 4): a
//!   complete side that receives a token is an error for the application.
//! * An error's reason MUST NOT contain a secret (it is logged); it SHOULD name
//!   what was wrong.
//! * Secrets SHOULD live in zeroizing types ([`SecretBytes`], `zeroize::Zeroizing`).
//!
//! Per-message calls ([`EstablishedContext`]):
//!
//! * MUST NOT allocate (the kit's `no-allocation` rule counts every `malloc` of
//!   the process, your library's included) and MUST work in place on the
//!   caller's buffers; failures are a [`MessageError`]: a status and a `&'static str`.
//! * MUST check integrity before the sequence number ([`SequenceNumbers`]), so
//!   a forged message cannot move the counter; an altered message MUST be
//!   SEC_E_MESSAGE_ALTERED, a replayed or reordered one SEC_E_OUT_OF_SEQUENCE,
//!   a TOKEN of the wrong shape SEC_E_INVALID_TOKEN.
//! * MUST refuse a TOKEN buffer shorter than `cbMaxSignature` /
//!   `cbSecurityTrailer` with SEC_E_BUFFER_TOO_SMALL *without* using a
//!   sequence number, and shrink the TOKEN buffer to what was written
//!   ([`SecBuffer::truncate`]).
//! * SHOULD zero the DATA of a message that DecryptMessage refuses.
//! * A package that does not seal MUST NOT advertise SECPKG_FLAG_PRIVACY and
//!   keeps the default EncryptMessage/DecryptMessage, which answer
//!   SEC_E_UNSUPPORTED_FUNCTION; a QOP it does not offer is SEC_E_QOP_NOT_SUPPORTED.
//!
//! ```
//! use sspi_core::{
//!     AscReq, ClientHandshake, ContextSizes, CredentialUse, Credentials, CredentialsRequest,
//!     EstablishedContext, IscReq, IscRet, LegInput, Lifespan, MessageError, MessageResult, Qop,
//!     SecBuffer, SecurityError, SecurityResult, SecurityStatus, ServerHandshake, Step,
//!     StepOutcome, TimeStamp,
//! };
//!
//! /// The client: sends a hello, then must receive the server's welcome.
//! enum Client { Start, SentHello }
//! /// The server: must receive the hello.
//! struct Server;
//!
//! impl ClientHandshake for Client {
//!     type Established = Done;
//!     fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Done>> {
//!         match self {
//!             // Row 1: no input; continue with a non-empty token.
//!             Client::Start => Ok(Step::continue_with(Client::SentHello, b"hello".to_vec())),
//!             // Row 4: the server finished with a token; finish, sending nothing.
//!             Client::SentHello => match input.require_token()? {
//!                 b"welcome" => Ok(Step::done(Done, Vec::new())),
//!                 _ => Err(SecurityError::invalid_token("expected the welcome")),
//!             },
//!         }
//!     }
//! }
//!
//! impl ServerHandshake for Server {
//!     type Established = Done;
//!     fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Done>> {
//!         match input.require_token()? {
//!             // Row 2: done, with a token the client must see (it makes row 4).
//!             b"hello" => Ok(Step::done(Done, b"welcome".to_vec())),
//!             _ => Err(SecurityError::invalid_token("expected a hello")),
//!         }
//!     }
//! }
//!
//! /// No protection at all: every per-message call is unsupported.
//! struct Done;
//! const UNSUPPORTED: MessageError =
//!     MessageError::new(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION, "no message protection");
//!
//! impl EstablishedContext for Done {
//!     fn sizes(&self) -> ContextSizes { ContextSizes::default() }
//!     fn names(&self) -> SecurityResult<String> { Ok("someone".into()) }
//!     fn lifespan(&self) -> Lifespan {
//!         Lifespan { start: TimeStamp::now(), expiry: TimeStamp::NEVER }
//!     }
//!     fn flags(&self) -> IscRet { IscRet::CONNECTION }
//!     fn make_signature(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
//!         Err(UNSUPPORTED)
//!     }
//!     fn verify_signature(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
//!         Err(UNSUPPORTED)
//!     }
//!     fn encrypt_message(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
//!         Err(UNSUPPORTED)
//!     }
//!     fn decrypt_message(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult {
//!         Err(UNSUPPORTED)
//!     }
//! }
//!
//! // Driving the steps by hand (the engine does this for a loaded package):
//! let (outcome, hello, _) = Client::Start.initialize(LegInput::new(&[]))?.into_parts();
//! let StepOutcome::Continue(client) = outcome else { unreachable!() };
//! let input = [sspi_core::SecBufferRef::token(&hello)];
//! let (outcome, welcome, _) = Server.accept(LegInput::new(&input))?.into_parts();
//! assert!(matches!(outcome, StepOutcome::Done(_)) && welcome == b"welcome");
//! let input = [sspi_core::SecBufferRef::token(&welcome)];
//! let (outcome, last, _) = client.initialize(LegInput::new(&input))?.into_parts();
//! assert!(matches!(outcome, StepOutcome::Done(_)) && last.is_empty());
//! // A garbage token is SEC_E_INVALID_TOKEN, not a panic.
//! let garbage = [sspi_core::SecBufferRef::token(b"\xff\x00")];
//! let refused = Server.accept(LegInput::new(&garbage)).err().expect("refused");
//! assert_eq!(refused.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
//! # Ok::<(), SecurityError>(())
//! ```
//!
//! ## A package built from packages (composition)
//!
//! The second kind of package, after the simple one of `packages/example`, is
//! built from other installed packages, as Negotiate (`packages/negotiate`) is
//! built from Kerberos and NTLM. It never links their crates: the host hands
//! it their ABI objects.
//!
//! * Its [`PackageFactory::composition`] names the registry value of its key
//!   that lists the packages, in preference order, and the list when the value
//!   is absent ([`Composition`]). The host then opens those packages first —
//!   whatever the `Providers` order, composing packages in dependency order —
//!   and calls [`PackageFactory::open_composed`] with them as
//!   [`InnerPackage`]s, instead of `open`.
//! * The host refuses, naming the value's `file:line:column`, a list that
//!   names a package no library provides, an unavailable one, one that is not
//!   SECPKG_FLAG_NEGOTIABLE, or a cycle back to the composing package; the
//!   composing package is then unavailable with that reason. Names of the
//!   *default* list that are not installed are left out.
//! * [`InnerPackage::acquire_credentials_handle`] gives [`CredentialsObject`],
//!   which start [`ContextObject`]s; each call goes straight through the inner
//!   package's vtable, and the inner context's own leg engine checks sides,
//!   order and expiry. The composing package's handshake drives the inner
//!   legs ([`ContextObject::initialize`], [`ContextObject::accept`]) and its
//!   [`EstablishedContext`] forwards the per-message calls (an
//!   `#[inline]` call each: no lookup, no allocation).
//! * A negotiating package reports what it chose with
//!   [`EstablishedContext::negotiation_info`] (SECPKG_ATTR_NEGOTIATION_INFO);
//!   SPNEGO's mechListMIC uses [`EstablishedContext::requires_mech_list_mic`]
//!   and [`EstablishedContext::mech_list_mic_processed`] of the inner context.
//!
//! ```
//! use sspi_core::prelude::*;
//! use sspi_core::{Composition, InnerPackage};
//!
//! /// A package that authenticates with the first package of its `Packages` list.
//! struct First;
//! struct FirstPackage { inner: Vec<InnerPackage> }
//! # struct Creds;
//! # struct Hs;
//! # impl SecurityPackage for FirstPackage {
//! #     type Credentials = Creds;
//! #     fn acquire_credentials_handle(&self, _: CredentialsRequest) -> SecurityResult<Creds> { Ok(Creds) }
//! # }
//! # impl Credentials for Creds {
//! #     type Client = Hs;
//! #     type Server = Hs;
//! #     fn credential_use(&self) -> CredentialUse { CredentialUse::BOTH }
//! #     fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
//! #     fn new_client_context(&self, _: Option<&str>, _: IscReq) -> SecurityResult<Hs> { Ok(Hs) }
//! #     fn new_server_context(&self, _: AscReq) -> SecurityResult<Hs> { Ok(Hs) }
//! # }
//! # struct Est;
//! # impl EstablishedContext for Est {
//! #     fn sizes(&self) -> ContextSizes { ContextSizes::default() }
//! #     fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
//! #     fn lifespan(&self) -> Lifespan { Lifespan { start: TimeStamp(0), expiry: TimeStamp::NEVER } }
//! #     fn flags(&self) -> IscRet { IscRet::NONE }
//! #     fn make_signature(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { unreachable!() }
//! #     fn verify_signature(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { unreachable!() }
//! # }
//! # impl ClientHandshake for Hs {
//! #     type Established = Est;
//! #     fn initialize(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Self::Established>> { unreachable!() }
//! # }
//! # impl ServerHandshake for Hs {
//! #     type Established = Est;
//! #     fn accept(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Self::Established>> { unreachable!() }
//! # }
//!
//! impl PackageFactory for First {
//!     type Package = FirstPackage;
//!
//!     fn info() -> PackageInfo {
//!         PackageInfo {
//!             capabilities: PackageCapabilities::CONNECTION,
//!             version: 1,
//!             rpc_id: PackageInfo::SECPKG_ID_NONE,
//!             max_token: 48256,
//!             name: "First".into(),
//!             comment: "the first of its packages".into(),
//!         }
//!     }
//!
//!     /// `HKLM\Comm\SecurityProviders\First\Packages`, by default "Kerberos, NTLM".
//!     fn composition() -> Option<Composition> {
//!         Some(Composition::new("Packages", "Kerberos, NTLM"))
//!     }
//!
//!     fn open(params: &PackageParameters) -> SecurityResult<FirstPackage> {
//!         Err(params.error("Packages", "First is opened with its packages"))
//!     }
//!
//!     fn open_composed(
//!         _params: &PackageParameters,
//!         inner: Vec<InnerPackage>,
//!     ) -> SecurityResult<FirstPackage> {
//!         // The host checked them: installed, available, negotiable, no cycle.
//!         Ok(FirstPackage { inner })
//!     }
//! }
//!
//! assert_eq!(First::composition().unwrap().value.as_str(), "Packages");
//! let opened = First::open_composed(&PackageParameters::default(), Vec::new()).unwrap();
//! assert!(opened.inner.is_empty());
//! ```
//!
//! ## Flags: what a context reports, and how a server learns the request
//!
//! [`Credentials::new_client_context`] receives the application's ISC_REQ
//! bits; [`Credentials::new_server_context`] receives the *server
//! application's* ASC_REQ bits. The client's request never reaches the server
//! except inside your tokens: a package whose services depend on what the
//! client asked for (mutual authentication, confidentiality, delegation) MUST
//! carry those bits in its first token — NTLM's NEGOTIATE flags, Kerberos's
//! AP-REQ checksum flags, the Example package's hello (ISC_REQ as a u32) — and
//! the server's state reads them from there.
//!
//! Both sides report flags as [`IscRet`] bits: a handshake state's `flags()`
//! (after each leg that continues) and [`EstablishedContext::flags`] (once
//! complete). The engine hands the client's bits to the application as the
//! ISC_RET `attributes` of each [`HandshakeStep`] and SECPKG_ATTR_FLAGS
//! ([`ContextFlags::Client`]), and maps the server's to ASC_RET
//! ([`AscRet::from_isc_ret`], [`ContextFlags::Server`]). The bits MUST be the
//! services actually in force — the intersection of what was asked and what
//! the package provides — and both sides SHOULD report the same:
//!
//! ```
//! use sspi_core::{AscRet, IscReq, IscRet};
//!
//! // The Example package offers these, and reports what the client asked of them.
//! const OFFERED: u32 = IscReq::PROTECTED_CONNECTION.0 & !IscReq::CONFIDENTIALITY.0;
//! let asked = IscReq::MUTUAL_AUTH | IscReq::INTEGRITY | IscReq::CONFIDENTIALITY;
//! let in_force = IscRet(asked.0 & OFFERED);
//! assert!(in_force.contains(IscRet::MUTUAL_AUTH | IscRet::INTEGRITY));
//! assert!(!in_force.contains(IscRet::CONFIDENTIALITY));
//! // What the server's application sees for the same bits:
//! assert!(AscRet::from_isc_ret(in_force).contains(AscRet::INTEGRITY));
//! ```
//!
//! ## The per-message `sequence` argument
//!
//! `sequence` is SSPI's `MessageSeqNo`: a number the *caller* gives a message.
//! Connection-oriented packages (every shipped one; SECPKG_FLAG_CONNECTION)
//! ignore it and keep their own counters, one per direction, with
//! [`SequenceNumbers`]; applications pass 0. A datagram package
//! (SECPKG_FLAG_DATAGRAM, ISC_REQ_DATAGRAM) would put it in its token instead
//! of a counter. Whatever it does, a package MUST NOT use a sequence number
//! twice with one key (the counters end the context with SEC_E_CONTEXT_EXPIRED
//! rather than wrap):
//!
//! ```
//! use sspi_core::{SecurityStatus, SequenceNumbers};
//!
//! // A 32-bit number on the wire: u32::MAX is the last one.
//! let mut numbers = SequenceNumbers::new(0, 0, u32::MAX.into());
//! let first = numbers.next_send()?;            // 0: put it in the signature
//! // ... the peer verifies the MAC first, then the number:
//! let mut peer = SequenceNumbers::new(0, 0, u32::MAX.into());
//! peer.accept_receive(first)?;
//! let replay = peer.accept_receive(first).unwrap_err();
//! assert_eq!(replay.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
//! # Ok::<(), sspi_core::MessageError>(())
//! ```
//!
//! ## `DefaultUser`: the identity when the application gives none
//!
//! A client application may pass no `SEC_WINNT_AUTH_IDENTITY`
//! ([`CredentialsRequest::auth_identity`] is `None`, as `sspi handshake` and
//! `sspi client` without `--user` do). A package that can act for a user then
//! reads `DefaultUser` (REG_SZ, declared in its [`ParameterSpec`]s) from its
//! registry key: it names a user whose secret the package's configuration holds
//! (`Users\<name>\Password`, a user database, a key), in the package's own
//! syntax (`alice`, `DOMAIN\alice`, `alice@REALM`). It MUST:
//!
//! * apply only to OUTBOUND credentials without an identity — an explicit
//!   identity always wins, and INBOUND credentials never use it;
//! * fail AcquireCredentialsHandle with SEC_E_NO_CREDENTIALS, naming the
//!   package and `DefaultUser`, when there is neither an identity nor a
//!   `DefaultUser` (or its secret is missing), rather than fail in a later leg;
//! * never be, or carry, a secret itself (a demo password goes in
//!   `DefaultPassword` or `Users\<name>\Password`, held zeroized).
//!
//! ```
//! use sspi_core::{
//!     CredentialUse, CredentialsRequest, PackageParameters, SecurityError, SecurityResult,
//!     SecurityStatus,
//! };
//!
//! /// The user outbound credentials act for: the application's, else `DefaultUser`.
//! fn client_user(params: &PackageParameters, req: &CredentialsRequest) -> SecurityResult<Option<String>> {
//!     if !req.credential_use.contains(CredentialUse::OUTBOUND) {
//!         return Ok(None);
//!     }
//!     if let Some(identity) = req.auth_identity.as_ref().into_option() {
//!         return Ok(Some(identity.user.to_string()));
//!     }
//!     match params.string("DefaultUser")? {
//!         Some(user) if !user.is_empty() => Ok(Some(user.to_string())),
//!         _ => Err(SecurityError::new(
//!             SecurityStatus::SEC_E_NO_CREDENTIALS,
//!             "no identity supplied and the package has no DefaultUser in the registry",
//!         )),
//!     }
//! }
//!
//! let none = PackageParameters::default();
//! let request = CredentialsRequest {
//!     principal: None.into(),
//!     credential_use: CredentialUse::OUTBOUND,
//!     auth_identity: None.into(),
//! };
//! let error = client_user(&none, &request).unwrap_err();
//! assert_eq!(error.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
//! ```
//!
//! ## Exporting and importing a context
//!
//! ExportSecurityContext hands a complete context to another process, which
//! ImportSecurityContext turns back into a context that goes on where the
//! first one was (the host's `export_security_context`, `export_and_delete`,
//! `import_security_context`). A package opts in with three hooks, whose
//! defaults answer SEC_E_UNSUPPORTED_FUNCTION:
//!
//! | you write | called by | gives |
//! |---|---|---|
//! | [`EstablishedContext::export_context`]`(&self, reset_new)` | ExportSecurityContext, on a complete context only (the engine answers SEC_E_INVALID_HANDLE during the handshake) | your payload, as [`SecretBytes`] |
//! | [`SecurityPackage::import_client_context`]`(&self, payload)` | ImportSecurityContext of a client context | your client handshake's established context |
//! | [`SecurityPackage::import_server_context`]`(&self, payload)` | the same, for a server context | your server's established context |
//!
//! The engine records the side; the host frames the payload into the
//! versioned, digest-checked blob of [`context_export`] with the package's
//! name, and on import checks the frame (format, digest, package, side)
//! before your hook sees the payload. What your hook returns is put behind a
//! complete context: per-message calls work, handshake calls are
//! SEC_E_OUT_OF_SEQUENCE. Because the side picks the hook and the hook
//! returns that side's type, a client payload cannot become a server context.
//!
//! * The payload MUST hold everything the per-message calls and the
//!   attributes need (keys, both directions' sequence numbers, cipher states,
//!   flags, the client's name, the lifespan), and SHOULD begin with a payload
//!   version of your own ([`context_export::PayloadWriter::new`]).
//! * It is secret: build it with [`context_export::PayloadWriter`] (zeroizing
//!   memory), keep keys in zeroizing types on import, and never put any of it
//!   in an error's reason or a log.
//! * Import MUST parse strictly and bounded
//!   ([`context_export::PayloadReader`]: every read checked against the bytes
//!   left, [`context_export::PayloadReader::finish`] refusing leftovers) and
//!   MUST answer anything wrong with SEC_E_INVALID_TOKEN naming the field,
//!   never a panic. It SHOULD cross-check what it can (the payload's own
//!   record of its side; a key's length for its etype).
//! * Without `reset_new` the imported context MUST continue exactly, so the
//!   peer cannot tell the processes apart. With `reset_new`
//!   (SECPKG_CONTEXT_EXPORT_RESET_NEW) it SHOULD be the state the handshake
//!   left, and MUST be refused (SEC_E_UNSUPPORTED_FUNCTION, saying why) when
//!   that would reuse a nonce or keystream under the same key.
//! * Sequence numbers travel with [`context_export::PayloadWriter::sequence`]
//!   / [`context_export::PayloadReader::sequence`] ([`SequenceNumbers::state`]).
//!
//! ```
//! use sspi_core::context_export::{PayloadReader, PayloadWriter};
//! use sspi_core::{SecretBytes, SecurityResult, SequenceNumbers};
//!
//! /// A context's per-message state: a key and its counters.
//! struct Keys { key: [u8; 32], sequence: SequenceNumbers }
//!
//! fn export(keys: &Keys) -> SecretBytes {
//!     let mut out = PayloadWriter::new(1);
//!     out.raw(&keys.key).sequence(&keys.sequence);
//!     out.finish()
//! }
//!
//! fn import(payload: &[u8]) -> SecurityResult<Keys> {
//!     let mut input = PayloadReader::payload(payload, 1, "Mine")?;
//!     let keys = Keys { key: input.array("key")?, sequence: input.sequence("sequence numbers")? };
//!     input.finish()?;
//!     Ok(keys)
//! }
//!
//! let mut sequence = SequenceNumbers::new(0, 0, u32::MAX.into());
//! sequence.next_send().unwrap();
//! let payload = export(&Keys { key: [7; 32], sequence });
//! let mut back = import(payload.expose())?;
//! assert_eq!(back.sequence.next_send(), Ok(1));
//! // Cut short: SEC_E_INVALID_TOKEN naming the field, not a panic.
//! let cut = import(&payload.expose()[..20]).err().unwrap();
//! assert!(cut.message().contains("truncated: key"));
//! # Ok::<(), sspi_core::SecurityError>(())
//! ```
//!
//! ## Building and shipping
//!
//! [`declare_library!`] in the package crate lists its factories (and makes the
//! package a built-in, `builtin:NAME`, of any program that links the crate);
//! [`export_library!`] in a `cdylib` crate makes it a plugin. The README's
//! "Writing a package" gives the exact `Cargo.toml` lines, the registry entry
//! and `sspi selftest`.
#![deny(missing_docs)]

pub mod adapter;
mod buffer;
mod channel_bindings;
pub mod composition;
pub mod context_export;
mod engine;
mod error;
mod established;
mod export;
pub mod ffi;
mod flags;
mod handshake;
mod identity;
mod info;
mod message;
mod objects;
mod package;
mod parameter_check;
mod parameter_spec;
mod params;
mod sequence;
mod status;

pub use buffer::{SecBuffer, SecBufferRef, SecBufferType, SecBuffers};
pub use channel_bindings::{ChannelBindings, channel_bindings_hash, sec_channel_bindings};
pub use composition::{Composition, InnerPackage, MessageDirection};
pub use context_export::{ContextSide, ExportedContext};
pub use error::{SecurityError, SecurityResult};
pub use established::EstablishedContext;
pub use flags::{AscReq, AscRet, ContextFlags, CredentialUse, IscReq, IscRet, PackageCapabilities};
pub use handshake::{
    AscStep, ClientHandshake, HandshakeStep, IscStep, LegInput, ServerHandshake, Step, StepOutcome,
};
pub use identity::{AuthIdentity, CredentialsRequest, SecretBytes};
pub use info::{ContextSizes, Lifespan, NegotiationInfo, NegotiationState, PackageInfo, TimeStamp};
pub use message::{MessageError, MessageResult, Qop};
pub use objects::{ContextObject, CredentialsObject};
pub use package::{
    ClientEstablished, Credentials, PackageFactory, SecurityPackage, ServerEstablished,
};
pub use parameter_check::{Finding, Severity, check_parameters, closest};
pub use parameter_spec::{ParameterKind, ParameterSpec};
pub use params::{PackageParameters, Parameter, ParameterValue, RegistryUser};
pub use sequence::SequenceNumbers;
pub use status::SecurityStatus;

/// What a package author's code uses, in one import: `use sspi_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AscReq, AscRet, ClientHandshake, ContextSizes, CredentialUse, Credentials,
        CredentialsRequest, EstablishedContext, IscReq, IscRet, LegInput, Lifespan, MessageError,
        MessageResult, PackageCapabilities, PackageFactory, PackageInfo, PackageParameters,
        ParameterSpec, Qop, SecBuffer, SecBufferType, SecBuffers, SecretBytes, SecurityError,
        SecurityPackage, SecurityResult, SecurityStatus, SequenceNumbers, ServerHandshake, Step,
        TimeStamp,
    };
}

#[doc(hidden)]
pub use abi_stable;
#[doc(hidden)]
pub use inventory;

//! The leg engine's rules, on a two-leg package written for the test: wrong
//! side and out-of-order calls are refused without harm, a too-small output
//! buffer is retryable, CompleteAuthToken is checked, expiry and panics end
//! per-message calls with their own status.

use abi_stable::std_types::{ROption, RResult, RSlice, RSliceMut};
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::ffi::{ContextBox, CredentialsBox, PackageBox};
use sspi_core::{
    AscReq, ClientHandshake, ContextFlags, ContextSizes, CredentialUse, Credentials,
    CredentialsRequest, EstablishedContext, IscReq, IscRet, LegInput, Lifespan, MessageError,
    PackageCapabilities, PackageFactory, PackageInfo, PackageParameters, Qop, SecBuffer,
    SecBufferRef, SecurityError, SecurityPackage, SecurityResult, SecurityStatus, ServerHandshake,
    Step, TimeStamp,
};
use sspi_core::{ContextSide, ExportedContext};

/// Behaviour switches, read from the target name.
#[derive(Clone, Copy, Default)]
struct Mode {
    complete: bool,
    expired: bool,
    empty_continue: bool,
}

struct Factory;
struct Package;
struct Creds(CredentialUse);
struct Client(Mode);
struct ClientWaiting(Mode);
struct Server;
struct Done {
    expiry: TimeStamp,
    completed: bool,
}

impl PackageFactory for Factory {
    type Package = Package;
    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: PackageCapabilities::INTEGRITY,
            version: 1,
            rpc_id: PackageInfo::SECPKG_ID_NONE,
            max_token: 64,
            name: "Engine".into(),
            comment: "engine test".into(),
        }
    }
    fn open(_: &PackageParameters) -> SecurityResult<Package> {
        Ok(Package)
    }
}

impl SecurityPackage for Package {
    type Credentials = Creds;
    fn acquire_credentials_handle(&self, request: CredentialsRequest) -> SecurityResult<Creds> {
        Ok(Creds(request.credential_use))
    }
    fn import_client_context(&self, payload: &[u8]) -> SecurityResult<Done> {
        import(payload)
    }
    fn import_server_context(&self, payload: &[u8]) -> SecurityResult<Done> {
        import(payload)
    }
}

/// The test package's payload: the expiry; `panic` panics.
fn import(payload: &[u8]) -> SecurityResult<Done> {
    if payload == b"panic" {
        panic!("deliberate import panic");
    }
    let mut input = PayloadReader::payload(payload, 1, "Engine")?;
    let expiry = TimeStamp(input.i64("expiry")?);
    input.finish()?;
    Ok(Done {
        expiry,
        completed: false,
    })
}

fn mode(target: Option<&str>) -> Mode {
    let t = target.unwrap_or("");
    Mode {
        complete: t.contains("complete"),
        expired: t.contains("expired"),
        empty_continue: t.contains("empty"),
    }
}

impl Credentials for Creds {
    type Client = Either;
    type Server = Server;
    fn credential_use(&self) -> CredentialUse {
        self.0
    }
    fn names(&self) -> SecurityResult<String> {
        Ok("user".into())
    }
    fn new_client_context(&self, target: Option<&str>, _: IscReq) -> SecurityResult<Either> {
        Ok(Either::Start(Client(mode(target))))
    }
    fn new_server_context(&self, _: AscReq) -> SecurityResult<Server> {
        Ok(Server)
    }
}

/// The client's states: start, then waiting for the server's token.
enum Either {
    Start(Client),
    Waiting(ClientWaiting),
}

impl ClientHandshake for Either {
    type Established = Done;
    fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Done>> {
        match self {
            Either::Start(Client(mode)) => {
                if mode.empty_continue {
                    return Ok(Step::continue_with(Either::Start(Client(mode)), Vec::new()));
                }
                let step = Step::continue_with(Either::Waiting(ClientWaiting(mode)), vec![7u8; 40]);
                Ok(if mode.complete {
                    step.needing_completion()
                } else {
                    step
                })
            }
            Either::Waiting(ClientWaiting(mode)) => {
                if input.require_token()? != [9u8; 20] {
                    return Err(SecurityError::invalid_token("not the server's reply"));
                }
                let expiry = if mode.expired {
                    TimeStamp(1)
                } else {
                    TimeStamp::NEVER
                };
                Ok(Step::done(
                    Done {
                        expiry,
                        completed: false,
                    },
                    Vec::new(),
                ))
            }
        }
    }
    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        token.fill(8);
        Ok(())
    }
}

impl ServerHandshake for Server {
    type Established = Done;
    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Done>> {
        let token = input.require_token()?;
        if token == b"panic" {
            panic!("deliberate");
        }
        if token == b"extended" {
            return Ok(Step::fail(
                SecurityError::new(SecurityStatus::SEC_E_TIME_SKEW, "clocks differ"),
                vec![3u8; 10],
            ));
        }
        if token.len() != 40 {
            return Err(SecurityError::invalid_token(
                "expected the client's 40 bytes",
            ));
        }
        Ok(Step::done(
            Done {
                expiry: TimeStamp::NEVER,
                completed: false,
            },
            vec![9u8; 20],
        ))
    }
}

impl EstablishedContext for Done {
    fn sizes(&self) -> ContextSizes {
        ContextSizes {
            max_token: 64,
            max_signature: 4,
            block_size: 0,
            security_trailer: 4,
        }
    }
    fn names(&self) -> SecurityResult<String> {
        Ok("user".into())
    }
    fn lifespan(&self) -> Lifespan {
        Lifespan {
            start: TimeStamp(0),
            expiry: self.expiry,
        }
    }
    fn flags(&self) -> IscRet {
        IscRet::INTEGRITY
    }
    fn complete_auth_token(&mut self, _: &mut [u8]) -> SecurityResult<()> {
        self.completed = true;
        Ok(())
    }
    fn export_context(&self, _reset_new: bool) -> SecurityResult<sspi_core::SecretBytes> {
        let mut out = PayloadWriter::new(1);
        out.i64(self.expiry.0);
        Ok(out.finish())
    }
    fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        _: u32,
    ) -> Result<Qop, MessageError> {
        if message.is_empty() {
            panic!("deliberate");
        }
        Ok(qop)
    }
    fn verify_signature(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> Result<Qop, MessageError> {
        Err(MessageError::altered("the signature does not match"))
    }
    fn encrypt_message(
        &mut self,
        qop: Qop,
        _: &mut [SecBuffer<'_>],
        _: u32,
    ) -> Result<Qop, MessageError> {
        Ok(qop)
    }
    fn decrypt_message(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> Result<Qop, MessageError> {
        Ok(Qop::WRAP_NO_ENCRYPT)
    }
}

fn credentials(credential_use: CredentialUse) -> CredentialsBox {
    let descriptor = sspi_core::adapter::descriptor::<Factory>();
    let RResult::ROk(package): RResult<PackageBox, _> =
        (descriptor.open)(&Default::default(), Default::default())
    else {
        panic!("opens");
    };
    package
        .acquire_credentials_handle(CredentialsRequest {
            principal: ROption::RNone,
            credential_use,
            auth_identity: ROption::RNone,
        })
        .unwrap()
}

fn client(target: &str) -> ContextBox {
    credentials(CredentialUse::OUTBOUND)
        .new_client_context(ROption::RSome(target.into()), IscReq::INTEGRITY)
        .unwrap()
}

fn server() -> ContextBox {
    credentials(CredentialUse::INBOUND)
        .new_server_context(AscReq::INTEGRITY)
        .unwrap()
}

fn isc(
    context: &mut ContextBox,
    input: &[u8],
    out: &mut [u8],
) -> Result<(SecurityStatus, Vec<u8>), SecurityError> {
    let input = [SecBufferRef::token(input)];
    let input: &[SecBufferRef<'_>] = if input[0].is_empty() { &[] } else { &input };
    let mut output = [SecBuffer::token(out)];
    let step = context
        .initialize_security_context(
            RSlice::from_slice(input),
            RSliceMut::from_mut_slice(&mut output),
        )
        .into_result()?;
    Ok((step.status, output[0].as_slice().to_vec()))
}

fn asc(
    context: &mut ContextBox,
    input: &[u8],
    out: &mut [u8],
) -> Result<(SecurityStatus, Vec<u8>), SecurityError> {
    let input = [SecBufferRef::token(input)];
    let mut output = [SecBuffer::token(out)];
    let step = context
        .accept_security_context(
            RSlice::from_slice(&input),
            RSliceMut::from_mut_slice(&mut output),
        )
        .into_result()?;
    Ok((step.status, output[0].as_slice().to_vec()))
}

fn established() -> (ContextBox, ContextBox) {
    let (mut c, mut s) = (client(""), server());
    let (_, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    let (_, reply) = asc(&mut s, &hello, &mut [0; 64]).unwrap();
    assert_eq!(
        isc(&mut c, &reply, &mut [0; 64]).unwrap(),
        (SecurityStatus::SEC_E_OK, Vec::new())
    );
    (c, s)
}

#[test]
fn a_wrong_side_call_is_refused_and_the_handshake_goes_on() {
    let (mut c, mut s) = (client(""), server());
    let e = asc(&mut c, &[1], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
    assert_eq!(
        e.message(),
        "AcceptSecurityContext was called with a client context"
    );
    let (status, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let e = isc(&mut s, &hello, &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
    let (status, reply) = asc(&mut s, &hello, &mut [0; 64]).unwrap();
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    assert_eq!(
        isc(&mut c, &reply, &mut [0; 64]).unwrap().0,
        SecurityStatus::SEC_E_OK
    );
    // On established contexts too, the same status.
    let e = asc(&mut c, &[1], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE);
    assert_eq!(
        c.flags().unwrap(),
        ContextFlags::Client(IscRet::INTEGRITY),
        "still usable"
    );
}

#[test]
fn a_leg_after_completion_is_out_of_sequence_and_harmless() {
    let (mut c, mut s) = established();
    let e = isc(&mut c, &[9; 20], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE, "{e}");
    let e = asc(&mut s, &[7; 40], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE, "{e}");
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    assert_eq!(
        c.make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0)
            .into_result(),
        Ok(Qop::DEFAULT)
    );
    assert_eq!(
        s.decrypt_message(RSliceMut::from_mut_slice(&mut message), 0)
            .into_result(),
        Ok(Qop::WRAP_NO_ENCRYPT)
    );
}

#[test]
fn per_message_calls_before_completion_are_out_of_sequence() {
    let mut c = client("");
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    let e = c
        .make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0)
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    assert_eq!(e.reason(), "the handshake of this context is not complete");
    assert_eq!(
        c.sizes().into_result().unwrap_err().status(),
        SecurityStatus::SEC_E_INVALID_HANDLE
    );
}

#[test]
fn a_too_small_output_buffer_is_retryable() {
    let (mut c, mut s) = (client(""), server());
    let e = isc(&mut c, &[], &mut [0; 10]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
    assert!(e.message().contains("needs 40"), "{e}");
    // Still too small: still held.
    assert_eq!(
        isc(&mut c, &[], &mut [0; 39]).unwrap_err().status(),
        SecurityStatus::SEC_E_BUFFER_TOO_SMALL
    );
    let (status, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    assert_eq!(
        (status, hello.len()),
        (SecurityStatus::SEC_I_CONTINUE_NEEDED, 40)
    );
    assert_eq!(
        asc(&mut s, &hello, &mut [0; 19]).unwrap_err().status(),
        SecurityStatus::SEC_E_BUFFER_TOO_SMALL
    );
    let (status, reply) = asc(&mut s, &[], &mut [0; 20]).unwrap();
    assert_eq!(
        (status, reply.as_slice()),
        (SecurityStatus::SEC_E_OK, &[9u8; 20][..])
    );
    assert_eq!(
        isc(&mut c, &reply, &mut [0; 64]).unwrap().0,
        SecurityStatus::SEC_E_OK
    );
}

#[test]
fn a_missing_output_token_buffer_changes_nothing() {
    let mut c = client("");
    let e = c
        .initialize_security_context(RSlice::from_slice(&[]), RSliceMut::from_mut_slice(&mut []))
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_PARAMETER);
    assert_eq!(
        isc(&mut c, &[], &mut [0; 64]).unwrap().0,
        SecurityStatus::SEC_I_CONTINUE_NEEDED
    );
}

#[test]
fn a_failed_leg_ends_the_context_with_its_reason() {
    let mut s = server();
    let e = asc(&mut s, &[1, 2, 3], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    let e = asc(&mut s, &[7; 40], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    assert!(
        e.message().contains("expected the client's 40 bytes"),
        "{e}"
    );
}

#[test]
fn a_step_that_continues_without_a_token_is_an_internal_error() {
    let mut c = client("empty");
    let e = isc(&mut c, &[], &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
    assert!(e.message().contains("without a token"), "{e}");
}

#[test]
fn complete_auth_token_is_checked_and_required() {
    let mut c = client("complete");
    let (status, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    assert_eq!(status, SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE);
    // The next leg before CompleteAuthToken is out of sequence.
    assert_eq!(
        isc(&mut c, &[9; 20], &mut [0; 64]).unwrap_err().status(),
        SecurityStatus::SEC_E_OUT_OF_SEQUENCE
    );
    // Another token is refused; the right one is finished in place.
    let mut other = vec![1u8; 40];
    let e = c
        .complete_auth_token(RSliceMut::from_mut_slice(&mut [SecBuffer::token(
            &mut other,
        )]))
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    let mut token = hello.clone();
    c.complete_auth_token(RSliceMut::from_mut_slice(&mut [SecBuffer::token(
        &mut token,
    )]))
    .into_result()
    .unwrap();
    assert_eq!(token, vec![8u8; 40]);
    assert_eq!(
        c.complete_auth_token(RSliceMut::from_mut_slice(&mut [SecBuffer::token(
            &mut token
        )]))
        .into_result()
        .unwrap_err()
        .status(),
        SecurityStatus::SEC_E_OUT_OF_SEQUENCE
    );
    assert_eq!(
        isc(&mut c, &[9; 20], &mut [0; 64]).unwrap().0,
        SecurityStatus::SEC_E_OK
    );
}

#[test]
fn an_expired_context_refuses_messages() {
    let mut c = client("expired");
    let (_, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    let (_, reply) = asc(&mut server(), &hello, &mut [0; 64]).unwrap();
    isc(&mut c, &reply, &mut [0; 64]).unwrap();
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    let e = c
        .make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0)
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);
}

#[test]
fn a_panic_poisons_the_context_and_says_so() {
    let mut s = server();
    let e = asc(&mut s, b"panic", &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
    assert!(e.is_panic(), "{e}");
    let e = asc(&mut s, &[7; 40], &mut [0; 64]).unwrap_err();
    assert_eq!(
        e.status(),
        SecurityStatus::SEC_E_INTERNAL_ERROR,
        "poisoned: {e}"
    );

    let (mut c, _) = established();
    let e = c
        .make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut []), 0)
        .into_result()
        .unwrap_err();
    assert!(e.is_panic(), "{e}");
    assert_eq!(e.reason(), "the package panicked in MakeSignature");
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    let e = c
        .make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0)
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INTERNAL_ERROR, "poisoned");
}

#[test]
fn contexts_need_credentials_of_their_direction() {
    let inbound = credentials(CredentialUse::INBOUND);
    let RResult::RErr(e) = inbound.new_client_context(ROption::RNone, IscReq::NONE) else {
        panic!("refused");
    };
    assert_eq!(e.status(), SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE);
    let outbound = credentials(CredentialUse::OUTBOUND);
    let RResult::RErr(e) = outbound.new_server_context(AscReq::NONE) else {
        panic!("refused");
    };
    assert_eq!(e.status(), SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE);
}

#[test]
fn a_token_longer_than_cb_max_token_is_refused_before_the_package_sees_it() {
    let (mut c, mut s) = (client(""), server());
    let (_, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    let mut long = hello.clone();
    long.resize(65, 0);
    let e = asc(&mut s, &long, &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(e.message().contains("cbMaxToken (64)"), "{e}");
    // Refused without harm: the real hello still completes the handshake.
    let (status, reply) = asc(&mut s, &hello, &mut [0; 64]).unwrap();
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    assert_eq!(
        isc(&mut c, &reply, &mut [0; 64]).unwrap().0,
        SecurityStatus::SEC_E_OK
    );
}

#[test]
fn a_failed_leg_sends_its_extended_error_token_and_ends_the_context() {
    let mut s = server();
    let mut out = [0u8; 64];
    let input = [SecBufferRef::token(b"extended")];
    let mut output = [SecBuffer::token(&mut out)];
    let e = s
        .accept_security_context(
            RSlice::from_slice(&input),
            RSliceMut::from_mut_slice(&mut output),
        )
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_TIME_SKEW);
    assert_eq!(output[0].as_slice(), [3u8; 10]);
    // The context is over, and a later call sends no token.
    let mut out = [0u8; 64];
    let mut output = [SecBuffer::token(&mut out)];
    let e = s
        .accept_security_context(
            RSlice::from_slice(&input),
            RSliceMut::from_mut_slice(&mut output),
        )
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    assert!(e.message().contains("clocks differ"), "{e}");
}

#[test]
fn a_failed_leg_without_a_token_leaves_the_output_empty() {
    let mut s = server();
    let mut out = [0u8; 64];
    let input = [SecBufferRef::token(&[1, 2, 3])];
    let mut output = [SecBuffer::token(&mut out)];
    let e = s
        .accept_security_context(
            RSlice::from_slice(&input),
            RSliceMut::from_mut_slice(&mut output),
        )
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(output[0].is_empty());
}

fn package() -> PackageBox {
    let descriptor = sspi_core::adapter::descriptor::<Factory>();
    let RResult::ROk(package): RResult<PackageBox, _> =
        (descriptor.open)(&Default::default(), Default::default())
    else {
        panic!("opens");
    };
    package
}

fn import_box(side: ContextSide, payload: &[u8]) -> Result<ContextBox, SecurityError> {
    package()
        .import_context(side, RSlice::from_slice(payload))
        .into_result()
}

#[test]
fn only_a_complete_context_exports_and_an_import_is_complete() {
    let mut c = client("");
    let e = c.export_context(false).into_result().unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
    assert_eq!(
        e.message(),
        "ExportSecurityContext: the context is not complete"
    );
    let (_, hello) = isc(&mut c, &[], &mut [0; 64]).unwrap();
    let (_, reply) = asc(&mut server(), &hello, &mut [0; 64]).unwrap();
    isc(&mut c, &reply, &mut [0; 64]).unwrap();
    let ExportedContext { side, payload } = c.export_context(false).into_result().unwrap();
    assert_eq!(side, ContextSide::Client);

    let mut imported = import_box(side, payload.expose()).unwrap();
    assert!(matches!(
        imported.flags().into_result(),
        Ok(ContextFlags::Client(IscRet::INTEGRITY))
    ));
    let e = isc(&mut imported, &reply, &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE, "{e}");
    let e = asc(&mut imported, &reply, &mut [0; 64]).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    let signed = imported.make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0);
    assert_eq!(signed.into_result(), Ok(Qop::DEFAULT));
    // It exports again, as the server it can also be.
    let again = imported.export_context(false).into_result().unwrap();
    let server = import_box(ContextSide::Server, again.payload.expose()).unwrap();
    assert!(matches!(
        server.flags().into_result(),
        Ok(ContextFlags::Server(_))
    ));
}

#[test]
fn an_imported_expired_context_refuses_messages() {
    let mut out = PayloadWriter::new(1);
    out.i64(1);
    let mut imported = import_box(ContextSide::Client, out.finish().expose()).unwrap();
    let mut data = *b"data";
    let mut message = [SecBuffer::data(&mut data)];
    let e = imported
        .make_signature(Qop::DEFAULT, RSliceMut::from_mut_slice(&mut message), 0)
        .into_result()
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);
}

#[test]
fn a_bad_or_panicking_import_is_an_error() {
    let e = import_box(ContextSide::Server, &[1, 2]).err().unwrap();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN, "{e}");
    assert!(
        e.message()
            .contains("packed Engine security context: truncated: expiry"),
        "{e}"
    );
    let e = import_box(ContextSide::Server, b"panic").err().unwrap();
    assert!(e.is_panic(), "{e}");
    assert!(e.message().contains("ImportSecurityContext"), "{e}");
}

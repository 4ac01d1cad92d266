//! The dispatch tables `InitSecurityInterfaceW` / `A` return, in the SDK's
//! slot order (`SecurityFunctionTableW`, version 2: through
//! SetContextAttributes). Every entry is `Option`: a C provider's table may
//! hold NULLs, which the host refuses or treats as unsupported.

use crate::types::*;
use std::ffi::c_void;

/// `SEC_GET_KEY_FN` (unused by every package; accepted and ignored).
pub type SEC_GET_KEY_FN = Option<
    unsafe extern "system" fn(
        arg: *mut c_void,
        principal: *mut c_void,
        key_ver: ULONG,
        key: *mut *mut c_void,
        status: *mut SECURITY_STATUS,
    ),
>;

/// `EnumerateSecurityPackagesW`.
pub type EnumerateSecurityPackagesFnW = unsafe extern "system" fn(
    pc_packages: *mut ULONG,
    pp_info: *mut *mut SecPkgInfoW,
) -> SECURITY_STATUS;
/// `EnumerateSecurityPackagesA`.
pub type EnumerateSecurityPackagesFnA = unsafe extern "system" fn(
    pc_packages: *mut ULONG,
    pp_info: *mut *mut SecPkgInfoA,
) -> SECURITY_STATUS;
/// `QueryCredentialsAttributesW` / `A` (the buffer's layout depends on the attribute).
pub type QueryCredentialsAttributesFn = unsafe extern "system" fn(
    cred: *mut CredHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> SECURITY_STATUS;
/// `AcquireCredentialsHandleW`.
pub type AcquireCredentialsHandleFnW = unsafe extern "system" fn(
    principal: *mut SEC_WCHAR,
    package: *mut SEC_WCHAR,
    credential_use: ULONG,
    logon_id: *mut c_void,
    auth_data: *mut c_void,
    get_key_fn: SEC_GET_KEY_FN,
    get_key_argument: *mut c_void,
    credential: *mut CredHandle,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `AcquireCredentialsHandleA`.
pub type AcquireCredentialsHandleFnA = unsafe extern "system" fn(
    principal: *mut SEC_CHAR,
    package: *mut SEC_CHAR,
    credential_use: ULONG,
    logon_id: *mut c_void,
    auth_data: *mut c_void,
    get_key_fn: SEC_GET_KEY_FN,
    get_key_argument: *mut c_void,
    credential: *mut CredHandle,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `FreeCredentialsHandle`.
pub type FreeCredentialsHandleFn =
    unsafe extern "system" fn(cred: *mut CredHandle) -> SECURITY_STATUS;
/// `InitializeSecurityContextW`.
pub type InitializeSecurityContextFnW = unsafe extern "system" fn(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_WCHAR,
    context_req: ULONG,
    reserved1: ULONG,
    target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `InitializeSecurityContextA`.
pub type InitializeSecurityContextFnA = unsafe extern "system" fn(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_CHAR,
    context_req: ULONG,
    reserved1: ULONG,
    target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `AcceptSecurityContext`.
pub type AcceptSecurityContextFn = unsafe extern "system" fn(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    input: *mut SecBufferDesc,
    context_req: ULONG,
    target_data_rep: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `CompleteAuthToken`, `ApplyControlToken`.
pub type ContextBuffersFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    buffers: *mut SecBufferDesc,
) -> SECURITY_STATUS;
/// `DeleteSecurityContext`, `ImpersonateSecurityContext`, `RevertSecurityContext`.
pub type ContextFn = unsafe extern "system" fn(context: *mut CtxtHandle) -> SECURITY_STATUS;
/// `QueryContextAttributesW` / `A`.
pub type QueryContextAttributesFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> SECURITY_STATUS;
/// `MakeSignature`, `EncryptMessage`.
pub type ProtectMessageFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    qop: ULONG,
    message: *mut SecBufferDesc,
    sequence: ULONG,
) -> SECURITY_STATUS;
/// `VerifySignature`, `DecryptMessage`.
pub type CheckMessageFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    message: *mut SecBufferDesc,
    sequence: ULONG,
    qop: *mut ULONG,
) -> SECURITY_STATUS;
/// `FreeContextBuffer`.
pub type FreeContextBufferFn = unsafe extern "system" fn(buffer: *mut c_void) -> SECURITY_STATUS;
/// `QuerySecurityPackageInfoW`.
pub type QuerySecurityPackageInfoFnW = unsafe extern "system" fn(
    package: *mut SEC_WCHAR,
    info: *mut *mut SecPkgInfoW,
) -> SECURITY_STATUS;
/// `QuerySecurityPackageInfoA`.
pub type QuerySecurityPackageInfoFnA = unsafe extern "system" fn(
    package: *mut SEC_CHAR,
    info: *mut *mut SecPkgInfoA,
) -> SECURITY_STATUS;
/// `ExportSecurityContext`.
pub type ExportSecurityContextFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    flags: ULONG,
    packed: *mut SecBuffer,
    token: *mut *mut c_void,
) -> SECURITY_STATUS;
/// `ImportSecurityContextW`.
pub type ImportSecurityContextFnW = unsafe extern "system" fn(
    package: *mut SEC_WCHAR,
    packed: *mut SecBuffer,
    token: *mut c_void,
    context: *mut CtxtHandle,
) -> SECURITY_STATUS;
/// `ImportSecurityContextA`.
pub type ImportSecurityContextFnA = unsafe extern "system" fn(
    package: *mut SEC_CHAR,
    packed: *mut SecBuffer,
    token: *mut c_void,
    context: *mut CtxtHandle,
) -> SECURITY_STATUS;
/// `AddCredentialsW`.
pub type AddCredentialsFnW = unsafe extern "system" fn(
    credential: *mut CredHandle,
    principal: *mut SEC_WCHAR,
    package: *mut SEC_WCHAR,
    credential_use: ULONG,
    auth_data: *mut c_void,
    get_key_fn: SEC_GET_KEY_FN,
    get_key_argument: *mut c_void,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `AddCredentialsA`.
pub type AddCredentialsFnA = unsafe extern "system" fn(
    credential: *mut CredHandle,
    principal: *mut SEC_CHAR,
    package: *mut SEC_CHAR,
    credential_use: ULONG,
    auth_data: *mut c_void,
    get_key_fn: SEC_GET_KEY_FN,
    get_key_argument: *mut c_void,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS;
/// `QuerySecurityContextToken`.
pub type QuerySecurityContextTokenFn =
    unsafe extern "system" fn(context: *mut CtxtHandle, token: *mut *mut c_void) -> SECURITY_STATUS;
/// `SetContextAttributesW` / `A`.
pub type SetContextAttributesFn = unsafe extern "system" fn(
    context: *mut CtxtHandle,
    attribute: ULONG,
    buffer: *mut c_void,
    length: ULONG,
) -> SECURITY_STATUS;

/// `SecurityFunctionTableW`, slot for slot as the SDK's (version 2).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecurityFunctionTableW {
    /// 0: `dwVersion`.
    pub dw_version: ULONG,
    /// 1.
    pub enumerate_security_packages_w: Option<EnumerateSecurityPackagesFnW>,
    /// 2.
    pub query_credentials_attributes_w: Option<QueryCredentialsAttributesFn>,
    /// 3.
    pub acquire_credentials_handle_w: Option<AcquireCredentialsHandleFnW>,
    /// 4.
    pub free_credentials_handle: Option<FreeCredentialsHandleFn>,
    /// 5: `Reserved2`.
    pub reserved2: *mut c_void,
    /// 6.
    pub initialize_security_context_w: Option<InitializeSecurityContextFnW>,
    /// 7.
    pub accept_security_context: Option<AcceptSecurityContextFn>,
    /// 8.
    pub complete_auth_token: Option<ContextBuffersFn>,
    /// 9.
    pub delete_security_context: Option<ContextFn>,
    /// 10.
    pub apply_control_token: Option<ContextBuffersFn>,
    /// 11.
    pub query_context_attributes_w: Option<QueryContextAttributesFn>,
    /// 12.
    pub impersonate_security_context: Option<ContextFn>,
    /// 13.
    pub revert_security_context: Option<ContextFn>,
    /// 14.
    pub make_signature: Option<ProtectMessageFn>,
    /// 15.
    pub verify_signature: Option<CheckMessageFn>,
    /// 16.
    pub free_context_buffer: Option<FreeContextBufferFn>,
    /// 17.
    pub query_security_package_info_w: Option<QuerySecurityPackageInfoFnW>,
    /// 18: `Reserved3`.
    pub reserved3: *mut c_void,
    /// 19: `Reserved4`.
    pub reserved4: *mut c_void,
    /// 20.
    pub export_security_context: Option<ExportSecurityContextFn>,
    /// 21.
    pub import_security_context_w: Option<ImportSecurityContextFnW>,
    /// 22.
    pub add_credentials_w: Option<AddCredentialsFnW>,
    /// 23: `Reserved8`.
    pub reserved8: *mut c_void,
    /// 24.
    pub query_security_context_token: Option<QuerySecurityContextTokenFn>,
    /// 25.
    pub encrypt_message: Option<ProtectMessageFn>,
    /// 26.
    pub decrypt_message: Option<CheckMessageFn>,
    /// 27 (version 2).
    pub set_context_attributes_w: Option<SetContextAttributesFn>,
}

/// `SecurityFunctionTableA`, slot for slot as the SDK's (version 2).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecurityFunctionTableA {
    /// 0: `dwVersion`.
    pub dw_version: ULONG,
    /// 1.
    pub enumerate_security_packages_a: Option<EnumerateSecurityPackagesFnA>,
    /// 2.
    pub query_credentials_attributes_a: Option<QueryCredentialsAttributesFn>,
    /// 3.
    pub acquire_credentials_handle_a: Option<AcquireCredentialsHandleFnA>,
    /// 4.
    pub free_credentials_handle: Option<FreeCredentialsHandleFn>,
    /// 5: `Reserved2`.
    pub reserved2: *mut c_void,
    /// 6.
    pub initialize_security_context_a: Option<InitializeSecurityContextFnA>,
    /// 7.
    pub accept_security_context: Option<AcceptSecurityContextFn>,
    /// 8.
    pub complete_auth_token: Option<ContextBuffersFn>,
    /// 9.
    pub delete_security_context: Option<ContextFn>,
    /// 10.
    pub apply_control_token: Option<ContextBuffersFn>,
    /// 11.
    pub query_context_attributes_a: Option<QueryContextAttributesFn>,
    /// 12.
    pub impersonate_security_context: Option<ContextFn>,
    /// 13.
    pub revert_security_context: Option<ContextFn>,
    /// 14.
    pub make_signature: Option<ProtectMessageFn>,
    /// 15.
    pub verify_signature: Option<CheckMessageFn>,
    /// 16.
    pub free_context_buffer: Option<FreeContextBufferFn>,
    /// 17.
    pub query_security_package_info_a: Option<QuerySecurityPackageInfoFnA>,
    /// 18: `Reserved3`.
    pub reserved3: *mut c_void,
    /// 19: `Reserved4`.
    pub reserved4: *mut c_void,
    /// 20.
    pub export_security_context: Option<ExportSecurityContextFn>,
    /// 21.
    pub import_security_context_a: Option<ImportSecurityContextFnA>,
    /// 22.
    pub add_credentials_a: Option<AddCredentialsFnA>,
    /// 23: `Reserved8`.
    pub reserved8: *mut c_void,
    /// 24.
    pub query_security_context_token: Option<QuerySecurityContextTokenFn>,
    /// 25.
    pub encrypt_message: Option<ProtectMessageFn>,
    /// 26.
    pub decrypt_message: Option<CheckMessageFn>,
    /// 27 (version 2).
    pub set_context_attributes_a: Option<SetContextAttributesFn>,
}

// SAFETY: the tables hold function pointers and NULL reserved slots only;
// nothing in them is mutated after construction.
unsafe impl Sync for SecurityFunctionTableW {}
// SAFETY: as above.
unsafe impl Sync for SecurityFunctionTableA {}
// SAFETY: as above.
unsafe impl Send for SecurityFunctionTableW {}
// SAFETY: as above.
unsafe impl Send for SecurityFunctionTableA {}

/// `INIT_SECURITY_INTERFACE_W`: a provider's (or libsspi's) entry point.
pub type InitSecurityInterfaceFnW = unsafe extern "system" fn() -> *mut SecurityFunctionTableW;
/// `INIT_SECURITY_INTERFACE_A`.
pub type InitSecurityInterfaceFnA = unsafe extern "system" fn() -> *mut SecurityFunctionTableA;

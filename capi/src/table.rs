//! The two function tables (version 2, the SDK's slot order) and
//! InitSecurityInterfaceW/A, which return them.

use crate::*;
use sspi_c_abi::*;
use std::cell::UnsafeCell;

/// A table in writable memory (C receives a non-const pointer), never
/// written by this library after construction.
struct Table<T>(UnsafeCell<T>);

// SAFETY: the tables hold function pointers and NULLs; this library never
// writes them, so sharing them between threads is sound.
unsafe impl<T> Sync for Table<T> {}

static TABLE_W: Table<SecurityFunctionTableW> = Table(UnsafeCell::new(SecurityFunctionTableW {
    dw_version: SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    enumerate_security_packages_w: Some(EnumerateSecurityPackagesW),
    query_credentials_attributes_w: Some(QueryCredentialsAttributesW),
    acquire_credentials_handle_w: Some(AcquireCredentialsHandleW),
    free_credentials_handle: Some(FreeCredentialsHandle),
    reserved2: std::ptr::null_mut(),
    initialize_security_context_w: Some(InitializeSecurityContextW),
    accept_security_context: Some(AcceptSecurityContext),
    complete_auth_token: Some(CompleteAuthToken),
    delete_security_context: Some(DeleteSecurityContext),
    apply_control_token: Some(ApplyControlToken),
    query_context_attributes_w: Some(QueryContextAttributesW),
    impersonate_security_context: Some(ImpersonateSecurityContext),
    revert_security_context: Some(RevertSecurityContext),
    make_signature: Some(MakeSignature),
    verify_signature: Some(VerifySignature),
    free_context_buffer: Some(FreeContextBuffer),
    query_security_package_info_w: Some(QuerySecurityPackageInfoW),
    reserved3: std::ptr::null_mut(),
    reserved4: std::ptr::null_mut(),
    export_security_context: Some(ExportSecurityContext),
    import_security_context_w: Some(ImportSecurityContextW),
    add_credentials_w: Some(AddCredentialsW),
    reserved8: std::ptr::null_mut(),
    query_security_context_token: Some(QuerySecurityContextToken),
    encrypt_message: Some(EncryptMessage),
    decrypt_message: Some(DecryptMessage),
    set_context_attributes_w: Some(SetContextAttributesW),
}));

static TABLE_A: Table<SecurityFunctionTableA> = Table(UnsafeCell::new(SecurityFunctionTableA {
    dw_version: SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    enumerate_security_packages_a: Some(EnumerateSecurityPackagesA),
    query_credentials_attributes_a: Some(QueryCredentialsAttributesA),
    acquire_credentials_handle_a: Some(AcquireCredentialsHandleA),
    free_credentials_handle: Some(FreeCredentialsHandle),
    reserved2: std::ptr::null_mut(),
    initialize_security_context_a: Some(InitializeSecurityContextA),
    accept_security_context: Some(AcceptSecurityContext),
    complete_auth_token: Some(CompleteAuthToken),
    delete_security_context: Some(DeleteSecurityContext),
    apply_control_token: Some(ApplyControlToken),
    query_context_attributes_a: Some(QueryContextAttributesA),
    impersonate_security_context: Some(ImpersonateSecurityContext),
    revert_security_context: Some(RevertSecurityContext),
    make_signature: Some(MakeSignature),
    verify_signature: Some(VerifySignature),
    free_context_buffer: Some(FreeContextBuffer),
    query_security_package_info_a: Some(QuerySecurityPackageInfoA),
    reserved3: std::ptr::null_mut(),
    reserved4: std::ptr::null_mut(),
    export_security_context: Some(ExportSecurityContext),
    import_security_context_a: Some(ImportSecurityContextA),
    add_credentials_a: Some(AddCredentialsA),
    reserved8: std::ptr::null_mut(),
    query_security_context_token: Some(QuerySecurityContextToken),
    encrypt_message: Some(EncryptMessage),
    decrypt_message: Some(DecryptMessage),
    set_context_attributes_a: Some(SetContextAttributesA),
}));

/// InitSecurityInterfaceW: the Unicode function table (version 2, every slot filled).
#[unsafe(no_mangle)]
pub extern "system" fn InitSecurityInterfaceW() -> *mut SecurityFunctionTableW {
    TABLE_W.0.get()
}

/// InitSecurityInterfaceA: the ANSI (UTF-8) function table.
#[unsafe(no_mangle)]
pub extern "system" fn InitSecurityInterfaceA() -> *mut SecurityFunctionTableA {
    TABLE_A.0.get()
}

//! capi/include/sspi.h against the Rust layouts (crate sspi-c-abi) and
//! constants (sspi-core): sizes, alignments and every field's offset, as
//! `_Static_assert`s that gcc compiles. A header that drifts from the Rust
//! side fails to compile.

mod common;

use sspi_c_abi::*;
use sspi_core::{AscReq, AscRet, IscReq, IscRet, SecurityStatus};
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};

macro_rules! layout {
    ($out:ident, $c:literal, $rust:ty { $($cf:literal => $rf:ident),* $(,)? }) => {{
        writeln!($out, "_Static_assert(sizeof({}) == {}, \"sizeof({})\");", $c, size_of::<$rust>(), $c).unwrap();
        writeln!($out, "_Static_assert(_Alignof({}) == {}, \"_Alignof({})\");", $c, align_of::<$rust>(), $c).unwrap();
        $(writeln!(
            $out,
            "_Static_assert(offsetof({}, {}) == {}, \"offsetof({}, {})\");",
            $c, $cf, offset_of!($rust, $rf), $c, $cf
        ).unwrap();)*
    }};
}

macro_rules! constants {
    ($out:ident, $($c:literal == $value:expr),* $(,)?) => {{
        $(writeln!(
            $out,
            "_Static_assert((uint32_t)({}) == {}u, \"{}\");",
            $c, ($value) as u32, $c
        ).unwrap();)*
    }};
}

fn assertions() -> String {
    let mut out = String::from("#include <sspi.h>\n#include <stddef.h>\n");
    for (c, size) in [
        ("ULONG", 4),
        ("LONG", 4),
        ("USHORT", 2),
        ("SEC_WCHAR", 2),
        ("SECURITY_STATUS", 4),
        ("ULONG_PTR", size_of::<usize>()),
        ("void *", size_of::<usize>()),
    ] {
        writeln!(
            out,
            "_Static_assert(sizeof({c}) == {size}, \"sizeof({c})\");"
        )
        .unwrap();
    }
    writeln!(
        out,
        "_Static_assert((SECURITY_STATUS)-1 < 0, \"SECURITY_STATUS is signed\");"
    )
    .unwrap();
    layout!(out, "SecHandle", SecHandle { "dwLower" => dw_lower, "dwUpper" => dw_upper });
    layout!(out, "TimeStamp", TimeStamp { "LowPart" => low_part, "HighPart" => high_part });
    layout!(out, "SecBuffer", SecBuffer {
        "cbBuffer" => cb_buffer, "BufferType" => buffer_type, "pvBuffer" => pv_buffer,
    });
    layout!(out, "SecBufferDesc", SecBufferDesc {
        "ulVersion" => ul_version, "cBuffers" => c_buffers, "pBuffers" => p_buffers,
    });
    layout!(out, "SecPkgInfoW", SecPkgInfoW {
        "fCapabilities" => f_capabilities, "wVersion" => w_version, "wRPCID" => w_rpcid,
        "cbMaxToken" => cb_max_token, "Name" => name, "Comment" => comment,
    });
    layout!(out, "SecPkgInfoA", SecPkgInfoA {
        "fCapabilities" => f_capabilities, "wVersion" => w_version, "wRPCID" => w_rpcid,
        "cbMaxToken" => cb_max_token, "Name" => name, "Comment" => comment,
    });
    layout!(out, "SEC_WINNT_AUTH_IDENTITY_W", SEC_WINNT_AUTH_IDENTITY_W {
        "User" => user, "UserLength" => user_length, "Domain" => domain,
        "DomainLength" => domain_length, "Password" => password,
        "PasswordLength" => password_length, "Flags" => flags,
    });
    layout!(out, "SEC_WINNT_AUTH_IDENTITY_A", SEC_WINNT_AUTH_IDENTITY_A {
        "User" => user, "UserLength" => user_length, "Domain" => domain,
        "DomainLength" => domain_length, "Password" => password,
        "PasswordLength" => password_length, "Flags" => flags,
    });
    layout!(out, "SEC_WINNT_AUTH_IDENTITY_EXW", SEC_WINNT_AUTH_IDENTITY_EXW {
        "Version" => version, "Length" => length, "User" => user, "UserLength" => user_length,
        "Domain" => domain, "DomainLength" => domain_length, "Password" => password,
        "PasswordLength" => password_length, "Flags" => flags, "PackageList" => package_list,
        "PackageListLength" => package_list_length,
    });
    layout!(out, "SEC_WINNT_AUTH_IDENTITY_EXA", SEC_WINNT_AUTH_IDENTITY_EXA {
        "Version" => version, "Length" => length, "User" => user, "UserLength" => user_length,
        "Domain" => domain, "DomainLength" => domain_length, "Password" => password,
        "PasswordLength" => password_length, "Flags" => flags, "PackageList" => package_list,
        "PackageListLength" => package_list_length,
    });
    layout!(out, "SecPkgContext_Sizes", SecPkgContext_Sizes {
        "cbMaxToken" => cb_max_token, "cbMaxSignature" => cb_max_signature,
        "cbBlockSize" => cb_block_size, "cbSecurityTrailer" => cb_security_trailer,
    });
    layout!(out, "SecPkgContext_NamesW", SecPkgContext_NamesW { "sUserName" => s_user_name });
    layout!(out, "SecPkgContext_NamesA", SecPkgContext_NamesA { "sUserName" => s_user_name });
    layout!(out, "SecPkgCredentials_NamesW", SecPkgContext_NamesW { "sUserName" => s_user_name });
    layout!(out, "SecPkgCredentials_NamesA", SecPkgContext_NamesA { "sUserName" => s_user_name });
    layout!(out, "SecPkgContext_Lifespan", SecPkgContext_Lifespan {
        "tsStart" => ts_start, "tsExpiry" => ts_expiry,
    });
    layout!(out, "SecPkgContext_SessionKey", SecPkgContext_SessionKey {
        "SessionKeyLength" => session_key_length, "SessionKey" => session_key,
    });
    layout!(out, "SecPkgContext_PackageInfoW", SecPkgContext_PackageInfoW { "PackageInfo" => package_info });
    layout!(out, "SecPkgContext_PackageInfoA", SecPkgContext_PackageInfoA { "PackageInfo" => package_info });
    layout!(out, "SecPkgContext_NegotiationInfoW", SecPkgContext_NegotiationInfoW {
        "PackageInfo" => package_info, "NegotiationState" => negotiation_state,
    });
    layout!(out, "SecPkgContext_NegotiationInfoA", SecPkgContext_NegotiationInfoA {
        "PackageInfo" => package_info, "NegotiationState" => negotiation_state,
    });
    layout!(out, "SecPkgContext_Flags", SecPkgContext_Flags { "Flags" => flags });
    layout!(out, "SecurityFunctionTableW", SecurityFunctionTableW {
        "dwVersion" => dw_version,
        "EnumerateSecurityPackagesW" => enumerate_security_packages_w,
        "QueryCredentialsAttributesW" => query_credentials_attributes_w,
        "AcquireCredentialsHandleW" => acquire_credentials_handle_w,
        "FreeCredentialsHandle" => free_credentials_handle,
        "Reserved2" => reserved2,
        "InitializeSecurityContextW" => initialize_security_context_w,
        "AcceptSecurityContext" => accept_security_context,
        "CompleteAuthToken" => complete_auth_token,
        "DeleteSecurityContext" => delete_security_context,
        "ApplyControlToken" => apply_control_token,
        "QueryContextAttributesW" => query_context_attributes_w,
        "ImpersonateSecurityContext" => impersonate_security_context,
        "RevertSecurityContext" => revert_security_context,
        "MakeSignature" => make_signature,
        "VerifySignature" => verify_signature,
        "FreeContextBuffer" => free_context_buffer,
        "QuerySecurityPackageInfoW" => query_security_package_info_w,
        "Reserved3" => reserved3,
        "Reserved4" => reserved4,
        "ExportSecurityContext" => export_security_context,
        "ImportSecurityContextW" => import_security_context_w,
        "AddCredentialsW" => add_credentials_w,
        "Reserved8" => reserved8,
        "QuerySecurityContextToken" => query_security_context_token,
        "EncryptMessage" => encrypt_message,
        "DecryptMessage" => decrypt_message,
        "SetContextAttributesW" => set_context_attributes_w,
    });
    layout!(out, "SecurityFunctionTableA", SecurityFunctionTableA {
        "dwVersion" => dw_version,
        "EnumerateSecurityPackagesA" => enumerate_security_packages_a,
        "QueryCredentialsAttributesA" => query_credentials_attributes_a,
        "AcquireCredentialsHandleA" => acquire_credentials_handle_a,
        "FreeCredentialsHandle" => free_credentials_handle,
        "Reserved2" => reserved2,
        "InitializeSecurityContextA" => initialize_security_context_a,
        "AcceptSecurityContext" => accept_security_context,
        "CompleteAuthToken" => complete_auth_token,
        "DeleteSecurityContext" => delete_security_context,
        "ApplyControlToken" => apply_control_token,
        "QueryContextAttributesA" => query_context_attributes_a,
        "ImpersonateSecurityContext" => impersonate_security_context,
        "RevertSecurityContext" => revert_security_context,
        "MakeSignature" => make_signature,
        "VerifySignature" => verify_signature,
        "FreeContextBuffer" => free_context_buffer,
        "QuerySecurityPackageInfoA" => query_security_package_info_a,
        "Reserved3" => reserved3,
        "Reserved4" => reserved4,
        "ExportSecurityContext" => export_security_context,
        "ImportSecurityContextA" => import_security_context_a,
        "AddCredentialsA" => add_credentials_a,
        "Reserved8" => reserved8,
        "QuerySecurityContextToken" => query_security_context_token,
        "EncryptMessage" => encrypt_message,
        "DecryptMessage" => decrypt_message,
        "SetContextAttributesA" => set_context_attributes_a,
    });
    constants!(
        out,
        "SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2"
            == SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
        "SECBUFFER_VERSION" == SECBUFFER_VERSION,
        "SECBUFFER_TOKEN" == sspi_core::SecBufferType::TOKEN.0,
        "SECBUFFER_DATA" == sspi_core::SecBufferType::DATA.0,
        "SECBUFFER_PADDING" == sspi_core::SecBufferType::PADDING.0,
        "SECBUFFER_STREAM" == sspi_core::SecBufferType::STREAM.0,
        "SECBUFFER_CHANNEL_BINDINGS" == sspi_core::SecBufferType::CHANNEL_BINDINGS.0,
        "SECBUFFER_READONLY" == sspi_core::SecBufferType::READONLY,
        "SECBUFFER_ATTRMASK" == SECBUFFER_ATTRMASK,
        "SECPKG_CRED_INBOUND" == SECPKG_CRED_INBOUND,
        "SECPKG_CRED_OUTBOUND" == SECPKG_CRED_OUTBOUND,
        "SECPKG_CRED_BOTH" == SECPKG_CRED_BOTH,
        "SECPKG_CRED_ATTR_NAMES" == SECPKG_CRED_ATTR_NAMES,
        "SECPKG_ATTR_SIZES" == SECPKG_ATTR_SIZES,
        "SECPKG_ATTR_NAMES" == SECPKG_ATTR_NAMES,
        "SECPKG_ATTR_LIFESPAN" == SECPKG_ATTR_LIFESPAN,
        "SECPKG_ATTR_SESSION_KEY" == SECPKG_ATTR_SESSION_KEY,
        "SECPKG_ATTR_PACKAGE_INFO" == SECPKG_ATTR_PACKAGE_INFO,
        "SECPKG_ATTR_NEGOTIATION_INFO" == SECPKG_ATTR_NEGOTIATION_INFO,
        "SECPKG_ATTR_FLAGS" == SECPKG_ATTR_FLAGS,
        "SEC_WINNT_AUTH_IDENTITY_ANSI" == SEC_WINNT_AUTH_IDENTITY_ANSI,
        "SEC_WINNT_AUTH_IDENTITY_UNICODE" == SEC_WINNT_AUTH_IDENTITY_UNICODE,
        "SEC_WINNT_AUTH_IDENTITY_VERSION" == SEC_WINNT_AUTH_IDENTITY_VERSION,
        "SECPKG_CONTEXT_EXPORT_RESET_NEW" == SECPKG_CONTEXT_EXPORT_RESET_NEW,
        "SECPKG_CONTEXT_EXPORT_DELETE_OLD" == SECPKG_CONTEXT_EXPORT_DELETE_OLD,
        "SECURITY_NATIVE_DREP" == SECURITY_NATIVE_DREP,
        "SECQOP_WRAP_NO_ENCRYPT" == sspi_core::Qop::WRAP_NO_ENCRYPT.0,
        "SEC_E_OK" == SecurityStatus::SEC_E_OK.0,
        "SEC_I_CONTINUE_NEEDED" == SecurityStatus::SEC_I_CONTINUE_NEEDED.0,
        "SEC_I_COMPLETE_NEEDED" == SecurityStatus::SEC_I_COMPLETE_NEEDED.0,
        "SEC_I_COMPLETE_AND_CONTINUE" == SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE.0,
        "SEC_E_INVALID_HANDLE" == SecurityStatus::SEC_E_INVALID_HANDLE.0,
        "SEC_E_UNSUPPORTED_FUNCTION" == SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.0,
        "SEC_E_INTERNAL_ERROR" == SecurityStatus::SEC_E_INTERNAL_ERROR.0,
        "SEC_E_SECPKG_NOT_FOUND" == SecurityStatus::SEC_E_SECPKG_NOT_FOUND.0,
        "SEC_E_INVALID_TOKEN" == SecurityStatus::SEC_E_INVALID_TOKEN.0,
        "SEC_E_LOGON_DENIED" == SecurityStatus::SEC_E_LOGON_DENIED.0,
        "SEC_E_UNKNOWN_CREDENTIALS" == SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS.0,
        "SEC_E_MESSAGE_ALTERED" == SecurityStatus::SEC_E_MESSAGE_ALTERED.0,
        "SEC_E_OUT_OF_SEQUENCE" == SecurityStatus::SEC_E_OUT_OF_SEQUENCE.0,
        "SEC_E_BUFFER_TOO_SMALL" == SecurityStatus::SEC_E_BUFFER_TOO_SMALL.0,
        "SEC_E_INVALID_PARAMETER" == SecurityStatus::SEC_E_INVALID_PARAMETER.0,
        "SEC_E_INSUFFICIENT_MEMORY" == SecurityStatus::SEC_E_INSUFFICIENT_MEMORY.0,
        "SEC_E_CONTEXT_EXPIRED" == SecurityStatus::SEC_E_CONTEXT_EXPIRED.0,
        "SEC_E_QOP_NOT_SUPPORTED" == SecurityStatus::SEC_E_QOP_NOT_SUPPORTED.0,
        "SEC_E_WRONG_CREDENTIAL_HANDLE" == SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE.0,
        "SEC_E_BAD_BINDINGS" == SecurityStatus::SEC_E_BAD_BINDINGS.0,
        "SEC_E_MUTUAL_AUTH_FAILED" == SecurityStatus::SEC_E_MUTUAL_AUTH_FAILED.0,
        "ISC_REQ_DELEGATE" == IscReq::DELEGATE.0,
        "ISC_REQ_MUTUAL_AUTH" == IscReq::MUTUAL_AUTH.0,
        "ISC_REQ_REPLAY_DETECT" == IscReq::REPLAY_DETECT.0,
        "ISC_REQ_SEQUENCE_DETECT" == IscReq::SEQUENCE_DETECT.0,
        "ISC_REQ_CONFIDENTIALITY" == IscReq::CONFIDENTIALITY.0,
        "ISC_REQ_ALLOCATE_MEMORY" == IscReq::ALLOCATE_MEMORY.0,
        "ISC_REQ_CONNECTION" == IscReq::CONNECTION.0,
        "ISC_REQ_INTEGRITY" == IscReq::INTEGRITY.0,
        "ISC_REQ_STREAM" == IscReq::STREAM.0,
        "ISC_RET_ALLOCATED_MEMORY" == IscRet::ALLOCATED_MEMORY.0,
        "ISC_RET_MUTUAL_AUTH" == IscRet::MUTUAL_AUTH.0,
        "ISC_RET_CONFIDENTIALITY" == IscRet::CONFIDENTIALITY.0,
        "ISC_RET_INTEGRITY" == IscRet::INTEGRITY.0,
        "ISC_RET_DELEGATE" == IscRet::DELEGATE.0,
        "ASC_REQ_MUTUAL_AUTH" == AscReq::MUTUAL_AUTH.0,
        "ASC_REQ_ALLOCATE_MEMORY" == AscReq::ALLOCATE_MEMORY.0,
        "ASC_REQ_CONNECTION" == AscReq::CONNECTION.0,
        "ASC_REQ_INTEGRITY" == AscReq::INTEGRITY.0,
        "ASC_REQ_STREAM" == AscReq::STREAM.0,
        "ASC_RET_ALLOCATED_MEMORY" == AscRet::ALLOCATED_MEMORY.0,
        "ASC_RET_INTEGRITY" == AscRet::INTEGRITY.0,
        "ASC_RET_DELEGATE" == AscRet::DELEGATE.0,
    );
    out
}

fn compiles(gcc: &std::path::Path, source: &str, dir: &std::path::Path) -> Result<(), String> {
    let file = dir.join("layout.c");
    std::fs::write(&file, source).unwrap();
    let output = std::process::Command::new(gcc)
        .args(["-std=c11", "-Wall", "-Werror", "-fsyntax-only", "-I"])
        .arg(common::root().join("capi/include"))
        .arg(&file)
        .output()
        .expect("gcc runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn the_header_matches_the_rust_layouts_and_constants() {
    let Some(gcc) = common::require("gcc", "the_header_matches_the_rust_layouts_and_constants")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = assertions();
    assert!(source.matches("_Static_assert").count() > 250, "{source}");
    if let Err(e) = compiles(&gcc, &source, dir.path()) {
        panic!("sspi.h differs from the Rust layouts:\n{e}");
    }
    // The check can fail: one wrong offset is caught, naming the field.
    let wrong = source.replace(
        &format!(
            "offsetof(SecBuffer, pvBuffer) == {}",
            offset_of!(SecBuffer, pv_buffer)
        ),
        "offsetof(SecBuffer, pvBuffer) == 4",
    );
    assert_ne!(wrong, source);
    let error = compiles(&gcc, &wrong, dir.path()).unwrap_err();
    assert!(error.contains("offsetof(SecBuffer, pvBuffer)"), "{error}");
}

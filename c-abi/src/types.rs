//! The data structures of `sspi.h`, `#[repr(C)]` with Windows' member sizes.

use std::ffi::c_void;

/// `ULONG`: 32 bits on every Windows ABI (LLP64).
pub type ULONG = u32;
/// `LONG`.
pub type LONG = i32;
/// `USHORT`.
pub type USHORT = u16;
/// `ULONG_PTR`: pointer-sized.
pub type ULONG_PTR = usize;
/// `SECURITY_STATUS`: an HRESULT-style 32-bit code.
pub type SECURITY_STATUS = i32;
/// `SEC_WCHAR`: a UTF-16 code unit (`WCHAR`).
pub type SEC_WCHAR = u16;
/// `SEC_CHAR`: a byte of an ANSI (here UTF-8) string.
pub type SEC_CHAR = u8;

/// `SecHandle` (`CredHandle`, `CtxtHandle`): two pointer-sized words.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecHandle {
    /// `dwLower`.
    pub dw_lower: ULONG_PTR,
    /// `dwUpper`.
    pub dw_upper: ULONG_PTR,
}

impl SecHandle {
    /// `SecInvalidateHandle`: both words `(ULONG_PTR)-1`.
    pub const INVALID: SecHandle = SecHandle {
        dw_lower: usize::MAX,
        dw_upper: usize::MAX,
    };
}

/// `CredHandle`.
pub type CredHandle = SecHandle;
/// `CtxtHandle`.
pub type CtxtHandle = SecHandle;

/// `TimeStamp` (`SECURITY_INTEGER`): `{ ULONG LowPart; LONG HighPart; }`,
/// 100-ns ticks since 1601-01-01; 4-byte aligned, as in the SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeStamp {
    /// `LowPart`.
    pub low_part: ULONG,
    /// `HighPart`.
    pub high_part: LONG,
}

impl TimeStamp {
    /// The 64-bit value.
    pub fn to_i64(self) -> i64 {
        (i64::from(self.high_part) << 32) | i64::from(self.low_part)
    }

    /// From a 64-bit value.
    pub fn from_i64(value: i64) -> TimeStamp {
        TimeStamp {
            low_part: value as u32,
            high_part: (value >> 32) as i32,
        }
    }
}

/// `SecBuffer`: `{ ULONG cbBuffer; ULONG BufferType; PVOID pvBuffer; }`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecBuffer {
    /// `cbBuffer`: the length of `pvBuffer` in bytes.
    pub cb_buffer: ULONG,
    /// `BufferType`: `SECBUFFER_*` and attribute flags.
    pub buffer_type: ULONG,
    /// `pvBuffer`.
    pub pv_buffer: *mut c_void,
}

/// `SecBufferDesc`: `{ ULONG ulVersion; ULONG cBuffers; PSecBuffer pBuffers; }`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecBufferDesc {
    /// `ulVersion`: must be `SECBUFFER_VERSION` (0).
    pub ul_version: ULONG,
    /// `cBuffers`.
    pub c_buffers: ULONG,
    /// `pBuffers`.
    pub p_buffers: *mut SecBuffer,
}

/// `SecPkgInfoW`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgInfoW {
    /// `fCapabilities`.
    pub f_capabilities: ULONG,
    /// `wVersion`.
    pub w_version: USHORT,
    /// `wRPCID`.
    pub w_rpcid: USHORT,
    /// `cbMaxToken`.
    pub cb_max_token: ULONG,
    /// `Name`.
    pub name: *mut SEC_WCHAR,
    /// `Comment`.
    pub comment: *mut SEC_WCHAR,
}

/// `SecPkgInfoA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgInfoA {
    /// `fCapabilities`.
    pub f_capabilities: ULONG,
    /// `wVersion`.
    pub w_version: USHORT,
    /// `wRPCID`.
    pub w_rpcid: USHORT,
    /// `cbMaxToken`.
    pub cb_max_token: ULONG,
    /// `Name`.
    pub name: *mut SEC_CHAR,
    /// `Comment`.
    pub comment: *mut SEC_CHAR,
}

/// `SEC_WINNT_AUTH_IDENTITY_W`: lengths in characters, without the NUL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_WINNT_AUTH_IDENTITY_W {
    /// `User`.
    pub user: *mut USHORT,
    /// `UserLength`.
    pub user_length: ULONG,
    /// `Domain`.
    pub domain: *mut USHORT,
    /// `DomainLength`.
    pub domain_length: ULONG,
    /// `Password`.
    pub password: *mut USHORT,
    /// `PasswordLength`.
    pub password_length: ULONG,
    /// `Flags`: `SEC_WINNT_AUTH_IDENTITY_UNICODE` (2) or `_ANSI` (1).
    pub flags: ULONG,
}

/// `SEC_WINNT_AUTH_IDENTITY_A`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_WINNT_AUTH_IDENTITY_A {
    /// `User`.
    pub user: *mut u8,
    /// `UserLength`.
    pub user_length: ULONG,
    /// `Domain`.
    pub domain: *mut u8,
    /// `DomainLength`.
    pub domain_length: ULONG,
    /// `Password`.
    pub password: *mut u8,
    /// `PasswordLength`.
    pub password_length: ULONG,
    /// `Flags`.
    pub flags: ULONG,
}

/// `SEC_WINNT_AUTH_IDENTITY_EXW` (`Version` = `SEC_WINNT_AUTH_IDENTITY_VERSION`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_WINNT_AUTH_IDENTITY_EXW {
    /// `Version`: 0x200.
    pub version: ULONG,
    /// `Length`: the structure's size.
    pub length: ULONG,
    /// `User`.
    pub user: *mut USHORT,
    /// `UserLength`.
    pub user_length: ULONG,
    /// `Domain`.
    pub domain: *mut USHORT,
    /// `DomainLength`.
    pub domain_length: ULONG,
    /// `Password`.
    pub password: *mut USHORT,
    /// `PasswordLength`.
    pub password_length: ULONG,
    /// `Flags`.
    pub flags: ULONG,
    /// `PackageList`: for Negotiate, e.g. `!ntlm`.
    pub package_list: *mut USHORT,
    /// `PackageListLength`.
    pub package_list_length: ULONG,
}

/// `SEC_WINNT_AUTH_IDENTITY_EXA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_WINNT_AUTH_IDENTITY_EXA {
    /// `Version`.
    pub version: ULONG,
    /// `Length`.
    pub length: ULONG,
    /// `User`.
    pub user: *mut u8,
    /// `UserLength`.
    pub user_length: ULONG,
    /// `Domain`.
    pub domain: *mut u8,
    /// `DomainLength`.
    pub domain_length: ULONG,
    /// `Password`.
    pub password: *mut u8,
    /// `PasswordLength`.
    pub password_length: ULONG,
    /// `Flags`.
    pub flags: ULONG,
    /// `PackageList`.
    pub package_list: *mut u8,
    /// `PackageListLength`.
    pub package_list_length: ULONG,
}

/// `SecPkgContext_Sizes`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecPkgContext_Sizes {
    /// `cbMaxToken`.
    pub cb_max_token: ULONG,
    /// `cbMaxSignature`.
    pub cb_max_signature: ULONG,
    /// `cbBlockSize`.
    pub cb_block_size: ULONG,
    /// `cbSecurityTrailer`.
    pub cb_security_trailer: ULONG,
}

/// `SecPkgContext_NamesW` (and `SecPkgCredentials_NamesW`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_NamesW {
    /// `sUserName`, freed with FreeContextBuffer.
    pub s_user_name: *mut SEC_WCHAR,
}

/// `SecPkgContext_NamesA` (and `SecPkgCredentials_NamesA`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_NamesA {
    /// `sUserName`, freed with FreeContextBuffer.
    pub s_user_name: *mut SEC_CHAR,
}

/// `SecPkgContext_Lifespan`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SecPkgContext_Lifespan {
    /// `tsStart`.
    pub ts_start: TimeStamp,
    /// `tsExpiry`.
    pub ts_expiry: TimeStamp,
}

/// `SecPkgContext_SessionKey`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_SessionKey {
    /// `SessionKeyLength`.
    pub session_key_length: ULONG,
    /// `SessionKey`, freed with FreeContextBuffer.
    pub session_key: *mut u8,
}

/// `SecPkgContext_PackageInfoW`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_PackageInfoW {
    /// `PackageInfo`, freed with FreeContextBuffer.
    pub package_info: *mut SecPkgInfoW,
}

/// `SecPkgContext_PackageInfoA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_PackageInfoA {
    /// `PackageInfo`, freed with FreeContextBuffer.
    pub package_info: *mut SecPkgInfoA,
}

/// `SecPkgContext_NegotiationInfoW`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_NegotiationInfoW {
    /// `PackageInfo`, freed with FreeContextBuffer.
    pub package_info: *mut SecPkgInfoW,
    /// `NegotiationState`: `SECPKG_NEGOTIATION_*`.
    pub negotiation_state: ULONG,
}

/// `SecPkgContext_NegotiationInfoA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_NegotiationInfoA {
    /// `PackageInfo`, freed with FreeContextBuffer.
    pub package_info: *mut SecPkgInfoA,
    /// `NegotiationState`.
    pub negotiation_state: ULONG,
}

/// `SecPkgContext_Flags`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SecPkgContext_Flags {
    /// `Flags`: the context's ISC_RET / ASC_RET bits.
    pub flags: ULONG,
}

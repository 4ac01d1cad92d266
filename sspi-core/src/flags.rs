//! SSPI bit flags: ISC_REQ/ISC_RET, ASC_REQ/ASC_RET, SECPKG_CRED_* and SECPKG_FLAG_*.

use abi_stable::StableAbi;

macro_rules! sspi_flags {
    (
        $(#[$tdoc:meta])* $ty:ident {
            $($(#[$doc:meta])* $name:ident = $value:literal;)*
        }
    ) => {
        $(#[$tdoc])*
        #[repr(transparent)]
        #[derive(StableAbi, Copy, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $ty(pub u32);

        impl $ty {
            $($(#[$doc])* pub const $name: $ty = $ty($value);)*
            /// No flag set.
            pub const NONE: $ty = $ty(0);

            /// True when every bit of `other` is set in `self`.
            pub const fn contains(self, other: $ty) -> bool {
                self.0 & other.0 == other.0
            }

            /// The bits set in both.
            pub const fn intersection(self, other: $ty) -> $ty {
                $ty(self.0 & other.0)
            }

            /// The bits of `self` that are not in `other`.
            pub const fn difference(self, other: $ty) -> $ty {
                $ty(self.0 & !other.0)
            }

            /// The SSPI names of the bits that are set, in bit order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                const ALL: &[(&str, u32)] = &[$((stringify!($name), $value)),*];
                ALL.iter()
                    .filter(move |(_, bit)| *bit != 0 && self.0 & bit == *bit)
                    .map(|(name, _)| *name)
            }
        }

        impl core::ops::BitOr for $ty {
            type Output = $ty;
            fn bitor(self, rhs: $ty) -> $ty {
                $ty(self.0 | rhs.0)
            }
        }

        impl core::ops::BitOrAssign for $ty {
            fn bitor_assign(&mut self, rhs: $ty) {
                self.0 |= rhs.0;
            }
        }

        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}(0x{:08X}", stringify!($ty), self.0)?;
                let mut sep = ": ";
                for name in self.names() {
                    write!(f, "{sep}{name}")?;
                    sep = " | ";
                }
                f.write_str(")")
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut sep = "";
                for name in self.names() {
                    write!(f, "{sep}{name}")?;
                    sep = " | ";
                }
                if sep.is_empty() {
                    f.write_str("(none)")?;
                }
                Ok(())
            }
        }
    };
}

sspi_flags! {
    /// `ISC_REQ_*`: what a client asks of InitializeSecurityContext.
    IscReq {
        /// ISC_REQ_DELEGATE
        DELEGATE = 0x0000_0001;
        /// ISC_REQ_MUTUAL_AUTH
        MUTUAL_AUTH = 0x0000_0002;
        /// ISC_REQ_REPLAY_DETECT
        REPLAY_DETECT = 0x0000_0004;
        /// ISC_REQ_SEQUENCE_DETECT
        SEQUENCE_DETECT = 0x0000_0008;
        /// ISC_REQ_CONFIDENTIALITY
        CONFIDENTIALITY = 0x0000_0010;
        /// ISC_REQ_USE_SESSION_KEY
        USE_SESSION_KEY = 0x0000_0020;
        /// ISC_REQ_PROMPT_FOR_CREDS
        PROMPT_FOR_CREDS = 0x0000_0040;
        /// ISC_REQ_USE_SUPPLIED_CREDS
        USE_SUPPLIED_CREDS = 0x0000_0080;
        /// ISC_REQ_ALLOCATE_MEMORY
        ALLOCATE_MEMORY = 0x0000_0100;
        /// ISC_REQ_USE_DCE_STYLE
        USE_DCE_STYLE = 0x0000_0200;
        /// ISC_REQ_DATAGRAM
        DATAGRAM = 0x0000_0400;
        /// ISC_REQ_CONNECTION
        CONNECTION = 0x0000_0800;
        /// ISC_REQ_CALL_LEVEL
        CALL_LEVEL = 0x0000_1000;
        /// ISC_REQ_FRAGMENT_SUPPLIED
        FRAGMENT_SUPPLIED = 0x0000_2000;
        /// ISC_REQ_EXTENDED_ERROR
        EXTENDED_ERROR = 0x0000_4000;
        /// ISC_REQ_STREAM
        STREAM = 0x0000_8000;
        /// ISC_REQ_INTEGRITY
        INTEGRITY = 0x0001_0000;
        /// ISC_REQ_IDENTIFY
        IDENTIFY = 0x0002_0000;
        /// ISC_REQ_NULL_SESSION
        NULL_SESSION = 0x0004_0000;
        /// ISC_REQ_MANUAL_CRED_VALIDATION
        MANUAL_CRED_VALIDATION = 0x0008_0000;
        /// ISC_REQ_FRAGMENT_TO_FIT
        FRAGMENT_TO_FIT = 0x0020_0000;
    }
}

sspi_flags! {
    /// `ISC_RET_*`: what InitializeSecurityContext established.
    IscRet {
        /// ISC_RET_DELEGATE
        DELEGATE = 0x0000_0001;
        /// ISC_RET_MUTUAL_AUTH
        MUTUAL_AUTH = 0x0000_0002;
        /// ISC_RET_REPLAY_DETECT
        REPLAY_DETECT = 0x0000_0004;
        /// ISC_RET_SEQUENCE_DETECT
        SEQUENCE_DETECT = 0x0000_0008;
        /// ISC_RET_CONFIDENTIALITY
        CONFIDENTIALITY = 0x0000_0010;
        /// ISC_RET_USE_SESSION_KEY
        USE_SESSION_KEY = 0x0000_0020;
        /// ISC_RET_USED_COLLECTED_CREDS
        USED_COLLECTED_CREDS = 0x0000_0040;
        /// ISC_RET_USED_SUPPLIED_CREDS
        USED_SUPPLIED_CREDS = 0x0000_0080;
        /// ISC_RET_ALLOCATED_MEMORY
        ALLOCATED_MEMORY = 0x0000_0100;
        /// ISC_RET_USED_DCE_STYLE
        USED_DCE_STYLE = 0x0000_0200;
        /// ISC_RET_DATAGRAM
        DATAGRAM = 0x0000_0400;
        /// ISC_RET_CONNECTION
        CONNECTION = 0x0000_0800;
        /// ISC_RET_INTERMEDIATE_RETURN
        INTERMEDIATE_RETURN = 0x0000_1000;
        /// ISC_RET_CALL_LEVEL
        CALL_LEVEL = 0x0000_2000;
        /// ISC_RET_EXTENDED_ERROR
        EXTENDED_ERROR = 0x0000_4000;
        /// ISC_RET_STREAM
        STREAM = 0x0000_8000;
        /// ISC_RET_INTEGRITY
        INTEGRITY = 0x0001_0000;
        /// ISC_RET_IDENTIFY
        IDENTIFY = 0x0002_0000;
        /// ISC_RET_NULL_SESSION
        NULL_SESSION = 0x0004_0000;
        /// ISC_RET_MANUAL_CRED_VALIDATION
        MANUAL_CRED_VALIDATION = 0x0008_0000;
        /// ISC_RET_FRAGMENT_ONLY
        FRAGMENT_ONLY = 0x0020_0000;
    }
}

sspi_flags! {
    /// `ASC_REQ_*`: what a server asks of AcceptSecurityContext.
    AscReq {
        /// ASC_REQ_DELEGATE
        DELEGATE = 0x0000_0001;
        /// ASC_REQ_MUTUAL_AUTH
        MUTUAL_AUTH = 0x0000_0002;
        /// ASC_REQ_REPLAY_DETECT
        REPLAY_DETECT = 0x0000_0004;
        /// ASC_REQ_SEQUENCE_DETECT
        SEQUENCE_DETECT = 0x0000_0008;
        /// ASC_REQ_CONFIDENTIALITY
        CONFIDENTIALITY = 0x0000_0010;
        /// ASC_REQ_USE_SESSION_KEY
        USE_SESSION_KEY = 0x0000_0020;
        /// ASC_REQ_ALLOCATE_MEMORY
        ALLOCATE_MEMORY = 0x0000_0100;
        /// ASC_REQ_USE_DCE_STYLE
        USE_DCE_STYLE = 0x0000_0200;
        /// ASC_REQ_DATAGRAM
        DATAGRAM = 0x0000_0400;
        /// ASC_REQ_CONNECTION
        CONNECTION = 0x0000_0800;
        /// ASC_REQ_CALL_LEVEL
        CALL_LEVEL = 0x0000_1000;
        /// ASC_REQ_FRAGMENT_SUPPLIED
        FRAGMENT_SUPPLIED = 0x0000_2000;
        /// ASC_REQ_EXTENDED_ERROR
        EXTENDED_ERROR = 0x0000_8000;
        /// ASC_REQ_STREAM
        STREAM = 0x0001_0000;
        /// ASC_REQ_INTEGRITY
        INTEGRITY = 0x0002_0000;
        /// ASC_REQ_LICENSING
        LICENSING = 0x0004_0000;
        /// ASC_REQ_IDENTIFY
        IDENTIFY = 0x0008_0000;
        /// ASC_REQ_ALLOW_NULL_SESSION
        ALLOW_NULL_SESSION = 0x0010_0000;
        /// ASC_REQ_ALLOW_NON_USER_LOGONS
        ALLOW_NON_USER_LOGONS = 0x0020_0000;
        /// ASC_REQ_ALLOW_CONTEXT_REPLAY
        ALLOW_CONTEXT_REPLAY = 0x0040_0000;
        /// ASC_REQ_FRAGMENT_TO_FIT
        FRAGMENT_TO_FIT = 0x0080_0000;
        /// ASC_REQ_FRAGMENT_NO_TOKEN
        FRAGMENT_NO_TOKEN = 0x0100_0000;
    }
}

sspi_flags! {
    /// `ASC_RET_*`: what AcceptSecurityContext established.
    AscRet {
        /// ASC_RET_DELEGATE
        DELEGATE = 0x0000_0001;
        /// ASC_RET_MUTUAL_AUTH
        MUTUAL_AUTH = 0x0000_0002;
        /// ASC_RET_REPLAY_DETECT
        REPLAY_DETECT = 0x0000_0004;
        /// ASC_RET_SEQUENCE_DETECT
        SEQUENCE_DETECT = 0x0000_0008;
        /// ASC_RET_CONFIDENTIALITY
        CONFIDENTIALITY = 0x0000_0010;
        /// ASC_RET_USE_SESSION_KEY
        USE_SESSION_KEY = 0x0000_0020;
        /// ASC_RET_ALLOCATED_MEMORY
        ALLOCATED_MEMORY = 0x0000_0100;
        /// ASC_RET_USED_DCE_STYLE
        USED_DCE_STYLE = 0x0000_0200;
        /// ASC_RET_DATAGRAM
        DATAGRAM = 0x0000_0400;
        /// ASC_RET_CONNECTION
        CONNECTION = 0x0000_0800;
        /// ASC_RET_CALL_LEVEL
        CALL_LEVEL = 0x0000_2000;
        /// ASC_RET_THIRD_LEG_FAILED
        THIRD_LEG_FAILED = 0x0000_4000;
        /// ASC_RET_EXTENDED_ERROR
        EXTENDED_ERROR = 0x0000_8000;
        /// ASC_RET_STREAM
        STREAM = 0x0001_0000;
        /// ASC_RET_INTEGRITY
        INTEGRITY = 0x0002_0000;
        /// ASC_RET_LICENSING
        LICENSING = 0x0004_0000;
        /// ASC_RET_IDENTIFY
        IDENTIFY = 0x0008_0000;
        /// ASC_RET_NULL_SESSION
        NULL_SESSION = 0x0010_0000;
        /// ASC_RET_ALLOW_NON_USER_LOGONS
        ALLOW_NON_USER_LOGONS = 0x0020_0000;
        /// ASC_RET_ALLOW_CONTEXT_REPLAY
        ALLOW_CONTEXT_REPLAY = 0x0040_0000;
        /// ASC_RET_FRAGMENT_ONLY
        FRAGMENT_ONLY = 0x0080_0000;
        /// ASC_RET_NO_TOKEN
        NO_TOKEN = 0x0100_0000;
    }
}

sspi_flags! {
    /// `SECPKG_CRED_*`: the direction a credential is acquired for.
    CredentialUse {
        /// SECPKG_CRED_INBOUND: server side, for AcceptSecurityContext.
        INBOUND = 0x0000_0001;
        /// SECPKG_CRED_OUTBOUND: client side, for InitializeSecurityContext.
        OUTBOUND = 0x0000_0002;
        /// SECPKG_CRED_BOTH
        BOTH = 0x0000_0003;
        /// SECPKG_CRED_DEFAULT
        DEFAULT = 0x0000_0004;
    }
}

sspi_flags! {
    /// `SECPKG_FLAG_*`: a package's capabilities (`fCapabilities`).
    PackageCapabilities {
        /// SECPKG_FLAG_INTEGRITY: MakeSignature/VerifySignature.
        INTEGRITY = 0x0000_0001;
        /// SECPKG_FLAG_PRIVACY: EncryptMessage/DecryptMessage.
        PRIVACY = 0x0000_0002;
        /// SECPKG_FLAG_TOKEN_ONLY
        TOKEN_ONLY = 0x0000_0004;
        /// SECPKG_FLAG_DATAGRAM
        DATAGRAM = 0x0000_0008;
        /// SECPKG_FLAG_CONNECTION
        CONNECTION = 0x0000_0010;
        /// SECPKG_FLAG_MULTI_REQUIRED: several legs are required.
        MULTI_REQUIRED = 0x0000_0020;
        /// SECPKG_FLAG_CLIENT_ONLY: no server side.
        CLIENT_ONLY = 0x0000_0040;
        /// SECPKG_FLAG_EXTENDED_ERROR
        EXTENDED_ERROR = 0x0000_0080;
        /// SECPKG_FLAG_IMPERSONATION
        IMPERSONATION = 0x0000_0100;
        /// SECPKG_FLAG_ACCEPT_WIN32_NAME
        ACCEPT_WIN32_NAME = 0x0000_0200;
        /// SECPKG_FLAG_STREAM
        STREAM = 0x0000_0400;
        /// SECPKG_FLAG_NEGOTIABLE
        NEGOTIABLE = 0x0000_0800;
        /// SECPKG_FLAG_GSS_COMPATIBLE
        GSS_COMPATIBLE = 0x0000_1000;
        /// SECPKG_FLAG_LOGON
        LOGON = 0x0000_2000;
        /// SECPKG_FLAG_ASCII_BUFFERS
        ASCII_BUFFERS = 0x0000_4000;
        /// SECPKG_FLAG_FRAGMENT
        FRAGMENT = 0x0000_8000;
        /// SECPKG_FLAG_MUTUAL_AUTH
        MUTUAL_AUTH = 0x0001_0000;
        /// SECPKG_FLAG_DELEGATION
        DELEGATION = 0x0002_0000;
        /// SECPKG_FLAG_READONLY_WITH_CHECKSUM
        READONLY_WITH_CHECKSUM = 0x0004_0000;
        /// SECPKG_FLAG_RESTRICTED_TOKENS
        RESTRICTED_TOKENS = 0x0008_0000;
    }
}

impl IscReq {
    /// What a connection-oriented client typically asks for: mutual
    /// authentication, replay and sequence detection, integrity and
    /// confidentiality over a connection.
    pub const PROTECTED_CONNECTION: IscReq = IscReq(
        Self::MUTUAL_AUTH.0
            | Self::REPLAY_DETECT.0
            | Self::SEQUENCE_DETECT.0
            | Self::CONFIDENTIALITY.0
            | Self::INTEGRITY.0
            | Self::CONNECTION.0,
    );
}

impl AscReq {
    /// The server's side of [`IscReq::PROTECTED_CONNECTION`].
    pub const PROTECTED_CONNECTION: AscReq = AscReq(
        Self::MUTUAL_AUTH.0
            | Self::REPLAY_DETECT.0
            | Self::SEQUENCE_DETECT.0
            | Self::CONFIDENTIALITY.0
            | Self::INTEGRITY.0
            | Self::CONNECTION.0,
    );
}

impl AscRet {
    /// The ASC_RET bits that mean the same as `isc`'s ISC_RET bits. The low
    /// bits coincide; EXTENDED_ERROR, STREAM and INTEGRITY sit higher in ASC.
    pub const fn from_isc_ret(isc: IscRet) -> AscRet {
        const SHARED: u32 =
            0x0000_0FFF & !(IscRet::USED_COLLECTED_CREDS.0 | IscRet::USED_SUPPLIED_CREDS.0);
        let mut bits = isc.0 & SHARED;
        if isc.0 & IscRet::EXTENDED_ERROR.0 != 0 {
            bits |= AscRet::EXTENDED_ERROR.0;
        }
        if isc.0 & IscRet::STREAM.0 != 0 {
            bits |= AscRet::STREAM.0;
        }
        if isc.0 & IscRet::INTEGRITY.0 != 0 {
            bits |= AscRet::INTEGRITY.0;
        }
        AscRet(bits)
    }
}

impl IscRet {
    /// The ISC_RET bits that mean the same as `asc`'s ASC_RET bits (the
    /// inverse of [`AscRet::from_isc_ret`]).
    pub const fn from_asc_ret(asc: AscRet) -> IscRet {
        const SHARED: u32 =
            0x0000_0FFF & !(IscRet::USED_COLLECTED_CREDS.0 | IscRet::USED_SUPPLIED_CREDS.0);
        let mut bits = asc.0 & SHARED;
        if asc.0 & AscRet::EXTENDED_ERROR.0 != 0 {
            bits |= IscRet::EXTENDED_ERROR.0;
        }
        if asc.0 & AscRet::STREAM.0 != 0 {
            bits |= IscRet::STREAM.0;
        }
        if asc.0 & AscRet::INTEGRITY.0 != 0 {
            bits |= IscRet::INTEGRITY.0;
        }
        IscRet(bits)
    }
}

impl ContextFlags {
    /// The flags as ISC_RET bits, whichever side they belong to.
    pub const fn as_isc_ret(self) -> IscRet {
        match self {
            Self::Client(isc) => isc,
            Self::Server(asc) => IscRet::from_asc_ret(asc),
        }
    }
}

/// SECPKG_ATTR_FLAGS: the attributes of a context, typed by its side.
#[repr(u8)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContextFlags {
    /// A client context's ISC_RET bits.
    Client(IscRet),
    /// A server context's ASC_RET bits.
    Server(AscRet),
}

impl ContextFlags {
    /// The raw bits, as `SecPkgContext_Flags.Flags` carries them.
    pub const fn bits(self) -> u32 {
        match self {
            Self::Client(isc) => isc.0,
            Self::Server(asc) => asc.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine_and_print() {
        let req = IscReq::MUTUAL_AUTH | IscReq::CONFIDENTIALITY;
        assert_eq!(req.0, 0x12);
        assert!(req.contains(IscReq::MUTUAL_AUTH));
        assert!(!req.contains(IscReq::INTEGRITY));
        assert_eq!(req.to_string(), "MUTUAL_AUTH | CONFIDENTIALITY");
        assert_eq!(AscReq::INTEGRITY.0, 0x0002_0000);
        let isc = IscRet::MUTUAL_AUTH | IscRet::INTEGRITY | IscRet::CONFIDENTIALITY;
        assert_eq!(IscRet::from_asc_ret(AscRet::from_isc_ret(isc)), isc);
        assert_eq!(
            CredentialUse::BOTH.names().collect::<Vec<_>>(),
            ["INBOUND", "OUTBOUND", "BOTH"]
        );
    }
}

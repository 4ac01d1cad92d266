//! Credentials an application supplies (`SEC_WINNT_AUTH_IDENTITY`) and secret bytes.

use abi_stable::{
    StableAbi,
    std_types::{ROption, RString, RVec},
};
use std::fmt;
use zeroize::Zeroize;

/// Secret bytes (a password, a key) that are wiped when dropped and never printed.
#[repr(transparent)]
#[derive(StableAbi, Clone, Default)]
pub struct SecretBytes(RVec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(RVec::from(bytes))
    }

    /// The secret.
    pub fn expose(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for SecretBytes {
    fn from(text: &str) -> Self {
        Self::new(text.as_bytes().to_vec())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// `SEC_WINNT_AUTH_IDENTITY`: a user, domain and password given to AcquireCredentialsHandle.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct AuthIdentity {
    /// The user name.
    pub user: RString,
    /// The domain (or realm); may be empty.
    pub domain: RString,
    /// The password, wiped on drop.
    pub password: SecretBytes,
    /// `PackageList` (`SEC_WINNT_AUTH_IDENTITY_EX`): for Negotiate, the
    /// comma-separated packages it may use (`"Kerberos"`), or may not
    /// (`"!NTLM"`); empty for no restriction. An identity with an empty user
    /// and password and a package list selects the default credentials.
    pub package_list: RString,
}

impl AuthIdentity {
    /// An identity from its parts.
    pub fn new(user: &str, domain: &str, password: &str) -> Self {
        Self {
            user: user.into(),
            domain: domain.into(),
            password: SecretBytes::from(password),
            package_list: RString::new(),
        }
    }

    /// The default credentials, restricted to `package_list` (for Negotiate).
    pub fn package_list_only(package_list: &str) -> Self {
        Self {
            package_list: package_list.into(),
            ..Self::default()
        }
    }

    /// This identity, restricted to `package_list` (for Negotiate).
    pub fn with_package_list(mut self, package_list: &str) -> Self {
        self.package_list = package_list.into();
        self
    }

    /// True when the identity names no user and no password: the package's
    /// default credentials (perhaps with a package list).
    pub fn is_default(&self) -> bool {
        self.user.is_empty() && self.domain.is_empty() && self.password.is_empty()
    }
}

/// What AcquireCredentialsHandle was asked for.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct CredentialsRequest {
    /// `pszPrincipal`: the principal whose credentials to use; `None` for the default.
    pub principal: ROption<RString>,
    /// `fCredentialUse`: inbound, outbound or both.
    pub credential_use: crate::CredentialUse,
    /// `pAuthData`: explicit credentials; `None` for the package's default identity.
    pub auth_identity: ROption<AuthIdentity>,
}

//! What a package declares about the registry values it reads, so tools can
//! check a registry file and describe a package without loading it twice.

use abi_stable::{StableAbi, std_types::RStr};

/// The registry type a value must have.
#[repr(u8)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParameterKind {
    /// REG_SZ (or REG_EXPAND_SZ): text.
    Sz,
    /// REG_SZ naming a file; a relative path is relative to the registry file.
    Path,
    /// REG_MULTI_SZ (a REG_SZ counts as one string).
    MultiSz,
    /// REG_DWORD within `min..=max`.
    Dword,
    /// REG_DWORD 0 or 1.
    Flag,
    /// REG_QWORD within `min..=max`.
    Qword,
    /// REG_BINARY.
    Binary,
}

impl ParameterKind {
    /// How the kind is written in a `.reg` file ("REG_DWORD").
    pub const fn type_name(self) -> &'static str {
        match self {
            Self::Sz | Self::Path => "REG_SZ",
            Self::MultiSz => "REG_MULTI_SZ",
            Self::Dword | Self::Flag => "REG_DWORD",
            Self::Qword => "REG_QWORD",
            Self::Binary => "REG_BINARY",
        }
    }
}

/// One registry value a package reads: where, its name and type, the range a
/// number must fall in, the default and a one-line meaning.
///
/// ```
/// use sspi_core::ParameterSpec;
///
/// const PARAMETERS: &[ParameterSpec] = &[
///     ParameterSpec::flag("RequireChannelBindings", "0", "refuse clients that send no channel bindings"),
///     ParameterSpec::dword("MaxClockSkew", 0, 86_400, "300", "seconds a timestamp may be off"),
///     ParameterSpec::string("Password", "", "the user's password").in_subkeys("Users"),
/// ];
/// assert_eq!(PARAMETERS[2].subkey(), "Users\\*");
/// ```
#[repr(C)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub struct ParameterSpec {
    subkey: RStr<'static>,
    name: RStr<'static>,
    kind: ParameterKind,
    min: u64,
    max: u64,
    default: RStr<'static>,
    meaning: RStr<'static>,
}

impl ParameterSpec {
    const fn new(
        name: &'static str,
        kind: ParameterKind,
        min: u64,
        max: u64,
        default: &'static str,
        meaning: &'static str,
    ) -> Self {
        Self {
            subkey: RStr::from_str(""),
            name: RStr::from_str(name),
            kind,
            min,
            max,
            default: RStr::from_str(default),
            meaning: RStr::from_str(meaning),
        }
    }

    /// A REG_SZ value.
    pub const fn string(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self::new(name, ParameterKind::Sz, 0, 0, default, meaning)
    }

    /// A REG_SZ file path.
    pub const fn path(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self::new(name, ParameterKind::Path, 0, 0, default, meaning)
    }

    /// A REG_MULTI_SZ value.
    pub const fn strings(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self::new(name, ParameterKind::MultiSz, 0, 0, default, meaning)
    }

    /// A REG_DWORD value in `min..=max`.
    pub const fn dword(
        name: &'static str,
        min: u32,
        max: u32,
        default: &'static str,
        meaning: &'static str,
    ) -> Self {
        Self::new(
            name,
            ParameterKind::Dword,
            min as u64,
            max as u64,
            default,
            meaning,
        )
    }

    /// A REG_DWORD switch, 0 or 1.
    pub const fn flag(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self::new(name, ParameterKind::Flag, 0, 1, default, meaning)
    }

    /// A REG_QWORD value in `min..=max`.
    pub const fn qword(
        name: &'static str,
        min: u64,
        max: u64,
        default: &'static str,
        meaning: &'static str,
    ) -> Self {
        Self::new(name, ParameterKind::Qword, min, max, default, meaning)
    }

    /// A REG_BINARY value.
    pub const fn binary(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self::new(name, ParameterKind::Binary, 0, 0, default, meaning)
    }

    /// The same value, read in every direct subkey of `parent` (e.g. each
    /// `Users\<name>` key) instead of the package's own key.
    pub const fn in_subkeys(mut self, parent: &'static str) -> Self {
        self.subkey = RStr::from_str(parent);
        self
    }

    /// Where the value is read, relative to the package's key: "" for the key
    /// itself, `"Users\\*"` for each direct subkey of `Users`.
    pub fn subkey(&self) -> String {
        if self.subkey.is_empty() {
            String::new()
        } else {
            format!("{}\\*", self.subkey.as_str())
        }
    }

    /// The parent of the subkeys the value is read in ("" for the package's key).
    pub fn subkey_parent(&self) -> &'static str {
        self.subkey.as_str()
    }

    /// The value's name.
    pub fn name(&self) -> &'static str {
        self.name.as_str()
    }

    /// Its type.
    pub const fn kind(&self) -> ParameterKind {
        self.kind
    }

    /// The smallest and largest number allowed (numeric kinds only).
    pub const fn range(&self) -> Option<(u64, u64)> {
        match self.kind {
            ParameterKind::Dword | ParameterKind::Flag | ParameterKind::Qword => {
                Some((self.min, self.max))
            }
            _ => None,
        }
    }

    /// The default, as text ("" when there is none).
    pub fn default_text(&self) -> &'static str {
        self.default.as_str()
    }

    /// What the value means, in one line.
    pub fn meaning(&self) -> &'static str {
        self.meaning.as_str()
    }
}

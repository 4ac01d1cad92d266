//! Per-package parameters: the values of a package's registry key, typed, handed over at load time.

use crate::{SecurityError, SecurityResult, SecurityStatus};
use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

/// A typed registry value.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub enum ParameterValue {
    /// REG_SZ
    Sz(RString),
    /// REG_EXPAND_SZ (not expanded)
    ExpandSz(RString),
    /// REG_MULTI_SZ
    MultiSz(RVec<RString>),
    /// REG_DWORD (or REG_DWORD_BIG_ENDIAN, already decoded)
    Dword(u32),
    /// REG_QWORD
    Qword(u64),
    /// REG_BINARY, or any other type as raw bytes
    Binary(RVec<u8>),
}

impl ParameterValue {
    /// The registry type name ("REG_DWORD").
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Sz(_) => "REG_SZ",
            Self::ExpandSz(_) => "REG_EXPAND_SZ",
            Self::MultiSz(_) => "REG_MULTI_SZ",
            Self::Dword(_) => "REG_DWORD",
            Self::Qword(_) => "REG_QWORD",
            Self::Binary(_) => "REG_BINARY",
        }
    }
}

impl Drop for ParameterValue {
    /// Wipes the data: parameters carry passwords (`Users\<name>\Password`).
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            Self::Sz(text) | Self::ExpandSz(text) => wipe_rstring(text),
            Self::MultiSz(list) => list.iter_mut().for_each(wipe_rstring),
            Self::Binary(bytes) => bytes.as_mut_slice().zeroize(),
            Self::Dword(_) | Self::Qword(_) => {}
        }
    }
}

fn wipe_rstring(text: &mut RString) {
    let mut bytes = std::mem::take(text).into_bytes();
    zeroize::Zeroize::zeroize(bytes.as_mut_slice());
}

/// One value of a package's registry key or one of its subkeys.
///
/// Debug output redacts the data of values whose name contains `password`.
#[repr(C)]
#[derive(StableAbi, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The subkey path relative to the package's key ("" for the key itself).
    pub key: RString,
    /// The value name ("" for the default value `@`).
    pub name: RString,
    /// The value.
    pub value: ParameterValue,
    /// Where it was set, as `file:line:column`, so errors can name it.
    pub origin: RString,
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parameter = f.debug_struct("Parameter");
        parameter.field("key", &self.key).field("name", &self.name);
        if self.name.to_ascii_lowercase().contains("password") {
            parameter.field("value", &format_args!("<redacted>"));
        } else {
            parameter.field("value", &self.value);
        }
        parameter.field("origin", &self.origin).finish()
    }
}

/// A user configured in a package's registry key (`Users\<name>`).
///
/// Debug output leaves the password out.
pub struct RegistryUser<'p> {
    /// The subkey's name: the user name.
    pub name: String,
    /// `Domain`, when set.
    pub domain: Option<&'p str>,
    /// `Password`.
    pub password: &'p str,
    /// Where `Password` was set (`file:line:column`).
    pub origin: &'p str,
}

impl std::fmt::Debug for RegistryUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryUser")
            .field("name", &self.name)
            .field("domain", &self.domain)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The parameters of one package: every value under
/// `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\<package>`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageParameters {
    /// The full registry path of the package's key, for messages.
    pub key_path: RString,
    /// The values, in registry order.
    pub entries: RVec<Parameter>,
}

impl PackageParameters {
    /// The value `name` of the package's own key (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.get_in("", name)
    }

    /// The value `name` of the subkey `key` (relative path, case-insensitive).
    pub fn get_in(&self, key: &str, name: &str) -> Option<&Parameter> {
        self.entries
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(key) && p.name.eq_ignore_ascii_case(name))
    }

    /// The values of the subkey `key` (relative path, case-insensitive).
    pub fn values_in<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s Parameter> + 's {
        self.entries
            .iter()
            .filter(move |p| p.key.eq_ignore_ascii_case(key))
    }

    /// The names of the direct subkeys of `key`, in order, without repeats.
    pub fn subkeys_of(&self, key: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for p in self.entries.iter() {
            let rest = if key.is_empty() {
                Some(p.key.as_str())
            } else {
                p.key
                    .get(..key.len())
                    .filter(|head| head.eq_ignore_ascii_case(key))
                    .and_then(|_| p.key.get(key.len()..))
                    .and_then(|tail| tail.strip_prefix('\\'))
            };
            if let Some(child) = rest
                .and_then(|r| r.split('\\').next())
                .filter(|c| !c.is_empty())
                && !found.iter().any(|f| f.eq_ignore_ascii_case(child))
            {
                found.push(child.to_string());
            }
        }
        found
    }

    /// A REG_DWORD value, or `None` when absent; another type is an error naming the value.
    pub fn dword(&self, name: &str) -> SecurityResult<Option<u32>> {
        self.typed(name, "REG_DWORD", |v| match v {
            ParameterValue::Dword(d) => Some(*d),
            _ => None,
        })
    }

    /// A REG_DWORD switch: 0 is `false`, 1 is `true`, absent is `default`;
    /// any other number or type is an error naming the value.
    pub fn flag(&self, name: &str, default: bool) -> SecurityResult<bool> {
        match self.dword(name)? {
            None => Ok(default),
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(other) => {
                Err(self.error(name, format_args!("{name} must be 0 or 1, not {other}")))
            }
        }
    }

    /// A REG_SZ or REG_EXPAND_SZ value, or `None` when absent.
    pub fn string(&self, name: &str) -> SecurityResult<Option<&str>> {
        self.typed(name, "REG_SZ", |v| match v {
            ParameterValue::Sz(s) | ParameterValue::ExpandSz(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// A REG_MULTI_SZ value (a REG_SZ counts as one string), or `None` when absent.
    pub fn strings(&self, name: &str) -> SecurityResult<Option<Vec<&str>>> {
        self.typed(name, "REG_MULTI_SZ", |v| match v {
            ParameterValue::MultiSz(list) => Some(list.iter().map(RString::as_str).collect()),
            ParameterValue::Sz(s) | ParameterValue::ExpandSz(s) => Some(vec![s.as_str()]),
            _ => None,
        })
    }

    /// A file path (REG_SZ or REG_EXPAND_SZ), or `None` when absent. A relative
    /// path is resolved against the directory of the registry file that set it,
    /// so a registry and the files it names can move together.
    pub fn path(&self, name: &str) -> SecurityResult<Option<std::path::PathBuf>> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        let path = std::path::Path::new(text);
        if path.is_absolute() {
            return Ok(Some(path.to_path_buf()));
        }
        let base = self
            .get(name)
            .and_then(|p| origin_file(&p.origin))
            .and_then(|file| file.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_default();
        Ok(Some(base.join(path)))
    }

    /// The file named by the path value `name` (see [`PackageParameters::path`]),
    /// read whole into memory that is wiped when dropped; `None` when the value
    /// is absent. `what` names the file in errors ("keytab").
    ///
    /// The file is refused — an error naming the value, the file and the
    /// reason — when another user could have written it or a directory above
    /// it (`sspi_trust`'s rule, OpenSSH StrictModes style), when it is not a
    /// regular file, or when it is larger than `limit` bytes.
    pub fn read_file(
        &self,
        name: &str,
        what: &'static str,
        limit: u64,
    ) -> SecurityResult<Option<(std::path::PathBuf, zeroize::Zeroizing<Vec<u8>>)>> {
        let Some(path) = self.path(name)? else {
            return Ok(None);
        };
        let bytes = sspi_trust::read_file(&path, what, limit).map_err(|e| self.error(name, e))?;
        Ok(Some((path, zeroize::Zeroizing::new(bytes))))
    }

    /// A REG_SZ or REG_EXPAND_SZ value of the subkey `key`, or `None` when absent.
    pub fn string_in(&self, key: &str, name: &str) -> SecurityResult<Option<&str>> {
        match self.get_in(key, name).map(|p| &p.value) {
            None => Ok(None),
            Some(ParameterValue::Sz(s) | ParameterValue::ExpandSz(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.error_in(
                key,
                name,
                format_args!("expected REG_SZ, found {}", other.type_name()),
            )),
        }
    }

    /// The users of the `Users` subkey: one `Users\<name>` key each, with a
    /// `Password` (REG_SZ, required) and an optional `Domain` (REG_SZ). A user
    /// without a password, or a value of the wrong type, is an error naming it.
    pub fn users(&self) -> SecurityResult<Vec<RegistryUser<'_>>> {
        let mut users = Vec::new();
        for name in self.subkeys_of("Users") {
            let key = format!("Users\\{name}");
            let Some(password) = self.string_in(&key, "Password")? else {
                return Err(self.error_in(
                    &key,
                    "Password",
                    format_args!("user {name} has no Password value"),
                ));
            };
            let domain = self.string_in(&key, "Domain")?;
            let origin = self
                .get_in(&key, "Password")
                .map(|p| p.origin.as_str())
                .unwrap_or_default();
            users.push(RegistryUser {
                name,
                domain,
                password,
                origin,
            });
        }
        Ok(users)
    }

    /// A REG_BINARY value, or `None` when absent.
    pub fn binary(&self, name: &str) -> SecurityResult<Option<&[u8]>> {
        self.typed(name, "REG_BINARY", |v| match v {
            ParameterValue::Binary(b) => Some(b.as_slice()),
            _ => None,
        })
    }

    /// An error about the value `name`, naming where it was set and the key.
    pub fn error(&self, name: &str, message: impl std::fmt::Display) -> SecurityError {
        self.error_in("", name, message)
    }

    /// An error about the value `name` of the subkey `key` (relative path),
    /// naming where it was set and the key.
    pub fn error_in(
        &self,
        key: &str,
        name: &str,
        message: impl std::fmt::Display,
    ) -> SecurityError {
        let origin = self
            .get_in(key, name)
            .map(|p| format!("{}: ", p.origin))
            .unwrap_or_default();
        let key_path = if key.is_empty() {
            self.key_path.to_string()
        } else {
            format!("{}\\{key}", self.key_path)
        };
        SecurityError::new(
            SecurityStatus::SEC_E_CANNOT_INSTALL,
            format!("{origin}{message} (key {key_path}, value \"{name}\")"),
        )
    }

    fn typed<'s, T>(
        &'s self,
        name: &str,
        expected: &str,
        pick: impl FnOnce(&'s ParameterValue) -> Option<T>,
    ) -> SecurityResult<Option<T>> {
        let Some(param) = self.get(name) else {
            return Ok(None);
        };
        match pick(&param.value) {
            Some(value) => Ok(Some(value)),
            None => Err(self.error(
                name,
                format_args!("expected {expected}, found {}", param.value.type_name()),
            )),
        }
    }
}

/// The file part of an origin `file:line:column`.
fn origin_file(origin: &str) -> Option<&std::path::Path> {
    let mut parts = origin.rsplitn(3, ':');
    let (_column, _line) = (parts.next()?, parts.next()?);
    parts.next().map(std::path::Path::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> PackageParameters {
        let p = |key: &str, name: &str, value| Parameter {
            key: key.into(),
            name: name.into(),
            value,
            origin: "conf/sspi.reg:3:5".into(),
        };
        PackageParameters {
            key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test".into(),
            entries: vec![
                p("", "Legs", ParameterValue::Dword(4)),
                p("", "Name", ParameterValue::Sz("x".into())),
                p("", "UserDatabase", ParameterValue::Sz("users.txt".into())),
                p(r"Users\alice", "Password", ParameterValue::Sz("pw".into())),
                p(r"Users\bob", "Password", ParameterValue::Sz("pw2".into())),
            ]
            .into(),
        }
    }

    #[test]
    fn flags_are_zero_or_one() {
        let p = params();
        assert!(!p.flag("Missing", false).unwrap());
        assert!(p.flag("Missing", true).unwrap());
        let err = p.flag("Legs", false).unwrap_err();
        assert_eq!(
            err.message(),
            "conf/sspi.reg:3:5: Legs must be 0 or 1, not 4 (key HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test, value \"Legs\")"
        );
        assert!(p.flag("Name", false).is_err(), "a REG_SZ is not a switch");
    }

    #[test]
    fn debug_output_redacts_passwords() {
        let debug = format!("{:?}", params());
        assert!(
            !debug.contains("\"pw\"") && !debug.contains("pw2"),
            "{debug}"
        );
        assert!(
            debug.contains("<redacted>") && debug.contains("users.txt"),
            "{debug}"
        );
    }

    #[test]
    fn typed_getters_and_errors() {
        let p = params();
        assert_eq!(p.dword("legs").unwrap(), Some(4));
        assert_eq!(p.dword("missing").unwrap(), None);
        let err = p.dword("Name").unwrap_err();
        assert_eq!(err.status(), SecurityStatus::SEC_E_CANNOT_INSTALL);
        assert_eq!(
            err.message(),
            r#"conf/sspi.reg:3:5: expected REG_DWORD, found REG_SZ (key HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test, value "Name")"#
        );
        assert_eq!(p.subkeys_of(""), ["Users"]);
        // Relative to the directory of the registry file that set it.
        assert_eq!(
            p.path("UserDatabase").unwrap(),
            Some("conf/users.txt".into())
        );
        assert_eq!(p.subkeys_of("users"), ["alice", "bob"]);
        let users = p.users().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!((users[1].name.as_str(), users[1].password), ("bob", "pw2"));
        assert!(!format!("{users:?}").contains("pw2"));
        assert_eq!(
            p.get_in(r"users\ALICE", "password").map(|x| &x.value),
            Some(&ParameterValue::Sz("pw".into()))
        );
    }
}

//! The typed security-provider configuration under
//! `HKEY_LOCAL_MACHINE\Comm\SecurityProviders`.

use std::path::{Path, PathBuf};

use crate::error::RegistryError;
use crate::hive::{RegKey, Registry};
use crate::location::Location;
use crate::name::eq_ignore_case;
use crate::value::RegValue;

/// The key the host reads its provider list from.
pub const SECURITY_PROVIDERS_KEY: &str = r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders";

const PROVIDERS: &str = "Providers";
const LIBRARY_PATH: &str = "LibraryPath";
const BUILTIN: &str = "builtin:";
const REQUIRE_DIGESTS: &str = "RequireDigests";

/// The subkey of [`SECURITY_PROVIDERS_KEY`] whose values add provider
/// libraries after those of `Providers`: each value's *name* is a library as
/// `Providers` writes it (`"sspi_psk.dll"=""`; the data, a REG_SZ, is free
/// text), in the order the values were first set. An overlay file (a drop-in
/// in `<registry>.d/`) adds its library this way without restating the list,
/// and two overlays never overwrite each other's.
pub const ADD_PROVIDERS_SUBKEY: &str = "AddProviders";

/// The subkey of [`SECURITY_PROVIDERS_KEY`] that pins provider libraries:
/// one REG_SZ value per library, named as in `Providers`, holding
/// `sha256:` and the 64 hex digits of the file's SHA-256 digest.
pub const LIBRARY_DIGESTS_SUBKEY: &str = "LibraryDigests";

/// Which package library to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibrarySpec {
    /// `builtin:NAME`: a package library linked into the host.
    Builtin(String),
    /// A library file name or path, kept as written (e.g. `sspi_test.dll`).
    File {
        /// The name or path as written in `Providers`.
        name: String,
        /// The directory of the `.reg` file that named it (`Providers` or an
        /// `AddProviders` value; `.` if the path has none).
        base_dir: PathBuf,
    },
}

/// One entry of the `Providers` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEntry {
    /// The library to load.
    pub library: LibrarySpec,
    /// Where the library was named: the `Providers` value, or its `AddProviders` value.
    pub location: Location,
    /// The SHA-256 digest the library file must have, when the registry pins it.
    pub digest: Option<LibraryDigest>,
}

/// A provider library's pinned SHA-256 digest (`LibraryDigests` subkey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryDigest {
    /// The digest.
    pub sha256: [u8; 32],
    /// Where it was set.
    pub location: Location,
}

/// The validated security-provider configuration plus the registry it came from.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    registry: Registry,
    providers: Vec<ProviderEntry>,
    library_path: Vec<PathBuf>,
}

impl SecurityConfig {
    /// Reads the files in order (later files win) and extracts the configuration.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<SecurityConfig, RegistryError> {
        SecurityConfig::build(Registry::load_layered(paths)?)
    }

    /// Extracts the configuration from a registry (which is copied into the result).
    pub fn from_registry(registry: &Registry) -> Result<SecurityConfig, RegistryError> {
        SecurityConfig::build(registry.clone())
    }

    fn build(registry: Registry) -> Result<SecurityConfig, RegistryError> {
        let files = files_read(&registry);
        let key = registry
            .key(SECURITY_PROVIDERS_KEY)
            .ok_or_else(|| RegistryError::Config {
                location: None,
                key: SECURITY_PROVIDERS_KEY.to_owned(),
                value: None,
                message: format!("security provider key not found (files read: {files})"),
            })?;
        let (value, location) =
            key.value_entry(PROVIDERS)
                .ok_or_else(|| RegistryError::Config {
                    location: Some(key.location().clone()),
                    key: key.path().to_owned(),
                    value: Some(PROVIDERS.to_owned()),
                    message: format!(
                        "the security provider key has no \"Providers\" value (files read: {files})"
                    ),
                })?;
        let added = key.subkey(ADD_PROVIDERS_SUBKEY);
        let has_added = added.is_some_and(|k| k.values().next().is_some());
        let mut providers = providers(key, value, location, has_added)?;
        if let Some(added) = added {
            add_providers(added, &mut providers)?;
        }
        pin_digests(key, &mut providers)?;
        let library_path = library_path(key)?;
        Ok(SecurityConfig {
            registry,
            providers,
            library_path,
        })
    }

    /// The provider libraries in the order they are listed.
    pub fn providers(&self) -> &[ProviderEntry] {
        &self.providers
    }

    /// Directories to search for provider libraries (relative ones already resolved
    /// against the directory of the `.reg` file that set `LibraryPath`).
    pub fn library_path(&self) -> &[PathBuf] {
        &self.library_path
    }

    /// The parameter key of a package, `...\SecurityProviders\<name>` (case-insensitive).
    pub fn package_key(&self, name: &str) -> Option<&RegKey> {
        self.registry.key(SECURITY_PROVIDERS_KEY)?.subkey(name)
    }

    /// The whole registry the configuration was read from.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

fn files_read(registry: &Registry) -> String {
    let files: Vec<String> = registry
        .sources()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if files.is_empty() {
        "none".to_owned()
    } else {
        files.join(", ")
    }
}

fn error(key: &RegKey, value: &str, location: &Location, message: String) -> RegistryError {
    RegistryError::Config {
        location: Some(location.clone()),
        key: key.path().to_owned(),
        value: Some(value.to_owned()),
        message,
    }
}

/// The directory of the file a value was set in (`.` when the path has none).
fn base_dir(location: &Location) -> PathBuf {
    match location.file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn providers(
    key: &RegKey,
    value: &RegValue,
    location: &Location,
    more_follow: bool,
) -> Result<Vec<ProviderEntry>, RegistryError> {
    let fail = |message: String| error(key, PROVIDERS, location, message);
    let (items, hint): (Vec<&str>, &str) = match value {
        RegValue::Sz(list) if list.trim().is_empty() => (Vec::new(), ""),
        RegValue::Sz(list) => (
            list.split(',').map(str::trim).collect(),
            "two commas in a row or a trailing comma?",
        ),
        RegValue::MultiSz(list) => (
            list.iter().map(|s| s.trim()).collect(),
            "an empty string in the list?",
        ),
        other => {
            return Err(fail(format!(
                "\"Providers\" must be REG_SZ (comma-separated library names) or \
                 REG_MULTI_SZ (one library per string), found {}",
                other.type_name()
            )));
        }
    };
    if items.is_empty() && !more_follow {
        return Err(fail("\"Providers\" lists no provider library".to_owned()));
    }
    let mut entries: Vec<ProviderEntry> = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let number = index + 1;
        if item.is_empty() {
            return Err(fail(format!(
                "entry {number} of \"Providers\" is empty: a provider with no library ({hint})"
            )));
        }
        let library = library_spec(item, location).ok_or_else(|| {
            fail(format!(
                "entry {number} of \"Providers\" is \"{item}\" with no package library name"
            ))
        })?;
        if let Some(first) = entries
            .iter()
            .position(|e| same_library(&e.library, &library))
        {
            return Err(fail(format!(
                "library \"{item}\" is listed twice in \"Providers\" (entries {} and {number})",
                first + 1
            )));
        }
        entries.push(ProviderEntry {
            library,
            location: location.clone(),
            digest: None,
        });
    }
    Ok(entries)
}

/// `builtin:NAME` or a library file named in a value set at `location`;
/// `None` for a `builtin:` without a name.
fn library_spec(item: &str, location: &Location) -> Option<LibrarySpec> {
    match item
        .get(..BUILTIN.len())
        .filter(|p| p.eq_ignore_ascii_case(BUILTIN))
    {
        Some(_) => {
            let name = item.get(BUILTIN.len()..).unwrap_or_default().trim();
            (!name.is_empty()).then(|| LibrarySpec::Builtin(name.to_owned()))
        }
        None => Some(LibrarySpec::File {
            name: item.to_owned(),
            base_dir: base_dir(location),
        }),
    }
}

/// Appends the libraries named by the values of the `AddProviders` subkey,
/// each relative to the file that set it.
fn add_providers(added: &RegKey, providers: &mut Vec<ProviderEntry>) -> Result<(), RegistryError> {
    for (name, value) in added.values() {
        let raw = name.as_str();
        let location = added
            .value_entry(raw)
            .map(|(_, location)| location.clone())
            .unwrap_or_else(|| added.location().clone());
        let fail = |message: String| error(added, raw, &location, message);
        let item = raw.trim();
        if item.is_empty() {
            return Err(fail(
                "a value of AddProviders names the library to add; the default value @ names none"
                    .to_owned(),
            ));
        }
        if !matches!(value, RegValue::Sz(_)) {
            return Err(fail(format!(
                "an AddProviders value is named after its library and holds REG_SZ text (e.g. \"\"), found {}",
                value.type_name()
            )));
        }
        let library = library_spec(item, &location)
            .ok_or_else(|| fail(format!("\"{item}\" names no package library")))?;
        if let Some(first) = providers
            .iter()
            .find(|e| same_library(&e.library, &library))
        {
            return Err(fail(format!(
                "library \"{item}\" is already a provider (set at {}); remove one of the two",
                first.location
            )));
        }
        providers.push(ProviderEntry {
            library,
            location,
            digest: None,
        });
    }
    Ok(())
}

/// Attaches the `LibraryDigests` pins to their providers. A pin that names no
/// listed library file, a malformed one, or (with `RequireDigests`) a library
/// file without one is an error naming the value.
fn pin_digests(key: &RegKey, providers: &mut [ProviderEntry]) -> Result<(), RegistryError> {
    if let Some(pins) = key.subkey(LIBRARY_DIGESTS_SUBKEY) {
        for (name, value) in pins.values() {
            let name = name.as_str();
            let location = pins
                .value_entry(name)
                .map(|(_, location)| location.clone())
                .unwrap_or_else(|| pins.location().clone());
            let fail = |message: String| error(pins, name, &location, message);
            let RegValue::Sz(text) = value else {
                return Err(fail(format!(
                    "a library digest must be REG_SZ \"sha256:<64 hex digits>\", found {}",
                    value.type_name()
                )));
            };
            let sha256 = parse_sha256(text).ok_or_else(|| {
                fail(format!(
                    "\"{text}\" is not \"sha256:\" followed by 64 hex digits \
                     (`sha256sum LIBRARY` prints them)"
                ))
            })?;
            let provider = providers
                .iter_mut()
                .find(|p| matches!(&p.library, LibrarySpec::File { name: n, .. } if eq_ignore_case(n, name)))
                .ok_or_else(|| {
                    fail(format!(
                        "pins the digest of \"{name}\", which \"Providers\" does not list as a library file"
                    ))
                })?;
            provider.digest = Some(LibraryDigest { sha256, location });
        }
    }
    if let Some((value, location)) = key.value_entry(REQUIRE_DIGESTS) {
        match value {
            RegValue::Dword(0) => {}
            RegValue::Dword(1) => {
                let unpinned = providers.iter().find_map(|p| match &p.library {
                    LibrarySpec::File { name, .. } if p.digest.is_none() => Some(name),
                    _ => None,
                });
                if let Some(name) = unpinned {
                    return Err(error(
                        key,
                        REQUIRE_DIGESTS,
                        location,
                        format!(
                            "\"RequireDigests\" is set but library \"{name}\" has no digest under {}\\{LIBRARY_DIGESTS_SUBKEY}",
                            key.path()
                        ),
                    ));
                }
            }
            other => {
                return Err(error(
                    key,
                    REQUIRE_DIGESTS,
                    location,
                    format!(
                        "\"RequireDigests\" must be REG_DWORD 0 or 1, found {}",
                        describe(other)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn describe(value: &RegValue) -> String {
    match value {
        RegValue::Dword(d) => format!("{d}"),
        other => other.type_name().to_owned(),
    }
}

/// `sha256:` (any case) and 64 hex digits.
fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let hex_digits = text
        .trim()
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256:"))
        .and_then(|_| text.trim().get(7..))?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut digest).ok()?;
    Some(digest)
}

fn same_library(a: &LibrarySpec, b: &LibrarySpec) -> bool {
    match (a, b) {
        (LibrarySpec::Builtin(a), LibrarySpec::Builtin(b)) => eq_ignore_case(a, b),
        (LibrarySpec::File { name: a, .. }, LibrarySpec::File { name: b, .. }) => {
            eq_ignore_case(a, b)
        }
        _ => false,
    }
}

fn library_path(key: &RegKey) -> Result<Vec<PathBuf>, RegistryError> {
    let Some((value, location)) = key.value_entry(LIBRARY_PATH) else {
        return Ok(Vec::new());
    };
    let dirs: Vec<String> = match value {
        RegValue::Sz(text) => text.split(';').map(str::to_owned).collect(),
        RegValue::ExpandSz(text) => expand_env(text).split(';').map(str::to_owned).collect(),
        RegValue::MultiSz(list) => list.clone(),
        other => {
            return Err(error(
                key,
                LIBRARY_PATH,
                location,
                format!(
                    "\"LibraryPath\" must be REG_SZ (directories separated by `;`), \
                     REG_EXPAND_SZ or REG_MULTI_SZ, found {}",
                    other.type_name()
                ),
            ));
        }
    };
    let base = base_dir(location);
    Ok(dirs
        .iter()
        .map(|dir| dir.trim())
        .filter(|dir| !dir.is_empty())
        .map(|dir| {
            let dir = Path::new(dir);
            if dir.is_absolute() {
                dir.to_owned()
            } else {
                base.join(dir)
            }
        })
        .collect())
}

/// Replaces `%NAME%` with the environment variable; unknown names are left as written.
fn expand_env(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('%') {
        out.push_str(before);
        match after.split_once('%') {
            Some((name, tail)) => {
                match std::env::var(name).ok().filter(|_| !name.is_empty()) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('%');
                        out.push_str(name);
                        out.push('%');
                    }
                }
                rest = tail;
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

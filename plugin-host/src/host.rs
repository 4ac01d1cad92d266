//! `SecurityHost`: the installed packages, enumerated and ready to hand out credentials.

use crate::composition::{self, CompositionError, InnerList};
use crate::handle::{CredentialsHandle, PackageMeta};
use crate::library::{self, Descriptors, Listed};
use crate::params::package_parameters;
use crate::resolve::{Resolved, SearchPath};
use crate::{HostError, Unavailable};
use abi_stable::std_types::{RArc, RSlice};
use abi_stable::std_types::{ROption, RResult};
use sspi_core::InnerPackage;
use sspi_core::ffi::{PackageBox, PackageDescriptor};
use std::collections::HashMap;

/// A package object, shared by the host and the composing packages it was handed to.
type SharedPackage = RArc<PackageBox>;
use sspi_core::{
    AuthIdentity, CredentialUse, CredentialsRequest, PackageInfo, PackageParameters, ParameterSpec,
    SecurityError, SecurityStatus, Severity,
};
use sspi_registry::{
    ADD_PROVIDERS_SUBKEY, LIBRARY_DIGESTS_SUBKEY, LibrarySpec, Location, SecurityConfig,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The registry key whose subkeys hold each package's parameters.
pub const PROVIDERS_KEY: &str = r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders";

/// Where a package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// A plugin library file.
    Plugin {
        /// The library as the registry names it.
        library: String,
        /// The file it resolved to, if it did.
        path: Option<PathBuf>,
    },
    /// A built-in library linked into this program.
    Builtin {
        /// The built-in name (`builtin:NAME`).
        name: String,
    },
}

impl PackageSource {
    /// The library as the registry's `Providers` names it (`sspi_test.dll`, `builtin:test`).
    pub fn registry_name(&self) -> String {
        match self {
            Self::Plugin { library, .. } => library.clone(),
            Self::Builtin { name } => format!("builtin:{name}"),
        }
    }

    /// The library's name without directory, `lib` prefix or extension, lower
    /// case (`sspi_ntlm`), for matching it with the packages it provides.
    fn stem(&self) -> String {
        match self {
            Self::Plugin { library, .. } => {
                let file = crate::resolve::platform_file_name(
                    std::path::Path::new(library)
                        .file_name()
                        .and_then(|f| f.to_str())
                        .unwrap_or(library),
                );
                let file = file
                    .strip_prefix(std::env::consts::DLL_PREFIX)
                    .unwrap_or(&file);
                file.strip_suffix(std::env::consts::DLL_SUFFIX)
                    .unwrap_or(file)
                    .to_ascii_lowercase()
            }
            Self::Builtin { name } => name.to_ascii_lowercase(),
        }
    }
}

impl fmt::Display for PackageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plugin {
                path: Some(path), ..
            } => write!(f, "plugin {}", path.display()),
            Self::Plugin {
                library,
                path: None,
            } => write!(f, "plugin {library}"),
            Self::Builtin { name } => write!(f, "builtin:{name}"),
        }
    }
}

/// Whether a package can be used.
#[derive(Debug, Clone, Copy)]
pub enum PackageState<'a> {
    /// Loaded and ready.
    Available,
    /// Not usable, and why.
    Unavailable(&'a Unavailable),
}

impl PartialEq for PackageState<'_> {
    /// Two unavailable states are equal when they are the same reason or read the same.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Available, Self::Available) => true,
            (Self::Unavailable(a), Self::Unavailable(b)) => {
                std::ptr::eq(*a, *b) || a.to_string() == b.to_string()
            }
            _ => false,
        }
    }
}

/// One row of EnumerateSecurityPackages: a package, or a library whose
/// packages could not be listed.
pub struct PackageEntry {
    name: String,
    /// Whether `name` is a package name (and not a library's).
    is_package: bool,
    info: Option<PackageInfo>,
    parameters: &'static [ParameterSpec],
    source: PackageSource,
    location: Location,
    package: Result<SharedPackage, Arc<Unavailable>>,
}

impl PackageEntry {
    /// The package name; for a library that failed to load, the name of each
    /// package the registry expected from it (a package key no loaded
    /// library provides), else the library's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether [`PackageEntry::name`] names a package (`false`: a library
    /// that failed to load, whose packages are unknown).
    pub fn is_package(&self) -> bool {
        self.is_package
    }

    /// The registry values the package declares it reads (empty when its
    /// library did not load, or when it declares none).
    pub fn parameters(&self) -> &'static [ParameterSpec] {
        self.parameters
    }

    /// Why the package is unavailable; `None` when it is available.
    pub fn unavailable(&self) -> Option<&Unavailable> {
        self.package.as_ref().err().map(|reason| &**reason)
    }

    /// The package's `SecPkgInfo`, when its library listed it.
    pub fn info(&self) -> Option<&PackageInfo> {
        self.info.as_ref()
    }

    /// Where it comes from.
    pub fn source(&self) -> &PackageSource {
        &self.source
    }

    /// Where the registry installs its library (the `Providers` value).
    pub fn registry_location(&self) -> &Location {
        &self.location
    }

    /// Available, or unavailable with the reason.
    pub fn state(&self) -> PackageState<'_> {
        match &self.package {
            Ok(_) => PackageState::Available,
            Err(reason) => PackageState::Unavailable(reason),
        }
    }
}

impl fmt::Debug for PackageEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageEntry")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("state", &self.state())
            .finish()
    }
}

/// The SSPI layer: the installed packages, loaded from the registry.
///
/// Shared freely across threads. Every call on a credential or context goes
/// straight to the package that made it through the handle's own vtable.
pub struct SecurityHost {
    config: SecurityConfig,
    packages: Vec<PackageEntry>,
    /// Every library that failed to load, and why.
    failed: Vec<(PackageSource, Arc<Unavailable>)>,
}

impl fmt::Debug for SecurityHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHost")
            .field("packages", &self.packages)
            .finish()
    }
}

impl SecurityHost {
    /// Reads the registry files (later files override earlier ones) and loads every provider.
    pub fn from_registry_files(paths: &[impl AsRef<Path>]) -> Result<Self, HostError> {
        let config = SecurityConfig::load(paths)?;
        Ok(Self::from_config(config))
    }

    /// Loads every provider of `config`. A library that is missing, fails to
    /// load or fails the ABI check makes only its packages unavailable.
    pub fn from_config(config: SecurityConfig) -> Self {
        let search = SearchPath::new(config.library_path());
        Self::from_config_with(config, &search)
    }

    /// [`SecurityHost::from_config`], resolving bare library names through
    /// `search` (e.g. as another program would: [`SearchPath::for_program`]).
    pub fn from_config_with(config: SecurityConfig, search: &SearchPath) -> Self {
        let mut packages: Vec<PackageEntry> = Vec::new();
        // Libraries that failed: their position in `packages`, and the reason.
        let mut failed: Vec<(usize, Arc<Unavailable>)> = Vec::new();
        // Composing packages, opened once everything else is.
        let mut deferred: Vec<Deferred> = Vec::new();
        for provider in config.providers() {
            let (source, listed) = match &provider.library {
                LibrarySpec::Builtin(name) => {
                    let source = PackageSource::Builtin { name: name.clone() };
                    let listed = library::load_builtin(name, &source).map(Listed::Plugin);
                    (source, listed)
                }
                LibrarySpec::File { name, base_dir } => match search.resolve(name, base_dir) {
                    Ok(resolved) => {
                        let source = PackageSource::Plugin {
                            library: name.clone(),
                            path: Some(resolved.path.clone()),
                        };
                        let listed =
                            library::load_plugin(&resolved.path, provider.digest.as_ref(), &source);
                        (source, listed)
                    }
                    Err(e) => (
                        PackageSource::Plugin {
                            library: name.clone(),
                            path: None,
                        },
                        Err(e),
                    ),
                },
            };
            match listed {
                // A C provider's packages (see `c_provider`): no descriptors to open.
                Ok(Listed::C(opened)) => Self::add_c_packages(
                    &config,
                    &mut packages,
                    opened,
                    &source,
                    &provider.location,
                ),
                Ok(Listed::Plugin(descriptors)) => Self::open_all(
                    &config,
                    &mut packages,
                    &mut deferred,
                    descriptors,
                    &source,
                    &provider.location,
                ),
                Err(reason) => {
                    tracing::warn!(library = %source, registry = %provider.location, %reason, "provider library unavailable");
                    let reason = Arc::new(reason);
                    failed.push((packages.len(), Arc::clone(&reason)));
                    packages.push(PackageEntry {
                        name: source.registry_name(),
                        is_package: false,
                        info: None,
                        parameters: &[],
                        source,
                        location: provider.location.clone(),
                        package: Err(reason),
                    });
                }
            }
        }
        let failed_libraries = failed
            .iter()
            .map(|(at, reason)| (packages[*at].source.clone(), Arc::clone(reason)))
            .collect();
        let mut packages = attribute_failed_libraries(&config, packages, &failed);
        open_composing_packages(&config, &mut packages, deferred);
        Self {
            config,
            packages,
            failed: failed_libraries,
        }
    }

    fn open_all(
        config: &SecurityConfig,
        packages: &mut Vec<PackageEntry>,
        deferred: &mut Vec<Deferred>,
        descriptors: Descriptors,
        source: &PackageSource,
        location: &Location,
    ) {
        for descriptor in descriptors {
            let name = descriptor.info.name.to_string();
            let duplicate = packages
                .iter()
                .find(|p| p.info.is_some() && p.name.eq_ignore_ascii_case(&name));
            let package = if let Some(first) = duplicate {
                Err(Unavailable::Duplicate {
                    package: name.clone(),
                    first: Box::new((first.source.clone(), first.location.clone())),
                    library: source.clone(),
                    location: location.clone(),
                })
            } else if descriptor.composition.is_some() {
                // Opened by `open_composing_packages`; until then it is pending.
                Err(Unavailable::Composition {
                    package: name.clone(),
                    library: source.clone(),
                    error: Box::new(CompositionError::Empty {
                        value: name.clone(),
                        at: composition::ValueOrigin::Registry("(not opened yet)".into()),
                    }),
                })
            } else {
                open_checked(config, &descriptor, &name, source, &[])
            };
            if descriptor.composition.is_some() && package.is_err() && duplicate.is_none() {
                packages.push(PackageEntry {
                    name: name.clone(),
                    is_package: true,
                    info: Some(descriptor.info.clone()),
                    parameters: descriptor.parameters.as_slice(),
                    source: source.clone(),
                    location: location.clone(),
                    package: package.map_err(Arc::new),
                });
                deferred.push(Deferred {
                    name,
                    source: source.clone(),
                    descriptor,
                });
                continue;
            }
            match &package {
                Ok(_) => tracing::info!(package = %name, %source, "security package loaded"),
                Err(reason) => {
                    tracing::warn!(package = %name, %source, %reason, "security package unavailable")
                }
            }
            packages.push(PackageEntry {
                name,
                is_package: true,
                info: Some(descriptor.info),
                parameters: descriptor.parameters.as_slice(),
                source: source.clone(),
                location: location.clone(),
                package: package.map_err(Arc::new),
            });
        }
    }

    /// Adds a C provider's packages (already checked and opened), each
    /// refused when an earlier library provides its name. C packages declare
    /// no registry values: values under their key are ignored, with a warning.
    fn add_c_packages(
        config: &SecurityConfig,
        packages: &mut Vec<PackageEntry>,
        opened: Vec<(PackageInfo, sspi_core::ffi::PackageBox)>,
        source: &PackageSource,
        location: &Location,
    ) {
        for (info, package) in opened {
            let name = info.name.to_string();
            let duplicate = packages
                .iter()
                .find(|p| p.info.is_some() && p.name.eq_ignore_ascii_case(&name));
            let package = match duplicate {
                Some(first) => Err(Arc::new(Unavailable::Duplicate {
                    package: name.clone(),
                    first: Box::new((first.source.clone(), first.location.clone())),
                    library: source.clone(),
                    location: location.clone(),
                })),
                None => {
                    if config
                        .package_key(&name)
                        .is_some_and(|k| k.values().next().is_some())
                    {
                        tracing::warn!(package = %name, %source, "a C provider's package reads no registry values: the values of its key are ignored");
                    }
                    tracing::info!(package = %name, %source, "security package loaded (C provider)");
                    Ok(RArc::new(package))
                }
            };
            packages.push(PackageEntry {
                name,
                is_package: true,
                info: Some(info),
                parameters: &[],
                source: source.clone(),
                location: location.clone(),
                package,
            });
        }
    }

    /// Checks every provider library file of `config` as loading through
    /// `search` would — where it resolves, who may write it, its pinned
    /// digest — without loading any (no code of a library runs). One result
    /// per library file, in `Providers` order.
    pub fn check_provider_files(config: &SecurityConfig, search: &SearchPath) -> Vec<ProviderFile> {
        config
            .providers()
            .iter()
            .filter_map(|provider| {
                let LibrarySpec::File { name, base_dir } = &provider.library else {
                    return None;
                };
                let checked = search.resolve(name, base_dir).and_then(|resolved| {
                    library::check_plugin(&resolved.path, provider.digest.as_ref())
                        .map(|_| resolved)
                });
                Some(ProviderFile {
                    library: name.clone(),
                    location: provider.location.clone(),
                    checked,
                })
            })
            .collect()
    }

    /// The parameters the host hands to package `name` (its registry key's
    /// values, typed, each with the `file:line:column` it was set at).
    pub fn package_parameters(&self, name: &str) -> PackageParameters {
        package_parameters_of(&self.config, name)
    }

    /// The configuration the host was built from.
    pub fn config(&self) -> &SecurityConfig {
        &self.config
    }

    /// EnumerateSecurityPackages: every package in registry order, with its
    /// state; libraries that failed to load appear once, with the reason.
    pub fn enumerate_security_packages(&self) -> &[PackageEntry] {
        &self.packages
    }

    /// The available packages' `SecPkgInfo`, as SSPI's EnumerateSecurityPackages returns them.
    pub fn available_packages(&self) -> impl Iterator<Item = &PackageInfo> {
        self.packages
            .iter()
            .filter(|p| p.package.is_ok())
            .filter_map(|p| p.info.as_ref())
    }

    /// QuerySecurityPackageInfo (the name matches case-insensitively).
    pub fn query_security_package_info(
        &self,
        package: &str,
    ) -> Result<&PackageInfo, SecurityError> {
        self.find(package).map(|(info, _)| info)
    }

    /// The available package `package`: its info and its object.
    fn find(&self, package: &str) -> Result<(&PackageInfo, &SharedPackage), SecurityError> {
        let mut unavailable: Option<&Unavailable> = None;
        for entry in &self.packages {
            if !entry.is_package || !entry.name.eq_ignore_ascii_case(package) {
                continue;
            }
            match (&entry.package, &entry.info) {
                (Ok(boxed), Some(info)) => return Ok((info, boxed)),
                (Err(reason), _) => unavailable = unavailable.or(Some(reason)),
                (Ok(_), None) => {}
            }
        }
        let not_found =
            |message: String| SecurityError::new(SecurityStatus::SEC_E_SECPKG_NOT_FOUND, message);
        if let Some(reason) = unavailable {
            return Err(not_found(format!(
                "package {package} is installed but unavailable: {reason}"
            )));
        }
        // A library that failed to load may have been meant to provide it.
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(source, reason)| format!("{source} ({reason})"))
            .collect();
        Err(not_found(if failed.is_empty() {
            format!("no security package named {package} is installed")
        } else {
            format!(
                "no loaded library provides a security package named {package}; {} failed to load and may provide it: {}",
                if failed.len() == 1 {
                    "one provider library"
                } else {
                    "provider libraries"
                },
                failed.join("; ")
            )
        }))
    }

    /// AcquireCredentialsHandle: credentials of `package` for `credential_use`
    /// (the client acquires OUTBOUND, the server INBOUND). `principal` and
    /// `auth_identity` select an identity; `None` for the package's default.
    pub fn acquire_credentials_handle(
        &self,
        package: &str,
        principal: Option<&str>,
        credential_use: CredentialUse,
        auth_identity: Option<AuthIdentity>,
    ) -> Result<CredentialsHandle, SecurityError> {
        let (info, boxed) = self.find(package)?;
        let request = CredentialsRequest {
            principal: principal.map(Into::into).into(),
            credential_use,
            auth_identity: match auth_identity {
                Some(identity) => ROption::RSome(identity),
                None => ROption::RNone,
            },
        };
        let meta = Arc::new(PackageMeta {
            name: info.name.to_string(),
            info: info.clone(),
        });
        match boxed.acquire_credentials_handle(request) {
            RResult::ROk(credentials) => {
                tracing::debug!(package = %meta.name, use_ = %credential_use, "AcquireCredentialsHandle");
                Ok(CredentialsHandle::new(credentials, meta))
            }
            RResult::RErr(e) => {
                tracing::debug!(package = %meta.name, status = %e.status(), "AcquireCredentialsHandle failed");
                Err(e.context(format_args!("{} AcquireCredentialsHandle", meta.name)))
            }
        }
    }
}

impl SecurityHost {
    /// ImportSecurityContext: the context packed in `blob` by
    /// [`crate::SecurityContextHandle::export_security_context`] (in this process
    /// or another with the same packages), as a complete context of
    /// `package` that continues where the exported one was.
    ///
    /// `package` not installed or unavailable is SEC_E_SECPKG_NOT_FOUND. A
    /// blob that is not one, of another format version, truncated, altered
    /// (its SHA-256 digest does not match), of another package, or whose
    /// payload the package refuses is SEC_E_INVALID_TOKEN, with a message
    /// naming what is wrong (never any of the blob's bytes); no input panics.
    /// A package that does not import contexts (Negotiate, Example) answers
    /// SEC_E_UNSUPPORTED_FUNCTION. The digest is not a MAC: a blob is as
    /// secret as the keys it holds.
    pub fn import_security_context(
        &self,
        package: &str,
        blob: &[u8],
    ) -> Result<crate::handle::SecurityContextHandle, SecurityError> {
        let (info, boxed) = self.find(package)?;
        let name = info.name.to_string();
        let call = "ImportSecurityContext";
        let decoded = sspi_core::context_export::decode(blob)
            .map_err(|e| e.context(format_args!("{name} {call}")))?;
        if !decoded.package.eq_ignore_ascii_case(&name) {
            return Err(SecurityError::invalid_token(format!(
                "{name} {call}: the packed context is a {} context of package {}, not of {name}",
                decoded.side.name(),
                decoded.package
            )));
        }
        let context = boxed
            .import_context(decoded.side, decoded.payload.into())
            .into_result()
            .map_err(|e| e.context(format_args!("{name} {call}")))?;
        tracing::debug!(package = %name, side = decoded.side.name(), "ImportSecurityContext");
        let meta = Arc::new(PackageMeta {
            name,
            info: info.clone(),
        });
        Ok(crate::handle::SecurityContextHandle::imported(
            sspi_core::ContextObject::new(context),
            meta,
        ))
    }
}

/// One provider library file as [`SecurityHost::check_provider_files`] found it.
#[derive(Debug)]
pub struct ProviderFile {
    /// The library as `Providers` names it.
    pub library: String,
    /// Where `Providers` was set.
    pub location: Location,
    /// Where it resolved (and passed the trust and digest checks), or why not.
    pub checked: Result<Resolved, Unavailable>,
}

/// A composing package waiting for the packages it is built from.
struct Deferred {
    name: String,
    source: PackageSource,
    descriptor: PackageDescriptor,
}

/// Checks a package's registry values against what it declares, then opens it
/// (handing a composing package its `inner` packages).
fn open_checked(
    config: &SecurityConfig,
    descriptor: &PackageDescriptor,
    name: &str,
    source: &PackageSource,
    inner: &[InnerPackage],
) -> Result<SharedPackage, Unavailable> {
    let params = package_parameters_of(config, name);
    let findings = sspi_core::check_parameters(&descriptor.parameters, &params);
    for warning in findings.iter().filter(|f| f.severity == Severity::Warning) {
        tracing::warn!(package = %name, %warning, "registry value not read by the package");
    }
    // A value outside what the package declares: refused before the package
    // sees it, with the value's own place.
    if let Some(error) = findings.iter().find(|f| f.severity == Severity::Error) {
        return Err(Unavailable::ParametersRejected {
            package: name.to_owned(),
            library: source.clone(),
            error: SecurityError::new(SecurityStatus::SEC_E_CANNOT_INSTALL, error.to_string()),
        });
    }
    match (descriptor.open)(&params, RSlice::from_slice(inner)) {
        RResult::ROk(package) => Ok(RArc::new(package)),
        RResult::RErr(error) => Err(Unavailable::ParametersRejected {
            package: name.to_owned(),
            library: source.clone(),
            error,
        }),
    }
}

/// Where a composing package stands while the host resolves compositions.
enum Resolution {
    Pending(Box<Deferred>),
    Opening,
    Done,
}

/// Opens every composing package after the packages it names, composing
/// packages in dependency order, refusing cycles.
fn open_composing_packages(
    config: &SecurityConfig,
    packages: &mut [PackageEntry],
    deferred: Vec<Deferred>,
) {
    let order: Vec<String> = deferred
        .iter()
        .map(|d| d.name.to_ascii_lowercase())
        .collect();
    let mut states: HashMap<String, Resolution> = deferred
        .into_iter()
        .map(|d| {
            (
                d.name.to_ascii_lowercase(),
                Resolution::Pending(Box::new(d)),
            )
        })
        .collect();
    for name in order {
        resolve_composition(config, packages, &mut states, &name, &mut Vec::new());
    }
}

fn resolve_composition(
    config: &SecurityConfig,
    packages: &mut [PackageEntry],
    states: &mut HashMap<String, Resolution>,
    key: &str,
    stack: &mut Vec<String>,
) {
    let Some(Resolution::Pending(deferred)) = states.insert(key.to_owned(), Resolution::Opening)
    else {
        // Done, or not a composing package: nothing to open.
        return;
    };
    stack.push(deferred.name.clone());
    let composition = deferred
        .descriptor
        .composition
        .into_option()
        .expect("only composing packages are deferred");
    let params = package_parameters_of(config, &deferred.name);
    let opened = composition::inner_list(&deferred.name, &composition, &params).and_then(|list| {
        let inner = collect_inner(config, packages, states, &list, stack)?;
        Ok(inner)
    });
    let package = match opened {
        Ok(inner) => open_checked(
            config,
            &deferred.descriptor,
            &deferred.name,
            &deferred.source,
            &inner,
        ),
        Err(error) => Err(Unavailable::Composition {
            package: deferred.name.clone(),
            library: deferred.source.clone(),
            error: Box::new(error),
        }),
    };
    match &package {
        Ok(_) => {
            tracing::info!(package = %deferred.name, source = %deferred.source, "security package loaded")
        }
        Err(reason) => {
            tracing::warn!(package = %deferred.name, source = %deferred.source, %reason, "security package unavailable")
        }
    }
    if let Some(entry) = packages.iter_mut().find(|p| {
        p.is_package && p.info.is_some() && p.source == deferred.source && p.name == deferred.name
    }) {
        entry.package = package.map_err(Arc::new);
    }
    stack.pop();
    states.insert(key.to_owned(), Resolution::Done);
}

/// The inner packages `list` names, each checked, composing ones opened first.
fn collect_inner(
    config: &SecurityConfig,
    packages: &mut [PackageEntry],
    states: &mut HashMap<String, Resolution>,
    list: &InnerList,
    stack: &mut Vec<String>,
) -> Result<Vec<InnerPackage>, CompositionError> {
    let mut inner = Vec::new();
    for name in &list.names {
        let key = name.to_ascii_lowercase();
        let cycle = |from: &[String]| {
            let start = from
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
                .unwrap_or(0);
            let mut cycle: Vec<String> = from[start..].to_vec();
            cycle.push(name.clone());
            CompositionError::Cycle {
                value: list.value.clone(),
                cycle,
                at: list.at.clone(),
            }
        };
        if stack.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(cycle(stack));
        }
        match states.get(&key) {
            Some(Resolution::Pending(_)) => {
                resolve_composition(config, packages, states, &key, stack)
            }
            Some(Resolution::Opening) => return Err(cycle(stack)),
            _ => {}
        }
        let Some(entry) = packages
            .iter()
            .find(|p| p.is_package && p.name.eq_ignore_ascii_case(name))
        else {
            if list.explicit {
                return Err(CompositionError::NotInstalled {
                    value: list.value.clone(),
                    inner: name.clone(),
                    at: list.at.clone(),
                });
            }
            tracing::info!(package = %list.value, inner = %name, "default inner package not installed; left out");
            continue;
        };
        match (&entry.package, &entry.info) {
            (Ok(package), Some(info)) => {
                composition::check_negotiable(list, name, info)?;
                inner.push(InnerPackage::new(info.clone(), package.clone()));
            }
            (Err(reason), _) if list.explicit => {
                return Err(CompositionError::InnerUnavailable {
                    value: list.value.clone(),
                    inner: name.clone(),
                    at: list.at.clone(),
                    reason: Arc::clone(reason),
                });
            }
            (Err(reason), _) => {
                tracing::warn!(package = %list.value, inner = %name, %reason, "default inner package unavailable; left out");
            }
            (Ok(_), None) => {}
        }
    }
    if inner.is_empty() {
        return Err(CompositionError::Empty {
            value: list.value.clone(),
            at: list.at.clone(),
        });
    }
    Ok(inner)
}

fn package_parameters_of(config: &SecurityConfig, name: &str) -> PackageParameters {
    let key_path = format!("{PROVIDERS_KEY}\\{name}");
    package_parameters(&key_path, config.package_key(name))
}

/// Replaces each failed library's entry by one entry per package the
/// registry expected from it: a package key (a subkey of `SecurityProviders`)
/// that no loaded library provides is attributed to the failed library whose
/// name contains the package's (`sspi_ntlm.dll` for `NTLM`), or to the only
/// failed library. A failed library no key is attributed to keeps its entry.
fn attribute_failed_libraries(
    config: &SecurityConfig,
    packages: Vec<PackageEntry>,
    failed: &[(usize, Arc<Unavailable>)],
) -> Vec<PackageEntry> {
    if failed.is_empty() {
        return packages;
    }
    let unclaimed: Vec<String> = config
        .registry()
        .key(PROVIDERS_KEY)
        .map(|key| {
            key.subkeys()
                .map(|k| k.name().to_owned())
                .filter(|k| {
                    !k.eq_ignore_ascii_case(LIBRARY_DIGESTS_SUBKEY)
                        && !k.eq_ignore_ascii_case(ADD_PROVIDERS_SUBKEY)
                })
                .filter(|k| {
                    !packages
                        .iter()
                        .any(|p| p.info.is_some() && p.name.eq_ignore_ascii_case(k))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut attributed: Vec<Vec<String>> = vec![Vec::new(); failed.len()];
    for key in unclaimed {
        let lower = key.to_ascii_lowercase();
        let by_name: Vec<usize> = failed
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| packages[*at].source.stem().contains(&lower))
            .map(|(i, _)| i)
            .collect();
        let owner = match by_name.as_slice() {
            [only] => Some(*only),
            [] if failed.len() == 1 => Some(0),
            _ => None,
        };
        if let Some(owner) = owner {
            attributed[owner].push(key);
        }
    }
    let mut out = Vec::with_capacity(packages.len());
    for (index, entry) in packages.into_iter().enumerate() {
        let Some(slot) = failed.iter().position(|(at, _)| *at == index) else {
            out.push(entry);
            continue;
        };
        let names = &attributed[slot];
        if names.is_empty() {
            out.push(entry);
            continue;
        }
        let reason = &failed[slot].1;
        for name in names {
            out.push(PackageEntry {
                name: name.clone(),
                is_package: true,
                info: None,
                parameters: &[],
                source: entry.source.clone(),
                location: entry.location.clone(),
                package: Err(Arc::new(Unavailable::LibraryFailed {
                    library: entry.source.clone(),
                    location: entry.location.clone(),
                    reason: Arc::clone(reason),
                })),
            });
        }
    }
    out
}

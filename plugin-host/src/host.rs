//! `SecurityHost`: the installed packages, enumerated and ready to hand out credentials.

use crate::handle::{CredentialsHandle, PackageMeta};
use crate::library::{self, Descriptors};
use crate::params::package_parameters;
use crate::{HostError, resolve};
use abi_stable::std_types::{ROption, RResult};
use sspi_core::ffi::PackageBox;
use sspi_core::{
    AuthIdentity, CredentialUse, CredentialsRequest, PackageInfo, SecurityError, SecurityStatus,
};
use sspi_registry::{LibrarySpec, Location, SecurityConfig};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageState<'a> {
    /// Loaded and ready.
    Available,
    /// Not usable, and why (path, error).
    Unavailable(&'a str),
}

/// One row of EnumerateSecurityPackages: a package, or a library whose
/// packages could not be listed.
pub struct PackageEntry {
    name: String,
    info: Option<PackageInfo>,
    source: PackageSource,
    location: Location,
    package: Result<PackageBox, String>,
}

impl PackageEntry {
    /// The package name; for a library that failed to load, the library's name.
    pub fn name(&self) -> &str {
        &self.name
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
        let dirs = resolve::search_dirs(config.library_path());
        let mut packages: Vec<PackageEntry> = Vec::new();
        for provider in config.providers() {
            let (source, listed) = match &provider.library {
                LibrarySpec::Builtin(name) => (
                    PackageSource::Builtin { name: name.clone() },
                    library::load_builtin(name),
                ),
                LibrarySpec::File { name, base_dir } => {
                    match resolve::resolve(name, base_dir, &dirs) {
                        Ok(path) => {
                            let listed = library::load_plugin(&path, provider.digest.as_ref());
                            (
                                PackageSource::Plugin {
                                    library: name.clone(),
                                    path: Some(path),
                                },
                                listed,
                            )
                        }
                        Err(e) => (
                            PackageSource::Plugin {
                                library: name.clone(),
                                path: None,
                            },
                            Err(e),
                        ),
                    }
                }
            };
            match listed {
                Ok(descriptors) => Self::open_all(
                    &config,
                    &mut packages,
                    descriptors,
                    &source,
                    &provider.location,
                ),
                Err(reason) => {
                    tracing::warn!(library = %source, registry = %provider.location, %reason, "provider library unavailable");
                    packages.push(PackageEntry {
                        name: match &source {
                            PackageSource::Plugin { library, .. } => library.clone(),
                            PackageSource::Builtin { name } => format!("builtin:{name}"),
                        },
                        info: None,
                        source,
                        location: provider.location.clone(),
                        package: Err(reason),
                    });
                }
            }
        }
        Self { config, packages }
    }

    fn open_all(
        config: &SecurityConfig,
        packages: &mut Vec<PackageEntry>,
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
                Err(format!(
                    "duplicate package name {name}: already provided by {} (installed at {}); this copy from {source} (installed at {location}) is ignored",
                    first.source, first.location
                ))
            } else {
                let key_path = format!("{PROVIDERS_KEY}\\{name}");
                let params = package_parameters(&key_path, config.package_key(&name));
                match (descriptor.open)(&params) {
                    RResult::ROk(package) => Ok(package),
                    RResult::RErr(e) => Err(format!(
                        "{source}: package {name} failed to initialise: {e}"
                    )),
                }
            };
            match &package {
                Ok(_) => tracing::info!(package = %name, %source, "security package loaded"),
                Err(reason) => {
                    tracing::warn!(package = %name, %source, %reason, "security package unavailable")
                }
            }
            packages.push(PackageEntry {
                name,
                info: Some(descriptor.info),
                source: source.clone(),
                location: location.clone(),
                package,
            });
        }
    }

    /// Checks every provider library file of `config` as loading would —
    /// where it resolves, who may write it, its pinned digest — without
    /// loading any (no code of a library runs). One line per fault, naming
    /// the registry location of `Providers`.
    pub fn check_provider_files(config: &SecurityConfig) -> Vec<String> {
        let dirs = resolve::search_dirs(config.library_path());
        config
            .providers()
            .iter()
            .filter_map(|provider| {
                let LibrarySpec::File { name, base_dir } = &provider.library else {
                    return None;
                };
                let checked = resolve::resolve(name, base_dir, &dirs)
                    .and_then(|path| library::check_plugin(&path, provider.digest.as_ref()));
                checked
                    .err()
                    .map(|reason| format!("{}: library {name}: {reason}", provider.location))
            })
            .collect()
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
    fn find(&self, package: &str) -> Result<(&PackageInfo, &PackageBox), SecurityError> {
        let mut unavailable = None;
        for entry in &self.packages {
            let Some(info) = entry
                .info
                .as_ref()
                .filter(|_| entry.name.eq_ignore_ascii_case(package))
            else {
                continue;
            };
            match &entry.package {
                Ok(boxed) => return Ok((info, boxed)),
                Err(reason) => unavailable = unavailable.or(Some(reason)),
            }
        }
        Err(match unavailable {
            Some(reason) => SecurityError::new(
                SecurityStatus::SEC_E_SECPKG_NOT_FOUND,
                format!("package {package} is installed but unavailable: {reason}"),
            ),
            None => SecurityError::new(
                SecurityStatus::SEC_E_SECPKG_NOT_FOUND,
                format!("no security package named {package} is installed"),
            ),
        })
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

//! Opening composing packages (Negotiate) after the packages they are built from.
//!
//! A package whose descriptor declares a [`Composition`] names, in a registry
//! value of its key, the packages it is built from. The host opens those
//! first (composing packages in dependency order, whatever the `Providers`
//! order), checks each one, and hands their shared objects to the composing
//! package's `open`. Every problem is a [`CompositionError`] naming the
//! value's `file:line:column`, and makes only the composing package unavailable.

use crate::Unavailable;
use sspi_core::composition::split_package_list;
use sspi_core::{Composition, PackageCapabilities, PackageInfo, PackageParameters, ParameterValue};
use std::fmt;
use std::sync::Arc;

/// What is wrong with a composing package's list of inner packages.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CompositionError {
    /// The list names a package no provider library provides.
    #[error("{at}: {value} names {inner}, which no provider library provides")]
    NotInstalled {
        /// The value (`Negotiate\Packages`).
        value: String,
        /// The package it names.
        inner: String,
        /// Where the value is set.
        at: ValueOrigin,
    },
    /// The list names a package that is installed but unavailable.
    #[error("{at}: {value} names {inner}, which is unavailable: {reason}")]
    InnerUnavailable {
        /// The value.
        value: String,
        /// The package it names.
        inner: String,
        /// Where the value is set.
        at: ValueOrigin,
        /// Why the inner package is unavailable.
        reason: Arc<Unavailable>,
    },
    /// The list names a package that does not declare SECPKG_FLAG_NEGOTIABLE.
    #[error(
        "{at}: {value} names {inner}, which is not SECPKG_FLAG_NEGOTIABLE and cannot be negotiated"
    )]
    NotNegotiable {
        /// The value.
        value: String,
        /// The package it names.
        inner: String,
        /// Where the value is set.
        at: ValueOrigin,
    },
    /// The list leads back to the composing package.
    #[error("{at}: {value} makes a cycle: {}", .cycle.join(" -> "))]
    Cycle {
        /// The value.
        value: String,
        /// The packages of the cycle, from the composing package back to it.
        cycle: Vec<String>,
        /// Where the value is set.
        at: ValueOrigin,
    },
    /// No package is left to compose.
    #[error("{at}: {value} names no installed package")]
    Empty {
        /// The value.
        value: String,
        /// Where the value is set.
        at: ValueOrigin,
    },
    /// The value is not a list of names.
    #[error("{at}: {value} must be a REG_SZ of comma-separated package names, not {found}")]
    WrongType {
        /// The value.
        value: String,
        /// The type found.
        found: &'static str,
        /// Where the value is set.
        at: ValueOrigin,
    },
}

/// Where a composing package's list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueOrigin {
    /// The registry value, set at `file:line:column`.
    Registry(String),
    /// The package's default list (the value is not set).
    Default {
        /// The default list.
        list: String,
        /// The registry key the value would be in.
        key: String,
    },
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(origin) => f.write_str(origin),
            Self::Default { list, key } => {
                write!(f, "{key} (unset, so the default \"{list}\")")
            }
        }
    }
}

/// The list a composing package asks for: names, where it is set, whether it is explicit.
pub(crate) struct InnerList {
    pub names: Vec<String>,
    pub value: String,
    pub at: ValueOrigin,
    /// Set in the registry (every name must resolve), or the package's default
    /// (names that are not installed are left out).
    pub explicit: bool,
}

/// Reads the list `composition` points at from `params` (the composing package `package`'s key).
pub(crate) fn inner_list(
    package: &str,
    composition: &Composition,
    params: &PackageParameters,
) -> Result<InnerList, CompositionError> {
    let value = format!("{package}\\{}", composition.value);
    let Some(parameter) = params.get(composition.value.as_str()) else {
        return Ok(InnerList {
            names: split_package_list(composition.default.as_str())
                .map(str::to_owned)
                .collect(),
            at: ValueOrigin::Default {
                list: composition.default.to_string(),
                key: params.key_path.to_string(),
            },
            value,
            explicit: false,
        });
    };
    let at = ValueOrigin::Registry(parameter.origin.to_string());
    let names = match &parameter.value {
        ParameterValue::Sz(list) | ParameterValue::ExpandSz(list) => {
            split_package_list(list).map(str::to_owned).collect()
        }
        other => {
            return Err(CompositionError::WrongType {
                value,
                found: other.type_name(),
                at,
            });
        }
    };
    Ok(InnerList {
        names,
        value,
        at,
        explicit: true,
    })
}

/// Checks that `inner` (named `name` in `list`) can be negotiated.
pub(crate) fn check_negotiable(
    list: &InnerList,
    name: &str,
    info: &PackageInfo,
) -> Result<(), CompositionError> {
    if info.capabilities.contains(PackageCapabilities::NEGOTIABLE) {
        return Ok(());
    }
    Err(CompositionError::NotNegotiable {
        value: list.value.clone(),
        inner: name.to_owned(),
        at: list.at.clone(),
    })
}

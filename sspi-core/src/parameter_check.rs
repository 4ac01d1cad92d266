//! Checking a package's registry values against what it declares it reads
//! ([`ParameterSpec`]), for `sspi registry check`.

use crate::{PackageParameters, Parameter, ParameterKind, ParameterSpec, ParameterValue};
use std::fmt;

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The value is not one the package reads (a misspelling, most likely):
    /// it is ignored, the configuration still works.
    Warning,
    /// The value has the wrong type or is out of range: the package refuses it.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One problem with one registry value, pointing at the value's own
/// `file:line:column` first:
/// `sspi.reg:12:1: warning: unknown value "DefualtUser" (did you mean "DefaultUser"?) (key HKEY_LOCAL_MACHINE\...\NTLM, value "DefualtUser")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Warning or error.
    pub severity: Severity,
    /// Where the value was set, `file:line:column`.
    pub origin: String,
    /// The full path of the key the value is in.
    pub key_path: String,
    /// The value's name (`""` for the default value `@`).
    pub name: String,
    /// What is wrong, in one line.
    pub message: String,
    /// The declared name the value most likely meant, for unknown values.
    pub suggestion: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.severity, self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " (did you mean \"{suggestion}\"?)")?;
        }
        if self.name.is_empty() {
            write!(f, " (key {}, default value @)", self.key_path)
        } else {
            write!(f, " (key {}, value \"{}\")", self.key_path, self.name)
        }
    }
}

/// How similar a name must be to a declared one to be suggested (Jaro-Winkler, case-folded).
const SUGGESTION_THRESHOLD: f64 = 0.8;

/// Checks every value of a package's registry key (and its subkeys) against
/// the values the package declares (`PackageFactory::parameters`), in registry order:
///
/// * a value the package does not declare, in its key or in a declared
///   subkey (`Users\<name>`), is a [`Severity::Warning`] with the closest
///   declared name as a suggestion; so is a value in a subkey the package
///   declares nothing for (`Userz\alice`);
/// * a value of the wrong type, or a number out of its declared range, is a
///   [`Severity::Error`].
///
/// Names match case-insensitively, as in the registry. A package that
/// declares no values at all is not checked (nothing would be known).
///
/// ```
/// use sspi_core::{check_parameters, PackageParameters, Parameter, ParameterSpec, ParameterValue, Severity};
///
/// const SPECS: &[ParameterSpec] = &[
///     ParameterSpec::string("DefaultUser", "", "the client identity"),
///     ParameterSpec::dword("Legs", 3, 16, "3", "tokens in a handshake"),
/// ];
/// let value = |name: &str, value, line| Parameter {
///     key: "".into(),
///     name: name.into(),
///     value,
///     origin: format!("sspi.reg:{line}:1").into(),
/// };
/// let params = PackageParameters {
///     key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test".into(),
///     entries: vec![
///         value("DefualtUser", ParameterValue::Sz("alice".into()), 7),
///         value("Legs", ParameterValue::Dword(2), 8),
///     ]
///     .into(),
/// };
/// let findings = check_parameters(SPECS, &params);
/// assert_eq!(findings[0].severity, Severity::Warning);
/// assert_eq!(findings[0].suggestion.as_deref(), Some("DefaultUser"));
/// assert!(findings[0].to_string().starts_with("sspi.reg:7:1: warning: unknown value"));
/// assert_eq!(findings[1].severity, Severity::Error);
/// assert!(findings[1].to_string().starts_with("sspi.reg:8:1: error: Legs must be between 3 and 16, not 2"));
/// ```
pub fn check_parameters(specs: &[ParameterSpec], params: &PackageParameters) -> Vec<Finding> {
    if specs.is_empty() {
        return Vec::new();
    }
    params
        .entries
        .iter()
        .filter_map(|parameter| check_one(specs, params, parameter))
        .collect()
}

fn check_one(
    specs: &[ParameterSpec],
    params: &PackageParameters,
    parameter: &Parameter,
) -> Option<Finding> {
    let key = parameter.key.as_str();
    let name = parameter.name.as_str();
    let finding = |severity, message: String, suggestion: Option<String>| Finding {
        severity,
        origin: parameter.origin.to_string(),
        key_path: if key.is_empty() {
            params.key_path.to_string()
        } else {
            format!("{}\\{key}", params.key_path)
        },
        name: name.to_owned(),
        message,
        suggestion,
    };
    // The parent whose subkeys `key` is one of ("" for the package's own key).
    let parent = if key.is_empty() {
        Some("")
    } else {
        key.rsplit_once('\\')
            .map(|(parent, _)| parent)
            .filter(|parent| {
                specs
                    .iter()
                    .any(|s| s.subkey_parent().eq_ignore_ascii_case(parent))
            })
    };
    let Some(parent) = parent else {
        // A subkey the package reads nothing from.
        let parents: Vec<&str> = specs
            .iter()
            .map(ParameterSpec::subkey_parent)
            .filter(|p| !p.is_empty())
            .collect();
        let first = key.split('\\').next().unwrap_or(key);
        return Some(finding(
            Severity::Warning,
            format!("unknown subkey \"{key}\": the package reads no values there"),
            closest(first, parents.iter().copied()).map(str::to_owned),
        ));
    };
    let in_key = specs
        .iter()
        .filter(|s| s.subkey_parent().eq_ignore_ascii_case(parent));
    let Some(spec) = in_key.clone().find(|s| s.name().eq_ignore_ascii_case(name)) else {
        let what = if name.is_empty() {
            "unknown default value @".to_owned()
        } else {
            format!("unknown value \"{name}\"")
        };
        let place = if parent.is_empty() {
            "the package's key".to_owned()
        } else {
            format!("a {parent}\\<name> key")
        };
        return Some(finding(
            Severity::Warning,
            format!("{what}: the package reads no such value in {place} and ignores it"),
            closest(name, in_key.map(ParameterSpec::name)).map(str::to_owned),
        ));
    };
    type_error(spec, &parameter.value).map(|message| finding(Severity::Error, message, None))
}

/// Why `value` does not fit `spec`, if it does not.
fn type_error(spec: &ParameterSpec, value: &ParameterValue) -> Option<String> {
    let name = spec.name();
    let number = match (spec.kind(), value) {
        (ParameterKind::Sz | ParameterKind::Path, ParameterValue::Sz(_))
        | (ParameterKind::Sz | ParameterKind::Path, ParameterValue::ExpandSz(_))
        | (ParameterKind::MultiSz, ParameterValue::MultiSz(_))
        | (ParameterKind::MultiSz, ParameterValue::Sz(_))
        | (ParameterKind::Binary, ParameterValue::Binary(_)) => return None,
        (ParameterKind::Dword | ParameterKind::Flag, ParameterValue::Dword(d)) => u64::from(*d),
        (ParameterKind::Qword, ParameterValue::Qword(q)) => *q,
        (kind, other) => {
            return Some(format!(
                "{name} must be {}, found {}",
                kind.type_name(),
                other.type_name()
            ));
        }
    };
    let (min, max) = spec.range()?;
    // The meaning says what the numbers do, and often why others are refused.
    let meaning = match spec.meaning() {
        "" => String::new(),
        meaning => format!(" ({name}: {meaning})"),
    };
    if (min..=max).contains(&number) {
        None
    } else if spec.kind() == ParameterKind::Flag {
        Some(format!("{name} must be 0 or 1, not {number}"))
    } else if (spec.kind() == ParameterKind::Dword && max == u64::from(u32::MAX)) || max == u64::MAX
    {
        Some(format!(
            "{name} must be at least {min}, not {number}{meaning}"
        ))
    } else {
        Some(format!(
            "{name} must be between {min} and {max}, not {number}{meaning}"
        ))
    }
}

/// The candidate most like `name` (case-folded Jaro-Winkler similarity of at
/// least 0.8), if one is like it at all: the "did you mean" of
/// [`check_parameters`], for tools that check other names the same way.
///
/// ```
/// let packages = ["Test", "NTLM", "Kerberos"];
/// assert_eq!(sspi_core::closest("NTML", packages.into_iter()), Some("NTLM"));
/// assert_eq!(sspi_core::closest("Zebra", packages.into_iter()), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let folded = name.to_ascii_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&folded, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParameterSpec] = &[
        ParameterSpec::string("DefaultUser", "", "the client identity"),
        ParameterSpec::flag(
            "RequireChannelBindings",
            "0",
            "refuse clients without bindings",
        ),
        ParameterSpec::strings("AllowedEnctypes", "aes256", "etypes"),
        ParameterSpec::qword("Big", 1, 10, "1", "a qword"),
        ParameterSpec::dword("Seconds", 1, u32::MAX, "300", "no upper bound"),
        ParameterSpec::string("Password", "", "a user's password").in_subkeys("Users"),
    ];

    fn params(entries: &[(&str, &str, ParameterValue)]) -> PackageParameters {
        PackageParameters {
            key_path: r"HKLM\Comm\SecurityProviders\X".into(),
            entries: entries
                .iter()
                .enumerate()
                .map(|(i, (key, name, value))| Parameter {
                    key: (*key).into(),
                    name: (*name).into(),
                    value: value.clone(),
                    origin: format!("x.reg:{}:1", i + 1).into(),
                })
                .collect(),
        }
    }

    fn check(entries: &[(&str, &str, ParameterValue)]) -> Vec<String> {
        check_parameters(SPECS, &params(entries))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn declared_values_of_the_right_type_pass_case_insensitively() {
        assert!(
            check(&[
                ("", "defaultuser", ParameterValue::Sz("alice".into())),
                ("", "RequireChannelBindings", ParameterValue::Dword(1)),
                ("", "AllowedEnctypes", ParameterValue::Sz("aes128".into())),
                (
                    "",
                    "AllowedEnctypes",
                    ParameterValue::MultiSz(vec!["a".into()].into())
                ),
                ("", "Big", ParameterValue::Qword(10)),
                (r"Users\alice", "Password", ParameterValue::Sz("pw".into())),
            ])
            .is_empty()
        );
    }

    #[test]
    fn unknown_values_are_warnings_with_the_closest_name() {
        let found = check(&[
            ("", "DefualtUser", ParameterValue::Sz("alice".into())),
            (r"Users\bob", "Pasword", ParameterValue::Sz("pw".into())),
            ("", "Zebra", ParameterValue::Dword(1)),
            (r"Userz\carol", "Password", ParameterValue::Sz("pw".into())),
        ]);
        assert_eq!(
            found,
            [
                r#"x.reg:1:1: warning: unknown value "DefualtUser": the package reads no such value in the package's key and ignores it (did you mean "DefaultUser"?) (key HKLM\Comm\SecurityProviders\X, value "DefualtUser")"#,
                r#"x.reg:2:1: warning: unknown value "Pasword": the package reads no such value in a Users\<name> key and ignores it (did you mean "Password"?) (key HKLM\Comm\SecurityProviders\X\Users\bob, value "Pasword")"#,
                r#"x.reg:3:1: warning: unknown value "Zebra": the package reads no such value in the package's key and ignores it (key HKLM\Comm\SecurityProviders\X, value "Zebra")"#,
                r#"x.reg:4:1: warning: unknown subkey "Userz\carol": the package reads no values there (did you mean "Users"?) (key HKLM\Comm\SecurityProviders\X\Userz\carol, value "Password")"#,
            ]
        );
    }

    #[test]
    fn wrong_types_and_ranges_are_errors() {
        let found = check_parameters(
            SPECS,
            &params(&[
                ("", "DefaultUser", ParameterValue::Dword(1)),
                ("", "RequireChannelBindings", ParameterValue::Dword(2)),
                ("", "Big", ParameterValue::Qword(11)),
                ("", "Big", ParameterValue::Dword(5)),
                ("", "Seconds", ParameterValue::Dword(0)),
            ]),
        );
        assert!(found.iter().all(|f| f.severity == Severity::Error));
        let text: Vec<String> = found.iter().map(|f| f.message.clone()).collect();
        assert_eq!(
            text,
            [
                "DefaultUser must be REG_SZ, found REG_DWORD",
                "RequireChannelBindings must be 0 or 1, not 2",
                "Big must be between 1 and 10, not 11 (Big: a qword)",
                "Big must be REG_QWORD, found REG_DWORD",
                "Seconds must be at least 1, not 0 (Seconds: no upper bound)",
            ]
        );
    }

    #[test]
    fn a_package_that_declares_nothing_is_not_checked() {
        assert!(
            check_parameters(&[], &params(&[("", "Anything", ParameterValue::Dword(1))]))
                .is_empty()
        );
    }
}

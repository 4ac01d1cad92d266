//! `PackageList` (`SEC_WINNT_AUTH_IDENTITY_EX`): the application narrowing
//! Negotiate's packages for one credential handle.
//!
//! Comma-separated, case-insensitive package names. `!NAME` takes a package
//! out; once any name without `!` appears, only the names listed without `!`
//! remain (in Negotiate's configured order, not the list's). `"!ntlm"`: every
//! configured package but NTLM. `"kerberos"`: Kerberos only.

use sspi_core::composition::split_package_list;
use sspi_core::{SecurityError, SecurityResult, SecurityStatus};

/// Which of `configured` (the names Negotiate was built from, in order) the
/// list `list` allows. An empty list allows all.
pub fn allowed<'c>(list: &str, configured: &[&'c str]) -> SecurityResult<Vec<&'c str>> {
    let mut only: Vec<&str> = Vec::new();
    let mut not: Vec<&str> = Vec::new();
    for entry in split_package_list(list) {
        let (negated, name) = match entry.strip_prefix('!') {
            Some(name) => (true, name.trim()),
            None => (false, entry),
        };
        if !configured.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_SECPKG_NOT_FOUND,
                format!(
                    "PackageList \"{list}\" names {name}, which Negotiate is not built from (its packages: {})",
                    configured.join(", ")
                ),
            ));
        }
        if negated {
            not.push(name)
        } else {
            only.push(name)
        }
    }
    let kept: Vec<&str> = configured
        .iter()
        .copied()
        .filter(|c| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(c)))
        .filter(|c| !not.iter().any(|n| n.eq_ignore_ascii_case(c)))
        .collect();
    if kept.is_empty() {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_NO_CREDENTIALS,
            format!(
                "PackageList \"{list}\" leaves Negotiate no package (its packages: {})",
                configured.join(", ")
            ),
        ));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIGURED: &[&str] = &["Kerberos", "NTLM"];

    #[test]
    fn an_empty_list_allows_every_package() {
        assert_eq!(allowed("", CONFIGURED).unwrap(), ["Kerberos", "NTLM"]);
    }

    #[test]
    fn a_negation_takes_one_package_out() {
        assert_eq!(allowed("!ntlm", CONFIGURED).unwrap(), ["Kerberos"]);
        assert_eq!(allowed(" !Kerberos ", CONFIGURED).unwrap(), ["NTLM"]);
    }

    #[test]
    fn a_positive_name_keeps_only_the_names_listed_in_configured_order() {
        assert_eq!(allowed("ntlm", CONFIGURED).unwrap(), ["NTLM"]);
        assert_eq!(
            allowed("ntlm, kerberos", CONFIGURED).unwrap(),
            ["Kerberos", "NTLM"]
        );
    }

    #[test]
    fn unknown_names_and_empty_results_are_refused() {
        let unknown = allowed("pku2u", CONFIGURED).unwrap_err();
        assert_eq!(unknown.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
        assert!(unknown.message().contains("pku2u"), "{unknown}");
        let none = allowed("!ntlm,!kerberos", CONFIGURED).unwrap_err();
        assert_eq!(none.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    }
}

//! Whether an untrusted file is refused or only warned about.

/// The environment variable that selects the [`Policy`]: `warn` for
/// development, anything else (or unset) enforces.
pub const POLICY_ENV: &str = "SSPI_FILE_CHECKS";

/// What happens to a file that another user could have written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Refuse it (the default).
    Enforce,
    /// Log a warning and use it anyway (development only).
    Warn,
}

impl Policy {
    /// The policy [`POLICY_ENV`] selects; unset or any value but `warn` enforces.
    pub fn from_env() -> Self {
        match std::env::var(POLICY_ENV) {
            Ok(value) if value.eq_ignore_ascii_case("warn") => Policy::Warn,
            _ => Policy::Enforce,
        }
    }
}

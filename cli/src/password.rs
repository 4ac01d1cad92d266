//! The password of `--user`: from `SSPI_PASSWORD`, or asked for without echo;
//! held in memory that is wiped when dropped.

use sspi_core::AuthIdentity;
use zeroize::Zeroizing;

/// The environment variable that carries the password of `--user`.
pub const PASSWORD_ENV: &str = "SSPI_PASSWORD";

/// The password from [`PASSWORD_ENV`], when it is set.
pub fn from_env() -> Option<Zeroizing<String>> {
    std::env::var(PASSWORD_ENV).ok().map(Zeroizing::new)
}

/// The password from [`PASSWORD_ENV`], else asked for on the terminal.
pub fn from_env_or_prompt(prompt: &str) -> Result<Zeroizing<String>, String> {
    match from_env() {
        Some(password) => Ok(password),
        None => rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read the password: {e}")),
    }
}

/// The identity of `--user USER --domain DOMAIN` (its password from
/// [`PASSWORD_ENV`], else asked for); `None` without `--user` (the
/// package's default identity).
pub fn identity(user: Option<&str>, domain: &str) -> Result<Option<AuthIdentity>, String> {
    let Some(user) = user else {
        return Ok(None);
    };
    let password = from_env_or_prompt(&format!("Password for {domain}\\{user}: "))?;
    Ok(Some(AuthIdentity::new(user, domain, &password)))
}

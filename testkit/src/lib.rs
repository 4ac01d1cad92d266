//! # sspi-testkit
//!
//! The conformance kit for sspi-plug security packages. Given a
//! [`SecurityHost`] (a registry that installs the package), the package's name
//! and the [`Configuration`]s to try (identity, target, flags), [`run`] drives
//! the SSPI handshake loop between a client and a server context of the
//! package, then checks each [`Rule`] and returns a [`Report`] with one
//! [`RuleResult`] per rule and configuration:
//!
//! | rule | what is checked |
//! |---|---|
//! | `handshake` | the loop completes; a signature made by each side verifies on the other, and a message sealed by each side (encrypted: its DATA changed) opens there |
//! | `tampering` | an altered DATA buffer or signature is SEC_E_MESSAGE_ALTERED (sealed messages too) |
//! | `replay` | a message verified (or decrypted) twice is SEC_E_OUT_OF_SEQUENCE the second time |
//! | `reordering` | the second message before the first is SEC_E_OUT_OF_SEQUENCE |
//! | `garbage-token` | random bytes in place of each handshake token: SEC_E_INVALID_TOKEN |
//! | `truncated-token` | each handshake token cut to half (and to one byte): SEC_E_INVALID_TOKEN |
//! | `oversized-token` | each handshake token padded past `cbMaxToken`: SEC_E_INVALID_TOKEN |
//! | `wrong-side` | before every leg and once complete, the other side's call on each context is refused, and the handshake still completes and works |
//! | `out-of-order` | per-message calls, QueryContextAttributes and CompleteAuthToken before the handshake completes, and another leg after it, are refused without harm |
//! | `buffer-too-small` | every leg with an empty output buffer is SEC_E_BUFFER_TOO_SMALL and succeeds when retried with a large one; MakeSignature with a 1-byte TOKEN buffer too |
//! | `no-allocation` | MakeSignature, VerifySignature, EncryptMessage and DecryptMessage allocate nothing, in the host or the package |
//!
//! A panic inside the package shows as SEC_E_INTERNAL_ERROR, and is a failure
//! wherever it happens. Sealing rules are not applicable to a package without
//! SECPKG_FLAG_PRIVACY, which must then answer EncryptMessage with
//! SEC_E_UNSUPPORTED_FUNCTION. `no-allocation` needs the counting allocator of
//! [`count_allocations!`] in the executable (glibc only); without it the rule fails
//! saying so, on other platforms it is skipped.
//!
//! ```no_run
//! sspi_testkit::count_allocations!();
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let host = sspi_plugin_host::SecurityHost::from_registry_files(&["sspi.reg"])?;
//!     let report = sspi_testkit::run(&host, "Example", &[sspi_testkit::Configuration::default()]);
//!     print!("{report}");
//!     assert!(report.passed(), "{:?}", report.failures().collect::<Vec<_>>());
//!     Ok(())
//! }
//! ```
//!
//! `sspi selftest --package NAME` runs the kit on an installed package.
#![deny(missing_docs)]

pub mod alloc;
mod driver;
mod rules;

use sspi_core::{AscReq, AuthIdentity, IscReq};
use sspi_plugin_host::SecurityHost;
use std::fmt;

/// One way to run the handshake: the client's identity, the target and the flags.
#[derive(Debug, Clone)]
pub struct Configuration {
    /// A name for the report ("default identity").
    pub name: String,
    /// The client's identity; `None` for the package's default (its `DefaultUser`).
    pub identity: Option<AuthIdentity>,
    /// The target the client names (an SPN); `None` for none.
    pub target: Option<String>,
    /// What the client asks for.
    pub isc_req: IscReq,
    /// What the server asks for.
    pub asc_req: AscReq,
}

impl Default for Configuration {
    /// The package's default identity, no target, a protected connection.
    fn default() -> Self {
        Self {
            name: "default identity".into(),
            identity: None,
            target: None,
            isc_req: IscReq::PROTECTED_CONNECTION,
            asc_req: AscReq::PROTECTED_CONNECTION,
        }
    }
}

impl Configuration {
    /// The default configuration under another name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The same, with the client's identity.
    pub fn with_identity(mut self, identity: AuthIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The same, with a target.
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The same, with other flags.
    pub fn with_flags(mut self, isc_req: IscReq, asc_req: AscReq) -> Self {
        self.isc_req = isc_req;
        self.asc_req = asc_req;
        self
    }
}

/// A check the kit makes (see the crate docs for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `handshake`
    Handshake,
    /// `tampering`
    Tampering,
    /// `replay`
    Replay,
    /// `reordering`
    Reordering,
    /// `garbage-token`
    GarbageToken,
    /// `truncated-token`
    TruncatedToken,
    /// `oversized-token`
    OversizedToken,
    /// `wrong-side`
    WrongSide,
    /// `out-of-order`
    OutOfOrder,
    /// `buffer-too-small`
    BufferTooSmall,
    /// `no-allocation`
    NoAllocation,
}

impl Rule {
    /// Every rule, in the order the kit checks them.
    pub const ALL: &'static [Rule] = &[
        Rule::Handshake,
        Rule::Tampering,
        Rule::Replay,
        Rule::Reordering,
        Rule::GarbageToken,
        Rule::TruncatedToken,
        Rule::OversizedToken,
        Rule::WrongSide,
        Rule::OutOfOrder,
        Rule::BufferTooSmall,
        Rule::NoAllocation,
    ];

    /// The rule's name, as reports print it (`"replay"`).
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Handshake => "handshake",
            Rule::Tampering => "tampering",
            Rule::Replay => "replay",
            Rule::Reordering => "reordering",
            Rule::GarbageToken => "garbage-token",
            Rule::TruncatedToken => "truncated-token",
            Rule::OversizedToken => "oversized-token",
            Rule::WrongSide => "wrong-side",
            Rule::OutOfOrder => "out-of-order",
            Rule::BufferTooSmall => "buffer-too-small",
            Rule::NoAllocation => "no-allocation",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a rule came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The package follows the rule; what was seen.
    Pass(String),
    /// It does not; what went wrong.
    Fail(String),
    /// The rule does not apply to the package (e.g. sealing rules without
    /// SECPKG_FLAG_PRIVACY), or cannot be checked here; why.
    Skipped(String),
}

/// One rule's result in one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// The configuration's name.
    pub configuration: String,
    /// Pass, fail or skipped, with the message.
    pub outcome: Outcome,
}

impl RuleResult {
    /// True unless the rule failed.
    pub fn ok(&self) -> bool {
        !matches!(self.outcome, Outcome::Fail(_))
    }
}

impl fmt::Display for RuleResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, message) = match &self.outcome {
            Outcome::Pass(m) => ("PASS", m),
            Outcome::Fail(m) => ("FAIL", m),
            Outcome::Skipped(m) => ("SKIP", m),
        };
        write!(
            f,
            "{word} {:<16} [{}] {message}",
            self.rule.name(),
            self.configuration
        )
    }
}

/// What [`run`] found: every rule's result, in order.
#[derive(Debug, Clone)]
pub struct Report {
    /// The package checked.
    pub package: String,
    /// One result per rule and configuration.
    pub results: Vec<RuleResult>,
}

impl Report {
    /// True when no rule failed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(RuleResult::ok)
    }

    /// The failed rules.
    pub fn failures(&self) -> impl Iterator<Item = &RuleResult> {
        self.results.iter().filter(|r| !r.ok())
    }

    /// The result of `rule` in the configuration named `configuration`.
    pub fn result(&self, rule: Rule, configuration: &str) -> Option<&RuleResult> {
        self.results
            .iter()
            .find(|r| r.rule == rule && r.configuration == configuration)
    }
}

impl fmt::Display for Report {
    /// One line per rule, then a summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            writeln!(f, "{result}")?;
        }
        let failed = self.failures().count();
        writeln!(
            f,
            "{}: {} rule result(s), {failed} failed",
            self.package,
            self.results.len()
        )
    }
}

/// Runs every [`Rule`] on `package` of `host` in each configuration.
pub fn run(host: &SecurityHost, package: &str, configurations: &[Configuration]) -> Report {
    let mut results = Vec::new();
    for config in configurations {
        for (rule, outcome) in rules::check_all(host, package, config) {
            results.push(RuleResult {
                rule,
                configuration: config.name.clone(),
                outcome,
            });
        }
    }
    Report {
        package: package.to_string(),
        results,
    }
}

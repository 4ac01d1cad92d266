//! MIT `kinit -f`, `kinit -r` and `kinit -R` against our embedded KDC
//! (MIT Kerberos 1.20's tools, `scripts/mit-krb5/install.sh`):
//!
//! * `kinit -f -r 2d alice`: `klist -f` shows the F and R flags and a renew
//!   until, and the credential cache (read back with the package's ccache
//!   reader) holds renew-till = now + 2 days and the KDC's 10-hour end time;
//! * `kinit -R` renews it: a later end time, the same renew-till, klist still
//!   shows it; `kvno host/localhost` with the forwardable, renewable TGT gets
//!   a service ticket that MIT asked forwardable and renewable too;
//! * plain `kinit alice`: no F; R by renewable-ok (MIT asks 24 hours, our
//!   KDC gives 10: renewable until the 24 hours); `kinit -l 1h alice`: no F,
//!   no R, and `kinit -R` is refused (KDC_ERR_BADOPTION: "KDC can't fulfill
//!   requested option");
//! * `kinit -f bob`, bob marked `noforward`: no F.
//!
//! Without the MIT tools the test prints a loud notice and passes without
//! checking anything, except under CI (`CI=true`), where a missing tool
//! fails it.

#[path = "common/spnego_peers.rs"]
mod peers;

use peers::{krb5_conf, tool};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_package_kerberos::internal::ccache::CredentialCache;
use sspi_package_kerberos::internal::messages::ticket_flags;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::ticket::HeldTicket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const REALM: &str = "FLAGS.TEST";
const DATABASE: &str = "\
alice              password alice-password
bob noforward      password bob-password
host/localhost     password host-service-secret
";

/// The MIT client tools, or `None` after a loud notice (a failure under CI).
fn mit_tools(test: &str) -> bool {
    let missing: Vec<&str> = ["kinit", "klist", "kvno"]
        .into_iter()
        .filter(|t| tool(t).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: MIT Kerberos is not installed (missing {}); CI must run scripts/mit-krb5/install.sh",
            missing.join(", ")
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: MIT Kerberos is not installed (missing {}).\n\
         !! Install it with scripts/mit-krb5/install.sh to run the interop tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    false
}

struct Client<'a> {
    dir: &'a Path,
}

impl Client<'_> {
    /// Runs an MIT tool with this realm's krb5.conf and ccache: (success, output).
    fn run(&self, program: &str, args: &[&str], input: Option<&str>) -> (bool, String) {
        let mut child = Command::new(tool(program).unwrap())
            .args(args)
            .env("KRB5_CONFIG", self.dir.join("krb5.conf"))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", self.dir.join("ccache").display()),
            )
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = input {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn kinit(&self, args: &[&str], principal: &str, password: &str) {
        let principal = format!("{principal}@{REALM}");
        let mut all = args.to_vec();
        all.push(&principal);
        let (ok, out) = self.run("kinit", &all, Some(&format!("{password}\n")));
        assert!(ok, "kinit {all:?} against our KDC failed: {out}");
    }

    /// `klist -f`: the flags and the renew-until line of `service`'s ticket.
    fn klist_flags(&self, service: &str) -> (String, Option<String>) {
        let (ok, out) = self.run("klist", &["-f"], None);
        assert!(ok, "klist -f: {out}");
        let mut lines = out.lines();
        while let Some(line) = lines.next() {
            if line.split_whitespace().last() != Some(service) {
                continue;
            }
            let detail = lines.next().unwrap_or_default().trim();
            let flags = detail
                .rsplit_once("Flags: ")
                .map(|(_, f)| f.trim().to_string())
                .unwrap_or_else(|| panic!("no flags for {service} in {out}"));
            let renew = detail
                .strip_prefix("renew until ")
                .map(|r| r.split(',').next().unwrap_or_default().to_string());
            return (flags, renew);
        }
        panic!("klist -f does not list {service}: {out}");
    }

    /// The ticket for `service` in the ccache MIT wrote.
    fn cached(&self, service: &str) -> HeldTicket {
        let bytes = std::fs::read(self.dir.join("ccache")).unwrap();
        let cache = CredentialCache::parse(&bytes).expect("MIT's ccache");
        cache
            .ticket_for(&Principal::parse(service, REALM).unwrap())
            .unwrap_or_else(|| panic!("no ticket for {service} in the ccache"))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn near(actual: i64, expected: i64, what: &str) {
    assert!(
        (actual - expected).abs() <= 10,
        "{what}: {actual} is not about {expected} ({} s off)",
        actual - expected
    );
}

#[test]
fn mit_kinit_forwardable_renewable_and_renewal_against_our_kdc() {
    if !mit_tools("MIT kinit -f/-r/-R against our KDC") {
        return;
    }
    let db = Database::parse(DATABASE, REALM, "kdc_mit_kinit_flags").unwrap();
    let kdc = KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    krb5_conf(dir.path(), "krb5.conf", REALM, &kdc.addr().to_string());
    let client = Client { dir: dir.path() };
    let tgs = format!("krbtgt/{REALM}@{REALM}");
    let tgs_name = format!("krbtgt/{REALM}");

    // kinit -f -r 2d: forwardable, renewable for two days.
    let before = now();
    client.kinit(&["-f", "-r", "2d"], "alice", "alice-password");
    let (flags, renew) = client.klist_flags(&tgs);
    assert!(
        flags.contains('F') && flags.contains('R'),
        "klist -f flags {flags:?}"
    );
    assert!(flags.contains('I') && flags.contains('A'), "{flags:?}");
    assert!(renew.is_some(), "no renew until in klist -f");
    let first = client.cached(&tgs_name);
    assert_ne!(first.flags & ticket_flags::FORWARDABLE, 0);
    assert_ne!(first.flags & ticket_flags::RENEWABLE, 0);
    near(first.renew_till, before + 2 * 86_400, "renew-till");
    near(
        first.end_time,
        before + 36_000,
        "end time (MaxTicketLifetime)",
    );

    // A service ticket with it: MIT asks forwardable and renewable as the TGT is.
    let (ok, out) = client.run("kvno", &[&format!("host/localhost@{REALM}")], None);
    assert!(ok && out.contains("kvno = 1"), "kvno: {out}");
    let (service_flags, service_renew) = client.klist_flags(&format!("host/localhost@{REALM}"));
    assert!(
        service_flags.contains('F') && service_flags.contains('R'),
        "service ticket flags {service_flags:?}"
    );
    assert!(!service_flags.contains('I'), "{service_flags:?}");
    assert_eq!(service_renew, renew);

    // kinit -R: a new end time, the same renew-till.
    std::thread::sleep(Duration::from_millis(1100));
    let (ok, out) = client.run("kinit", &["-R"], None);
    assert!(ok, "kinit -R against our KDC failed: {out}");
    let (flags, renewed_renew) = client.klist_flags(&tgs);
    assert!(flags.contains('F') && flags.contains('R'), "{flags:?}");
    assert_eq!(renewed_renew, renew);
    let renewed = client.cached(&tgs_name);
    assert!(
        renewed.end_time > first.end_time,
        "kinit -R did not extend the end time ({} -> {})",
        first.end_time,
        renewed.end_time
    );
    assert_eq!(renewed.renew_till, first.renew_till);
    assert_eq!(renewed.auth_time, first.auth_time);
    assert_ne!(
        renewed.session_key.bytes(),
        first.session_key.bytes(),
        "a renewed TGT has a new session key"
    );

    // Plain kinit: not forwardable. MIT sends renewable-ok by default
    // (`kdc_default_options`) with its default 24-hour lifetime, longer than
    // our 10 hours: renewable until the 24 hours asked.
    let before = now();
    client.kinit(&[], "alice", "alice-password");
    let (flags, renew) = client.klist_flags(&tgs);
    assert!(!flags.contains('F'), "plain kinit: flags {flags:?}");
    assert!(
        flags.contains('R') && renew.is_some(),
        "renewable-ok: {flags:?}"
    );
    let ok = client.cached(&tgs_name);
    near(ok.end_time, before + 36_000, "end time (renewable-ok)");
    near(ok.renew_till, before + 86_400, "renew-till (renewable-ok)");
    // kinit -l 1h: the lifetime fits, so neither forwardable nor renewable,
    // and renewal is refused.
    client.kinit(&["-l", "1h"], "alice", "alice-password");
    let (flags, renew) = client.klist_flags(&tgs);
    assert!(
        !flags.contains('F') && !flags.contains('R'),
        "kinit -l 1h: flags {flags:?}"
    );
    assert_eq!(renew, None);
    assert_eq!(client.cached(&tgs_name).renew_till, 0);
    let (ok, out) = client.run("kinit", &["-R"], None);
    assert!(
        !ok && out.contains("KDC can't fulfill requested option"),
        "kinit -R of a ticket that is not renewable: {out}"
    );

    // bob is `noforward`: kinit -f gets no F.
    client.kinit(&["-f"], "bob", "bob-password");
    let (flags, _) = client.klist_flags(&tgs);
    assert!(!flags.contains('F'), "noforward: flags {flags:?}");
    assert!(flags.contains('I'), "{flags:?}");
    eprintln!(
        "MIT interop: kinit -f -r 2d, klist -f, kvno, kinit -R and noforward against our KDC: ok"
    );
}

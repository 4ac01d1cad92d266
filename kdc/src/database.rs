//! The principal database: a text file, one principal per line.
//!
//! ```text
//! # comment
//! PRINCIPAL [OPTION...] password PASSWORD
//! PRINCIPAL [OPTION...] key KVNO ETYPE HEX [key KVNO ETYPE HEX]...
//! ```
//!
//! * `PRINCIPAL` is `name` or `service/host`, optionally `@REALM` (which must
//!   be the KDC's realm); `\` escapes `/`, `@` and `\`.
//! * `password PASSWORD`: everything after `password ` to the end of the line
//!   is the password; one key per supported etype (aes256-cts-hmac-sha1-96,
//!   aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192,
//!   aes128-cts-hmac-sha256-128, or those of `etypes=`) is derived with the
//!   default salt (realm, then the name components) and the etype's default
//!   iterations (4096; RFC 8009's 32768), kvno 1 (or `kvno=N`).
//! * `key KVNO ETYPE HEX`: an explicit key; ETYPE is a name (`aes256-cts`)
//!   or number (`18`); HEX its bytes.
//! * Options: `nopreauth` (issue a TGT without PA-ENC-TIMESTAMP),
//!   `maxlife=SECONDS` (cap this principal's tickets), `kvno=N`,
//!   `etypes=E1,E2` (the etypes a password gives keys for, names or numbers:
//!   `etypes=aes256-cts-hmac-sha384-192` makes an aes-sha2-only principal),
//!   `service` and `user` (below).
//! * Ticket options (RFC 4120 2.6-2.8; MIT's principal attributes):
//!   `noforward` (MIT's `-allow_forwardable`): tickets of this client, or
//!   for this service, are never forwardable, whatever the request asks;
//!   `ok-as-delegate` (MIT's `+ok_as_delegate`): service tickets for this
//!   principal carry the ok-as-delegate flag, telling clients the realm
//!   trusts it with delegated credentials; `maxrenew=SECONDS` caps the
//!   renewable life of its tickets (as a client and as a service) below the
//!   KDC's `MaxRenewableLifetime`.
//! * Which principals the KDC issues tickets *for*: a principal of two or more
//!   components (`host/server`, `krbtgt/REALM`) is a service, one of one
//!   component (`alice`) a user. Tickets for a user are refused with
//!   KDC_ERR_S_PRINCIPAL_UNKNOWN, exactly as for an unknown name: a ticket is
//!   encrypted in its server's key, so a ticket for `bob` would let anyone
//!   with a TGT guess bob's password offline. `service` makes a one-component
//!   principal a service (give it a random `key`, not a password); `user`
//!   keeps a multi-component one (`alice/admin`) from being one.
//! * Without a `krbtgt/REALM` line the KDC makes a random TGS key at start
//!   (TGTs then die with the process).

use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_package_kerberos::internal::principal::Principal;
use std::collections::HashMap;
use std::path::Path;

/// One principal and its keys.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The principal.
    pub principal: Principal,
    /// Its keys with their versions.
    pub keys: Vec<(u32, Key)>,
    /// Whether an AS request must carry PA-ENC-TIMESTAMP.
    pub requires_preauth: bool,
    /// The longest ticket lifetime for this principal, in seconds.
    pub max_life: Option<i64>,
}

impl Entry {
    /// The key of `etype` with the highest kvno.
    pub fn key(&self, etype: Etype) -> Option<(u32, &Key)> {
        self.keys
            .iter()
            .filter(|(_, k)| k.etype() == etype)
            .max_by_key(|(v, _)| *v)
            .map(|(v, k)| (*v, k))
    }

    /// The key of `etype` and `kvno` (the highest when `None`).
    pub fn key_version(&self, etype: Etype, kvno: Option<u32>) -> Option<&Key> {
        match kvno {
            None => self.key(etype).map(|(_, k)| k),
            Some(v) => self
                .keys
                .iter()
                .find(|(kv, k)| *kv == v && k.etype() == etype)
                .map(|(_, k)| k),
        }
    }

    /// The first of `preferred` this principal has a key for.
    pub fn first_etype(&self, preferred: &[Etype]) -> Option<Etype> {
        preferred.iter().copied().find(|e| self.key(*e).is_some())
    }

    /// The session key etype for a ticket to this principal (RFC 4120
    /// 3.1.3): the first of the client's `requested` etypes this principal
    /// has a key for, else the client's first.
    pub fn session_etype(&self, requested: &[Etype]) -> Option<Etype> {
        self.first_etype(requested)
            .or_else(|| requested.first().copied())
    }

    /// The key tickets to this principal are encrypted in: the first of
    /// [`Etype::ALL`] it has a key for (MIT's default order).
    pub fn strongest(&self) -> Option<(u32, &Key)> {
        Etype::ALL.iter().find_map(|e| self.key(*e))
    }
}

/// A principal's ticket options (the line's `noforward`, `ok-as-delegate`
/// and `maxrenew=`); the default allows forwarding, marks nothing and caps
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrincipalOptions {
    /// Tickets of (or for) this principal may be forwardable (no `noforward`).
    pub forwardable: bool,
    /// Service tickets for this principal carry ok-as-delegate.
    pub ok_as_delegate: bool,
    /// The longest renewable life of its tickets, in seconds (`maxrenew=`).
    pub max_renewable_life: Option<i64>,
}

impl Default for PrincipalOptions {
    fn default() -> PrincipalOptions {
        PrincipalOptions {
            forwardable: true,
            ok_as_delegate: false,
            max_renewable_life: None,
        }
    }
}

/// The largest database file read (64 MiB).
pub const MAX_DATABASE_SIZE: u64 = 64 << 20;

/// The database of one realm.
#[derive(Debug, Clone)]
pub struct Database {
    realm: String,
    entries: HashMap<Principal, Entry>,
    /// `service` (true) and `user` (false) marks overriding the default.
    service_marks: HashMap<Principal, bool>,
    /// Ticket options other than the default.
    options: HashMap<Principal, PrincipalOptions>,
}

impl Database {
    /// An empty database for `realm`.
    pub fn new(realm: &str) -> Database {
        Database {
            realm: realm.to_string(),
            entries: HashMap::new(),
            service_marks: HashMap::new(),
            options: HashMap::new(),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Parses the text format; errors read `SOURCE:LINE: message`.
    pub fn parse(text: &str, realm: &str, source: &str) -> Result<Database, String> {
        let mut db = Database::new(realm);
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |m: String| format!("{source}:{line_no}: {m}");
            let (entry, service, options) = parse_line(line, realm).map_err(fail)?;
            if db.entries.contains_key(&entry.principal) {
                return Err(fail(format!("{} is defined twice", entry.principal)));
            }
            if let Some(service) = service {
                db.service_marks.insert(entry.principal.clone(), service);
            }
            if options != PrincipalOptions::default() {
                db.options.insert(entry.principal.clone(), options);
            }
            db.entries.insert(entry.principal.clone(), entry);
        }
        Ok(db)
    }

    /// Reads a database file: one no other user can write (`sspi_trust`), at
    /// most [`MAX_DATABASE_SIZE`] bytes.
    pub fn load(path: &Path, realm: &str) -> Result<Database, String> {
        let bytes = zeroize::Zeroizing::new(
            sspi_trust::read_file(path, "KDC database", MAX_DATABASE_SIZE)
                .map_err(|e| e.to_string())?,
        );
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| format!("the KDC database {} is not UTF-8: {e}", path.display()))?;
        Database::parse(text, realm, &path.display().to_string())
    }

    /// Adds a principal with a password (keys for every supported etype, kvno 1).
    pub fn add_password(&mut self, name: &str, password: &str) -> Result<(), String> {
        let principal = Principal::parse(name, &self.realm)?;
        let keys = password_keys(&principal, password, 1, &Etype::ALL)?;
        self.entries.insert(
            principal.clone(),
            Entry {
                principal,
                keys,
                requires_preauth: true,
                max_life: None,
            },
        );
        Ok(())
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, entry: Entry) {
        self.entries.insert(entry.principal.clone(), entry);
    }

    /// The entry of `principal`.
    pub fn lookup(&self, principal: &Principal) -> Option<&Entry> {
        self.entries.get(principal)
    }

    /// Whether tickets may be issued for `principal`: marked `service`, or of
    /// two or more components and not marked `user`.
    pub fn is_service(&self, principal: &Principal) -> bool {
        self.service_marks
            .get(principal)
            .copied()
            .unwrap_or(principal.components.len() >= 2)
    }

    /// Marks `principal` a service (`true`) or a user (`false`), overriding
    /// the rule by component count.
    pub fn set_service(&mut self, principal: &Principal, service: bool) {
        self.service_marks.insert(principal.clone(), service);
    }

    /// The ticket options of `principal` (the defaults when its line has none).
    pub fn options(&self, principal: &Principal) -> PrincipalOptions {
        self.options.get(principal).copied().unwrap_or_default()
    }

    /// Sets the ticket options of `principal`.
    pub fn set_options(&mut self, principal: &Principal, options: PrincipalOptions) {
        self.options.insert(principal.clone(), options);
    }

    /// Makes a random `krbtgt/REALM` key when the database has none.
    pub fn ensure_krbtgt(&mut self) -> Result<(), String> {
        let tgs = Principal::krbtgt(&self.realm);
        if self.entries.contains_key(&tgs) {
            return Ok(());
        }
        let mut keys = Vec::new();
        for etype in Etype::ALL {
            keys.push((1, Key::random(etype).map_err(|e| e.to_string())?));
        }
        self.insert(Entry {
            principal: tgs,
            keys,
            requires_preauth: true,
            max_life: None,
        });
        Ok(())
    }

    /// A keytab with every key of `principals` (for a service to accept with).
    pub fn keytab(&self, principals: &[&str]) -> Result<Keytab, String> {
        let mut keytab = Keytab::default();
        for name in principals {
            let p = Principal::parse(name, &self.realm)?;
            let entry = self
                .lookup(&p)
                .ok_or_else(|| format!("{p} is not in the database"))?;
            for (kvno, key) in &entry.keys {
                keytab.push(&entry.principal, *kvno, key, 0);
            }
        }
        Ok(keytab)
    }

    /// The number of principals.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn password_keys(
    principal: &Principal,
    password: &str,
    kvno: u32,
    etypes: &[Etype],
) -> Result<Vec<(u32, Key)>, String> {
    let salt = principal.salt();
    etypes
        .iter()
        .map(|e| {
            e.string_to_key(password.as_bytes(), &salt, None)
                .map(|k| (kvno, k))
        })
        .collect()
}

/// One line: the entry, its `service` / `user` mark, if any, and its ticket options.
fn parse_line(line: &str, realm: &str) -> Result<(Entry, Option<bool>, PrincipalOptions), String> {
    let (name, mut rest) = line
        .split_once(char::is_whitespace)
        .ok_or("expected PRINCIPAL password PASSWORD or PRINCIPAL key KVNO ETYPE HEX")?;
    let principal = Principal::parse(name, realm)?;
    if principal.realm != realm {
        return Err(format!("{principal} is not in this KDC's realm {realm}"));
    }
    let mut requires_preauth = true;
    let mut max_life = None;
    let mut kvno = 1u32;
    let mut service = None;
    let mut etypes: Option<Vec<Etype>> = None;
    let mut options = PrincipalOptions::default();
    loop {
        rest = rest.trim_start();
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if word == "nopreauth" {
            requires_preauth = false;
        } else if word == "noforward" {
            options.forwardable = false;
        } else if word == "ok-as-delegate" {
            options.ok_as_delegate = true;
        } else if let Some(v) = word.strip_prefix("maxrenew=") {
            options.max_renewable_life = Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| format!("invalid maxrenew {v:?} (seconds)"))?,
            );
        } else if word == "service" || word == "user" {
            if service.is_some() {
                return Err(format!("{principal} has more than one of service and user"));
            }
            service = Some(word == "service");
        } else if let Some(v) = word.strip_prefix("maxlife=") {
            max_life = Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| format!("invalid maxlife {v:?}"))?,
            );
        } else if let Some(v) = word.strip_prefix("etypes=") {
            let mut list = Vec::new();
            for item in v.split(',').filter(|i| !i.is_empty()) {
                let etype = Etype::parse(item)?;
                if !list.contains(&etype) {
                    list.push(etype);
                }
            }
            if list.is_empty() {
                return Err("etypes= lists no encryption type".into());
            }
            etypes = Some(list);
        } else if let Some(v) = word.strip_prefix("kvno=") {
            kvno = v
                .parse::<u32>()
                .map_err(|_| format!("invalid kvno {v:?}"))?;
        } else {
            break;
        }
        rest = after;
    }
    let keys = if let Some(password) = rest.strip_prefix("password") {
        let password = password.strip_prefix(char::is_whitespace).unwrap_or("");
        if password.is_empty() {
            return Err(format!("{principal} has an empty password"));
        }
        password_keys(
            &principal,
            password,
            kvno,
            etypes.as_deref().unwrap_or(&Etype::ALL),
        )?
    } else if rest.starts_with("key") {
        if etypes.is_some() {
            return Err("etypes= applies to password lines; a key line names its etypes".into());
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let mut keys = Vec::new();
        for chunk in words.chunks(4) {
            let [kw, kvno, etype, hex] = chunk else {
                return Err("expected key KVNO ETYPE HEX".into());
            };
            if *kw != "key" {
                return Err(format!("expected \"key\", found {kw:?}"));
            }
            let kvno = kvno
                .parse::<u32>()
                .map_err(|_| format!("invalid kvno {kvno:?}"))?;
            let etype = Etype::parse(etype)?;
            let bytes =
                decode_hex(hex).ok_or_else(|| format!("the key of {principal} is not hex"))?;
            keys.push((kvno, Key::new(etype, bytes)?));
        }
        keys
    } else {
        return Err(format!(
            "expected \"password\" or \"key\" after {principal}, found {:?}",
            rest.split_whitespace().next().unwrap_or("")
        ));
    };
    Ok((
        Entry {
            principal,
            keys,
            requires_preauth,
            max_life,
        },
        service,
        options,
    ))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etypes_option_gives_aes_sha2_only_keys_and_the_session_etype_follows_them() {
        let text = "carol etypes=aes256-cts-hmac-sha384-192 password c\n\
                    host/sha2 etypes=19,aes128-cts-hmac-sha256-128 password s\n\
                    dave password d\n";
        let db = Database::parse(text, "R", "db.txt").unwrap();
        let carol = db.lookup(&Principal::parse("carol", "R").unwrap()).unwrap();
        assert_eq!(carol.keys.len(), 1);
        let expected = Etype::Aes256CtsHmacSha384192
            .string_to_key(b"c", b"Rcarol", None)
            .unwrap();
        assert_eq!(
            carol.key(Etype::Aes256CtsHmacSha384192).unwrap().1.bytes(),
            expected.bytes()
        );
        let svc = db
            .lookup(&Principal::parse("host/sha2", "R").unwrap())
            .unwrap();
        assert_eq!(svc.keys.len(), 1);
        assert_eq!(
            svc.strongest().unwrap().1.etype(),
            Etype::Aes128CtsHmacSha256128
        );
        // The client prefers aes-sha1, but the service has only etype 19.
        assert_eq!(
            svc.session_etype(&Etype::ALL),
            Some(Etype::Aes128CtsHmacSha256128)
        );
        let dave = db.lookup(&Principal::parse("dave", "R").unwrap()).unwrap();
        assert_eq!(dave.keys.len(), 4);
        assert_eq!(
            dave.session_etype(&[Etype::Aes256CtsHmacSha384192]),
            Some(Etype::Aes256CtsHmacSha384192)
        );
        for (bad, says) in [
            ("x etypes=rc4-hmac password p", "rc4-hmac"),
            ("x etypes= password p", "no encryption type"),
            (
                "host/x etypes=18 key 1 18 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "password lines",
            ),
        ] {
            let err = Database::parse(bad, "R", "db.txt").unwrap_err();
            assert!(err.starts_with("db.txt:1: ") && err.contains(says), "{err}");
        }
    }

    #[test]
    fn ticket_options_parse_and_bad_ones_name_file_and_line() {
        let text = "alice password a\n\
                    bob noforward maxrenew=3600 password b\n\
                    host/web ok-as-delegate noforward key 1 18 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\n";
        let db = Database::parse(text, "R", "db.txt").unwrap();
        let options = |name: &str| db.options(&Principal::parse(name, "R").unwrap());
        assert_eq!(options("alice"), PrincipalOptions::default());
        assert!(options("alice").forwardable && !options("alice").ok_as_delegate);
        let bob = options("bob");
        assert!(!bob.forwardable && !bob.ok_as_delegate);
        assert_eq!(bob.max_renewable_life, Some(3600));
        let web = options("host/web");
        assert!(!web.forwardable && web.ok_as_delegate);
        assert_eq!(web.max_renewable_life, None);
        assert_eq!(options("nobody"), PrincipalOptions::default());
        for (bad, says) in [
            (
                "a password x\nb maxrenew=-1 password y\n",
                "db.txt:2: invalid maxrenew",
            ),
            ("a maxrenew=soon password y\n", "db.txt:1: invalid maxrenew"),
            (
                "a ok_as_delegate password y\n",
                "db.txt:1: expected \"password\"",
            ),
        ] {
            let err = Database::parse(bad, "R", "db.txt").unwrap_err();
            assert!(err.starts_with(says), "{err}");
        }
    }

    #[test]
    fn parses_passwords_keys_and_options_and_names_bad_lines() {
        let text = "# users\nalice password pass word\nbob nopreauth maxlife=600 password x\n\
                    host/svc@R key 3 aes128-cts 000102030405060708090a0b0c0d0e0f\n";
        let db = Database::parse(text, "R", "db.txt").unwrap();
        assert_eq!(db.len(), 3);
        let alice = db.lookup(&Principal::parse("alice", "R").unwrap()).unwrap();
        assert_eq!(alice.keys.len(), 4);
        let expected = Etype::Aes256CtsHmacSha196
            .string_to_key(b"pass word", b"Ralice", None)
            .unwrap();
        assert_eq!(
            alice.key(Etype::Aes256CtsHmacSha196).unwrap().1.bytes(),
            expected.bytes()
        );
        let bob = db.lookup(&Principal::parse("bob", "R").unwrap()).unwrap();
        assert!(!bob.requires_preauth);
        assert_eq!(bob.max_life, Some(600));
        let svc = db
            .lookup(&Principal::parse("host/svc", "R").unwrap())
            .unwrap();
        assert_eq!(svc.key(Etype::Aes128CtsHmacSha196).unwrap().0, 3);
        let marks = "alice password a
web service password w
alice/admin user password x
                     host/svc password s
";
        let db = Database::parse(marks, "R", "db.txt").unwrap();
        let is_service = |name: &str| db.is_service(&Principal::parse(name, "R").unwrap());
        assert!(!is_service("alice") && is_service("web"));
        assert!(!is_service("alice/admin") && is_service("host/svc"));
        assert!(is_service("krbtgt/R"));
        for (bad, want) in [
            ("alice\n", "db.txt:1:"),
            ("\nalice passwd x\n", "db.txt:2:"),
            ("a password x\na password y\n", "defined twice"),
            ("a@OTHER password x\n", "not in this KDC's realm"),
            ("a key 1 rc4-hmac 00\n", "not supported"),
            ("a key 1 18 zz\n", "not hex"),
            (
                "a service user password x\n",
                "more than one of service and user",
            ),
        ] {
            let err = Database::parse(bad, "R", "db.txt").unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}

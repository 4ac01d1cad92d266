//! MIT credential caches: the FILE format (version 4 written, 3 and 4 read),
//! `FILE:` and `DIR:` names as `KRB5CCNAME` gives them, read only when no
//! other user can have written them (`sspi_trust`) and written atomically
//! with mode 0600 (a temporary file in the same directory, then `rename`).
//!
//! The format is MIT's `doc/formats/ccache_file_format.rst`: version,
//! (v4) tagged header, default principal, then credentials to the end of the
//! file. Configuration entries (`X-CACHECONF:`) are kept and written back but
//! never used as tickets; MIT's removed entries (`endtime == 0 &&
//! authtime != 0`) are skipped.

use crate::crypto::{Etype, Key};
use crate::principal::Principal;
use crate::ticket::HeldTicket;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The largest credential cache read (MIT's are a few KiB).
pub const MAX_CCACHE_LEN: u64 = 4 << 20;
/// The most name components of one principal.
const MAX_COMPONENTS: u32 = 64;
/// The most credentials in one cache.
const MAX_CREDENTIALS: usize = 4096;
/// The realm of configuration entries.
pub const CONF_REALM: &str = "X-CACHECONF:";
/// The realm MIT gives a removed configuration entry.
const REMOVED_CONF_REALM: &str = "X-RMED-CONF:";

/// One credential (ticket, or configuration entry) of a cache.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheCredential {
    /// The client principal.
    pub client: Principal,
    /// The server principal (`krbtgt/REALM@REALM` for a TGT).
    pub server: Principal,
    /// The session key's etype number (0 for configuration entries).
    pub key_type: u16,
    /// The session key.
    pub key: Zeroizing<Vec<u8>>,
    /// Times, seconds since 1970 (unsigned 32-bit, as MIT stores them).
    pub auth_time: u32,
    /// Start time (0 when absent).
    pub start_time: u32,
    /// End time.
    pub end_time: u32,
    /// Renew-till time (0 when not renewable).
    pub renew_till: u32,
    /// User-to-user ticket.
    pub is_skey: bool,
    /// Ticket flags, RFC 4120 bit 0 as the most significant bit.
    pub flags: u32,
    /// Addresses: (addrtype, bytes).
    pub addresses: Vec<(u16, Vec<u8>)>,
    /// Authorization data: (ad-type, bytes).
    pub authdata: Vec<(u16, Vec<u8>)>,
    /// The DER Ticket (or a configuration entry's value).
    pub ticket: Vec<u8>,
    /// The second ticket (user-to-user), usually empty.
    pub second_ticket: Vec<u8>,
}

impl std::fmt::Debug for CacheCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheCredential")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("key_type", &self.key_type)
            .field("key", &"<redacted>")
            .field("end_time", &self.end_time)
            .field("flags", &format_args!("{:#010x}", self.flags))
            .finish_non_exhaustive()
    }
}

impl CacheCredential {
    /// True for `X-CACHECONF:` entries (not tickets).
    pub fn is_config(&self) -> bool {
        self.server.realm == CONF_REALM
    }

    /// The credential of a ticket this package holds.
    pub fn from_ticket(ticket: &HeldTicket) -> Result<CacheCredential, String> {
        let der = picky_asn1_der::to_vec(&ticket.ticket).map_err(|e| e.to_string())?;
        let time = |t: i64| u32::try_from(t.max(0)).unwrap_or(u32::MAX);
        Ok(CacheCredential {
            client: ticket.client.clone(),
            server: ticket.server.clone(),
            key_type: u16::try_from(ticket.session_key.etype().number()).unwrap_or(0),
            key: Zeroizing::new(ticket.session_key.bytes().to_vec()),
            auth_time: time(ticket.auth_time),
            start_time: time(ticket.start_time),
            end_time: time(ticket.end_time),
            renew_till: time(ticket.renew_till),
            is_skey: false,
            flags: ticket.flags,
            addresses: Vec::new(),
            authdata: Vec::new(),
            ticket: der,
            second_ticket: Vec::new(),
        })
    }

    /// The ticket of this credential, when it is one this package can use
    /// (a known etype, a decodable ticket, not user-to-user).
    pub fn to_ticket(&self) -> Result<HeldTicket, String> {
        if self.is_config() || self.is_skey {
            return Err("not a usable ticket".into());
        }
        let etype = Etype::from_number(i64::from(self.key_type))
            .ok_or_else(|| format!("session key of {}", Etype::describe(self.key_type.into())))?;
        let session_key = Key::new(etype, self.key.to_vec())?;
        let ticket = crate::messages::decode(&self.ticket).map_err(|e| format!("ticket: {e}"))?;
        let start = if self.start_time == 0 {
            self.auth_time
        } else {
            self.start_time
        };
        Ok(HeldTicket {
            client: self.client.clone(),
            server: self.server.clone(),
            ticket,
            session_key,
            flags: self.flags,
            auth_time: i64::from(self.auth_time),
            start_time: i64::from(start),
            end_time: i64::from(self.end_time),
            renew_till: i64::from(self.renew_till),
        })
    }
}

/// A credential cache's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialCache {
    /// The default principal (whose tickets the cache holds).
    pub principal: Principal,
    /// The v4 header's KDC time offset (seconds, microseconds), when present.
    pub time_offset: Option<(i32, i32)>,
    /// The credentials, in file order (MIT-removed entries dropped).
    pub credentials: Vec<CacheCredential>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                format!(
                    "truncated at byte {}: {what} needs {n} bytes, {} left",
                    self.pos,
                    self.data.len() - self.pos
                )
            })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn data(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.u32(what)?;
        self.take(usize::try_from(len).unwrap_or(usize::MAX), what)
    }
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }
    fn principal(&mut self, what: &str) -> Result<Principal, String> {
        let name_type = self.u32(what)? as i32;
        let count = self.u32(what)?;
        if count > MAX_COMPONENTS {
            return Err(format!(
                "{what} has {count} name components (at most {MAX_COMPONENTS})"
            ));
        }
        let text = |b: &[u8]| {
            String::from_utf8(b.to_vec()).map_err(|_| format!("{what}: a name is not UTF-8"))
        };
        let realm = text(self.data(what)?)?;
        let mut components = Vec::with_capacity(count as usize);
        for _ in 0..count {
            components.push(text(self.data(what)?)?);
        }
        Ok(Principal {
            name_type,
            components,
            realm,
        })
    }
    fn pairs(&mut self, what: &str) -> Result<Vec<(u16, Vec<u8>)>, String> {
        let count = self.u32(what)?;
        // Each entry takes at least 6 bytes: refuse counts the file cannot hold.
        if u64::from(count) * 6 > self.left() as u64 {
            return Err(format!(
                "{what}: count {count} runs past the end of the file"
            ));
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let kind = self.u16(what)?;
            out.push((kind, self.data(what)?.to_vec()));
        }
        Ok(out)
    }
}

fn put_data(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), String> {
    let len = u32::try_from(bytes.len()).map_err(|_| "a field is longer than 4 GiB")?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_principal(out: &mut Vec<u8>, p: &Principal) -> Result<(), String> {
    out.extend_from_slice(&(p.name_type as u32).to_be_bytes());
    let count = u32::try_from(p.components.len()).map_err(|_| "too many components")?;
    out.extend_from_slice(&count.to_be_bytes());
    put_data(out, p.realm.as_bytes())?;
    for c in &p.components {
        put_data(out, c.as_bytes())?;
    }
    Ok(())
}

impl CredentialCache {
    /// An empty cache for `principal`.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            time_offset: None,
            credentials: Vec::new(),
        }
    }

    /// Parses a FILE-format cache (versions 3 and 4). Never panics; every
    /// length is checked against what is left of `data`.
    pub fn parse(data: &[u8]) -> Result<CredentialCache, String> {
        let mut r = Reader { data, pos: 0 };
        let version = r.u16("the version")?;
        let v3 = match version {
            0x0504 => false,
            0x0503 => true,
            0x0501 | 0x0502 => {
                return Err(format!(
                    "credential cache version {} (host byte order) is not supported; only 3 and 4",
                    version & 0xff
                ));
            }
            other => return Err(format!("not a credential cache (starts {other:#06x})")),
        };
        let mut time_offset = None;
        if !v3 {
            let header_len = usize::from(r.u16("the header length")?);
            let header = r.take(header_len, "the header")?;
            let mut h = Reader {
                data: header,
                pos: 0,
            };
            while h.left() > 0 {
                let tag = h.u16("a header tag")?;
                let len = usize::from(h.u16("a header tag length")?);
                let value = h.take(len, "a header tag value")?;
                if tag == 1 {
                    if len != 8 {
                        return Err(format!(
                            "header tag 1 (time offset) has length {len}, not 8"
                        ));
                    }
                    let secs = i32::from_be_bytes([value[0], value[1], value[2], value[3]]);
                    let usecs = i32::from_be_bytes([value[4], value[5], value[6], value[7]]);
                    time_offset = Some((secs, usecs));
                }
            }
        }
        let principal = r.principal("the default principal")?;
        let mut credentials = Vec::new();
        while r.left() > 0 {
            if credentials.len() >= MAX_CREDENTIALS {
                return Err(format!("more than {MAX_CREDENTIALS} credentials"));
            }
            let at = r.pos;
            let cred =
                read_credential(&mut r, v3).map_err(|m| format!("credential at byte {at}: {m}"))?;
            let removed = (cred.end_time == 0 && cred.auth_time != 0)
                || cred.server.realm == REMOVED_CONF_REALM;
            if !removed {
                credentials.push(cred);
            }
        }
        Ok(CredentialCache {
            principal,
            time_offset,
            credentials,
        })
    }

    /// The cache in FILE format version 4 (the DELTATIME tag when an offset is known).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut out = Zeroizing::new(Vec::with_capacity(512));
        out.extend_from_slice(&[0x05, 0x04]);
        match self.time_offset {
            Some((secs, usecs)) => {
                out.extend_from_slice(&[0, 12, 0, 1, 0, 8]);
                out.extend_from_slice(&secs.to_be_bytes());
                out.extend_from_slice(&usecs.to_be_bytes());
            }
            None => out.extend_from_slice(&[0, 0]),
        }
        put_principal(&mut out, &self.principal)?;
        for c in &self.credentials {
            put_principal(&mut out, &c.client)?;
            put_principal(&mut out, &c.server)?;
            out.extend_from_slice(&c.key_type.to_be_bytes());
            put_data(&mut out, &c.key)?;
            for t in [c.auth_time, c.start_time, c.end_time, c.renew_till] {
                out.extend_from_slice(&t.to_be_bytes());
            }
            out.push(u8::from(c.is_skey));
            out.extend_from_slice(&c.flags.to_be_bytes());
            for list in [&c.addresses, &c.authdata] {
                let count = u32::try_from(list.len()).map_err(|_| "too many entries")?;
                out.extend_from_slice(&count.to_be_bytes());
                for (kind, bytes) in list {
                    out.extend_from_slice(&kind.to_be_bytes());
                    put_data(&mut out, bytes)?;
                }
            }
            put_data(&mut out, &c.ticket)?;
            put_data(&mut out, &c.second_ticket)?;
        }
        Ok(out)
    }

    /// The freshest usable ticket of the default principal for `server`
    /// (a server with an empty realm, as MIT stores referral tickets, matches
    /// the client's realm).
    pub fn ticket_for(&self, server: &Principal) -> Option<HeldTicket> {
        self.credentials
            .iter()
            .filter(|c| !c.is_config() && c.client == self.principal)
            .filter(|c| {
                c.server.components == server.components
                    && (c.server.realm == server.realm
                        || (c.server.realm.is_empty() && server.realm == self.principal.realm))
            })
            .filter_map(|c| c.to_ticket().ok())
            .max_by_key(|t| t.end_time)
    }

    /// Adds `ticket`, replacing the tickets for the same server.
    pub fn store(&mut self, ticket: &HeldTicket) -> Result<(), String> {
        let cred = CacheCredential::from_ticket(ticket)?;
        self.credentials
            .retain(|c| c.is_config() || c.client != cred.client || c.server != cred.server);
        self.credentials.push(cred);
        Ok(())
    }
}

fn read_credential(r: &mut Reader<'_>, v3: bool) -> Result<CacheCredential, String> {
    let client = r.principal("the client")?;
    let server = r.principal("the server")?;
    let key_type = r.u16("the key type")?;
    if v3 {
        r.u16("the key type (v3 repeats it)")?;
    }
    let key = Zeroizing::new(r.data("the session key")?.to_vec());
    let auth_time = r.u32("authtime")?;
    let start_time = r.u32("starttime")?;
    let end_time = r.u32("endtime")?;
    let renew_till = r.u32("renew_till")?;
    let is_skey = r.u8("is_skey")? != 0;
    let flags = r.u32("the ticket flags")?;
    let addresses = r.pairs("the addresses")?;
    let authdata = r.pairs("the authorization data")?;
    let ticket = r.data("the ticket")?.to_vec();
    let second_ticket = r.data("the second ticket")?.to_vec();
    Ok(CacheCredential {
        client,
        server,
        key_type,
        key,
        auth_time,
        start_time,
        end_time,
        renew_till,
        is_skey,
        flags,
        addresses,
        authdata,
        ticket,
        second_ticket,
    })
}

/// A cache name: `FILE:<path>`, `DIR:<dir>` (its primary cache) or
/// `DIR::<dir>/tkt<name>` (one cache of the collection); a name without a
/// type is a FILE path. Other types (`MEMORY:`, `KEYRING:`, `KCM:`, `API:`)
/// are refused with a message saying so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheName {
    /// A FILE cache.
    File(PathBuf),
    /// A DIR collection, resolved through its `primary` file.
    Dir(PathBuf),
    /// One subsidiary file of a DIR collection.
    DirFile(PathBuf),
}

impl std::fmt::Display for CacheName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheName::File(p) => write!(f, "FILE:{}", p.display()),
            CacheName::Dir(p) => write!(f, "DIR:{}", p.display()),
            CacheName::DirFile(p) => write!(f, "DIR::{}", p.display()),
        }
    }
}

impl CacheName {
    /// Parses a `KRB5CCNAME`-style name (split at the first colon; type names are case-sensitive).
    pub fn parse(name: &str) -> Result<CacheName, String> {
        let Some((kind, rest)) = name.split_once(':') else {
            return Ok(CacheName::File(PathBuf::from(name)));
        };
        if rest.is_empty() && kind != "FILE" && kind != "DIR" {
            return Err(format!("credential cache name {name:?} has no residual"));
        }
        match kind {
            "FILE" => Ok(CacheName::File(PathBuf::from(rest))),
            "DIR" => match rest.strip_prefix(':') {
                Some(file) => {
                    let path = PathBuf::from(file);
                    let tkt = path
                        .file_name()
                        .and_then(|f| f.to_str())
                        .is_some_and(|f| f.starts_with("tkt"));
                    if !tkt {
                        return Err(format!(
                            "credential cache name {name:?}: a DIR:: cache file must be named tkt*"
                        ));
                    }
                    Ok(CacheName::DirFile(path))
                }
                None => Ok(CacheName::Dir(PathBuf::from(rest))),
            },
            "MEMORY" | "KEYRING" | "KCM" | "API" | "MSLSA" => Err(format!(
                "credential cache {name:?}: the {kind} type is not supported (use FILE: or DIR:)"
            )),
            other => Err(format!(
                "credential cache {name:?}: unknown type {other:?} (use FILE: or DIR:)"
            )),
        }
    }

    /// MIT's compiled default, `FILE:/tmp/krb5cc_<euid>`.
    pub fn default_name() -> CacheName {
        #[cfg(unix)]
        let uid = rustix::process::geteuid().as_raw();
        #[cfg(not(unix))]
        let uid = 0u32;
        CacheName::File(PathBuf::from(format!("/tmp/krb5cc_{uid}")))
    }

    /// The cache file this name designates now (a DIR's primary; `tkt` when
    /// the collection has no `primary` file yet).
    pub fn file(&self) -> Result<PathBuf, String> {
        match self {
            CacheName::File(p) | CacheName::DirFile(p) => Ok(p.clone()),
            CacheName::Dir(dir) => {
                let primary = dir.join("primary");
                if !primary.exists() {
                    return Ok(dir.join("tkt"));
                }
                let bytes = sspi_trust::read_file(&primary, "credential cache primary", 64)
                    .map_err(|e| e.to_string())?;
                let line = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.strip_suffix('\n'))
                    .filter(|s| s.starts_with("tkt") && !s.contains(['/', '\\', '\n']))
                    .ok_or_else(|| {
                        format!(
                            "{}: the primary file must hold one line naming a tkt* file",
                            primary.display()
                        )
                    })?;
                Ok(dir.join(line))
            }
        }
    }

    /// Reads the cache; `Ok(None)` when the file does not exist. A cache
    /// another user could have written is refused (`sspi_trust`).
    pub fn load(&self) -> Result<Option<CredentialCache>, String> {
        let path = self.file()?;
        if !path.exists() {
            return Ok(None);
        }
        let bytes = sspi_trust::read_file(&path, "credential cache", MAX_CCACHE_LEN)
            .map_err(|e| e.to_string())?;
        let bytes = Zeroizing::new(bytes);
        CredentialCache::parse(&bytes)
            .map(Some)
            .map_err(|m| format!("{}: {m}", path.display()))
    }

    /// The cache holding `principal`'s tickets, and its own name: this one
    /// when its default principal is `principal`, else (for a DIR collection)
    /// the first other `tkt*` member whose default principal is, as MIT's
    /// GSS-API searches a collection. `Ok(None)` when there is none.
    pub fn load_for(
        &self,
        principal: &Principal,
    ) -> Result<Option<(CacheName, CredentialCache)>, String> {
        let own = match self {
            CacheName::Dir(_) => CacheName::DirFile(self.file()?),
            other => other.clone(),
        };
        match own.load()? {
            Some(cache) if cache.principal == *principal => return Ok(Some((own, cache))),
            _ if !matches!(self, CacheName::Dir(_)) => return Ok(None),
            _ => {}
        }
        let CacheName::Dir(dir) = self else {
            return Ok(None);
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(None);
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with("tkt") && !f.contains('.'))
            })
            .collect();
        names.sort();
        for path in names {
            let member = CacheName::DirFile(path);
            // A member that cannot be read (another user's, damaged) is skipped.
            match member.load() {
                Ok(Some(cache)) if cache.principal == *principal => {
                    return Ok(Some((member, cache)));
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "collection member skipped"),
            }
        }
        Ok(None)
    }

    /// Writes `cache` atomically with mode 0600: a new file beside the cache,
    /// then `rename` over it. A DIR collection is created (mode 0700) with a
    /// `primary` file when missing.
    pub fn save(&self, cache: &CredentialCache) -> Result<(), String> {
        if let CacheName::Dir(dir) = self {
            if !dir.exists() {
                create_dir_0700(dir)?;
            }
            let primary = dir.join("primary");
            if !primary.exists() {
                write_atomically(&primary, b"tkt\n")?;
            }
        }
        let path = self.file()?;
        let bytes = cache.to_bytes()?;
        write_atomically(&path, &bytes)
    }
}

/// An exclusive lock on a cache file held across a read-modify-write, so
/// two of this package's clients adding tickets at once do not lose one
/// (the later writer waits, then reads the earlier one's file). It is a
/// `flock` on the file the name refers to, taken again when the file was
/// replaced meanwhile (writes rename a new file over the old); MIT's tools
/// lock with `fcntl` and write whole files too, so they see a complete file
/// either way. Released on drop.
#[derive(Debug)]
pub struct CacheLock {
    _file: Option<std::fs::File>,
}

/// How long a writer waits for another's lock on a cache.
const CACHE_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl CacheName {
    /// Locks the cache file for an update; no lock (nothing to protect) when
    /// the file does not exist yet.
    pub fn lock_for_update(&self) -> Result<CacheLock, String> {
        let path = self.file()?;
        let deadline = std::time::Instant::now() + CACHE_LOCK_TIMEOUT;
        let mut pause = std::time::Duration::from_micros(100);
        loop {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(CacheLock { _file: None });
                }
                Err(e) => return Err(format!("{}: cannot open to lock: {e}", path.display())),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(20));
                    continue;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(format!(
                        "{}: another process has held its lock for more than {} s",
                        path.display(),
                        CACHE_LOCK_TIMEOUT.as_secs()
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(format!("{}: cannot lock: {e}", path.display()));
                }
            }
            // Still the file the name refers to? (A writer may have renamed
            // a new one over it while this one waited.)
            if same_file(&file, &path) {
                return Ok(CacheLock { _file: Some(file) });
            }
        }
    }
}

#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &std::fs::File, _path: &Path) -> bool {
    true
}

fn create_dir_0700(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("{}: cannot create the collection: {e}", dir.display()))
}

/// Writes `bytes` to a new file (mode 0600, `O_EXCL`) beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let mut attempt = 0u32;
    loop {
        let suffix = crate::crypto::random_u32().map_err(|e| e.to_string())?;
        let mut tmp_name = name.to_os_string();
        tmp_name.push(format!(".{suffix:08x}"));
        let tmp = dir.join(tmp_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                attempt += 1;
                continue;
            }
            Err(e) => return Err(format!("{}: cannot create: {e}", tmp.display())),
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: cannot write: {e}", path.display()));
        }
        return Ok(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MIT's `t_marshal.c` version-4 test vector (the notes' 1.3).
    fn mit_vector() -> Vec<u8> {
        let mut v = vec![
            0x05, 0x04, 0x00, 0x0c, 0, 1, 0, 8, 0, 0, 1, 0x2c, 0, 0, 0xd4, 0x31,
        ];
        let client = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 11]);
            v.extend_from_slice(b"KRBTEST.COM");
            v.extend_from_slice(&[0, 0, 0, 10]);
            v.extend_from_slice(b"testclient");
        };
        client(&mut v);
        client(&mut v);
        v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 11]);
        v.extend_from_slice(b"EXAMPLE.COM");
        v.extend_from_slice(&[0, 0, 0, 4]);
        v.extend_from_slice(b"test");
        v.extend_from_slice(&[0, 0, 0, 4]);
        v.extend_from_slice(b"host");
        v.extend_from_slice(&[0, 0x11, 0, 0, 0, 16]);
        v.extend((0u8..16).collect::<Vec<_>>());
        v.extend_from_slice(&[
            0, 0, 0, 11, 0, 0, 0, 0xde, 0, 0, 0x0d, 0x05, 0x3b, 0x9a, 0xca, 0,
        ]);
        v.push(0);
        v.extend_from_slice(&[0x40, 0x80, 0, 0]);
        v.extend_from_slice(&[0, 0, 0, 1, 0, 2, 0, 0, 0, 4, 10, 0, 0, 1]);
        v.extend_from_slice(&[0, 0, 0, 2, 2, 0, 0, 0, 0, 10]);
        v.extend_from_slice(b"signticket");
        v.extend_from_slice(&[0xff, 0x9c, 0, 0, 0, 0]);
        v.extend_from_slice(&[0, 0, 0, 6]);
        v.extend_from_slice(b"ticket");
        v.extend_from_slice(&[0, 0, 0, 0]);
        v
    }

    #[test]
    fn reads_mit_test_vector_and_writes_it_back_byte_for_byte() {
        let bytes = mit_vector();
        let cache = CredentialCache::parse(&bytes).unwrap();
        assert_eq!(cache.principal.to_string(), "testclient@KRBTEST.COM");
        assert_eq!(cache.time_offset, Some((300, 54321)));
        let c = &cache.credentials[0];
        assert_eq!(c.server.components, ["test", "host"]);
        assert_eq!(c.key_type, 17);
        assert_eq!((c.auth_time, c.start_time, c.end_time), (11, 222, 3333));
        assert_eq!(c.renew_till, 1_000_000_000);
        assert_eq!(c.flags, 0x4080_0000);
        assert_eq!(c.addresses, vec![(2, vec![10, 0, 0, 1])]);
        assert_eq!(c.authdata[1].0, 0xff9c);
        assert_eq!(c.ticket, b"ticket");
        assert_eq!(cache.to_bytes().unwrap().as_slice(), bytes.as_slice());
        // Not a decodable ticket: listed, never used.
        assert!(cache.ticket_for(&c.server).is_none());
    }

    #[test]
    fn reads_version_3_with_the_doubled_key_type() {
        let v4 = mit_vector();
        // v3: no header; key type written twice.
        let mut v3 = vec![0x05, 0x03];
        v3.extend_from_slice(&v4[16..]);
        let at = v3
            .windows(6)
            .position(|w| w == [0, 0x11, 0, 0, 0, 16])
            .unwrap();
        v3.splice(at + 2..at + 2, [0, 0x11]);
        let cache = CredentialCache::parse(&v3).unwrap();
        assert_eq!(cache.credentials[0].key_type, 17);
        assert_eq!(cache.credentials[0].key.len(), 16);
        assert_eq!(cache.time_offset, None);
    }

    #[test]
    fn skips_removed_entries_and_unknown_header_tags() {
        let mut cache = CredentialCache::parse(&mit_vector()).unwrap();
        let mut removed = cache.credentials[0].clone();
        removed.end_time = 0;
        removed.auth_time = u32::MAX;
        cache.credentials.push(removed);
        let mut bytes = cache.to_bytes().unwrap().to_vec();
        // An unknown tag 7 of 3 bytes after tag 1.
        bytes.splice(2..4, [0, 19]);
        bytes.splice(16..16, [0, 7, 0, 3, 1, 2, 3]);
        let back = CredentialCache::parse(&bytes).unwrap();
        assert_eq!(back.credentials.len(), 1);
    }

    #[test]
    fn refuses_damage_with_a_message() {
        let bytes = mit_vector();
        assert!(
            CredentialCache::parse(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            CredentialCache::parse(&[0x05, 0x02])
                .unwrap_err()
                .contains("version 2")
        );
        assert!(
            CredentialCache::parse(b"hello")
                .unwrap_err()
                .contains("not a credential cache")
        );
        let mut huge = bytes.clone();
        huge[20..24].copy_from_slice(&1000u32.to_be_bytes());
        assert!(
            CredentialCache::parse(&huge)
                .unwrap_err()
                .contains("components")
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            CacheName::parse("FILE:/tmp/a:b").unwrap(),
            CacheName::File("/tmp/a:b".into())
        );
        assert_eq!(
            CacheName::parse("/tmp/x").unwrap(),
            CacheName::File("/tmp/x".into())
        );
        assert_eq!(
            CacheName::parse("DIR:/d").unwrap(),
            CacheName::Dir("/d".into())
        );
        assert_eq!(
            CacheName::parse("DIR::/d/tktabc").unwrap(),
            CacheName::DirFile("/d/tktabc".into())
        );
        assert!(CacheName::parse("DIR::/d/other").is_err());
        for text in ["FILE:/tmp/a", "DIR:/d", "DIR::/d/tktx"] {
            assert_eq!(CacheName::parse(text).unwrap().to_string(), text);
        }
        assert!(
            CacheName::parse("KEYRING:persistent:1000")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            CacheName::parse("file:/x")
                .unwrap_err()
                .contains("unknown type")
        );
    }

    #[test]
    fn dir_collection_uses_and_creates_primary() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cc");
        let name = CacheName::Dir(dir.clone());
        let cache = CredentialCache::parse(&mit_vector()).unwrap();
        name.save(&cache).unwrap();
        assert_eq!(std::fs::read(dir.join("primary")).unwrap(), b"tkt\n");
        assert_eq!(name.load().unwrap().unwrap(), cache);
        std::fs::write(dir.join("primary"), b"tktother\n").unwrap();
        assert_eq!(name.file().unwrap(), dir.join("tktother"));
        assert!(name.load().unwrap().is_none());
        std::fs::write(dir.join("primary"), b"../etc\n").unwrap();
        assert!(name.file().unwrap_err().contains("primary"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("tkt"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_dir_collection_is_searched_for_the_principal() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cc");
        let name = CacheName::Dir(dir.clone());
        let alice = CredentialCache::parse(&mit_vector()).unwrap();
        name.save(&alice).unwrap();
        let mut bob = alice.clone();
        bob.principal = Principal::user("bob", "KRBTEST.COM");
        CacheName::DirFile(dir.join("tktbob")).save(&bob).unwrap();
        let (found, cache) = name.load_for(&bob.principal).unwrap().unwrap();
        assert_eq!(found, CacheName::DirFile(dir.join("tktbob")));
        assert_eq!(cache, bob);
        let (found, _) = name.load_for(&alice.principal).unwrap().unwrap();
        assert_eq!(found, CacheName::DirFile(dir.join("tkt")));
        assert!(
            name.load_for(&Principal::user("carol", "KRBTEST.COM"))
                .unwrap()
                .is_none()
        );
        // A FILE cache of another principal is not searched further.
        let file = CacheName::File(dir.join("tkt"));
        assert!(file.load_for(&bob.principal).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_cache_others_can_write() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cc");
        std::fs::write(&path, mit_vector()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o622)).unwrap();
        let err = CacheName::File(path).load().unwrap_err();
        assert!(err.contains("writable"), "{err}");
    }

    fn principal() -> impl Strategy<Value = Principal> {
        (
            any::<u8>(),
            prop::collection::vec("[a-z/@.]{0,8}", 0..4),
            "[A-Z.]{0,10}",
        )
            .prop_map(|(t, components, realm)| Principal {
                name_type: i32::from(t),
                components,
                realm,
            })
    }

    fn credential() -> impl Strategy<Value = CacheCredential> {
        (
            (
                principal(),
                principal(),
                any::<u16>(),
                prop::collection::vec(any::<u8>(), 0..40),
            ),
            (any::<[u32; 4]>(), any::<bool>(), any::<u32>()),
            (
                prop::collection::vec(
                    (any::<u16>(), prop::collection::vec(any::<u8>(), 0..8)),
                    0..3,
                ),
                prop::collection::vec(
                    (any::<u16>(), prop::collection::vec(any::<u8>(), 0..8)),
                    0..3,
                ),
                prop::collection::vec(any::<u8>(), 0..64),
                prop::collection::vec(any::<u8>(), 0..8),
            ),
        )
            .prop_map(
                |((client, server, key_type, key), (times, is_skey, flags), (a, ad, t, t2))| {
                    CacheCredential {
                        client,
                        server,
                        key_type,
                        key: Zeroizing::new(key),
                        auth_time: times[0] & !1, // authtime 0 or even keeps endtime-0 entries live
                        start_time: times[1],
                        end_time: times[2] | 1,
                        renew_till: times[3],
                        is_skey,
                        flags,
                        addresses: a,
                        authdata: ad,
                        ticket: t,
                        second_ticket: t2,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip(p in principal(), creds in prop::collection::vec(credential(), 0..4),
                      offset in prop::option::of(any::<(i32, i32)>())) {
            let cache = CredentialCache { principal: p, time_offset: offset, credentials: creds };
            let bytes = cache.to_bytes().unwrap();
            prop_assert_eq!(CredentialCache::parse(&bytes).unwrap(), cache);
        }

        #[test]
        fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = CredentialCache::parse(&bytes);
        }

        #[test]
        fn parser_never_panics_on_damaged_caches(pos in 0usize..347, byte in any::<u8>(), cut in 0usize..348) {
            let mut bytes = mit_vector();
            let pos = pos % bytes.len();
            bytes[pos] = byte;
            bytes.truncate(cut);
            let _ = CredentialCache::parse(&bytes);
        }
    }
}

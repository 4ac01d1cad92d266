//! The acceptor's replay cache: a file shared by every process of the host
//! that accepts with the same cache, so an AP-REQ accepted once is refused
//! (KRB_AP_ERR_REPEAT) by this process, by a restarted one and by any other.
//!
//! The model is MIT's `rcache2` ("file2"): a fixed table of records in one
//! file, opened without following symlinks, owned by the effective user with
//! mode 0600, locked exclusively around each check-and-store. It differs
//! where MIT's would grow without bound or let one client crowd out others:
//!
//! * the file has a fixed size (a header, then `buckets x SLOTS` records of
//!   32 bytes) chosen from `ReplayCacheSize` when the file is created; nothing
//!   is held in memory between calls;
//! * an authenticator is identified by (client, server, ctime, cusec) as
//!   RFC 4120 3.2.3 says, hashed with the file's random seed: its bucket and
//!   its 88-bit tag;
//! * a record expires with the authenticator's time plus the skew (after
//!   that the clock-skew check refuses the authenticator anyway);
//! * a bucket full of live records makes room by forgetting the *oldest*
//!   authenticator of the client that holds the most records there. So that
//!   forgetting never lets a replay through, the forgotten authenticator's
//!   time is kept as that client's watermark in the bucket (one record per
//!   client): an authenticator of that client at or before the watermark is
//!   refused. A client flooding the acceptor thus only ever evicts itself;
//!   the others keep being served. Only a bucket that holds one record each
//!   of `SLOTS` different clients is truly full.
//!
//! Record layout (32 bytes): kind (0 empty, 1 authenticator, 2 watermark),
//! 11-byte tag, 8-byte client id, ctime in microseconds (i64 big-endian),
//! expiry in Unix seconds (u32 big-endian).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Records per bucket.
pub const SLOTS: usize = 16;
/// Bytes per record.
pub const RECORD_LEN: usize = 32;
/// Bytes of the file header.
pub const HEADER_LEN: usize = 64;
/// The largest table a file may declare (records).
pub const MAX_RECORDS: u64 = 16 << 20;
/// How long an acceptor waits for another process's lock before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

const MAGIC: &[u8; 8] = b"SSPIRC\x00\x01";
const BUCKET_LEN: usize = SLOTS * RECORD_LEN;
const KIND_EMPTY: u8 = 0;
const KIND_ENTRY: u8 = 1;
const KIND_WATERMARK: u8 = 2;

/// One authenticator to remember.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplayEntry {
    /// The client principal.
    pub client: String,
    /// The service principal.
    pub server: String,
    /// The authenticator's ctime (Unix seconds).
    pub ctime: i64,
    /// The authenticator's cusec.
    pub cusec: u32,
}

impl ReplayEntry {
    fn ctime_micros(&self) -> i64 {
        self.ctime
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(self.cusec))
    }
}

/// Why an authenticator was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// The same authenticator was seen before (KRB_AP_ERR_REPEAT).
    Replay,
    /// The cache had to forget authenticators of this client at least as old
    /// as this one (the client sent more than its bucket holds within the
    /// skew window); a fresh authenticator is accepted.
    Forgotten,
    /// The bucket holds one live record each of as many clients as it has slots.
    Full,
    /// The cache file could not be used (the message names it and why).
    Io(String),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Replay => f.write_str("the authenticator was seen before"),
            ReplayError::Forgotten => f.write_str(
                "the replay cache forgot this client's authenticators this old to make room",
            ),
            ReplayError::Full => f.write_str("the replay cache bucket is full of live entries"),
            ReplayError::Io(m) => f.write_str(m),
        }
    }
}

/// The replay cache file of an acceptor: where it is and the table size it
/// creates. Each [`admit`](ReplayCache::admit) opens, locks, reads and writes it.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    path: PathBuf,
    buckets: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Record {
    kind: u8,
    tag: [u8; 11],
    client: [u8; 8],
    ctime: i64,
    expires: u32,
}

impl Record {
    const EMPTY: Record = Record {
        kind: KIND_EMPTY,
        tag: [0; 11],
        client: [0; 8],
        ctime: 0,
        expires: 0,
    };

    fn read(bytes: &[u8]) -> Record {
        let mut tag = [0u8; 11];
        tag.copy_from_slice(&bytes[1..12]);
        let mut client = [0u8; 8];
        client.copy_from_slice(&bytes[12..20]);
        let mut ctime = [0u8; 8];
        ctime.copy_from_slice(&bytes[20..28]);
        let mut expires = [0u8; 4];
        expires.copy_from_slice(&bytes[28..32]);
        Record {
            kind: bytes[0],
            tag,
            client,
            ctime: i64::from_be_bytes(ctime),
            expires: u32::from_be_bytes(expires),
        }
    }

    fn write(&self, out: &mut [u8]) {
        out[0] = self.kind;
        out[1..12].copy_from_slice(&self.tag);
        out[12..20].copy_from_slice(&self.client);
        out[20..28].copy_from_slice(&self.ctime.to_be_bytes());
        out[28..32].copy_from_slice(&self.expires.to_be_bytes());
    }

    fn live(&self, now: i64) -> bool {
        self.kind != KIND_EMPTY && i64::from(self.expires) >= now
    }
}

/// Where the seed, the bucket index and the tag come from.
struct Keyed {
    bucket: u64,
    tag: [u8; 11],
    client: [u8; 8],
}

fn keyed(seed: &[u8; 16], entry: &ReplayEntry) -> Keyed {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(seed);
    for part in [entry.client.as_bytes(), entry.server.as_bytes()] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.update(&entry.ctime.to_be_bytes());
    ctx.update(&entry.cusec.to_be_bytes());
    let digest = ctx.finish();
    let d = digest.as_ref();
    let mut tag = [0u8; 11];
    tag.copy_from_slice(&d[..11]);
    let mut bucket = [0u8; 8];
    bucket.copy_from_slice(&d[11..19]);

    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(seed);
    ctx.update(b"client\0");
    ctx.update(entry.client.as_bytes());
    let digest = ctx.finish();
    let mut client = [0u8; 8];
    client.copy_from_slice(&digest.as_ref()[..8]);
    Keyed {
        bucket: u64::from_be_bytes(bucket),
        tag,
        client,
    }
}

/// What one check-and-store decided for a bucket (pure: the tests drive it directly).
fn decide(
    bucket: &mut [Record; SLOTS],
    key: &Keyed,
    ctime: i64,
    expires: u32,
    now: i64,
) -> Result<(), ReplayError> {
    let mut watermark = None;
    for (i, r) in bucket.iter().enumerate() {
        if !r.live(now) || r.client != key.client {
            continue;
        }
        match r.kind {
            KIND_WATERMARK => watermark = Some(i),
            _ if r.tag == key.tag => return Err(ReplayError::Replay),
            _ => {}
        }
    }
    if let Some(w) = watermark
        && ctime <= bucket[w].ctime
    {
        return Err(ReplayError::Forgotten);
    }
    let new = Record {
        kind: KIND_ENTRY,
        tag: key.tag,
        client: key.client,
        ctime,
        expires,
    };
    if let Some(free) = bucket.iter().position(|r| !r.live(now)) {
        bucket[free] = new;
        return Ok(());
    }
    // Full of live records: the client holding the most gives up its oldest.
    // Ties go to the newcomer's own client, then to the lowest client id.
    let count = |c: &[u8; 8]| bucket.iter().filter(|r| r.client == *c).count();
    let mut victim = key.client;
    let mut most = count(&key.client);
    for r in bucket.iter() {
        let n = count(&r.client);
        if n > most || (n == most && victim != key.client && r.client < victim) {
            most = n;
            victim = r.client;
        }
    }
    if most < 2 {
        return Err(ReplayError::Full);
    }
    let oldest = |b: &[Record; SLOTS], except: Option<usize>| {
        b.iter()
            .enumerate()
            .filter(|(i, r)| r.client == victim && r.kind == KIND_ENTRY && Some(*i) != except)
            .min_by_key(|(_, r)| r.ctime)
            .map(|(i, _)| i)
    };
    let victim_watermark = bucket
        .iter()
        .position(|r| r.client == victim && r.kind == KIND_WATERMARK);
    // The slots to merge into the watermark: the oldest entry (which becomes
    // the watermark when there is none), and the next one when it did.
    let (wm_slot, freed) = match victim_watermark {
        Some(w) => match oldest(bucket, None) {
            Some(e) => (w, e),
            None => return Err(ReplayError::Full),
        },
        None => {
            let Some(first) = oldest(bucket, None) else {
                return Err(ReplayError::Full);
            };
            let Some(second) = oldest(bucket, Some(first)) else {
                return Err(ReplayError::Full);
            };
            (first, second)
        }
    };
    let forgotten_ctime = bucket[wm_slot].ctime.max(bucket[freed].ctime);
    if victim == key.client && ctime <= forgotten_ctime {
        // The newcomer is older than what its own client must now forget.
        return Err(ReplayError::Forgotten);
    }
    let wm = Record {
        kind: KIND_WATERMARK,
        tag: [0; 11],
        client: victim,
        ctime: forgotten_ctime,
        expires: bucket[wm_slot].expires.max(bucket[freed].expires),
    };
    bucket[wm_slot] = wm;
    bucket[freed] = new;
    Ok(())
}

impl ReplayCache {
    /// The cache at `path` that, when it creates the file, makes room for
    /// about `capacity` authenticators (rounded up to whole buckets).
    pub fn new(path: PathBuf, capacity: usize) -> Self {
        let buckets = capacity
            .div_ceil(SLOTS)
            .clamp(1, (MAX_RECORDS as usize) / SLOTS);
        Self {
            path,
            buckets: buckets as u32,
        }
    }

    /// The default file: `/var/tmp/sspi-kerberos-<euid>.rcache` (MIT's is
    /// `/var/tmp/krb5_<euid>.rcache2`).
    pub fn default_path() -> PathBuf {
        #[cfg(unix)]
        {
            PathBuf::from(format!(
                "/var/tmp/sspi-kerberos-{}.rcache",
                rustix::process::geteuid().as_raw()
            ))
        }
        #[cfg(not(unix))]
        {
            std::env::temp_dir().join("sspi-kerberos.rcache")
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size of a file this cache creates.
    pub fn file_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.buckets) * BUCKET_LEN as u64
    }

    /// Opens (creating it if needed) and checks the file and its directory
    /// once, so a bad path is reported when the credentials are acquired.
    pub fn check(&self) -> Result<(), ReplayError> {
        check_directory(&self.path).map_err(ReplayError::Io)?;
        let file = self.open()?;
        lock(&file).map_err(|e| self.io("cannot lock", e))?;
        let mut header = [0u8; HEADER_LEN];
        self.header(&file, &mut header)?;
        Ok(())
    }

    fn io(&self, what: &str, e: impl std::fmt::Display) -> ReplayError {
        ReplayError::Io(format!("replay cache {}: {what}: {e}", self.path.display()))
    }

    fn open(&self) -> Result<std::fs::File, ReplayError> {
        let file = open_private(&self.path).map_err(|e| self.io("cannot open", e))?;
        check_file(&file).map_err(|e| self.io("refused", e))?;
        Ok(file)
    }

    /// Reads the header, writing a new one (random seed, this cache's size)
    /// into an empty file. Call with the lock held.
    fn header(&self, file: &std::fs::File, out: &mut [u8; HEADER_LEN]) -> Result<(), ReplayError> {
        let len = file
            .metadata()
            .map_err(|e| self.io("cannot stat", e))?
            .len();
        if len == 0 {
            out.fill(0);
            out[..8].copy_from_slice(MAGIC);
            out[8..12].copy_from_slice(&self.buckets.to_be_bytes());
            out[12..16].copy_from_slice(&(SLOTS as u32).to_be_bytes());
            crate::crypto::random(&mut out[16..32]).map_err(|e| self.io("no randomness", e))?;
            write_at(file, out, 0).map_err(|e| self.io("cannot write the header", e))?;
            file.set_len(self.file_len())
                .map_err(|e| self.io("cannot size the file", e))?;
            return Ok(());
        }
        read_at(file, out, 0).map_err(|e| self.io("cannot read the header", e))?;
        if &out[..8] != MAGIC {
            return Err(self.io(
                "refused",
                "the file is not an sspi-plug replay cache (wrong magic); \
                 ReplayCachePath must name a file of its own",
            ));
        }
        let buckets = u32::from_be_bytes([out[8], out[9], out[10], out[11]]);
        let slots = u32::from_be_bytes([out[12], out[13], out[14], out[15]]);
        if slots as usize != SLOTS
            || buckets == 0
            || u64::from(buckets) * SLOTS as u64 > MAX_RECORDS
        {
            return Err(self.io(
                "refused",
                format_args!("the header declares {buckets} buckets of {slots} slots"),
            ));
        }
        Ok(())
    }

    /// Admits `entry` unless the cache holds it (or cannot rule it out); it is
    /// remembered until `expires` (Unix seconds: its ctime plus the skew).
    /// `now` is the acceptor's time.
    pub fn admit(&self, entry: &ReplayEntry, expires: i64, now: i64) -> Result<(), ReplayError> {
        let file = self.open()?;
        lock(&file).map_err(|e| self.io("cannot lock", e))?;
        let mut header = [0u8; HEADER_LEN];
        self.header(&file, &mut header)?;
        let buckets = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        let mut seed = [0u8; 16];
        seed.copy_from_slice(&header[16..32]);
        let key = keyed(&seed, entry);
        let offset = HEADER_LEN as u64 + (key.bucket % u64::from(buckets)) * BUCKET_LEN as u64;
        let mut raw = [0u8; BUCKET_LEN];
        read_at(&file, &mut raw, offset).map_err(|e| self.io("cannot read", e))?;
        let mut bucket = [Record::EMPTY; SLOTS];
        for (r, bytes) in bucket.iter_mut().zip(raw.chunks_exact(RECORD_LEN)) {
            *r = Record::read(bytes);
        }
        let expires = u32::try_from(expires.max(0)).unwrap_or(u32::MAX);
        decide(&mut bucket, &key, entry.ctime_micros(), expires, now)?;
        for (r, bytes) in bucket.iter().zip(raw.chunks_exact_mut(RECORD_LEN)) {
            r.write(bytes);
        }
        write_at(&file, &raw, offset).map_err(|e| self.io("cannot write", e))?;
        // The lock is released when the file is closed.
        Ok(())
    }

    /// The number of live records (authenticators and watermarks) in the file.
    pub fn len(&self, now: i64) -> Result<usize, ReplayError> {
        let file = self.open()?;
        lock(&file).map_err(|e| self.io("cannot lock", e))?;
        let mut header = [0u8; HEADER_LEN];
        self.header(&file, &mut header)?;
        let buckets = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        let mut raw = [0u8; BUCKET_LEN];
        let mut live = 0;
        for b in 0..u64::from(buckets) {
            read_at(&file, &mut raw, HEADER_LEN as u64 + b * BUCKET_LEN as u64)
                .map_err(|e| self.io("cannot read", e))?;
            live += raw
                .chunks_exact(RECORD_LEN)
                .filter(|r| Record::read(r).live(now))
                .count();
        }
        Ok(live)
    }
}

fn lock(file: &std::fs::File) -> std::io::Result<()> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    let mut pause = Duration::from_micros(50);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "another process has held its lock for more than {} s",
                        LOCK_TIMEOUT.as_secs()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    // Past the end (a file another version sized shorter) reads as empty records.
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64)? {
            0 => {
                buf[done..].fill(0);
                break;
            }
            n => done += n,
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    let mut done = 0;
    while done < buf.len() {
        match f.read(&mut buf[done..])? {
            0 => {
                buf[done..].fill(0);
                break;
            }
            n => done += n,
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}

/// Opens `path` read-write, creating it with mode 0600, never through a
/// symlink in its last component.
#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::RUSR | Mode::WUSR,
    )
    .map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            std::io::Error::other("it is a symbolic link (refused)")
        } else {
            std::io::Error::from(e)
        }
    })?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// The opened file must be a regular file with one link, owned by the
/// effective user, with no permission bits for group or others.
#[cfg(unix)]
fn check_file(file: &std::fs::File) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let euid = rustix::process::geteuid().as_raw();
    if !meta.file_type().is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.uid() != euid {
        return Err(format!(
            "it is owned by uid {}, not by this process's uid {euid}",
            meta.uid()
        ));
    }
    if meta.nlink() != 1 {
        return Err(format!("it has {} hard links; expected 1", meta.nlink()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "its mode is {:04o}; group and others must have no access (chmod 600)",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file(_file: &std::fs::File) -> Result<(), String> {
    Ok(())
}

/// Every directory above the file must be writable only by this user or
/// root, unless it has the sticky bit (like /var/tmp), where only the
/// owner of a file can remove or rename it (and the file is checked to be ours).
#[cfg(unix)]
fn check_directory(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let name = path.display();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(parent)
        .map_err(|e| format!("replay cache {name}: its directory: {e}"))?;
    let euid = rustix::process::geteuid().as_raw();
    for ancestor in dir.ancestors() {
        let meta = std::fs::metadata(ancestor)
            .map_err(|e| format!("replay cache {name}: {}: {e}", ancestor.display()))?;
        let mode = meta.mode();
        let others_write = mode & 0o022 != 0 || (meta.uid() != euid && meta.uid() != 0);
        if others_write && mode & 0o1000 == 0 {
            return Err(format!(
                "replay cache {name}: refused: the directory {} (owner uid {}, mode {:04o}) \
                 can be written by another user and has no sticky bit",
                ancestor.display(),
                meta.uid(),
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_directory(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e(client: &str, ctime: i64, cusec: u32) -> ReplayEntry {
        ReplayEntry {
            client: client.into(),
            server: "host/x@R".into(),
            ctime,
            cusec,
        }
    }

    fn cache(dir: &tempfile::TempDir, capacity: usize) -> ReplayCache {
        ReplayCache::new(dir.path().join("rcache"), capacity)
    }

    #[test]
    fn replays_are_refused_until_they_expire_and_the_file_keeps_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir, 16);
        assert_eq!(cache.admit(&e("a@R", 100, 7), 400, 100), Ok(()));
        assert_eq!(
            cache.admit(&e("a@R", 100, 7), 400, 150),
            Err(ReplayError::Replay)
        );
        assert_eq!(cache.admit(&e("a@R", 100, 8), 400, 150), Ok(()));
        assert_eq!(cache.admit(&e("b@R", 100, 7), 400, 150), Ok(()));
        assert_eq!(cache.len(150).unwrap(), 3);
        // After the window the records are free again.
        assert_eq!(cache.len(401).unwrap(), 0);
        assert_eq!(cache.admit(&e("a@R", 100, 7), 400, 401), Ok(()));
        let len = std::fs::metadata(cache.path()).unwrap().len();
        assert_eq!(len, cache.file_len());
        assert_eq!(len, (HEADER_LEN + SLOTS * RECORD_LEN) as u64);
    }

    #[test]
    fn a_second_cache_on_the_same_file_sees_the_first_ones_entries() {
        let dir = tempfile::tempdir().unwrap();
        let first = cache(&dir, 64);
        first.admit(&e("a@R", 100, 1), 400, 100).unwrap();
        // A different configured size does not change an existing file.
        let second = cache(&dir, 100_000);
        assert_eq!(
            second.admit(&e("a@R", 100, 1), 400, 101),
            Err(ReplayError::Replay)
        );
        assert_eq!(
            std::fs::metadata(first.path()).unwrap().len(),
            first.file_len()
        );
    }

    #[test]
    fn a_flooding_client_evicts_only_itself_even_with_future_times() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir, 64); // 4 buckets of 16
        let now = 1_000_000;
        // The flooder dates its authenticators as far ahead as the skew allows.
        let mut flood = Vec::new();
        for i in 0..5000u32 {
            let entry = e("flood@R", now + 300, i);
            if cache.admit(&entry, now + 600, now) == Ok(()) {
                flood.push(entry);
            }
        }
        assert!(
            flood.len() > 64,
            "the flooder is served too: {}",
            flood.len()
        );
        // Honest clients are still served, many of them (20 spread over 4
        // buckets of 16: one bucket gets 15 of them with odds below 1e-5).
        for n in 0..20 {
            let honest = e(&format!("user{n}@R"), now, 0);
            assert_eq!(cache.admit(&honest, now + 300, now), Ok(()), "user{n}");
            assert_eq!(
                cache.admit(&honest, now + 300, now + 1),
                Err(ReplayError::Replay)
            );
        }
        // No accepted flood authenticator is ever accepted again.
        for entry in &flood {
            let again = cache.admit(entry, now + 600, now + 2);
            assert!(
                again == Err(ReplayError::Replay) || again == Err(ReplayError::Forgotten),
                "{again:?}"
            );
        }
        assert!(cache.len(now).unwrap() <= 64);
        assert_eq!(
            std::fs::metadata(cache.path()).unwrap().len(),
            cache.file_len()
        );
    }

    #[test]
    fn concurrent_acceptors_admit_each_authenticator_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rcache");
        ReplayCache::new(path.clone(), 4096).check().unwrap();
        let started = Instant::now();
        let admitted: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    // Each thread its own cache object, as separate processes would.
                    let cache = ReplayCache::new(path.clone(), 4096);
                    scope.spawn(move || {
                        (0..300u32)
                            .filter(|&i| {
                                let entry = e(&format!("c{}@R", i % 7), 1000, i);
                                cache.admit(&entry, 1300, 1000).is_ok()
                            })
                            .count()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        let took = started.elapsed();
        eprintln!(
            "replay cache: 1200 check-and-stores by 4 threads in {took:?} ({:.0}/s)",
            1200.0 / took.as_secs_f64()
        );
        assert_eq!(
            admitted, 300,
            "every authenticator admitted once, by one thread"
        );
    }

    #[test]
    fn a_bucket_of_distinct_clients_is_full() {
        let key = |c: u8| Keyed {
            bucket: 0,
            tag: [c; 11],
            client: [c; 8],
        };
        let mut bucket = [Record::EMPTY; SLOTS];
        for c in 0..SLOTS as u8 {
            decide(&mut bucket, &key(c + 1), 10, 400, 10).unwrap();
        }
        assert_eq!(
            decide(&mut bucket, &key(200), 10, 400, 10),
            Err(ReplayError::Full)
        );
        // A client with two records makes room for a newcomer.
        let mut b = bucket;
        b[1].client = [1; 8];
        assert_eq!(decide(&mut b, &key(200), 10, 400, 10), Ok(()));
    }

    proptest! {
        /// Whatever the order, times and clients, an authenticator once
        /// admitted is never admitted again while it is live.
        #[test]
        fn no_replay_is_ever_admitted(
            ops in proptest::collection::vec((0u8..4, 0i64..40, 0u32..6, 0i64..3), 1..400)
        ) {
            let mut bucket = [Record::EMPTY; SLOTS];
            let mut admitted: Vec<(u8, i64, u32, u32)> = Vec::new();
            let mut now = 100i64;
            for (client, dt, usec, tick) in ops {
                now += tick;
                let ctime_secs = now - 20 + dt;
                let ctime = ctime_secs * 1_000_000 + i64::from(usec);
                let expires = (ctime_secs + 30) as u32;
                let mut tag = [0u8; 11];
                tag[0] = client;
                tag[1..9].copy_from_slice(&ctime.to_be_bytes());
                let key = Keyed { bucket: 0, tag, client: [client; 8] };
                let seen = admitted.iter().any(|&(c, t, u, x)| {
                    c == client && t == ctime_secs && u == usec && i64::from(x) >= now
                });
                let result = decide(&mut bucket, &key, ctime, expires, now);
                if seen {
                    prop_assert!(result.is_err(), "a replay was admitted");
                }
                if result.is_ok() {
                    admitted.push((client, ctime_secs, usec, expires));
                }
            }
        }
    }

    #[cfg(unix)]
    mod files {
        use super::*;
        use std::os::unix::fs::PermissionsExt;

        fn chmod(path: &Path, mode: u32) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }

        #[test]
        fn a_new_file_is_private() {
            let dir = tempfile::tempdir().unwrap();
            let cache = cache(&dir, 16);
            cache.check().unwrap();
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(cache.path()).unwrap();
            assert_eq!(meta.mode() & 0o777, 0o600);
            assert_eq!(meta.uid(), rustix::process::geteuid().as_raw());
        }

        #[test]
        fn a_symlink_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("elsewhere");
            std::fs::write(&target, b"").unwrap();
            chmod(&target, 0o600);
            std::os::unix::fs::symlink(&target, dir.path().join("rcache")).unwrap();
            let err = cache(&dir, 16).check().unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            assert_eq!(std::fs::metadata(&target).unwrap().len(), 0);
        }

        #[test]
        fn a_file_others_can_access_or_of_another_kind_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let cache = cache(&dir, 16);
            cache.check().unwrap();
            chmod(cache.path(), 0o644);
            let err = cache.check().unwrap_err();
            assert!(err.to_string().contains("chmod 600"), "{err}");
            // Not a replay cache: never overwritten.
            let other = dir.path().join("keytab");
            std::fs::write(&other, b"\x05\x02not a replay cache").unwrap();
            chmod(&other, 0o600);
            let err = ReplayCache::new(other.clone(), 16).check().unwrap_err();
            assert!(err.to_string().contains("wrong magic"), "{err}");
            assert_eq!(
                std::fs::read(&other).unwrap(),
                b"\x05\x02not a replay cache"
            );
            // A hard link.
            let linked = dir.path().join("linked");
            chmod(cache.path(), 0o600);
            std::fs::hard_link(cache.path(), &linked).unwrap();
            let err = cache.check().unwrap_err();
            assert!(err.to_string().contains("hard links"), "{err}");
        }

        #[test]
        fn a_directory_others_can_write_needs_the_sticky_bit() {
            let dir = tempfile::tempdir().unwrap();
            let shared = dir.path().join("shared");
            std::fs::create_dir(&shared).unwrap();
            chmod(&shared, 0o777);
            let cache = ReplayCache::new(shared.join("rcache"), 16);
            let err = cache.check().unwrap_err();
            assert!(err.to_string().contains("no sticky bit"), "{err}");
            assert!(!cache.path().exists());
            chmod(&shared, 0o1777);
            cache.check().unwrap();
        }

        #[test]
        fn a_file_or_directory_of_another_user_is_refused() {
            if !rustix::process::geteuid().is_root() {
                // Only root can make a file owned by someone else here.
                eprintln!("!! not root: the foreign-owner case is checked by CI (root) only");
                return;
            }
            let nobody = rustix::process::Uid::from_raw(65534);
            let dir = tempfile::tempdir().unwrap();
            let cache = cache(&dir, 16);
            cache.check().unwrap();
            rustix::fs::chown(cache.path(), Some(nobody), None).unwrap();
            let err = cache.check().unwrap_err();
            assert!(err.to_string().contains("owned by uid 65534"), "{err}");

            let theirs = dir.path().join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            chmod(&theirs, 0o755);
            rustix::fs::chown(&theirs, Some(nobody), None).unwrap();
            let err = ReplayCache::new(theirs.join("rcache"), 16)
                .check()
                .unwrap_err();
            assert!(err.to_string().contains("no sticky bit"), "{err}");
        }

        #[test]
        fn the_default_path_is_per_user_in_var_tmp() {
            let path = ReplayCache::default_path();
            let euid = rustix::process::geteuid().as_raw();
            assert_eq!(
                path,
                PathBuf::from(format!("/var/tmp/sspi-kerberos-{euid}.rcache"))
            );
            check_directory(&path).unwrap();
        }
    }
}

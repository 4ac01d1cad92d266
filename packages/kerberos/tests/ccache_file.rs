//! Credential caches MIT 1.20.1 wrote (`kinit alice` then `kvno
//! host/localhost` against an MIT KDC, FILE: and DIR:), read by the codec
//! and written back byte for byte.

use sspi_package_kerberos::internal::ccache::{CacheName, CredentialCache};
use sspi_package_kerberos::internal::principal::Principal;

const FILE_CACHE: &[u8] = include_bytes!("data/mit-1.20-kinit-kvno.ccache");
const DIR_CACHE: &[u8] = include_bytes!("data/mit-1.20-dir-tkt.ccache");

#[test]
fn an_mit_kinit_kvno_cache_is_read_and_written_back_byte_for_byte() {
    let cache = CredentialCache::parse(FILE_CACHE).expect("MIT's cache parses");
    assert_eq!(cache.principal.to_string(), "alice@MIT.TEST");
    assert_eq!(cache.time_offset, Some((0, 0)));
    let config: Vec<String> = cache
        .credentials
        .iter()
        .filter(|c| c.is_config())
        .map(|c| c.server.components[1].clone())
        .collect();
    assert_eq!(config, ["fast_avail", "pa_type"]);
    let tickets: Vec<_> = cache
        .credentials
        .iter()
        .filter(|c| !c.is_config())
        .collect();
    assert_eq!(tickets.len(), 2);
    for c in &tickets {
        assert_eq!(c.key_type, 18);
        let t = c.to_ticket().expect("a usable ticket");
        assert_eq!(t.session_key.bytes().len(), 32);
        assert!(t.end_time > t.auth_time);
    }
    assert!(tickets[0].server.is_krbtgt());
    assert_eq!(tickets[1].server.to_string(), "host/localhost@MIT.TEST");
    // `ticket_for` finds them whatever the name type (MIT: NT-SRV-HST for host/).
    let host = Principal::parse("host/localhost", "MIT.TEST").unwrap();
    assert!(cache.ticket_for(&host).is_some());
    assert!(cache.ticket_for(&Principal::krbtgt("MIT.TEST")).is_some());
    assert_eq!(cache.to_bytes().unwrap().as_slice(), FILE_CACHE);
}

#[test]
fn an_mit_dir_collection_is_read_through_its_primary_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cc");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("primary"), b"tkt\n").unwrap();
    std::fs::write(dir.join("tkt"), DIR_CACHE).unwrap();
    let name = CacheName::parse(&format!("DIR:{}", dir.display())).unwrap();
    let cache = name.load().unwrap().expect("the primary cache");
    assert_eq!(cache.principal.to_string(), "alice@MIT.TEST");
    assert!(cache.ticket_for(&Principal::krbtgt("MIT.TEST")).is_some());
    assert_eq!(cache.to_bytes().unwrap().as_slice(), DIR_CACHE);
}

#[test]
fn every_truncation_of_the_mit_cache_is_an_error_not_a_panic() {
    for len in 0..FILE_CACHE.len() {
        if let Ok(c) = CredentialCache::parse(&FILE_CACHE[..len]) {
            // Only the cut at a credential boundary parses (fewer credentials).
            assert!(c.credentials.len() < 4, "{len}");
        }
    }
}

/// Writers adding tickets to one FILE cache at once, each under
/// `lock_for_update` (read, add, rename a new file over it): none is lost.
#[test]
fn concurrent_writers_under_the_cache_lock_lose_no_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cc");
    let name = CacheName::parse(&format!("FILE:{}", path.display())).unwrap();
    let mine = CredentialCache::parse(FILE_CACHE).unwrap();
    let template = mine.credentials[mine.credentials.len() - 1]
        .to_ticket()
        .unwrap();
    name.save(&CredentialCache::new(mine.principal.clone()))
        .unwrap();
    let (writers, each) = (6, 5);
    std::thread::scope(|s| {
        for w in 0..writers {
            let (name, template) = (&name, &template);
            s.spawn(move || {
                for i in 0..each {
                    let mut ticket = template.clone();
                    ticket.server =
                        Principal::parse(&format!("host/w{w}-t{i}"), "MIT.TEST").unwrap();
                    let _lock = name.lock_for_update().unwrap();
                    let mut cache = name.load().unwrap().unwrap();
                    cache.store(&ticket).unwrap();
                    name.save(&cache).unwrap();
                }
            });
        }
    });
    let cache = name.load().unwrap().unwrap();
    let stored = cache.credentials.iter().filter(|c| !c.is_config()).count();
    assert_eq!(
        stored,
        writers * each,
        "every writer's tickets are in the cache"
    );
}

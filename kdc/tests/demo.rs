//! The shipped demo files agree: `packages/kerberos/demo/service.keytab` holds
//! exactly the keys `kdc/demo/database.txt` derives for `host/localhost`.
//! `SSPI_KDC_WRITE_DEMO=1 cargo test -p sspi-kdc --test demo` rewrites it.

use sspi_kdc::Database;
use sspi_package_kerberos::internal::keytab::Keytab;
use std::path::Path;

#[test]
fn the_demo_keytab_matches_the_demo_database() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let db = Database::load(&root.join("kdc/demo/database.txt"), "SSPI-PLUG.TEST").unwrap();
    let expected = db.keytab(&["host/localhost"]).unwrap();
    let path = root.join("packages/kerberos/demo/service.keytab");
    if std::env::var_os("SSPI_KDC_WRITE_DEMO").is_some() {
        std::fs::write(&path, expected.to_bytes().unwrap()).unwrap();
    }
    let shipped = Keytab::load(&path).unwrap();
    assert_eq!(shipped.entries.len(), expected.entries.len());
    for (a, b) in shipped.entries.iter().zip(&expected.entries) {
        assert_eq!(
            (&a.principal, a.kvno, a.etype),
            (&b.principal, b.kvno, b.etype)
        );
        assert_eq!(a.key.as_slice(), b.key.as_slice(), "{a:?}");
    }
}

/// `kdc/demo/http.keytab` (read by `sspi http-server` through
/// `config/http-server.reg`) holds exactly the database's keys of `HTTP/localhost`.
#[test]
fn the_demo_http_keytab_matches_the_demo_database() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let db = Database::load(&root.join("kdc/demo/database.txt"), "SSPI-PLUG.TEST").unwrap();
    let expected = db.keytab(&["HTTP/localhost"]).unwrap();
    let path = root.join("kdc/demo/http.keytab");
    if std::env::var_os("SSPI_KDC_WRITE_DEMO").is_some() {
        std::fs::write(&path, expected.to_bytes().unwrap()).unwrap();
    }
    let shipped = Keytab::load(&path).unwrap();
    assert!(!expected.entries.is_empty());
    assert_eq!(shipped.entries.len(), expected.entries.len());
    for (a, b) in shipped.entries.iter().zip(&expected.entries) {
        assert_eq!(
            (&a.principal, a.kvno, a.etype),
            (&b.principal, b.kvno, b.etype)
        );
        assert_eq!(a.key.as_slice(), b.key.as_slice(), "{a:?}");
    }
}

//! `kerberos`: the Kerberos package loaded as the plugin, against the embedded KDC.
//!
//! * `kerberos_authentication/full_as_tgs_ap`: new client credentials each
//!   time, so AS (with the PREAUTH_REQUIRED round trip and string-to-key),
//!   TGS and AP with mutual authentication all happen over loopback TCP;
//! * `kerberos_authentication/cached_tickets_ap_only`: the same client
//!   credentials, so only the AP exchange (tickets come from the cache);
//! * `kerberos_seal_unseal_64KiB/{ours_plugin,raw_inplace_profile,picky_cipher}`:
//!   one EncryptMessage + DecryptMessage of 64 KiB (aes256-cts-hmac-sha1-96)
//!   through the plugin, the same RFC 3961 work with this crate's in-place
//!   primitive (keys derived once), and picky-krb's `Cipher::encrypt` +
//!   `decrypt` (the raw primitive of the same enctype, which derives the keys
//!   and allocates per call).
//! * `kerberos_vs_mit/{ours_ap_cached_tickets,ours_seal_unseal_64KiB}` beside
//!   MIT GSS-API doing the same in one process (`scripts/mit-krb5/gss_bench.c`,
//!   built by `scripts/mit-krb5/build_bench.sh`: a MEMORY credential cache,
//!   MIT's replay cache on), with tickets from the same embedded KDC and the
//!   same service key. Both sides are also timed the same way (the median of
//!   single iterations) and printed side by side with the ratio. Without the
//!   MIT tools the comparison says loudly that it was skipped.

#[path = "../tests/common/kerberos_fixture.rs"]
mod fixture;
#[path = "../tests/common/spnego_peers.rs"]
mod peers;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use picky_krb::crypto::CipherSuite;
use sspi_core::{CredentialUse, Qop, SecBuffer};
use sspi_package_kerberos::internal::crypto::cts::Segments;
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ};
use std::ffi::OsString;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const LEN: usize = 64 * 1024;

fn authentication(c: &mut Criterion) {
    let realm = fixture::realm();
    let host = realm.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut group = c.benchmark_group("kerberos_authentication");
    group.sample_size(30);
    group.bench_function("full_as_tgs_ap", |b| {
        b.iter(|| {
            let client = host
                .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
                .unwrap();
            black_box(
                loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                    .unwrap(),
            );
        })
    });
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    group.bench_function("cached_tickets_ap_only", |b| {
        b.iter(|| {
            black_box(
                loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                    .unwrap(),
            );
        })
    });
    group.finish();
}

fn seal_unseal(c: &mut Criterion) {
    let realm = fixture::realm();
    let host = realm.host();
    let (client, server) = fixture::credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ).unwrap();
    let mut group = c.benchmark_group("kerberos_seal_unseal_64KiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    let mut data = vec![0x5au8; LEN];
    let mut trailer = vec![0u8; 60];
    group.bench_function("ours_plugin", |b| {
        b.iter(|| {
            trailer.resize(60, 0);
            let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            done.client
                .encrypt_message(Qop::DEFAULT, &mut msg, 0)
                .unwrap();
            done.server.decrypt_message(&mut msg, 0).unwrap();
            black_box(msg[1].as_slice()[0]);
        })
    });

    let key = Key::new(Etype::Aes256CtsHmacSha196, vec![7; 32]).unwrap();
    let keys = key.usage(24).unwrap();
    let mut conf = [1u8; 16];
    let mut header = [2u8; 16];
    group.bench_function("raw_inplace_profile", |b| {
        b.iter(|| {
            let mac = keys.encrypt_in_place(&mut Segments::new(&mut conf, &mut data, &mut header));
            keys.decrypt_in_place(&mut Segments::new(&mut conf, &mut data, &mut header), &mac)
                .unwrap();
            black_box(data[0]);
        })
    });

    let cipher = CipherSuite::Aes256CtsHmacSha196.cipher();
    let plain = vec![0x5au8; LEN + 16];
    group.bench_function("picky_cipher", |b| {
        b.iter(|| {
            let sealed = cipher.encrypt(key.bytes(), 24, black_box(&plain)).unwrap();
            let opened = cipher.decrypt(key.bytes(), 24, &sealed).unwrap();
            black_box(opened[0]);
        })
    });
    group.finish();
}

/// Builds the MIT side (`scripts/mit-krb5/build_bench.sh`), or says why not.
fn mit_bench_program() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/mit-krb5/build_bench.sh");
    let out = Command::new("sh")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Runs the MIT program; its median per iteration (ns) and session enctype.
fn mit_median(program: &Path, args: &[&str], env: &[(&str, OsString)]) -> (f64, String) {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run the MIT bench program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "MIT bench {args:?}: {text}");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("MIT bench {args:?}: no {name} in {text}"))
    };
    let median = field("MEDIAN_NS ").parse().expect("a number");
    (median, field("ENCTYPE "))
}

/// The median of `n` single runs of `f`, in ns: how the MIT program times itself.
fn median_of_runs(n: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[n / 2]
}

/// A realm of the embedded KDC whose alice and service have keys of `etype`
/// only (and the package allows only it), with MIT's krb5.conf for it.
struct EtypeRealm {
    _kdc: sspi_kdc::KdcHandle,
    registry: sspi_tests::RegistryFile,
    dir: tempfile::TempDir,
    env: Vec<(&'static str, OsString)>,
}

fn etype_realm(etype: u32, name: &str) -> EtypeRealm {
    let text = format!(
        "alice etypes={etype} password alice-password\n{} etypes={etype} password host-service-secret\n",
        fixture::SERVICE
    );
    let db = sspi_kdc::Database::parse(&text, fixture::REALM, "bench-database").unwrap();
    let keytab = db.keytab(&[fixture::SERVICE]).unwrap().to_bytes().unwrap();
    let kdc =
        sspi_kdc::KdcHandle::start("127.0.0.1:0".parse().unwrap(), sspi_kdc::KdcConfig::new(db))
            .unwrap();
    let registry = sspi_tests::RegistryFile::new(&fixture::registry_text(
        &kdc.addr().to_string(),
        &format!("\"AllowedEnctypes\"=\"{etype}\"\n"),
    ));
    std::fs::write(registry.dir.path().join("service.keytab"), &keytab).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = peers::krb5_conf(
        dir.path(),
        "krb5.conf",
        fixture::REALM,
        &kdc.addr().to_string(),
    );
    let text = std::fs::read_to_string(&conf).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("permitted_enctypes") {
                format!(" permitted_enctypes = {name}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&conf, text + "\n").unwrap();
    let keytab_path = dir.path().join("service.keytab");
    std::fs::write(&keytab_path, &keytab).unwrap();
    let env = peers::krb5_env(dir.path(), &conf, &keytab_path);
    peers::kinit(&env, &format!("alice@{}", fixture::REALM), "alice-password");
    EtypeRealm {
        _kdc: kdc,
        registry,
        dir,
        env,
    }
}

fn versus_mit(c: &mut Criterion) {
    let program = match mit_bench_program() {
        Ok(program) => program,
        Err(why) => {
            let line = "!".repeat(78);
            eprintln!(
                "\n{line}\n!! SKIPPED kerberos_vs_mit: the MIT side could not be built: {why}\n{line}\n"
            );
            println!("kerberos_vs_mit: SKIPPED (MIT not measured): {why}");
            return;
        }
    };
    let mut rows = Vec::new();
    for (etype, name) in [
        (18, "aes256-cts-hmac-sha1-96"),
        (20, "aes256-cts-hmac-sha384-192"),
    ] {
        let realm = etype_realm(etype, name);
        let _ = &realm.dir;
        let host = realm.registry.host();
        let env = &realm.env;
        let (mit_ap, mit_ap_etype) = mit_median(&program, &["AP", "400", "host@localhost"], env);
        let (mit_wrap, mit_wrap_etype) = mit_median(
            &program,
            &["WRAP", "100", "host@localhost", &LEN.to_string()],
            env,
        );
        assert_eq!(
            (mit_ap_etype.as_str(), mit_wrap_etype.as_str()),
            (etype.to_string().as_str(), etype.to_string().as_str()),
            "MIT used another enctype"
        );
        let (client, server) = fixture::credentials(&host, None);
        let mut ap = || {
            black_box(
                loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                    .unwrap(),
            );
        };
        ap(); // the service ticket into the cache, as MIT's first exchange
        let mut done =
            loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                .unwrap();
        let trailer_len = done.client.sizes().unwrap().security_trailer as usize;
        let mut data = vec![0x5au8; LEN];
        let mut trailer = vec![0u8; trailer_len];
        let mut seal = || {
            trailer.resize(trailer_len, 0);
            let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            done.client
                .encrypt_message(Qop::DEFAULT, &mut msg, 0)
                .unwrap();
            done.server.decrypt_message(&mut msg, 0).unwrap();
            black_box(msg[1].as_slice()[0]);
        };
        let mut group = c.benchmark_group(format!("kerberos_vs_mit_etype{etype}"));
        group.sample_size(30);
        group.bench_function("ours_ap_cached_tickets", |b| b.iter(&mut ap));
        group.throughput(Throughput::Bytes(LEN as u64));
        group.bench_function("ours_seal_unseal_64KiB", |b| b.iter(&mut seal));
        group.finish();
        let ours_ap = median_of_runs(400, &mut ap);
        let ours_wrap = median_of_runs(100, &mut seal);
        rows.push(format!(
            "| AP exchange, tickets cached, mutual, etype {etype} | {:.1} µs | {:.1} µs | {:.2}× |",
            ours_ap / 1e3,
            mit_ap / 1e3,
            mit_ap / ours_ap
        ));
        rows.push(format!(
            "| 64 KiB seal+unseal, etype {etype} | {:.1} µs | {:.1} µs | {:.2}× |",
            ours_wrap / 1e3,
            mit_wrap / 1e3,
            mit_wrap / ours_wrap
        ));
    }
    println!(
        "\nkerberos_vs_mit: medians of single iterations, measured the same way on both sides"
    );
    println!("| comparison | ours | MIT GSS-API | MIT / ours |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

criterion_group!(benches, authentication, seal_unseal, versus_mit);
criterion_main!(benches);

//! The owner-and-mode rule, on real files in a temporary directory.

use sspi_trust::{Policy, Reason, TrustedFile};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn file_with_mode(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, b"contents").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn refusal(path: &Path) -> sspi_trust::FileError {
    TrustedFile::open_with(path, "test file", Policy::Enforce).unwrap_err()
}

#[test]
fn a_file_only_its_owner_writes_is_trusted_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with_mode(dir.path(), "ok", 0o644);
    let file = TrustedFile::open_with(&path, "test file", Policy::Enforce).unwrap();
    assert_eq!(file.path(), path.canonicalize().unwrap());
    assert_eq!(file.read_to_end(8).unwrap(), b"contents");
}

#[test]
fn group_or_other_writable_files_are_refused_naming_file_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, who) in [
        (0o666, "group and others"),
        (0o664, "group"),
        (0o646, "others"),
    ] {
        let path = file_with_mode(dir.path(), &format!("m{mode:o}"), mode);
        let error = refusal(&path);
        assert!(
            matches!(error.reason, Reason::Writable { who: w, .. } if w == who),
            "{error}"
        );
        let text = error.to_string();
        assert!(text.starts_with("test file /"), "{text}");
        assert!(
            text.contains(&format!("m{mode:o}: is writable by {who} (mode 0{mode:o})")),
            "{text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
    }
}

#[test]
fn a_directory_others_may_write_is_refused_unless_sticky() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let path = file_with_mode(&open, "f", 0o644);
    let error = refusal(&path);
    match &error.reason {
        Reason::Directory { dir, problem } => {
            assert_eq!(dir, &open.canonicalize().unwrap());
            assert!(matches!(**problem, Reason::Writable { .. }), "{error}");
        }
        other => panic!("expected a directory fault, got {other:?}"),
    }

    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
    TrustedFile::open_with(&path, "test file", Policy::Enforce)
        .expect("a sticky world-writable directory (like /tmp) is fine for our own file");
}

#[test]
fn a_symbolic_link_is_checked_and_opened_as_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("private");
    fs::create_dir(&target_dir).unwrap();
    let target = file_with_mode(&target_dir, "real", 0o600);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let file = TrustedFile::open_with(&link, "test file", Policy::Enforce).unwrap();
    assert_eq!(file.path(), target.canonicalize().unwrap());

    fs::set_permissions(&target, fs::Permissions::from_mode(0o622)).unwrap();
    let error = refusal(&link);
    assert!(
        error.to_string().contains("/private/real"),
        "names the target: {error}"
    );
}

#[test]
fn files_of_another_user_are_refused() {
    if rustix::process::geteuid().as_raw() != 0 {
        eprintln!("NOT CHECKED: making a file of another user needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = file_with_mode(dir.path(), "theirs", 0o644);
    std::os::unix::fs::chown(&path, Some(12345), None).unwrap();
    let error = refusal(&path);
    assert!(
        matches!(
            error.reason,
            Reason::Owner {
                owner: 12345,
                euid: 0
            }
        ),
        "{error}"
    );

    let sub = dir.path().join("theirs-dir");
    fs::create_dir(&sub).unwrap();
    let inner = file_with_mode(&sub, "mine", 0o644);
    std::os::unix::fs::chown(&sub, Some(12345), None).unwrap();
    let error = refusal(&inner);
    assert!(
        matches!(&error.reason, Reason::Directory { problem, .. } if matches!(**problem, Reason::Owner { owner: 12345, .. })),
        "{error}"
    );
}

#[test]
fn the_warn_policy_lets_permission_faults_through_but_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with_mode(dir.path(), "loose", 0o666);
    TrustedFile::open_with(&path, "test file", Policy::Warn).expect("warn only");
    let missing = TrustedFile::open_with(&dir.path().join("nope"), "test file", Policy::Warn);
    assert!(matches!(missing.unwrap_err().reason, Reason::Open(_)));
    let device = TrustedFile::open_with(Path::new("/dev/null"), "test file", Policy::Warn);
    assert!(matches!(
        device.unwrap_err().reason,
        Reason::NotARegularFile
    ));
}

#[test]
fn reads_stop_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with_mode(dir.path(), "big", 0o644);
    let file = TrustedFile::open_with(&path, "test file", Policy::Enforce).unwrap();
    let error = file.read_to_end(7).unwrap_err();
    assert!(
        matches!(error.reason, Reason::TooLarge { limit: 7 }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .ends_with("big: is larger than the limit of 7 bytes"),
        "{error}"
    );
}

#[test]
fn the_open_file_path_names_the_checked_file_even_after_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with_mode(dir.path(), "lib", 0o644);
    let file = TrustedFile::open_with(&path, "test file", Policy::Enforce).unwrap();
    fs::rename(&path, dir.path().join("moved")).unwrap();
    fs::write(&path, b"impostor").unwrap();
    let by_fd = file.path_of_open_file();
    assert_eq!(fs::read(by_fd).unwrap(), b"contents");
}

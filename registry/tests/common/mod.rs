//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sspi_registry::{RegFile, RegistryError};

/// A fresh directory under Cargo's per-target temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sspi-registry-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// The path of a file in `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Parses text as `t.reg`, panicking on error.
pub fn parse(text: &str) -> RegFile {
    RegFile::parse(text.as_bytes(), Path::new("t.reg")).unwrap_or_else(|e| panic!("{e}"))
}

/// A syntax error, flattened for assertions.
#[derive(Debug, PartialEq)]
pub struct Syntax {
    pub line: u32,
    pub column: u32,
    pub key: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

/// Parses text as `t.reg` and returns the syntax error it must produce.
pub fn syntax_error(text: &str) -> (Syntax, String) {
    match RegFile::parse(text.as_bytes(), Path::new("t.reg")) {
        Ok(file) => panic!("expected an error, parsed {:?}", file.entries),
        Err(
            ref e @ RegistryError::Syntax {
                ref location,
                ref key,
                ref value,
                ref message,
            },
        ) => {
            assert_eq!(&*location.file, Path::new("t.reg"));
            (
                Syntax {
                    line: location.line,
                    column: location.column,
                    key: key.clone(),
                    value: value.clone(),
                    message: message.clone(),
                },
                e.to_string(),
            )
        }
        Err(other) => panic!("expected a syntax error, got {other:?}"),
    }
}

/// UTF-16LE bytes with a byte-order mark.
pub fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

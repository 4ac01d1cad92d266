//! Drop-in overlays: the `.reg` files of `<file>.d/`, layered after `<file>`
//! in name order (as MIT's `/etc/gss/mech.d` extends `/etc/gss/mech`).

use std::path::{Path, PathBuf};

use crate::error::RegistryError;

/// The drop-in directory of a registry file: `sspi.reg` → `sspi.reg.d`.
pub fn drop_in_dir(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".d");
    PathBuf::from(name)
}

/// Every file a layered load of `paths` reads, in order: each file, then the
/// `*.reg` files of its drop-in directory (`<file>.d/`) sorted by name (byte
/// order). A missing drop-in directory is no error; other names in it
/// (`x.reg~`, `x.reg.rpmsave`, subdirectories) are ignored.
pub fn layered_files(paths: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, RegistryError> {
    let mut files = Vec::new();
    for path in paths {
        let path = path.as_ref();
        files.push(path.to_owned());
        let dir = drop_in_dir(path);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(RegistryError::Io { path: dir, source }),
        };
        let mut drop_ins = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| RegistryError::Io {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            let is_reg = Path::new(&name)
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("reg"));
            // Hidden files are editors' and package managers' temporaries.
            let hidden = name.as_encoded_bytes().first() == Some(&b'.');
            if is_reg && !hidden && !entry.file_type().is_ok_and(|t| t.is_dir()) {
                drop_ins.push(entry.path());
            }
        }
        drop_ins.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        files.extend(drop_ins);
    }
    Ok(files)
}

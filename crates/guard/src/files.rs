//! Files the guard writes: 0600 in 0700 folders, so no other account (the
//! agent's) can read or replace them.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Make `dir` (and parents) and set it to 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Write `bytes` to `path` as a new 0600 file (replacing an old one).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// The secret in `path`, made with `len` random bytes on first use.
pub fn secret_file(path: &Path, len: usize) -> std::io::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(b) if b.len() == len => Ok(b),
        Ok(_) => Err(std::io::Error::other(format!(
            "{} is damaged (wrong length)",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = vec![0u8; len];
            getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
            write_private(path, &b)?;
            Ok(b)
        }
        Err(e) => Err(e),
    }
}

/// Set every file directly in `dir` to 0600 (SQLite makes `-wal`, `-shm`).
pub fn tighten_files(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

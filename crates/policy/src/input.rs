//! Reading input files without letting a file decide how much is read.
//!
//! A template path comes from a person or an agent, and anything can sit
//! behind it: `/dev/zero` (endless), a FIFO (blocks forever on open), a
//! socket, a 4 GB log file, a UTF-16 export from an editor, or a directory
//! with a symbolic link to `..` inside it. [`read_text_file`] refuses each
//! of those with a [`PolicyError`] that names the path, says why and what to
//! do; [`find_templates`] walks a directory for templates without looping.
//!
//! The rules:
//!
//! - **Only regular files are read.** The type is checked from the file's
//!   metadata *before* it is opened (opening a FIFO would block, and std
//!   offers no non-blocking open without `unsafe` or a platform constant),
//!   and again on the opened handle, so a file swapped for a device between
//!   the two checks is still refused. A symbolic link to a regular file is
//!   read; the target's type is what counts.
//! - **At most `max_bytes` are read**, whatever the metadata claims: the read
//!   is a `take(max_bytes + 1)`, so a file that grows, or a `/proc` file that
//!   reports length 0, cannot make it run away. [`MAX_TEMPLATE_BYTES`] is
//!   the limit for templates.
//! - **The text must be UTF-8** (a leading byte-order mark is fine; the
//!   parser strips it). The error says where the first bad byte is.
//! - **Directory walks do not follow symbolic links to directories** (each is
//!   reported as skipped), so a link to `..` or to `/` cannot loop or escape.
//!   Symbolic links to files are followed. Hidden entries (`.git`) are
//!   skipped silently, devices, FIFOs and sockets with a note, and a walk
//!   that finds more than [`MAX_WALK_FILES`] templates is refused rather than
//!   scanned in part.
//!
//! This is the crate's only file-system access besides
//! [`crate::checkov::run_checkov`]; the scanner itself stays pure.

use std::fs::{self, File, FileType};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::PolicyError;

/// The largest template [`read_text_file`] reads for a scan: 16 MiB.
///
/// CloudFormation itself accepts at most 1 MB (a template in S3), so this
/// leaves room for generated or pretty-printed templates, while keeping a
/// scan's memory at a few hundred MB at worst.
pub const MAX_TEMPLATE_BYTES: u64 = 16 * 1024 * 1024;

/// The most template files one directory walk may find: 10,000.
///
/// A walk that finds more is almost always pointed at the wrong folder (a
/// home directory, `node_modules`); refusing says so instead of scanning for
/// minutes and printing a report nobody reads.
pub const MAX_WALK_FILES: usize = 10_000;

/// File names a directory walk picks up as templates.
pub const TEMPLATE_EXTENSIONS: &[&str] = &["json", "yaml", "yml", "template"];

/// Reads `path` as UTF-8 text of at most `max_bytes` bytes.
///
/// Refuses, without reading, anything that is not a regular file (a
/// directory, a character or block device such as `/dev/zero`, a FIFO, a
/// socket) and a file whose size is over the limit; refuses after reading
/// at most `max_bytes + 1` bytes a file that turned out larger, and a file
/// that is not UTF-8. Every error names `path`.
pub fn read_text_file(path: &Path, max_bytes: u64) -> Result<String, PolicyError> {
    let read_error = |e: std::io::Error| PolicyError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // `metadata` follows symbolic links: the target decides.
    let meta = fs::metadata(path).map_err(read_error)?;
    check_regular(path, meta.file_type())?;
    if meta.len() > max_bytes {
        return Err(too_large(path, max_bytes));
    }
    let file = File::open(path).map_err(read_error)?;
    // The handle is what is read: check it too, in case the path was
    // replaced between the check above and the open.
    let meta = file.metadata().map_err(read_error)?;
    check_regular(path, meta.file_type())?;
    let capacity = meta.len().min(max_bytes).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(path, max_bytes));
    }
    String::from_utf8(bytes).map_err(|e| PolicyError::NotUtf8 {
        path: path.to_path_buf(),
        detail: utf8_detail(e.as_bytes(), e.utf8_error().valid_up_to()),
    })
}

fn too_large(path: &Path, limit: u64) -> PolicyError {
    PolicyError::TooLarge {
        path: path.to_path_buf(),
        limit,
    }
}

fn check_regular(path: &Path, file_type: FileType) -> Result<(), PolicyError> {
    if file_type.is_file() {
        Ok(())
    } else {
        Err(PolicyError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(file_type),
        })
    }
}

/// What a non-regular file is, in words.
fn kind_of(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    if file_type.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Where the first invalid byte is, as line and column, and a hint when
/// the file looks like UTF-16 (what some Windows editors save).
fn utf8_detail(bytes: &[u8], valid_up_to: usize) -> String {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return "it starts with a UTF-16 byte-order mark".into();
    }
    let before = &bytes[..valid_up_to];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    // Columns in characters, like the parsers' syntax errors.
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!(
        "invalid byte 0x{:02X} at line {line}, column {column} (byte offset {valid_up_to})",
        bytes[valid_up_to]
    )
}

/// "16 MiB", "512 KiB" or "1000 bytes".
pub(crate) fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// The result of [`find_templates`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// Template files found, sorted.
    pub files: Vec<PathBuf>,
    /// Entries deliberately not followed or read, sorted by path: what the
    /// caller should tell the user.
    pub skipped: Vec<Skipped>,
}

/// An entry [`find_templates`] did not follow or read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    /// `"a symbolic link to a directory (not followed)"`, `"a FIFO (named pipe)"`...
    pub why: String,
}

/// Every file below `dir` whose extension is one of
/// [`TEMPLATE_EXTENSIONS`], not looking inside hidden entries and not
/// following symbolic links to directories (see the module docs). More than
/// `max_files` templates is an error ([`MAX_WALK_FILES`] is the CLI's
/// limit), as is a directory that cannot be listed.
pub fn find_templates(dir: &Path, max_files: usize) -> Result<Walk, PolicyError> {
    let mut walk = Walk::default();
    // Depth-first with an explicit stack: a deep tree cannot overflow ours.
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let list_error = |e: std::io::Error| PolicyError::Read {
            path: current.clone(),
            message: format!("cannot list the directory: {e}"),
        };
        for entry in fs::read_dir(&current).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            let path = entry.path();
            let hidden = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            // `DirEntry::file_type` does not follow symbolic links.
            let mut file_type = entry.file_type().map_err(list_error)?;
            if file_type.is_symlink() {
                match fs::metadata(&path) {
                    Ok(target) if target.is_dir() => {
                        walk.skipped.push(Skipped {
                            path,
                            why: "a symbolic link to a directory (not followed)".into(),
                        });
                        continue;
                    }
                    Ok(target) => file_type = target.file_type(),
                    Err(e) => {
                        walk.skipped.push(Skipped {
                            path,
                            why: format!("a symbolic link that cannot be followed ({e})"),
                        });
                        continue;
                    }
                }
            }
            if file_type.is_dir() {
                pending.push(path);
            } else if !file_type.is_file() {
                walk.skipped.push(Skipped {
                    path,
                    why: kind_of(file_type).to_string(),
                });
            } else if is_template_name(&path) {
                if walk.files.len() == max_files {
                    return Err(PolicyError::TooManyFiles {
                        path: dir.to_path_buf(),
                        limit: max_files,
                    });
                }
                walk.files.push(path);
            }
        }
    }
    walk.files.sort();
    walk.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walk)
}

fn is_template_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEMPLATE_EXTENSIONS.contains(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A fresh directory under the system temp dir, removed on drop (the
    /// crate has no `tempfile` dependency, and these tests need little).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "infraguard-policy-input-{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const QUICK: Duration = Duration::from_secs(2);

    fn refused(path: &Path, max: u64) -> String {
        let start = Instant::now();
        let err = read_text_file(path, max).unwrap_err();
        assert!(start.elapsed() < QUICK, "took {:?}", start.elapsed());
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "the error names the path: {message}"
        );
        message
    }

    #[test]
    fn reads_a_small_utf8_file() {
        let dir = TempDir::new("small");
        let p = dir.0.join("t.yaml");
        fs::write(&p, "\u{feff}Resources: {}\n").unwrap();
        assert_eq!(read_text_file(&p, 100).unwrap(), "\u{feff}Resources: {}\n");
        // Exactly at the limit is fine.
        assert_eq!(read_text_file(&p, 17).unwrap().len(), 17);
    }

    #[test]
    fn refuses_a_file_over_the_limit() {
        let dir = TempDir::new("big");
        let p = dir.0.join("big.json");
        fs::write(&p, vec![b' '; 2048]).unwrap();
        let m = refused(&p, 1024);
        assert!(m.contains("1 KiB"), "{m}");
        assert!(matches!(
            read_text_file(&p, 2047),
            Err(PolicyError::TooLarge { limit: 2047, .. })
        ));
    }

    /// `/proc` files claim length 0: only the bounded read stops them.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_read_itself_is_bounded_when_the_size_lies() {
        let p = Path::new("/proc/self/maps");
        assert_eq!(fs::metadata(p).unwrap().len(), 0);
        let m = refused(p, 16);
        assert!(m.contains("larger than 16 bytes"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_dev_zero_without_reading_it() {
        let m = refused(Path::new("/dev/zero"), MAX_TEMPLATE_BYTES);
        assert!(m.contains("character device"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlink_to_dev_zero() {
        let dir = TempDir::new("zero-link");
        let p = dir.0.join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        let m = refused(&p, MAX_TEMPLATE_BYTES);
        assert!(m.contains("character device"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = TempDir::new("fifo");
        let p = dir.0.join("pipe.yaml");
        let status = std::process::Command::new("mkfifo").arg(&p).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo is not available; skipping");
            return;
        }
        let m = refused(&p, MAX_TEMPLATE_BYTES);
        assert!(m.contains("FIFO"), "{m}");
        // And a walk notes it instead of reading it.
        let walk = find_templates(&dir.0, MAX_WALK_FILES).unwrap();
        assert!(walk.files.is_empty());
        assert_eq!(walk.skipped.len(), 1);
        assert!(walk.skipped[0].why.contains("FIFO"));
    }

    #[test]
    fn refuses_a_directory_and_a_missing_file() {
        let dir = TempDir::new("dir");
        let m = refused(&dir.0, MAX_TEMPLATE_BYTES);
        assert!(m.contains("directory"), "{m}");
        let m = refused(&dir.0.join("missing.json"), MAX_TEMPLATE_BYTES);
        assert!(m.contains("cannot read"), "{m}");
    }

    #[test]
    fn refuses_text_that_is_not_utf8_and_says_where() {
        let dir = TempDir::new("latin1");
        let p = dir.0.join("t.yaml");
        fs::write(&p, b"Resources:\n  Caf\xE9:\n").unwrap();
        let m = refused(&p, MAX_TEMPLATE_BYTES);
        assert!(m.contains("UTF-8"), "{m}");
        assert!(m.contains("0xE9 at line 2, column 6"), "{m}");
        let p16 = dir.0.join("t16.json");
        fs::write(&p16, b"\xFF\xFE{\x00}\x00").unwrap();
        assert!(refused(&p16, MAX_TEMPLATE_BYTES).contains("UTF-16"));
    }

    #[cfg(unix)]
    #[test]
    fn a_walk_does_not_follow_a_symlink_loop() {
        let dir = TempDir::new("loop");
        fs::create_dir(dir.0.join("sub")).unwrap();
        fs::write(dir.0.join("sub/a.yaml"), "Resources: {}\n").unwrap();
        fs::write(dir.0.join("b.json"), "{}").unwrap();
        fs::write(dir.0.join("notes.txt"), "").unwrap();
        fs::write(dir.0.join(".hidden.json"), "{}").unwrap();
        std::os::unix::fs::symlink("..", dir.0.join("sub/up")).unwrap();
        std::os::unix::fs::symlink(&dir.0, dir.0.join("self")).unwrap();
        std::os::unix::fs::symlink("b.json", dir.0.join("link.json")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.0.join("dangling.json")).unwrap();
        let start = Instant::now();
        let walk = find_templates(&dir.0, MAX_WALK_FILES).unwrap();
        assert!(start.elapsed() < QUICK);
        assert_eq!(
            walk.files,
            vec![
                dir.0.join("b.json"),
                dir.0.join("link.json"),
                dir.0.join("sub/a.yaml")
            ]
        );
        let skipped: Vec<(PathBuf, &str)> = walk
            .skipped
            .iter()
            .map(|s| (s.path.clone(), s.why.as_str()))
            .collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert_eq!(skipped[0].0, dir.0.join("dangling.json"));
        assert!(skipped[1].1.contains("not followed"));
        assert_eq!(skipped[2].0, dir.0.join("sub/up"));
    }

    #[test]
    fn a_walk_with_too_many_templates_is_refused() {
        let dir = TempDir::new("many");
        for i in 0..4 {
            fs::write(dir.0.join(format!("t{i}.json")), "{}").unwrap();
        }
        assert_eq!(find_templates(&dir.0, 4).unwrap().files.len(), 4);
        let err = find_templates(&dir.0, 3).unwrap_err();
        let m = err.to_string();
        assert!(
            m.contains(&dir.0.display().to_string()) && m.contains('3'),
            "{m}"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(MAX_TEMPLATE_BYTES), "16 MiB");
        assert_eq!(human_bytes(1024), "1 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}

//! File-system helpers shared by everything that saves the user's work: atomic writes of files
//! and of whole folders (checkpoints), durable (synced) and never over a read-only file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one:
/// the bytes go to a temporary file in the same directory, are synced, then renamed into place
/// and the directory is synced. A read-only `path` is refused (the rename would only need the
/// folder's permission, so it would silently replace a file the user protected).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    fs::create_dir_all(&dir)?;
    refuse_read_only(path)?;
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The folder `path` sits in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An error when `path` exists and is read-only; nothing when it is writable or absent.
pub fn refuse_read_only(path: &Path) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.permissions().readonly() => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "is read-only; not replaced (make it writable or save elsewhere)",
        )),
        _ => Ok(()),
    }
}

/// Makes a rename or a new entry in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Writes a whole file and syncs it (the pieces of a folder written with [`replace_dir`]).
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The fixed name a folder is moved aside to while [`replace_dir`] swaps it, so that a crash in
/// between is found and undone by [`recover_dir`].
pub fn aside_of(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dir".into());
    dir.with_file_name(format!(".{name}.aside"))
}

/// Puts the finished folder `tmp` at `dir`, replacing any folder there, so that at every
/// instant one complete copy is at `dir` or (after a crash) at [`aside_of`]`(dir)`. On Linux
/// the two folders are exchanged in one step (`renameat2(RENAME_EXCHANGE)`); elsewhere, or on
/// a file system without it, the old folder moves aside first.
pub fn replace_dir(tmp: &Path, dir: &Path) -> io::Result<()> {
    sync_dir(tmp)?;
    let parent = parent_of(dir);
    if fs::symlink_metadata(dir).is_err() {
        fs::rename(tmp, dir)?;
        return sync_dir(&parent);
    }
    if exchange(tmp, dir)? {
        sync_dir(&parent)?;
        // `tmp` now holds the old folder.
        return fs::remove_dir_all(tmp);
    }
    let aside = aside_of(dir);
    if aside.exists() {
        fs::remove_dir_all(&aside)?;
    }
    fs::rename(dir, &aside)?;
    fs::rename(tmp, dir)?;
    sync_dir(&parent)?;
    fs::remove_dir_all(&aside)
}

/// Undoes a [`replace_dir`] cut short between its two renames: when `dir` is missing and its
/// aside copy is there, the aside copy moves back. Returns whether it did.
pub fn recover_dir(dir: &Path) -> io::Result<bool> {
    let aside = aside_of(dir);
    if fs::symlink_metadata(dir).is_err() && aside.is_dir() {
        fs::rename(&aside, dir)?;
        sync_dir(&parent_of(dir))?;
        return Ok(true);
    }
    Ok(false)
}

/// Swaps two paths atomically; `Ok(false)` where the system or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; the call only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Why [`read_regular`] read nothing.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// What it is instead (`a FIFO`, `a device`, `a folder`...).
    NotAFile(&'static str),
    TooLarge,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
            ReadError::TooLarge => f.write_str("is too large to be read"),
        }
    }
}

/// The bytes of a regular file of at most `max` bytes: a FIFO cannot block the caller (it is
/// opened non-blocking and refused) and a device or a growing file cannot fill memory.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading waits for a writer; opened non-blocking it returns at once,
        // and the type check below refuses it. Reads of a regular file ignore the flag.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(ReadError::Io)?;
    // The type of what was opened, not of the name: no window for a swap after a check.
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile(file_kind(&meta.file_type())));
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Bounded even if the file grows while we read it.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// A text file read with [`read_regular`] (at most `max` bytes); `what` prefixes the error.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String, String> {
    let bytes = read_regular(path, max).map_err(|e| format!("{what}: {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what}: {}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// What a non-regular file is, for the error line.
fn file_kind(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else {
        "not a plain file"
    }
}

/// A hidden temporary name next to `path`, unique to this process and call.
pub fn temp_sibling(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_read_only_file_is_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keep.mid");
        fs::write(&p, b"mine").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_atomic(&p, b"new").unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"mine");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    fn folder(path: &Path, text: &str) {
        fs::create_dir_all(path).unwrap();
        fs::write(path.join("f"), text).unwrap();
    }

    #[test]
    fn replace_dir_swaps_whole_folders_and_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("best");
        let tmp = root.path().join(".best.tmp");
        folder(&tmp, "one");
        replace_dir(&tmp, &dir).unwrap();
        folder(&tmp, "two");
        replace_dir(&tmp, &dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "two");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_swap_cut_between_its_renames_is_undone() {
        // The state a kill leaves when the old folder has moved aside and the new one has not
        // moved in yet (the fallback path for file systems without an atomic exchange).
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("last");
        folder(&aside_of(&dir), "old");
        assert!(recover_dir(&dir).unwrap());
        assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "old");
        assert!(!aside_of(&dir).exists());
        assert!(
            !recover_dir(&dir).unwrap(),
            "nothing to undo the second time"
        );
    }
}

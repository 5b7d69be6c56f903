//! Safe writes of journal files: fingerprints to notice that a file changed on disk since it was read, an advisory
//! write lock, and atomic replacement. A write goes to a temp file in the same directory, is fsynced, gets the
//! original's permission mode (and owner, where allowed), is renamed over the target, and the directory is fsynced;
//! on any error before the rename the temp file is removed and the original is untouched. A symlinked journal is
//! written through: the link's final target is replaced and the link stays a link.
//!
//! Locking trade-off: the lock is an `flock` (via fs4) on the directory that holds the journal's resolved target,
//! never on the journal itself: an atomic write replaces the journal's inode, so a lock held on the old inode would no
//! longer exclude a writer that opened the new one, while the directory's inode stays. Locking the directory leaves no
//! lock files behind in the user's folder; the price is that two journals in one directory share a lock, which only
//! makes their writers wait for each other briefly. The lock only orders tally processes (and threads: each `lock`
//! opens its own file description); other editors ignore it, which is why writers also compare a
//! `Fingerprint` (length, modification time and SHA-256 of the content) taken when the file was read: the hash
//! catches a change that keeps the size and lands within the same mtime tick.

use fs4::fs_std::FileExt;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

/// How long `lock` waits for another writer before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// What a file looked like when it was read. Two fingerprints are equal only when length, modification time and
/// content hash all agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub sha256: [u8; 32],
}

/// Reads the file at `path` (through symlinks) and fingerprints it.
pub fn fingerprint(path: &Path) -> io::Result<Fingerprint> {
    read_with_fingerprint(path).map(|(_, fp)| fp)
}

/// Reads the whole file and its fingerprint from one open handle, so the fingerprint describes the bytes returned.
pub fn read_with_fingerprint(path: &Path) -> io::Result<(Vec<u8>, Fingerprint)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    let fp = fingerprint_bytes(&bytes, &meta);
    Ok((bytes, fp))
}

/// The fingerprint of content already read, with the metadata taken from the same handle before reading.
pub fn fingerprint_bytes(bytes: &[u8], meta: &Metadata) -> Fingerprint {
    Fingerprint {
        len: bytes.len() as u64,
        modified: meta.modified().ok(),
        sha256: Sha256::digest(bytes).into(),
    }
}

/// An exclusive advisory lock on a journal, released when dropped.
#[derive(Debug)]
pub struct WriteLock {
    file: File,
    path: PathBuf,
}

impl WriteLock {
    /// The locked directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // Closing the file releases the lock anyway; unlocking first makes the release immediate and explicit.
        let _ = FileExt::unlock(&self.file);
    }
}

/// What is locked for `journal`: the directory holding the journal's resolved target.
pub fn lock_path(journal: &Path) -> io::Result<PathBuf> {
    let target = resolve_target(journal)?;
    let (dir, _) = dir_and_name(&target)?;
    Ok(dir)
}

/// Takes the write lock for `journal`, waiting up to `LOCK_TIMEOUT` for another writer.
pub fn lock(journal: &Path) -> io::Result<WriteLock> {
    lock_with_timeout(journal, LOCK_TIMEOUT)
}

pub fn lock_with_timeout(journal: &Path, timeout: Duration) -> io::Result<WriteLock> {
    let path = lock_path(journal)?;
    let file = File::open(&path)?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if FileExt::try_lock_exclusive(&file)? {
            return Ok(WriteLock { file, path });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{} is being written by another tally process (lock on {} still held after {:.1} s)",
                    journal.display(),
                    path.display(),
                    timeout.as_secs_f64()
                ),
            ));
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Why a checked write did not happen.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{} changed on disk since it was read; reload before saving", path.display())]
    Changed { path: PathBuf },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Under the write lock: checks that the file still matches `expected`, then replaces it atomically with
/// `contents`. Returns the fingerprint of the new file, to be used as `expected` for the next write.
pub fn write_if_unchanged(
    path: &Path,
    expected: &Fingerprint,
    contents: &[u8],
) -> Result<Fingerprint, WriteError> {
    let _lock = lock(path)?;
    if fingerprint(path)? != *expected {
        return Err(WriteError::Changed {
            path: path.to_path_buf(),
        });
    }
    let target = write_atomic_with(path, |f| f.write_all(contents))?;
    let meta = fs::metadata(target)?;
    Ok(fingerprint_bytes(contents, &meta))
}

/// Replaces the file at `path` (or, when `path` is a symlink, its final target) with `contents`, atomically. An
/// error from the last step, the directory fsync, is reported although the new content is already in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |f| f.write_all(contents)).map(|_| ())
}

/// Removes the temp file unless the rename succeeded.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// The atomic write with the content writer as a parameter (tests inject failures through it). Returns the path
/// that was actually replaced.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let target = resolve_target(path)?;
    let (dir, name) = dir_and_name(&target)?;
    let existing = match fs::metadata(&target) {
        Ok(m) if m.is_file() => Some(m),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", target.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let (mut file, tmp) = create_temp(&dir, &name)?;
    let mut guard = TempGuard(Some(tmp.clone()));
    write(&mut file)?;
    copy_ownership_and_mode(&file, existing.as_ref())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &target)?;
    guard.0 = None;
    sync_dir(&dir)?;
    Ok(target)
}

fn create_temp(dir: &Path, name: &OsString) -> io::Result<(File, PathBuf)> {
    let mut last_err = None;
    for _ in 0..16 {
        let suffix = format!(".tally-{:08x}.tmp", rand::random::<u32>());
        let tmp = dir.join(hidden_name(name, &suffix));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not create a temp file")))
}

#[cfg(unix)]
fn copy_ownership_and_mode(file: &File, existing: Option<&Metadata>) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = match existing {
        Some(m) => {
            let mine = file.metadata()?;
            if mine.uid() != m.uid() || mine.gid() != m.gid() {
                // Only possible with the privilege to do so (e.g. root editing a user's file); otherwise the new
                // file is owned by the writer, as with any editor.
                let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
            }
            m.mode() & 0o7777
        }
        None => 0o644,
    };
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn copy_ownership_and_mode(file: &File, existing: Option<&Metadata>) -> io::Result<()> {
    match existing {
        Some(m) => file.set_permissions(m.permissions()),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        // Some filesystems cannot fsync a directory; the rename itself has happened.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Follows symlinks on the last path component until a non-link (or a missing file, which will be created).
/// Directory symlinks are left as they are: writing through them is harmless.
fn resolve_target(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

fn dir_and_name(target: &Path) -> io::Result<(PathBuf, OsString)> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

fn hidden_name(name: &OsString, suffix: &str) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(suffix);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::sync::mpsc;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    /// Names in `dir` other than the ones given (stray temp files).
    fn others(dir: &Path, known: &[&str]) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !known.contains(&n.as_str()))
            .collect()
    }

    #[test]
    fn atomic_write_replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "old\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        write_atomic(&path, b"new\r\ncontent\r\n").expect("atomic write");
        assert_eq!(fs::read(&path).expect("read"), b"new\r\ncontent\r\n");
        assert_eq!(mode(&path), 0o600);
        assert!(others(dir.path(), &["main.journal"]).is_empty());

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomic(&path, b"again\n").expect("atomic write");
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn new_files_get_0644() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.journal");
        write_atomic(&path, b"2025-01-01 x\n").expect("atomic write");
        assert_eq!(fs::read(&path).expect("read"), b"2025-01-01 x\n");
        assert_eq!(mode(&path), 0o644);
    }

    #[test]
    fn symlinked_journal_stays_a_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("data")).expect("mkdir");
        let real = dir.path().join("data/real.journal");
        fs::write(&real, "old\n").expect("write");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).expect("chmod");
        // A relative link, and a link to that link.
        let link = dir.path().join("link.journal");
        symlink("data/real.journal", &link).expect("symlink");
        let link2 = dir.path().join("link2.journal");
        symlink(&link, &link2).expect("symlink");

        write_atomic(&link2, b"through two links\n").expect("atomic write");
        for l in [&link, &link2] {
            assert!(
                fs::symlink_metadata(l)
                    .expect("lstat")
                    .file_type()
                    .is_symlink()
            );
        }
        assert_eq!(fs::read(&real).expect("read"), b"through two links\n");
        assert_eq!(mode(&real), 0o600);
        assert!(others(&dir.path().join("data"), &["real.journal"]).is_empty());
        assert!(others(dir.path(), &["data", "link.journal", "link2.journal"]).is_empty());
        // The lock is the real file's directory, so every link to it shares one lock, and no lock file is left.
        assert_eq!(
            lock_path(&link2).expect("lock path"),
            dir.path().join("data")
        );
    }

    #[test]
    fn failed_writes_leave_the_original_byte_identical() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        let original = b"2025-01-01 original\r\n    a  1\r\n    b\r\n";
        fs::write(&path, original).expect("write");
        let before = fingerprint(&path).expect("fingerprint");

        // The content writer fails halfway (a full disk, an I/O error).
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"2025-01-01 half")?;
            Err(io::Error::other("disk full"))
        })
        .expect_err("the write fails");
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&path).expect("read"), original);
        assert_eq!(fingerprint(&path).expect("fingerprint"), before);
        assert!(others(dir.path(), &["main.journal"]).is_empty());

        // A missing directory, and a directory where the file should be.
        let missing = dir.path().join("no/such/dir/x.journal");
        assert_eq!(
            write_atomic(&missing, b"x").expect_err("no dir").kind(),
            io::ErrorKind::NotFound
        );
        let as_dir = dir.path().join("sub.journal");
        fs::create_dir(&as_dir).expect("mkdir");
        fs::write(as_dir.join("inside"), "kept").expect("write");
        assert_eq!(
            write_atomic(&as_dir, b"x").expect_err("a directory").kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(fs::read(as_dir.join("inside")).expect("read"), b"kept");
        assert_eq!(fs::read(&path).expect("read"), original);
        assert!(others(dir.path(), &["main.journal", "sub.journal"]).is_empty());
    }

    #[test]
    fn fingerprint_sees_changes_within_the_same_mtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "2025-01-01 abc\n").expect("write");
        let (bytes, fp) = read_with_fingerprint(&path).expect("read");
        assert_eq!(bytes, b"2025-01-01 abc\n");
        assert_eq!(fp, fingerprint(&path).expect("fingerprint"));
        let mtime = fp.modified.expect("mtime");

        // Another process appends one byte.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("printf x >> \"$1\"")
            .arg("sh")
            .arg(&path)
            .status()
            .expect("sh");
        assert!(status.success());
        let appended = fingerprint(&path).expect("fingerprint");
        assert_ne!(appended, fp);
        assert_eq!(appended.len, fp.len + 1);

        // Same length, same mtime, different content: only the hash tells.
        fs::write(&path, "2025-01-01 abd\n").expect("write");
        File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_modified(mtime)
            .expect("set mtime");
        let same_meta = fingerprint(&path).expect("fingerprint");
        assert_eq!((same_meta.len, same_meta.modified), (fp.len, fp.modified));
        assert_ne!(same_meta.sha256, fp.sha256);
        assert_ne!(same_meta, fp);
    }

    #[test]
    fn checked_write_refuses_a_file_changed_behind_our_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "one\n").expect("write");
        let fp = fingerprint(&path).expect("fingerprint");
        let fp2 = write_if_unchanged(&path, &fp, b"two\n").expect("unchanged, so written");
        assert_eq!(fp2, fingerprint(&path).expect("fingerprint"));
        // A stale fingerprint is refused and the file keeps the other writer's text.
        fs::write(&path, "someone else\n").expect("write");
        assert!(matches!(
            write_if_unchanged(&path, &fp2, b"three\n"),
            Err(WriteError::Changed { .. })
        ));
        assert_eq!(fs::read(&path).expect("read"), b"someone else\n");
    }

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "x\n").expect("write");
        let first = lock(&path).expect("first lock");
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            tx.send("started").expect("send");
            let second = lock(&p).expect("second lock");
            let at = Instant::now();
            drop(second);
            at
        });
        assert_eq!(rx.recv().expect("recv"), "started");
        std::thread::sleep(Duration::from_millis(300));
        let released = Instant::now();
        drop(first);
        let acquired = waiter.join().expect("join");
        assert!(
            acquired >= released,
            "the second lock was taken while the first was held"
        );
        // And a lock that is never released times out with a clear error.
        let held = lock(&path).expect("lock");
        let err = lock_with_timeout(&path, Duration::from_millis(100)).expect_err("times out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("another tally process"), "{err}");
        drop(held);
        lock_with_timeout(&path, Duration::from_millis(100)).expect("free again");
    }
}

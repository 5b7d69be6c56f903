//! Safe writes of journal files: a snapshot to notice that a file changed on disk since it was read, an advisory
//! write lock, and checked atomic replacement. A write goes to a temp file in the same directory, is fsynced, gets the
//! original's permission mode (and owner, where allowed); then, right before the rename, the original is checked
//! again — content hash on the handle opened before writing, then size, modification time and inode by path — so
//! another program's edit made while the temp file was written is never overwritten; the caller re-reads and
//! re-applies. The window left between that last check and the rename is a `stat` and a `rename` (microseconds,
//! measured and reported); an append that still lands in it goes to the old inode, which is kept open, and is
//! appended again to the new file. Then the directory is fsynced. On any error before the rename the temp file is
//! removed and the original is untouched; temp files are named `.NAME.tally-XXXXXXXX.tmp`, which `include` globs
//! (hledger's and tally's) skip, and a crash's leftovers are removed the next time the journal is opened. A symlinked
//! journal is written through: the link's final target is replaced and the link stays a link.
//!
//! Locking trade-off: the lock is an `flock` (via fs4) on the directory that holds the journal's resolved target,
//! never on the journal itself: an atomic write replaces the journal's inode, so a lock held on the old inode would no
//! longer exclude a writer that opened the new one, while the directory's inode stays. Locking the directory leaves no
//! lock files behind in the user's folder; the price is that two journals in one directory share a lock, which only
//! makes their writers wait for each other briefly. The lock only orders tally processes (and threads: each `lock`
//! opens its own file description); other editors ignore it, which is what the checks before the rename are for.

use fs4::fs_std::FileExt;
use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How long `lock` waits for another writer before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Test knob: an extra pause (milliseconds) after the temp file is synced and before the checks, like a slow disk,
/// so tests can land another program's write inside a save deterministically.
pub const SLOW_SAVE_ENV: &str = "TALLY_SLOW_SAVE_MS";

/// What a file looked like when it was read. Two snapshots are equal only when length, modification time and
/// content hash (xxh3-128, as the loader computes it) all agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub hash: u128,
}

impl Snapshot {
    /// The snapshot of content already read, with the metadata taken from the same handle before reading.
    pub fn of(bytes: &[u8], meta: &Metadata) -> Snapshot {
        Snapshot {
            len: bytes.len() as u64,
            modified: meta.modified().ok(),
            hash: crate::backend::ledger::content_hash(bytes),
        }
    }

    fn same_meta(&self, meta: &Metadata) -> bool {
        meta.len() == self.len && meta.modified().ok() == self.modified
    }
}

/// Reads the whole file and its snapshot from one open handle, so the snapshot describes the bytes returned.
pub fn read_with_snapshot(path: &Path) -> io::Result<(Vec<u8>, Snapshot)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    let snap = Snapshot::of(&bytes, &meta);
    Ok((bytes, snap))
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

/// How a checked replacement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    /// The new content is in place. `window`: from the last check of the old file to the end of the rename.
    /// `recovered`: bytes another program appended to the old file after that check, appended again to the new one.
    /// `modified`: the new file's modification time as written (before any recovered bytes), so the caller's
    /// snapshot of its own text needs no second look at the file, which another program may already have changed.
    Done {
        window: Duration,
        recovered: u64,
        modified: Option<SystemTime>,
    },
    /// The file changed since it was read (found after the new content was written and synced): nothing was
    /// replaced, and the temp file is gone.
    Changed,
}

/// Replaces the file at `path` (through symlinks) with `contents` if it still matches `expected`, checking again
/// after the slow part (writing and syncing the temp file). The caller holds the write lock. A missing file counts
/// as changed.
pub fn replace_if_unchanged(
    path: &Path,
    expected: &Snapshot,
    contents: &[u8],
) -> io::Result<Replaced> {
    replace_checked(path, expected, contents, slow_save_pause)
}

/// `replace_if_unchanged` with what happens between syncing the temp file and the checks as a parameter (tests
/// land another program's write there).
fn replace_checked(
    path: &Path,
    expected: &Snapshot,
    contents: &[u8],
    meanwhile: impl FnOnce(),
) -> io::Result<Replaced> {
    let target = resolve_target(path)?;
    let (dir, name) = dir_and_name(&target)?;
    let mut old = match File::open(&target) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Replaced::Changed),
        Err(e) => return Err(e),
    };
    let old_meta = old.metadata()?;
    if !old_meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", target.display()),
        ));
    }
    if !expected.same_meta(&old_meta) {
        return Ok(Replaced::Changed);
    }
    let (mut file, tmp) = create_temp(&dir, &name)?;
    let mut guard = TempGuard(Some(tmp.clone()));
    file.write_all(contents)?;
    copy_ownership_and_mode(&file, Some(&old_meta))?;
    file.sync_all()?;
    let modified = file.metadata()?.modified().ok();
    drop(file);
    meanwhile();
    // The content, read through the handle opened before writing: catches a rewrite that kept size and mtime.
    old.seek(io::SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(usize::try_from(expected.len).unwrap_or(0));
    old.read_to_end(&mut bytes)?;
    if crate::backend::ledger::content_hash(&bytes) != expected.hash {
        return Ok(Replaced::Changed);
    }
    drop(bytes);
    // The last check, right before the rename: the path still names that very file, unchanged.
    let checked = Instant::now();
    let now = fs::metadata(&target)?;
    if !same_inode(&now, &old_meta) || !expected.same_meta(&now) {
        return Ok(Replaced::Changed);
    }
    fs::rename(&tmp, &target)?;
    let window = checked.elapsed();
    guard.0 = None;
    sync_dir(&dir)?;
    let recovered = recover_tail(&mut old, expected.len, &target)?;
    Ok(Replaced::Done {
        window,
        recovered,
        modified,
    })
}

/// After the rename: bytes appended to the old inode past what was read (a writer that opened the file before the
/// rename and wrote after the last check) are appended to the new file, so they are not lost with the old inode.
fn recover_tail(old: &mut File, read_len: u64, target: &Path) -> io::Result<u64> {
    let len = old.metadata()?.len();
    if len <= read_len {
        return Ok(0);
    }
    old.seek(io::SeekFrom::Start(read_len))?;
    let mut tail = Vec::new();
    old.read_to_end(&mut tail)?;
    let mut new = OpenOptions::new().append(true).open(target)?;
    new.write_all(&tail)?;
    new.sync_all()?;
    tracing::warn!(
        "{}: {} bytes appended by another program during the save were carried over",
        target.display(),
        tail.len()
    );
    Ok(tail.len() as u64)
}

fn slow_save_pause() {
    if let Some(ms) = std::env::var(SLOW_SAVE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

#[cfg(unix)]
fn same_inode(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &Metadata, _: &Metadata) -> bool {
    true
}

/// Replaces the file at `path` (or, when `path` is a symlink, its final target) with `contents`, atomically,
/// without checking what it held (a new file, or one the caller has just checked). An error from the last step,
/// the directory fsync, is reported although the new content is already in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |f| f.write_all(contents)).map(|_| ())
}

/// The temp-file name prefix and suffix for a journal named `name`.
fn temp_affixes(name: &OsString) -> (String, &'static str) {
    (format!(".{}.tally-", name.to_string_lossy()), ".tmp")
}

/// Removes temp files a crashed save left beside `journal` (`.NAME.tally-XXXXXXXX.tmp`), when no other tally is
/// writing in that directory (the lock is free). Returns what was removed.
pub fn clean_leftovers(journal: &Path) -> io::Result<Vec<PathBuf>> {
    let target = resolve_target(journal)?;
    let (dir, name) = dir_and_name(&target)?;
    let Ok(_lock) = lock_with_timeout(&target, Duration::ZERO) else {
        return Ok(Vec::new());
    };
    let (prefix, suffix) = temp_affixes(&name);
    let mut removed = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let n = file_name.to_string_lossy();
        let is_ours = n
            .strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_suffix(suffix))
            .is_some_and(|hex| hex.len() == 8 && hex.bytes().all(|c| c.is_ascii_hexdigit()));
        if is_ours && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

/// Why editing `journal` cannot work, said before any edit is tried: the file is not writable by this user, or its
/// directory does not allow creating the temp file and renaming it over.
pub fn unwritable_reason(journal: &Path) -> Option<String> {
    let target = resolve_target(journal).ok()?;
    let (dir, _) = dir_and_name(&target).ok()?;
    if !writable(&target) {
        return Some(format!(
            "{} is read-only (no write permission for this user): tally will not rewrite it",
            target.display()
        ));
    }
    if !writable(&dir) {
        return Some(format!(
            "the directory {} is not writable: saving needs to create a temp file there and rename it over {}",
            dir.display(),
            target.display()
        ));
    }
    None
}

/// Writable for this user, and not marked read-only by its mode: root may write anything, but a file whose mode
/// has no write bit was made read-only on purpose, so tally (like vim) leaves it alone even then.
#[cfg(unix)]
fn writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let marked = fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o222 != 0);
    marked && rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(not(unix))]
fn writable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
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
        let (prefix, suffix) = temp_affixes(name);
        let tmp = dir.join(format!("{prefix}{:08x}{suffix}", rand::random::<u32>()));
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
        let before = snapshot(&path);

        // The content writer fails halfway (a full disk, an I/O error).
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"2025-01-01 half")?;
            Err(io::Error::other("disk full"))
        })
        .expect_err("the write fails");
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&path).expect("read"), original);
        assert_eq!(snapshot(&path), before);
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

    fn snapshot(path: &Path) -> Snapshot {
        read_with_snapshot(path).expect("snapshot").1
    }

    fn append(path: &Path, text: &str) {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("printf '%s' \"$2\" >> \"$1\"")
            .arg("sh")
            .arg(path)
            .arg(text)
            .status()
            .expect("sh");
        assert!(status.success());
    }

    #[test]
    fn snapshot_sees_changes_within_the_same_mtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "2025-01-01 abc\n").expect("write");
        let (bytes, snap) = read_with_snapshot(&path).expect("read");
        assert_eq!(bytes, b"2025-01-01 abc\n");
        let mtime = snap.modified.expect("mtime");
        // Another process appends one byte.
        append(&path, "x");
        let appended = snapshot(&path);
        assert_ne!(appended, snap);
        assert_eq!(appended.len, snap.len + 1);
        // Same length, same mtime, different content: only the hash tells.
        fs::write(&path, "2025-01-01 abd\n").expect("write");
        set_mtime(&path, mtime);
        let same_meta = snapshot(&path);
        assert_eq!(
            (same_meta.len, same_meta.modified),
            (snap.len, snap.modified)
        );
        assert_ne!(same_meta.hash, snap.hash);
    }

    fn set_mtime(path: &Path, mtime: SystemTime) {
        File::options()
            .write(true)
            .open(path)
            .expect("open")
            .set_modified(mtime)
            .expect("set mtime");
    }

    #[test]
    fn checked_replace_never_overwrites_another_programs_edit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "one\n").expect("write");
        let snap = snapshot(&path);
        let done = replace_if_unchanged(&path, &snap, b"two\n").expect("replace");
        assert!(
            matches!(done, Replaced::Done { recovered: 0, .. }),
            "{done:?}"
        );
        assert_eq!(fs::read(&path).expect("read"), b"two\n");
        // A stale snapshot is refused up front.
        assert_eq!(
            replace_if_unchanged(&path, &snap, b"three\n").expect("replace"),
            Replaced::Changed
        );
        // An append that lands while the temp file is written and synced: found by the checks, nothing replaced.
        let snap = snapshot(&path);
        let got = replace_checked(&path, &snap, b"three\n", || append(&path, "appended\n"))
            .expect("replace");
        assert_eq!(got, Replaced::Changed);
        assert_eq!(fs::read(&path).expect("read"), b"two\nappended\n");
        // A same-size rewrite in the same mtime tick during the save: the hash finds it.
        let snap = snapshot(&path);
        let mtime = snap.modified.expect("mtime");
        let got = replace_checked(&path, &snap, b"four\n", || {
            fs::write(&path, "TWO\nAPPENDED\n").expect("write");
            set_mtime(&path, mtime);
        })
        .expect("replace");
        assert_eq!(got, Replaced::Changed);
        // Replaced by rename (an editor's save): another inode, changed.
        let snap = snapshot(&path);
        let got = replace_checked(&path, &snap, b"five\n", || {
            let other = dir.path().join("other");
            fs::write(&other, "TWO\nAPPENDED\n").expect("write");
            fs::rename(&other, &path).expect("rename");
        })
        .expect("replace");
        assert_eq!(got, Replaced::Changed);
        assert_eq!(fs::read(&path).expect("read"), b"TWO\nAPPENDED\n");
        assert!(others(dir.path(), &["main.journal"]).is_empty());
        // A missing file counts as changed.
        fs::remove_file(&path).expect("rm");
        assert_eq!(
            replace_if_unchanged(&path, &snap, b"x").expect("replace"),
            Replaced::Changed
        );
    }

    #[test]
    fn an_append_to_the_old_inode_after_the_check_is_carried_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "one\n").expect("write");
        let snap = snapshot(&path);
        // A writer that opened the file before the rename and writes after the last check (here: after the
        // rename, through its old handle).
        let mut late = OpenOptions::new().append(true).open(&path).expect("open");
        let target = resolve_target(&path).expect("target");
        let (dir_path, name) = dir_and_name(&target).expect("dir");
        let (mut file, tmp) = create_temp(&dir_path, &name).expect("temp");
        file.write_all(b"ONE\n").expect("write");
        drop(file);
        let mut old = File::open(&path).expect("open old");
        fs::rename(&tmp, &path).expect("rename");
        late.write_all(b"late\n").expect("late write");
        assert_eq!(recover_tail(&mut old, snap.len, &path).expect("recover"), 5);
        assert_eq!(fs::read(&path).expect("read"), b"ONE\nlate\n");
    }

    #[test]
    fn leftover_temp_files_are_cleaned_and_others_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "x\n").expect("write");
        for n in [
            ".main.journal.tally-0123abcd.tmp",
            ".main.journal.tally-zzzz.tmp",
            ".other.journal.tally-0123abcd.tmp",
            "main.journal.tally-0123abcd.tmp",
        ] {
            fs::write(dir.path().join(n), "left").expect("write");
        }
        let removed = clean_leftovers(&path).expect("clean");
        assert_eq!(
            removed,
            vec![dir.path().join(".main.journal.tally-0123abcd.tmp")]
        );
        // While another tally holds the lock (it may be writing its temp file), nothing is touched.
        fs::write(dir.path().join(".main.journal.tally-00000001.tmp"), "live").expect("write");
        let held = lock(&path).expect("lock");
        assert!(clean_leftovers(&path).expect("clean").is_empty());
        drop(held);
        assert_eq!(clean_leftovers(&path).expect("clean").len(), 1);
    }

    #[test]
    fn unwritable_files_and_directories_are_said_up_front() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.journal");
        fs::write(&path, "x\n").expect("write");
        assert_eq!(unwritable_reason(&path), None);
        // Mode 444: read-only on purpose, for root too.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");
        let why = unwritable_reason(&path).expect("read-only");
        assert!(why.contains("read-only"), "{why}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).expect("chmod");
        let why = unwritable_reason(&path).expect("dir");
        assert!(why.contains("directory"), "{why}");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
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

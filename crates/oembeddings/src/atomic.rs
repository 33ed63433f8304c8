//! Output files that appear whole or not at all: written to a temporary file in the target's
//! directory, then renamed over the target.
//!
//! The temporary file is named `.NAME.XXXXXX.tmp` (NAME the target's file name, `XXXXXX`
//! six random letters and digits) and locked (`flock`) while it is written. A run that is
//! killed leaves its temporary file behind, unlocked; the next write of the same target
//! removes such stale files ([`remove_stale_temps`]): ours by their name, abandoned because
//! no process holds their lock, and untouched for [`STALE_AFTER`].
//!
//! Output never replaces anything but a regular file: a target that exists and is a
//! directory, a device, a named pipe or a socket is refused ([`OutputError::NotRegular`]),
//! when the write starts and again just before the rename.

use std::fs::{File, Permissions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::NamedTempFile;

use crate::input::FileKind;

/// How long a temporary file of ours must have been left untouched (and unlocked) before
/// another write of the same target removes it. The lock is what tells an abandoned file
/// from one being written; the delay only covers the instant between another process
/// creating its temporary file and locking it.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// Suffix of temporary files and directories.
const TEMP_SUFFIX: &str = ".tmp";
/// Length of the random part of a temporary name (the `tempfile` crate's default).
const TEMP_RANDOM_LEN: usize = 6;

/// Why an output cannot be written at its path. Carried inside an [`io::Error`], so that
/// every caller's "`path`: cause" message names the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The target exists and is not a regular file, which an output never replaces.
    #[error("is {kind}; an output only ever replaces a regular file")]
    NotRegular {
        /// What the target is.
        kind: FileKind,
    },
}

impl OutputError {
    /// The [`OutputError`] inside `error`, if it is one.
    pub fn of(error: &io::Error) -> Option<&OutputError> {
        error.get_ref()?.downcast_ref::<OutputError>()
    }
}

/// Checks that `target` may be written: absent, or a regular file (followed through
/// symbolic links). Commands call it before doing the work whose result goes there, so
/// that a wrong output path fails at once; [`AtomicFile`] checks again when it starts and
/// before it renames.
pub fn check_target(target: impl AsRef<Path>) -> io::Result<()> {
    match std::fs::metadata(target.as_ref()) {
        Ok(m) => match FileKind::of(&m) {
            FileKind::Regular => Ok(()),
            FileKind::Directory => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                OutputError::NotRegular {
                    kind: FileKind::Directory,
                },
            )),
            kind => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                OutputError::NotRegular { kind },
            )),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A file being written to a temporary name next to its final path.
///
/// Dropping it without [`AtomicFile::commit`] removes the temporary file, so a failed write
/// leaves neither a partial file nor a changed target behind.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Starts writing `target`. The final file gets the permissions of the file it replaces,
    /// or `rw-r--r--` when there is none.
    pub fn create(target: impl AsRef<Path>) -> io::Result<Self> {
        Self::create_with(target.as_ref(), None)
    }

    /// Starts writing a file that only its owner may read or write (`rw-------`), such as a
    /// secret key; the temporary file has those permissions from the start.
    pub fn create_private(target: impl AsRef<Path>) -> io::Result<Self> {
        Self::create_with(target.as_ref(), private_permissions())
    }

    fn create_with(target: &Path, forced: Option<Permissions>) -> io::Result<Self> {
        let target = target.to_path_buf();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_target(&target)?;
        let permissions = match std::fs::metadata(&target) {
            Ok(m) => Some(m.permissions()),
            Err(_) => default_permissions(),
        };
        let permissions = forced.or(permissions);
        remove_stale_temps(&target);
        let prefix = temp_prefix(&name);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TEMP_SUFFIX);
        if let Some(permissions) = permissions {
            builder.permissions(permissions);
        }
        let temp = builder.tempfile_in(dir)?;
        lock(temp.as_file())?;
        Ok(Self { target, temp })
    }

    /// The temporary file, open for writing.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// A second handle on the temporary file (for writers that take ownership).
    pub fn try_clone_file(&self) -> io::Result<File> {
        self.temp.as_file().try_clone()
    }

    /// The temporary file's path, for writers that open the file themselves (SQLite).
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the data to disk and renames the temporary file over the target.
    ///
    /// Fails, leaving the target as it was, if the target has meanwhile become something
    /// other than a regular file.
    pub fn commit(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        check_target(&self.target)?;
        self.temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The start of the temporary names for a target named `name`.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.")
}

/// Whether `candidate` is the name of one of our temporary files or directories for the
/// target named `name` (`.NAME.XXXXXX.tmp`).
fn is_temp_of(name: &str, candidate: &str) -> bool {
    candidate
        .strip_prefix(&temp_prefix(name))
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Whether a file name has the shape of our temporary names, `.NAME.XXXXXX.tmp`, for any
/// target name: an unfinished (or abandoned) output of this library.
pub fn is_temp_name(candidate: &str) -> bool {
    candidate
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(name, random)| {
            !name.is_empty()
                && random.len() == TEMP_RANDOM_LEN
                && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Removes stale temporary files and directories of ours for `target` from its directory:
/// named `.NAME.XXXXXX.tmp`, locked by no process, and untouched for [`STALE_AFTER`]. They
/// are what killed runs leave. Best effort: what cannot be examined or removed stays.
///
/// [`AtomicFile`] calls it when it starts writing `target`; a command may call it for files
/// it is about to write when it wants them gone sooner (a release signer before it lists
/// the directory).
pub fn remove_stale_temps(target: impl AsRef<Path>) {
    let target = target.as_ref();
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_temp_of(&name, &entry.file_name().to_string_lossy()) {
            let _ = remove_if_stale(&entry.path());
        }
    }
}

/// Removes one temporary file or directory of ours if it is stale.
fn remove_if_stale(path: &Path) -> io::Result<()> {
    let metadata = std::fs::symlink_metadata(path)?;
    let kind = FileKind::of(&metadata);
    if !matches!(kind, FileKind::Regular | FileKind::Directory) {
        return Ok(());
    }
    let age = metadata.modified()?.elapsed().unwrap_or_default();
    if age < STALE_AFTER {
        return Ok(());
    }
    let handle = crate::input::open_nonblocking(path)?;
    if !try_lock(&handle)? {
        return Ok(());
    }
    if kind == FileKind::Directory {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Takes the lock that marks a temporary file or directory as being written; it lasts as
/// long as `handle` (or a clone of it) is open, and so ends when the process does.
#[cfg(all(unix, not(target_os = "solaris")))]
pub fn lock(handle: &File) -> io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    match flock(handle, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(()),
        // A file system without locks: the file is still written; only the clean-up of
        // stale files is lost, since an unlockable file is never taken as abandoned.
        Err(e) if e == rustix::io::Errno::NOLCK || e == rustix::io::Errno::OPNOTSUPP => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere there is no lock, and stale temporary files are left for the user.
#[cfg(not(all(unix, not(target_os = "solaris"))))]
pub fn lock(_handle: &File) -> io::Result<()> {
    Ok(())
}

/// Opens the temporary file or directory `path` and takes its lock (see [`lock`]); the lock
/// lasts as long as the returned handle. For temporary directories, which have no handle
/// of their own.
pub fn hold_lock(path: impl AsRef<Path>) -> io::Result<File> {
    let handle = crate::input::open_nonblocking(path.as_ref())?;
    lock(&handle)?;
    Ok(handle)
}

/// Whether the lock of a temporary file could be taken (no process holds it).
#[cfg(all(unix, not(target_os = "solaris")))]
fn try_lock(handle: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(handle, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(all(unix, not(target_os = "solaris"))))]
fn try_lock(_handle: &File) -> io::Result<bool> {
    Ok(false)
}

/// `rw-r--r--`, what a data file is usually created with.
#[cfg(unix)]
fn default_permissions() -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(Permissions::from_mode(0o644))
}

/// Elsewhere a new file keeps the permissions the platform gives it.
#[cfg(not(unix))]
fn default_permissions() -> Option<Permissions> {
    None
}

/// `rw-------`.
#[cfg(unix)]
fn private_permissions() -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(Permissions::from_mode(0o600))
}

/// Elsewhere the platform's defaults apply.
#[cfg(not(unix))]
fn private_permissions() -> Option<Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_nothing_remains_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.parquet");
        {
            let out = AtomicFile::create(&target).unwrap();
            out.file().write_all(b"partial").unwrap();
            assert!(!target.exists());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let out = AtomicFile::create(&target).unwrap();
        out.file().write_all(b"whole").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success());
    }

    #[cfg(unix)]
    #[test]
    fn never_replaces_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = AtomicFile::create("/dev/null").unwrap_err();
        assert_eq!(
            error.to_string(),
            "is a character device; an output only ever replaces a regular file"
        );
        assert!(OutputError::of(&error).is_some());
        let error = AtomicFile::create(dir.path()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::IsADirectory);

        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert!(AtomicFile::create(&fifo).is_err());
        assert!(check_target(&fifo).is_err());

        // The target turns into a named pipe while the output is written: the rename is
        // refused and the pipe stays.
        let target = dir.path().join("out");
        let out = AtomicFile::create(&target).unwrap();
        out.file().write_all(b"whole").unwrap();
        mkfifo(&target);
        let error = out.commit().unwrap_err();
        assert!(error.to_string().contains("named pipe"), "{error}");
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::symlink_metadata(&target)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn temporary_names_are_recognised() {
        assert!(is_temp_of("out.parquet", ".out.parquet.a1B2c3.tmp"));
        assert!(!is_temp_of("out.parquet", ".out.parquet.a1B2c.tmp"));
        assert!(!is_temp_of("out.parquet", ".other.parquet.a1B2c3.tmp"));
        assert!(!is_temp_of("out.parquet", ".out.parquet.a1-2c3.tmp"));
        assert!(is_temp_name(".release.json.Xy12ab.tmp"));
        assert!(is_temp_name(".a.b.c.Xy12ab.tmp"));
        assert!(!is_temp_name(".Xy12ab.tmp"));
        assert!(!is_temp_name("release.json.Xy12ab.tmp"));
        assert!(!is_temp_name(".notes.tmp"));
    }

    #[cfg(all(unix, not(target_os = "solaris")))]
    #[test]
    fn stale_temporary_files_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.parquet");
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        let age = |path: &Path| {
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        };
        // What a killed run leaves: unlocked and old.
        let stale = dir.path().join(".out.parquet.k1LLed.tmp");
        std::fs::write(&stale, b"partial").unwrap();
        age(&stale);
        // A directory output's staging directory, left the same way.
        let stale_dir = dir.path().join(".out.parquet.k1LLd2.tmp");
        std::fs::create_dir(&stale_dir).unwrap();
        std::fs::write(stale_dir.join("part"), b"x").unwrap();
        File::open(&stale_dir).unwrap().set_modified(old).unwrap();
        // Unlocked but just written: perhaps another process about to lock it.
        let fresh = dir.path().join(".out.parquet.fr35h0.tmp");
        std::fs::write(&fresh, b"partial").unwrap();
        // Someone else's file, and a temporary file of another target.
        let other = dir.path().join(".out.parquet.tmp");
        std::fs::write(&other, b"x").unwrap();
        let sibling = dir.path().join(".in.parquet.k1LLed.tmp");
        std::fs::write(&sibling, b"x").unwrap();
        age(&sibling);
        // A write in progress holds its lock, however old its file.
        let live = AtomicFile::create(&target).unwrap();
        age(live.temp_path());
        assert!(!stale.exists() && !stale_dir.exists());
        assert!(fresh.exists() && other.exists() && sibling.exists());

        let second = AtomicFile::create(&target).unwrap();
        assert!(
            live.temp_path().exists(),
            "a locked temporary file was removed"
        );
        second.file().write_all(b"second").unwrap();
        second.commit().unwrap();
        live.file().write_all(b"first").unwrap();
        live.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"first");
    }
}

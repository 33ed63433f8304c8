//! Output files that appear whole or not at all: written to a temporary file in the target's
//! directory, then renamed over the target.

use std::fs::{File, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

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
        let permissions = match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "output path is a directory",
                ));
            }
            Ok(m) => Some(m.permissions()),
            Err(_) => default_permissions(),
        };
        let permissions = forced.or(permissions);
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        if let Some(permissions) = permissions {
            builder.permissions(permissions);
        }
        let temp = builder.tempfile_in(dir)?;
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
    pub fn commit(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
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
}

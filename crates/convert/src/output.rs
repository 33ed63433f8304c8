//! Outputs that appear whole or not at all: directories, and buffered files of lines.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::ConvertError;
use oembeddings::atomic::AtomicFile;

/// A directory being filled under a temporary name next to its final path.
///
/// [`OutputDir::commit`] renames it into place; dropping it without committing removes it.
/// An existing target is replaced only when it is empty or the caller forces it, so a
/// mistyped path never deletes someone's directory. The temporary directory is named and
/// locked like [`AtomicFile`]'s temporary files, so that one a killed run left behind is
/// removed by the next write of the same target.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    temp: TempDir,
    force: bool,
    /// Held open for the lock that marks the temporary directory as being written.
    _lock: File,
}

impl OutputDir {
    /// Starts filling `target`. Fails at once when `target` is a file, or a non-empty
    /// directory and `force` is false.
    pub fn create(target: &Path, force: bool) -> Result<Self, ConvertError> {
        check_replaceable(target, force)?;
        oembeddings::atomic::remove_stale_temps(target);
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempdir_in(&parent)
            .map_err(|e| ConvertError::io(target, e))?;
        let lock =
            oembeddings::atomic::hold_lock(temp.path()).map_err(|e| ConvertError::io(target, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            force,
            _lock: lock,
        })
    }

    /// The temporary directory being filled.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Starts writing `name` inside the directory.
    pub fn file(&self, name: &str) -> Result<AtomicFile, ConvertError> {
        AtomicFile::create(self.temp.path().join(name))
            .map_err(|e| ConvertError::io(&self.target, e))
    }

    /// Moves the directory into place, replacing the old one (checked replaceable at
    /// creation and again now).
    pub fn commit(self) -> Result<(), ConvertError> {
        let Self {
            target,
            temp,
            force,
            _lock,
        } = self;
        check_replaceable(&target, force)?;
        let io = |e| ConvertError::io(&target, e);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(io)?;
        }
        let staged = temp.keep();
        let old = match std::fs::symlink_metadata(&target) {
            Ok(_) => {
                // Move the old directory aside first so that the target is never missing
                // its contents halfway; it is deleted only after the new one is in place.
                let aside = staged.with_extension("old");
                std::fs::rename(&target, &aside).map_err(io)?;
                Some(aside)
            }
            Err(_) => None,
        };
        if let Err(e) = std::fs::rename(&staged, &target) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &target);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io(e));
        }
        if let Some(aside) = old {
            std::fs::remove_dir_all(&aside).map_err(io)?;
        }
        Ok(())
    }
}

/// A text output (JSON Lines) written through a buffer to a temporary file, renamed into
/// place by [`LinesFile::commit`].
pub(crate) struct LinesFile {
    output: AtomicFile,
    writer: BufWriter<File>,
}

impl LinesFile {
    pub(crate) fn create(path: &Path) -> Result<Self, ConvertError> {
        let output = AtomicFile::create(path).map_err(|e| ConvertError::io(path, e))?;
        let file = output
            .try_clone_file()
            .map_err(|e| ConvertError::io(path, e))?;
        Ok(Self {
            output,
            writer: BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// The final path.
    pub(crate) fn target(&self) -> &Path {
        self.output.target()
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), ConvertError> {
        self.writer
            .write_all(bytes)
            .map_err(|e| ConvertError::io(self.output.target(), e))
    }

    pub(crate) fn commit(self) -> Result<(), ConvertError> {
        let Self { output, mut writer } = self;
        let path = output.target().to_path_buf();
        writer.flush().map_err(|e| ConvertError::io(&path, e))?;
        drop(writer);
        output.commit().map_err(|e| ConvertError::io(&path, e))
    }
}

fn check_replaceable(target: &Path, force: bool) -> Result<(), ConvertError> {
    match std::fs::symlink_metadata(target) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_dir() => Err(ConvertError::io(
            target,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not a directory; this format writes a directory",
            ),
        )),
        Ok(_) => {
            let empty = std::fs::read_dir(target)
                .map_err(|e| ConvertError::io(target, e))?
                .next()
                .is_none();
            if empty || force {
                Ok(())
            } else {
                Err(ConvertError::OutputExists {
                    path: target.to_path_buf(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_only_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        assert!(matches!(
            OutputDir::create(&target, false),
            Err(ConvertError::OutputExists { .. })
        ));
        let out = OutputDir::create(&target, true).unwrap();
        std::fs::write(out.path().join("new"), b"y").unwrap();
        out.commit().unwrap();
        assert!(target.join("new").exists());
        assert!(!target.join("keep").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let out = OutputDir::create(&target, false).unwrap();
        std::fs::write(out.path().join("partial"), b"y").unwrap();
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

//! Writing a generated key pair to disk: the secret key readable by its owner only, the
//! public key beside it as `<secret>.pub`. The command line's `keygen` and the Python
//! package's `keygen` both write keys through here.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use oembeddings::atomic::AtomicFile;

use crate::SignError;

/// The files of a key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairFiles {
    /// The secret key (mode 0600 on Unix).
    pub secret: PathBuf,
    /// The public key: the secret key's path with `.pub` appended.
    pub public: PathBuf,
}

impl KeyPairFiles {
    /// The files of the pair whose secret key is at `secret`.
    pub fn at(secret: &Path) -> Self {
        let mut public = secret.as_os_str().to_owned();
        public.push(".pub");
        Self {
            secret: secret.to_path_buf(),
            public: PathBuf::from(public),
        }
    }
}

/// Writes a key pair (as [`crate::keys::generate_ed25519`] or
/// [`crate::keys::generate_openpgp`] return it) with the secret key at `secret_path` and the
/// public key at `<secret_path>.pub`, each atomically (temporary file, then rename); the
/// secret key is created with mode 0600 on Unix, never readable by others even briefly.
///
/// Unless `overwrite`, neither file may exist yet: when one does, nothing is written and the
/// error is [`SignError::Io`] with [`io::ErrorKind::AlreadyExists`] naming it.
pub fn write_key_pair(
    secret_path: &Path,
    secret: &[u8],
    public: &[u8],
    overwrite: bool,
) -> Result<KeyPairFiles, SignError> {
    let files = KeyPairFiles::at(secret_path);
    if !overwrite {
        for path in [&files.secret, &files.public] {
            // A dangling symbolic link exists too: it would be replaced.
            if path.symlink_metadata().is_ok() {
                return Err(SignError::Io {
                    path: path.clone(),
                    source: io::Error::new(io::ErrorKind::AlreadyExists, "already exists"),
                });
            }
        }
    }
    // Both paths are checked before either file is written, so that a public key path
    // that cannot be written leaves no secret key without its public half.
    crate::check_outputs(&[&files.secret, &files.public])?;
    write(&files.secret, secret, true)?;
    write(&files.public, public, false)?;
    Ok(files)
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), SignError> {
    let out = if private {
        AtomicFile::create_private(path)
    } else {
        AtomicFile::create(path)
    }
    .map_err(SignError::io(path))?;
    out.file().write_all(bytes).map_err(SignError::io(path))?;
    out.commit().map_err(SignError::io(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::keys;

    #[test]
    fn writes_both_files_and_keeps_the_secret_private() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = keys::generate_ed25519(None).unwrap();
        let files = write_key_pair(
            &dir.path().join("k"),
            secret.as_bytes(),
            public.as_bytes(),
            false,
        )
        .unwrap();
        assert_eq!(files.public, dir.path().join("k.pub"));
        assert_eq!(std::fs::read_to_string(&files.secret).unwrap(), secret);
        assert_eq!(std::fs::read_to_string(&files.public).unwrap(), public);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&files.secret), 0o600);
            assert_eq!(mode(&files.public), 0o644);
        }
        assert_eq!(
            keys::describe(&files.public).unwrap().id,
            keys::describe(&files.secret).unwrap().id
        );
    }

    #[test]
    fn an_existing_file_is_kept_unless_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let secret_path = dir.path().join("k");
        std::fs::write(dir.path().join("k.pub"), "old").unwrap();
        let error = write_key_pair(&secret_path, b"s", b"p", false).unwrap_err();
        match &error {
            SignError::Io { path, source } => {
                assert_eq!(path, &dir.path().join("k.pub"));
                assert_eq!(source.kind(), io::ErrorKind::AlreadyExists);
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(error.to_string().ends_with("k.pub: already exists"));
        // Neither file was written: the secret key was checked before anything was.
        assert!(!secret_path.exists());
        assert_eq!(std::fs::read(dir.path().join("k.pub")).unwrap(), b"old");

        write_key_pair(&secret_path, b"s", b"p", true).unwrap();
        assert_eq!(std::fs::read(&secret_path).unwrap(), b"s");
        assert_eq!(std::fs::read(dir.path().join("k.pub")).unwrap(), b"p");
    }
}

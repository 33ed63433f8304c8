//! Release manifests: every file of a release directory (name, size, SHA-256; for record
//! files also the row count and record-digest root), signed as one detached signature.

use std::path::{Path, PathBuf};

use oembeddings::input::{FileKind, limits};
use oembeddings::read::ParquetSource;

use crate::error::SignError;
use crate::format::digest::{RootBuilder, hex, record_digests};
use crate::format::manifest::{self, FileEntry, RELEASE_FORMAT, ReleaseManifest};
use crate::keys::{PublicKey, SecretKey, WRITTEN_SIGNATURE_EXTENSIONS};
use crate::report::{ProblemKind, VerifyReport};

/// Name of the manifest inside a release directory.
pub const MANIFEST: &str = "release.json";

/// Files written by [`sign_release`].
#[derive(Debug, Clone)]
pub struct SignedRelease {
    /// The manifest.
    pub manifest: PathBuf,
    /// Its detached signature.
    pub signature: PathBuf,
    /// Files listed.
    pub files: usize,
}

/// Whether `name`, at the top of a release directory, is the manifest or one of the
/// signatures of it that [`sign_release`] writes: the only files a release does not list.
fn is_manifest_file(name: &str) -> bool {
    name == MANIFEST
        || WRITTEN_SIGNATURE_EXTENSIONS
            .iter()
            .any(|extension| name.strip_prefix(MANIFEST) == Some(extension))
}

/// Every file under `dir` (relative, `/`-separated, sorted), except the manifest and its
/// signatures ([`is_manifest_file`]): hidden files and temporary files included. Symbolic
/// links and anything else that is not a regular file or a directory (named pipes,
/// devices, sockets) are refused: a release lists what it holds, and reads only files.
fn release_files(dir: &Path) -> Result<Vec<String>, SignError> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), SignError> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(SignError::io(dir))?
            .collect::<Result<_, _>>()
            .map_err(SignError::io(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let kind = entry.file_type().map_err(SignError::io(&path))?;
            let relative = format!("{prefix}{name}");
            if kind.is_symlink() {
                return Err(SignError::SymbolicLink { path });
            } else if kind.is_dir() {
                walk(&path, &format!("{relative}/"), out)?;
            } else if !kind.is_file() {
                let kind = std::fs::symlink_metadata(&path)
                    .map(|m| FileKind::of(&m))
                    .unwrap_or(FileKind::Other);
                return Err(SignError::NotReleaseFile { path, kind });
            } else if !(prefix.is_empty() && is_manifest_file(&name)) {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

/// The manifest entry of one file; record files also get rows and the digest root.
fn entry(dir: &Path, name: &str) -> Result<FileEntry, SignError> {
    let path = manifest::join(dir, name);
    let source = name
        .ends_with(".parquet")
        .then(|| ParquetSource::open(&path).ok())
        .flatten();
    let Some(source) = source else {
        let (size, sha256) = manifest::hash_file(&path)?;
        return Ok(FileEntry {
            name: name.to_owned(),
            size,
            sha256,
            rows: None,
            records_root: None,
        });
    };
    // One read of the file gives its records and (on another thread) its SHA-256.
    let mut root = RootBuilder::default();
    let mut count = 0u64;
    let options = oembeddings::ReadOptions::default();
    let digest = crate::read::for_each_batch_hashed(source, &options, |batch| {
        for digest in record_digests(batch.records()) {
            root.push(&digest);
            count += 1;
        }
        Ok(())
    })?;
    Ok(FileEntry {
        name: name.to_owned(),
        size: digest.size,
        sha256: digest.sha256_hex(),
        rows: Some(count),
        records_root: Some(hex(&root.finish())),
    })
}

/// Writes `dir/release.json` listing every file of the release, and its detached signature.
///
/// Every file is listed but the manifest and its signatures, hidden ones included. Stale
/// temporary files of earlier, killed runs of this signer are removed first; any other file
/// named like an unfinished output of this library (`.NAME.XXXXXX.tmp`, see
/// [`oembeddings::atomic`]) makes signing fail, since a release must not bind a half-written
/// file.
pub fn sign_release(dir: &Path, key: &SecretKey) -> Result<SignedRelease, SignError> {
    key.require_not_x509("a release manifest signature")?;
    let manifest_file = dir.join(MANIFEST);
    let signature_file = crate::file::signature_path(&manifest_file, key.signature_extension());
    crate::check_outputs(&[&manifest_file, &signature_file])?;
    for written in WRITTEN_SIGNATURE_EXTENSIONS
        .iter()
        .map(|extension| crate::file::signature_path(&manifest_file, extension))
        .chain([manifest_file.clone()])
    {
        oembeddings::atomic::remove_stale_temps(&written);
    }
    let names = release_files(dir)?;
    if let Some(unfinished) = names.iter().find(|name| {
        let base = name.rsplit('/').next().unwrap_or(name);
        oembeddings::atomic::is_temp_name(base)
    }) {
        return Err(SignError::UnfinishedFile {
            path: manifest::join(dir, unfinished),
        });
    }
    let files = names
        .iter()
        .map(|n| entry(dir, n))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = ReleaseManifest {
        format: RELEASE_FORMAT.to_owned(),
        files,
        key: key.key_id(),
        created: manifest::now(),
    };
    let bytes = manifest::to_bytes(&manifest);
    let signature = key.sign_detached(
        &mut bytes.as_slice(),
        &manifest_file,
        &crate::file::trusted_comment(&manifest_file),
    )?;
    crate::write_atomically(&manifest_file, &bytes)?;
    crate::write_atomically(&signature_file, &signature)?;
    Ok(SignedRelease {
        manifest: manifest_file,
        signature: signature_file,
        files: manifest.files.len(),
    })
}

/// Verifies a release directory: the manifest's signature by `key` (before its JSON is
/// parsed), then every file. Lists files that are missing (in the manifest, not in the
/// directory), extra (in the directory, not in the manifest: any file but the manifest and
/// the signatures of it that [`sign_release`] writes, hidden and temporary files included)
/// and changed (size or SHA-256 differs).
pub fn verify_release(dir: &Path, key: &PublicKey) -> Result<VerifyReport, SignError> {
    key.require_not_x509("verifying a release")?;
    let mut report = VerifyReport::new(dir, "release");
    // A remote release is listed by its store (at one commit on the Hub); plain HTTP cannot
    // list, so only the files the manifest names are checked there.
    let (base, present) = if oembeddings::blob::is_remote(dir) {
        let listing = oembeddings::blob::Blob::list(dir).map_err(SignError::io(dir))?;
        let present = listing.files.map(|files| {
            files
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| name.contains('/') || !is_manifest_file(name))
                .collect::<Vec<_>>()
        });
        (PathBuf::from(listing.base), present)
    } else {
        (dir.to_path_buf(), None)
    };
    let dir = base.as_path();
    let manifest_file = dir.join(MANIFEST);
    let Some(manifest) = manifest::read_verified::<ReleaseManifest>(
        &mut report,
        &manifest_file,
        limits::RELEASE_MANIFEST,
        key,
        RELEASE_FORMAT,
    )?
    else {
        report.conclude(false, false);
        return Ok(report);
    };
    let listed_here = !oembeddings::blob::is_remote(dir) || present.is_some();
    let present = match present {
        Some(present) => present,
        None if oembeddings::blob::is_remote(dir) => {
            report.notes.push(format!(
                "{} cannot be listed (plain HTTP): the files the manifest names were checked; \
                 files it does not name could not be looked for",
                dir.display()
            ));
            manifest.files.iter().map(|f| f.name.clone()).collect()
        }
        None => release_files(dir)?,
    };
    for listed in &manifest.files {
        if !present.contains(&listed.name) {
            report.problem(
                ProblemKind::Missing,
                None,
                Some(listed.name.clone()),
                "listed in the manifest but absent",
            );
            continue;
        }
        let (size, sha256) = match manifest::hash_file(&manifest::join(dir, &listed.name)) {
            Ok(hashed) => hashed,
            // Unlisted stores: absence shows when the file is read.
            Err(SignError::Io { source, .. })
                if !listed_here && source.kind() == std::io::ErrorKind::NotFound =>
            {
                report.problem(
                    ProblemKind::Missing,
                    None,
                    Some(listed.name.clone()),
                    "listed in the manifest but absent",
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        if size != listed.size || sha256 != listed.sha256 {
            report.problem(
                ProblemKind::Invalid,
                None,
                Some(listed.name.clone()),
                format!(
                    "changed: {size} bytes, SHA-256 {sha256}; the manifest signs {} bytes, {}",
                    listed.size, listed.sha256
                ),
            );
        } else {
            report.valid += 1;
        }
    }
    for name in present {
        if !manifest.files.iter().any(|f| f.name == name) {
            report.problem(
                ProblemKind::Extra,
                None,
                Some(name),
                "in the directory but not in the manifest",
            );
        }
    }
    report.conclude(false, true);
    Ok(report)
}

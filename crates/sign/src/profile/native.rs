//! The native profile: a signature per record over its domain-separated digest, a sidecar of
//! them, and a signed manifest binding the data file (name, size, SHA-256, rows, digest root)
//! to the sidecar. Verification names each changed, deleted, added, reordered, replayed or
//! moved-in record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oembeddings::Batch;
use oembeddings::input::limits;
use oembeddings::pipeline::{self, parallel_chunks};
use oembeddings::record::{RecordKey, RecordRef};

use crate::error::SignError;
use crate::format::digest::{
    RecordDigest, RootBuilder, SignedMessage, hex, record_digests, signed_message,
};
use crate::format::manifest::{self, FileEntry, RECORDS_FORMAT, RecordsManifest, RecordsSection};
use crate::format::sidecar::{self, NativeRow};
use crate::keys::{PublicKey, SecretKey, Signatures};
use crate::report::{LISTED_PROBLEMS, ProblemKind, VerifyReport};

/// Digest algorithm name recorded in manifests.
pub const DIGEST_ALGORITHM: &str = "oembeddings.record.v1";

/// Files written by [`sign_records`].
#[derive(Debug, Clone)]
pub struct SignedRecords {
    /// The sidecar of record signatures.
    pub sidecar: PathBuf,
    /// The manifest.
    pub manifest: PathBuf,
    /// The manifest's detached signature.
    pub manifest_signature: PathBuf,
    /// Records signed.
    pub records: u64,
}

/// `X.parquet` -> `X` (the data file's name without `.parquet`).
pub(crate) fn root(data: &Path) -> PathBuf {
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".parquet").unwrap_or(&name);
    data.with_file_name(stem)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The default sidecar of a data file: `X.sigs.parquet`.
pub fn sidecar_path(data: &Path) -> PathBuf {
    with_suffix(&root(data), ".sigs.parquet")
}

/// The default manifest of a data file: `X.manifest.json`.
pub fn manifest_path(data: &Path) -> PathBuf {
    with_suffix(&root(data), ".manifest.json")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Records digested and signed per chunk of work: small enough that both cores stay busy to
/// the end of a batch, large enough to amortise claiming the chunk.
const SIGN_CHUNK: usize = 32;

/// Signs every record of `data` and writes the sidecar, the manifest and its signature next
/// to it. Each file appears whole or not at all.
pub fn sign_records(data: &Path, key: &SecretKey) -> Result<SignedRecords, SignError> {
    key.require_not_x509("the native profile (X.509 certificates sign in the compatible profile)")?;
    let sidecar_file = sidecar_path(data);
    let manifest_file = manifest_path(data);
    let signature_file = with_suffix(&manifest_file, key.signature_extension());
    crate::check_outputs(&[&manifest_file, &signature_file])?;
    let mut writer = sidecar::native_writer(&sidecar_file)?;
    let signing = key.record_signing();
    let mut root = RootBuilder::default();
    let mut rows = 0u64;
    // Decoding (its own thread), with the file hashed from the same reads (its own thread);
    // digesting and signing (every core, chunks of SIGN_CHUNK records, no barrier between
    // batches); and writing the sidecar (its own thread, in order).
    let file_digest = pipeline::ordered_chunks(
        pipeline::cores(),
        SIGN_CHUNK,
        |submit| {
            let options = oembeddings::ReadOptions::default()
                .with_batch_size(crate::read::PIPELINE_BATCH_ROWS);
            let source = oembeddings::ParquetSource::open(data)?;
            crate::read::for_each_batch_hashed(source, &options, |batch| {
                if submit(batch.clone(), batch.num_rows()) {
                    Ok(())
                } else {
                    Err(SignError::Stopped)
                }
            })
        },
        |batch: &Batch, range| -> Result<(Vec<RecordDigest>, Signatures), SignError> {
            let digests = record_digests(range.map(|row| batch.record(row)));
            let messages: Vec<SignedMessage> = digests.iter().map(signed_message).collect();
            let refs: Vec<&[u8]> = messages.iter().map(|m| &m[..]).collect();
            Ok((digests, signing.sign(&refs)?))
        },
        |batch, chunks| {
            let mut digests = Vec::with_capacity(batch.num_rows());
            let mut signatures = Vec::with_capacity(chunks.len());
            for chunk in chunks {
                let (chunk_digests, chunk_signatures) = chunk?;
                digests.extend(chunk_digests);
                signatures.push(chunk_signatures);
            }
            writer.write_columns(sidecar::native_columns(rows, batch, &digests, &signatures))?;
            for digest in &digests {
                root.push(digest);
            }
            rows += batch.num_rows() as u64;
            Ok(())
        },
    )?;
    let sidecar = writer.finish()?;
    let root = root.finish();
    let manifest = RecordsManifest {
        format: RECORDS_FORMAT.to_owned(),
        file: FileEntry {
            name: file_name(data),
            size: file_digest.size,
            sha256: file_digest.sha256_hex(),
            rows: Some(rows),
            records_root: Some(hex(&root)),
        },
        records: RecordsSection {
            digest: DIGEST_ALGORITHM.to_owned(),
            signature: key.algorithm().to_owned(),
            sidecar: FileEntry {
                name: file_name(&sidecar_file),
                size: sidecar.size,
                sha256: sidecar.sha256,
                rows: None,
                records_root: None,
            },
        },
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
    Ok(SignedRecords {
        sidecar: sidecar_file,
        manifest: manifest_file,
        manifest_signature: signature_file,
        records: rows,
    })
}

/// Native verification settings.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct NativeVerifyOptions {
    /// The sidecar (default: the one the manifest names, next to it).
    pub sidecar: Option<PathBuf>,
    /// The manifest (default `X.manifest.json` next to the data file).
    pub manifest: Option<PathBuf>,
    /// Let records without a signature pass (they are still listed).
    pub allow_missing: bool,
    /// Accept a data file whose bytes differ from the signed file's when every record
    /// verifies in order (a converted or re-written file). Off: any changed byte fails.
    pub allow_rewritten: bool,
    /// Take the file's size and SHA-256 from the server when it announces them (the
    /// Hugging Face Hub, for LFS files) instead of reading the file.
    pub trust_server_digest: bool,
}

/// What the sidecar says of one record.
#[derive(Debug, Clone)]
struct Signed {
    row: u64,
    digest: RecordDigest,
    signature_ok: bool,
    seen: bool,
}

/// Verifies every record of `data` against its signed manifest and sidecar.
///
/// Fails closed: the manifest must carry a valid signature by `key`; every record must be in
/// the sidecar, at its signed row, with its signed digest and a valid signature by `key`;
/// every signed record must be present; the file's bytes must be those signed.
pub fn verify_records(
    data: &Path,
    key: &PublicKey,
    options: &NativeVerifyOptions,
) -> Result<VerifyReport, SignError> {
    key.require_not_x509("the native profile (X.509 certificates sign in the compatible profile)")?;
    let mut report = VerifyReport::new(data, "records-native");
    let manifest_file = options
        .manifest
        .clone()
        .unwrap_or_else(|| manifest_path(data));
    let Some(manifest) = manifest::read_verified::<RecordsManifest>(
        &mut report,
        &manifest_file,
        limits::RECORDS_MANIFEST,
        key,
        RECORDS_FORMAT,
    )?
    else {
        report.conclude(options.allow_missing, false);
        return Ok(report);
    };
    // From here on the manifest is the one `key` signed: the report is anchored.
    if manifest.records.signature != key.algorithm() {
        report.file_problem(
            None,
            format!(
                "records are signed with {} but the key is {}: no record can verify",
                manifest.records.signature,
                key.algorithm()
            ),
        );
        report.conclude(options.allow_missing, false);
        return Ok(report);
    }
    // The file's bytes are hashed on another thread while the sidecar is hashed and checked;
    // the scope waits for that thread on every path, errors included, so no work outlives
    // the call.
    let announced = if options.trust_server_digest {
        server_digest(data, &mut report)?
    } else {
        None
    };
    let (pass, file_hash) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| match &announced {
            Some(digest) => Ok(Some(digest.clone())),
            None => signed_size_hash(data, manifest.file.size),
        });
        let pass = check_sidecar(&mut report, &manifest_file, &manifest, key, options);
        let file_hash = hashing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok::<_, SignError>((pass?, file_hash?))
    })?;
    for (row, key) in &pass.signed_twice {
        report.problem(
            ProblemKind::Invalid,
            Some(*row),
            Some(key.clone()),
            "the sidecar signs this record key twice",
        );
    }
    let SidecarPass {
        mut signed,
        root: sidecar_root,
        rows: sidecar_rows,
        out_of_order,
        bad_signatures,
        ..
    } = pass;
    let manifest_root = manifest.file.records_root.clone().unwrap_or_default();
    let signed_bytes = file_hash.as_ref().is_some_and(|(size, sha256)| {
        (*size, sha256.as_str()) == (manifest.file.size, manifest.file.sha256.as_str())
    });
    let identical = report.invalid == 0
        && signed_bytes
        && !out_of_order
        && Some(sidecar_rows) == manifest.file.rows
        && hex(&sidecar_root.finish()) == manifest_root;
    if identical {
        // The file's bytes are the signed bytes, and the sidecar (whose bytes the manifest
        // fixes) holds the digests computed from them, in order: every record is what was
        // signed. Only the record signatures remain to count.
        for (row, key) in bad_signatures {
            report.problem(
                ProblemKind::Invalid,
                Some(row),
                Some(key),
                "record signature does not verify",
            );
        }
        report.valid = sidecar_rows - report.invalid;
        report.conclude(options.allow_missing, true);
        return Ok(report);
    }

    // Pass B: the file differs from the signed one; check it record by record.
    let mut root = RootBuilder::default();
    let mut row = 0u64;
    // Records in signed order so far: a record whose signed row comes after the last one in
    // order is in order too, however many records were deleted or added in between; one
    // that comes before it was moved. Deleting or adding records thus moves none.
    let mut last_in_order: Option<u64> = None;
    crate::read::for_each_batch(data, |batch| {
        let records: Vec<RecordRef<'_>> = batch.records().collect();
        let digests = parallel_chunks(&records, |chunk| record_digests(chunk.iter().copied()));
        for (record, digest) in records.iter().zip(&digests) {
            root.push(digest);
            let key = || Some(record.key().to_string());
            match signed.get_mut(&identity(
                record.provider,
                record.depiction_id,
                record.model,
            )) {
                None => report.problem(
                    ProblemKind::Missing,
                    Some(row),
                    key(),
                    "record is not signed (added, or moved in from another file)",
                ),
                Some(entry) if entry.seen => report.problem(
                    ProblemKind::Invalid,
                    Some(row),
                    key(),
                    "record key occurs again; only one record with this key was signed",
                ),
                Some(entry) => {
                    entry.seen = true;
                    if !entry.signature_ok {
                        report.problem(
                            ProblemKind::Invalid,
                            Some(row),
                            key(),
                            "record signature does not verify",
                        );
                    } else if entry.digest != *digest {
                        report.problem(
                            ProblemKind::Invalid,
                            Some(row),
                            key(),
                            "record changed since it was signed (digest differs)",
                        );
                    } else if last_in_order.is_some_and(|last| entry.row < last) {
                        report.problem(
                            ProblemKind::Invalid,
                            Some(row),
                            key(),
                            format!("record moved: signed at row {}", entry.row),
                        );
                    } else {
                        last_in_order = Some(entry.row);
                        report.valid += 1;
                    }
                }
            }
            row += 1;
        }
        Ok(())
    })?;
    let rows = row;
    let root = root.finish();
    let mut deleted: Vec<(u64, u128)> = signed
        .iter()
        .filter(|(_, s)| !s.seen)
        .map(|(id, s)| (s.row, *id))
        .collect();
    deleted.sort_unstable();
    let keys = deleted_keys(&sidecar_file(&manifest_file, &manifest, options), &deleted)?;
    for (row, id) in deleted {
        report.problem(
            ProblemKind::Extra,
            None,
            keys.get(&id).cloned(),
            format!("signed at row {row}, not in the file"),
        );
    }
    // Added (missing) and deleted (extra) records explain a different row count and root.
    let signed_rows = manifest.file.rows.unwrap_or(0);
    if rows + report.extra != signed_rows + report.missing {
        report.file_problem(
            Some(file_name(data)),
            format!("the file has {rows} records; the manifest signs {signed_rows}"),
        );
    }
    let records_intact =
        report.invalid == 0 && report.extra == 0 && (report.missing == 0 || options.allow_missing);
    if Some(hex(&root)) != manifest.file.records_root
        && report.missing + report.extra == 0
        && report.invalid == 0
    {
        report.file_problem(
            Some(file_name(data)),
            "the record digest root differs from the manifest's",
        );
    }
    if file_name(data) != manifest.file.name {
        if records_intact && options.allow_rewritten {
            report.notes.push(format!(
                "the manifest signs a file named {:?}; every signed record verifies in order in \
                 this one (a renamed or converted copy)",
                manifest.file.name
            ));
        } else {
            let hint = if records_intact {
                " (--allow-rewritten accepts a renamed or converted copy whose records all verify)"
            } else {
                ""
            };
            report.file_problem(
                Some(file_name(data)),
                format!(
                    "the manifest signs a file named {:?}{hint}",
                    manifest.file.name
                ),
            );
        }
    }
    if !signed_bytes {
        if records_intact && options.allow_rewritten {
            report.notes.push("the file's bytes differ from the signed file's, but every signed record verifies in order (a rewritten or converted file)".into());
        } else {
            let message = if records_intact {
                "the file's bytes differ from the signed file's (size or SHA-256), though every record verifies: its footer or layout changed (--allow-rewritten accepts that)"
            } else {
                "the file's bytes differ from the signed file's (size or SHA-256)"
            };
            report.file_problem(Some(file_name(data)), message);
        }
    }
    report.conclude(options.allow_missing, true);
    Ok(report)
}

/// The size and SHA-256 (hex) the server announces for `data`, with a note in `report` on
/// what was and was not read; `None` (and a note) when it announces none.
fn server_digest(
    data: &Path,
    report: &mut VerifyReport,
) -> Result<Option<(u64, String)>, SignError> {
    let blob = oembeddings::blob::Blob::open(data).map_err(SignError::io(data))?;
    let announced = blob
        .remote()
        .and_then(|object| object.server_digest())
        .and_then(|d| Some((d.size?, d.sha256.clone()?, d.commit.clone())));
    match announced {
        Some((size, sha256, commit)) => {
            report.notes.push(format!(
                "the file's size and SHA-256 are those the Hugging Face Hub announces for \
                 commit {commit} (X-Linked-Size, X-Linked-Etag); its data was not read, only \
                 its footer (--trust-server-digest)"
            ));
            Ok(Some((size, sha256)))
        }
        None => {
            report.notes.push(
                "the server announces no SHA-256 for this file (only the Hugging Face Hub \
                 does, for LFS files): its bytes were read and hashed"
                    .to_owned(),
            );
            Ok(None)
        }
    }
}

/// The size and SHA-256 of `data`, or `None` when its size is not `signed_size`: such a file
/// cannot hold the signed bytes, so it is not hashed, and is checked record by record.
fn signed_size_hash(data: &Path, signed_size: u64) -> Result<Option<(u64, String)>, SignError> {
    let size = oembeddings::input::size(data).map_err(SignError::io(data))?;
    if size != signed_size {
        return Ok(None);
    }
    manifest::hash_file(data).map(Some)
}

/// Checks the sidecar against the manifest, then verifies its signatures (pass A): the
/// sidecar is decoded on this thread while its signatures are verified on every core and
/// the results are taken in order on another thread.
fn check_sidecar(
    report: &mut VerifyReport,
    manifest_file: &Path,
    manifest: &RecordsManifest,
    key: &PublicKey,
    options: &NativeVerifyOptions,
) -> Result<SidecarPass, SignError> {
    let sidecar_file = sidecar_file(manifest_file, manifest, options);
    let (sidecar_size, sidecar_sha) = manifest::hash_file(&sidecar_file)?;
    if (sidecar_size, sidecar_sha.as_str())
        != (
            manifest.records.sidecar.size,
            manifest.records.sidecar.sha256.as_str(),
        )
    {
        report.file_problem(
            Some(file_name(&sidecar_file)),
            "the sidecar differs from the one the manifest signs (size or SHA-256)",
        );
    }
    // Pass A: the sidecar's signatures, and what they vouch for, by record identity.
    let mut pass = SidecarPass::default();
    pipeline::ordered_chunks(
        pipeline::cores(),
        VERIFY_CHUNK,
        |submit| {
            for rows in sidecar::read_native(&sidecar_file)? {
                let rows = rows?;
                let len = rows.len();
                if !submit(rows, len) {
                    break;
                }
            }
            Ok::<_, SignError>(())
        },
        |rows: &Vec<NativeRow>, range| {
            let rows = &rows[range];
            let messages: Vec<SignedMessage> =
                rows.iter().map(|r| signed_message(&r.digest)).collect();
            let items: Vec<(&[u8], &[u8])> = messages
                .iter()
                .zip(rows)
                .map(|(m, r)| (&m[..], r.signature.as_slice()))
                .collect();
            key.verify_record_chunk(&items)
        },
        |rows, verdicts| {
            for (row, signature_ok) in rows.iter().zip(verdicts.into_iter().flatten()) {
                pass.take(row, signature_ok);
            }
            Ok(())
        },
    )?;
    Ok(pass)
}

/// The sidecar: named in the options, else the one the manifest names, beside it.
fn sidecar_file(
    manifest_file: &Path,
    manifest: &RecordsManifest,
    options: &NativeVerifyOptions,
) -> PathBuf {
    options.sidecar.clone().unwrap_or_else(|| {
        manifest::join(
            manifest_file.parent().unwrap_or(Path::new(".")),
            &manifest.records.sidecar.name,
        )
    })
}

/// The record keys of the deleted records that a report lists (the first
/// [`LISTED_PROBLEMS`]), read again from the sidecar: pass A keeps only their identities, and
/// deletions are rare enough that a second read of the small sidecar costs less than
/// keeping every key.
fn deleted_keys(
    sidecar_file: &Path,
    deleted: &[(u64, u128)],
) -> Result<HashMap<u128, String>, SignError> {
    let wanted: std::collections::HashSet<u128> = deleted
        .iter()
        .take(LISTED_PROBLEMS)
        .map(|(_, id)| *id)
        .collect();
    let mut keys = HashMap::with_capacity(wanted.len());
    if wanted.is_empty() {
        return Ok(keys);
    }
    for rows in sidecar::read_native(sidecar_file)? {
        for row in rows? {
            let id = identity(&row.provider, &row.depiction_id, &row.model);
            if wanted.contains(&id) {
                keys.entry(id).or_insert_with(|| key_of(&row));
            }
        }
        if keys.len() == wanted.len() {
            break;
        }
    }
    Ok(keys)
}

/// Sidecar rows verified per chunk of work: one Ed25519 batch equation.
const VERIFY_CHUNK: usize = crate::backend::ed25519::BATCH;

/// What the sidecar's rows say, taken in order.
#[derive(Default)]
struct SidecarPass {
    /// What each record identity's signature vouches for. The map hashes the fingerprints
    /// again with a random key: their own key is public, and a hostile sidecar could
    /// otherwise crowd them into the same buckets.
    signed: HashMap<u128, Signed>,
    /// The digest root of the sidecar's rows.
    root: RootBuilder,
    rows: u64,
    /// Whether some row's `row` column breaks the count up from 0.
    out_of_order: bool,
    /// Rows whose signature does not verify, with their record keys.
    bad_signatures: Vec<(u64, String)>,
    /// Rows whose record key an earlier row signed already.
    signed_twice: Vec<(u64, String)>,
}

impl SidecarPass {
    fn take(&mut self, row: &NativeRow, signature_ok: bool) {
        self.root.push(&row.digest);
        self.out_of_order |= row.row != self.rows;
        self.rows += 1;
        if !signature_ok {
            self.bad_signatures.push((row.row, key_of(row)));
        }
        let id = identity(&row.provider, &row.depiction_id, &row.model);
        let entry = Signed {
            row: row.row,
            digest: row.digest,
            signature_ok,
            seen: false,
        };
        if self.signed.insert(id, entry).is_some() {
            self.signed_twice.push((row.row, key_of(row)));
        }
    }
}

fn key_of(row: &NativeRow) -> String {
    RecordKey::new(&row.provider, &row.depiction_id, &row.model).to_string()
}

fn identity(provider: &str, depiction_id: &str, model: &str) -> u128 {
    RecordKey::new(provider, depiction_id, model).fingerprint()
}

//! The compatible profile: go-embeddingsdb's record signatures, read and written exactly.
//!
//! For each record the signed bytes are Go's `encoding/json.Marshal` of the record
//! ([`oembeddings::json`]); `record_hash` is their lowercase hex SHA-256 and
//! `record_signature` an ASCII-armored OpenPGP detached signature over them. They go into a
//! sidecar `{root}-signatures.parquet`; the public key into `{root}-signatures.pub`.
//!
//! Verification does not share the Go verifier's weaknesses: a sidecar row must match its
//! record's provider, depiction id and model (not just its hash); records without a
//! signature, signatures without a record and invalid signatures are each counted and
//! listed; and any of them fails the verification unless the caller allows missing ones.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oembeddings::Batch;
use oembeddings::json::{AttributesJson, write_record};
use oembeddings::record::{RecordKey, RecordRef};
use sha2::{Digest, Sha256};

use crate::backend::openpgp;
use crate::error::SignError;
use crate::format::digest::unhex;
use crate::format::sidecar;
use crate::keys::{PublicKey, SecretKey};
use crate::report::{ProblemKind, VerifyReport};
use oembeddings::pipeline::{self, parallel_map};

/// `{root}-signatures.parquet`.
pub fn sidecar_path(data: &Path) -> PathBuf {
    let root = crate::profile::native::root(data);
    let mut s = root.into_os_string();
    s.push("-signatures.parquet");
    PathBuf::from(s)
}

/// `{root}-signatures.pub`.
pub fn public_key_path(data: &Path) -> PathBuf {
    let root = crate::profile::native::root(data);
    let mut s = root.into_os_string();
    s.push("-signatures.pub");
    PathBuf::from(s)
}

/// The bytes go-embeddingsdb signs for a record: Go's JSON of it. A NaN or infinite element
/// cannot be marshalled (the Go tool cannot sign such a record either).
pub fn signed_bytes(record: &RecordRef<'_>, attributes: AttributesJson) -> Result<Vec<u8>, String> {
    // Floats take up to 15 bytes with their comma; sized once, the buffer never moves.
    let attribute_bytes: usize = record
        .attributes
        .iter()
        .map(|(k, v)| k.len() + v.len() + 8)
        .sum();
    let strings = record.provider.len()
        + record.depiction_id.len()
        + record.subject_id.len()
        + record.model.len();
    let mut out =
        Vec::with_capacity(128 + strings * 2 + attribute_bytes * 2 + record.embeddings.len() * 15);
    write_record(&mut out, record, attributes).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Files written by [`sign_records`].
#[derive(Debug, Clone)]
pub struct SignedCompatible {
    /// The sidecar.
    pub sidecar: PathBuf,
    /// The armored public key.
    pub public_key: PathBuf,
    /// Records signed.
    pub records: u64,
}

/// Signs every record of `data` as go-embeddingsdb does and writes the sidecar and the public
/// key next to it.
pub fn sign_records(data: &Path, key: &SecretKey) -> Result<SignedCompatible, SignError> {
    let public = key.public_armored()?;
    if key.algorithm() != "openpgp" {
        return Err(SignError::WrongKeyKind {
            operation: "the compatible profile (go-embeddingsdb signs with OpenPGP; or sign with the native profile)",
            needed: "openpgp",
            given: key.algorithm(),
        });
    }
    let sidecar_file = sidecar_path(data);
    crate::check_outputs(&[&public_key_path(data)])?;
    let mut writer = sidecar::compatible_writer(&sidecar_file)?;
    let mut records = 0u64;
    crate::read::for_each_batch(data, |batch| {
        let rows: Vec<RecordRef<'_>> = batch.records().collect();
        let bytes: Vec<Result<Vec<u8>, String>> =
            parallel_map(&rows, |r| signed_bytes(r, AttributesJson::Object));
        let mut messages = Vec::with_capacity(rows.len());
        for (i, b) in bytes.into_iter().enumerate() {
            messages.push(b.map_err(|reason| SignError::UnsignableRecord {
                path: data.to_path_buf(),
                row: batch.first_row() + i as u64,
                key: rows[i].key().to_string(),
                reason,
            })?);
        }
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signatures = key.sign_armored_messages(&refs)?;
        let hashes: Vec<[u8; 32]> = messages.iter().map(|m| Sha256::digest(m).into()).collect();
        writer.write_columns(sidecar::compatible_columns(batch, &hashes, &signatures))?;
        records += rows.len() as u64;
        Ok(())
    })?;
    writer.finish()?;
    let public_key = public_key_path(data);
    crate::write_atomically(&public_key, public.as_bytes())?;
    Ok(SignedCompatible {
        sidecar: sidecar_file,
        public_key,
        records,
    })
}

/// A sidecar row, by record identity: what is needed to check its record, and no more (the
/// signature dearmored; key texts are read again from the sidecar for rows left over).
#[derive(Debug)]
struct Entry {
    hash: Option<[u8; 32]>,
    /// Moved to the record's claim once a record claims the row.
    signature: Result<Box<[u8]>, String>,
    seen: bool,
}

/// Sidecar rows by record identity fingerprint, hashed again with a random key (see
/// `native::SidecarPass::signed`).
type Entries = HashMap<u128, Entry>;

/// Verifies every record of `data` against a compatible-profile sidecar (default
/// `{root}-signatures.parquet`), with `key` as the only acceptable signer.
///
/// Records are streamed; memory grows by about 200 bytes per sidecar row (hash, dearmored
/// signature, identity fingerprint). JSON encoding and signature checks run on every core.
pub fn verify_records(
    data: &Path,
    key: &PublicKey,
    sidecar: Option<&Path>,
    allow_missing: bool,
) -> Result<VerifyReport, SignError> {
    if key.algorithm() != "openpgp" {
        return Err(SignError::WrongKeyKind {
            operation: "verifying compatible-profile signatures (OpenPGP; give the publisher's OpenPGP public key, e.g. {root}-signatures.pub)",
            needed: "openpgp",
            given: key.algorithm(),
        });
    }
    let mut report = VerifyReport::new(data, "records-compatible");
    let sidecar_file = sidecar
        .map(Path::to_path_buf)
        .unwrap_or_else(|| sidecar_path(data));
    let mut entries = Entries::default();
    for rows in sidecar::read_compatible(&sidecar_file)? {
        let rows = rows?;
        // Dearmoring is most of the cost of loading the sidecar: on every core.
        let loaded = parallel_map(&rows, |row| Entry {
            hash: unhex::<32>(&row.record_hash),
            signature: crate::backend::openpgp::dearmor(row.record_signature.as_bytes())
                .map(Vec::into_boxed_slice)
                .map_err(|e| e.to_string()),
            seen: false,
        });
        for (row, entry) in rows.iter().zip(loaded) {
            let id = RecordKey::new(&row.provider, &row.depiction_id, &row.model);
            if entries.insert(id.fingerprint(), entry).is_some() {
                report.problem(
                    ProblemKind::Invalid,
                    None,
                    Some(id.to_string()),
                    "the sidecar signs this record key twice",
                );
            }
        }
    }
    // Records are claimed in order on this thread; each batch's claims are verified in
    // chunks on every core (the signed bytes, Go's JSON, then the signatures over them,
    // Ed25519 batched), and the results taken in order on another thread.
    let mut anchored = false;
    pipeline::ordered_chunks(
        pipeline::cores(),
        VERIFY_CHUNK,
        |submit| {
            let options = oembeddings::ReadOptions::default()
                .with_batch_size(crate::read::PIPELINE_BATCH_ROWS);
            crate::read::for_each_batch_with(data, &options, |batch| {
                let claimed = claim(&mut entries, batch);
                let len = claimed.claims.len();
                if submit(claimed, len) {
                    Ok(())
                } else {
                    Err(SignError::Stopped)
                }
            })
        },
        |claimed: &Claimed, range| verify_chunk(key, &claimed.batch, &claimed.claims[range]),
        |claimed, results| {
            for &(kind, i, message) in &claimed.problems {
                let (row, key) = claimed.row_and_key(i);
                report.problem(kind, Some(row), Some(key), message);
            }
            for ((i, _, _), result) in claimed.claims.iter().zip(results.into_iter().flatten()) {
                match result {
                    Ok(verified) => {
                        report.valid += 1;
                        if !anchored {
                            report.signer = Some(key.openpgp_signer(&verified));
                            anchored = true;
                        }
                    }
                    Err(reason) => {
                        let (row, key) = claimed.row_and_key(*i);
                        report.problem(ProblemKind::Invalid, Some(row), Some(key), reason);
                    }
                }
            }
            Ok(())
        },
    )?;
    // Rows left over: their records were deleted. Their key texts come from the sidecar again.
    if entries.values().any(|e| !e.seen) {
        for rows in sidecar::read_compatible(&sidecar_file)? {
            for row in rows? {
                let id = RecordKey::new(&row.provider, &row.depiction_id, &row.model);
                if entries.get(&id.fingerprint()).is_some_and(|e| !e.seen) {
                    report.problem(
                        ProblemKind::Extra,
                        None,
                        Some(id.to_string()),
                        "signed record is absent from the file (deleted)",
                    );
                }
            }
        }
    }
    report.conclude(allow_missing, anchored);
    Ok(report)
}

/// Records verified per chunk of work.
const VERIFY_CHUNK: usize = 24;

/// A record of a batch and what its sidecar row says: (index, record_hash, signature).
type Claim = (usize, Option<[u8; 32]>, Result<Box<[u8]>, String>);

/// A batch of records, each with a claim on its sidecar row when it has one.
struct Claimed {
    batch: Batch,
    claims: Vec<Claim>,
    /// Records that could claim no row: (kind, index in the batch, why).
    problems: Vec<(ProblemKind, usize, &'static str)>,
}

impl Claimed {
    /// The file row and record key of the batch's record `i`, for a problem report.
    fn row_and_key(&self, i: usize) -> (u64, String) {
        (
            self.batch.first_row() + i as u64,
            self.batch.record(i).key().to_string(),
        )
    }
}

/// Claims each record's sidecar row, in order: a key claims its row once.
fn claim(entries: &mut Entries, batch: &Batch) -> Claimed {
    let mut claims = Vec::with_capacity(batch.num_rows());
    let mut problems = Vec::new();
    for (i, record) in batch.records().enumerate() {
        match entries.get_mut(&record.key().fingerprint()) {
            None => problems.push((
                ProblemKind::Missing,
                i,
                "record has no signature in the sidecar",
            )),
            Some(entry) if entry.seen => problems.push((
                ProblemKind::Invalid,
                i,
                "record key occurs again; only one record with this key was signed",
            )),
            Some(entry) => {
                entry.seen = true;
                // A row is claimed once: its signature moves to the claim, uncopied.
                let signature = std::mem::replace(&mut entry.signature, Ok(Box::default()));
                claims.push((i, entry.hash, signature));
            }
        }
    }
    Claimed {
        batch: batch.clone(),
        claims,
        problems,
    }
}

/// Verifies the records of one chunk of claims.
fn verify_chunk(
    key: &PublicKey,
    batch: &Batch,
    chunk: &[Claim],
) -> Vec<Result<openpgp::Verified, String>> {
    let bytes: Vec<Result<Vec<u8>, String>> = chunk
        .iter()
        .map(|(i, _, _)| signed_bytes(&batch.record(*i), AttributesJson::Object))
        .collect();
    let items: Vec<(&[u8], &[u8])> = bytes
        .iter()
        .zip(chunk)
        .filter_map(|(b, (_, _, s))| Some((b.as_ref().ok()?.as_slice(), &**s.as_ref().ok()?)))
        .collect();
    let mut verified = key.verify_openpgp_many(&items).into_iter();
    bytes
        .iter()
        .zip(chunk)
        .map(|(object, (i, hash, signature))| {
            let object = object.as_ref().map_err(Clone::clone)?;
            // Claims without usable bytes or signature were left out of `items`.
            signature.as_ref().map_err(|e| format!("signature: {e}"))?;
            match verified.next() {
                // The signature is over these bytes: the record is what was signed, and its
                // record_hash must be their hash.
                Some(Ok((v, sha))) => {
                    let sha = sha.unwrap_or_else(|| Sha256::digest(object).into());
                    if Some(sha) == *hash {
                        Ok(v)
                    } else {
                        Err("record_hash differs from the hash of the signed bytes".to_owned())
                    }
                }
                // Not these bytes: the null-attributes form, a changed record, or a bad signature.
                Some(Err(reason)) => {
                    other_form(key, &batch.record(*i), *hash, signature, object, reason)
                }
                None => Err("not verified".to_owned()),
            }
        })
        .collect()
}

/// Why a record's object-form bytes did not verify: it may have been signed in the nil-map
/// form (no attributes), have changed (hash differs), or carry a bad signature.
fn other_form(
    key: &PublicKey,
    record: &RecordRef<'_>,
    hash: Option<[u8; 32]>,
    signature: &Result<Box<[u8]>, String>,
    object: &[u8],
    reason: String,
) -> Result<openpgp::Verified, String> {
    let hash = hash.ok_or("record_hash is not 64 hex digits")?;
    if record.attributes.is_empty() {
        let null = signed_bytes(record, AttributesJson::NullWhenEmpty)?;
        if <[u8; 32]>::from(Sha256::digest(&null)) == hash {
            let signature = signature.as_ref().map_err(|e| format!("signature: {e}"))?;
            return key
                .verify_openpgp(&null, signature)
                .map_err(|e| format!("signature: {e}"));
        }
    }
    if <[u8; 32]>::from(Sha256::digest(object)) != hash {
        return Err("record changed since it was signed (record_hash differs)".into());
    }
    Err(format!("signature: {reason}"))
}

//! The compatible profile: go-embeddingsdb's record signatures, read and written exactly.
//!
//! For each record the signed bytes are Go's `encoding/json.Marshal` of the record
//! ([`oembeddings::json`]); `record_hash` is their lowercase hex SHA-256 and
//! `record_signature` a signature over them in one of the Go tool's two schemes: an
//! ASCII-armored OpenPGP detached signature (`pgp://`), or an X.509 certificate key's signature
//! (`tls://`, `acm://`), PEM-wrapped as `SIGNATURE` or raw. They go into a sidecar
//! `{root}-signatures.parquet`; the public key (armored certificate, or PEM X.509
//! certificate) into `{root}-signatures.pub`, and on request into the sidecar's footer.
//!
//! Verification does not share the Go verifier's weaknesses: a sidecar row must match its
//! record's provider, depiction id and model (not just its hash); records without a
//! signature, signatures without a record and invalid signatures are each counted and
//! listed; any of them fails the verification unless the caller allows missing ones; an
//! embedded key is never trusted; an X.509 signer's identity is checked when asked (chain,
//! name, revocation) and the report says what was not. Two quirks of go-embeddingsdb's earlier
//! signer are diagnosed (see [`earlier_signer`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use oembeddings::Batch;
use oembeddings::json::{AttributesJson, write_record};
use oembeddings::record::{RecordKey, RecordRef};
use sha2::{Digest, Sha256};

use crate::backend::openpgp;
use crate::backend::x509::{self, IdentityPolicy, pem::SignatureForm};
use crate::error::SignError;
use crate::format::digest::unhex;
use crate::format::sidecar;
use crate::keys::{PublicKey, SecretKey};
use crate::report::{ProblemKind, VerifyReport};
use oembeddings::pipeline::{self, parallel_map};
use oembeddings::record::Attributes;

/// The root of the Go tool's file names for `data`, as go-embeddingsdb's signer makes it:
/// `strings.Replace(fname, filepath.Ext(fname), "", 1)` on the base name, which removes the
/// first occurrence of the extension (the suffix from the final dot), whatever it is.
fn go_root(data: &Path) -> String {
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.rfind('.') {
        Some(dot) => name.replacen(&name[dot..], "", 1),
        None => name,
    }
}

/// `{root}-signatures.parquet`, the root as the Go tool makes it (see `go_root`).
pub fn sidecar_path(data: &Path) -> PathBuf {
    data.with_file_name(format!("{}-signatures.parquet", go_root(data)))
}

/// `{root}-signatures.pub`.
pub fn public_key_path(data: &Path) -> PathBuf {
    data.with_file_name(format!("{}-signatures.pub", go_root(data)))
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
    /// The public key: an armored OpenPGP certificate, or a PEM X.509 certificate.
    pub public_key: PathBuf,
    /// Records signed.
    pub records: u64,
}

/// How to sign in the compatible profile.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CompatibleSignOptions {
    /// Also write the public key into the sidecar's footer
    /// (`embeddingsdb:signatures:public_key`), as go-embeddingsdb's `-embed-public-key` does.
    pub embed_public_key: bool,
}

/// Signs every record of `data` as go-embeddingsdb does and writes the sidecar and the public
/// key next to it.
pub fn sign_records(data: &Path, key: &SecretKey) -> Result<SignedCompatible, SignError> {
    sign_records_with(data, key, &CompatibleSignOptions::default())
}

/// [`sign_records`] with options. OpenPGP keys write armored signatures (`pgp://`); X.509
/// certificates with their keys write PEM `SIGNATURE` blocks (`tls://`).
pub fn sign_records_with(
    data: &Path,
    key: &SecretKey,
    options: &CompatibleSignOptions,
) -> Result<SignedCompatible, SignError> {
    if !matches!(key.algorithm(), "openpgp" | crate::keys::X509) {
        return Err(SignError::WrongKeyKind {
            operation: "the compatible profile (go-embeddingsdb signs with OpenPGP keys or X.509 \
                        certificates; or sign with the native profile)",
            needed: "openpgp or x509",
            given: key.algorithm(),
        });
    }
    let public = key.public_armored()?;
    let sidecar_file = sidecar_path(data);
    crate::check_outputs(&[&public_key_path(data)])?;
    let mut writer =
        sidecar::compatible_writer(&sidecar_file, options.embed_public_key.then_some(&*public))?;
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
        let signatures = key.sign_compatible_messages(&refs)?;
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

/// How to verify compatible-profile record signatures (see [`verify_records`]).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CompatibleVerifyOptions {
    /// The sidecar (default `{root}-signatures.parquet`).
    pub sidecar: Option<PathBuf>,
    /// Let records without a signature pass (they are still listed).
    pub allow_missing: bool,
    /// X.509 keys: what to check of the signer's identity (default: nothing; the report says
    /// the certificate was pinned by the user).
    pub identity: IdentityPolicy,
    /// Let records signed with attributes carried over by go-embeddingsdb's earlier signer
    /// pass (they are still counted and listed).
    pub accept_carried_attributes: bool,
}

/// The error for a verification asked without a key: if the sidecar embeds one, it names it
/// (kind, subject or user id, fingerprint) so that the user can compare it with what the
/// publisher publishes; it is never used by itself.
pub fn refuse_without_key(data: &Path, sidecar: Option<&Path>) -> SignError {
    let sidecar_file = sidecar
        .map(Path::to_path_buf)
        .unwrap_or_else(|| sidecar_path(data));
    match sidecar::embedded_public_key(&sidecar_file) {
        Ok(Some(text)) => SignError::UntrustedEmbeddedKey {
            description: describe_embedded(&sidecar_file, &text),
            sidecar: sidecar_file,
        },
        _ => SignError::NoKey {
            data: data.to_path_buf(),
        },
    }
}

/// A key embedded in a sidecar, in words: kind, who it names, fingerprint.
fn describe_embedded(sidecar_file: &Path, text: &str) -> String {
    match PublicKey::from_bytes(text.as_bytes(), sidecar_file, None) {
        Ok(PublicKey::X509(k)) => {
            let info = k.chain.leaf().info();
            format!(
                "an X.509 certificate (subject \"{}\", DNS names [{}], issuer \"{}\", SHA-256 fingerprint {})",
                info.subject,
                info.dns_names.join(", "),
                info.issuer,
                info.sha256_fingerprint
            )
        }
        Ok(key @ PublicKey::OpenPgp(_)) => {
            let user = match &key {
                PublicKey::OpenPgp(cert) => openpgp::key_info(cert)
                    .user_ids
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
                _ => String::new(),
            };
            format!(
                "an OpenPGP certificate (\"{user}\", fingerprint {})",
                key.key_id()
            )
        }
        Ok(other) => format!("an {} key ({})", other.algorithm(), other.key_id()),
        Err(e) => format!("a key that does not parse ({e})"),
    }
}

/// A sidecar row, by record identity: what is needed to check its record, and no more (the
/// signature decoded; key texts are read again from the sidecar for rows left over).
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

/// The signature scheme of a `record_signature` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    OpenPgp,
    X509(SignatureForm),
}

/// The scheme of a stored signature: armored OpenPGP, or X.509 (PEM `SIGNATURE` or raw).
fn scheme_of(value: &[u8]) -> Scheme {
    match x509::pem::label(value) {
        Some(label) if label.starts_with("PGP ") => Scheme::OpenPgp,
        Some(_) => Scheme::X509(SignatureForm::Pem),
        None if x509::pem::is_pem(value) => Scheme::OpenPgp,
        None => Scheme::X509(SignatureForm::Raw),
    }
}

/// The signature bytes of a stored value, for `key`: dearmored OpenPGP, or X.509 bytes. A
/// value of the other scheme is an error naming it.
fn decode_signature(key: &PublicKey, value: &[u8]) -> Result<Box<[u8]>, String> {
    match (key, scheme_of(value)) {
        (PublicKey::X509(_), Scheme::OpenPgp) => Err(
            "an OpenPGP signature, but the key is an X.509 certificate (the sidecar mixes schemes, \
             or the key is not the signer's)"
                .to_owned(),
        ),
        (PublicKey::X509(_), Scheme::X509(_)) => x509::pem::decode_signature(value)
            .map(|(bytes, _)| bytes.into_owned().into_boxed_slice())
            .map_err(|e| e.to_string()),
        (_, Scheme::X509(SignatureForm::Pem)) => Err(format!(
            "a PEM {} block (an X.509 signer's), but the key is OpenPGP",
            x509::pem::label(value).unwrap_or("?")
        )),
        _ => openpgp::dearmor(value)
            .map(Vec::into_boxed_slice)
            .map_err(|e| e.to_string()),
    }
}

/// Verifies every record of `data` against a compatible-profile sidecar, with `key` (an
/// OpenPGP certificate or an X.509 certificate chain) as the only acceptable signer.
///
/// Records are streamed; memory grows by about 200 bytes per sidecar row (hash, decoded
/// signature, identity fingerprint). JSON encoding and signature checks run on every core.
pub fn verify_records(
    data: &Path,
    key: &PublicKey,
    options: &CompatibleVerifyOptions,
) -> Result<VerifyReport, SignError> {
    verify(
        data,
        key,
        options.sidecar.as_deref(),
        options.allow_missing,
        options.accept_carried_attributes,
        &options.identity,
    )
}

/// [`verify_records`] with its options apart.
pub(crate) fn verify(
    data: &Path,
    key: &PublicKey,
    sidecar: Option<&Path>,
    allow_missing: bool,
    accept_carried_attributes: bool,
    policy: &IdentityPolicy,
) -> Result<VerifyReport, SignError> {
    if !matches!(key.algorithm(), "openpgp" | crate::keys::X509) {
        return Err(SignError::WrongKeyKind {
            operation: "verifying compatible-profile signatures (give the publisher's OpenPGP \
                        public key or X.509 certificate, e.g. {root}-signatures.pub)",
            needed: "openpgp or x509",
            given: key.algorithm(),
        });
    }
    let asks_identity = policy.anchors.is_some()
        || policy.dns_name.is_some()
        || policy.crls.is_some()
        || policy.at.is_some();
    if asks_identity && !matches!(key, PublicKey::X509(_)) {
        return Err(SignError::Identity(
            "--ca, --webpki-roots, --identity, --crl and --at check X.509 certificates; the key \
             is an OpenPGP certificate"
                .to_owned(),
        ));
    }
    policy.validate().map_err(SignError::Identity)?;
    let mut report = VerifyReport::new(data, "records-compatible");
    let sidecar_file = sidecar
        .map(Path::to_path_buf)
        .unwrap_or_else(|| sidecar_path(data));
    compare_embedded(&sidecar_file, key, &mut report)?;
    let mut entries = Entries::default();
    let mut schemes: BTreeMap<&'static str, u64> = BTreeMap::new();
    for rows in sidecar::read_compatible(&sidecar_file)? {
        let rows = rows?;
        for row in &rows {
            let name = match scheme_of(&row.record_signature) {
                Scheme::OpenPgp => "OpenPGP",
                Scheme::X509(SignatureForm::Pem) => "X.509 (PEM)",
                Scheme::X509(SignatureForm::Raw) => "X.509 (raw)",
            };
            *schemes.entry(name).or_default() += 1;
        }
        // Dearmoring is most of the cost of loading an OpenPGP sidecar: on every core.
        let loaded = parallel_map(&rows, |row| Entry {
            hash: unhex::<32>(&row.record_hash),
            signature: decode_signature(key, &row.record_signature),
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
    if schemes.contains_key("OpenPGP") && schemes.len() > 1 {
        let counts: Vec<String> = schemes.iter().map(|(k, v)| format!("{v} {k}")).collect();
        report.notes.push(format!(
            "the sidecar mixes signature schemes: {}; rows of another scheme than the key's are \
             invalid",
            counts.join(", ")
        ));
    }
    // Records are claimed in order on this thread; each batch's claims are verified in
    // chunks on every core (the signed bytes, Go's JSON, then the signatures over them,
    // Ed25519 batched), and the results taken in order on another thread.
    let mut pass = Pass::default();
    let rows_read = pipeline::ordered_chunks(
        pipeline::cores(),
        VERIFY_CHUNK,
        |submit| {
            let options = oembeddings::ReadOptions::default()
                .with_batch_size(crate::read::PIPELINE_BATCH_ROWS);
            let mut rows = 0u64;
            crate::read::for_each_batch_with(data, &options, |batch| {
                rows = batch.first_row() + batch.num_rows() as u64;
                let claimed = claim(&mut entries, batch);
                let len = claimed.claims.len();
                if submit(claimed, len) {
                    Ok(())
                } else {
                    Err(SignError::Stopped)
                }
            })?;
            Ok::<u64, SignError>(rows)
        },
        |claimed: &Claimed, range| verify_chunk(key, &claimed.batch, &claimed.claims[range]),
        |claimed, results| {
            pass.take(key, claimed, results, &mut report);
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
    earlier_signer::diagnose(data, key, &mut pass, rows_read, &mut report)?;
    if let PublicKey::X509(k) = key {
        let (at, source) = match (policy.at, pass.newest_created) {
            (Some(at), _) => (at, "the time given (--at)".to_owned()),
            (None, Some(created)) => (
                u64::try_from(created).unwrap_or(0),
                format!(
                    "the newest `created` among the {} verified records: signed data, chosen by \
                     the signer",
                    report.valid
                ),
            ),
            (None, None) => (
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                "now: no record verified, so no signed time is known".to_owned(),
            ),
        };
        report.identity = Some(x509::identity::check(&k.chain, policy, at, source));
    }
    report.conclude(allow_missing, pass.anchored);
    report.conclude_compatible(accept_carried_attributes);
    Ok(report)
}

/// Notes what the sidecar's embedded key is, next to the key the user gave.
fn compare_embedded(
    sidecar_file: &Path,
    key: &PublicKey,
    report: &mut VerifyReport,
) -> Result<(), SignError> {
    let Some(text) = sidecar::embedded_public_key(sidecar_file)? else {
        return Ok(());
    };
    let same = match PublicKey::from_bytes(text.as_bytes(), sidecar_file, None) {
        Ok(embedded) => {
            embedded.algorithm() == key.algorithm() && embedded.key_id() == key.key_id()
        }
        Err(_) => false,
    };
    report.notes.push(if same {
        "the sidecar embeds the same key as --key (embeddingsdb:signatures:public_key)".to_owned()
    } else {
        format!(
            "the sidecar embeds another key than --key: {}; signatures were checked against --key \
             only",
            describe_embedded(sidecar_file, &text)
        )
    });
    Ok(())
}

/// What the verification pass gathers, in file order.
#[derive(Default)]
struct Pass {
    anchored: bool,
    newest_created: Option<i64>,
    /// Rows without a sidecar row.
    missing_rows: Vec<u64>,
    /// Records whose bytes changed since signing, at rows where go-embeddingsdb's earlier
    /// signer may have carried attributes over: checked again once the pass is done.
    changed: Vec<Changed>,
}

/// A record whose own bytes do not hash to its `record_hash`.
struct Changed {
    row: u64,
    key: String,
    hash: [u8; 32],
    signature: Box<[u8]>,
}

impl Pass {
    /// Takes a batch's results, in order.
    fn take(
        &mut self,
        key: &PublicKey,
        claimed: &Claimed,
        results: Vec<Vec<Outcome>>,
        report: &mut VerifyReport,
    ) {
        for &(kind, i, message) in &claimed.problems {
            let (row, record_key) = claimed.row_and_key(i);
            if kind == ProblemKind::Missing {
                self.missing_rows.push(row);
            }
            report.problem(kind, Some(row), Some(record_key), message);
        }
        for ((i, hash, signature), outcome) in
            claimed.claims.iter().zip(results.into_iter().flatten())
        {
            match outcome {
                Outcome::Valid(verified) => {
                    report.valid += 1;
                    let created = claimed.batch.record(*i).created;
                    self.newest_created =
                        Some(self.newest_created.map_or(created, |c| c.max(created)));
                    if !self.anchored {
                        report.signer = match &verified {
                            Some(v) => Some(key.openpgp_signer(v)),
                            None => key.x509_signer(),
                        };
                        self.anchored = true;
                    }
                }
                Outcome::Changed => {
                    let (row, record_key) = claimed.row_and_key(*i);
                    match (hash, signature) {
                        (Some(hash), Ok(signature)) if row >= earlier_signer::BATCH_ROWS as u64 => {
                            self.changed.push(Changed {
                                row,
                                key: record_key,
                                hash: *hash,
                                signature: signature.clone(),
                            });
                        }
                        _ => report.problem(
                            ProblemKind::Invalid,
                            Some(row),
                            Some(record_key),
                            CHANGED,
                        ),
                    }
                }
                Outcome::Invalid(reason) => {
                    let (row, record_key) = claimed.row_and_key(*i);
                    report.problem(ProblemKind::Invalid, Some(row), Some(record_key), reason);
                }
            }
        }
    }
}

/// The problem of a record whose bytes are not those signed.
const CHANGED: &str = "record changed since it was signed (record_hash differs)";

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

/// What checking a record against its claim found.
enum Outcome {
    /// The signature is good and over the record's bytes (OpenPGP: who signed, when).
    Valid(Option<openpgp::Verified>),
    /// The record's bytes do not hash to its `record_hash`.
    Changed,
    /// Anything else, in one line.
    Invalid(String),
}

/// Verifies the records of one chunk of claims.
fn verify_chunk(key: &PublicKey, batch: &Batch, chunk: &[Claim]) -> Vec<Outcome> {
    let bytes: Vec<Result<Vec<u8>, String>> = chunk
        .iter()
        .map(|(i, _, _)| signed_bytes(&batch.record(*i), AttributesJson::Object))
        .collect();
    let items: Vec<(&[u8], &[u8])> = bytes
        .iter()
        .zip(chunk)
        .filter_map(|(b, (_, _, s))| Some((b.as_ref().ok()?.as_slice(), &**s.as_ref().ok()?)))
        .collect();
    // One verdict per item: Ok with the OpenPGP signer (and the message's SHA-256 when the
    // signature computed it), or the reason.
    type Verdict = Result<(Option<openpgp::Verified>, Option<[u8; 32]>), String>;
    let verdicts: Vec<Verdict> = match key {
        PublicKey::X509(k) => k
            .verifier()
            .verify_chunk(&items)
            .into_iter()
            .map(|r| r.map(|sha| (None, sha)))
            .collect(),
        _ => key
            .verify_openpgp_many(&items)
            .into_iter()
            .map(|r| r.map(|(v, sha)| (Some(v), sha)))
            .collect(),
    };
    let mut verdicts = verdicts.into_iter();
    bytes
        .iter()
        .zip(chunk)
        .map(|(object, (i, hash, signature))| {
            let object = match object {
                Ok(o) => o,
                Err(e) => return Outcome::Invalid(e.clone()),
            };
            // Claims without usable bytes or signature were left out of `items`.
            let signature = match signature {
                Ok(s) => s,
                Err(e) => return Outcome::Invalid(format!("signature: {e}")),
            };
            match verdicts.next() {
                // The signature is over these bytes: the record is what was signed, and its
                // record_hash must be their hash.
                Some(Ok((v, sha))) => {
                    let sha = sha.unwrap_or_else(|| Sha256::digest(object).into());
                    if Some(sha) == *hash {
                        Outcome::Valid(v)
                    } else {
                        Outcome::Invalid(
                            "record_hash differs from the hash of the signed bytes".to_owned(),
                        )
                    }
                }
                // Not these bytes: the null-attributes form, a changed record, or a bad signature.
                Some(Err(reason)) => {
                    other_form(key, &batch.record(*i), *hash, signature, object, reason)
                }
                None => Outcome::Invalid("not verified".to_owned()),
            }
        })
        .collect()
}

/// Verifies one signature over `message` in the compatible profile.
fn verify_one(
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<Option<openpgp::Verified>, String> {
    match key {
        PublicKey::X509(k) => k.verifier().verify(message, signature).map(|()| None),
        _ => key.verify_openpgp(message, signature).map(Some),
    }
}

/// Why a record's object-form bytes did not verify: it may have been signed in the nil-map
/// form (no attributes), have changed (hash differs), or carry a bad signature.
fn other_form(
    key: &PublicKey,
    record: &RecordRef<'_>,
    hash: Option<[u8; 32]>,
    signature: &[u8],
    object: &[u8],
    reason: String,
) -> Outcome {
    let Some(hash) = hash else {
        return Outcome::Invalid("record_hash is not 64 hex digits".to_owned());
    };
    if record.attributes.is_empty() {
        let null = match signed_bytes(record, AttributesJson::NullWhenEmpty) {
            Ok(n) => n,
            Err(e) => return Outcome::Invalid(e),
        };
        if <[u8; 32]>::from(Sha256::digest(&null)) == hash {
            return match verify_one(key, &null, signature) {
                Ok(v) => Outcome::Valid(v),
                Err(e) => Outcome::Invalid(format!("signature: {e}")),
            };
        }
    }
    if <[u8; 32]>::from(Sha256::digest(object)) != hash {
        return Outcome::Changed;
    }
    Outcome::Invalid(format!("signature: {reason}"))
}

/// go-embeddingsdb's earlier signer (`parquet/iter.go`, before the signer read rows with
/// `sfomuseum/go-parquet`'s `Iterate`) read records with parquet-go (v0.29.0) in batches of
/// 100 into one reused slice of record pointers, and:
///
/// 1. returned on `io.EOF` without yielding the rows read with it. parquet-go's reader
///    reports `io.EOF` with the batch that reaches the last row (it looks for more values of
///    the last row and finds none), so the last `((n - 1) % 100) + 1` records of a file of
///    `n` were never signed, even when `n` is a multiple of 100;
/// 2. decoded each row into the struct left in its slot by the row 100 before, and
///    parquet-go's map decoding sets the row's keys into the existing map without clearing it
///    (a row without attributes gets a fresh empty map). A record was signed with every key
///    of the earlier records in its slot since the last one without attributes, each with its
///    latest value.
///
/// The earlier verifier read records the same way, so it reported neither.
pub mod earlier_signer {
    use super::*;

    /// Records per batch of the earlier iterator.
    pub const BATCH_ROWS: usize = 100;

    /// The rows that a file of `rows` records has in the earlier signer's unsigned last batch.
    pub fn unsigned_tail(rows: u64) -> std::ops::Range<u64> {
        if rows == 0 {
            return 0..0;
        }
        let tail = (rows - 1) % BATCH_ROWS as u64 + 1;
        rows - tail..rows
    }

    /// The attributes the earlier signer held for each slot of its batch: replays rows in
    /// order. Each key remembers the row it came from.
    #[derive(Debug)]
    pub struct Slots {
        slots: Vec<BTreeMap<String, (String, u64)>>,
    }

    impl Default for Slots {
        fn default() -> Self {
            Self {
                slots: vec![BTreeMap::new(); BATCH_ROWS],
            }
        }
    }

    impl Slots {
        /// Decodes row `row`'s attributes into its slot as parquet-go did; returns the slot's
        /// attributes after it (what was signed).
        pub fn push<'a>(
            &mut self,
            row: u64,
            attributes: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
        ) -> &BTreeMap<String, (String, u64)> {
            let slot = &mut self.slots[(row % BATCH_ROWS as u64) as usize];
            if attributes.len() == 0 {
                slot.clear();
            }
            for (k, v) in attributes {
                slot.insert(k.to_owned(), (v.to_owned(), row));
            }
            slot
        }
    }

    /// Adds what the earlier signer explains to the report: the unsigned last batch (a note;
    /// those records still count as missing), and records that verify with carried-over
    /// attributes (their own category). Records it does not explain are invalid, as before.
    pub(super) fn diagnose(
        data: &Path,
        key: &PublicKey,
        pass: &mut Pass,
        rows: u64,
        report: &mut VerifyReport,
    ) -> Result<(), SignError> {
        let tail = unsigned_tail(rows);
        if !tail.is_empty() {
            let missing_in_tail = pass
                .missing_rows
                .iter()
                .filter(|r| tail.contains(r))
                .count() as u64;
            if missing_in_tail == tail.end - tail.start {
                let others = pass.missing_rows.len() as u64 - missing_in_tail;
                report.notes.push(format!(
                    "rows {}-{} ({} records) have no signature: exactly the last batch of 100 that \
                     go-embeddingsdb's earlier signer never signed (its parquet/iter.go returned \
                     on io.EOF without the rows read with it); they still count as missing{}",
                    tail.start,
                    tail.end - 1,
                    tail.end - tail.start,
                    if others > 0 {
                        format!("; {others} other records are missing too")
                    } else {
                        String::new()
                    }
                ));
            }
        }
        let changed = std::mem::take(&mut pass.changed);
        if changed.is_empty() {
            return Ok(());
        }
        let last = changed.iter().map(|c| c.row).max().unwrap_or(0);
        let mut next = changed.into_iter().peekable();
        let mut slots = Slots::default();
        crate::read::for_each_batch(data, |batch| {
            for (i, record) in batch.records().enumerate() {
                let row = batch.first_row() + i as u64;
                if row > last {
                    break;
                }
                let slot = slots.push(row, record.attributes.iter());
                let Some(c) = next.next_if(|c| c.row == row) else {
                    continue;
                };
                // The record's own keys were just set from this row: the others were carried.
                let carried: Vec<(&String, u64)> = slot
                    .iter()
                    .filter(|(_, (_, from))| *from != row)
                    .map(|(k, (_, from))| (k, *from))
                    .collect();
                let explained = !carried.is_empty() && {
                    let map: BTreeMap<String, String> = slot
                        .iter()
                        .map(|(k, (v, _))| (k.clone(), v.clone()))
                        .collect();
                    let stale = RecordRef {
                        attributes: Attributes::Map(&map),
                        ..record
                    };
                    signed_bytes(&stale, AttributesJson::Object).is_ok_and(|bytes| {
                        <[u8; 32]>::from(Sha256::digest(&bytes)) == c.hash
                            && verify_one(key, &bytes, &c.signature).is_ok()
                    })
                };
                if explained {
                    let from = carried.iter().map(|(_, r)| *r).max().unwrap_or(row);
                    let keys: Vec<&str> = carried.iter().map(|(k, _)| k.as_str()).collect();
                    report.problem(
                        ProblemKind::CarriedAttributes,
                        Some(row),
                        Some(c.key),
                        format!(
                            "signed with attribute(s) {} carried over from row {from}: \
                             go-embeddingsdb's earlier signer reused its attribute maps across \
                             batches of 100",
                            keys.join(", ")
                        ),
                    );
                } else {
                    report.problem(ProblemKind::Invalid, Some(row), Some(c.key), CHANGED);
                }
            }
            Ok(())
        })?;
        // Rows past the end of the file (it shrank since the pass) are still changed records.
        for c in next {
            report.problem(ProblemKind::Invalid, Some(c.row), Some(c.key), CHANGED);
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sidecar_names_are_the_go_tools() {
            let sidecar = |name: &str| sidecar_path(Path::new(name)).display().to_string();
            assert_eq!(sidecar("d/a.parquet"), "d/a-signatures.parquet");
            assert_eq!(sidecar("d/a.pq"), "d/a-signatures.parquet");
            assert_eq!(sidecar("a"), "a-signatures.parquet");
            assert_eq!(sidecar("a.b.parquet"), "a.b-signatures.parquet");
            // The first occurrence of the extension goes, as strings.Replace(.., 1) does.
            assert_eq!(sidecar("a.pq.b.pq"), "a.b.pq-signatures.parquet");
            assert_eq!(
                public_key_path(Path::new("d/a.pq")).display().to_string(),
                "d/a-signatures.pub"
            );
        }

        #[test]
        fn the_unsigned_tail_is_the_batch_that_reaches_the_last_row() {
            assert_eq!(unsigned_tail(0), 0..0);
            assert_eq!(unsigned_tail(1), 0..1);
            assert_eq!(unsigned_tail(250), 200..250);
            assert_eq!(unsigned_tail(200), 100..200);
            assert_eq!(unsigned_tail(101), 100..101);
        }

        #[test]
        fn slots_keep_keys_until_a_row_without_attributes() {
            let mut slots = Slots::default();
            slots.push(0, [("a", "1"), ("b", "2")].into_iter());
            let s = slots.push(100, [("a", "3")].into_iter());
            assert_eq!(s.get("a"), Some(&("3".to_owned(), 100)));
            assert_eq!(s.get("b"), Some(&("2".to_owned(), 0)));
            assert!(slots.push(200, std::iter::empty()).is_empty());
            let s = slots.push(300, [("c", "4")].into_iter());
            assert_eq!(s.len(), 1);
            // Other slots are apart.
            assert_eq!(slots.push(1, [("z", "9")].into_iter()).len(), 1);
        }
    }
}

/// What a compatible-profile sidecar holds, for `inspect`: its rows, their signature schemes,
/// and the keys named next to it (never trusted here: only described).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SidecarInspection {
    /// Always `compatible`.
    pub profile: &'static str,
    /// Sidecar rows.
    pub rows: u64,
    /// Rows by signature scheme: `OpenPGP`, `X.509 (PEM)`, `X.509 (raw)`.
    pub schemes: BTreeMap<&'static str, u64>,
    /// The key embedded in the footer (`embeddingsdb:signatures:public_key`), described.
    pub embedded_key: Option<String>,
    /// The public key file next to the sidecar (`{root}-signatures.pub`), if present.
    pub public_key_file: Option<PathBuf>,
    /// That file's key, described.
    pub public_key: Option<String>,
}

/// Describes a compatible-profile sidecar (see [`SidecarInspection`]).
pub fn inspect_sidecar(path: &Path) -> Result<SidecarInspection, SignError> {
    let mut schemes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut rows = 0u64;
    for batch in sidecar::read_compatible(path)? {
        for row in batch? {
            rows += 1;
            let name = match scheme_of(&row.record_signature) {
                Scheme::OpenPgp => "OpenPGP",
                Scheme::X509(SignatureForm::Pem) => "X.509 (PEM)",
                Scheme::X509(SignatureForm::Raw) => "X.509 (raw)",
            };
            *schemes.entry(name).or_default() += 1;
        }
    }
    let embedded_key = sidecar::embedded_public_key(path)?.map(|t| describe_embedded(path, &t));
    let public_key_file = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix("-signatures.parquet"))
        .map(|root| path.with_file_name(format!("{root}-signatures.pub")))
        .filter(|p| oembeddings::input::exists(p));
    let public_key = public_key_file.as_deref().and_then(|p| {
        oembeddings::input::read_capped(p, oembeddings::input::limits::KEY_FILE)
            .ok()
            .map(|t| describe_embedded(p, &String::from_utf8_lossy(&t)))
    });
    Ok(SidecarInspection {
        profile: "compatible",
        rows,
        schemes,
        embedded_key,
        public_key_file,
        public_key,
    })
}

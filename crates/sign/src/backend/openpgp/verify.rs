//! Strict OpenPGP verification: nothing but a good signature by a signing-capable key of the
//! one given certificate, valid when the signature was made.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::time::SystemTime;

use sequoia_openpgp as sq;
use sq::armor;
use sq::cert::amalgamation::{ValidAmalgamation, ValidateAmalgamation};
use sq::packet::key::{PublicParts, UnspecifiedRole};
use sq::packet::{Key, Signature};
use sq::parse::Parse;
use sq::parse::stream::{
    DetachedVerifierBuilder, GoodChecksum, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use sq::policy::{HashAlgoSecurity, Policy};
use sq::types::{HashAlgorithm, RevocationStatus, SignatureType};
use sq::{Cert, KeyHandle, Packet, PacketPile};

use super::policy::{not_alive_error, policy_error, revocation_reason, valid_cert_at};
use super::{Error, POLICY, Result, STREAM_BUFFER, VERIFIER_CACHE_MAX, one_line};

/// A signature that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Fingerprint of the certificate (primary key) that signed.
    pub signer_fingerprint: String,
    /// Fingerprint of the (sub)key that made the signature.
    pub signing_key_fingerprint: String,
    /// Signature creation time.
    pub created: SystemTime,
}

/// Turns armored or binary signature input into binary packets.
/// The binary form of an armored or binary signature (armor checked and removed).
pub fn dearmor(signature: &[u8]) -> Result<Vec<u8>> {
    dearmor_signature(signature)
}

fn dearmor_signature(signature: &[u8]) -> Result<Vec<u8>> {
    let trimmed = signature.trim_ascii_start();
    let first = *trimmed.first().ok_or(Error::NoSignature)?;
    if trimmed.starts_with(b"-----") {
        let header = trimmed.split(|b| *b == b'\n').next().unwrap_or_default();
        let header = String::from_utf8_lossy(header);
        let header = header.trim();
        if header != "-----BEGIN PGP SIGNATURE-----" {
            return Err(Error::BadArmor(format!(
                "expected a PGP SIGNATURE block, found {:?}",
                header.chars().take(64).collect::<String>()
            )));
        }
        if let Some(bytes) = super::canonical_armor::canonical_signature(trimmed) {
            return Ok(bytes);
        }
        let mut reader = armor::Reader::from_bytes(
            trimmed,
            armor::ReaderMode::Tolerant(Some(armor::Kind::Signature)),
        );
        let mut out = Vec::new();
        reader
            .read_to_end(&mut out)
            .map_err(|e| Error::BadArmor(one_line(e)))?;
        if out.is_empty() {
            return Err(Error::BadArmor("no PGP SIGNATURE block found".to_string()));
        }
        Ok(out)
    } else if first & 0x80 == 0 {
        Err(Error::NotASignature(
            "neither ASCII armor nor binary OpenPGP data".to_string(),
        ))
    } else {
        Ok(signature.to_vec())
    }
}

/// Parses binary packets that must all be signatures.
fn parse_signatures(binary: &[u8]) -> Result<Vec<Signature>> {
    let pile = PacketPile::from_bytes(binary).map_err(|e| Error::NotASignature(one_line(e)))?;
    let mut sigs = Vec::new();
    for packet in pile.into_children() {
        match packet {
            Packet::Signature(sig) => sigs.push(sig),
            Packet::Unknown(u) if u.tag() == sq::packet::Tag::Signature => {
                return Err(Error::MalformedSignature(one_line(u.error())));
            }
            other => {
                return Err(Error::NotASignature(format!(
                    "found a {} instead",
                    other.tag()
                )));
            }
        }
    }
    if sigs.is_empty() {
        return Err(Error::NoSignature);
    }
    Ok(sigs)
}

/// The signing key a signature names, checked for validity at the
/// signature's creation time.
#[derive(Clone)]
struct CheckedKey {
    key: Key<PublicParts, UnspecifiedRole>,
    fingerprint: String,
}

/// Every check except the cryptographic one and the per-signature checks:
/// the issuer must be a key of `cert`, that key and the certificate must be
/// bound, alive and unrevoked at the signature creation time, and the key
/// must be signing-capable.  `Err(UnknownSigner)` means "not our key".
fn check_key(cert: &Cert, sig: &Signature) -> Result<CheckedKey> {
    let sig_time = sig
        .signature_creation_time()
        .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
    let issuers = sig.get_issuers();
    let first = issuers
        .first()
        .ok_or_else(|| Error::MalformedSignature("no issuer".to_string()))?
        .to_hex();
    let mut result = Err(Error::UnknownSigner(first));
    for ka in cert.keys().key_handles(issuers.iter()) {
        let fpr = ka.key().fingerprint().to_hex();
        result = (|| {
            valid_cert_at(cert, sig_time)?;
            let vka = ka
                .clone()
                .with_policy(&POLICY, sig_time)
                .map_err(|e| policy_error(&fpr, ka.key().creation_time(), sig_time, e))?;
            if let RevocationStatus::Revoked(sigs) = vka.revocation_status() {
                return Err(Error::KeyRevoked {
                    key: fpr.clone(),
                    reason: revocation_reason(&sigs),
                });
            }
            if vka.alive().is_err() {
                return Err(not_alive_error(
                    fpr.clone(),
                    sig_time,
                    vka.key().creation_time(),
                    vka.key_expiration_time(),
                ));
            }
            if !vka.for_signing() {
                return Err(Error::NotSigningCapable { key: fpr.clone() });
            }
            Ok(CheckedKey {
                key: vka.key().clone(),
                fingerprint: fpr.clone(),
            })
        })();
        if result.is_ok() {
            break;
        }
    }
    result
}

/// Per-signature checks that do not depend on the key: binary type, policy
/// (hash algorithm etc.), and that the signature is alive now.
fn check_signature_itself(sig: &Signature) -> Result<()> {
    if sig.typ() != SignatureType::Binary {
        return Err(Error::NotBinarySignature(sig.typ().to_string()));
    }
    POLICY
        .signature(sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| Error::PolicyRejected(one_line(e)))?;
    sig.signature_alive(None, None)
        .map_err(|e| Error::SignatureNotAlive(one_line(e)))?;
    Ok(())
}

/// Full explanation of why `sig` is not acceptable, or `Ok` if every check
/// except the digest passes.
fn diagnose(cert: &Cert, sig: &Signature) -> Result<CheckedKey> {
    check_signature_itself(sig)?;
    check_key(cert, sig)
}

/// Combines per-signature outcomes: at least one good signature, no
/// failure other than "not our key".
fn combine(outcomes: Vec<Result<Verified>>) -> Result<Verified> {
    let mut good = None;
    let mut unknown = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(v) => {
                if good.is_none() {
                    good = Some(v);
                }
            }
            Err(Error::UnknownSigner(k)) => unknown.push(k),
            Err(e) => return Err(e),
        }
    }
    match good {
        Some(v) => Ok(v),
        None if unknown.is_empty() => Err(Error::NoSignature),
        None => Err(Error::UnknownSigner(unknown.join(", "))),
    }
}

/// Verification helper for sequoia's `DetachedVerifier`.
struct Helper<'c> {
    cert: &'c Cert,
    outcome: Option<Result<Verified>>,
}

impl Helper<'_> {
    fn judge_good(&self, good: &GoodChecksum<'_>) -> Result<Verified> {
        let ka = &good.ka;
        let key = ka.key().fingerprint().to_hex();
        if ka.cert().fingerprint() != self.cert.fingerprint() {
            return Err(Error::UnknownSigner(key));
        }
        if !ka.for_signing() {
            return Err(Error::NotSigningCapable { key });
        }
        // Defence in depth: our own checks must agree with sequoia's.
        let checked = diagnose(self.cert, good.sig)?;
        let created = good
            .sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        Ok(Verified {
            signer_fingerprint: self.cert.fingerprint().to_hex(),
            signing_key_fingerprint: checked.fingerprint,
            created,
        })
    }

    fn judge_error(&self, err: &VerificationError<'_>) -> Error {
        let sig = match err {
            VerificationError::MalformedSignature { error, .. } => {
                return Error::MalformedSignature(one_line(error));
            }
            VerificationError::UnknownSignature { sig } => {
                return Error::MalformedSignature(one_line(sig.error()));
            }
            VerificationError::MissingKey { sig } => sig,
            VerificationError::UnboundKey { sig, .. } => sig,
            VerificationError::BadKey { sig, .. } => sig,
            VerificationError::BadSignature { sig, .. } => sig,
            other => return Error::Verification(one_line(other)),
        };
        match (diagnose(self.cert, sig), err) {
            (Err(e), _) => e,
            (Ok(k), VerificationError::BadSignature { .. }) => {
                Error::BadSignature { key: k.fingerprint }
            }
            // Sequoia rejected something our checks accept: fail closed.
            (Ok(k), other) => Error::KeyNotValid {
                key: k.fingerprint,
                reason: one_line(other),
            },
        }
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> sq::Result<Vec<Cert>> {
        Ok(vec![self.cert.clone()])
    }

    fn check(&mut self, structure: MessageStructure<'_>) -> sq::Result<()> {
        let mut outcomes = Vec::new();
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        outcomes.push(match r {
                            Ok(good) => self.judge_good(&good),
                            Err(e) => Err(self.judge_error(&e)),
                        });
                    }
                }
                _ => {
                    outcomes.push(Err(Error::NotASignature(
                        "unexpected compression or encryption layer".to_string(),
                    )));
                }
            }
        }
        let outcome = combine(outcomes);
        let failed = outcome.is_err();
        self.outcome = Some(outcome);
        if failed {
            Err(sq::Error::BadSignature("rejected".to_string()).into())
        } else {
            Ok(())
        }
    }
}

/// Verifies a detached signature (armored or binary) over `data` (streamed)
/// against exactly one certificate.  Fails closed: see [`Error`] for the
/// reasons.  The signature must be a binary-mode signature made by a
/// signing-capable key of `cert` that was bound, alive and not revoked at
/// the signature's creation time (hard revocations count at any time).
pub fn verify_detached<R: Read + Send + Sync>(
    cert: &Cert,
    data: R,
    signature: &[u8],
) -> Result<Verified> {
    let binary = dearmor_signature(signature)?;
    // Classify garbage up front so the error says what is wrong.
    parse_signatures(&binary)?;
    let helper = Helper {
        cert,
        outcome: None,
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(&binary)
        .map_err(|e| Error::NotASignature(one_line(e)))?
        .with_policy(&POLICY, None, helper)
        .map_err(|e| Error::Verification(one_line(e)))?;
    let result = verifier.verify_reader(data);
    let outcome = verifier.helper_mut().outcome.take();
    match (result, outcome) {
        (Ok(()), Some(Ok(v))) => Ok(v),
        (_, Some(Err(e))) => Err(e),
        (Err(e), _) => match e.downcast::<io::Error>() {
            Ok(io) => Err(Error::Io(io)),
            Err(e) => Err(Error::Verification(one_line(e))),
        },
        (Ok(()), None) => Err(Error::Verification(
            "verifier did not check any signature".to_string(),
        )),
    }
}

/// Reads a whole signature file (a regular file of at most
/// [`oembeddings::input::limits::SIGNATURE_FILE`]) and verifies `data` (a regular file)
/// against it; see [`verify_detached`].
pub fn verify_detached_file(
    cert: &Cert,
    data: &std::path::Path,
    signature: &std::path::Path,
) -> Result<Verified> {
    let sig =
        oembeddings::input::read_capped(signature, oembeddings::input::limits::SIGNATURE_FILE)?;
    let file = oembeddings::input::open_stream(data)?;
    verify_detached(
        cert,
        io::BufReader::with_capacity(STREAM_BUFFER, file),
        &sig,
    )
}

/// A verified signature of a message, and the message's SHA-256 when computed on the way
/// (see [`Verifier::verify_many`]).
pub type VerifiedMessage = (Verified, Option<[u8; 32]>);

/// A signature made ready for the signature equation (see [`Verifier::verify_many`]).
struct Prepared {
    sig: Signature,
    checked: CheckedKey,
    created: SystemTime,
    digest: Vec<u8>,
    message_sha256: Option<[u8; 32]>,
    ed25519: Option<(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature)>,
}

/// The Ed25519 public key and signature when `key` is an Ed25519 key (legacy EdDSA or v6
/// Ed25519) and `sig` an Ed25519 signature; `None` for anything else, including a weak key
/// or a signature whose `R` is of small order (left to sequoia, which rejects them).
fn ed25519_values(
    key: &Key<PublicParts, UnspecifiedRole>,
    sig: &Signature,
) -> Option<(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature)> {
    use sq::crypto::mpi;
    use sq::types::Curve;
    let public: [u8; 32] = match key.mpis() {
        mpi::PublicKey::EdDSA {
            curve: Curve::Ed25519,
            q,
        } => q.decode_point(&Curve::Ed25519).ok()?.0.try_into().ok()?,
        mpi::PublicKey::Ed25519 { a } => *a,
        _ => return None,
    };
    let bytes: [u8; 64] = match sig.mpis() {
        mpi::Signature::EdDSA { r, s } => {
            let mut b = [0u8; 64];
            b[..32].copy_from_slice(&r.value_padded(32).ok()?);
            b[32..].copy_from_slice(&s.value_padded(32).ok()?);
            b
        }
        mpi::Signature::Ed25519 { s } => **s,
        _ => return None,
    };
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .ok()
        .filter(|k| !k.is_weak())?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    if crate::backend::ed25519::small_order_r(&signature) {
        return None;
    }
    Some((key, signature))
}

/// Fast verifier of many small messages against one certificate.
///
/// Applies the same rules as [`verify_detached`], but hashes in memory and
/// caches the key-validity result per (issuer, signature creation second),
/// which is sound because the certificate and policy never change during the
/// verifier's life.  Use one per thread.
#[derive(Clone)]
pub struct Verifier {
    cert: Cert,
    cache: HashMap<(Vec<u8>, SystemTime), CheckedKey>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("cert", &self.cert.fingerprint().to_hex())
            .field("cached_keys", &self.cache.len())
            .finish()
    }
}

impl Verifier {
    /// A verifier for signatures by `cert`.
    pub fn new(cert: &Cert) -> Self {
        Verifier {
            cert: cert.clone(),
            cache: HashMap::new(),
        }
    }

    /// Verifies `signature` (armored or binary) over `data`.
    pub fn verify(&mut self, data: &[u8], signature: &[u8]) -> Result<Verified> {
        let binary = dearmor_signature(signature)?;
        let sigs = parse_signatures(&binary)?;
        let mut outcomes = Vec::with_capacity(sigs.len());
        for sig in &sigs {
            outcomes.push(self.verify_one(data, sig));
        }
        combine(outcomes)
    }

    /// Verifies many signatures of short messages (records), each one binary-mode signature,
    /// armored or not, with the same checks as [`Verifier::verify`] but the Ed25519 arithmetic
    /// batched. Each result also carries the SHA-256 of the message when the signature hashes
    /// with unsalted SHA-256 (computed in the same pass as the signature's digest), so that a
    /// caller comparing record hashes need not hash the message again.
    pub fn verify_many(
        &mut self,
        items: &[(&[u8], &[u8])],
    ) -> Vec<Result<(Verified, Option<[u8; 32]>)>> {
        let mut results: Vec<Option<Result<VerifiedMessage>>> =
            items.iter().map(|_| None).collect();
        let mut batch: Vec<(usize, Prepared)> = Vec::with_capacity(items.len());
        for (i, (message, signature)) in items.iter().enumerate() {
            match self.prepare(message, signature) {
                Ok(Some(p)) => batch.push((i, p)),
                // Several signatures in one: the general path decides.
                Ok(None) => results[i] = Some(self.verify(message, signature).map(|v| (v, None))),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        // Ed25519 signatures first as batches of 64, then one by one where a batch fails and
        // for other algorithms (sequoia's own verification, with its exact errors).
        let eddsa: Vec<usize> = (0..batch.len())
            .filter(|&j| batch[j].1.ed25519.is_some())
            .collect();
        let mut verified = vec![false; batch.len()];
        for chunk in eddsa.chunks(64) {
            let mut messages: Vec<&[u8]> = Vec::with_capacity(chunk.len());
            let mut signatures = Vec::with_capacity(chunk.len());
            let mut keys = Vec::with_capacity(chunk.len());
            for &j in chunk {
                if let Some((key, sig)) = &batch[j].1.ed25519 {
                    messages.push(&batch[j].1.digest);
                    signatures.push(*sig);
                    keys.push(*key);
                }
            }
            if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
                for &j in chunk {
                    verified[j] = true;
                }
            }
        }
        for (j, (i, p)) in batch.into_iter().enumerate() {
            let ok = verified[j] || p.sig.verify_digest(&p.checked.key, &p.digest).is_ok();
            results[i] = Some(if ok {
                Ok((
                    Verified {
                        signer_fingerprint: self.cert.fingerprint().to_hex(),
                        signing_key_fingerprint: p.checked.fingerprint,
                        created: p.created,
                    },
                    p.message_sha256,
                ))
            } else {
                Err(Error::BadSignature {
                    key: p.checked.fingerprint,
                })
            });
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Verification("not verified".to_string()))))
            .collect()
    }

    /// Everything but the signature equation: parsing, the checks of [`Verifier::verify`],
    /// the digest, and the Ed25519 values when the key and signature are Ed25519. `None` when
    /// the input holds more than one signature.
    fn prepare(&mut self, message: &[u8], signature: &[u8]) -> Result<Option<Prepared>> {
        let binary = dearmor_signature(signature)?;
        let mut sigs = parse_signatures(&binary)?;
        if sigs.len() != 1 {
            return Ok(None);
        }
        let Some(sig) = sigs.pop() else {
            return Err(Error::NoSignature);
        };
        check_signature_itself(&sig)?;
        let created = sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        let cache_key = sig
            .get_issuers()
            .first()
            .map(|h| (h.as_bytes().to_vec(), created));
        let checked = match cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            Some(c) => c.clone(),
            None => {
                let c = check_key(&self.cert, &sig)?;
                if let Some(k) = cache_key {
                    if self.cache.len() >= VERIFIER_CACHE_MAX {
                        self.cache.clear();
                    }
                    self.cache.insert(k, c.clone());
                }
                c
            }
        };
        fn failed<E: fmt::Display>(e: E) -> Error {
            Error::Verification(one_line(e))
        }
        let mut hash = sig
            .hash_algo()
            .context()
            .map_err(failed)?
            .for_signature(sig.version());
        if let Some(salt) = sig.salt() {
            hash.update(salt);
        }
        hash.update(message);
        let message_sha256 = if sig.hash_algo() == HashAlgorithm::SHA256 && sig.salt().is_none() {
            hash.clone()
                .into_digest()
                .ok()
                .and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
        } else {
            None
        };
        sq::crypto::hash::Hash::hash(&sig, &mut hash).map_err(failed)?;
        let digest = hash.into_digest().map_err(failed)?;
        let ed25519 = ed25519_values(&checked.key, &sig);
        Ok(Some(Prepared {
            sig,
            checked,
            created,
            digest,
            message_sha256,
            ed25519,
        }))
    }

    fn verify_one(&mut self, data: &[u8], sig: &Signature) -> Result<Verified> {
        check_signature_itself(sig)?;
        let created = sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        let cache_key = sig
            .get_issuers()
            .first()
            .map(|h| (h.as_bytes().to_vec(), created));
        let checked = match cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            Some(c) => c.clone(),
            None => {
                let c = check_key(&self.cert, sig)?;
                if let Some(k) = cache_key {
                    if self.cache.len() >= VERIFIER_CACHE_MAX {
                        self.cache.clear();
                    }
                    self.cache.insert(k, c.clone());
                }
                c
            }
        };
        sig.verify_message(&checked.key, data)
            .map_err(|_| Error::BadSignature {
                key: checked.fingerprint.clone(),
            })?;
        Ok(Verified {
            signer_fingerprint: self.cert.fingerprint().to_hex(),
            signing_key_fingerprint: checked.fingerprint,
            created,
        })
    }
}

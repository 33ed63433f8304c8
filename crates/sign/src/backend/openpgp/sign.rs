//! Making OpenPGP signatures: the key valid now, unlocked once, signing files and records.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::SystemTime;

use sequoia_openpgp as sq;
use sq::armor;
use sq::cert::amalgamation::ValidAmalgamation;
use sq::cert::prelude::ValidErasedKeyAmalgamation;
use sq::crypto::{KeyPair, Password};
use sq::packet::Key;
use sq::packet::key::{PublicParts, SecretParts, UnspecifiedRole};
use sq::packet::signature::SignatureBuilder;
use sq::serialize::SerializeInto;
use sq::serialize::stream::{Armorer, Message};
use sq::types::{RevocationStatus, SignatureType};
use sq::{Cert, Packet};

use super::policy::{not_alive_error, revocation_reason, valid_cert_at};
use super::{Error, HASH_ALGORITHM, Result, STREAM_BUFFER, one_line};

/// Picks the newest signing-capable, alive, unrevoked key with secret
/// material, valid at `at`.
fn signing_key_at(cert: &Cert, at: SystemTime) -> Result<Key<SecretParts, UnspecifiedRole>> {
    let cert_fpr = cert.fingerprint().to_hex();
    if !cert.is_tsk() {
        return Err(Error::NoSecretKey { cert: cert_fpr });
    }
    let vc = valid_cert_at(cert, at)?;
    let mut best: Option<ValidErasedKeyAmalgamation<'_, PublicParts>> = None;
    let mut last_err: Option<Error> = None;
    for ka in vc.keys().for_signing() {
        let fpr = ka.key().fingerprint().to_hex();
        if let RevocationStatus::Revoked(sigs) = ka.revocation_status() {
            last_err = Some(Error::KeyRevoked {
                key: fpr,
                reason: revocation_reason(&sigs),
            });
        } else if ka.alive().is_err() {
            last_err = Some(not_alive_error(
                fpr,
                at,
                ka.key().creation_time(),
                ka.key_expiration_time(),
            ));
        } else if !ka.key().has_secret() {
            last_err = Some(Error::NoSecretKey {
                cert: cert_fpr.clone(),
            });
        } else if best
            .as_ref()
            .is_none_or(|b| ka.key().creation_time() > b.key().creation_time())
        {
            best = Some(ka);
        }
    }
    match best {
        Some(ka) => ka
            .key()
            .clone()
            .parts_into_secret()
            .map_err(|_| Error::NoSecretKey { cert: cert_fpr }),
        None => Err(last_err.unwrap_or(Error::NoSigningKey { cert: cert_fpr })),
    }
}

/// Decrypts (if needed) a secret key and turns it into a key pair.
fn unlock(key: Key<SecretParts, UnspecifiedRole>, password: Option<&str>) -> Result<KeyPair> {
    let fpr = key.fingerprint().to_hex();
    let key = if key.secret().is_encrypted() {
        let password = password.ok_or_else(|| Error::PasswordRequired { key: fpr.clone() })?;
        key.decrypt_secret(&Password::from(password))
            .map_err(|_| Error::WrongPassword { key: fpr.clone() })?
    } else {
        key
    };
    key.into_keypair().map_err(|e| Error::Signing(one_line(e)))
}

/// A reusable signer: the signing key is selected and decrypted once, then
/// any number of signatures can be made.
#[derive(Clone)]
pub struct Signer {
    keypair: KeyPair,
    cert_fingerprint: String,
    key_fingerprint: String,
    /// Fixed signature creation time, if any (otherwise: now).
    time: Option<SystemTime>,
    /// Pre-filled template (type, hash, issuer subpackets).
    template: SignatureBuilder,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("cert", &self.cert_fingerprint)
            .field("key", &self.key_fingerprint)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Selects the signing key of `secret` that is valid now and unlocks it
    /// with `password` (needed only if the key is encrypted).
    pub fn new(secret: &Cert, password: Option<&str>) -> Result<Self> {
        Self::build(secret, password, SystemTime::now(), None)
    }

    /// Like [`Signer::new`], but selects the key valid at `time` and dates
    /// every signature at `time` (for backdating and tests).  Verification
    /// checks the key against that time.
    pub fn new_at(secret: &Cert, password: Option<&str>, time: SystemTime) -> Result<Self> {
        Self::build(secret, password, time, Some(time))
    }

    fn build(
        secret: &Cert,
        password: Option<&str>,
        at: SystemTime,
        time: Option<SystemTime>,
    ) -> Result<Self> {
        let key = signing_key_at(secret, at)?;
        let key_fingerprint = key.fingerprint().to_hex();
        let keypair = unlock(key, password)?;
        let signing = |e| Error::Signing(one_line(e));
        let mut template = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(HASH_ALGORITHM)
            .set_issuer_fingerprint(keypair.public().fingerprint())
            .map_err(signing)?
            .set_issuer(keypair.public().keyid())
            .map_err(signing)?;
        if let Some(t) = time {
            template = template.set_signature_creation_time(t).map_err(signing)?;
        }
        Ok(Signer {
            keypair,
            cert_fingerprint: secret.fingerprint().to_hex(),
            key_fingerprint,
            time,
            template,
        })
    }

    /// Fingerprint of the certificate (primary key).
    pub fn cert_fingerprint(&self) -> &str {
        &self.cert_fingerprint
    }

    /// Fingerprint of the (sub)key that signs.
    pub fn signing_key_fingerprint(&self) -> &str {
        &self.key_fingerprint
    }

    /// Makes a binary detached signature over a small in-memory message.
    /// The result is a single binary signature packet (no armor).
    pub fn sign_bytes(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let sig = self
            .template
            .clone()
            .sign_message(&mut self.keypair, data)
            .map_err(|e| Error::Signing(one_line(e)))?;
        Packet::from(sig)
            .to_vec()
            .map_err(|e| Error::Signing(one_line(e)))
    }

    /// Streams `data` (any size; read in 1 MiB chunks) into a binary-mode
    /// detached signature, armored (`PGP SIGNATURE`) if `armored`.
    pub fn sign_reader<R: Read>(&self, mut data: R, armored: bool) -> Result<Vec<u8>> {
        let signing = |e| Error::Signing(one_line(e));
        let mut out = Vec::new();
        {
            let mut message = Message::new(&mut out);
            if armored {
                message = Armorer::new(message)
                    .kind(armor::Kind::Signature)
                    .build()
                    .map_err(signing)?;
            }
            let mut builder = sq::serialize::stream::Signer::new(message, self.keypair.clone())
                .map_err(signing)?
                .detached()
                .hash_algo(HASH_ALGORITHM)
                .map_err(signing)?;
            if let Some(t) = self.time {
                builder = builder.creation_time(t);
            }
            let mut sink = builder.build().map_err(signing)?;
            let mut buf = vec![0u8; STREAM_BUFFER];
            loop {
                let n = match data.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::Io(e)),
                };
                let chunk = buf
                    .get(..n)
                    .ok_or_else(|| io::Error::other("reader returned more bytes than asked"))?;
                sink.write_all(chunk)?;
            }
            sink.finalize().map_err(signing)?;
        }
        Ok(out)
    }
}

/// ASCII-armors a binary signature (`-----BEGIN PGP SIGNATURE-----`).
pub fn armor_signature(binary: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(binary.len() * 4 / 3 + 128);
    {
        let mut writer = sq::armor::Writer::new(&mut out, armor::Kind::Signature)
            .map_err(|e| Error::Signing(one_line(e)))?;
        writer.write_all(binary)?;
        writer.finalize().map_err(|e| Error::Signing(one_line(e)))?;
    }
    String::from_utf8(out).map_err(|e| Error::Signing(one_line(e)))
}

/// Signs `data` (streamed) with the signing key of `secret`, unlocked with
/// `password`.  Returns a binary-mode detached signature, ASCII-armored if
/// `armored`.  Hash: [`HASH_ALGORITHM`].
pub fn sign_detached<R: Read>(
    secret: &Cert,
    password: Option<&str>,
    data: R,
    armored: bool,
) -> Result<Vec<u8>> {
    Signer::new(secret, password)?.sign_reader(data, armored)
}

/// Signs one small message with an already unlocked [`Signer`]; returns a
/// binary signature packet.  Meant for per-record signatures.
pub fn sign_detached_bytes(signer: &mut Signer, data: &[u8]) -> Result<Vec<u8>> {
    signer.sign_bytes(data)
}

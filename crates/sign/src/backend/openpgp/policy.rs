//! The checks every key and signature passes: validity at a time, liveness, revocation,
//! and the standard policy.

use std::fmt;
use std::time::SystemTime;

use sequoia_openpgp as sq;
use sq::Cert;
use sq::packet::Signature;
use sq::types::RevocationStatus;

use super::{Error, POLICY, Result, one_line};

/// Reason text of the first revocation signature.
pub(super) fn revocation_reason(sigs: &[&Signature]) -> String {
    sigs.first()
        .and_then(|s| s.reason_for_revocation())
        .map(|(code, msg)| {
            let msg = String::from_utf8_lossy(msg);
            if msg.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {msg}")
            }
        })
        .unwrap_or_else(|| "no reason given".to_string())
}

/// Explains why a key amalgamation is not alive at `at`.
pub(super) fn not_alive_error(
    key: String,
    at: SystemTime,
    created: SystemTime,
    expires: Option<SystemTime>,
) -> Error {
    match expires {
        Some(expired) if expired <= at => Error::KeyExpired {
            key,
            signed: at,
            expired,
        },
        _ if created > at => Error::KeyNotYetValid {
            key,
            signed: at,
            created,
        },
        _ => Error::KeyNotValid {
            key,
            reason: "not alive".to_string(),
        },
    }
}

/// Why the policy rejects a key (or certificate) created at `created` for a signature made at
/// `at`: not yet valid when it was created after the signature, else the policy's reason.
pub(super) fn policy_error(
    key: &str,
    created: SystemTime,
    at: SystemTime,
    e: impl fmt::Display,
) -> Error {
    if created > at {
        Error::KeyNotYetValid {
            key: key.to_owned(),
            signed: at,
            created,
        }
    } else {
        Error::KeyNotValid {
            key: key.to_owned(),
            reason: one_line(e),
        }
    }
}

/// Checks that the certificate itself is valid, alive and not revoked at
/// `at`.
pub(super) fn valid_cert_at(cert: &Cert, at: SystemTime) -> Result<sq::cert::ValidCert<'_>> {
    let fpr = cert.fingerprint().to_hex();
    let vc = cert
        .with_policy(&POLICY, at)
        .map_err(|e| policy_error(&fpr, cert.primary_key().key().creation_time(), at, e))?;
    if let RevocationStatus::Revoked(sigs) = vc.revocation_status() {
        return Err(Error::KeyRevoked {
            key: fpr,
            reason: revocation_reason(&sigs),
        });
    }
    if vc.alive().is_err() {
        return Err(not_alive_error(
            fpr,
            at,
            vc.primary_key().key().creation_time(),
            vc.primary_key().key_expiration_time(),
        ));
    }
    Ok(vc)
}

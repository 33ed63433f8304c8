//! Keys, selection and fail-closed verification (no external tools).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/openpgp.rs"]
mod common;

use std::time::{Duration, SystemTime};

use common::forge;
use oembeddings_sign::openpgp::{
    self as pgp, Error, Signer, Verifier, generate, generate_with, key_info, load_certs, select,
    sign_detached, sign_detached_bytes, verify_detached,
};
use sequoia_openpgp::types::SignatureType;

const DAY: Duration = Duration::from_secs(86_400);
const DATA: &[u8] = b"embedding shard 0001: 768 float32 per row\n";

/// Verifies with both the streaming and the fast path and checks they
/// agree on success or on the error variant.
fn verify_both(cert: &pgp::OpenPgpCert, data: &[u8], sig: &[u8]) -> Result<pgp::Verified, Error> {
    let slow = verify_detached(cert, data, sig);
    let fast = Verifier::new(cert).verify(data, sig);
    match (&slow, &fast) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "paths disagree: {a} / {b}"
        ),
        _ => panic!("paths disagree: {slow:?} / {fast:?}"),
    }
    slow
}

fn expect_err(r: Result<pgp::Verified, Error>) -> Error {
    match r {
        Ok(v) => panic!("verification unexpectedly succeeded: {v:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "multi-line message: {msg:?}");
            eprintln!("rejected as expected: {msg}");
            e
        }
    }
}

/// The primary key's key pair, to make signatures outside our API.
fn primary_keypair(secret: &pgp::SecretCert) -> sequoia_openpgp::crypto::KeyPair {
    secret
        .cert()
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap()
}

#[test]
fn generate_info_roundtrip_and_sign() {
    let (secret, public) = generate("Museum <keys@museum.example>", Some("pw")).unwrap();
    let info = key_info(secret.cert());
    assert_eq!(
        info.user_ids,
        vec!["Museum <keys@museum.example>".to_string()]
    );
    assert_eq!(info.fingerprint.len(), 40);
    assert!(info.fingerprint.ends_with(&info.key_id));
    assert!(info.has_secret && info.secret_encrypted);
    assert_eq!(info.expires, None);
    assert!(!info.revoked);
    assert_eq!(info.signing_keys.len(), 1);
    assert_ne!(
        info.signing_keys[0], info.fingerprint,
        "signing is a subkey"
    );
    let pinfo = key_info(public.cert());
    assert!(!pinfo.has_secret && !pinfo.secret_encrypted);

    // Armored TSK round trip; still encrypted.
    let tsk = secret.to_armored().unwrap();
    assert!(tsk.starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"));
    let pubarm = public.to_armored().unwrap();
    assert!(pubarm.starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    let loaded = select(load_certs(&tsk).unwrap(), None).unwrap();
    let public_loaded = select(load_certs(&pubarm).unwrap(), None).unwrap();

    let sig = sign_detached(&loaded, Some("pw"), DATA, true).unwrap();
    assert!(sig.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
    let v = verify_both(&public_loaded, DATA, &sig).unwrap();
    assert_eq!(v.signer_fingerprint, info.fingerprint);
    assert_eq!(v.signing_key_fingerprint, info.signing_keys[0]);
    let binary = sign_detached(&loaded, Some("pw"), DATA, false).unwrap();
    assert!(binary[0] & 0x80 != 0);
    verify_both(&public_loaded, DATA, &binary).unwrap();

    // Per-record signer, unlocked once.
    let mut signer = Signer::new(&loaded, Some("pw")).unwrap();
    let mut verifier = Verifier::new(&public_loaded);
    for i in 0..20u32 {
        let msg = format!("record {i}");
        let s = sign_detached_bytes(&mut signer, msg.as_bytes()).unwrap();
        verifier.verify(msg.as_bytes(), &s).unwrap();
        verify_detached(&public_loaded, msg.as_bytes(), &s).unwrap();
        assert!(verifier.verify(b"other", &s).is_err());
    }
}

#[test]
fn selection_by_fingerprint_keyid_and_subkey() {
    let (a, _) = generate("a <a@example.org>", None).unwrap();
    let (b, _) = generate("b <b@example.org>", None).unwrap();
    let mut ring = a.public().to_armored().unwrap();
    ring.extend(b.public().to_armored().unwrap());
    let certs = load_certs(&ring).unwrap();
    assert_eq!(certs.len(), 2);
    let e = select(certs.clone(), None).unwrap_err();
    assert!(
        matches!(e, Error::KeyringNeedsFingerprint { count: 2 }),
        "{e}"
    );
    assert!(e.to_string().contains("fingerprint"));

    let fpr = b.cert().fingerprint().to_hex();
    let spaced_lower: String = fpr
        .to_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    for wanted in [
        fpr.clone(),
        spaced_lower,
        b.cert().keyid().to_hex(),
        format!("0x{}", b.cert().keyid().to_hex().to_lowercase()),
        key_info(b.cert()).signing_keys[0].clone(),
    ] {
        let c = select(certs.clone(), Some(&wanted)).unwrap();
        assert_eq!(c.fingerprint(), b.cert().fingerprint(), "{wanted}");
    }
    let (c, _) = generate("c", None).unwrap();
    let e = select(certs.clone(), Some(&c.cert().fingerprint().to_hex())).unwrap_err();
    assert!(matches!(e, Error::FingerprintNotFound(_)), "{e}");
    let e = select(certs.clone(), Some("DEADBEEF")).unwrap_err();
    assert!(matches!(e, Error::BadFingerprint(_)), "{e}");
    // Duplicate copies of one certificate merge into one.
    let mut dup = a.public().to_armored().unwrap();
    dup.extend(a.to_armored().unwrap());
    let merged = load_certs(&dup).unwrap();
    assert_eq!(merged.len(), 1);
    assert!(merged[0].is_tsk());
    assert!(matches!(load_certs(b"").unwrap_err(), Error::NoCertificate));
    assert!(load_certs(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nzzzz\n").is_err());
}

#[test]
fn attack_changed_data_other_file_other_key() {
    let (s, p) = generate("s", None).unwrap();
    let (other, _) = generate("o", None).unwrap();
    let sig = sign_detached(s.cert(), None, DATA, true).unwrap();

    let mut changed = DATA.to_vec();
    changed[5] ^= 0x01;
    let e = expect_err(verify_both(p.cert(), &changed, &sig));
    assert!(matches!(e, Error::BadSignature { .. }), "{e}");
    assert!(e.to_string().contains("changed"));

    let e = expect_err(verify_both(p.cert(), b"a different file", &sig));
    assert!(matches!(e, Error::BadSignature { .. }), "{e}");

    let other_sig = sign_detached(other.cert(), None, DATA, true).unwrap();
    let e = expect_err(verify_both(p.cert(), DATA, &other_sig));
    assert!(matches!(e, Error::UnknownSigner(_)), "{e}");
    let other_key = key_info(other.cert()).signing_keys[0].clone();
    assert_eq!(e.to_string(), format!("signed by unknown key {other_key}"));

    // Two signatures: ours + unknown -> accepted; ours + broken ours -> rejected.
    let ours = sign_detached(s.cert(), None, DATA, false).unwrap();
    let theirs = sign_detached(other.cert(), None, DATA, false).unwrap();
    let both = [ours.clone(), theirs].concat();
    verify_both(p.cert(), DATA, &both).unwrap();
    let bad_ours = sign_detached(s.cert(), None, &changed[..], false).unwrap();
    let e = expect_err(verify_both(p.cert(), DATA, &[ours, bad_ours].concat()));
    assert!(matches!(e, Error::BadSignature { .. }), "{e}");
}

#[test]
fn attack_broken_armor_and_garbage() {
    let (s, p) = generate("s", None).unwrap();
    let sig = sign_detached(s.cert(), None, DATA, true).unwrap();
    let text = String::from_utf8(sig.clone()).unwrap();

    // Truncated armor: cut in the middle of the base64 body.
    let truncated = &sig[..sig.len() / 2];
    let e = expect_err(verify_both(p.cert(), DATA, truncated));
    assert!(matches!(e, Error::BadArmor(_)), "{e}");

    // Garbage inside a valid armor frame.
    let garbage = "-----BEGIN PGP SIGNATURE-----\n\nThis is not base64 at all!!!\n-----END PGP SIGNATURE-----\n";
    let e = expect_err(verify_both(p.cert(), DATA, garbage.as_bytes()));
    assert!(matches!(e, Error::BadArmor(_)), "{e}");

    // Valid base64 of random bytes in an armor frame.
    let junk = "-----BEGIN PGP SIGNATURE-----\n\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n-----END PGP SIGNATURE-----\n";
    let e = expect_err(verify_both(p.cert(), DATA, junk.as_bytes()));
    assert!(
        matches!(e, Error::BadArmor(_) | Error::NotASignature(_)),
        "{e}"
    );

    // Flipped base64 character inside the body (CRC or packet breaks).
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let body = lines.iter().position(|l| l.is_empty()).unwrap() + 1;
    let mut chars: Vec<char> = lines[body].chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    lines[body] = chars.into_iter().collect();
    let flipped = lines.join("\n");
    let e = expect_err(verify_both(p.cert(), DATA, flipped.as_bytes()));
    assert!(
        matches!(
            e,
            Error::BadArmor(_)
                | Error::BadSignature { .. }
                | Error::MalformedSignature(_)
                | Error::NotASignature(_)
                | Error::UnknownSigner(_)
        ),
        "{e}"
    );

    // Not a signature: plain text, a public key block, nothing.
    let e = expect_err(verify_both(p.cert(), DATA, b"hello world"));
    assert!(matches!(e, Error::NotASignature(_)), "{e}");
    let e = expect_err(verify_both(p.cert(), DATA, &p.to_armored().unwrap()));
    assert!(matches!(e, Error::BadArmor(_)), "{e}");
    let binary_cert = {
        use sequoia_openpgp::serialize::SerializeInto;
        p.cert().to_vec().unwrap()
    };
    let e = expect_err(verify_both(p.cert(), DATA, &binary_cert));
    assert!(matches!(e, Error::NotASignature(_)), "{e}");
    let e = expect_err(verify_both(p.cert(), DATA, b"  \n"));
    assert!(matches!(e, Error::NoSignature), "{e}");
}

#[test]
fn attack_text_mode_signature_rejected() {
    let (s, p) = generate("s", None).unwrap();
    let sig = forge(s.cert(), None, DATA, SystemTime::now(), SignatureType::Text);
    let e = expect_err(verify_both(p.cert(), DATA, &sig));
    assert!(matches!(e, Error::NotBinarySignature(_)), "{e}");
}

#[test]
fn attack_expired_key() {
    // OpenPGP times have one-second resolution.
    let now_secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs) - 10 * DAY;
    let (s, p) = generate_with("exp", Some("pw"), Some(created), Some(DAY)).unwrap();
    let info = key_info(p.cert());
    assert_eq!(info.expires, Some(created + DAY));

    // Signing now is refused.
    let e = Signer::new(s.cert(), Some("pw")).unwrap_err();
    assert!(matches!(e, Error::KeyExpired { .. }), "{e}");
    let e = sign_detached(s.cert(), Some("pw"), DATA, true).unwrap_err();
    assert!(matches!(e, Error::KeyExpired { .. }), "{e}");

    // A signature made while the key was alive still verifies after expiry.
    let alive_at = created + DAY / 2;
    let mut signer = Signer::new_at(s.cert(), Some("pw"), alive_at).unwrap();
    let sig = signer.sign_reader(DATA, true).unwrap();
    let v = verify_both(p.cert(), DATA, &sig).unwrap();
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs(v.created), secs(alive_at));
    let rec = signer.sign_bytes(DATA).unwrap();
    verify_both(p.cert(), DATA, &rec).unwrap();

    // Signer refuses a time after expiry.
    let late = created + 2 * DAY;
    let e = Signer::new_at(s.cert(), Some("pw"), late).unwrap_err();
    assert!(matches!(e, Error::KeyExpired { .. }), "{e}");

    // A forged signature dated after expiry is rejected, naming expiry.
    let forged = forge(s.cert(), Some("pw"), DATA, late, SignatureType::Binary);
    let e = expect_err(verify_both(p.cert(), DATA, &forged));
    assert!(matches!(e, Error::KeyExpired { .. }), "{e}");
    assert!(e.to_string().contains("expired at signing time"), "{e}");

    // A forged signature dated before the key existed: not yet valid.
    let early = created - DAY;
    let forged = forge(s.cert(), Some("pw"), DATA, early, SignatureType::Binary);
    let e = expect_err(verify_both(p.cert(), DATA, &forged));
    assert!(matches!(e, Error::KeyNotYetValid { .. }), "{e}");
}

#[test]
fn attack_revoked_key() {
    let (s, p) = generate("rev", None).unwrap();
    let sig = sign_detached(s.cert(), None, DATA, true).unwrap();
    verify_both(p.cert(), DATA, &sig).unwrap();

    let rev = s.revocation_certificate().unwrap();
    let rev_cert = select(load_certs(&rev).unwrap(), None).unwrap();
    let revoked = p.cert().clone().merge_public(rev_cert).unwrap();
    assert!(key_info(&revoked).revoked);
    let e = expect_err(verify_both(&revoked, DATA, &sig));
    assert!(matches!(e, Error::KeyRevoked { .. }), "{e}");
    assert!(e.to_string().contains("revoked"));

    // Loading the public cert and the revocation as one keyring merges them.
    let mut ring = p.to_armored().unwrap();
    ring.extend(rev);
    let merged = select(load_certs(&ring).unwrap(), None).unwrap();
    let e = expect_err(verify_both(&merged, DATA, &sig));
    assert!(matches!(e, Error::KeyRevoked { .. }), "{e}");

    // And the secret side refuses to sign.
    let secret_revoked = s.cert().clone().merge_public(merged).unwrap();
    let e = Signer::new(&secret_revoked, None).unwrap_err();
    assert!(matches!(e, Error::KeyRevoked { .. }), "{e}");
}

#[test]
fn signing_key_errors() {
    let (s, p) = generate("pw", Some("correct horse")).unwrap();
    let e = sign_detached(s.cert(), Some("wrong"), DATA, true).unwrap_err();
    assert!(matches!(e, Error::WrongPassword { .. }), "{e}");
    let e = Signer::new(s.cert(), None).unwrap_err();
    assert!(matches!(e, Error::PasswordRequired { .. }), "{e}");
    let e = sign_detached(p.cert(), None, DATA, true).unwrap_err();
    assert!(matches!(e, Error::NoSecretKey { .. }), "{e}");
    assert!(e.to_string().contains("no secret"));
    let e = pgp::armored_secret(p.cert()).unwrap_err();
    assert!(matches!(e, Error::NoSecretKey { .. }), "{e}");
    // The right password works; unprotected keys ignore a password.
    sign_detached(s.cert(), Some("correct horse"), DATA, false).unwrap();
    let (u, _) = generate("u", None).unwrap();
    sign_detached(u.cert(), Some("ignored"), DATA, false).unwrap();
}

#[test]
fn time_formatting() {
    assert_eq!(
        pgp::fmt_time(SystemTime::UNIX_EPOCH),
        "1970-01-01T00:00:00Z"
    );
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_661);
    assert_eq!(pgp::fmt_time(t), "2000-02-29T01:01:01Z");
}

#[test]
fn soft_revocation_of_signing_subkey() {
    use sequoia_openpgp::cert::SubkeyRevocationBuilder;
    use sequoia_openpgp::types::ReasonForRevocation;

    let now = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
    let (s, p) = generate_with("soft", None, Some(now - 10 * DAY), None).unwrap();
    // Signed 5 days ago, while the subkey was in service.
    let old_sig = Signer::new_at(s.cert(), None, now - 5 * DAY)
        .unwrap()
        .sign_reader(DATA, false)
        .unwrap();

    // Retire the signing subkey one day ago (a soft revocation).
    let mut primary = primary_keypair(&s);
    let subkey = s.cert().keys().subkeys().next().unwrap().key().clone();
    let rev = SubkeyRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::KeyRetired, b"rotated")
        .unwrap()
        .set_signature_creation_time(now - DAY)
        .unwrap()
        .build(&mut primary, s.cert(), &subkey, None)
        .unwrap();
    let (retired, _) = p.cert().clone().insert_packets(Some(rev.clone())).unwrap();
    let (retired_secret, _) = s.cert().clone().insert_packets(Some(rev)).unwrap();

    // The old signature still verifies...
    verify_both(&retired, DATA, &old_sig).unwrap();
    // ...but the retired key cannot sign now, and a signature dated after
    // the retirement is rejected as revoked.
    let e = Signer::new(&retired_secret, None).unwrap_err();
    assert!(matches!(e, Error::KeyRevoked { .. }), "{e}");
    let forged = forge(s.cert(), None, DATA, now - DAY / 2, SignatureType::Binary);
    let e = expect_err(verify_both(&retired, DATA, &forged));
    assert!(matches!(e, Error::KeyRevoked { .. }), "{e}");
    assert!(e.to_string().contains("rotated"), "{e}");
}

#[test]
fn signer_and_verifier_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Signer>();
    is_send::<Verifier>();
}

#[test]
fn attack_signature_by_certify_only_primary() {
    use sequoia_openpgp::packet::signature::SignatureBuilder;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::types::HashAlgorithm;
    let (s, p) = generate("primary", None).unwrap();
    let mut primary = primary_keypair(&s);
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_hash_algo(HashAlgorithm::SHA256)
        .sign_message(&mut primary, DATA)
        .unwrap();
    let sig = sequoia_openpgp::Packet::from(sig).to_vec().unwrap();
    let e = expect_err(verify_both(p.cert(), DATA, &sig));
    assert!(matches!(e, Error::NotSigningCapable { .. }), "{e}");
}

//! Tampering and malformed-input cases: each must fail with the right error
//! (and, where it applies, the real minisign must reject it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/minisign.rs"]
mod common;

use std::fs;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{content, minisign, s, second_line};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use oembeddings_sign::minisign::{
    MinisignError, PublicKey, SecretKey, VerifyOptions, sign_prehashed, verify, verify_with_options,
};

struct Fixture {
    dir: tempfile::TempDir,
    sk: SecretKey,
    pk: PublicKey,
    data: Vec<u8>,
    sig: String,
}

const TC: &str = "timestamp:1700000000\tfile:embeddings.npy\thashed";

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sk = SecretKey::generate();
    let pk = sk.public_key();
    let data = content(100_000, 42);
    let sig = sign_prehashed(&sk, &data[..], TC, "signature from oembeddings").unwrap();
    fs::write(dir.path().join("key.pub"), pk.to_file_text()).unwrap();
    Fixture {
        dir,
        sk,
        pk,
        data,
        sig,
    }
}

impl Fixture {
    /// Exit status of `minisign -V` for `data` and `sig` with `pub_text`.
    fn minisign_accepts(&self, pub_text: &str, data: &[u8], sig: &str) -> bool {
        let d = self.dir.path();
        let (pf, df, sf) = (d.join("v.pub"), d.join("v.bin"), d.join("v.minisig"));
        fs::write(&pf, pub_text).unwrap();
        fs::write(&df, data).unwrap();
        fs::write(&sf, sig).unwrap();
        minisign(&["-V", "-p", s(&pf), "-m", s(&df), "-x", s(&sf)], "")
            .status
            .success()
    }

    fn verify(&self, data: &[u8], sig: &str) -> Result<String, MinisignError> {
        verify(&self.pk, data, sig).map(|v| v.trusted_comment)
    }
}

fn replace_line(text: &str, idx: usize, new: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[idx] = new;
    lines.join("\n") + "\n"
}

fn sig_blob(sig: &str) -> Vec<u8> {
    B64.decode(second_line(sig)).unwrap()
}

#[test]
fn untampered_signature_verifies_in_both() {
    let f = fixture();
    assert_eq!(f.verify(&f.data, &f.sig).unwrap(), TC);
    assert!(f.minisign_accepts(&f.pk.to_file_text(), &f.data, &f.sig));
}

#[test]
fn one_changed_byte_of_content_fails() {
    let f = fixture();
    for pos in [0, 4321, f.data.len() - 1] {
        let mut data = f.data.clone();
        data[pos] ^= 0x01;
        assert!(matches!(
            f.verify(&data, &f.sig),
            Err(MinisignError::SignatureInvalid)
        ));
        assert!(!f.minisign_accepts(&f.pk.to_file_text(), &data, &f.sig));
    }
    // Truncated and extended content.
    assert!(matches!(
        f.verify(&f.data[..f.data.len() - 1], &f.sig),
        Err(MinisignError::SignatureInvalid)
    ));
    let mut longer = f.data.clone();
    longer.push(0);
    assert!(matches!(
        f.verify(&longer, &f.sig),
        Err(MinisignError::SignatureInvalid)
    ));
}

#[test]
fn edited_trusted_comment_fails() {
    let f = fixture();
    for edited in [
        "trusted comment: timestamp:1700000001\tfile:embeddings.npy\thashed",
        "trusted comment: timestamp:1700000000\tfile:other.npy\thashed",
        "trusted comment: ",
    ] {
        let sig = replace_line(&f.sig, 2, edited);
        assert!(matches!(
            f.verify(&f.data, &sig),
            Err(MinisignError::TrustedCommentSignatureInvalid)
        ));
        assert!(!f.minisign_accepts(&f.pk.to_file_text(), &f.data, &sig));
    }
    // A control character in the trusted comment is refused outright.
    let sig = replace_line(&f.sig, 2, "trusted comment: a\u{1b}[2Jb");
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::InvalidComment {
            which: "trusted",
            ..
        })
    ));
}

#[test]
fn swapped_untrusted_comment_is_allowed() {
    let f = fixture();
    for uc in [
        "untrusted comment: totally different",
        "untrusted comment: ",
    ] {
        let sig = replace_line(&f.sig, 0, uc);
        assert_eq!(f.verify(&f.data, &sig).unwrap(), TC);
        assert!(f.minisign_accepts(&f.pk.to_file_text(), &f.data, &sig));
    }
    // The prefix itself is required (minisign requires it too).
    let sig = replace_line(&f.sig, 0, "comment: x");
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::BadPrefix { line_no: 1, .. })
    ));
    assert!(!f.minisign_accepts(&f.pk.to_file_text(), &f.data, &sig));
}

#[test]
fn signature_from_another_key_with_the_same_key_id_fails() {
    let f = fixture();
    let attacker = SecretKey::from_parts(f.sk.key_id(), SigningKey::from_bytes(&[7u8; 32]));
    let sig = sign_prehashed(&attacker, &f.data[..], TC, "").unwrap();
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::SignatureInvalid)
    ));
    assert!(!f.minisign_accepts(&f.pk.to_file_text(), &f.data, &sig));

    // Mixing the victim's file signature with a forged global signature.
    let forged = sign_prehashed(&attacker, &f.data[..], "evil", "").unwrap();
    let mixed = replace_line(
        &replace_line(&f.sig, 2, "trusted comment: evil"),
        3,
        forged.lines().nth(3).unwrap(),
    );
    assert!(matches!(
        f.verify(&f.data, &mixed),
        Err(MinisignError::TrustedCommentSignatureInvalid)
    ));
    assert!(!f.minisign_accepts(&f.pk.to_file_text(), &f.data, &mixed));
}

#[test]
fn key_id_mismatch_is_reported_with_both_ids() {
    let f = fixture();
    let other = SecretKey::generate();
    let sig = sign_prehashed(&other, &f.data[..], TC, "").unwrap();
    let err = f.verify(&f.data, &sig).unwrap_err();
    assert!(matches!(err, MinisignError::KeyIdMismatch { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "signed by key {}, expected key {}",
            other.key_id_hex(),
            f.pk.key_id_hex()
        )),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    assert!(!f.minisign_accepts(&f.pk.to_file_text(), &f.data, &sig));

    // A genuine signature whose key id field was rewritten also fails.
    let mut blob = sig_blob(&f.sig);
    blob[2] ^= 0xff;
    let sig = replace_line(&f.sig, 1, &B64.encode(&blob));
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::KeyIdMismatch { .. })
    ));
}

#[test]
fn algorithm_relabel_fails() {
    let f = fixture();
    let mut blob = sig_blob(&f.sig);
    assert_eq!(&blob[..2], b"ED");
    blob[1] = b'd'; // "ED" -> "Ed": claim the digest signature is a legacy one
    let sig = replace_line(&f.sig, 1, &B64.encode(&blob));
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::SignatureInvalid)
    ));
    blob[..2].copy_from_slice(b"XX");
    let sig = replace_line(&f.sig, 1, &B64.encode(&blob));
    assert!(matches!(
        f.verify(&f.data, &sig),
        Err(MinisignError::UnsupportedSignatureAlgorithm(_))
    ));
}

#[test]
fn malformed_signature_files_fail() {
    let f = fixture();
    let l: Vec<&str> = f.sig.lines().collect();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "missing"),
        (format!("{}\n", l[0]), "missing"),
        (format!("{}\n{}\n", l[0], l[1]), "missing"),
        (format!("{}\n{}\n{}\n", l[0], l[1], l[2]), "missing"),
        (replace_line(&f.sig, 1, "not base64!!"), "base64"),
        (replace_line(&f.sig, 1, &l[1][..l[1].len() - 4]), "length"),
        (replace_line(&f.sig, 1, &B64.encode([0u8; 75])), "length"),
        (replace_line(&f.sig, 3, &l[3][..l[3].len() - 1]), "base64"),
        (replace_line(&f.sig, 3, &B64.encode([0u8; 63])), "length"),
        (replace_line(&f.sig, 2, "trusted: x"), "prefix"),
        (format!("{}extra line\n", f.sig), "trailing"),
        (
            format!("{}\n{}\n{}\n{}\n", l[0], l[2], l[1], l[3]),
            "prefix",
        ),
    ];
    for (text, want) in cases {
        let err = f.verify(&f.data, &text).unwrap_err();
        let ok = match want {
            "missing" => matches!(err, MinisignError::MissingLine { .. }),
            "base64" => matches!(err, MinisignError::Base64 { .. }),
            "length" => matches!(err, MinisignError::WrongLength { .. }),
            "prefix" => matches!(err, MinisignError::BadPrefix { .. }),
            "trailing" => matches!(err, MinisignError::TrailingData { .. }),
            _ => unreachable!(),
        };
        assert!(ok, "expected {want} error for {text:?}, got {err:?}");
        assert!(!err.to_string().contains('\n'));
    }
    // CRLF line endings are tolerated (minisign strips CR too).
    assert_eq!(f.verify(&f.data, &f.sig.replace('\n', "\r\n")).unwrap(), TC);
}

/// Every truncation of the signature file fails (no panics), except cutting
/// only the final newline.
#[test]
fn every_truncation_fails_closed() {
    let f = fixture();
    for cut in 0..f.sig.len() - 1 {
        assert!(
            f.verify(&f.data, &f.sig[..cut]).is_err(),
            "truncated at {cut} verified"
        );
    }
    assert!(f.verify(&f.data, &f.sig[..f.sig.len() - 1]).is_ok());
}

/// Changing any single character of the signature file makes verification
/// fail, except inside the untrusted comment text.
#[test]
fn every_single_character_change_fails_closed() {
    let f = fixture();
    let uc_start = "untrusted comment: ".len();
    let uc_end = f.sig.find('\n').unwrap();
    for pos in 0..f.sig.len() {
        let mut bytes = f.sig.clone().into_bytes();
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        let text = String::from_utf8(bytes).unwrap();
        let res = f.verify(&f.data, &text);
        if (uc_start..uc_end).contains(&pos) {
            assert!(
                res.is_ok(),
                "untrusted comment change at {pos} rejected: {res:?}"
            );
        } else {
            assert!(res.is_err(), "change at {pos} accepted: {text:?}");
        }
    }
}

#[test]
fn wrong_password_and_corrupted_keys_fail() {
    let sk = SecretKey::generate();
    let text = sk.to_file_text(Some("right"), "").unwrap();
    let err = SecretKey::from_file_text(&text, Some("wrong")).unwrap_err();
    assert!(matches!(err, MinisignError::WrongPassword), "{err:?}");
    assert!(err.to_string().contains("wrong password"));
    assert!(matches!(
        SecretKey::from_file_text(&text, Some("")),
        Err(MinisignError::WrongPassword)
    ));

    // Unencrypted key: a flipped bit is caught by the checksum ...
    let plain = sk.to_file_text(None, "").unwrap();
    let mut blob = B64.decode(second_line(&plain)).unwrap();
    blob[70] ^= 1;
    let bad = replace_line(&plain, 1, &B64.encode(&blob));
    assert!(matches!(
        SecretKey::from_file_text(&bad, None),
        Err(MinisignError::ChecksumMismatch)
    ));
    // ... and with a zeroed (minisign -W style) checksum, by the seed/public
    // key consistency check.
    blob[126..].fill(0);
    let bad = replace_line(&plain, 1, &B64.encode(&blob));
    assert!(matches!(
        SecretKey::from_file_text(&bad, None),
        Err(MinisignError::InconsistentSecretKey)
    ));

    // Structural errors.
    let mut blob = B64.decode(second_line(&plain)).unwrap();
    blob[2..4].copy_from_slice(b"Ar");
    assert!(matches!(
        SecretKey::from_file_text(&replace_line(&plain, 1, &B64.encode(&blob)), None),
        Err(MinisignError::UnsupportedKdf(_))
    ));
    blob[2..4].fill(0);
    blob[4..6].copy_from_slice(b"B3");
    assert!(matches!(
        SecretKey::from_file_text(&replace_line(&plain, 1, &B64.encode(&blob)), None),
        Err(MinisignError::UnsupportedChecksum(_))
    ));
    assert!(matches!(
        SecretKey::from_file_text(&replace_line(&plain, 1, &B64.encode(&blob[..157])), None),
        Err(MinisignError::WrongLength {
            expected: 158,
            actual: 157,
            ..
        })
    ));
    assert!(matches!(
        SecretKey::from_file_text(plain.lines().next().unwrap(), None),
        Err(MinisignError::MissingLine { .. })
    ));
    assert!(SecretKey::from_file_text("", None).is_err());

    // Passwords and comments minisign could not read back are refused.
    assert!(matches!(
        sk.to_file_text(Some("a\nb"), ""),
        Err(MinisignError::InvalidPassword(_))
    ));
    assert!(matches!(
        sk.to_file_text(None, "two\nlines"),
        Err(MinisignError::InvalidComment { .. })
    ));
}

#[test]
fn absurd_kdf_parameters_fail_without_allocating() {
    let sk = SecretKey::generate();
    let plain = sk.to_file_text(None, "").unwrap();
    let mut blob = B64.decode(second_line(&plain)).unwrap();
    blob[2..4].copy_from_slice(b"Sc");
    blob[38..46].copy_from_slice(&u64::MAX.to_le_bytes());
    blob[46..54].copy_from_slice(&u64::MAX.to_le_bytes());
    let text = replace_line(&plain, 1, &B64.encode(&blob));
    assert!(matches!(
        SecretKey::from_file_text(&text, Some("x")),
        Err(MinisignError::KdfParameters { .. })
    ));
}

/// The identity point `01 00..00` (small order) must be rejected. It is a
/// real danger: with it, `R = B, s = 1` is a "valid" signature of every
/// message under non-strict Ed25519 verification.
#[test]
fn weak_public_key_is_rejected() {
    let f = fixture();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut forged = [0u8; 64];
    // Compressed base point B (y = 4/5), then s = 1.
    forged[0] = 0x58;
    forged[1..32].fill(0x66);
    forged[32] = 1;
    let weak_vk = VerifyingKey::from_bytes(&identity).unwrap();
    let forged_sig = ed25519_dalek::Signature::from_bytes(&forged);
    assert!(
        weak_vk.verify(b"anything at all", &forged_sig).is_ok(),
        "lax verify is fooled"
    );

    let mut pub_blob = b"Ed".to_vec();
    pub_blob.extend_from_slice(&f.pk.key_id());
    pub_blob.extend_from_slice(&identity);
    let weak_b64 = B64.encode(&pub_blob);
    let weak_pub_text = format!("untrusted comment: weak\n{weak_b64}\n");
    assert!(matches!(
        PublicKey::from_file_text(&weak_pub_text),
        Err(MinisignError::WeakPublicKey)
    ));
    assert!(matches!(
        PublicKey::from_base64(&weak_b64),
        Err(MinisignError::WeakPublicKey)
    ));
    assert!(matches!(
        PublicKey::new(f.pk.key_id(), weak_vk),
        Err(MinisignError::WeakPublicKey)
    ));

    // The forged .minisig (both signatures = R=B, s=1) is refused by
    // minisign (libsodium rejects small-order keys) as well.
    let mut sig_blob = b"ED".to_vec();
    sig_blob.extend_from_slice(&f.pk.key_id());
    sig_blob.extend_from_slice(&forged);
    let forged_text = format!(
        "untrusted comment: x\n{}\ntrusted comment: {TC}\n{}\n",
        B64.encode(&sig_blob),
        B64.encode(forged)
    );
    assert!(!f.minisign_accepts(&weak_pub_text, &f.data, &forged_text));

    // A 32-byte string that is not a curve point.
    let not_point = (2u8..=255)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| VerifyingKey::from_bytes(b).is_err())
        .unwrap();
    let mut pub_blob = b"Ed".to_vec();
    pub_blob.extend_from_slice(&[0u8; 8]);
    pub_blob.extend_from_slice(&not_point);
    assert!(matches!(
        PublicKey::from_base64(&B64.encode(&pub_blob)),
        Err(MinisignError::InvalidPublicKey)
    ));
}

#[test]
fn malformed_public_keys_fail() {
    let f = fixture();
    let line = f.pk.to_base64();
    let blob = B64.decode(&line).unwrap();
    assert!(matches!(
        PublicKey::from_base64(&B64.encode(&blob[..41])),
        Err(MinisignError::WrongLength {
            expected: 42,
            actual: 41,
            ..
        })
    ));
    let mut other_alg = blob.clone();
    other_alg[1] = b'D';
    assert!(matches!(
        PublicKey::from_base64(&B64.encode(&other_alg)),
        Err(MinisignError::UnsupportedSignatureAlgorithm(_))
    ));
    assert!(matches!(
        PublicKey::from_base64("RWQ*"),
        Err(MinisignError::Base64 { .. })
    ));
    assert!(matches!(
        PublicKey::from_file_text("untrusted comment: only a comment\n"),
        Err(MinisignError::MissingLine { .. })
    ));
    assert!(PublicKey::from_file_text("").is_err());
    assert!(PublicKey::from_file_text(&format!("{line}\ngarbage\n")).is_err());
}

/// Legacy signatures built by hand (pure Ed25519 over the content).
#[test]
fn legacy_signatures_and_limits() {
    let f = fixture();
    let sk = SigningKey::from_bytes(&[9u8; 32]);
    let sec = SecretKey::from_parts([1, 2, 3, 4, 5, 6, 7, 8], sk.clone());
    let pk = sec.public_key();
    let sig = sk.sign(&f.data).to_bytes();
    let mut blob = b"Ed".to_vec();
    blob.extend_from_slice(&sec.key_id());
    blob.extend_from_slice(&sig);
    let mut global = sig.to_vec();
    global.extend_from_slice(b"legacy tc");
    let text = format!(
        "untrusted comment: legacy\n{}\ntrusted comment: legacy tc\n{}\n",
        B64.encode(&blob),
        B64.encode(sk.sign(&global).to_bytes())
    );
    let v = verify(&pk, &f.data[..], &text).unwrap();
    assert!(v.legacy);
    assert_eq!(v.trusted_comment, "legacy tc");
    // minisign -V accepts it by default and refuses it with -H.
    let d = f.dir.path();
    fs::write(d.join("l.pub"), pk.to_file_text()).unwrap();
    fs::write(d.join("l.bin"), &f.data).unwrap();
    fs::write(d.join("l.minisig"), &text).unwrap();
    let args = |h: bool| {
        let mut a = vec!["-V"];
        if h {
            a.push("-H");
        }
        a.extend(["-p", "l.pub", "-m", "l.bin", "-x", "l.minisig"]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |h: bool| {
        std::process::Command::new(common::minisign_bin())
            .current_dir(d)
            .args(args(h))
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(run(false));
    assert!(!run(true));

    let strict = VerifyOptions {
        allow_legacy: false,
        ..VerifyOptions::default()
    };
    assert!(matches!(
        verify_with_options(&pk, &f.data[..], &text, &strict),
        Err(MinisignError::LegacyNotAllowed)
    ));
    let capped = VerifyOptions {
        max_legacy_input_len: 1000,
        ..VerifyOptions::default()
    };
    assert!(matches!(
        verify_with_options(&pk, &f.data[..], &text, &capped),
        Err(MinisignError::LegacyInputTooLarge { limit: 1000 })
    ));
    let mut data = f.data.clone();
    data[5] ^= 4;
    assert!(matches!(
        verify(&pk, &data[..], &text),
        Err(MinisignError::SignatureInvalid)
    ));
}

#[test]
fn read_errors_propagate() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let f = fixture();
    assert!(matches!(
        verify(&f.pk, Failing, &f.sig),
        Err(MinisignError::Io(_))
    ));
    assert!(sign_prehashed(&f.sk, Failing, "", "").is_err());
    // Bad comments are refused at signing time.
    for (tc, uc) in [("a\nb", "x"), ("x", "a\rb"), ("bell\u{7}", "x")] {
        let err = sign_prehashed(&f.sk, &b""[..], tc, uc).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
    let long_tc = "x".repeat(8174);
    assert!(sign_prehashed(&f.sk, &b""[..], &long_tc, "").is_err());
    assert!(sign_prehashed(&f.sk, &b""[..], &long_tc[1..], "").is_ok());
}

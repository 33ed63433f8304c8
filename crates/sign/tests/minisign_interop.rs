//! Interoperability with the real `minisign` binary (0.11), both ways.
//! These tests FAIL (not skip) when minisign is not on PATH.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/minisign.rs"]
mod common;

use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{content, minisign, minisign_bin, minisign_ok, s, second_line};
use oembeddings_sign::minisign::{
    KDF_MEMLIMIT, KDF_OPSLIMIT, MinisignError, PublicKey, SecretKey, VerifyOptions, sign_prehashed,
    verify, verify_with_options,
};

/// Test inputs: empty, small, exactly the 1 MiB read chunk, and larger than it with an
/// odd tail.
fn write_inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for (name, len) in [
        ("empty.bin", 0usize),
        ("small.bin", 1000),
        ("chunk.bin", 1 << 20),
        ("big.bin", (3 << 20) + 7),
    ] {
        let p = dir.join(name);
        fs::write(&p, content(len, len as u64 + 1)).unwrap();
        paths.push(p);
    }
    paths
}

fn our_sign_file(sk: &SecretKey, file: &Path, tc: &str, uc: &str) -> String {
    sign_prehashed(sk, fs::File::open(file).unwrap(), tc, uc).unwrap()
}

fn our_verify_file(
    pk: &PublicKey,
    file: &Path,
    sig: &Path,
) -> oembeddings_sign::minisign::Verified {
    let text = fs::read_to_string(sig).unwrap();
    verify(pk, fs::File::open(file).unwrap(), &text)
        .unwrap_or_else(|e| panic!("our verify of {} failed: {e}", sig.display()))
}

/// minisign -V must accept `sig` for `file` with the `.pub` file, with the
/// bare base64 key (-P) and with -H (prehashed required); returns stdout.
fn minisign_verifies(pub_file: &Path, pk: &PublicKey, file: &Path, sig: &Path, tc: &str) {
    let out = minisign_ok(&["-V", "-p", s(pub_file), "-m", s(file), "-x", s(sig)], "");
    assert!(
        out.contains(&format!("Trusted comment: {tc}\n")),
        "minisign did not report the trusted comment: {out}"
    );
    minisign_ok(
        &["-V", "-P", &pk.to_base64(), "-m", s(file), "-x", s(sig)],
        "",
    );
    minisign_ok(
        &["-V", "-H", "-p", s(pub_file), "-m", s(file), "-x", s(sig)],
        "",
    );
}

/// Signs `file` with minisign (`-S`) into `sig`, with extra arguments (`-l`, comments).
fn minisign_sign(key_file: &Path, file: &Path, sig: &Path, extra: &[&str], stdin: &str) {
    let mut args = vec!["-S", "-s", s(key_file), "-m", s(file), "-x", s(sig)];
    args.extend_from_slice(extra);
    minisign_ok(&args, stdin);
}

fn blob(key_text: &str) -> Vec<u8> {
    B64.decode(second_line(key_text)).unwrap()
}

#[test]
fn minisign_binary_is_available() {
    minisign_bin();
}

#[test]
fn our_unencrypted_key_interop() {
    let dir = tempfile::tempdir().unwrap();
    let sk = SecretKey::generate();
    let pk = sk.public_key();
    let key_file = dir.path().join("our.key");
    let pub_file = dir.path().join("our.pub");
    fs::write(&key_file, sk.to_file_text(None, "").unwrap()).unwrap();
    fs::write(&pub_file, pk.to_file_text()).unwrap();

    for file in write_inputs(dir.path()) {
        let tc = format!(
            "timestamp:1700000000\tfile:{}\thashed",
            file.file_name().unwrap().to_str().unwrap()
        );
        let sig = file.with_extension("ours.minisig");
        fs::write(&sig, our_sign_file(&sk, &file, &tc, "")).unwrap();
        minisign_verifies(&pub_file, &pk, &file, &sig, &tc);
    }

    // minisign reads our unencrypted secret key: -R rebuilds the same
    // public key, and -S signs byte-identically to us (Ed25519 is
    // deterministic).
    let re_pub = dir.path().join("re.pub");
    minisign_ok(&["-R", "-s", s(&key_file), "-p", s(&re_pub)], "");
    let re_pub_text = fs::read_to_string(&re_pub).unwrap();
    assert_eq!(second_line(&re_pub_text), pk.to_base64());
    assert_eq!(PublicKey::from_file_text(&re_pub_text).unwrap(), pk);

    let file = dir.path().join("small.bin");
    let msig = dir.path().join("small.minisign.minisig");
    minisign_sign(
        &key_file,
        &file,
        &msig,
        &["-c", "uc here", "-t", "tc here"],
        "",
    );
    let v = our_verify_file(&pk, &file, &msig);
    assert_eq!(v.trusted_comment, "tc here");
    assert_eq!(v.key_id, sk.key_id());
    assert!(!v.legacy);
    assert_eq!(
        fs::read_to_string(&msig).unwrap(),
        our_sign_file(&sk, &file, "tc here", "uc here"),
        "our .minisig must be byte-identical to minisign's"
    );
}

#[test]
fn our_encrypted_key_interop() {
    let dir = tempfile::tempdir().unwrap();
    let password = "correct horse battery staple";
    let sk = SecretKey::generate();
    let pk = sk.public_key();
    let key_text = sk
        .to_file_text(Some(password), "our encrypted key")
        .unwrap();
    let b = blob(&key_text);
    assert_eq!(b.len(), 158);
    assert_eq!(&b[0..6], b"EdScB2");
    assert_eq!(b[38..46], KDF_OPSLIMIT.to_le_bytes());
    assert_eq!(b[46..54], KDF_MEMLIMIT.to_le_bytes());
    assert_ne!(&b[54..62], &sk.key_id(), "key id must be encrypted too");
    let key_file = dir.path().join("our.key");
    let pub_file = dir.path().join("our.pub");
    fs::write(&key_file, &key_text).unwrap();
    fs::write(&pub_file, pk.to_file_text()).unwrap();

    // minisign decrypts our key (password on stdin) ...
    let re_pub = dir.path().join("re.pub");
    minisign_ok(
        &["-R", "-s", s(&key_file), "-p", s(&re_pub)],
        &format!("{password}\n"),
    );
    assert_eq!(
        second_line(&fs::read_to_string(&re_pub).unwrap()),
        pk.to_base64()
    );
    // ... and rejects a wrong password.
    let out = minisign(
        &["-R", "-f", "-s", s(&key_file), "-p", s(&re_pub)],
        "nope\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Wrong password"));

    let file = dir.path().join("small.bin");
    fs::write(&file, content(5000, 9)).unwrap();
    let msig = dir.path().join("m.minisig");
    minisign_sign(
        &key_file,
        &file,
        &msig,
        &["-t", "museum tc"],
        &format!("{password}\n"),
    );
    let v = our_verify_file(&pk, &file, &msig);
    assert_eq!(v.trusted_comment, "museum tc");
    // Our signature with the same key is byte-identical to minisign's.
    assert_eq!(
        fs::read_to_string(&msig).unwrap(),
        our_sign_file(
            &sk,
            &file,
            "museum tc",
            "signature from minisign secret key"
        )
    );

    // Our signature verifies with minisign (no password needed to verify).
    let osig = dir.path().join("o.minisig");
    fs::write(&osig, our_sign_file(&sk, &file, "ours", "x")).unwrap();
    minisign_verifies(&pub_file, &pk, &file, &osig, "ours");

    // Our own decryption round-trips.
    let sk2 = SecretKey::from_file_text(&key_text, Some(password)).unwrap();
    assert_eq!(sk2.public_key(), pk);
    assert_eq!(sk2.key_id(), sk.key_id());
    assert!(matches!(
        SecretKey::from_file_text(&key_text, None),
        Err(MinisignError::PasswordRequired)
    ));
}

#[test]
fn minisign_unencrypted_key_interop() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("m.key");
    let pub_file = dir.path().join("m.pub");
    minisign_ok(&["-G", "-W", "-p", s(&pub_file), "-s", s(&key_file)], "");
    let key_text = fs::read_to_string(&key_file).unwrap();
    let pub_text = fs::read_to_string(&pub_file).unwrap();

    // What minisign 0.11 -G -W writes: no KDF, zero salt/limits AND a zero
    // checksum (it only computes the checksum when encrypting).
    let b = blob(&key_text);
    assert_eq!(&b[0..6], b"Ed\0\0B2");
    assert!(b[6..54].iter().all(|&x| x == 0));
    assert!(
        b[126..].iter().all(|&x| x == 0),
        "0.11 leaves the checksum zero"
    );

    let sk = SecretKey::from_file_text(&key_text, None).unwrap();
    // The password is ignored for unencrypted keys, as minisign does.
    let sk_pw = SecretKey::from_file_text(&key_text, Some("ignored")).unwrap();
    assert_eq!(sk_pw.public_key(), sk.public_key());
    let pk = PublicKey::from_file_text(&pub_text).unwrap();
    assert_eq!(pk, sk.public_key());
    // Bare base64 form (-P) parses too.
    assert_eq!(
        PublicKey::from_file_text(second_line(&pub_text)).unwrap(),
        pk
    );
    // Key id display matches minisign's (0.11 does not zero-pad).
    let shown = pub_text.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert_eq!(
        shown.trim_start_matches('0'),
        pk.key_id_hex().trim_start_matches('0')
    );

    // Re-serializing gives the same bytes except the checksum, which we fill.
    let ours = blob(
        &sk.to_file_text(None, "minisign encrypted secret key")
            .unwrap(),
    );
    assert_eq!(ours[..126], b[..126]);

    for file in write_inputs(dir.path()) {
        // minisign's default (prehashed) signature verifies with our code.
        let msig = file.with_extension("m.minisig");
        minisign_sign(&key_file, &file, &msig, &["-t", "tc m"], "");
        let v = our_verify_file(&pk, &file, &msig);
        assert_eq!(v.trusted_comment, "tc m");
        assert!(!v.legacy);
        assert_eq!(
            fs::read_to_string(&msig).unwrap(),
            our_sign_file(&sk, &file, "tc m", "")
        );

        // Legacy (-l) signatures: accepted by default, like minisign -V;
        // rejected when legacy is disallowed, like minisign -V -H.
        let lsig = file.with_extension("legacy.minisig");
        minisign_sign(&key_file, &file, &lsig, &["-l"], "");
        let ltext = fs::read_to_string(&lsig).unwrap();
        assert_eq!(&B64.decode(second_line(&ltext)).unwrap()[..2], b"Ed");
        let v = our_verify_file(&pk, &file, &lsig);
        assert!(v.legacy);
        assert!(!v.trusted_comment.ends_with("\thashed"));
        let strict = VerifyOptions {
            allow_legacy: false,
            ..VerifyOptions::default()
        };
        assert!(matches!(
            verify_with_options(&pk, fs::File::open(&file).unwrap(), &ltext, &strict),
            Err(MinisignError::LegacyNotAllowed)
        ));
        minisign_ok(
            &["-V", "-p", s(&pub_file), "-m", s(&file), "-x", s(&lsig)],
            "",
        );
        let out = minisign(
            &[
                "-V",
                "-H",
                "-p",
                s(&pub_file),
                "-m",
                s(&file),
                "-x",
                s(&lsig),
            ],
            "",
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "minisign -V -H must reject legacy"
        );

        // Our signature with minisign's key verifies with minisign.
        let osig = file.with_extension("o.minisig");
        fs::write(&osig, our_sign_file(&sk, &file, "ours", "")).unwrap();
        minisign_verifies(&pub_file, &pk, &file, &osig, "ours");
    }
}

#[test]
fn minisign_encrypted_key_interop() {
    let dir = tempfile::tempdir().unwrap();
    let password = "p4ss w0rd with spaces";
    let key_file = dir.path().join("m.key");
    let pub_file = dir.path().join("m.pub");
    // minisign reads the password twice (entry + confirmation) from stdin.
    minisign_ok(
        &["-G", "-p", s(&pub_file), "-s", s(&key_file)],
        &format!("{password}\n{password}\n"),
    );
    let key_text = fs::read_to_string(&key_file).unwrap();
    let b = blob(&key_text);
    assert_eq!(&b[0..6], b"EdScB2");
    assert_eq!(b[38..46], KDF_OPSLIMIT.to_le_bytes());
    assert_eq!(b[46..54], KDF_MEMLIMIT.to_le_bytes());

    let pk = PublicKey::from_file_text(&fs::read_to_string(&pub_file).unwrap()).unwrap();
    let sk = SecretKey::from_file_text(&key_text, Some(password)).unwrap();
    assert_eq!(sk.public_key(), pk);
    assert!(matches!(
        SecretKey::from_file_text(&key_text, Some("p4ss w0rd with space")),
        Err(MinisignError::WrongPassword)
    ));
    assert!(matches!(
        SecretKey::from_file_text(&key_text, None),
        Err(MinisignError::PasswordRequired)
    ));

    let file = dir.path().join("data.bin");
    fs::write(&file, content(200_000, 3)).unwrap();
    let msig = dir.path().join("m.minisig");
    minisign_sign(&key_file, &file, &msig, &[], &format!("{password}\n"));
    let v = our_verify_file(&pk, &file, &msig);
    assert!(v.trusted_comment.starts_with("timestamp:"));
    assert!(v.trusted_comment.ends_with("\tfile:data.bin\thashed"));

    let lsig = dir.path().join("l.minisig");
    minisign_sign(&key_file, &file, &lsig, &["-l"], &format!("{password}\n"));
    assert!(our_verify_file(&pk, &file, &lsig).legacy);

    let osig = dir.path().join("o.minisig");
    fs::write(
        &osig,
        our_sign_file(&sk, &file, "signed by oembeddings", ""),
    )
    .unwrap();
    minisign_verifies(&pub_file, &pk, &file, &osig, "signed by oembeddings");
}

//! Interoperability with real peers: GnuPG and sqv, both directions.
//! These tests FAIL (never skip) when `gpg` or `sqv` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/openpgp.rs"]
mod common;

use std::process::Command;

use common::{gpg, gpg_home, kill_agent, require_tool, run, run_ok};
use oembeddings_sign::openpgp::{
    Error, Verifier, generate, key_info, load_certs, select, sign_detached, verify_detached,
};

fn data_file(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let path = dir.join("embeddings.bin");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

#[test]
fn our_signatures_verify_with_gpg_and_sqv() {
    require_tool("gpg");
    require_tool("sqv");
    let work = tempfile::tempdir().unwrap();
    let home = gpg_home();
    let (data_path, _) = data_file(work.path());

    let (secret, public) = generate("Museum <prov@museum.example>", Some("s3cret")).unwrap();
    let info = key_info(public.cert());
    let pub_path = work.path().join("our.pub.asc");
    std::fs::write(&pub_path, public.to_armored().unwrap()).unwrap();

    for armored in [true, false] {
        let file = std::fs::File::open(&data_path).unwrap();
        let sig = sign_detached(secret.cert(), Some("s3cret"), file, armored).unwrap();
        let sig_path = work
            .path()
            .join(if armored { "sig.asc" } else { "sig.sig" });
        std::fs::write(&sig_path, &sig).unwrap();

        // sqv: exit 0 and print the fingerprint.
        let out = run_ok(
            Command::new("sqv")
                .arg("--keyring")
                .arg(&pub_path)
                .arg(&sig_path)
                .arg(&data_path),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("sqv (armored={armored}): {}", stdout.trim());
        assert!(
            stdout.contains(&info.fingerprint) || stdout.contains(&info.signing_keys[0]),
            "sqv did not print the fingerprint: {stdout}"
        );
        // sqv rejects changed data.
        let bad = work.path().join("changed.bin");
        let mut changed = std::fs::read(&data_path).unwrap();
        changed[1234] ^= 0x80;
        std::fs::write(&bad, &changed).unwrap();
        let out = run(Command::new("sqv")
            .arg("--keyring")
            .arg(&pub_path)
            .arg(&sig_path)
            .arg(&bad));
        assert!(!out.status.success(), "sqv accepted changed data");

        // gpg: import our cert, then --verify.
        run_ok(gpg(home.path()).arg("--import").arg(&pub_path));
        let out = run_ok(
            gpg(home.path())
                .args(["--status-fd", "1", "--verify"])
                .arg(&sig_path)
                .arg(&data_path),
        );
        let status = String::from_utf8_lossy(&out.stdout);
        eprintln!("gpg status (armored={armored}):\n{status}");
        assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
        assert!(
            status.contains(&format!("VALIDSIG {}", info.signing_keys[0])),
            "{status}"
        );
        assert!(status.contains(&info.fingerprint), "{status}");
        let out = run(gpg(home.path()).arg("--verify").arg(&sig_path).arg(&bad));
        assert!(!out.status.success(), "gpg accepted changed data");
    }
    kill_agent(home.path());
}

#[test]
fn gpg_keys_and_signatures_verify_with_us() {
    require_tool("gpg");
    let work = tempfile::tempdir().unwrap();
    let home = gpg_home();
    let (data_path, data) = data_file(work.path());

    run_ok(gpg(home.path()).args([
        "--quick-gen-key",
        "x <x@example.org>",
        "ed25519",
        "sign",
        "never",
    ]));
    let armored_pub =
        run_ok(gpg(home.path()).args(["--export", "--armor", "x@example.org"])).stdout;
    let binary_pub = run_ok(gpg(home.path()).args(["--export", "x@example.org"])).stdout;
    assert!(armored_pub.starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));

    let cert_a = select(load_certs(&armored_pub).unwrap(), None).unwrap();
    let cert_b = select(load_certs(&binary_pub).unwrap(), None).unwrap();
    assert_eq!(cert_a.fingerprint(), cert_b.fingerprint());
    let info = key_info(&cert_a);
    assert_eq!(info.user_ids, vec!["x <x@example.org>".to_string()]);
    assert_eq!(
        info.signing_keys,
        vec![info.fingerprint.clone()],
        "gpg signs with its primary"
    );

    for armor in [true, false] {
        let sig_path = work.path().join(if armor { "g.asc" } else { "g.sig" });
        let mut cmd = gpg(home.path());
        cmd.arg("--detach-sign");
        if armor {
            cmd.arg("--armor");
        }
        run_ok(cmd.arg("--output").arg(&sig_path).arg(&data_path));
        let sig = std::fs::read(&sig_path).unwrap();
        for cert in [&cert_a, &cert_b] {
            let v = verify_detached(cert, std::fs::File::open(&data_path).unwrap(), &sig).unwrap();
            assert_eq!(v.signer_fingerprint, info.fingerprint);
            let fast = Verifier::new(cert).verify(&data, &sig).unwrap();
            assert_eq!(fast, v);
        }
        let mut changed = data.clone();
        changed[0] ^= 1;
        let e = verify_detached(&cert_a, &changed[..], &sig).unwrap_err();
        assert!(matches!(e, Error::BadSignature { .. }), "{e}");
    }

    // A gpg secret key exported as a TSK signs with our code too (empty
    // passphrase -> unencrypted), and gpg verifies that.
    let tsk =
        run_ok(gpg(home.path()).args(["--export-secret-keys", "--armor", "x@example.org"])).stdout;
    let gsecret = select(load_certs(&tsk).unwrap(), None).unwrap();
    assert!(key_info(&gsecret).has_secret);
    let sig = sign_detached(&gsecret, None, &data[..], true).unwrap();
    let sig_path = work.path().join("ours-with-gpg-key.asc");
    std::fs::write(&sig_path, &sig).unwrap();
    let out = run_ok(
        gpg(home.path())
            .args(["--status-fd", "1", "--verify"])
            .arg(&sig_path)
            .arg(&data_path),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("GOODSIG"));

    // A keyring of two certs (ours + gpg's, one armored, one binary
    // concatenated as armored) requires a fingerprint.
    let (ours, ours_pub) = generate("ours", None).unwrap();
    let mut ring = ours_pub.to_armored().unwrap();
    ring.extend_from_slice(&armored_pub);
    let certs = load_certs(&ring).unwrap();
    assert_eq!(certs.len(), 2);
    let e = select(certs.clone(), None).unwrap_err();
    assert!(
        matches!(e, Error::KeyringNeedsFingerprint { count: 2 }),
        "{e}"
    );
    let picked = select(certs.clone(), Some(&info.fingerprint.to_lowercase())).unwrap();
    assert_eq!(picked.fingerprint(), cert_a.fingerprint());
    let picked = select(certs, Some(&info.key_id)).unwrap();
    assert_eq!(picked.fingerprint(), cert_a.fingerprint());
    // A gpg signature checked against our cert: signed by unknown key.
    let gsig = std::fs::read(work.path().join("g.asc")).unwrap();
    let e = verify_detached(ours.cert(), &data[..], &gsig).unwrap_err();
    assert!(matches!(e, Error::UnknownSigner(_)), "{e}");
    assert!(e.to_string().contains(&info.fingerprint), "{e}");

    kill_agent(home.path());
}

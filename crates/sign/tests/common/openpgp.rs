//! Shared test helpers.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::SystemTime;

use oembeddings_sign::openpgp::OpenPgpCert as Cert;
use sequoia_openpgp as sq;
use sq::packet::signature::SignatureBuilder;
use sq::serialize::SerializeInto;
use sq::types::{HashAlgorithm, SignatureType};

/// Fails the test with an install hint when `tool` is missing.
pub fn require_tool(tool: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok();
    assert!(
        found,
        "required peer `{tool}` is not installed: run `apt-get install -y gnupg sqv` \
         (interop tests never skip silently)"
    );
}

/// Runs a command, returning its output; panics if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {cmd:?}: {e}"),
    }
}

/// Runs a command that must succeed.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A `gpg` command in a private home directory.
pub fn gpg(home: &Path) -> Command {
    let mut c = Command::new("gpg");
    c.env("GNUPGHOME", home).args([
        "--batch",
        "--no-tty",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
    ]);
    c
}

/// Stops the gpg-agent of a temporary home.
pub fn kill_agent(home: &Path) {
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", home)
        .args(["--kill", "gpg-agent"])
        .output();
}

/// A temporary GnuPG home (mode 0700).
pub fn gpg_home() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("gh")
        .tempdir_in("/tmp")
        .expect("tempdir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
    }
    dir
}

/// Signs `data` with the signing subkey of `secret` directly through
/// sequoia, bypassing every validity check (an "attacker holding the key").
pub fn forge(
    secret: &Cert,
    password: Option<&str>,
    data: &[u8],
    time: SystemTime,
    typ: SignatureType,
) -> Vec<u8> {
    let key = secret
        .keys()
        .subkeys()
        .secret()
        .next()
        .expect("signing subkey")
        .key()
        .clone();
    let key = match password {
        Some(p) => key.decrypt_secret(&p.into()).expect("decrypt"),
        None => key,
    };
    let mut kp = key.into_keypair().expect("keypair");
    let sig = SignatureBuilder::new(typ)
        .set_hash_algo(HashAlgorithm::SHA256)
        .set_signature_creation_time(time)
        .expect("time")
        .sign_message(&mut kp, data)
        .expect("sign");
    sq::Packet::from(sig).to_vec().expect("serialize")
}

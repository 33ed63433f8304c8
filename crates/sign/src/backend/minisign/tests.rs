//! Unit tests of the minisign formats.

use super::key::kdf_stream;
use super::signature::blake2b512_stream;
use super::*;
use crate::format::file_digest::OVERLAPPED_CHUNK as READ_CHUNK;
use std::io::Read;

#[test]
fn scrypt_params_match_libsodium() {
    // SENSITIVE (what minisign uses) and INTERACTIVE limits.
    assert_eq!(
        scrypt_params_from_limits(33_554_432, 1_073_741_824),
        (20, 8, 1)
    );
    assert_eq!(scrypt_params_from_limits(524_288, 16_777_216), (14, 8, 1));
    // minisign halves both on allocation failure.
    assert_eq!(
        scrypt_params_from_limits(16_777_216, 536_870_912),
        (19, 8, 1)
    );
    // opslimit-bound branch.
    assert_eq!(scrypt_params_from_limits(32_768, 1 << 30), (10, 8, 1));
    // Degenerate inputs must not panic.
    let _ = scrypt_params_from_limits(0, 0);
    let _ = scrypt_params_from_limits(u64::MAX, u64::MAX);
    let _ = scrypt_params_from_limits(u64::MAX, 0);
}

#[test]
fn key_id_hex_is_little_endian() {
    let id = [0x5c, 0x3d, 0x06, 0x70, 0x76, 0xaa, 0x95, 0x1e];
    assert_eq!(key_id_to_hex(&id), "1E95AA7670063D5C");
    assert_eq!(key_id_to_hex(&[1, 0, 0, 0, 0, 0, 0, 0]), "0000000000000001");
}

#[test]
fn unencrypted_roundtrip_and_sign_verify() {
    let sk = SecretKey::generate();
    let text = sk.to_file_text(None, "test").unwrap();
    let sk2 = SecretKey::from_file_text(&text, None).unwrap();
    assert_eq!(sk.key_id(), sk2.key_id());
    assert_eq!(sk.public_key(), sk2.public_key());
    let pk = PublicKey::from_file_text(&sk.public_key().to_file_text()).unwrap();
    let sig = sign_prehashed(&sk2, &b"hello"[..], "tc", "uc").unwrap();
    let v = verify(&pk, &b"hello"[..], &sig).unwrap();
    assert_eq!(v.trusted_comment, "tc");
    assert!(!v.legacy);
    assert!(matches!(
        verify(&pk, &b"hellO"[..], &sig),
        Err(MinisignError::SignatureInvalid)
    ));
}

#[test]
fn degenerate_kdf_parameters_are_errors() {
    assert!(matches!(
        kdf_stream("x", &[0; 32], u64::MAX, u64::MAX),
        Err(MinisignError::KdfParameters { .. })
    ));
}

/// Returns at most `step` bytes per read, `Interrupted` before every other read, and
/// fails once `fail_at` bytes have been read.
struct Awkward<'a> {
    data: &'a [u8],
    at: usize,
    step: usize,
    interrupt: bool,
    fail_at: Option<usize>,
}

impl Read for Awkward<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.fail_at.is_some_and(|f| self.at >= f) {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.step).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn streamed_digest_survives_short_reads_and_reports_errors() {
    let data: Vec<u8> = (0..(3 * READ_CHUNK + 12_345))
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    for len in [0, 10, READ_CHUNK, READ_CHUNK + 1, data.len()] {
        let reader = Awkward {
            data: &data[..len],
            at: 0,
            step: 100_003,
            interrupt: false,
            fail_at: None,
        };
        let digest = blake2b512_stream(reader).unwrap();
        assert_eq!(
            &digest,
            blake2b_simd::blake2b(&data[..len]).as_array(),
            "{len}"
        );
    }
    for fail_at in [0, READ_CHUNK / 2, 2 * READ_CHUNK + 5] {
        let reader = Awkward {
            data: &data,
            at: 0,
            step: 100_003,
            interrupt: false,
            fail_at: Some(fail_at),
        };
        let err = blake2b512_stream(reader).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
    }
}

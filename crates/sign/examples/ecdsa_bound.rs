//! The raw ECDSA P-256 verify rate of aws-lc-rs (the crate `oembeddings` verifies
//! go-embeddingsdb's X.509 ECDSA records with) on this machine, on every core, over the very
//! messages the compatible profile verifies: each record's Go JSON from a data file, signed
//! once here with a fresh key (ASN.1 over SHA-256, as go-embeddingsdb signs). Verification
//! hashes each message, as the profile's must. The benchmark's bound for compatible
//! verification with ECDSA certificates; ring's rate over the same messages is printed too.
//! Prints one JSON line.
//!
//! `cargo run --release -p oembeddings-sign --example ecdsa_bound -- DATA.parquet [COUNT]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::ParsedPublicKey;
use oembeddings::json::AttributesJson;
use oembeddings::pipeline::{cores, parallel_map};
use oembeddings_sign::compatible::signed_bytes;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

/// Messages verified per second on every core, and how many verified.
fn rate(
    chunks: &[&[(&[u8], &[u8])]],
    verify: impl Fn(&[u8], &[u8]) -> bool + Sync,
) -> (f64, usize) {
    let start = Instant::now();
    let good: usize = parallel_map(chunks, |chunk| {
        chunk.iter().filter(|(m, s)| verify(m, s)).count()
    })
    .into_iter()
    .sum();
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    (total as f64 / start.elapsed().as_secs_f64(), good)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let data = args.next().expect("a data file");
    let limit: usize = args
        .next()
        .map_or(usize::MAX, |n| n.parse().expect("a count"));
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for batch in oembeddings::read(&data).expect("readable") {
        let batch = batch.expect("a batch");
        for record in batch.records() {
            if messages.len() < limit {
                messages.push(signed_bytes(&record, AttributesJson::Object).expect("finite"));
            }
        }
    }
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let signatures: Vec<Vec<u8>> = parallel_map(&messages, |m| {
        key.sign(&SystemRandom::new(), m).unwrap().as_ref().to_vec()
    });
    let items: Vec<(&[u8], &[u8])> = messages
        .iter()
        .zip(&signatures)
        .map(|(m, s)| (m.as_slice(), s.as_slice()))
        .collect();
    let chunks: Vec<&[(&[u8], &[u8])]> = items.chunks(256).collect();
    let parsed = ParsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
        key.public_key().as_ref(),
    )
    .unwrap();
    let (aws_lc, good) = rate(&chunks, |m, s| {
        parsed.verify_digest_sig(&digest(&SHA256, m), s).is_ok()
    });
    assert_eq!(good, items.len(), "every signature verifies");
    let ring_key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref());
    let (ring, good) = rate(&chunks, |m, s| ring_key.verify(m, s).is_ok());
    assert_eq!(good, items.len(), "every signature verifies");
    println!(
        "{{\"messages\": {}, \"crate\": \"aws-lc-rs\", \"verify_per_second\": {aws_lc:.0}, \"per_core\": {:.0}, \
         \"ring_per_core\": {:.0}, \"cores\": {}}}",
        items.len(),
        aws_lc / cores() as f64,
        ring / cores() as f64,
        cores()
    );
}

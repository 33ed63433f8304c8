//! The test vectors of spec/signatures.md (spec/signatures/vectors.json): recomputed here from
//! their inputs, so the spec cannot drift from the code. `OEMBEDDINGS_BLESS=1` rewrites the
//! file from the code (review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ed25519_dalek::{Signer, SigningKey};
use oembeddings::Record;
use oembeddings::json::AttributesJson;
use oembeddings_sign::compatible::signed_bytes;
use oembeddings_sign::digest::{RootBuilder, hex, record_digest, signed_message};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/signatures/vectors.json")
}

/// The records of the vectors; float elements given by their IEEE 754 bits, so that JSON
/// cannot blur them.
fn records() -> Vec<Record> {
    let bits: [&[u32]; 3] = [
        &[0x3f00_0000, 0xbe80_0000, 0x0000_0000, 0x8000_0000],
        &[
            0x3dcc_cccd,
            0x7f7f_ffff,
            0x0000_0001,
            0x3380_0000,
            0x4e6b_79a3,
        ],
        &[],
    ];
    vec![
        Record {
            provider: "sfomuseum".into(),
            depiction_id: "1527858923".into(),
            subject_id: "1511924931".into(),
            model: "mobileclip".into(),
            embeddings: bits[0].iter().map(|b| f32::from_bits(*b)).collect(),
            created: 1_776_070_800,
            attributes: BTreeMap::from([
                ("type".into(), "image".into()),
                (
                    "preview".into(),
                    "https://static.sfomuseum.org/media/152/785/892/3/1527858923_z.jpg".into(),
                ),
                (
                    "subject_url".into(),
                    "https://collection.sfomuseum.org/objects/1511924931/".into(),
                ),
                (
                    "subject_title".into(),
                    "San Francisco <International> Airport & \"friends\"".into(),
                ),
                ("subject_creditline".into(), "Gift of \u{c9}mile".into()),
                ("provider_name".into(), "SFO Museum".into()),
                (
                    "provider_url".into(),
                    "x-sfomuseum:object:1846754371".into(),
                ),
            ]),
        },
        Record {
            provider: "nga".into(),
            depiction_id: "a-b".into(),
            subject_id: "46482".into(),
            model: "siglip2-patch14".into(),
            embeddings: bits[1].iter().map(|b| f32::from_bits(*b)).collect(),
            created: -1,
            attributes: BTreeMap::from([("k\u{2028}".into(), "line\nbreak\t\u{8}\u{c}".into())]),
        },
        Record {
            provider: "nga-a".into(),
            depiction_id: "b".into(),
            subject_id: "".into(),
            model: "m".into(),
            embeddings: bits[2].iter().map(|b| f32::from_bits(*b)).collect(),
            created: 0,
            attributes: BTreeMap::new(),
        },
    ]
}

fn record_json(r: &Record) -> Value {
    json!({
        "provider": r.provider,
        "depiction_id": r.depiction_id,
        "subject_id": r.subject_id,
        "model": r.model,
        "embeddings_bits": r.embeddings.iter().map(|f| format!("{:08x}", f.to_bits())).collect::<Vec<_>>(),
        "created": r.created,
        "attributes": r.attributes,
    })
}

fn compute() -> Value {
    let seed = [7u8; 32];
    let key = SigningKey::from_bytes(&seed);
    let mut root = RootBuilder::default();
    let mut native = Vec::new();
    let mut compatible = Vec::new();
    for r in records() {
        let digest = record_digest(&r.as_ref());
        root.push(&digest);
        let message = &signed_message(&digest)[..];
        native.push(json!({
            "record": record_json(&r),
            "digest": hex(&digest),
            "signed_message": hex(message),
            "ed25519_signature": hex(&key.sign(message).to_bytes()),
        }));
        let bytes = signed_bytes(&r.as_ref(), AttributesJson::Object).unwrap();
        let mut entry = json!({
            "record": record_json(&r),
            "signed_bytes": String::from_utf8(bytes.clone()).unwrap(),
            "record_hash": hex(&Sha256::digest(&bytes)),
        });
        if r.attributes.is_empty() {
            let nil = signed_bytes(&r.as_ref(), AttributesJson::NullWhenEmpty).unwrap();
            entry["nil_attributes_signed_bytes"] = json!(String::from_utf8(nil.clone()).unwrap());
            entry["nil_attributes_record_hash"] = json!(hex(&Sha256::digest(&nil)));
        }
        compatible.push(entry);
    }
    json!({
        "description": "Test vectors of spec/signatures.md. Floats are given as IEEE 754 binary32 bits (hex). The Ed25519 key is the RFC 8032 key whose 32-byte seed is 0x07 repeated.",
        "ed25519_seed": hex(&seed),
        "ed25519_public_key": hex(key.verifying_key().as_bytes()),
        "native": native,
        "records_root": hex(&root.finish()),
        "compatible": compatible,
    })
}

#[test]
fn vectors_match_the_code() {
    let computed = compute();
    let path = vectors_path();
    if std::env::var_os("OEMBEDDINGS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&computed).unwrap() + "\n",
        )
        .unwrap();
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run with OEMBEDDINGS_BLESS=1", path.display())),
    )
    .unwrap();
    assert_eq!(
        committed, computed,
        "spec/signatures/vectors.json differs from the code"
    );
}

#[test]
fn ed25519_vector_signatures_verify_strictly() {
    let v = compute();
    let public = ed25519_dalek::VerifyingKey::from_bytes(
        &oembeddings_sign::digest::unhex::<32>(v["ed25519_public_key"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    for n in v["native"].as_array().unwrap() {
        let message = (0..n["signed_message"].as_str().unwrap().len() / 2)
            .map(|i| {
                u8::from_str_radix(&n["signed_message"].as_str().unwrap()[2 * i..2 * i + 2], 16)
                    .unwrap()
            })
            .collect::<Vec<u8>>();
        let sig = oembeddings_sign::digest::unhex::<64>(n["ed25519_signature"].as_str().unwrap())
            .unwrap();
        public
            .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&sig))
            .unwrap();
    }
}

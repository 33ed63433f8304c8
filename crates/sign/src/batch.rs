//! Native-profile record signatures of records a caller holds, digest by digest: for those
//! who sign and verify batches themselves (an engine's partitions, through the Python
//! package's `sign_batch` and `verify_batch`) rather than whole files. The signatures are the
//! ones [`crate::native`] writes into sidecars, over the messages [`signed_message`] frames.

use crate::format::digest::{RecordDigest, SignedMessage, signed_message};
use crate::{PublicKey, SecretKey, SignError};

/// The native-profile signature of each record digest, in order: raw 64-byte Ed25519
/// signatures, or binary OpenPGP signature packets. Uses every core.
pub fn sign_digests(key: &SecretKey, digests: &[RecordDigest]) -> Result<Vec<Vec<u8>>, SignError> {
    let messages: Vec<SignedMessage> = digests.iter().map(signed_message).collect();
    let framed: Vec<&[u8]> = messages.iter().map(|m| &m[..]).collect();
    key.sign_record_messages(&framed)
}

/// Whether each signature is `key`'s native-profile signature of the record digest beside
/// it. An empty signature (none was given) is false, like an invalid one: fail closed. Uses
/// every core.
pub fn verify_digests(key: &PublicKey, items: &[(RecordDigest, &[u8])]) -> Vec<bool> {
    let messages: Vec<SignedMessage> = items.iter().map(|(d, _)| signed_message(d)).collect();
    let framed: Vec<(&[u8], &[u8])> = messages
        .iter()
        .zip(items)
        .map(|(m, (_, signature))| (&m[..], *signature))
        .collect();
    key.verify_record_messages(&framed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;
    use std::fs::File;
    use std::path::Path;

    use arrow_array::cast::AsArray;
    use oembeddings::{Batch, Record, WriteOptions, Writer};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::format::digest::record_digests;
    use crate::keys;
    use crate::profile::native;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                provider: "sfomuseum".into(),
                depiction_id: i.to_string(),
                subject_id: (i / 2).to_string(),
                model: "mobileclip".into(),
                embeddings: (0..8).map(|d| (i * 8 + d) as f32 * 0.25).collect(),
                created: 1_776_070_800 + i as i64,
                attributes: BTreeMap::from([("type".into(), "image".into())]),
            })
            .collect()
    }

    /// (digest, signature) of every row of a native sidecar, read as plain Parquet.
    fn sidecar_rows(path: &Path) -> Vec<(RecordDigest, Vec<u8>)> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let digests = batch
                .column_by_name("digest")
                .unwrap()
                .as_fixed_size_binary();
            let signatures = batch
                .column_by_name("signature")
                .unwrap()
                .as_binary::<i32>();
            for i in 0..batch.num_rows() {
                rows.push((
                    digests.value(i).try_into().unwrap(),
                    signatures.value(i).to_vec(),
                ));
            }
        }
        rows
    }

    #[test]
    fn batch_signatures_are_the_sidecars_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = keys::generate_ed25519(None).unwrap();
        std::fs::write(dir.path().join("k"), secret).unwrap();
        std::fs::write(dir.path().join("k.pub"), public).unwrap();
        let secret = SecretKey::load(&dir.path().join("k"), None, None).unwrap();
        let public = PublicKey::load(&dir.path().join("k.pub"), None).unwrap();

        let records = records(5);
        let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
        let data = dir.path().join("data.parquet");
        let mut writer = Writer::create(&data, WriteOptions::default()).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let signed = native::sign_records(&data, &secret).unwrap();

        let digests = record_digests(batch.records());
        let signatures = sign_digests(&secret, &digests).unwrap();
        // Ed25519 signatures are deterministic: the same framing gives the same bytes.
        let sidecar = sidecar_rows(&signed.sidecar);
        assert_eq!(sidecar.len(), 5);
        for (i, (digest, signature)) in sidecar.iter().enumerate() {
            assert_eq!(digest, &digests[i]);
            assert_eq!(signature, &signatures[i]);
        }

        let mut items: Vec<(RecordDigest, &[u8])> = digests
            .iter()
            .zip(&signatures)
            .map(|(d, s)| (*d, s.as_slice()))
            .collect();
        assert_eq!(verify_digests(&public, &items), vec![true; 5]);
        items[1].0[0] ^= 1; // another record
        items[3].1 = &[]; // no signature
        assert_eq!(
            verify_digests(&public, &items),
            vec![true, false, true, false, true]
        );
    }

    #[test]
    fn openpgp_batch_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = keys::generate_openpgp("Test <t@example.org>", None).unwrap();
        std::fs::write(dir.path().join("k"), secret).unwrap();
        std::fs::write(dir.path().join("k.pub"), public).unwrap();
        let secret = SecretKey::load(&dir.path().join("k"), None, None).unwrap();
        let public = PublicKey::load(&dir.path().join("k.pub"), None).unwrap();
        let records = records(3);
        let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
        let digests = record_digests(batch.records());
        let signatures = sign_digests(&secret, &digests).unwrap();
        let mut items: Vec<(RecordDigest, &[u8])> = digests
            .iter()
            .zip(&signatures)
            .map(|(d, s)| (*d, s.as_slice()))
            .collect();
        assert_eq!(verify_digests(&public, &items), vec![true; 3]);
        // Signatures of other records, and a truncated one.
        (items[0].1, items[2].1) = (&signatures[2], &signatures[0]);
        items[1].1 = &signatures[1][..signatures[1].len() - 1];
        assert_eq!(verify_digests(&public, &items), vec![false; 3]);
    }
}

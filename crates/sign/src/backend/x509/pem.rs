//! The PEM forms go-embeddingsdb writes and reads: `CERTIFICATE` chains, `SIGNATURE` blocks
//! (the record signatures; raw bytes are accepted too, as `tls.DecodeSignature` does), and
//! private keys. Every function takes bytes from outside and returns a typed error.

use std::borrow::Cow;

use super::error::X509Error;

/// The PEM type of a record signature.
pub const SIGNATURE: &str = "SIGNATURE";
/// The PEM type of a certificate.
pub const CERTIFICATE: &str = "CERTIFICATE";

/// The encapsulation boundary that starts a PEM block.
const BEGIN: &[u8] = b"-----BEGIN ";

/// How a `record_signature` value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    /// A PEM `SIGNATURE` block (go-embeddingsdb's X.509 signer since it wraps signatures).
    Pem,
    /// The signature's bytes as they are (its first X.509 signer).
    Raw,
}

/// Whether `value` is PEM: it starts, after white space, with a `-----BEGIN ` line. (Go's
/// `pem.Decode` also skips text before the block; no signer of go-embeddingsdb writes any.)
pub fn is_pem(value: &[u8]) -> bool {
    value.trim_ascii_start().starts_with(BEGIN)
}

/// The PEM type label of `value`, when it is PEM.
pub fn label(value: &[u8]) -> Option<&str> {
    is_pem(value)
        .then(|| pem_rfc7468::decode_label(value.trim_ascii()).ok())
        .flatten()
}

/// The signature bytes of a `record_signature` value: the content of its PEM `SIGNATURE`
/// block, or the value itself when it is not PEM (a raw signature).
pub fn decode_signature(value: &[u8]) -> Result<(Cow<'_, [u8]>, SignatureForm), X509Error> {
    if !is_pem(value) {
        return Ok((Cow::Borrowed(value), SignatureForm::Raw));
    }
    let (found, bytes) = decode_block(value)?;
    if found != SIGNATURE {
        return Err(X509Error::WrongPemType {
            found,
            expected: SIGNATURE,
        });
    }
    Ok((Cow::Owned(bytes), SignatureForm::Pem))
}

/// A signature as go-embeddingsdb writes it: a PEM `SIGNATURE` block, base64 in lines of 64,
/// ending with a newline (Go's `pem.EncodeToMemory`).
pub fn encode_signature(signature: &[u8]) -> String {
    encode(SIGNATURE, signature)
}

/// A PEM block of `label`, as Go's `pem.EncodeToMemory` writes it.
pub fn encode(label: &str, der: &[u8]) -> String {
    // Only a label with characters PEM forbids fails, and the labels here are constants.
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// One PEM block: its type label and content.
pub fn decode_block(value: &[u8]) -> Result<(String, Vec<u8>), X509Error> {
    let (label, bytes) = pem_rfc7468::decode_vec(value.trim_ascii())
        .map_err(|e| X509Error::NotPem(e.to_string()))?;
    Ok((label.to_owned(), bytes))
}

/// The DER of each block of a PEM file, with its label, in order (certificate chains, root
/// and CRL files). Text between blocks is not allowed.
pub fn decode_blocks(text: &[u8]) -> Result<Vec<(String, Vec<u8>)>, X509Error> {
    let mut rest = text.trim_ascii();
    let mut out = Vec::new();
    while !rest.is_empty() {
        if !rest.starts_with(BEGIN) {
            return Err(X509Error::NotPem(format!(
                "block {} does not start with \"-----BEGIN \"",
                out.len() + 1
            )));
        }
        // The block ends with the line "-----END <label>-----"; pem-rfc7468 checks the label.
        const END: &[u8] = b"-----END ";
        let stop = rest
            .windows(END.len())
            .position(|w| w == END)
            .and_then(|at| {
                let after = at + END.len();
                rest[after..]
                    .windows(5)
                    .position(|w| w == b"-----")
                    .map(|p| after + p + 5)
            })
            .ok_or_else(|| {
                X509Error::NotPem(format!("block {} has no \"-----END\" line", out.len() + 1))
            })?;
        let (label, der) = pem_rfc7468::decode_vec(&rest[..stop])
            .map_err(|e| X509Error::NotPem(format!("block {}: {e}", out.len() + 1)))?;
        out.push((label.to_owned(), der));
        rest = rest[stop..].trim_ascii_start();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_in_go_form() {
        let signature: Vec<u8> = (0..=255u8).collect();
        let pem = encode_signature(&signature);
        assert!(pem.starts_with("-----BEGIN SIGNATURE-----\n"));
        assert!(pem.ends_with("-----END SIGNATURE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let (decoded, form) = decode_signature(pem.as_bytes()).unwrap();
        assert_eq!((&*decoded, form), (&signature[..], SignatureForm::Pem));
        let (raw, form) = decode_signature(&signature).unwrap();
        assert_eq!((&*raw, form), (&signature[..], SignatureForm::Raw));
    }

    #[test]
    fn a_block_of_another_type_is_named() {
        let pem = encode("PGP SIGNATURE", b"abc");
        assert_eq!(
            decode_signature(pem.as_bytes()),
            Err(X509Error::WrongPemType {
                found: "PGP SIGNATURE".into(),
                expected: SIGNATURE
            })
        );
        assert!(matches!(
            decode_signature(b"-----BEGIN SIGNATURE-----\n!!\n-----END SIGNATURE-----\n"),
            Err(X509Error::NotPem(_))
        ));
    }

    #[test]
    fn blocks_are_split_in_order() {
        let text = format!("{}\n{}", encode("A", b"1"), encode("B", b"22"));
        let blocks = decode_blocks(text.as_bytes())
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(
            blocks,
            vec![
                ("A".to_owned(), b"1".to_vec()),
                ("B".to_owned(), b"22".to_vec())
            ]
        );
        assert!(decode_blocks(b"junk").is_err());
        assert!(decode_blocks(b"-----BEGIN A-----\nMQ==\n").is_err());
    }
}

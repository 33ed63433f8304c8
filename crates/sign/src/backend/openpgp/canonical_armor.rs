//! A fast path for the one ASCII-armor shape that record signatures come in.
//!
//! A compatible-profile sidecar holds an armored signature per record, and sequoia's armor
//! reader, built for streams of any size, zeroes a large buffer for each one: loading the
//! sidecar took a tenth of the time to verify it. Go's `armor.Encode`, GnuPG and sequoia
//! all write signatures in the canonical shape below, which this module decodes directly.
//! Anything else (header lines, odd spacing, a checksum that does not match) is left to
//! sequoia's tolerant reader, so what is accepted does not change; and whatever bytes come
//! out are then parsed and cryptographically checked as before.
//!
//! ```text
//! -----BEGIN PGP SIGNATURE-----
//! <blank line>
//! base64 lines
//! =CRC24 (optional)
//! -----END PGP SIGNATURE-----
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const BEGIN: &[u8] = b"-----BEGIN PGP SIGNATURE-----";
const END: &[u8] = b"-----END PGP SIGNATURE-----";

/// The bytes of a canonically armored signature block, or `None` when `text` is not in
/// that shape (or its checksum does not match); the caller then uses the general reader.
/// Line by line, with no allocation but the output: it runs once per record.
pub(crate) fn canonical_signature(text: &[u8]) -> Option<Vec<u8>> {
    let body = text
        .strip_prefix(BEGIN)?
        .trim_ascii_end()
        .strip_suffix(END)?;
    let mut lines = body
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    // The rest of the BEGIN line, and the blank line that ends the (absent) headers.
    if !lines.next()?.is_empty() || !lines.next()?.is_empty() {
        return None;
    }
    let mut bytes = Vec::with_capacity(body.len() / 4 * 3);
    let mut checksum = None;
    // Whether the data has ended: with padding, with the checksum line, or with the empty
    // rest of the line before END, which must be the last of all.
    let (mut padded, mut ended) = (false, false);
    for line in lines {
        if ended {
            return None;
        }
        if line.is_empty() {
            ended = true;
        } else if checksum.is_some() {
            return None;
        } else if let Some(crc) = line.strip_prefix(b"=") {
            checksum = Some(crc);
        } else if padded {
            return None;
        } else {
            // Lines of whole base64 quanta, as every armor writer wraps them; any other
            // wrapping fails here and goes to the general reader.
            STANDARD.decode_vec(line, &mut bytes).ok()?;
            padded = line.ends_with(b"=");
        }
    }
    if !ended || bytes.is_empty() {
        return None;
    }
    if let Some(checksum) = checksum {
        let mut expected = [0u8; 3];
        if STANDARD.decode_slice(checksum, &mut expected).ok()? != 3
            || expected != crc24(&bytes).to_be_bytes()[1..]
        {
            return None;
        }
    }
    Some(bytes)
}

/// The CRC-24 of OpenPGP armor (RFC 9580, section 6.1).
fn crc24(bytes: &[u8]) -> u32 {
    const INIT: u32 = 0x00B7_04CE;
    const POLY: u32 = 0x0186_4CFB;
    let mut crc = INIT;
    for &b in bytes {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= POLY;
            }
        }
    }
    crc & 0x00FF_FFFF
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use sequoia_openpgp::armor;

    use super::*;

    fn sequoia(text: &[u8]) -> Option<Vec<u8>> {
        let mut reader = armor::Reader::from_bytes(
            text,
            armor::ReaderMode::Tolerant(Some(armor::Kind::Signature)),
        );
        let mut out = Vec::new();
        reader.read_to_end(&mut out).ok()?;
        Some(out)
    }

    fn armored(bytes: &[u8]) -> Vec<u8> {
        let mut w = armor::Writer::new(Vec::new(), armor::Kind::Signature).unwrap();
        std::io::Write::write_all(&mut w, bytes).unwrap();
        w.finalize().unwrap()
    }

    #[test]
    fn decodes_what_sequoia_decodes() {
        for len in [1usize, 2, 3, 47, 48, 49, 119, 200, 1000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 89 + len) as u8).collect();
            let text = armored(&bytes);
            assert_eq!(
                canonical_signature(&text).as_deref(),
                Some(&bytes[..]),
                "{len}"
            );
            assert_eq!(sequoia(&text).as_deref(), Some(&bytes[..]), "{len}");
            // Go writes the same block without a checksum line, and with CRLF on Windows.
            let text = String::from_utf8(text).unwrap();
            let no_crc: String = text
                .lines()
                .filter(|l| !(l.starts_with('=') && l.len() == 5))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(canonical_signature(no_crc.as_bytes()), Some(bytes.clone()));
            let crlf = text.replace('\n', "\r\n");
            assert_eq!(canonical_signature(crlf.as_bytes()), Some(bytes.clone()));
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_general_reader() {
        let bytes = b"signature packet bytes".to_vec();
        let text = String::from_utf8(armored(&bytes)).unwrap();
        let with_header = text.replacen("\n\n", "\nComment: x\n\n", 1);
        let crc_line = text.lines().find(|l| l.starts_with('=')).unwrap();
        let bad_crc = text.replace(crc_line, "=AAAA");
        let truncated = &text[..text.len() - 10];
        let message = text.replace("SIGNATURE", "MESSAGE");
        // Padding may only end the data.
        let lines: Vec<&str> = text.lines().collect();
        let padded_middle = [&lines[..2], &["c2ln="], &lines[2..]].concat().join("\n") + "\n";
        for other in [
            &with_header,
            &bad_crc,
            truncated,
            &message,
            &padded_middle,
            "",
            "-----BEGIN PGP SIGNATURE-----",
        ] {
            assert_eq!(canonical_signature(other.as_bytes()), None, "{other:?}");
        }
        assert_eq!(sequoia(with_header.as_bytes()), Some(bytes));
    }
}

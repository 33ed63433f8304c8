//! Hostile inputs: deterministic random mutations and truncations of real pyarrow
//! footers (tests/data/*.footer, see tests/data/README.md) and of whole files. Nothing
//! may panic; whatever parses must also rewrite consistently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use oembeddings::footer::{self, FooterError, KEY_VALUE_METADATA_FIELD, KeyValue, RawField};

const FIXTURES: [(&str, &[u8]); 3] = [
    ("nested", include_bytes!("data/nested.footer")),
    ("page_index", include_bytes!("data/page_index.footer")),
    (
        "plaintext_footer",
        include_bytes!("data/plaintext_footer.footer"),
    ),
];

/// splitmix64: small, deterministic, good enough for picking mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        const INTERESTING: [u8; 12] = [
            0x00, 0xff, 0x0f, 0xf0, 0x7f, 0x80, 0x19, 0x1c, 0xfc, 0x0b, 0x59, 0x15,
        ];
        if self.next() & 1 == 0 {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut m = input.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let len = m.len();
        match rng.below(7) {
            0 => {
                if len > 0 {
                    let i = rng.below(len);
                    m[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                if len > 0 {
                    let i = rng.below(len);
                    m[i] = rng.byte();
                }
            }
            2 => m.truncate(rng.below(len + 1)),
            3 => {
                let start = rng.below(len + 1);
                let end = (start + 1 + rng.below(16)).min(len);
                m.drain(start..end);
            }
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                m.splice(at..at, bytes);
            }
            5 => {
                // Duplicate a slice elsewhere (repeats structure: duplicate fields etc.).
                let start = rng.below(len + 1);
                let end = (start + rng.below(64)).min(len);
                let piece = m[start..end].to_vec();
                let at = rng.below(len + 1);
                m.splice(at..at, piece);
            }
            _ => {
                // A run of continuation bytes: overlong varints.
                let at = rng.below(len + 1);
                let n = 1 + rng.below(12);
                m.splice(at..at, std::iter::repeat_n(0x80 | rng.byte(), n));
            }
        }
    }
    m
}

fn without_kv<'a>(fields: &[RawField<'a>]) -> Vec<RawField<'a>> {
    fields
        .iter()
        .filter(|f| f.id != KEY_VALUE_METADATA_FIELD)
        .copied()
        .collect()
}

#[derive(Default, Debug)]
struct Outcomes {
    parsed: usize,
    rewritten: usize,
    rejected: usize,
}

/// Runs every entry point on `m` and checks the results agree with each other.
fn exercise(m: &[u8], new_kvs: &[KeyValue], outcomes: &mut Outcomes) {
    let fields = footer::raw_fields(m);
    let kvs = footer::key_values(m);
    let rewritten = footer::with_key_values(m, new_kvs);
    for e in [
        fields.as_ref().err(),
        kvs.as_ref().err(),
        rewritten.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        let msg = e.to_string();
        assert!(!msg.is_empty());
        match e {
            FooterError::Malformed { offset, .. } => assert!(*offset <= m.len(), "{msg}"),
            FooterError::Signed => {}
            other => panic!("unexpected error kind for in-memory input: {other}"),
        }
    }
    if kvs.is_ok() {
        assert!(
            fields.is_ok(),
            "key_values accepted what raw_fields rejected"
        );
    }
    match rewritten {
        Ok(out) => {
            outcomes.rewritten += 1;
            let kvs = kvs.expect("with_key_values accepted what key_values rejected");
            assert_eq!(footer::key_values(&out).expect("rewritten parses"), new_kvs);
            let fields = fields.expect("fields");
            let out_fields = footer::raw_fields(&out).expect("rewritten fields");
            assert_eq!(without_kv(&fields), without_kv(&out_fields));
            // And back again.
            let back = footer::with_key_values(&out, &kvs).expect("rewrite back");
            assert_eq!(footer::key_values(&back).expect("back parses"), kvs);
        }
        Err(_) if kvs.is_ok() => outcomes.parsed += 1,
        Err(_) => outcomes.rejected += 1,
    }
}

fn guarded(what: &str, seed: u64, input: &[u8], f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
        panic!(
            "{what}: panicked on case {seed} (input {} bytes): {hex}",
            input.len()
        );
    }
}

#[test]
fn mutated_footers_never_panic() {
    let new_kvs = vec![
        KeyValue::new("oembeddings.model", "clip"),
        KeyValue {
            key: vec![0xff],
            value: None,
        },
    ];
    let mut rng = Rng(0x5eed_f007);
    let mut total = Outcomes::default();
    let mut cases = 0;
    for (name, fixture) in FIXTURES {
        // The unmutated fixtures parse.
        footer::key_values(fixture).expect(name);
        for case in 0..2000u64 {
            let m = mutate(&mut rng, fixture);
            guarded(name, case, &m, || exercise(&m, &new_kvs, &mut total));
            cases += 1;
        }
    }
    // Pure noise, and noise behind a plausible first field header.
    for case in 0..2000u64 {
        let len = rng.below(200);
        let mut m: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        if case % 2 == 0 {
            m.insert(0, 0x15);
        }
        guarded("noise", case, &m, || exercise(&m, &new_kvs, &mut total));
        cases += 1;
    }
    eprintln!("{cases} cases: {total:?}");
    // The mutations hit both sides: some inputs still parse and rewrite, most are rejected.
    assert!(total.rewritten > 100, "{total:?}");
    assert!(total.rejected > 1000, "{total:?}");
}

#[test]
fn every_truncation_of_a_real_footer_is_rejected() {
    for (name, fixture) in FIXTURES {
        for len in 0..fixture.len() {
            let m = &fixture[..len];
            // Without its 28-byte signature, a signed footer is still a whole FileMetaData.
            if name == "plaintext_footer" && len == fixture.len() - 28 {
                assert!(footer::key_values(m).is_ok());
                continue;
            }
            guarded(name, len as u64, m, || {
                assert!(footer::key_values(m).is_err(), "{name} cut at {len} parsed");
                assert!(footer::with_key_values(m, &[]).is_err());
            });
        }
    }
}

fn file_with(footer_bytes: &[u8]) -> Vec<u8> {
    let mut f = b"PAR1 pretend these are data pages".to_vec();
    footer::write_tail(&mut f, footer_bytes).expect("write tail");
    f
}

#[test]
fn mutated_and_truncated_files_never_panic() {
    let mut rng = Rng(42);
    let mut located = 0;
    for (name, fixture) in FIXTURES {
        let file = file_with(fixture);
        let cases = (0..file.len())
            .map(|len| file[..len].to_vec())
            .chain((0..1000).map(|_| {
                // Mutate only the head or the tail, where locate looks.
                let mut f = file.clone();
                let n = f.len();
                for _ in 0..1 + rng.below(3) {
                    let i = if rng.next() & 1 == 0 {
                        rng.below(4)
                    } else {
                        n - 1 - rng.below(8)
                    };
                    f[i] = rng.byte();
                }
                f
            }));
        for (case, f) in cases.enumerate() {
            guarded(name, case as u64, &f, || {
                let mut cursor = Cursor::new(&f[..]);
                if let Ok(location) = footer::locate(&mut cursor) {
                    located += 1;
                    assert!(location.metadata_offset >= 4);
                    assert_eq!(
                        location.metadata_offset + u64::from(location.metadata_len) + 8,
                        f.len() as u64
                    );
                    let metadata = footer::read_metadata(&mut cursor, &location).expect("read");
                    let _ = footer::key_values(&metadata);
                }
                let mut out = Vec::new();
                let _ = footer::rewrite_key_values(&mut Cursor::new(&f[..]), &mut out, &[]);
            });
        }
    }
    assert!(located > 0);
}

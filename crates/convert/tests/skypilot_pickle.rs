//! The strict pickle reader against real pickles made by `pickle.dumps` with numpy 1.26 and
//! 2.4 (protocols 2 to 5; float16, float32, float64, big-endian float64), and hostile ones.
//! The fixtures and the script that made them are in tests/data/pickles/.
#![cfg(feature = "skypilot")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use oembeddings_convert::skypilot::pickle::{Element, PickleError, decode};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pickles")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const VECTOR: [f32; 4] = [0.5, -1.25, 3.0, 1e-3];

#[test]
fn every_protocol_dtype_and_numpy_major_decodes() {
    for numpy in [1, 2] {
        for protocol in 2..=5 {
            for (dtype, element) in [
                ("lef2", Element::Float16),
                ("lef4", Element::Float32),
                ("lef8", Element::Float64),
                ("bef8", Element::Float64),
            ] {
                let name = format!("numpy{numpy}-p{protocol}-{dtype}.pkl");
                let pair = decode(&fixture(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(pair.path, "0000/7.jpg", "{name}");
                assert_eq!(pair.element, element, "{name}");
                let expected: Vec<f32> = match element {
                    // 1e-3 is not a float16: the fixture holds its nearest float16.
                    Element::Float16 => VECTOR
                        .iter()
                        .map(|v| half::f16::from_f32(*v).to_f32())
                        .collect(),
                    // float32 values widened to float64 come back exactly.
                    _ => VECTOR.to_vec(),
                };
                assert_eq!(pair.vector, expected, "{name}");
                assert_eq!(pair.narrowed, 0, "{name}");
            }
        }
    }
}

#[test]
fn a_global_outside_numpy_is_refused_by_name_and_never_run() {
    let err = decode(&fixture("evil-os-system.pkl")).unwrap_err();
    match &err {
        PickleError::Global { module, name, .. } => {
            assert_eq!(
                (module.as_str(), name.as_str()),
                ("posix", "system"),
                "{err}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("global posix.system at byte"),
        "{err}"
    );
}

#[test]
fn wrong_shapes_and_types_are_refused() {
    assert_eq!(
        decode(&fixture("two-dimensional.pkl")).unwrap_err(),
        PickleError::Dimensions(2)
    );
    assert_eq!(
        decode(&fixture("int-array.pkl")).unwrap_err(),
        PickleError::Dtype("i8".to_owned())
    );
    let err = decode(&fixture("list.pkl")).unwrap_err();
    assert!(
        matches!(
            err,
            PickleError::Opcode {
                name: "EMPTY_LIST",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let whole = fixture("numpy2-p4-lef4.pkl");
    for end in 0..whole.len() {
        let err = decode(&whole[..end]).unwrap_err();
        assert!(
            matches!(
                err,
                PickleError::Truncated { .. } | PickleError::Malformed { .. }
            ),
            "{end}: {err}"
        );
    }
    let mut longer = whole.clone();
    longer.push(b'.');
    assert_eq!(decode(&longer).unwrap_err(), PickleError::Trailing(1));
}

#[test]
fn every_single_byte_change_is_decoded_or_refused_without_panic() {
    let whole = fixture("numpy1-p2-lef4.pkl");
    for at in 0..whole.len() {
        for byte in [0u8, 0x2e, 0x52, 0x63, 0x80, 0xff] {
            let mut changed = whole.clone();
            changed[at] = byte;
            let _ = decode(&changed);
        }
    }
}

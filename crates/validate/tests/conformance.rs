//! The conformance corpus (spec/conformance/): every file raises exactly the rule ids its
//! manifest entry lists, in full and in metadata-only validation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use oembeddings_validate::{Options, Rule, Target, validate};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/conformance")
}

fn ids(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_case_raises_exactly_the_listed_rules() {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["spec_version"], oembeddings_validate::SPEC_VERSION);
    let mut failures = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        let file = corpus().join(case["file"].as_str().unwrap());
        let mut base = Options::default();
        if let Some(target) = case["options"]["target"].as_str() {
            base = base.with_target(target.parse::<Target>().unwrap());
        }
        if let Some(bytes) = case["options"]["hub_max_row_group_bytes"].as_u64() {
            base = base.with_hub_max_row_group_bytes(bytes);
        }
        for (mode, options, expected) in [
            ("full", base.clone(), ids(&case["expect"])),
            (
                "metadata-only",
                base.clone().with_metadata_only(true),
                ids(&case["metadata_only_expect"]),
            ),
        ] {
            let report = validate(&file, &options).unwrap();
            let raised: BTreeSet<String> = report
                .findings
                .iter()
                .map(|f| f.rule.id().to_owned())
                .collect();
            if raised != expected {
                failures.push(format!(
                    "{} ({mode}): expected {expected:?}, raised {raised:?}\n    {}",
                    case["file"],
                    report
                        .findings
                        .iter()
                        .map(|f| format!("{} {}", f.rule, f.message))
                        .collect::<Vec<_>>()
                        .join("\n    ")
                ));
            }
            assert_eq!(
                report.valid,
                !raised.iter().any(|id| Rule::from_id(id).unwrap().severity()
                    == oembeddings_validate::Severity::Error)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_failing_case_and_the_corpus_has_valid_files() {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("manifest.json")).unwrap())
            .unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    let covered: BTreeSet<String> = cases.iter().flat_map(|c| ids(&c["expect"])).collect();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.id())
        .filter(|id| !covered.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a conformance case: {missing:?}"
    );
    assert!(
        cases
            .iter()
            .filter(|c| ids(&c["expect"]).is_empty())
            .count()
            >= 3
    );
}

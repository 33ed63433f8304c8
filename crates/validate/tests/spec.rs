//! spec/oembeddings.md and the rule catalogue say the same thing: the rules table lists every
//! rule exactly as the code defines it, every MUST and SHOULD of sections 1 to 5 names the
//! rules that check it, and every rule is named by a requirement of its own section.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use oembeddings_validate::Rule;

fn spec() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/oembeddings.md");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn rules_table_matches_the_catalogue() {
    let spec = spec();
    let table: Vec<Vec<String>> = spec
        .split("## 6. Rules")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| OE"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    let catalogue: Vec<Vec<String>> = Rule::ALL
        .iter()
        .map(|r| {
            vec![
                r.id().into(),
                r.severity().to_string(),
                r.section().into(),
                r.title().into(),
            ]
        })
        .collect();
    assert_eq!(
        table, catalogue,
        "spec/oembeddings.md section 6 differs from the catalogue (oembeddings validate --rules)"
    );
}

#[test]
fn every_requirement_names_its_rules_and_every_rule_its_requirement() {
    let spec = spec();
    let body = spec.split("## 6. Rules").next().unwrap();
    let mut section = String::new();
    let mut referenced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unchecked = Vec::new();
    // Paragraphs, with each table row on its own.
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let heading = line
            .strip_prefix("### ")
            .or_else(|| line.strip_prefix("## "));
        if let Some(h) = heading {
            blocks.push((section.clone(), std::mem::take(&mut current)));
            section = h
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('.')
                .to_owned();
        } else if line.trim().is_empty() || line.starts_with('|') {
            blocks.push((section.clone(), std::mem::take(&mut current)));
            if line.starts_with('|') {
                blocks.push((section.clone(), line.to_owned()));
            }
        } else {
            current.push_str(line);
            current.push(' ');
        }
    }
    blocks.push((section, current));
    for (section, text) in blocks {
        let ids: Vec<String> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                w.len() == 5 && w.starts_with("OE") && w[2..].bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_owned)
            .collect();
        for id in &ids {
            assert!(Rule::from_id(id).is_some(), "spec names unknown rule {id}");
            referenced
                .entry(id.clone())
                .or_default()
                .insert(section.clone());
        }
        let requirement = ["MUST", "SHOULD"].iter().any(|k| {
            text.split_whitespace()
                .any(|w| w.trim_matches(|c: char| !c.is_alphabetic()) == *k)
        });
        if requirement && ids.is_empty() && !section.is_empty() {
            unchecked.push(format!("§{section}: {}", text.trim()));
        }
    }
    assert!(
        unchecked.is_empty(),
        "requirements without rule ids:\n{}",
        unchecked.join("\n")
    );
    for rule in Rule::ALL {
        let sections = referenced
            .get(rule.id())
            .unwrap_or_else(|| panic!("{} is not named by any requirement", rule.id()));
        assert!(
            sections.contains(rule.section()),
            "{} belongs to §{} but is named in {sections:?}",
            rule.id(),
            rule.section()
        );
    }
}

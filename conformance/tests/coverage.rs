//! The coverage table in README.md ("Every rule probed") stays true: one row per check, in
//! checklist order; every probe it names is one the runner sends; every probe the runner sends is
//! named there.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use conformance::{checks, probes::name};

/// `(check id, probe names, the probes cell)` of each row of the table.
fn table() -> Vec<(String, BTreeSet<String>, String)> {
    let readme = include_str!("../README.md");
    let start = readme.find("<!-- coverage:start -->").unwrap();
    let end = readme.find("<!-- coverage:end -->").unwrap();
    readme[start..end]
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| check "))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let id = cells[0].trim_start_matches("| ").to_owned();
            let probes = cells[2]
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|word| {
                    word.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
                .map(str::to_owned)
                .collect();
            (id, probes, cells[2].to_owned())
        })
        .collect()
}

#[test]
fn every_check_has_one_row_in_checklist_order() {
    let ids: Vec<String> = table().into_iter().map(|(id, ..)| id).collect();
    let checks: Vec<String> = checks::all().iter().map(|c| c.def.id.to_owned()).collect();
    assert_eq!(ids, checks);
}

#[test]
fn every_probe_named_is_sent_and_every_probe_sent_is_named() {
    let named: BTreeSet<String> = table()
        .into_iter()
        .flat_map(|(_, probes, _)| probes)
        .collect();
    let sent: BTreeSet<String> = name::ALL.iter().map(|p| (*p).to_owned()).collect();
    let unknown: Vec<&String> = named.difference(&sent).collect();
    let unnamed: Vec<&String> = sent.difference(&named).collect();
    assert!(unknown.is_empty(), "named but never sent: {unknown:?}");
    assert!(
        unnamed.is_empty(),
        "sent but exercising no stated condition: {unnamed:?}"
    );
}

#[test]
fn every_row_names_a_probe_or_a_set_of_them() {
    // The sets: the valid requests of HTTP-001 and HTTP-002, the refusals of any probe, and
    // every reply.
    let sets = [
        "every non-stream reply",
        "every stream",
        "every non-2xx reply",
        "every probe's reply",
    ];
    let bare: Vec<String> = table()
        .into_iter()
        .filter(|(_, probes, cell)| probes.is_empty() && !sets.iter().any(|set| cell.contains(set)))
        .map(|(id, ..)| id)
        .collect();
    assert!(bare.is_empty(), "rows without a probe: {bare:?}");
}

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

/// The rows of the table between `<!-- {marker}:start -->` and its end: its cells, split.
fn rows(marker: &str) -> Vec<Vec<String>> {
    let readme = include_str!("../README.md");
    let start = readme.find(&format!("<!-- {marker}:start -->")).unwrap();
    let end = readme.find(&format!("<!-- {marker}:end -->")).unwrap();
    readme[start..end]
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("|---"))
        .skip(1)
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The check ids a cell names, each one that exists.
fn named_checks(cell: &str) -> Result<Vec<String>, String> {
    let ids: BTreeSet<String> = checks::all()
        .iter()
        .map(|check| check.def.id.to_owned())
        .collect();
    let named: Vec<String> = cell
        .split(", ")
        .map(str::to_owned)
        .filter(|id| id != "—")
        .collect();
    match named.iter().find(|id| !ids.contains(*id)) {
        Some(unknown) => Err(format!("{unknown} is no check")),
        None => Ok(named),
    }
}

/// Every parameter of `CreateChatCompletionRequest` the reference lists, and the ones clients
/// commonly set beside them.
const PARAMETERS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "response_format",
    "logprobs",
    "top_logprobs",
    "temperature",
    "seed",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "parallel_tool_calls",
    "logit_bias",
    "user",
    "metadata",
    "store",
];

#[test]
fn every_parameter_is_judged_by_a_check_or_says_why_not() {
    let table = rows("parameters");
    for parameter in PARAMETERS {
        let row = table
            .iter()
            .find(|row| row[0] == format!("`{parameter}`"))
            .unwrap_or_else(|| panic!("no row for {parameter}"));
        let checks = named_checks(&row[2]).unwrap_or_else(|error| panic!("{parameter}: {error}"));
        assert!(
            !checks.is_empty() || row[1].starts_with("not judged: "),
            "{parameter}: no check, and no reason why"
        );
    }
}

/// Every field of a reply, whole or streamed.
const FIELDS: &[&str] = &[
    "id",
    "object",
    "created",
    "model",
    "choices[].index",
    "role",
    "content",
    "refusal",
    "tool_calls",
    "finish_reason",
    "logprobs",
    "usage",
    "service_tier",
    "system_fingerprint",
];

#[test]
fn every_field_is_checked_in_whole_replies_and_in_streams() {
    let table = rows("fields");
    for field in FIELDS {
        let row = table
            .iter()
            .find(|row| row[0] == format!("`{field}`"))
            .unwrap_or_else(|| panic!("no row for {field}"));
        for (shape, cell) in [("whole", &row[1]), ("stream", &row[2])] {
            let checks = named_checks(cell).unwrap_or_else(|error| panic!("{field}: {error}"));
            assert!(!checks.is_empty(), "{field}: no {shape} check");
        }
    }
}

//! Writing a report: a table for the terminal, JSON, JUnit XML for CI systems, Markdown for docs.

use std::fmt::Write;

use crate::{check::Status, runner::Report};

fn short(text: &str, width: usize) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() <= width {
        return text;
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn summary(report: &Report) -> String {
    report
        .counts()
        .iter()
        .map(|(status, count)| format!("{count} {}", status.label().to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plain-text table, one check per line, then the totals.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "conformance of {} (model {}, profile {:?}){}\n\n{:<11} {:<6} {:<11} {}\n",
        report.target,
        report.model,
        report.profile,
        insecure_note(report),
        "CHECK",
        "SEV",
        "STATUS",
        "EVIDENCE"
    );
    for verdict in &report.verdicts {
        let severity = serde_json::to_value(verdict.check.severity).ok();
        let _ = writeln!(
            out,
            "{:<11} {:<6} {:<11} {}",
            verdict.check.id,
            severity.as_ref().and_then(|s| s.as_str()).unwrap_or(""),
            verdict.status.label(),
            short(&verdict.evidence, 110)
        );
    }
    if !report.capabilities.is_empty() {
        out.push_str("\nmodel capabilities (informational)\n");
        for capability in &report.capabilities {
            let _ = writeln!(
                out,
                "{:<18} {:<11} {}/{} {}",
                capability.name,
                format!("{:?}", capability.score).to_lowercase(),
                capability.successes,
                capability.attempts,
                short(&capability.evidence, 90)
            );
        }
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out.push_str(&dialect_note(report));
    out.push_str(&cut_note(report));
    out
}

/// Said once for the dialects whose checks were skipped: which, and why.
fn dialect_note(report: &Report) -> String {
    let unjudged: Vec<String> = report
        .dialects
        .iter()
        .filter(|dialect| !dialect.judged())
        .map(|dialect| {
            format!(
                "{} {}: {}",
                dialect.dialect.name(),
                dialect.status,
                dialect.evidence
            )
        })
        .collect();
    if unjudged.is_empty() {
        return String::new();
    }
    format!(
        "\ndialects whose checks were skipped:\n- {}\n",
        unjudged.join("\n- ")
    )
}

/// Said when the runner cut replies at its own limits: which, and that their checks were skipped.
fn cut_note(report: &Report) -> String {
    if report.cut.is_empty() {
        return String::new();
    }
    format!(
        "\n{} repl{} cut by the runner's own limits; the checks reading them are skipped, not failed (raise --timeout-ms or --max-body-bytes):\n- {}\n",
        report.cut.len(),
        if report.cut.len() == 1 { "y" } else { "ies" },
        report.cut.join("\n- ")
    )
}

/// The whole report as pretty JSON.
/// Said wherever a report names its target, when the run did not check the certificate.
fn insecure_note(report: &Report) -> &'static str {
    if report.tls_verified {
        ""
    } else {
        " — INSECURE: the server's TLS certificate was not verified (--insecure)"
    }
}

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test case per check; fail → `<failure>`, skip/unsupported → `<skipped>`, warn →
/// a passing case with the evidence in `<system-out>`.
pub fn junit(report: &Report) -> String {
    let failures = report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .count();
    let skipped = report
        .verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::Skip | Status::Unsupported))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites><testsuite name=\"conformance {}{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        xml_escape(&report.target),
        xml_escape(insecure_note(report)),
        report.verdicts.len()
    );
    for verdict in &report.verdicts {
        let group = serde_json::to_value(verdict.check.group).ok();
        let _ = write!(
            out,
            "  <testcase classname=\"{}.{}\" name=\"{} {}\">",
            verdict.check.group.dialect().name(),
            group.as_ref().and_then(|g| g.as_str()).unwrap_or(""),
            verdict.check.id,
            xml_escape(verdict.check.description)
        );
        let evidence = xml_escape(&verdict.evidence);
        match verdict.status {
            Status::Fail => {
                let _ = write!(out, "<failure message=\"{evidence}\">{evidence}</failure>");
            }
            Status::Skip | Status::Unsupported => {
                let _ = write!(out, "<skipped message=\"{evidence}\"/>");
            }
            Status::Warn | Status::Pass => {
                let _ = write!(
                    out,
                    "<system-out>{}: {evidence}</system-out>",
                    verdict.status.label()
                );
            }
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite></testsuites>\n");
    out
}

/// A Markdown table for docs.
pub fn markdown(report: &Report) -> String {
    let mut out = format!(
        "# Conformance: {}{}\n\nModel `{}`, profile `{:?}`: {}.\n\n| check | severity | status | description | evidence |\n|---|---|---|---|---|\n",
        report.target,
        insecure_note(report),
        report.model,
        report.profile,
        summary(report)
    );
    for verdict in &report.verdicts {
        let severity = serde_json::to_value(verdict.check.severity).ok();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            verdict.check.id,
            severity.as_ref().and_then(|s| s.as_str()).unwrap_or(""),
            verdict.status.label(),
            verdict.check.description.replace('|', "\\|"),
            short(&verdict.evidence, 160).replace('|', "\\|")
        );
    }
    if !report.capabilities.is_empty() {
        out.push_str("\n## Model capabilities (informational)\n\n| probe | score | successes | evidence |\n|---|---|---|---|\n");
        for capability in &report.capabilities {
            let _ = writeln!(
                out,
                "| {} | {:?} | {}/{} | {} |",
                capability.name,
                capability.score,
                capability.successes,
                capability.attempts,
                short(&capability.evidence, 120).replace('|', "\\|")
            );
        }
    }
    out.push_str(&dialect_note(report));
    out.push_str(&cut_note(report));
    out
}

/// A comparison of several runs: one row per check, one column per target (from `report.json`
/// files, as JSON), then each target's non-passing checks with their evidence.
pub fn matrix(columns: &[(String, serde_json::Value)]) -> String {
    let mut out = String::from("| check | severity |");
    for (name, _) in columns {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    let verdicts =
        |report: &serde_json::Value| report["verdicts"].as_array().cloned().unwrap_or_default();
    let rows = columns
        .first()
        .map(|(_, report)| verdicts(report))
        .unwrap_or_default();
    for row in &rows {
        let id = row["id"].as_str().unwrap_or("");
        let _ = write!(out, "| {id} | {} |", row["severity"].as_str().unwrap_or(""));
        for (_, report) in columns {
            let status = verdicts(report)
                .iter()
                .find(|v| v["id"] == id)
                .and_then(|v| v["status"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "-".to_owned());
            let shown = if status == "fail" {
                "**FAIL**".to_owned()
            } else {
                status
            };
            let _ = write!(out, " {shown} |");
        }
        out.push('\n');
    }
    for (name, report) in columns {
        let _ = write!(
            out,
            "\n### {name}\n\n`{}`, model `{}`, profile `{}`.\n\n",
            report["target"].as_str().unwrap_or(""),
            report["model"].as_str().unwrap_or(""),
            report["profile"].as_str().unwrap_or("")
        );
        let mut any = false;
        for verdict in verdicts(report).iter().filter(|v| v["status"] != "pass") {
            any = true;
            let _ = writeln!(
                out,
                "- **{}** {}: {}",
                verdict["id"].as_str().unwrap_or(""),
                verdict["status"].as_str().unwrap_or(""),
                short(verdict["evidence"].as_str().unwrap_or(""), 300).replace('|', "\\|")
            );
        }
        if !any {
            out.push_str("Every check passes.\n");
        }
    }
    out
}

/// Known disagreements between a real server and its mock: check id → why.
#[derive(Debug, Clone, Default)]
pub struct Explanations(std::collections::BTreeMap<String, String>);

impl Explanations {
    /// Reads `CHECK-ID  reason` lines; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Self {
        Explanations(
            text.lines()
                .map(|line| line.split('#').next().unwrap_or("").trim())
                .filter(|line| !line.is_empty())
                .map(|line| {
                    let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                    (id.to_owned(), reason.trim().to_owned())
                })
                .collect(),
        )
    }
}

/// The comparison of two reports.
#[derive(Debug, Clone)]
pub struct Drift {
    /// Both columns, then every disagreement with its explanation.
    pub text: String,
    /// Disagreements no explanation covers.
    pub unexplained: usize,
}

/// Compares a real server's verdicts with a mock's, check for check.
pub fn drift(
    real: &(String, serde_json::Value),
    mock: &(String, serde_json::Value),
    explanations: &Explanations,
) -> Drift {
    let mut text = String::new();
    let status = |report: &serde_json::Value, id: &str| {
        report["verdicts"]
            .as_array()
            .and_then(|verdicts| verdicts.iter().find(|v| v["id"] == id))
            .and_then(|v| v["status"].as_str())
            .unwrap_or("-")
            .to_owned()
    };
    let _ = writeln!(text, "| check | {} | {} |\n|---|---|---|", real.0, mock.0);
    let ids: Vec<String> = real.1["verdicts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let mut disagreements = Vec::new();
    for id in &ids {
        let (a, b) = (status(&real.1, id), status(&mock.1, id));
        let mark = if a == b { "" } else { " ≠" };
        let _ = writeln!(text, "| {id} | {a} | {b}{mark} |");
        if a != b {
            disagreements.push((id.clone(), a, b));
        }
    }
    let mut unexplained = 0;
    let _ = writeln!(
        text,
        "\n{} of {} checks agree; {} disagree.",
        ids.len() - disagreements.len(),
        ids.len(),
        disagreements.len()
    );
    for (id, a, b) in &disagreements {
        match explanations.0.get(id) {
            Some(reason) => {
                let _ = writeln!(text, "- {id}: {a} vs {b} — explained: {reason}");
            }
            None => {
                unexplained += 1;
                let _ = writeln!(text, "- {id}: {a} vs {b} — UNEXPLAINED");
            }
        }
    }
    Drift { text, unexplained }
}

#[cfg(test)]
mod drift_tests {
    use super::*;
    use serde_json::json;

    fn report(statuses: &[(&str, &str)]) -> serde_json::Value {
        json!({"verdicts": statuses.iter().map(|(id, status)| json!({"id": id, "status": status})).collect::<Vec<_>>()})
    }

    #[test]
    fn only_unexplained_disagreements_count() {
        let real = (
            "real".to_owned(),
            report(&[("A-1", "pass"), ("B-2", "fail"), ("C-3", "warn")]),
        );
        let mock = (
            "mock".to_owned(),
            report(&[("A-1", "pass"), ("B-2", "pass"), ("C-3", "fail")]),
        );
        let explanations = Explanations::parse("# known\nB-2   the model's own text\n");
        let drift = drift(&real, &mock, &explanations);
        assert_eq!(drift.unexplained, 1, "{}", drift.text);
        assert!(
            drift.text.contains("| B-2 | fail | pass ≠ |"),
            "{}",
            drift.text
        );
        assert!(
            drift
                .text
                .contains("- B-2: fail vs pass — explained: the model's own text")
        );
        assert!(drift.text.contains("- C-3: warn vs fail — UNEXPLAINED"));
        assert!(drift.text.contains("1 of 3 checks agree; 2 disagree."));
    }
}

//! The 79 checks of openai-conformance.md §9, 16 of this project's (headers, CORS, security,
//! embeddings, chunk fields), 5 of Chat parameters' effects, 21 of OpenAI's Responses API and 20 of Anthropic's
//! Messages API, one module per section. A check reads the probes' [`Observations`] and returns
//! an [`Outcome`] with evidence; it never sends anything itself.

mod cors;
mod embeddings;
mod errors;
mod headers;
mod http;
mod messages;
mod models;
mod non_stream;
mod params;
mod reply;
mod request;
mod responses;
mod security;
mod sse_framing;
mod stream;
mod tool;
mod usage;

use serde_json::Value;

pub use reply::{answered, misnamed, per_probe, served_as, stream, success_json};

use crate::{
    check::{CheckDef, Outcome},
    exchange::Exchange,
    probes::{Observations, StreamView},
};

/// A check: its identity and its judgement.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Id, group, severity, description.
    pub def: CheckDef,
    /// Reads the observations.
    pub run: fn(&Observations) -> Outcome,
}

/// Every check, in checklist order.
pub fn all() -> Vec<Check> {
    [
        http::CHECKS,
        non_stream::CHECKS,
        sse_framing::CHECKS,
        stream::CHECKS,
        usage::CHECKS,
        tool::CHECKS,
        errors::CHECKS,
        request::CHECKS,
        models::CHECKS,
        headers::CHECKS,
        cors::CHECKS,
        security::CHECKS,
        embeddings::CHECKS,
        params::CHECKS,
        responses::CHECKS,
        messages::CHECKS,
    ]
    .concat()
}

/// Declares a check.
macro_rules! check {
    ($id:literal, $group:ident, $severity:ident, $description:literal, $run:expr) => {
        $crate::checks::Check {
            def: $crate::check::CheckDef {
                id: $id,
                group: $crate::check::Group::$group,
                severity: $crate::check::Severity::$severity,
                description: $description,
            },
            run: $run,
        }
    };
}
pub(crate) use check;

/// Unwraps a prerequisite or returns the outcome explaining why it is missing.
macro_rules! need {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(outcome) => return outcome,
        }
    };
}
pub(crate) use need;

/// The exchange of `probe`, or a skip.
pub fn exchange<'a>(o: &'a Observations, probe: &str) -> Result<&'a Exchange, Outcome> {
    o.get(probe)
        .ok_or_else(|| Outcome::Skip(format!("probe {probe} was not run")))
}

/// Streams of successful requests that should end normally.
pub const STREAM_PROBES: &[&str] = &[
    crate::probes::name::STREAM_BASIC,
    crate::probes::name::STREAM_USAGE,
    crate::probes::name::STREAM_TOOL,
    crate::probes::name::STREAM_N2,
    crate::probes::name::STREAM_LOGPROBS,
];

/// Applies `problem` to every stream of [`STREAM_PROBES`], naming each probe's outcome.
pub fn per_stream(o: &Observations, problem: impl Fn(&StreamView) -> Option<String>) -> Outcome {
    per_probe(STREAM_PROBES, |probe| stream(o, probe), problem)
}

/// The streams of [`STREAM_PROBES`] that can be judged.
pub fn judged_streams(o: &Observations) -> Vec<(&'static str, &StreamView)> {
    STREAM_PROBES
        .iter()
        .filter_map(|probe| stream(o, probe).ok().map(|view| (*probe, view)))
        .collect()
}

/// Pass when no problem was found among `subjects` (or skip when there were none).
pub fn all_clear(subjects: usize, problems: Vec<String>, what: &str) -> Outcome {
    if subjects == 0 {
        Outcome::Skip(format!("nothing to check: no {what}"))
    } else if problems.is_empty() {
        Outcome::Pass(format!("{subjects} {what} checked"))
    } else {
        Outcome::Fail(problems.join("; "))
    }
}

/// An integer that fits Unix seconds.
pub fn is_unix_seconds(value: &Value) -> bool {
    value.as_u64().is_some() && !value.is_f64()
}

/// Finish reasons the schema allows.
pub const FINISH_REASONS: &[&str] = &[
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

/// Pass when a reply under `tool_choice: none` made no call (the first one is the evidence
/// otherwise).
pub fn no_call(calls: &[&Value], what: &str) -> Outcome {
    match calls.first() {
        Some(call) => Outcome::Fail(format!("{} under tool_choice none", show(call))),
        None => Outcome::Pass(format!("no {what}")),
    }
}

/// Pass when the answer to a tool's result has `text`; `reply` is the evidence otherwise.
pub fn answered_text(text: String, reply: &Value) -> Outcome {
    if text.is_empty() {
        Outcome::Fail(format!("no text: {}", show(reply)))
    } else {
        Outcome::Pass(format!("answered {}", crate::exchange::clip(text, 80)))
    }
}

/// Short JSON for evidence.
pub fn show(value: &Value) -> String {
    crate::exchange::clip(value.to_string(), 200)
}

/// The request-validation scoring of §9: 4xx with an envelope passes; 2xx (silently accepted)
/// fails the check (a warning under compat for SHOULD checks); 5xx fails.
pub fn rejected(o: &Observations, probes: &[&str]) -> Outcome {
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    for probe in probes {
        let exchange = need!(exchange(o, probe));
        match exchange.status {
            Some(status) if (400..500).contains(&status) => {
                evidence.push(format!("{probe}: {status}"))
            }
            _ => failures.push(format!(
                "{probe}: expected a 4xx, got {}",
                exchange.summary()
            )),
        }
    }
    if failures.is_empty() {
        Outcome::Pass(evidence.join(", "))
    } else {
        Outcome::Fail(failures.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_144_checks_with_unique_ids() {
        let checks = all();
        assert_eq!(checks.len(), 144);
        let ids: std::collections::BTreeSet<&str> = checks.iter().map(|c| c.def.id).collect();
        assert_eq!(ids.len(), 144);
    }
}

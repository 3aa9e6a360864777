//! Request validation (REQ-001..011): the runner sends a bad request; a 4xx with the envelope
//! passes, a silent 2xx fails (a warning under compat for SHOULD), a 5xx fails (and ERR-006 too).

use super::{Check, answered, check, exchange, need, rejected, show, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!("REQ-001", Req, Should, "a missing model is a 400", |o| {
        rejected(o, &[name::MISSING_MODEL])
    }),
    check!(
        "REQ-002",
        Req,
        Must,
        "missing or empty messages are a 400",
        |o| rejected(o, &[name::MISSING_MESSAGES, name::EMPTY_MESSAGES])
    ),
    check!(
        "REQ-003",
        Req,
        Must,
        "an unknown role or a non-string, non-array content is a 400",
        |o| rejected(o, &[name::UNKNOWN_ROLE, name::NUMERIC_CONTENT])
    ),
    check!(
        "REQ-004",
        Req,
        Must,
        "content as text parts is accepted (and the developer role SHOULD be)",
        req_004
    ),
    check!(
        "REQ-005",
        Req,
        Should,
        "temperature, top_p and penalties out of range are a 400",
        |o| rejected(
            o,
            &[
                name::TEMPERATURE_HIGH,
                name::TEMPERATURE_NEGATIVE,
                name::TOP_P_HIGH,
                name::PENALTY_HIGH,
                name::PENALTY_LOW,
            ]
        )
    ),
    check!(
        "REQ-006",
        Req,
        Should,
        "n: 0, five stop sequences, top_logprobs > 20 or without logprobs are a 400",
        |o| rejected(
            o,
            &[
                name::N_ZERO,
                name::STOP_FIVE,
                name::TOP_LOGPROBS_HIGH,
                name::TOP_LOGPROBS_ALONE,
            ]
        )
    ),
    check!(
        "REQ-007",
        Req,
        Should,
        "stop works: the text lacks the stop sequence and finish_reason is stop",
        req_007
    ),
    check!(
        "REQ-008",
        Req,
        Should,
        "stream_options without stream is a 400 or ignored, never a 5xx",
        req_008
    ),
    check!(
        "REQ-009",
        Req,
        Should,
        "a tool message without tool_call_id is a 400",
        |o| rejected(o, &[name::TOOL_WITHOUT_ID])
    ),
    check!(
        "REQ-010",
        Req,
        Should,
        "an invalid function name (a space, over 64 characters) and tools: [] are a 400",
        |o| rejected(
            o,
            &[
                name::BAD_FUNCTION_NAME,
                name::LONG_FUNCTION_NAME,
                name::EMPTY_TOOLS,
            ]
        )
    ),
    check!(
        "REQ-011",
        Req,
        Should,
        "an unknown parameter is rejected or ignored (reported), never a 5xx",
        req_011
    ),
];

fn req_004(o: &Observations) -> Outcome {
    let parts = need!(answered(o, name::CONTENT_PARTS));
    let parts = format!("{}: {}", name::CONTENT_PARTS, parts.summary());
    match answered(o, name::DEVELOPER_ROLE) {
        Err(Outcome::Fail(developer)) => Outcome::FailShould(developer),
        Err(unjudged) => Outcome::Pass(format!(
            "{parts}; developer role not judged: {}",
            unjudged.evidence()
        )),
        Ok(_) => Outcome::Pass(parts),
    }
}

fn req_007(o: &Observations) -> Outcome {
    let body = need!(success_json(o, name::STOP_SEQUENCE));
    let text = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("");
    let finish = &body["choices"][0]["finish_reason"];
    Outcome::expect(
        !text.contains('5') && finish == "stop",
        format!("text {text:?}, finish_reason {}", show(finish)),
    )
}

fn req_008(o: &Observations) -> Outcome {
    rejected_or_ignored(o, name::STREAM_OPTIONS_NO_STREAM, "")
}

fn req_011(o: &Observations) -> Outcome {
    rejected_or_ignored(o, name::UNKNOWN_PARAMETER, " (as OpenAI does)")
}

/// Probe `probe` was either refused with a 4xx (`note` follows the status in the evidence) or
/// answered with a 2xx; anything else fails.
fn rejected_or_ignored(o: &Observations, probe: &str, note: &str) -> Outcome {
    let exchange = need!(exchange(o, probe));
    match exchange.status {
        Some(status) if (400..500).contains(&status) => {
            Outcome::Pass(format!("rejected with {status}{note}"))
        }
        Some(status) if (200..300).contains(&status) => {
            Outcome::Pass(format!("ignored ({status})"))
        }
        _ => Outcome::Fail(exchange.summary()),
    }
}

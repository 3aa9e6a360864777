//! Errors (ERR-001..010): the envelope on every non-2xx reply, statuses, and failures after
//! streaming began (those need a target that can be made to fail; see `--fault-prompt`).

use serde_json::Value;

use super::{Check, check, exchange, need, show, stream};
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "ERR-001",
        Err,
        Must,
        "every non-2xx reply is JSON {\"error\": {...}} with Content-Type application/json",
        err_001
    ),
    check!(
        "ERR-002",
        Err,
        Must,
        "error.message is a non-empty string and error.type a string",
        err_002
    ),
    check!(
        "ERR-003",
        Err,
        Must,
        "error.param and error.code are present, each a string or null; code never a number",
        err_003
    ),
    check!(
        "ERR-004",
        Err,
        Must,
        "invalid-parameter requests get a 4xx (and SHOULD get 400)",
        err_004
    ),
    check!(
        "ERR-005",
        Err,
        Must,
        "an unknown model is a 4xx, never 2xx or 5xx (and SHOULD be a 404)",
        err_005
    ),
    check!(
        "ERR-006",
        Err,
        Must,
        "client errors are never reported as 5xx",
        err_006
    ),
    check!(
        "ERR-007",
        Err,
        Should,
        "429 replies carry the envelope and Retry-After (integer seconds ≥ 1)",
        err_007
    ),
    check!(
        "ERR-008",
        Err,
        Should,
        "overload is reported with a retryable 5xx, not a 4xx like 424",
        err_008
    ),
    check!(
        "ERR-009",
        Err,
        Must,
        "a failure after streaming began is one data: {\"error\": {...}} event, then only [DONE] or the end",
        err_009
    ),
    check!(
        "ERR-010",
        Err,
        Should,
        "a mid-stream failure is never disguised as a normal completion",
        err_010
    ),
];

/// Client-error probes: each must be a 4xx.
const CLIENT_ERRORS: &[&str] = &[
    name::MALFORMED_JSON,
    name::WRONG_TYPES,
    name::MISSING_MODEL,
    name::MISSING_MESSAGES,
    name::EMPTY_MESSAGES,
    name::UNKNOWN_ROLE,
    name::NUMERIC_CONTENT,
    name::TEMPERATURE_HIGH,
    name::TOP_P_HIGH,
    name::PENALTY_HIGH,
    name::N_ZERO,
    name::STOP_FIVE,
    name::TOP_LOGPROBS_HIGH,
    name::TOP_LOGPROBS_ALONE,
    name::TEMPERATURE_NEGATIVE,
    name::PENALTY_LOW,
    name::LONG_FUNCTION_NAME,
    name::STREAM_OPTIONS_NO_STREAM,
    name::TOOL_WITHOUT_ID,
    name::BAD_FUNCTION_NAME,
    name::EMPTY_TOOLS,
    name::UNKNOWN_PARAMETER,
    name::UNKNOWN_MODEL,
    name::UNKNOWN_MODEL_STREAM,
    name::INVALID_PARAM_STREAM,
    name::OVER_CONTEXT_STREAM,
];

/// Every error reply an API client can get: not the CORS preflight's, which only a browser
/// reads (CORS-003 judges it).
fn failures(o: &Observations) -> Vec<&Exchange> {
    o.chat_exchanges()
        .filter(|e| e.status.is_some_and(|s| s >= 400) && e.probe != name::CORS_PREFLIGHT)
        .collect()
}

fn per_error(o: &Observations, problem: impl Fn(&Exchange, &Value) -> Option<String>) -> Outcome {
    let failed = failures(o);
    let mut problems = Vec::new();
    for exchange in &failed {
        let body = exchange.json().unwrap_or(Value::Null);
        if let Some(problem) = problem(exchange, &body) {
            problems.push(format!("{}: {problem}", exchange.probe));
        }
    }
    super::all_clear(failed.len(), problems, "error replies")
}

fn err_001(o: &Observations) -> Outcome {
    per_error(o, |exchange, body| {
        let media = exchange.media_type().unwrap_or_default();
        if media != "application/json" {
            Some(format!(
                "content-type {:?}: {}",
                exchange.header("content-type"),
                exchange.summary()
            ))
        } else if !body["error"].is_object() {
            Some(format!("no error object: {}", exchange.summary()))
        } else {
            None
        }
    })
}

fn err_002(o: &Observations) -> Outcome {
    per_error(o, |exchange, body| {
        let error = &body["error"];
        let ok =
            error["message"].as_str().is_some_and(|m| !m.is_empty()) && error["type"].is_string();
        (!ok).then(|| {
            format!(
                "message {} type {} ({})",
                show(&error["message"]),
                show(&error["type"]),
                exchange.summary()
            )
        })
    })
}

fn err_003(o: &Observations) -> Outcome {
    per_error(o, |_, body| {
        let error = &body["error"];
        let key_ok = |key: &str| matches!(error.get(key), Some(Value::Null | Value::String(_)));
        (!(key_ok("param") && key_ok("code"))).then(|| {
            format!(
                "param {} code {}",
                error.get("param").map_or("absent".to_owned(), show),
                error.get("code").map_or("absent".to_owned(), show)
            )
        })
    })
}

fn err_004(o: &Observations) -> Outcome {
    let probes = [name::WRONG_TYPES];
    let mut notes = Vec::new();
    let mut not_400 = Vec::new();
    for probe in probes {
        let exchange = need!(exchange(o, probe));
        match exchange.status {
            Some(400) => notes.push(format!("{probe}: 400")),
            Some(422) => not_400.push(format!(
                "{probe}: 422 (SDKs raise UnprocessableEntityError, not BadRequestError)"
            )),
            Some(status) if (400..500).contains(&status) => {
                not_400.push(format!("{probe}: {status}"))
            }
            _ => return Outcome::Fail(format!("{probe}: {}", exchange.summary())),
        }
    }
    if not_400.is_empty() {
        Outcome::Pass(notes.join(", "))
    } else {
        Outcome::FailShould(not_400.join(", "))
    }
}

fn err_005(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::UNKNOWN_MODEL));
    let code = exchange
        .json()
        .map(|b| b["error"]["code"].clone())
        .unwrap_or(Value::Null);
    let evidence = format!("{} (code {})", exchange.summary(), show(&code));
    match exchange.status {
        Some(404) => Outcome::Pass(evidence),
        Some(status) if (400..500).contains(&status) => Outcome::FailShould(evidence),
        _ => Outcome::Fail(evidence),
    }
}

fn err_006(o: &Observations) -> Outcome {
    let mut problems = Vec::new();
    let mut seen = 0;
    for probe in CLIENT_ERRORS {
        if let Some(exchange) = o.get(probe) {
            seen += 1;
            if exchange.status.is_some_and(|s| s >= 500) {
                problems.push(format!("{probe}: {}", exchange.summary()));
            }
        }
    }
    super::all_clear(seen, problems, "client-error probes")
}

fn err_007(o: &Observations) -> Outcome {
    let limited: Vec<&Exchange> = o
        .chat_exchanges()
        .filter(|e| e.status == Some(429))
        .collect();
    if limited.is_empty() {
        return match o.get(name::RATE_LIMIT) {
            Some(exchange) => Outcome::Fail(format!(
                "the rate-limit probe was not refused: {}",
                exchange.summary()
            )),
            None => Outcome::Skip(
                "no 429 observed (give --rate-limit-prompt or --rate-limit-burst to provoke one)"
                    .to_owned(),
            ),
        };
    }
    for exchange in limited {
        let retry = exchange
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let enveloped = exchange.json().is_some_and(|b| b["error"].is_object());
        if !(enveloped && retry.is_some_and(|r| r >= 1)) {
            return Outcome::Fail(format!(
                "{}: Retry-After {:?}, {}",
                exchange.probe,
                exchange.header("retry-after"),
                exchange.summary()
            ));
        }
    }
    Outcome::Pass("429 with envelope and Retry-After".to_owned())
}

fn err_008(o: &Observations) -> Outcome {
    let Some(exchange) = o.get(name::OVERLOAD) else {
        return Outcome::Skip("overload not probed (give --overload-prompt)".to_owned());
    };
    Outcome::expect(
        exchange.status.is_some_and(|s| s >= 500),
        exchange.summary(),
    )
}

/// The stream of the mid-stream-failure probe, when it failed after streaming began.
fn fault_stream(o: &Observations) -> Result<&crate::probes::StreamView, Outcome> {
    let Some(exchange) = o.get(name::STREAM_FAULT) else {
        return Err(Outcome::Skip(
            "no mid-stream failure provoked (give --fault-prompt)".to_owned(),
        ));
    };
    if !exchange.is_success() {
        return Err(Outcome::Skip(format!(
            "the failure happened before streaming: {}",
            exchange.summary()
        )));
    }
    stream(o, name::STREAM_FAULT)
}

fn err_009(o: &Observations) -> Outcome {
    let view = need!(fault_stream(o));
    let Some((position, error)) = view.errors.first() else {
        return Outcome::Fail(format!(
            "no error event among {} events",
            view.client_events.len()
        ));
    };
    let envelope = &error["error"];
    let four_keys = envelope["message"].is_string()
        && envelope["type"].is_string()
        && matches!(envelope.get("param"), Some(Value::Null | Value::String(_)))
        && matches!(envelope.get("code"), Some(Value::Null | Value::String(_)));
    if !four_keys {
        return Outcome::Fail(format!("event #{position}: error {}", show(error)));
    }
    let after: Vec<&String> = view.client_events[position + 1..]
        .iter()
        .map(|(_, data)| data)
        .collect();
    Outcome::expect(
        after.iter().all(|data| data.as_str() == "[DONE]") && after.len() <= 1,
        format!("error event #{position}, then {after:?}"),
    )
}

fn err_010(o: &Observations) -> Outcome {
    let view = need!(fault_stream(o));
    if !view.errors.is_empty() {
        return Outcome::Pass("the failure is reported as an error event".to_owned());
    }
    let finished = !view.finishes(0).is_empty();
    Outcome::Fail(if finished {
        format!(
            "the stream finished normally ({} events, [DONE] {:?}) though the upstream failed",
            view.client_events.len(),
            view.done
        )
    } else {
        "the stream ended silently, without an error event".to_owned()
    })
}

//! Response headers (HDR-001..004): request ids, OpenAI's rate-limit headers, `Retry-After`.
//! Not in the reference's §9; OpenAI sends all of them and its SDKs read them (`_request_id`,
//! the retry delay), so a gateway that sends them must send them well-formed.

use super::{Check, all_clear, check, exchange, need};
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{Observations, REQUEST_ID, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "HDR-001",
        Headers,
        Should,
        "every reply (but a CORS preflight) carries a non-empty x-request-id",
        hdr_001
    ),
    check!(
        "HDR-002",
        Headers,
        Should,
        "an x-request-id the client sends is echoed",
        hdr_002
    ),
    check!(
        "HDR-003",
        Headers,
        Should,
        "x-ratelimit-* headers, when present, are well-formed and consistent",
        hdr_003
    ),
    check!(
        "HDR-004",
        Headers,
        Must,
        "Retry-After, wherever present, is delay-seconds or an HTTP-date (retry-after-ms a number)",
        hdr_004
    ),
];

/// Every exchange that got an answer.
fn answered(o: &Observations) -> impl Iterator<Item = &Exchange> {
    o.chat_exchanges().filter(|e| e.status.is_some())
}

fn hdr_001(o: &Observations) -> Outcome {
    // The CORS preflight is a browser's, answered by CORS middleware before any route.
    let replies: Vec<&Exchange> = answered(o)
        .filter(|e| e.probe != name::CORS_PREFLIGHT)
        .collect();
    let missing: Vec<String> = replies
        .iter()
        .filter(|e| {
            e.header("x-request-id")
                .is_none_or(|id| id.trim().is_empty())
        })
        .map(|e| format!("{} (HTTP {})", e.probe, e.status.unwrap_or(0)))
        .collect();
    if missing.is_empty() {
        return all_clear(replies.len(), Vec::new(), "replies with an x-request-id");
    }
    Outcome::Fail(format!(
        "{} of {} replies without x-request-id: {}",
        missing.len(),
        replies.len(),
        missing.join(", ")
    ))
}

fn hdr_002(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::REQUEST_ID_ECHO));
    if exchange.status.is_none() {
        return Outcome::Skip(format!(
            "{}: no answer: {}",
            name::REQUEST_ID_ECHO,
            exchange.summary()
        ));
    }
    let echoed = exchange.header("x-request-id");
    Outcome::expect(
        echoed == Some(REQUEST_ID),
        format!("sent x-request-id {REQUEST_ID:?}, got back {echoed:?}"),
    )
}

/// The two budgets OpenAI reports.
const BUDGETS: [&str; 2] = ["requests", "tokens"];

/// OpenAI's reset format (`1s`, `6m0s`, `20ms`, `1h2m3.5s`) or plain seconds.
fn is_reset(value: &str) -> bool {
    let value = value.trim();
    if value.parse::<f64>().is_ok_and(|seconds| seconds >= 0.0) {
        return true;
    }
    let mut rest = value;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 || rest[..digits].parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ms", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
        parts += 1;
    }
    parts > 0
}

/// What is wrong with one reply's rate-limit headers of `budget`.
fn rate_limit_problem(exchange: &Exchange, budget: &str) -> Option<String> {
    let limit = exchange.header(&format!("x-ratelimit-limit-{budget}"));
    let remaining = exchange.header(&format!("x-ratelimit-remaining-{budget}"));
    let reset = exchange.header(&format!("x-ratelimit-reset-{budget}"));
    if limit.is_none() && remaining.is_none() && reset.is_none() {
        return None;
    }
    let count = |value: Option<&str>| value.and_then(|v| v.trim().parse::<u64>().ok());
    let (Some(limit_n), Some(remaining_n)) = (count(limit), count(remaining)) else {
        return Some(format!(
            "limit-{budget} {limit:?} and remaining-{budget} {remaining:?} must both be non-negative integers"
        ));
    };
    if remaining_n > limit_n {
        return Some(format!(
            "remaining-{budget} {remaining_n} exceeds limit-{budget} {limit_n}"
        ));
    }
    match reset {
        Some(reset) if !is_reset(reset) => Some(format!(
            "reset-{budget} {reset:?} is neither a duration like 6m0s nor seconds"
        )),
        None => Some(format!("reset-{budget} missing beside limit and remaining")),
        Some(_) => None,
    }
}

fn hdr_003(o: &Observations) -> Outcome {
    let mut problems = Vec::new();
    let mut with_headers = 0;
    let mut limits: [Option<(&str, u64)>; 2] = [None, None];
    for exchange in answered(o) {
        for (slot, budget) in BUDGETS.iter().enumerate() {
            let Some(limit) = exchange.header(&format!("x-ratelimit-limit-{budget}")) else {
                if let Some(problem) = rate_limit_problem(exchange, budget) {
                    problems.push(format!("{}: {problem}", exchange.probe));
                }
                continue;
            };
            with_headers += 1;
            if let Some(problem) = rate_limit_problem(exchange, budget) {
                problems.push(format!("{}: {problem}", exchange.probe));
                continue;
            }
            let limit = limit.trim().parse::<u64>().unwrap_or(0);
            match limits[slot] {
                Some((first, seen)) if seen != limit => problems.push(format!(
                    "limit-{budget} {seen} on {first} but {limit} on {}",
                    exchange.probe
                )),
                Some(_) => {}
                None => limits[slot] = Some((exchange.probe, limit)),
            }
        }
    }
    if with_headers == 0 && problems.is_empty() {
        return Outcome::Pass("no x-ratelimit-* headers sent".to_owned());
    }
    all_clear(with_headers, problems, "rate-limit header sets")
}

fn hdr_004(o: &Observations) -> Outcome {
    let mut seen = 0;
    let mut problems = Vec::new();
    for exchange in answered(o) {
        if let Some(value) = exchange.header("retry-after") {
            seen += 1;
            let value = value.trim();
            let seconds = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            if !seconds && httpdate::parse_http_date(value).is_err() {
                problems.push(format!("{}: Retry-After {value:?}", exchange.probe));
            }
        }
        if let Some(value) = exchange.header("retry-after-ms") {
            seen += 1;
            if value.trim().parse::<f64>().is_err() {
                problems.push(format!("{}: retry-after-ms {value:?}", exchange.probe));
            }
        }
    }
    if seen == 0 {
        return Outcome::Pass("no Retry-After sent".to_owned());
    }
    all_clear(seen, problems, "Retry-After headers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_are_openai_durations_or_seconds() {
        for good in ["1s", "6m0s", "20ms", "1h2m3.5s", "0", "59.1", "12"] {
            assert!(is_reset(good), "{good}");
        }
        for bad in ["", "soon", "1x", "m", "-1", "1s2"] {
            assert!(!is_reset(bad), "{bad}");
        }
    }
}

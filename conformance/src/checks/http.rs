//! HTTP / transport (HTTP-001..004).

use super::{Check, answered, check, exchange, need};
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "HTTP-001",
        Http,
        Must,
        "Non-stream request returns 200 with Content-Type application/json",
        http_001
    ),
    check!(
        "HTTP-002",
        Http,
        Must,
        "stream:true returns 200 with Content-Type text/event-stream",
        http_002
    ),
    check!(
        "HTTP-003",
        Http,
        Must,
        "An invalid stream:true request gets a 4xx JSON error before any SSE bytes",
        http_003
    ),
    check!(
        "HTTP-004",
        Http,
        Must,
        "With auth expected (--expect-auth), a missing or wrong key is 401 with the error envelope",
        http_004
    ),
];

fn http_001(o: &Observations) -> Outcome {
    answered_200_as(o, name::NS_BASIC, VALID_JSON, "application/json")
}

fn http_002(o: &Observations) -> Outcome {
    answered_200_as(o, name::STREAM_BASIC, VALID_STREAMS, "text/event-stream")
}

/// Valid non-stream requests.
const VALID_JSON: &[&str] = &[
    name::NS_BASIC,
    name::NS_LIMIT_MAX_COMPLETION_TOKENS,
    name::NS_LIMIT_MAX_TOKENS,
    name::NS_TOOL,
    name::TOOL_ROUND_TRIP,
    name::NS_N2,
    name::NS_LOGPROBS,
    name::CONTENT_PARTS,
    name::DEVELOPER_ROLE,
    name::STOP_SEQUENCE,
];

/// Valid `stream: true` requests.
const VALID_STREAMS: &[&str] = &[
    name::STREAM_BASIC,
    name::STREAM_USAGE,
    name::STREAM_TOOL,
    name::STREAM_N2,
    name::STREAM_LOGPROBS,
];

/// Every valid request of `probes` that was answered 2xx was answered 200 with media type
/// `media`; `basic` was, and no other was answered with a 5xx or not at all. A 4xx for a request other than
/// `basic` is its own check's business (a declined feature, a refused message form).
fn answered_200_as(o: &Observations, basic: &str, probes: &[&str], media: &str) -> Outcome {
    let mut lines = Vec::new();
    let mut failed = false;
    let mut judged = false;
    for &probe in probes {
        let refused_by_its_own_check = probe != basic
            && o.get(probe)
                .and_then(|e| e.status)
                .is_some_and(|s| (400..500).contains(&s));
        match answered(o, probe) {
            Ok(exchange) => {
                judged = true;
                let answered_as = exchange.media_type().unwrap_or_default();
                failed |= exchange.status != Some(200) || answered_as != media;
                lines.push(format!(
                    "{probe}: {} {answered_as}",
                    exchange.status.unwrap_or(0)
                ));
            }
            Err(Outcome::Fail(evidence)) if !refused_by_its_own_check => {
                failed = true;
                lines.push(evidence);
            }
            Err(unjudged) => lines.push(format!("not judged, {}", unjudged.evidence())),
        }
    }
    let evidence = lines.join("; ");
    if failed {
        Outcome::Fail(evidence)
    } else if judged {
        Outcome::Pass(evidence)
    } else {
        Outcome::Skip(evidence)
    }
}

fn http_003(o: &Observations) -> Outcome {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for probe in [
        name::UNKNOWN_MODEL_STREAM,
        name::INVALID_PARAM_STREAM,
        name::OVER_CONTEXT_STREAM,
    ] {
        let Some(exchange) = o.get(probe) else {
            if probe == name::OVER_CONTEXT_STREAM {
                seen.push(format!("{probe} not sent (give --context-tokens)"));
                continue;
            }
            return Outcome::Skip(format!("probe {probe} was not run"));
        };
        let status = exchange.status.unwrap_or(0);
        let media = exchange.media_type().unwrap_or_default();
        if !(400..500).contains(&status)
            || media == "text/event-stream"
            || exchange.json().is_none()
        {
            problems.push(format!(
                "{probe}: {} (content-type {media:?})",
                exchange.summary()
            ));
        } else {
            seen.push(format!("{probe}: {status} {media}"));
        }
    }
    if problems.is_empty() {
        Outcome::Pass(seen.join(", "))
    } else {
        Outcome::Fail(problems.join("; "))
    }
}

fn http_004(o: &Observations) -> Outcome {
    let missing = need!(exchange(o, name::AUTH_MISSING));
    let wrong = need!(exchange(o, name::AUTH_WRONG));
    if !o.expect_auth {
        let keyless = if missing.is_success() {
            "keyless requests are accepted"
        } else {
            "keyless requests are refused; pass --expect-auth (and the key) to judge it"
        };
        return Outcome::Skip(format!(
            "auth not expected (no --expect-auth): {keyless} (without key: {})",
            missing.summary()
        ));
    }
    let refused = |exchange: &Exchange| {
        exchange.status == Some(401)
            && exchange
                .json()
                .is_some_and(|body| body["error"].is_object())
    };
    let accepted = o.get(name::NS_BASIC).is_some_and(|e| e.is_success());
    Outcome::expect(
        refused(missing) && refused(wrong) && accepted,
        format!(
            "without key: {}; wrong key: {}; with the key accepted: {accepted}",
            missing.summary(),
            wrong.summary()
        ),
    )
}

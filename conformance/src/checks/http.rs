//! HTTP / transport (HTTP-001..004).

use super::{Check, check, exchange, need};
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
    answered_200_as(o, name::NS_BASIC, "application/json")
}

fn http_002(o: &Observations) -> Outcome {
    answered_200_as(o, name::STREAM_BASIC, "text/event-stream")
}

/// Probe `probe` was answered 200 with the media type `media`.
fn answered_200_as(o: &Observations, probe: &str, media: &str) -> Outcome {
    let exchange = need!(exchange(o, probe));
    Outcome::expect(
        exchange.status == Some(200) && exchange.media_type().unwrap_or_default() == media,
        format!(
            "status {:?}, content-type {:?}",
            exchange.status,
            exchange.header("content-type")
        ),
    )
}

fn http_003(o: &Observations) -> Outcome {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for probe in [name::UNKNOWN_MODEL_STREAM, name::INVALID_PARAM_STREAM] {
        let exchange = need!(exchange(o, probe));
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

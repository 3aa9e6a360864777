//! Usage in streams (USAGE-001..004).

use serde_json::Value;

use super::{Check, check, need, per_probe, show, stream, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "USAGE-001",
        Usage,
        Should,
        "without include_usage, no chunk carries usage and no choices:[] chunk is sent",
        usage_001
    ),
    check!(
        "USAGE-002",
        Usage,
        Must,
        "with include_usage, exactly one choices:[] chunk with a usage object arrives before [DONE]",
        usage_002
    ),
    check!(
        "USAGE-003",
        Usage,
        Should,
        "with include_usage, every other chunk carries usage: null",
        usage_003
    ),
    check!(
        "USAGE-004",
        Usage,
        Should,
        "streamed usage is consistent and equals the non-stream usage of the same request",
        usage_004
    ),
];

fn usage_chunks(view: &crate::probes::StreamView) -> Vec<&(usize, Value)> {
    view.chunks
        .iter()
        .filter(|(_, chunk)| chunk["choices"].as_array().is_some_and(Vec::is_empty))
        .collect()
}

fn usage_001(o: &Observations) -> Outcome {
    // Every stream that did not ask for usage.
    per_probe(
        &[
            name::STREAM_BASIC,
            name::STREAM_TOOL,
            name::STREAM_N2,
            name::STREAM_LOGPROBS,
        ],
        |probe| stream(o, probe),
        |view| {
            if let Some((position, chunk)) = view
                .chunks
                .iter()
                .find(|(_, c)| c.get("usage").is_some_and(|u| !u.is_null()))
            {
                return Some(format!(
                    "event #{position} carries usage {} unasked",
                    show(&chunk["usage"])
                ));
            }
            usage_chunks(view)
                .first()
                .map(|(position, _)| format!("event #{position} has choices: [] unasked"))
        },
    )
}

fn usage_002(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::STREAM_USAGE));
    let chunks = usage_chunks(view);
    let [(position, chunk)] = chunks.as_slice() else {
        return Outcome::Fail(format!(
            "{} choices:[] chunks (expected exactly 1)",
            chunks.len()
        ));
    };
    if !chunk["usage"].is_object() {
        return Outcome::Fail(format!(
            "event #{position}: usage {}",
            show(&chunk["usage"])
        ));
    }
    // Its place relative to the finish_reason is STREAM-012's to judge, a missing [DONE] SSE-006's.
    let before_done = view.done.is_none_or(|d| d > *position);
    Outcome::expect(
        before_done,
        format!(
            "usage chunk at event #{position}, [DONE] at {:?}",
            view.done
        ),
    )
}

fn usage_003(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::STREAM_USAGE));
    let offending = view
        .choice_chunks()
        .find(|(_, chunk)| !chunk.get("usage").is_some_and(Value::is_null));
    match offending {
        Some((position, chunk)) => Outcome::Fail(format!(
            "event #{position}: usage {}",
            chunk.get("usage").map_or("absent".to_owned(), show)
        )),
        None => Outcome::Pass("every choice chunk says usage: null".to_owned()),
    }
}

fn usage_004(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::STREAM_USAGE));
    let whole = need!(success_json(o, name::NS_BASIC));
    let Some((_, chunk)) = usage_chunks(view).into_iter().next() else {
        return Outcome::Skip("no usage chunk to compare".to_owned());
    };
    let streamed = &chunk["usage"];
    let count = |usage: &Value, key: &str| usage[key].as_u64();
    let consistent = match (
        count(streamed, "prompt_tokens"),
        count(streamed, "completion_tokens"),
        count(streamed, "total_tokens"),
    ) {
        (Some(p), Some(c), Some(t)) => p + c == t,
        _ => false,
    };
    let same = ["prompt_tokens", "completion_tokens", "total_tokens"]
        .iter()
        .all(|key| count(streamed, key) == count(&whole["usage"], key));
    Outcome::expect(
        consistent && same,
        format!(
            "stream {} vs non-stream {}",
            show(streamed),
            show(&whole["usage"])
        ),
    )
}

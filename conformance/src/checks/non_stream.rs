//! Non-streaming responses (NS-001..013), judged on every successful non-stream probe.

use serde_json::Value;

use super::{Check, FINISH_REASONS, check, is_unix_seconds, need, per_probe, show, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "NS-001",
        NonStream,
        Must,
        "id, object == chat.completion, created, model and choices are present",
        ns_001
    ),
    check!(
        "NS-002",
        NonStream,
        Must,
        "created is an integer Unix timestamp in seconds, within a day of now",
        ns_002
    ),
    check!(
        "NS-003",
        NonStream,
        Must,
        "choices has n entries (1 by default) indexed 0..n-1",
        ns_003
    ),
    check!(
        "NS-004",
        NonStream,
        Must,
        "each choice has index, message and a non-null finish_reason from the enum",
        ns_004
    ),
    check!(
        "NS-005",
        NonStream,
        Should,
        "each choice has the logprobs key (null when not requested)",
        ns_005
    ),
    check!(
        "NS-006",
        NonStream,
        Must,
        "message.role is assistant",
        ns_006
    ),
    check!(
        "NS-007",
        NonStream,
        Must,
        "message.content is present, a string or null; null only with tool_calls or refusal",
        ns_007
    ),
    check!(
        "NS-008",
        NonStream,
        Should,
        "message.refusal is present (usually null)",
        ns_008
    ),
    check!(
        "NS-009",
        NonStream,
        Should,
        "tool_calls is absent or non-empty, never []",
        ns_009
    ),
    check!(
        "NS-010",
        NonStream,
        Must,
        "usage has integer counts and total = prompt + completion (SHOULD be present)",
        ns_010
    ),
    check!(
        "NS-011",
        NonStream,
        Must,
        "max_completion_tokens / max_tokens = 5 give finish_reason length and at most 5 completion tokens",
        ns_011
    ),
    check!(
        "NS-012",
        NonStream,
        Should,
        "service_tier is from the enum and system_fingerprint a string, when present",
        ns_012
    ),
    check!(
        "NS-013",
        NonStream,
        Should,
        "vendor extensions are reported, and do not reuse known names with other types",
        ns_013
    ),
];

/// Every valid non-stream request: each reply that can be judged is.
const PROBES: &[&str] = &[
    name::NS_BASIC,
    name::NS_TOOL,
    name::NS_LIMIT_MAX_COMPLETION_TOKENS,
    name::NS_LIMIT_MAX_TOKENS,
    name::CONTENT_PARTS,
    name::DEVELOPER_ROLE,
    name::TOOL_ROUND_TRIP,
    name::STOP_SEQUENCE,
    name::NS_N2,
    name::NS_LOGPROBS,
];

/// Judges `problem` on every reply of [`PROBES`], naming each probe's outcome.
fn per_reply(
    o: &Observations,
    problem: impl Fn(&'static str, &Value) -> Option<String>,
) -> Outcome {
    per_probe(
        PROBES,
        |probe| success_json(o, probe).map(|body| (probe, body)),
        |(probe, body)| problem(probe, &body),
    )
}

/// Applies `problem` to every choice of every reply.
fn per_choice(o: &Observations, problem: impl Fn(&Value) -> Option<String>) -> Outcome {
    per_reply(o, |_, body| {
        body["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .find_map(|(index, choice)| problem(choice).map(|p| format!("choices[{index}]: {p}")))
    })
}

/// Every reply of [`PROBES`] that can be judged.
fn replies(o: &Observations) -> Vec<(&'static str, Value)> {
    PROBES
        .iter()
        .filter_map(|probe| success_json(o, probe).ok().map(|body| (*probe, body)))
        .collect()
}

fn ns_001(o: &Observations) -> Outcome {
    let body = need!(success_json(o, name::NS_BASIC));
    let mut missing = Vec::new();
    if body["id"].as_str().is_none_or(|id| id.is_empty()) {
        missing.push(format!("id {}", show(&body["id"])));
    }
    if body["object"] != "chat.completion" {
        missing.push(format!("object {}", show(&body["object"])));
    }
    if body.get("created").is_none() {
        missing.push("created absent".to_owned());
    }
    if body["model"].as_str().is_none_or(|m| m.is_empty()) {
        missing.push(format!("model {}", show(&body["model"])));
    }
    if !body["choices"].is_array() {
        missing.push(format!("choices {}", show(&body["choices"])));
    }
    Outcome::expect(
        missing.is_empty(),
        if missing.is_empty() {
            "all present".to_owned()
        } else {
            missing.join(", ")
        },
    )
}

use wire::unix_time::unix_seconds as now;

fn ns_002(o: &Observations) -> Outcome {
    let body = need!(success_json(o, name::NS_BASIC));
    let created = &body["created"];
    let ok = is_unix_seconds(created)
        && created
            .as_u64()
            .is_some_and(|c| c.abs_diff(now()) <= 86_400);
    Outcome::expect(
        ok,
        format!("created = {} (runner clock {})", show(created), now()),
    )
}

fn ns_003(o: &Observations) -> Outcome {
    per_probe(
        &[name::NS_BASIC, name::NS_N2],
        |probe| success_json(o, probe).map(|body| (probe, body)),
        |(probe, body)| {
            let n = if probe == name::NS_N2 { 2 } else { 1 };
            let indices: Vec<Value> = body["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["index"].clone())
                .collect();
            let expected: Vec<Value> = (0..n).map(Value::from).collect();
            (indices != expected).then(|| {
                format!(
                    "n = {n}, choice indices {}",
                    show(&Value::Array(indices.clone()))
                )
            })
        },
    )
}

fn ns_004(o: &Observations) -> Outcome {
    per_choice(o, |choice| {
        if !choice["index"].is_u64() {
            return Some(format!("index {}", show(&choice["index"])));
        }
        if !choice["message"].is_object() {
            return Some("message is not an object".to_owned());
        }
        match choice["finish_reason"].as_str() {
            Some(reason) if FINISH_REASONS.contains(&reason) => None,
            _ => Some(format!("finish_reason {}", show(&choice["finish_reason"]))),
        }
    })
}

fn ns_005(o: &Observations) -> Outcome {
    per_reply(o, |probe, body| {
        let requested = probe == name::NS_LOGPROBS;
        body["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .find_map(|(index, choice)| match choice.get("logprobs") {
                None => Some(format!("choices[{index}]: no logprobs key")),
                Some(logprobs) if requested && !logprobs["content"].is_array() => Some(format!(
                    "choices[{index}]: logprobs requested, got {}",
                    show(logprobs)
                )),
                Some(_) => None,
            })
    })
}

fn ns_006(o: &Observations) -> Outcome {
    per_choice(o, |choice| {
        (choice["message"]["role"] != "assistant")
            .then(|| format!("role {}", show(&choice["message"]["role"])))
    })
}

fn ns_007(o: &Observations) -> Outcome {
    per_choice(o, |choice| {
        let message = &choice["message"];
        match message.get("content") {
            None => Some("no content key".to_owned()),
            Some(Value::String(_)) => None,
            Some(Value::Null) => {
                let has_calls = message["tool_calls"]
                    .as_array()
                    .is_some_and(|c| !c.is_empty());
                let has_refusal = message["refusal"].is_string();
                (!has_calls && !has_refusal)
                    .then(|| "content is null without tool_calls or refusal".to_owned())
            }
            Some(other) => Some(format!("content {}", show(other))),
        }
    })
}

fn ns_008(o: &Observations) -> Outcome {
    per_choice(o, |choice| match choice["message"].get("refusal") {
        None => Some("no refusal key".to_owned()),
        Some(Value::Null | Value::String(_)) => None,
        Some(other) => Some(format!("refusal {}", show(other))),
    })
}

fn ns_009(o: &Observations) -> Outcome {
    per_choice(o, |choice| {
        (choice["message"]["tool_calls"]
            .as_array()
            .is_some_and(Vec::is_empty))
        .then(|| "tool_calls is []".to_owned())
    })
}

fn ns_010(o: &Observations) -> Outcome {
    let consistent = per_reply(o, |_, body| {
        let usage = &body["usage"];
        if usage.is_null() {
            return None;
        }
        let count = |key: &str| usage[key].as_u64().filter(|_| !usage[key].is_f64());
        match (
            count("prompt_tokens"),
            count("completion_tokens"),
            count("total_tokens"),
        ) {
            (Some(p), Some(c), Some(t)) if p + c == t => None,
            _ => Some(format!("usage {}", show(usage))),
        }
    });
    let absent: Vec<&str> = replies(o)
        .into_iter()
        .filter(|(_, body)| body["usage"].is_null())
        .map(|(probe, _)| probe)
        .collect();
    match consistent {
        Outcome::Pass(_) if !absent.is_empty() => {
            Outcome::FailShould(format!("no usage in {}", absent.join(", ")))
        }
        outcome => outcome,
    }
}

fn ns_011(o: &Observations) -> Outcome {
    per_probe(
        &[
            name::NS_LIMIT_MAX_COMPLETION_TOKENS,
            name::NS_LIMIT_MAX_TOKENS,
        ],
        |probe| success_json(o, probe),
        |body| {
            let finish = &body["choices"][0]["finish_reason"];
            let tokens = body["usage"]["completion_tokens"].as_u64();
            (finish != "length" || tokens.is_none_or(|t| t > 5)).then(|| {
                format!(
                    "finish_reason {}, completion_tokens {}",
                    show(finish),
                    show(&body["usage"]["completion_tokens"])
                )
            })
        },
    )
}

fn ns_012(o: &Observations) -> Outcome {
    per_reply(o, |_, body| top_level_problem(body))
}

/// What is wrong with an object's `service_tier` or `system_fingerprint`, if anything: a whole
/// reply's (NS-012) or a chunk's (STREAM-017).
pub(super) fn top_level_problem(body: &Value) -> Option<String> {
    const TIERS: &[&str] = &["auto", "default", "flex", "scale", "priority", "fast"];
    match body.get("service_tier") {
        None | Some(Value::Null) => {}
        Some(Value::String(tier)) if TIERS.contains(&tier.as_str()) => {}
        Some(other) => return Some(format!("service_tier {}", show(other))),
    }
    body.get("system_fingerprint")
        .filter(|f| !f.is_null() && !f.is_string())
        .map(|fingerprint| format!("system_fingerprint {}", show(fingerprint)))
}

const KNOWN_TOP: &[&str] = &[
    "id",
    "object",
    "created",
    "model",
    "choices",
    "usage",
    "system_fingerprint",
    "service_tier",
    "metadata",
    "moderation",
];
const KNOWN_CHOICE: &[&str] = &["index", "message", "finish_reason", "logprobs"];
const KNOWN_MESSAGE: &[&str] = &[
    "role",
    "content",
    "refusal",
    "tool_calls",
    "annotations",
    "audio",
    "function_call",
];

fn ns_013(o: &Observations) -> Outcome {
    let outcome = per_reply(o, |_, body| {
        body["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(mistyped_extension)
    });
    let Outcome::Pass(evidence) = outcome else {
        return outcome;
    };
    let mut extensions = std::collections::BTreeSet::new();
    let mut note = |path: &str, object: &Value, known: &[&str]| {
        for key in object.as_object().into_iter().flat_map(|m| m.keys()) {
            if !known.contains(&key.as_str()) {
                extensions.insert(format!("{path}.{key}"));
            }
        }
    };
    for (_, body) in replies(o) {
        note("", &body, KNOWN_TOP);
        for choice in body["choices"].as_array().into_iter().flatten() {
            note("choices[]", choice, KNOWN_CHOICE);
            note("choices[].message", &choice["message"], KNOWN_MESSAGE);
        }
    }
    let listed = if extensions.is_empty() {
        "none".to_owned()
    } else {
        extensions.into_iter().collect::<Vec<_>>().join(", ")
    };
    Outcome::Pass(format!("extensions: {listed} ({evidence})"))
}

/// An extension typed clients know, sent with another type than they expect.
fn mistyped_extension(choice: &Value) -> Option<String> {
    if let Some(reason) = choice
        .get("stop_reason")
        .filter(|r| !r.is_null() && !r.is_string())
    {
        return Some(format!(
            "choices[].stop_reason is {} (typed clients expect a string)",
            show(reason)
        ));
    }
    ["reasoning_content", "reasoning"]
        .into_iter()
        .find_map(|key| {
            choice["message"]
                .get(key)
                .filter(|v| !v.is_null() && !v.is_string())
                .map(|value| format!("message.{key} is {}", show(value)))
        })
}

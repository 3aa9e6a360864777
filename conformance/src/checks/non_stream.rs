//! Non-streaming responses (NS-001..013), judged on every successful non-stream probe.

use serde_json::Value;

use super::{Check, FINISH_REASONS, all_clear, check, is_unix_seconds, need, show, success_json};
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

const PROBES: &[&str] = &[
    name::NS_BASIC,
    name::NS_TOOL,
    name::NS_LIMIT_MAX_COMPLETION_TOKENS,
    name::NS_LIMIT_MAX_TOKENS,
    name::CONTENT_PARTS,
    name::TOOL_ROUND_TRIP,
];

/// Every successful non-stream reply, by probe.
fn replies(o: &Observations) -> Vec<(&'static str, Value)> {
    PROBES
        .iter()
        .filter_map(|probe| success_json(o, probe).ok().map(|body| (*probe, body)))
        .collect()
}

/// Applies `problem` to every choice of every reply.
fn per_choice(o: &Observations, problem: impl Fn(&Value) -> Option<String>) -> Outcome {
    let replies = replies(o);
    let mut count = 0;
    let mut problems = Vec::new();
    for (probe, body) in &replies {
        for (index, choice) in body["choices"].as_array().into_iter().flatten().enumerate() {
            count += 1;
            if let Some(problem) = problem(choice) {
                problems.push(format!("{probe} choices[{index}]: {problem}"));
            }
        }
    }
    all_clear(count, problems, "choices")
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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
    let body = need!(success_json(o, name::NS_BASIC));
    let indices: Vec<Value> = body["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["index"].clone())
        .collect();
    Outcome::expect(
        indices == [Value::from(0)],
        format!(
            "n = 1, choice indices {}",
            show(&Value::Array(indices.clone()))
        ),
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
    per_choice(o, |choice| {
        choice
            .get("logprobs")
            .is_none()
            .then(|| "no logprobs key".to_owned())
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
    let replies = replies(o);
    let mut problems = Vec::new();
    let mut absent = Vec::new();
    for (probe, body) in &replies {
        let usage = &body["usage"];
        if usage.is_null() {
            absent.push(*probe);
            continue;
        }
        let count = |key: &str| usage[key].as_u64().filter(|_| !usage[key].is_f64());
        match (
            count("prompt_tokens"),
            count("completion_tokens"),
            count("total_tokens"),
        ) {
            (Some(p), Some(c), Some(t)) if p + c == t => {}
            _ => problems.push(format!("{probe}: usage {}", show(usage))),
        }
    }
    match all_clear(replies.len(), problems, "replies") {
        Outcome::Pass(_) if !absent.is_empty() => {
            Outcome::FailShould(format!("no usage in {}", absent.join(", ")))
        }
        outcome => outcome,
    }
}

fn ns_011(o: &Observations) -> Outcome {
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for probe in [
        name::NS_LIMIT_MAX_COMPLETION_TOKENS,
        name::NS_LIMIT_MAX_TOKENS,
    ] {
        let body = need!(success_json(o, probe));
        let finish = &body["choices"][0]["finish_reason"];
        let tokens = body["usage"]["completion_tokens"].as_u64();
        let line = format!(
            "{probe}: finish_reason {}, completion_tokens {}",
            show(finish),
            show(&body["usage"]["completion_tokens"])
        );
        if finish == "length" && tokens.is_some_and(|t| t <= 5) {
            evidence.push(line);
        } else {
            problems.push(line);
        }
    }
    if problems.is_empty() {
        Outcome::Pass(evidence.join("; "))
    } else {
        Outcome::Fail(problems.join("; "))
    }
}

fn ns_012(o: &Observations) -> Outcome {
    const TIERS: &[&str] = &["auto", "default", "flex", "scale", "priority", "fast"];
    let replies = replies(o);
    let mut problems = Vec::new();
    for (probe, body) in &replies {
        match body.get("service_tier") {
            None | Some(Value::Null) => {}
            Some(Value::String(tier)) if TIERS.contains(&tier.as_str()) => {}
            Some(other) => problems.push(format!("{probe}: service_tier {}", show(other))),
        }
        if let Some(fingerprint) = body
            .get("system_fingerprint")
            .filter(|f| !f.is_null() && !f.is_string())
        {
            problems.push(format!("{probe}: system_fingerprint {}", show(fingerprint)));
        }
    }
    all_clear(replies.len(), problems, "replies")
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
    let replies = replies(o);
    let mut extensions = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    let mut note = |path: String, object: &Value, known: &[&str]| {
        for key in object.as_object().into_iter().flat_map(|m| m.keys()) {
            if !known.contains(&key.as_str()) {
                extensions.insert(format!("{path}.{key}"));
            }
        }
    };
    for (probe, body) in &replies {
        note(String::new(), body, KNOWN_TOP);
        for choice in body["choices"].as_array().into_iter().flatten() {
            note("choices[]".to_owned(), choice, KNOWN_CHOICE);
            note(
                "choices[].message".to_owned(),
                &choice["message"],
                KNOWN_MESSAGE,
            );
            // Extensions typed clients know, with the types they expect.
            if let Some(reason) = choice
                .get("stop_reason")
                .filter(|r| !r.is_null() && !r.is_string())
            {
                problems.push(format!(
                    "{probe}: choices[].stop_reason is {} (typed clients expect a string)",
                    show(reason)
                ));
            }
            for key in ["reasoning_content", "reasoning"] {
                if let Some(value) = choice["message"]
                    .get(key)
                    .filter(|v| !v.is_null() && !v.is_string())
                {
                    problems.push(format!("{probe}: message.{key} is {}", show(value)));
                }
            }
        }
    }
    if replies.is_empty() {
        return Outcome::Skip("no successful non-stream reply".to_owned());
    }
    let listed = if extensions.is_empty() {
        "none".to_owned()
    } else {
        extensions.into_iter().collect::<Vec<_>>().join(", ")
    };
    if problems.is_empty() {
        Outcome::Pass(format!("extensions: {listed}"))
    } else {
        Outcome::Fail(problems.join("; "))
    }
}

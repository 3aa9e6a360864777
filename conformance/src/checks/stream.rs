//! Streaming chunks (STREAM-001..016).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    Check, FINISH_REASONS, check, is_unix_seconds, judged_streams, need, per_stream, show, stream,
    success_json,
};
use crate::{
    check::Outcome,
    probes::{Observations, StreamView, name},
};

const ROLES: &[&str] = &["assistant", "system", "developer", "user", "tool"];

pub const CHECKS: &[Check] = &[
    check!(
        "STREAM-001",
        Stream,
        Must,
        "every non-error JSON event has object == chat.completion.chunk",
        stream_001
    ),
    check!(
        "STREAM-002",
        Stream,
        Must,
        "id is present, non-empty and identical on every chunk (usage chunk included)",
        stream_002
    ),
    check!(
        "STREAM-003",
        Stream,
        Must,
        "created is integer seconds and identical on every chunk",
        stream_003
    ),
    check!(
        "STREAM-004",
        Stream,
        Must,
        "model is a non-empty string on every chunk (and SHOULD stay the same)",
        stream_004
    ),
    check!(
        "STREAM-005",
        Stream,
        Must,
        "every chunk has choices; each entry has index, delta and the finish_reason key",
        stream_005
    ),
    check!(
        "STREAM-006",
        Stream,
        Must,
        "the first delta of each choice has role assistant",
        stream_006
    ),
    check!(
        "STREAM-007",
        Stream,
        Must,
        "role does not reappear in later deltas of a choice",
        stream_007
    ),
    check!(
        "STREAM-008",
        Stream,
        Must,
        "role, when present, is a valid role (never \"\")",
        stream_008
    ),
    check!(
        "STREAM-009",
        Stream,
        Must,
        "delta.content is a string or null",
        stream_009
    ),
    check!(
        "STREAM-010",
        Stream,
        Must,
        "exactly one non-null finish_reason per choice, on its last chunk",
        stream_010
    ),
    check!(
        "STREAM-011",
        Stream,
        Must,
        "finish_reason values are from the enum",
        stream_011
    ),
    check!(
        "STREAM-012",
        Stream,
        Must,
        "order: role, deltas, finish_reason, usage chunk if requested, [DONE]",
        stream_012
    ),
    check!(
        "STREAM-013",
        Stream,
        Should,
        "the reassembled stream equals the non-stream reply for the same deterministic request",
        stream_013
    ),
    check!(
        "STREAM-014",
        Stream,
        Should,
        "choices[].logprobs is null or {content, refusal}",
        stream_014
    ),
    check!(
        "STREAM-015",
        Stream,
        Should,
        "n=2 streams both choices properly, or n>1 is rejected with a 4xx",
        stream_015
    ),
    check!(
        "STREAM-016",
        Stream,
        Should,
        "unknown delta keys are reported; known extensions keep their types",
        stream_016
    ),
    check!(
        "STREAM-017",
        Stream,
        Should,
        "on chunks too, service_tier is from the enum, system_fingerprint a string and delta.refusal a string or null, when present",
        stream_017
    ),
];

fn choice_indices(view: &StreamView) -> BTreeSet<u64> {
    view.chunks
        .iter()
        .flat_map(|(_, chunk)| chunk["choices"].as_array().into_iter().flatten())
        .map(|choice| choice["index"].as_u64().unwrap_or(0))
        .collect()
}

fn same_everywhere(view: &StreamView, key: &str, valid: impl Fn(&Value) -> bool) -> Option<String> {
    let first = &view.chunks.first()?.1[key];
    for (position, chunk) in &view.chunks {
        if !valid(&chunk[key]) {
            return Some(format!("event #{position}: {key} {}", show(&chunk[key])));
        }
        if &chunk[key] != first {
            return Some(format!(
                "event #{position}: {key} {} differs from {}",
                show(&chunk[key]),
                show(first)
            ));
        }
    }
    None
}

fn stream_001(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.chunks
            .iter()
            .find(|(_, chunk)| chunk["object"] != "chat.completion.chunk")
            .map(|(position, chunk)| {
                format!("event #{position}: object {}", show(&chunk["object"]))
            })
    })
}

fn stream_002(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        same_everywhere(view, "id", |id| id.as_str().is_some_and(|s| !s.is_empty()))
    })
}

fn stream_003(o: &Observations) -> Outcome {
    per_stream(o, |view| same_everywhere(view, "created", is_unix_seconds))
}

fn stream_004(o: &Observations) -> Outcome {
    let present = |model: &Value| model.as_str().is_some_and(|s| !s.is_empty());
    match per_stream(o, |view| {
        view.chunks
            .iter()
            .find(|(_, chunk)| !present(&chunk["model"]))
            .map(|(position, chunk)| format!("event #{position}: model {}", show(&chunk["model"])))
    }) {
        Outcome::Pass(_) => match per_stream(o, |view| same_everywhere(view, "model", present)) {
            Outcome::Fail(evidence) => Outcome::FailShould(evidence),
            outcome => outcome,
        },
        outcome => outcome,
    }
}

fn stream_005(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        for (position, chunk) in &view.chunks {
            let Some(choices) = chunk["choices"].as_array() else {
                return Some(format!(
                    "event #{position}: choices {}",
                    show(&chunk["choices"])
                ));
            };
            for choice in choices {
                if !choice["index"].is_u64()
                    || !choice["delta"].is_object()
                    || choice.get("finish_reason").is_none()
                {
                    return Some(format!("event #{position}: choice {}", show(choice)));
                }
            }
        }
        None
    })
}

fn stream_006(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        for index in choice_indices(view) {
            let first = view.deltas(index).next()?;
            if first["role"] != "assistant" {
                return Some(format!("choice {index}: first delta {}", show(first)));
            }
        }
        None
    })
}

fn stream_007(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        for index in choice_indices(view) {
            if let Some(delta) = view.deltas(index).skip(1).find(|d| !d["role"].is_null()) {
                return Some(format!("choice {index}: role repeated in {}", show(delta)));
            }
        }
        None
    })
}

fn stream_008(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.choices()
            .find(|(_, choice)| {
                choice["delta"]["role"]
                    .as_str()
                    .is_some_and(|role| !ROLES.contains(&role))
                    || choice["delta"]["role"].is_number()
            })
            .map(|(position, choice)| {
                format!("event #{position}: role {}", show(&choice["delta"]["role"]))
            })
    })
}

fn stream_009(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.choices()
            .find(|(_, choice)| {
                !matches!(
                    choice["delta"].get("content"),
                    None | Some(Value::Null | Value::String(_))
                )
            })
            .map(|(position, choice)| {
                format!(
                    "event #{position}: content {}",
                    show(&choice["delta"]["content"])
                )
            })
    })
}

fn stream_010(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let indices = choice_indices(view);
        if indices.is_empty() {
            return Some("no choices at all".to_owned());
        }
        for index in indices {
            let finishes = view.finishes(index);
            match finishes.as_slice() {
                [] => return Some(format!("choice {index}: no finish_reason")),
                [(position, _)] => {
                    let later =
                        view.chunks
                            .iter()
                            .filter(|(p, _)| p > position)
                            .any(|(_, chunk)| {
                                chunk["choices"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .any(|c| c["index"].as_u64().unwrap_or(0) == index)
                            });
                    if later {
                        return Some(format!(
                            "choice {index}: deltas after its finish_reason (event #{position})"
                        ));
                    }
                }
                many => {
                    return Some(format!(
                        "choice {index}: {} non-null finish_reasons",
                        many.len()
                    ));
                }
            }
        }
        None
    })
}

fn stream_011(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        choice_indices(view)
            .into_iter()
            .flat_map(|index| view.finishes(index))
            .find_map(|(position, reason)| {
                (!reason.as_str().is_some_and(|r| FINISH_REASONS.contains(&r)))
                    .then(|| format!("event #{position}: finish_reason {}", show(&reason)))
            })
    })
}

fn stream_012(o: &Observations) -> Outcome {
    // Only the order is judged here; a missing usage chunk is USAGE-002's, a missing role
    // STREAM-006's, a missing [DONE] SSE-006's.
    let view = need!(stream(o, name::STREAM_USAGE));
    let mut finished = None;
    let mut usage = None;
    for (position, chunk) in &view.chunks {
        let choices = chunk["choices"].as_array().cloned().unwrap_or_default();
        if choices.is_empty() {
            if finished.is_none() {
                return Outcome::Fail(format!(
                    "event #{position}: usage chunk before the finish_reason"
                ));
            }
            usage = Some(*position);
            continue;
        }
        if let Some(at) = usage.or(finished) {
            return Outcome::Fail(format!(
                "event #{position}: a delta after event #{at} (finish_reason or usage)"
            ));
        }
        if choices.iter().any(|c| !c["finish_reason"].is_null()) {
            finished = Some(*position);
        }
    }
    let last = usage.or(finished);
    match (last, view.done) {
        (Some(last), Some(done)) if done < last => {
            Outcome::Fail(format!("[DONE] (event #{done}) before event #{last}"))
        }
        (Some(_), _) => Outcome::Pass(format!(
            "finish at {finished:?}, usage at {usage:?}, [DONE] at {:?}",
            view.done
        )),
        (None, _) => {
            Outcome::Skip("the stream never reached a finish_reason (see STREAM-010)".to_owned())
        }
    }
}

fn stream_013(o: &Observations) -> Outcome {
    let whole = need!(success_json(o, name::NS_BASIC));
    let view = need!(stream(o, name::STREAM_BASIC));
    let text = whole["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let streamed = view.text(0);
    let finish = view
        .finishes(0)
        .first()
        .map(|(_, r)| r.clone())
        .unwrap_or(Value::Null);
    let same = text == streamed && finish == whole["choices"][0]["finish_reason"];
    Outcome::expect(
        same,
        format!(
            "non-stream {:?}/{} vs stream {:?}/{}",
            text,
            show(&whole["choices"][0]["finish_reason"]),
            streamed,
            show(&finish)
        ),
    )
}

fn stream_014(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.choices()
            .find(|(_, choice)| match choice.get("logprobs") {
                None | Some(Value::Null) => false,
                Some(Value::Object(l)) => !(l.contains_key("content") && l.contains_key("refusal")),
                Some(_) => true,
            })
            .map(|(position, choice)| {
                format!("event #{position}: logprobs {}", show(&choice["logprobs"]))
            })
    })
}

fn stream_015(o: &Observations) -> Outcome {
    let exchange = need!(super::exchange(o, name::STREAM_N2));
    if exchange.status.is_some_and(|s| (400..500).contains(&s)) {
        return Outcome::Pass(format!("n=2 rejected: {}", exchange.summary()));
    }
    let view = need!(stream(o, name::STREAM_N2));
    let indices = choice_indices(view);
    if indices != BTreeSet::from([0, 1]) {
        return Outcome::Fail(format!(
            "n=2 accepted but the stream has choice indices {indices:?}"
        ));
    }
    for index in indices {
        let first_is_role = view
            .deltas(index)
            .next()
            .is_some_and(|d| d["role"] == "assistant");
        if !first_is_role || view.finishes(index).len() != 1 {
            return Outcome::Fail(format!(
                "choice {index}: role-first {first_is_role}, finish_reasons {}",
                view.finishes(index).len()
            ));
        }
    }
    Outcome::Pass("both choices streamed, each role-first with one finish_reason".to_owned())
}

const KNOWN_DELTA: &[&str] = &["role", "content", "refusal", "tool_calls", "function_call"];

fn stream_016(o: &Observations) -> Outcome {
    let outcome = per_stream(o, |view| {
        extensions(view)
            .find(|(key, value)| {
                matches!(key.as_str(), "reasoning" | "reasoning_content")
                    && !(value.is_string() || value.is_null())
            })
            .map(|(key, value)| format!("delta.{key} is {}", show(value)))
    });
    let Outcome::Pass(evidence) = outcome else {
        return outcome;
    };
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, view) in judged_streams(o) {
        for (key, _) in extensions(view) {
            *counted.entry(key.as_str()).or_default() += 1;
        }
    }
    let listed: Vec<String> = counted
        .into_iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    Outcome::Pass(if listed.is_empty() {
        format!("no extensions ({evidence})")
    } else {
        format!("extensions: {} ({evidence})", listed.join(", "))
    })
}

/// Every `(key, value)` of every delta that the schema does not define.
fn extensions(view: &StreamView) -> impl Iterator<Item = (&String, &Value)> {
    view.choices()
        .flat_map(|(_, choice)| choice["delta"].as_object().into_iter().flatten())
        .filter(|(key, _)| !KNOWN_DELTA.contains(&key.as_str()))
}

fn stream_017(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.chunks.iter().find_map(|(index, chunk)| {
            let problem = super::non_stream::top_level_problem(chunk).or_else(|| {
                chunk["choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|choice| choice["delta"].get("refusal"))
                    .find(|refusal| !refusal.is_null() && !refusal.is_string())
                    .map(|refusal| format!("delta.refusal {}", show(refusal)))
            })?;
            Some(format!("event #{index}: {problem}"))
        })
    })
}

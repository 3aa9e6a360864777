//! Tool calls (TOOL-001..009). A forced call the model did not make is a skip here: producing a
//! call is a model capability, judged apart from the protocol.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Check, check, exchange, need, show, stream, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, StreamView, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "TOOL-001",
        Tool,
        Must,
        "non-stream tool_calls have id, type function, function.name and string arguments",
        tool_001
    ),
    check!(
        "TOOL-002",
        Tool,
        Should,
        "arguments parse as a JSON object satisfying the declared schema",
        tool_002
    ),
    check!(
        "TOOL-003",
        Tool,
        Should,
        "a reply made of tool calls has finish_reason tool_calls",
        tool_003
    ),
    check!(
        "TOOL-004",
        Tool,
        Must,
        "every streamed tool_calls entry has an integer index",
        tool_004
    ),
    check!(
        "TOOL-005",
        Tool,
        Must,
        "id, type and name appear only on the first fragment of a call",
        tool_005
    ),
    check!(
        "TOOL-006",
        Tool,
        Must,
        "the concatenated streamed arguments of each call are valid JSON (and SHOULD equal the non-streamed call's)",
        tool_006
    ),
    check!(
        "TOOL-007",
        Tool,
        Should,
        "call indices are 0-based, contiguous, in order, never repeated in one chunk",
        tool_007
    ),
    check!(
        "TOOL-008",
        Tool,
        Must,
        "no trailing chunk re-sends complete tool calls",
        tool_008
    ),
    check!(
        "TOOL-009",
        Tool,
        Must,
        "an assistant tool_calls message with content null and its tool result are accepted",
        tool_009
    ),
];

fn calls(body: &Value) -> Vec<Value> {
    body["choices"][0]["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn called(o: &Observations) -> Result<Vec<Value>, Outcome> {
    let body = success_json(o, name::NS_TOOL)?;
    let calls = calls(&body);
    if calls.is_empty() {
        return Err(Outcome::Skip(format!(
            "the model made no call despite tool_choice: {}",
            show(&body["choices"][0]["message"])
        )));
    }
    Ok(calls)
}

fn streamed(o: &Observations) -> Result<&StreamView, Outcome> {
    let view = stream(o, name::STREAM_TOOL)?;
    if view.tool_calls(0).is_empty() {
        return Err(Outcome::Skip("the streamed reply made no call".to_owned()));
    }
    Ok(view)
}

/// Every `(event position, tool_calls entry)` of choice 0.
fn fragments(view: &StreamView) -> Vec<(usize, &Value)> {
    view.chunks
        .iter()
        .flat_map(|(position, chunk)| {
            chunk["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["index"].as_u64().unwrap_or(0) == 0)
                .flat_map(|c| c["delta"]["tool_calls"].as_array().into_iter().flatten())
                .map(move |call| (*position, call))
        })
        .collect()
}

fn tool_001(o: &Observations) -> Outcome {
    let calls = need!(called(o));
    for call in &calls {
        let ok = call["id"].as_str().is_some_and(|id| !id.is_empty())
            && call["type"] == "function"
            && call["function"]["name"].is_string()
            && call["function"]["arguments"].is_string();
        if !ok {
            return Outcome::Fail(format!("tool call {}", show(call)));
        }
    }
    Outcome::Pass(format!("{} call(s) well-formed", calls.len()))
}

fn tool_002(o: &Observations) -> Outcome {
    let calls = need!(called(o));
    let arguments = calls[0]["function"]["arguments"].as_str().unwrap_or("");
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(object)) if object.get("city").is_some_and(Value::is_string) => {
            Outcome::Pass(format!("arguments {arguments}"))
        }
        _ => Outcome::Fail(format!(
            "arguments {arguments:?} are not an object with a string city"
        )),
    }
}

fn tool_003(o: &Observations) -> Outcome {
    let body = need!(success_json(o, name::NS_TOOL));
    if calls(&body).is_empty() {
        return Outcome::Skip("no tool call was made".to_owned());
    }
    let finish = &body["choices"][0]["finish_reason"];
    let (streamed_finish, stream_evidence) = match streamed(o) {
        Ok(view) => {
            let reason = view.finishes(0).first().map(|(_, r)| r.clone());
            let shown = reason.as_ref().map_or("none".to_owned(), show);
            (reason, format!("stream {shown}"))
        }
        Err(unjudged) => (None, format!("stream not judged: {}", unjudged.evidence())),
    };
    let ok = finish == "tool_calls" && streamed_finish.as_ref().is_none_or(|r| r == "tool_calls");
    Outcome::expect(
        ok,
        format!("non-stream {}, {stream_evidence}", show(finish)),
    )
}

fn tool_004(o: &Observations) -> Outcome {
    let view = need!(streamed(o));
    match fragments(view)
        .into_iter()
        .find(|(_, call)| !call["index"].is_u64())
    {
        Some((position, call)) => Outcome::Fail(format!(
            "event #{position}: fragment without index {}",
            show(call)
        )),
        None => Outcome::Pass(format!("{} fragment(s) indexed", fragments(view).len())),
    }
}

fn tool_005(o: &Observations) -> Outcome {
    let view = need!(streamed(o));
    let mut seen = std::collections::BTreeSet::new();
    for (position, call) in fragments(view) {
        let index = call["index"].as_u64().unwrap_or(0);
        let first = seen.insert(index);
        for (key, value) in [
            ("id", &call["id"]),
            ("type", &call["type"]),
            ("function.name", &call["function"]["name"]),
        ] {
            if first && value.as_str().is_some_and(str::is_empty) {
                return Outcome::Fail(format!(
                    "event #{position}: {key} is \"\" on the first fragment of call {index}"
                ));
            }
            if !first && !value.is_null() {
                return Outcome::Fail(format!(
                    "event #{position}: {key} {} repeated on a later fragment of call {index}",
                    show(value)
                ));
            }
        }
    }
    Outcome::Pass(format!("{} call(s), identity sent once each", seen.len()))
}

fn tool_006(o: &Observations) -> Outcome {
    let view = need!(streamed(o));
    let mut parsed = Vec::new();
    for (index, (name, arguments)) in view.tool_calls(0) {
        match serde_json::from_str::<Value>(&arguments) {
            Ok(value) => parsed.push(value),
            Err(_) => {
                return Outcome::Fail(format!(
                    "call {index} ({name}): arguments {arguments:?} are not JSON"
                ));
            }
        }
    }
    // The same deterministic request (temperature 0) without streaming: the same calls.
    let Ok(whole) = called(o) else {
        return Outcome::Pass(
            "every call's arguments parse (no non-streamed call to compare)".to_owned(),
        );
    };
    // Arguments only: names and ids are other checks' business (TOOL-005).
    let whole: Vec<Value> = whole
        .iter()
        .map(|call| {
            let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
            serde_json::from_str(arguments).unwrap_or(Value::Null)
        })
        .collect();
    if parsed == whole {
        Outcome::Pass("every call's arguments parse and equal the non-streamed call's".to_owned())
    } else {
        Outcome::FailShould(format!(
            "streamed arguments {} differ from the non-streamed {}",
            show(&serde_json::json!(parsed)),
            show(&serde_json::json!(whole))
        ))
    }
}

fn tool_007(o: &Observations) -> Outcome {
    let view = need!(streamed(o));
    let mut order = Vec::new();
    let mut per_chunk: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    // Fragments without an index are TOOL-004's finding.
    for (position, call) in fragments(view)
        .into_iter()
        .filter(|(_, call)| call["index"].is_u64())
    {
        let index = call["index"].as_u64().unwrap_or_default();
        if !order.contains(&index) {
            order.push(index);
        }
        per_chunk.entry(position).or_default().push(index);
    }
    let expected: Vec<u64> = (0..order.len() as u64).collect();
    if order != expected {
        return Outcome::Fail(format!("call indices in order of appearance {order:?}"));
    }
    if let Some((position, indices)) = per_chunk.iter().find(|(_, v)| {
        let mut sorted = (*v).clone();
        sorted.dedup();
        sorted.len() != v.len()
    }) {
        return Outcome::Fail(format!("event #{position} repeats an index: {indices:?}"));
    }
    Outcome::Pass(format!("indices {order:?}"))
}

fn tool_008(o: &Observations) -> Outcome {
    let view = need!(streamed(o));
    let mut pieces: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (position, call) in fragments(view) {
        let index = call["index"].as_u64().unwrap_or(0);
        let arguments = call["function"]["arguments"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let earlier = pieces.entry(index).or_default();
        let so_far: String = earlier.concat();
        if !so_far.is_empty() && arguments == so_far {
            return Outcome::Fail(format!(
                "event #{position} re-sends call {index}'s complete arguments {so_far:?}"
            ));
        }
        earlier.push(arguments);
    }
    Outcome::Pass("no duplicate re-send".to_owned())
}

fn tool_009(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::TOOL_ROUND_TRIP));
    Outcome::expect(exchange.is_success(), exchange.summary())
}

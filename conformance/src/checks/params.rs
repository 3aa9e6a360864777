//! Chat request parameters judged by their effect, streamed as well as whole (PARAM-001..005):
//! a server that honours a parameter in whole replies and drops it in streams, or drops it
//! altogether, passes every shape check yet breaks the client that set it. The other parameters'
//! effects are judged by the checks the README's parameter table names (NS-011 for the limits,
//! NS-003 and STREAM-015 for `n`, REQ-007 for `stop` in whole replies, …), or listed there as
//! having no effect the runner can judge on an arbitrary model.

use serde_json::Value;

use super::{Check, check, per_probe, show, stream, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, StreamView, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "PARAM-001",
        Param,
        Must,
        "stop ends a streamed reply before the sequence with finish_reason stop, as REQ-007 requires of a whole one",
        param_001
    ),
    check!(
        "PARAM-002",
        Param,
        Must,
        "tool_choice none yields no tool call, whole and streamed",
        param_002
    ),
    check!(
        "PARAM-003",
        Param,
        Must,
        "max_tokens cuts a streamed reply as NS-011 requires of a whole one: finish_reason length, no more completion tokens than asked",
        param_003
    ),
    check!(
        "PARAM-004",
        Param,
        Should,
        "response_format json_schema yields content that parses as the schema's object, whole and streamed",
        param_004
    ),
    check!(
        "PARAM-005",
        Param,
        Should,
        "response_format json_object yields content that parses as a JSON object",
        param_005
    ),
];

/// A whole reply's choice 0 or a stream's reassembled: `(text, finish_reason, tool calls)`.
struct Reply {
    text: String,
    finish: Value,
    calls: usize,
}

fn whole(body: &Value) -> Reply {
    let choice = &body["choices"][0];
    Reply {
        text: choice["message"]["content"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        finish: choice["finish_reason"].clone(),
        calls: choice["message"]["tool_calls"]
            .as_array()
            .map_or(0, Vec::len),
    }
}

fn streamed(view: &StreamView) -> Reply {
    Reply {
        text: view.text(0),
        finish: view
            .finishes(0)
            .last()
            .map_or(Value::Null, |(_, reason)| reason.clone()),
        calls: view.tool_calls(0).len(),
    }
}

/// The reply of a whole or streamed probe.
fn reply(o: &Observations, probe: &'static str) -> Result<Reply, Outcome> {
    if o.get(probe).is_some_and(|e| e.request["stream"] == true) {
        stream(o, probe).map(streamed)
    } else {
        success_json(o, probe).map(|body| whole(&body))
    }
}

fn param_001(o: &Observations) -> Outcome {
    per_probe(
        &[name::STREAM_STOP_SEQUENCE],
        |probe| reply(o, probe),
        |reply| {
            (reply.text.contains('5') || reply.finish != "stop").then(|| {
                format!(
                    "text {:?}, finish_reason {}",
                    reply.text,
                    show(&reply.finish)
                )
            })
        },
    )
}

fn param_002(o: &Observations) -> Outcome {
    per_probe(
        &[name::NS_TOOL_NONE, name::STREAM_TOOL_NONE],
        |probe| reply(o, probe),
        |reply| {
            (reply.calls > 0 || reply.finish == "tool_calls").then(|| {
                format!(
                    "{} tool call(s), finish_reason {}",
                    reply.calls,
                    show(&reply.finish)
                )
            })
        },
    )
}

fn param_003(o: &Observations) -> Outcome {
    per_probe(
        &[name::STREAM_LIMIT_MAX_TOKENS],
        |probe| {
            let view = stream(o, probe)?;
            let tokens = view
                .chunks
                .iter()
                .find_map(|(_, chunk)| chunk["usage"]["completion_tokens"].as_u64());
            Ok((streamed(view), tokens))
        },
        |(reply, tokens)| {
            (reply.finish != "length" || tokens.is_some_and(|tokens| tokens > 5)).then(|| {
                format!(
                    "finish_reason {}, completion_tokens {tokens:?} for max_tokens 5",
                    show(&reply.finish)
                )
            })
        },
    )
}

/// What is wrong with content that should be `{"answer": string}`, if anything.
fn not_the_answer(text: &str) -> Option<String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) if object.get("answer").is_some_and(Value::is_string) => None,
        _ => Some(format!(
            "content {:?} is not the schema's object",
            crate::exchange::clip(text.to_owned(), 80)
        )),
    }
}

fn param_004(o: &Observations) -> Outcome {
    per_probe(
        &[name::NS_JSON_SCHEMA, name::STREAM_JSON_SCHEMA],
        |probe| reply(o, probe),
        |reply| not_the_answer(&reply.text),
    )
}

fn param_005(o: &Observations) -> Outcome {
    per_probe(
        &[name::NS_JSON_OBJECT],
        |probe| reply(o, probe),
        |reply| match serde_json::from_str::<Value>(&reply.text) {
            Ok(Value::Object(_)) => None,
            _ => Some(format!(
                "content {:?} is not a JSON object",
                crate::exchange::clip(reply.text, 80)
            )),
        },
    )
}

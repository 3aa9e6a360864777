//! Anthropic's Messages API (MSG-001..023): the message object and its blocks, `max_tokens`
//! required, thinking when asked, the stream's grammar as the SDKs read it (they dispatch on
//! the SSE `event:` name and refuse anything but `message_start` first), tool use and its
//! results, stop sequences, the token limit, errors in Anthropic's envelope before the head and
//! as `event: error` after it (an overload as 529, a missing key as 401), and `count_tokens`.
//! Sources: anthropic-sdk-python's `types` and `_streaming.py` (009b035), docs.anthropic.com's
//! messages and streaming pages, responses-and-messages.md.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Check, answered, check, exchange, need, per_probe, show, stream, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, StreamView, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "MSG-001",
        Messages,
        Must,
        "a Messages request returns 200 application/json with a message object: string id, type \"message\", role \"assistant\", a content list, string model, a known stop_reason, integer usage counts",
        msg_001
    ),
    check!(
        "MSG-002",
        Messages,
        Must,
        "content blocks are well-formed: text with a string text, tool_use with id, name and an object input, thinking with thinking and signature strings",
        msg_002
    ),
    check!(
        "MSG-003",
        Messages,
        Must,
        "a request without max_tokens is refused with a 4xx",
        msg_003
    ),
    check!(
        "MSG-004",
        Messages,
        Must,
        "stream:true returns 200 with Content-Type text/event-stream",
        msg_004
    ),
    check!(
        "MSG-005",
        Messages,
        Must,
        "message_start comes first and once",
        msg_005
    ),
    check!(
        "MSG-006",
        Messages,
        Must,
        "every event comes under an SSE event: line equal to its type (the SDKs drop the others)",
        msg_006
    ),
    check!(
        "MSG-007",
        Messages,
        Must,
        "blocks start at index 0, 1, … in order, each delta names a started and unstopped block, and every block stops",
        msg_007
    ),
    check!(
        "MSG-008",
        Messages,
        Must,
        "each delta's type fits its block: text_delta in text, input_json_delta in tool_use, thinking_delta and signature_delta in thinking",
        msg_008
    ),
    check!(
        "MSG-009",
        Messages,
        Must,
        "after the blocks, message_delta with a stop_reason and integer usage.output_tokens, then message_stop, last",
        msg_009
    ),
    check!(
        "MSG-010",
        Messages,
        Must,
        "a streamed tool_use block's input_json_delta fragments join into a JSON object",
        msg_010
    ),
    check!(
        "MSG-011",
        Messages,
        Must,
        "a tool named by tool_choice is used: a tool_use block with an id, its name and an object input, stop_reason tool_use, whole and streamed",
        msg_011
    ),
    check!(
        "MSG-012",
        Messages,
        Must,
        "tool_choice none yields no tool_use block",
        msg_012
    ),
    check!(
        "MSG-013",
        Messages,
        Must,
        "a tool_result answering a tool_use id is taken and answered with text",
        msg_013
    ),
    check!(
        "MSG-014",
        Messages,
        Should,
        "stop_sequences end the reply before the sequence, with stop_reason stop_sequence naming it",
        msg_014
    ),
    check!(
        "MSG-015",
        Messages,
        Should,
        "a reply that reaches max_tokens has stop_reason max_tokens",
        msg_015
    ),
    check!(
        "MSG-016",
        Messages,
        Must,
        "a refused request gets Anthropic's envelope: {\"type\": \"error\", \"error\": {\"type\": one of its error types, \"message\"}}",
        msg_016
    ),
    check!(
        "MSG-017",
        Messages,
        Must,
        "an unknown model is refused with a 4xx (SHOULD: 404 not_found_error)",
        msg_017
    ),
    check!(
        "MSG-018",
        Messages,
        Must,
        "a failure after the stream began is an event: error with Anthropic's error object, and the stream ends without message_stop",
        msg_018
    ),
    check!(
        "MSG-019",
        Messages,
        Should,
        "count_tokens answers {\"input_tokens\": integer}, where offered",
        msg_019
    ),
    check!(
        "MSG-020",
        Messages,
        Should,
        "message_start's message carries type \"message\" and role \"assistant\", as a whole message does",
        msg_020
    ),
    check!(
        "MSG-021",
        Messages,
        Must,
        "With auth expected (--expect-auth), a missing or wrong x-api-key is 401 authentication_error in Anthropic's envelope",
        msg_021
    ),
    check!(
        "MSG-022",
        Messages,
        Must,
        "an overloaded server answers a 5xx in Anthropic's envelope, which the SDKs retry (SHOULD: 529 overloaded_error)",
        msg_022
    ),
    check!(
        "MSG-023",
        Messages,
        Should,
        "thinking asked for yields signed thinking blocks before the answer, whole and streamed (thinking_delta, then signature_delta), or a 4xx saying the model cannot think",
        msg_023
    ),
];

/// Valid non-streamed requests.
const WHOLE: &[&str] = &[
    name::MSG_BASIC,
    name::MSG_SYSTEM,
    name::MSG_TOOL,
    name::MSG_TOOL_NONE,
    name::MSG_TOOL_RESULT,
    name::MSG_STOP_SEQUENCES,
    name::MSG_LIMIT,
];

/// Valid streamed requests.
const STREAMS: &[&str] = &[name::MSG_STREAM, name::MSG_STREAM_TOOL];

const STOP_REASONS: &[&str] = &[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// Anthropic's error types, each with its status.
const ERROR_TYPES: &[(&str, u16)] = &[
    ("invalid_request_error", 400),
    ("authentication_error", 401),
    ("billing_error", 402),
    ("permission_error", 403),
    ("not_found_error", 404),
    ("request_too_large", 413),
    ("rate_limit_error", 429),
    ("api_error", 500),
    ("timeout_error", 504),
    ("overloaded_error", 529),
];

/// A stream's events: `(SSE event name, JSON data)`, the error payloads among them.
fn events(view: &StreamView) -> Vec<(&str, &Value)> {
    let mut events: Vec<(usize, &str, &Value)> = view
        .chunks
        .iter()
        .chain(&view.errors)
        .map(|(index, data)| (*index, view.client_events[*index].0.as_str(), data))
        .collect();
    events.sort_by_key(|(index, ..)| *index);
    events
        .into_iter()
        .map(|(_, name, data)| (name, data))
        .collect()
}

fn kind(event: &Value) -> &str {
    event["type"].as_str().unwrap_or("")
}

/// The events that are not `ping`.
fn meaningful(view: &StreamView) -> Vec<(&str, &Value)> {
    events(view)
        .into_iter()
        .filter(|(_, event)| kind(event) != "ping")
        .collect()
}

fn blocks(message: &Value) -> impl Iterator<Item = &Value> {
    message["content"].as_array().into_iter().flatten()
}

fn text_of(message: &Value) -> String {
    blocks(message)
        .filter(|block| block["type"] == "text")
        .filter_map(|block| block["text"].as_str())
        .collect()
}

fn tool_uses(message: &Value) -> Vec<&Value> {
    blocks(message)
        .filter(|block| block["type"] == "tool_use")
        .collect()
}

/// A streamed message as the SDK accumulates it: its blocks (text and thinking joined, the
/// signature set, tool input parsed from its fragments) and its final stop reason.
fn accumulated(view: &StreamView) -> Value {
    let mut message = serde_json::json!({"content": []});
    let mut partial: BTreeMap<u64, String> = BTreeMap::new();
    for (_, event) in events(view) {
        match kind(event) {
            "message_start" => {
                message = event["message"].clone();
                message["content"] = serde_json::json!([]);
            }
            "content_block_start" => {
                if let Some(content) = message["content"].as_array_mut() {
                    content.push(event["content_block"].clone());
                }
            }
            "content_block_delta" => {
                let index = event["index"].as_u64().unwrap_or(0);
                let delta = &event["delta"];
                let Some(block) = message["content"].get_mut(index as usize) else {
                    continue;
                };
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let text = block["text"].as_str().unwrap_or("").to_owned()
                            + delta["text"].as_str().unwrap_or("");
                        block["text"] = Value::String(text);
                    }
                    Some("thinking_delta") => {
                        let thinking = block["thinking"].as_str().unwrap_or("").to_owned()
                            + delta["thinking"].as_str().unwrap_or("");
                        block["thinking"] = Value::String(thinking);
                    }
                    Some("signature_delta") => block["signature"] = delta["signature"].clone(),
                    Some("input_json_delta") => partial
                        .entry(index)
                        .or_default()
                        .push_str(delta["partial_json"].as_str().unwrap_or("")),
                    _ => {}
                }
            }
            "message_delta" => {
                message["stop_reason"] = event["delta"]["stop_reason"].clone();
            }
            _ => {}
        }
    }
    for (index, json) in partial {
        if let Some(block) = message["content"].get_mut(index as usize) {
            block["input"] = serde_json::from_str(&json).unwrap_or(Value::String(json));
        }
    }
    message
}

/// What is wrong with a message object, if anything.
fn message_problem(message: &Value) -> Option<String> {
    if message["id"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no string id: {}", show(&message["id"])));
    }
    if message["type"] != "message" || message["role"] != "assistant" {
        return Some(format!(
            "type {} role {}",
            show(&message["type"]),
            show(&message["role"])
        ));
    }
    if !message["content"].is_array() || !message["model"].is_string() {
        return Some(format!("content or model missing: {}", show(message)));
    }
    if !message["stop_reason"]
        .as_str()
        .is_some_and(|reason| STOP_REASONS.contains(&reason))
    {
        return Some(format!("stop_reason is {}", show(&message["stop_reason"])));
    }
    let usage = &message["usage"];
    if usage["input_tokens"].as_u64().is_none() || usage["output_tokens"].as_u64().is_none() {
        return Some(format!("usage is {}", show(usage)));
    }
    None
}

/// What is wrong with a content block, if anything.
fn block_problem(block: &Value) -> Option<String> {
    let string = |key: &str| block[key].is_string();
    let wrong = match block["type"].as_str() {
        Some("text") => !string("text"),
        Some("tool_use") => !string("id") || !string("name") || !block["input"].is_object(),
        Some("thinking") => !string("thinking") || !string("signature"),
        Some(_) => false,
        None => true,
    };
    wrong.then(|| format!("a malformed block: {}", show(block)))
}

fn msg_001(o: &Observations) -> Outcome {
    per_probe(
        WHOLE,
        |probe| {
            let exchange = answered(o, probe)?;
            Ok((exchange.media_type(), success_json(o, probe)?))
        },
        |(media_type, message)| {
            if media_type.as_deref() != Some("application/json") {
                return Some(format!("Content-Type {media_type:?}"));
            }
            message_problem(&message)
        },
    )
}

fn msg_002(o: &Observations) -> Outcome {
    per_probe(
        WHOLE,
        |probe| success_json(o, probe),
        |message| blocks(&message).find_map(block_problem),
    )
}

fn msg_003(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::MSG_MISSING_MAX_TOKENS));
    Outcome::expect(
        exchange
            .status
            .is_some_and(|status| (400..500).contains(&status)),
        exchange.summary(),
    )
}

fn msg_004(o: &Observations) -> Outcome {
    super::served_as(o, STREAMS, "text/event-stream")
}

fn per_stream(o: &Observations, problem: impl Fn(&StreamView) -> Option<String>) -> Outcome {
    per_probe(STREAMS, |probe| stream(o, probe), problem)
}

fn msg_005(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let events = meaningful(view);
        let starts = events
            .iter()
            .filter(|(_, event)| kind(event) == "message_start")
            .count();
        match events.first() {
            Some((_, first)) if kind(first) != "message_start" => {
                Some(format!("the first event is {}", show(&first["type"])))
            }
            None => Some("no JSON event".to_owned()),
            _ if starts > 1 => Some(format!("{starts} message_start events")),
            _ => None,
        }
    })
}

fn msg_006(o: &Observations) -> Outcome {
    per_stream(o, |view| super::misnamed(events(view)))
}

/// What is out of order among a stream's blocks, if anything.
fn block_order_problem(view: &StreamView) -> Option<String> {
    let mut started: Vec<u64> = Vec::new();
    let mut stopped: Vec<u64> = Vec::new();
    for (_, event) in events(view) {
        let kind = kind(event);
        if !kind.starts_with("content_block") {
            if kind == "message_delta"
                && let Some(open) = started.iter().find(|index| !stopped.contains(index))
            {
                return Some(format!("message_delta while block {open} is open"));
            }
            continue;
        }
        let Some(index) = event["index"].as_u64() else {
            return Some(format!("{kind} without an integer index"));
        };
        match kind {
            "content_block_start" => {
                if index != started.len() as u64 {
                    return Some(format!(
                        "block {index} starts after {} blocks",
                        started.len()
                    ));
                }
                started.push(index);
            }
            _ if !started.contains(&index) => {
                return Some(format!("{kind} for block {index}, never started"));
            }
            _ if stopped.contains(&index) => {
                return Some(format!("{kind} for block {index}, already stopped"));
            }
            "content_block_stop" => stopped.push(index),
            _ => {}
        }
    }
    started
        .iter()
        .find(|index| !stopped.contains(index))
        .map(|index| format!("block {index} never stops"))
}

fn msg_007(o: &Observations) -> Outcome {
    per_stream(o, block_order_problem)
}

fn msg_008(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let mut types: BTreeMap<u64, String> = BTreeMap::new();
        for (_, event) in events(view) {
            let index = event["index"].as_u64().unwrap_or(u64::MAX);
            match kind(event) {
                "content_block_start" => {
                    let block = event["content_block"]["type"].as_str().unwrap_or("");
                    types.insert(index, block.to_owned());
                }
                "content_block_delta" => {
                    let delta = event["delta"]["type"].as_str().unwrap_or("");
                    let block = types.get(&index).map_or("", String::as_str);
                    let fits = match block {
                        "text" => matches!(delta, "text_delta" | "citations_delta"),
                        "tool_use" | "server_tool_use" => delta == "input_json_delta",
                        "thinking" => matches!(delta, "thinking_delta" | "signature_delta"),
                        _ => true,
                    };
                    if !fits {
                        return Some(format!("a {delta} in {block} block {index}"));
                    }
                }
                _ => {}
            }
        }
        None
    })
}

fn msg_009(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let events = meaningful(view);
        let kinds: Vec<&str> = events.iter().map(|(_, event)| kind(event)).collect();
        let Some(stop) = kinds.iter().rposition(|kind| *kind == "message_stop") else {
            return Some("no message_stop".to_owned());
        };
        if stop + 1 != kinds.len() {
            return Some(format!("{} after message_stop", kinds[stop + 1]));
        }
        let Some(delta) = kinds.iter().rposition(|kind| *kind == "message_delta") else {
            return Some("no message_delta".to_owned());
        };
        if kinds[delta..]
            .iter()
            .any(|kind| kind.starts_with("content_block"))
        {
            return Some("a block event after message_delta".to_owned());
        }
        let event = events[delta].1;
        if !event["delta"]["stop_reason"]
            .as_str()
            .is_some_and(|reason| STOP_REASONS.contains(&reason))
        {
            return Some(format!(
                "message_delta's stop_reason is {}",
                show(&event["delta"]["stop_reason"])
            ));
        }
        event["usage"]["output_tokens"]
            .as_u64()
            .is_none()
            .then(|| format!("message_delta's usage is {}", show(&event["usage"])))
    })
}

fn msg_010(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::MSG_STREAM_TOOL));
    let message = accumulated(view);
    let uses = tool_uses(&message);
    if uses.is_empty() {
        return Outcome::Skip("no tool_use block streamed (MSG-011 judges that)".to_owned());
    }
    let unparsed: Vec<String> = uses
        .iter()
        .filter(|block| !block["input"].is_object())
        .map(|block| format!("input {} is no JSON object", show(&block["input"])))
        .collect();
    super::all_clear(uses.len(), unparsed, "streamed tool inputs")
}

/// What is wrong with the forced tool use of a message, if anything.
fn forced_tool_problem(message: &Value) -> Option<String> {
    let uses = tool_uses(message);
    let Some(tool_use) = uses.first() else {
        return Some(format!("no tool_use block: {}", show(&message["content"])));
    };
    if tool_use["name"] != "get_weather" || tool_use["id"].as_str().is_none_or(str::is_empty) {
        return Some(format!("tool_use {}", show(tool_use)));
    }
    if !tool_use["input"].is_object() {
        return Some(format!("input {} is no object", show(&tool_use["input"])));
    }
    (message["stop_reason"] != "tool_use")
        .then(|| format!("stop_reason {}", show(&message["stop_reason"])))
}

fn msg_011(o: &Observations) -> Outcome {
    per_probe(
        &[name::MSG_TOOL, name::MSG_STREAM_TOOL],
        |probe| {
            if probe == name::MSG_STREAM_TOOL {
                stream(o, probe).map(accumulated)
            } else {
                success_json(o, probe)
            }
        },
        |message| forced_tool_problem(&message),
    )
}

fn msg_012(o: &Observations) -> Outcome {
    let message = need!(success_json(o, name::MSG_TOOL_NONE));
    super::no_call(&tool_uses(&message), "tool_use block")
}

fn msg_013(o: &Observations) -> Outcome {
    let message = need!(success_json(o, name::MSG_TOOL_RESULT));
    super::answered_text(text_of(&message), &message["content"])
}

/// The stop sequence the probe sets.
const STOP: &str = "5";

fn msg_014(o: &Observations) -> Outcome {
    let message = need!(success_json(o, name::MSG_STOP_SEQUENCES));
    let text = text_of(&message);
    if text.contains(STOP) {
        return Outcome::Fail(format!("the text contains the stop sequence: {text:?}"));
    }
    match message["stop_reason"].as_str() {
        Some("stop_sequence") => Outcome::expect(
            message["stop_sequence"] == STOP,
            format!("stop_sequence {}", show(&message["stop_sequence"])),
        ),
        // The count stopped right before the sequence: the sequence ended it.
        reason if text.trim_end().ends_with('4') => Outcome::Fail(format!(
            "the count stops before {STOP:?}, yet stop_reason is {reason:?}: {text:?}"
        )),
        reason => Outcome::Skip(format!(
            "the reply never reached {STOP:?} (stop_reason {reason:?}): {}",
            crate::exchange::clip(text, 60)
        )),
    }
}

/// The `max_tokens` the limit probe asks for.
const LIMIT: u64 = 5;

fn msg_015(o: &Observations) -> Outcome {
    let message = need!(success_json(o, name::MSG_LIMIT));
    let output_tokens = message["usage"]["output_tokens"].as_u64();
    match message["stop_reason"].as_str() {
        Some("max_tokens") => Outcome::Pass("stop_reason max_tokens".to_owned()),
        reason if output_tokens.is_some_and(|tokens| tokens >= LIMIT) => Outcome::Fail(format!(
            "stop_reason {reason:?} after {} output tokens of {LIMIT}",
            output_tokens.unwrap_or(0)
        )),
        reason => Outcome::Skip(format!(
            "the reply fit in {LIMIT} tokens ({output_tokens:?}, stop_reason {reason:?})"
        )),
    }
}

/// What is wrong with an Anthropic error envelope answering with `status`, if anything.
fn envelope_problem(status: u16, body: &Value) -> Option<String> {
    if body["type"] != "error" || !body["error"]["message"].is_string() {
        return Some(format!("not Anthropic's envelope: {}", show(body)));
    }
    let kind = body["error"]["type"].as_str().unwrap_or("");
    match ERROR_TYPES.iter().find(|(name, _)| *name == kind) {
        None => Some(format!("error type {kind:?} is not one of Anthropic's")),
        Some((_, expected)) if *expected != status => {
            Some(format!("error type {kind} answers status {status}"))
        }
        _ => None,
    }
}

fn msg_016(o: &Observations) -> Outcome {
    let probes = [
        name::MSG_MISSING_MAX_TOKENS,
        name::MSG_UNKNOWN_MODEL,
        name::MSG_MALFORMED_JSON,
        name::MSG_RATE_LIMIT,
    ];
    per_probe(
        &probes,
        |probe| {
            let exchange = exchange(o, probe)?;
            match exchange.status {
                Some(status) if status >= 400 => Ok(exchange),
                _ => Err(Outcome::Skip(format!(
                    "{probe}: not refused ({})",
                    exchange.summary()
                ))),
            }
        },
        |exchange| {
            let body = exchange.json().unwrap_or(Value::Null);
            envelope_problem(exchange.status.unwrap_or(0), &body)
        },
    )
}

fn msg_017(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::MSG_UNKNOWN_MODEL));
    match exchange.status {
        Some(404) => Outcome::Pass(exchange.summary()),
        Some(status) if (400..500).contains(&status) => {
            Outcome::FailShould(format!("a 4xx, not a 404: {}", exchange.summary()))
        }
        _ => Outcome::Fail(format!("expected a 4xx, got {}", exchange.summary())),
    }
}

fn msg_018(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::MSG_STREAM_FAULT));
    let events = meaningful(view);
    let Some((name, last)) = events.last() else {
        return Outcome::Fail("the stream has no event".to_owned());
    };
    if kind(last) != "error" || *name != "error" {
        return Outcome::Fail(format!(
            "the stream ends with event {name} {}, no event: error",
            show(&last["type"])
        ));
    }
    let kind = last["error"]["type"].as_str().unwrap_or("");
    Outcome::expect(
        ERROR_TYPES.iter().any(|(name, _)| *name == kind) && last["error"]["message"].is_string(),
        format!("event: error {}", show(last)),
    )
}

fn msg_019(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::MSG_COUNT_TOKENS));
    match exchange.status {
        Some(404 | 405) => Outcome::Unsupported(format!("not offered: {}", exchange.summary())),
        Some(200) => {
            let body = exchange.json().unwrap_or(Value::Null);
            Outcome::expect(body["input_tokens"].as_u64().is_some(), show(&body))
        }
        _ => Outcome::Fail(exchange.summary()),
    }
}

fn msg_020(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let start = events(view)
            .into_iter()
            .find(|(_, event)| kind(event) == "message_start")?
            .1;
        let message = &start["message"];
        (message["type"] != "message" || message["role"] != "assistant").then(|| {
            format!(
                "message_start's message has type {} role {}",
                show(&message["type"]),
                show(&message["role"])
            )
        })
    })
}

fn msg_021(o: &Observations) -> Outcome {
    let missing = need!(exchange(o, name::MSG_AUTH_MISSING));
    let wrong = need!(exchange(o, name::MSG_AUTH_WRONG));
    if !o.expect_auth {
        return Outcome::Skip(format!(
            "auth not expected (no --expect-auth); without a key: {}",
            missing.summary()
        ));
    }
    let refusal_problem = |exchange: &crate::exchange::Exchange| match exchange.status {
        Some(401) => {
            let body = exchange.json().unwrap_or(Value::Null);
            envelope_problem(401, &body).or_else(|| {
                (body["error"]["type"] != "authentication_error")
                    .then(|| format!("error type {}", show(&body["error"]["type"])))
            })
        }
        _ => Some(format!("not a 401: {}", exchange.summary())),
    };
    let accepted = o.get(name::MSG_BASIC).is_some_and(|e| e.is_success());
    let problems: Vec<String> = [("no key", missing), ("a wrong key", wrong)]
        .into_iter()
        .filter_map(|(case, exchange)| refusal_problem(exchange).map(|p| format!("{case}: {p}")))
        .chain((!accepted).then(|| "the key itself is not accepted".to_owned()))
        .collect();
    if problems.is_empty() {
        Outcome::Pass(format!(
            "without key: {}; wrong key: {}; with the key accepted",
            missing.summary(),
            wrong.summary()
        ))
    } else {
        Outcome::Fail(problems.join("; "))
    }
}

fn msg_022(o: &Observations) -> Outcome {
    let Some(exchange) = o.get(name::MSG_OVERLOAD) else {
        return Outcome::Skip("overload not probed (give --overload-prompt)".to_owned());
    };
    let status = exchange.status.unwrap_or(0);
    if status < 500 {
        return Outcome::Fail(format!("not a 5xx: {}", exchange.summary()));
    }
    let body = exchange.json().unwrap_or(Value::Null);
    if body["type"] != "error" || !body["error"]["message"].is_string() {
        return Outcome::Fail(format!("not Anthropic's envelope: {}", show(&body)));
    }
    match envelope_problem(status, &body) {
        None if status == 529 => Outcome::Pass(exchange.summary()),
        problem => Outcome::FailShould(format!(
            "not 529 overloaded_error: {}{}",
            exchange.summary(),
            problem.map(|p| format!(" ({p})")).unwrap_or_default()
        )),
    }
}

/// What is wrong with the thinking of a message that was asked to think, if anything.
fn thinking_problem(message: &Value) -> Option<String> {
    let kinds: Vec<&str> = blocks(message)
        .map(|block| block["type"].as_str().unwrap_or(""))
        .collect();
    let thoughts = kinds.iter().take_while(|kind| **kind == "thinking").count();
    if !kinds.contains(&"thinking") {
        return Some(format!("no thinking block: blocks {kinds:?}"));
    }
    if thoughts == 0 || kinds[thoughts..].contains(&"thinking") {
        return Some(format!("thinking does not come first: blocks {kinds:?}"));
    }
    blocks(message)
        .filter(|block| block["type"] == "thinking")
        .find_map(|block| {
            let thought = block["thinking"]
                .as_str()
                .is_some_and(|text| !text.is_empty());
            let signed = block["signature"].is_string();
            (!thought || !signed).then(|| {
                format!(
                    "a thinking block without thinking or signature: {}",
                    show(block)
                )
            })
        })
}

fn msg_023(o: &Observations) -> Outcome {
    per_probe(
        &[name::MSG_THINKING, name::MSG_STREAM_THINKING],
        |probe| {
            let exchange = exchange(o, probe)?;
            match exchange.status {
                // A model that cannot think may say so, unless it was named as one that can.
                Some(400..=499) if !o.expect_thinking => Err(Outcome::Unsupported(format!(
                    "{probe}: the model does not think (name one with --thinking-model): {}",
                    exchange.summary()
                ))),
                _ if probe == name::MSG_STREAM_THINKING => stream(o, probe).map(accumulated),
                _ => success_json(o, probe),
            }
        },
        |message| thinking_problem(&message),
    )
}

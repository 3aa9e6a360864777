//! OpenAI's Responses API (RESP-001..021): the response object, the stream's event grammar as
//! openai-python's accumulator enforces it (`lib/streaming/responses/_responses.py`), the deltas
//! adding up, function tools and their outputs, structured output, the output limit, state, and
//! errors before and after the head. Sources: openai-python's `types/responses` (e43b422), the
//! Open Responses specification, and responses-and-messages.md.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Check, answered, check, exchange, need, per_probe, show, stream, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, StreamView, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "RESP-001",
        Responses,
        Must,
        "a Responses request returns 200 application/json with a response object: string id, object \"response\", integer created_at, a known status, an output array",
        resp_001
    ),
    check!(
        "RESP-002",
        Responses,
        Must,
        "output items are well-formed: message (id, role assistant, output_text parts with text and annotations), function_call (call_id, name, string arguments), reasoning (id, summary list)",
        resp_002
    ),
    check!(
        "RESP-003",
        Responses,
        Must,
        "usage has integer input_tokens, output_tokens and total_tokens equal to their sum, with input_tokens_details.cached_tokens and output_tokens_details.reasoning_tokens",
        resp_003
    ),
    check!(
        "RESP-004",
        Responses,
        Must,
        "stream:true returns 200 with Content-Type text/event-stream",
        resp_004
    ),
    check!(
        "RESP-005",
        Responses,
        Must,
        "the first event is response.created (the SDK refuses any other first)",
        resp_005
    ),
    check!(
        "RESP-006",
        Responses,
        Must,
        "exactly one terminal event (response.completed, .incomplete or .failed), and it is the last",
        resp_006
    ),
    check!(
        "RESP-007",
        Responses,
        Must,
        "every event has an integer sequence_number, strictly increasing",
        resp_007
    ),
    check!(
        "RESP-008",
        Responses,
        Should,
        "every event comes under an SSE event: line equal to its type",
        resp_008
    ),
    check!(
        "RESP-009",
        Responses,
        Must,
        "each item is added before any event of its output_index, keeps one item_id, has its content part added before that part's text deltas, and is done after them",
        resp_009
    ),
    check!(
        "RESP-010",
        Responses,
        Must,
        "deltas add up: text deltas to output_text.done and to the final response's text, argument deltas to the final call's arguments",
        resp_010
    ),
    check!(
        "RESP-011",
        Responses,
        Must,
        "a function tool named by tool_choice is called: a function_call item with a call_id, its name and arguments that parse as a JSON object, whole and streamed",
        resp_011
    ),
    check!(
        "RESP-012",
        Responses,
        Must,
        "tool_choice none yields no function_call item",
        resp_012
    ),
    check!(
        "RESP-013",
        Responses,
        Must,
        "a function_call_output answering a call_id is taken and answered with a message",
        resp_013
    ),
    check!(
        "RESP-014",
        Responses,
        Should,
        "text.format json_schema yields output text that parses as a JSON object with the schema's required keys",
        resp_014
    ),
    check!(
        "RESP-015",
        Responses,
        Should,
        "a reply that reaches max_output_tokens is incomplete with incomplete_details.reason max_output_tokens",
        resp_015
    ),
    check!(
        "RESP-016",
        Responses,
        Must,
        "previous_response_id naming no response is refused with a 4xx, never silently ignored",
        resp_016
    ),
    check!(
        "RESP-017",
        Responses,
        Must,
        "previous_response_id naming the server's own response continues it (200 echoing the id) or is refused with a 4xx",
        resp_017
    ),
    check!(
        "RESP-018",
        Responses,
        Should,
        "a stored response is retrieved by GET /responses/{id}, and after DELETE it is gone (404)",
        resp_018
    ),
    check!(
        "RESP-019",
        Responses,
        Must,
        "a refused request gets a 4xx in OpenAI's envelope ({\"error\": {\"message\", \"type\"}})",
        resp_019
    ),
    check!(
        "RESP-020",
        Responses,
        Must,
        "a failure after the stream began ends it with an error event (or response.failed), not a normal end",
        resp_020
    ),
    check!(
        "RESP-021",
        Responses,
        Should,
        "the items a stream adds are the final response's: the same id and call_id at each output_index",
        resp_021
    ),
];

/// Valid non-streamed requests.
const WHOLE: &[&str] = &[
    name::RESP_BASIC,
    name::RESP_TOOL,
    name::RESP_TOOL_NONE,
    name::RESP_TOOL_OUTPUT,
    name::RESP_JSON_SCHEMA,
    name::RESP_LIMIT,
];

/// Valid streamed requests.
const STREAMS: &[&str] = &[name::RESP_STREAM, name::RESP_STREAM_TOOL];

const STATUSES: &[&str] = &[
    "completed",
    "failed",
    "in_progress",
    "cancelled",
    "queued",
    "incomplete",
];

const TERMINAL: &[&str] = &[
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// A stream's events as a client reads them: `(SSE event name, JSON data)`, `[DONE]` and
/// payloads that are not JSON objects left out.
fn events(view: &StreamView) -> Vec<(&str, &Value)> {
    view.chunks
        .iter()
        .map(|(index, data)| (view.client_events[*index].0.as_str(), data))
        .collect()
}

fn kind(event: &Value) -> &str {
    event["type"].as_str().unwrap_or("")
}

/// The response a stream's terminal event carries.
fn terminal_response(view: &StreamView) -> Option<&Value> {
    events(view)
        .into_iter()
        .rev()
        .find(|(_, event)| TERMINAL.contains(&kind(event)))
        .map(|(_, event)| &event["response"])
}

/// The response a probe ended with: a whole reply's body, or a stream's terminal response.
fn final_response(o: &Observations, probe: &'static str) -> Result<Value, Outcome> {
    if !STREAMS.contains(&probe) {
        return success_json(o, probe);
    }
    terminal_response(stream(o, probe)?)
        .cloned()
        .ok_or_else(|| Outcome::Skip(format!("{probe}: no terminal response")))
}

/// The text of a response's message items.
fn output_text(response: &Value) -> String {
    items(response)
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().into_iter().flatten())
        .filter(|part| part["type"] == "output_text")
        .filter_map(|part| part["text"].as_str())
        .collect()
}

fn items(response: &Value) -> impl Iterator<Item = &Value> {
    response["output"].as_array().into_iter().flatten()
}

fn function_calls(response: &Value) -> Vec<&Value> {
    items(response)
        .filter(|item| item["type"] == "function_call")
        .collect()
}

/// What is wrong with a response object, if anything.
fn response_problem(response: &Value) -> Option<String> {
    if response["id"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no string id: {}", show(&response["id"])));
    }
    if response["object"] != "response" {
        return Some(format!("object is {}", show(&response["object"])));
    }
    if !super::is_unix_seconds(&response["created_at"]) {
        return Some(format!("created_at is {}", show(&response["created_at"])));
    }
    if !response["status"]
        .as_str()
        .is_some_and(|status| STATUSES.contains(&status))
    {
        return Some(format!("status is {}", show(&response["status"])));
    }
    if !response["output"].is_array() {
        return Some(format!("output is {}", show(&response["output"])));
    }
    None
}

/// What is wrong with an output item, if anything.
fn item_problem(item: &Value) -> Option<String> {
    let string = |key: &str| item[key].is_string();
    match item["type"].as_str() {
        Some("message") => {
            if !string("id") || item["role"] != "assistant" {
                return Some(format!(
                    "a message without id or role assistant: {}",
                    show(item)
                ));
            }
            let parts = item["content"].as_array()?;
            parts
                .iter()
                .filter(|part| part["type"] == "output_text")
                .find(|part| !part["text"].is_string() || !part["annotations"].is_array())
                .map(|part| {
                    format!(
                        "an output_text part without text or annotations: {}",
                        show(part)
                    )
                })
                .or_else(|| {
                    (!item["content"].is_array())
                        .then(|| format!("message content is not a list: {}", show(item)))
                })
        }
        Some("function_call") => (!string("call_id") || !string("name") || !string("arguments"))
            .then(|| {
                format!(
                    "a function_call without call_id, name or string arguments: {}",
                    show(item)
                )
            }),
        Some("reasoning") => (!string("id") || !item["summary"].is_array()).then(|| {
            format!(
                "a reasoning item without id or summary list: {}",
                show(item)
            )
        }),
        Some(_) => None,
        None => Some(format!("an item without type: {}", show(item))),
    }
}

fn resp_001(o: &Observations) -> Outcome {
    per_probe(
        WHOLE,
        |probe| {
            let exchange = answered(o, probe)?;
            let response = success_json(o, probe)?;
            Ok((exchange.media_type(), response))
        },
        |(media_type, response)| {
            if media_type.as_deref() != Some("application/json") {
                return Some(format!("Content-Type {media_type:?}"));
            }
            response_problem(&response)
        },
    )
}

fn resp_002(o: &Observations) -> Outcome {
    let probes: Vec<&'static str> = WHOLE.iter().chain(STREAMS).copied().collect();
    per_probe(
        &probes,
        |probe| final_response(o, probe),
        |response| items(&response).find_map(item_problem),
    )
}

fn resp_003(o: &Observations) -> Outcome {
    per_probe(
        &[name::RESP_BASIC, name::RESP_TOOL],
        |probe| success_json(o, probe),
        |response| {
            let usage = &response["usage"];
            let count = |key: &str| usage[key].as_u64();
            let (Some(input), Some(output), Some(total)) = (
                count("input_tokens"),
                count("output_tokens"),
                count("total_tokens"),
            ) else {
                return Some(format!("usage is {}", show(usage)));
            };
            if input + output != total {
                return Some(format!("total_tokens {total} is not {input} + {output}"));
            }
            if usage["input_tokens_details"]["cached_tokens"]
                .as_u64()
                .is_none()
                || usage["output_tokens_details"]["reasoning_tokens"]
                    .as_u64()
                    .is_none()
            {
                return Some(format!("usage details are {}", show(usage)));
            }
            None
        },
    )
}

fn resp_004(o: &Observations) -> Outcome {
    super::served_as(o, STREAMS, "text/event-stream")
}

/// Judges `problem` on each valid stream.
fn per_stream(o: &Observations, problem: impl Fn(&StreamView) -> Option<String>) -> Outcome {
    per_probe(STREAMS, |probe| stream(o, probe), problem)
}

fn resp_005(o: &Observations) -> Outcome {
    per_stream(o, |view| match events(view).first() {
        Some((_, event)) if kind(event) == "response.created" => None,
        Some((_, event)) => Some(format!("the first event is {}", show(&event["type"]))),
        None => Some("no JSON event".to_owned()),
    })
}

fn resp_006(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let events = events(view);
        let terminal: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, (_, event))| TERMINAL.contains(&kind(event)))
            .map(|(position, _)| position)
            .collect();
        match terminal.as_slice() {
            [] => Some("no terminal event".to_owned()),
            [last] if *last + 1 == events.len() => None,
            [last] => Some(format!(
                "{} follows the terminal event",
                show(&events[*last + 1].1["type"])
            )),
            more => Some(format!("{} terminal events", more.len())),
        }
    })
}

fn resp_007(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let mut previous: Option<u64> = None;
        for (_, event) in events(view) {
            let Some(number) = event["sequence_number"].as_u64() else {
                return Some(format!(
                    "{} has no integer sequence_number",
                    show(&event["type"])
                ));
            };
            if previous.is_some_and(|previous| number <= previous) {
                return Some(format!("{number} follows {}", previous.unwrap_or(0)));
            }
            previous = Some(number);
        }
        None
    })
}

fn resp_008(o: &Observations) -> Outcome {
    per_stream(o, |view| super::misnamed(events(view)))
}

/// The lifecycle problem of a stream's events, if any.
fn lifecycle_problem(view: &StreamView) -> Option<String> {
    let mut item_ids: BTreeMap<u64, String> = BTreeMap::new();
    let mut done: Vec<u64> = Vec::new();
    let mut parts: Vec<(String, u64)> = Vec::new();
    for (_, event) in events(view) {
        let kind = kind(event);
        if !kind.starts_with("response.output_")
            && !kind.starts_with("response.content_part")
            && !kind.starts_with("response.function_call")
            && !kind.starts_with("response.reasoning")
            && !kind.starts_with("response.refusal")
        {
            continue;
        }
        let Some(index) = event["output_index"].as_u64() else {
            return Some(format!("{kind} has no output_index"));
        };
        if kind == "response.output_item.added" {
            let id = event["item"]["id"].as_str().unwrap_or("").to_owned();
            if item_ids.insert(index, id).is_some() {
                return Some(format!("output_index {index} added twice"));
            }
            continue;
        }
        let Some(id) = item_ids.get(&index) else {
            return Some(format!(
                "{kind} for output_index {index} before its item was added"
            ));
        };
        if done.contains(&index) {
            return Some(format!(
                "{kind} for output_index {index} after its item was done"
            ));
        }
        if let Some(item_id) = event["item_id"].as_str()
            && item_id != id
        {
            return Some(format!(
                "{kind} names item {item_id} at output_index {index}, added as {id}"
            ));
        }
        let part = (id.clone(), event["content_index"].as_u64().unwrap_or(0));
        match kind {
            "response.content_part.added" => parts.push(part),
            "response.output_text.delta" | "response.output_text.done"
                if !parts.contains(&part) =>
            {
                return Some(format!(
                    "{kind} for content_index {} before its part was added",
                    part.1
                ));
            }
            "response.output_item.done" => done.push(index),
            _ => {}
        }
    }
    None
}

fn resp_009(o: &Observations) -> Outcome {
    per_stream(o, lifecycle_problem)
}

/// What does not add up in a stream, if anything.
fn sum_problem(view: &StreamView) -> Option<String> {
    let mut text = String::new();
    let mut done_text: Option<String> = None;
    let mut arguments: BTreeMap<String, String> = BTreeMap::new();
    for (_, event) in events(view) {
        let delta = event["delta"].as_str().unwrap_or("");
        match kind(event) {
            "response.output_text.delta" => text.push_str(delta),
            "response.output_text.done" => {
                done_text
                    .get_or_insert_default()
                    .push_str(event["text"].as_str().unwrap_or(""));
            }
            "response.function_call_arguments.delta" => arguments
                .entry(event["item_id"].as_str().unwrap_or("").to_owned())
                .or_default()
                .push_str(delta),
            _ => {}
        }
    }
    if let Some(done) = &done_text
        && *done != text
    {
        return Some(format!("text deltas {text:?}, output_text.done {done:?}"));
    }
    let response = terminal_response(view)?;
    let last = output_text(response);
    if last != text {
        return Some(format!("text deltas {text:?}, final response {last:?}"));
    }
    let streamed: Vec<&String> = arguments.values().collect();
    let whole: Vec<&str> = function_calls(response)
        .iter()
        .map(|call| call["arguments"].as_str().unwrap_or(""))
        .collect();
    if !streamed.is_empty() && streamed.iter().map(|a| a.as_str()).collect::<Vec<_>>() != whole {
        return Some(format!(
            "argument deltas {streamed:?}, final calls {whole:?}"
        ));
    }
    None
}

fn resp_010(o: &Observations) -> Outcome {
    per_stream(o, sum_problem)
}

/// What is wrong with the forced call of a response, if anything.
fn forced_call_problem(response: &Value) -> Option<String> {
    let calls = function_calls(response);
    let Some(call) = calls.first() else {
        return Some(format!(
            "no function_call item: {}",
            show(&response["output"])
        ));
    };
    if call["call_id"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no call_id: {}", show(call)));
    }
    if call["name"] != "get_weather" {
        return Some(format!("name is {}", show(&call["name"])));
    }
    let arguments = call["arguments"].as_str().unwrap_or("");
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(_)) => None,
        _ => Some(format!("arguments {arguments:?} are not a JSON object")),
    }
}

fn resp_011(o: &Observations) -> Outcome {
    per_probe(
        &[name::RESP_TOOL, name::RESP_STREAM_TOOL],
        |probe| final_response(o, probe),
        |response| forced_call_problem(&response),
    )
}

fn resp_012(o: &Observations) -> Outcome {
    let response = need!(success_json(o, name::RESP_TOOL_NONE));
    super::no_call(&function_calls(&response), "function_call item")
}

fn resp_013(o: &Observations) -> Outcome {
    let response = need!(success_json(o, name::RESP_TOOL_OUTPUT));
    super::answered_text(output_text(&response), &response["output"])
}

fn resp_014(o: &Observations) -> Outcome {
    let response = need!(success_json(o, name::RESP_JSON_SCHEMA));
    let text = output_text(&response);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(object)) if object.get("answer").is_some_and(Value::is_string) => {
            Outcome::Pass(format!("JSON {}", crate::exchange::clip(text, 80)))
        }
        _ => Outcome::Fail(format!(
            "output text {:?} is not the schema's object",
            crate::exchange::clip(text, 80)
        )),
    }
}

/// The `max_output_tokens` the limit probe asks for.
const LIMIT: u64 = 16;

fn resp_015(o: &Observations) -> Outcome {
    let response = need!(success_json(o, name::RESP_LIMIT));
    let output_tokens = response["usage"]["output_tokens"].as_u64();
    match response["status"].as_str() {
        Some("incomplete") => {
            let reason = &response["incomplete_details"]["reason"];
            Outcome::expect(
                reason == "max_output_tokens",
                format!("incomplete, reason {}", show(reason)),
            )
        }
        Some(status) if output_tokens.is_some_and(|tokens| tokens >= LIMIT) => {
            Outcome::Fail(format!(
                "{status} after {} output tokens of {LIMIT}",
                output_tokens.unwrap_or(0)
            ))
        }
        Some(status) => Outcome::Skip(format!(
            "{status}: the reply fit in {LIMIT} tokens ({output_tokens:?})"
        )),
        None => Outcome::Fail(format!("status is {}", show(&response["status"]))),
    }
}

/// A 4xx for `probe`, or what it got instead.
fn refused(o: &Observations, probe: &str) -> Outcome {
    let exchange = need!(exchange(o, probe));
    match exchange.status {
        Some(status) if (400..500).contains(&status) => {
            Outcome::Pass(format!("{probe}: {}", exchange.summary()))
        }
        _ => Outcome::Fail(format!(
            "{probe}: expected a 4xx, got {}",
            exchange.summary()
        )),
    }
}

fn resp_016(o: &Observations) -> Outcome {
    refused(o, name::RESP_UNKNOWN_PREVIOUS)
}

fn resp_017(o: &Observations) -> Outcome {
    let first = need!(success_json(o, name::RESP_BASIC));
    let exchange = need!(exchange(o, name::RESP_CONTINUE));
    match exchange.status {
        Some(status) if (400..500).contains(&status) => {
            Outcome::Pass(format!("refused: {}", exchange.summary()))
        }
        Some(200..=299) => {
            let next = exchange.json().unwrap_or(Value::Null);
            Outcome::expect(
                next["previous_response_id"] == first["id"],
                format!(
                    "continued {}: previous_response_id {}",
                    show(&first["id"]),
                    show(&next["previous_response_id"])
                ),
            )
        }
        _ => Outcome::Fail(exchange.summary()),
    }
}

fn resp_018(o: &Observations) -> Outcome {
    let first = need!(success_json(o, name::RESP_BASIC));
    if first["store"] == false {
        return Outcome::Skip("the response says store: false".to_owned());
    }
    let retrieved = need!(exchange(o, name::RESP_RETRIEVE));
    match retrieved.status {
        Some(404 | 405) if first["store"] == true => {
            return Outcome::Fail(format!(
                "store: true, yet GET answers {}",
                retrieved.summary()
            ));
        }
        Some(404 | 405) => {
            return Outcome::Unsupported(format!(
                "no stored responses: GET answers {}",
                retrieved.summary()
            ));
        }
        Some(200) => {}
        _ => return Outcome::Fail(format!("GET answers {}", retrieved.summary())),
    }
    let kept = retrieved.json().unwrap_or(Value::Null);
    if kept["id"] != first["id"] || output_text(&kept) != output_text(&first) {
        return Outcome::Fail(format!(
            "GET gives {} for {}",
            show(&kept),
            show(&first["id"])
        ));
    }
    let deleted = need!(exchange(o, name::RESP_DELETE));
    match deleted.status {
        Some(200) => {}
        Some(404 | 405) => {
            return Outcome::Pass(format!(
                "retrieved; DELETE not offered ({})",
                deleted.summary()
            ));
        }
        _ => return Outcome::Fail(format!("DELETE answers {}", deleted.summary())),
    }
    let gone = need!(exchange(o, name::RESP_RETRIEVE_DELETED));
    Outcome::expect(
        gone.status == Some(404),
        format!("retrieved, deleted; then GET answers {}", gone.summary()),
    )
}

fn resp_019(o: &Observations) -> Outcome {
    let probes = [name::RESP_MISSING_INPUT, name::RESP_UNKNOWN_PREVIOUS];
    per_probe(
        &probes,
        |probe| {
            let exchange = exchange(o, probe)?;
            match exchange.status {
                Some(status) if (400..500).contains(&status) => Ok(exchange),
                _ if probe == name::RESP_MISSING_INPUT => Err(Outcome::Fail(format!(
                    "{probe}: expected a 4xx, got {}",
                    exchange.summary()
                ))),
                // RESP-016 judges an accepted unknown id.
                _ => Err(Outcome::Skip(format!("{probe}: not refused"))),
            }
        },
        |exchange| {
            let body = exchange.json().unwrap_or(Value::Null);
            let error = &body["error"];
            (!error["message"].is_string() || !error["type"].is_string())
                .then(|| format!("not OpenAI's envelope: {}", exchange.summary()))
        },
    )
}

fn resp_020(o: &Observations) -> Outcome {
    let view = need!(stream(o, name::RESP_STREAM_FAULT));
    let events = events(view);
    if let Some((position, error)) = view.errors.last()
        && *position + 1 == view.client_events.len()
    {
        // openai-python raises on any payload with a top-level error; a reader of the spec's
        // events sees none.
        return Outcome::FailShould(format!(
            "a bare error object, not an error event: {}",
            show(error)
        ));
    }
    let Some((_, last)) = events.last() else {
        return Outcome::Fail("the stream has no event".to_owned());
    };
    match kind(last) {
        "error" if last["message"].is_string() => {
            Outcome::Pass(format!("error event: {}", show(last)))
        }
        "response.failed" => Outcome::Pass("response.failed".to_owned()),
        other => Outcome::Fail(format!(
            "the stream ends with {other:?}, {} events, no error event",
            events.len()
        )),
    }
}

fn resp_021(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let response = terminal_response(view)?;
        let last: Vec<&Value> = items(response).collect();
        for (_, event) in events(view) {
            if kind(event) != "response.output_item.done" {
                continue;
            }
            let Some(index) = event["output_index"].as_u64() else {
                return Some("an output_item.done without output_index".to_owned());
            };
            let index = index as usize;
            let streamed = &event["item"];
            let Some(kept) = last.get(index) else {
                return Some(format!("output_index {index} is not in the final response"));
            };
            for key in ["id", "call_id"] {
                if streamed[key] != kept[key] {
                    return Some(format!(
                        "{key} {} streamed, {} in the final response",
                        show(&streamed[key]),
                        show(&kept[key])
                    ));
                }
            }
        }
        None
    })
}

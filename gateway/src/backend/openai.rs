//! OpenAI-compatible upstreams (vLLM, llama.cpp, LiteLLM, …): the request is relayed, and the
//! reply is re-framed so the client always gets a conformant one whatever the upstream's quirks:
//! our own stable `id`/`created` and the requested `model` on every chunk, `role` exactly once and
//! first, `finish_reason` from the schema's enum, tool-call fragments with `index` always and
//! `id`/`type`/`name` only on the first, arguments as strings, usage only when asked for, a
//! string-coded error envelope, and `[DONE]`.

use std::collections::{BTreeMap, BTreeSet};

use bytes::BytesMut;
use serde_json::Value;
use tokio::time::Instant;
use wire::openai::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Choice, ChunkChoice, Delta,
    FinishReason, FunctionCall, FunctionCallDelta, Model, ResponseMessage, StreamOptions, ToolCall,
    ToolCallDelta, Usage,
};
use wire::sse::{Event, events};

use super::{Backend, ChatCall, ChatReply, Routes, Translate, relay};
use crate::{error::GatewayError, ids, sse, translate::ASSISTANT};

/// The routes under an OpenAI-compatible `base_url` (which ends in `/v1`).
pub(super) const ROUTES: Routes = Routes {
    chat: "/chat/completions",
    models: "/models",
    probe: "/models",
};

/// Relays the request; streams ask the upstream for usage so it can be passed on when wanted.
pub async fn chat(
    backend: &Backend,
    request: &ChatCompletionRequest,
    call: ChatCall,
) -> Result<ChatReply, GatewayError> {
    let started = Instant::now();
    let mut upstream_request = for_compatible_upstreams(request);
    upstream_request.model = Some(call.model.clone());
    if request.is_streaming() {
        upstream_request.stream_options = Some(StreamOptions {
            include_usage: Some(true),
        });
    }
    let builder = backend
        .request(reqwest::Method::POST, ROUTES.chat, Some(&call.request_id))
        .json(&upstream_request);
    let response = call.upstream.time(backend.send(builder)).await?;
    if !request.is_streaming() {
        let body: Value = call.upstream.time(backend.json(response)).await?;
        return normalize_completion(body, &call, backend.name())
            .map(|c| ChatReply::Whole(Box::new(c)));
    }
    let translate = SseNormalizer::new(call, request.wants_stream_usage(), backend.name());
    Ok(ChatReply::Stream(relay(
        events(response.bytes_stream()),
        translate,
        backend,
        started,
    )))
}

/// The request as the widest range of OpenAI-compatible servers accepts it, meaning the same:
/// `developer` is sent as `system` (llama.cpp and older vLLM reject the newer role), an assistant's
/// `content: null` beside tool calls as `""` (llama.cpp rejects null), content made only of text
/// parts as one string (llama.cpp cannot concatenate parts), and `max_completion_tokens`
/// is mirrored into `max_tokens` (llama.cpp only reads the older name and would run to the
/// context limit).
pub fn for_compatible_upstreams(request: &ChatCompletionRequest) -> ChatCompletionRequest {
    let mut request = request.clone();
    for message in request.messages.iter_mut().flatten() {
        if message.role == "developer" {
            message.role = "system".to_owned();
        }
        if message.role == "assistant" && message.content.as_ref().is_none_or(Value::is_null) {
            message.content = Some(Value::String(String::new()));
        }
        if let Some(text) = message.content.as_ref().and_then(text_only_parts) {
            message.content = Some(Value::String(text));
        }
    }
    if let Some(limit) = request.max_completion_tokens {
        request.max_tokens = Some(limit);
    }
    request
}

/// Content made only of text parts, joined with newlines (as the Ollama path joins them).
fn text_only_parts(content: &Value) -> Option<String> {
    let parts = content.as_array()?;
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|part| {
            (part["type"] == "text")
                .then(|| part["text"].as_str())
                .flatten()
        })
        .collect();
    texts.map(|texts| texts.join("\n"))
}

/// `/v1/models` of the upstream, tolerant of missing `created`/`owned_by`.
pub async fn list_models(backend: &Backend) -> Result<Vec<Model>, GatewayError> {
    let response = backend
        .send(backend.request(reqwest::Method::GET, ROUTES.models, None))
        .await?;
    let body: Value = backend.json(response).await?;
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(data
        .iter()
        .filter_map(|model| {
            Some(Model {
                id: model.get("id")?.as_str()?.to_owned(),
                object: "model".to_owned(),
                created: model.get("created").and_then(unix_seconds).unwrap_or(0),
                owned_by: model
                    .get("owned_by")
                    .and_then(Value::as_str)
                    .unwrap_or(backend.name())
                    .to_owned(),
            })
        })
        .collect())
}

/// Integer seconds from a number that may be a float or milliseconds.
fn unix_seconds(value: &Value) -> Option<u64> {
    let seconds = value.as_f64()?;
    if seconds < 0.0 {
        return None;
    }
    // Anything past the year 5000 in seconds is really milliseconds.
    Some(if seconds > 95_617_584_000.0 {
        seconds / 1000.0
    } else {
        seconds
    } as u64)
}

/// The schema's finish reasons; `eos_token`-like values mean `stop`; `abort`/`error` are failures.
fn finish_reason(value: &str, called_tools: bool) -> Result<FinishReason, GatewayError> {
    Ok(match value {
        "length" => FinishReason::Length,
        "tool_calls" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        "function_call" => FinishReason::FunctionCall,
        "abort" | "error" => {
            return Err(GatewayError::UpstreamStream {
                message: format!("the upstream ended the generation with finish_reason {value:?}"),
            });
        }
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    })
}

fn usage(value: &Value) -> Option<Usage> {
    let count = |key: &str| value.get(key).and_then(Value::as_u64);
    let prompt = count("prompt_tokens")?;
    let completion = count("completion_tokens").unwrap_or(0);
    Some(Usage::new(prompt, completion))
}

/// Arguments as the JSON string OpenAI specifies, even when an upstream sent an object.
fn arguments_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn upstream_error(value: &Value) -> Option<GatewayError> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    let message = match error {
        Value::String(text) => text.clone(),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the upstream reported an error")
            .to_owned(),
    };
    Some(GatewayError::UpstreamStream { message })
}

fn normalize_completion(
    body: Value,
    call: &ChatCall,
    backend: &str,
) -> Result<ChatCompletion, GatewayError> {
    let protocol = |detail: &str| GatewayError::UpstreamProtocol {
        backend: backend.to_owned(),
        detail: detail.to_owned(),
    };
    if let Some(error) = upstream_error(&body) {
        return Err(error);
    }
    let choices = body
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| protocol("the reply has no `choices` array"))?;
    let mut normalized = Vec::with_capacity(choices.len());
    for (position, choice) in choices.iter().enumerate() {
        let message = choice.get("message").unwrap_or(&Value::Null);
        let tool_calls: Vec<ToolCall> = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|call| {
                let function = call.get("function")?;
                Some(ToolCall {
                    id: text(call.get("id")).unwrap_or_else(ids::tool_call_id),
                    kind: "function".to_owned(),
                    function: FunctionCall {
                        name: function.get("name")?.as_str()?.to_owned(),
                        arguments: function
                            .get("arguments")
                            .and_then(arguments_text)
                            .unwrap_or_else(|| "{}".to_owned()),
                    },
                })
            })
            .collect();
        let content = message
            .get("content")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let reason = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .unwrap_or("stop");
        normalized.push(Choice {
            index: choice
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64) as u32,
            finish_reason: finish_reason(reason, !tool_calls.is_empty())?,
            message: ResponseMessage {
                role: ASSISTANT.to_owned(),
                content: if content.as_deref().is_some_and(str::is_empty) && !tool_calls.is_empty()
                {
                    None
                } else {
                    content.or_else(|| tool_calls.is_empty().then(String::new))
                },
                refusal: None,
                reasoning_content: text(message.get("reasoning_content"))
                    .or_else(|| text(message.get("reasoning"))),
                tool_calls,
            },
            logprobs: choice.get("logprobs").filter(|l| l.is_object()).cloned(),
        });
    }
    Ok(ChatCompletion {
        id: text(body.get("id")).unwrap_or_else(|| call.completion_id.clone()),
        object: "chat.completion".to_owned(),
        created: body
            .get("created")
            .and_then(unix_seconds)
            .unwrap_or(call.created),
        model: call.model.clone(),
        choices: normalized,
        usage: body.get("usage").and_then(usage).unwrap_or_default(),
        system_fingerprint: text(body.get("system_fingerprint")),
    })
}

/// Upstream SSE events → conformant frames.
struct SseNormalizer {
    call: ChatCall,
    include_usage: bool,
    backend: String,
    opened: BTreeSet<u32>,
    finished: BTreeSet<u32>,
    tool_ids: BTreeMap<(u32, u32), String>,
    called_tools: BTreeSet<u32>,
    usage: Option<Usage>,
    done: bool,
}

impl SseNormalizer {
    fn new(call: ChatCall, include_usage: bool, backend: &str) -> Self {
        Self {
            call,
            include_usage,
            backend: backend.to_owned(),
            opened: BTreeSet::new(),
            finished: BTreeSet::new(),
            tool_ids: BTreeMap::new(),
            called_tools: BTreeSet::new(),
            usage: None,
            done: false,
        }
    }

    fn frame(&self, out: &mut BytesMut, choices: Vec<ChunkChoice>, usage: Option<Option<Usage>>) {
        let chunk = ChatCompletionChunk {
            id: self.call.completion_id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.call.created,
            model: self.call.model.clone(),
            system_fingerprint: None,
            choices,
            usage: usage.or(self.include_usage.then_some(None)),
        };
        sse::write_frame(out, &chunk);
    }

    fn delta(&self, out: &mut BytesMut, index: u32, delta: Delta) {
        let choice = ChunkChoice {
            index,
            delta,
            logprobs: None,
            finish_reason: None,
        };
        self.frame(out, vec![choice], None);
    }

    fn choice(
        &mut self,
        choice: &Value,
        position: usize,
        out: &mut BytesMut,
    ) -> Result<(), GatewayError> {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64) as u32;
        if self.finished.contains(&index) {
            return Ok(());
        }
        if self.opened.insert(index) {
            self.delta(
                out,
                index,
                Delta {
                    role: Some(ASSISTANT.to_owned()),
                    content: Some(String::new()),
                    ..Delta::default()
                },
            );
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        let reasoning =
            text(delta.get("reasoning_content")).or_else(|| text(delta.get("reasoning")));
        if let Some(reasoning) = reasoning {
            self.delta(
                out,
                index,
                Delta {
                    reasoning_content: Some(reasoning),
                    ..Delta::default()
                },
            );
        }
        if let Some(content) = text(delta.get("content")) {
            self.delta(
                out,
                index,
                Delta {
                    content: Some(content),
                    ..Delta::default()
                },
            );
        }
        let fragments = self.tool_fragments(index, delta.get("tool_calls"));
        if !fragments.is_empty() {
            self.called_tools.insert(index);
            self.delta(
                out,
                index,
                Delta {
                    tool_calls: fragments,
                    ..Delta::default()
                },
            );
        }
        if let Some(reason) = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            let reason = finish_reason(reason, self.called_tools.contains(&index))?;
            self.finished.insert(index);
            let finish = ChunkChoice {
                index,
                delta: Delta::default(),
                logprobs: None,
                finish_reason: Some(reason),
            };
            self.frame(out, vec![finish], None);
        }
        Ok(())
    }

    /// `index` always; `id`, `type`, `name` on the first fragment of a call only; fragments of
    /// one call within one chunk merged.
    fn tool_fragments(&mut self, choice: u32, calls: Option<&Value>) -> Vec<ToolCallDelta> {
        let mut fragments: Vec<ToolCallDelta> = Vec::new();
        for (position, call) in calls
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64) as u32;
            let function = call.get("function").unwrap_or(&Value::Null);
            let arguments = function
                .get("arguments")
                .and_then(arguments_text)
                .filter(|a| !a.is_empty());
            let first = !self.tool_ids.contains_key(&(choice, index));
            let fragment = if first {
                let id = text(call.get("id")).unwrap_or_else(ids::tool_call_id);
                self.tool_ids.insert((choice, index), id.clone());
                ToolCallDelta {
                    index,
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: FunctionCallDelta {
                        name: Some(text(function.get("name")).unwrap_or_default()),
                        arguments: Some(arguments.unwrap_or_default()),
                    },
                }
            } else if let Some(arguments) = arguments {
                ToolCallDelta {
                    index,
                    function: FunctionCallDelta {
                        name: None,
                        arguments: Some(arguments),
                    },
                    ..ToolCallDelta::default()
                }
            } else {
                continue;
            };
            match fragments.last_mut() {
                Some(last) if last.index == fragment.index => {
                    let tail = fragment.function.arguments.unwrap_or_default();
                    last.function
                        .arguments
                        .get_or_insert_with(String::new)
                        .push_str(&tail);
                }
                _ => fragments.push(fragment),
            }
        }
        fragments
    }
}

impl Translate<Event> for SseNormalizer {
    fn push(&mut self, event: Event, out: &mut BytesMut) -> Result<(), GatewayError> {
        let data = event.data.trim();
        if self.done || data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let value: Value =
            serde_json::from_str(data).map_err(|err| GatewayError::UpstreamProtocol {
                backend: self.backend.clone(),
                detail: format!("an SSE event is not JSON ({err})"),
            })?;
        if let Some(error) = upstream_error(&value) {
            return Err(error);
        }
        if let Some(found) = value.get("usage").and_then(usage) {
            self.usage = Some(found);
        }
        let choices = value
            .get("choices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (position, choice) in choices.iter().enumerate() {
            self.choice(choice, position, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if self.opened.is_empty()
            || self
                .opened
                .iter()
                .any(|index| !self.finished.contains(index))
        {
            return Err(GatewayError::UpstreamIncomplete {
                backend: self.backend.clone(),
            });
        }
        if self.include_usage {
            match self.usage {
                Some(usage) => self.frame(out, Vec::new(), Some(Some(usage))),
                None => {
                    tracing::warn!(backend = %self.backend, "upstream sent no usage; no usage chunk")
                }
            }
        }
        out.extend_from_slice(sse::DONE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call() -> ChatCall {
        ChatCall {
            request_id: "r".into(),
            model: "smollm2".into(),
            completion_id: "chatcmpl-ours".into(),
            created: 1_700_000_000,
            upstream: Default::default(),
            ollama: Default::default(),
        }
    }

    fn run(events: &[&str], include_usage: bool) -> (Vec<Value>, Result<(), GatewayError>) {
        let mut normalizer = SseNormalizer::new(call(), include_usage, "vllm");
        let mut out = BytesMut::new();
        let mut result = Ok(());
        for data in events {
            let event = Event {
                data: (*data).to_owned(),
                ..Event::default()
            };
            result = normalizer.push(event, &mut out);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = normalizer.finish(&mut out);
        }
        let text = String::from_utf8(out.to_vec()).expect("utf8");
        let frames = text
            .split("\n\n")
            .filter_map(|frame| frame.strip_prefix("data: "))
            .map(|data| {
                if data == "[DONE]" {
                    json!("[DONE]")
                } else {
                    serde_json::from_str(data).expect("json")
                }
            })
            .collect();
        (frames, result)
    }

    #[test]
    fn a_deviant_stream_is_made_conformant() {
        // Different ids per chunk, role repeated, finish_reason on the content chunk, usage
        // unrequested, eos_token, tool call repeating id and name, object arguments.
        let (frames, result) = run(
            &[
                r#"{"id":"a","created":1.5,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
                r#"{"id":"b","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":{"x":1}}}]}}]}"#,
                r#"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t1","function":{"name":"f","arguments":""}}]},"finish_reason":"eos_token"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
                "[DONE]",
            ],
            false,
        );
        result.expect("complete");
        let chunks = &frames[..frames.len() - 1];
        assert!(chunks.iter().all(|c| c["id"] == "chatcmpl-ours"
            && c["created"] == 1_700_000_000
            && c["model"] == "smollm2"));
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        assert!(
            chunks[1..]
                .iter()
                .all(|c| c["choices"][0]["delta"].get("role").is_none())
        );
        let call = &chunks[2]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], r#"{"x":1}"#);
        assert_eq!(chunks.len(), 4, "the empty repeat fragment is dropped");
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "tool_calls");
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        assert_eq!(frames.last(), Some(&json!("[DONE]")));
    }

    #[test]
    fn usage_is_passed_on_only_when_asked() {
        let events = [
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
        ];
        let (frames, _) = run(&events, true);
        let usage = &frames[frames.len() - 2];
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["total_tokens"], 4);
    }

    #[test]
    fn abort_and_error_events_and_truncation_fail_the_stream() {
        let (_, result) = run(
            &[r#"{"choices":[{"index":0,"delta":{},"finish_reason":"abort"}]}"#],
            false,
        );
        assert!(matches!(result, Err(GatewayError::UpstreamStream { .. })));
        let (_, result) = run(&[r#"{"error":{"message":"oops","code":500}}"#], false);
        assert_eq!(
            result,
            Err(GatewayError::UpstreamStream {
                message: "oops".into()
            })
        );
        let (_, result) = run(
            &[r#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#],
            false,
        );
        assert!(matches!(
            result,
            Err(GatewayError::UpstreamIncomplete { .. })
        ));
    }

    #[test]
    fn requests_are_widened_for_older_servers() {
        let request: ChatCompletionRequest = serde_json::from_value(json!({"model": "m", "max_completion_tokens": 5, "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "be"}, {"type": "text", "text": "brief"}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
        ]}))
        .expect("valid");
        let widened = serde_json::to_value(for_compatible_upstreams(&request)).expect("json");
        assert_eq!(
            widened["messages"][0],
            json!({"role": "system", "content": "be\nbrief"})
        );
        assert_eq!(widened["messages"][1]["content"], "");
        assert_eq!(
            (
                widened["max_tokens"].clone(),
                widened["max_completion_tokens"].clone()
            ),
            (json!(5), json!(5))
        );
    }

    #[test]
    fn non_stream_replies_are_normalized() {
        let body = json!({"id": "", "created": 1_700_000_000_000u64, "choices": [{"message": {"role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2}});
        let completion = normalize_completion(body, &call(), "vllm").expect("normalizes");
        assert_eq!(completion.id, "chatcmpl-ours");
        assert_eq!(completion.created, 1_700_000_000);
        let choice = &completion.choices[0];
        assert_eq!(choice.finish_reason, FinishReason::ToolCalls);
        assert_eq!(choice.message.content, None);
        assert_eq!(
            choice.message.tool_calls[0].function.arguments,
            r#"{"a":1}"#
        );
        assert!(choice.message.tool_calls[0].id.starts_with("call_"));
        assert_eq!(completion.usage.total_tokens, 7);
    }
}

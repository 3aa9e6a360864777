//! An OpenAI-compatible upstream's whole reply, model list and error fields, made conformant
//! whatever the upstream's quirks.

use serde_json::Value;
use wire::openai::{
    ChatCompletion, Choice, FinishReason, FunctionCall, Model, ResponseMessage, ToolCall, Usage,
};

use super::{ASSISTANT, ReplyHead};
use crate::{error::GatewayError, ids};

/// An upstream's `/v1/models` body as models, tolerant of missing `created`/`owned_by`
/// (`owned_by` defaults to `backend`).
pub fn models(body: &Value, backend: &str) -> Vec<Model> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    data.iter()
        .filter_map(|model| {
            Some(Model {
                id: model.get("id")?.as_str()?.to_owned(),
                object: "model".to_owned(),
                created: model.get("created").and_then(unix_seconds).unwrap_or(0),
                owned_by: model
                    .get("owned_by")
                    .and_then(Value::as_str)
                    .unwrap_or(backend)
                    .to_owned(),
            })
        })
        .collect()
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
pub fn finish_reason(value: &str, called_tools: bool) -> Result<FinishReason, GatewayError> {
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

/// Usage from an upstream's `usage` object (`completion_tokens` may be missing).
pub fn usage(value: &Value) -> Option<Usage> {
    let count = |key: &str| value.get(key).and_then(Value::as_u64);
    let prompt = count("prompt_tokens")?;
    let completion = count("completion_tokens").unwrap_or(0);
    Some(Usage::new(prompt, completion))
}

/// Arguments as the JSON string OpenAI specifies, even when an upstream sent an object.
pub fn arguments_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A non-empty string field.
pub fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The error an upstream reply or event carries in `error`, as a string or an object.
pub fn upstream_error(value: &Value) -> Option<GatewayError> {
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

/// An upstream's whole reply made conformant: our `id` when it has none, `created` in seconds,
/// the requested model, `finish_reason` from the schema's enum, arguments as strings, a minted id
/// for every tool call without one, `content: null` beside tool calls only.
pub fn normalize_completion(
    body: Value,
    head: &ReplyHead,
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
        id: text(body.get("id")).unwrap_or_else(|| head.id.clone()),
        object: "chat.completion".to_owned(),
        created: body
            .get("created")
            .and_then(unix_seconds)
            .unwrap_or(head.created),
        model: head.model.clone(),
        choices: normalized,
        usage: body.get("usage").and_then(usage).unwrap_or_default(),
        system_fingerprint: text(body.get("system_fingerprint")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn head() -> ReplyHead {
        ReplyHead {
            id: "chatcmpl-ours".into(),
            created: 1_700_000_000,
            model: "smollm2".into(),
            include_usage: false,
        }
    }

    #[test]
    fn non_stream_replies_are_normalized() {
        let body = json!({"id": "", "created": 1_700_000_000_000u64, "choices": [{"message": {"role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2}});
        let completion = normalize_completion(body, &head(), "vllm").expect("normalizes");
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

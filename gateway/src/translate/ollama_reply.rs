//! A non-stream Ollama reply → an OpenAI `chat.completion` (checklist items 13–17); Ollama's
//! model list → OpenAI models.

use wire::{
    ollama::{ChatResponse, ListResponse},
    openai::{ChatCompletion, Choice, FunctionCall, Model, ResponseMessage, ToolCall, Usage},
};

use super::{ASSISTANT, finish_reason};
use crate::ids;

/// Builds the reply; `content` is `null` when the model only called tools.
pub fn to_completion(
    native: ChatResponse,
    id: String,
    created: u64,
    model: String,
) -> ChatCompletion {
    let message = native.message;
    let called_tools = !message.tool_calls.is_empty();
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .map(|call| ToolCall {
            id: call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(ids::tool_call_id),
            kind: "function".to_owned(),
            function: FunctionCall {
                name: call.function.name,
                arguments: serde_json::Value::Object(call.function.arguments).to_string(),
            },
        })
        .collect();
    let content = if message.content.is_empty() && called_tools {
        None
    } else {
        Some(message.content)
    };
    ChatCompletion {
        id,
        object: "chat.completion".to_owned(),
        created,
        model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: ASSISTANT.to_owned(),
                content,
                refusal: None,
                tool_calls,
                reasoning_content: (!message.thinking.is_empty()).then_some(message.thinking),
            },
            logprobs: None,
            finish_reason: finish_reason(native.done_reason.as_deref(), called_tools),
        }],
        usage: Usage::new(native.metrics.prompt_eval_count, native.metrics.eval_count),
        system_fingerprint: None,
    }
}

/// `/api/tags` as OpenAI models: `created` from `modified_at`, `owned_by` the namespace.
pub fn models(tags: ListResponse) -> Vec<Model> {
    tags.models
        .into_iter()
        .map(|model| {
            let created = chrono::DateTime::parse_from_rfc3339(&model.modified_at)
                .map(|time| time.timestamp().max(0) as u64)
                .unwrap_or(0);
            let owned_by = model
                .name
                .split_once('/')
                .map_or("library", |(namespace, _)| namespace)
                .to_owned();
            Model {
                id: if model.model.is_empty() {
                    model.name
                } else {
                    model.model
                },
                object: "model".to_owned(),
                created,
                owned_by,
            }
        })
        .collect()
}

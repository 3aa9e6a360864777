//! A Messages request read as the Chat Completions request it amounts to: `system` a system
//! message; each user message's `tool_result` blocks `tool` messages (before its other blocks,
//! as the results answer the previous turn), its text and images user content; each assistant
//! message's text its content, its `thinking` its `reasoning_content`, its `tool_use` blocks its
//! `tool_calls`; tools wrapped as functions; `tool_choice` `any` as `required`; `max_tokens`,
//! `stop_sequences`, `thinking` as `max_tokens`, `stop`, `think`. Dropped, having no Chat
//! equivalent: `top_k`, redacted thinking, thinking signatures.

use serde_json::{Value, json};

use super::{
    Content, ContentBlock, ImageSource, MessageParam, MessagesRequest, Thinking, ToolChoice,
};
use crate::openai::{
    ChatCompletionRequest, ChatMessage, FunctionCall, FunctionDefinition, Tool as ChatTool,
    ToolCall,
};

/// The Chat Completions request `request` amounts to.
pub fn chat_request(request: &MessagesRequest) -> ChatCompletionRequest {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(ChatMessage {
            role: "system".to_owned(),
            content: Some(Value::String(text_of(system))),
            ..ChatMessage::default()
        });
    }
    for message in request.messages.iter().flatten() {
        push_message(&mut messages, message);
    }
    let tools: Vec<ChatTool> = request
        .tools
        .iter()
        .flatten()
        .filter(|tool| tool.kind.as_deref().is_none_or(|kind| kind == "custom"))
        .map(|tool| ChatTool {
            kind: "function".to_owned(),
            function: FunctionDefinition {
                name: tool.name.clone(),
                description: tool.description.clone(),
                parameters: tool.input_schema.clone(),
                strict: None,
            },
        })
        .collect();
    let (tool_choice, parallel_tool_calls) = match &request.tool_choice {
        None => (None, None),
        Some(choice) => chat_tool_choice(choice),
    };
    ChatCompletionRequest {
        model: request.model.clone(),
        messages: Some(messages),
        stream: request.stream,
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens: request.max_tokens,
        stop: request
            .stop_sequences
            .as_ref()
            .filter(|stops| !stops.is_empty())
            .map(|stops| json!(stops)),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        parallel_tool_calls,
        think: request.thinking.as_ref().map(|thinking| match thinking {
            Thinking::Enabled { .. } => Value::Bool(true),
            Thinking::Disabled => Value::Bool(false),
        }),
        user: request
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.get("user_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..ChatCompletionRequest::default()
    }
}

/// The text of a string or of text blocks, joined.
pub fn text_of(content: &Content) -> String {
    match content {
        Content::Text(text) => text.clone(),
        Content::Blocks(blocks) => blocks
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect(),
    }
}

fn push_message(messages: &mut Vec<ChatMessage>, message: &MessageParam) {
    let blocks = match &message.content {
        Content::Text(text) => {
            messages.push(ChatMessage {
                role: message.role.clone(),
                content: Some(Value::String(text.clone())),
                ..ChatMessage::default()
            });
            return;
        }
        Content::Blocks(blocks) => blocks,
    };
    if message.role == "assistant" {
        messages.push(assistant_message(blocks));
        return;
    }
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let text = content.as_ref().map(text_of).unwrap_or_default();
                messages.push(ChatMessage {
                    role: "tool".to_owned(),
                    tool_call_id: Some(tool_use_id.clone()),
                    content: Some(Value::String(match is_error {
                        Some(true) => format!("Error: {text}"),
                        _ => text,
                    })),
                    ..ChatMessage::default()
                });
            }
            ContentBlock::Text { text } => parts.push(json!({"type": "text", "text": text})),
            ContentBlock::Image { source } => {
                let url = match source {
                    ImageSource::Base64 { media_type, data } => {
                        format!("data:{media_type};base64,{data}")
                    }
                    ImageSource::Url { url } => url.clone(),
                };
                parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
            }
            ContentBlock::ToolUse { .. }
            | ContentBlock::Thinking { .. }
            | ContentBlock::RedactedThinking { .. } => {}
        }
    }
    if parts.is_empty() {
        return;
    }
    let content = if parts.iter().all(|part| part["type"] == "text") {
        Value::String(
            parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .collect(),
        )
    } else {
        Value::Array(parts)
    };
    messages.push(ChatMessage {
        role: message.role.clone(),
        content: Some(content),
        ..ChatMessage::default()
    });
}

fn assistant_message(blocks: &[ContentBlock]) -> ChatMessage {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text { text: more } => text.push_str(more),
            ContentBlock::Thinking { thinking: more, .. } => thinking.push_str(more),
            ContentBlock::ToolUse { id, name, input } => calls.push(ToolCall {
                id: id.clone(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: name.clone(),
                    arguments: input.to_string(),
                },
            }),
            ContentBlock::Image { .. }
            | ContentBlock::ToolResult { .. }
            | ContentBlock::RedactedThinking { .. } => {}
        }
    }
    ChatMessage {
        role: "assistant".to_owned(),
        content: Some(Value::String(text)),
        reasoning_content: (!thinking.is_empty()).then_some(thinking),
        tool_calls: (!calls.is_empty()).then_some(calls),
        ..ChatMessage::default()
    }
}

/// Anthropic's choice as Chat's `tool_choice`, and `parallel_tool_calls: false` when it
/// disables parallel use.
fn chat_tool_choice(choice: &ToolChoice) -> (Option<Value>, Option<bool>) {
    let (value, disable_parallel) = match choice {
        ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (json!("auto"), *disable_parallel_tool_use),
        ToolChoice::Any {
            disable_parallel_tool_use,
        } => (json!("required"), *disable_parallel_tool_use),
        ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            json!({"type": "function", "function": {"name": name}}),
            *disable_parallel_tool_use,
        ),
        ToolChoice::None => (json!("none"), None),
    };
    (Some(value), disable_parallel.filter(|&d| d).map(|_| false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_of(body: Value) -> ChatCompletionRequest {
        chat_request(&serde_json::from_value(body).expect("a Messages body"))
    }

    fn turns(chat: &ChatCompletionRequest) -> Vec<(String, Option<Value>)> {
        chat.messages
            .iter()
            .flatten()
            .map(|m| (m.role.clone(), m.content.clone()))
            .collect()
    }

    #[test]
    fn the_system_prompt_and_string_messages_are_chat_messages() {
        let chat = chat_of(json!({"model": "m", "max_tokens": 64,
            "system": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}],
            "messages": [{"role": "user", "content": "hi"}],
            "stop_sequences": ["END"], "metadata": {"user_id": "u1"}}));
        assert_eq!(
            turns(&chat),
            [
                ("system".to_owned(), Some(json!("Be brief."))),
                ("user".to_owned(), Some(json!("hi")))
            ]
        );
        assert_eq!(chat.max_tokens, Some(64));
        assert_eq!(chat.stop, Some(json!(["END"])));
        assert_eq!(chat.user.as_deref(), Some("u1"));
    }

    #[test]
    fn a_tool_use_and_its_result_are_a_tool_call_and_a_tool_message() {
        let chat = chat_of(json!({"model": "m", "max_tokens": 64,
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}},
                  {"type": "web_search_20250305", "name": "web_search"}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "text", "text": "And tomorrow?"}]}
        ]}));
        let messages = chat.messages.as_ref().expect("messages");
        let assistant = &messages[1];
        assert_eq!(assistant.content, Some(json!("Checking.")));
        assert_eq!(
            assistant.reasoning_content.as_deref(),
            Some("Use the tool.")
        );
        let call = &assistant.tool_calls.as_ref().expect("calls")[0];
        assert_eq!(
            (call.id.as_str(), call.function.arguments.as_str()),
            ("toolu_1", r#"{"city":"Paris"}"#)
        );
        assert_eq!(messages[2].role, "tool");
        assert_eq!(messages[2].tool_call_id.as_deref(), Some("toolu_1"));
        assert_eq!(messages[2].content, Some(json!("18C")));
        assert_eq!(messages[3].content, Some(json!("And tomorrow?")));
        let tools = chat.tools.expect("tools");
        assert_eq!(tools.len(), 1, "server tools have no Chat equivalent");
        assert_eq!(chat.tool_choice, Some(json!("required")));
        assert_eq!(chat.parallel_tool_calls, Some(false));
    }

    #[test]
    fn images_are_data_or_plain_urls_and_thinking_is_think() {
        let chat = chat_of(json!({"model": "m", "max_tokens": 2048,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                {"type": "text", "text": "What is this?"}]}]}));
        let content = chat.messages.expect("messages")[0]
            .content
            .clone()
            .expect("content");
        assert_eq!(content[0]["image_url"]["url"], "data:image/png;base64,AAA");
        assert_eq!(content[1]["image_url"]["url"], "https://x/y.png");
        assert_eq!(chat.think, Some(json!(true)));
    }
}

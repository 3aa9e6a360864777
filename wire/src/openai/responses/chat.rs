//! A Responses request read as the Chat Completions request it amounts to: `instructions` a
//! system message, `input` messages with their parts, function calls and their outputs the
//! assistant's `tool_calls` and `tool` messages, flat function tools and `tool_choice` wrapped,
//! `text.format` a `response_format`, `max_output_tokens` a `max_completion_tokens`. What Chat has
//! no place for is refused with the Responses parameter it came from: an `item_reference` (it
//! needs a stored item), a file part. Reasoning items are dropped (Chat takes no reasoning back).

use serde_json::{Value, json};

use super::{ContentPart, CreateResponse, Input, InputItem, Item, Message, MessageContent};
use crate::openai::{
    ChatCompletionRequest, ChatMessage, FunctionCall as ChatFunctionCall, FunctionDefinition,
    JsonSchemaFormat, Reasoning, ResponseFormat, Tool as ChatTool, ToolCall,
    validate::InvalidRequest,
};

/// The Chat Completions request `request` amounts to, continuing the conversation `earlier` (a
/// stored response's items, for `previous_response_id`; its instructions are not carried over,
/// as OpenAI documents).
pub fn chat_request(
    request: &CreateResponse,
    earlier: &[Item],
) -> Result<ChatCompletionRequest, InvalidRequest> {
    let mut messages = Vec::new();
    if let Some(instructions) = &request.instructions {
        messages.push(text_message("system", instructions.clone()));
    }
    for (index, item) in earlier.iter().enumerate() {
        push_item(&mut messages, item, index)?;
    }
    match &request.input {
        None => {}
        Some(Input::Text(text)) => messages.push(text_message("user", text.clone())),
        Some(Input::Items(items)) => {
            for (index, item) in items.iter().enumerate() {
                let item = match item {
                    InputItem::Item(item) => item,
                    InputItem::Message(message) => &Item::Message(message.clone()),
                };
                push_item(&mut messages, item, index)?;
            }
        }
    }
    let tools: Vec<ChatTool> = request
        .tools
        .iter()
        .flatten()
        .filter(|tool| tool.kind == "function")
        .map(|tool| ChatTool {
            kind: "function".to_owned(),
            function: FunctionDefinition {
                name: tool.name.clone().unwrap_or_default(),
                description: tool.description.clone(),
                parameters: tool.parameters.clone(),
                strict: tool.strict,
            },
        })
        .collect();
    Ok(ChatCompletionRequest {
        model: request.model.clone(),
        messages: Some(messages),
        stream: request.stream,
        temperature: request.temperature,
        top_p: request.top_p,
        max_completion_tokens: request.max_output_tokens,
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice: request.tool_choice.as_ref().map(chat_tool_choice),
        parallel_tool_calls: request.parallel_tool_calls,
        response_format: request
            .text
            .as_ref()
            .and_then(|text| response_format(&text.format)),
        reasoning: request
            .reasoning
            .as_ref()
            .filter(|reasoning| reasoning.effort.is_some())
            .map(|reasoning| Reasoning {
                effort: reasoning.effort.clone(),
            }),
        user: request.user.clone(),
        ..ChatCompletionRequest::default()
    })
}

fn text_message(role: &str, text: String) -> ChatMessage {
    ChatMessage {
        role: role.to_owned(),
        content: Some(Value::String(text)),
        ..ChatMessage::default()
    }
}

/// Adds `item` (the `index`th of `input`) to the conversation.
fn push_item(
    messages: &mut Vec<ChatMessage>,
    item: &Item,
    index: usize,
) -> Result<(), InvalidRequest> {
    match item {
        Item::Message(message) => messages.push(chat_message(message, index)?),
        Item::FunctionCall(call) => {
            let tool_call = ToolCall {
                id: call.call_id.clone(),
                kind: "function".to_owned(),
                function: ChatFunctionCall {
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                },
            };
            // Calls that follow an assistant message (or each other) are that message's calls.
            match messages.last_mut() {
                Some(last) if last.role == "assistant" => {
                    last.tool_calls.get_or_insert_with(Vec::new).push(tool_call);
                }
                _ => messages.push(ChatMessage {
                    role: "assistant".to_owned(),
                    tool_calls: Some(vec![tool_call]),
                    ..ChatMessage::default()
                }),
            }
        }
        Item::FunctionCallOutput(output) => messages.push(ChatMessage {
            role: "tool".to_owned(),
            tool_call_id: Some(output.call_id.clone()),
            content: Some(match &output.output {
                Value::String(text) => Value::String(text.clone()),
                other => Value::String(other.to_string()),
            }),
            ..ChatMessage::default()
        }),
        Item::Reasoning(_) => {}
        Item::ItemReference { .. } => {
            return Err(InvalidRequest::new(
                "Item references need stored items; this request refers to one that is not kept here.",
                Some(format!("input[{index}]")),
            ));
        }
    }
    Ok(())
}

/// A message with its parts as Chat content parts (text joined when it is only text).
fn chat_message(message: &Message, index: usize) -> Result<ChatMessage, InvalidRequest> {
    let content = match &message.content {
        MessageContent::Text(text) => Value::String(text.clone()),
        MessageContent::Parts(parts) => {
            let mut chat_parts = Vec::new();
            for (part_index, part) in parts.iter().enumerate() {
                chat_parts.push(match part {
                    ContentPart::InputText { text } | ContentPart::OutputText { text, .. } => {
                        json!({"type": "text", "text": text})
                    }
                    ContentPart::Refusal { refusal } => json!({"type": "text", "text": refusal}),
                    ContentPart::InputImage {
                        image_url: Some(url),
                        detail,
                        ..
                    } => {
                        let mut image = json!({"url": url});
                        if let Some(detail) = detail {
                            image["detail"] = json!(detail);
                        }
                        json!({"type": "image_url", "image_url": image})
                    }
                    ContentPart::InputImage { .. } | ContentPart::InputFile { .. } => {
                        return Err(InvalidRequest::new(
                            "Only images given by URL (a data: URL included) can be read here; uploaded files cannot.",
                            Some(format!("input[{index}].content[{part_index}]")),
                        ));
                    }
                });
            }
            if chat_parts.iter().all(|part| part["type"] == "text") {
                let texts: Vec<&str> = chat_parts
                    .iter()
                    .filter_map(|part| part["text"].as_str())
                    .collect();
                Value::String(texts.join(""))
            } else {
                Value::Array(chat_parts)
            }
        }
    };
    Ok(ChatMessage {
        role: message.role.clone(),
        content: Some(content),
        ..ChatMessage::default()
    })
}

/// Flat `{type:"function", name}` as Chat's `{type:"function", function:{name}}`; strings kept.
fn chat_tool_choice(choice: &Value) -> Value {
    match (choice.get("type"), choice.get("name")) {
        (Some(kind), Some(name)) if kind == "function" => {
            json!({"type": "function", "function": {"name": name}})
        }
        _ => choice.clone(),
    }
}

fn response_format(format: &super::TextFormat) -> Option<ResponseFormat> {
    match format {
        super::TextFormat::Text => None,
        super::TextFormat::JsonObject => Some(ResponseFormat {
            kind: "json_object".to_owned(),
            json_schema: None,
        }),
        super::TextFormat::JsonSchema {
            name,
            schema,
            strict,
            ..
        } => Some(ResponseFormat {
            kind: "json_schema".to_owned(),
            json_schema: Some(JsonSchemaFormat {
                name: name.clone(),
                schema: Some(schema.clone()),
                strict: *strict,
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_of(body: Value) -> ChatCompletionRequest {
        chat_request(
            &serde_json::from_value(body).expect("a Responses body"),
            &[],
        )
        .expect("chat")
    }

    #[test]
    fn instructions_and_a_string_input_are_a_system_and_a_user_message() {
        let chat = chat_of(
            json!({"model": "m", "instructions": "Be brief.", "input": "hi", "max_output_tokens": 64}),
        );
        let messages = chat.messages.expect("messages");
        assert_eq!(
            messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.clone()))
                .collect::<Vec<_>>(),
            [
                ("system", Some(json!("Be brief."))),
                ("user", Some(json!("hi")))
            ]
        );
        assert_eq!(chat.max_completion_tokens, Some(64));
    }

    #[test]
    fn a_function_call_and_its_output_are_the_assistants_tool_call_and_a_tool_message() {
        let chat = chat_of(json!({"model": "m", "input": [
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"}
        ], "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
           "tool_choice": {"type": "function", "name": "get_weather"}}));
        let messages = chat.messages.expect("messages");
        assert_eq!(messages.len(), 3);
        let calls = messages[1].tool_calls.as_ref().expect("calls");
        assert_eq!(
            calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["call_1", "call_2"]
        );
        assert_eq!(messages[2].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(chat.tools.expect("tools")[0].function.name, "get_weather");
        assert_eq!(
            chat.tool_choice,
            Some(json!({"type": "function", "function": {"name": "get_weather"}}))
        );
    }

    #[test]
    fn a_continued_conversation_comes_after_the_instructions_and_before_the_input() {
        let earlier: Vec<Item> = serde_json::from_value(json!([
            {"type": "message", "role": "user", "content": "My name is Ada."},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "Hello Ada.", "annotations": []}]}
        ]))
        .expect("items");
        let request: CreateResponse = serde_json::from_value(
            json!({"model": "m", "instructions": "Be brief.", "input": "My name?"}),
        )
        .expect("body");
        let chat = chat_request(&request, &earlier).expect("chat");
        let turns: Vec<(String, Option<Value>)> = chat
            .messages
            .expect("messages")
            .into_iter()
            .map(|m| (m.role, m.content))
            .collect();
        assert_eq!(
            turns,
            [
                ("system".to_owned(), Some(json!("Be brief."))),
                ("user".to_owned(), Some(json!("My name is Ada."))),
                ("assistant".to_owned(), Some(json!("Hello Ada."))),
                ("user".to_owned(), Some(json!("My name?"))),
            ]
        );
    }

    #[test]
    fn a_json_schema_format_is_a_response_format() {
        let chat = chat_of(json!({"model": "m", "input": "x",
            "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}}}));
        let format = chat.response_format.expect("format");
        assert_eq!(format.kind, "json_schema");
        assert_eq!(
            format.json_schema.expect("schema").schema,
            Some(json!({"type": "object"}))
        );
    }

    #[test]
    fn an_item_reference_is_refused_with_its_place() {
        let request: CreateResponse = serde_json::from_value(
            json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}),
        )
        .expect("body");
        let error = chat_request(&request, &[]).expect_err("refused");
        assert_eq!(error.param.as_deref(), Some("input[0]"));
    }
}

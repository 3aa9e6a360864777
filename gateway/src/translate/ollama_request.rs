//! OpenAI request → Ollama `/api/chat` request (checklist items 1–12). The input has passed
//! [`crate::validate`]; what is left to fail here is only what needs translation to notice.

use serde_json::{Map, Value, json};
use wire::{
    ollama::{self, ToolCall, ToolCallFunction},
    openai::{ChatCompletionRequest, ChatMessage},
};

use wire::ollama::OllamaExtensions;

use super::ollama_extensions;
use crate::error::GatewayError;

/// Builds the native request; `stream` is always explicit (Ollama defaults to streaming).
/// `defaults` are the model's configured extensions, under the request's own.
pub fn to_ollama(
    request: &ChatCompletionRequest,
    model: &str,
    defaults: &OllamaExtensions,
) -> Result<ollama::ChatRequest, GatewayError> {
    let extensions = ollama_extensions::requested(request)?.over(defaults);
    let source = request.messages.as_deref().unwrap_or_default();
    let mut messages = Vec::with_capacity(source.len());
    for (index, message) in source.iter().enumerate() {
        messages.push(message_to_ollama(index, message, source)?);
    }
    let drop_tools = request.tool_choice.as_ref().and_then(Value::as_str) == Some("none");
    let tools = if drop_tools {
        Vec::new()
    } else {
        request
            .tools
            .iter()
            .flatten()
            .map(|tool| ollama::Tool {
                kind: "function".to_owned(),
                function: ollama::ToolFunction {
                    name: tool.function.name.clone(),
                    description: tool.function.description.clone(),
                    parameters: tool
                        .function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                },
            })
            .collect()
    };
    Ok(ollama::ChatRequest {
        model: model.to_owned(),
        messages,
        tools,
        format: format(request),
        options: options(request, extensions.options),
        stream: Some(request.is_streaming()),
        keep_alive: extensions.keep_alive,
        think: think(request).or(extensions.think),
    })
}

/// The native options: the extension's, then the request's standard fields over them.
fn options(
    request: &ChatCompletionRequest,
    mut options: Map<String, Value>,
) -> Option<Map<String, Value>> {
    if let Some(limit) = request.max_completion_tokens.or(request.max_tokens) {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    let floats = [
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("frequency_penalty", request.frequency_penalty),
        ("presence_penalty", request.presence_penalty),
    ];
    for (key, value) in floats {
        if let Some(value) = value {
            options.insert(key.to_owned(), json!(value));
        }
    }
    if let Some(seed) = request.seed {
        options.insert("seed".to_owned(), json!(seed));
    }
    match &request.stop {
        Some(Value::String(stop)) => {
            options.insert("stop".to_owned(), json!([stop]));
        }
        Some(Value::Array(stops)) => {
            options.insert("stop".to_owned(), Value::Array(stops.clone()));
        }
        _ => {}
    }
    (!options.is_empty()).then_some(options)
}

fn format(request: &ChatCompletionRequest) -> Option<Value> {
    let format = request.response_format.as_ref()?;
    match format.kind.as_str() {
        "json_object" => Some(json!("json")),
        "json_schema" => format.json_schema.as_ref()?.schema.clone(),
        _ => None,
    }
}

/// `reasoning_effort` → `think`: none→false, minimal→"low", low/medium/high as is, xhigh→"high"
/// (the highest level every Ollama version accepts).
fn think(request: &ChatCompletionRequest) -> Option<Value> {
    let effort = request
        .reasoning_effort
        .as_deref()
        .or_else(|| request.reasoning.as_ref()?.effort.as_deref())?;
    Some(match effort {
        "none" => json!(false),
        "minimal" => json!("low"),
        "xhigh" => json!("high"),
        level => json!(level),
    })
}

fn message_to_ollama(
    index: usize,
    message: &ChatMessage,
    all: &[ChatMessage],
) -> Result<ollama::Message, GatewayError> {
    let (content, images) = content_and_images(index, message.content.as_ref())?;
    let role = match message.role.as_str() {
        // Ollama's templates know `system`; `developer` is OpenAI's newer name for it.
        "developer" => "system".to_owned(),
        role => role.to_owned(),
    };
    let mut native = ollama::Message {
        role,
        content,
        images,
        thinking: message
            .reasoning_content
            .clone()
            .or_else(|| message.reasoning.clone())
            .unwrap_or_default(),
        ..ollama::Message::default()
    };
    for call in message.tool_calls.iter().flatten() {
        let arguments = match serde_json::from_str::<Value>(&call.function.arguments) {
            Ok(Value::Object(arguments)) => arguments,
            _ => {
                return Err(GatewayError::invalid(
                    "invalid tool call arguments",
                    Some(format!("messages.[{index}].tool_calls")),
                ));
            }
        };
        native.tool_calls.push(ToolCall {
            id: Some(call.id.clone()),
            function: ToolCallFunction {
                index: None,
                name: call.function.name.clone(),
                arguments,
            },
        });
    }
    if message.role == "tool" {
        let call_id = message.tool_call_id.clone().unwrap_or_default();
        native.tool_name = message
            .name
            .clone()
            .or_else(|| tool_name_for(&call_id, &all[..index]))
            .unwrap_or_default();
        native.tool_call_id = call_id;
    }
    Ok(native)
}

/// The function name of the latest earlier assistant call with this id.
fn tool_name_for(call_id: &str, earlier: &[ChatMessage]) -> Option<String> {
    earlier
        .iter()
        .rev()
        .flat_map(|message| message.tool_calls.iter().flatten())
        .find(|call| call.id == call_id)
        .map(|call| call.function.name.clone())
}

/// Text parts are joined with newlines into one `content`; `image_url` data URIs become
/// base64 `images`.
fn content_and_images(
    index: usize,
    content: Option<&Value>,
) -> Result<(String, Vec<String>), GatewayError> {
    match content {
        None | Some(Value::Null) => Ok((String::new(), Vec::new())),
        Some(Value::String(text)) => Ok((text.clone(), Vec::new())),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            let mut images = Vec::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => texts.push(part["text"].as_str().unwrap_or_default()),
                    Some("refusal") => texts.push(part["refusal"].as_str().unwrap_or_default()),
                    Some("image_url") => {
                        let url = part["image_url"]
                            .get("url")
                            .or(Some(&part["image_url"]))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let (_, data) = url.split_once(";base64,").ok_or_else(|| {
                            GatewayError::invalid(
                                "invalid image input",
                                Some(format!("messages.[{index}].content")),
                            )
                        })?;
                        images.push(data.to_owned());
                    }
                    _ => {}
                }
            }
            Ok((texts.join("\n"), images))
        }
        Some(_) => Err(GatewayError::invalid(
            "invalid message content type",
            Some(format!("messages.[{index}].content")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(body: Value) -> ollama::ChatRequest {
        let request: ChatCompletionRequest = serde_json::from_value(body).expect("valid");
        to_ollama(&request, "llama3.2", &OllamaExtensions::default()).expect("translates")
    }

    #[test]
    fn stream_is_always_explicit() {
        let native =
            translate(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(native.stream, Some(false));
        let native = translate(
            json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert_eq!(native.stream, Some(true));
    }

    #[test]
    fn sampling_fields_map_into_options_only_when_present() {
        let native =
            translate(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(native.options, None);
        let native = translate(json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 10, "max_completion_tokens": 5, "temperature": 0.2, "top_p": 0.9,
            "seed": 7, "frequency_penalty": 0.5, "presence_penalty": -0.5, "stop": "\n\n"
        }));
        assert_eq!(
            Value::Object(native.options.expect("options")),
            json!({"num_predict": 5, "temperature": 0.2, "top_p": 0.9, "frequency_penalty": 0.5,
                   "presence_penalty": -0.5, "seed": 7, "stop": ["\n\n"]})
        );
    }

    #[test]
    fn response_format_and_reasoning_effort() {
        let json_mode = translate(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}),
        );
        assert_eq!(json_mode.format, Some(json!("json")));
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let schema_mode = translate(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}}),
        );
        assert_eq!(schema_mode.format, Some(schema));
        for (effort, think) in [
            ("none", json!(false)),
            ("minimal", json!("low")),
            ("medium", json!("medium")),
            ("xhigh", json!("high")),
        ] {
            let native = translate(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": effort}),
            );
            assert_eq!(native.think, Some(think), "{effort}");
        }
    }

    #[test]
    fn content_parts_are_joined_and_images_extracted() {
        let native = translate(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is"}, {"type": "text", "text": "this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]}]}),
        );
        assert_eq!(native.messages[0].content, "What is\nthis?");
        assert_eq!(native.messages[0].images, vec!["iVBORw0KGgo=".to_owned()]);
    }

    #[test]
    fn tool_round_trip_resolves_names_and_parses_arguments() {
        let native = translate(json!({"model": "m", "tool_choice": "auto",
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
        ]}));
        assert_eq!(native.tools.len(), 1);
        let assistant = &native.messages[1];
        assert_eq!(assistant.content, "");
        assert_eq!(assistant.tool_calls[0].function.arguments["city"], "Paris");
        assert_eq!(assistant.tool_calls[0].id.as_deref(), Some("call_1"));
        let tool = &native.messages[2];
        assert_eq!(
            (tool.tool_name.as_str(), tool.tool_call_id.as_str()),
            ("get_weather", "call_1")
        );
    }

    #[test]
    fn tool_choice_none_drops_tools_and_developer_becomes_system() {
        let native = translate(json!({"model": "m", "tool_choice": "none",
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}]}));
        assert!(native.tools.is_empty());
        assert_eq!(native.messages[0].role, "system");
    }
}

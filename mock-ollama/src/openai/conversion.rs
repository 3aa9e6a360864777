//! An OpenAI chat request as Ollama's layer converts it into a native one
//! (`openai.FromChatRequest`, `openai/openai.go:549-723`): sampling options with its forced
//! defaults, `response_format` as `format`, `reasoning_effort` as `think`, and each message —
//! content parts, images, tool calls and tool results — as the native messages an `/api/chat`
//! client would send.

use serde_json::{Map, Value, json};
use wire::{
    ollama::{self, knobs},
    openai::{ChatCompletionRequest, ChatMessage},
};

/// `options` as Ollama's layer fills them: `temperature` and `top_p` forced to 1.0 when absent
/// (ollama/ollama#17744), `stop` as a list, penalties and seed only when given.
pub fn sampling_options(request: &ChatCompletionRequest) -> Map<String, Value> {
    let mut options = Map::new();
    match &request.stop {
        Some(Value::String(stop)) => {
            options.insert("stop".to_owned(), json!([stop]));
        }
        Some(Value::Array(stops)) => {
            let stops: Vec<&Value> = stops.iter().filter(|stop| stop.is_string()).collect();
            options.insert("stop".to_owned(), json!(stops));
        }
        _ => {}
    }
    options.insert(
        "temperature".to_owned(),
        json!(request.temperature.unwrap_or(1.0)),
    );
    if let Some(seed) = request.seed {
        options.insert("seed".to_owned(), json!(seed));
    }
    if let Some(penalty) = request.frequency_penalty {
        options.insert("frequency_penalty".to_owned(), json!(penalty));
    }
    if let Some(penalty) = request.presence_penalty {
        options.insert("presence_penalty".to_owned(), json!(penalty));
    }
    options.insert("top_p".to_owned(), json!(request.top_p.unwrap_or(1.0)));
    options
}

/// `response_format` → native `format`: `json_object` → `"json"`, `json_schema` → the schema.
pub fn response_format(request: &ChatCompletionRequest) -> Option<Value> {
    let format = request.response_format.as_ref()?;
    match format.kind.trim().to_ascii_lowercase().as_str() {
        "json_object" => Some(json!("json")),
        "json_schema" => format.json_schema.as_ref()?.schema.clone(),
        _ => None,
    }
}

/// `reasoning_effort` → `think` (`thinkFromReasoningEffort`, `openai/openai.go:531-547`).
pub fn think_from_effort(effort: &str) -> Result<Option<Value>, String> {
    Ok(match effort {
        "" => None,
        "none" => Some(Value::Bool(false)),
        "minimal" => Some(json!("low")),
        "low" | "medium" | "high" | "max" => Some(json!(effort)),
        "xhigh" | "ultra" => Some(json!("max")),
        other => {
            return Err(format!(
                "invalid reasoning value: {other:?} (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")"
            ));
        }
    })
}

/// Ollama's message conversion: each content part becomes a message of its own, `content: null`
/// needs tool calls, a tool result is named after the call it answers.
pub fn ollama_messages(messages: &[ChatMessage]) -> Result<Vec<ollama::Message>, String> {
    let mut native = Vec::with_capacity(messages.len());
    for message in messages {
        let tool_name = if message.role.eq_ignore_ascii_case("tool") {
            message
                .name
                .clone()
                .filter(|name| !name.is_empty())
                .or_else(|| {
                    message
                        .tool_call_id
                        .as_deref()
                        .and_then(|id| tool_name_for(messages, id))
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        let tool_calls = native_tool_calls(message)?;
        let base = ollama::Message {
            role: message.role.to_ascii_lowercase(),
            thinking: message.reasoning.clone().unwrap_or_default(),
            tool_calls,
            tool_name,
            tool_call_id: message.tool_call_id.clone().unwrap_or_default(),
            ..ollama::Message::default()
        };
        match &message.content {
            Some(Value::String(text)) => native.push(ollama::Message {
                content: text.clone(),
                ..base
            }),
            Some(Value::Array(parts)) => {
                let first = native.len();
                for part in parts {
                    native.push(ollama::Message {
                        role: base.role.clone(),
                        ..part_message(part)?
                    });
                }
                // Calls, name, id and reasoning ride on the last message the parts produced.
                if native.len() > first
                    && !base.tool_calls.is_empty()
                    && let Some(last) = native.last_mut()
                {
                    last.tool_calls = base.tool_calls;
                    last.tool_name = base.tool_name;
                    last.tool_call_id = base.tool_call_id;
                    last.thinking = base.thinking;
                }
            }
            other if message.tool_calls.is_none() => {
                return Err(format!(
                    "invalid message content type: {}",
                    knobs::go_type_name(other.as_ref().unwrap_or(&Value::Null))
                ));
            }
            _ => native.push(ollama::Message {
                tool_name: String::new(),
                ..base
            }),
        }
    }
    Ok(native)
}

/// OpenAI's reading: one message per message, text parts joined, images kept.
pub fn joined_message(message: &ChatMessage) -> ollama::Message {
    let (content, images) = match &message.content {
        Some(Value::String(text)) => (text.clone(), Vec::new()),
        Some(Value::Array(parts)) => {
            let mut text = Vec::new();
            let mut images = Vec::new();
            for part in parts {
                if let Ok(part) = part_message(part) {
                    text.extend((!part.content.is_empty()).then_some(part.content));
                    images.extend(part.images);
                }
            }
            (text.join("\n"), images)
        }
        _ => (String::new(), Vec::new()),
    };
    ollama::Message {
        role: message.role.clone(),
        content,
        thinking: message.reasoning_content.clone().unwrap_or_default(),
        images,
        tool_calls: native_tool_calls(message).unwrap_or_default(),
        tool_name: message.name.clone().unwrap_or_default(),
        tool_call_id: message.tool_call_id.clone().unwrap_or_default(),
    }
}

/// One content part as a native message (`text`, `image_url` as a base64 data URI, or
/// `input_audio`), with Ollama's error texts.
fn part_message(part: &Value) -> Result<ollama::Message, String> {
    let invalid = || "invalid message format".to_owned();
    match part.get("type").and_then(Value::as_str) {
        Some("text") => Ok(ollama::Message {
            content: part
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?
                .to_owned(),
            ..ollama::Message::default()
        }),
        Some("image_url") => {
            let image = part.get("image_url").ok_or_else(invalid)?;
            let url = image
                .get("url")
                .unwrap_or(image)
                .as_str()
                .ok_or_else(invalid)?;
            Ok(ollama::Message {
                images: vec![image_data(url)?],
                ..ollama::Message::default()
            })
        }
        Some("input_audio") => {
            let data = part
                .get("input_audio")
                .and_then(|audio| audio.get("data"))
                .and_then(Value::as_str)
                .ok_or_else(|| "invalid input_audio format: missing data".to_owned())?;
            Ok(ollama::Message {
                images: vec![data.to_owned()],
                ..ollama::Message::default()
            })
        }
        _ => Err(invalid()),
    }
}

/// The base64 payload of an image data URI (`decodeImageURL`, `openai/openai.go:739-770`).
pub(super) fn image_data(url: &str) -> Result<String, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(
            "image URLs are not currently supported, please use base64 encoded data instead"
                .to_owned(),
        );
    }
    ["data:;base64,"]
        .into_iter()
        .chain(
            ["jpeg", "jpg", "png", "webp"]
                .map(|kind| format!("data:image/{kind};base64,"))
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
        .find_map(|prefix| url.strip_prefix(prefix))
        .filter(|payload| is_base64(payload))
        .map(str::to_owned)
        .ok_or_else(|| "invalid image input".to_owned())
}

fn is_base64(text: &str) -> bool {
    text.len().is_multiple_of(4)
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Assistant tool calls with their JSON-string arguments decoded into objects.
fn native_tool_calls(message: &ChatMessage) -> Result<Vec<ollama::ToolCall>, String> {
    message
        .tool_calls
        .iter()
        .flatten()
        .map(|call| {
            let arguments: Map<String, Value> = serde_json::from_str(&call.function.arguments)
                .map_err(|_| "invalid tool call arguments".to_owned())?;
            Ok(ollama::ToolCall {
                id: Some(call.id.clone()).filter(|id| !id.is_empty()),
                function: ollama::ToolCallFunction {
                    index: None,
                    name: call.function.name.clone(),
                    arguments,
                },
            })
        })
        .collect()
}

/// The function name of the latest earlier call with this id (last match wins).
fn tool_name_for(messages: &[ChatMessage], id: &str) -> Option<String> {
    messages
        .iter()
        .rev()
        .flat_map(|message| message.tool_calls.iter().flatten())
        .find(|call| call.id == id)
        .map(|call| call.function.name.clone())
}

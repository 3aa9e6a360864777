//! OpenAI request bodies → the native requests the mock's pipeline answers, the way each dialect
//! reads them. For Ollama this is `openai.FromChatRequest` / `FromCompleteRequest`
//! (`openai/openai.go:549-723`, `:787-850`) and the checks of `middleware/openai.go:446-484`;
//! for OpenAI it is the reference validation of `wire::openai::validate` first.
//!
//! A conversation arrives at the pipeline as the same native messages an `/api/chat` client would
//! send, so one scenario answers both dialects with the same reply.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use wire::{
    ollama::{self, ChatRequest, GenerateRequest},
    openai::{ChatCompletionRequest, ChatMessage, validate::InvalidRequest},
};

use super::{
    error::ApiError,
    flavor::{Dialect, Validation},
};
use crate::error::{OllamaError, parse_body};

/// A checked `/v1/chat/completions` request.
#[derive(Debug)]
pub struct ChatAsk {
    /// What the native pipeline answers.
    pub native: ChatRequest,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// How many choices to write (`n` where the dialect honours it).
    pub choices: usize,
    /// `top_logprobs` when the request asked for `logprobs`.
    pub logprobs: Option<usize>,
}

/// Reads a `/v1/chat/completions` body as the dialect's server would.
pub fn chat(dialect: &'static Dialect, body: &[u8]) -> Result<ChatAsk, ApiError> {
    let invalid = |message: String| ApiError::invalid(dialect, InvalidRequest::new(message, None));
    let request: ChatCompletionRequest = match dialect.validation {
        Validation::Ollama => {
            let request: ChatCompletionRequest =
                parse_body(body).map_err(|error| invalid(go_decode_message(error)))?;
            if request.messages.as_ref().is_none_or(Vec::is_empty) {
                return Err(invalid("[] is too short - 'messages'".to_owned()));
            }
            request
        }
        Validation::Openai => wire::openai::validate::chat_request(body)
            .map_err(|error| ApiError::invalid(dialect, error))?,
        Validation::LlamaCppPython => llama_cpp_python_request(dialect, body)?,
        Validation::Vllm => vllm_request(body).map_err(invalid)?,
    };
    let messages = request.messages.as_deref().unwrap_or_default();
    let native_messages = match dialect.validation {
        Validation::Ollama => ollama_messages(messages),
        Validation::Openai | Validation::LlamaCppPython | Validation::Vllm => {
            Ok(messages.iter().map(joined_message).collect())
        }
    }
    .map_err(invalid)?;

    let mut options = sampling_options(&request);
    let limit = match dialect.honours_max_completion_tokens {
        true => request.max_completion_tokens.or(request.max_tokens),
        false => request.max_tokens,
    };
    if let Some(limit) = limit {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    let effort = request
        .reasoning
        .as_ref()
        .and_then(|reasoning| reasoning.effort.as_deref())
        .or(request.reasoning_effort.as_deref())
        .unwrap_or("");
    let think = match dialect.validation {
        Validation::Ollama => think_from_effort(effort).map_err(invalid)?,
        // OpenAI's (and vLLM's) models reason or not by themselves; only `none` turns it off.
        Validation::Openai | Validation::Vllm => (effort == "none").then_some(Value::Bool(false)),
        // llama-cpp-python has no reasoning parameter.
        Validation::LlamaCppPython => None,
    };
    let tools = request
        .tools
        .iter()
        .flatten()
        .map(|tool| serde_json::to_value(tool).and_then(ollama::Tool::deserialize))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("invalid tools: {error}")))?;
    let choices = match dialect.honours_n {
        true => request.n.map_or(1, |n| n.max(1) as usize),
        false => 1,
    };
    Ok(ChatAsk {
        native: ChatRequest {
            model: request.model.clone().unwrap_or_default(),
            messages: native_messages,
            tools,
            format: response_format(&request),
            options: Some(options),
            stream: Some(request.is_streaming()),
            keep_alive: None,
            think,
        },
        include_usage: request.wants_stream_usage(),
        choices,
        logprobs: (request.logprobs == Some(true)).then(|| {
            request
                .top_logprobs
                .map_or(0, |top| top.clamp(0, 20) as usize)
        }),
    })
}

/// `POST /v1/completions` body (Ollama's `CompletionRequest`).
#[derive(Debug, Default, Deserialize)]
struct CompletionRequest {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt: Option<Value>,
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    stop: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<wire::openai::StreamOptions>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    frequency_penalty: Option<f64>,
    #[serde(default)]
    presence_penalty: Option<f64>,
    #[serde(default)]
    suffix: Option<String>,
}

/// A checked `/v1/completions` request.
#[derive(Debug)]
pub struct CompletionAsk {
    /// What the native pipeline answers.
    pub native: GenerateRequest,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
}

/// Reads a `/v1/completions` body.
pub fn completion(dialect: &'static Dialect, body: &[u8]) -> Result<CompletionAsk, ApiError> {
    let invalid = |message: String, param: Option<&str>| {
        ApiError::invalid(
            dialect,
            InvalidRequest::new(message, param.map(str::to_owned)),
        )
    };
    let request: CompletionRequest =
        parse_body(body).map_err(|error| invalid(go_decode_message(error), None))?;
    let prompt = match request.prompt {
        Some(Value::String(prompt)) => prompt,
        None | Some(Value::Null) if dialect.validation != Validation::Openai => String::new(),
        None | Some(Value::Null) => {
            return Err(invalid(
                "Missing required parameter: 'prompt'.".to_owned(),
                Some("prompt"),
            ));
        }
        Some(other) => {
            return Err(invalid(
                format!(
                    "json: cannot unmarshal {} into Go struct field CompletionRequest.prompt of type string",
                    go_type(&other)
                ),
                Some("prompt"),
            ));
        }
    };
    if dialect.validation == Validation::Openai
        && request.model.as_deref().is_none_or(str::is_empty)
    {
        return Err(invalid(
            "Missing required parameter: 'model'.".to_owned(),
            Some("model"),
        ));
    }
    let mut options = Map::new();
    match &request.stop {
        Some(Value::String(stop)) => {
            options.insert("stop".to_owned(), json!([stop]));
        }
        Some(Value::Array(stops)) => {
            if let Some(bad) = stops.iter().find(|stop| !stop.is_string()) {
                return Err(invalid(
                    format!("invalid type for 'stop' field: {}", go_type(bad)),
                    Some("stop"),
                ));
            }
            options.insert("stop".to_owned(), Value::Array(stops.clone()));
        }
        _ => {}
    }
    if let Some(limit) = request.max_tokens {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    options.insert(
        "temperature".to_owned(),
        json!(request.temperature.unwrap_or(1.0)),
    );
    if let Some(seed) = request.seed {
        options.insert("seed".to_owned(), json!(seed));
    }
    options.insert(
        "frequency_penalty".to_owned(),
        json!(request.frequency_penalty.unwrap_or(0.0)),
    );
    options.insert(
        "presence_penalty".to_owned(),
        json!(request.presence_penalty.unwrap_or(0.0)),
    );
    options.insert(
        "top_p".to_owned(),
        json!(request.top_p.filter(|p| *p != 0.0).unwrap_or(1.0)),
    );
    Ok(CompletionAsk {
        native: GenerateRequest {
            model: request.model.unwrap_or_default(),
            prompt,
            suffix: request.suffix.unwrap_or_default(),
            options: Some(options),
            stream: Some(request.stream == Some(true)),
            ..GenerateRequest::default()
        },
        include_usage: request
            .stream_options
            .and_then(|options| options.include_usage)
            .unwrap_or(false),
    })
}

/// Reads a chat body as llama-cpp-python's FastAPI route does: a body that is not JSON fails in
/// its error handler (Starlette's plain-text 500); pydantic's refusals of
/// `CreateChatCompletionRequest` (`llama_cpp/server/types.py`, message types in
/// `llama_cpp/llama_types.py`) become 500 error objects (`llama_cpp/server/errors.py`).
fn llama_cpp_python_request(
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<ChatCompletionRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::raw(
            dialect,
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "text/plain; charset=utf-8",
        )
    })?;
    let refuse = |location: String, problem: &str| {
        pydantic_refusal_of(
            dialect,
            LlamaRoute::ChatCompletions,
            &format!(
                "1 validation error:\n  {{'type': 'value_error', 'loc': ('body', {location}), 'msg': \"{problem}\"}}"
            ),
        )
    };
    if let Some(problem) = pydantic_refusal(&value) {
        return Err(refuse(problem.0, problem.1));
    }
    // Past pydantic, a text-only chat format (SmolLM2's, like most without a vision handler)
    // concatenates `content` as a string and Python raises on a list of parts.
    let has_parts = value["messages"]
        .as_array()
        .is_some_and(|messages| messages.iter().any(|m| m["content"].is_array()));
    if has_parts {
        return Err(ApiError::invalid(
            dialect,
            InvalidRequest::new(
                "can only concatenate str (not \"list\") to str".to_owned(),
                None,
            ),
        ));
    }
    serde_json::from_value(value).map_err(|error| refuse("'body'".to_owned(), &error.to_string()))
}

/// A llama-cpp-python route, where FastAPI's validation errors say they were raised.
#[derive(Debug, Clone, Copy)]
pub enum LlamaRoute {
    /// `create_chat_completion`.
    ChatCompletions,
    /// `create_embedding`.
    Embeddings,
}

/// pydantic's refusal as llama-cpp-python answers it: a 500 whose message is FastAPI's
/// `RequestValidationError` — the errors, then the endpoint's file, line and route, with the
/// server's install path (observed on the real server; SEC-001 flags it).
pub fn pydantic_refusal_of(dialect: &'static Dialect, route: LlamaRoute, errors: &str) -> ApiError {
    const APP: &str = "/usr/local/lib/python3.11/site-packages/llama_cpp/server/app.py";
    let (line, handler, path) = match route {
        LlamaRoute::ChatCompletions => (376, "create_chat_completion", "/v1/chat/completions"),
        LlamaRoute::Embeddings => (360, "create_embedding", "/v1/embeddings"),
    };
    ApiError::invalid(
        dialect,
        InvalidRequest::new(
            format!("{errors}\n\n  File \"{APP}\", line {line}, in {handler}\n    POST {path}"),
            None,
        ),
    )
}

/// Reads a chat body as vLLM does: pydantic's types (`ChatCompletionRequest` in
/// `chat_completion/protocol.py`), then the ranges `SamplingParams` checks.
fn vllm_request(body: &[u8]) -> Result<ChatCompletionRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| "JSON decode error".to_owned())?;
    if value.get("messages").is_none() {
        return Err("Field required: 'messages'".to_owned());
    }
    let request: ChatCompletionRequest =
        serde_json::from_value(value).map_err(|error| error.to_string())?;
    let outside = |value: Option<f64>, ok: &dyn Fn(f64) -> bool| value.filter(|v| !ok(*v));
    if let Some(t) = outside(request.temperature, &|t| t >= 0.0) {
        return Err(format!("temperature must be non-negative, got {t}."));
    }
    if let Some(p) = outside(request.top_p, &|p| p > 0.0 && p <= 1.0) {
        return Err(format!("top_p must be in (0, 1], got {p}."));
    }
    for (name, penalty) in [
        ("presence_penalty", request.presence_penalty),
        ("frequency_penalty", request.frequency_penalty),
    ] {
        if let Some(v) = outside(penalty, &|v| (-2.0..=2.0).contains(&v)) {
            return Err(format!("{name} must be in [-2, 2], got {v}."));
        }
    }
    for (name, count) in [
        ("n", request.n),
        ("max_tokens", request.max_tokens),
        ("max_completion_tokens", request.max_completion_tokens),
    ] {
        if let Some(count) = count.filter(|count| *count < 1) {
            return Err(format!("{name} must be at least 1, got {count}."));
        }
    }
    Ok(request)
}

/// The first field pydantic refuses, as `(location, message)`.
fn pydantic_refusal(body: &Value) -> Option<(String, &'static str)> {
    let Some(object) = body.as_object() else {
        return Some(("'body'".to_owned(), "Input should be a valid dictionary"));
    };
    let range = |key: &str, low: f64, high: f64| {
        object
            .get(key)
            .and_then(Value::as_f64)
            .is_some_and(|v| v < low || v > high)
    };
    if range("top_p", 0.0, 1.0) {
        return Some(("'top_p'".to_owned(), "Input should be between 0 and 1"));
    }
    for key in ["presence_penalty", "frequency_penalty"] {
        if range(key, -2.0, 2.0) {
            return Some((format!("'{key}'"), "Input should be between -2 and 2"));
        }
    }
    let messages = match object.get("messages") {
        None => return None,
        Some(Value::Array(messages)) => messages,
        Some(_) => return Some(("'messages'".to_owned(), "Input should be a valid list")),
    };
    for (index, message) in messages.iter().enumerate() {
        let at = |field: &str| format!("'messages', {index}, '{field}'");
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        let content = message.get("content");
        let is_text = |content: Option<&Value>| {
            matches!(content, None | Some(Value::Null | Value::String(_)))
        };
        let refused = match role {
            "system" | "function" => !is_text(content),
            "user" => !matches!(
                content,
                None | Some(Value::Null | Value::String(_) | Value::Array(_))
            ),
            // `content: NotRequired[str]`: absent or a string, never null.
            "assistant" => !matches!(content, None | Some(Value::String(_))),
            "tool" => {
                if !message.get("tool_call_id").is_some_and(Value::is_string) {
                    return Some((at("tool_call_id"), "Field required"));
                }
                !is_text(content)
            }
            _ => {
                return Some((
                    at("role"),
                    "Input should be 'system', 'user', 'assistant', 'tool' or 'function'",
                ));
            }
        };
        if refused {
            return Some((at("content"), "Input should be a valid string"));
        }
    }
    None
}

/// What Gin's JSON binding says about a body it cannot decode.
fn go_decode_message(error: OllamaError) -> String {
    match error {
        OllamaError::MissingBody => "EOF".to_owned(),
        other => other.to_string(),
    }
}

/// Go's name for the dynamic type of a decoded JSON value (`%T`).
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `options` as Ollama's layer fills them: `temperature` and `top_p` forced to 1.0 when absent
/// (ollama/ollama#17744), `stop` as a list, penalties and seed only when given.
fn sampling_options(request: &ChatCompletionRequest) -> Map<String, Value> {
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
fn response_format(request: &ChatCompletionRequest) -> Option<Value> {
    let format = request.response_format.as_ref()?;
    match format.kind.trim().to_ascii_lowercase().as_str() {
        "json_object" => Some(json!("json")),
        "json_schema" => format.json_schema.as_ref()?.schema.clone(),
        _ => None,
    }
}

/// `reasoning_effort` → `think` (`thinkFromReasoningEffort`, `openai/openai.go:531-547`).
fn think_from_effort(effort: &str) -> Result<Option<Value>, String> {
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
fn ollama_messages(messages: &[ChatMessage]) -> Result<Vec<ollama::Message>, String> {
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
                    go_type(other.as_ref().unwrap_or(&Value::Null))
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
fn joined_message(message: &ChatMessage) -> ollama::Message {
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
fn image_data(url: &str) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::flavor::{OLLAMA, OPENAI};

    fn ollama(body: Value) -> Result<ChatAsk, ApiError> {
        chat(&OLLAMA, body.to_string().as_bytes())
    }

    #[test]
    fn ollama_forces_temperature_and_top_p_and_maps_max_tokens() {
        let ask = ollama(json!({"model": "m", "max_tokens": 999, "stop": "x",
            "messages": [{"role": "user", "content": "hi"}]}))
        .expect("valid");
        assert_eq!(
            Value::Object(ask.native.options.expect("options")),
            json!({"stop": ["x"], "temperature": 1.0, "top_p": 1.0, "num_predict": 999})
        );
        assert_eq!(ask.native.stream, Some(false));
    }

    #[test]
    fn ollama_ignores_max_completion_tokens_and_openai_honours_it() {
        let body = json!({"model": "m", "max_completion_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}]});
        let ignored = ollama(body.clone()).expect("valid").native.options;
        assert!(!ignored.expect("options").contains_key("num_predict"));
        let honoured = chat(&OPENAI, body.to_string().as_bytes()).expect("valid");
        assert_eq!(honoured.native.options.expect("options")["num_predict"], 5);
    }

    #[test]
    fn ollama_splits_content_parts_into_messages() {
        let ask = ollama(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
            ]}]}),
        )
        .expect("valid");
        let messages = ask.native.messages;
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].content, "What is this?");
        assert_eq!(messages[1].images, ["AAAA"]);
    }

    #[test]
    fn ollama_rejects_what_its_layer_rejects_with_its_words() {
        let cases = [
            (
                json!({"model": "m", "messages": []}),
                "[] is too short - 'messages'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "content": null}]}),
                "invalid message content type: <nil>",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
                "invalid message content type: float64",
            ),
            (
                json!({"model": "m", "reasoning_effort": "extreme", "messages": [{"role": "user", "content": "x"}]}),
                "invalid reasoning value: \"extreme\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}]}),
                "image URLs are not currently supported, please use base64 encoded data instead",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
                "invalid tool call arguments",
            ),
        ];
        for (body, message) in cases {
            let error = ollama(body.clone()).expect_err("invalid");
            assert_eq!(error.status(), 400, "{body}");
            assert_eq!(error.object()["error"]["message"], message, "{body}");
            assert_eq!(error.object()["error"]["type"], "invalid_request_error");
        }
    }

    #[test]
    fn tool_results_are_named_after_the_call_they_answer() {
        let ask = ollama(json!({"model": "m", "messages": [
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
        ]}))
        .expect("valid");
        assert_eq!(ask.native.messages[1].tool_name, "get_weather");
        assert_eq!(
            ask.native.messages[0].tool_calls[0].function.arguments["city"],
            "Paris"
        );
    }

    #[test]
    fn reasoning_effort_maps_to_think_levels() {
        for (effort, think) in [
            ("none", json!(false)),
            ("minimal", json!("low")),
            ("high", json!("high")),
            ("xhigh", json!("max")),
        ] {
            assert_eq!(think_from_effort(effort), Ok(Some(think)), "{effort}");
        }
        assert_eq!(think_from_effort(""), Ok(None));
    }

    #[test]
    fn completions_reject_non_string_stops_like_ollama() {
        let error = completion(&OLLAMA, br#"{"model":"m","prompt":"x","stop":[1,2]}"#)
            .expect_err("invalid");
        assert_eq!(
            error.object()["error"]["message"],
            "invalid type for 'stop' field: float64"
        );
    }
}

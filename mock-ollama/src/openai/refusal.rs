//! How each server refuses a chat body before it reaches the model, in its own words and
//! statuses: llama-cpp-python's pydantic and FastAPI (500s that quote the server's source path),
//! vLLM's pydantic types and `SamplingParams` ranges, and what Gin's JSON binding says of a body
//! it cannot decode (Ollama).

use serde_json::Value;
use wire::openai::{ChatCompletionRequest, validate::InvalidRequest};

use super::{error::ApiError, flavor::Dialect};
use crate::error::OllamaError;

/// Reads a chat body as llama-cpp-python's FastAPI route does: a body that is not JSON fails in
/// its error handler (Starlette's plain-text 500); pydantic's refusals of
/// `CreateChatCompletionRequest` (`llama_cpp/server/types.py`, message types in
/// `llama_cpp/llama_types.py`) become 500 error objects (`llama_cpp/server/errors.py`).
pub fn llama_cpp_python_request(
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
    // `response_format` is `{type: Literal["text", "json_object"], schema?}`: OpenAI's newer
    // `json_schema` is refused (seen on the real server).
    if let Some(kind) = value["response_format"].get("type")
        && !matches!(kind.as_str(), Some("text" | "json_object"))
    {
        let input = match kind {
            Value::String(text) => format!("'{text}'"),
            other => other.to_string(),
        };
        return Err(pydantic_refusal_of(
            dialect,
            LlamaRoute::ChatCompletions,
            &format!(
                "1 validation error:\n  {{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': {input}, 'ctx': {{'expected': \"'text' or 'json_object'\"}}}}"
            ),
        ));
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
pub fn vllm_request(body: &[u8]) -> Result<ChatCompletionRequest, String> {
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

/// A body parsed as `llama-server` parses it (nlohmann's parser behind `common_json::parse`),
/// refused in nlohmann's words: exactly for an empty body and a stray character, with its
/// prefix and position otherwise.
pub fn nlohmann_parse(body: &[u8]) -> Result<Value, String> {
    const PREFIX: &str = "[json.exception.parse_error.101] parse error at line";
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "{PREFIX} 1, column 1: attempting to parse an empty input; check that your input string or stream contains the expected JSON"
        ));
    }
    serde_json::from_slice(body).map_err(|error| {
        let (line, column) = (error.line(), error.column());
        let last_read = std::str::from_utf8(body)
            .ok()
            .and_then(|text| text.lines().nth(line.saturating_sub(1)))
            .and_then(|text| text.chars().nth(column.saturating_sub(1)));
        match (error.classify(), last_read) {
            // nlohmann counts the end itself as a column.
            (serde_json::error::Category::Eof, _) | (_, None) => format!(
                "{PREFIX} {line}, column {}: syntax error while parsing value - unexpected end of input; expected '[', '{{', or a literal",
                column + 1
            ),
            (_, Some(read)) => format!(
                "{PREFIX} {line}, column {column}: syntax error while parsing value - invalid literal; last read: '{read}'"
            ),
        }
    })
}

/// What Gin's JSON binding says about a body it cannot decode.
pub fn go_decode_message(error: OllamaError) -> String {
    match error {
        OllamaError::MissingBody => "EOF".to_owned(),
        other => other.to_string(),
    }
}

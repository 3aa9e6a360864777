//! Ollama's native `/api/*` request and response bodies.
//!
//! Field order, `omitempty` behaviour and defaults follow Ollama's `api/types.go`: serializing one
//! of these structs with [`crate::go_json`] yields the bytes a real Ollama server writes. Requests
//! accept (and ignore) unknown fields, as Ollama does.

pub mod knobs;

pub use knobs::OllamaExtensions;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn lowercase<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(String::deserialize(deserializer)?.to_lowercase())
}

/// Ollama's model-name equivalence: case-insensitive, and `name` means `name:latest`.
pub fn canonical_model_name(name: &str) -> String {
    let name = name.trim().to_lowercase();
    let last_segment = name.rsplit('/').next().unwrap_or(&name);
    if last_segment.contains(':') {
        name
    } else {
        format!("{name}:latest")
    }
}

/// `{"error": "..."}`: the only error shape Ollama's native API uses, as a response body and as a
/// mid-stream NDJSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable message, passed through verbatim by Ollama's clients.
    pub error: String,
}

/// One chat message, in requests (history) and in responses (the reply or a delta of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`; Ollama lower-cases it on decode.
    #[serde(deserialize_with = "lowercase")]
    pub role: String,
    /// Always present on the wire, possibly empty.
    #[serde(default)]
    pub content: String,
    /// Reasoning text of thinking models.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking: String,
    /// Base64-encoded images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Whole tool calls (never argument fragments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Name of the tool whose result a `tool` message carries.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tool_name: String,
    /// Id of the call a `tool` message answers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tool_call_id: String,
}

impl Message {
    /// An assistant message with the given text.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant".to_owned(),
            content: content.into(),
            ..Self::default()
        }
    }

    /// True when the message carries no text, thinking, images or tool calls.
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
            && self.thinking.is_empty()
            && self.images.is_empty()
            && self.tool_calls.is_empty()
    }
}

/// A tool call as Ollama writes it: arguments are a JSON object, not a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// `call_` + 8 characters on current servers; absent on servers older than mid-2025.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function being called.
    pub function: ToolCallFunction,
}

/// The function part of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallFunction {
    /// Position of the call within the response (0, 1, 2, …); absent on old servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Name of the tool.
    pub name: String,
    /// Arguments as a JSON object, key order preserved.
    #[serde(default)]
    pub arguments: Map<String, Value>,
}

/// A tool the model may call: `{"type":"function","function":{name, description, parameters}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `function` today.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function's declaration.
    pub function: ToolFunction,
}

fn function_type() -> String {
    "function".to_owned()
}

/// Declaration of a callable function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFunction {
    /// Function name.
    pub name: String,
    /// What the function does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    #[serde(default)]
    pub parameters: Value,
}

/// `POST /api/chat` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// `name[:tag]`; required.
    #[serde(default)]
    pub model: String,
    /// Conversation so far; empty means "load the model" (or unload with `keep_alive: 0`).
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Tools the model may call; the Python client always sends `[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// `"json"` or a JSON Schema object; `""`/`null` mean unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Free map of runtime options (`temperature`, `num_predict`, `stop`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    /// Absent means streaming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Seconds (number) or a Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// `true`/`false` or `"low"|"medium"|"high"|"max"`; validated by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Value>,
}

impl ChatRequest {
    /// Ollama streams unless `stream` is explicitly `false`.
    pub fn is_streaming(&self) -> bool {
        self.stream != Some(false)
    }
}

/// Timing and token counts, present only on the final chunk (each key is omitted when zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Nanoseconds since the request started.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total_duration: u64,
    /// Nanoseconds spent loading/scheduling the model.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub load_duration: u64,
    /// Input tokens evaluated.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prompt_eval_count: u64,
    /// Nanoseconds spent on the prompt.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prompt_eval_duration: u64,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub eval_count: u64,
    /// Nanoseconds spent generating.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub eval_duration: u64,
}

/// One `/api/chat` NDJSON line, or the whole non-stream reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Model name as the client sent it.
    pub model: String,
    /// RFC 3339 timestamp with nanoseconds.
    pub created_at: String,
    /// The delta (stream) or whole reply (non-stream).
    pub message: Message,
    /// True on the final chunk only.
    pub done: bool,
    /// `stop`, `length`, `load` or `unload`; final chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    /// Final chunk only.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `POST /api/generate` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// `name[:tag]`.
    #[serde(default)]
    pub model: String,
    /// Prompt text; empty means "load the model".
    #[serde(default)]
    pub prompt: String,
    /// Text after the insertion point (fill-in-the-middle).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub suffix: String,
    /// System prompt override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system: String,
    /// Prompt template override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template: String,
    /// Deprecated conversation context.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<i64>,
    /// Absent means streaming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// No prompt templating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<bool>,
    /// `"json"` or a JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Seconds (number) or a Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Base64-encoded images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Free map of runtime options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    /// `true`/`false` or a level string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Value>,
}

impl GenerateRequest {
    /// Ollama streams unless `stream` is explicitly `false`.
    pub fn is_streaming(&self) -> bool {
        self.stream != Some(false)
    }
}

/// One `/api/generate` NDJSON line, or the whole non-stream reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateResponse {
    /// Model name as the client sent it.
    pub model: String,
    /// RFC 3339 timestamp with nanoseconds.
    pub created_at: String,
    /// Text delta; always present.
    pub response: String,
    /// Reasoning delta.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking: String,
    /// True on the final chunk only.
    pub done: bool,
    /// Final chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    /// Token ids of the conversation; final chunk only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<i64>,
    /// Final chunk only.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `POST /api/embed` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedRequest {
    /// `name[:tag]`.
    #[serde(default)]
    pub model: String,
    /// A string or an array of strings; anything else is `invalid input type`.
    #[serde(default)]
    pub input: Value,
    /// Truncate inputs longer than the context (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<bool>,
    /// Truncate vectors to this many dimensions, then renormalise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<usize>,
    /// Seconds (number) or a Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Free map of runtime options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
}

/// `POST /api/embed` reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedResponse {
    /// Model name as the client sent it.
    pub model: String,
    /// One L2-normalised vector per input.
    pub embeddings: Vec<Vec<f32>>,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total_duration: u64,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub load_duration: u64,
    /// Input tokens.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prompt_eval_count: u64,
}

/// Legacy `POST /api/embeddings` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    /// `name[:tag]`.
    #[serde(default)]
    pub model: String,
    /// The text to embed.
    #[serde(default)]
    pub prompt: String,
    /// Free map of runtime options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    /// Seconds (number) or a Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
}

/// Legacy `POST /api/embeddings` reply (not normalised).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// The vector; empty for an empty prompt.
    pub embedding: Vec<f64>,
}

/// `details` of a model in `/api/tags`, `/api/show` and `/api/ps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDetails {
    /// Model this one was derived from.
    #[serde(default)]
    pub parent_model: String,
    /// `gguf`.
    #[serde(default)]
    pub format: String,
    /// Architecture family, e.g. `llama`.
    #[serde(default)]
    pub family: String,
    /// All families.
    #[serde(default)]
    pub families: Vec<String>,
    /// e.g. `3.2B`.
    #[serde(default)]
    pub parameter_size: String,
    /// e.g. `Q4_K_M`.
    #[serde(default)]
    pub quantization_level: String,
}

/// One entry of `GET /api/tags`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListModel {
    /// `name:tag`.
    pub name: String,
    /// Same as `name` for local models.
    pub model: String,
    /// RFC 3339 with a local offset.
    pub modified_at: String,
    /// Bytes on disk.
    pub size: u64,
    /// 64 hex digits, no `sha256:` prefix.
    pub digest: String,
    /// Family, size, quantization.
    pub details: ModelDetails,
}

/// `GET /api/tags` reply; `models` is `[]`, never `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListResponse {
    /// Installed models.
    pub models: Vec<ListModel>,
}

/// `POST /api/show` body (`name` is the legacy spelling of `model`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShowRequest {
    /// `name[:tag]`.
    #[serde(default)]
    pub model: String,
    /// Legacy field name for `model`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Include full tensor metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbose: Option<bool>,
}

/// `POST /api/show` reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShowResponse {
    /// Modelfile text.
    pub modelfile: String,
    /// `PARAMETER` lines as text.
    pub parameters: String,
    /// Prompt template.
    pub template: String,
    /// Family, size, quantization.
    pub details: ModelDetails,
    /// GGUF metadata; the key is always present (Python's client requires it), possibly `null`.
    pub model_info: Option<Map<String, Value>>,
    /// e.g. `["completion","tools","thinking"]`.
    pub capabilities: Vec<String>,
    /// RFC 3339 with a local offset.
    pub modified_at: String,
}

/// One entry of `GET /api/ps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessModel {
    /// `name:tag`.
    pub name: String,
    /// Same as `name`.
    pub model: String,
    /// Bytes in memory.
    pub size: u64,
    /// 64 hex digits.
    pub digest: String,
    /// Family, size, quantization.
    pub details: ModelDetails,
    /// When the model will be unloaded.
    pub expires_at: String,
    /// Bytes in GPU memory.
    pub size_vram: u64,
    /// Context window the model was loaded with.
    pub context_length: u64,
}

/// `GET /api/ps` reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessResponse {
    /// Loaded models.
    pub models: Vec<ProcessModel>,
}

/// `POST /api/pull`, `/api/push` and `DELETE /api/delete` body (`name` is the legacy spelling of
/// `model`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// `name[:tag]`.
    #[serde(default)]
    pub model: String,
    /// Legacy field name for `model`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Absent means streaming progress lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Allow a registry without TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

impl ModelRequest {
    /// `model`, or the legacy `name`.
    pub fn model_name(&self) -> &str {
        if self.model.is_empty() {
            &self.name
        } else {
            &self.model
        }
    }
}

/// `POST /api/create` body (the fields a model can be made from another with).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    /// Name of the new model.
    #[serde(default)]
    pub model: String,
    /// The model it is made from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// GGUF or safetensors files by name → blob digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Map<String, Value>>,
    /// System prompt.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system: String,
    /// Prompt template.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template: String,
    /// Default options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    /// Absent means streaming progress lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// `POST /api/copy` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRequest {
    /// Existing model.
    #[serde(default)]
    pub source: String,
    /// New name.
    #[serde(default)]
    pub destination: String,
}

/// One progress line of pull, push and create (and their whole reply with `stream: false`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressResponse {
    /// e.g. `pulling manifest`, `pulling 6a0746a1ec1a`, `success`.
    pub status: String,
    /// The layer being transferred.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Bytes of that layer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: u64,
    /// Bytes transferred so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub completed: u64,
}

/// `GET /api/version` reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResponse {
    /// e.g. `0.12.6`.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_final_chunk_has_no_metric_keys() {
        let chunk = ChatResponse {
            model: "m".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            message: Message::assistant("Hel"),
            ..ChatResponse::default()
        };
        let text = String::from_utf8(crate::go_json::to_vec(&chunk).expect("ser")).expect("utf8");
        assert_eq!(
            text,
            r#"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}"#
        );
    }

    #[test]
    fn role_is_lowercased_and_unknown_fields_ignored() {
        let request: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"USER","content":"hi","extra":1}],"tools":[],"bogus":true}"#,
        )
        .expect("parses");
        assert_eq!(request.messages[0].role, "user");
        assert!(request.is_streaming());
    }

    #[test]
    fn legacy_tool_call_omits_id_and_index() {
        let call: ToolCall =
            serde_json::from_str(r#"{"function":{"name":"f","arguments":{"b":1,"a":2}}}"#)
                .expect("parses");
        let text = serde_json::to_string(&call).expect("ser");
        assert_eq!(
            text,
            r#"{"function":{"name":"f","arguments":{"b":1,"a":2}}}"#
        );
    }
}

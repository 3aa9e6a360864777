//! Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`): the request with its
//! content blocks, the message object, the stream events `message_start` … `message_stop` with
//! `ping` and `error`, and Anthropic's error envelope, as anthropic-sdk-python's `types` declares
//! them (commit 009b035; see `../shared/reference/responses-and-messages.md`).
//!
//! Read leniently, written exactly, as in [`crate::openai::responses`]: a key a real server
//! leaves out (llama.cpp's `tool_use` start without `input`, Ollama's absent `stop_reason`) reads
//! as its default; `stop_reason` and `stop_sequence` are always written, `null` included. Keys
//! this crate does not model (`cache_control`, `citations`, …) are ignored on reading.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod chat;
pub mod validate;

/// `POST /v1/messages` body (and `/v1/messages/count_tokens`, which takes it without
/// `max_tokens`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// Model id; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The most tokens to write; required and positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// The conversation, alternating `user` and `assistant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageParam>>,
    /// The system prompt: a string or text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Content>,
    /// Strings that end the reply (`stop_reason: "stop_sequence"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// SSE when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Sample from the top K tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    /// Tools the model may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model picks tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// `{user_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl MessagesRequest {
    /// Whether the client asked for SSE.
    pub fn is_streaming(&self) -> bool {
        self.stream == Some(true)
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageParam {
    /// `user` or `assistant`.
    pub role: String,
    /// A string or content blocks.
    pub content: Content,
}

/// Content: a string (one text block) or blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// One text block.
    Text(String),
    /// Blocks.
    Blocks(Vec<ContentBlock>),
}

/// A content block, in requests and in replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Inline or by URL.
        source: ImageSource,
    },
    /// A tool the model calls.
    ToolUse {
        /// `toolu_…`.
        id: String,
        /// The tool.
        name: String,
        /// Its arguments (an object; `{}` at a stream's block start).
        #[serde(default = "empty_object")]
        input: Value,
    },
    /// What a tool returned, sent back by the client.
    ToolResult {
        /// The `tool_use` it answers.
        tool_use_id: String,
        /// A string or blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Content>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
    },
    /// The model's thinking.
    Thinking {
        /// The text.
        thinking: String,
        /// Proof that it came from the model (empty from llama.cpp, absent from Ollama).
        #[serde(default)]
        signature: String,
    },
    /// Thinking the model's safety systems encrypted.
    RedactedThinking {
        /// Opaque.
        data: String,
    },
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// An image's bytes or address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline.
    Base64 {
        /// e.g. `image/png`.
        media_type: String,
        /// Base64.
        data: String,
    },
    /// By URL.
    Url {
        /// The URL.
        url: String,
    },
}

/// A tool: a client tool (`type` absent or `custom`, with `input_schema`), or a server tool of
/// another `type` whose other keys are not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Absent or `custom` for client tools.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The tool's name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its input's JSON Schema (required for client tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// Some tool must be used.
    Any {
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// This tool must be used.
    Tool {
        /// The tool.
        name: String,
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// No tool may be used.
    None,
}

/// `thinking`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Thinking {
    /// Think, within a budget (at least 1024, less than `max_tokens`).
    Enabled {
        /// Tokens the thinking may use.
        budget_tokens: i64,
    },
    /// Do not think.
    Disabled,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A natural end.
    EndTurn,
    /// `max_tokens` reached.
    MaxTokens,
    /// One of `stop_sequences` written.
    StopSequence,
    /// It called tools.
    ToolUse,
    /// A long turn paused.
    PauseTurn,
    /// It declined.
    Refusal,
    /// The context window is full.
    ModelContextWindowExceeded,
}

/// The message object: the reply of `POST /v1/messages`, and `message_start`'s message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`.
    pub id: String,
    /// `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `assistant`.
    pub role: String,
    /// The reply's blocks (empty in `message_start`).
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// The model that answered.
    pub model: String,
    /// `null` in `message_start`; always written.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence written, or `null`; always written.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Tokens.
    #[serde(default)]
    pub usage: Usage,
}

/// A message's tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read (not counting cache reads and writes).
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// Tokens written to the prompt cache; `null` when not reported.
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    /// Tokens read from the prompt cache; `null` when not reported.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

/// `POST /v1/messages/count_tokens` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCount {
    /// Tokens the request would read.
    pub input_tokens: u64,
}

/// One SSE event of a streamed message; the SSE `event:` name is its `type`
/// ([`StreamEvent::kind`]), which the SDKs dispatch on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// First: the message, no content yet.
    MessageStart {
        /// The message so far.
        message: Box<Message>,
    },
    /// A block starts.
    ContentBlockStart {
        /// Its place in `content`.
        index: u32,
        /// The block, empty so far.
        content_block: ContentBlock,
    },
    /// More of a block.
    ContentBlockDelta {
        /// Its place in `content`.
        index: u32,
        /// What is added.
        delta: BlockDelta,
    },
    /// A block is whole.
    ContentBlockStop {
        /// Its place in `content`.
        index: u32,
    },
    /// The message's end: why it stopped and its output tokens.
    MessageDelta {
        /// Why it stopped.
        delta: MessageDelta,
        /// Tokens so far (`output_tokens` at least).
        usage: DeltaUsage,
    },
    /// Last.
    MessageStop,
    /// Anywhere: keeps the connection alive.
    Ping,
    /// The stream failed.
    Error {
        /// What went wrong.
        error: ErrorObject,
    },
}

impl StreamEvent {
    /// Its `type`: the SSE `event:` name it goes under.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
        }
    }
}

/// What a `content_block_delta` adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// Text.
    TextDelta {
        /// The text added.
        text: String,
    },
    /// A piece of a tool's input JSON.
    InputJsonDelta {
        /// The JSON text added.
        partial_json: String,
    },
    /// Thinking.
    ThinkingDelta {
        /// The thinking added.
        thinking: String,
    },
    /// The thinking block's signature, before its stop.
    SignatureDelta {
        /// The signature.
        signature: String,
    },
}

/// `message_delta.delta`; both keys always written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDelta {
    /// Why it stopped.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence written, or `null`.
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

/// `message_delta.usage`: cumulative counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaUsage {
    /// Tokens written.
    pub output_tokens: u64,
    /// Tokens read, where a server reports it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
}

/// `{"type":"error","error":{"type","message"},"request_id"}`: the body of every non-2xx reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "error")]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorObject,
    /// The request's id (`req_…`), where the server gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorEnvelope {
    /// An envelope of `kind` saying `message`.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            error: ErrorObject {
                kind,
                message: message.into(),
            },
            request_id: None,
        }
    }
}

/// The error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// Human-readable.
    pub message: String,
}

/// Anthropic's error types, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// 400: the request is malformed or asks for what cannot be.
    InvalidRequestError,
    /// 401: no key, or a wrong one.
    AuthenticationError,
    /// 402: billing.
    BillingError,
    /// 403: the key may not do this.
    PermissionError,
    /// 404: no such model or resource.
    NotFoundError,
    /// 413: the request is too large.
    RequestTooLarge,
    /// 429: too many requests.
    RateLimitError,
    /// 500: the server failed.
    ApiError,
    /// 504: the request took too long.
    TimeoutError,
    /// 529: the API is overloaded.
    OverloadedError,
}

impl ErrorType {
    /// The type of an error answered with `status`: the one Anthropic gives it, else
    /// `api_error` for a 5xx and `invalid_request_error` otherwise.
    pub fn for_status(status: u16) -> Self {
        match status {
            401 => ErrorType::AuthenticationError,
            402 => ErrorType::BillingError,
            403 => ErrorType::PermissionError,
            404 => ErrorType::NotFoundError,
            413 => ErrorType::RequestTooLarge,
            429 => ErrorType::RateLimitError,
            504 => ErrorType::TimeoutError,
            529 => ErrorType::OverloadedError,
            500..=599 => ErrorType::ApiError,
            _ => ErrorType::InvalidRequestError,
        }
    }

    /// The HTTP status Anthropic answers it with.
    pub fn status(self) -> u16 {
        match self {
            ErrorType::InvalidRequestError => 400,
            ErrorType::AuthenticationError => 401,
            ErrorType::BillingError => 402,
            ErrorType::PermissionError => 403,
            ErrorType::NotFoundError => 404,
            ErrorType::RequestTooLarge => 413,
            ErrorType::RateLimitError => 429,
            ErrorType::ApiError => 500,
            ErrorType::TimeoutError => 504,
            ErrorType::OverloadedError => 529,
        }
    }
}

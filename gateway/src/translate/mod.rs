//! Every translation between the client's OpenAI API and an upstream's dialect — Ollama's native
//! `/api/chat` and OpenAI-compatible servers — as pure functions and stream state machines: no
//! sockets, testable with plain values.
//!
//! Requests: `ollama_request` (with `ollama_extensions`), `openai_request`. Whole replies:
//! `ollama_reply`, `openai_reply`. Streams, one upstream item at a time into chunks:
//! `ollama_stream` (NDJSON), `openai_stream` (SSE events). Error bodies: `error_body`. Public:
//! [`to_ollama`] and [`StreamTranslator`] (Ollama's leg, which the benchmarks measure), and
//! [`ReplyHead`].

pub(crate) mod error_body;
pub(crate) mod ollama_extensions;
pub(crate) mod ollama_reply;
pub(crate) mod ollama_request;
pub(crate) mod ollama_stream;
pub(crate) mod openai_reply;
pub(crate) mod openai_request;
pub(crate) mod openai_stream;

pub use ollama_request::to_ollama;
pub use ollama_stream::StreamTranslator;

use wire::openai::{ChatCompletionChunk, ChunkChoice, FinishReason, Usage};

use crate::error::GatewayError;

/// What every chunk (or the whole reply) of one answer shares.
#[derive(Debug, Clone)]
pub struct ReplyHead {
    /// `chatcmpl-…`, one per reply.
    pub id: String,
    /// Unix seconds, one per reply.
    pub created: u64,
    /// Model as requested.
    pub model: String,
    /// Whether the client asked for the usage chunk (streams only).
    pub include_usage: bool,
}

impl ReplyHead {
    /// A chunk of this reply with `choices`; `usage: null` when the client asked for usage.
    pub fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: None,
            choices,
            usage: self.include_usage.then_some(None),
        }
    }
}

/// A stream's translation, one upstream item (bytes, an SSE event) at a time.
pub trait StreamTranslate<Item>: Send + 'static {
    /// Translates one upstream item, appending the chunks it yields.
    fn push(&mut self, item: Item, out: &mut Vec<ChatCompletionChunk>) -> Result<(), GatewayError>;
    /// Handles the end of the upstream body, appending the last chunks; an error when the
    /// upstream ended before its reply was complete.
    fn finish(&mut self, out: &mut Vec<ChatCompletionChunk>) -> Result<(), GatewayError>;
    /// The tokens the upstream counted, once it said (for the rate limits, whether or not the
    /// client asked for the usage chunk).
    fn usage(&self) -> Option<Usage>;
}

/// OpenAI's finish reason for an Ollama `done_reason`: `length` stays, anything else is `stop`,
/// or `tool_calls` when the reply called tools (Ollama never says `tool_calls` itself). Unknown
/// values (`load`, `unload`, `""`) never leak.
pub fn finish_reason(done_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// The assistant role, as every first delta and reply message carries it.
pub const ASSISTANT: &str = "assistant";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reason_table() {
        let cases = [
            (Some("stop"), false, FinishReason::Stop),
            (Some("stop"), true, FinishReason::ToolCalls),
            (Some("length"), false, FinishReason::Length),
            (Some("length"), true, FinishReason::Length),
            (Some(""), false, FinishReason::Stop),
            (Some("unload"), false, FinishReason::Stop),
            (Some("load"), true, FinishReason::ToolCalls),
            (None, false, FinishReason::Stop),
        ];
        for (reason, tools, expected) in cases {
            assert_eq!(finish_reason(reason, tools), expected, "{reason:?} {tools}");
        }
    }
}

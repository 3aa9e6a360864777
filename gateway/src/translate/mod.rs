//! Translation between OpenAI's `/v1/chat/completions` and Ollama's native `/api/chat`, as pure
//! functions and a stream state machine: no sockets, testable with plain values.

pub mod ollama_extensions;
pub mod ollama_reply;
pub mod ollama_request;
pub mod ollama_stream;

use wire::openai::FinishReason;

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

//! Which server's OpenAI dialect `/v1` speaks, and every way those dialects differ, as data.
//!
//! A [`Flavor`] names a server; its [`Dialect`] lists the choices that server makes where OpenAI's
//! reference leaves room or where the server deviates. The renderers read only the dialect, so a
//! deviation is one field here, one row in `mock-ollama/README.md`'s table, and one test.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// The server whose `/v1` behaviour the mock reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Ollama's own OpenAI layer (`middleware/openai.go`, `openai/openai.go`), quirks included.
    #[default]
    Ollama,
    /// Exactly what OpenAI's reference describes: the conformance runner's strict profile passes.
    Openai,
}

impl Flavor {
    /// Every flavour, in the order the CLI lists them.
    pub const ALL: [Flavor; 2] = [Flavor::Ollama, Flavor::Openai];

    /// The flavour's name, as `--flavor` and scenarios spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Ollama => "ollama",
            Flavor::Openai => "openai",
        }
    }

    /// The choices this flavour makes.
    pub fn dialect(self) -> &'static Dialect {
        match self {
            Flavor::Ollama => &OLLAMA,
            Flavor::Openai => &OPENAI,
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Flavor::ALL
            .into_iter()
            .find(|flavor| flavor.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let known: Vec<&str> = Flavor::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown flavor {text:?} (known: {})", known.join(", "))
            })
    }
}

/// How a dialect checks a request before the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Ollama's: Go's JSON decoding, `[] is too short - 'messages'`, then the native handler's
    /// checks; out-of-range sampling values pass.
    Ollama,
    /// OpenAI's reference (`wire::openai::validate`): every REQ rule, with `param` named.
    Openai,
}

/// How error objects look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `openai.NewError`: type `invalid_request_error` (400), `not_found_error` (404), `api_error`
    /// (anything else); `param` and `code` always null; the native message verbatim.
    Ollama,
    /// OpenAI's: types `invalid_request_error`/`server_error`/`requests`, slugs in `code`, `param`.
    Openai,
}

/// What a stream shows when the model fails after streaming began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MidStreamError {
    /// Ollama decodes the native `{"error"}` line as an empty chat chunk: one more chunk with
    /// `"model":""` and `"content":""`, then the connection closes without a finish chunk or
    /// `[DONE]`; the error text is lost.
    LostAsEmptyChunk,
    /// One `data: {"error": {...}}` event, then the end (OpenAI's behaviour).
    ErrorEvent,
}

/// JSON encoder of a dialect's bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Go's `encoding/json`: `<`, `>`, `&` escaped as `\u003c`…
    Go,
    /// serde_json's compact output.
    Compact,
}

/// Every choice a flavour makes on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The flavour these choices belong to.
    pub flavor: Flavor,
    /// Request checks.
    pub validation: Validation,
    /// Error object shape and wording.
    pub errors: ErrorStyle,
    /// Body encoder.
    pub json: JsonStyle,
    /// Go's `json.Encoder` ends each whole-body object with `\n`.
    pub newline_after_body: bool,
    /// `Content-Type` of JSON bodies.
    pub json_content_type: &'static str,
    /// `Content-Type` of streams.
    pub sse_content_type: &'static str,
    /// Completion ids are `chatcmpl-` + a number in 0..999 (Ollama's `rand.Intn(999)`, which
    /// collides often) instead of 24 random characters.
    pub short_ids: bool,
    /// `system_fingerprint` on every object.
    pub system_fingerprint: &'static str,
    /// Keys OpenAI's schema requires even when null (`message.refusal`, `choices[].logprobs`).
    pub nullable_keys: bool,
    /// Field carrying reasoning text: `reasoning` (Ollama) or `reasoning_content`.
    pub reasoning_key: &'static str,
    /// `message.content` of a reply that is only tool calls: `null` (OpenAI) or `""` (Ollama).
    pub null_content_with_tool_calls: bool,
    /// Non-stream tool calls carry `index` (Ollama's `ToolCall` always has it).
    pub index_in_message_tool_calls: bool,
    /// `finish_reason` only from OpenAI's enum; Ollama passes `load`/`unload` through.
    pub finish_reason_enum_only: bool,
    /// Streamed tool calls arrive as a first fragment (id, type, name, `""` arguments) and then
    /// the arguments (OpenAI); otherwise each call is whole in one delta (Ollama).
    pub fragment_tool_calls: bool,
    /// The stream opens with a `{"role":"assistant","content":""}` delta of its own (OpenAI);
    /// otherwise the role rides on the first content delta (Ollama).
    pub opening_role_chunk: bool,
    /// With `include_usage`, every chunk before the usage chunk has `"usage": null`.
    pub usage_null_before_usage_chunk: bool,
    /// What a failure after the first byte looks like.
    pub mid_stream_error: MidStreamError,
    /// `max_completion_tokens` limits the reply (Ollama ignores it: ollama/ollama#7125).
    pub honours_max_completion_tokens: bool,
    /// `n` > 1 yields that many choices (Ollama ignores `n`).
    pub honours_n: bool,
    /// Model ids keep their tag (`llama3.2:latest`) instead of the name clients send.
    pub tagged_model_ids: bool,
    /// An empty model list is `"data": null` (Go's nil slice) instead of `[]`.
    pub null_empty_model_list: bool,
}

/// Ollama v0.13 (`openai/openai.go`, `middleware/openai.go` at fb30760).
pub const OLLAMA: Dialect = Dialect {
    flavor: Flavor::Ollama,
    validation: Validation::Ollama,
    errors: ErrorStyle::Ollama,
    json: JsonStyle::Go,
    newline_after_body: true,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream",
    short_ids: true,
    system_fingerprint: "fp_ollama",
    nullable_keys: false,
    reasoning_key: "reasoning",
    null_content_with_tool_calls: false,
    index_in_message_tool_calls: true,
    finish_reason_enum_only: false,
    fragment_tool_calls: false,
    opening_role_chunk: false,
    usage_null_before_usage_chunk: false,
    mid_stream_error: MidStreamError::LostAsEmptyChunk,
    honours_max_completion_tokens: false,
    honours_n: false,
    tagged_model_ids: true,
    null_empty_model_list: true,
};

/// OpenAI's reference behaviour (../shared/reference/openai-conformance.md).
pub const OPENAI: Dialect = Dialect {
    flavor: Flavor::Openai,
    validation: Validation::Openai,
    errors: ErrorStyle::Openai,
    json: JsonStyle::Compact,
    newline_after_body: false,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream; charset=utf-8",
    short_ids: false,
    system_fingerprint: "fp_mock",
    nullable_keys: true,
    reasoning_key: "reasoning_content",
    null_content_with_tool_calls: true,
    index_in_message_tool_calls: false,
    finish_reason_enum_only: true,
    fragment_tool_calls: true,
    opening_role_chunk: true,
    usage_null_before_usage_chunk: true,
    mid_stream_error: MidStreamError::ErrorEvent,
    honours_max_completion_tokens: true,
    honours_n: true,
    tagged_model_ids: false,
    null_empty_model_list: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for flavor in Flavor::ALL {
            assert_eq!(flavor.as_str().parse::<Flavor>(), Ok(flavor));
            assert_eq!(flavor.dialect().flavor, flavor);
        }
        assert_eq!(
            "vllm2".parse::<Flavor>(),
            Err("unknown flavor \"vllm2\" (known: ollama, openai)".to_owned())
        );
    }
}

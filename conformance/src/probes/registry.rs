//! Every probe, defined once: its name and the request it sends, in the order they are sent. The
//! `probes!` table makes the names ([`name`]), the send order ([`name::ALL`]) and the requests
//! from the same rows, so a probe cannot be named without being sent, nor sent unnamed. A row
//! whose request depends on what the operator stated (a context size, fault prompts) yields
//! `None` when that was not stated; a row may also build its request from an earlier probe's
//! reply (a response id to continue), and yields `None` when that reply has none.
//!
//! A probe's dialect is its name's: `resp_…` probes speak OpenAI's Responses API, `msg_…`
//! probes Anthropic's Messages API, every other probe Chat Completions and what goes with it
//! ([`dialect`]).

use reqwest::Method;
use serde_json::{Value, json};

use super::FaultPrompts;
use crate::{
    check::Dialect,
    exchange::{Body, Credentials, Exchange, ProbeRequest, Target, WRONG_KEY},
};

/// The `x-request-id` the echo probe sends.
pub const REQUEST_ID: &str = "conformance-req-5b0e9f2c4d1a";

/// An origin no target should trust with credentials.
pub const FOREIGN_ORIGIN: &str = "https://conformance-foreign.example";

/// The request headers an OpenAI SDK sends from a browser (openai-node with
/// `dangerouslyAllowBrowser`), which a preflight must allow.
pub const BROWSER_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "x-stainless-arch",
    "x-stainless-lang",
    "x-stainless-os",
    "x-stainless-package-version",
    "x-stainless-retry-count",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-timeout",
];

/// The texts the embeddings probes embed.
pub const EMBEDDED: [&str; 2] = ["The food was delicious.", "The sea was calm and blue."];

/// The origin the preflight comes from: the one the target should allow, else a foreign one.
pub fn preflight_origin(target: &Target) -> &str {
    target.origin.as_deref().unwrap_or(FOREIGN_ORIGIN)
}

/// The dialect a probe speaks, by its name.
pub fn dialect(probe: &str) -> Dialect {
    if probe.starts_with("resp_") {
        Dialect::Responses
    } else if probe.starts_with("msg_") {
        Dialect::Messages
    } else {
        Dialect::Chat
    }
}

/// What a row of the table builds its request from: the target, the fault prompts, and the
/// replies of the probes sent before it.
#[derive(Debug)]
pub(super) struct Prober<'a> {
    target: &'a Target,
    faults: &'a FaultPrompts,
    sent: Vec<Exchange>,
}

impl<'a> Prober<'a> {
    pub(super) fn new(target: &'a Target, faults: &'a FaultPrompts) -> Self {
        Self {
            target,
            faults,
            sent: Vec::new(),
        }
    }

    /// Keeps a probe's reply for the rows after it.
    pub(super) fn record(&mut self, exchange: Exchange) {
        self.sent.push(exchange);
    }

    /// Every reply so far, in send order.
    pub(super) fn into_sent(self) -> Vec<Exchange> {
        self.sent
    }

    /// The successful JSON reply of an earlier probe.
    fn earlier_json(&self, probe: &str) -> Option<Value> {
        self.sent
            .iter()
            .find(|exchange| exchange.probe == probe)
            .filter(|exchange| exchange.is_success())
            .and_then(Exchange::json)
    }

    /// The `id` of the response an earlier Responses probe got.
    fn earlier_response_id(&self, probe: &str) -> Option<String> {
        self.earlier_json(probe)?["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
    }

    fn model(&self) -> &str {
        &self.target.model
    }

    /// A short, deterministic chat, with `extra` merged over it.
    fn chat_body(&self, extra: Value) -> Body {
        let base = json!({"model": self.model(), "messages": user("Say hello in one short sentence."), "max_tokens": 32, "temperature": 0});
        Body::Json(merged(base, extra))
    }

    /// `POST /chat/completions` of [`Prober::chat_body`].
    pub(super) fn chat(&self, probe: &'static str, extra: Value) -> ProbeRequest {
        self.post(probe, self.chat_body(extra))
    }

    /// `POST /chat/completions` of `body` as it is.
    fn post(&self, probe: &'static str, body: Body) -> ProbeRequest {
        ProbeRequest::post(probe, "/chat/completions", body)
    }

    /// A chat whose user message is `prompt`, when one was given.
    fn prompted(
        &self,
        probe: &'static str,
        prompt: Option<&String>,
        extra: Value,
    ) -> Option<ProbeRequest> {
        let prompt = prompt?;
        Some(self.chat(probe, merged(json!({"messages": user(prompt)}), extra)))
    }

    /// `POST /responses` of a short, deterministic request, with `extra` merged over it.
    fn respond(&self, probe: &'static str, extra: Value) -> ProbeRequest {
        let base = json!({"model": self.model(), "input": "Say hello in one short sentence.",
                          "max_output_tokens": 32, "temperature": 0});
        ProbeRequest::post(probe, "/responses", Body::Json(merged(base, extra)))
    }

    /// `POST /messages` of a short, deterministic request, with `extra` merged over it, and the
    /// headers Anthropic's API wants: `anthropic-version`, and the key as `x-api-key` (a
    /// placeholder when none was given: Anthropic's API refuses a request without one).
    fn message(&self, probe: &'static str, extra: Value) -> ProbeRequest {
        let base = json!({"model": self.model(), "max_tokens": 32, "temperature": 0,
                          "messages": user("Say hello in one short sentence.")});
        self.anthropic(ProbeRequest::post(
            probe,
            "/messages",
            Body::Json(merged(base, extra)),
        ))
    }

    /// `request` with Anthropic's headers.
    fn anthropic(&self, request: ProbeRequest) -> ProbeRequest {
        let key = self
            .target
            .api_key
            .clone()
            .unwrap_or_else(|| ANTHROPIC_PLACEHOLDER_KEY.to_owned());
        request
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("x-api-key", key)
    }

    /// `POST /messages` of the short request, authenticated with `credentials` alone: no
    /// `x-api-key`, or the wrong one (for MSG-021).
    fn message_keyed(&self, probe: &'static str, credentials: Credentials) -> ProbeRequest {
        let base = json!({"model": self.model(), "max_tokens": 32,
                          "messages": user("Say hello in one short sentence.")});
        let request = ProbeRequest::post(probe, "/messages", Body::Json(base))
            .credentials(credentials)
            .header("anthropic-version", ANTHROPIC_VERSION);
        match credentials {
            Credentials::Wrong => request.header("x-api-key", WRONG_KEY),
            Credentials::None | Credentials::Given => request,
        }
    }

    /// `POST /messages` asking the thinking model (else the chat model) to think first, with
    /// Anthropic's smallest budget and no temperature (Anthropic refuses one beside thinking).
    fn thinking(&self, probe: &'static str, stream: bool) -> ProbeRequest {
        let model = self
            .target
            .thinking_model
            .as_deref()
            .unwrap_or(self.model());
        let body = json!({"model": model, "max_tokens": 1280, "stream": stream,
                          "thinking": {"type": "enabled", "budget_tokens": 1024},
                          "messages": user(MULTIPLICATION)});
        self.anthropic(ProbeRequest::post(probe, "/messages", Body::Json(body)))
    }

    /// A request about the stored response an earlier probe got, when it got one.
    fn about_response(
        &self,
        probe: &'static str,
        earlier: &str,
        method: Method,
        suffix: &str,
    ) -> Option<ProbeRequest> {
        let id = self.earlier_response_id(earlier)?;
        Some(ProbeRequest::get(probe, format!("/responses/{id}{suffix}")).method(method))
    }

    /// `POST /embeddings` for the embedding model (else the chat model), with `extra`.
    fn embed(&self, probe: &'static str, extra: Value) -> ProbeRequest {
        let model = self
            .target
            .embedding_model
            .as_deref()
            .unwrap_or(self.model());
        let body = Body::Json(merged(json!({"model": model}), extra));
        ProbeRequest::post(probe, "/embeddings", body)
    }
}

/// Builds each row's request and names it; a row's closure is typed by this signature.
fn row<R: Into<Option<ProbeRequest>>>(
    prober: &Prober<'_>,
    probe: &'static str,
    build: impl FnOnce(&Prober<'_>, &'static str) -> R,
) -> Option<ProbeRequest> {
    build(prober, probe).into()
}

macro_rules! probes {
    (
        optional: [$($optional:ident),* $(,)?];
        $($constant:ident = $name:literal => $build:expr),* $(,)?
    ) => {
        /// Names of the probes.
        pub mod name {
            #![allow(missing_docs)]
            $(pub const $constant: &str = $name;)*

            /// Every probe, in the order they are sent.
            pub const ALL: &[&str] = &[$($constant),*];

            /// Valid requests for optional features: a server may decline them with a 4xx, and
            /// the checks then report the feature as unsupported.
            pub const OPTIONAL: &[&str] = &[$($optional),*];
        }

        /// The request of `probe`, if it applies to what `prober` was told and saw.
        pub(super) fn request(prober: &Prober<'_>, probe: &'static str) -> Option<ProbeRequest> {
            match probe {
                $(name::$constant => row(prober, name::$constant, $build),)*
                _ => None,
            }
        }
    };
}

probes! {
    optional: [NS_TOOL, STREAM_TOOL, TOOL_ROUND_TRIP, STREAM_N2, NS_N2, NS_LOGPROBS, STREAM_LOGPROBS,
               NS_TOOL_NONE, STREAM_TOOL_NONE, NS_JSON_SCHEMA, STREAM_JSON_SCHEMA, NS_JSON_OBJECT,
               RESP_JSON_SCHEMA];

    NS_BASIC = "ns_basic" => |p, probe| p.chat(probe, json!({})),
    NS_LIMIT_MAX_COMPLETION_TOKENS = "ns_limit_max_completion_tokens" => |p, probe| p.chat(
        probe,
        json!({"messages": user(LONG_STORY), "max_tokens": null, "max_completion_tokens": 5}),
    ),
    NS_LIMIT_MAX_TOKENS = "ns_limit_max_tokens" =>
        |p, probe| p.chat(probe, json!({"messages": user(LONG_STORY), "max_tokens": 5})),
    STREAM_BASIC = "stream_basic" => |p, probe| p.chat(probe, json!({"stream": true})),
    STREAM_USAGE = "stream_usage" => |p, probe| p.chat(
        probe,
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    ),
    NS_TOOL = "ns_tool" => |p, probe| p.chat(
        probe,
        json!({"messages": user(WEATHER), "tools": weather_tool(), "tool_choice": forced_tool(), "max_tokens": 128}),
    ),
    STREAM_TOOL = "stream_tool" => |p, probe| p.chat(
        probe,
        json!({"messages": user(WEATHER), "tools": weather_tool(), "tool_choice": forced_tool(), "max_tokens": 128, "stream": true}),
    ),
    TOOL_ROUND_TRIP = "tool_round_trip" => |p, probe| p.chat(probe, json!({"tools": weather_tool(), "messages": [
        {"role": "user", "content": WEATHER},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_conformance1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_conformance1", "content": "18 degrees and sunny"}]})),
    STREAM_N2 = "stream_n2" => |p, probe| p.chat(probe, json!({"n": 2, "stream": true})),
    NS_N2 = "ns_n2" => |p, probe| p.chat(probe, json!({"n": 2})),
    NS_LOGPROBS = "ns_logprobs" =>
        |p, probe| p.chat(probe, json!({"logprobs": true, "top_logprobs": 2})),
    STREAM_LOGPROBS = "stream_logprobs" => |p, probe| p.chat(
        probe,
        json!({"logprobs": true, "top_logprobs": 2, "stream": true}),
    ),
    UNKNOWN_MODEL = "unknown_model" =>
        |p, probe| p.chat(probe, json!({"model": NO_SUCH_MODEL})),
    UNKNOWN_MODEL_STREAM = "unknown_model_stream" =>
        |p, probe| p.chat(probe, json!({"model": NO_SUCH_MODEL, "stream": true})),
    INVALID_PARAM_STREAM = "invalid_param_stream" =>
        |p, probe| p.chat(probe, json!({"temperature": 7, "stream": true})),
    MALFORMED_JSON = "malformed_json" => |p, probe| p.post(
        probe,
        Body::Raw("{\"model\": \"x\", \"messages\": [ {\"role\": ".to_owned()),
    ),
    WRONG_TYPES = "wrong_types" => |p, probe| p.post(
        probe,
        Body::Json(json!({"model": p.model(), "messages": "hello", "max_tokens": "many"})),
    ),
    MISSING_MODEL = "missing_model" =>
        |p, probe| p.post(probe, Body::Json(json!({"messages": user("hi")}))),
    MISSING_MESSAGES = "missing_messages" =>
        |p, probe| p.post(probe, Body::Json(json!({"model": p.model()}))),
    EMPTY_MESSAGES = "empty_messages" => |p, probe| p.chat(probe, json!({"messages": []})),
    UNKNOWN_ROLE = "unknown_role" =>
        |p, probe| p.chat(probe, json!({"messages": [{"role": "wizard", "content": "hi"}]})),
    NUMERIC_CONTENT = "numeric_content" =>
        |p, probe| p.chat(probe, json!({"messages": [{"role": "user", "content": 42}]})),
    CONTENT_PARTS = "content_parts" => |p, probe| p.chat(
        probe,
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello"}, {"type": "text", "text": "in one short sentence."}]}]}),
    ),
    DEVELOPER_ROLE = "developer_role" => |p, probe| p.chat(
        probe,
        json!({"messages": [{"role": "developer", "content": "Answer briefly."}, {"role": "user", "content": "Say hello in one short sentence."}]}),
    ),
    TEMPERATURE_HIGH = "temperature_high" => |p, probe| p.chat(probe, json!({"temperature": 3.0})),
    TOP_P_HIGH = "top_p_high" => |p, probe| p.chat(probe, json!({"top_p": 1.5})),
    PENALTY_HIGH = "penalty_high" => |p, probe| p.chat(probe, json!({"presence_penalty": 3.0})),
    N_ZERO = "n_zero" => |p, probe| p.chat(probe, json!({"n": 0})),
    STOP_FIVE = "stop_five" =>
        |p, probe| p.chat(probe, json!({"stop": ["a", "b", "c", "d", "e"]})),
    TOP_LOGPROBS_HIGH = "top_logprobs_high" =>
        |p, probe| p.chat(probe, json!({"logprobs": true, "top_logprobs": 21})),
    TOP_LOGPROBS_ALONE = "top_logprobs_without_logprobs" =>
        |p, probe| p.chat(probe, json!({"top_logprobs": 2})),
    TEMPERATURE_NEGATIVE = "temperature_negative" =>
        |p, probe| p.chat(probe, json!({"temperature": -1.0})),
    PENALTY_LOW = "frequency_penalty_low" =>
        |p, probe| p.chat(probe, json!({"frequency_penalty": -3.0})),
    LONG_FUNCTION_NAME = "long_function_name" => |p, probe| p.chat(
        probe,
        json!({"tools": [{"type": "function", "function": {"name": "f".repeat(65), "parameters": {"type": "object"}}}]}),
    ),
    STOP_SEQUENCE = "stop_sequence" => |p, probe| p.chat(
        probe,
        json!({"messages": user("Count from 1 to 10, separated by spaces."), "stop": ["5"]}),
    ),
    STREAM_OPTIONS_NO_STREAM = "stream_options_without_stream" =>
        |p, probe| p.chat(probe, json!({"stream_options": {"include_usage": true}})),
    TOOL_WITHOUT_ID = "tool_message_without_id" => |p, probe| p.chat(
        probe,
        json!({"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "42"}]}),
    ),
    BAD_FUNCTION_NAME = "bad_function_name" => |p, probe| p.chat(
        probe,
        json!({"tools": [{"type": "function", "function": {"name": "get weather now", "parameters": {"type": "object"}}}]}),
    ),
    EMPTY_TOOLS = "empty_tools" => |p, probe| p.chat(probe, json!({"tools": []})),
    UNKNOWN_PARAMETER = "unknown_parameter" =>
        |p, probe| p.chat(probe, json!({"conformance_unknown_parameter": true})),
    OVER_CONTEXT_STREAM = "over_context_stream" => |p, probe| {
        // "word " is one token in every common tokenizer: a quarter more words than the context.
        let context = p.target.context_tokens?;
        let words = context + context / 4 + 16;
        let messages = user(&"word ".repeat(words as usize));
        Some(p.chat(probe, json!({"messages": messages, "stream": true})))
    },
    STREAM_FAULT = "stream_fault" =>
        |p, probe| p.prompted(probe, p.faults.mid_stream.as_ref(), json!({"stream": true})),
    RATE_LIMIT = "rate_limit" =>
        |p, probe| p.prompted(probe, p.faults.rate_limit.as_ref(), json!({})),
    OVERLOAD = "overload" => |p, probe| p.prompted(probe, p.faults.overload.as_ref(), json!({})),
    UPSTREAM_DOWN = "upstream_down" => |p, probe| {
        let model = p.target.unreachable_model.as_ref()?;
        Some(p.chat(probe, json!({"model": model})))
    },
    UPSTREAM_DOWN_STREAM = "upstream_down_stream" => |p, probe| {
        let model = p.target.unreachable_model.as_ref()?;
        Some(p.chat(probe, json!({"model": model, "stream": true})))
    },
    STREAM_STOP_SEQUENCE = "stream_stop_sequence" => |p, probe| p.chat(
        probe,
        json!({"messages": user("Count from 1 to 10, separated by spaces."), "stop": ["5"],
               "stream": true}),
    ),
    NS_TOOL_NONE = "ns_tool_none" => |p, probe| p.chat(
        probe,
        json!({"messages": user(WEATHER), "tools": weather_tool(), "tool_choice": "none"}),
    ),
    STREAM_TOOL_NONE = "stream_tool_none" => |p, probe| p.chat(
        probe,
        json!({"messages": user(WEATHER), "tools": weather_tool(), "tool_choice": "none",
               "stream": true}),
    ),
    STREAM_LIMIT_MAX_TOKENS = "stream_limit_max_tokens" => |p, probe| p.chat(
        probe,
        json!({"messages": user(LONG_STORY), "max_tokens": 5, "stream": true,
               "stream_options": {"include_usage": true}}),
    ),
    NS_JSON_SCHEMA = "ns_json_schema" =>
        |p, probe| p.chat(probe, json!({"messages": user(CAPITAL), "response_format": answer_schema(), "max_tokens": 64})),
    STREAM_JSON_SCHEMA = "stream_json_schema" => |p, probe| p.chat(
        probe,
        json!({"messages": user(CAPITAL), "response_format": answer_schema(), "max_tokens": 64,
               "stream": true}),
    ),
    NS_JSON_OBJECT = "ns_json_object" => |p, probe| p.chat(
        probe,
        json!({"messages": user(CAPITAL), "response_format": {"type": "json_object"}, "max_tokens": 64}),
    ),
    // Authentication is stated, not guessed: both keyless probes always go out, and HTTP-004
    // judges them only with --expect-auth. They go after the chat probes: a server that accepts
    // them generates, and llama.cpp's answers depend on what it generated before (its cache),
    // so NS-BASIC must stay the first chat it sees.
    AUTH_MISSING = "auth_missing" =>
        |p, probe| p.chat(probe, json!({})).credentials(Credentials::None),
    AUTH_WRONG = "auth_wrong" =>
        |p, probe| p.chat(probe, json!({})).credentials(Credentials::Wrong),
    MODELS_LIST = "models_list" => |_, probe| ProbeRequest::get(probe, "/models"),
    MODELS_RETRIEVE = "models_retrieve" =>
        |p, probe| ProbeRequest::get(probe, format!("/models/{}", p.model())),
    MODELS_RETRIEVE_UNKNOWN = "models_retrieve_unknown" =>
        |_, probe| ProbeRequest::get(probe, format!("/models/{NO_SUCH_MODEL}")),
    REQUEST_ID_ECHO = "request_id_echo" =>
        |_, probe| ProbeRequest::get(probe, "/models").header("x-request-id", REQUEST_ID),
    CORS_FOREIGN = "cors_foreign_origin" =>
        |_, probe| ProbeRequest::get(probe, "/models").header("origin", FOREIGN_ORIGIN),
    // A browser's preflight carries no credentials.
    CORS_PREFLIGHT = "cors_preflight" => |p, probe| ProbeRequest::get(probe, "/chat/completions")
        .method(Method::OPTIONS)
        .credentials(Credentials::None)
        .header("origin", preflight_origin(p.target))
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", BROWSER_HEADERS.join(",")),
    UNKNOWN_ROUTE = "unknown_route" =>
        |_, probe| ProbeRequest::get(probe, "/conformance-no-such-route"),
    OVERSIZED_BODY = "oversized_body" =>
        |p, probe| p.post(probe, oversized_chat(p.model(), p.target.oversized_body_bytes)),
    EMB_STRING = "embeddings_string" => |p, probe| p.embed(probe, json!({"input": EMBEDDED[0]})),
    EMB_ARRAY = "embeddings_array" => |p, probe| p.embed(probe, json!({"input": EMBEDDED})),
    EMB_BASE64 = "embeddings_base64" => |p, probe| p.embed(
        probe,
        json!({"input": EMBEDDED[0], "encoding_format": "base64"}),
    ),
    EMB_INVALID_INPUT = "embeddings_invalid_input" =>
        |p, probe| p.embed(probe, json!({"input": {"text": EMBEDDED[0]}})),
    EMB_MISSING_INPUT = "embeddings_missing_input" => |p, probe| p.embed(probe, json!({})),
    RESP_BASIC = "resp_basic" => |p, probe| p.respond(probe, json!({})),
    RESP_STREAM = "resp_stream" => |p, probe| p.respond(probe, json!({"stream": true})),
    RESP_TOOL = "resp_tool" => |p, probe| p.respond(
        probe,
        json!({"input": WEATHER, "tools": [flat_weather_tool()], "max_output_tokens": 128,
               "tool_choice": {"type": "function", "name": "get_weather"}}),
    ),
    RESP_STREAM_TOOL = "resp_stream_tool" => |p, probe| p.respond(
        probe,
        json!({"input": WEATHER, "tools": [flat_weather_tool()], "max_output_tokens": 128,
               "tool_choice": {"type": "function", "name": "get_weather"}, "stream": true}),
    ),
    RESP_TOOL_NONE = "resp_tool_none" => |p, probe| p.respond(
        probe,
        json!({"input": WEATHER, "tools": [flat_weather_tool()], "tool_choice": "none"}),
    ),
    RESP_TOOL_OUTPUT = "resp_tool_output" => |p, probe| p.respond(probe, json!({
        "tools": [flat_weather_tool()], "max_output_tokens": 64, "input": [
            {"role": "user", "content": WEATHER},
            {"type": "function_call", "call_id": "call_conformance1", "name": "get_weather",
             "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_conformance1",
             "output": "18 degrees and sunny"}]})),
    RESP_JSON_SCHEMA = "resp_json_schema" => |p, probe| p.respond(probe, json!({
        "input": "What is the capital of France? Answer as a JSON object.", "max_output_tokens": 64,
        "text": {"format": {"type": "json_schema", "name": "answer", "strict": true, "schema": {
            "type": "object", "properties": {"answer": {"type": "string"}},
            "required": ["answer"], "additionalProperties": false}}}})),
    RESP_LIMIT = "resp_max_output_tokens" => |p, probe| p.respond(
        probe,
        json!({"input": LONG_ESSAY, "max_output_tokens": 16}),
    ),
    RESP_UNKNOWN_PREVIOUS = "resp_unknown_previous" => |p, probe| p.respond(
        probe,
        json!({"previous_response_id": "resp_conformance_no_such_response"}),
    ),
    RESP_MISSING_INPUT = "resp_missing_input" => |p, probe| ProbeRequest::post(
        probe,
        "/responses",
        Body::Json(json!({"model": p.model()})),
    ),
    RESP_STREAM_FAULT = "resp_stream_fault" => |p, probe| {
        let prompt = p.faults.mid_stream.as_ref()?;
        Some(p.respond(probe, json!({"input": prompt, "stream": true})))
    },
    RESP_CONTINUE = "resp_continue" => |p, probe| {
        let id = p.earlier_response_id(name::RESP_BASIC)?;
        Some(p.respond(probe, json!({"input": "Say it once more.", "previous_response_id": id})))
    },
    RESP_RETRIEVE = "resp_retrieve" =>
        |p, probe| p.about_response(probe, name::RESP_BASIC, Method::GET, ""),
    RESP_DELETE = "resp_delete" =>
        |p, probe| p.about_response(probe, name::RESP_BASIC, Method::DELETE, ""),
    RESP_RETRIEVE_DELETED = "resp_retrieve_deleted" => |p, probe| {
        // Only after a deletion that succeeded.
        p.earlier_json(name::RESP_DELETE)?;
        p.about_response(probe, name::RESP_BASIC, Method::GET, "")
    },
    MSG_BASIC = "msg_basic" => |p, probe| p.message(probe, json!({})),
    MSG_STREAM = "msg_stream" => |p, probe| p.message(probe, json!({"stream": true})),
    MSG_SYSTEM = "msg_system" =>
        |p, probe| p.message(probe, json!({"system": "Answer in one short sentence."})),
    MSG_TOOL = "msg_tool" => |p, probe| p.message(
        probe,
        json!({"messages": user(WEATHER), "tools": [messages_weather_tool()], "max_tokens": 128,
               "tool_choice": {"type": "tool", "name": "get_weather"}}),
    ),
    MSG_STREAM_TOOL = "msg_stream_tool" => |p, probe| p.message(
        probe,
        json!({"messages": user(WEATHER), "tools": [messages_weather_tool()], "max_tokens": 128,
               "tool_choice": {"type": "tool", "name": "get_weather"}, "stream": true}),
    ),
    MSG_TOOL_NONE = "msg_tool_none" => |p, probe| p.message(
        probe,
        json!({"messages": user(WEATHER), "tools": [messages_weather_tool()],
               "tool_choice": {"type": "none"}}),
    ),
    MSG_TOOL_RESULT = "msg_tool_result" => |p, probe| p.message(probe, json!({
        "tools": [messages_weather_tool()], "max_tokens": 64, "messages": [
            {"role": "user", "content": WEATHER},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_conformance1",
                                               "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_conformance1",
                                          "content": "18 degrees and sunny"}]}]})),
    MSG_STOP_SEQUENCES = "msg_stop_sequences" => |p, probe| p.message(
        probe,
        json!({"messages": user("Count from 1 to 10, separated by spaces."), "max_tokens": 64,
               "stop_sequences": ["5"]}),
    ),
    MSG_LIMIT = "msg_max_tokens" =>
        |p, probe| p.message(probe, json!({"messages": user(LONG_ESSAY), "max_tokens": 5})),
    MSG_MISSING_MAX_TOKENS = "msg_missing_max_tokens" => |p, probe| p.anthropic(
        ProbeRequest::post(
            probe,
            "/messages",
            Body::Json(json!({"model": p.model(), "messages": user("hi")})),
        ),
    ),
    MSG_UNKNOWN_MODEL = "msg_unknown_model" =>
        |p, probe| p.message(probe, json!({"model": NO_SUCH_MODEL})),
    MSG_MALFORMED_JSON = "msg_malformed_json" => |p, probe| p.anthropic(ProbeRequest::post(
        probe,
        "/messages",
        Body::Raw("{\"model\": \"x\", \"messages\": [ {\"role\": ".to_owned()),
    )),
    MSG_STREAM_FAULT = "msg_stream_fault" => |p, probe| {
        let prompt = p.faults.mid_stream.as_ref()?;
        Some(p.message(probe, json!({"messages": user(prompt), "stream": true})))
    },
    MSG_RATE_LIMIT = "msg_rate_limit" => |p, probe| {
        let prompt = p.faults.rate_limit.as_ref()?;
        Some(p.message(probe, json!({"messages": user(prompt)})))
    },
    MSG_COUNT_TOKENS = "msg_count_tokens" => |p, probe| p.anthropic(ProbeRequest::post(
        probe,
        "/messages/count_tokens",
        Body::Json(json!({"model": p.model(), "messages": user("Say hello in one short sentence.")})),
    )),
    MSG_THINKING = "msg_thinking" => |p, probe| p.thinking(probe, false),
    MSG_STREAM_THINKING = "msg_stream_thinking" => |p, probe| p.thinking(probe, true),
    MSG_OVERLOAD = "msg_overload" => |p, probe| {
        let prompt = p.faults.overload.as_ref()?;
        Some(p.message(probe, json!({"messages": user(prompt)})))
    },
    // As on the chat side, the keyless probes go last: a server that takes them generates.
    MSG_AUTH_MISSING = "msg_auth_missing" => |p, probe| p.message_keyed(probe, Credentials::None),
    MSG_AUTH_WRONG = "msg_auth_wrong" => |p, probe| p.message_keyed(probe, Credentials::Wrong),
}

/// The model name no target serves.
const NO_SUCH_MODEL: &str = "conformance-no-such-model";
/// A prompt that asks for more than the limit probes allow.
const LONG_STORY: &str = "Write a long story about the sea, at least 300 words.";
/// A question worth thinking about first.
const MULTIPLICATION: &str = "What is 17 * 23? Think it through, then answer.";
/// A prompt that calls for the weather tool.
const WEATHER: &str = "What is the weather in Paris?";
/// A question to answer as JSON.
const CAPITAL: &str = "What is the capital of France? Answer as a JSON object with the key answer.";

/// `response_format` asking for `{"answer": string}`.
fn answer_schema() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": {
        "type": "object", "properties": {"answer": {"type": "string"}},
        "required": ["answer"], "additionalProperties": false}}})
}

/// A prompt whose answer is longer than 16 tokens, the smallest `max_output_tokens` OpenAI takes.
const LONG_ESSAY: &str = "Write an essay of at least 300 words about the history of the sea.";

fn user(content: &str) -> Value {
    json!([{"role": "user", "content": content}])
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                       "required": ["city"], "additionalProperties": false}}}])
}

/// The `anthropic-version` the Messages probes send (the one the SDKs send).
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The `x-api-key` the Messages probes send when no key was given.
const ANTHROPIC_PLACEHOLDER_KEY: &str = "conformance-no-key-given";

/// The weather tool as Anthropic's Messages API takes it.
fn messages_weather_tool() -> Value {
    let function = &weather_tool()[0]["function"];
    json!({"name": function["name"], "description": function["description"],
           "input_schema": function["parameters"]})
}

/// The weather tool as the Responses API takes it: flat, no `function` wrapper.
fn flat_weather_tool() -> Value {
    let mut tool = weather_tool()[0]["function"].clone();
    tool["type"] = json!("function");
    tool
}

fn forced_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather"}})
}

/// `base` with the keys of `extra` set over it.
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

/// A valid chat request of `bytes` bytes: one user message padded with words.
fn oversized_chat(model: &str, bytes: usize) -> Body {
    let head = format!(
        "{{\"model\":{},\"max_tokens\":1,\"messages\":[{{\"role\":\"user\",\"content\":\"",
        Value::from(model)
    );
    let tail = "\"}]}";
    let words = bytes.saturating_sub(head.len() + tail.len()) / 5 + 1;
    Body::Raw(format!("{head}{}{tail}", "word ".repeat(words)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The requests every row builds for `prober`, in send order (with no earlier replies, the
    /// rows that continue one yield none).
    fn requests(prober: &Prober<'_>) -> Vec<ProbeRequest> {
        name::ALL
            .iter()
            .filter_map(|probe| request(prober, probe))
            .collect()
    }

    #[test]
    fn every_probe_is_sent_when_everything_is_stated_and_in_the_order_of_its_name() {
        let target = Target {
            context_tokens: Some(8),
            unreachable_model: Some("offline".to_owned()),
            ..Target::new("http://target/v1", "m")
        };
        let faults = FaultPrompts::mock_ollama();
        let sent: Vec<&str> = requests(&Prober::new(&target, &faults))
            .iter()
            .map(|request| request.probe)
            .collect();
        let continuing = [
            name::RESP_CONTINUE,
            name::RESP_RETRIEVE,
            name::RESP_DELETE,
            name::RESP_RETRIEVE_DELETED,
        ];
        let stated: Vec<&str> = name::ALL
            .iter()
            .copied()
            .filter(|probe| !continuing.contains(probe))
            .collect();
        assert_eq!(sent, stated);
    }

    #[test]
    fn a_row_continues_the_response_an_earlier_probe_got() {
        let target = Target::new("http://target/v1", "m");
        let faults = FaultPrompts::default();
        let mut prober = Prober::new(&target, &faults);
        assert!(request(&prober, name::RESP_CONTINUE).is_none());
        prober.record(Exchange {
            probe: name::RESP_BASIC,
            request: Value::Null,
            status: Some(200),
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: br#"{"id":"resp_1","object":"response"}"#.to_vec(),
            truncated: false,
            timed_out: false,
            error: None,
            head_ms: None,
            total_ms: 0.0,
        });
        let continued = request(&prober, name::RESP_CONTINUE).expect("a continuation");
        let Some(Body::Json(body)) = continued.body else {
            panic!("a JSON body");
        };
        assert_eq!(body["previous_response_id"], "resp_1");
        assert_eq!(
            request(&prober, name::RESP_RETRIEVE)
                .expect("a retrieval")
                .path,
            "/responses/resp_1"
        );
        assert!(
            request(&prober, name::RESP_RETRIEVE_DELETED).is_none(),
            "not before a deletion"
        );
    }

    #[test]
    fn a_probes_dialect_is_its_names() {
        let target = Target::new("http://target/v1", "m");
        let faults = FaultPrompts::mock_ollama();
        for request in requests(&Prober::new(&target, &faults)) {
            let expected = if request.path.starts_with("/responses") {
                Dialect::Responses
            } else if request.path.starts_with("/messages") {
                Dialect::Messages
            } else {
                Dialect::Chat
            };
            assert_eq!(dialect(request.probe), expected, "{}", request.probe);
        }
    }

    #[test]
    fn probes_that_need_a_statement_are_left_out_without_one() {
        let target = Target::new("http://target/v1", "m");
        let faults = FaultPrompts::default();
        let sent: Vec<&str> = requests(&Prober::new(&target, &faults))
            .iter()
            .map(|request| request.probe)
            .collect();
        for conditional in [
            name::OVER_CONTEXT_STREAM,
            name::STREAM_FAULT,
            name::RATE_LIMIT,
            name::OVERLOAD,
            name::UPSTREAM_DOWN,
            name::UPSTREAM_DOWN_STREAM,
            name::RESP_STREAM_FAULT,
            name::MSG_STREAM_FAULT,
            name::MSG_RATE_LIMIT,
            name::MSG_OVERLOAD,
        ] {
            assert!(!sent.contains(&conditional), "{conditional}");
        }
        // Less the four rows that continue an earlier reply.
        assert_eq!(sent.len(), name::ALL.len() - 10 - 4);
    }
}

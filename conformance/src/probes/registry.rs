//! Every probe, defined once: its name and the request it sends, in the order they are sent. The
//! `probes!` table makes the names ([`name`]), the send order ([`name::ALL`]) and the requests
//! from the same rows, so a probe cannot be named without being sent, nor sent unnamed. A row
//! whose request depends on what the operator stated (a context size, fault prompts) yields
//! `None` when that was not stated.

use reqwest::Method;
use serde_json::{Value, json};

use super::FaultPrompts;
use crate::exchange::{Body, Credentials, ProbeRequest, Target};

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

/// What a row of the table builds its request from.
#[derive(Debug)]
pub(super) struct Prober<'a> {
    target: &'a Target,
    faults: &'a FaultPrompts,
}

impl<'a> Prober<'a> {
    pub(super) fn new(target: &'a Target, faults: &'a FaultPrompts) -> Self {
        Self { target, faults }
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

        /// The requests of every probe that applies to what `prober` was told, in send order.
        pub(super) fn requests(prober: &Prober<'_>) -> Vec<ProbeRequest> {
            let rows = [$(row(prober, name::$constant, $build)),*];
            rows.into_iter().flatten().collect()
        }
    };
}

probes! {
    optional: [NS_TOOL, STREAM_TOOL, TOOL_ROUND_TRIP, STREAM_N2, NS_N2, NS_LOGPROBS, STREAM_LOGPROBS];

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
}

/// The model name no target serves.
const NO_SUCH_MODEL: &str = "conformance-no-such-model";
/// A prompt that asks for more than the limit probes allow.
const LONG_STORY: &str = "Write a long story about the sea, at least 300 words.";
/// A prompt that calls for the weather tool.
const WEATHER: &str = "What is the weather in Paris?";

fn user(content: &str) -> Value {
    json!([{"role": "user", "content": content}])
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                       "required": ["city"], "additionalProperties": false}}}])
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
        assert_eq!(sent, name::ALL);
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
        ] {
            assert!(!sent.contains(&conditional), "{conditional}");
        }
        assert_eq!(sent.len(), name::ALL.len() - 6);
    }
}

//! The requests the runner sends, and what it keeps of the replies. Every check reads these
//! observations; no check sends anything itself, so one run costs a fixed, small number of calls.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    exchange::{Body, Credentials, Exchange, ProbeRequest, Secret, Target, WRONG_KEY, send},
    sse::Framing,
};

/// Names of the probes.
pub mod name {
    #![allow(missing_docs)]
    pub const NS_BASIC: &str = "ns_basic";
    pub const NS_LIMIT_MAX_COMPLETION_TOKENS: &str = "ns_limit_max_completion_tokens";
    pub const NS_LIMIT_MAX_TOKENS: &str = "ns_limit_max_tokens";
    pub const STREAM_BASIC: &str = "stream_basic";
    pub const STREAM_USAGE: &str = "stream_usage";
    pub const NS_TOOL: &str = "ns_tool";
    pub const STREAM_TOOL: &str = "stream_tool";
    pub const TOOL_ROUND_TRIP: &str = "tool_round_trip";
    pub const STREAM_N2: &str = "stream_n2";
    pub const NS_N2: &str = "ns_n2";
    pub const NS_LOGPROBS: &str = "ns_logprobs";
    pub const STREAM_LOGPROBS: &str = "stream_logprobs";
    pub const UNKNOWN_MODEL: &str = "unknown_model";
    pub const UNKNOWN_MODEL_STREAM: &str = "unknown_model_stream";
    pub const INVALID_PARAM_STREAM: &str = "invalid_param_stream";
    pub const OVER_CONTEXT_STREAM: &str = "over_context_stream";
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const WRONG_TYPES: &str = "wrong_types";
    pub const MISSING_MODEL: &str = "missing_model";
    pub const MISSING_MESSAGES: &str = "missing_messages";
    pub const EMPTY_MESSAGES: &str = "empty_messages";
    pub const UNKNOWN_ROLE: &str = "unknown_role";
    pub const NUMERIC_CONTENT: &str = "numeric_content";
    pub const CONTENT_PARTS: &str = "content_parts";
    pub const DEVELOPER_ROLE: &str = "developer_role";
    pub const TEMPERATURE_HIGH: &str = "temperature_high";
    pub const TOP_P_HIGH: &str = "top_p_high";
    pub const PENALTY_HIGH: &str = "penalty_high";
    pub const N_ZERO: &str = "n_zero";
    pub const STOP_FIVE: &str = "stop_five";
    pub const TOP_LOGPROBS_HIGH: &str = "top_logprobs_high";
    pub const TOP_LOGPROBS_ALONE: &str = "top_logprobs_without_logprobs";
    pub const TEMPERATURE_NEGATIVE: &str = "temperature_negative";
    pub const PENALTY_LOW: &str = "frequency_penalty_low";
    pub const LONG_FUNCTION_NAME: &str = "long_function_name";
    pub const STOP_SEQUENCE: &str = "stop_sequence";
    pub const STREAM_OPTIONS_NO_STREAM: &str = "stream_options_without_stream";
    pub const TOOL_WITHOUT_ID: &str = "tool_message_without_id";
    pub const BAD_FUNCTION_NAME: &str = "bad_function_name";
    pub const EMPTY_TOOLS: &str = "empty_tools";
    pub const UNKNOWN_PARAMETER: &str = "unknown_parameter";
    pub const MODELS_LIST: &str = "models_list";
    pub const MODELS_RETRIEVE: &str = "models_retrieve";
    pub const MODELS_RETRIEVE_UNKNOWN: &str = "models_retrieve_unknown";
    pub const AUTH_MISSING: &str = "auth_missing";
    pub const AUTH_WRONG: &str = "auth_wrong";
    pub const STREAM_FAULT: &str = "stream_fault";
    pub const RATE_LIMIT: &str = "rate_limit";
    pub const OVERLOAD: &str = "overload";
    pub const REQUEST_ID_ECHO: &str = "request_id_echo";
    pub const CORS_FOREIGN: &str = "cors_foreign_origin";
    pub const CORS_PREFLIGHT: &str = "cors_preflight";
    pub const UNKNOWN_ROUTE: &str = "unknown_route";
    pub const OVERSIZED_BODY: &str = "oversized_body";
    pub const EMB_STRING: &str = "embeddings_string";
    pub const EMB_ARRAY: &str = "embeddings_array";
    pub const EMB_BASE64: &str = "embeddings_base64";
    pub const EMB_INVALID_INPUT: &str = "embeddings_invalid_input";
    pub const EMB_MISSING_INPUT: &str = "embeddings_missing_input";

    /// Every probe, in the order they are sent.
    pub const ALL: &[&str] = &[
        NS_BASIC,
        NS_LIMIT_MAX_COMPLETION_TOKENS,
        NS_LIMIT_MAX_TOKENS,
        STREAM_BASIC,
        STREAM_USAGE,
        NS_TOOL,
        STREAM_TOOL,
        TOOL_ROUND_TRIP,
        STREAM_N2,
        NS_N2,
        NS_LOGPROBS,
        STREAM_LOGPROBS,
        UNKNOWN_MODEL,
        UNKNOWN_MODEL_STREAM,
        INVALID_PARAM_STREAM,
        MALFORMED_JSON,
        WRONG_TYPES,
        MISSING_MODEL,
        MISSING_MESSAGES,
        EMPTY_MESSAGES,
        UNKNOWN_ROLE,
        NUMERIC_CONTENT,
        CONTENT_PARTS,
        DEVELOPER_ROLE,
        TEMPERATURE_HIGH,
        TOP_P_HIGH,
        PENALTY_HIGH,
        N_ZERO,
        STOP_FIVE,
        TOP_LOGPROBS_HIGH,
        TOP_LOGPROBS_ALONE,
        TEMPERATURE_NEGATIVE,
        PENALTY_LOW,
        LONG_FUNCTION_NAME,
        STOP_SEQUENCE,
        STREAM_OPTIONS_NO_STREAM,
        TOOL_WITHOUT_ID,
        BAD_FUNCTION_NAME,
        EMPTY_TOOLS,
        UNKNOWN_PARAMETER,
        OVER_CONTEXT_STREAM,
        STREAM_FAULT,
        RATE_LIMIT,
        OVERLOAD,
        AUTH_MISSING,
        AUTH_WRONG,
        MODELS_LIST,
        MODELS_RETRIEVE,
        MODELS_RETRIEVE_UNKNOWN,
        REQUEST_ID_ECHO,
        CORS_FOREIGN,
        CORS_PREFLIGHT,
        UNKNOWN_ROUTE,
        OVERSIZED_BODY,
        EMB_STRING,
        EMB_ARRAY,
        EMB_BASE64,
        EMB_INVALID_INPUT,
        EMB_MISSING_INPUT,
    ];

    /// Valid requests for optional features: a server may decline them with a 4xx, and the
    /// checks then report the feature as unsupported.
    pub const OPTIONAL: &[&str] = &[
        NS_TOOL,
        STREAM_TOOL,
        TOOL_ROUND_TRIP,
        STREAM_N2,
        NS_N2,
        NS_LOGPROBS,
        STREAM_LOGPROBS,
    ];
}

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

/// The origin the preflight comes from: the one the target should allow, else a foreign one.
pub fn preflight_origin(target: &Target) -> &str {
    target.origin.as_deref().unwrap_or(FOREIGN_ORIGIN)
}

/// Prompts that make a scriptable target misbehave on purpose (e.g. mock-ollama's fixtures), so
/// the error checks that need a failure can run.
#[derive(Debug, Clone, Default)]
pub struct FaultPrompts {
    /// Makes a stream fail after it started.
    pub mid_stream: Option<String>,
    /// Makes the target answer 429.
    pub rate_limit: Option<String>,
    /// The requests per minute the target limits the key to (a real limit, not a scripted
    /// 429): after every other probe, up to one more than that many small chats are sent until
    /// one is refused, and that answer is judged (ERR-007).
    pub rate_limit_burst: Option<u32>,
    /// Makes the target report an overload.
    pub overload: Option<String>,
}

impl FaultPrompts {
    /// The prompts mock-ollama's built-in fault rules answer (`fixtures/scenarios/30-faults.json`):
    /// for a target standing in front of mock-ollama, whose faults it must pass on.
    pub fn mock_ollama() -> Self {
        Self {
            mid_stream: Some("[fault:mid-stream-error]".to_owned()),
            rate_limit: Some("[fault:429]".to_owned()),
            rate_limit_burst: None,
            overload: Some("[fault:503]".to_owned()),
        }
    }
}

/// A parsed stream.
#[derive(Debug, Clone)]
pub struct StreamView {
    /// Byte-level framing.
    pub framing: Framing,
    /// What a spec-following client dispatches: `(event name, data)`.
    pub client_events: Vec<(String, String)>,
    /// JSON chunks (client events that parsed, are objects, and are not errors), with their
    /// position among client events.
    pub chunks: Vec<(usize, Value)>,
    /// Error payloads (`{"error": …}`), with their position.
    pub errors: Vec<(usize, Value)>,
    /// Payloads that are neither JSON nor `[DONE]`, with their position.
    pub invalid: Vec<(usize, String)>,
    /// Position of the first `[DONE]` among client events.
    pub done: Option<usize>,
}

impl StreamView {
    fn read(body: &[u8]) -> Self {
        let framing = Framing::read(body);
        let client_events = framing.client_events();
        let mut view = StreamView {
            framing,
            client_events,
            chunks: Vec::new(),
            errors: Vec::new(),
            invalid: Vec::new(),
            done: None,
        };
        for (index, (_, data)) in view.client_events.iter().enumerate() {
            if data == "[DONE]" {
                view.done.get_or_insert(index);
                continue;
            }
            match serde_json::from_str::<Value>(data) {
                Ok(value) if value.get("error").is_some_and(|e| !e.is_null()) => {
                    view.errors.push((index, value))
                }
                Ok(value) if value.is_object() => view.chunks.push((index, value)),
                _ => view.invalid.push((index, data.clone())),
            }
        }
        view
    }

    /// Chunks that carry choices (not the usage chunk), in order.
    pub fn choice_chunks(&self) -> impl Iterator<Item = &(usize, Value)> {
        self.chunks
            .iter()
            .filter(|(_, chunk)| chunk["choices"].as_array().is_some_and(|c| !c.is_empty()))
    }

    /// Every `(event position, choice)` of every chunk, in order.
    pub fn choices(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.chunks.iter().flat_map(|(position, chunk)| {
            chunk["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |choice| (*position, choice))
        })
    }

    /// Every `(event position, choice)` of choice `index`.
    pub fn choices_of(&self, index: u64) -> impl Iterator<Item = (usize, &Value)> {
        self.choices()
            .filter(move |(_, choice)| choice["index"].as_u64().unwrap_or(0) == index)
    }

    /// Concatenated `delta.content` of choice `index`.
    pub fn text(&self, index: u64) -> String {
        self.deltas(index)
            .filter_map(|delta| delta["content"].as_str())
            .collect()
    }

    /// Every delta of choice `index`, in order.
    pub fn deltas(&self, index: u64) -> impl Iterator<Item = &Value> {
        self.choices_of(index).map(|(_, choice)| &choice["delta"])
    }

    /// The non-null finish reasons of choice `index`, with chunk positions.
    pub fn finishes(&self, index: u64) -> Vec<(usize, Value)> {
        self.choices_of(index)
            .filter(|(_, choice)| !choice["finish_reason"].is_null())
            .map(|(position, choice)| (position, choice["finish_reason"].clone()))
            .collect()
    }

    /// Tool-call arguments reassembled per tool index for choice `index`: `(name, arguments)`.
    pub fn tool_calls(&self, index: u64) -> BTreeMap<u64, (String, String)> {
        let mut calls: BTreeMap<u64, (String, String)> = BTreeMap::new();
        for delta in self.deltas(index) {
            for (position, call) in delta["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let key = call["index"].as_u64().unwrap_or(position as u64);
                let entry = calls.entry(key).or_default();
                if let Some(name) = call["function"]["name"].as_str() {
                    entry.0.push_str(name);
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    entry.1.push_str(arguments);
                }
            }
        }
        calls
    }
}

/// Everything the probes saw, and what the operator stated about the target.
#[derive(Debug, Default)]
pub struct Observations {
    /// The target's `/v1` root.
    pub base_url: String,
    /// Model the chat probes used.
    pub model: String,
    /// Whether the target is expected to enforce authentication (`--expect-auth`).
    pub expect_auth: bool,
    /// Whether the target is expected to serve embeddings (`--embedding-model`).
    pub expect_embeddings: bool,
    /// The origin the CORS preflight came from.
    pub preflight_origin: String,
    /// What no reply may echo: the key, the values of `--header`, the wrong key probed.
    pub secrets: Vec<Secret>,
    /// Captured exchanges by probe name.
    pub exchanges: BTreeMap<&'static str, Exchange>,
    /// Parsed streams by probe name (for `stream: true` requests and `text/event-stream` replies).
    pub streams: BTreeMap<&'static str, StreamView>,
}

impl Observations {
    /// What these exchanges with `target` show: each kept under its probe's name, each body of a
    /// streamed request or with a `text/event-stream` label read as a stream.
    pub fn of(target: &Target, exchanges: impl IntoIterator<Item = Exchange>) -> Self {
        let secrets = target
            .api_key
            .iter()
            .chain(target.headers.iter().map(|(_, value)| value))
            .map(String::as_str)
            .chain([WRONG_KEY])
            .filter(|secret| secret.len() >= 8)
            .map(|secret| Secret(secret.to_owned()))
            .collect();
        let mut observations = Observations {
            base_url: target.base_url.clone(),
            model: target.model.clone(),
            expect_auth: target.expect_auth,
            expect_embeddings: target.embedding_model.is_some(),
            preflight_origin: preflight_origin(target).to_owned(),
            secrets,
            ..Observations::default()
        };
        for exchange in exchanges {
            // A body is read as a stream when one was asked for, whatever its label says.
            if exchange.request["stream"] == true
                || exchange.media_type().as_deref() == Some("text/event-stream")
            {
                observations
                    .streams
                    .insert(exchange.probe, StreamView::read(&exchange.body));
            }
            observations.exchanges.insert(exchange.probe, exchange);
        }
        observations
    }

    /// A probe's exchange.
    pub fn get(&self, probe: &str) -> Option<&Exchange> {
        self.exchanges.get(probe)
    }

    /// A probe's successful JSON reply.
    pub fn json(&self, probe: &str) -> Option<Value> {
        self.get(probe)
            .filter(|e| e.is_success())
            .and_then(Exchange::json)
    }

    /// A probe's parsed stream.
    pub fn stream(&self, probe: &str) -> Option<&StreamView> {
        self.streams.get(probe)
    }
}

fn user(content: &str) -> Value {
    json!([{"role": "user", "content": content}])
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                       "required": ["city"], "additionalProperties": false}}}])
}

/// Sends every probe to `target` through `client` ([`Target::client`]) and parses what came
/// back.
pub async fn observe(
    client: &reqwest::Client,
    target: &Target,
    faults: &FaultPrompts,
) -> Observations {
    let model = target.model.as_str();
    let chat = |extra: Value| {
        let mut body = json!({"model": model, "messages": user("Say hello in one short sentence."), "max_tokens": 32, "temperature": 0});
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        Body::Json(body)
    };
    let forced_tool = json!({"type": "function", "function": {"name": "get_weather"}});
    let mut posts: Vec<(&'static str, Body)> = vec![
        (name::NS_BASIC, chat(json!({}))),
        (
            name::NS_LIMIT_MAX_COMPLETION_TOKENS,
            chat(
                json!({"messages": user("Write a long story about the sea, at least 300 words."), "max_tokens": null, "max_completion_tokens": 5}),
            ),
        ),
        (
            name::NS_LIMIT_MAX_TOKENS,
            chat(
                json!({"messages": user("Write a long story about the sea, at least 300 words."), "max_tokens": 5}),
            ),
        ),
        (name::STREAM_BASIC, chat(json!({"stream": true}))),
        (
            name::STREAM_USAGE,
            chat(json!({"stream": true, "stream_options": {"include_usage": true}})),
        ),
        (
            name::NS_TOOL,
            chat(
                json!({"messages": user("What is the weather in Paris?"), "tools": weather_tool(), "tool_choice": forced_tool, "max_tokens": 128}),
            ),
        ),
        (
            name::STREAM_TOOL,
            chat(
                json!({"messages": user("What is the weather in Paris?"), "tools": weather_tool(), "tool_choice": forced_tool, "max_tokens": 128, "stream": true}),
            ),
        ),
        (
            name::TOOL_ROUND_TRIP,
            chat(json!({"tools": weather_tool(), "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_conformance1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_conformance1", "content": "18 degrees and sunny"}]})),
        ),
        (name::STREAM_N2, chat(json!({"n": 2, "stream": true}))),
        (name::NS_N2, chat(json!({"n": 2}))),
        (
            name::NS_LOGPROBS,
            chat(json!({"logprobs": true, "top_logprobs": 2})),
        ),
        (
            name::STREAM_LOGPROBS,
            chat(json!({"logprobs": true, "top_logprobs": 2, "stream": true})),
        ),
        (
            name::UNKNOWN_MODEL,
            chat(json!({"model": "conformance-no-such-model"})),
        ),
        (
            name::UNKNOWN_MODEL_STREAM,
            chat(json!({"model": "conformance-no-such-model", "stream": true})),
        ),
        (
            name::INVALID_PARAM_STREAM,
            chat(json!({"temperature": 7, "stream": true})),
        ),
        (
            name::MALFORMED_JSON,
            Body::Raw("{\"model\": \"x\", \"messages\": [ {\"role\": ".to_owned()),
        ),
        (
            name::WRONG_TYPES,
            Body::Json(json!({"model": model, "messages": "hello", "max_tokens": "many"})),
        ),
        (
            name::MISSING_MODEL,
            Body::Json(json!({"messages": user("hi")})),
        ),
        (name::MISSING_MESSAGES, Body::Json(json!({"model": model}))),
        (name::EMPTY_MESSAGES, chat(json!({"messages": []}))),
        (
            name::UNKNOWN_ROLE,
            chat(json!({"messages": [{"role": "wizard", "content": "hi"}]})),
        ),
        (
            name::NUMERIC_CONTENT,
            chat(json!({"messages": [{"role": "user", "content": 42}]})),
        ),
        (
            name::CONTENT_PARTS,
            chat(
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello"}, {"type": "text", "text": "in one short sentence."}]}]}),
            ),
        ),
        (
            name::DEVELOPER_ROLE,
            chat(
                json!({"messages": [{"role": "developer", "content": "Answer briefly."}, {"role": "user", "content": "Say hello in one short sentence."}]}),
            ),
        ),
        (name::TEMPERATURE_HIGH, chat(json!({"temperature": 3.0}))),
        (name::TOP_P_HIGH, chat(json!({"top_p": 1.5}))),
        (name::PENALTY_HIGH, chat(json!({"presence_penalty": 3.0}))),
        (name::N_ZERO, chat(json!({"n": 0}))),
        (
            name::STOP_FIVE,
            chat(json!({"stop": ["a", "b", "c", "d", "e"]})),
        ),
        (
            name::TOP_LOGPROBS_HIGH,
            chat(json!({"logprobs": true, "top_logprobs": 21})),
        ),
        (name::TOP_LOGPROBS_ALONE, chat(json!({"top_logprobs": 2}))),
        (
            name::TEMPERATURE_NEGATIVE,
            chat(json!({"temperature": -1.0})),
        ),
        (name::PENALTY_LOW, chat(json!({"frequency_penalty": -3.0}))),
        (
            name::LONG_FUNCTION_NAME,
            chat(
                json!({"tools": [{"type": "function", "function": {"name": "f".repeat(65), "parameters": {"type": "object"}}}]}),
            ),
        ),
        (
            name::STOP_SEQUENCE,
            chat(
                json!({"messages": user("Count from 1 to 10, separated by spaces."), "stop": ["5"]}),
            ),
        ),
        (
            name::STREAM_OPTIONS_NO_STREAM,
            chat(json!({"stream_options": {"include_usage": true}})),
        ),
        (
            name::TOOL_WITHOUT_ID,
            chat(
                json!({"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "42"}]}),
            ),
        ),
        (
            name::BAD_FUNCTION_NAME,
            chat(
                json!({"tools": [{"type": "function", "function": {"name": "get weather now", "parameters": {"type": "object"}}}]}),
            ),
        ),
        (name::EMPTY_TOOLS, chat(json!({"tools": []}))),
        (
            name::UNKNOWN_PARAMETER,
            chat(json!({"conformance_unknown_parameter": true})),
        ),
    ];
    if let Some(context) = target.context_tokens {
        // "word " is one token in every common tokenizer: a quarter more words than the context.
        let words = context + context / 4 + 16;
        posts.push((
            name::OVER_CONTEXT_STREAM,
            chat(json!({"messages": user(&"word ".repeat(words as usize)), "stream": true})),
        ));
    }
    if let Some(prompt) = &faults.mid_stream {
        posts.push((
            name::STREAM_FAULT,
            chat(json!({"messages": user(prompt), "stream": true})),
        ));
    }
    if let Some(prompt) = &faults.rate_limit {
        posts.push((name::RATE_LIMIT, chat(json!({"messages": user(prompt)}))));
    }
    if let Some(prompt) = &faults.overload {
        posts.push((name::OVERLOAD, chat(json!({"messages": user(prompt)}))));
    }
    let mut requests: Vec<ProbeRequest> = posts
        .into_iter()
        .map(|(probe, body)| ProbeRequest::post(probe, "/chat/completions", body))
        .collect();
    // Authentication is stated, not guessed: both keyless probes always go out, and HTTP-004
    // judges them only with --expect-auth. They go after the chat probes: a server that accepts
    // them generates, and llama.cpp's answers depend on what it generated before (its cache),
    // so NS-BASIC must stay the first chat it sees.
    for (probe, credentials) in [
        (name::AUTH_MISSING, Credentials::None),
        (name::AUTH_WRONG, Credentials::Wrong),
    ] {
        requests.push(
            ProbeRequest::post(probe, "/chat/completions", chat(json!({})))
                .credentials(credentials),
        );
    }
    requests.extend([
        ProbeRequest::get(name::MODELS_LIST, "/models"),
        ProbeRequest::get(name::MODELS_RETRIEVE, format!("/models/{model}")),
        ProbeRequest::get(
            name::MODELS_RETRIEVE_UNKNOWN,
            "/models/conformance-no-such-model",
        ),
        ProbeRequest::get(name::REQUEST_ID_ECHO, "/models").header("x-request-id", REQUEST_ID),
        ProbeRequest::get(name::CORS_FOREIGN, "/models").header("origin", FOREIGN_ORIGIN),
        // A browser's preflight carries no credentials.
        ProbeRequest::get(name::CORS_PREFLIGHT, "/chat/completions")
            .method(Method::OPTIONS)
            .credentials(Credentials::None)
            .header("origin", preflight_origin(target))
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", BROWSER_HEADERS.join(",")),
        ProbeRequest::get(name::UNKNOWN_ROUTE, "/conformance-no-such-route"),
        ProbeRequest::post(
            name::OVERSIZED_BODY,
            "/chat/completions",
            oversized_chat(model, target.oversized_body_bytes),
        ),
    ]);
    let embedding_model = target.embedding_model.as_deref().unwrap_or(model);
    let embed = |extra: Value| {
        let mut body = json!({"model": embedding_model});
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        Body::Json(body)
    };
    for (probe, body) in [
        (name::EMB_STRING, embed(json!({"input": EMBEDDED[0]}))),
        (name::EMB_ARRAY, embed(json!({"input": EMBEDDED}))),
        (
            name::EMB_BASE64,
            embed(json!({"input": EMBEDDED[0], "encoding_format": "base64"})),
        ),
        (
            name::EMB_INVALID_INPUT,
            embed(json!({"input": {"text": EMBEDDED[0]}})),
        ),
        (name::EMB_MISSING_INPUT, embed(json!({}))),
    ] {
        requests.push(ProbeRequest::post(probe, "/embeddings", body));
    }
    let mut exchanges = Vec::with_capacity(requests.len());
    for request in requests {
        exchanges.push(send(client, target, request).await);
    }
    if faults.rate_limit.is_none()
        && let Some(limit) = faults.rate_limit_burst
    {
        let small = chat(json!({"messages": user("Say OK."), "max_tokens": 1}));
        for _ in 0..=limit {
            let request = ProbeRequest::post(name::RATE_LIMIT, "/chat/completions", small.clone());
            let exchange = send(client, target, request).await;
            let refused = exchange.status == Some(429);
            exchanges.push(exchange);
            if refused {
                break;
            }
        }
    }
    Observations::of(target, exchanges)
}

/// The texts the embeddings probes embed.
pub const EMBEDDED: [&str; 2] = ["The food was delicious.", "The sea was calm and blue."];

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

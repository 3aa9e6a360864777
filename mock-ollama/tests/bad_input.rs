//! Random and hostile request bodies on every route that reads one, in every flavour that serves
//! it: each gets a reply, or an error in the envelope its flavour's server writes — Ollama's
//! `{"error": "…"}` on `/api`, OpenAI's `{"error": {message, type, param, code}}` on
//! `/v1/responses`, Anthropic's `{"type": "error", "error": {type, message}, "request_id"}` on
//! `/v1/messages`, `llama-server`'s `{"error": {code, message, type}}` in the `llamacpp` flavour,
//! vLLM's two (OpenAI's for what pydantic refuses, Anthropic's for its handler's errors) —
//! never a panic or a hang, never a 5xx but for the ones the real server gives, and the servers
//! keep serving.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use mock_ollama::{Flavor, MockOllama};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// The error envelope a route's server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Envelope {
    /// Ollama's `{"error": "…"}`, `application/json; charset=utf-8`.
    Native,
    /// OpenAI's `{"error": {message, type, param, code}}`.
    Openai,
    /// Anthropic's `{"type": "error", "error": {type, message}, "request_id"}`.
    Anthropic,
    /// `llama-server`'s `{"error": {code, message, type}}`.
    LlamaServer,
    /// vLLM's Messages layer: OpenAI's envelope for what pydantic refuses, Anthropic's (without
    /// a request id, typed by vLLM's class names) for its handler's errors.
    VllmMessages,
}

/// One route in one flavour.
#[derive(Debug, Clone, Copy)]
struct Route {
    flavor: Flavor,
    path: &'static str,
    envelope: Envelope,
}

const fn route(flavor: Flavor, path: &'static str, envelope: Envelope) -> Route {
    Route {
        flavor,
        path,
        envelope,
    }
}

const NATIVE: &[Route] = &[
    route(Flavor::Ollama, "/api/chat", Envelope::Native),
    route(Flavor::Ollama, "/api/generate", Envelope::Native),
    route(Flavor::Ollama, "/api/embed", Envelope::Native),
    route(Flavor::Ollama, "/api/embeddings", Envelope::Native),
    route(Flavor::Ollama, "/api/show", Envelope::Native),
];

const DIALECTS: &[Route] = &[
    route(Flavor::Openai, "/v1/responses", Envelope::Openai),
    route(Flavor::Openai, "/v1/messages", Envelope::Anthropic),
    route(
        Flavor::Openai,
        "/v1/messages/count_tokens",
        Envelope::Anthropic,
    ),
    route(Flavor::Ollama, "/v1/responses", Envelope::Openai),
    route(Flavor::Ollama, "/v1/messages", Envelope::Anthropic),
    route(Flavor::Llamacpp, "/v1/responses", Envelope::LlamaServer),
    route(Flavor::Llamacpp, "/v1/messages", Envelope::LlamaServer),
    route(
        Flavor::Llamacpp,
        "/v1/messages/count_tokens",
        Envelope::LlamaServer,
    ),
    route(Flavor::Vllm, "/v1/responses", Envelope::Openai),
    route(Flavor::Vllm, "/v1/messages", Envelope::VllmMessages),
    route(
        Flavor::Vllm,
        "/v1/messages/count_tokens",
        Envelope::VllmMessages,
    ),
];

struct Shared {
    runtime: Runtime,
    client: reqwest::Client,
    /// One mock per flavour, in `FLAVORS` order.
    mocks: Vec<MockOllama>,
}

const FLAVORS: [Flavor; 4] = [
    Flavor::Ollama,
    Flavor::Openai,
    Flavor::Llamacpp,
    Flavor::Vllm,
];

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = Runtime::new().unwrap();
        let mocks = FLAVORS
            .iter()
            .map(|flavor| {
                runtime
                    .block_on(MockOllama::builder().flavor(*flavor).start())
                    .unwrap()
            })
            .collect();
        Shared {
            client: reqwest::Client::new(),
            runtime,
            mocks,
        }
    })
}

/// Sends `body` on `route` and checks the reply is a success or the route's own error envelope;
/// returns the status.
fn check(route: Route, body: Vec<u8>) -> Result<u16, TestCaseError> {
    let shared = shared();
    let position = FLAVORS.iter().position(|f| *f == route.flavor).unwrap();
    let url = format!("{}{}", shared.mocks[position].url(), route.path);
    let (status, content_type, bytes) = shared.runtime.block_on(async {
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            shared
                .client
                .post(url)
                .header("x-api-key", "k")
                .header("anthropic-version", "2023-06-01")
                .body(body)
                .send(),
        )
        .await
        .expect("no hang")
        .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.bytes().await.unwrap())
    });
    if status < 400 {
        return Ok(status);
    }
    let error: Value = serde_json::from_slice(&bytes).unwrap();
    let message = match route.envelope {
        Envelope::Native => {
            prop_assert_eq!(content_type.as_str(), "application/json; charset=utf-8");
            prop_assert_eq!(error.as_object().unwrap().len(), 1, "{}", error);
            error["error"].as_str()
        }
        Envelope::Openai => {
            let object = error["error"].as_object().unwrap();
            prop_assert!(object["type"].is_string());
            prop_assert!(object.contains_key("param") && object.contains_key("code"));
            object["message"].as_str()
        }
        Envelope::Anthropic => {
            prop_assert_eq!(&error["type"], "error");
            prop_assert!(error["error"]["type"].is_string(), "{}", error);
            prop_assert!(error["request_id"].is_string());
            error["error"]["message"].as_str()
        }
        Envelope::LlamaServer => {
            let object = error["error"].as_object().unwrap();
            prop_assert_eq!(&object["code"], &json!(status));
            prop_assert!(object["type"].is_string());
            object["message"].as_str()
        }
        Envelope::VllmMessages if error["type"] == "error" => {
            prop_assert!(error["error"]["type"].is_string(), "{}", error);
            error["error"]["message"].as_str()
        }
        Envelope::VllmMessages => {
            let object = error["error"].as_object().unwrap();
            prop_assert_eq!(&object["code"], &json!(status));
            object["message"].as_str()
        }
    }
    .unwrap_or_default();
    prop_assert!(!message.is_empty(), "{}", error);
    if status >= 500 {
        // The only 5xx the real servers give a client's mistake: Ollama's option and format
        // type errors, llama-server's missing `messages` (a `runtime_error`).
        let servers_own = match route.envelope {
            Envelope::Native => {
                message.starts_with("option ") || message.starts_with("invalid format")
            }
            Envelope::LlamaServer => message == "'messages' is required",
            Envelope::Openai | Envelope::Anthropic | Envelope::VllmMessages => false,
        };
        prop_assert!(
            servers_own,
            "a client's mistake is never a {}: {}",
            status,
            message
        );
    }
    Ok(status)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (0u32..5000).prop_map(|n| json!(n)),
        "[a-z0-9 :_]{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("model".to_owned()),
                    Just("messages".to_owned()),
                    Just("role".to_owned()),
                    Just("content".to_owned()),
                    Just("options".to_owned()),
                    Just("tools".to_owned()),
                    Just("format".to_owned()),
                    Just("input".to_owned()),
                    Just("type".to_owned()),
                    Just("text".to_owned()),
                    Just("name".to_owned()),
                    Just("call_id".to_owned()),
                    Just("arguments".to_owned()),
                    Just("output".to_owned()),
                    Just("tool_use_id".to_owned()),
                    Just("source".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like any dialect's request (Ollama's, Responses, Messages), every field
/// possibly wrong.
fn request_like() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(json!("llama3.2")),
            Just(json!("qwen3:0.6b")),
            Just(json!("nomic-embed-text")),
            json_value()
        ],
        json_value(),
        json_value(),
        json_value(),
        any::<bool>(),
    )
        .prop_map(|(model, conversation, tools, extra, stream)| {
            json!({"model": model, "messages": conversation.clone(), "input": conversation,
                   "tools": tools, "options": extra.clone(), "think": extra.clone(),
                   "prompt": extra.clone(), "max_tokens": extra.clone(),
                   "max_output_tokens": extra.clone(), "tool_choice": extra.clone(),
                   "thinking": extra.clone(), "text": extra.clone(), "system": extra,
                   "stream": stream})
        })
}

fn any_route() -> impl Strategy<Value = Route> {
    prop::sample::select([NATIVE, DIALECTS].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_get_the_routes_error_envelope(route in any_route(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let status = check(route, body)?;
        match route.envelope {
            Envelope::Native => prop_assert!(matches!(status, 200 | 400 | 404), "status {}", status),
            // Bytes that happen to be JSON without `messages` are llama-server's 500.
            Envelope::LlamaServer => prop_assert!(matches!(status, 400 | 500), "status {}", status),
            Envelope::Openai | Envelope::Anthropic | Envelope::VllmMessages => {
                prop_assert_eq!(status, 400)
            }
        }
    }

    #[test]
    fn random_json_values_get_an_envelope_or_a_reply(route in any_route(), body in json_value()) {
        check(route, serde_json::to_vec(&body).unwrap())?;
    }

    #[test]
    fn request_shaped_garbage_is_handled(route in any_route(), body in request_like()) {
        check(route, serde_json::to_vec(&body).unwrap())?;
    }
}

#[test]
fn every_server_still_serves_after_the_fuzzing() {
    let chat =
        br#"{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(check(NATIVE[0], chat.to_vec()).unwrap(), 200);
    let messages =
        br#"{"model":"llama3.2","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
    for route in DIALECTS {
        let body: &[u8] = if route.path == "/v1/responses" {
            br#"{"model":"llama3.2","input":"hi"}"#
        } else {
            messages
        };
        assert_eq!(check(*route, body.to_vec()).unwrap(), 200, "{route:?}");
    }
}

//! Random and hostile bodies on `/v1/responses` and `/v1/messages` (the `openai` flavour): every
//! one gets a reply or a 4xx in its own dialect's envelope — OpenAI's `{"error":{message, type,
//! param, code}}` on Responses, Anthropic's `{"type":"error","error":{type, message},
//! "request_id"}` on Messages — never a 5xx, a panic or a hang, and the server keeps serving.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use mock_ollama::{Flavor, MockOllama};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

struct Shared {
    runtime: Runtime,
    url: String,
    client: reqwest::Client,
    _mock: MockOllama,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = Runtime::new().unwrap();
        let mock = runtime
            .block_on(MockOllama::builder().flavor(Flavor::Openai).start())
            .unwrap();
        Shared {
            url: mock.url(),
            client: reqwest::Client::new(),
            runtime,
            _mock: mock,
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Responses,
    Messages,
    CountTokens,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::Responses => "/v1/responses",
            Route::Messages => "/v1/messages",
            Route::CountTokens => "/v1/messages/count_tokens",
        }
    }
}

/// Sends `body` and checks the reply is a success or the route's own error envelope.
fn check(route: Route, body: Vec<u8>) -> Result<u16, TestCaseError> {
    let shared = shared();
    let (status, bytes) = shared.runtime.block_on(async {
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            shared
                .client
                .post(format!("{}{}", shared.url, route.path()))
                .header("x-api-key", "k")
                .header("anthropic-version", "2023-06-01")
                .body(body)
                .send(),
        )
        .await
        .expect("no hang")
        .unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap())
    });
    prop_assert!(status < 500, "a client's mistake is never a {}", status);
    if status >= 400 {
        let error: Value = serde_json::from_slice(&bytes).unwrap();
        match route {
            Route::Responses => {
                let object = error["error"].as_object().unwrap();
                prop_assert!(object["message"].as_str().is_some_and(|m| !m.is_empty()));
                prop_assert!(object["type"].is_string());
                prop_assert!(object.contains_key("param") && object.contains_key("code"));
            }
            Route::Messages | Route::CountTokens => {
                prop_assert_eq!(&error["type"], "error");
                prop_assert!(error["error"]["type"].is_string(), "{}", error);
                prop_assert!(
                    error["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                );
                prop_assert!(error["request_id"].is_string());
            }
        }
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
                    Just("type".to_owned()),
                    Just("role".to_owned()),
                    Just("content".to_owned()),
                    Just("text".to_owned()),
                    Just("name".to_owned()),
                    Just("input".to_owned()),
                    Just("call_id".to_owned()),
                    Just("arguments".to_owned()),
                    Just("output".to_owned()),
                    Just("tool_use_id".to_owned()),
                    Just("source".to_owned()),
                    Just("budget_tokens".to_owned()),
                    Just("format".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like either dialect's request, every field possibly wrong.
fn request_like() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(json!("llama3.2")),
            Just(json!("qwen3:0.6b")),
            json_value()
        ],
        json_value(),
        json_value(),
        json_value(),
        any::<bool>(),
    )
        .prop_map(|(model, conversation, tools, extra, stream)| {
            json!({"model": model, "input": conversation.clone(), "messages": conversation,
                   "tools": tools, "max_tokens": extra.clone(), "max_output_tokens": extra.clone(),
                   "tool_choice": extra.clone(), "thinking": extra.clone(), "text": extra.clone(),
                   "system": extra, "stream": stream})
        })
}

fn route() -> impl Strategy<Value = Route> {
    prop_oneof![
        Just(Route::Responses),
        Just(Route::Messages),
        Just(Route::CountTokens)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_get_the_routes_error_envelope(route in route(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let status = check(route, body)?;
        prop_assert_eq!(status, 400);
    }

    #[test]
    fn random_json_values_get_an_envelope_or_a_reply(route in route(), body in json_value()) {
        check(route, serde_json::to_vec(&body).unwrap())?;
    }

    #[test]
    fn request_shaped_garbage_is_handled(route in route(), body in request_like()) {
        check(route, serde_json::to_vec(&body).unwrap())?;
    }
}

#[test]
fn the_server_still_serves_both_after_the_fuzzing() {
    let responses = check(
        Route::Responses,
        br#"{"model":"llama3.2","input":"hi"}"#.to_vec(),
    )
    .unwrap();
    let messages = check(
        Route::Messages,
        br#"{"model":"llama3.2","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#
            .to_vec(),
    )
    .unwrap();
    assert_eq!((responses, messages), (200, 200));
}

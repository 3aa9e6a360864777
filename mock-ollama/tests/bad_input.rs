//! Random and hostile request bodies: every one gets a response in Ollama's error shape (or a
//! success), nothing panics, nothing hangs, and the server keeps serving.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use mock_ollama::MockOllama;
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
        let mock = runtime.block_on(MockOllama::builder().start()).unwrap();
        Shared {
            url: mock.url(),
            client: reqwest::Client::new(),
            runtime,
            _mock: mock,
        }
    })
}

/// Sends a body and checks the response is well-formed; returns the status.
fn check(path: &str, body: Vec<u8>) -> Result<u16, TestCaseError> {
    let shared = shared();
    let (status, content_type, bytes) = shared.runtime.block_on(async {
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            shared
                .client
                .post(format!("{}{path}", shared.url))
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
    if status >= 400 {
        prop_assert_eq!(content_type.as_str(), "application/json; charset=utf-8");
        let error: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert!(
            error["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            error
        );
        prop_assert_eq!(error.as_object().unwrap().len(), 1);
    }
    // Ollama's only 500s for client input are option and format type errors.
    if status == 500 {
        let error: Value = serde_json::from_slice(&bytes).unwrap();
        let message = error["error"].as_str().unwrap();
        prop_assert!(
            message.starts_with("option ") || message.starts_with("invalid format"),
            "{}",
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
        "[a-z0-9 :]{0,10}".prop_map(Value::String),
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
                    Just("stream".to_owned()),
                    Just("tools".to_owned()),
                    Just("think".to_owned()),
                    Just("keep_alive".to_owned()),
                    Just("format".to_owned()),
                    Just("input".to_owned()),
                    Just("prompt".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

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
    )
        .prop_map(|(model, messages, options, extra)| {
            json!({"model": model, "messages": messages, "options": options, "think": extra.clone(),
                   "stream": false, "prompt": extra.clone(), "input": extra})
        })
}

const PATHS: &[&str] = &[
    "/api/chat",
    "/api/generate",
    "/api/embed",
    "/api/embeddings",
    "/api/show",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_get_an_error_envelope(path in prop::sample::select(PATHS), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let status = check(path, body)?;
        prop_assert!(status == 400 || status == 404 || status == 200, "status {}", status);
    }

    #[test]
    fn random_json_values_get_an_error_envelope_or_a_reply(path in prop::sample::select(PATHS), body in json_value()) {
        check(path, serde_json::to_vec(&body).unwrap())?;
    }

    #[test]
    fn request_shaped_garbage_is_handled(path in prop::sample::select(PATHS), body in request_like()) {
        check(path, serde_json::to_vec(&body).unwrap())?;
    }
}

#[test]
fn server_still_serves_after_the_fuzzing() {
    let status = check(
        "/api/chat",
        br#"{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"hi"}]}"#
            .to_vec(),
    )
    .unwrap();
    assert_eq!(status, 200);
}

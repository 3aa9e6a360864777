//! The OpenAI-compatible upstream path against wiremock, where exact bytes are the point: replies
//! that combine many servers' quirks at once (vLLM, llama.cpp, LiteLLM), float timestamps, in-band
//! error shapes. The same path against whole real dialects is `openai_upstream_flavors.rs`
//! (mock-ollama's `/v1` in every flavour).
#![allow(clippy::unwrap_used)]

mod common;

use common::redacted;
use gateway::{BackendConfig, BackendKind, Config, Gateway, Timeouts};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"id": "smollm2", "object": "model", "created": 1700000000, "owned_by": "vllm", "max_model_len": 2048},
                     {"id": "no-meta"}]
        })))
        .mount(&server)
        .await;
    server
}

async fn gateway_for(server: &MockServer) -> Gateway {
    let config = Config {
        backends: vec![BackendConfig {
            name: "vllm".into(),
            kind: BackendKind::Openai,
            base_url: format!("{}/v1", server.uri()),
            api_key: Some("sk-upstream".into()),
            api_key_env: None,
            models: None,
            timeouts: Timeouts::default(),
            ca_cert: None,
            max_concurrent_requests: None,
            retry: Default::default(),
            max_body_bytes: 1 << 24,
        }],
        ..Config::default()
    };
    Gateway::start(config).await.unwrap()
}

async fn post(gateway: &Gateway, body: Value) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    common::parts_of(response).await
}

/// The body of the last request the upstream received.
async fn last_sent(server: &MockServer) -> Value {
    let requests = server.received_requests().await.unwrap();
    serde_json::from_slice(&requests.last().unwrap().body).unwrap()
}

fn ask(stream: bool) -> Value {
    json!({"model": "smollm2", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

/// `request` through the gateway to an upstream that answers with `body` as SSE: what the
/// client got, and the upstream (to read what it was sent).
async fn streamed_through_gateway(
    body: String,
    request: Value,
) -> ((u16, reqwest::header::HeaderMap, String), MockServer) {
    let server = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let gateway = gateway_for(&server).await;
    (post(&gateway, request).await, server)
}

fn sse(events: &[&str]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

#[tokio::test]
async fn models_are_discovered_and_completed_with_required_fields() {
    let server = upstream().await;
    let gateway = gateway_for(&server).await;
    let models: Value = reqwest::get(format!("{}/v1/models", gateway.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        models,
        json!({"object": "list", "data": [
            {"id": "smollm2", "object": "model", "created": 1700000000, "owned_by": "vllm"},
            {"id": "no-meta", "object": "model", "created": 0, "owned_by": "vllm"}
        ]})
    );
}

#[tokio::test]
async fn non_stream_is_relayed_with_key_and_normalized() {
    let server = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-upstream"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "", "object": "chat.completion", "created": 1700000000.7, "model": "/models/smollm2-q4",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "reasoning": "greet",
                "tool_calls": []}, "finish_reason": "eos_token", "stop_reason": 2}],
            "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = gateway_for(&server).await;
    let (status, _, body) = post(&gateway, ask(false)).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    redacted().bind(|| insta::assert_json_snapshot!("openai_non_stream", body));
    let sent = last_sent(&server).await;
    assert_eq!(sent["stream"], false);
    assert!(sent.get("stream_options").is_none());
}

#[tokio::test]
async fn deviant_stream_is_made_conformant() {
    // llama.cpp/LiteLLM/vLLM habits at once: id changes per chunk, role repeated, no role on the
    // first chunk, `reasoning` spelling, tool call id+name repeated on every fragment, arguments
    // as an object in one fragment, finish_reason on a content chunk, usage only in a trailer.
    let body = sse(&[
        r#"{"id":"x1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"","reasoning":"Think"},"finish_reason":null}]}"#,
        r#"{"id":"x2","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        r#"{"id":"x3","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]},"finish_reason":null}]}"#,
        r#"{"id":"x4","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        r#"{"id":"x5","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
        "[DONE]",
    ]);
    let ((status, headers, text), server) = streamed_through_gateway(
        body,
        json!({"model": "smollm2", "stream": true,
            "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    let events: Vec<Value> = text
        .split("\n\n")
        .filter(|f| !f.is_empty())
        .map(|f| {
            let data = f.strip_prefix("data: ").unwrap();
            if data == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(data).unwrap()
            }
        })
        .collect();
    redacted().bind(|| insta::assert_json_snapshot!("openai_deviant_stream", events));
    let sent = last_sent(&server).await;
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn legal_sse_framing_a_naive_reader_gets_wrong_is_relayed() {
    // A BOM, lone-CR line ends, comments, a retry-only block and `data:` without its space: all
    // legal SSE; the same content as LF framing must come out.
    let plain = sse(&[
        r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]);
    let quirky = format!(
        "\u{feff}retry: 100\r\r: hello\r\r{}",
        plain.replace("data: ", "data:")
    )
    .replace('\n', "\r");
    let mut replies = Vec::new();
    for body in [plain, quirky] {
        let ((status, _, text), _) = streamed_through_gateway(body, ask(true)).await;
        assert_eq!(status, 200);
        let contents: Vec<Value> = text
            .split("\n\n")
            .filter_map(|frame| frame.strip_prefix("data: "))
            .filter(|data| *data != "[DONE]")
            .map(|data| {
                let chunk: Value = serde_json::from_str(data).unwrap();
                json!([
                    chunk["choices"][0]["delta"]["content"],
                    chunk["choices"][0]["finish_reason"]
                ])
            })
            .collect();
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        replies.push(contents);
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0].last(), Some(&json!([null, "stop"])));
}

#[tokio::test]
async fn upstream_error_envelopes_are_rewritten_with_string_codes() {
    let server = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "object": "error", "message": "max_tokens is too large: 99999", "type": "BadRequestError", "param": null, "code": 400
        })))
        .mount(&server)
        .await;
    let gateway = gateway_for(&server).await;
    let (status, _, body) = post(&gateway, ask(false)).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": {"message": "max_tokens is too large: 99999", "type": "invalid_request_error", "param": null, "code": "upstream_rejected"}})
    );
}

#[tokio::test]
async fn rate_limits_pass_retry_after_on() {
    let server = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({"error": {"message": "slow down", "code": 429}})),
        )
        .mount(&server)
        .await;
    let gateway = gateway_for(&server).await;
    let (status, headers, body) = post(&gateway, ask(true)).await;
    assert_eq!(
        (status, headers["retry-after"].to_str().unwrap()),
        (429, "3")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["type"],
        "rate_limit_error"
    );
}

#[tokio::test]
async fn an_in_band_error_and_a_missing_finish_become_error_events() {
    for (events, code) in [
        (
            sse(&[
                r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
                r#"{"error":{"message":"engine died","code":500}}"#,
            ]),
            "upstream_error",
        ),
        (
            sse(&[
                r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
                "[DONE]",
            ]),
            "upstream_incomplete",
        ),
        (
            sse(&[
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"abort"}]}"#,
                "[DONE]",
            ]),
            "upstream_error",
        ),
    ] {
        let ((_, _, text), _) = streamed_through_gateway(events, ask(true)).await;
        let last = text.trim_end().rsplit("\n\n").next().unwrap();
        let error: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(error["error"]["code"], code, "{text}");
        assert!(!text.contains("[DONE]"));
    }
}

#[tokio::test]
async fn unknown_models_are_404_without_calling_the_upstream() {
    let server = upstream().await;
    let gateway = gateway_for(&server).await;
    let (status, _, body) = post(
        &gateway,
        json!({"model": "gpt-5", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        "model_not_found"
    );
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 0);
}

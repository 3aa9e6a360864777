//! `/v1/messages` in the `vllm` flavour writes what vLLM's converter over its own chat stream
//! writes, as its source says (`vllm/entrypoints/anthropic/`; vLLM cannot run here, so these
//! tests are the only check): no headers required, the chat completion's id, a uuid signature,
//! a `message_start` without `type` and `role`, `index` after the block, no `ping`, no
//! `stop_sequence`, usage with `input_tokens` at the end, an `internal_error` event that ends a
//! failed stream, request refusals in its OpenAI envelope and handler errors named by class.
#![allow(clippy::unwrap_used)]

mod common;

use common::{RawResponse, THINKING_RULES, flavored_mock, keys, post, with_dialect_rules};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Vllm, &with_dialect_rules(THINKING_RULES)).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/messages", body).await
}

fn ask(prompt: &str, stream: bool) -> Value {
    json!({"model": "llama3.2", "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": prompt}]})
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[tokio::test]
async fn a_whole_message_leaves_out_what_is_none_and_signs_with_a_uuid() {
    let mock = mock().await;
    let reply = create(&mock, ask("think: 4 or 5?", false)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.header("request-id").is_none());
    let value = reply.json();
    assert_eq!(
        keys(&value),
        [
            "id",
            "type",
            "role",
            "content",
            "model",
            "stop_reason",
            "usage"
        ],
        "no stop_sequence (exclude_none)"
    );
    assert!(is_hex(
        value["id"]
            .as_str()
            .unwrap()
            .strip_prefix("chatcmpl-")
            .unwrap(),
        32
    ));
    let thinking = &value["content"][0];
    assert_eq!(keys(thinking), ["type", "thinking", "signature"]);
    assert!(is_hex(thinking["signature"].as_str().unwrap(), 32));
    assert_eq!(
        value["content"][1],
        json!({"type": "text", "text": "4 < 5"})
    );
    assert_eq!(value["stop_reason"], "end_turn");
    assert_eq!(keys(&value["usage"]), ["input_tokens", "output_tokens"]);
}

#[tokio::test]
async fn a_stream_starts_without_type_or_role_and_puts_index_last() {
    let mock = mock().await;
    let reply = create(&mock, ask("think: 4 or 5?", true)).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let events: Vec<(String, Value)> = reply
        .named_events()
        .into_iter()
        .map(|(name, data)| (name, serde_json::from_str(&data).unwrap()))
        .collect();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ],
        "no ping"
    );
    let start = &events[0].1["message"];
    assert_eq!(
        keys(start),
        [
            "id",
            "content",
            "model",
            "stop_reason",
            "stop_sequence",
            "usage"
        ]
    );
    assert_eq!(start["usage"]["output_tokens"], 0);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start",
               "content_block": {"type": "thinking", "thinking": ""}, "index": 0})
    );
    assert_eq!(keys(&events[1].1), ["type", "content_block", "index"]);
    assert_eq!(keys(&events[2].1), ["type", "delta", "index"]);
    let signature = &events[4].1["delta"];
    assert_eq!(signature["type"], "signature_delta");
    assert!(is_hex(signature["signature"].as_str().unwrap(), 32));
    assert_eq!(
        events[9].1,
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
               "usage": {"input_tokens": start["usage"]["input_tokens"], "output_tokens": 3}})
    );
    assert_eq!(events[10].1, json!({"type": "message_stop"}));
}

#[tokio::test]
async fn a_tool_call_starts_with_an_empty_input_and_names_the_tool_parsers_id() {
    let mock = mock().await;
    let mut body = ask("weather?", true);
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    let events: Vec<Value> = create(&mock, body)
        .await
        .named_events()
        .into_iter()
        .map(|(_, data)| serde_json::from_str(&data).unwrap())
        .collect();
    let started = &events[1]["content_block"];
    assert_eq!(started["input"], json!({}));
    assert!(is_hex(
        started["id"]
            .as_str()
            .unwrap()
            .strip_prefix("chatcmpl-tool-")
            .unwrap(),
        32
    ));
    assert_eq!(events[2]["delta"]["partial_json"], r#"{"city":"Paris"}"#);
    assert_eq!(events[4]["delta"], json!({"stop_reason": "tool_use"}));
}

#[tokio::test]
async fn a_mid_stream_failure_is_an_internal_error_event_and_the_end() {
    let mock = mock().await;
    let reply = create(&mock, ask("[error]", true)).await;
    let events = reply.named_events();
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    let error: Value = serde_json::from_str(data).unwrap();
    assert_eq!(keys(&error), ["type", "error"]);
    assert_eq!(error["error"]["type"], "internal_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "2 validation errors for ChatCompletionStreamResponse\nmodel\n  Field required"
        ),
        "{message}"
    );
    assert!(!reply.text().contains("message_stop"));
}

#[tokio::test]
async fn refusals_come_in_two_envelopes() {
    let mock = mock().await;
    for (body, message) in [
        (
            json!({"model": "llama3.2", "messages": []}),
            "Field required: 'max_tokens'",
        ),
        (
            json!({"model": "llama3.2", "max_tokens": 0, "messages": []}),
            "Value error, max_tokens must be positive",
        ),
        (
            json!({"model": "", "max_tokens": 8, "messages": []}),
            "Value error, Model is required",
        ),
    ] {
        let reply = create(&mock, body).await;
        assert_eq!(reply.status, 400);
        let error = reply.json();
        assert_eq!(
            error["error"]["type"], "BadRequestError",
            "OpenAI's envelope"
        );
        assert_eq!(error["error"]["code"], 400);
        assert_eq!(error["error"]["message"], message);
    }
    let unknown = create(
        &mock,
        json!({"model": "nope", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"type": "error", "error": {"type": "NotFoundError",
                                          "message": "The model `nope` does not exist."}})
    );
}

#[tokio::test]
async fn count_tokens_repeats_the_count_as_context_management() {
    let mock = mock().await;
    let counted = post(
        mock.addr(),
        "/v1/messages/count_tokens",
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hello there"}]}),
    )
    .await;
    assert_eq!(counted.status, 200, "{}", counted.text());
    let value = counted.json();
    assert_eq!(keys(&value), ["input_tokens", "context_management"]);
    assert_eq!(
        value["context_management"]["original_input_tokens"],
        value["input_tokens"]
    );
}

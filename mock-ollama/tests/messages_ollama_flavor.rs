//! `/v1/messages` in the `ollama` flavour is Ollama's Anthropic layer (`anthropic/anthropic.go`,
//! `middleware/anthropic.go` at fb30760), deviations included: no headers required, Go's JSON,
//! `model` before `content`, `stop_reason`/`stop_sequence` left out when unset, no `ping`,
//! unsigned thinking, `input_tokens` repeated in `message_delta`, a mid-stream failure lost (the
//! stream just ends), its own refusal words, and no `count_tokens` route.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    RawResponse, THINKING_RULES, flavored_mock, post, raw_with_headers, with_dialect_rules,
};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Ollama, &with_dialect_rules(THINKING_RULES)).await
}

fn ask(model: &str, prompt: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 256, "stream": stream,
           "messages": [{"role": "user", "content": prompt}]})
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/messages", body).await
}

fn events(reply: &RawResponse) -> Vec<(String, String)> {
    reply.named_events()
}

#[tokio::test]
async fn a_whole_message_is_ollamas_messages_response_in_go_field_order() {
    let mock = mock().await;
    let reply = create(&mock, ask("qwen3:0.6b", "think: 4 or 5?", false)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("request-id"), None);
    let text = reply.text();
    assert!(text.ends_with("}\n"), "json.Encoder's newline");
    let value: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "role",
            "model",
            "content",
            "stop_reason",
            "usage"
        ]
    );
    let id = value["id"].as_str().unwrap();
    assert!(
        id.len() == 28 && id.starts_with("msg_") && id[4..].chars().all(|c| c.is_ascii_hexdigit())
    );
    assert_eq!(
        value["content"],
        json!([{"type": "thinking", "thinking": "Let me see."}, {"type": "text", "text": "4 < 5"}])
    );
    assert!(text.contains(r#""text":"4 \u003c 5""#), "Go escapes <");
    assert_eq!(value["stop_reason"], "end_turn");
    let usage: Vec<&str> = value["usage"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(usage, ["input_tokens", "output_tokens"]);
}

#[tokio::test]
async fn a_stream_has_no_ping_no_signature_and_no_null_stop_fields() {
    let mock = mock().await;
    let reply = create(&mock, ask("qwen3:0.6b", "think: 4 or 5?", true)).await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let events = events(&reply);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start: Value = serde_json::from_str(&events[0].1).unwrap();
    assert!(start["message"].get("stop_reason").is_none());
    assert_eq!(
        start["message"]["usage"],
        json!({"input_tokens": start["message"]["usage"]["input_tokens"], "output_tokens": 0})
    );
    assert_eq!(
        events[1].1,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#
    );
    let delta: Value = serde_json::from_str(&events[8].1).unwrap();
    assert_eq!(delta["delta"], json!({"stop_reason": "end_turn"}));
    let usage: Vec<&str> = delta["usage"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(usage, ["input_tokens", "output_tokens"]);
}

#[tokio::test]
async fn a_tool_use_keeps_ollamas_call_id() {
    let mock = mock().await;
    let mut body = ask("llama3.2", "Weather in Paris?", false);
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    let value = create(&mock, body).await.json();
    assert_eq!(value["stop_reason"], "tool_use");
    let block = &value["content"][0];
    assert_eq!(block["type"], "tool_use");
    assert!(
        block["id"].as_str().unwrap().starts_with("call_"),
        "{block}"
    );
    assert_eq!(block["input"], json!({"city": "Paris"}));
}

#[tokio::test]
async fn a_mid_stream_failure_is_lost_and_the_stream_just_ends() {
    let mock = mock().await;
    let reply = create(&mock, ask("llama3.2", "[error]", true)).await;
    assert!(reply.terminated, "a clean end, not a cut");
    let names: Vec<String> = events(&reply).into_iter().map(|(name, _)| name).collect();
    assert!(
        !names
            .iter()
            .any(|name| name == "error" || name == "message_stop"),
        "{names:?}"
    );
}

#[tokio::test]
async fn refusals_are_ollamas_words_in_the_envelope() {
    let mock = mock().await;
    let refused = |reply: &RawResponse, status: u16, kind: &str, message: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        let value = reply.json();
        assert_eq!(value["type"], "error");
        assert_eq!(value["error"], json!({"type": kind, "message": message}));
        assert!(value["request_id"].as_str().unwrap().starts_with("req_"));
    };
    let mut unlimited = ask("llama3.2", "hi", false);
    unlimited.as_object_mut().unwrap().remove("max_tokens");
    let reply = create(&mock, unlimited).await;
    refused(
        &reply,
        400,
        "invalid_request_error",
        "max_tokens is required and must be positive",
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(!reply.text().ends_with('\n'), "Gin's c.JSON");

    refused(
        &create(&mock, json!({"max_tokens": 8, "messages": []})).await,
        400,
        "invalid_request_error",
        "model is required",
    );
    refused(
        &create(&mock, ask("no-such-model", "hi", false)).await,
        404,
        "not_found_error",
        "model 'no-such-model' not found",
    );
    let overloaded = create(&mock, ask("llama3.2", "[429]", false)).await;
    assert_eq!(overloaded.status, 429);
    assert_eq!(overloaded.json()["error"]["type"], "rate_limit_error");
    let url_image = json!({"model": "llama3.2", "max_tokens": 8, "messages": [{"role": "user",
        "content": [{"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]});
    refused(
        &create(&mock, url_image).await,
        400,
        "invalid_request_error",
        "invalid image source type: url. Only base64 images are supported.",
    );
}

#[tokio::test]
async fn count_tokens_is_not_a_route_of_ollamas() {
    let mock = mock().await;
    let reply = raw_with_headers(
        mock.addr(),
        "POST",
        "/v1/messages/count_tokens",
        &[],
        &json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}).to_string(),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.text(), "404 page not found");
}

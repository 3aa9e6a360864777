//! `/v1/responses` in the `vllm` flavour writes what vLLM's server writes, as its source says
//! (`vllm/entrypoints/openai/responses/`; vLLM cannot run here, so these tests are the only
//! check): pydantic dumps with every field of each class in its order, the request echoed as
//! parsed (`schema_`, the sampled `max_output_tokens`), reasoning as `reasoning_text` inside
//! vLLM's own `reasoning_part` events, streamed ids that differ from the final response's, a
//! stream that always ends in `response.completed`, the store disabled, and a mid-stream failure
//! that drops the connection.
#![allow(clippy::unwrap_used)]

mod common;

use common::{RawResponse, THINKING_RULES, flavored_mock, keys, post, with_dialect_rules};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Vllm, &with_dialect_rules(THINKING_RULES)).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/responses", body).await
}

/// `<prefix>` + 32 hex digits (`random_uuid()`).
fn is_uuid_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 32 && rest.chars().all(|c| c.is_ascii_hexdigit()))
}

fn events(reply: &RawResponse) -> Vec<(String, Value)> {
    reply
        .named_events()
        .into_iter()
        .map(|(name, data)| (name, serde_json::from_str(&data).unwrap()))
        .collect()
}

const RESPONSE_FIELDS: [&str; 28] = [
    "id",
    "created_at",
    "incomplete_details",
    "instructions",
    "metadata",
    "model",
    "object",
    "output",
    "parallel_tool_calls",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
    "background",
    "max_output_tokens",
    "max_tool_calls",
    "previous_response_id",
    "prompt",
    "reasoning",
    "service_tier",
    "status",
    "text",
    "top_logprobs",
    "truncation",
    "usage",
    "user",
    "input_messages",
    "output_messages",
];

#[tokio::test]
async fn a_whole_response_is_a_pydantic_dump_echoing_the_request_as_parsed() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "think: 4 or 5?", "instructions": "Be brief.",
               "text": {"format": {"type": "json_schema", "name": "answer",
                                   "schema": {"type": "object"}}},
               "reasoning": {"effort": "low"}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let value = reply.json();
    assert_eq!(keys(&value), RESPONSE_FIELDS);
    assert!(is_uuid_id(value["id"].as_str().unwrap(), "resp_"));
    assert_eq!(value["status"], "completed");
    assert_eq!(value["instructions"], "Be brief.");
    assert_eq!(value["temperature"], json!(1.0));
    assert_eq!(value["service_tier"], "auto");
    assert_eq!(value["truncation"], "disabled");
    assert_eq!(value["top_logprobs"], Value::Null);
    let prompt = value["usage"]["input_tokens"].as_u64().unwrap();
    assert_eq!(
        value["max_output_tokens"],
        4096 - prompt,
        "the model's context less the prompt"
    );
    assert_eq!(
        value["text"],
        json!({"format": {"name": "answer", "schema_": {"type": "object"}, "type": "json_schema",
                          "description": null, "strict": null}, "verbosity": null}),
        "dumped without aliases"
    );
    assert_eq!(
        value["reasoning"],
        json!({"context": null, "effort": "low", "generate_summary": null, "mode": null,
               "summary": null})
    );

    let reasoning = &value["output"][0];
    assert_eq!(
        keys(reasoning),
        [
            "id",
            "summary",
            "type",
            "content",
            "encrypted_content",
            "status"
        ]
    );
    assert!(is_uuid_id(reasoning["id"].as_str().unwrap(), "rs_"));
    assert_eq!(
        reasoning["content"],
        json!([{"text": "Let me see.", "type": "reasoning_text"}])
    );
    assert_eq!(reasoning["status"], Value::Null);
    let message = &value["output"][1];
    assert!(is_uuid_id(message["id"].as_str().unwrap(), "msg_"));
    assert_eq!(
        keys(message),
        ["id", "content", "role", "status", "type", "phase"]
    );
    assert_eq!(
        message["content"],
        json!([{"annotations": [], "text": "4 < 5", "type": "output_text", "logprobs": null}])
    );
    assert_eq!(
        value["usage"]["output_tokens_details"],
        json!({"reasoning_tokens": 2, "tool_output_tokens": 0,
               "output_tokens_per_turn": [3], "tool_output_tokens_per_turn": [0]})
    );
    assert_eq!(
        value["usage"]["input_tokens_details"]["input_tokens_per_turn"],
        json!([prompt])
    );
}

#[tokio::test]
async fn a_tool_call_keeps_the_text_beside_it_and_names_the_tool_parsers_id() {
    let rules = r#"{"rules": [{"match": {"has_tools": true}, "reply": {"chunks": [
        {"content": "Checking."},
        {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}]}}]}"#;
    let mock = flavored_mock(Flavor::Vllm, rules).await;
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object"}}]);
    let value = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools,
               "tool_choice": {"type": "function", "name": "get_weather"}}),
    )
    .await
    .json();
    assert_eq!(
        value["tools"],
        json!([{"name": "get_weather", "parameters": {"type": "object"}, "strict": null,
                "type": "function", "allowed_callers": null, "defer_loading": null,
                "description": null, "output_schema": null}])
    );
    assert_eq!(
        value["tool_choice"],
        json!({"name": "get_weather", "type": "function"})
    );
    assert_eq!(value["output"][0]["type"], "message");
    let call = &value["output"][1];
    assert_eq!(
        keys(call),
        [
            "arguments",
            "call_id",
            "name",
            "type",
            "id",
            "caller",
            "namespace",
            "status"
        ]
    );
    assert!(is_uuid_id(call["id"].as_str().unwrap(), "fc_"));
    assert!(is_uuid_id(
        call["call_id"].as_str().unwrap(),
        "chatcmpl-tool-"
    ));
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
}

#[tokio::test]
async fn a_stream_writes_reasoning_parts_and_ids_the_final_response_does_not_share() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "think: 4 or 5?", "stream": true}),
    )
    .await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert!(!reply.text().contains("[DONE]"));
    let events = events(&reply);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_part.added",
            "response.reasoning_text.delta",
            "response.reasoning_text.delta",
            "response.reasoning_text.done",
            "response.reasoning_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (number, (name, event)) in events.iter().enumerate() {
        assert_eq!(event["type"], name.as_str());
        assert_eq!(event["sequence_number"], number);
        assert_eq!(keys(event).last(), Some(&"type"), "{name}");
    }
    assert_eq!(
        keys(&events[6].1),
        [
            "content_index",
            "item_id",
            "output_index",
            "sequence_number",
            "text",
            "type"
        ],
        "each class's fields in their declared order"
    );
    assert_eq!(keys(&events[0].1["response"]), RESPONSE_FIELDS);
    assert_eq!(events[0].1["response"]["status"], "in_progress");
    assert_eq!(events[0].1["response"]["usage"], Value::Null);
    assert_eq!(
        keys(&events[4].1),
        [
            "content_index",
            "delta",
            "item_id",
            "output_index",
            "sequence_number",
            "type"
        ]
    );
    let streamed_reasoning = events[2].1["item"]["id"].as_str().unwrap();
    assert!(
        is_uuid_id(streamed_reasoning, ""),
        "no prefix: {streamed_reasoning}"
    );
    assert_eq!(events[2].1["item"]["content"], Value::Null);
    assert_eq!(
        events[3].1["part"],
        json!({"text": "", "type": "reasoning_text"})
    );
    let message_done = &events[14].1["item"];
    assert_eq!(message_done["summary"], json!([]), "the stray extra field");
    assert_eq!(
        events[10].1["part"]["logprobs"],
        json!([]),
        "the added part has empty logprobs, the done one null"
    );
    assert_eq!(events[13].1["part"]["logprobs"], Value::Null);

    let completed = &events[15].1["response"];
    assert_eq!(completed["status"], "completed");
    let final_reasoning = completed["output"][0]["id"].as_str().unwrap();
    assert!(is_uuid_id(final_reasoning, "rs_"));
    assert_ne!(&final_reasoning[3..], streamed_reasoning);
    assert_eq!(completed["output"][1]["content"][0]["text"], "4 < 5");
}

#[tokio::test]
async fn a_streamed_tool_call_has_its_own_call_id_and_an_arguments_done() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "name": "get_weather"}]);
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools, "stream": true}),
    )
    .await;
    let events = events(&reply);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let added = &events[2].1["item"];
    assert_eq!(added["arguments"], "");
    assert_eq!(added["status"], "in_progress");
    assert_eq!(
        added["created_by"],
        Value::Null,
        "the …Item class's extra field"
    );
    assert!(is_uuid_id(added["call_id"].as_str().unwrap(), "call_"));
    assert_eq!(events[4].1["name"], "get_weather");
    assert_eq!(events[4].1["arguments"], r#"{"city":"Paris"}"#);
    let final_call = &events[6].1["response"]["output"][0];
    assert_ne!(final_call["call_id"], added["call_id"]);
    assert!(is_uuid_id(
        final_call["call_id"].as_str().unwrap(),
        "chatcmpl-tool-"
    ));
}

#[tokio::test]
async fn a_cut_response_is_incomplete_inside_response_completed() {
    let words = "word ".repeat(40);
    let rules = json!({"rules": [{"match": {"last_user_contains": "essay"},
        "reply": {"text": words.trim_end()}}]});
    let mock = flavored_mock(Flavor::Vllm, &rules.to_string()).await;
    let ask = json!({"model": "llama3.2", "input": "an essay", "max_output_tokens": 5,
                     "stream": true});
    let events = events(&create(&mock, ask).await);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "response.completed");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(last["response"]["max_output_tokens"], 5);
}

#[tokio::test]
async fn the_store_is_disabled_as_vllm_starts_by_default() {
    let mock = mock().await;
    let whole = create(
        &mock,
        json!({"model": "llama3.2", "input": "hello", "store": true}),
    )
    .await
    .json();
    let id = whole["id"].as_str().unwrap();
    let not_found = |id: &str| {
        json!({"error": {"message": format!("Response with id '{id}' not found."),
                         "type": "invalid_request_error", "param": "response_id", "code": 404}})
    };
    let retrieved = common::raw(mock.addr(), "GET", &format!("/v1/responses/{id}"), "").await;
    assert_eq!(retrieved.status, 404);
    assert_eq!(retrieved.json(), not_found(id));
    let continued = create(
        &mock,
        json!({"model": "llama3.2", "input": "and?", "previous_response_id": id}),
    )
    .await;
    assert_eq!(continued.status, 404);
    assert_eq!(continued.json(), not_found(id));
    let background = create(
        &mock,
        json!({"model": "llama3.2", "input": "hello", "background": true}),
    )
    .await;
    assert_eq!(background.status, 400);
    assert_eq!(background.json()["error"]["param"], "background");
    assert_eq!(background.json()["error"]["type"], "invalid_request_error");
    let deleted = common::raw(mock.addr(), "DELETE", &format!("/v1/responses/{id}"), "").await;
    assert_eq!(deleted.status, 405);
    assert_eq!(deleted.json(), json!({"detail": "Method Not Allowed"}));
    let items = common::raw(
        mock.addr(),
        "GET",
        &format!("/v1/responses/{id}/input_items"),
        "",
    )
    .await;
    assert_eq!(items.status, 404);
    assert_eq!(items.json(), json!({"detail": "Not Found"}));
    let cancelled = common::raw(
        mock.addr(),
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        "",
    )
    .await;
    assert_eq!(cancelled.json(), not_found(id));
}

#[tokio::test]
async fn a_mid_stream_failure_drops_the_connection() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "[error]", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(!reply.terminated, "aborted, not ended");
    let text = reply.text();
    assert!(!text.contains("response.completed"), "{text}");
    assert!(!text.contains("event: error"), "{text}");
}

#[tokio::test]
async fn refusals_are_vllms_bad_request_errors() {
    let mock = mock().await;
    for (body, param) in [
        (json!({"model": "llama3.2"}), json!("input")),
        (
            json!({"model": "llama3.2", "input": "hi", "prompt": {"id": "pmpt_1"}}),
            json!("prompt"),
        ),
        (
            json!({"model": "llama3.2", "input": "hi", "background": true, "store": false}),
            Value::Null,
        ),
    ] {
        let reply = create(&mock, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
        let error = &reply.json()["error"];
        assert_eq!(error["type"], "BadRequestError", "{body}");
        assert_eq!(error["code"], 400);
        assert_eq!(error["param"], param, "{body}");
    }
    let unknown = create(&mock, json!({"model": "nope", "input": "hi"})).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"]["message"],
        "The model `nope` does not exist."
    );
    let defaulted = create(&mock, json!({"input": "hello"})).await;
    assert_eq!(
        defaulted.status, 200,
        "vLLM serves its model when none is named"
    );
}

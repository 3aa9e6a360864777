//! `/v1/responses` in the `ollama` flavour is Ollama's Responses layer (`openai/responses.go`,
//! `middleware/openai.go` at fb30760), deviations included: stateless (`store` and
//! `previous_response_id` ignored, nothing to retrieve), always `completed`, no message item
//! beside function calls, Go struct order for whole bodies and sorted Go maps for stream
//! events, no reasoning summary part events, `resp_<n>` ids, a mid-stream failure lost, and its
//! decoder's words for bad input.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    RawResponse, THINKING_RULES, flavored_mock, keys, post, raw_with_headers, with_dialect_rules,
};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Ollama, &with_dialect_rules(THINKING_RULES)).await
}

async fn create(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/responses", body).await
}

/// `<prefix>_<decimal below 999999>`.
fn is_go_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|digits| digits.parse::<u32>().ok())
        .is_some_and(|n| n < 999_999)
}

/// Whether every object in `value` has its keys sorted, as Go writes a map.
fn sorted_everywhere(value: &Value) -> bool {
    match value {
        Value::Object(object) => {
            let keys: Vec<&String> = object.keys().collect();
            keys.windows(2).all(|pair| pair[0] < pair[1]) && object.values().all(sorted_everywhere)
        }
        Value::Array(items) => items.iter().all(sorted_everywhere),
        _ => true,
    }
}

#[tokio::test]
async fn a_whole_response_is_ollamas_struct_in_go_field_order() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "qwen3:0.6b", "input": "think: 4 or 5?", "instructions": "Be brief."}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let text = reply.text();
    assert!(text.ends_with("}\n"), "json.Encoder's newline");
    assert!(text.contains(r#""text":"4 \u003c 5""#), "Go escapes <");
    assert!(
        text.contains(r#""top_p":1,"presence_penalty":0,"frequency_penalty":0,"top_logprobs":0,"temperature":1,"#),
        "Go writes whole floats without a fraction: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        keys(&value),
        [
            "id",
            "object",
            "created_at",
            "completed_at",
            "status",
            "incomplete_details",
            "model",
            "previous_response_id",
            "instructions",
            "output",
            "error",
            "tools",
            "tool_choice",
            "truncation",
            "parallel_tool_calls",
            "text",
            "top_p",
            "presence_penalty",
            "frequency_penalty",
            "top_logprobs",
            "temperature",
            "reasoning",
            "usage",
            "max_output_tokens",
            "max_tool_calls",
            "store",
            "background",
            "service_tier",
            "metadata",
            "safety_identifier",
            "prompt_cache_key"
        ]
    );
    let id = value["id"].as_str().unwrap();
    assert!(is_go_id(id, "resp"), "{id}");
    assert_eq!(value["status"], "completed");
    assert_eq!(value["instructions"], "Be brief.");
    assert_eq!(value["store"], false);
    assert_eq!(value["tool_choice"], "auto");
    assert_eq!(value["text"], json!({"format": {"type": "text"}}));
    assert_eq!(value["completed_at"], value["created_at"]);
    assert_eq!(
        value["output"][0],
        json!({"id": format!("rs_{id}"), "type": "reasoning",
               "summary": [{"type": "summary_text", "text": "Let me see."}],
               "encrypted_content": "Let me see."}),
        "the raw thinking rides as encrypted_content"
    );
    let message = &value["output"][1];
    assert!(is_go_id(message["id"].as_str().unwrap(), "msg"));
    assert_eq!(
        message["content"],
        json!([{"type": "output_text", "text": "4 < 5", "annotations": [], "logprobs": []}])
    );
    let usage = &value["usage"];
    assert_eq!(
        keys(usage),
        [
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "input_tokens_details",
            "output_tokens_details"
        ]
    );
    assert_eq!(
        usage["total_tokens"],
        usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn a_stream_is_sorted_go_maps_with_no_summary_part_events() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "qwen3:0.6b", "input": "think: 4 or 5?", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let events = reply.named_events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
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
    let data: Vec<Value> = events
        .iter()
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    for (number, (event, (name, _))) in data.iter().zip(&events).enumerate() {
        assert_eq!(event["type"], name.as_str());
        assert_eq!(event["sequence_number"], number);
        assert!(sorted_everywhere(event), "a Go map: {event}");
    }
    let reasoning_id = data[2]["item"]["id"].as_str().unwrap();
    assert!(is_go_id(reasoning_id, "rs"), "drawn anew: {reasoning_id}");
    assert_eq!(
        data[2]["item"],
        json!({"id": reasoning_id, "summary": [], "type": "reasoning"})
    );
    assert_eq!(
        events[8].1,
        format!(
            r#"{{"content_index":0,"item_id":"{}","output_index":1,"part":{{"annotations":[],"logprobs":[],"text":"","type":"output_text"}},"sequence_number":8,"type":"response.content_part.added"}}"#,
            data[7]["item"]["id"].as_str().unwrap()
        )
    );
    let completed = &data[13]["response"];
    assert_eq!(completed["status"], "completed");
    assert!(completed["completed_at"].is_i64());
    assert_eq!(completed["output"][0]["encrypted_content"], "Let me see.");
    assert_eq!(completed["output"][1]["content"][0]["text"], "4 < 5");
    assert_eq!(data[0]["response"]["usage"], Value::Null);
}

#[tokio::test]
async fn a_tool_call_replaces_the_message_whole_and_streamed() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let whole = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools}),
    )
    .await
    .json();
    let id = whole["id"].as_str().unwrap();
    assert_eq!(whole["output"].as_array().unwrap().len(), 1, "{whole}");
    let call = &whole["output"][0];
    assert_eq!(call["id"], format!("fc_{id}_0"));
    assert_eq!(call["status"], "completed");
    assert!(call["call_id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(
        whole["tools"],
        json!([{"type": "function", "name": "get_weather", "description": null, "strict": null,
                "parameters": {"properties": {"city": {"type": "string"}}, "type": "object"}}]),
        "echoed as ResponsesTool structs, the parameters a sorted Go map"
    );

    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "weather?", "tools": tools, "stream": true}),
    )
    .await;
    let events = reply.named_events();
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
    let added: Value = serde_json::from_str(&events[2].1).unwrap();
    assert_eq!(added["item"]["status"], "in_progress");
    assert_eq!(added["item"]["arguments"], "");
    let item_id = added["item"]["id"].as_str().unwrap();
    assert!(
        item_id.starts_with("fc_") && item_id.ends_with("_0"),
        "{item_id}"
    );
    let done: Value = serde_json::from_str(&events[4].1).unwrap();
    assert_eq!(
        keys(&done),
        [
            "arguments",
            "item_id",
            "output_index",
            "sequence_number",
            "type"
        ],
        "no name on arguments.done"
    );
}

#[tokio::test]
async fn it_is_stateless_and_always_completed() {
    let mock = mock().await;
    let cut = create(
        &mock,
        json!({"model": "llama3.2", "input": "hello", "max_output_tokens": 2, "store": true,
               "previous_response_id": "resp_1"}),
    )
    .await;
    assert_eq!(
        cut.status,
        200,
        "no minimum and no store to look in: {}",
        cut.text()
    );
    let value = cut.json();
    assert_eq!(
        value["status"], "completed",
        "a cut reply is still completed"
    );
    assert_eq!(value["incomplete_details"], Value::Null);
    assert_eq!(value["max_output_tokens"], 2);
    assert_eq!(value["previous_response_id"], Value::Null);
    assert_eq!(value["store"], false);
    assert_eq!(value["usage"]["output_tokens"], 2);

    let id = value["id"].as_str().unwrap();
    let retrieved =
        raw_with_headers(mock.addr(), "GET", &format!("/v1/responses/{id}"), &[], "").await;
    assert_eq!(retrieved.status, 404);
    assert_eq!(retrieved.text(), "404 page not found");
}

#[tokio::test]
async fn only_a_json_schema_format_constrains_the_output() {
    let mock = mock().await;
    let schema = json!({"type": "object", "properties": {"answer": {"type": "integer"}},
                        "required": ["answer"]});
    let constrained = create(
        &mock,
        json!({"model": "llama3.2", "input": "How many moons?",
               "text": {"format": {"type": "json_schema", "name": "moons", "schema": schema}}}),
    )
    .await
    .json();
    let text = constrained["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    let answer: Value = serde_json::from_str(text).unwrap();
    assert!(answer["answer"].is_i64(), "{answer}");
    assert_eq!(
        constrained["text"]["format"],
        json!({"type": "json_schema", "name": "moons", "schema": schema})
    );

    let unconstrained = create(
        &mock,
        json!({"model": "llama3.2", "input": "How many moons?",
               "text": {"format": {"type": "json_object"}}}),
    )
    .await
    .json();
    let text = unconstrained["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        serde_json::from_str::<Value>(text).is_err(),
        "json_object is dropped: {text}"
    );
}

#[tokio::test]
async fn a_mid_stream_failure_is_lost_and_the_stream_just_ends() {
    let mock = mock().await;
    let reply = create(
        &mock,
        json!({"model": "llama3.2", "input": "[error]", "stream": true}),
    )
    .await;
    assert!(reply.terminated, "a clean end, not a cut");
    let names: Vec<String> = reply.named_events().into_iter().map(|(n, _)| n).collect();
    assert!(
        names
            .iter()
            .any(|name| name == "response.output_text.delta")
    );
    assert!(
        !names
            .iter()
            .any(|name| name == "error" || name == "response.completed"),
        "{names:?}"
    );
}

#[tokio::test]
async fn bad_input_gets_the_decoders_words_in_openais_envelope() {
    let mock = mock().await;
    let refused = |reply: &RawResponse, status: u16, kind: &str, message: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(
            reply.json(),
            json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
        );
    };
    let cases = [
        (
            json!({"model": "llama3.2", "input": 5}),
            "input must be a string or array: json: cannot unmarshal number into Go value of type []json.RawMessage",
        ),
        (
            json!({"model": "llama3.2", "input": [{"type": "note"}]}),
            r#"input[0]: unknown input item type: "note""#,
        ),
        (
            json!({"model": "llama3.2", "input": [{"content": "hi"}]}),
            "input[0]: input item missing required 'type' field",
        ),
        (
            json!({"model": "llama3.2", "input": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
            "input[0]: content[0]: unknown content type: input_audio",
        ),
        (
            json!({"model": "llama3.2", "input": [{"role": "user", "content": [
                {"type": "input_file", "file_id": "file-1"}]}]}),
            "file inputs are not currently supported",
        ),
        (
            json!({"model": "llama3.2", "input": [{"type": "function_call", "call_id": "c",
                   "name": "f", "arguments": "{\"a\":"}]}),
            "failed to parse function call arguments: unexpected EOF",
        ),
        (
            json!({"model": "llama3.2", "input": "hi", "reasoning": {"effort": "huge"}}),
            r#"invalid reasoning value: "huge" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")"#,
        ),
    ];
    for (body, message) in cases {
        refused(
            &create(&mock, body).await,
            400,
            "invalid_request_error",
            message,
        );
    }
    let unknown = create(&mock, json!({"model": "no-such-model", "input": "hi"})).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(unknown.json()["error"]["type"], "not_found_error");
}

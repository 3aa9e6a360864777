//! `/v1` in the `llama-cpp-python` flavour writes what llama-cpp-python's server writes
//! (`llama_cpp/server/app.py`, `errors.py`, `types.py`; `llama_cpp/llama_chat_format.py`). The
//! conformance runner's verdicts on it match the real server's check for check
//! (`conformance/third-party/run.sh` compares them in CI).
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, chat, flavored_mock, post_chat, raw};
use mock_ollama::Flavor;
use serde_json::{Value, json};

async fn mock() -> mock_ollama::MockOllama {
    flavored_mock(Flavor::LlamaCppPython, DIALECT_RULES).await
}

#[tokio::test]
async fn stream_events_are_pythons_json_dumps_and_there_is_never_a_usage_chunk() {
    let mock = mock().await;
    let reply = post_chat(
        &mock,
        chat(
            "llama3.2",
            "héllo",
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ),
    )
    .await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let data = reply.sse_data();
    assert!(
        data[1].contains(r#""delta": {"content": "H\u00e9llo"}"#),
        "{}",
        data[1]
    );
    let events = reply.sse_json();
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant"})
    );
    assert!(events[0]["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(
        events[0]["id"].as_str().unwrap().len(),
        "chatcmpl-".len() + 36
    );
    assert!(events.iter().all(|e| e.get("system_fingerprint").is_none()));
    assert!(events.iter().all(|e| e.get("usage").is_none()));
    let last = events.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn every_tool_call_fragment_repeats_the_id_beside_a_legacy_function_call() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let events = post_chat(
        &mock,
        chat(
            "llama3.2",
            "weather?",
            json!({"stream": true, "tools": tools.clone()}),
        ),
    )
    .await
    .sse_json();
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": null, "function_call": null, "tool_calls": null})
    );
    let fragments: Vec<&Value> = events[1..3]
        .iter()
        .map(|e| &e["choices"][0]["delta"]["tool_calls"][0])
        .collect();
    let id = fragments[0]["id"].as_str().unwrap();
    assert!(id.starts_with("call__0_get_weather_cmpl-"), "{id}");
    assert_eq!(fragments[1]["id"], id);
    let arguments: String = fragments
        .iter()
        .map(|f| f["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(arguments, r#"{"city":"Paris"}"#);
    assert_eq!(
        events[1]["choices"][0]["delta"]["function_call"]["name"],
        "get_weather"
    );
    assert_eq!(events[3]["choices"][0]["finish_reason"], "tool_calls");

    let whole = post_chat(&mock, chat("llama3.2", "weather?", json!({"tools": tools})))
        .await
        .json();
    let message = &whole["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(message["function_call"]["name"], "get_weather");
    assert_eq!(message.get("refusal"), None);
    assert_eq!(whole["choices"][0]["logprobs"], Value::Null);
}

#[tokio::test]
async fn a_mid_stream_failure_cuts_the_connection() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "[error]", json!({"stream": true}))).await;
    assert!(!reply.terminated);
    assert!(!reply.text().contains("[DONE]"));
    assert!(!reply.text().contains("error"));
}

#[tokio::test]
async fn unknown_models_are_served_and_pydantic_refusals_are_500s() {
    let mock = mock().await;
    let unknown = post_chat(
        &mock,
        json!({"model": "no-such-model", "messages": [{"role": "user", "content": "hello"}]}),
    )
    .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json()["model"], "no-such-model");
    for body in [
        json!({"messages": [{"role": "developer", "content": "x"}]}),
        json!({"messages": [{"role": "assistant", "content": null, "tool_calls": []}]}),
        json!({"messages": [{"role": "tool", "content": "x"}]}),
        json!({"messages": [{"role": "user", "content": "x"}], "top_p": 2}),
    ] {
        let refused = post_chat(&mock, body.clone()).await;
        assert_eq!(refused.status, 500, "{body}");
        assert_eq!(refused.json()["error"]["type"], "internal_server_error");
    }
    let malformed = raw(mock.addr(), "POST", "/v1/chat/completions", "{oops").await;
    assert_eq!(malformed.status, 500);
    assert_eq!(malformed.text(), "Internal Server Error");
    let lenient = post_chat(
        &mock,
        json!({"messages": [{"role": "user", "content": "hello"}], "temperature": 9, "n": 0}),
    )
    .await;
    assert_eq!(lenient.status, 200);
}

#[tokio::test]
async fn models_have_no_created_and_no_retrieve_route() {
    let mock = mock().await;
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    assert_eq!(
        list["data"][0],
        json!({"id": "llama3.2", "object": "model", "owned_by": "me", "permissions": []})
    );
    for path in ["/v1/models/llama3.2", "/v1/nothing"] {
        let missing = raw(mock.addr(), "GET", path, "").await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.text(), r#"{"detail":"Not Found"}"#);
    }
}

#[tokio::test]
async fn a_json_schema_response_format_is_pydantics_literal_error() {
    let mock = mock().await;
    let body = chat(
        "llama3.2",
        "hello",
        json!({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}}),
    );
    let reply = post_chat(&mock, body).await;
    assert_eq!(reply.status, 500);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'"),
        "{message}"
    );
}

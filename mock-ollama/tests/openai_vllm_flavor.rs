//! `/v1` in the `vllm` flavour writes what vLLM's OpenAI server writes, as its source
//! (`vllm/entrypoints/openai/`) says: vLLM cannot run here, so these tests are the only check.
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, chat, flavored_mock, post, post_chat, raw};
use mock_ollama::Flavor;
use serde_json::{Value, json};

async fn mock() -> mock_ollama::MockOllama {
    flavored_mock(Flavor::Vllm, DIALECT_RULES).await
}

#[tokio::test]
async fn a_whole_reply_carries_vllms_null_fields_and_usage_details() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "hello", json!({})))
        .await
        .json();
    let id = reply["id"].as_str().unwrap();
    assert_eq!(id.len(), "chatcmpl-".len() + 32, "{id}");
    let message = &reply["choices"][0]["message"];
    for key in [
        "refusal",
        "annotations",
        "audio",
        "function_call",
        "reasoning",
    ] {
        assert_eq!(message[key], Value::Null, "{key}");
        assert!(message.get(key).is_some(), "{key} present");
    }
    assert_eq!(reply["usage"]["prompt_tokens_details"], Value::Null);
    for key in [
        "service_tier",
        "system_fingerprint",
        "prompt_logprobs",
        "kv_transfer_params",
    ] {
        assert!(reply.get(key).is_some_and(Value::is_null), "{key}");
    }
}

#[tokio::test]
async fn a_stream_opens_with_the_role_and_finishes_with_stop_reason() {
    let mock = mock().await;
    let events = post_chat(
        &mock,
        chat(
            "llama3.2",
            "hello",
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ),
    )
    .await
    .sse_json();
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let finish = &events[events.len() - 2]["choices"][0];
    assert_eq!(finish["delta"], json!({"content": ""}));
    assert_eq!(finish["finish_reason"], "stop");
    assert!(finish.get("stop_reason").is_some_and(Value::is_null));
    let usage = events.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
    );
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|e| e.get("usage").is_none())
    );
}

#[tokio::test]
async fn a_streamed_tool_call_names_itself_first_then_sends_its_arguments() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let events = post_chat(
        &mock,
        chat(
            "llama3.2",
            "weather?",
            json!({"stream": true, "tools": tools}),
        ),
    )
    .await
    .sse_json();
    let opening = &events[1]["choices"][0]["delta"]["tool_calls"][0];
    assert!(
        opening["id"]
            .as_str()
            .unwrap()
            .starts_with("chatcmpl-tool-")
    );
    assert_eq!(opening["function"], json!({"name": "get_weather"}));
    assert_eq!(
        events[2]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}})
    );
    assert_eq!(events[3]["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn a_failure_after_the_first_byte_is_an_error_event_then_done() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "[error]", json!({"stream": true}))).await;
    let data = reply.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let error: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert_eq!(
        error,
        json!({"error": {"message": "engine died", "type": "InternalServerError", "param": null, "code": 500}})
    );
}

#[tokio::test]
async fn refusals_have_class_names_and_integer_codes() {
    let mock = mock().await;
    let unknown = post_chat(&mock, chat("no-such-model", "hi", json!({}))).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"error": {"message": "The model `no-such-model` does not exist.", "type": "NotFoundError", "param": "model", "code": 404}})
    );
    for (extra, message) in [
        (json!({"top_p": 0}), "top_p must be in (0, 1], got 0."),
        (json!({"n": 0}), "n must be at least 1, got 0."),
        (
            json!({"temperature": -1}),
            "temperature must be non-negative, got -1.",
        ),
    ] {
        let refused = post_chat(&mock, chat("llama3.2", "hi", extra.clone())).await;
        assert_eq!(refused.status, 400, "{extra}");
        let error = &refused.json()["error"];
        assert_eq!(error["message"], message);
        assert_eq!(error["type"], "BadRequestError");
        assert_eq!(error["code"], 400);
    }
    // A missing model is served by the default one; a high temperature passes.
    let lenient = post_chat(
        &mock,
        json!({"messages": [{"role": "user", "content": "hello"}], "temperature": 3}),
    )
    .await;
    assert_eq!(lenient.status, 200);
    assert_eq!(lenient.json()["model"], "llama3.2:latest");
}

#[tokio::test]
async fn models_are_model_cards_and_have_no_retrieve_route() {
    let mock = mock().await;
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    let card = &list["data"][0];
    assert_eq!(card["id"], "llama3.2");
    assert_eq!(card["owned_by"], "vllm");
    assert_eq!(card["root"], "llama3.2");
    assert_eq!(card["max_model_len"], 4096);
    assert_eq!(card["permission"][0]["object"], "model_permission");
    let missing = raw(mock.addr(), "GET", "/v1/models/llama3.2", "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), r#"{"detail":"Not Found"}"#);
}

#[tokio::test]
async fn completions_without_a_model_are_served_by_the_default_one() {
    let mock = mock().await;
    let reply = post(mock.addr(), "/v1/completions", json!({"prompt": "hello"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["model"], "llama3.2:latest");
    assert_eq!(body["choices"][0]["text"], "Hi there, friend.");
    assert_eq!(body["choices"][0]["logprobs"], Value::Null);
}

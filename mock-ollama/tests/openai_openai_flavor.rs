//! `/v1` in the `openai` flavour is exactly OpenAI's dialect: every body parses as the strict wire
//! types, tool calls stream as fragments, failures after the first byte are error events, and
//! invalid requests are refused with the parameter named. (The conformance runner's strict
//! profile over this flavour is `conformance/tests/mock_flavors.rs`.)
#![allow(clippy::unwrap_used)]

mod common;

use common::{DIALECT_RULES, chat, flavored_mock, post_chat, raw};
use mock_ollama::Flavor;
use serde_json::{Value, json};
use wire::openai::{ChatCompletion, ChatCompletionChunk, ErrorEnvelope};

async fn mock() -> mock_ollama::MockOllama {
    flavored_mock(Flavor::Openai, DIALECT_RULES).await
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
}

/// Parses as the strict type and serializes back to the same JSON value: no key is missing,
/// none is extra. (serde reads `"usage": null` as an absent usage, so that key is compared in
/// the tests that care about it.)
fn strict<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).unwrap();
    let mut expected = value.clone();
    if expected.get("usage") == Some(&Value::Null) {
        expected.as_object_mut().unwrap().remove("usage");
    }
    assert_eq!(serde_json::to_value(&typed).unwrap(), expected);
    typed
}

#[tokio::test]
async fn whole_replies_are_the_strict_chat_completion_with_null_content_beside_tool_calls() {
    let mock = mock().await;
    let text = post_chat(&mock, chat("llama3.2", "hello", json!({}))).await;
    assert_eq!(text.header("content-type"), Some("application/json"));
    let completion: ChatCompletion = strict(&text.json());
    assert_eq!(completion.id.len(), "chatcmpl-".len() + 24);
    assert_eq!(
        completion.choices[0].message.content.as_deref(),
        Some("Hi there, friend.")
    );
    let called = post_chat(
        &mock,
        chat("llama3.2", "weather?", json!({"tools": tools()})),
    )
    .await
    .json();
    let completion: ChatCompletion = strict(&called);
    let choice = &completion.choices[0];
    assert_eq!(choice.message.content, None);
    assert_eq!(
        choice.message.tool_calls[0].function.arguments,
        r#"{"city":"Paris"}"#
    );
    assert_eq!(
        serde_json::to_value(choice.finish_reason).unwrap(),
        "tool_calls"
    );
}

#[tokio::test]
async fn streams_open_with_the_role_carry_null_usage_until_the_usage_chunk_and_end_with_done() {
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
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(reply.sse_data().last().map(String::as_str), Some("[DONE]"));
    let events = reply.sse_json();
    let chunks: Vec<ChatCompletionChunk> = events.iter().map(strict).collect();
    assert_eq!(
        chunks[0].choices[0].delta.role.as_deref(),
        Some("assistant")
    );
    assert_eq!(chunks[0].choices[0].delta.content.as_deref(), Some(""));
    let text: String = chunks
        .iter()
        .flat_map(|c| {
            c.choices
                .iter()
                .filter_map(|choice| choice.delta.content.clone())
        })
        .collect();
    assert_eq!(text, "Hi there, friend.");
    let (usage_chunk, rest) = chunks.split_last().unwrap();
    assert!(usage_chunk.choices.is_empty());
    assert_eq!(usage_chunk.usage.unwrap().unwrap().total_tokens, 8);
    assert!(rest.iter().all(|c| c.usage.is_none()));
    let (_, before_usage) = events.split_last().unwrap();
    assert!(
        before_usage
            .iter()
            .all(|e| e["usage"] == Value::Null && e.get("usage").is_some())
    );
}

#[tokio::test]
async fn streamed_tool_calls_send_the_id_and_name_once_then_the_arguments() {
    let mock = mock().await;
    let reply = post_chat(
        &mock,
        chat(
            "llama3.2",
            "weather?",
            json!({"stream": true, "tools": tools()}),
        ),
    )
    .await;
    let chunks: Vec<ChatCompletionChunk> = reply.sse_json().iter().map(strict).collect();
    let fragments: Vec<_> = chunks
        .iter()
        .flat_map(|c| c.choices[0].delta.tool_calls.clone())
        .collect();
    assert_eq!(fragments.len(), 2);
    assert!(fragments[0].id.as_deref().unwrap().starts_with("call_"));
    assert_eq!(fragments[0].function.name.as_deref(), Some("get_weather"));
    assert_eq!(fragments[0].function.arguments.as_deref(), Some(""));
    assert_eq!(fragments[1].id, None);
    assert_eq!(fragments[1].index, 0);
    assert_eq!(
        fragments[1].function.arguments.as_deref(),
        Some(r#"{"city":"Paris"}"#)
    );
    let last = &chunks.last().unwrap().choices[0];
    assert_eq!(
        serde_json::to_value(last.finish_reason).unwrap(),
        "tool_calls"
    );
}

#[tokio::test]
async fn a_failure_after_the_first_byte_is_one_error_event_and_no_done() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "[error]", json!({"stream": true}))).await;
    let data = reply.sse_data();
    assert!(!data.contains(&"[DONE]".to_owned()));
    let error: ErrorEnvelope = serde_json::from_str(data.last().unwrap()).unwrap();
    assert_eq!(error.error.message, "engine died");
    assert_eq!(error.error.kind, "server_error");
}

#[tokio::test]
async fn refusals_are_openai_error_objects_with_param_code_and_retry_after() {
    let mock = mock().await;
    let cases = [
        (
            chat("llama3.2", "hi", json!({"temperature": 3})),
            400,
            Some("temperature"),
            None,
        ),
        (
            json!({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}),
            404,
            Some("model"),
            Some("model_not_found"),
        ),
        (
            chat("llama3.2", "[429]", json!({})),
            429,
            None,
            Some("rate_limit_exceeded"),
        ),
    ];
    for (body, status, param, code) in cases {
        let reply = post_chat(&mock, body.clone()).await;
        assert_eq!(reply.status, status, "{body}");
        let error: ErrorEnvelope = serde_json::from_value(reply.json()).unwrap();
        assert_eq!(error.error.param.as_deref(), param, "{body}");
        assert_eq!(error.error.code.as_deref(), code, "{body}");
    }
    let busy = post_chat(&mock, chat("llama3.2", "[429]", json!({}))).await;
    assert_eq!(busy.header("retry-after"), Some("2"));
    let unknown_route = raw(mock.addr(), "GET", "/v1/nothing", "").await;
    assert_eq!(unknown_route.status, 404);
    assert_eq!(unknown_route.json()["error"]["code"], "unknown_url");
}

#[tokio::test]
async fn n_choices_and_max_completion_tokens_are_honoured() {
    let mock = mock().await;
    let reply = post_chat(
        &mock,
        chat(
            "llama3.2",
            "hello",
            json!({"n": 2, "max_completion_tokens": 1}),
        ),
    )
    .await;
    let completion: ChatCompletion = strict(&reply.json());
    assert_eq!(completion.choices.len(), 2);
    assert_eq!(completion.choices[1].index, 1);
    assert_eq!(completion.choices[0].message.content.as_deref(), Some("Hi"));
    assert_eq!(
        serde_json::to_value(completion.choices[0].finish_reason).unwrap(),
        "length"
    );
}

#[tokio::test]
async fn models_are_listed_by_the_names_clients_send_and_a_scenario_can_pick_the_flavor() {
    let mock = mock().await;
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    assert_eq!(list["data"][0]["id"], "llama3.2");
    let mut ollama = mock_ollama::Scenario::builtin();
    ollama.flavor = Some(Flavor::Ollama);
    mock.set_scenario(ollama);
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    assert_eq!(list["data"][0]["id"], "llama3.2:latest");
}

#[tokio::test]
async fn a_model_is_retrieved_only_by_the_id_the_list_gives_it() {
    let mock = mock().await;
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    let listed: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["id"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&"llama3.2"), "{listed:?}");
    let found = raw(mock.addr(), "GET", "/v1/models/llama3.2", "").await;
    assert_eq!(found.status, 200);
    assert_eq!(found.json()["id"], "llama3.2");
    for alias in ["llama3.2:latest", "LLAMA3.2"] {
        let missing = raw(mock.addr(), "GET", &format!("/v1/models/{alias}"), "").await;
        assert_eq!(missing.status, 404, "{alias}");
        let envelope: ErrorEnvelope = serde_json::from_value(missing.json()).unwrap();
        assert_eq!(
            envelope.error.code.as_deref(),
            Some("model_not_found"),
            "{alias}"
        );
    }
}

#[tokio::test]
async fn tool_choice_none_keeps_the_model_from_calling_in_the_servers_that_honour_it() {
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
                        "parameters": {"type": "object"}}}]);
    for (flavor, calls) in [
        (Flavor::Openai, false),
        (Flavor::Llamacpp, false),
        (Flavor::Vllm, false),
        (Flavor::LlamaCppPython, false),
        // Ollama's layer drops `tool_choice` (a TODO in its source).
        (Flavor::Ollama, true),
    ] {
        let mock = flavored_mock(flavor, DIALECT_RULES).await;
        let body = chat(
            "llama3.2",
            "weather?",
            json!({"tools": tools, "tool_choice": "none"}),
        );
        let reply = post_chat(&mock, body).await.json();
        let message = &reply["choices"][0]["message"];
        let called = message["tool_calls"]
            .as_array()
            .is_some_and(|calls| !calls.is_empty());
        assert_eq!(called, calls, "{flavor}: {reply}");
    }
}

#[tokio::test]
async fn a_stop_sequence_cuts_whole_and_streamed_replies_alike() {
    let rules = r#"{"rules": [{"match": {"last_user_contains": "count"},
        "reply": {"text": "1 2 3 4 5 6 7 8 9 10"}}]}"#;
    let mock = flavored_mock(Flavor::Openai, rules).await;
    let body = chat("llama3.2", "count to ten", json!({"stop": ["5"]}));
    let whole = post_chat(&mock, body.clone()).await.json();
    assert_eq!(whole["choices"][0]["message"]["content"], "1 2 3 4 ");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    let mut streamed = body;
    streamed["stream"] = json!(true);
    let text: String = post_chat(&mock, streamed)
        .await
        .sse_json()
        .iter()
        .filter_map(|chunk| {
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "1 2 3 4 ");
}

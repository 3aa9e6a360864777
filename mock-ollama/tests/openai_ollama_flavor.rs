//! `/v1` in the `ollama` flavour reproduces Ollama's own OpenAI layer byte for byte: the cases of
//! Ollama's `openai/openai_test.go` and `middleware/openai_test.go` (../shared/reference/
//! ollama-wire.md §5.6), its error objects, and every fault kind written in SSE.
#![allow(clippy::unwrap_used)]

mod common;

use common::{RawResponse, builtin_mock, chat, flavored_mock, post, post_chat, raw};
use mock_ollama::Flavor;
use serde_json::{Value, json};

const SCRIPT: &str = r#"{"rules": [
  {"name": "hello", "match": {"last_user_contains": "hello"}, "reply": {"text": "Hi there, friend."}},
  {"name": "think", "match": {"model": "qwen3:0.6b", "last_user_contains": "17"},
   "reply": {"chunks": [{"thinking": "17 * 23 = 391.", "content": "391."}]}},
  {"name": "weather", "match": {"has_tools": true}, "reply": {"chunks": [
     {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris", "note": "<&>"}}}]}]}},
  {"name": "empty", "match": {"last_user_contains": "[empty]"}, "reply": {}},
  {"name": "error", "match": {"last_user_contains": "[error]"}, "reply": {"text": "one two three"},
   "faults": [{"kind": "error_line", "after": 2, "message": "runner died"}]},
  {"name": "busy", "match": {"last_user_contains": "[429]"},
   "faults": [{"kind": "http_error", "status": 429, "message": "too many requests", "retry_after": "2"}]},
  {"name": "eof", "match": {"last_user_contains": "[eof]"}, "reply": {"text": "one two three"},
   "faults": [{"kind": "disconnect", "after": 1}]},
  {"name": "cut", "match": {"last_user_contains": "[cut]"}, "reply": {"text": "one two three"},
   "faults": [{"kind": "truncated_line", "after": 1}]},
  {"name": "garbled", "match": {"last_user_contains": "[garbled]"}, "reply": {"text": "one two"},
   "faults": [{"kind": "malformed_line", "after": 1}]},
  {"name": "drip", "match": {"last_user_contains": "[drip]"}, "reply": {"text": "one"},
   "faults": [{"kind": "drip", "byte_delay_ms": 0}]}
]}"#;

async fn mock() -> mock_ollama::MockOllama {
    flavored_mock(Flavor::Ollama, SCRIPT).await
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
}

async fn stream(mock: &mock_ollama::MockOllama, body: Value) -> RawResponse {
    let mut body = body;
    body["stream"] = json!(true);
    post_chat(mock, body).await
}

#[tokio::test]
async fn a_whole_reply_is_ollamas_chat_completion_object_with_a_trailing_newline() {
    let mock = mock().await;
    let reply = post_chat(&mock, chat("llama3.2", "hello", json!({}))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let text = reply.text();
    assert!(text.ends_with("}}\n"), "{text}");
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let number: u32 = id.strip_prefix("chatcmpl-").unwrap().parse().unwrap();
    assert!(number < 999, "{id}");
    assert_eq!(
        text,
        format!(
            "{{\"id\":\"{id}\",\"object\":\"chat.completion\",\"created\":1767225600,\"model\":\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"Hi there, friend.\"}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}}}\n"
        )
    );
}

#[tokio::test]
async fn one_scenario_gives_the_same_text_tokens_and_calls_in_both_dialects() {
    let mock = mock().await;
    for (model, prompt, extra) in [
        ("llama3.2", "hello", json!({})),
        ("llama3.2", "an unscripted question", json!({})),
        (
            "qwen3:0.6b",
            "unscripted, so generated with thinking",
            json!({}),
        ),
        (
            "llama3.2",
            "what is the weather?",
            json!({"tools": tools()}),
        ),
    ] {
        let mut native_body = chat(model, prompt, extra.clone());
        native_body["stream"] = json!(false);
        let native = post(mock.addr(), "/api/chat", native_body).await.json();
        let openai = post_chat(&mock, chat(model, prompt, extra)).await.json();
        let message = &openai["choices"][0]["message"];
        assert_eq!(message["content"], native["message"]["content"], "{prompt}");
        assert_eq!(
            message["reasoning"].as_str().unwrap_or(""),
            native["message"]["thinking"].as_str().unwrap_or(""),
            "{prompt}"
        );
        assert_eq!(
            openai["usage"]["prompt_tokens"], native["prompt_eval_count"],
            "{prompt}"
        );
        assert_eq!(
            openai["usage"]["completion_tokens"], native["eval_count"],
            "{prompt}"
        );
        let native_calls = native["message"]["tool_calls"].as_array().cloned();
        let calls = message["tool_calls"].as_array().cloned();
        assert_eq!(calls.is_some(), native_calls.is_some(), "{prompt}");
        for (call, native_call) in calls.iter().flatten().zip(native_calls.iter().flatten()) {
            assert_eq!(call["id"], native_call["id"]);
            assert_eq!(call["function"]["name"], native_call["function"]["name"]);
            let arguments: Value =
                serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
            assert_eq!(arguments, native_call["function"]["arguments"]);
        }
    }
}

#[tokio::test]
async fn a_stream_has_the_role_first_then_a_finish_chunk_the_usage_chunk_and_done() {
    let mock = mock().await;
    let reply = stream(
        &mock,
        chat(
            "llama3.2",
            "hello",
            json!({"stream_options": {"include_usage": true}}),
        ),
    )
    .await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let data = reply.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let events = reply.sse_json();
    let deltas: Vec<&Value> = events
        .iter()
        .filter_map(|e| e["choices"].get(0).map(|c| &c["delta"]))
        .collect();
    assert_eq!(
        deltas,
        [
            &json!({"role": "assistant", "content": "Hi"}),
            &json!({"content": " there,"}),
            &json!({"content": " friend."}),
            &json!({}),
        ]
    );
    let finish = &events[3];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert!(
        events[..3]
            .iter()
            .all(|e| e["choices"][0]["finish_reason"].is_null())
    );
    let usage = &events[4];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
    );
    // One id and one `created` (the first chunk's) for the whole stream; no usage key before.
    assert!(events.iter().all(|e| e["id"] == events[0]["id"]));
    assert!(events.iter().all(|e| e["created"] == 1767225600));
    assert!(events[..4].iter().all(|e| e.get("usage").is_none()));
    assert!(
        events
            .iter()
            .all(|e| e["system_fingerprint"] == "fp_ollama")
    );
}

#[tokio::test]
async fn thinking_with_content_in_one_chunk_becomes_a_reasoning_chunk_then_a_content_chunk() {
    let mock = mock().await;
    let events = stream(&mock, chat("qwen3:0.6b", "17 * 23?", json!({})))
        .await
        .sse_json();
    let deltas: Vec<&Value> = events.iter().map(|e| &e["choices"][0]["delta"]).collect();
    assert_eq!(
        deltas,
        [
            &json!({"role": "assistant", "reasoning": "17 * 23 = 391."}),
            &json!({"content": "391."}),
            &json!({}),
        ]
    );
}

#[tokio::test]
async fn a_streamed_tool_call_is_whole_in_one_delta_and_finishes_with_tool_calls() {
    let mock = mock().await;
    let reply = stream(
        &mock,
        chat("llama3.2", "weather?", json!({"tools": tools()})),
    )
    .await;
    let events = reply.sse_json();
    let call = &events[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["index"], 0);
    assert_eq!(call["type"], "function");
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    // Go's encoder escapes <, > and & inside the arguments string too.
    assert!(
        reply
            .text()
            .contains(r#""arguments":"{\"city\":\"Paris\",\"note\":\"\\u003c\\u0026\\u003e\"}""#),
        "{}",
        reply.text()
    );
    assert_eq!(events[0]["choices"][0]["delta"]["content"], "");
    assert_eq!(events[1]["choices"][0]["delta"], json!({}));
    assert_eq!(events[1]["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn an_empty_completion_opens_with_a_role_chunk() {
    let mock = mock().await;
    let events = stream(&mock, chat("llama3.2", "[empty]", json!({})))
        .await
        .sse_json();
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(events[1]["choices"][0]["finish_reason"], "stop");
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_with_length_and_max_completion_tokens_is_ignored() {
    let mock = mock().await;
    let cut = post_chat(&mock, chat("llama3.2", "hello", json!({"max_tokens": 1})))
        .await
        .json();
    assert_eq!(cut["choices"][0]["finish_reason"], "length");
    assert_eq!(cut["choices"][0]["message"]["content"], "Hi");
    let ignored = post_chat(
        &mock,
        chat("llama3.2", "hello", json!({"max_completion_tokens": 1})),
    )
    .await
    .json();
    assert_eq!(ignored["choices"][0]["finish_reason"], "stop");
    assert_eq!(ignored["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn a_mid_stream_error_is_lost_as_an_empty_chunk_and_the_stream_ends_without_done() {
    let mock = mock().await;
    let reply = stream(&mock, chat("llama3.2", "[error]", json!({}))).await;
    assert!(reply.terminated, "the body ends cleanly");
    let data = reply.sse_data();
    assert!(!data.contains(&"[DONE]".to_owned()));
    assert!(!reply.text().contains("runner died"));
    let events = reply.sse_json();
    assert_eq!(events.len(), 3);
    let lost = &events[2];
    assert_eq!(lost["model"], "");
    assert_eq!(lost["choices"][0]["delta"], json!({"content": ""}));
    assert!(lost["choices"][0]["finish_reason"].is_null());
    // Not streamed, the same fault is Ollama's 500, re-encoded as an `api_error`.
    let whole = post_chat(&mock, chat("llama3.2", "[error]", json!({}))).await;
    assert_eq!(whole.status, 500);
    assert_eq!(
        whole.json(),
        json!({"error": {"message": "runner died", "type": "api_error", "param": null, "code": null}})
    );
}

#[tokio::test]
async fn an_http_error_fault_keeps_its_status_and_retry_after_in_ollamas_error_object() {
    let mock = mock().await;
    for streaming in [false, true] {
        let reply = post_chat(
            &mock,
            chat("llama3.2", "[429]", json!({"stream": streaming})),
        )
        .await;
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("2"));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.text(),
            "{\"error\":{\"message\":\"too many requests\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n"
        );
    }
}

#[tokio::test]
async fn transport_faults_cut_the_sse_stream_where_they_cut_the_ndjson_stream() {
    let mock = mock().await;
    let eof = stream(&mock, chat("llama3.2", "[eof]", json!({}))).await;
    assert!(!eof.terminated, "aborted, not ended");
    assert_eq!(eof.sse_json().len(), 1);

    let cut = stream(&mock, chat("llama3.2", "[cut]", json!({}))).await;
    assert!(!cut.terminated);
    let text = cut.text();
    let (whole, half) = text.split_once("\n\n").unwrap();
    assert!(whole.starts_with("data: {"));
    assert!(!half.is_empty() && !half.ends_with("\n\n"), "{half:?}");

    let garbled = stream(&mock, chat("llama3.2", "[garbled]", json!({}))).await;
    let data = garbled.sse_data();
    assert_eq!(data[1], "{\"id\":");
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));

    let drip = stream(&mock, chat("llama3.2", "[drip]", json!({}))).await;
    assert!(drip.chunks.iter().all(|chunk| chunk.len() == 1));
    assert_eq!(drip.sse_data().last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn client_mistakes_get_ollamas_words_and_statuses() {
    let mock = mock().await;
    let empty = post_chat(&mock, json!({"model": "llama3.2", "messages": []})).await;
    assert_eq!(empty.status, 400);
    // Raised by the middleware itself: Gin's content type, no newline.
    assert_eq!(
        empty.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        empty.text(),
        "{\"error\":{\"message\":\"[] is too short - 'messages'\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"
    );
    let unknown = post_chat(&mock, chat("nope", "hi", json!({}))).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"],
        json!({"message": "model 'nope' not found", "type": "not_found_error", "param": null, "code": null})
    );
    let missing_model = post_chat(
        &mock,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(missing_model.status, 400);
    assert_eq!(
        missing_model.json()["error"]["message"],
        "model is required"
    );
    let malformed = raw(mock.addr(), "POST", "/v1/chat/completions", "{oops").await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["error"]["type"], "invalid_request_error");
    let unknown_route = raw(mock.addr(), "GET", "/v1/nothing", "").await;
    assert_eq!(unknown_route.status, 404);
    assert_eq!(unknown_route.text(), "404 page not found");
}

#[tokio::test]
async fn models_are_listed_with_their_tags_and_namespace_and_none_is_null() {
    let mock = builtin_mock().await;
    let list = raw(mock.addr(), "GET", "/v1/models", "").await.json();
    assert_eq!(list["object"], "list");
    assert_eq!(
        list["data"][0],
        json!({"id": "llama3.2:latest", "object": "model", "created": 1777941464, "owned_by": "library"})
    );
    let one = raw(mock.addr(), "GET", "/v1/models/llama3.2", "").await;
    assert_eq!(
        one.json(),
        json!({"id": "llama3.2", "object": "model", "created": 1777941464, "owned_by": "library"})
    );
    mock.set_scenario(mock_ollama::Scenario::default());
    let empty = raw(mock.addr(), "GET", "/v1/models", "").await;
    assert_eq!(empty.text(), "{\"object\":\"list\",\"data\":null}\n");
}

#[tokio::test]
async fn embeddings_come_as_floats_or_base64_of_the_same_little_endian_floats() {
    use base64::Engine;
    let mock = builtin_mock().await;
    let body = |format: &str| json!({"model": "nomic-embed-text", "input": ["a", "b"], "encoding_format": format});
    let floats = post(mock.addr(), "/v1/embeddings", body("float"))
        .await
        .json();
    assert_eq!(floats["object"], "list");
    assert_eq!(floats["data"][1]["index"], 1);
    assert_eq!(floats["data"][0]["object"], "embedding");
    assert_eq!(
        floats["usage"]["prompt_tokens"],
        floats["usage"]["total_tokens"]
    );
    let encoded = post(mock.addr(), "/v1/embeddings", body("base64"))
        .await
        .json();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f64> = bytes
        .chunks(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    let expected: Vec<f64> = floats["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(decoded.len(), 768);
    for (a, b) in decoded.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    for (body, message) in [
        (json!({"model": "nomic-embed-text"}), "invalid input"),
        (
            json!({"model": "nomic-embed-text", "input": []}),
            "invalid input",
        ),
        (
            body("hex"),
            "Invalid value for 'encoding_format' = hex. Supported values: ['float', 'base64'].",
        ),
    ] {
        let reply = post(mock.addr(), "/v1/embeddings", body).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["error"]["message"], message);
    }
}

#[tokio::test]
async fn completions_put_the_finish_reason_on_the_last_text_chunk_and_zero_usage_on_each() {
    let mock = mock().await;
    let whole = post(
        mock.addr(),
        "/v1/completions",
        json!({"model": "llama3.2", "prompt": "hello"}),
    )
    .await
    .json();
    assert_eq!(whole["object"], "text_completion");
    assert!(whole["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(whole["choices"][0]["text"], "Hi there, friend.");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    let events = post(
        mock.addr(),
        "/v1/completions",
        json!({"model": "llama3.2", "prompt": "hello", "stream": true,
               "stream_options": {"include_usage": true}}),
    )
    .await
    .sse_json();
    let texts: Vec<&Value> = events
        .iter()
        .filter_map(|e| e["choices"].get(0).map(|c| &c["text"]))
        .collect();
    assert_eq!(
        texts,
        [
            &json!("Hi"),
            &json!(" there,"),
            &json!(" friend."),
            &json!("")
        ]
    );
    assert_eq!(events[3]["choices"][0]["finish_reason"], "stop");
    assert!(events[..4].iter().all(|e| e["usage"]["total_tokens"] == 0));
    assert_eq!(events[4]["choices"], json!([]));
    assert_eq!(events[4]["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn a_conversation_of_no_messages_loads_the_model_and_says_so() {
    // An empty parts array makes no native message: Ollama's handler answers a load, and its
    // layer passes the `load` reason through.
    let mock = mock().await;
    let reply = post_chat(
        &mock,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": []}]}),
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["choices"][0]["finish_reason"], "load");
    assert_eq!(body["choices"][0]["message"]["content"], "");
}

//! The OpenAI-compatible upstream path against mock-ollama's `/v1` in every flavour (Ollama's own
//! layer, llama.cpp's server, vLLM, exact OpenAI): whatever dialect the upstream speaks, the
//! client gets one conformant reply. (`openai_upstream.rs` keeps wiremock for the byte-exact
//! deviations no real server combines.)
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, chat, openai_upstream_harness, recorded_upstream_harness, weather_tool};
use mock_ollama::Flavor;
use serde_json::{Value, json};

const SCENARIO: &str = r#"{"rules": [
  {"name": "hello", "match": {"last_user_contains": "hello"}, "reply": {"text": "Hi there, friend."}},
  {"name": "weather", "match": {"has_tools": true, "last_role": "user"}, "reply": {"chunks": [
     {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}]}},
  {"name": "dies", "match": {"last_user_contains": "[die]"}, "reply": {"text": "one two three four"},
   "faults": [{"kind": "error_line", "after": 2, "message": "engine died"}]},
  {"name": "busy", "match": {"last_user_contains": "[busy]"},
   "faults": [{"kind": "http_error", "status": 429, "message": "slow down", "retry_after": "3"}]}
]}"#;

async fn each_flavor(check: impl AsyncFn(Flavor, Harness)) {
    for flavor in Flavor::ALL {
        check(flavor, openai_upstream_harness(flavor, SCENARIO).await).await;
    }
}

/// Text of every delta, concatenated.
fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"].get(0))
        .filter_map(|c| c["delta"]["content"].as_str())
        .collect()
}

/// Every non-null `finish_reason`, in order.
fn finish_reasons(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter_map(|e| e["choices"].get(0))
        .map(|c| &c["finish_reason"])
        .filter(|reason| !reason.is_null())
        .collect()
}

#[tokio::test]
async fn every_flavors_reply_is_relayed_with_the_key_and_made_conformant() {
    each_flavor(async |flavor, h| {
        let reply = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "hello", json!({})),
            )
            .await;
        assert_eq!(reply.status, 200, "{flavor}: {}", reply.body);
        let body = reply.json();
        let choice = &body["choices"][0];
        assert_eq!(
            choice["message"]["content"], "Hi there, friend.",
            "{flavor}"
        );
        assert_eq!(choice["message"]["refusal"], Value::Null, "{flavor}");
        assert!(choice.get("logprobs").is_some(), "{flavor}");
        assert_eq!(choice["finish_reason"], "stop", "{flavor}");
        assert_eq!(body["usage"]["total_tokens"], 8, "{flavor}");
        let sent = h.mock.requests_to("/v1/chat/completions");
        assert_eq!(
            sent[0].headers.get("authorization").map(String::as_str),
            Some("Bearer sk-upstream"),
            "{flavor}"
        );
    })
    .await;
}

#[tokio::test]
async fn every_flavors_stream_becomes_one_conformant_stream() {
    each_flavor(async |flavor, h| {
        let reply = h
            .post(
                "/v1/chat/completions",
                &chat(
                    "llama3.2",
                    "hello",
                    json!({"stream": true, "stream_options": {"include_usage": true}}),
                ),
            )
            .await;
        let events = reply.events();
        assert_eq!(events.last(), Some(&json!("[DONE]")), "{flavor}");
        let chunks = &events[..events.len() - 1];
        assert_eq!(
            chunks[0]["choices"][0]["delta"]["role"], "assistant",
            "{flavor}"
        );
        assert!(
            chunks.iter().all(|c| c["id"] == chunks[0]["id"]),
            "{flavor}"
        );
        assert_eq!(streamed_text(chunks), "Hi there, friend.", "{flavor}");
        assert_eq!(finish_reasons(chunks), [&json!("stop")], "{flavor}");
        // llama-cpp-python's server never reports usage in a stream: there is nothing to relay.
        let usage_chunks = chunks.iter().filter(|c| c["choices"] == json!([])).count();
        let expected = usize::from(flavor != Flavor::LlamaCppPython);
        assert_eq!(usage_chunks, expected, "{flavor}");
    })
    .await;
}

#[tokio::test]
async fn every_flavors_streamed_tool_call_arrives_as_one_call() {
    each_flavor(async |flavor, h| {
        let body = chat(
            "llama3.2",
            "weather?",
            json!({"stream": true, "tools": weather_tool()}),
        );
        let events = h.post("/v1/chat/completions", &body).await.events();
        let fragments: Vec<&Value> = events
            .iter()
            .filter_map(|e| e["choices"].get(0))
            .filter_map(|c| c["delta"]["tool_calls"].as_array())
            .flatten()
            .collect();
        assert!(fragments[0]["id"].is_string(), "{flavor}");
        assert!(
            fragments[1..].iter().all(|f| f.get("id").is_none()),
            "{flavor}: the id only on the first fragment: {fragments:?}"
        );
        let arguments: String = fragments
            .iter()
            .filter_map(|f| f["function"]["arguments"].as_str())
            .collect();
        assert_eq!(
            serde_json::from_str::<Value>(&arguments).unwrap(),
            json!({"city": "Paris"}),
            "{flavor}"
        );
        let finish = events
            .iter()
            .filter_map(|e| e["choices"].get(0))
            .find_map(|c| c["finish_reason"].as_str());
        assert_eq!(finish, Some("tool_calls"), "{flavor}");
    })
    .await;
}

#[tokio::test]
async fn a_failure_after_the_first_byte_is_an_error_event_in_every_flavor() {
    // Ollama loses the error in an empty chunk, llama.cpp cuts the connection, vLLM and OpenAI
    // send an error event: the client always gets an error event and no `[DONE]`.
    each_flavor(async |flavor, h| {
        let body = chat("llama3.2", "[die]", json!({"stream": true}));
        let reply = h.post("/v1/chat/completions", &body).await;
        let events = reply.events();
        assert!(!events.contains(&json!("[DONE]")), "{flavor}: {events:?}");
        let last = events.last().unwrap();
        assert!(last["error"]["message"].is_string(), "{flavor}: {last}");
        assert!(last["error"]["code"].is_string(), "{flavor}: {last}");
    })
    .await;
}

#[tokio::test]
async fn a_rate_limit_keeps_its_status_and_retry_after_in_every_flavor() {
    each_flavor(async |flavor, h| {
        let reply = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "[busy]", json!({})),
            )
            .await;
        assert_eq!(reply.status, 429, "{flavor}");
        assert_eq!(reply.headers["retry-after"], "3", "{flavor}");
        assert_eq!(
            reply.json()["error"]["type"],
            "rate_limit_error",
            "{flavor}"
        );
    })
    .await;
}

#[tokio::test]
async fn max_completion_tokens_holds_even_where_the_upstream_ignores_it() {
    // Ollama and llama.cpp ignore `max_completion_tokens`; the gateway mirrors it into
    // `max_tokens`, which both honour.
    each_flavor(async |flavor, h| {
        let body = chat("llama3.2", "hello", json!({"max_completion_tokens": 1}));
        let reply = h.post("/v1/chat/completions", &body).await.json();
        assert_eq!(reply["choices"][0]["finish_reason"], "length", "{flavor}");
        assert_eq!(reply["usage"]["completion_tokens"], 1, "{flavor}");
    })
    .await;
}

/// The body the official `openai` SDK sent when `fixtures/recorded/llamacpp` was recorded from
/// llama.cpp's server (interop/python/sdk_transcript.py).
fn recorded_request(stream: bool) -> Value {
    let mut body = json!({
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Name one colour."}],
        "max_tokens": 12,
        "temperature": 0,
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn a_recorded_llamacpp_server_is_relayed_with_its_text_reason_and_usage() {
    let h = recorded_upstream_harness("llamacpp").await;
    let whole = h
        .post("/v1/chat/completions", &recorded_request(false))
        .await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    let whole = whole.json();
    let recorded_text = whole["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!recorded_text.is_empty());
    assert_eq!(
        whole["choices"][0]["finish_reason"], "length",
        "max_tokens ran out"
    );
    assert_eq!(whole["usage"]["completion_tokens"], 12);

    let streamed = h
        .post("/v1/chat/completions", &recorded_request(true))
        .await;
    assert_eq!(streamed.status, 200, "{}", streamed.body);
    let events = streamed.events();
    assert_eq!(events.last(), Some(&json!("[DONE]")));
    assert_eq!(
        streamed_text(&events),
        recorded_text,
        "temperature 0: the same words"
    );
    // llama-cpp-python sends no usage chunk, even when asked (USAGE-002 in
    // docs/compatibility.md): there is none to relay.
    assert!(events.iter().all(|e| e["usage"].is_null()), "{events:?}");
    assert_eq!(finish_reasons(&events), [&json!("length")]);
}

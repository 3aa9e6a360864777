//! The gateway's translation of Ollama's native API, end to end against mock-ollama scenarios,
//! one test per item of "Checklist for a correct gateway translation" (ollama-wire.md), with
//! snapshots of whole normalized replies and streams.
#![allow(clippy::unwrap_used)]

mod common;

use common::{chat, harness, harness_with, redacted, weather_tool};
use serde_json::{Value, json};

const TOOL_SCENARIO: &str = r#"{"rules":[
  {"match":{"last_user_contains":"in chunk"},"reply":{"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}]}},
  {"match":{"last_user_contains":"in done"},"reply":{"done":{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]}}},
  {"match":{"last_user_contains":"both"},"reply":{"chunks":[{"content":"Checking. "},{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]}],
     "done":{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Lima"}}}]}}},
  {"match":{"last_user_contains":"legacy"},"reply":{"legacy_tool_calls":true,"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Kyiv"}}}]}]}},
  {"match":{"last_user_contains":"think"},"reply":{"chunks":[{"thinking":"Let me"},{"thinking":" see.","content":"Four"},{"content":"."}],"stats":{"prompt_eval_count":12,"eval_count":4}}},
  {"match":{"last_user_contains":"overflow"},"reply":{"done_reason":"length","stats":{"prompt_eval_count":2047,"eval_count":1}}},
  {"match":{"last_user_contains":"hello"},"reply":{"text":"Hello there!","stats":{"prompt_eval_count":9,"eval_count":3}}}
]}"#;

fn with_tools(content: &str, extra: Value) -> Value {
    let mut body = chat("llama3.2", content, extra);
    body["tools"] = weather_tool();
    body
}

// ---- request side (items 1–12): what reached Ollama ----

/// 1
#[tokio::test]
async fn stream_is_sent_explicitly_both_ways() {
    let h = harness(TOOL_SCENARIO).await;
    h.post(
        "/v1/chat/completions",
        &chat("llama3.2", "hello", json!({})),
    )
    .await;
    assert_eq!(h.upstream_request()["stream"], false);
    h.post(
        "/v1/chat/completions",
        &chat("llama3.2", "hello", json!({"stream": true})),
    )
    .await;
    assert_eq!(h.upstream_request()["stream"], true);
}

/// 2
#[tokio::test]
async fn missing_messages_or_model_never_reach_the_upstream() {
    let h = harness(TOOL_SCENARIO).await;
    for body in [
        json!({"model": "llama3.2"}),
        json!({"model": "llama3.2", "messages": []}),
        json!({"messages": [{"role": "user", "content": "x"}]}),
    ] {
        let reply = h.post("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
    }
    assert!(h.mock.requests_to("/api/chat").is_empty());
}

/// 3–6, 8–12: every mapped field, as one snapshot of the native request.
#[tokio::test]
async fn request_fields_map_to_ollama() {
    let h = harness(TOOL_SCENARIO).await;
    let body = json!({
        "model": "llama3.2", "stream": false,
        "max_tokens": 100, "max_completion_tokens": 50, "temperature": 0.3, "top_p": 0.8, "seed": 42,
        "frequency_penalty": 0.1, "presence_penalty": 0.2, "stop": ["END", "\n\n"],
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        "tools": weather_tool(), "tool_choice": "auto", "user": "ignored", "logit_bias": {"1": 2},
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather"}, {"type": "text", "text": "in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"}
        ]
    });
    let reply = h.post("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    insta::assert_json_snapshot!("request_mapping", h.upstream_request());
}

/// 7
#[tokio::test]
async fn reasoning_effort_maps_to_think() {
    let h = harness(TOOL_SCENARIO).await;
    for (effort, think) in [
        ("none", json!(false)),
        ("low", json!("low")),
        ("high", json!("high")),
    ] {
        h.post(
            "/v1/chat/completions",
            &chat("qwen3:0.6b", "hello", json!({"reasoning_effort": effort})),
        )
        .await;
        assert_eq!(h.upstream_request()["think"], think, "{effort}");
    }
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat(
                "qwen3:0.6b",
                "hello",
                json!({"reasoning_effort": "extreme"}),
            ),
        )
        .await;
    assert_eq!(
        (reply.status, reply.json()["error"]["param"].clone()),
        (400, json!("reasoning_effort"))
    );
}

/// What the OpenAI API cannot say reaches Ollama: `options` (`num_ctx` above all: Ollama cuts
/// prompts to its default context otherwise), `keep_alive` and `think` as request extensions,
/// over the model's configured defaults, key by key; the standard fields over both.
#[tokio::test]
async fn ollama_extensions_reach_the_backend_over_the_configured_defaults() {
    let defaults = r#"
        [models."llama3.2"]
        options = { num_ctx = 4096, top_k = 20 }
        keep_alive = "30m"
        think = false
    "#;
    let configured = gateway::Config::from_toml("test.toml", defaults).unwrap();
    let h = harness_with(
        TOOL_SCENARIO,
        |config| config.models = configured.models,
        0.0,
    )
    .await;
    let extended = json!({"options": {"num_ctx": 8192, "temperature": 0.9}, "keep_alive": "10m", "temperature": 0.5});
    let reply = h
        .post("/v1/chat/completions", &chat("llama3.2", "hello", extended))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let native = h.upstream_request();
    assert_eq!(
        native["options"],
        json!({"num_ctx": 8192, "temperature": 0.5, "top_k": 20})
    );
    assert_eq!(
        (native["keep_alive"].clone(), native["think"].clone()),
        (json!("10m"), json!(false))
    );

    h.post(
        "/v1/chat/completions",
        &chat("llama3.2", "hello", json!({})),
    )
    .await;
    let native = h.upstream_request();
    assert_eq!(native["options"], json!({"num_ctx": 4096, "top_k": 20}));
    assert_eq!(native["keep_alive"], json!("30m"));

    let wrong = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({"options": {"num_ctx": "big"}})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.json()["error"]["param"].clone()),
        (400, json!("options.num_ctx"))
    );
}

#[test]
fn wrongly_typed_model_defaults_are_refused_at_start() {
    let error = gateway::Config::from_toml(
        "gateway.toml",
        "[models.\"llama3.2\"]\nkeep_alive = \"forever\"\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("keep_alive"), "{error}");
}

/// 11
#[tokio::test]
async fn tool_choice_none_drops_the_tools() {
    let h = harness(TOOL_SCENARIO).await;
    h.post(
        "/v1/chat/completions",
        &with_tools("hello", json!({"tool_choice": "none"})),
    )
    .await;
    assert!(h.upstream_request().get("tools").is_none());
}

// ---- non-streaming response (items 13–17) ----

/// 13, 16
#[tokio::test]
async fn non_stream_text_reply() {
    let h = harness(TOOL_SCENARIO).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({})),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json");
    let body = reply.json();
    assert!(body["id"].as_str().unwrap().len() > 30, "high-entropy id");
    redacted().bind(|| insta::assert_json_snapshot!("non_stream_text", body));
}

/// 14, 15
#[tokio::test]
async fn non_stream_tool_call_has_null_content_and_tool_calls_reason() {
    let h = harness(TOOL_SCENARIO).await;
    let body = h
        .post("/v1/chat/completions", &with_tools("in chunk", json!({})))
        .await
        .json();
    redacted().bind(|| insta::assert_json_snapshot!("non_stream_tool_call", body));
}

/// 14 (tool calls from a chunk and from the done chunk, with text)
#[tokio::test]
async fn non_stream_collects_calls_from_every_chunk() {
    let h = harness(TOOL_SCENARIO).await;
    let body = h
        .post("/v1/chat/completions", &with_tools("both", json!({})))
        .await
        .json();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Checking. ");
    let cities: Vec<Value> = message["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            serde_json::from_str::<Value>(c["function"]["arguments"].as_str().unwrap()).unwrap()
                    ["city"]
                    .clone()
        })
        .collect();
    assert_eq!(cities, [json!("Oslo"), json!("Lima")]);
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

/// 17
#[tokio::test]
async fn thinking_is_reasoning_content() {
    let h = harness(TOOL_SCENARIO).await;
    let body = h
        .post(
            "/v1/chat/completions",
            &chat("qwen3:0.6b", "think", json!({})),
        )
        .await
        .json();
    assert_eq!(
        body["choices"][0]["message"]["reasoning_content"],
        "Let me see."
    );
    assert_eq!(body["choices"][0]["message"]["content"], "Four.");
}

// ---- streaming response (items 18–28, 34) ----

/// 18–21, 25
#[tokio::test]
async fn stream_text_transcript() {
    let h = harness(TOOL_SCENARIO).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({"stream": true})),
        )
        .await;
    assert_eq!(reply.content_type(), "text/event-stream");
    assert_eq!(reply.headers["cache-control"], "no-cache");
    let events = reply.events();
    let ids: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["id"].as_str()).collect();
    let created: std::collections::BTreeSet<u64> = events
        .iter()
        .filter_map(|e| e["created"].as_u64())
        .collect();
    assert_eq!(
        (ids.len(), created.len()),
        (1, 1),
        "one id and one created per stream"
    );
    redacted().bind(|| insta::assert_json_snapshot!("stream_text", events));
}

/// 22
#[tokio::test]
async fn stream_thinking_comes_as_reasoning_content_before_content() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &chat("qwen3:0.6b", "think", json!({"stream": true})),
        )
        .await
        .events();
    redacted().bind(|| insta::assert_json_snapshot!("stream_thinking", events));
}

/// 23, 24, 25: calls in a done:false chunk and in the done chunk, indices counted stream-wide.
#[tokio::test]
async fn stream_tool_calls_from_every_chunk_with_stream_wide_indices() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &with_tools("both", json!({"stream": true})),
        )
        .await
        .events();
    redacted().bind(|| insta::assert_json_snapshot!("stream_tool_calls", events));
}

/// 23: calls only in the done chunk still come out, before the finish chunk.
#[tokio::test]
async fn stream_tool_call_in_the_done_chunk() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &with_tools("in done", json!({"stream": true})),
        )
        .await
        .events();
    let call = &events[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(events[2]["choices"][0]["finish_reason"], "tool_calls");
}

/// 23: legacy calls without id get a minted one.
#[tokio::test]
async fn stream_legacy_tool_call_gets_an_id_and_index() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &with_tools("legacy", json!({"stream": true})),
        )
        .await
        .events();
    let call = &events[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["index"], 0);
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
}

/// 26
#[tokio::test]
async fn include_usage_adds_a_choices_less_usage_chunk_before_done() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &chat(
                "llama3.2",
                "hello",
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            ),
        )
        .await
        .events();
    redacted().bind(|| insta::assert_json_snapshot!("stream_include_usage", events));
}

/// 34
#[tokio::test]
async fn empty_length_stream_still_has_role_finish_and_done() {
    let h = harness(TOOL_SCENARIO).await;
    let events = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "overflow", json!({"stream": true})),
        )
        .await
        .events();
    redacted().bind(|| insta::assert_json_snapshot!("stream_empty_length", events));
}

/// 30: the mock drips the NDJSON one byte per TCP write; the stream is unchanged.
#[tokio::test]
async fn ndjson_dripped_byte_by_byte_translates_the_same() {
    let dripped = harness(r#"{"rules":[{"reply":{"text":"Split lines work"},"faults":[{"kind":"drip","byte_delay_ms":0}]}]}"#).await;
    let whole = harness(r#"{"rules":[{"reply":{"text":"Split lines work"}}]}"#).await;
    let body = chat("llama3.2", "x", json!({"stream": true}));
    let strip = |events: Vec<Value>| -> Vec<Value> {
        events
            .into_iter()
            .map(|mut e| {
                if let Some(object) = e.as_object_mut() {
                    object.remove("id");
                    object.remove("created");
                }
                e
            })
            .collect()
    };
    let a = strip(dripped.post("/v1/chat/completions", &body).await.events());
    let b = strip(whole.post("/v1/chat/completions", &body).await.events());
    assert_eq!(a, b);
    assert_eq!(a.last(), Some(&json!("[DONE]")));
}

/// 33
#[tokio::test]
async fn models_list_comes_from_tags() {
    let h = harness("{}").await;
    let reply = h.get("/v1/models").await;
    assert_eq!(reply.status, 200);
    insta::assert_json_snapshot!("models", reply.json());
    let one = h.get("/v1/models/llama3.2").await.json();
    assert_eq!(one["id"], "llama3.2");
    let missing = h.get("/v1/models/nope").await;
    assert_eq!(
        (missing.status, missing.json()["error"]["code"].clone()),
        (404, json!("model_not_found"))
    );
}

/// 35 (a sample; the property test covers random scenarios)
#[tokio::test]
async fn stream_and_non_stream_agree() {
    let h = harness(TOOL_SCENARIO).await;
    for prompt in ["hello", "think", "both", "overflow"] {
        let whole = h
            .post("/v1/chat/completions", &with_tools(prompt, json!({})))
            .await
            .json();
        let events = h
            .post(
                "/v1/chat/completions",
                &with_tools(
                    prompt,
                    json!({"stream": true, "stream_options": {"include_usage": true}}),
                ),
            )
            .await
            .events();
        let content: String = events
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
            .collect();
        let finish = events
            .iter()
            .find_map(|e| e["choices"][0]["finish_reason"].as_str())
            .unwrap();
        let usage = &events[events.len() - 2]["usage"];
        let message = &whole["choices"][0]["message"];
        assert_eq!(
            message["content"].as_str().unwrap_or(""),
            content,
            "{prompt}"
        );
        assert_eq!(whole["choices"][0]["finish_reason"], finish, "{prompt}");
        assert_eq!(&whole["usage"], usage, "{prompt}");
    }
}

//! One test per item of "Checklist for a faithful mock" in shared/reference/ollama-wire.md,
//! observed through a raw HTTP client so content types, line endings and key presence are checked
//! byte for byte. Each test names its checklist number.
#![allow(clippy::unwrap_used)]

mod common;

use common::{builtin_mock, mock_with, post, raw};
use serde_json::{Value, json};

const JSON_UTF8: &str = "application/json; charset=utf-8";

fn chat(model: &str, content: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": content}]})
}

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// 1
#[tokio::test]
async fn root_says_ollama_is_running_and_head_has_no_body() {
    let mock = builtin_mock().await;
    let get = raw(mock.addr(), "GET", "/", "").await;
    assert_eq!(get.status, 200);
    assert_eq!(
        get.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(get.text(), "Ollama is running");
    let head = raw(mock.addr(), "HEAD", "/", "").await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(head.body.is_empty());
}

/// 2
#[tokio::test]
async fn version_is_json_with_charset_for_get_and_head() {
    let mock = builtin_mock().await;
    let get = raw(mock.addr(), "GET", "/api/version", "").await;
    assert_eq!(get.header("content-type"), Some(JSON_UTF8));
    assert_eq!(get.text(), r#"{"version":"0.13.0"}"#);
    let head = raw(mock.addr(), "HEAD", "/api/version", "").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

/// 3
#[tokio::test]
async fn tags_lists_models_with_every_field_and_empty_list_is_an_array() {
    let mock = builtin_mock().await;
    let tags = raw(mock.addr(), "GET", "/api/tags", "").await;
    assert_eq!(tags.header("content-type"), Some(JSON_UTF8));
    let model = &tags.json()["models"][0];
    for key in ["name", "model", "modified_at", "size", "digest", "details"] {
        assert!(model.get(key).is_some(), "missing {key}");
    }
    assert!(model["size"].is_u64());
    let digest = model["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()));
    for key in [
        "parent_model",
        "format",
        "family",
        "families",
        "parameter_size",
        "quantization_level",
    ] {
        assert!(model["details"].get(key).is_some(), "missing details.{key}");
    }
    mock.set_scenario(mock_ollama::Scenario::default());
    let empty = raw(mock.addr(), "GET", "/api/tags", "").await;
    assert_eq!(empty.text(), r#"{"models":[]}"#);
}

/// 4
#[tokio::test]
async fn show_has_model_info_and_capabilities_and_rejects_bad_requests() {
    let mock = builtin_mock().await;
    let show = post(mock.addr(), "/api/show", json!({"model": "qwen3:0.6b"})).await;
    assert_eq!(show.status, 200);
    let body = show.json();
    assert!(body["model_info"].is_object());
    assert_eq!(
        body["capabilities"],
        json!(["completion", "tools", "thinking"])
    );
    assert!(body["details"].is_object() && body["modified_at"].is_string());
    let legacy = post(mock.addr(), "/api/show", json!({"name": "llama3.2"})).await;
    assert_eq!(legacy.status, 200);
    let missing = post(mock.addr(), "/api/show", json!({})).await;
    assert_eq!(
        (missing.status, missing.text()),
        (400, r#"{"error":"model is required"}"#.into())
    );
    let unknown = post(mock.addr(), "/api/show", json!({"model": "x"})).await;
    assert_eq!(
        (unknown.status, unknown.text()),
        (404, r#"{"error":"model 'x' not found"}"#.into())
    );
    let get = raw(mock.addr(), "GET", "/api/show", "").await;
    assert_eq!(get.status, 405);
}

/// 5
#[tokio::test]
async fn ps_lists_models_that_served_a_request() {
    let mock = builtin_mock().await;
    let before = raw(mock.addr(), "GET", "/api/ps", "").await;
    assert_eq!(before.text(), r#"{"models":[]}"#);
    post(
        mock.addr(),
        "/api/chat",
        json!({"model": "llama3.2", "messages": [], "stream": false}),
    )
    .await;
    let after = raw(mock.addr(), "GET", "/api/ps", "").await.json();
    let item = &after["models"][0];
    for key in [
        "name",
        "model",
        "size",
        "digest",
        "details",
        "expires_at",
        "size_vram",
        "context_length",
    ] {
        assert!(item.get(key).is_some(), "missing {key}");
    }
    assert_eq!(item["name"], "llama3.2:latest");
}

/// 6
#[tokio::test]
async fn embed_returns_normalised_vectors_and_validates_input() {
    let mock = builtin_mock().await;
    let model = "nomic-embed-text";
    let one = post(
        mock.addr(),
        "/api/embed",
        json!({"model": model, "input": ["a b", "c"]}),
    )
    .await;
    assert_eq!(one.header("content-type"), Some(JSON_UTF8));
    let body = one.json();
    let vectors = body["embeddings"].as_array().unwrap();
    assert_eq!(vectors.len(), 2);
    let norm: f64 = vectors[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap().powi(2))
        .sum();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    assert_ne!(vectors[0], vectors[1]);
    let short = post(
        mock.addr(),
        "/api/embed",
        json!({"model": model, "input": "a", "dimensions": 4}),
    )
    .await;
    assert_eq!(short.json()["embeddings"][0].as_array().unwrap().len(), 4);
    let empty = post(
        mock.addr(),
        "/api/embed",
        json!({"model": model, "input": []}),
    )
    .await;
    assert_eq!(
        empty.text(),
        r#"{"model":"nomic-embed-text","embeddings":[]}"#
    );
    let bad = post(
        mock.addr(),
        "/api/embed",
        json!({"model": model, "input": [1]}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.text()),
        (400, r#"{"error":"invalid input type"}"#.into())
    );
    let legacy = post(
        mock.addr(),
        "/api/embeddings",
        json!({"model": model, "prompt": "hi"}),
    )
    .await;
    assert_eq!(legacy.json()["embedding"].as_array().unwrap().len(), 768);
    let legacy_empty = post(
        mock.addr(),
        "/api/embeddings",
        json!({"model": model, "prompt": ""}),
    )
    .await;
    assert_eq!(legacy_empty.text(), r#"{"embedding":[]}"#);
    let legacy_unknown = post(
        mock.addr(),
        "/api/embeddings",
        json!({"model": "zz", "prompt": "a"}),
    )
    .await;
    assert_eq!(legacy_unknown.status, 404);
    assert_eq!(
        legacy_unknown.json()["error"],
        "model \"zz\" not found, try pulling it first"
    );
}

/// 7
#[tokio::test]
async fn unknown_fields_are_ignored_everywhere() {
    let mock = builtin_mock().await;
    let mut body = chat("llama3.2", "hi");
    body["stream"] = json!(false);
    body["frobnicate"] = json!({"x": 1});
    body["messages"][0]["extra"] = json!(true);
    assert_eq!(post(mock.addr(), "/api/chat", body).await.status, 200);
    let show = post(
        mock.addr(),
        "/api/show",
        json!({"model": "llama3.2", "zzz": 1}),
    )
    .await;
    assert_eq!(show.status, 200);
}

/// 8
#[tokio::test]
async fn empty_body_and_malformed_json_are_400_with_error_json() {
    let mock = builtin_mock().await;
    for path in [
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/api/embeddings",
        "/api/show",
    ] {
        let empty = raw(mock.addr(), "POST", path, "").await;
        assert_eq!(empty.status, 400, "{path}");
        assert_eq!(empty.header("content-type"), Some(JSON_UTF8));
        assert_eq!(
            empty.text(),
            r#"{"error":"missing request body"}"#,
            "{path}"
        );
        let bad = raw(mock.addr(), "POST", path, "{\"model\":").await;
        assert_eq!(
            (bad.status, bad.json()["error"].clone()),
            (400, json!("unexpected EOF")),
            "{path}"
        );
        let garbage = raw(mock.addr(), "POST", path, "not json").await;
        assert_eq!(garbage.status, 400);
        assert!(
            garbage.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid character")
        );
    }
    let wrong_type = raw(
        mock.addr(),
        "POST",
        "/api/chat",
        r#"{"model":"llama3.2","messages":"hi"}"#,
    )
    .await;
    assert_eq!(wrong_type.status, 400);
    assert!(
        wrong_type.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("json: cannot unmarshal")
    );
}

/// 9
#[tokio::test]
async fn missing_model_is_400_on_chat_and_404_on_generate_and_embed() {
    let mock = builtin_mock().await;
    let chat = post(mock.addr(), "/api/chat", json!({"messages": []})).await;
    assert_eq!(
        (chat.status, chat.text()),
        (400, r#"{"error":"model is required"}"#.into())
    );
    let null_body = raw(mock.addr(), "POST", "/api/chat", "null").await;
    assert_eq!(null_body.status, 400);
    for path in ["/api/generate", "/api/embed"] {
        let response = post(mock.addr(), path, json!({"prompt": "x", "input": "x"})).await;
        assert_eq!(
            (response.status, response.text()),
            (404, r#"{"error":"model '' not found"}"#.into())
        );
    }
}

/// 10
#[tokio::test]
async fn unknown_model_is_404_before_any_streaming() {
    let mock = builtin_mock().await;
    let response = post(mock.addr(), "/api/chat", chat("Nope:7B", "hi")).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.header("content-type"), Some(JSON_UTF8));
    assert_eq!(response.text(), r#"{"error":"model 'Nope:7B' not found"}"#);
}

/// 11
#[tokio::test]
async fn model_names_match_case_insensitively_with_latest_implied() {
    let mock = builtin_mock().await;
    for name in ["llama3.2", "LLAMA3.2:latest", "Llama3.2:Latest"] {
        let mut body = chat(name, "hi");
        body["stream"] = json!(false);
        let response = post(mock.addr(), "/api/chat", body).await;
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(
            response.json()["model"],
            name,
            "the model is echoed as sent"
        );
    }
}

/// 12
#[tokio::test]
async fn stream_defaults_to_true_and_false_gives_one_object() {
    let mock = builtin_mock().await;
    let absent = post(mock.addr(), "/api/chat", chat("llama3.2", "hi")).await;
    assert_eq!(absent.header("content-type"), Some("application/x-ndjson"));
    let mut explicit = chat("llama3.2", "hi");
    explicit["stream"] = json!(true);
    let streamed = post(mock.addr(), "/api/chat", explicit.clone()).await;
    assert_eq!(streamed.body, absent.body);
    explicit["stream"] = json!(false);
    let whole = post(mock.addr(), "/api/chat", explicit).await;
    assert_eq!(whole.header("content-type"), Some(JSON_UTF8));
    assert_eq!(whole.json()["done"], true);
    assert!(!whole.text().contains('\n'));
}

/// 13
#[tokio::test]
async fn stream_is_one_compact_json_line_per_chunk_each_flushed() {
    let mock = builtin_mock().await;
    let response = post(mock.addr(), "/api/chat", chat("llama3.2", "hi")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert!(response.terminated);
    assert!(response.body.ends_with(b"\n"));
    // Each line left as its own HTTP chunk: flushed line by line.
    for chunk in &response.chunks {
        assert!(chunk.ends_with(b"\n"));
        assert_eq!(chunk.iter().filter(|b| **b == b'\n').count(), 1);
        let value: Value = serde_json::from_slice(chunk).unwrap();
        assert_eq!(
            serde_json::to_vec(&value).unwrap().len() + 1,
            chunk.len(),
            "compact"
        );
    }
}

/// 14
#[tokio::test]
async fn non_final_chunks_have_exactly_model_created_at_message_done() {
    let mock = builtin_mock().await;
    let lines = post(mock.addr(), "/api/chat", chat("llama3.2", "hi"))
        .await
        .json_lines();
    let (last, rest) = lines.split_last().unwrap();
    assert!(!rest.is_empty());
    for chunk in rest {
        let keys: Vec<&str> = chunk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["model", "created_at", "message", "done"]);
        assert_eq!(chunk["done"], false);
        assert_eq!(chunk["message"]["role"], "assistant");
    }
    assert_eq!(last["done"], true);
}

/// 15
#[tokio::test]
async fn final_chunk_has_done_reason_and_six_integer_metrics() {
    let mock = builtin_mock().await;
    let lines = post(mock.addr(), "/api/chat", chat("llama3.2", "hi"))
        .await
        .json_lines();
    let last = lines.last().unwrap();
    assert_eq!(last["done_reason"], "stop");
    for key in [
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ] {
        assert!(last[key].as_u64().is_some_and(|v| v > 0), "{key}");
    }
    assert!(last["total_duration"].as_u64() >= last["eval_duration"].as_u64());
}

/// 16
#[tokio::test]
async fn created_at_is_rfc3339_utc_and_deterministic() {
    let mock = builtin_mock().await;
    let first = post(mock.addr(), "/api/chat", chat("llama3.2", "hi"))
        .await
        .json_lines();
    let again = post(mock.addr(), "/api/chat", chat("llama3.2", "hi"))
        .await
        .json_lines();
    assert_eq!(first, again);
    for line in &first {
        let created = line["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z'), "{created}");
        chrono::DateTime::parse_from_rfc3339(created).unwrap();
    }
    assert_eq!(first[0]["created_at"], "2026-01-01T00:00:00.021Z");
}

/// 17
#[tokio::test]
async fn content_is_always_present_and_empty_fields_are_omitted() {
    let mock =
        mock_with(r#"{"rules":[{"reply":{"chunks":[{"thinking":"hmm"},{"content":"ok"}]}}]}"#)
            .await;
    let mut body = chat("qwen3:0.6b", "hi");
    body["stream"] = json!(true);
    let response = post(mock.addr(), "/api/chat", body).await;
    let lines = response.lines();
    assert_eq!(
        lines[0],
        r#"{"model":"qwen3:0.6b","created_at":"2026-01-01T00:00:00.021Z","message":{"role":"assistant","content":"","thinking":"hmm"},"done":false}"#
    );
    assert!(!response.text().contains("images"));
    assert!(!response.text().contains("null"));
    assert!(lines.iter().all(|line| line.contains(r#""content":"#)));
}

/// 18
#[tokio::test]
async fn done_reason_is_scripted_and_tool_turns_still_say_stop() {
    let mock = mock_with(
        r#"{"rules":[
            {"match":{"last_user_contains":"long"},"reply":{"text":"a b","done_reason":"length"}},
            {"match":{"has_tools":true},"reply":{"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]}]}}
        ]}"#,
    )
    .await;
    let length = post(mock.addr(), "/api/chat", chat("llama3.2", "long"))
        .await
        .json_lines();
    assert_eq!(length.last().unwrap()["done_reason"], "length");
    let mut tools = chat("llama3.2", "weather");
    tools["tools"] = weather_tool();
    let tool_turn = post(mock.addr(), "/api/chat", tools).await.json_lines();
    assert_eq!(tool_turn.last().unwrap()["done_reason"], "stop");
}

/// 19
#[tokio::test]
async fn tool_calls_are_whole_and_placeable_anywhere_including_legacy_form() {
    let call = |name: &str| {
        format!(r#"{{"function":{{"name":"{name}","arguments":{{"city":"Oslo","days":2}}}}}}"#)
    };
    let scenario = format!(
        r#"{{"rules":[
            {{"match":{{"last_user_contains":"chunk"}},"reply":{{"chunks":[{{"tool_calls":[{a}]}}]}}}},
            {{"match":{{"last_user_contains":"done"}},"reply":{{"done":{{"tool_calls":[{a}]}}}}}},
            {{"match":{{"last_user_contains":"split"}},"reply":{{"chunks":[{{"tool_calls":[{a}]}},{{"tool_calls":[{b}]}}]}}}},
            {{"match":{{"last_user_contains":"legacy"}},"reply":{{"legacy_tool_calls":true,"chunks":[{{"tool_calls":[{a}]}}]}}}}
        ]}}"#,
        a = call("get_weather"),
        b = call("get_time")
    );
    let mock = mock_with(&scenario).await;
    let ask = |text: &str| {
        let mut body = chat("llama3.2", text);
        body["tools"] = weather_tool();
        body
    };

    let in_chunk = post(mock.addr(), "/api/chat", ask("chunk"))
        .await
        .json_lines();
    assert_eq!(in_chunk.len(), 2);
    let first = &in_chunk[0]["message"]["tool_calls"][0];
    assert!(first["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(first["id"].as_str().unwrap().len(), 13);
    assert_eq!(first["function"]["index"], 0);
    assert_eq!(
        first["function"]["arguments"],
        json!({"city": "Oslo", "days": 2})
    );
    assert_eq!(
        in_chunk[1]["message"],
        json!({"role": "assistant", "content": ""})
    );

    let in_done = post(mock.addr(), "/api/chat", ask("done"))
        .await
        .json_lines();
    assert_eq!(in_done.len(), 1);
    assert_eq!(in_done[0]["done"], true);
    assert_eq!(
        in_done[0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );

    let split = post(mock.addr(), "/api/chat", ask("split"))
        .await
        .json_lines();
    assert_eq!(split[1]["message"]["tool_calls"][0]["function"]["index"], 1);
    assert_eq!(
        split[1]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );

    let legacy = post(mock.addr(), "/api/chat", ask("legacy")).await;
    assert!(legacy.lines()[0].contains(
        r#""tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo","days":2}}}]"#
    ));
}

/// 20
#[tokio::test]
async fn tool_calls_need_tools_in_the_request_and_non_stream_aggregates_them() {
    let mock = mock_with(
        r#"{"rules":[{"reply":{"chunks":[{"content":"Let me check. "},{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]}],
            "done":{"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]}}}]}"#,
    )
    .await;
    let without = post(mock.addr(), "/api/chat", chat("llama3.2", "x")).await;
    assert!(!without.text().contains("tool_calls"));
    let mut with = chat("llama3.2", "x");
    with["tools"] = weather_tool();
    with["stream"] = json!(false);
    let whole = post(mock.addr(), "/api/chat", with).await.json();
    assert_eq!(whole["message"]["content"], "Let me check. ");
    let calls = whole["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["function"]["arguments"]["city"], "Rome");
}

/// 21
#[tokio::test]
async fn thinking_chunks_have_empty_content_and_a_chunk_may_carry_both() {
    let mock = mock_with(r#"{"rules":[{"reply":{"chunks":[{"thinking":"let me"},{"thinking":" see","content":"Yes"}]}}]}"#).await;
    let lines = post(mock.addr(), "/api/chat", chat("qwen3:0.6b", "q"))
        .await
        .json_lines();
    assert_eq!(
        lines[0]["message"],
        json!({"role": "assistant", "content": "", "thinking": "let me"})
    );
    assert_eq!(
        lines[1]["message"],
        json!({"role": "assistant", "content": "Yes", "thinking": " see"})
    );
}

/// 21 (generated replies think on thinking models unless `think:false`)
#[tokio::test]
async fn generated_replies_think_on_thinking_models_unless_disabled() {
    let mock = builtin_mock().await;
    let mut body = chat("qwen3:0.6b", "q");
    body["stream"] = json!(false);
    let thinking = post(mock.addr(), "/api/chat", body.clone()).await.json();
    assert!(
        thinking["message"]["thinking"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    body["think"] = json!(false);
    let plain = post(mock.addr(), "/api/chat", body).await.json();
    assert!(plain["message"].get("thinking").is_none());
}

/// 22
#[tokio::test]
async fn think_on_a_non_thinking_model_is_400_but_false_is_accepted() {
    let mock = builtin_mock().await;
    for think in [json!(true), json!("high")] {
        let mut body = chat("llama3.2", "q");
        body["think"] = think;
        let response = post(mock.addr(), "/api/chat", body).await;
        assert_eq!(
            (response.status, response.text()),
            (
                400,
                r#"{"error":"\"llama3.2\" does not support thinking"}"#.into()
            )
        );
    }
    let mut body = chat("llama3.2", "q");
    body["think"] = json!(false);
    assert_eq!(
        post(mock.addr(), "/api/chat", body.clone()).await.status,
        200
    );
    body["think"] = json!("extreme");
    let invalid = post(mock.addr(), "/api/chat", body).await;
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid think value: \"extreme\"")
    );
}

/// 23
#[tokio::test]
async fn tools_on_a_model_without_tools_is_400() {
    let mock = builtin_mock().await;
    let mut body = chat("llava:7b", "q");
    body["tools"] = weather_tool();
    let response = post(mock.addr(), "/api/chat", body).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json()["error"],
        "registry.ollama.ai/library/llava:7b does not support tools"
    );
    let embed_model = post(mock.addr(), "/api/chat", chat("nomic-embed-text", "q")).await;
    assert_eq!(
        embed_model.json()["error"],
        "\"nomic-embed-text\" does not support chat"
    );
}

/// 24
#[tokio::test]
async fn empty_messages_load_and_keep_alive_zero_unloads() {
    let mock = builtin_mock().await;
    let load = post(
        mock.addr(),
        "/api/chat",
        json!({"model": "llama3.2", "messages": []}),
    )
    .await;
    assert_eq!(load.header("content-type"), Some(JSON_UTF8));
    assert_eq!(
        load.text(),
        r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}"#
    );
    for keep_alive in [json!(0), json!("0"), json!("0s")] {
        let unload = post(
            mock.addr(),
            "/api/chat",
            json!({"model": "llama3.2", "keep_alive": keep_alive}),
        )
        .await;
        assert_eq!(unload.json()["done_reason"], "unload", "{keep_alive}");
    }
    let generate = post(mock.addr(), "/api/generate", json!({"model": "llama3.2"})).await;
    assert_eq!(generate.json()["done_reason"], "load");
}

/// 25
#[tokio::test]
async fn non_stream_concatenates_content_and_thinking_with_final_metrics() {
    let mock = mock_with(r#"{"rules":[{"reply":{"thinking":"Think hard.","text":"Hello there, friend.","stats":{"prompt_eval_count":26,"eval_count":42}}}]}"#).await;
    let mut body = chat("qwen3:0.6b", "q");
    body["stream"] = json!(false);
    let response = post(mock.addr(), "/api/chat", body).await;
    assert_eq!(response.header("content-type"), Some(JSON_UTF8));
    assert!(response.header("content-length").is_some());
    let whole = response.json();
    assert_eq!(whole["message"]["content"], "Hello there, friend.");
    assert_eq!(whole["message"]["thinking"], "Think hard.");
    assert_eq!(whole["done_reason"], "stop");
    assert_eq!(
        (
            whole["prompt_eval_count"].clone(),
            whole["eval_count"].clone()
        ),
        (json!(26), json!(42))
    );
}

/// 26
#[tokio::test]
async fn scripted_pre_stream_errors_have_their_status_and_json_body() {
    let mock = mock_with(
        r#"{"rules":[
            {"match":{"last_user_contains":"400"},"faults":[{"kind":"http_error","status":400,"message":"bad thing"}]},
            {"match":{"last_user_contains":"500"},"faults":[{"kind":"http_error","status":500}]},
            {"match":{"last_user_contains":"429"},"faults":[{"kind":"http_error","status":429,"retry_after":"2"}]}
        ]}"#,
    )
    .await;
    let bad = post(mock.addr(), "/api/chat", chat("llama3.2", "400")).await;
    assert_eq!(
        (bad.status, bad.text()),
        (400, r#"{"error":"bad thing"}"#.into())
    );
    assert_eq!(bad.header("content-type"), Some(JSON_UTF8));
    let internal = post(mock.addr(), "/api/chat", chat("llama3.2", "500")).await;
    assert_eq!(internal.status, 500);
    assert!(
        internal.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("model runner has unexpectedly stopped")
    );
    let limited = post(mock.addr(), "/api/chat", chat("llama3.2", "429")).await;
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (429, Some("2"))
    );
    assert!(!limited.text().contains('\n'), "no NDJSON");
}

/// 27
#[tokio::test]
async fn mid_stream_error_line_ends_the_stream_without_done() {
    let mock = mock_with(r#"{"rules":[{"reply":{"text":"a b c d"},"faults":[{"kind":"error_line","after":2,"message":"an error was encountered while running the model: unexpected EOF"}]}]}"#).await;
    let response = post(mock.addr(), "/api/chat", chat("llama3.2", "x")).await;
    assert_eq!(response.status, 200);
    let lines = response.lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#
    );
    assert!(!response.text().contains(r#""done":true"#));
    assert!(response.terminated);
}

/// 28
#[tokio::test]
async fn abrupt_eof_closes_the_connection_without_done_or_error() {
    let mock = mock_with(
        r#"{"rules":[{"reply":{"text":"a b c d"},"faults":[{"kind":"disconnect","after":2}]}]}"#,
    )
    .await;
    let response = post(mock.addr(), "/api/chat", chat("llama3.2", "x")).await;
    assert_eq!(response.lines().len(), 2);
    assert!(!response.terminated, "aborted, not a clean end of body");
    assert!(!response.text().contains("error"));
}

/// 29
#[tokio::test]
async fn canceled_and_busy_use_ollamas_exact_messages() {
    let mock = mock_with(
        r#"{"rules":[
            {"match":{"last_user_contains":"cancel"},"faults":[{"kind":"http_error","status":499}]},
            {"match":{"last_user_contains":"busy"},"faults":[{"kind":"http_error","status":503}]}
        ]}"#,
    )
    .await;
    let canceled = post(mock.addr(), "/api/chat", chat("llama3.2", "cancel")).await;
    assert_eq!(
        (canceled.status, canceled.text()),
        (499, r#"{"error":"request canceled"}"#.into())
    );
    let busy = post(mock.addr(), "/api/chat", chat("llama3.2", "busy")).await;
    assert_eq!(busy.status, 503);
    assert_eq!(
        busy.text(),
        r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#
    );
}

/// 30
#[tokio::test]
async fn wrong_option_types_are_500_and_unknown_options_are_ignored() {
    let mock = builtin_mock().await;
    let mut body = chat("llama3.2", "x");
    body["options"] = json!({"stop": "\n"});
    let response = post(mock.addr(), "/api/chat", body.clone()).await;
    assert_eq!(
        (response.status, response.text()),
        (
            500,
            r#"{"error":"option \"stop\" must be of type array"}"#.into()
        )
    );
    body["options"] = json!({"not_an_option": [1, 2], "temperature": 0});
    assert_eq!(post(mock.addr(), "/api/chat", body).await.status, 200);
}

/// 31
#[tokio::test]
async fn num_predict_truncates_with_length_and_matching_eval_count() {
    let mock = mock_with(r#"{"rules":[{"match":{"last_user_contains":"script"},"reply":{"text":"one two three four five six"}}]}"#).await;
    for prompt in ["script", "generated"] {
        let mut body = chat("llama3.2", prompt);
        body["options"] = json!({"num_predict": 3});
        let lines = post(mock.addr(), "/api/chat", body).await.json_lines();
        let last = lines.last().unwrap();
        assert_eq!(last["done_reason"], "length", "{prompt}");
        assert_eq!(last["eval_count"], 3, "{prompt}");
        assert_eq!(lines.len(), 4, "three tokens and the done line ({prompt})");
    }
}

/// 32
#[tokio::test]
async fn strings_are_escaped_like_go() {
    let mock = mock_with(r#"{"rules":[{"reply":{"chunks":[{"content":"<b>&</b>"}]}}]}"#).await;
    let response = post(mock.addr(), "/api/chat", chat("llama3.2", "x")).await;
    assert!(response.lines()[0].contains(r#""content":"\u003cb\u003e\u0026\u003c/b\u003e""#));
}

/// 33
#[tokio::test]
async fn python_sdk_style_bodies_are_accepted() {
    let mock = builtin_mock().await;
    let body = json!({
        "model": "llama3.2", "stream": false, "tools": [], "format": "", "keep_alive": "5m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]},
            {"role": "tool", "content": "42", "tool_name": "f"},
            {"role": "user", "content": "and?"}
        ]
    });
    assert_eq!(
        post(mock.addr(), "/api/chat", body.clone()).await.status,
        200
    );
    let mut numeric = body;
    numeric["keep_alive"] = json!(300);
    assert_eq!(post(mock.addr(), "/api/chat", numeric).await.status, 200);
}

/// 34
#[tokio::test]
async fn client_disconnect_mid_stream_is_journaled_and_the_server_keeps_serving() {
    let mock = mock_with(r#"{"timing":{"ttft_ms":0,"chunk_delay_ms":50},"rules":[]}"#).await;
    let mock = {
        // Real time for this test: the disconnect must happen while chunks are pending.
        let scenario = (*mock.state().scenario()).clone();
        drop(mock);
        mock_ollama::MockOllama::builder()
            .scenario(scenario)
            .time_scale(1.0)
            .start()
            .await
            .unwrap()
    };
    let client = reqwest::Client::new();
    let mut response = client
        .post(format!("{}/api/chat", mock.url()))
        .json(&chat("llama3.2", "x"))
        .send()
        .await
        .unwrap();
    assert!(response.chunk().await.unwrap().is_some());
    drop(response);
    let mut disconnected = false;
    for _ in 0..100 {
        if mock
            .journal()
            .last()
            .is_some_and(|entry| entry.client_disconnected)
        {
            disconnected = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(disconnected, "journal records the early hang-up");
    assert_eq!(raw(mock.addr(), "GET", "/", "").await.status, 200);
}

/// 35
#[tokio::test]
async fn unknown_paths_are_404_text_and_wrong_methods_405() {
    let mock = builtin_mock().await;
    let missing = raw(mock.addr(), "GET", "/api/nothing", "").await;
    assert_eq!(
        (missing.status, missing.text()),
        (404, "404 page not found".into())
    );
    assert_eq!(
        missing.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let wrong = raw(mock.addr(), "GET", "/api/chat", "").await;
    assert_eq!(
        (wrong.status, wrong.text()),
        (405, "405 method not allowed".into())
    );
    let wrong_post = raw(mock.addr(), "POST", "/api/tags", "{}").await;
    assert_eq!(wrong_post.status, 405);
}

/// 36
#[tokio::test]
async fn every_request_is_journaled_with_headers_and_parsed_body() {
    let mock = builtin_mock().await;
    let body = chat("llama3.2", "journal me");
    post(mock.addr(), "/api/chat", body.clone()).await;
    raw(mock.addr(), "GET", "/nope", "").await;
    let journal = mock.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].method, "POST");
    assert_eq!(journal[0].path, "/api/chat");
    assert_eq!(journal[0].body, body);
    assert_eq!(
        journal[0].headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert!(!journal[0].client_disconnected);
    assert_eq!(journal[1].path, "/nope");
}

/// 37
#[tokio::test]
async fn same_scenario_and_request_give_byte_identical_output_across_servers() {
    let scenario = r#"{"timing":{"jitter_ms":5},"rules":[{"match":{"last_user_contains":"tool"},"reply":{"chunks":[{"tool_calls":[{"function":{"name":"get_weather","arguments":{}}}]}]}}]}"#;
    let a = mock_with(scenario).await;
    let b = mock_with(scenario).await;
    for text in ["tool", "free text"] {
        let mut body = chat("llama3.2", text);
        body["tools"] = weather_tool();
        let from_a = post(a.addr(), "/api/chat", body.clone()).await;
        let from_b = post(b.addr(), "/api/chat", body).await;
        assert_eq!(from_a.body, from_b.body, "{text}");
    }
}

/// Generate endpoint mirrors chat with `response` and `context`.
#[tokio::test]
async fn generate_streams_response_chunks_and_final_context() {
    let mock =
        mock_with(r#"{"rules":[{"match":{"endpoint":"generate"},"reply":{"text":"Why hello"}}]}"#)
            .await;
    let lines = post(
        mock.addr(),
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "hi"}),
    )
    .await
    .json_lines();
    assert_eq!(lines[0]["response"], "Why");
    assert_eq!(lines[1]["response"], " hello");
    let last = lines.last().unwrap();
    assert_eq!(
        (last["response"].clone(), last["done"].clone()),
        (json!(""), json!(true))
    );
    assert!(last["context"].is_array());
    let whole = post(
        mock.addr(),
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "hi", "stream": false}),
    )
    .await
    .json();
    assert_eq!(whole["response"], "Why hello");
    let raw_mode = post(
        mock.addr(),
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "hi", "raw": true, "system": "s"}),
    )
    .await;
    assert_eq!(raw_mode.status, 400);
}

/// Strict mode names the unmatched request.
#[tokio::test]
async fn strict_mode_rejects_unmatched_requests_naming_them() {
    let mock = mock_ollama::MockOllama::builder()
        .strict(true)
        .start()
        .await
        .unwrap();
    let response = post(mock.addr(), "/api/chat", chat("llama3.2", "what is this")).await;
    assert_eq!(response.status, 500);
    let message = response.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("strict mode"), "{message}");
    assert!(
        message.contains("/api/chat") && message.contains("what is this"),
        "{message}"
    );
}

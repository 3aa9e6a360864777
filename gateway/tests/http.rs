//! The HTTP surface: validation envelopes, routes, request ids, CORS, body limits, the tutorial's
//! endpoints, health, client disconnects and graceful shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{chat, harness, harness_with};
use serde_json::{Value, json};

#[tokio::test]
async fn invalid_requests_get_400_envelopes_naming_the_param() {
    let h = harness("{}").await;
    let m = |v: Value| v;
    let cases: Vec<(Value, &str)> = vec![
        (
            m(chat("llama3.2", "x", json!({"temperature": 2.5}))),
            "temperature",
        ),
        (m(chat("llama3.2", "x", json!({"top_p": 1.5}))), "top_p"),
        (
            m(chat("llama3.2", "x", json!({"max_tokens": 0}))),
            "max_tokens",
        ),
        (
            m(chat("llama3.2", "x", json!({"max_completion_tokens": -3}))),
            "max_completion_tokens",
        ),
        (m(chat("llama3.2", "x", json!({"n": 2}))), "n"),
        (
            m(chat(
                "llama3.2",
                "x",
                json!({"stop": ["a", "b", "c", "d", "e"]}),
            )),
            "stop",
        ),
        (m(chat("llama3.2", "x", json!({"stop": [1]}))), "stop"),
        (
            m(chat(
                "llama3.2",
                "x",
                json!({"tools": [{"type": "function", "function": {"name": "bad name"}}]}),
            )),
            "tools.[0].function.name",
        ),
        (m(chat("llama3.2", "x", json!({"tools": []}))), "tools"),
        (
            m(chat(
                "llama3.2",
                "x",
                json!({"stream_options": {"include_usage": true}}),
            )),
            "stream_options",
        ),
        (
            m(chat(
                "llama3.2",
                "x",
                json!({"logprobs": false, "top_logprobs": 3}),
            )),
            "top_logprobs",
        ),
        (
            json!({"model": "llama3.2", "messages": [{"role": "tool", "content": "42"}]}),
            "messages.[0].tool_call_id",
        ),
        (
            json!({"model": "llama3.2", "messages": [{"role": "robot", "content": "x"}]}),
            "messages.[0].role",
        ),
        (
            json!({"model": "llama3.2", "messages": [{"role": "user", "content": {"text": "x"}}]}),
            "messages.[0].content",
        ),
        (
            json!({"model": "llama3.2", "messages": "hello"}),
            "messages",
        ),
    ];
    for (body, param) in cases {
        let reply = h.post("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, 400, "{body} -> {}", reply.body);
        assert_eq!(reply.content_type(), "application/json");
        let error = &reply.json()["error"];
        assert_eq!(error["type"], "invalid_request_error", "{body}");
        assert_eq!(error["param"], param, "{body}");
        assert!(error["code"].is_null() || error["code"].is_string());
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(
        h.mock.requests_to("/api/chat").is_empty(),
        "nothing invalid reached the upstream"
    );
}

#[tokio::test]
async fn malformed_json_is_400_never_422_or_500() {
    let h = harness("{}").await;
    for body in [
        "",
        "{",
        "not json",
        "[1,2]",
        "null",
        r#"{"model":"llama3.2","messages":[{"role":"user","content":"x"}"#,
    ] {
        let reply = h.post_raw("/v1/chat/completions", body.to_owned()).await;
        assert_eq!(reply.status, 400, "{body:?}");
        assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_envelopes() {
    let h = harness_with("{}", |config| config.body_limit_bytes = 1024, 0.0).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", &"x".repeat(4096), json!({})),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["error"]["code"], "request_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_far_over_the_limit_still_gets_the_413_not_a_broken_pipe() {
    // Answering while the client still writes, then closing, would reset the connection under a
    // large body: the client must read the 413 instead.
    // The race is the scheduler's: client and server on threads of their own, several attempts.
    let h = harness_with("{}", |config| config.body_limit_bytes = 1024 * 1024, 0.0).await;
    let body = chat("llama3.2", &"word ".repeat(6 * 1024 * 1024), json!({})).to_string();
    for _ in 0..4 {
        let reply = h.post_raw("/v1/chat/completions", body.clone()).await;
        assert_eq!(reply.status, 413);
        assert_eq!(reply.json()["error"]["code"], "request_too_large");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_envelopes() {
    let h = harness("{}").await;
    let missing = h.get("/v1/nothing").await;
    assert_eq!(
        (missing.status, missing.json()["error"]["code"].clone()),
        (404, json!("unknown_url"))
    );
    let wrong = h.get("/v1/chat/completions").await;
    assert_eq!(
        (wrong.status, wrong.json()["error"]["code"].clone()),
        (405, json!("method_not_allowed"))
    );
}

#[tokio::test]
async fn request_id_is_generated_returned_and_forwarded() {
    let h = harness("{}").await;
    let generated = h
        .post("/v1/chat/completions", &chat("llama3.2", "x", json!({})))
        .await;
    let id = generated.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID");
    assert_eq!(
        h.mock.requests_to("/api/chat")[0].headers["x-request-id"],
        id
    );
    let given = h
        .client
        .post(h.url("/v1/chat/completions"))
        .header("x-request-id", "trace-me-42")
        .json(&chat("llama3.2", "x", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    assert_eq!(
        h.mock.requests_to("/api/chat")[1].headers["x-request-id"],
        "trace-me-42"
    );
}

/// `GET /v1/models` as a browser page from `origin` would send it.
async fn models_from(h: &common::Harness, origin: &str) -> reqwest::Response {
    h.client
        .get(h.url("/v1/models"))
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_is_off_by_default_and_exact_when_configured() {
    let h = harness("{}").await;
    let plain = models_from(&h, "http://evil.example").await;
    assert!(plain.headers().get("access-control-allow-origin").is_none());

    let h = harness_with(
        "{}",
        |config| {
            config.cors.allowed_origins = vec!["http://app.example".into()];
            config.cors.allow_credentials = true;
        },
        0.0,
    )
    .await;
    let allowed = models_from(&h, "http://app.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = models_from(&h, "http://evil.example").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn tutorial_endpoints_work() {
    let h = harness(r#"{"rules":[{"reply":{"text":"Hi from the tutorial"}}]}"#).await;
    let about = h.get("/").await.json();
    assert_eq!(about["name"], "llm-gateway");
    assert!(about["version"].is_string());
    let reply = h
        .post("/chat", &json!({"message": "hello", "temperature": 0.2}))
        .await;
    assert_eq!(reply.json(), json!({"response": "Hi from the tutorial"}));
    assert_eq!(h.upstream_request()["options"]["temperature"], 0.2);
    let missing = h.post("/chat", &json!({"temperature": 0.2})).await;
    assert_eq!(
        (missing.status, missing.json()["error"]["param"].clone()),
        (400, json!("message"))
    );
    let too_hot = h
        .post("/chat", &json!({"message": "x", "temperature": 9}))
        .await;
    assert_eq!(too_hot.status, 400);

    let stream = h.post("/stream", &json!({"message": "hello"})).await;
    assert_eq!(stream.content_type(), "text/event-stream");
    let frames: Vec<&str> = stream
        .body
        .split("\n\n")
        .filter(|f| !f.is_empty())
        .collect();
    assert!(
        frames
            .iter()
            .all(|f| f.starts_with("event: message\ndata: "))
    );
    assert_eq!(
        frames[0],
        r#"event: message
data: {"content":"Hi","done":false}"#
    );
    assert_eq!(
        *frames.last().unwrap(),
        r#"event: message
data: {"content":"","done":true}"#
    );
}

#[tokio::test]
async fn health_reports_each_backend() {
    let h = harness("{}").await;
    let reply = h.get("/health").await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["backends"][0]["name"], "mock");
    assert_eq!(body["backends"][0]["status"], "ok");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let down = harness_with("{}", |config| config.backends[0].base_url = dead, 0.0).await;
    let reply = down.get("/health").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["backends"][0]["status"], "unreachable");
}

#[tokio::test]
async fn client_disconnect_drops_the_upstream_request_promptly() {
    let h = harness_with(
        r#"{"timing":{"ttft_ms":0,"chunk_delay_ms":30},"rules":[]}"#,
        |_| {},
        1.0,
    )
    .await;
    let response = h
        .open_stream(&chat(
            "llama3.2",
            "a long answer please",
            json!({"stream": true}),
        ))
        .await;
    let hung_up = Instant::now();
    drop(response);
    let mut noticed = None;
    while hung_up.elapsed() < Duration::from_secs(5) {
        if h.mock
            .journal()
            .last()
            .is_some_and(|entry| entry.client_disconnected)
        {
            noticed = Some(hung_up.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let noticed = noticed.expect("the mock saw the gateway hang up");
    // Reported, not asserted as a deadline: timing belongs to benchmarks.
    eprintln!("upstream dropped {noticed:?} after the client hung up");
}

#[tokio::test]
async fn graceful_shutdown_lets_an_open_stream_finish() {
    let h = harness_with(r#"{"rules":[{"reply":{"text":"one two three four"},"timing":{"ttft_ms":0,"chunk_delay_ms":40}}]}"#, |_| {}, 1.0).await;
    let response = h
        .open_stream(&chat("llama3.2", "x", json!({"stream": true})))
        .await;
    let common::Harness { gateway, mock, .. } = h;
    let shutdown = tokio::spawn(gateway.shutdown());
    let rest = String::from_utf8(common::drain(response).await).unwrap();
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    shutdown.await.unwrap();
    drop(mock);
}

#[tokio::test]
async fn server_timing_reports_gateway_and_upstream_time_apart() {
    let h = harness_with(
        r#"{"rules":[{"reply":{"text":"slow upstream"},"timing":{"ttft_ms":60,"chunk_delay_ms":0}}]}"#,
        |_| {},
        1.0,
    )
    .await;
    let reply = h
        .post("/v1/chat/completions", &chat("llama3.2", "x", json!({})))
        .await;
    let timing = reply.headers["server-timing"].to_str().unwrap().to_owned();
    let duration = |name: &str| -> f64 {
        timing
            .split(", ")
            .find_map(|part| part.strip_prefix(&format!("{name};dur=")))
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {timing:?}"))
    };
    // The mock held the reply for 60 ms: that wait is the upstream's, not the gateway's.
    assert!(duration("upstream") >= 55.0, "{timing}");
    assert!(duration("gateway") >= 0.0, "{timing}");
}

#[tokio::test]
async fn metrics_expose_the_overhead_histogram() {
    let h = harness("{}").await;
    h.post("/v1/chat/completions", &chat("llama3.2", "x", json!({})))
        .await;
    let metrics = h.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type().starts_with("text/plain"));
    let count = metrics
        .body
        .lines()
        .find_map(|line| line.strip_prefix("gateway_overhead_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert!(count >= 1, "{}", metrics.body);
    assert!(
        metrics
            .body
            .contains("gateway_upstream_wait_seconds_bucket{le=")
    );
}

//! Retries and failover before the first byte, against real sockets: a backend that refuses
//! connections is passed over for the next one serving the model, a 503 with `Retry-After` is
//! waited out, and nothing is retried that the client could already have seen or that is the
//! upstream's final word.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Harness, chat, harness_with};
use gateway::{BackendConfig, RetryPolicy};
use serde_json::json;

const SCENARIO: &str = r#"{"rules": [
  {"name": "flaky-once", "match": {"last_user_contains": "[flaky]", "nth": 1},
   "faults": [{"kind": "http_error", "status": 503, "message": "loading model", "retry_after": "1"}]},
  {"name": "flaky-then-fine", "match": {"last_user_contains": "[flaky]"}, "reply": {"text": "back again"}},
  {"name": "down-for-long", "match": {"last_user_contains": "[long]"},
   "faults": [{"kind": "http_error", "status": 503, "message": "maintenance", "retry_after": "60"}]},
  {"name": "always-503", "match": {"last_user_contains": "[always]"},
   "faults": [{"kind": "http_error", "status": 503, "message": "overloaded"}]},
  {"name": "refuses", "match": {"last_user_contains": "[refuse]"},
   "faults": [{"kind": "http_error", "status": 400, "message": "bad prompt"}]},
  {"name": "dies", "match": {"last_user_contains": "[die]"}, "reply": {"text": "one two three"},
   "faults": [{"kind": "error_line", "after": 1, "message": "engine died"}]}
]}"#;

/// An address where nothing listens: bound, then released.
fn refusing_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The mock behind a gateway with quick backoffs; `tweak` adjusts the configuration.
async fn harness(tweak: impl FnOnce(&mut gateway::Config)) -> Harness {
    harness_with(
        SCENARIO,
        |config| {
            config.backends[0].retry = RetryPolicy {
                attempts: 3,
                backoff_ms: 10,
                max_backoff_ms: 20,
                max_retry_after_ms: 5_000,
            };
            tweak(config);
        },
        0.0,
    )
    .await
}

fn chats_seen(h: &Harness) -> usize {
    h.mock.requests_to("/api/chat").len()
}

/// The value of `gateway_upstream_attempts_total` for `backend` and `outcome`.
async fn attempts(h: &Harness, backend: &str, outcome: &str) -> u64 {
    let metrics = h.get("/metrics").await.body;
    let series =
        format!("gateway_upstream_attempts_total{{backend=\"{backend}\",outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| count.parse().unwrap())
}

#[tokio::test]
async fn a_backend_refusing_connections_is_passed_over_for_the_next_serving_the_model() {
    let h = harness(|config| {
        let mut down: BackendConfig = config.backends[0].clone();
        down.name = "down".to_owned();
        down.base_url = refusing_url();
        down.models = Some(vec!["llama3.2".to_owned()]);
        config.backends.insert(0, down);
    })
    .await;
    for stream in [false, true] {
        let reply = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "hello", json!({"stream": stream})),
            )
            .await;
        assert_eq!(reply.status, 200, "stream {stream}: {}", reply.body);
    }
    assert_eq!(chats_seen(&h), 2, "the second backend answered both");
    assert!(attempts(&h, "down", "unreachable").await >= 2);
    assert_eq!(attempts(&h, "mock", "ok").await, 2);
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out_then_answered() {
    let h = harness(|_| {}).await;
    let started = Instant::now();
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "[flaky]", json!({})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        "back again"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(chats_seen(&h), 2);
    assert_eq!(attempts(&h, "mock", "status_503").await, 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_passed_to_the_client_at_once() {
    let h = harness(|_| {}).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "[long]", json!({})),
        )
        .await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert_eq!(reply.headers["retry-after"], "60");
    assert_eq!(reply.json()["error"]["message"], "maintenance");
    assert_eq!(chats_seen(&h), 1, "not tried again");
}

#[tokio::test]
async fn tries_stop_at_the_policys_attempts() {
    let h = harness(|_| {}).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "[always]", json!({})),
        )
        .await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "upstream_error");
    assert_eq!(chats_seen(&h), 3, "retry.attempts = 3");
}

#[tokio::test]
async fn the_upstreams_final_word_and_a_begun_stream_are_not_retried() {
    let h = harness(|_| {}).await;
    let refused = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "[refuse]", json!({})),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(chats_seen(&h), 1);
    let died = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "[die]", json!({"stream": true})),
        )
        .await;
    assert_eq!(died.status, 200);
    let events = died.events();
    assert!(events.last().unwrap()["error"].is_object(), "{events:?}");
    assert_eq!(
        chats_seen(&h),
        2,
        "the stream that broke was not sent again"
    );
}

const SLOW: &str = r#"{"rules": [{"match": {"last_user_contains": "[slow]"},
    "reply": {"chunks": [{"content": "a"}, {"content": "b", "delay_ms": 2000}]}}]}"#;

#[tokio::test]
async fn a_backend_at_its_bound_passes_the_request_to_the_next_serving_the_model() {
    let h = harness_with(
        SLOW,
        |config| {
            let mut spare = config.backends[0].clone();
            spare.name = "spare".to_owned();
            config.backends[0].max_concurrent_requests = Some(1);
            config.backends.push(spare);
        },
        1.0,
    )
    .await;
    let _open = h
        .open_stream(&chat("llama3.2", "[slow]", json!({"stream": true})))
        .await;
    let passed_on = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({})),
        )
        .await;
    assert_eq!(passed_on.status, 200, "{}", passed_on.body);
    assert_eq!(attempts(&h, "mock", "busy").await, 1);
    assert_eq!(attempts(&h, "spare", "ok").await, 1);
}

#[tokio::test]
async fn a_backend_at_its_bound_with_no_other_answers_503_until_a_place_is_freed() {
    let h = harness_with(
        SLOW,
        |config| config.backends[0].max_concurrent_requests = Some(1),
        1.0,
    )
    .await;
    let open = h
        .open_stream(&chat("llama3.2", "[slow]", json!({"stream": true})))
        .await;
    let busy = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({})),
        )
        .await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.headers["retry-after"], "1");
    let error = &busy.json()["error"];
    assert_eq!(error["code"], "overloaded");
    assert!(
        error["message"].as_str().unwrap().contains("mock"),
        "{error}"
    );
    assert_eq!(chats_seen(&h), 1, "the busy backend was not called");
    drop(open);
    // The hang-up frees the place.
    let mut freed = false;
    for _ in 0..100 {
        let reply = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "hello", json!({})),
            )
            .await;
        if reply.status == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "the place came back after the client hung up");
}

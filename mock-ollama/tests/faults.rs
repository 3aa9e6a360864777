//! Every fault kind, observed byte for byte through a raw HTTP client, streamed and not.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{mock_with, post, raw};
use serde_json::{Value, json};

fn chat(stream: bool) -> Value {
    json!({"model": "llama3.2", "stream": stream, "messages": [{"role": "user", "content": "go"}]})
}

fn scenario(faults: &str) -> String {
    format!(r#"{{"rules":[{{"reply":{{"text":"alpha beta gamma"}},"faults":[{faults}]}}]}}"#)
}

const LINE0: &str = r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00.021Z","message":{"role":"assistant","content":"alpha"},"done":false}"#;
const LINE1: &str = r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00.041Z","message":{"role":"assistant","content":" beta"},"done":false}"#;

#[tokio::test]
async fn http_error_with_raw_html_body_and_content_type() {
    let mock = mock_with(&scenario(
        r#"{"kind":"http_error","status":502,"body":"<html>bad gateway</html>","content_type":"text/html"}"#,
    ))
    .await;
    for stream in [true, false] {
        let response = post(mock.addr(), "/api/chat", chat(stream)).await;
        assert_eq!(response.status, 502);
        assert_eq!(response.header("content-type"), Some("text/html"));
        assert_eq!(response.text(), "<html>bad gateway</html>");
    }
}

#[tokio::test]
async fn error_line_in_a_non_stream_reply_is_a_500_json_error() {
    let mock = mock_with(&scenario(
        r#"{"kind":"error_line","after":1,"message":"runner crashed"}"#,
    ))
    .await;
    let response = post(mock.addr(), "/api/chat", chat(false)).await;
    assert_eq!(
        (response.status, response.text()),
        (500, r#"{"error":"runner crashed"}"#.into())
    );
}

#[tokio::test]
async fn clean_disconnect_ends_the_body_properly_but_without_done() {
    let mock = mock_with(&scenario(r#"{"kind":"disconnect","after":1,"clean":true}"#)).await;
    let response = post(mock.addr(), "/api/chat", chat(true)).await;
    assert_eq!(response.text(), format!("{LINE0}\n"));
    assert!(response.terminated);
}

#[tokio::test]
async fn disconnect_in_a_non_stream_reply_sends_a_head_and_no_body() {
    let mock = mock_with(&scenario(r#"{"kind":"disconnect","after":3}"#)).await;
    let response = post(mock.addr(), "/api/chat", chat(false)).await;
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
    assert!(!response.terminated);
}

#[tokio::test]
async fn malformed_line_is_inserted_and_the_stream_carries_on() {
    let mock = mock_with(&scenario(
        r#"{"kind":"malformed_line","after":1,"line":"{not json"}"#,
    ))
    .await;
    let response = post(mock.addr(), "/api/chat", chat(true)).await;
    let lines = response.lines();
    assert_eq!(lines[0], LINE0);
    assert_eq!(lines[1], "{not json");
    assert_eq!(lines[2], LINE1);
    assert!(lines.last().unwrap().contains(r#""done":true"#));
    assert!(response.terminated);
}

#[tokio::test]
async fn truncated_line_sends_half_a_line_then_aborts() {
    let mock = mock_with(&scenario(r#"{"kind":"truncated_line","after":1}"#)).await;
    let response = post(mock.addr(), "/api/chat", chat(true)).await;
    let second_line = format!("{LINE1}\n");
    let half = &second_line[..second_line.len() / 2];
    assert_eq!(response.text(), format!("{LINE0}\n{half}"));
    assert!(!response.terminated);
    let whole = post(mock.addr(), "/api/chat", chat(false)).await;
    assert!(!whole.body.is_empty());
    assert!(
        serde_json::from_slice::<Value>(&whole.body).is_err(),
        "half an object"
    );
}

#[tokio::test]
async fn stall_withholds_bytes_for_real_time_even_at_time_scale_zero() {
    let mock = mock_with(&scenario(r#"{"kind":"stall","after":1,"ms":300}"#)).await;
    let client = reqwest::Client::new();
    let mut response = client
        .post(format!("{}/api/chat", mock.url()))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    assert_eq!(first, format!("{LINE0}\n").as_bytes());
    let started = Instant::now();
    let second = response.chunk().await.unwrap().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(second, format!("{LINE1}\n").as_bytes());
}

#[tokio::test]
async fn drip_sends_every_byte_as_its_own_chunk() {
    let mock = mock_with(&scenario(r#"{"kind":"drip","byte_delay_ms":0}"#)).await;
    let response = post(mock.addr(), "/api/chat", chat(true)).await;
    assert!(response.chunks.len() > 100);
    assert!(response.chunks.iter().all(|chunk| chunk.len() == 1));
    assert!(response.text().starts_with(LINE0));
    assert!(response.terminated);
}

#[tokio::test]
async fn faults_leave_the_server_serving() {
    let mock = mock_with(&scenario(r#"{"kind":"truncated_line","after":0}"#)).await;
    for _ in 0..3 {
        post(mock.addr(), "/api/chat", chat(true)).await;
    }
    assert_eq!(
        raw(mock.addr(), "GET", "/api/version", "").await.status,
        200
    );
}

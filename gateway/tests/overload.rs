//! What one client may hold of the gateway, tried with real sockets: connections that send
//! nothing, a request head that never ends, an idle kept-alive connection and a body that never
//! completes are all closed or answered within their deadlines; a flood above the bound on
//! requests in flight gets 503s with `Retry-After` while the requests within it carry on.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Harness, chat, harness_with};
use futures_util::future::join_all;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const SLOW: &str = r#"{"rules": [{"match": {"last_user_contains": "[slow]"},
    "reply": {"chunks": [{"content": "a"}, {"content": "b", "delay_ms": 1500}]}}]}"#;

/// A gateway with short client deadlines and a bound of `bound` requests in flight.
async fn harness(bound: usize) -> Harness {
    harness_with(
        SLOW,
        |config| {
            config.server.header_read_timeout_ms = 300;
            config.server.body_read_timeout_ms = 300;
            config.server.max_concurrent_requests = bound;
        },
        1.0,
    )
    .await
}

/// Reads until the gateway closes the connection (at most 5 s): what it sent, or `None` when it
/// kept the connection open that long.
async fn read_until_closed(tcp: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            match tcp.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    closed
        .is_ok()
        .then(|| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed() {
    let h = harness(64).await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(h.gateway.addr()).await.unwrap());
    }
    let closed = join_all(silent.iter_mut().map(read_until_closed)).await;
    assert!(
        closed.iter().all(|sent| sent.as_deref() == Some("")),
        "every silent connection was closed without a word: {closed:?}"
    );
    assert_eq!(
        h.get("/health").await.status,
        200,
        "and the gateway serves on"
    );
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_closed() {
    let h = harness(64).await;
    let mut tcp = TcpStream::connect(h.gateway.addr()).await.unwrap();
    tcp.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: appl")
        .await
        .unwrap();
    assert!(read_until_closed(&mut tcp).await.is_some(), "closed");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let h = harness(64).await;
    let mut tcp = TcpStream::connect(h.gateway.addr()).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .unwrap();
    let answered = read_until_closed(&mut tcp).await.expect("closed when idle");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test]
async fn a_body_that_never_completes_gets_a_408_envelope() {
    let h = harness(64).await;
    let mut tcp = TcpStream::connect(h.gateway.addr()).await.unwrap();
    tcp.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"model\":",
    )
    .await
    .unwrap();
    let answered = read_until_closed(&mut tcp).await.expect("answered, closed");
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(
        answered.contains(r#""code":"request_timeout""#),
        "{answered}"
    );
}

#[tokio::test]
async fn a_flood_above_the_bound_gets_503s_while_requests_within_it_carry_on() {
    let h = harness(4).await;
    let slow = chat("llama3.2", "[slow]", json!({"stream": true}));
    let mut within = Vec::new();
    for _ in 0..4 {
        within.push(h.open_stream(&slow).await);
    }
    let hello = chat("llama3.2", "hello", json!({}));
    let flood = join_all((0..32).map(|_| h.post("/v1/chat/completions", &hello))).await;
    for reply in &flood {
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.headers["retry-after"], "1");
        assert_eq!(reply.json()["error"]["code"], "overloaded");
    }
    assert_eq!(h.get("/health").await.status, 200, "health is not bounded");
    let metrics = h.get("/metrics").await.body;
    assert!(
        metrics.contains("gateway_requests_shed_total{bound=\"gateway\"} 32"),
        "{metrics}"
    );
    for stream in within {
        let rest = common::drain(stream).await;
        let text = String::from_utf8(rest).unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"), "finished: {text}");
    }
    let after = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({})),
        )
        .await;
    assert_eq!(after.status, 200, "places freed: {}", after.body);
}

//! The upstream leg's connections (plain HTTP/1.1, driven by the task that uses them): kept
//! alive and reused, replaced when the upstream closed them, and never reused after a reply that
//! was cut short.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, chat};
use gateway::{Config, Gateway};
use mock_ollama::{MockOllama, Scenario};
use serde_json::json;
use tokio::net::TcpListener;

async fn mock_on(listener: TcpListener) -> MockOllama {
    MockOllama::builder()
        .scenario(Scenario::builtin())
        .start_on(listener)
        .unwrap()
}

async fn hello(h: &Harness, stream: bool) -> u16 {
    h.post(
        "/v1/chat/completions",
        &chat("llama3.2", "hello", json!({"stream": stream})),
    )
    .await
    .status
}

#[tokio::test]
async fn a_kept_alive_connection_the_upstream_closed_is_replaced_not_failed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = mock_on(listener).await;
    let mut config = Config::single_ollama("mock", first.url());
    config.backends[0].models = Some(vec!["llama3.2".to_owned()]);
    config.backends[0].retry.attempts = 1;
    let gateway = Gateway::start(config).await.unwrap();
    let mut h = Harness {
        mock: first,
        gateway,
        client: reqwest::Client::new(),
    };
    assert_eq!(hello(&h, false).await, 200);
    assert_eq!(hello(&h, true).await, 200);
    // The upstream restarts on the same address: the pooled connection is dead.
    let placeholder = MockOllama::builder().start().await.unwrap();
    std::mem::replace(&mut h.mock, placeholder).shutdown().await;
    h.mock = mock_on(TcpListener::bind(addr).await.unwrap()).await;
    for stream in [false, true, false] {
        assert_eq!(hello(&h, stream).await, 200, "stream {stream}");
    }
    assert_eq!(h.mock.requests_to("/api/chat").len(), 3);
}

#[tokio::test]
async fn a_reply_the_client_hung_up_on_leaves_no_broken_connection_behind() {
    let h = common::harness(
        r#"{"rules": [{"match": {"last_user_contains": "[slow]"},
            "reply": {"chunks": [{"content": "a"}, {"content": "b", "delay_ms": 300}]}}]}"#,
    )
    .await;
    for _ in 0..3 {
        let open = h
            .open_stream(&chat("llama3.2", "[slow]", json!({"stream": true})))
            .await;
        drop(open);
        assert_eq!(hello(&h, false).await, 200);
        assert_eq!(hello(&h, true).await, 200);
    }
}

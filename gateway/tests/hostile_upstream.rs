//! What an upstream can make the gateway hold: a whole body is read up to the backend's
//! `max_body_bytes` and no further, one line or event of a stream likewise, and the total deadline
//! counts from the request, whatever the upstream keeps sending. The upstreams here are raw
//! sockets on loopback that never stop.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use gateway::{BackendKind, Config, Gateway, Timeouts};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// An upstream that answers every request with `head`, then writes `piece` forever, pausing
/// `pause` between pieces.
async fn endless(head: &'static str, piece: &'static [u8], pause: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0; 8192];
                let _ = socket.read(&mut request).await;
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    if socket.write_all(piece).await.is_err() {
                        return;
                    }
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                }
            });
        }
    });
    url
}

async fn gateway_over(url: String, tweak: impl FnOnce(&mut gateway::BackendConfig)) -> Gateway {
    let mut config = Config::single_ollama("hostile", url);
    config.backends[0].models = Some(vec!["llama3.2".to_owned()]);
    config.backends[0].retry.attempts = 1;
    tweak(&mut config.backends[0]);
    Gateway::start(config).await.unwrap()
}

/// A non-streamed chat through `gateway`, answered within 20 s or the test fails.
async fn whole_chat(gateway: &Gateway) -> (u16, Value) {
    let body = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]});
    let send = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .json(&body)
        .send();
    let response = tokio::time::timeout(Duration::from_secs(20), send)
        .await
        .expect("answered, not held")
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_body_announced_longer_than_the_limit_is_refused_before_it_is_read() {
    let url = endless(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000000000\r\n\r\n",
        &[b' '; 65536],
        Duration::ZERO,
    )
    .await;
    let gateway = gateway_over(url, |_| {}).await;
    let (status, body) = whole_chat(&gateway).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "upstream_too_large");
    assert_eq!(
        body["error"]["message"],
        "The upstream hostile sent a body longer than its limit of 16777216 bytes."
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_at_the_limit() {
    // One 64 KiB chunk after another, never the last.
    let url = endless(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        chunk(&[b' '; 65536]),
        Duration::ZERO,
    )
    .await;
    let gateway = gateway_over(url, |backend| backend.max_body_bytes = 1 << 20).await;
    let (status, body) = whole_chat(&gateway).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "upstream_too_large");
}

#[tokio::test]
async fn the_total_deadline_counts_from_the_request_while_bytes_keep_arriving() {
    // A slow head, then a body that drips within the idle timeout and never ends.
    let url = endless(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n",
        b" ",
        Duration::from_millis(20),
    )
    .await;
    let gateway = gateway_over(url, |backend| {
        backend.timeouts = Timeouts {
            connect_ms: 2_000,
            first_byte_ms: 2_000,
            idle_ms: 1_000,
            total_ms: 600,
        };
    })
    .await;
    let started = std::time::Instant::now();
    let (status, body) = whole_chat(&gateway).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["code"], "upstream_timeout");
    // 1,000,000 bytes at one per 20 ms would take hours: the deadline, not the body, ended it.
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// `piece` as one chunk of chunked coding, for [`endless`] to repeat.
fn chunk(piece: &[u8]) -> &'static [u8] {
    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
    chunk.extend_from_slice(piece);
    chunk.extend_from_slice(b"\r\n");
    chunk.leak()
}

const CHUNKED_SSE: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
const CHUNKED_NDJSON: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n";

/// A streamed chat through `gateway`, which must answer 200 and end its stream within 20 s with
/// an error event (and no `[DONE]`): the `data:` payloads, and that event's error object.
async fn stream_ending_in_error(gateway: &Gateway) -> (Vec<String>, Value) {
    let body = json!({"model": "llama3.2", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]});
    let send = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .json(&body)
        .send();
    let exchange = async { common::parts_of(send.await.unwrap()).await };
    let (status, _, text) = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the stream ended, not held");
    assert_eq!(status, 200, "{text}");
    let data: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(str::to_owned)
        .collect();
    let last: Value = serde_json::from_str(data.last().expect("events")).unwrap();
    assert!(
        last["error"].is_object(),
        "the stream ends with an error event: {data:?}"
    );
    assert!(
        !data.iter().any(|event| event == "[DONE]"),
        "no [DONE] after an error"
    );
    let error = last["error"].clone();
    (data, error)
}

#[tokio::test]
async fn an_sse_event_that_never_ends_ends_the_stream_with_an_error_event() {
    // `data: xxxx…` with no line end, ever.
    let url = endless(CHUNKED_SSE, chunk(&[b'x'; 65536]), Duration::ZERO).await;
    let gateway = gateway_over(url, |backend| {
        backend.kind = BackendKind::Openai;
        backend.max_body_bytes = 1 << 20;
    })
    .await;
    let (_, error) = stream_ending_in_error(&gateway).await;
    assert_eq!(error["code"], "upstream_protocol_error");
    assert_eq!(
        error["message"],
        "The upstream hostile sent an invalid response: an SSE event exceeded 1048576 bytes"
    );
}

#[tokio::test]
async fn an_ndjson_line_that_never_ends_ends_the_stream_with_an_error_event() {
    let url = endless(CHUNKED_NDJSON, chunk(&[b' '; 65536]), Duration::ZERO).await;
    let gateway = gateway_over(url, |backend| backend.max_body_bytes = 1 << 20).await;
    let (_, error) = stream_ending_in_error(&gateway).await;
    assert_eq!(error["code"], "upstream_protocol_error");
    assert_eq!(
        error["message"],
        "The upstream hostile sent an invalid response: an NDJSON line exceeded 1048576 bytes"
    );
}

#[tokio::test]
async fn a_stream_of_valid_chunks_that_never_ends_stops_at_the_total_deadline() {
    // As fast as the socket takes them, each a well-formed Ollama chunk, never `done`.
    let piece = br#"{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x"},"done":false}
"#;
    let url = endless(CHUNKED_NDJSON, chunk(piece), Duration::ZERO).await;
    let gateway = gateway_over(url, |backend| {
        backend.timeouts.total_ms = 500;
    })
    .await;
    let (data, error) = stream_ending_in_error(&gateway).await;
    assert!(data.len() > 2, "content relayed until the deadline");
    assert_eq!(error["code"], "upstream_timeout");
}

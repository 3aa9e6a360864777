//! Every fault mock-ollama can script, streamed and not, and what the client then sees, exactly.
//! Before the response head: an HTTP status with the OpenAI envelope. After it: one SSE error
//! event, and the stream ends (no `[DONE]`, never a clean finish).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, chat, harness, harness_with, redacted};
use serde_json::{Value, json};

fn scenario(faults: &str) -> String {
    format!(r#"{{"rules":[{{"reply":{{"text":"alpha beta gamma"}},"faults":[{faults}]}}]}}"#)
}

/// Status, the headers that matter, and the body (JSON or SSE events).
async fn transcript(h: &Harness, stream: bool) -> Value {
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "go", json!({"stream": stream})),
        )
        .await;
    let body = if reply.content_type() == "text/event-stream" {
        Value::Array(reply.events())
    } else {
        reply.json()
    };
    json!({
        "status": reply.status,
        "content_type": reply.content_type(),
        "retry_after": reply.headers.get("retry-after").map(|v| v.to_str().unwrap()),
        "body": body,
    })
}

async fn both(faults: &str) -> (Value, Value) {
    let h = harness(&scenario(faults)).await;
    (transcript(&h, false).await, transcript(&h, true).await)
}

macro_rules! fault_test {
    ($name:ident, $faults:expr) => {
        #[tokio::test]
        async fn $name() {
            let (whole, streamed) = both($faults).await;
            redacted().bind(|| {
                insta::assert_json_snapshot!(concat!(stringify!($name), "__non_stream"), whole);
                insta::assert_json_snapshot!(concat!(stringify!($name), "__stream"), streamed);
            });
        }
    };
}

fault_test!(
    upstream_400_is_400_invalid_request,
    r#"{"kind":"http_error","status":400,"message":"the prompt is longer than the context length"}"#
);
fault_test!(
    upstream_429_keeps_retry_after,
    r#"{"kind":"http_error","status":429,"retry_after":"7"}"#
);
fault_test!(upstream_499_is_502, r#"{"kind":"http_error","status":499}"#);
fault_test!(upstream_500_is_502, r#"{"kind":"http_error","status":500}"#);
fault_test!(
    upstream_503_busy_is_502,
    r#"{"kind":"http_error","status":503}"#
);
fault_test!(
    upstream_html_error_page_is_502_with_a_message,
    r#"{"kind":"http_error","status":502,"body":"<html>Bad Gateway</html>","content_type":"text/html"}"#
);
fault_test!(
    mid_stream_error_line_is_an_error_event,
    r#"{"kind":"error_line","after":2,"message":"model runner has unexpectedly stopped"}"#
);
fault_test!(
    abrupt_disconnect_is_an_error_event,
    r#"{"kind":"disconnect","after":2}"#
);
fault_test!(
    clean_eof_without_done_is_an_error_event,
    r#"{"kind":"disconnect","after":2,"clean":true}"#
);
fault_test!(
    malformed_line_is_an_error_event,
    r#"{"kind":"malformed_line","after":1}"#
);
fault_test!(
    truncated_line_is_an_error_event,
    r#"{"kind":"truncated_line","after":1}"#
);

#[tokio::test]
async fn upstream_404_is_model_not_found() {
    let h = harness(&scenario(
        r#"{"kind":"http_error","status":404,"message":"model 'llama3.2' not found"}"#,
    ))
    .await;
    let reply = transcript(&h, false).await;
    assert_eq!(reply["status"], 404);
    assert_eq!(reply["body"]["error"]["code"], "model_not_found");
    assert_eq!(
        reply["body"]["error"]["message"],
        "model 'llama3.2' not found"
    );
}

#[tokio::test]
async fn stall_before_the_head_is_a_504() {
    let h = harness_with(
        &scenario(r#"{"kind":"stall","after":0,"ms":3000}"#),
        |config| config.backends[0].timeouts.first_byte_ms = 200,
        0.0,
    )
    .await;
    let reply = transcript(&h, false).await;
    assert_eq!(reply["status"], 504);
    assert_eq!(reply["body"]["error"]["type"], "timeout_error");
    assert_eq!(reply["body"]["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn stall_mid_stream_is_an_idle_timeout_event() {
    let h = harness_with(
        &scenario(r#"{"kind":"stall","after":2,"ms":3000}"#),
        |config| config.backends[0].timeouts.idle_ms = 200,
        0.0,
    )
    .await;
    let reply = transcript(&h, true).await;
    let events = reply["body"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["error"]["code"], "upstream_timeout");
    assert!(last["error"]["message"].as_str().unwrap().contains("idle"));
    assert!(!events.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn unreachable_upstream_is_502_saying_why_without_its_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let h = harness_with(
        "{}",
        |config| {
            config.backends[0].base_url = dead;
            config.backends[0].models = Some(vec!["llama3.2".into()]);
        },
        0.0,
    )
    .await;
    for stream in [false, true] {
        let reply = transcript(&h, stream).await;
        assert_eq!(reply["status"], 502, "{reply}");
        assert_eq!(reply["body"]["error"]["code"], "upstream_unavailable");
        let message = reply["body"]["error"]["message"].as_str().unwrap();
        assert_eq!(
            message,
            "The upstream mock could not be reached: connection refused."
        );
    }
}

#[tokio::test]
async fn unreachable_upstream_during_discovery_is_502_not_404() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let h = harness_with("{}", |config| config.backends[0].base_url = dead, 0.0).await;
    let reply = transcript(&h, false).await;
    assert_eq!(reply["status"], 502);
}

//! Test helpers: a mock started with a scenario, and a raw HTTP/1.1 client that shows exactly
//! what went over the socket (status line, headers, each chunk of a chunked body, and whether the
//! body was terminated properly).
#![allow(dead_code, clippy::unwrap_used)]

pub mod arbitrary;

use std::{net::SocketAddr, time::Duration};

use mock_ollama::{MockOllama, Scenario};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Starts a mock with the built-in models plus the rules (and extra models) of `json`.
pub async fn mock_with(json: &str) -> MockOllama {
    let mut scenario = Scenario::builtin();
    scenario.merge(Scenario::from_json("test", json).expect("valid scenario"));
    MockOllama::builder()
        .scenario(scenario)
        .start()
        .await
        .expect("mock starts")
}

/// Starts a mock with the built-in scenario.
pub async fn builtin_mock() -> MockOllama {
    MockOllama::builder().start().await.expect("mock starts")
}

/// What a raw client saw.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body chunks as framed by chunked transfer encoding (one entry for a Content-Length body).
    pub chunks: Vec<Vec<u8>>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// For chunked bodies: the terminating zero-size chunk arrived.
    pub terminated: bool,
}

impl RawResponse {
    /// `(event name, data)` of each event of an `event:`-named SSE body (the Responses and
    /// Messages streams), the data as sent.
    pub fn named_events(&self) -> Vec<(String, String)> {
        self.text()
            .split("\n\n")
            .filter(|event| !event.is_empty())
            .map(|event| {
                let (name, data) = event
                    .strip_prefix("event: ")
                    .and_then(|rest| rest.split_once("\ndata: "))
                    .unwrap_or_else(|| panic!("not a named event: {event:?}"));
                (name.to_owned(), data.to_owned())
            })
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Body lines (without the `\n`), for NDJSON.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Body lines parsed as JSON.
    pub fn json_lines(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|line| serde_json::from_str(line).expect("JSON line"))
            .collect()
    }
}

/// Sends one request with `Connection: close` and reads until the server closes.
pub async fn raw(addr: SocketAddr, method: &str, path: &str, body: &str) -> RawResponse {
    raw_with_headers(addr, method, path, &[], body).await
}

/// [`raw`] with extra request headers.
pub async fn raw_with_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    // A server that aborts the connection may reset it; what arrived before counts.
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut bytes))
        .await
        .expect("response within 20 s");
    parse(&bytes)
}

/// Shorthand for `POST path` with a JSON body.
pub async fn post(addr: SocketAddr, path: &str, body: Value) -> RawResponse {
    raw(addr, "POST", path, &body.to_string()).await
}

fn parse(bytes: &[u8]) -> RawResponse {
    let head_end = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a response head");
    let head = std::str::from_utf8(&bytes[..head_end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (key, value) = line.split_once(':').unwrap();
            (key.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut rest = &bytes[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked");
    let mut response = RawResponse {
        status,
        headers,
        chunks: Vec::new(),
        body: Vec::new(),
        terminated: false,
    };
    if !chunked {
        response.body = rest.to_vec();
        response.chunks.push(rest.to_vec());
        return response;
    }
    while let Some(size_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..size_end]).unwrap(), 16).unwrap();
        if size == 0 {
            response.terminated = true;
            break;
        }
        let start = size_end + 2;
        let end = (start + size).min(rest.len());
        let chunk = rest[start..end].to_vec();
        response.body.extend_from_slice(&chunk);
        response.chunks.push(chunk);
        if end + 2 > rest.len() {
            break;
        }
        rest = &rest[end + 2..];
    }
    response
}

/// Rules the `/v1` flavour suites share: a greeting, a non-ASCII greeting, a tool call, a
/// failure after two chunks and a rate limit.
pub const DIALECT_RULES: &str = r#"{"rules": [
  {"name": "accented", "match": {"last_user_contains": "héllo"}, "reply": {"text": "Héllo there."}},
  {"name": "hello", "match": {"last_user_contains": "hello"}, "reply": {"text": "Hi there, friend."}},
  {"name": "weather", "match": {"has_tools": true}, "reply": {"chunks": [
     {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}]}},
  {"name": "error", "match": {"last_user_contains": "[error]"}, "reply": {"text": "one two three"},
   "faults": [{"kind": "error_line", "after": 2, "message": "engine died"}]},
  {"name": "busy", "match": {"last_user_contains": "[429]"},
   "faults": [{"kind": "http_error", "status": 429, "retry_after": "2"}]}
]}"#;

/// A `/v1/chat/completions` body: one user message, plus the fields of `extra`.
pub fn chat(model: &str, prompt: &str, extra: Value) -> Value {
    let mut body =
        serde_json::json!({"model": model, "messages": [{"role": "user", "content": prompt}]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// `POST /v1/chat/completions` with a JSON body.
pub async fn post_chat(mock: &MockOllama, body: Value) -> RawResponse {
    post(mock.addr(), "/v1/chat/completions", body).await
}

/// A reply that reasons, then answers with a character Go escapes: for any prompt containing
/// `think`.
pub const THINKING_RULES: &str = r#"{"rules": [
  {"match": {"last_user_contains": "think"}, "reply": {"chunks": [
     {"thinking": "Let me"}, {"thinking": " see."}, {"content": "4 < 5"}]}}
]}"#;

/// The keys of a JSON object, in the order they were written.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// `rules` (a scenario's JSON) with [`DIALECT_RULES`] after them.
pub fn with_dialect_rules(rules: &str) -> String {
    let mut rules: Value = serde_json::from_str(rules).expect("scenario JSON");
    let dialect: Value = serde_json::from_str(DIALECT_RULES).expect("scenario JSON");
    if let (Some(ours), Some(theirs)) = (rules["rules"].as_array_mut(), dialect["rules"].as_array())
    {
        ours.extend(theirs.iter().cloned());
    }
    rules.to_string()
}

/// Starts a mock speaking `flavor` on `/v1`, with the built-in models plus `json`'s rules.
pub async fn flavored_mock(flavor: mock_ollama::Flavor, json: &str) -> MockOllama {
    let mut scenario = Scenario::builtin();
    // Rules may name the built-in models, so validate after merging.
    scenario.merge(serde_json::from_str(json).expect("scenario JSON"));
    scenario.validate().expect("valid scenario");
    MockOllama::builder()
        .scenario(scenario)
        .flavor(flavor)
        .start()
        .await
        .expect("mock starts")
}

impl RawResponse {
    /// The `data:` payloads of an SSE body, in order (`[DONE]` kept as text).
    pub fn sse_data(&self) -> Vec<String> {
        self.text()
            .split("\n\n")
            .filter(|event| !event.is_empty())
            .map(|event| {
                event
                    .strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("not a data event: {event:?}"))
                    .to_owned()
            })
            .collect()
    }

    /// The JSON events of an SSE body, `[DONE]` left out.
    pub fn sse_json(&self) -> Vec<Value> {
        self.sse_data()
            .iter()
            .filter(|data| *data != "[DONE]")
            .map(|data| serde_json::from_str(data).expect("JSON event"))
            .collect()
    }
}

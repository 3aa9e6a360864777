//! The upstream of the reference server's Responses and Messages routes: a fresh mock-ollama in
//! its exact flavour (which plays OpenAI's Responses API and Anthropic's Messages API as
//! documented) serving the reference model, and the forwarding both proxies share.

use std::sync::Arc;

use axum::{
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use mock_ollama::{Flavor, MockOllama, Scenario};
use serde_json::{Value, json};

use super::{Deviation, FAULT, MODEL, OVERLOAD, RATE, THINKER};

/// The prompt the limit probes send, which the upstream answers at length.
const ESSAY: &str = "essay of at least 300 words";
/// The prompt the stop-sequence probes send, which the upstream answers with the numbers.
const COUNT: &str = "Count from 1 to 10";

#[derive(Clone)]
pub struct Upstream {
    pub deviation: Deviation,
    mock: Arc<MockOllama>,
    client: reqwest::Client,
}

impl Upstream {
    /// A fresh exact-flavour mock serving the reference model.
    pub async fn start(deviation: Deviation) -> Self {
        let mut scenario = Scenario::builtin();
        let words = "the sea was wide and grey and the boat moved slowly ".repeat(6);
        let script = json!({
            "models": [{"name": MODEL, "capabilities": ["completion", "tools"]},
                       {"name": THINKER, "capabilities": ["completion", "thinking"]}],
            "rules": [
                {"match": {"last_user_contains": FAULT}, "reply": {"text": "one two three four"},
                 "faults": [{"kind": "error_line", "after": 2, "message": "the model failed"}]},
                {"match": {"last_user_contains": ESSAY}, "reply": {"text": words.trim_end()}},
                {"match": {"last_user_contains": COUNT}, "reply": {"text": "1 2 3 4 5 6 7 8 9 10"}},
                {"match": {"last_user_contains": RATE},
                 "faults": [{"kind": "http_error", "status": 429, "message": "Rate limit reached", "retry_after": "1"}]},
                {"match": {"last_user_contains": OVERLOAD},
                 "faults": [{"kind": "http_error", "status": 529, "message": "Overloaded"}]}
            ]
        });
        scenario.merge(Scenario::from_json("reference", &script.to_string()).unwrap());
        let mock = MockOllama::builder()
            .scenario(scenario)
            .flavor(Flavor::Openai)
            .start()
            .await
            .unwrap();
        Upstream {
            deviation,
            mock: Arc::new(mock),
            client: reqwest::Client::new(),
        }
    }

    pub fn is(&self, id: &str) -> bool {
        self.deviation.is(id)
    }

    /// Sends `body` to the mock's `path`, with the Anthropic headers of `headers`.
    pub async fn forward(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &HeaderMap,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.mock.url()));
        for name in ["x-api-key", "anthropic-version"] {
            if let Some(value) = headers.get(name).and_then(|value| value.to_str().ok()) {
                request = request.header(name, value);
            }
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
        let content_type = reply
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let retry_after = reply.headers().get(header::RETRY_AFTER).cloned();
        let bytes = reply.bytes().await.unwrap();
        let mut response = (status, [(header::CONTENT_TYPE, content_type)], bytes).into_response();
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A JSON reply.
pub fn json_reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The events of an SSE body, as JSON values (data that is not JSON left out).
pub fn sse_events(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .split("\n\n")
        .filter_map(|block| {
            let data = block.lines().find_map(|line| line.strip_prefix("data: "))?;
            serde_json::from_str(data).ok()
        })
        .collect()
}

//! Test harness: a mock Ollama scripted per test, a gateway in front of it, and helpers that
//! return whole transcripts (status, headers, body or parsed SSE events) for snapshots.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;
use gateway::{Config, Gateway, Timeouts};
use mock_ollama::{MockOllama, Scenario};
use serde_json::{Value, json};

/// A mock and the gateway in front of it.
pub struct Harness {
    pub mock: MockOllama,
    pub gateway: Gateway,
    pub client: reqwest::Client,
}

/// The built-in models plus `rules_json`'s rules, behind a gateway.
pub async fn harness(rules_json: &str) -> Harness {
    harness_with(rules_json, |_| {}, 0.0).await
}

/// Same, with a config tweak and a time scale for the mock.
pub async fn harness_with(
    rules_json: &str,
    tweak: impl FnOnce(&mut Config),
    time_scale: f64,
) -> Harness {
    let mut scenario = Scenario::builtin();
    scenario.merge(Scenario::from_json("test", rules_json).unwrap());
    let mock = MockOllama::builder()
        .scenario(scenario)
        .time_scale(time_scale)
        .start()
        .await
        .unwrap();
    let mut config = Config::single_ollama("mock", mock.url());
    config.backends[0].timeouts = Timeouts {
        connect_ms: 1_000,
        first_byte_ms: 5_000,
        idle_ms: 5_000,
        total_ms: 20_000,
    };
    tweak(&mut config);
    let gateway = Gateway::start(config).await.unwrap();
    Harness {
        mock,
        gateway,
        client: reqwest::Client::new(),
    }
}

/// What the client saw.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The SSE body as data payloads: JSON values, or the string `[DONE]`.
    pub fn events(&self) -> Vec<Value> {
        assert!(
            self.body.ends_with("\n\n"),
            "every event ends with a blank line: {:?}",
            self.body
        );
        self.body
            .split("\n\n")
            .filter(|frame| !frame.is_empty())
            .map(|frame| {
                let data = frame
                    .strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("not a data frame: {frame:?}"));
                assert!(!data.contains('\n'), "one line per event");
                if data == "[DONE]" {
                    json!("[DONE]")
                } else {
                    serde_json::from_str(data).unwrap()
                }
            })
            .collect()
    }
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.url())
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: String) -> Reply {
        let response = tokio::time::timeout(
            Duration::from_secs(30),
            self.client
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(body)
                .send(),
        )
        .await
        .expect("no hang")
        .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Reply {
            status,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    /// The last body the mock received on `/api/chat`.
    pub fn upstream_request(&self) -> Value {
        self.mock
            .requests_to("/api/chat")
            .last()
            .unwrap()
            .body
            .clone()
    }

    /// Reads a stream until the first content-bearing chunk, then returns the response.
    pub async fn open_stream(&self, body: &Value) -> reqwest::Response {
        let mut response = self
            .client
            .post(self.url("/v1/chat/completions"))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let first = response.chunk().await.unwrap();
        assert!(first.is_some());
        response
    }
}

/// A response's status, headers and body text, read to its end.
pub async fn parts_of(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap_or_default())
}

/// `{"model", "messages":[user]}` plus extra fields.
pub fn chat(model: &str, content: &str, extra: Value) -> Value {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": content}]});
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

pub fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// Consumes a byte stream to its end; for draining.
pub async fn drain(response: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(bytes)) = stream.next().await {
        out.extend_from_slice(&bytes);
    }
    out
}

/// insta settings redacting what varies between runs.
pub fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(false);
    settings.add_redaction(".id", "[id]");
    settings.add_redaction(".created", "[created]");
    settings.add_redaction("[].id", "[id]");
    settings.add_redaction("[].created", "[created]");
    for prefix in [".body", ".body[]"] {
        settings.add_redaction(&format!("{prefix}.id"), "[id]");
        settings.add_redaction(&format!("{prefix}.created"), "[created]");
    }
    // Only ids the gateway minted vary; the mock's own ids are deterministic.
    let minted = || {
        insta::dynamic_redaction(|value, _| match value.as_str() {
            Some(id) if id.len() == 29 && id.starts_with("call_") => "[minted call id]".into(),
            _ => value,
        })
    };
    settings.add_redaction(".choices[].message.tool_calls[].id", minted());
    settings.add_redaction("[].choices[].delta.tool_calls[].id", minted());
    settings
}

/// The built-in models plus `rules_json`'s rules, served on the mock's `/v1` in `flavor`, behind
/// a gateway that reaches it as an OpenAI-compatible upstream with the key `sk-upstream`.
pub async fn openai_upstream_harness(flavor: mock_ollama::Flavor, rules_json: &str) -> Harness {
    let mut scenario = Scenario::builtin();
    scenario.merge(Scenario::from_json("test", rules_json).unwrap());
    let mock = MockOllama::builder()
        .scenario(scenario)
        .flavor(flavor)
        .start()
        .await
        .unwrap();
    behind_gateway_as_openai(mock).await
}

/// A gateway whose one OpenAI-kind backend is a mock replaying `fixtures/recorded/<set>`: the
/// replies a real server gave, byte for byte (strict: an unrecorded request is an error).
pub async fn recorded_upstream_harness(set: &str) -> Harness {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/recorded")
        .join(set);
    let mock = MockOllama::builder()
        .scenario(Scenario::load(&dir).unwrap())
        .strict(true)
        .start()
        .await
        .unwrap();
    behind_gateway_as_openai(mock).await
}

async fn behind_gateway_as_openai(mock: MockOllama) -> Harness {
    let mut config = Config::single_ollama("upstream", format!("{}/v1", mock.url()));
    let backend = &mut config.backends[0];
    backend.kind = gateway::BackendKind::Openai;
    backend.api_key = Some("sk-upstream".to_owned());
    let gateway = Gateway::start(config).await.unwrap();
    Harness {
        mock,
        gateway,
        client: reqwest::Client::new(),
    }
}

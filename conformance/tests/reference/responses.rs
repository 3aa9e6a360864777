//! The reference server's `/v1/responses`: mock-ollama's exact flavour (which plays OpenAI's
//! Responses API as documented, with its store) behind a proxy that breaks one RESP rule when
//! asked, by editing the request it forwards or the reply it relays.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use mock_ollama::{Flavor, MockOllama, Scenario};
use serde_json::{Value, json};

use super::{Deviation, FAULT, MODEL};

/// The prompt the limit probe sends, which the upstream answers at length.
const ESSAY: &str = "essay of at least 300 words";

#[derive(Clone)]
struct Upstream {
    deviation: Deviation,
    mock: Arc<MockOllama>,
    client: reqwest::Client,
}

/// The `/v1/responses` routes over a fresh exact-flavour mock serving the reference model.
pub async fn router(deviation: Deviation) -> Router {
    let mut scenario = Scenario::builtin();
    let words = "the sea was wide and grey and the boat moved slowly ".repeat(6);
    let script = json!({
        "models": [{"name": MODEL, "capabilities": ["completion", "tools"]}],
        "rules": [
            {"match": {"last_user_contains": FAULT}, "reply": {"text": "one two three four"},
             "faults": [{"kind": "error_line", "after": 2, "message": "the model failed"}]},
            {"match": {"last_user_contains": ESSAY}, "reply": {"text": words.trim_end()}}
        ]
    });
    scenario.merge(Scenario::from_json("reference", &script.to_string()).unwrap());
    let mock = MockOllama::builder()
        .scenario(scenario)
        .flavor(Flavor::Openai)
        .start()
        .await
        .unwrap();
    let upstream = Upstream {
        deviation,
        mock: Arc::new(mock),
        client: reqwest::Client::new(),
    };
    Router::new()
        .route("/v1/responses", post(create))
        .route(
            "/v1/responses/{id}",
            axum::routing::get(retrieve).delete(delete),
        )
        .with_state(upstream)
}

impl Upstream {
    fn is(&self, id: &str) -> bool {
        self.deviation.is(id)
    }

    async fn forward(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.mock.url()));
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
        let bytes = reply.bytes().await.unwrap();
        (status, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
    }
}

async fn create(State(up): State<Upstream>, body: Bytes) -> Response {
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else {
        return up
            .forward(reqwest::Method::POST, "/v1/responses", None)
            .await;
    };
    if up.is("RESP-019") && request.get("input").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"detail":"input is required"}"#,
        )
            .into_response();
    }
    let previous = request["previous_response_id"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let unknown = previous.starts_with("resp_conformance_");
    if (up.is("RESP-016") && unknown) || (up.is("RESP-017") && !previous.is_empty() && !unknown) {
        request
            .as_object_mut()
            .unwrap()
            .remove("previous_response_id");
    }
    if up.is("RESP-012") {
        request.as_object_mut().unwrap().remove("tool_choice");
    }
    let streaming = request["stream"] == true;
    let answers_a_call = request["input"].as_array().is_some_and(|items| {
        items
            .iter()
            .any(|item| item["type"] == "function_call_output")
    });
    let schema = request["text"]["format"]["type"] == "json_schema";
    let reply = up
        .forward(reqwest::Method::POST, "/v1/responses", Some(request))
        .await;
    let (parts, body) = reply.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    if !parts.status.is_success() {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let edit = Edit {
        up: &up,
        answers_a_call,
        schema,
    };
    let (content_type, body) = if streaming {
        let content_type = if up.is("RESP-004") {
            "text/plain"
        } else {
            "text/event-stream"
        };
        (content_type, edit.stream(&bytes))
    } else {
        let mut response: Value = serde_json::from_slice(&bytes).unwrap();
        edit.response(&mut response, true);
        ("application/json", response.to_string())
    };
    (parts.status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn retrieve(State(up): State<Upstream>, Path(id): Path<String>) -> Response {
    if up.is("RESP-018") {
        let body = json!({"error": {"message": "no such response", "type": "invalid_request_error",
                                    "param": null, "code": null}});
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    up.forward(reqwest::Method::GET, &format!("/v1/responses/{id}"), None)
        .await
}

async fn delete(State(up): State<Upstream>, Path(id): Path<String>) -> Response {
    up.forward(
        reqwest::Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await
}

/// The edits a deviation makes to a reply.
struct Edit<'a> {
    up: &'a Upstream,
    answers_a_call: bool,
    schema: bool,
}

impl Edit<'_> {
    fn is(&self, id: &str) -> bool {
        self.up.is(id)
    }

    /// A response object's edits; `whole` when it is the body of a `stream: false` reply.
    fn response(&self, response: &mut Value, whole: bool) {
        if whole && self.is("RESP-001") {
            response["object"] = json!("responses");
        }
        if whole && self.is("RESP-003") {
            let total = response["usage"]["total_tokens"].as_u64().unwrap_or(0);
            response["usage"]["total_tokens"] = json!(total + 1);
        }
        if self.is("RESP-015") && response["status"] == "incomplete" {
            response["status"] = json!("completed");
            response["incomplete_details"] = Value::Null;
        }
        for item in response["output"].as_array_mut().into_iter().flatten() {
            self.item(item, whole);
        }
    }

    fn item(&self, item: &mut Value, whole: bool) {
        if item["type"] == "message" {
            if whole && self.is("RESP-002") {
                item.as_object_mut().unwrap().remove("role");
            }
            for part in item["content"].as_array_mut().into_iter().flatten() {
                if self.is("RESP-013") && self.answers_a_call {
                    part["text"] = json!("");
                }
                if self.is("RESP-014") && self.schema {
                    part["text"] = json!("not JSON at all");
                }
            }
        }
        if item["type"] == "function_call" && self.is("RESP-011") {
            item["name"] = json!("lookup_weather");
        }
    }

    /// A stream's edits, event by event, renumbered (unless the deviation is the numbering).
    fn stream(&self, bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes);
        let mut events: Vec<Value> = text
            .split("\n\n")
            .filter_map(|block| {
                let data = block.lines().find_map(|line| line.strip_prefix("data: "))?;
                serde_json::from_str(data).ok()
            })
            .collect();
        if self.is("RESP-005") && events.len() > 1 {
            events.swap(0, 1);
        }
        if self.is("RESP-009") {
            events.retain(|event| event["type"] != "response.content_part.added");
        }
        if self.is("RESP-010")
            && let Some(first) = events
                .iter()
                .position(|event| event["type"] == "response.output_text.delta")
        {
            events.remove(first);
        }
        if self.is("RESP-020") {
            events.retain(|event| event["type"] != "error");
        }
        if self.is("RESP-006")
            && let Some(last) = events.last().cloned()
        {
            events.push(last);
        }
        for event in &mut events {
            if let Some(response) = event.get_mut("response") {
                self.response(response, false);
            }
            if let Some(item) = event.get_mut("item") {
                self.item(item, false);
                if self.is("RESP-021") && event["type"] == "response.output_item.done" {
                    event["item"]["id"] = json!("msg_streamed_elsewhere");
                }
            }
        }
        let mut out = String::new();
        for (number, event) in events.iter_mut().enumerate() {
            event["sequence_number"] = json!(number);
            if self.is("RESP-007") && number == 3 {
                event["sequence_number"] = json!(2);
            }
            let kind = event["type"].as_str().unwrap_or("").to_owned();
            let name = if self.is("RESP-008") && kind == "response.output_text.delta" {
                "message".to_owned()
            } else {
                kind
            };
            out.push_str(&format!("event: {name}\ndata: {event}\n\n"));
        }
        out
    }
}

//! The reference server's `/v1/responses`: mock-ollama's exact flavour (which plays OpenAI's
//! Responses API as documented, with its store) behind a proxy that breaks one RESP rule when
//! asked, by editing the request it forwards or the reply it relays.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::upstream::{Upstream, json_reply, sse_events};

/// The `/v1/responses` routes over `upstream`.
pub fn router(upstream: Upstream) -> Router {
    Router::new()
        .route("/v1/responses", post(create))
        .route(
            "/v1/responses/{id}",
            axum::routing::get(retrieve).delete(delete),
        )
        .with_state(upstream)
}

async fn create(State(up): State<Upstream>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else {
        return up
            .forward(reqwest::Method::POST, "/v1/responses", &headers, None)
            .await;
    };
    if up.is("RESP-019") && request.get("input").is_none() {
        return json_reply(
            StatusCode::BAD_REQUEST,
            &json!({"detail": "input is required"}),
        );
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
        .forward(
            reqwest::Method::POST,
            "/v1/responses",
            &headers,
            Some(request),
        )
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
        return json_reply(StatusCode::NOT_FOUND, &body);
    }
    let path = format!("/v1/responses/{id}");
    up.forward(reqwest::Method::GET, &path, &HeaderMap::new(), None)
        .await
}

async fn delete(State(up): State<Upstream>, Path(id): Path<String>) -> Response {
    let path = format!("/v1/responses/{id}");
    up.forward(reqwest::Method::DELETE, &path, &HeaderMap::new(), None)
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
        let mut events = sse_events(bytes);
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

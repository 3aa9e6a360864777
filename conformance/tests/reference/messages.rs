//! The reference server's `/v1/messages`: mock-ollama's exact flavour (which plays Anthropic's
//! Messages API as documented) behind a proxy that breaks one MSG rule when asked, by editing
//! the request it forwards or the reply it relays.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::{
    KEY, MODEL, THINKER,
    upstream::{Upstream, json_reply, sse_events},
};

/// The `/v1/messages` routes over `upstream`.
pub fn router(upstream: Upstream) -> Router {
    Router::new()
        .route("/v1/messages", post(create))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .with_state(upstream)
}

/// Anthropic's 401 for a request without the reference key as `x-api-key` (any key gets in
/// under MSG-021's deviation).
fn unauthorized(up: &Upstream, headers: &HeaderMap) -> Option<Response> {
    let given = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let authorized = if up.is("MSG-021") {
        given.is_some()
    } else {
        given == Some(KEY)
    };
    (!authorized).then(|| {
        json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        )
    })
}

async fn create(State(up): State<Upstream>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = unauthorized(&up, &headers) {
        return refusal;
    }
    let path = "/v1/messages";
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else {
        return refusal(
            &up,
            up.forward(reqwest::Method::POST, path, &headers, None)
                .await,
        )
        .await;
    };
    let object = request.as_object_mut().unwrap();
    if up.is("MSG-003") {
        object.entry("max_tokens").or_insert(json!(4096));
    }
    if up.is("MSG-012") {
        object.remove("tool_choice");
    }
    if up.is("MSG-014") {
        object.remove("stop_sequences");
    }
    if up.is("MSG-023") {
        object.remove("thinking");
    }
    // Any model but the two it serves becomes the reference one.
    if up.is("MSG-017") && object.get("model") != Some(&json!(THINKER)) {
        object.insert("model".to_owned(), json!(MODEL));
    }
    let streaming = request["stream"] == true;
    let answers_a_tool = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|message| message["content"].as_array().into_iter().flatten())
        .any(|block| block["type"] == "tool_result");
    let reply = up
        .forward(reqwest::Method::POST, path, &headers, Some(request))
        .await;
    if !reply.status().is_success() {
        return refusal(&up, reply).await;
    }
    let (parts, body) = reply.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let edit = Edit {
        up: &up,
        answers_a_tool,
    };
    if streaming {
        let content_type = if up.is("MSG-004") {
            "text/plain"
        } else {
            "text/event-stream"
        };
        let body = edit.stream(&bytes);
        return (parts.status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let mut message: Value = serde_json::from_slice(&bytes).unwrap();
    edit.message(&mut message);
    json_reply(parts.status, &message)
}

/// An error reply: in OpenAI's envelope where MSG-016's deviation says so; an overload as a 400
/// (MSG-022) or a 503 (its SHOULD half).
async fn refusal(up: &Upstream, reply: Response) -> Response {
    let status = reply.status();
    let overloaded = status.as_u16() == 529;
    let rewritten = if overloaded {
        up.deviation.0.starts_with("MSG-022")
    } else {
        up.is("MSG-016")
    };
    if !rewritten {
        return reply;
    }
    let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX)
        .await
        .unwrap();
    let anthropic: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match up.deviation.0 {
        "MSG-022" => return json_reply(StatusCode::BAD_REQUEST, &anthropic),
        "MSG-022:should" => return json_reply(StatusCode::SERVICE_UNAVAILABLE, &anthropic),
        _ => {}
    }
    let message = anthropic["error"]["message"].clone();
    json_reply(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

async fn count_tokens(State(up): State<Upstream>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = unauthorized(&up, &headers) {
        return refusal;
    }
    let request: Option<Value> = serde_json::from_slice(&body).ok();
    let path = "/v1/messages/count_tokens";
    let reply = up
        .forward(reqwest::Method::POST, path, &headers, request)
        .await;
    if !up.is("MSG-019") || !reply.status().is_success() {
        return reply;
    }
    let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX)
        .await
        .unwrap();
    let counted: Value = serde_json::from_slice(&bytes).unwrap();
    json_reply(StatusCode::OK, &json!({"tokens": counted["input_tokens"]}))
}

/// The edits a deviation makes to a reply.
struct Edit<'a> {
    up: &'a Upstream,
    answers_a_tool: bool,
}

impl Edit<'_> {
    fn is(&self, id: &str) -> bool {
        self.up.is(id)
    }

    fn message(&self, message: &mut Value) {
        if self.is("MSG-001") {
            message["type"] = json!("msg");
        }
        if self.is("MSG-015") && message["stop_reason"] == "max_tokens" {
            message["stop_reason"] = json!("end_turn");
        }
        let content = message["content"].as_array_mut().unwrap();
        for block in content.iter_mut() {
            self.block(block);
            if self.is("MSG-013") && self.answers_a_tool && block["type"] == "text" {
                block["text"] = json!("");
            }
        }
        if self.is("MSG-002") {
            content.push(json!({"type": "text"}));
        }
    }

    fn block(&self, block: &mut Value) {
        if self.is("MSG-011") && block["type"] == "tool_use" {
            block["name"] = json!("lookup_weather");
        }
    }

    /// A stream's edits, event by event.
    fn stream(&self, bytes: &[u8]) -> String {
        let mut events = sse_events(bytes);
        if self.is("MSG-005") && !events.is_empty() {
            let start = events[0].clone();
            events.insert(1, start);
        }
        if self.is("MSG-009") {
            events.retain(|event| event["type"] != "message_stop");
        }
        if self.is("MSG-018") {
            events.retain(|event| event["type"] != "error");
        }
        for event in &mut events {
            match event["type"].as_str().unwrap_or("") {
                "message_start" if self.is("MSG-020") => {
                    let message = event["message"].as_object_mut().unwrap();
                    message.remove("type");
                    message.remove("role");
                }
                "content_block_start" => {
                    if self.is("MSG-007") {
                        event["index"] = json!(event["index"].as_u64().unwrap_or(0) + 1);
                    }
                    self.block(&mut event["content_block"]);
                }
                "content_block_delta" => {
                    let delta = &mut event["delta"];
                    if self.is("MSG-008") && delta["type"] == "text_delta" {
                        delta["type"] = json!("thinking_delta");
                    }
                    if self.is("MSG-010") && delta["type"] == "input_json_delta" {
                        let json = delta["partial_json"].as_str().unwrap_or("").to_owned();
                        delta["partial_json"] = json!(&json[..json.len() / 2]);
                    }
                }
                _ => {}
            }
        }
        let mut out = String::new();
        let mut renamed = false;
        for event in &events {
            let kind = event["type"].as_str().unwrap_or("");
            let name = if self.is("MSG-006") && kind == "content_block_delta" && !renamed {
                renamed = true;
                "message"
            } else {
                kind
            };
            out.push_str(&format!("event: {name}\ndata: {event}\n\n"));
        }
        out
    }
}

//! The endpoints of the FastAPI tutorial this project grew from, kept for its readers — built on
//! the same backend path as `/v1`, so they inherit its correctness:
//! `GET /` (name, version), `POST /chat` (`{message, temperature}` → `{response}`) and
//! `POST /stream` (SSE `event: message` with `data: {"content", "done"}`).

use axum::{
    Json,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wire::openai::{ChatCompletionRequest, ChatMessage, validate};

use super::{Incoming, chat::Asked, read_body};
use crate::{call::ChatReply, error::GatewayError, limits::Quota, sse, state::AppState};

#[derive(Debug, Serialize)]
pub struct About {
    name: &'static str,
    version: &'static str,
}

pub async fn about() -> Json<About> {
    Json(About {
        name: "llm-gateway",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Debug, Deserialize)]
struct TutorialRequest {
    message: Option<String>,
    temperature: Option<f64>,
}

#[derive(Debug, Serialize)]
struct TutorialReply {
    response: String,
}

async fn call(
    state: &AppState,
    incoming: Incoming,
    body: Body,
    stream: bool,
) -> Result<(ChatReply, Quota), GatewayError> {
    let bytes = read_body(body, &state.config).await?;
    let tutorial: TutorialRequest = validate::parse(&bytes)?;
    let message = tutorial
        .message
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| {
            GatewayError::invalid(
                "Missing required parameter: 'message'.",
                Some("message".to_owned()),
            )
        })?;
    let model = match &state.config.tutorial_model {
        Some(model) => model.clone(),
        None => state
            .catalog
            .list()
            .await
            .into_iter()
            .next()
            .map(|model| model.id)
            .ok_or_else(|| GatewayError::ModelNotFound("(no model available)".to_owned()))?,
    };
    let request = ChatCompletionRequest {
        model: Some(model),
        messages: Some(vec![ChatMessage {
            role: "user".to_owned(),
            content: Some(Value::String(message)),
            ..ChatMessage::default()
        }]),
        temperature: tutorial.temperature,
        stream: Some(stream),
        ..ChatCompletionRequest::default()
    };
    validate::check(&request)?;
    let asked = Asked {
        request: &request,
        body_bytes: bytes.len(),
    };
    super::chat::dispatch(state, asked, incoming).await
}

pub async fn chat(
    State(state): State<AppState>,
    incoming: Incoming,
    body: Body,
) -> Result<Response, GatewayError> {
    let (reply, quota) = call(&state, incoming, body, false).await?;
    let ChatReply::Whole(completion) = reply else {
        return unreachable_stream();
    };
    let text = completion
        .choices
        .into_iter()
        .next()
        .and_then(|choice| choice.message.content)
        .unwrap_or_default();
    let mut response = Json(TutorialReply { response: text }).into_response();
    quota.write_headers(response.headers_mut());
    Ok(response)
}

fn unreachable_stream() -> Result<Response, GatewayError> {
    Err(GatewayError::UpstreamProtocol {
        backend: "gateway".to_owned(),
        detail: "a stream was returned for a non-stream request".to_owned(),
    })
}

/// The stream's chunks as the tutorial's simpler events: one `message` per piece of content,
/// `done: true` at a clean end, one `error` event when the stream failed.
pub async fn stream(
    State(state): State<AppState>,
    incoming: Incoming,
    body: Body,
) -> Result<Response, GatewayError> {
    let (ChatReply::Stream(batches), quota) = call(&state, incoming, body, true).await? else {
        return unreachable_stream();
    };
    let events = batches.filter_map(|batch| async move {
        let mut out = String::new();
        for chunk in &batch.chunks {
            let content = chunk
                .choices
                .first()
                .and_then(|choice| choice.delta.content.as_deref())
                .filter(|content| !content.is_empty());
            if let Some(content) = content {
                write_event(
                    &mut out,
                    "message",
                    &json!({"content": content, "done": false}),
                );
            }
        }
        match batch.end {
            None => {}
            Some(Ok(())) => write_event(&mut out, "message", &json!({"content": "", "done": true})),
            Some(Err(error)) => {
                write_event(&mut out, "error", &json!({"error": error.to_string()}))
            }
        }
        (!out.is_empty()).then(|| Bytes::from(out))
    });
    let mut response = sse::response(events);
    quota.write_headers(response.headers_mut());
    Ok(response)
}

/// Appends one tutorial SSE event: `event: <name>` and one `data:` line.
fn write_event(out: &mut String, name: &str, data: &Value) {
    use std::fmt::Write;
    let _ = write!(out, "event: {name}\ndata: {data}\n\n");
}

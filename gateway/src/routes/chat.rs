//! `POST /v1/chat/completions`: validate, route by model, call the backend, answer with one
//! JSON object or an SSE stream.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use wire::openai::{ChatCompletionRequest, validate};

use super::{now, read_body, request_id};
use crate::{
    chat::{ChatCall, ChatReply},
    error::GatewayError,
    failover, ids,
    overhead::UpstreamClock,
    overload::Admission,
    sse,
    state::AppState,
};

pub async fn completions(
    State(state): State<AppState>,
    admission: Admission,
    clock: UpstreamClock,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let bytes = read_body(body, &state.config).await?;
    let request = validate::chat_request(&bytes)?;
    Ok(
        match dispatch(&state, &headers, &request, clock, admission).await? {
            ChatReply::Whole(completion) => Json(completion).into_response(),
            ChatReply::Stream(batches) => sse::response(batches.map(sse::encode)),
        },
    )
}

/// Routes a validated request to the backends serving its model (failing over between them, see
/// [`failover`]) and returns the reply, which keeps the request's place in the gateway's bound
/// until it ends.
pub async fn dispatch(
    state: &AppState,
    headers: &HeaderMap,
    request: &ChatCompletionRequest,
    upstream: UpstreamClock,
    admission: Admission,
) -> Result<ChatReply, GatewayError> {
    let model = request.model.clone().unwrap_or_default();
    let backends = state.catalog.serving(&model).await?;
    let request_id = request_id(headers);
    // One log line per request (the response's, from the trace layer) carries these; a line of
    // its own cost ~5 µs of CPU per request.
    let span = tracing::Span::current();
    span.record("model", model.as_str());
    span.record("backend", backends[0].name());
    span.record("stream", request.is_streaming());
    let ollama = state.config.models.get(&model).cloned().unwrap_or_default();
    let call = ChatCall {
        request_id,
        model,
        completion_id: ids::completion_id(),
        created: now(),
        upstream,
        ollama,
    };
    let reply = failover::chat(backends, request, &call, &state.metrics).await?;
    Ok(reply.holding(admission))
}

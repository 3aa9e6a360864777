//! `POST /v1/chat/completions`: validate, route by model, call the backend, answer with one
//! JSON object or an SSE stream.

use axum::{
    Json,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use wire::openai::{ChatCompletionRequest, validate};

use super::{Incoming, read_body};
use crate::{
    auth::Caller,
    call::{ChatCall, ChatReply},
    error::GatewayError,
    failover, ids,
    limits::{Allowance, Demand, Quota},
    sse,
    state::AppState,
};

pub async fn completions(
    State(state): State<AppState>,
    incoming: Incoming,
    body: Body,
) -> Result<Response, GatewayError> {
    let bytes = read_body(body, &state.config).await?;
    let request = validate::chat_request(&bytes)?;
    let asked = Asked {
        request: &request,
        body_bytes: bytes.len(),
    };
    let (reply, quota) = dispatch(&state, asked, incoming).await?;
    let mut response = match reply {
        ChatReply::Whole(completion) => Json(completion).into_response(),
        ChatReply::Stream(batches) => sse::response(batches.map(sse::encode)),
    };
    quota.write_headers(response.headers_mut());
    Ok(response)
}

/// A validated chat request, and how long its body was.
#[derive(Debug)]
pub struct Asked<'a> {
    /// The request.
    pub request: &'a ChatCompletionRequest,
    /// Its body's length (for the token estimate).
    pub body_bytes: usize,
}

/// Checks the caller's access to the model and its rate limits, routes the request to the
/// backends serving its model (failing over between them, see [`failover`]) and returns the
/// reply — which keeps the request's place in the gateway's bound until it ends, and charges
/// its tokens to the caller — with the caller's standing for the `x-ratelimit-*` headers.
pub async fn dispatch(
    state: &AppState,
    asked: Asked<'_>,
    incoming: Incoming,
) -> Result<(ChatReply, Quota), GatewayError> {
    let Asked {
        request,
        body_bytes,
    } = asked;
    let Incoming {
        admission,
        clock: upstream,
        caller,
        request_id,
    } = incoming;
    let model = request.model.clone().unwrap_or_default();
    if let Some(Caller(key)) = &caller
        && !key.may_use(&model)
    {
        return Err(GatewayError::ModelNotFound(model));
    }
    let backends = state.catalog.serving(&model).await?;
    let allowance = match caller {
        Some(Caller(key)) => {
            let demand = Demand::of(&key, &model, request, body_bytes);
            state.limiter.admit(demand).await?
        }
        None => None,
    };
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
        created: ids::unix_seconds(),
        upstream,
        ollama,
    };
    let reply = failover::chat(backends, request, &call, &state.metrics).await;
    let Some(Allowance { quota, ticket }) = allowance else {
        return Ok((reply?.holding(admission), Quota::default()));
    };
    match reply {
        Ok(reply) => Ok((reply.metered(ticket).holding(admission), quota)),
        Err(error) => {
            // Nothing was generated.
            ticket.settle(0);
            Err(error)
        }
    }
}

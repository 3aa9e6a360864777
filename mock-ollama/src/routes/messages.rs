//! `/v1/messages` and `/v1/messages/count_tokens`: Anthropic's Messages API, played exactly in the
//! `openai` flavour (the one that plays each reference API as documented); the other flavours'
//! servers answer their own 404 until they play their Messages layers.
//!
//! As Anthropic's API does, every reply carries a `request-id` header (and an error envelope its
//! `request_id`); a request needs a key (`x-api-key`, or `Authorization: Bearer`) and an
//! `anthropic-version` header; Claude Code's `?beta=true` query changes nothing.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use wire::anthropic::{
    MessagesRequest, Thinking, TokenCount,
    chat::chat_request,
    validate::{Purpose, messages_request},
};

use super::{
    RequestSeq,
    generation::{accept_chat, count_chat_tokens},
};
use crate::{
    anthropic::{
        error::MessagesError,
        messages::{self, MessageContext},
    },
    openai::{
        ApiError, encode,
        flavor::{JsonStyle, Validation},
        request::{ChatAsk, chat_ask},
    },
    respond,
    seed::DetRng,
    state::MockState,
};

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream; charset=utf-8";

pub async fn messages(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    with_request_id(seq, create(&state, seq, &headers, &body).await)
}

pub async fn count_tokens(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    with_request_id(seq, count(&state, &headers, &body))
}

async fn create(
    state: &MockState,
    seq: u64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MessagesError> {
    let (request, ask) = read(state, headers, body, Purpose::Create)?;
    let streaming = request.is_streaming();
    let answer = accept_chat(state, seq, &ask.native)
        .map_err(MessagesError::from_native)?
        .into_answer(streaming);
    let ctx = MessageContext {
        model: &answer.model,
        seed: answer.seed,
    };
    let scale = state.config.time_scale;
    let journal = state.journal.clone();
    if streaming {
        let stream = messages::stream(&ctx, &answer.turn);
        let plan = respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing);
        return Ok(respond::send(plan, EVENT_STREAM, true, journal, seq).await);
    }
    let message = messages::whole(&ctx, &answer.turn);
    let total: Duration = answer.turn.delays.iter().sum();
    let body = encode::encoded(JsonStyle::Compact, &message).into();
    let plan = respond::plan_whole(body, total, &answer.faults, scale)
        .map_err(MessagesError::from_native)?;
    Ok(respond::send(plan, JSON, false, journal, seq).await)
}

fn count(state: &MockState, headers: &HeaderMap, body: &[u8]) -> Result<Response, MessagesError> {
    let (_, ask) = read(state, headers, body, Purpose::CountTokens)?;
    let input_tokens = count_chat_tokens(state, &ask.native).map_err(MessagesError::from_native)?;
    let body = encode::encoded(JsonStyle::Compact, &TokenCount { input_tokens });
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, JSON)], body).into_response())
}

/// The checked request and the native chat it amounts to.
fn read(
    state: &MockState,
    headers: &HeaderMap,
    body: &[u8],
    purpose: Purpose,
) -> Result<(MessagesRequest, ChatAsk), MessagesError> {
    let dialect = state.dialect();
    if dialect.validation != Validation::Openai {
        let path = match purpose {
            Purpose::Create => "/v1/messages",
            Purpose::CountTokens => "/v1/messages/count_tokens",
        };
        return Err(MessagesError::Unserved(ApiError::not_found(dialect, path)));
    }
    check_headers(headers)?;
    let request = messages_request(body, purpose).map_err(MessagesError::invalid)?;
    let mut ask =
        chat_ask(dialect, &chat_request(&request)).map_err(|e| MessagesError::unconvertible(&e))?;
    // Claude thinks only when asked to.
    ask.native.think = Some(Value::Bool(matches!(
        request.thinking,
        Some(Thinking::Enabled { .. })
    )));
    Ok((request, ask))
}

fn check_headers(headers: &HeaderMap) -> Result<(), MessagesError> {
    let present = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| !value.trim().is_empty())
    };
    let bearer = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|token| !token.trim().is_empty());
    if !present("x-api-key") && !bearer {
        return Err(MessagesError::missing_key());
    }
    if !present("anthropic-version") {
        return Err(MessagesError::missing_version());
    }
    Ok(())
}

/// `req_01…`: the request's id, from its place in the journal.
fn request_id(seq: u64) -> String {
    let mut rng = DetRng::new(seq.rotate_left(13) ^ 0x5eed);
    format!("req_01{}", rng.base62(22))
}

fn with_request_id(seq: u64, reply: Result<Response, MessagesError>) -> Response {
    let id = request_id(seq);
    let mut response = match reply {
        Ok(response) => response,
        Err(MessagesError::Unserved(error)) => return error.into_response(),
        Err(error) => error.response(&id),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", value);
    }
    response
}

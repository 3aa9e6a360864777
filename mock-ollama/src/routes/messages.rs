//! `/v1/messages` and `/v1/messages/count_tokens`: Anthropic's Messages API as each flavour's
//! server plays it (`anthropic::flavor`): exactly in the `openai` flavour (the one that plays each
//! reference API as documented), Ollama's layer in `ollama`, `llama-server`'s in `llamacpp`,
//! vLLM's converter over its chat stream in `vllm`; llama-cpp-python answers its own 404.
//!
//! As Anthropic's API does, the exact flavour's replies carry a `request-id` header (and an error
//! envelope its `request_id`), and a request needs a key (`x-api-key`, or `Authorization:
//! Bearer`) and an `anthropic-version` header. Claude Code's `?beta=true` query changes nothing.

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
    Content, ContentBlock, ImageSource, MessagesRequest, Thinking, TokenCount,
    chat::chat_request,
    validate::{Purpose, messages_request},
};
use wire::openai::validate::InvalidRequest;

use super::{
    RequestSeq,
    generation::{accept_chat, count_chat_tokens},
    openai::llama_server_model,
};
use crate::{
    anthropic::{
        error::MessagesError,
        flavor::{Checks, Ids, MessagesDialect, messages_dialect},
        messages::{self, MessageContext},
    },
    error::parse_body,
    openai::{
        ApiError, encode,
        flavor::VLLM,
        refusal::{go_decode_message, nlohmann_parse},
        request::{ChatAsk, chat_ask},
    },
    respond,
    scenario::Capability,
    seed::DetRng,
    state::MockState,
};

pub async fn messages(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match served(&state, Purpose::Create) {
        Ok(dialect) => finish(
            dialect,
            seq,
            create(&state, dialect, seq, &headers, &body).await,
        ),
        Err(unserved) => unserved.into_response(),
    }
}

pub async fn count_tokens(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match served(&state, Purpose::CountTokens) {
        Ok(dialect) => finish(dialect, seq, count(&state, dialect, &headers, &body)),
        Err(unserved) => unserved.into_response(),
    }
}

/// The flavour's Messages dialect, or its server's own 404 when it has no such route.
fn served(state: &MockState, purpose: Purpose) -> Result<&'static MessagesDialect, ApiError> {
    let chat_dialect = state.dialect();
    messages_dialect(chat_dialect.flavor)
        .filter(|dialect| purpose == Purpose::Create || dialect.count_tokens)
        .ok_or_else(|| {
            let path = match purpose {
                Purpose::Create => "/v1/messages",
                Purpose::CountTokens => "/v1/messages/count_tokens",
            };
            ApiError::not_found(chat_dialect, path)
        })
}

async fn create(
    state: &MockState,
    dialect: &'static MessagesDialect,
    seq: u64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MessagesError> {
    let (request, mut ask) = read(state, dialect, headers, body, Purpose::Create)?;
    let streaming = request.is_streaming();
    let served = (dialect.checks == Checks::LlamaServer)
        .then(|| llama_server_model(state, &mut ask.native.model));
    let answer = accept_chat(state, seq, &ask.native)
        .map_err(|e| MessagesError::from_native(dialect.checks, e))?
        .into_answer(streaming);
    let ctx = MessageContext {
        dialect,
        model: served.as_deref().unwrap_or(&answer.model),
        seed: answer.seed,
    };
    let scale = state.config.time_scale;
    let journal = state.journal.clone();
    if streaming {
        let stream = messages::stream(&ctx, &answer.turn);
        let plan = respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing);
        return Ok(respond::send(plan, dialect.sse_content_type, true, journal, seq).await);
    }
    let body = messages::whole(&ctx, &answer.turn).into();
    let total: Duration = answer.turn.delays.iter().sum();
    let plan = respond::plan_whole(body, total, &answer.faults, scale)
        .map_err(|e| MessagesError::from_native(dialect.checks, e))?;
    Ok(respond::send(plan, dialect.json_content_type, false, journal, seq).await)
}

fn count(
    state: &MockState,
    dialect: &'static MessagesDialect,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MessagesError> {
    let (_, mut ask) = read(state, dialect, headers, body, Purpose::CountTokens)?;
    if dialect.checks == Checks::LlamaServer {
        llama_server_model(state, &mut ask.native.model);
    }
    let input_tokens = count_chat_tokens(state, &ask.native)
        .map_err(|e| MessagesError::from_native(dialect.checks, e))?;
    let body = if dialect.count_context_management {
        encode::encoded(
            dialect.json,
            &serde_json::json!({"input_tokens": input_tokens,
                                "context_management": {"original_input_tokens": input_tokens}}),
        )
    } else {
        encode::encoded(dialect.json, &TokenCount { input_tokens })
    };
    let head = [(header::CONTENT_TYPE, dialect.json_content_type)];
    Ok((StatusCode::OK, head, body).into_response())
}

/// The checked request and the native chat it amounts to.
fn read(
    state: &MockState,
    dialect: &'static MessagesDialect,
    headers: &HeaderMap,
    body: &[u8],
    purpose: Purpose,
) -> Result<(MessagesRequest, ChatAsk), MessagesError> {
    let request = match dialect.checks {
        Checks::Anthropic => {
            check_headers(headers)?;
            messages_request(body, purpose).map_err(MessagesError::invalid)?
        }
        Checks::Ollama => ollama_request(body)?,
        Checks::LlamaServer => llama_server_request(body)?,
        Checks::Vllm => vllm_request(body, purpose)?,
    };
    let mut ask = chat_ask(state.dialect(), &chat_request(&request))
        .map_err(|e| MessagesError::unconvertible(&e))?;
    let asked = match request.thinking {
        Some(Thinking::Enabled { .. }) => Some(true),
        Some(Thinking::Disabled) => Some(false),
        None => None,
    };
    ask.native.think = match dialect.checks {
        // Claude thinks only when asked to.
        Checks::Anthropic => Some(Value::Bool(asked == Some(true))),
        // `relax_thinking`: a model that cannot think is not refused for being asked to;
        // llama-server passes a thinking budget and lets the model's template decide.
        // vLLM's request has no `thinking` field: its reasoning parser decides.
        Checks::Vllm => None,
        Checks::Ollama | Checks::LlamaServer => asked
            .filter(|_| {
                state
                    .scenario()
                    .model(&ask.native.model)
                    .is_some_and(|model| model.can(Capability::Thinking))
            })
            .map(Value::Bool),
    };
    Ok((request, ask))
}

/// A body as Ollama's `AnthropicMessagesMiddleware` reads it: Gin's JSON binding, then its three
/// required fields, then `FromMessagesRequest`'s refusal of images not given inline.
fn ollama_request(body: &[u8]) -> Result<MessagesRequest, MessagesError> {
    let refused = |message: String| MessagesError::refused(StatusCode::BAD_REQUEST, message);
    let request: MessagesRequest =
        parse_body(body).map_err(|error| refused(go_decode_message(error)))?;
    if request.model.as_deref().is_none_or(str::is_empty) {
        return Err(refused("model is required".to_owned()));
    }
    if request.max_tokens.is_none_or(|limit| limit <= 0) {
        return Err(refused(
            "max_tokens is required and must be positive".to_owned(),
        ));
    }
    if request.messages.as_ref().is_none_or(Vec::is_empty) {
        return Err(refused("messages is required".to_owned()));
    }
    let url_image = request.messages.iter().flatten().any(|message| {
        matches!(&message.content, Content::Blocks(blocks) if blocks.iter().any(|block| matches!(
            block,
            ContentBlock::Image { source: ImageSource::Url { .. } }
        )))
    });
    if url_image {
        return Err(refused(
            "invalid image source type: url. Only base64 images are supported.".to_owned(),
        ));
    }
    Ok(request)
}

/// A body as `llama-server` reads it (`server_chat_convert_anthropic_to_oai`, then its chat
/// parsing): nlohmann's parse errors, `messages` required (a `runtime_error`, so a 500), each
/// message's `content` a string or an array, `max_tokens` 4096 when not given.
fn llama_server_request(body: &[u8]) -> Result<MessagesRequest, MessagesError> {
    let refused = |message: String| MessagesError::refused(StatusCode::BAD_REQUEST, message);
    let value = nlohmann_parse(body).map_err(refused)?;
    if value.get("messages").is_none() {
        return Err(MessagesError::refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "'messages' is required",
        ));
    }
    let odd_content = value["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|message| {
            message
                .get("content")
                .is_some_and(|content| !content.is_string() && !content.is_array())
        });
    if odd_content {
        return Err(refused(
            "Expected 'content' to be a string or an array".to_owned(),
        ));
    }
    let mut request: MessagesRequest =
        serde_json::from_value(value).map_err(|error| refused(error.to_string()))?;
    request.max_tokens.get_or_insert(4096);
    Ok(request)
}

/// A body as vLLM's pydantic models read it (`AnthropicMessagesRequest`, or
/// `AnthropicCountTokensRequest` without `max_tokens`), refused in its OpenAI envelope: the
/// server's request-validation handler answers every route so.
fn vllm_request(body: &[u8], purpose: Purpose) -> Result<MessagesRequest, MessagesError> {
    let refused = |message: &str, param: Option<&str>| {
        MessagesError::Chat(ApiError::invalid(
            &VLLM,
            InvalidRequest::new(message, param.map(str::to_owned)),
        ))
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| refused("JSON decode error", None))?;
    if !value.is_object() {
        return Err(refused("Input should be a valid dictionary", None));
    }
    match value.get("model") {
        None => return Err(refused("Field required: 'model'", Some("model"))),
        Some(Value::String(model)) if model.is_empty() => {
            return Err(refused("Value error, Model is required", Some("model")));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(refused("Input should be a valid string", Some("model"))),
    }
    if !value.get("messages").is_some_and(Value::is_array) {
        return Err(refused("Field required: 'messages'", Some("messages")));
    }
    if purpose == Purpose::Create {
        match value.get("max_tokens").map(Value::as_i64) {
            None => return Err(refused("Field required: 'max_tokens'", Some("max_tokens"))),
            Some(None) => {
                return Err(refused(
                    "Input should be a valid integer",
                    Some("max_tokens"),
                ));
            }
            Some(Some(limit)) if limit <= 0 => {
                return Err(refused(
                    "Value error, max_tokens must be positive",
                    Some("max_tokens"),
                ));
            }
            Some(Some(_)) => {}
        }
    }
    if value["tool_choice"]["type"] == "tool" && !value["tool_choice"]["name"].is_string() {
        return Err(refused(
            "Value error, tool_choice.name is required when type is 'tool'",
            Some("tool_choice"),
        ));
    }
    serde_json::from_value(value).map_err(|error| refused(&error.to_string(), None))
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
        return Err(MessagesError::refused(
            StatusCode::UNAUTHORIZED,
            "x-api-key header is required",
        ));
    }
    if !present("anthropic-version") {
        return Err(MessagesError::refused(
            StatusCode::BAD_REQUEST,
            "anthropic-version: header is required",
        ));
    }
    Ok(())
}

/// The request's id, from its place in the journal: Anthropic's `req_01…`, or Ollama's `req_`
/// and 24 hex digits.
fn request_id(ids: Ids, seq: u64) -> String {
    let mut rng = DetRng::new(seq.rotate_left(13) ^ 0x5eed);
    match ids {
        Ids::Anthropic => format!("req_01{}", rng.base62(22)),
        Ids::Ollama | Ids::LlamaServer | Ids::Vllm => format!("req_{}", rng.hex(24)),
    }
}

/// The reply, with the request's id where the flavour gives one.
fn finish(
    dialect: &'static MessagesDialect,
    seq: u64,
    reply: Result<Response, MessagesError>,
) -> Response {
    let id = request_id(dialect.ids, seq);
    let mut response = reply.unwrap_or_else(|error| error.response(dialect, &id));
    if dialect.request_id_header
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        response.headers_mut().insert("request-id", value);
    }
    response
}

//! The Responses API routes (`/v1/responses` and the stored responses under it), as each
//! flavour's server answers them: OpenAI's exactly, with its store (`openai`); Ollama's
//! stateless layer (`ollama`); `llama-server`'s (`llamacpp`); vLLM's with its store disabled, as
//! it starts by default (`vllm`). llama-cpp-python has no such route.

use std::sync::Arc;

use axum::{
    Extension,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use wire::openai::{
    responses::{DeletedResponse, InputItemList, Item},
    validate::InvalidRequest,
};

use super::{
    RequestSeq,
    generation::accept_chat,
    openai::{listed_id, serve_default_model},
    reply::{Object, Written, reply},
};
use crate::{
    error::OllamaError,
    openai::{
        ApiError, Dialect, Flavor, encode,
        flavor::{LLAMA_SERVER, Validation},
        llamacpp_responses, ollama_responses, request,
        response_store::StoredResponse,
        responses,
        vllm_responses::{self, Refusal},
    },
    state::MockState,
};

pub async fn create_response(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    match dialect.flavor {
        Flavor::Openai => {}
        Flavor::Ollama => return ollama_responses(&state, seq, dialect, &body).await,
        Flavor::Llamacpp => return llama_server_responses(&state, seq, &body).await,
        Flavor::Vllm => return vllm_responses(&state, seq, dialect, &body).await,
        Flavor::LlamaCppPython => return Err(ApiError::not_found(dialect, "/v1/responses")),
    }
    let mut ask = request::responses(dialect, &body, &state.responses)?;
    let echoed = serve_default_model(&state, dialect, &mut ask.chat.native.model);
    let accepted = accept_chat(&state, seq, &ask.chat.native)
        .map_err(|e| ApiError::from_native(dialect, e))?;
    let echo = responses::Echo {
        created_at: u64::try_from(state.config.clock_start().timestamp()).unwrap_or(0),
        request: ask.request,
        previous: ask.previous,
    };
    let written = Written {
        object: Object::Response(Box::new(echo)),
        model: echoed,
        streaming: ask.chat.native.is_streaming(),
        include_usage: false,
        choices: 1,
        logprobs: None,
    };
    reply(&state, seq, dialect, accepted, written).await
}

/// `/v1/responses` as Ollama's stateless layer answers it.
async fn ollama_responses(
    state: &MockState,
    seq: u64,
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<Response, ApiError> {
    let ask = ollama_responses::read(body)
        .map_err(|message| ApiError::invalid(dialect, InvalidRequest::new(message, None)))?;
    let accepted =
        accept_chat(state, seq, &ask.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let written = Written {
        object: Object::OllamaResponse(Box::new(ask.echo)),
        model: ask.native.model.clone(),
        streaming: ask.native.is_streaming(),
        include_usage: false,
        choices: 1,
        logprobs: None,
    };
    reply(state, seq, dialect, accepted, written).await
}

/// `/v1/responses` as llama.cpp's `llama-server` answers it: the reply names the model the
/// server serves, whatever the request asked for.
async fn llama_server_responses(
    state: &MockState,
    seq: u64,
    body: &[u8],
) -> Result<Response, ApiError> {
    let dialect = &LLAMA_SERVER;
    let chat = llamacpp_responses::read(body)
        .map_err(|message| ApiError::invalid(dialect, InvalidRequest::new(message, None)))?;
    let mut ask = request::chat_ask(dialect, &chat)?;
    serve_default_model(state, dialect, &mut ask.native.model);
    let accepted =
        accept_chat(state, seq, &ask.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let served = state.scenario().model(&ask.native.model).map_or_else(
        || ask.native.model.clone(),
        |spec| listed_id(dialect, spec).to_owned(),
    );
    let written = Written {
        object: Object::LlamaServerResponse,
        model: served,
        streaming: ask.native.is_streaming(),
        include_usage: false,
        choices: 1,
        logprobs: None,
    };
    reply(state, seq, dialect, accepted, written).await
}

/// `/v1/responses` as vLLM answers it: pydantic's checks, the model, then its disabled store.
async fn vllm_responses(
    state: &MockState,
    seq: u64,
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<Response, ApiError> {
    let refused = |refusal| vllm_refusal(dialect, refusal);
    let ask = vllm_responses::read(body).map_err(refused)?;
    let mut chat = request::chat_ask(dialect, &ask.chat)?;
    let echoed = serve_default_model(state, dialect, &mut chat.native.model);
    let Some(context_length) = state
        .scenario()
        .model(&chat.native.model)
        .map(|model| model.context_length)
    else {
        return Err(ApiError::from_native(
            dialect,
            OllamaError::ModelNotFound(echoed),
        ));
    };
    ask.check_store().map_err(refused)?;
    let echo = ask.into_echo(state.config.clock_start().timestamp(), context_length);
    let accepted =
        accept_chat(state, seq, &chat.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let written = Written {
        object: Object::VllmResponse(Box::new(echo)),
        model: echoed,
        streaming: chat.native.is_streaming(),
        include_usage: false,
        choices: 1,
        logprobs: None,
    };
    reply(state, seq, dialect, accepted, written).await
}

fn vllm_refusal(dialect: &'static Dialect, refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(invalid) => ApiError::invalid(dialect, invalid),
        Refusal::Named {
            status,
            message,
            param,
        } => ApiError::vllm_invalid_request(dialect, status, message, param),
    }
}

/// `GET /v1/responses/{id}`: a stored response as it was last written.
pub async fn retrieve_response(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    vllm_finds_nothing(&state, &id)?;
    let stored = stored_response(&state, &id)?;
    Ok(encode::json_response(
        state.dialect(),
        StatusCode::OK,
        &stored.response,
    ))
}

/// `DELETE /v1/responses/{id}` (vLLM has only `GET` on that path: FastAPI's 405).
pub async fn delete_response(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    if dialect.flavor == Flavor::Vllm {
        return Err(ApiError::raw(
            dialect,
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"detail":"Method Not Allowed"}"#,
            "application/json",
        ));
    }
    stored_response(&state, &id)?;
    state.responses.remove(&id);
    let deleted = DeletedResponse {
        id,
        object: "response".to_owned(),
        deleted: true,
    };
    Ok(encode::json_response(
        state.dialect(),
        StatusCode::OK,
        &deleted,
    ))
}

/// `POST /v1/responses/{id}/cancel`, which only vLLM serves (for background responses, which
/// its disabled store never holds).
pub async fn cancel_response(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    vllm_finds_nothing(&state, &id)?;
    Err(ApiError::not_found(
        state.dialect(),
        &format!("/v1/responses/{id}/cancel"),
    ))
}

/// vLLM's answer for any stored response: its store is disabled, so it keeps none.
fn vllm_finds_nothing(state: &MockState, id: &str) -> Result<(), ApiError> {
    let dialect = state.dialect();
    if dialect.flavor == Flavor::Vllm {
        return Err(vllm_refusal(dialect, vllm_responses::not_found(id)));
    }
    Ok(())
}

/// `GET /v1/responses/{id}/input_items` query: a page of the items, newest first by default.
#[derive(Debug, Deserialize)]
pub struct InputItemsQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    order: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// `GET /v1/responses/{id}/input_items`: the items a stored response was asked with, in pages
/// of `limit` (1–100, 20 by default), `order` `desc` (default) or `asc`, starting `after` an
/// item id.
pub async fn response_input_items(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    Query(query): Query<InputItemsQuery>,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    let stored = stored_response(&state, &id)?;
    let invalid = |message: String, param: &str| {
        ApiError::invalid(dialect, InvalidRequest::new(message, param.to_owned()))
    };
    let limit = match query.limit.as_deref() {
        None => 20,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=100).contains(limit))
            .ok_or_else(|| {
                invalid(
                    format!("Invalid 'limit': expected an integer between 1 and 100, got {text}."),
                    "limit",
                )
            })?,
    };
    let mut items: Vec<&Item> = stored.input_items.iter().collect();
    match query.order.as_deref() {
        None | Some("desc") => items.reverse(),
        Some("asc") => {}
        Some(other) => {
            return Err(invalid(
                format!("Invalid 'order': expected one of 'asc' or 'desc', got '{other}'."),
                "order",
            ));
        }
    }
    if let Some(after) = &query.after {
        let start = items
            .iter()
            .position(|item| item.id() == Some(after.as_str()))
            .ok_or_else(|| {
                invalid(
                    format!("No item with id '{after}' in this response."),
                    "after",
                )
            })?;
        items.drain(..=start);
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    let list = InputItemList {
        object: "list".to_owned(),
        first_id: items.first().and_then(|item| item.id()).map(str::to_owned),
        last_id: items.last().and_then(|item| item.id()).map(str::to_owned),
        data: items.into_iter().cloned().collect(),
        has_more,
    };
    Ok(encode::json_response(dialect, StatusCode::OK, &list))
}

/// The response stored under `id`, or the 404 OpenAI answers (on the exact flavour only: the
/// others have no such route).
fn stored_response(state: &MockState, id: &str) -> Result<Arc<StoredResponse>, ApiError> {
    let dialect = state.dialect();
    if dialect.validation != Validation::Openai {
        return Err(ApiError::not_found(dialect, &format!("/v1/responses/{id}")));
    }
    state
        .responses
        .get(id)
        .ok_or_else(|| ApiError::no_stored_response(dialect, id))
}

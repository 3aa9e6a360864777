//! The `/v1` routes: read the body in the dialect, answer it with the native pipeline, write the
//! answer back in the dialect.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use wire::{
    ollama::EmbedRequest,
    openai::{
        responses::{DeletedResponse, InputItemList, Item},
        validate::InvalidRequest,
    },
};

use super::{
    RequestSeq,
    embed::embed_vectors,
    generation::{Accepted, Answer, accept_chat, accept_generate},
};
use crate::{
    error::{OllamaError, parse_body},
    fault::Fault,
    ndjson::Clock,
    openai::{
        ApiError, Dialect, Flavor,
        chat::{self, ReplyContext},
        completion, encode,
        error::llama_server_error,
        flavor::{LLAMA_SERVER, ModelObjects, Validation},
        llama_server, llamacpp_responses, ollama_responses, refusal, request,
        response_store::StoredResponse,
        responses,
    },
    respond,
    scenario::ModelSpec,
    state::MockState,
};

pub async fn chat_completions(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    if dialect.flavor == Flavor::Llamacpp {
        return llama_server_chat(&state, seq, dialect, &body).await;
    }
    let mut ask = request::chat(dialect, &body)?;
    let echoed = serve_default_model(&state, dialect, &mut ask.native.model);
    refuse_over_context(&state, dialect, &ask.native)?;
    let accepted =
        accept_chat(&state, seq, &ask.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let written = Written {
        object: Object::Chat,
        model: echoed,
        streaming: ask.native.is_streaming(),
        include_usage: ask.include_usage,
        choices: ask.choices,
        logprobs: ask.logprobs,
    };
    reply(&state, seq, dialect, accepted, written).await
}

/// `/v1/chat/completions` as `llama-server` answers it, naming the model it serves.
async fn llama_server_chat(
    state: &MockState,
    seq: u64,
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<Response, ApiError> {
    let chat = llama_server::chat_request(dialect, body)?;
    let mut ask = request::chat_ask(dialect, &chat)?;
    let served = llama_server_model(state, &mut ask.native.model);
    refuse_over_context(state, dialect, &ask.native)?;
    let accepted =
        accept_chat(state, seq, &ask.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let written = Written {
        object: Object::LlamaServerChat,
        model: served,
        streaming: ask.native.is_streaming(),
        include_usage: ask.include_usage,
        choices: ask.choices,
        logprobs: ask.logprobs,
    };
    reply(state, seq, dialect, accepted, written).await
}

pub async fn responses(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    match dialect.flavor {
        Flavor::Openai => {}
        Flavor::Ollama => return ollama_responses(&state, seq, dialect, &body).await,
        Flavor::Llamacpp => return llama_server_responses(&state, seq, &body).await,
        // llama-cpp-python has no Responses route; vLLM's Responses layer is not played yet.
        Flavor::LlamaCppPython | Flavor::Vllm => {
            return Err(ApiError::not_found(dialect, "/v1/responses"));
        }
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

/// `GET /v1/responses/{id}`: a stored response as it was last written.
pub async fn retrieve_response(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = stored_response(&state, &id)?;
    Ok(encode::json_response(
        state.dialect(),
        StatusCode::OK,
        &stored.response,
    ))
}

/// `DELETE /v1/responses/{id}`.
pub async fn delete_response(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
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

pub async fn completions(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    let llama_server = dialect.flavor == Flavor::Llamacpp;
    if llama_server {
        llama_server::completion_checks(dialect, &body)?;
    }
    let mut ask = request::completion(dialect, &body)?;
    let echoed = if llama_server {
        llama_server_model(&state, &mut ask.native.model)
    } else {
        serve_default_model(&state, dialect, &mut ask.native.model)
    };
    let accepted =
        accept_generate(&state, seq, &ask.native).map_err(|e| ApiError::from_native(dialect, e))?;
    let written = Written {
        object: if llama_server {
            Object::LlamaServerCompletion
        } else {
            Object::Completion
        },
        model: echoed,
        streaming: ask.native.is_streaming(),
        include_usage: ask.include_usage,
        choices: 1,
        logprobs: None,
    };
    reply(&state, seq, dialect, accepted, written).await
}

/// Refuses a prompt longer than the model's context where the dialect's server does (a word
/// counts as a token, as everywhere in the mock).
fn refuse_over_context(
    state: &MockState,
    dialect: &'static Dialect,
    request: &wire::ollama::ChatRequest,
) -> Result<(), ApiError> {
    if !dialect.refuses_over_context {
        return Ok(());
    }
    let Some(limit) = state
        .scenario()
        .model(&request.model)
        .map(|model| model.context_length)
    else {
        return Ok(());
    };
    let asked: u64 = request
        .messages
        .iter()
        .map(|message| message.content.split_whitespace().count() as u64)
        .sum();
    if asked > limit {
        let completion = request
            .options
            .as_ref()
            .and_then(|options| options.get("num_predict"))
            .and_then(serde_json::Value::as_u64);
        return Err(ApiError::context_exceeded(
            dialect, limit, asked, completion,
        ));
    }
    Ok(())
}

/// What llama-cpp-python refuses before it embeds: pydantic's checks of
/// `CreateEmbeddingRequest` (`input` a string or a list of strings), then a model loaded without
/// `embedding=True` — every chat model the server was started with.
fn llama_cpp_python_embeddings(
    state: &MockState,
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<(), ApiError> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let errors = match &value["input"] {
        Value::Null if value.get("input").is_none() => Some(
            "1 validation error:\n  {'type': 'missing', 'loc': ('body', 'input'), 'msg': 'Field required'}",
        ),
        Value::String(_) => None,
        Value::Array(items) if items.iter().all(Value::is_string) => None,
        _ => Some(
            "2 validation errors:\n  {'type': 'string_type', 'loc': ('body', 'input', 'str'), 'msg': 'Input should be a valid string'}\n  {'type': 'list_type', 'loc': ('body', 'input', 'list[str]'), 'msg': 'Input should be a valid list'}",
        ),
    };
    if let Some(errors) = errors {
        return Err(refusal::pydantic_refusal_of(
            dialect,
            refusal::LlamaRoute::Embeddings,
            errors,
        ));
    }
    if loaded_model_embeds(state).is_some() {
        return Ok(());
    }
    Err(ApiError::invalid(
        dialect,
        InvalidRequest::new(
            "Llama model must be created with embedding=True to call this method".to_owned(),
            None,
        ),
    ))
}

/// The name of the model a single-model server (llama-cpp-python, `llama-server`) was started
/// with, if it embeds.
fn loaded_model_embeds(state: &MockState) -> Option<String> {
    loaded_model(state)
        .filter(|spec| spec.can(crate::scenario::Capability::Embedding))
        .map(|spec| spec.name)
}

/// The model a single-model server was started with: the scenario's first generative or
/// embedding model.
fn loaded_model(state: &MockState) -> Option<ModelSpec> {
    use crate::scenario::Capability::{Completion, Embedding};
    state
        .scenario()
        .models
        .iter()
        .find(|spec| spec.can(Completion) || spec.can(Embedding))
        .cloned()
}

/// `/v1/embeddings` as `llama-server` answers it (`handle_embeddings_impl`): only a server
/// started with `--embeddings` (here: one whose served model can embed) embeds; `input` (or
/// `content`) required, `encoding_format` `float` or `base64`.
fn llama_server_embeddings(
    state: &MockState,
    dialect: &'static Dialect,
    body: &[u8],
) -> Result<Response, ApiError> {
    let invalid =
        |message: &str| ApiError::invalid(dialect, InvalidRequest::new(message.to_owned(), None));
    let Some(served) = loaded_model_embeds(state) else {
        return Err(ApiError::llama_server(
            dialect,
            StatusCode::NOT_IMPLEMENTED,
            llama_server_error(
                501,
                "This server does not support embeddings. Start it with `--embeddings`",
            ),
        ));
    };
    let request = refusal::nlohmann_parse(body).map_err(|message| invalid(&message))?;
    let Some(input) = request.get("input").or_else(|| request.get("content")) else {
        return Err(invalid("\"input\" or \"content\" must be provided"));
    };
    let base64 = match request.get("encoding_format") {
        None => false,
        Some(format) if format == "float" => false,
        Some(format) if format == "base64" => true,
        Some(_) => {
            return Err(invalid(
                "The format to return the embeddings in. Can be either float or base64",
            ));
        }
    };
    if input.as_array().is_some_and(Vec::is_empty) {
        return Err(invalid("\"input\" must not be empty"));
    }
    let native = EmbedRequest {
        model: served.clone(),
        input: input.clone(),
        ..EmbedRequest::default()
    };
    let response = embed_vectors(state, native).map_err(|e| ApiError::from_native(dialect, e))?;
    let vectors = response
        .embeddings
        .iter()
        .map(|vector| {
            if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            }
        })
        .collect();
    let model = request["model"].as_str().unwrap_or(&served).to_owned();
    Ok(encode::json_response(
        dialect,
        StatusCode::OK,
        &llama_server::embeddings(&model, vectors, response.prompt_eval_count, base64),
    ))
}

/// Which `/v1` objects a reply is written as.
#[derive(Debug)]
enum Object {
    /// `chat.completion` / `chat.completion.chunk`.
    Chat,
    /// `text_completion`.
    Completion,
    /// `response` and its stream events, echoing the request.
    Response(Box<responses::Echo>),
    /// `response` as Ollama's layer writes it.
    OllamaResponse(Box<ollama_responses::Echo>),
    /// `response` as `llama-server` writes it (echoing nothing of the request).
    LlamaServerResponse,
    /// `chat.completion` / `chat.completion.chunk` as `llama-server` writes them.
    LlamaServerChat,
    /// `text_completion` as `llama-server` writes it.
    LlamaServerCompletion,
}

/// How an accepted request is written back.
#[derive(Debug)]
struct Written {
    object: Object,
    /// The model name the reply echoes.
    model: String,
    streaming: bool,
    include_usage: bool,
    choices: usize,
    /// `top_logprobs` when the request asked for `logprobs`.
    logprobs: Option<usize>,
}

/// Writes the native pipeline's decision in the dialect: SSE events or one object, paced and
/// faulted as the scenario says.
async fn reply(
    state: &MockState,
    seq: u64,
    dialect: &'static Dialect,
    accepted: Accepted,
    written: Written,
) -> Result<Response, ApiError> {
    let mut answer = accepted.into_answer(written.streaming);
    answer.model = written.model;
    let ctx = ReplyContext {
        dialect,
        model: &answer.model,
        seed: answer.seed,
        clock: Clock {
            base: state.config.clock_start(),
        },
        choices: written.choices,
        logprobs: written.logprobs,
    };
    let scale = state.config.time_scale;
    if answer.streaming {
        let plan = match &written.object {
            Object::Chat => {
                let stream = chat::stream(&ctx, &answer.turn, written.include_usage);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::Completion => {
                let stream = completion::stream(&ctx, &answer.turn, written.include_usage);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::Response(echo) => {
                let stream = responses::stream(&ctx, &answer.turn, echo);
                keep_response(state, &ctx, &answer, echo);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::OllamaResponse(echo) => {
                let stream = ollama_responses::stream(&ctx, &answer.turn, echo);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::LlamaServerResponse => {
                let stream = llamacpp_responses::stream(&ctx, &answer.turn);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::LlamaServerChat => {
                let stream = llama_server::stream(&ctx, &answer.turn, written.include_usage);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
            Object::LlamaServerCompletion => {
                let stream = llama_server::completion_stream(&ctx, &answer.turn);
                respond::plan_stream(&stream.lines, &answer.faults, scale, &stream.framing)
            }
        };
        let journal = state.journal.clone();
        return Ok(respond::send(plan, dialect.sse_content_type, true, journal, seq).await);
    }
    let object = match &written.object {
        Object::Chat => chat::whole(&ctx, &answer.turn),
        Object::Completion => completion::whole(&ctx, &answer.turn),
        Object::Response(echo) => responses::whole(&ctx, &answer.turn, echo),
        Object::OllamaResponse(echo) => ollama_responses::whole(&ctx, &answer.turn, echo),
        Object::LlamaServerResponse => llamacpp_responses::whole(&ctx, &answer.turn),
        Object::LlamaServerChat => llama_server::whole(&ctx, &answer.turn),
        Object::LlamaServerCompletion => llama_server::completion_whole(&ctx, &answer.turn),
    };
    let total: Duration = answer.turn.delays.iter().sum();
    let plan = respond::plan_whole(encode::body(dialect, &object), total, &answer.faults, scale)
        .map_err(|e| ApiError::from_native(dialect, e))?;
    if let Object::Response(echo) = &written.object {
        keep_response(state, &ctx, &answer, echo);
    }
    let journal = state.journal.clone();
    Ok(respond::send(plan, dialect.json_content_type, false, journal, seq).await)
}

/// Stores a response the client will have whole, unless it asked not to.
fn keep_response(
    state: &MockState,
    ctx: &ReplyContext<'_>,
    answer: &Answer,
    echo: &responses::Echo,
) {
    if answer.faults.iter().any(Fault::spoils_reply) {
        return;
    }
    if let Some(stored) = echo.stored(ctx, &answer.turn) {
        state.responses.insert(stored);
    }
}

/// A server that serves its one model whatever the request names (llama-cpp-python), or when
/// it names none (vLLM), answers with its first generative model; the reply echoes the name
/// asked for (or that model's name when none was). Returns the name to echo.
fn serve_default_model(state: &MockState, dialect: &Dialect, model: &mut String) -> String {
    let scenario = state.scenario();
    let serves = if model.is_empty() {
        dialect.serves_missing_model
    } else {
        dialect.serves_unknown_models && scenario.model(model).is_none()
    };
    if !serves {
        return model.clone();
    }
    let Some(default) = scenario
        .models
        .iter()
        .find(|spec| spec.can(crate::scenario::Capability::Completion))
    else {
        return model.clone();
    };
    let echoed = if model.is_empty() {
        default.name.clone()
    } else {
        model.clone()
    };
    *model = default.name.clone();
    echoed
}

/// `llama-server` answers any model name with the model it serves, and names that one in its
/// reply (`oaicompat_model` is the served model's name): points `model` at the served model and
/// returns its name as listed.
pub(super) fn llama_server_model(state: &MockState, model: &mut String) -> String {
    serve_default_model(state, &LLAMA_SERVER, model);
    state.scenario().model(model).map_or_else(
        || model.clone(),
        |spec| listed_id(&LLAMA_SERVER, spec).to_owned(),
    )
}

/// Unix seconds of a model's `modified_at` (RFC 3339 with an offset).
fn created(model: &ModelSpec) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&model.modified_at).map_or(0, |time| time.timestamp())
}

/// A model as the dialect lists it.
fn model_object(dialect: &Dialect, model: &ModelSpec, id: &str) -> Value {
    match dialect.models {
        ModelObjects::Ollama => {
            // `owned_by` is the namespace of the name (`library` unless `user/model`).
            let owner = id.rsplit_once('/').map_or("library", |(namespace, _)| {
                namespace.rsplit('/').next().unwrap_or(namespace)
            });
            json!({"id": id, "object": "model", "created": created(model), "owned_by": owner})
        }
        ModelObjects::Openai => {
            json!({"id": id, "object": "model", "created": created(model), "owned_by": "mock-ollama"})
        }
        ModelObjects::LlamaCppPython => {
            json!({"id": id, "object": "model", "owned_by": "me", "permissions": []})
        }
        ModelObjects::LlamaServer => llama_server::models(model, created(model))["data"][0].clone(),
        ModelObjects::Vllm => {
            let permission = json!({
                "id": format!("modelperm-{}", &model.digest()[..32]),
                "object": "model_permission",
                "created": created(model),
                "allow_create_engine": false,
                "allow_sampling": true,
                "allow_logprobs": true,
                "allow_search_indices": false,
                "allow_view": true,
                "allow_fine_tuning": false,
                "organization": "*",
                "group": null,
                "is_blocking": false,
            });
            json!({"id": id, "object": "model", "created": created(model), "owned_by": "vllm",
                   "root": id, "parent": null, "max_model_len": model.context_length,
                   "permission": [permission]})
        }
    }
}

/// A model's id in the dialect's `/v1/models` list: Ollama's full name, or the name as clients
/// send it (without `:latest`).
fn listed_id<'a>(dialect: &Dialect, model: &'a ModelSpec) -> &'a str {
    match dialect.models {
        ModelObjects::Ollama => model.name.as_str(),
        ModelObjects::Openai
        | ModelObjects::LlamaCppPython
        | ModelObjects::Vllm
        | ModelObjects::LlamaServer => model.name.strip_suffix(":latest").unwrap_or(&model.name),
    }
}

pub async fn list_models(State(state): State<Arc<MockState>>) -> Response {
    let dialect = state.dialect();
    if dialect.models == ModelObjects::LlamaServer {
        let list = match loaded_model(&state) {
            Some(model) => llama_server::models(&model, state.config.clock_start().timestamp()),
            None => json!({"models": [], "object": "list", "data": []}),
        };
        return encode::json_response(dialect, StatusCode::OK, &list);
    }
    let data: Vec<Value> = state
        .scenario()
        .models
        .iter()
        .map(|model| model_object(dialect, model, listed_id(dialect, model)))
        .collect();
    let data = if data.is_empty() && dialect.models == ModelObjects::Ollama {
        // Go's nil slice.
        Value::Null
    } else {
        Value::Array(data)
    };
    encode::json_response(
        dialect,
        StatusCode::OK,
        &json!({"object": "list", "data": data}),
    )
}

pub async fn retrieve_model(
    State(state): State<Arc<MockState>>,
    Path(requested): Path<String>,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    if matches!(
        dialect.models,
        ModelObjects::LlamaCppPython | ModelObjects::Vllm | ModelObjects::LlamaServer
    ) {
        return Err(ApiError::not_found(
            dialect,
            &format!("/v1/models/{requested}"),
        ));
    }
    let scenario = state.scenario();
    let not_found =
        || ApiError::from_native(dialect, OllamaError::ModelNotFound(requested.clone()));
    let model = match dialect.models {
        // Ollama resolves any spelling of a name it has; OpenAI knows only the ids it lists.
        ModelObjects::Openai => scenario
            .models
            .iter()
            .find(|model| listed_id(dialect, model) == requested),
        _ => scenario.model(&requested),
    }
    .ok_or_else(not_found)?;
    Ok(encode::json_response(
        dialect,
        StatusCode::OK,
        &model_object(dialect, model, &requested),
    ))
}

/// `POST /v1/embeddings` body.
#[derive(Debug, Deserialize)]
struct EmbeddingRequest {
    #[serde(default)]
    model: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    dimensions: Option<usize>,
    #[serde(default)]
    encoding_format: Option<String>,
}

pub async fn embeddings(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dialect = state.dialect();
    match dialect.flavor {
        Flavor::Llamacpp => return llama_server_embeddings(&state, dialect, &body),
        Flavor::LlamaCppPython => llama_cpp_python_embeddings(&state, dialect, &body)?,
        Flavor::Ollama | Flavor::Openai | Flavor::Vllm => {}
    }
    let invalid = |message: String, param: &str| {
        ApiError::invalid(dialect, InvalidRequest::new(message, param.to_owned()))
    };
    let request: EmbeddingRequest = parse_body(&body).map_err(|error| {
        invalid(
            match error {
                OllamaError::MissingBody => "EOF".to_owned(),
                other => other.to_string(),
            },
            "input",
        )
    })?;
    let base64 = match request.encoding_format.as_deref() {
        None | Some("") => false,
        Some(format) if format.eq_ignore_ascii_case("float") => false,
        Some(format) if format.eq_ignore_ascii_case("base64") => true,
        Some(other) => {
            return Err(invalid(
                format!(
                    "Invalid value for 'encoding_format' = {other}. Supported values: ['float', 'base64']."
                ),
                "encoding_format",
            ));
        }
    };
    let input = match request.input {
        Value::String(text) if text.is_empty() => json!([""]),
        Value::Null => return Err(invalid("invalid input".to_owned(), "input")),
        Value::Array(items) if items.is_empty() => {
            return Err(invalid("invalid input".to_owned(), "input"));
        }
        other => other,
    };
    let native = EmbedRequest {
        model: request.model.clone(),
        input,
        dimensions: request.dimensions,
        ..EmbedRequest::default()
    };
    let response = embed_vectors(&state, native).map_err(|e| ApiError::from_native(dialect, e))?;
    let data: Vec<Value> = response
        .embeddings
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "embedding": embedding, "index": index})
        })
        .collect();
    let tokens = response.prompt_eval_count;
    Ok(encode::json_response(
        dialect,
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": data,
            "model": request.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }),
    ))
}

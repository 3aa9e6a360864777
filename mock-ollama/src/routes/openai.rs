//! The `/v1` Chat Completions, completions, embeddings and models routes: read the body in the
//! dialect, answer it with the native pipeline, write the answer back in the dialect (the
//! Responses routes are in `responses`, the writing in `reply`).

use std::sync::Arc;

use axum::{
    Extension,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use wire::{ollama::EmbedRequest, openai::validate::InvalidRequest};

use super::{
    RequestSeq,
    embed::embed_vectors,
    generation::{accept_chat, accept_generate},
    reply::{Object, Written, reply},
};
use crate::{
    error::{OllamaError, parse_body},
    openai::{
        ApiError, Dialect, Flavor, encode,
        error::llama_server_error,
        flavor::{LLAMA_SERVER, ModelObjects},
        llama_server, refusal, request,
    },
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

/// A server that serves its one model whatever the request names (llama-cpp-python), or when
/// it names none (vLLM), answers with its first generative model; the reply echoes the name
/// asked for (or that model's name when none was). Returns the name to echo.
pub(super) fn serve_default_model(
    state: &MockState,
    dialect: &Dialect,
    model: &mut String,
) -> String {
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
pub(super) fn listed_id<'a>(dialect: &Dialect, model: &'a ModelSpec) -> &'a str {
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

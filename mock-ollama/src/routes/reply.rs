//! How an accepted `/v1` request is written back: which objects the reply is ([`Object`]: a
//! chat completion, a text completion, or a Responses `response`, each as its server writes
//! it), paced and faulted as the scenario says, and kept in the response store where the
//! flavour's server keeps it.

use std::time::Duration;

use axum::response::Response;

use super::generation::{Accepted, Answer};
use crate::{
    fault::Fault,
    ndjson::Clock,
    openai::{
        ApiError, Dialect,
        chat::{self, ReplyContext},
        completion, encode, llama_server, llamacpp_responses, ollama_responses, responses,
        vllm_responses,
    },
    respond,
    state::MockState,
};

/// Which `/v1` objects a reply is written as.
#[derive(Debug)]
pub(super) enum Object {
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
    /// `response` as vLLM writes it.
    VllmResponse(Box<vllm_responses::Echo>),
    /// `chat.completion` / `chat.completion.chunk` as `llama-server` writes them.
    LlamaServerChat,
    /// `text_completion` as `llama-server` writes it.
    LlamaServerCompletion,
}

/// How an accepted request is written back.
#[derive(Debug)]
pub(super) struct Written {
    pub(super) object: Object,
    /// The model name the reply echoes.
    pub(super) model: String,
    pub(super) streaming: bool,
    pub(super) include_usage: bool,
    pub(super) choices: usize,
    /// `top_logprobs` when the request asked for `logprobs`.
    pub(super) logprobs: Option<usize>,
}

/// Writes the native pipeline's decision in the dialect: SSE events or one object, paced and
/// faulted as the scenario says.
pub(super) async fn reply(
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
            Object::VllmResponse(echo) => {
                let stream = vllm_responses::stream(&ctx, &answer.turn, echo);
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
        Object::VllmResponse(echo) => vllm_responses::whole(&ctx, &answer.turn, echo),
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

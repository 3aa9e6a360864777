//! `/api/chat` and `/api/generate`: validate like Ollama, pick the rule (or generate a reply),
//! resolve it into a [`Turn`] and send it as a stream or a single object.

use std::{sync::Arc, time::Duration};

use axum::{Extension, body::Bytes, extract::State, http::StatusCode, response::Response};
use serde_json::Value;
use wire::{
    go_json,
    ollama::{ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, Message},
};

use super::RequestSeq;
use crate::{
    error::{OllamaError, parse_body},
    fault::Fault,
    gin::{JSON, NDJSON, json_response},
    matching::RequestView,
    ndjson::{self, Clock, Shape},
    respond::{self, NdjsonFraming},
    scenario::{Capability, Endpoint, ModelSpec, Scenario},
    seed::{self, DetRng},
    state::MockState,
    turn::{Turn, TurnContext},
    unscripted, validate,
};

pub async fn chat(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: ChatRequest = parse_body(&body)?;
    let accepted = accept_chat(&state, seq, &request)?;
    respond_native(&state, seq, Shape::Chat, accepted).await
}

pub async fn generate(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: GenerateRequest = parse_body(&body)?;
    let accepted = accept_generate(&state, seq, &request)?;
    respond_native(&state, seq, Shape::Generate, accepted).await
}

/// What the native pipeline decided for a generation request, before any bytes are written:
/// both dialects (`/api/*` NDJSON and `/v1/*` OpenAI) render the same decision.
#[derive(Debug)]
pub enum Accepted {
    /// No messages (or prompt): Ollama loads the model (`load`) or unloads it (`unload`) and
    /// answers one object.
    Load {
        /// Model name as sent.
        model: String,
        /// `load` or `unload`.
        reason: &'static str,
    },
    /// A reply to generate.
    Reply(Box<Answer>),
}

impl Accepted {
    /// The answer to write; a load or unload (a request that generates nothing) is answered like
    /// an empty reply.
    pub fn into_answer(self, streaming: bool) -> Answer {
        match self {
            Accepted::Reply(answer) => *answer,
            Accepted::Load { model, reason } => Answer {
                model,
                turn: Turn::load(reason),
                faults: Vec::new(),
                streaming,
                seed: 0,
            },
        }
    }
}

/// A reply made concrete for one request: the turn, its faults and how to send it.
#[derive(Debug)]
pub struct Answer {
    /// Model name as sent; echoed in every object.
    pub model: String,
    /// Chunks, timeline and metrics.
    pub turn: Turn,
    /// Faults of the answering rule, applied while writing (never `http_error`: that one is
    /// raised as an error before the answer exists).
    pub faults: Vec<Fault>,
    /// Stream or one object.
    pub streaming: bool,
    /// The request's seed (global seed mixed with the request hash), for ids.
    pub seed: u64,
}

/// Validates a native chat request like Ollama and decides the reply.
pub fn accept_chat(
    state: &MockState,
    seq: u64,
    request: &ChatRequest,
) -> Result<Accepted, OllamaError> {
    if request.model.trim().is_empty() {
        return Err(OllamaError::ModelRequired);
    }
    let think = request.think.as_ref().map(validate::think).transpose()?;
    validate::keep_alive(request.keep_alive.as_ref())?;
    let scenario = state.scenario();
    let model = find_model(&scenario, &request.model, "chat")?;
    if !request.tools.is_empty() && !model.can(Capability::Tools) {
        return Err(OllamaError::RegistryUnsupported {
            model: model.name.clone(),
            capability: "tools",
        });
    }
    let thinking = validate::thinking(think, model, &request.model)?;
    state.mark_loaded(&model.name);
    if request.messages.is_empty() {
        return Ok(load(&request.model, request.keep_alive.as_ref()));
    }
    validate::options(request.options.as_ref())?;
    validate::format(request.format.as_ref())?;

    let last_user = request
        .messages
        .iter()
        .rev()
        .find(|message| message.role == "user")
        .map_or("", |message| message.content.as_str());
    let view = RequestView {
        endpoint: Endpoint::Chat,
        model: &request.model,
        last_user,
        last_role: request.messages.last().map_or("", |m| m.role.as_str()),
        tools: &request.tools,
        format: request.format.as_ref(),
    };
    let canonical = crate::scenario::canonical_model_name(&request.model);
    let request_hash = seed::hash_bytes(
        &serde_json::to_vec(&(&canonical, &request.messages, &request.tools)).unwrap_or_default(),
    );
    let prompt_tokens = chat_prompt_tokens(request);
    Generation {
        seq,
        view,
        thinking,
        request_hash,
        prompt_tokens,
        num_predict: validate::num_predict(request.options.as_ref()),
        stop: validate::stop_sequences(request.options.as_ref()),
        streaming: request.is_streaming(),
    }
    .answer(state)
    .map(|answer| Accepted::Reply(Box::new(answer)))
}

/// The deterministic prompt token count of a chat: a word a token, four per message, a token per
/// four bytes of each tool's JSON.
fn chat_prompt_tokens(request: &ChatRequest) -> u64 {
    request
        .messages
        .iter()
        .map(|m| words(&m.content) + words(&m.thinking) + 4)
        .sum::<u64>()
        + request
            .tools
            .iter()
            .map(|tool| serde_json::to_string(tool).map_or(0, |t| t.len() as u64 / 4))
            .sum::<u64>()
}

/// The tokens a chat would read, for a model the scenario serves (counting no rule's hit).
pub fn count_chat_tokens(state: &MockState, request: &ChatRequest) -> Result<u64, OllamaError> {
    find_model(&state.scenario(), &request.model, "chat")?;
    Ok(chat_prompt_tokens(request))
}

/// Validates a native generate request like Ollama and decides the reply.
pub fn accept_generate(
    state: &MockState,
    seq: u64,
    request: &GenerateRequest,
) -> Result<Accepted, OllamaError> {
    if request.model.trim().is_empty() {
        return Err(OllamaError::ModelNotFound(String::new()));
    }
    if request.raw == Some(true)
        && !(request.template.is_empty() && request.system.is_empty() && request.context.is_empty())
    {
        return Err(OllamaError::RawWithTemplate);
    }
    let think = request.think.as_ref().map(validate::think).transpose()?;
    validate::keep_alive(request.keep_alive.as_ref())?;
    let scenario = state.scenario();
    let model = find_model(&scenario, &request.model, "generate")?;
    if !request.suffix.is_empty() && !model.can(Capability::Insert) {
        return Err(OllamaError::RegistryUnsupported {
            model: model.name.clone(),
            capability: "insert",
        });
    }
    let thinking = validate::thinking(think, model, &request.model)?;
    state.mark_loaded(&model.name);
    if request.prompt.is_empty() {
        return Ok(load(&request.model, request.keep_alive.as_ref()));
    }
    validate::options(request.options.as_ref())?;
    validate::format(request.format.as_ref())?;

    let canonical = crate::scenario::canonical_model_name(&request.model);
    Generation {
        seq,
        view: RequestView {
            endpoint: Endpoint::Generate,
            model: &request.model,
            last_user: &request.prompt,
            last_role: "user",
            tools: &[],
            format: request.format.as_ref(),
        },
        thinking,
        request_hash: seed::hash_parts(&[&canonical, &request.system, &request.prompt]),
        prompt_tokens: words(&request.prompt) + words(&request.system) + 4,
        num_predict: validate::num_predict(request.options.as_ref()),
        stop: validate::stop_sequences(request.options.as_ref()),
        streaming: request.is_streaming(),
    }
    .answer(state)
    .map(|answer| Accepted::Reply(Box::new(answer)))
}

/// Whitespace-separated words: the mock's deterministic stand-in for a tokenizer.
fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn find_model<'a>(
    scenario: &'a Scenario,
    requested: &str,
    action: &'static str,
) -> Result<&'a ModelSpec, OllamaError> {
    let model = scenario
        .model(requested)
        .ok_or_else(|| OllamaError::ModelNotFound(requested.to_owned()))?;
    if !model.can(Capability::Completion) {
        return Err(OllamaError::Unsupported {
            model: requested.to_owned(),
            capability: action,
        });
    }
    Ok(model)
}

/// Ollama loads the model when asked to generate nothing, or unloads it with `keep_alive: 0`.
fn load(model: &str, keep_alive: Option<&Value>) -> Accepted {
    Accepted::Load {
        model: model.to_owned(),
        reason: if validate::keep_alive_is_zero(keep_alive) {
            "unload"
        } else {
            "load"
        },
    }
}

/// The single object Ollama answers to a load or unload, whatever `stream` says.
fn load_reply(state: &MockState, shape: Shape, model: String, reason: &str) -> Response {
    let created_at = go_json::rfc3339_nano(state.config.clock_start());
    match shape {
        Shape::Chat => json_response(
            StatusCode::OK,
            &ChatResponse {
                model,
                created_at,
                message: Message::assistant(""),
                done: true,
                done_reason: Some(reason.to_owned()),
                ..ChatResponse::default()
            },
        ),
        Shape::Generate => json_response(
            StatusCode::OK,
            &GenerateResponse {
                model,
                created_at,
                done: true,
                done_reason: Some(reason.to_owned()),
                ..GenerateResponse::default()
            },
        ),
    }
}

/// Writes an accepted request in Ollama's native dialect: NDJSON lines, or one object.
async fn respond_native(
    state: &MockState,
    seq: u64,
    shape: Shape,
    accepted: Accepted,
) -> Result<Response, OllamaError> {
    let answer = match accepted {
        Accepted::Load { model, reason } => return Ok(load_reply(state, shape, model, reason)),
        Accepted::Reply(answer) => *answer,
    };
    let clock = Clock {
        base: state.config.clock_start(),
    };
    let scale = state.config.time_scale;
    let turn = &answer.turn;
    let (plan, content_type) = if answer.streaming {
        let lines = ndjson::stream_lines(turn, shape, &answer.model, clock);
        (
            respond::plan_stream(&lines, &answer.faults, scale, &NdjsonFraming),
            NDJSON,
        )
    } else {
        let body = ndjson::whole(turn, shape, &answer.model, clock);
        let total: Duration = turn.delays.iter().sum();
        (
            respond::plan_whole(body, total, &answer.faults, scale)?,
            JSON,
        )
    };
    Ok(respond::send(
        plan,
        content_type,
        answer.streaming,
        state.journal.clone(),
        seq,
    )
    .await)
}

/// A validated generation request, ready to be answered.
struct Generation<'a> {
    seq: u64,
    view: RequestView<'a>,
    thinking: bool,
    request_hash: u64,
    prompt_tokens: u64,
    num_predict: Option<u64>,
    /// `options.stop`.
    stop: Vec<String>,
    streaming: bool,
}

impl Generation<'_> {
    /// Picks the rule (or generates a reply) and resolves it into an [`Answer`]; a scripted
    /// `http_error` fails here, before anything is written.
    fn answer(&self, state: &MockState) -> Result<Answer, OllamaError> {
        let (scenario, chosen) = state.select(&self.view);
        let seed = state.config.seed ^ self.request_hash;
        let generated_reply;
        let (reply, timing, faults) = match chosen {
            Some(index) => {
                let rule = &scenario.rules[index];
                state.journal.set_rule(self.seq, rule.display_name(index));
                (
                    &rule.reply,
                    rule.timing.unwrap_or(scenario.timing),
                    rule.faults.as_slice(),
                )
            }
            None if state.config.strict => return Err(OllamaError::Unmatched(self.describe())),
            None => {
                let mut rng = DetRng::new(seed.rotate_left(17));
                generated_reply = unscripted::reply(&self.view, self.thinking, &mut rng);
                (&generated_reply, scenario.timing, &[][..])
            }
        };
        if let Some(error) = faults.iter().find_map(Fault::pre_stream_error) {
            return Err(error);
        }
        let mut turn = Turn::new(
            reply,
            &timing,
            TurnContext {
                seed,
                prompt_tokens: self.prompt_tokens,
                num_predict: self.num_predict,
                has_tools: !self.view.tools.is_empty(),
            },
        );
        turn.stop_at(&self.stop);
        Ok(Answer {
            model: self.view.model.to_owned(),
            turn,
            faults: faults.to_vec(),
            streaming: self.streaming,
            seed,
        })
    }

    fn describe(&self) -> String {
        format!(
            "POST {} (model {:?}, last message role {:?}, last user message {:?}, {} tools)",
            self.view.endpoint,
            self.view.model,
            self.view.last_role,
            self.view.last_user,
            self.view.tools.len()
        )
    }
}

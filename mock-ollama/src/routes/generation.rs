//! `/api/chat` and `/api/generate`: validate like Ollama, pick the rule (or generate a reply),
//! resolve it into a [`Turn`] and send it as a stream or a single object.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension,
    body::Bytes,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use wire::{
    go_json,
    ollama::{ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, Message},
};

use super::RequestSeq;
use crate::{
    error::{OllamaError, parse_body},
    fault::{Fault, default_message},
    generated,
    journal::BodyGuard,
    matching::RequestView,
    ndjson::{self, Clock, Shape},
    respond::{self, Ending, JSON, NDJSON, json_response},
    scenario::{Capability, Endpoint, ModelSpec, Scenario},
    seed::{self, DetRng},
    state::MockState,
    turn::{Turn, TurnContext},
    validate,
};

pub async fn chat(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: ChatRequest = parse_body(&body)?;
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
        return Ok(load_reply(
            &state,
            Shape::Chat,
            &request.model,
            request.keep_alive.as_ref(),
        ));
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
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| words(&m.content) + words(&m.thinking) + 4)
        .sum::<u64>()
        + request
            .tools
            .iter()
            .map(|tool| serde_json::to_string(tool).map_or(0, |t| t.len() as u64 / 4))
            .sum::<u64>();
    let generation = Generation {
        seq,
        view,
        shape: Shape::Chat,
        thinking,
        request_hash,
        prompt_tokens,
        num_predict: validate::num_predict(request.options.as_ref()),
        streaming: request.is_streaming(),
    };
    generation.respond(&state).await
}

pub async fn generate(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: GenerateRequest = parse_body(&body)?;
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
        return Ok(load_reply(
            &state,
            Shape::Generate,
            &request.model,
            request.keep_alive.as_ref(),
        ));
    }
    validate::options(request.options.as_ref())?;
    validate::format(request.format.as_ref())?;

    let canonical = crate::scenario::canonical_model_name(&request.model);
    let generation = Generation {
        seq,
        view: RequestView {
            endpoint: Endpoint::Generate,
            model: &request.model,
            last_user: &request.prompt,
            last_role: "user",
            tools: &[],
            format: request.format.as_ref(),
        },
        shape: Shape::Generate,
        thinking,
        request_hash: seed::hash_parts(&[&canonical, &request.system, &request.prompt]),
        prompt_tokens: words(&request.prompt) + words(&request.system) + 4,
        num_predict: validate::num_predict(request.options.as_ref()),
        streaming: request.is_streaming(),
    };
    generation.respond(&state).await
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

/// The single object Ollama answers when asked to load (no messages/prompt) or unload
/// (`keep_alive: 0` as well), whatever `stream` says.
fn load_reply(
    state: &MockState,
    shape: Shape,
    model: &str,
    keep_alive: Option<&Value>,
) -> Response {
    let reason = if validate::keep_alive_is_zero(keep_alive) {
        "unload"
    } else {
        "load"
    };
    let created_at = go_json::rfc3339_nano(state.config.clock_base);
    match shape {
        Shape::Chat => json_response(
            StatusCode::OK,
            &ChatResponse {
                model: model.to_owned(),
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
                model: model.to_owned(),
                created_at,
                done: true,
                done_reason: Some(reason.to_owned()),
                ..GenerateResponse::default()
            },
        ),
    }
}

/// A validated generation request, ready to be answered.
struct Generation<'a> {
    seq: u64,
    view: RequestView<'a>,
    shape: Shape,
    thinking: bool,
    request_hash: u64,
    prompt_tokens: u64,
    num_predict: Option<u64>,
    streaming: bool,
}

impl Generation<'_> {
    async fn respond(&self, state: &MockState) -> Result<Response, OllamaError> {
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
                generated_reply = generated::reply(&self.view, self.thinking, &mut rng);
                (&generated_reply, scenario.timing, &[][..])
            }
        };
        if let Some(error) = faults.iter().find_map(pre_stream_error) {
            return Err(error);
        }
        let turn = Turn::new(
            reply,
            &timing,
            TurnContext {
                seed,
                prompt_tokens: self.prompt_tokens,
                num_predict: self.num_predict,
                has_tools: !self.view.tools.is_empty(),
            },
        );
        let clock = Clock {
            base: state.config.clock_base,
        };
        let scale = state.config.time_scale;
        let (plan, content_type) = if self.streaming {
            let lines = ndjson::stream_lines(&turn, self.shape, self.view.model, clock);
            (respond::plan_stream(&lines, faults, scale), NDJSON)
        } else {
            let body = ndjson::whole(&turn, self.shape, self.view.model, clock);
            let total: Duration = turn.delays.iter().sum();
            (respond::plan_whole(body, total, faults, scale)?, JSON)
        };
        if let ([only], Ending::Finish, false) =
            (plan.steps.as_slice(), plan.ending, self.streaming)
        {
            // A plain single object goes out whole, with a Content-Length, as Gin sends it.
            let mut guard = BodyGuard::new(state.journal.clone(), self.seq);
            if !only.wait.is_zero() {
                tokio::time::sleep(only.wait).await;
            }
            guard.finish();
            let head = [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))];
            return Ok((StatusCode::OK, head, only.bytes.clone()).into_response());
        }
        Ok(respond::streamed(
            plan,
            content_type,
            state.journal.clone(),
            self.seq,
        ))
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

fn pre_stream_error(fault: &Fault) -> Option<OllamaError> {
    match fault {
        Fault::HttpError {
            status,
            message,
            body,
            content_type,
            retry_after,
        } => Some(OllamaError::Scripted {
            status: *status,
            message: message
                .clone()
                .unwrap_or_else(|| default_message(*status).to_owned()),
            body: body.clone(),
            content_type: content_type.clone(),
            retry_after: retry_after.clone(),
        }),
        _ => None,
    }
}

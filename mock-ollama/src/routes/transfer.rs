//! `/api/pull`, `/api/push`, `/api/create`, `/api/copy` and `/api/delete`: the model list changes
//! the way Ollama's would (a pulled, copied or created model appears in `/api/tags`, a deleted
//! one disappears), with progress as NDJSON lines (or, with `stream: false`, the last one), and
//! failures scripted by rules whose `match.endpoint` is `pull`, `push` or `create`.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use wire::{
    go_json,
    ollama::{CopyRequest, CreateRequest, ModelRequest, ProgressResponse},
};

use super::RequestSeq;
use crate::{
    error::{OllamaError, parse_body},
    fault::Fault,
    gin::NDJSON,
    matching::RequestView,
    ndjson::Line,
    respond::{self, NdjsonFraming},
    scenario::{Endpoint, ModelSpec, Scenario, canonical_model_name},
    seed::{self, DetRng},
    state::MockState,
    timing::Timing,
    transfer,
};

pub async fn pull(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: ModelRequest = parse_body(&body)?;
    let name = model_name(request.model_name())?;
    let scenario = state.scenario();
    let script = Script::select(&state, seq, Endpoint::Pull, &name)?;
    let progress = match available(&scenario, &name) {
        Some(model) => {
            if script.succeeds() {
                state.install_model(model.clone());
            }
            Progress::complete(transfer::pull(&model))
        }
        None => Progress::failed(
            vec![status("pulling manifest")],
            "pull model manifest: file does not exist",
        ),
    };
    progress.send(&state, seq, script, request.stream).await
}

pub async fn push(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: ModelRequest = parse_body(&body)?;
    let name = model_name(request.model_name())?;
    let script = Script::select(&state, seq, Endpoint::Push, &name)?;
    let progress = match state.scenario().model(&name) {
        Some(model) => Progress::complete(transfer::push(model)),
        None => Progress::failed(
            vec![
                status("retrieving manifest"),
                status("couldn't retrieve manifest"),
            ],
            &format!("model '{name}' not found"),
        ),
    };
    progress.send(&state, seq, script, request.stream).await
}

pub async fn create(
    State(state): State<Arc<MockState>>,
    Extension(RequestSeq(seq)): Extension<RequestSeq>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: CreateRequest = parse_body(&body)?;
    let name = model_name(&request.model)?;
    let from_files = request
        .files
        .as_ref()
        .is_some_and(|files| !files.is_empty());
    if request.from.trim().is_empty() && !from_files {
        return Err(OllamaError::NeitherFromNorFiles);
    }
    let script = Script::select(&state, seq, Endpoint::Create, &name)?;
    let scenario = state.scenario();
    let changed: Vec<&str> = [
        ("system", !request.system.is_empty()),
        ("template", !request.template.is_empty()),
        ("params", request.parameters.is_some()),
    ]
    .into_iter()
    .filter_map(|(kind, set)| set.then_some(kind))
    .collect();
    let (base, mut lines) = if from_files {
        let base = ModelSpec {
            name: name.clone(),
            ..ModelSpec::default()
        };
        (base, vec![status("parsing GGUF")])
    } else if let Some(base) = scenario.model(&request.from) {
        (base.clone(), Vec::new())
    } else {
        // Ollama pulls a `from` model it does not have.
        match available(&scenario, &request.from) {
            Some(base) => {
                let mut lines = transfer::pull(&base);
                lines.pop(); // the pull's own `success`
                (base, lines)
            }
            None => {
                let failed = Progress::failed(
                    vec![status("pulling manifest")],
                    "pull model manifest: file does not exist",
                );
                return failed.send(&state, seq, script, request.stream).await;
            }
        }
    };
    lines.extend(transfer::create(&base, &changed));
    if script.succeeds() {
        state.install_model(ModelSpec {
            name: canonical_model_name(&name),
            ..base
        });
    }
    Progress::complete(lines)
        .send(&state, seq, script, request.stream)
        .await
}

pub async fn copy(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: CopyRequest = parse_body(&body)?;
    if request.source.trim().is_empty() {
        return Err(OllamaError::InvalidName {
            field: "source",
            name: request.source,
        });
    }
    if request.destination.trim().is_empty() {
        return Err(OllamaError::InvalidName {
            field: "destination",
            name: request.destination,
        });
    }
    let source = state
        .scenario()
        .model(&request.source)
        .cloned()
        .ok_or_else(|| OllamaError::ModelNotFoundQuoted(request.source.clone()))?;
    state.install_model(ModelSpec {
        name: canonical_model_name(&request.destination),
        ..source
    });
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: ModelRequest = parse_body(&body)?;
    let name = request.model_name();
    if name.trim().is_empty() {
        return Err(OllamaError::InvalidName {
            field: "name",
            name: name.to_owned(),
        });
    }
    if !state.remove_model(name) {
        return Err(OllamaError::ModelNotFound(name.to_owned()));
    }
    Ok(StatusCode::OK.into_response())
}

/// The model a transfer names, or Ollama's refusal of an empty one.
fn model_name(name: &str) -> Result<String, OllamaError> {
    if name.trim().is_empty() {
        Err(OllamaError::InvalidModelName)
    } else {
        Ok(name.to_owned())
    }
}

/// What a pull of `name` installs: the installed model again, the registry's entry, or (with
/// no registry) a completion model with default details.
fn available(scenario: &Scenario, name: &str) -> Option<ModelSpec> {
    let wanted = canonical_model_name(name);
    if let Some(installed) = scenario.model(name) {
        return Some(installed.clone());
    }
    match &scenario.registry {
        Some(registry) => registry
            .iter()
            .find(|model| canonical_model_name(&model.name) == wanted)
            .map(|model| ModelSpec {
                name: wanted.clone(),
                ..model.clone()
            }),
        None => Some(ModelSpec {
            name: wanted,
            ..ModelSpec::default()
        }),
    }
}

fn status(text: &str) -> ProgressResponse {
    ProgressResponse {
        status: text.to_owned(),
        ..ProgressResponse::default()
    }
}

/// The rule answering a transfer: its faults and timing.
struct Script {
    faults: Vec<Fault>,
    timing: Timing,
    seed: u64,
}

impl Script {
    /// Picks the rule for `endpoint` and `model`; a scripted `http_error` fails here.
    fn select(
        state: &MockState,
        seq: u64,
        endpoint: Endpoint,
        model: &str,
    ) -> Result<Script, OllamaError> {
        let view = RequestView {
            endpoint,
            model,
            last_user: "",
            last_role: "",
            tools: &[],
            format: None,
        };
        let (scenario, chosen) = state.select(&view);
        let seed = state.config.seed ^ seed::hash_parts(&[&endpoint.to_string(), model]);
        let Some(index) = chosen else {
            return Ok(Script {
                faults: Vec::new(),
                timing: scenario.timing,
                seed,
            });
        };
        let rule = &scenario.rules[index];
        state.journal.set_rule(seq, rule.display_name(index));
        if let Some(error) = rule.faults.iter().find_map(Fault::pre_stream_error) {
            return Err(error);
        }
        Ok(Script {
            faults: rule.faults.clone(),
            timing: rule.timing.unwrap_or(scenario.timing),
            seed,
        })
    }

    /// False when a fault stops the transfer before its end (the model is then not installed).
    fn succeeds(&self) -> bool {
        !self.faults.iter().any(|fault| {
            matches!(
                fault,
                Fault::ErrorLine { .. }
                    | Fault::TruncatedLine { .. }
                    | Fault::Disconnect { clean: false, .. }
            )
        })
    }
}

/// The progress of a transfer: its lines, and the error that ends it early, if any.
struct Progress {
    lines: Vec<ProgressResponse>,
    error: Option<String>,
}

impl Progress {
    fn complete(lines: Vec<ProgressResponse>) -> Self {
        Progress { lines, error: None }
    }

    fn failed(lines: Vec<ProgressResponse>, error: &str) -> Self {
        Progress {
            lines,
            error: Some(error.to_owned()),
        }
    }

    /// Streams the lines (the default), or answers the last one (`stream: false`), with the
    /// script's faults and pacing.
    async fn send(
        self,
        state: &MockState,
        seq: u64,
        script: Script,
        stream: Option<bool>,
    ) -> Result<Response, OllamaError> {
        let mut faults = script.faults;
        if let Some(message) = self.error {
            // The transfer's own failure: an `{"error"}` line after what it reported.
            faults.push(Fault::ErrorLine {
                after: self.lines.len(),
                message,
            });
        }
        if stream == Some(false) {
            let last = self.lines.last().cloned().unwrap_or_default();
            let body = Bytes::from(go_json::to_vec(&last).unwrap_or_default());
            let plan = respond::plan_whole(body, Duration::ZERO, &faults, state.config.time_scale)?;
            // `waitForStream` sets this content type before Gin's `c.JSON` would add a charset.
            let content_type = "application/json";
            return Ok(respond::send(plan, content_type, false, state.journal.clone(), seq).await);
        }
        let mut rng = DetRng::new(script.seed);
        let lines: Vec<Line> = self
            .lines
            .iter()
            .enumerate()
            .map(|(index, progress)| {
                let mut bytes = go_json::to_vec(progress).unwrap_or_default();
                bytes.push(b'\n');
                Line {
                    delay: if index == 0 {
                        script.timing.first_chunk(&mut rng)
                    } else {
                        script.timing.between_chunks(&mut rng)
                    },
                    bytes: Bytes::from(bytes),
                }
            })
            .collect();
        let plan = respond::plan_stream(&lines, &faults, state.config.time_scale, &NdjsonFraming);
        Ok(respond::send(plan, NDJSON, true, state.journal.clone(), seq).await)
    }
}

//! `/api/embed` (normalised float32 vectors, batch input) and the legacy `/api/embeddings`
//! (one unnormalised float64 vector). Vectors are seeded by model and text, so equal inputs embed
//! equally and different inputs (almost surely) differ.

use std::sync::Arc;

use axum::{body::Bytes, extract::State, http::StatusCode, response::Response};
use serde_json::Value;
use wire::ollama::{EmbedRequest, EmbedResponse, EmbeddingsRequest, EmbeddingsResponse};

use crate::{
    error::{OllamaError, parse_body},
    gin::json_response,
    scenario::canonical_model_name,
    seed::{DetRng, hash_parts},
    state::MockState,
    validate,
};

fn raw_vector(seed: u64, model: &str, text: &str, dimensions: usize) -> Vec<f64> {
    let mut rng = DetRng::new(seed ^ hash_parts(&[&canonical_model_name(model), text]));
    (0..dimensions).map(|_| rng.signed_unit()).collect()
}

fn normalised(vector: &[f64]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f64>().sqrt();
    vector
        .iter()
        .map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 })
        .collect()
}

pub async fn embed(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: EmbedRequest = parse_body(&body)?;
    Ok(json_response(
        StatusCode::OK,
        &embed_vectors(&state, request)?,
    ))
}

/// Answers an `/api/embed` request (also behind `/v1/embeddings`).
pub fn embed_vectors(
    state: &MockState,
    request: EmbedRequest,
) -> Result<EmbedResponse, OllamaError> {
    let scenario = state.scenario();
    let model = scenario
        .model(&request.model)
        .ok_or_else(|| OllamaError::ModelNotFound(request.model.clone()))?;
    validate::keep_alive(request.keep_alive.as_ref())?;
    validate::options(request.options.as_ref())?;
    let inputs: Vec<&str> = match &request.input {
        Value::Null => Vec::new(),
        Value::String(text) if text.is_empty() => Vec::new(),
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or(OllamaError::InvalidInputType))
            .collect::<Result<_, _>>()?,
        _ => return Err(OllamaError::InvalidInputType),
    };
    state.mark_loaded(&model.name);
    let tokens: Vec<u64> = inputs
        .iter()
        .map(|text| text.split_whitespace().count() as u64)
        .collect();
    if request.truncate == Some(false) && tokens.iter().any(|count| *count > model.context_length) {
        return Err(OllamaError::InputTooLong);
    }
    let dimensions = request
        .dimensions
        .filter(|wanted| *wanted > 0)
        .map_or(model.embedding_length, |wanted| {
            wanted.min(model.embedding_length)
        });
    let embeddings = inputs
        .iter()
        .map(|text| {
            normalised(
                &raw_vector(
                    state.config.seed,
                    &request.model,
                    text,
                    model.embedding_length,
                )[..dimensions],
            )
        })
        .collect();
    Ok(if inputs.is_empty() {
        EmbedResponse {
            model: request.model,
            ..EmbedResponse::default()
        }
    } else {
        EmbedResponse {
            model: request.model,
            embeddings,
            total_duration: 12_000_000,
            load_duration: 1_000_000,
            prompt_eval_count: tokens.iter().sum::<u64>().max(1),
        }
    })
}

pub async fn embeddings(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let request: EmbeddingsRequest = parse_body(&body)?;
    if request.model.trim().is_empty() {
        return Err(OllamaError::ModelRequired);
    }
    let scenario = state.scenario();
    let model = scenario
        .model(&request.model)
        .ok_or_else(|| OllamaError::ModelNotFoundLegacy(request.model.clone()))?;
    validate::keep_alive(request.keep_alive.as_ref())?;
    validate::options(request.options.as_ref())?;
    state.mark_loaded(&model.name);
    let embedding = if request.prompt.is_empty() {
        Vec::new()
    } else {
        raw_vector(
            state.config.seed,
            &request.model,
            &request.prompt,
            model.embedding_length,
        )
    };
    Ok(json_response(
        StatusCode::OK,
        &EmbeddingsResponse { embedding },
    ))
}

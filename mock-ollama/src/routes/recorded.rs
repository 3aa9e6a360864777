//! The `recorded` layer: a request a recorded exchange repeats gets the recording, byte for byte;
//! with a recording proxy configured, the rest is forwarded and recorded (or, in `replay` mode,
//! refused); without one, it goes on to the routes.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{MAX_BODY, RequestSeq};
use crate::{
    error::OllamaError, exchange::Incoming, openai::ApiError, record::RecordMode, replay,
    state::MockState,
};

pub async fn recorded(
    State(state): State<Arc<MockState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/_mock")
        || (state.recorder.is_none() && state.scenario().exchanges.is_empty())
    {
        return next.run(request).await;
    }
    let seq = request
        .extensions()
        .get::<RequestSeq>()
        .map_or(0, |RequestSeq(seq)| *seq);
    let (parts, body) = request.into_parts();
    // The journal layer buffered the body already: this only takes it back.
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let mode = state
        .recorder
        .as_ref()
        .map(|recorder| recorder.current_mode());
    if mode != Some(RecordMode::Record) {
        let json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |pq| pq.as_str());
        let incoming = Incoming {
            method: parts.method.as_str(),
            path: path_and_query,
            body: &bytes,
            json: json.as_ref(),
        };
        if let Some((scenario, index)) = state.select_exchange(&incoming) {
            let exchange = &scenario.exchanges[index];
            state.journal.set_rule(
                seq,
                exchange
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("exchange-{index}")),
            );
            return replay::replay(
                exchange,
                state.config.time_scale,
                state.journal.clone(),
                seq,
            )
            .await;
        }
    }
    let refused = |error: OllamaError| {
        if parts.uri.path().starts_with("/v1/") {
            ApiError::from_native(state.dialect(), error).into_response()
        } else {
            error.into_response()
        }
    };
    match (&state.recorder, mode) {
        (Some(_), Some(RecordMode::Replay)) => refused(OllamaError::NotRecorded(format!(
            "{} {}",
            parts.method,
            parts.uri.path()
        ))),
        (Some(recorder), _) => {
            let learned = state.clone();
            let replay_later = mode == Some(RecordMode::RecordOnMiss);
            let result = recorder
                .forward(&parts, bytes, move |exchange| {
                    if replay_later {
                        learned.add_exchange(exchange);
                    }
                })
                .await;
            result.unwrap_or_else(refused)
        }
        (None, _) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

//! `/_mock/*`: the control plane of the binary (and of an in-process mock reached over HTTP).
//!
//! | route | does |
//! |---|---|
//! | `GET /_mock/requests` | the journal, oldest first |
//! | `DELETE /_mock/requests` | empties the journal |
//! | `GET /_mock/scenario` | the scenario being served |
//! | `PUT /_mock/scenario` | replaces it (body: scenario JSON), counters start over |
//! | `POST /_mock/rules` | appends one rule (body: rule JSON) |
//! | `POST /_mock/reset` | start-up scenario, empty journal, no stored responses, counters at zero |
//! | `GET /_mock/expectations` | each rule's `expect` against its hits; 200 when all hold, 417 otherwise |

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

use crate::{
    error::OllamaError,
    scenario::{Rule, Scenario},
    state::MockState,
};

pub fn router() -> Router<Arc<MockState>> {
    Router::new()
        .route("/requests", get(requests).delete(clear_requests))
        .route("/scenario", get(scenario).put(replace_scenario))
        .route("/rules", post(add_rule))
        .route("/reset", post(reset))
        .route("/expectations", get(expectations))
}

async fn requests(State(state): State<Arc<MockState>>) -> Response {
    Json(state.journal.entries()).into_response()
}

async fn clear_requests(State(state): State<Arc<MockState>>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

async fn scenario(State(state): State<Arc<MockState>>) -> Response {
    Json(&*state.scenario()).into_response()
}

fn text(body: &Bytes) -> Result<&str, OllamaError> {
    std::str::from_utf8(body).map_err(|_| OllamaError::InvalidJson("body is not UTF-8".to_owned()))
}

async fn replace_scenario(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let scenario = Scenario::from_json("request body", text(&body)?)
        .map_err(|err| OllamaError::InvalidJson(err.to_string()))?;
    let summary = json!({"models": scenario.models.len(), "rules": scenario.rules.len()});
    state.replace_scenario(scenario);
    Ok(Json(summary).into_response())
}

async fn add_rule(
    State(state): State<Arc<MockState>>,
    body: Bytes,
) -> Result<Response, OllamaError> {
    let rule: Rule = serde_json::from_str(text(&body)?)
        .map_err(|err| OllamaError::InvalidJson(format!("invalid rule: {err}")))?;
    // Validate the rule in the context of the current scenario.
    let mut candidate = (*state.scenario()).clone();
    candidate.rules.push(rule.clone());
    candidate.validate().map_err(OllamaError::InvalidJson)?;
    state.add_rule(rule);
    Ok(StatusCode::CREATED.into_response())
}

async fn reset(State(state): State<Arc<MockState>>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

async fn expectations(State(state): State<Arc<MockState>>) -> Response {
    let reports = state.expectations();
    let satisfied = reports.iter().all(|report| report.satisfied());
    let status = if satisfied {
        StatusCode::OK
    } else {
        StatusCode::EXPECTATION_FAILED
    };
    (
        status,
        Json(json!({"satisfied": satisfied, "rules": reports})),
    )
        .into_response()
}

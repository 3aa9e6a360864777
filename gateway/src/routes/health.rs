//! `GET /health`: probes every backend and reports each; 503 when any is down.

use std::time::Instant;

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;

use crate::{config::BackendKind, state::AppState};

#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
    backends: Vec<BackendHealth>,
}

#[derive(Debug, Serialize)]
struct BackendHealth {
    name: String,
    kind: &'static str,
    url: String,
    status: &'static str,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let probes = state.catalog.backends().iter().map(|backend| async move {
        let started = Instant::now();
        let result = backend.probe().await;
        BackendHealth {
            name: backend.name().to_owned(),
            kind: match backend.config.kind {
                BackendKind::Ollama => "ollama",
                BackendKind::Openai => "openai",
            },
            url: backend.config.base_url.clone(),
            status: if result.is_ok() { "ok" } else { "unreachable" },
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            error: result.err().map(|error| error.to_string()),
        }
    });
    let backends = futures_util::future::join_all(probes).await;
    let healthy = backends.iter().all(|backend| backend.status == "ok");
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if healthy { "ok" } else { "degraded" },
            backends,
        }),
    )
}

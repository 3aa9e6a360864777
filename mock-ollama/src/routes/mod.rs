//! The HTTP surface: Ollama's native routes, its OpenAI-compatible `/v1` routes (in the flavour's
//! dialect), the `/_mock` control routes, and Gin's plain-text 404/405 for everything else.
//!
//! Layers, outermost first:
//! 1. `journal` — buffers the body (up to [`MAX_BODY`]), records the request (except `/_mock/*`)
//!    and hands the handler its sequence number as a [`RequestSeq`] extension.
//! 2. `recorded` — replays a recorded exchange that the request repeats, or hands the request to
//!    the recording proxy when there is one (see [`crate::record`]); otherwise passes it on.
//! 3. `edge::cors` — the flavour's answers to browsers: a preflight, a refused origin, or the
//!    headers its CORS middleware adds (only where the mock answers itself, not a recording).
//! 4. `edge::request_id` — `x-request-id` on `/v1` replies, where the flavour's server sends one.
//! 5. the routes; unknown paths fall back to `404 page not found`, known paths with the wrong
//!    method to `405 method not allowed`, both `text/plain` as Gin writes them.

mod control;
mod edge;
mod embed;
mod generation;
mod messages;
mod models;
mod openai;
mod recorded;
mod reply;
mod responses;
mod transfer;

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{StatusCode, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};

use crate::{gin::json_response, openai::ApiError, state::MockState};

/// Largest request body the mock reads (images make chat bodies large).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Sequence number of the request in the journal.
#[derive(Debug, Clone, Copy)]
pub struct RequestSeq(pub u64);

/// Builds the mock's router.
pub fn router(state: Arc<MockState>) -> Router {
    Router::new()
        .route("/", get(models::root))
        .route("/api/version", get(models::version))
        .route("/api/tags", get(models::tags))
        .route("/api/show", post(models::show))
        .route("/api/ps", get(models::ps))
        .route("/api/chat", post(generation::chat))
        .route("/api/generate", post(generation::generate))
        .route("/api/embed", post(embed::embed))
        .route("/api/embeddings", post(embed::embeddings))
        .route("/api/pull", post(transfer::pull))
        .route("/api/push", post(transfer::push))
        .route("/api/create", post(transfer::create))
        .route("/api/copy", post(transfer::copy))
        .route("/api/delete", delete(transfer::delete))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/responses", post(responses::create_response))
        .route(
            "/v1/responses/{id}",
            get(responses::retrieve_response).delete(responses::delete_response),
        )
        .route(
            "/v1/responses/{id}/input_items",
            get(responses::response_input_items),
        )
        .route(
            "/v1/responses/{id}/cancel",
            post(responses::cancel_response),
        )
        .route("/v1/messages", post(messages::messages))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/models", get(openai::list_models))
        .route("/v1/models/{*model}", get(openai::retrieve_model))
        .nest("/_mock", control::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `journal` already caps bodies at MAX_BODY; the extractors must not cap them lower.
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            edge::request_id,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), edge::cors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            recorded::recorded,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), journal))
        .with_state(state)
}

async fn not_found(State(state): State<Arc<MockState>>, uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        return ApiError::not_found(state.dialect(), uri.path()).into_response();
    }
    (StatusCode::NOT_FOUND, "404 page not found").into_response()
}

async fn method_not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed").into_response()
}

async fn journal(State(state): State<Arc<MockState>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_mock") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &wire::ollama::ErrorBody {
                    error: "http: request body too large".to_owned(),
                },
            );
        }
    };
    let seq = state
        .journal
        .record(&parts.method, &parts.uri, &parts.headers, &bytes);
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(RequestSeq(seq));
    next.run(request).await
}

//! The router and its layers.
//!
//! Layers, outermost first (what each adds to the request or response):
//! 0. `overhead::measure` — starts the clock, gives handlers an `UpstreamClock` to time their
//!    upstream waits, then adds `Server-Timing: gateway;dur=…, upstream;dur=…` and observes the
//!    `/metrics` histograms.
//! 1. `SetRequestId` — gives the request an `x-request-id` (the client's, or a new UUID); handlers
//!    forward it upstream.
//! 2. `Trace` — one span per request (method, path, request id); logs status and latency when the
//!    response head is sent.
//! 3. `PropagateRequestId` — copies `x-request-id` onto the response.
//! 4. `Cors` — only when `cors.allowed_origins` is configured (never `*` with credentials).
//! 5. `auth::require_key` — only with `[auth]`: a known key, or a 401 envelope (open paths
//!    aside); the key's name goes into the request's span, the key itself nowhere.
//!
//! Bodies are read by the handlers themselves, capped at `body_limit_bytes` (413 with an OpenAI
//! envelope). Unknown routes and wrong methods answer with the envelope too.

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, Method},
    routing::{get, post},
};
use tower_http::{
    cors::{AllowHeaders, AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{
    auth,
    error::GatewayError,
    metrics, overhead,
    routes::{chat, health, models, tutorial},
    state::AppState,
};

/// Builds the gateway's router.
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state);
    let metrics = state.metrics.clone();
    let keyring = state.keyring.clone();
    let mut router = Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::serve))
        .route("/", get(tutorial::about))
        .route("/chat", post(tutorial::chat))
        .route("/stream", post(tutorial::stream))
        .fallback(|request: Request| async move {
            GatewayError::RouteNotFound {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
            }
        })
        .method_not_allowed_fallback(|request: Request| async move {
            GatewayError::MethodNotAllowed {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
            }
        })
        .with_state(state);
    if let Some(keyring) = keyring {
        router = router.layer(axum::middleware::from_fn_with_state(
            keyring,
            auth::require_key,
        ));
    }
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    let request_id = HeaderName::from_static(crate::ids::REQUEST_ID);
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get(crate::ids::REQUEST_ID)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("");
                    // Chat requests fill in the last three (routes::chat), so the one line logged per
                    // response says what was asked of which backend.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                        model = tracing::field::Empty,
                        backend = tracing::field::Empty,
                        stream = tracing::field::Empty,
                        key = tracing::field::Empty,
                    )
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            overhead::measure,
        ))
}

fn cors_layer(state: &AppState) -> Option<CorsLayer> {
    let cors = &state.config.cors;
    if cors.allowed_origins.is_empty() {
        return None;
    }
    let origins = if cors.allowed_origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            cors.allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    let layer = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        // Whatever the browser asks to send: the OpenAI SDKs add a changing set of
        // `x-stainless-*` headers, and a missing one fails the whole preflight.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([HeaderName::from_static(crate::ids::REQUEST_ID)]);
    Some(if cors.allow_credentials {
        layer.allow_credentials(true)
    } else {
        layer
    })
}

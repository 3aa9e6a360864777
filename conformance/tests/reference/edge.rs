//! What the reference server does around every route: request ids, OpenAI's rate-limit headers,
//! CORS for the one origin it trusts, and each of those broken on demand.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::Deviation;

/// The one origin the reference server lets browsers call it from, with credentials.
pub const ORIGIN: &str = "https://app.reference.example";

/// The headers the reference server allows a browser to send.
const ALLOWED_HEADERS: &str = "authorization, content-type, x-request-id, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout";

pub async fn layer(State(d): State<Deviation>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let client_id = request
        .headers()
        .get("x-request-id")
        .filter(|_| !d.is("HDR-002"))
        .cloned();
    let mut response = match (request.method(), &origin) {
        (&Method::OPTIONS, Some(_)) => preflight(d),
        _ => next.run(request).await,
    };
    let failed = response.status().is_client_error() || response.status().is_server_error();
    let headers = response.headers_mut();
    let id = client_id.unwrap_or(HeaderValue::from_static("req_reference"));
    if !(d.is("HDR-001") && failed) {
        headers.insert("x-request-id", id);
    }
    let remaining = if d.is("HDR-003") { "1001" } else { "999" };
    for (name, value) in [
        ("x-ratelimit-limit-requests", "1000"),
        ("x-ratelimit-remaining-requests", remaining),
        ("x-ratelimit-reset-requests", "60ms"),
        ("x-ratelimit-limit-tokens", "100000"),
        ("x-ratelimit-remaining-tokens", "99000"),
        ("x-ratelimit-reset-tokens", "6m0s"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(origin) = origin {
        let allowed = match d.0 {
            "CORS-001" => Some(HeaderValue::from_static("*")),
            "CORS-002" => Some(origin),
            _ => (origin == ORIGIN).then_some(origin),
        };
        if let Some(allowed) = allowed {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(header::VARY, HeaderValue::from_static("origin"));
        }
    }
    response
}

fn preflight(d: Deviation) -> Response {
    let headers = if d.is("CORS-003") {
        "authorization, content-type"
    } else {
        ALLOWED_HEADERS
    };
    (
        axum::http::StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, headers),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
        .into_response()
}

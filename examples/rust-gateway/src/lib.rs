//! A tiny gateway of the kind teams put in front of vLLM or llama.cpp: every `/v1/…` request is
//! relayed to an OpenAI-compatible upstream, bodies streamed both ways, so a Server-Sent Events
//! stream reaches the client chunk by chunk. An unreachable upstream is a 502 in OpenAI's
//! error envelope.
//!
//! [`Behaviour::HideUpstreamErrors`] is the bug the tests catch: it answers every upstream error
//! with a bare 500, as gateways that wrap their relay in a catch-all do.

use std::net::SocketAddr;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::TryStreamExt;

/// How the gateway treats what the upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Status, headers and body as the upstream sent them.
    Faithful,
    /// Every upstream error (4xx, 5xx) becomes a 500 with a generic message: the bug.
    HideUpstreamErrors,
}

impl Behaviour {
    /// `EXAMPLE_GATEWAY_BREAK=hide-upstream-errors` turns the bug on; anything else, or nothing,
    /// leaves the gateway faithful.
    pub fn from_env() -> Self {
        match std::env::var("EXAMPLE_GATEWAY_BREAK").as_deref() {
            Ok("hide-upstream-errors") => Behaviour::HideUpstreamErrors,
            _ => Behaviour::Faithful,
        }
    }
}

#[derive(Debug, Clone)]
struct Relay {
    upstream: String,
    client: reqwest::Client,
    behaviour: Behaviour,
}

/// The gateway's routes, relaying to the upstream whose root (without `/v1`) is `upstream`.
pub fn router(upstream: &str, behaviour: Behaviour) -> Router {
    Router::new().fallback(relay).with_state(Relay {
        upstream: upstream.trim_end_matches('/').to_owned(),
        client: reqwest::Client::new(),
        behaviour,
    })
}

/// Serves [`router`] on `127.0.0.1:0` in a task of its own; returns where.
pub async fn spawn(upstream: &str, behaviour: Behaviour) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = router(upstream, behaviour);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

/// Headers never relayed: those that describe one connection, not the message (RFC 9110
/// §7.6.1), and `host`, which names this gateway, not the upstream.
fn never_relayed(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

fn end_to_end(headers: &HeaderMap) -> impl Iterator<Item = (&HeaderName, &header::HeaderValue)> {
    headers.iter().filter(|(name, _)| !never_relayed(name))
}

async fn relay(State(relay): State<Relay>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let mut upstream = relay
        .client
        .request(parts.method, format!("{}{path}", relay.upstream))
        .body(reqwest::Body::wrap_stream(body.into_data_stream()));
    for (name, value) in end_to_end(&parts.headers) {
        upstream = upstream.header(name, value);
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(error) => {
            return error_envelope(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                &format!("the upstream could not be reached: {error}"),
            );
        }
    };
    let status = answer.status();
    if relay.behaviour == Behaviour::HideUpstreamErrors
        && (status.is_client_error() || status.is_server_error())
    {
        return error_envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong",
        );
    }
    let mut response = Response::builder().status(status);
    for (name, value) in end_to_end(answer.headers()) {
        response = response.header(name, value);
    }
    let body = Body::from_stream(answer.bytes_stream().map_err(std::io::Error::other));
    response.body(body).unwrap_or_else(|error| {
        error_envelope(
            StatusCode::BAD_GATEWAY,
            "bad_upstream_response",
            &error.to_string(),
        )
    })
}

/// OpenAI's error envelope.
fn error_envelope(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "error": {"message": message, "type": "api_error", "param": null, "code": code}
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

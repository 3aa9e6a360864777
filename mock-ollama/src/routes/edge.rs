//! What the imitated server does around every route, by flavour: `x-request-id`
//! ([`RequestIds`]) and answers to browsers ([`Cors`]), as their middleware writes them.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::RequestSeq;
use crate::{
    openai::flavor::{Cors, RequestIds},
    seed::DetRng,
    state::MockState,
};

/// `x-request-id` on replies, where and as the flavour's server sends it.
pub async fn request_id(
    State(state): State<Arc<MockState>>,
    request: Request,
    next: Next,
) -> Response {
    let style = state.dialect().request_ids;
    if style == RequestIds::None || !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let given = request.headers().get("x-request-id").cloned();
    let seq = request
        .extensions()
        .get::<RequestSeq>()
        .map_or(0, |RequestSeq(seq)| *seq);
    let id = match (style, given) {
        (RequestIds::UuidOnly, Some(given)) if !is_uuid(given.as_bytes()) => {
            // starlette-context refuses the request before any route runs.
            return StatusCode::BAD_REQUEST.into_response();
        }
        (_, Some(given)) => given,
        (RequestIds::UuidOnly, None) => {
            let mut rng = DetRng::new(seq.rotate_left(17) ^ 0x5eed);
            let hex: String = (0..32)
                .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
                .collect();
            header_value(&hex)
        }
        (_, None) => header_value(&format!("req_{seq:024x}")),
    };
    let mut response = next.run(request).await;
    response.headers_mut().insert("x-request-id", id);
    response
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("req_0"))
}

/// Python's `uuid.UUID(value)`: 32 hex digits, dashes allowed between them.
fn is_uuid(value: &[u8]) -> bool {
    let hex: Vec<u8> = value.iter().copied().filter(|b| *b != b'-').collect();
    hex.len() == 32 && hex.iter().all(u8::is_ascii_hexdigit)
}

/// Answers to browsers: what the flavour's CORS middleware adds to a reply, or the reply it
/// sends instead (a preflight's, a refused origin's).
pub async fn cors(State(state): State<Arc<MockState>>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let asked_headers = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    match state.dialect().cors {
        Cors::GinLocalOrigins => {
            if !gin_allows(origin.to_str().unwrap_or("")) {
                return StatusCode::FORBIDDEN.into_response();
            }
            let mut response = if preflight {
                let mut response = StatusCode::NO_CONTENT.into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(OLLAMA_ALLOWED_HEADERS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("43200"),
                );
                response
            } else {
                next.run(request).await
            };
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
            response
        }
        Cors::LlamaServer => {
            let mut response = if preflight {
                let mut headers = HeaderMap::new();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("*"),
                );
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                (StatusCode::OK, headers).into_response()
            } else {
                next.run(request).await
            };
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            response
        }
        Cors::AnyOrigin | Cors::ReflectWithCredentials => {
            let credentials = state.dialect().cors == Cors::ReflectWithCredentials;
            let allowed = if credentials {
                origin
            } else {
                HeaderValue::from_static("*")
            };
            let mut response = if preflight {
                starlette_preflight(asked_headers)
            } else {
                let mut response = next.run(request).await;
                response
                    .headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("Origin"));
                response
            };
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
            if credentials {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
            response
        }
    }
}

/// Starlette's preflight answer with `allow_methods=["*"], allow_headers=["*"]`: `200 OK` in
/// plain text, the requested headers allowed back.
fn starlette_preflight(asked_headers: Option<HeaderValue>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
        ),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    if let Some(asked) = asked_headers {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (StatusCode::OK, headers, Body::from("OK")).into_response()
}

/// The headers Ollama lets browsers send (`server/routes.go`, `allowedHeaders`), as gin-contrib
/// writes them.
const OLLAMA_ALLOWED_HEADERS: &str = "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,X-Stainless-Arch,X-Stainless-Async,X-Stainless-Custom-Poll-Interval,X-Stainless-Helper-Method,X-Stainless-Lang,X-Stainless-Os,X-Stainless-Package-Version,X-Stainless-Poll-Helper,X-Stainless-Retry-Count,X-Stainless-Runtime,X-Stainless-Runtime-Version,X-Stainless-Timeout";

/// `OLLAMA_ORIGINS`' defaults (`envconfig.AllowedOrigins`): localhost, 127.0.0.1 and 0.0.0.0 on
/// any port over http or https, app schemes, and browser extensions.
fn gin_allows(origin: &str) -> bool {
    const SCHEMES: &[&str] = &[
        "app://",
        "file://",
        "tauri://",
        "vscode-webview://",
        "vscode-file://",
        "chrome-extension://",
        "safari-extension://",
        "moz-extension://",
        "ms-browser-extension://",
    ];
    if SCHEMES.iter().any(|scheme| origin.starts_with(scheme)) {
        return true;
    }
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            host
        } else {
            rest
        }
    });
    matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_admits_local_origins_and_app_schemes_only() {
        for allowed in [
            "http://localhost",
            "https://localhost:3000",
            "http://127.0.0.1:8080",
            "app://obsidian.md",
            "chrome-extension://abc",
        ] {
            assert!(gin_allows(allowed), "{allowed}");
        }
        for refused in [
            "https://conformance-foreign.example",
            "http://localhost.evil.example",
            "http://127.0.0.2",
        ] {
            assert!(!gin_allows(refused), "{refused}");
        }
    }

    #[test]
    fn request_ids_are_uuids_with_or_without_dashes() {
        assert!(is_uuid(b"0b6a1f4e-3c2d-4e5f-8a9b-1c2d3e4f5a6b"));
        assert!(is_uuid(b"a58e9715269a4f9782c5d8d73438beea"));
        assert!(!is_uuid(b"conformance-req-5b0e9f2c4d1a"));
    }
}

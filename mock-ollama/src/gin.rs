//! How Ollama's HTTP framework (Gin) writes a response: its content types, and `c.JSON`'s body
//! encoded as Go encodes it. A leaf, so that errors ([`crate::error`]) and the renderers answer
//! alike without depending on each other.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use wire::go_json;

/// Content type of Ollama's streams (no charset).
pub const NDJSON: &str = "application/x-ndjson";
/// Content type Gin's `c.JSON` writes.
pub const JSON: &str = "application/json; charset=utf-8";

/// A JSON response encoded as Go would, with Gin's content type.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = go_json::to_vec(value).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        body,
    )
        .into_response()
}

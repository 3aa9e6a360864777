//! Bytes as each dialect writes them: its JSON encoder, its whole-body framing and its SSE events.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde_json::Value;
use wire::{go_json, py_json};

use super::flavor::{Dialect, JsonStyle};

/// One JSON value in the dialect's body encoding.
pub fn json<T: serde::Serialize + ?Sized>(dialect: &Dialect, value: &T) -> Vec<u8> {
    encoded(dialect.json, value)
}

/// One JSON value in `style`.
pub fn encoded<T: serde::Serialize + ?Sized>(style: JsonStyle, value: &T) -> Vec<u8> {
    // Encoding a `Value` (or a map of them) cannot fail.
    match style {
        JsonStyle::Go => go_json::to_vec(value).unwrap_or_default(),
        JsonStyle::Compact => serde_json::to_vec(value).unwrap_or_default(),
        JsonStyle::Python => py_json::to_vec(value).unwrap_or_default(),
    }
}

/// A whole JSON body (Go's `json.Encoder` adds `\n`).
pub fn body<T: serde::Serialize + ?Sized>(dialect: &Dialect, value: &T) -> Bytes {
    let mut bytes = json(dialect, value);
    if dialect.newline_after_body {
        bytes.push(b'\n');
    }
    Bytes::from(bytes)
}

/// A JSON reply with the dialect's content type.
pub fn json_response<T: serde::Serialize + ?Sized>(
    dialect: &Dialect,
    status: StatusCode,
    value: &T,
) -> Response {
    let head = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(dialect.json_content_type),
    )];
    (status, head, body(dialect, value)).into_response()
}

/// One `data: <json>\n\n` event.
pub fn event(dialect: &Dialect, value: &Value) -> Vec<u8> {
    let mut bytes = b"data: ".to_vec();
    bytes.extend(encoded(dialect.event_json, value));
    bytes.extend_from_slice(b"\n\n");
    bytes
}

/// One `event: <name>\ndata: <json>\n\n` event, the framing of the Responses and Messages
/// streams.
pub fn named_event<T: serde::Serialize + ?Sized>(
    style: JsonStyle,
    name: &str,
    value: &T,
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(name.len() + 64);
    bytes.extend_from_slice(b"event: ");
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(b"\ndata: ");
    bytes.extend(encoded(style, value));
    bytes.extend_from_slice(b"\n\n");
    bytes
}

/// The stream's terminator.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

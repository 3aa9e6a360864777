//! HTTP handlers, one file per concern.

pub mod chat;
pub mod health;
pub mod models;
pub mod tutorial;

use axum::{body::Body, http::HeaderMap};
use bytes::Bytes;

use crate::{backend::REQUEST_ID, error::GatewayError, ids};

/// Reads a request body up to `limit` bytes (413 envelope beyond).
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| GatewayError::PayloadTooLarge(limit))
}

/// The request id set by the request-id layer (or a fresh one).
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map_or_else(ids::request_id, str::to_owned)
}

/// Unix seconds now: `created` of replies is the gateway's clock at arrival, not the upstream's.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

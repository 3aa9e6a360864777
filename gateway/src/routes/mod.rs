//! HTTP handlers, one file per concern.

pub mod chat;
pub mod health;
mod incoming;
pub mod models;
pub mod tutorial;

pub use incoming::Incoming;

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use crate::{config::Config, error::GatewayError};

/// How much of an oversized body is still read (and dropped) before the 413 goes out.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
/// How long an oversized body is drained at most.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads a request body up to `body_limit_bytes`; beyond it, the 413 envelope; not whole within
/// `server.body_read_timeout_ms`, the 408 envelope. The rest of an oversized body is read and
/// dropped first (up to [`DRAIN_LIMIT`] bytes within [`DRAIN_TIME`]): a server that answers while
/// the client is still writing, then closes, makes the client see a broken pipe instead of the
/// 413 (nginx's lingering close exists for the same reason).
pub async fn read_body(body: Body, config: &Config) -> Result<Bytes, GatewayError> {
    let deadline = config.server.body_read_timeout();
    tokio::time::timeout(deadline, read_capped(body, config.body_limit_bytes))
        .await
        .map_err(|_| GatewayError::BodyTimeout(config.server.body_read_timeout_ms))?
}

async fn read_capped(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            GatewayError::invalid(format!("could not read the request body: {error}"), None)
        })?;
        if buffer.len() + chunk.len() > limit {
            drain(stream, buffer.len() + chunk.len()).await;
            return Err(GatewayError::PayloadTooLarge(limit));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

/// Reads and drops what is left of a body, `read` bytes in, within the drain bounds.
async fn drain<E>(mut stream: impl Stream<Item = Result<Bytes, E>> + Unpin, mut read: usize) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read <= DRAIN_LIMIT {
            match stream.next().await {
                Some(Ok(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
    })
    .await;
}

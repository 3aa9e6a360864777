//! What one request of the load resolves to — an answer and what it measured, or why it does
//! not count — shared by the generators that schedule requests and the probes that make them.

use std::{
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use wire::ndjson::LineTooLong;

/// One request in flight: resolves to what it measured.
pub type Probe = Pin<Box<dyn Future<Output = Result<Answer, ProbeError>> + Send>>;

/// What a correct answer measured.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// The moment it measures: the end of the reply, or the first content of a stream.
    pub at: Instant,
    /// The time the server says it spent itself (the gateway's `Server-Timing: gateway;dur=…`).
    pub server_time: Option<Duration>,
}

/// Why a request did not count.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The request never got an answer.
    #[error("transport: {0}")]
    Transport(String),
    /// The answer was not 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// The body was not the reply it should be.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The stream carried an error.
    #[error("error in stream: {0}")]
    InStream(String),
    /// The stream ended before its terminator.
    #[error("stream ended without its terminator")]
    Unterminated,
}

impl From<LineTooLong> for ProbeError {
    fn from(error: LineTooLong) -> Self {
        ProbeError::Protocol(error.to_string())
    }
}

impl From<reqwest::Error> for ProbeError {
    fn from(error: reqwest::Error) -> Self {
        ProbeError::Transport(wire::error_chain::error_chain(&error))
    }
}

//! What can go wrong on one HTTP/1.1 exchange with an upstream, shared by the codec and the pool.

use std::io;

/// Any failure of the transport, with its causes.
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong on one exchange.
#[derive(Debug, thiserror::Error)]
pub enum Http1Error {
    /// No connection within the backend's connect timeout.
    #[error("connecting to {address} timed out")]
    ConnectTimeout {
        /// `host:port`.
        address: String,
    },
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The connection ended before a response head.
    #[error("the upstream closed the connection before answering")]
    ClosedBeforeHead,
    /// The connection ended before the body its head announced.
    #[error("the upstream closed the connection before the end of the body")]
    ClosedMidBody,
    /// The response head is not HTTP/1.1.
    #[error("malformed response head: {0}")]
    MalformedHead(String),
    /// The response head does not end within this many bytes.
    #[error("the response head is longer than {0} bytes")]
    HeadTooLarge(usize),
    /// The chunked coding is broken.
    #[error("malformed chunked body: {0}")]
    MalformedChunk(&'static str),
}

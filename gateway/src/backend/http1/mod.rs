//! The upstream leg over plain HTTP/1.1: one request written, one response read, on a keep-alive
//! connection that the task relaying the reply drives itself. Everything one read of the socket
//! delivered is decoded in the same poll, so it leaves in one batch (see [`crate::relay`]), with
//! no hand-over to a connection task per upstream line.
//!
//! Why not hyper's client connection: held open by 2,000 streams under heaptrack, each one kept
//! ~17.5 KiB that no option reduces (an 8 KiB write buffer and the block of its request channel)
//! besides its read buffer; 10,000 open streams cost 170 MiB for that alone. This leg needs
//! neither: the request is encoded once and written in one call, and between reads a connection
//! holds its socket and nothing else — the read buffer is taken when the socket is readable and
//! released once drained. Response heads are parsed by `httparse` (hyper's own parser); bodies are
//! framed by `Content-Length`, chunked coding, or the connection's close, as RFC 9112 §6.3 says.
//!
//! Connections are kept alive and reused: one whose reply ended cleanly goes back to its
//! backend's pool, one dropped mid-reply (the client hung up) or framed by its close is closed.
//! A pooled connection the upstream closed meanwhile is noticed when it is taken out; one that
//! fails before a byte of its answer arrived (closed just then) is replaced once by a new one.

mod codec;
mod error;
mod pool;

pub use error::TransportError;
pub use pool::Http1Pool;

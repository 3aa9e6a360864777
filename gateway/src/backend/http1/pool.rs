//! Keep-alive connections to one upstream, driven by whoever polls the response body: one request
//! written, its head read, the body decoded (by [`super::codec`]) in the poll that read it, and
//! the connection given back to the pool when the body ended cleanly.

use std::{
    collections::VecDeque,
    future::poll_fn,
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::http::{Method, Request, Response};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use super::{
    codec::{Decoded, Framing, Head, encode, parse_head},
    error::{Http1Error, TransportError},
};

/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The most unused connections kept per backend.
const MAX_IDLE: usize = 256;
/// Bytes read from the socket at a time: LLM replies come in lines of a few hundred bytes.
const READ_BUFFER: usize = 4096;

/// One upstream connection: its socket, and what was read from it and not yet decoded.
#[derive(Debug)]
struct Connection {
    tcp: TcpStream,
    unread: BytesMut,
}

impl Connection {
    /// Reads what the socket holds onto `unread`; `Ok(0)` once the upstream closed it. While it
    /// waits, the connection holds no buffer.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        loop {
            if self.unread.is_empty() {
                self.unread = BytesMut::new();
            }
            ready!(self.tcp.poll_read_ready(cx))?;
            self.unread.reserve(READ_BUFFER);
            match self.tcp.try_read_buf(&mut self.unread) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                read => return Poll::Ready(read),
            }
        }
    }

    /// Reads until a final (not 1xx) response head is complete.
    async fn read_head(&mut self, method: &Method) -> Result<Head, Http1Error> {
        loop {
            while let Some(head) = parse_head(&mut self.unread, method)? {
                if !head.status.is_informational() {
                    return Ok(head);
                }
            }
            if poll_fn(|cx| self.poll_fill(cx)).await? == 0 {
                return Err(if self.unread.is_empty() {
                    Http1Error::ClosedBeforeHead
                } else {
                    Http1Error::MalformedHead("cut short by the connection's close".to_owned())
                });
            }
        }
    }

    /// Whether an idle connection is still open: the upstream neither closed it nor sent
    /// anything unasked.
    fn still_open(&self) -> bool {
        let mut probe = [0; 1];
        matches!(self.tcp.try_read(&mut probe), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

/// The connections to one upstream `host:port`.
pub struct Http1Pool {
    address: String,
    connect_timeout: Duration,
    idle: Mutex<VecDeque<(Connection, Instant)>>,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Http1Pool {
    /// A pool for `address` (`host:port`).
    pub fn new(address: String, connect_timeout: Duration) -> Self {
        Self {
            address,
            connect_timeout,
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Sends `request` (its URI the path and query, its `Host` among its headers) and waits for
    /// the response head; the body reads on from the same connection and gives it back to the
    /// pool when it ends cleanly.
    pub async fn send(
        self: &Arc<Self>,
        request: Request<Bytes>,
    ) -> Result<Response<Http1Body>, TransportError> {
        let encoded = encode(&request);
        let method = request.method();
        let (connection, head) = match self.take_idle() {
            Some(reused) => match exchange(reused, &encoded, method).await {
                Ok(answered) => answered,
                // Closed by the upstream just as it was taken: it never saw the request.
                Err(Http1Error::ClosedBeforeHead | Http1Error::Io(_)) => {
                    exchange(self.connect().await?, &encoded, method).await?
                }
                Err(error) => return Err(error.into()),
            },
            None => exchange(self.connect().await?, &encoded, method).await?,
        };
        let body = Http1Body {
            connection: Some(connection),
            framing: head.framing,
            keep_alive: head.keep_alive,
            pool: Arc::clone(self),
        };
        let mut response = Response::new(body);
        *response.status_mut() = head.status;
        *response.headers_mut() = head.headers;
        Ok(response)
    }

    /// The most recently used idle connection that is still open.
    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().ok()?;
        while let Some((connection, since)) = idle.pop_back() {
            if since.elapsed() < IDLE_TIMEOUT && connection.still_open() {
                return Some(connection);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Connection, Http1Error> {
        let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.address))
            .await
            .map_err(|_| Http1Error::ConnectTimeout {
                address: self.address.clone(),
            })??;
        // SSE and NDJSON lines are small writes; Nagle would hold them back.
        tcp.set_nodelay(true)?;
        Ok(Connection {
            tcp,
            unread: BytesMut::new(),
        })
    }

    fn checkin(&self, connection: Connection) {
        if !connection.unread.is_empty() {
            // More than the reply: the upstream is out of step with its own framing.
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            // The oldest are at the front: close those past their time, and one more when full.
            while idle
                .front()
                .is_some_and(|(_, since)| since.elapsed() >= IDLE_TIMEOUT)
            {
                idle.pop_front();
            }
            if idle.len() >= MAX_IDLE {
                idle.pop_front();
            }
            idle.push_back((connection, Instant::now()));
        }
    }
}

/// Writes the request on `connection` and reads the response head.
async fn exchange(
    mut connection: Connection,
    encoded: &[u8],
    method: &Method,
) -> Result<(Connection, Head), Http1Error> {
    connection.tcp.write_all(encoded).await?;
    let head = connection.read_head(method).await?;
    Ok((connection, head))
}

/// A response body read from its connection by whoever polls it.
#[derive(Debug)]
pub struct Http1Body {
    /// `None` once the body is over or broke.
    connection: Option<Connection>,
    framing: Framing,
    keep_alive: bool,
    pool: Arc<Http1Pool>,
}

impl Http1Body {
    fn broken(&mut self, error: Http1Error) -> Poll<Option<Result<Bytes, TransportError>>> {
        self.connection = None;
        Poll::Ready(Some(Err(error.into())))
    }
}

impl Stream for Http1Body {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let Some(connection) = this.connection.as_mut() else {
                return Poll::Ready(None);
            };
            match this.framing.decode(&mut connection.unread) {
                Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(data))),
                Ok(Decoded::End) => {
                    if let Some(connection) = this.connection.take()
                        && this.keep_alive
                    {
                        this.pool.checkin(connection);
                    }
                    return Poll::Ready(None);
                }
                Ok(Decoded::NeedMore) => {}
                Err(error) => return this.broken(error),
            }
            match ready!(connection.poll_fill(cx)) {
                Ok(0) if this.framing == Framing::UntilClose => this.framing = Framing::Ended,
                Ok(0) => return this.broken(Http1Error::ClosedMidBody),
                Ok(_) => {}
                Err(error) => return this.broken(error.into()),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::{StatusCode, header};
    use futures_util::StreamExt;
    use tokio::{io::AsyncReadExt, net::TcpListener};

    /// An upstream that answers each connection's first request with `reply`, then closes it if
    /// `close` says so; it counts the connections it accepted.
    async fn upstream(
        reply: &'static str,
        close: bool,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    loop {
                        let Ok(read) = socket.read(&mut buffer).await else {
                            return;
                        };
                        if read == 0 {
                            return;
                        }
                        request.extend_from_slice(&buffer[..read]);
                        if request.windows(4).any(|end| end == b"\r\n\r\n") {
                            request.clear();
                            let _ = socket.write_all(reply.as_bytes()).await;
                            if close {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (address, accepted)
    }

    async fn get(pool: &Arc<Http1Pool>) -> Result<(StatusCode, Vec<u8>), TransportError> {
        let request = Request::get("/")
            .header(header::HOST, "upstream")
            .body(Bytes::new())?;
        let response = pool.send(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut data = Vec::new();
        while let Some(piece) = body.next().await {
            data.extend_from_slice(&piece?);
        }
        Ok((status, data))
    }

    #[tokio::test]
    async fn informational_heads_are_skipped_and_kept_alive_connections_reused() {
        let (address, accepted) = upstream(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            false,
        )
        .await;
        let pool = Arc::new(Http1Pool::new(address, Duration::from_secs(1)));
        for _ in 0..3 {
            assert_eq!(get(&pool).await.unwrap(), (StatusCode::OK, b"abc".to_vec()));
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_framed_by_the_close_is_read_to_it_and_the_connection_not_reused() {
        let (address, accepted) = upstream("HTTP/1.1 200 OK\r\n\r\nuntil the end", true).await;
        let pool = Arc::new(Http1Pool::new(address, Duration::from_secs(1)));
        for _ in 0..2 {
            assert_eq!(
                get(&pool).await.unwrap(),
                (StatusCode::OK, b"until the end".to_vec())
            );
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error_not_an_end() {
        let (address, _) =
            upstream("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", true).await;
        let pool = Arc::new(Http1Pool::new(address, Duration::from_secs(1)));
        let error = get(&pool).await.unwrap_err();
        assert!(
            error.to_string().contains("before the end of the body"),
            "{error}"
        );
    }
}

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

use std::{
    collections::VecDeque,
    future::poll_fn,
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header,
};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use tokio::{io::AsyncWriteExt, net::TcpStream};

/// Any failure of the transport, with its causes.
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The most unused connections kept per backend.
const MAX_IDLE: usize = 256;
/// Bytes read from the socket at a time: LLM replies come in lines of a few hundred bytes.
const READ_BUFFER: usize = 4096;
/// The largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a response head.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;

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
    /// The response head does not end within [`MAX_HEAD`] bytes.
    #[error("the response head is longer than {MAX_HEAD} bytes")]
    HeadTooLarge,
    /// The chunked coding is broken.
    #[error("malformed chunked body: {0}")]
    MalformedChunk(&'static str),
}

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

/// The request line, the headers, `Content-Length` and the body, in one buffer.
fn encode(request: &Request<Bytes>) -> Vec<u8> {
    let body = request.body();
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || !matches!(*request.method(), Method::GET | Method::HEAD) {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A response head, with how its body is framed and whether the connection outlives it.
#[derive(Debug)]
struct Head {
    status: StatusCode,
    headers: HeaderMap,
    framing: Framing,
    keep_alive: bool,
}

/// Takes a complete response head off the front of `unread`, or `None` while it is partial.
fn parse_head(unread: &mut BytesMut, method: &Method) -> Result<Option<Head>, Http1Error> {
    let malformed = |what: &dyn std::fmt::Display| Http1Error::MalformedHead(what.to_string());
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut fields);
    let length = match parsed.parse(unread) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if unread.len() > MAX_HEAD => {
            return Err(Http1Error::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(malformed(&error)),
    };
    let status =
        StatusCode::from_u16(parsed.code.unwrap_or_default()).map_err(|e| malformed(&e))?;
    let http11 = parsed.version == Some(1);
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|e| malformed(&e))?;
        let value = HeaderValue::from_bytes(field.value).map_err(|e| malformed(&e))?;
        headers.append(name, value);
    }
    unread.advance(length);
    let framing = Framing::of(status, &headers, method)?;
    let keep_alive = !matches!(framing, Framing::UntilClose)
        && if http11 {
            !has_token(&headers, header::CONNECTION, "close")
        } else {
            has_token(&headers, header::CONNECTION, "keep-alive")
        };
    Ok(Some(Head {
        status,
        headers,
        framing,
        keep_alive,
    }))
}

/// Whether a comma-separated header lists `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|listed| listed.trim().eq_ignore_ascii_case(token))
}

/// How a body's end is known, and how far the decoding got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// This many bytes are still to come.
    Length(u64),
    /// Chunked coding, in this state.
    Chunked(Chunked),
    /// Everything until the upstream closes the connection.
    UntilClose,
    /// Over.
    Ended,
}

/// Where chunked decoding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes to go.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailers,
}

/// What decoding the bytes at hand gave.
#[derive(Debug, PartialEq, Eq)]
enum Decoded {
    /// A piece of the body.
    Data(Bytes),
    /// Nothing until more is read.
    NeedMore,
    /// The body is complete.
    End,
}

impl Framing {
    /// The framing RFC 9112 §6.3 gives the response to `method` with this head.
    fn of(status: StatusCode, headers: &HeaderMap, method: &Method) -> Result<Self, Http1Error> {
        if *method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(Self::Ended);
        }
        if headers.contains_key(header::TRANSFER_ENCODING) {
            let last = headers
                .get_all(header::TRANSFER_ENCODING)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .last()
                .map(str::trim);
            return Ok(match last {
                Some(coding) if coding.eq_ignore_ascii_case("chunked") => {
                    Self::Chunked(Chunked::Size)
                }
                _ => Self::UntilClose,
            });
        }
        let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter().map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
        });
        match lengths.next() {
            None => Ok(Self::UntilClose),
            Some(Some(length)) if lengths.all(|other| other == Some(length)) => {
                Ok(Self::Length(length))
            }
            Some(_) => Err(Http1Error::MalformedHead(
                "an invalid or conflicting Content-Length".to_owned(),
            )),
        }
    }

    /// Takes the next piece of the body off the front of `unread`.
    fn decode(&mut self, unread: &mut BytesMut) -> Result<Decoded, Http1Error> {
        loop {
            match self {
                Self::Ended => return Ok(Decoded::End),
                Self::Length(0) => *self = Self::Ended,
                Self::Length(left) => return Ok(take(unread, left)),
                Self::UntilClose if unread.is_empty() => return Ok(Decoded::NeedMore),
                Self::UntilClose => return Ok(Decoded::Data(unread.split().freeze())),
                Self::Chunked(state) => match *state {
                    Chunked::Size => match httparse::parse_chunk_size(unread) {
                        Ok(httparse::Status::Complete((length, size))) => {
                            unread.advance(length);
                            *state = if size == 0 {
                                Chunked::Trailers
                            } else {
                                Chunked::Data(size)
                            };
                        }
                        Ok(httparse::Status::Partial) if unread.len() > MAX_CHUNK_LINE => {
                            return Err(Http1Error::MalformedChunk("a chunk-size line too long"));
                        }
                        Ok(httparse::Status::Partial) => return Ok(Decoded::NeedMore),
                        Err(_) => return Err(Http1Error::MalformedChunk("an invalid chunk size")),
                    },
                    Chunked::Data(0) => *state = Chunked::DataEnd,
                    Chunked::Data(ref mut left) => return Ok(take(unread, left)),
                    Chunked::DataEnd if unread.len() < 2 => return Ok(Decoded::NeedMore),
                    Chunked::DataEnd if unread.starts_with(b"\r\n") => {
                        unread.advance(2);
                        *state = Chunked::Size;
                    }
                    Chunked::DataEnd => {
                        return Err(Http1Error::MalformedChunk("no CRLF after a chunk's data"));
                    }
                    Chunked::Trailers => match unread.windows(2).position(|pair| pair == b"\r\n") {
                        Some(0) => {
                            unread.advance(2);
                            *self = Self::Ended;
                        }
                        Some(line) => unread.advance(line + 2),
                        None if unread.len() > MAX_CHUNK_LINE => {
                            return Err(Http1Error::MalformedChunk("a trailer line too long"));
                        }
                        None => return Ok(Decoded::NeedMore),
                    },
                },
            }
        }
    }
}

/// Up to `left` bytes of data off the front of `unread`.
fn take(unread: &mut BytesMut, left: &mut u64) -> Decoded {
    if unread.is_empty() {
        return Decoded::NeedMore;
    }
    let length = usize::try_from(*left).map_or(unread.len(), |left| left.min(unread.len()));
    *left -= length as u64;
    Decoded::Data(unread.split_to(length).freeze())
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
    use futures_util::StreamExt;
    use proptest::prelude::*;
    use tokio::{io::AsyncReadExt, net::TcpListener};

    /// Decodes `body` fed in pieces cut at `cuts`: the data, or the first error.
    fn decode_in_pieces(
        mut framing: Framing,
        body: &[u8],
        cuts: &[usize],
    ) -> Result<(Vec<u8>, bool), Http1Error> {
        let mut unread = BytesMut::new();
        let mut data = Vec::new();
        let mut fed = 0;
        let mut ends = cuts.to_vec();
        ends.push(body.len());
        ends.sort_unstable();
        for end in ends {
            unread.extend_from_slice(&body[fed..end.min(body.len()).max(fed)]);
            fed = end.min(body.len()).max(fed);
            loop {
                match framing.decode(&mut unread)? {
                    Decoded::Data(piece) => data.extend_from_slice(&piece),
                    Decoded::NeedMore => break,
                    Decoded::End => return Ok((data, true)),
                }
            }
        }
        Ok((data, false))
    }

    fn chunked(pieces: &[&[u8]], trailer: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for piece in pieces {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
        body
    }

    proptest! {
        #[test]
        fn chunked_bodies_decode_the_same_however_the_reads_cut_them(
            pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..8),
            cuts in proptest::collection::vec(0usize..3000, 0..12),
            with_trailer in any::<bool>(),
        ) {
            let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let body = chunked(&slices, if with_trailer { "x-checksum: 1\r\n" } else { "" });
            let decoded = decode_in_pieces(Framing::Chunked(Chunked::Size), &body, &cuts).unwrap();
            prop_assert_eq!(decoded, (pieces.concat(), true));
        }

        #[test]
        fn a_content_length_body_ends_at_its_length(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let framing = Framing::Length(body.len() as u64);
            let mut wire = body.clone();
            wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
            let (data, ended) = decode_in_pieces(framing, &wire, &cuts).unwrap();
            prop_assert!(ended);
            prop_assert_eq!(data, body);
        }
    }

    #[test]
    fn broken_chunked_coding_is_an_error() {
        for (body, why) in [
            (&b"zz\r\nab\r\n0\r\n\r\n"[..], "an invalid chunk size"),
            (b"2\r\nabXY0\r\n\r\n", "no CRLF after a chunk's data"),
        ] {
            let error = decode_in_pieces(Framing::Chunked(Chunked::Size), body, &[]).unwrap_err();
            assert!(
                matches!(error, Http1Error::MalformedChunk(said) if said == why),
                "{error}"
            );
        }
    }

    fn head(text: &str, method: Method) -> Result<Option<Head>, Http1Error> {
        parse_head(&mut BytesMut::from(text), &method)
    }

    #[test]
    fn the_head_says_how_the_body_is_framed_and_whether_the_connection_is_kept() {
        let cases = [
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Chunked(Chunked::Size),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\n\r\n",
                Method::POST,
                Framing::UntilClose,
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
                Method::POST,
                Framing::UntilClose,
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: Close\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                true,
            ),
            (
                "HTTP/1.1 204 No Content\r\n\r\n",
                Method::POST,
                Framing::Ended,
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::HEAD,
                Framing::Ended,
                true,
            ),
        ];
        for (text, method, framing, keep_alive) in cases {
            let head = head(text, method).unwrap().unwrap();
            assert_eq!(
                (head.framing, head.keep_alive),
                (framing, keep_alive),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_partial_head_waits_and_a_bad_one_is_an_error() {
        assert!(
            head("HTTP/1.1 200 OK\r\ncontent-le", Method::GET)
                .unwrap()
                .is_none()
        );
        for bad in [
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: five\r\n\r\n",
            "SMTP ready\r\n\r\n",
        ] {
            assert!(
                matches!(head(bad, Method::GET), Err(Http1Error::MalformedHead(_))),
                "{bad:?}"
            );
        }
        let endless = format!("HTTP/1.1 200 OK\r\n{}", "x-filler: yes\r\n".repeat(5000));
        assert!(matches!(
            head(&endless, Method::GET),
            Err(Http1Error::MalformedHead(_) | Http1Error::HeadTooLarge)
        ));
    }

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

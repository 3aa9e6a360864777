//! The upstream leg over plain HTTP/1.1 without a task of its own. A pooled client (reqwest,
//! hyper-util) runs each upstream connection in a task of its own and hands the body over one
//! read at a time through a one-item slot: every upstream line then costs a wake-up of that task
//! (on another worker thread, as often as not) and a write of its own to the client. Here the
//! task that relays a reply also drives its upstream connection: polling the body first lets
//! the connection read and decode, in the same task, whatever the socket holds, so everything
//! already received is handed over in one go (see [`crate::relay`]).
//!
//! Connections are kept alive and reused: one finished cleanly goes back to its backend's pool,
//! one dropped mid-reply (the client hung up) is closed with it. A pooled connection the upstream
//! closed meanwhile is noticed when it is taken out, and a new one is made.

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::{FutureExt, Stream};
use http_body_util::Full;
use hyper::{
    Request, Response,
    body::{Body as _, Incoming},
    client::conn::http1,
};
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio::net::TcpStream;

/// Any failure of the transport, with its causes.
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The most unused connections kept per backend.
const MAX_IDLE: usize = 256;
/// Bytes read from the socket at a time. LLM replies come in lines of a few hundred bytes, and
/// hyper's adaptive default starts at 8 KiB per connection; this also caps a response head.
const READ_BUFFER: usize = 4096;

type Driver = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// One upstream connection: where requests go in, and the state machine that moves the bytes.
struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: Driver,
}

impl Connection {
    /// Moves the connection on; `Ready` once it is over (closed, or broken).
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        Pin::new(&mut self.driver).poll(cx)
    }

    /// Whether a pooled connection can take a request now: still open, and idle.
    fn ready_now(&mut self) -> bool {
        let ready = futures_util::future::poll_fn(|cx| {
            if self.drive(cx).is_ready() {
                return Poll::Ready(false);
            }
            self.sender.poll_ready(cx).map(|ready| ready.is_ok())
        });
        ready.now_or_never() == Some(true)
    }
}

/// The connections to one upstream `host:port`.
pub struct Http1Pool {
    address: String,
    connect_timeout: Duration,
    handshake: http1::Builder,
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
        let mut handshake = http1::Builder::new();
        handshake.read_buf_exact_size(Some(READ_BUFFER));
        Self {
            address,
            connect_timeout,
            handshake,
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Sends `request` and waits for the response head, driving the connection meanwhile; the
    /// body drives it on and gives it back to the pool when it ends cleanly.
    pub async fn send(
        self: &Arc<Self>,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Http1Body>, TransportError> {
        let mut connection = self.checkout().await?;
        let mut response = std::pin::pin!(connection.sender.send_request(request));
        let mut ended: Option<Result<(), hyper::Error>> = None;
        let head = futures_util::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(result) = response.as_mut().poll(cx) {
                    return Poll::Ready(result.map_err(TransportError::from));
                }
                if let Some(ended) = ended.take() {
                    // Over before its head, and the request's own error did not say why.
                    let reason = match ended {
                        Err(error) => error.into(),
                        Ok(()) => "the upstream closed the connection before answering".into(),
                    };
                    return Poll::Ready(Err(reason));
                }
                match connection.drive(cx) {
                    Poll::Ready(result) => ended = Some(result),
                    Poll::Pending => {
                        return response.as_mut().poll(cx).map_err(TransportError::from);
                    }
                }
            }
        })
        .await?;
        let pool = Arc::clone(self);
        Ok(head.map(|body| Http1Body {
            body,
            connection: Some(connection),
            pool,
        }))
    }

    /// A live idle connection, or a new one.
    async fn checkout(&self) -> Result<Connection, TransportError> {
        while let Some((mut connection, since)) = self.take_idle() {
            if since.elapsed() < IDLE_TIMEOUT && connection.ready_now() {
                return Ok(connection);
            }
        }
        self.connect().await
    }

    fn take_idle(&self) -> Option<(Connection, Instant)> {
        self.idle.lock().ok()?.pop_back()
    }

    async fn connect(&self) -> Result<Connection, TransportError> {
        let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.address))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to {} timed out", self.address),
                )
            })??;
        // SSE and NDJSON lines are small writes; Nagle would hold them back.
        tcp.set_nodelay(true)?;
        let (sender, driver) = self.handshake.handshake(TokioIo::new(tcp)).await?;
        Ok(Connection { sender, driver })
    }

    fn checkin(&self, mut connection: Connection) {
        if !connection.ready_now() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() >= MAX_IDLE {
                idle.pop_front();
            }
            idle.push_back((connection, Instant::now()));
        }
    }
}

/// A response body that drives its own connection.
pub struct Http1Body {
    body: Incoming,
    connection: Option<Connection>,
    pool: Arc<Http1Pool>,
}

impl std::fmt::Debug for Http1Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Body")
            .field("driving", &self.connection.is_some())
            .finish_non_exhaustive()
    }
}

impl Stream for Http1Body {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let mut drove = false;
        loop {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => return Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
                Poll::Ready(Some(Err(error))) => {
                    this.connection = None;
                    return Poll::Ready(Some(Err(error.into())));
                }
                Poll::Ready(None) => {
                    if let Some(connection) = this.connection.take() {
                        this.pool.checkin(connection);
                    }
                    return Poll::Ready(None);
                }
                // Nothing more from the socket either: wait for it.
                Poll::Pending if drove => return Poll::Pending,
                Poll::Pending => {}
            }
            // Taking a piece told the connection to decode the next: let it, in this task, then
            // look again.
            drove = true;
            let Some(connection) = this.connection.as_mut() else {
                return Poll::Pending;
            };
            if connection.drive(cx).is_ready() {
                this.connection = None;
            }
        }
    }
}

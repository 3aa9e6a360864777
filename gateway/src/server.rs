//! Running the gateway: accepting connections until a shutdown signal, then letting in-flight
//! requests (and streams) finish within a grace period; and an in-process handle for tests.
//!
//! Connections are served by hyper directly (HTTP/1.1, and HTTP/2 with prior knowledge, on one
//! port) so that what a client may hold is bounded: it must start its request within
//! `server.header_read_timeout_ms` of connecting and deliver each request head within it once the
//! gateway waits for one — which also closes idle kept-alive connections. Silent or slow clients
//! are closed, not kept forever.

use std::{future::Future, net::SocketAddr, pin::pin, time::Duration};

use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use wire::shutdown::Running;

use crate::{
    app,
    config::{Config, ConfigError},
    state::AppState,
};

/// The client connection preface of HTTP/2 with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Why a gateway could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration cannot be served (a `ca_cert` that cannot be read, a bad Redis URL).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// `listen` as configured.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Runs the gateway `config` describes on its `listen` address until `shutdown` completes, then
/// lets open requests end within `shutdown_grace_ms`; what the binary does once it has a
/// configuration.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    let listen_error = |source| RunError::Listen {
        address: config.listen.clone(),
        source,
    };
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(listen_error)?;
    let address = listener.local_addr().map_err(listen_error)?;
    let backends: Vec<String> = config
        .backends
        .iter()
        .map(|b| format!("{} ({:?} at {})", b.name, b.kind, b.base_url))
        .collect();
    let state = AppState::new(config)?;
    tracing::info!(%address, backends = ?backends, "gateway listening on http://{address}");
    if state.keyring.is_none() && !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "no [auth] section: every route is open to whoever reaches {address}; add API keys (gateway/README.md, \"API keys and rate limits\")"
        );
    }
    serve(listener, state, shutdown, grace)
        .await
        .map_err(RunError::Serve)
}

/// Serves until `shutdown` completes, then waits up to `grace` for open requests to end and
/// closes whatever is still open.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let head_deadline = state.config.server.header_read_timeout();
    let router = app::router(state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_deadline);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(error) => {
                pause_after_accept_error(&error).await;
                continue;
            }
        };
        // SSE frames are small writes: without TCP_NODELAY, Nagle's algorithm and the client's
        // delayed ACK hold them back for tens of milliseconds.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let builder = builder.clone();
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        connections.spawn(async move {
            // hyper reads the first bytes (HTTP/1 or HTTP/2?) without a deadline of its own.
            match tokio::time::timeout(head_deadline, protocol_known(&tcp)).await {
                Ok(Ok(true)) => {}
                Ok(Ok(false) | Err(_)) => return,
                Err(_) => {
                    tracing::debug!("closing a connection that sent no request in time");
                    return;
                }
            }
            let connection = builder.serve_connection(TokioIo::new(tcp), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "shutting down: letting open requests finish"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over; closing the remaining connections");
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// Waits until the client has sent enough to tell HTTP/1 from HTTP/2: `false` when it closed
/// first.
async fn protocol_known(tcp: &TcpStream) -> std::io::Result<bool> {
    let mut start = [0u8; 24];
    loop {
        let read = tcp.peek(&mut start).await?;
        if read == 0 {
            return Ok(false);
        }
        if read == H2_PREFACE.len() || start[..read] != H2_PREFACE[..read] {
            return Ok(true);
        }
        // Part of the HTTP/2 preface: peeking again returns at once, so wait a little for more.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// After a failed `accept`: per-connection errors are the client's and are skipped; anything
/// else (out of file descriptors, say) would fail again at once, so the loop pauses.
async fn pause_after_accept_error(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accept failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A gateway running in-process on `127.0.0.1:0`, for tests and embedding.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    running: Running,
}

impl Gateway {
    /// Starts with `config`.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let state = AppState::new(config).map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let running =
            Running::spawn(|stopped| serve(listener, state, stopped, Duration::from_secs(5)));
        Ok(Self { addr, running })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops and waits for open requests.
    pub async fn shutdown(mut self) {
        self.running.shutdown().await;
    }
}

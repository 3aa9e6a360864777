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
    sync::oneshot,
    task::{JoinHandle, JoinSet},
};

use crate::{app, config::Config, state::AppState};

/// The client connection preface of HTTP/2 with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    /// Starts with `config`.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let state = AppState::new(config).map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            state,
            async {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

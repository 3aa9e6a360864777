//! Running the gateway: on a listener until a shutdown signal, letting in-flight requests (and
//! streams) finish within a grace period; and an in-process handle for tests.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::serve::ListenerExt;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{app, config::Config, state::AppState};

/// Serves until `shutdown` completes, then waits up to `grace` for open requests to end.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping, stopped) = oneshot::channel::<()>();
    // SSE frames are small writes: without TCP_NODELAY, Nagle's algorithm and the client's
    // delayed ACK hold them back for tens of milliseconds.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app::router(state)).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result,
        _ = stopped => {}
    }
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "shutting down: letting open requests finish"
    );
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("grace period over; closing the remaining connections");
            Ok(())
        }
    }
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

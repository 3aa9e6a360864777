//! How the workspace's servers are asked to stop (with the `shutdown` feature): a binary on
//! Ctrl-C or SIGTERM ([`signal`]), an in-process one through its handle ([`Running`]). The one
//! piece of process I/O the crate holds, so that every server stops alike.

/// Resolves on Ctrl-C or SIGTERM: how both binaries of the workspace are asked to stop.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// A server running in-process (a test's, or one embedded in another program): spawned with
/// its stop signal, stopped when asked or when dropped.
#[derive(Debug)]
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Spawns `serve`, handing it the future that resolves when the server is asked to stop.
    pub fn spawn<F>(serve: impl FnOnce(Stopped) -> F) -> Self
    where
        F: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(serve(Box::pin(async {
            let _ = stopped.await;
        })));
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Asks the server to stop, without waiting.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks the server to stop and waits until its open requests have ended.
    pub async fn shutdown(&mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Resolves when its [`Running`] server is asked to stop (or the handle is dropped).
pub type Stopped = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

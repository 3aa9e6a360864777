//! Running the mock: in-process for tests ([`MockOllama`]) or as a long-lived server (the binary).

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::serve::ListenerExt;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use wire::shutdown::{Running, Stopped};

use crate::{
    journal::JournalEntry,
    openai::Flavor,
    record::Recorder,
    routes,
    scenario::{Rule, Scenario},
    state::{ExpectationReport, MockConfig, MockState},
    tls::{TlsIdentity, TlsListener},
};

/// Rules whose `expect` did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mock-ollama expectations not met: {}", describe(.0))]
pub struct ExpectationError(pub Vec<ExpectationReport>);

fn describe(failures: &[ExpectationReport]) -> String {
    failures
        .iter()
        .map(|f| {
            format!(
                "rule {:?} expected {} hit(s), got {}",
                f.rule, f.expected, f.actual
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Configures a mock before it starts.
#[derive(Debug, Clone)]
pub struct MockBuilder {
    config: MockConfig,
    scenario: Scenario,
    recorder: Option<Arc<Recorder>>,
    verify_on_drop: bool,
}

impl Default for MockBuilder {
    fn default() -> Self {
        Self {
            config: MockConfig::default(),
            scenario: Scenario::builtin(),
            recorder: None,
            verify_on_drop: true,
        }
    }
}

impl MockBuilder {
    /// Serves this scenario instead of the built-in one.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenario = scenario;
        self
    }

    /// Unmatched generation requests fail instead of getting a generated reply.
    pub fn strict(mut self, strict: bool) -> Self {
        self.config.strict = strict;
        self
    }

    /// Multiplies every scripted delay (default 0: no sleeping, for fast tests).
    pub fn time_scale(mut self, time_scale: f64) -> Self {
        self.config.time_scale = time_scale;
        self
    }

    /// Seed mixed into generated replies, ids and jitter.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// The instant `created_at` timestamps start from.
    pub fn clock_base(mut self, base: DateTime<Utc>) -> Self {
        self.config.clock_base = base;
        self
    }

    /// Stamp replies with the real time their request arrived instead of the fixed clock.
    pub fn real_clock(mut self, real: bool) -> Self {
        self.config.real_clock = real;
        self
    }

    /// Keep at most this many journal entries.
    pub fn journal_limit(mut self, limit: usize) -> Self {
        self.config.journal_limit = limit;
        self
    }

    /// Keep at most this many Responses API responses (0: `store` keeps nothing).
    pub fn stored_responses(mut self, limit: usize) -> Self {
        self.config.stored_responses = limit;
        self
    }

    /// Whose OpenAI dialect `/v1` speaks (default: Ollama's own layer).
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.config.flavor = flavor;
        self
    }

    /// Records from a real server (or replays its recordings) instead of answering from the
    /// scenario, as the recorder's mode says; the exchanges already recorded are served first.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use mock_ollama::{MockOllama, Recorder};
    ///
    /// // RECORD=1 cargo test records from the real server; plain `cargo test` replays.
    /// let recorder = Recorder::cassette("tests/cassettes/chat", "http://127.0.0.1:11434")?;
    /// let mock = MockOllama::builder().recorder(recorder).start().await?;
    /// // ... point the code under test at mock.url() ...
    /// # Ok(()) }
    /// ```
    pub fn recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(Arc::new(recorder));
        self
    }

    /// Whether dropping the [`MockOllama`] panics on unmet expectations (default true).
    pub fn verify_on_drop(mut self, verify: bool) -> Self {
        self.verify_on_drop = verify;
        self
    }

    /// The state a router serves; for embedding the mock in another server.
    pub fn into_state(self) -> Arc<MockState> {
        let mut scenario = self.scenario;
        if let Some(recorder) = &self.recorder {
            scenario.merge(recorder.recorded().clone());
        }
        Arc::new(MockState::new(self.config, scenario, self.recorder))
    }

    /// Starts on `127.0.0.1` with an OS-chosen port.
    pub async fn start(self) -> std::io::Result<MockOllama> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        self.start_on(listener)
    }

    /// Starts on an already bound listener.
    pub fn start_on(self, listener: TcpListener) -> std::io::Result<MockOllama> {
        let addr = listener.local_addr()?;
        Ok(self.launch(addr, "http", |state, stopped| {
            serve(listener, state, stopped)
        }))
    }

    /// Starts on `127.0.0.1` with an OS-chosen port, over TLS: [`MockOllama::url`] is
    /// `https://…`. [`TlsIdentity::localhost`] makes a certificate clients can be told to trust.
    pub async fn start_tls(self, identity: &TlsIdentity) -> std::io::Result<MockOllama> {
        let tcp = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = tcp.local_addr()?;
        let listener = TlsListener::new(tcp, identity).map_err(std::io::Error::other)?;
        Ok(self.launch(addr, "https", |state, stopped| {
            serve_tls(listener, state, stopped)
        }))
    }

    fn launch<F>(
        self,
        addr: SocketAddr,
        scheme: &'static str,
        serve: impl FnOnce(Arc<MockState>, Stopped) -> F,
    ) -> MockOllama
    where
        F: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let verify_on_drop = self.verify_on_drop;
        let state = self.into_state();
        let running = Running::spawn(|stopped| serve(state.clone(), stopped));
        MockOllama {
            addr,
            scheme,
            state,
            running,
            verify_on_drop,
        }
    }
}

/// Serves the mock on `listener` until `shutdown` completes, then lets open responses finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<MockState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Replies are many small writes (one per line): without TCP_NODELAY, Nagle's algorithm and
    // the peer's delayed ACK hold them back for tens of milliseconds.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the mock over TLS until `shutdown` completes, then lets open responses finish.
pub async fn serve_tls(
    listener: TlsListener,
    state: Arc<MockState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running in-process mock. Dropping it stops the server and, unless disabled, panics when a
/// rule's `expect` was not met (like wiremock's `MockServer`).
#[derive(Debug)]
pub struct MockOllama {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<MockState>,
    running: Running,
    verify_on_drop: bool,
}

impl MockOllama {
    /// A builder with the built-in scenario, time scale 0 and seed 0.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// `http://127.0.0.1:<port>` (`https://` when started with TLS), the base URL Ollama
    /// clients take.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (journal, scenario, configuration).
    pub fn state(&self) -> &Arc<MockState> {
        &self.state
    }

    /// Every request received so far, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal.entries()
    }

    /// Requests received on one path (e.g. `/api/chat`).
    pub fn requests_to(&self, path: &str) -> Vec<JournalEntry> {
        self.journal()
            .into_iter()
            .filter(|entry| entry.path == path)
            .collect()
    }

    /// Serves another scenario from now on; counters start over.
    pub fn set_scenario(&self, scenario: Scenario) {
        self.state.replace_scenario(scenario);
    }

    /// Appends a rule after the existing ones.
    pub fn add_rule(&self, rule: Rule) {
        self.state.add_rule(rule);
    }

    /// Start-up scenario, empty journal, counters at zero.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Checks every rule's `expect` against how often it answered.
    pub fn verify(&self) -> Result<(), ExpectationError> {
        let failures: Vec<_> = self
            .state
            .expectations()
            .into_iter()
            .filter(|report| !report.satisfied())
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ExpectationError(failures))
        }
    }

    /// Stops accepting connections and waits for open responses to end.
    pub async fn shutdown(mut self) {
        self.running.shutdown().await;
    }
}

impl Drop for MockOllama {
    fn drop(&mut self) {
        self.running.stop();
        if self.verify_on_drop
            && !std::thread::panicking()
            && let Err(error) = self.verify()
        {
            panic!("{error}");
        }
    }
}

//! The recording proxy: forwards requests to a real server unchanged, hands the client the reply
//! unchanged (status, headers, each write as it arrives), and writes each exchange to a fixture
//! directory as a scenario file of its own.
//!
//! The mode decides when the upstream is asked at all: `record` always, `replay` never (a request
//! no exchange repeats gets the strict-mode error), `record-on-miss` only when no recorded exchange
//! repeats the request. Credentials are forwarded but never written.

use std::{
    collections::{BTreeMap, HashMap},
    fmt, io,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{HeaderMap, StatusCode, request::Parts},
    response::Response,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use wire::error_chain::error_chain;

use crate::{
    error::OllamaError,
    exchange::{
        BodyEnd, DEFAULT_MATCH_KEYS, Exchange, HOP_BY_HOP_HEADERS, RecordedChunk, RecordedRequest,
        RecordedResponse, SECRET_HEADERS, UNRECORDED_HEADERS, round_ms,
    },
    scenario::{Scenario, ScenarioError},
};

/// When the recorder asks its upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecordMode {
    /// Forward and record every request.
    #[default]
    Record,
    /// Never forward: replay recorded exchanges, refuse the rest.
    Replay,
    /// Replay when an exchange repeats the request, else forward and record.
    RecordOnMiss,
}

impl RecordMode {
    /// The mode a test's cassette runs in, from `RECORD`: unset, empty or `0` replay; `1` or
    /// `all` re-record everything; `missing` (or `new`) records only what is not recorded yet.
    pub fn from_env() -> Result<Self, RecordError> {
        Self::from_record_var(&std::env::var("RECORD").unwrap_or_default())
    }

    /// The mode a value of `RECORD` asks for (see [`RecordMode::from_env`]).
    pub fn from_record_var(value: &str) -> Result<Self, RecordError> {
        match value {
            "" | "0" => Ok(RecordMode::Replay),
            "1" | "all" => Ok(RecordMode::Record),
            "missing" | "new" => Ok(RecordMode::RecordOnMiss),
            other => Err(RecordError::Mode(other.to_owned())),
        }
    }
}

impl fmt::Display for RecordMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordMode::Record => "record",
            RecordMode::Replay => "replay",
            RecordMode::RecordOnMiss => "record-on-miss",
        })
    }
}

impl FromStr for RecordMode {
    type Err = RecordError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "record" => Ok(RecordMode::Record),
            "replay" => Ok(RecordMode::Replay),
            "record-on-miss" => Ok(RecordMode::RecordOnMiss),
            other => Err(RecordError::Mode(other.to_owned())),
        }
    }
}

/// Why a recorder could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// An unknown mode name.
    #[error("unknown record mode {0:?}: use record, replay or record-on-miss")]
    Mode(String),
    /// The upstream is not an `http://` or `https://` URL.
    #[error("upstream {0:?} is not an http:// or https:// URL")]
    Upstream(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the upstream client: {0}")]
    Client(#[from] reqwest::Error),
    /// The `--ca-cert` file cannot be trusted.
    #[error("--ca-cert: {0}")]
    Trust(#[from] wire::trust::TrustError),
    /// The fixture directory could not be created.
    #[error("{path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Fixtures already in the directory do not load.
    #[error(transparent)]
    Fixtures(#[from] ScenarioError),
}

/// How much of a real server's answer the recorder and `drift` take before they give up on an
/// exchange: a server that sends without end must not fill the machine or hold the run forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamBounds {
    /// The most body bytes one answer may carry; past them the exchange is cut and recorded as
    /// reset.
    pub max_body_bytes: u64,
    /// The longest one exchange may take, from sending the request to the body's last byte.
    pub timeout: Duration,
}

impl UpstreamBounds {
    /// 64 MiB: far above any completion or model list a server sends.
    pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 << 20;
    /// Ten minutes: a long completion on a CPU-only server still fits.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
}

impl Default for UpstreamBounds {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// A configured recorder: where to forward, where to write, what to match on and leave out.
#[derive(Debug)]
pub struct Recorder {
    upstream: String,
    out: PathBuf,
    mode: RecordMode,
    match_keys: Option<Vec<String>>,
    redacted: Vec<String>,
    client: reqwest::Client,
    bounds: UpstreamBounds,
    recorded: Scenario,
    /// How many exchanges of each stem this recorder wrote, so a request recorded twice in one
    /// session gets `<stem>.json` then `<stem>_002.json`.
    stems: Mutex<HashMap<String, usize>>,
}

impl Recorder {
    /// A recorder forwarding to `upstream` (`http://` or `https://`, system roots) and writing to
    /// `out`, in `record` mode, matching on [`crate::DEFAULT_MATCH_KEYS`].
    pub fn new(upstream: &str, out: impl Into<PathBuf>) -> Result<Self, RecordError> {
        let upstream = upstream.trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&upstream).map_err(|_| RecordError::Upstream(upstream.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RecordError::Upstream(upstream));
        }
        let client = upstream_client(None)?;
        Ok(Self {
            upstream,
            out: out.into(),
            mode: RecordMode::Record,
            match_keys: Some(
                DEFAULT_MATCH_KEYS
                    .iter()
                    .map(|&key| key.to_owned())
                    .collect(),
            ),
            redacted: Vec::new(),
            client,
            bounds: UpstreamBounds::default(),
            recorded: Scenario::default(),
            stems: Mutex::new(HashMap::new()),
        })
    }

    /// A test's cassette: replays `dir`, or records into it as `RECORD` says
    /// ([`RecordMode::from_env`]).
    pub fn cassette(dir: impl Into<PathBuf>, upstream: &str) -> Result<Self, RecordError> {
        Self::new(upstream, dir)?.mode(RecordMode::from_env()?)
    }

    /// Trusts this PEM certificate (a private CA, or a self-signed upstream) besides the system's
    /// roots.
    pub fn ca_cert(mut self, pem: &[u8]) -> Result<Self, RecordError> {
        self.client = upstream_client(Some(pem))?;
        Ok(self)
    }

    /// How much of an answer it takes, and for how long, before it cuts the exchange.
    pub fn bounds(mut self, bounds: UpstreamBounds) -> Self {
        self.bounds = bounds;
        self
    }

    /// Sets the mode; outside `record`, the exchanges already in the directory are loaded.
    pub fn mode(mut self, mode: RecordMode) -> Result<Self, RecordError> {
        self.mode = mode;
        self.recorded = match mode {
            RecordMode::Record => Scenario::default(),
            RecordMode::Replay | RecordMode::RecordOnMiss if self.out.is_dir() => {
                Scenario::load(&self.out)?
            }
            RecordMode::Replay | RecordMode::RecordOnMiss => Scenario::default(),
        };
        Ok(self)
    }

    /// The top-level body keys a replayed request must repeat; `None`: the whole body.
    pub fn match_keys(mut self, keys: Option<Vec<String>>) -> Self {
        self.match_keys = keys;
        self
    }

    /// Another header never to write (besides `Authorization`, `x-api-key` and the cookies).
    pub fn redact_header(mut self, name: &str) -> Self {
        self.redacted.push(name.to_ascii_lowercase());
        self
    }

    /// The mode it runs in.
    pub fn current_mode(&self) -> RecordMode {
        self.mode
    }

    /// The upstream base URL.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The fixture directory.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// What the mock replays from the start: the directory's exchanges (none in `record` mode).
    pub fn recorded(&self) -> &Scenario {
        &self.recorded
    }

    /// The headers worth writing: neither credentials, nor per-connection ones, nor those
    /// `left_out` names.
    fn recorded_headers(
        &self,
        headers: &HeaderMap,
        left_out: impl Fn(&str) -> bool,
    ) -> BTreeMap<String, String> {
        let mut kept = BTreeMap::<String, String>::new();
        for (name, value) in headers {
            let name_text = name.as_str();
            if HOP_BY_HOP_HEADERS.contains(&name_text)
                || UNRECORDED_HEADERS.contains(&name_text)
                || SECRET_HEADERS.contains(&name_text)
                || left_out(name_text)
                || self.redacted.iter().any(|redacted| redacted == name_text)
            {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes());
            kept.entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        kept
    }

    /// Forwards one request and streams the reply back, recording it as it passes. `on_recorded`
    /// receives the exchange once it is written.
    pub async fn forward(
        self: &Arc<Self>,
        parts: &Parts,
        body: Bytes,
        on_recorded: impl FnOnce(Exchange) + Send + 'static,
    ) -> Result<Response, OllamaError> {
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let request = RecordedRequest::new(
            parts.method.as_str(),
            &path,
            self.recorded_headers(&parts.headers, describes_the_client),
            &body,
            self.match_keys.clone(),
        );
        let mut forwarded = HeaderMap::new();
        for (name, value) in &parts.headers {
            if !HOP_BY_HOP_HEADERS.contains(&name.as_str())
                && name != axum::http::header::CONTENT_LENGTH
            {
                forwarded.append(name.clone(), value.clone());
            }
        }
        let sent = Instant::now();
        let upstream = self
            .client
            .request(parts.method.clone(), format!("{}{path}", self.upstream))
            .headers(forwarded)
            .body(body)
            .timeout(self.bounds.timeout)
            .send()
            .await
            .map_err(|error| {
                let detail = format!("{} {path}: {}", self.upstream, error_chain(&error));
                if error.is_timeout() {
                    OllamaError::UpstreamTimeout(detail)
                } else {
                    OllamaError::Upstream(detail)
                }
            })?;
        let head_ms = sent.elapsed().as_secs_f64() * 1000.0;
        let status = upstream.status();
        let mut head = HeaderMap::new();
        for (name, value) in upstream.headers() {
            if !HOP_BY_HOP_HEADERS.contains(&name.as_str()) {
                head.append(name.clone(), value.clone());
            }
        }
        let response_headers = self.recorded_headers(upstream.headers(), |_| false);
        let announced = upstream.content_length();
        let tape = Tape {
            recorder: self.clone(),
            exchange: Exchange {
                name: None,
                request,
                response: RecordedResponse {
                    status: status.as_u16(),
                    headers: response_headers,
                    head_ms: round_ms(head_ms),
                    chunks: Vec::new(),
                    end: BodyEnd::Complete,
                },
            },
            last: Instant::now(),
            received: 0,
            max_body_bytes: self.bounds.max_body_bytes,
            announced,
            on_recorded: Some(Box::new(on_recorded)),
        };
        let mut response = Response::new(Body::from_stream(relay(upstream.bytes_stream(), tape)));
        *response.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
        *response.headers_mut() = head;
        Ok(response)
    }

    /// Writes an exchange as `<stem>.json`, or `<stem>_00N.json` for the N-th of the same stem (so
    /// the files sort in the order they were recorded).
    async fn write(&self, exchange: &mut Exchange) -> io::Result<PathBuf> {
        let stem = exchange.stem();
        let count = {
            let mut stems = self.stems.lock().unwrap_or_else(|p| p.into_inner());
            let count = stems.entry(stem.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let name = if count == 1 {
            stem
        } else {
            format!("{stem}_{count:03}")
        };
        exchange.name = Some(name.clone());
        tokio::fs::create_dir_all(&self.out).await?;
        let path = self.out.join(format!("{name}.json"));
        tokio::fs::write(&path, exchange.to_fixture_text()).await?;
        Ok(path)
    }
}

/// The client for a real server: `http://` or `https://` (rustls, the system's roots plus
/// `ca_cert`), never following redirects (a recording shows what the server answered), and a
/// fresh connection per exchange: llama.cpp's `llama-server` now and then closes a kept-alive
/// connection after a stream without answering the next request on it, and a recording or a
/// drift check must not fail for how the connection was reused.
pub fn upstream_client(ca_cert: Option<&[u8]>) -> Result<reqwest::Client, RecordError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .connect_timeout(std::time::Duration::from_secs(10));
    if let Some(pem) = ca_cert {
        // Its certificates are anchors, and pinned: a self-signed `CA:TRUE` one works too.
        builder = builder.tls_backend_preconfigured(wire::trust::client_config(Some(pem))?);
    }
    Ok(builder.build()?)
}

/// Request headers that describe the client's software or the transfer, not the request: they
/// would make fixtures recorded on two machines differ.
fn describes_the_client(name: &str) -> bool {
    matches!(name, "content-length" | "user-agent") || name.starts_with("x-stainless-")
}

/// The exchange being recorded while its body passes through.
struct Tape {
    recorder: Arc<Recorder>,
    exchange: Exchange,
    last: Instant,
    received: u64,
    max_body_bytes: u64,
    announced: Option<u64>,
    on_recorded: Option<Box<dyn FnOnce(Exchange) + Send>>,
}

impl Tape {
    /// How many of `bytes` still fit in the body bound.
    fn room_for(&self, bytes: &[u8]) -> usize {
        let room = self.max_body_bytes.saturating_sub(self.received);
        usize::try_from(room).map_or(bytes.len(), |room| room.min(bytes.len()))
    }

    fn push(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        let delay = now.duration_since(self.last).as_secs_f64() * 1000.0;
        self.last = now;
        self.received += bytes.len() as u64;
        self.exchange
            .response
            .chunks
            .push(RecordedChunk::new(delay, bytes));
    }

    /// The body is complete once the announced length arrived (then the client must not get the
    /// last bytes before the fixture is on disk).
    fn complete(&self) -> bool {
        self.announced.is_some_and(|length| self.received >= length)
    }

    async fn save(&mut self, end: BodyEnd) {
        self.exchange.response.end = end;
        let Some(on_recorded) = self.on_recorded.take() else {
            return;
        };
        let mut exchange = self.exchange.clone();
        match self.recorder.write(&mut exchange).await {
            Ok(path) => {
                tracing::info!(path = %path.display(), status = exchange.response.status, "recorded");
                on_recorded(exchange);
            }
            Err(error) => {
                tracing::error!(%error, dir = %self.recorder.out.display(), "cannot write fixture")
            }
        }
    }
}

/// Reads the upstream body in a task of its own and passes each write on as it arrives. The task
/// reads to the end even when the client leaves early (an SDK that stops at `[DONE]` never reads
/// the end of the chunked body), so every reply the upstream finished is recorded. The fixture is
/// written before the client sees the end of the body, so a test that got its reply can read it. A
/// body past the recorder's bound, or one still arriving at its deadline, is cut: what fit is
/// recorded as a reset body, the client's body breaks and the upstream connection is dropped.
fn relay(
    mut upstream: impl Stream<Item = reqwest::Result<Bytes>> + Send + Unpin + 'static,
    mut tape: Tape,
) -> impl Stream<Item = io::Result<Bytes>> + Send {
    // Unbounded on purpose: a slow client must not slow the upstream's reading, or the recorded
    // delays would be the client's, not the server's. A reply is held at most once in memory,
    // and never more than the body bound.
    let (client, mut body) = tokio::sync::mpsc::unbounded_channel::<io::Result<Bytes>>();
    tokio::spawn(async move {
        let broke = loop {
            match upstream.next().await {
                Some(Ok(mut bytes)) => {
                    let fits = tape.room_for(&bytes);
                    let overflows = fits < bytes.len();
                    bytes.truncate(fits);
                    tape.push(&bytes);
                    if tape.complete() {
                        tape.save(BodyEnd::Complete).await;
                    }
                    // A client that left still lets the recording finish.
                    let _ = client.send(Ok(bytes));
                    if overflows {
                        break format!(
                            "upstream body passed the recorder's limit of {} bytes",
                            tape.max_body_bytes
                        );
                    }
                }
                Some(Err(error)) if error.is_timeout() => {
                    break format!(
                        "upstream body still arriving at the recorder's deadline: {}",
                        error_chain(&error)
                    );
                }
                Some(Err(error)) => break format!("upstream body broke: {}", error_chain(&error)),
                None => {
                    tape.save(BodyEnd::Complete).await;
                    return;
                }
            }
        };
        tracing::warn!(path = %tape.exchange.request.path, "{broke}; recorded as a reset body");
        tape.save(BodyEnd::Reset).await;
        let _ = client.send(Err(io::Error::new(io::ErrorKind::ConnectionAborted, broke)));
    });
    stream::poll_fn(move |context| body.poll_recv(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_variable_picks_the_cassette_mode() {
        let mode = |value| RecordMode::from_record_var(value).ok();
        assert_eq!(mode(""), Some(RecordMode::Replay));
        assert_eq!(mode("0"), Some(RecordMode::Replay));
        assert_eq!(mode("1"), Some(RecordMode::Record));
        assert_eq!(mode("all"), Some(RecordMode::Record));
        assert_eq!(mode("missing"), Some(RecordMode::RecordOnMiss));
        assert!(
            RecordMode::from_record_var("yes please")
                .expect_err("an unknown value")
                .to_string()
                .contains("record-on-miss")
        );
    }

    #[test]
    fn only_http_upstreams_are_accepted() {
        assert!(matches!(
            Recorder::new("ftp://example.com", "/tmp/x"),
            Err(RecordError::Upstream(_))
        ));
        assert!(Recorder::new("https://api.example.com/v1/", "/tmp/x").is_ok());
    }
}

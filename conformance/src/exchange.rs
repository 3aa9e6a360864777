//! One HTTP exchange with the target, captured as bytes: status, headers, the body (capped), and
//! whether reading stopped early. Nothing here interprets the body; checks do.

use std::time::{Duration, Instant};
use wire::error_chain::error_chain;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::check::Dialect;

/// Where to send probes, how to reach the server and how patiently.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `/v1` root, e.g. `http://127.0.0.1:8080/v1` or `https://api.example.com/v1`.
    pub base_url: String,
    /// Bearer token, if the target wants one.
    pub api_key: Option<String>,
    /// Model used by every chat probe.
    pub model: String,
    /// Per-probe deadline (an endless stream stops here).
    pub timeout: Duration,
    /// Largest body read per probe.
    pub max_body: usize,
    /// Headers sent with every authenticated probe (for servers that take the key as `api-key`
    /// or `x-api-key`); like the key, they never appear in a report or transcript.
    pub headers: Vec<(String, String)>,
    /// Which certificates an `https://` target may present.
    pub trust: Trust,
    /// The target must refuse requests without the key, or with a wrong one (HTTP-004).
    pub expect_auth: bool,
    /// The model's context window in tokens, when known: a streamed prompt longer than it is
    /// probed (HTTP-003).
    pub context_tokens: Option<u64>,
    /// The origin browsers call the target from, when it should allow one (CORS-003's
    /// preflight); otherwise the preflight comes from a foreign origin.
    pub origin: Option<String>,
    /// The model `/embeddings` must serve: given, the target must serve embeddings; absent, the
    /// chat model is tried and a target without embeddings skips their checks.
    pub embedding_model: Option<String>,
    /// The model that thinks when asked (MSG-021): given, its Messages replies must carry
    /// thinking blocks; absent, the chat model is asked and a refusal to think skips the check.
    pub thinking_model: Option<String>,
    /// Size of the oversized-body probe (SEC-003), bytes.
    pub oversized_body_bytes: usize,
    /// A model the target routes to an upstream that is down, when there is one: a gateway's
    /// answer then shows what it tells clients about its insides (SEC-001).
    pub unreachable_model: Option<String>,
    /// The dialects to probe and judge (`--dialects`; all by default).
    pub dialects: Vec<Dialect>,
}

/// What a probe authenticates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// The target's key and extra headers.
    Given,
    /// Nothing at all.
    None,
    /// A bearer token that is not the key (and no extra headers).
    Wrong,
}

/// The token [`Credentials::Wrong`] sends.
pub const WRONG_KEY: &str = "sk-conformance-wrong-key";

/// A key the runner holds, which no `Debug` output shows.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which certificates an `https://` target may present.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// PEM certificates trusted besides the system's roots (a private CA, a self-signed server).
    pub ca_cert: Option<Vec<u8>>,
    /// Accept any certificate: the report says so.
    pub insecure: bool,
}

impl Target {
    /// A target with the default deadline (30 s), body cap (4 MiB), no key, no extra headers,
    /// the system's roots and a 32 MiB oversized-body probe.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: None,
            model: model.into(),
            timeout: Duration::from_secs(30),
            max_body: 4 * 1024 * 1024,
            headers: Vec::new(),
            trust: Trust::default(),
            expect_auth: false,
            context_tokens: None,
            origin: None,
            embedding_model: None,
            thinking_model: None,
            oversized_body_bytes: 32 * 1024 * 1024,
            unreachable_model: None,
            dialects: Dialect::ALL.to_vec(),
        }
    }

    /// The HTTP client every probe goes through: `http://` or `https://` (rustls, the system's
    /// roots plus `trust.ca_cert`), proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, and a
    /// fresh connection per probe, so that a verdict never depends on which earlier probe left a
    /// connection open: llama.cpp's `llama-server` now and then drops a kept-alive connection
    /// after a stream without answering the next request on it, which a pooled client reads as
    /// a transport failure of whichever probe came next.
    pub fn client(&self) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(0);
        if self.trust.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else if let Some(pem) = &self.trust.ca_cert {
            // Its certificates are anchors, and pinned: a self-signed `CA:TRUE` one works too.
            let config = wire::trust::client_config(Some(pem))
                .map_err(|error| format!("--ca-cert: {error}"))?;
            builder = builder.tls_backend_preconfigured(config);
        }
        builder.build().map_err(|error| error_chain(&error))
    }
}

/// What was captured.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// Probe name.
    pub probe: &'static str,
    /// What was sent (JSON, or a string for raw bodies).
    pub request: Value,
    /// HTTP status, when a response head arrived.
    pub status: Option<u16>,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as received (up to the cap).
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Reading stopped at the byte cap.
    pub truncated: bool,
    /// Reading stopped at the per-probe deadline.
    pub timed_out: bool,
    /// Transport failure (connection refused, TLS, reset…).
    pub error: Option<String>,
    /// Milliseconds until the head, and until the end.
    pub head_ms: Option<f64>,
    /// Milliseconds until the body ended (or reading stopped).
    pub total_ms: f64,
}

impl Exchange {
    /// A response header (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The media type without parameters, lower-case.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (lossy), for evidence.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Why the runner stopped reading before the server ended the reply (its own deadline or
    /// body cap), if it did: a cut reply is the runner's limit, not the server's fault.
    pub fn cut(&self) -> Option<String> {
        if self.timed_out {
            Some(format!(
                "cut by the runner after {:.0} ms (--timeout-ms): no end within the probe deadline",
                self.total_ms
            ))
        } else if self.truncated {
            Some(format!(
                "cut by the runner at {} bytes (--max-body-bytes)",
                self.body.len()
            ))
        } else {
            None
        }
    }

    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// One line describing status and body start, for evidence.
    pub fn summary(&self) -> String {
        match (&self.error, self.status) {
            (Some(error), _) => format!("transport error: {error}"),
            (None, Some(status)) => {
                format!("HTTP {status} {:?}", clip(self.text(), 160))
            }
            (None, None) => "no response".to_owned(),
        }
    }
}

/// A request body: JSON, or raw text for malformed and oversized bodies.
#[derive(Debug, Clone)]
pub enum Body {
    /// Serialized as JSON.
    Json(Value),
    /// Sent as is with `Content-Type: application/json`.
    Raw(String),
}

/// One request a probe sends.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    /// Probe name.
    pub probe: &'static str,
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path under the base URL, e.g. `/chat/completions`.
    pub path: String,
    /// Body, if any.
    pub body: Option<Body>,
    /// What it authenticates with.
    pub credentials: Credentials,
    /// The probe's own headers (`Origin`, `x-request-id`, …), sent whatever the credentials.
    pub headers: Vec<(&'static str, String)>,
}

impl ProbeRequest {
    /// `POST path` with `body`, authenticated.
    pub fn post(probe: &'static str, path: impl Into<String>, body: Body) -> Self {
        Self {
            probe,
            method: reqwest::Method::POST,
            path: path.into(),
            body: Some(body),
            credentials: Credentials::Given,
            headers: Vec::new(),
        }
    }

    /// `GET path`, authenticated.
    pub fn get(probe: &'static str, path: impl Into<String>) -> Self {
        Self {
            probe,
            method: reqwest::Method::GET,
            path: path.into(),
            body: None,
            credentials: Credentials::Given,
            headers: Vec::new(),
        }
    }

    /// The same request with `method`.
    pub fn method(mut self, method: reqwest::Method) -> Self {
        self.method = method;
        self
    }

    /// The same request authenticated with `credentials`.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The same request with one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Sends one request and captures the reply.
pub async fn send(client: &reqwest::Client, target: &Target, sent: ProbeRequest) -> Exchange {
    let ProbeRequest {
        probe,
        method,
        path,
        body,
        credentials,
        headers,
    } = sent;
    let url = format!("{}{}", target.base_url.trim_end_matches('/'), path);
    let mut builder = client.request(method, &url);
    match credentials {
        Credentials::Given => {
            if let Some(key) = &target.api_key {
                builder = builder.bearer_auth(key);
            }
            for (name, value) in &target.headers {
                builder = builder.header(name, value);
            }
        }
        Credentials::Wrong => builder = builder.bearer_auth(WRONG_KEY),
        Credentials::None => {}
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = match body {
        Some(Body::Json(value)) => {
            builder = builder.json(&value);
            value
        }
        Some(Body::Raw(text)) => {
            let shown = Value::String(clip(text.clone(), 200));
            builder = builder
                .header("content-type", "application/json")
                .body(text);
            shown
        }
        None => Value::Null,
    };
    let started = Instant::now();
    let mut exchange = Exchange {
        probe,
        request,
        status: None,
        headers: Vec::new(),
        body: Vec::new(),
        truncated: false,
        timed_out: false,
        error: None,
        head_ms: None,
        total_ms: 0.0,
    };
    let deadline = tokio::time::Instant::now() + target.timeout;
    let response = match tokio::time::timeout_at(deadline, builder.send()).await {
        Err(_) => {
            exchange.timed_out = true;
            exchange.error = Some(format!("no response within {:?}", target.timeout));
            exchange.total_ms = elapsed_ms(started);
            return exchange;
        }
        Ok(Err(error)) => {
            exchange.error = Some(error_chain(&error));
            exchange.total_ms = elapsed_ms(started);
            return exchange;
        }
        Ok(Ok(response)) => response,
    };
    exchange.head_ms = Some(elapsed_ms(started));
    exchange.status = Some(response.status().as_u16());
    exchange.headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut stream = response.bytes_stream();
    loop {
        // Checked before each read too: the timer is only polled after the stream, so a server
        // with bytes always ready would never reach it.
        if tokio::time::Instant::now() >= deadline {
            exchange.timed_out = true;
            break;
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                exchange.timed_out = true;
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                exchange.error = Some(error_chain(&error));
                break;
            }
            Ok(Some(Ok(bytes))) => {
                let room = target.max_body.saturating_sub(exchange.body.len());
                exchange
                    .body
                    .extend_from_slice(&bytes[..bytes.len().min(room)]);
                if bytes.len() > room {
                    exchange.truncated = true;
                    break;
                }
            }
        }
    }
    exchange.total_ms = elapsed_ms(started);
    exchange
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut: evidence stays
/// one readable line.
pub fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

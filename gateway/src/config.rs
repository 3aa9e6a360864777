//! The gateway's configuration: a TOML file (path by `--config` or `GATEWAY_CONFIG`), or, when
//! there is none, one Ollama backend at `OLLAMA_HOST` ([`Config::resolve`] reads both).
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//!
//! [server]                         # what one client may hold of the gateway
//! header_read_timeout_ms = 30000   # a request head within this (idle keep-alive included)
//! body_read_timeout_ms = 60000     # the request body within this, else 408
//! max_concurrent_requests = 4096   # chat requests in flight; more get 503 + Retry-After
//!
//! [cors]
//! allowed_origins = ["http://localhost:3000"]
//! allow_credentials = true
//!
//! [[backends]]
//! name = "local"
//! kind = "ollama"                  # or "openai" (vLLM, llama.cpp, any /v1 server)
//! base_url = "http://127.0.0.1:11434"
//! models = ["llama3.2"]            # omit to discover them (/api/tags or /v1/models)
//! api_key_env = "LOCAL_KEY"        # or api_key = "…"
//! timeouts = { connect_ms = 2000, first_byte_ms = 60000, idle_ms = 30000, total_ms = 600000 }
//! ca_cert = "/etc/gateway/private-ca.pem" # https:// upstreams: trusted besides the system roots
//! max_concurrent_requests = 64     # in flight on this backend; beyond, the next backend or 503
//! max_body_bytes = 16777216        # a longer whole body is a 502; a longer stream line or event, an error event
//! retry = { attempts = 2, backoff_ms = 100, max_backoff_ms = 2000, max_retry_after_ms = 10000 }
//!
//! [models."llama3.2"]              # what only Ollama understands; a request's own values win
//! options = { num_ctx = 8192 }
//! keep_alive = "30m"
//! think = false
//!
//! [auth]                           # absent: every route open (see crate::auth)
//! redis_url = "redis://127.0.0.1:6379" # limits shared by replicas; absent: kept in this process
//! redis_failure = "open"           # Redis unreachable: "open" admits, "closed" answers 503
//! open_paths = ["/", "/health"]    # served without a key
//! [[auth.keys]]
//! name = "team-a"
//! key = "env:TEAM_A_KEY"           # or "sha256:<hex>"; never the key itself
//! requests_per_minute = 600
//! tokens_per_minute = 100000
//! models = ["llama3.2"]            # omit for every model
//! per_model = { "llama3.2" = { requests_per_minute = 100 } }
//! ```

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde::Deserialize;

use wire::{ollama::OllamaExtensions, ollama_host::OllamaHost};

/// Everything the gateway needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listen address.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Upstreams, tried in order when several serve a model.
    #[serde(default)]
    pub backends: Vec<BackendConfig>,
    /// Cross-origin policy.
    #[serde(default)]
    pub cors: CorsConfig,
    /// What one client may hold of the gateway: deadlines and the bound on requests in flight.
    #[serde(default)]
    pub server: ServerLimits,
    /// Request body cap in bytes.
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// How long in-flight requests may run after SIGTERM/Ctrl-C.
    #[serde(default = "default_grace")]
    pub shutdown_grace_ms: u64,
    /// How long a backend's discovered model list is reused.
    #[serde(default = "default_models_ttl")]
    pub models_cache_ttl_ms: u64,
    /// Model used by the tutorial routes (`/chat`, `/stream`); the first listed when unset.
    #[serde(default)]
    pub tutorial_model: Option<String>,
    /// Per-model defaults of Ollama's `options`, `keep_alive` and `think`, by the model name
    /// clients send; sent to Ollama backends under each request's own values.
    #[serde(default)]
    pub models: BTreeMap<String, OllamaExtensions>,
    /// API keys and their rate limits; absent, the gateway is open.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
}

/// Who may call the gateway, and how much (see the "API keys and rate limits" section of the README).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `redis://…`: the limits' windows live there, shared by every replica using it.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// What to do while Redis cannot be reached.
    #[serde(default)]
    pub redis_failure: RedisFailure,
    /// Paths served without a key (exact matches).
    #[serde(default = "default_open_paths")]
    pub open_paths: Vec<String>,
    /// The keys.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
}

/// The policy while the shared limits cannot be read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisFailure {
    /// Admit requests unmetered (keys are still checked).
    #[default]
    Open,
    /// Refuse them with a 503 and `Retry-After`.
    Closed,
}

/// One API key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Names the key in logs, metrics and limits (never the key itself).
    pub name: String,
    /// `env:VARIABLE` (the key is in the environment) or `sha256:<64 hex digits>` (its digest).
    pub key: String,
    /// Requests admitted in any 60 seconds; unlimited when absent.
    #[serde(default)]
    pub requests_per_minute: Option<u64>,
    /// Tokens (prompt and completion) charged in any 60 seconds; unlimited when absent.
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
    /// The only models this key may use; every model when absent.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// This key's limits on one model, on top of its own.
    #[serde(default)]
    pub per_model: BTreeMap<String, RateLimits>,
}

/// Limits per 60 seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Requests admitted in any 60 seconds.
    #[serde(default)]
    pub requests_per_minute: Option<u64>,
    /// Tokens charged in any 60 seconds.
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
}

impl AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(format!("auth: {message}")));
        if let Some(path) = self.open_paths.iter().find(|path| !path.starts_with('/')) {
            return invalid(format!("open_paths: {path:?} must start with /"));
        }
        let mut names = std::collections::HashSet::new();
        for key in &self.keys {
            if !names.insert(&key.name) {
                return invalid(format!("key name {:?} is used twice", key.name));
            }
            let scopes = std::iter::once((None, key.limits())).chain(
                key.per_model
                    .iter()
                    .map(|(model, limits)| (Some(model), *limits)),
            );
            for (model, limits) in scopes {
                if limits.requests_per_minute == Some(0) || limits.tokens_per_minute == Some(0) {
                    let on = model
                        .map(|model| format!(" on model {model:?}"))
                        .unwrap_or_default();
                    return invalid(format!(
                        "key {:?}{on}: a limit of 0 would refuse everything; remove the key or the model from its list instead",
                        key.name
                    ));
                }
            }
        }
        Ok(())
    }
}

impl KeyConfig {
    /// The key's own limits.
    pub fn limits(&self) -> RateLimits {
        RateLimits {
            requests_per_minute: self.requests_per_minute,
            tokens_per_minute: self.tokens_per_minute,
        }
    }
}

/// The protocol a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Ollama's native `/api/chat` (NDJSON).
    Ollama,
    /// Any OpenAI-compatible `/v1` server (vLLM, llama.cpp, LiteLLM, …).
    Openai,
}

/// One upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// Name used in logs, `/health` and errors.
    pub name: String,
    /// Protocol.
    pub kind: BackendKind,
    /// Root URL: `http://host:11434` for Ollama, `http://host:8000/v1` for OpenAI-compatible.
    pub base_url: String,
    /// Bearer token sent upstream.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Environment variable holding the bearer token.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Models served; discovered from the backend when absent.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// Upstream deadlines.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// PEM file of certificate authorities trusted for this backend's `https://` URL, besides the
    /// system's roots (a private CA, or a self-signed upstream's own certificate).
    #[serde(default)]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Chat requests in flight on this backend at most; beyond it the next backend serving the
    /// model is tried, else the client gets a 503. Unbounded when absent.
    #[serde(default)]
    pub max_concurrent_requests: Option<usize>,
    /// How failures before the first byte are retried here.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// The most bytes read into memory from one upstream body: a whole (non-streamed) body
    /// longer than this is a 502 `upstream_too_large` and its connection is dropped; a stream's
    /// NDJSON line or SSE event longer than this ends the stream with an error event. 16 MiB by
    /// default: far above the largest completion (a 128k-token reply with logprobs is a few MiB).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
}

/// 16 MiB.
fn default_max_body_bytes() -> usize {
    16 * 1024 * 1024
}

/// Retries before the first byte (the failover between backends): how often this backend is tried for
/// one request, and how long to wait before trying it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Tries of this backend per request, the first included (1 = never retried here).
    pub attempts: u32,
    /// Wait before the second try; doubled for each further one, jittered by up to half.
    pub backoff_ms: u64,
    /// The longest backoff.
    pub max_backoff_ms: u64,
    /// The longest upstream `Retry-After` honoured; a longer one ends this backend's tries.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 2,
            backoff_ms: 100,
            max_backoff_ms: 2_000,
            max_retry_after_ms: 10_000,
        }
    }
}

/// Deadlines and bounds of the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerLimits {
    /// A client must deliver a whole request head within this once the gateway waits for one:
    /// on a new connection, and between requests on a kept-alive one (so it is also the idle
    /// keep-alive timeout). HTTP/1.1.
    pub header_read_timeout_ms: u64,
    /// The whole request body within this, else a 408 envelope.
    pub body_read_timeout_ms: u64,
    /// Chat requests in flight at most (streams count until they end); beyond it, 503 with
    /// `Retry-After` instead of a queue.
    pub max_concurrent_requests: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 30_000,
            body_read_timeout_ms: 60_000,
            max_concurrent_requests: 4_096,
        }
    }
}

impl ServerLimits {
    /// The request-head deadline.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }
    /// The request-body deadline.
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }
}

impl BackendConfig {
    /// The bearer token, from the file or the named environment variable.
    pub fn api_key(&self) -> Option<String> {
        self.api_key.clone().or_else(|| {
            self.api_key_env
                .as_ref()
                .and_then(|name| std::env::var(name).ok())
        })
    }
}

/// Upstream deadlines, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// TCP connect.
    pub connect_ms: u64,
    /// From sending the request to the response head.
    pub first_byte_ms: u64,
    /// Between two chunks of a stream.
    pub idle_ms: u64,
    /// Whole exchange.
    pub total_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_ms: 2_000,
            first_byte_ms: 120_000,
            idle_ms: 60_000,
            total_ms: 900_000,
        }
    }
}

impl Timeouts {
    /// Connect deadline.
    pub fn connect(&self) -> Duration {
        Duration::from_millis(self.connect_ms)
    }
    /// First-byte deadline.
    pub fn first_byte(&self) -> Duration {
        Duration::from_millis(self.first_byte_ms)
    }
    /// Idle deadline.
    pub fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms)
    }
    /// Total deadline.
    pub fn total(&self) -> Duration {
        Duration::from_millis(self.total_ms)
    }
}

/// Cross-origin policy. No origins listed means no CORS headers (same-origin only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Exact origins, or `["*"]` for any (not allowed with credentials).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Allow cookies/authorization from those origins.
    #[serde(default)]
    pub allow_credentials: bool,
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_owned()
}
fn default_body_limit() -> usize {
    16 * 1024 * 1024
}
fn default_grace() -> u64 {
    30_000
}
fn default_models_ttl() -> u64 {
    10_000
}
fn default_open_paths() -> Vec<String> {
    vec!["/".to_owned(), "/health".to_owned()]
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not describe a configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// toml's message with line and column.
        source: toml::de::Error,
    },
    /// The configuration says something impossible.
    #[error("{0}")]
    Invalid(String),
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            backends: Vec::new(),
            cors: CorsConfig::default(),
            server: ServerLimits::default(),
            body_limit_bytes: default_body_limit(),
            shutdown_grace_ms: default_grace(),
            models_cache_ttl_ms: default_models_ttl(),
            tutorial_model: None,
            models: BTreeMap::new(),
            auth: None,
        }
    }
}

impl Config {
    /// Reads and checks a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        Self::from_toml(&display, &text)
    }

    /// Parses and checks TOML text; `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration a gateway started from the environment runs with: the TOML file at
    /// `file` (the binary's `--config`), else at `GATEWAY_CONFIG`; else one Ollama backend at
    /// `OLLAMA_HOST`, read as Ollama reads it; else `None`: no backend is configured.
    pub fn resolve(file: Option<&Path>) -> Result<Option<Self>, ConfigError> {
        Self::resolve_with(file, |name| std::env::var(name).ok())
    }

    /// [`Config::resolve`] with the environment read through `variable`.
    pub fn resolve_with(
        file: Option<&Path>,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let set = |name| variable(name).filter(|value: &String| !value.trim().is_empty());
        if let Some(file) = file {
            return Self::load(file).map(Some);
        }
        if let Some(file) = set("GATEWAY_CONFIG") {
            return Self::load(Path::new(&file)).map(Some);
        }
        Ok(set("OLLAMA_HOST").map(|host| {
            let url = OllamaHost::parse(&host).base_url();
            tracing::info!(%url, "no configuration file: using the Ollama at OLLAMA_HOST");
            Self::single_ollama("ollama", url)
        }))
    }

    /// One Ollama backend at `base_url` serving whatever it has.
    pub fn single_ollama(name: &str, base_url: String) -> Self {
        Self {
            backends: vec![BackendConfig {
                name: name.to_owned(),
                kind: BackendKind::Ollama,
                base_url,
                api_key: None,
                api_key_env: None,
                models: None,
                timeouts: Timeouts::default(),
                ca_cert: None,
                max_concurrent_requests: None,
                retry: RetryPolicy::default(),
                max_body_bytes: default_max_body_bytes(),
            }],
            ..Self::default()
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        let mut names = std::collections::HashSet::new();
        for backend in &self.backends {
            if !names.insert(&backend.name) {
                return invalid(format!("backend name {:?} is used twice", backend.name));
            }
            if !(backend.base_url.starts_with("http://")
                || backend.base_url.starts_with("https://"))
            {
                return invalid(format!(
                    "backend {:?}: base_url {:?} must start with http:// or https://",
                    backend.name, backend.base_url
                ));
            }
            if backend.retry.attempts == 0 {
                return invalid(format!(
                    "backend {:?}: retry.attempts must be at least 1 (the first try)",
                    backend.name
                ));
            }
            if backend.max_concurrent_requests == Some(0) {
                return invalid(format!(
                    "backend {:?}: max_concurrent_requests must be at least 1",
                    backend.name
                ));
            }
        }
        if self.server.max_concurrent_requests == 0 {
            return invalid("server.max_concurrent_requests must be at least 1".to_owned());
        }
        for (model, defaults) in &self.models {
            if let Err(error) = defaults.check() {
                return invalid(format!("models.{model:?}: {}: {error}", error.param()));
            }
        }
        if let Some(auth) = &self.auth {
            auth.validate()?;
        }
        if self.cors.allow_credentials && self.cors.allowed_origins.iter().any(|o| o == "*") {
            return invalid(
                "cors: allow_credentials cannot be combined with allowed_origins = [\"*\"]; list the origins".to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_parses() {
        let config = Config::from_toml(
            "test.toml",
            r#"
            listen = "0.0.0.0:9000"
            [cors]
            allowed_origins = ["http://localhost:3000"]
            allow_credentials = true
            [[backends]]
            name = "ollama"
            kind = "ollama"
            base_url = "http://127.0.0.1:11434"
            models = ["llama3.2"]
            timeouts = { connect_ms = 100, first_byte_ms = 200, idle_ms = 300, total_ms = 400 }
            [[backends]]
            name = "vllm"
            kind = "openai"
            base_url = "http://127.0.0.1:8000/v1"
            api_key = "sk-x"
            "#,
        )
        .expect("valid");
        assert_eq!(config.backends.len(), 2);
        assert_eq!(
            config.backends[0].timeouts.idle(),
            Duration::from_millis(300)
        );
        assert_eq!(config.backends[1].api_key().as_deref(), Some("sk-x"));
    }

    #[test]
    fn wildcard_cors_with_credentials_is_refused() {
        let error = Config::from_toml(
            "c.toml",
            "[cors]\nallowed_origins = [\"*\"]\nallow_credentials = true\n",
        )
        .expect_err("refused");
        assert!(error.to_string().contains("allow_credentials"));
    }

    #[test]
    fn impossible_auth_sections_are_refused() {
        for (section, says) in [
            (
                "[[auth.keys]]\nname = \"a\"\nkey = \"env:A\"\nrequests_per_minute = 0\n",
                "limit of 0",
            ),
            (
                "[[auth.keys]]\nname = \"a\"\nkey = \"env:A\"\nper_model = { m = { tokens_per_minute = 0 } }\n",
                "on model \"m\"",
            ),
            (
                "[[auth.keys]]\nname = \"a\"\nkey = \"env:A\"\n[[auth.keys]]\nname = \"a\"\nkey = \"env:B\"\n",
                "used twice",
            ),
            ("[auth]\nopen_paths = [\"health\"]\n", "must start with /"),
        ] {
            let error = Config::from_toml("c.toml", section).expect_err(says);
            assert!(error.to_string().contains(says), "{error}");
        }
    }

    #[test]
    fn typos_are_reported_with_the_file_name() {
        let error = Config::from_toml("c.toml", "lisen = \"x\"\n").expect_err("typo");
        assert!(error.to_string().starts_with("c.toml:"), "{error}");
        assert!(error.to_string().contains("lisen"), "{error}");
    }
}

//! Upstreams as transport: how to reach one (a pooled HTTP client, TLS, its deadlines and its
//! bound on requests in flight), what to send it and what its replies are, handed to
//! [`crate::translate`] for their meaning and to [`crate::relay`] when they stream.

pub mod ollama;
pub mod openai;

use std::time::Duration;

use axum::http::HeaderMap;
use futures_util::StreamExt;
use tokio::time::Instant;
use wire::openai::{ChatCompletionRequest, Model};

use crate::{
    chat::{ChatCall, ChatReply},
    config::{BackendConfig, BackendKind, ConfigError},
    error::{GatewayError, TimeoutPhase},
    overload::Bound,
    relay::Deadlines,
    translate::error_body::error_message,
};

/// Header carrying the request id, forwarded upstream.
pub const REQUEST_ID: &str = "x-request-id";

/// One configured upstream and its connection pool.
#[derive(Debug)]
pub struct Backend {
    /// Its configuration.
    pub config: BackendConfig,
    client: reqwest::Client,
    api_key: Option<String>,
    /// Its routes under `base_url`, parsed once: parsing the URL of every request was 4% of the
    /// gateway's CPU per request.
    urls: Vec<(&'static str, reqwest::Url)>,
    /// Its bound on chat requests in flight, when configured.
    in_flight: Option<Bound>,
}

/// The routes a backend kind is called on.
#[derive(Debug, Clone, Copy)]
pub struct Routes {
    /// Chat completions.
    pub chat: &'static str,
    /// The model list.
    pub models: &'static str,
    /// A cheap liveness probe.
    pub probe: &'static str,
}

impl Routes {
    /// The routes of `kind`.
    pub fn of(kind: BackendKind) -> Self {
        match kind {
            BackendKind::Ollama => ollama::ROUTES,
            BackendKind::Openai => openai::ROUTES,
        }
    }
}

impl Backend {
    /// A backend with its own pooled client: connect timeout from its configuration, `https://`
    /// with rustls (the system's roots plus its `ca_cert`), HTTP/2 where the upstream offers it
    /// by ALPN.
    pub fn new(config: BackendConfig) -> Result<Self, ConfigError> {
        let invalid =
            |what: String| ConfigError::Invalid(format!("backend {:?}: {what}", config.name));
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect())
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|error| invalid(format!("ca_cert {}: {error}", path.display())))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
                invalid(format!(
                    "ca_cert {}: {}",
                    path.display(),
                    wire::error_chain::error_chain(&error)
                ))
            })?;
            if certificates.is_empty() {
                return Err(invalid(format!(
                    "ca_cert {}: no PEM certificate in the file",
                    path.display()
                )));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|error| {
            invalid(format!(
                "cannot build its HTTP client: {}",
                wire::error_chain::error_chain(&error)
            ))
        })?;
        let api_key = config.api_key();
        let routes = Routes::of(config.kind);
        let urls = [routes.chat, routes.models, routes.probe]
            .into_iter()
            .filter_map(|path| {
                let url = reqwest::Url::parse(&join(&config.base_url, path)).ok()?;
                Some((path, url))
            })
            .collect();
        Ok(Self {
            in_flight: config.max_concurrent_requests.map(Bound::new),
            config,
            client,
            api_key,
            urls,
        })
    }

    /// The routes this backend is called on.
    pub fn routes(&self) -> Routes {
        Routes::of(self.config.kind)
    }

    /// The backend's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The deadlines of a stream whose request was sent at `started`.
    fn stream_deadlines(&self, started: Instant) -> Deadlines {
        Deadlines {
            backend: self.name().to_owned(),
            idle: self.config.timeouts.idle(),
            until: started + self.config.timeouts.total(),
        }
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        request_id: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let parsed = self.urls.iter().find(|(route, _)| *route == path);
        let mut builder = match parsed {
            Some((_, url)) => self.client.request(method, url.clone()),
            // Not parseable up front: reqwest reports why when the request is sent.
            None => self
                .client
                .request(method, join(&self.config.base_url, path)),
        };
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        if let Some(id) = request_id {
            builder = builder.header(REQUEST_ID, id);
        }
        builder
    }

    /// Sends a request and waits for the response head within the first-byte deadline; non-2xx
    /// statuses become [`GatewayError::Upstream`] with the upstream's message.
    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GatewayError> {
        let timeouts = self.config.timeouts;
        let response =
            tokio::time::timeout(timeouts.first_byte().min(timeouts.total()), builder.send())
                .await
                .map_err(|_| self.timeout(TimeoutPhase::FirstByte))?
                .map_err(|err| self.transport_error(&err))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.upstream_error(response).await)
    }

    fn timeout(&self, phase: TimeoutPhase) -> GatewayError {
        GatewayError::Timeout {
            backend: self.name().to_owned(),
            phase,
        }
    }

    fn transport_error(&self, error: &reqwest::Error) -> GatewayError {
        if error.is_timeout() {
            return self.timeout(TimeoutPhase::FirstByte);
        }
        GatewayError::UpstreamUnavailable {
            backend: self.name().to_owned(),
            detail: wire::error_chain::error_chain(error),
        }
    }

    async fn upstream_error(&self, response: reqwest::Response) -> GatewayError {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let body = read_capped(response, 64 * 1024).await.unwrap_or_default();
        GatewayError::Upstream {
            status,
            message: error_message(&body)
                .unwrap_or_else(|| format!("upstream {} answered HTTP {status}", self.name())),
            retry_after,
        }
    }

    /// Reads a whole JSON body within the total deadline.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, GatewayError> {
        let bytes = tokio::time::timeout(self.config.timeouts.total(), response.bytes())
            .await
            .map_err(|_| self.timeout(TimeoutPhase::Total))?
            .map_err(|err| {
                // The head arrived, so the upstream was reachable: the body broke off.
                tracing::warn!(backend = self.name(), error = %err, "upstream body broke off");
                GatewayError::UpstreamIncomplete {
                    backend: self.name().to_owned(),
                }
            })?;
        serde_json::from_slice(&bytes).map_err(|err| GatewayError::UpstreamProtocol {
            backend: self.name().to_owned(),
            detail: format!("invalid JSON body ({err})"),
        })
    }

    /// The models this backend reports.
    pub async fn list_models(&self) -> Result<Vec<Model>, GatewayError> {
        match self.config.kind {
            BackendKind::Ollama => ollama::list_models(self).await,
            BackendKind::Openai => openai::list_models(self).await,
        }
    }

    /// A cheap liveness probe.
    pub async fn probe(&self) -> Result<(), GatewayError> {
        self.send(self.request(reqwest::Method::GET, self.routes().probe, None))
            .await
            .map(|_| ())
    }

    /// Answers a validated chat request, within this backend's bound on requests in flight
    /// ([`GatewayError::BackendBusy`] when it is full; a stream keeps its place until it ends).
    pub async fn chat(
        &self,
        request: &ChatCompletionRequest,
        call: ChatCall,
    ) -> Result<ChatReply, GatewayError> {
        let place = match &self.in_flight {
            None => None,
            Some(bound) => Some(bound.try_take().ok_or_else(|| GatewayError::BackendBusy {
                backend: self.name().to_owned(),
                limit: bound.limit(),
            })?),
        };
        let reply = match self.config.kind {
            BackendKind::Ollama => ollama::chat(self, request, call).await,
            BackendKind::Openai => openai::chat(self, request, call).await,
        }?;
        Ok(match place {
            Some(place) => reply.holding(place),
            None => reply,
        })
    }
}

/// `base` joined with `path`.
fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn retry_after(headers: &HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn read_capped(response: reqwest::Response, cap: usize) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(piece)) = stream.next().await {
        body.extend_from_slice(&piece);
        if body.len() >= cap {
            body.truncate(cap);
            break;
        }
    }
    Some(body)
}

//! Upstreams as transport: how to reach one (a pooled HTTP client, TLS, its deadlines and its
//! bound on requests in flight), what to send it and what its replies are, handed to
//! [`crate::translate`] for their meaning and to [`crate::relay`] when they stream.

pub mod http1;
pub mod ollama;
pub mod openai;
pub mod transport;
mod unreachable;

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::time::Instant;
use wire::{
    openai::{ChatCompletionRequest, Model},
    segmented::SegmentedBuf,
};

use crate::{
    bound::Bound,
    call::{ChatCall, ChatReply},
    config::{BackendConfig, BackendKind, ConfigError},
    error::{GatewayError, TimeoutPhase},
    relay::Deadlines,
    translate::error_body::error_message,
};
use http1::TransportError;
use transport::{Outgoing, Transport, UpstreamResponse};

/// One configured upstream and its connections.
#[derive(Debug)]
pub struct Backend {
    /// Its configuration.
    pub config: BackendConfig,
    transport: Transport,
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
    /// A backend with its own connections (see [`transport`]); a `ca_cert` that cannot be
    /// read, or a `base_url` that cannot be parsed, is refused here.
    pub fn new(config: BackendConfig) -> Result<Self, ConfigError> {
        let routes = Routes::of(config.kind);
        let transport = Transport::new(&config, &[routes.chat, routes.models, routes.probe])?;
        Ok(Self {
            in_flight: config.max_concurrent_requests.map(Bound::new),
            transport,
            config,
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

    /// The most bytes one upstream body is read into memory: a whole reply, or one line or event
    /// of a stream.
    fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// The deadlines of a stream whose request was sent at `started`.
    fn stream_deadlines(&self, started: Instant) -> Deadlines {
        Deadlines {
            backend: self.name().to_owned(),
            idle: self.config.timeouts.idle(),
            until: started + self.config.timeouts.total(),
        }
    }

    /// `POST`s `body` as JSON to `route` and waits for the response head (see [`Self::send`]).
    async fn post_json<T: serde::Serialize>(
        &self,
        route: &'static str,
        request_id: &str,
        body: &T,
    ) -> Result<UpstreamResponse, GatewayError> {
        // Serializing our own wire structs into memory cannot fail.
        let json = serde_json::to_vec(body).unwrap_or_default();
        self.send(Outgoing {
            method: Method::POST,
            route,
            request_id: Some(request_id),
            json: Some(Bytes::from(json)),
        })
        .await
    }

    /// `GET`s `route` (see [`Self::send`]).
    async fn get(&self, route: &'static str) -> Result<UpstreamResponse, GatewayError> {
        self.send(Outgoing {
            method: Method::GET,
            route,
            request_id: None,
            json: None,
        })
        .await
    }

    /// Sends a request and waits for the response head within the first-byte deadline; non-2xx
    /// statuses become [`GatewayError::Upstream`] with the upstream's message.
    async fn send(&self, outgoing: Outgoing<'_>) -> Result<UpstreamResponse, GatewayError> {
        let timeouts = self.config.timeouts;
        let sent = self.transport.send(outgoing);
        let response = tokio::time::timeout(timeouts.first_byte().min(timeouts.total()), sent)
            .await
            .map_err(|_| self.timeout(TimeoutPhase::FirstByte))?
            .map_err(|error| {
                let reason = unreachable::reason(&*error);
                let detail = wire::error_chain::error_chain(&*error);
                tracing::warn!(backend = self.name(), %reason, %detail, "upstream unreachable");
                GatewayError::UpstreamUnavailable {
                    backend: self.name().to_owned(),
                    reason,
                }
            })?;
        if (200..300).contains(&response.status) {
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

    async fn upstream_error(&self, response: UpstreamResponse) -> GatewayError {
        let status = response.status;
        let retry_after = retry_after(&response.headers);
        // An error body is read for its message: its first 64 KiB, however it ends.
        let (body, _) = read_up_to(response, 0, 64 * 1024).await;
        let body = body.into_vec();
        GatewayError::Upstream {
            status,
            message: error_message(&body)
                .unwrap_or_else(|| format!("upstream {} answered HTTP {status}", self.name())),
            retry_after,
        }
    }

    /// Reads a whole JSON body, at most `max_body_bytes` of it, by the total deadline of the
    /// exchange that `started` then.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: UpstreamResponse,
        started: Instant,
    ) -> Result<T, GatewayError> {
        let limit = self.config.max_body_bytes;
        let too_large = || {
            tracing::warn!(
                backend = self.name(),
                limit,
                "upstream body over max_body_bytes"
            );
            GatewayError::UpstreamTooLarge {
                backend: self.name().to_owned(),
                limit,
            }
        };
        let announced = response
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
        if announced.is_some_and(|length| length > limit as u64) {
            // Dropping the body drops its connection: nothing of it is read.
            return Err(too_large());
        }
        let deadline = started + self.config.timeouts.total();
        // An announced length is allocated once; a chunked body grows as it arrives.
        let capacity = announced.map_or(0, |length| usize::try_from(length).unwrap_or(limit));
        let (bytes, ending) =
            tokio::time::timeout_at(deadline, read_up_to(response, capacity, limit))
                .await
                .map_err(|_| self.timeout(TimeoutPhase::Total))?;
        match ending {
            Ending::Whole => {}
            Ending::Over => return Err(too_large()),
            Ending::Broke(err) => {
                // The head arrived, so the upstream was reachable: the body broke off.
                tracing::warn!(backend = self.name(), error = %err, "upstream body broke off");
                return Err(GatewayError::UpstreamIncomplete {
                    backend: self.name().to_owned(),
                });
            }
        }
        serde_json::from_slice(&bytes.into_vec()).map_err(|err| {
            tracing::warn!(backend = self.name(), error = %err, "upstream body is not JSON");
            GatewayError::UpstreamProtocol {
                backend: self.name().to_owned(),
                detail: "invalid JSON body".to_owned(),
            }
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
        self.get(self.routes().probe).await.map(|_| ())
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

fn retry_after(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// How reading a body up to a limit ended.
#[derive(Debug)]
enum Ending {
    /// The body ended within the limit.
    Whole,
    /// The body went past the limit; what was read stops at it.
    Over,
    /// The body broke off.
    Broke(TransportError),
}

/// The body's bytes up to `limit` (at most that many are kept), `capacity` of them allocated at
/// once (an announced length) and the rest in segments, and how it ended. Reading stops at the
/// limit: the rest is never read, and dropping the body drops its connection.
async fn read_up_to(
    mut response: UpstreamResponse,
    capacity: usize,
    limit: usize,
) -> (SegmentedBuf, Ending) {
    let mut body = SegmentedBuf::with_capacity(capacity.min(limit));
    while let Some(piece) = response.body.next().await {
        let piece = match piece {
            Ok(piece) => piece,
            Err(error) => return (body, Ending::Broke(error)),
        };
        if body.len() + piece.len() > limit {
            body.extend_from_slice(&piece[..limit - body.len()]);
            return (body, Ending::Over);
        }
        body.extend_from_slice(&piece);
    }
    (body, Ending::Whole)
}

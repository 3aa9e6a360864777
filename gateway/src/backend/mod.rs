//! Upstreams: how to reach one (a pooled HTTP client with its deadlines), how to list its models,
//! and how to turn its reply into ours — whole, or relayed as SSE frames with idle and total
//! deadlines and one error frame if anything goes wrong after the head was sent.

pub mod ollama;
pub mod openai;

use std::{convert::Infallible, time::Duration};

use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, Stream, StreamExt, stream::BoxStream};
use serde_json::Value;
use tokio::time::Instant;
use wire::openai::{ChatCompletion, ChatCompletionRequest, Model};

use crate::{
    config::{BackendConfig, BackendKind, ConfigError},
    error::{GatewayError, TimeoutPhase},
    overload::{self, Bound},
    sse,
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

/// What a chat call needs besides the OpenAI request.
#[derive(Debug, Clone)]
pub struct ChatCall {
    /// Forwarded as `x-request-id`.
    pub request_id: String,
    /// The model as the client named it (echoed in replies).
    pub model: String,
    /// `chatcmpl-…` for this reply.
    pub completion_id: String,
    /// Unix seconds for this reply.
    pub created: u64,
    /// Where upstream waits are counted (for the overhead measurement).
    pub upstream: crate::overhead::UpstreamClock,
    /// The model's configured Ollama extensions (`[models."…"]`), under the request's own.
    pub ollama: crate::translate::ollama_extensions::OllamaExtensions,
}

/// A reply: one object, or SSE frames to relay.
pub enum ChatReply {
    /// `stream: false`.
    Whole(Box<ChatCompletion>),
    /// `stream: true`: frames ready to write, `[DONE]` or an error frame last.
    Stream(BoxStream<'static, Result<Bytes, Infallible>>),
}

impl ChatReply {
    /// This reply, keeping `guard` alive until a stream's end (a whole reply is done already).
    pub fn holding(self, guard: impl Send + 'static) -> Self {
        match self {
            ChatReply::Whole(completion) => ChatReply::Whole(completion),
            ChatReply::Stream(frames) => ChatReply::Stream(overload::holding(frames, guard)),
        }
    }
}

impl std::fmt::Debug for ChatReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatReply::Whole(completion) => f.debug_tuple("Whole").field(completion).finish(),
            ChatReply::Stream(_) => f.write_str("Stream(..)"),
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

/// The message of an upstream error body: Ollama's `{"error":"…"}`, OpenAI's
/// `{"error":{"message":"…"}}`, a flat `{"message":"…"}`, or short plain text.
pub fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let message = match &value {
            Value::Object(object) => match object.get("error") {
                Some(Value::String(text)) => Some(text.clone()),
                Some(Value::Object(error)) => error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => object
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Value::String(text) => Some(text.clone()),
            _ => None,
        };
        return message.filter(|m| !m.is_empty());
    }
    let text = String::from_utf8_lossy(body).trim().to_owned();
    (!text.is_empty() && text.len() <= 1024 && !text.starts_with('<')).then_some(text)
}

/// Turns upstream items into SSE frames: calls `translate.push` per item, `translate.finish` at
/// the end, and on any error writes one error frame and stops. Deadlines: `idle` between items,
/// `total` for the whole stream (counted from `started`).
pub trait Translate<Item>: Send + 'static {
    /// Handles one upstream item, appending frames to `out`.
    fn push(&mut self, item: Item, out: &mut BytesMut) -> Result<(), GatewayError>;
    /// Handles the end of the upstream body, appending the last frames (normally `[DONE]`).
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError>;
}

/// The most a relay appends to one frame from upstream items that were already delivered.
const COALESCE_BYTES: usize = 16 * 1024;

/// The relay loop shared by every backend kind. Items the upstream stream has ready (several SSE
/// events parsed from one read of an OpenAI-compatible upstream, say) are translated into the same
/// write, up to [`COALESCE_BYTES`], instead of one write and one client wake-up each; nothing
/// waits for an item that has not arrived. (hyper hands a body over one read at a time, so an
/// Ollama upstream's lines coalesce only as far as they share a read; see docs/benchmarks.md.)
pub fn relay<S, Item, E, T>(
    upstream: S,
    mut translate: T,
    backend: &Backend,
    started: Instant,
) -> BoxStream<'static, Result<Bytes, Infallible>>
where
    S: Stream<Item = Result<Item, E>> + Send + 'static,
    Item: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    T: Translate<Item>,
{
    let name = backend.name().to_owned();
    let timeouts = backend.config.timeouts;
    let deadline = started + timeouts.total();
    let frames = async_stream::stream! {
        let mut upstream = std::pin::pin!(upstream);
        let mut out = BytesMut::with_capacity(1024);
        loop {
            let wait = timeouts.idle().min(deadline.saturating_duration_since(Instant::now()));
            let mut step = match tokio::time::timeout(wait, upstream.next()).await {
                Err(_) => Err(GatewayError::Timeout {
                    backend: name.clone(),
                    phase: if Instant::now() >= deadline { TimeoutPhase::Total } else { TimeoutPhase::Idle },
                }),
                Ok(next) => relay_step(next, &mut translate, &mut out, &name),
            };
            while matches!(step, Ok(Continue::More)) && out.len() < COALESCE_BYTES {
                let Some(next) = upstream.next().now_or_never() else { break };
                step = relay_step(next, &mut translate, &mut out, &name);
            }
            match step {
                Ok(more) => {
                    if !out.is_empty() {
                        yield Ok(out.split().freeze());
                    }
                    if more == Continue::Ended {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(backend = %name, %error, "stream failed after the head was sent");
                    if !out.is_empty() {
                        yield Ok(out.split().freeze());
                    }
                    yield Ok(sse::error_frame(&error));
                    break;
                }
            }
        }
    };
    frames.boxed()
}

/// Whether the upstream may send more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    More,
    Ended,
}

/// Translates what one poll of the upstream gave: an item, a broken body, or its end.
fn relay_step<Item, E: std::fmt::Display, T: Translate<Item>>(
    next: Option<Result<Item, E>>,
    translate: &mut T,
    out: &mut BytesMut,
    backend: &str,
) -> Result<Continue, GatewayError> {
    match next {
        Some(Ok(item)) => translate.push(item, out).map(|()| Continue::More),
        Some(Err(error)) => {
            tracing::warn!(backend, %error, "upstream stream broke");
            Err(GatewayError::UpstreamIncomplete {
                backend: backend.to_owned(),
            })
        }
        None => translate.finish(out).map(|()| Continue::Ended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames each upstream item as `<item>;` and the end as `end`.
    struct Echo;

    impl Translate<&'static str> for Echo {
        fn push(&mut self, item: &'static str, out: &mut BytesMut) -> Result<(), GatewayError> {
            out.extend_from_slice(item.as_bytes());
            out.extend_from_slice(b";");
            Ok(())
        }

        fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
            out.extend_from_slice(b"end");
            Ok(())
        }
    }

    fn test_backend() -> Backend {
        let config = crate::Config::single_ollama("test", "http://127.0.0.1:9".to_owned());
        Backend::new(config.backends[0].clone()).unwrap_or_else(|err| panic!("client: {err}"))
    }

    async fn frames(
        upstream: impl Stream<Item = Result<&'static str, String>> + Send + 'static,
    ) -> Vec<Bytes> {
        let frames = relay(upstream, Echo, &test_backend(), Instant::now());
        frames
            .map(|frame| frame.unwrap_or_else(|never| match never {}))
            .collect()
            .await
    }

    #[tokio::test]
    async fn items_already_delivered_leave_in_one_frame() {
        let burst = futures_util::stream::iter([Ok("a"), Ok("b"), Ok("c")]);
        assert_eq!(frames(burst).await, vec![Bytes::from("a;b;c;end")]);
    }

    #[tokio::test]
    async fn an_item_that_has_to_be_waited_for_starts_a_new_frame() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        let _ = sender.send(Ok("a"));
        let upstream = receiver_stream(receiver);
        let late = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = sender.send(Ok("b"));
        });
        let got = frames(upstream).await;
        let _ = late.await;
        assert_eq!(got, vec![Bytes::from("a;"), Bytes::from("b;end")]);
    }

    fn receiver_stream<T: Send + 'static>(
        mut receiver: tokio::sync::mpsc::UnboundedReceiver<T>,
    ) -> impl Stream<Item = T> + Send + 'static {
        futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
    }

    #[tokio::test]
    async fn a_broken_upstream_ends_with_what_was_translated_then_one_error_frame() {
        let broken = futures_util::stream::iter([Ok("a"), Err("reset".to_owned())]);
        let got = frames(broken).await;
        assert_eq!(got[0], Bytes::from("a;"));
        assert_eq!(got.len(), 2);
        assert!(got[1].starts_with(b"data: {\"error\""), "{:?}", got[1]);
    }

    #[test]
    fn error_messages_from_every_dialect() {
        assert_eq!(
            error_message(br#"{"error":"model 'x' not found"}"#).as_deref(),
            Some("model 'x' not found")
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"bad","type":"x","code":400}}"#).as_deref(),
            Some("bad")
        );
        assert_eq!(
            error_message(br#"{"object":"error","message":"flat"}"#).as_deref(),
            Some("flat")
        );
        assert_eq!(error_message(b"plain text").as_deref(), Some("plain text"));
        assert_eq!(error_message(b"<html>oops</html>"), None);
    }
}

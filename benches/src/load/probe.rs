//! One chat request against a server under load, checked as a client would check it: the status,
//! then the reply's content (whole), or the stream up to its proper end (`done: true` in Ollama's
//! NDJSON, `[DONE]` in OpenAI's SSE). A fast wrong answer counts as a failure, not a latency.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use wire::{ndjson::LineSplitter, sse::Decoder};

use super::answer::{Answer, Probe, ProbeError};

/// The API a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Ollama's `/api/chat` (NDJSON when streaming).
    Ollama,
    /// OpenAI's `/v1/chat/completions` (SSE when streaming).
    OpenAi,
}

/// Where and how to send chat requests.
#[derive(Debug, Clone)]
pub struct ChatEndpoint(Arc<Target>);

/// What a [`ChatEndpoint`] shares with every request made through it (cloned by reference).
#[derive(Debug, Clone)]
struct Target {
    api: Api,
    url: String,
    model: String,
    bearer: Option<String>,
    client: reqwest::Client,
}

impl ChatEndpoint {
    /// The chat route under `base` (`http://host:port`), for `model`, over `client`.
    pub fn new(api: Api, base: &str, model: &str, client: reqwest::Client) -> Self {
        let path = match api {
            Api::Ollama => "/api/chat",
            Api::OpenAi => "/v1/chat/completions",
        };
        Self(Arc::new(Target {
            api,
            url: format!("{}{path}", base.trim_end_matches('/')),
            model: model.to_owned(),
            bearer: None,
            client,
        }))
    }

    /// Sends `Authorization: Bearer <key>`.
    pub fn with_bearer(self, key: &str) -> Self {
        let target = Arc::unwrap_or_clone(self.0);
        Self(Arc::new(Target {
            bearer: Some(key.to_owned()),
            ..target
        }))
    }

    fn body(&self, prompt: &str, stream: bool) -> Bytes {
        let mut body = serde_json::json!({
            "model": self.0.model,
            "stream": stream,
            "messages": [{"role": "user", "content": prompt}],
        });
        if stream && self.0.api == Api::OpenAi {
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        Bytes::from(body.to_string())
    }

    async fn send(&self, body: Bytes) -> Result<reqwest::Response, ProbeError> {
        let mut request = self
            .0
            .client
            .post(&self.0.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.0.bearer {
            request = request.bearer_auth(key);
        }
        let response = request.send().await?;
        match response.status().as_u16() {
            200 => Ok(response),
            status => Err(ProbeError::Status(status)),
        }
    }

    /// Non-stream requests for `prompt`; each measures the moment the whole reply had arrived,
    /// after checking that it carries non-empty content. The body is serialized once.
    pub fn whole(&self, prompt: &str) -> impl Fn() -> Probe + Clone + Send + Sync + 'static {
        let endpoint = self.clone();
        let body = self.body(prompt, false);
        move || {
            let endpoint = endpoint.clone();
            let body = body.clone();
            Box::pin(async move {
                let response = endpoint.send(body).await?;
                let server_time = gateway_time(response.headers());
                let bytes = response.bytes().await?;
                let arrived = Answer {
                    at: Instant::now(),
                    server_time,
                };
                let reply: Value = serde_json::from_slice(&bytes)
                    .map_err(|err| ProbeError::Protocol(format!("reply is not JSON: {err}")))?;
                let pointer = match endpoint.0.api {
                    Api::Ollama => "/message/content",
                    Api::OpenAi => "/choices/0/message/content",
                };
                match reply.pointer(pointer).and_then(Value::as_str) {
                    Some(content) if !content.is_empty() => Ok(arrived),
                    _ => Err(ProbeError::Protocol(format!("no content at {pointer}"))),
                }
            })
        }
    }

    /// Streamed requests for `prompt`; each measures the moment the first non-empty content
    /// arrived, then reads the stream to its terminator. The body is serialized once.
    pub fn first_content(
        &self,
        prompt: &str,
    ) -> impl Fn() -> Probe + Clone + Send + Sync + 'static {
        let endpoint = self.clone();
        let body = self.body(prompt, true);
        move || {
            let endpoint = endpoint.clone();
            let body = body.clone();
            Box::pin(async move { endpoint.stream(body, |_| {}).await })
        }
    }

    /// A streamed request that calls `on_first_content` when its first content arrives and
    /// resolves when the stream ends properly; for holding many streams open at once.
    pub async fn hold_stream(
        &self,
        prompt: &str,
        on_first_content: impl FnOnce(Instant) + Send,
    ) -> Result<Answer, ProbeError> {
        self.stream(self.body(prompt, true), on_first_content).await
    }

    async fn stream(
        &self,
        body: Bytes,
        on_first_content: impl FnOnce(Instant) + Send,
    ) -> Result<Answer, ProbeError> {
        let response = self.send(body).await?;
        let server_time = gateway_time(response.headers());
        let bytes = response.bytes_stream();
        let at = match self.0.api {
            Api::Ollama => read_ndjson(bytes, on_first_content).await,
            Api::OpenAi => read_sse(bytes, on_first_content).await,
        }?;
        Ok(Answer { at, server_time })
    }
}

/// The gateway's own time from `Server-Timing: gateway;dur=<ms>, upstream;dur=<ms>` (for a
/// stream, up to its response head).
fn gateway_time(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get("server-timing")?.to_str().ok()?;
    value.split(',').find_map(|metric| {
        let (name, dur) = metric.trim().split_once(";dur=")?;
        let millis: f64 = dur.trim().parse().ok()?;
        (name == "gateway" && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1000.0))
    })
}

/// Calls `on_first` once, the first time `content` is non-empty; returns when it happened.
struct FirstContent<F: FnOnce(Instant)> {
    at: Option<Instant>,
    notify: Option<F>,
}

impl<F: FnOnce(Instant)> FirstContent<F> {
    fn new(notify: F) -> Self {
        Self {
            at: None,
            notify: Some(notify),
        }
    }

    fn saw(&mut self, content: Option<&str>) {
        if self.at.is_none() && content.is_some_and(|text| !text.is_empty()) {
            let now = Instant::now();
            self.at = Some(now);
            if let Some(notify) = self.notify.take() {
                notify(now);
            }
        }
    }

    fn at(&self) -> Result<Instant, ProbeError> {
        self.at
            .ok_or_else(|| ProbeError::Protocol("the stream carried no content".to_owned()))
    }
}

async fn read_ndjson(
    bytes: impl Stream<Item = reqwest::Result<Bytes>>,
    on_first: impl FnOnce(Instant),
) -> Result<Instant, ProbeError> {
    let mut bytes = std::pin::pin!(bytes);
    let mut first = FirstContent::new(on_first);
    let mut lines = LineSplitter::new();
    let mut done = false;
    while let Some(piece) = bytes.next().await {
        lines.push(&piece?, |line| {
            if done {
                return Ok(());
            }
            let chunk: Value = serde_json::from_slice(line)
                .map_err(|err| ProbeError::Protocol(format!("NDJSON line: {err}")))?;
            if let Some(error) = chunk.get("error") {
                return Err(ProbeError::InStream(error.to_string()));
            }
            first.saw(chunk.pointer("/message/content").and_then(Value::as_str));
            done = chunk.get("done").and_then(Value::as_bool) == Some(true);
            Ok(())
        })?;
        if done {
            return first.at();
        }
    }
    Err(ProbeError::Unterminated)
}

async fn read_sse(
    bytes: impl Stream<Item = reqwest::Result<Bytes>>,
    on_first: impl FnOnce(Instant),
) -> Result<Instant, ProbeError> {
    let mut bytes = std::pin::pin!(bytes);
    let mut first = FirstContent::new(on_first);
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    while let Some(piece) = bytes.next().await {
        decoder
            .feed(&piece?, &mut events)
            .map_err(|err| ProbeError::Protocol(format!("SSE: {err}")))?;
        for event in events.drain(..) {
            if event.data == "[DONE]" {
                return first.at();
            }
            let chunk: Value = serde_json::from_str(&event.data)
                .map_err(|err| ProbeError::Protocol(format!("SSE data: {err}")))?;
            if let Some(error) = chunk.get("error") {
                return Err(ProbeError::InStream(error.to_string()));
            }
            first.saw(
                chunk
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str),
            );
        }
    }
    Err(ProbeError::Unterminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(parts: &[&str]) -> impl Stream<Item = reqwest::Result<Bytes>> + use<> {
        let parts: Vec<_> = parts
            .iter()
            .map(|p| Ok(Bytes::from(p.to_string())))
            .collect();
        futures_util::stream::iter(parts)
    }

    #[test]
    fn the_gateways_own_time_is_read_from_server_timing() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(gateway_time(&headers), None);
        headers.insert(
            "server-timing",
            "gateway;dur=0.042, upstream;dur=1.500"
                .parse()
                .unwrap_or_else(|err| panic!("{err}")),
        );
        assert_eq!(gateway_time(&headers), Some(Duration::from_micros(42)));
    }

    #[tokio::test]
    async fn ndjson_counts_the_first_non_empty_content_split_anywhere() {
        let mut seen = 0;
        let stream = pieces(&[
            "{\"message\":{\"content\":\"\"},\"done\":false}\n{\"mess",
            "age\":{\"content\":\"Hi\"},\"done\":false}\n{\"message\":{\"content\":\"\"},\"done\":true}\n",
        ]);
        assert!(read_ndjson(stream, |_| seen += 1).await.is_ok());
        assert_eq!(seen, 1);
    }

    #[tokio::test]
    async fn ndjson_errors_and_missing_done_are_failures() {
        let errored = pieces(&["{\"error\":\"model crashed\"}\n"]);
        assert!(matches!(
            read_ndjson(errored, |_| {}).await,
            Err(ProbeError::InStream(_))
        ));
        let cut = pieces(&["{\"message\":{\"content\":\"Hi\"},\"done\":false}\n"]);
        assert!(matches!(
            read_ndjson(cut, |_| {}).await,
            Err(ProbeError::Unterminated)
        ));
    }

    #[tokio::test]
    async fn sse_needs_content_and_done() {
        let good = pieces(&[
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n",
        ]);
        assert!(read_sse(good, |_| {}).await.is_ok());
        let empty =
            pieces(&["data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\n\ndata: [DONE]\n\n"]);
        assert!(matches!(
            read_sse(empty, |_| {}).await,
            Err(ProbeError::Protocol(_))
        ));
        let errored = pieces(&["data: {\"error\":{\"message\":\"boom\"}}\n\n"]);
        assert!(matches!(
            read_sse(errored, |_| {}).await,
            Err(ProbeError::InStream(_))
        ));
        let cut = pieces(&["data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"]);
        assert!(matches!(
            read_sse(cut, |_| {}).await,
            Err(ProbeError::Unterminated)
        ));
    }
}

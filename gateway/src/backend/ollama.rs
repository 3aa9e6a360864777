//! The Ollama backend: `/api/chat` with an explicit `stream`, NDJSON relayed as SSE, and
//! `/api/tags` as the model list.

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;
use wire::{
    ollama::{ChatResponse, ListResponse},
    openai::{ChatCompletionRequest, Model},
};

use super::{Backend, ChatCall, ChatReply, Routes, Translate, relay};
use crate::{
    error::GatewayError,
    ndjson::{LineSplitter, LineTooLong},
    sse,
    translate::{
        ollama_reply::to_completion,
        ollama_request::to_ollama,
        ollama_stream::{StreamHead, StreamTranslator},
    },
};

/// Ollama's native routes.
pub(super) const ROUTES: Routes = Routes {
    chat: "/api/chat",
    models: "/api/tags",
    probe: "/api/version",
};

/// Why a piece of the NDJSON body could not be handled.
enum LineError {
    /// The framing broke: a line longer than the cap.
    TooLong(LineTooLong),
    /// A line was translated into an error.
    Translated(GatewayError),
}

impl From<LineTooLong> for LineError {
    fn from(error: LineTooLong) -> Self {
        LineError::TooLong(error)
    }
}

/// Sends the chat request and returns the reply, whole or as a frame stream.
pub async fn chat(
    backend: &Backend,
    request: &ChatCompletionRequest,
    call: ChatCall,
) -> Result<ChatReply, GatewayError> {
    let started = Instant::now();
    if request.n.is_some_and(|n| n > 1) {
        return Err(GatewayError::invalid(
            "n > 1 is not supported by this model's backend (Ollama); send n = 1.",
            Some("n".to_owned()),
        ));
    }
    if request.logprobs == Some(true) {
        return Err(GatewayError::invalid(
            "logprobs are not translated for Ollama backends by this gateway; send logprobs: false.",
            Some("logprobs".to_owned()),
        ));
    }
    let native = to_ollama(request, &call.model, &call.ollama)?;
    let builder = backend
        .request(reqwest::Method::POST, ROUTES.chat, Some(&call.request_id))
        .json(&native);
    let response = call.upstream.time(backend.send(builder)).await?;
    if !request.is_streaming() {
        let reply: ChatResponse = call.upstream.time(backend.json(response)).await?;
        return Ok(ChatReply::Whole(Box::new(to_completion(
            reply,
            call.completion_id,
            call.created,
            call.model,
        ))));
    }
    let head = StreamHead {
        id: call.completion_id,
        created: call.created,
        model: call.model,
        include_usage: request.wants_stream_usage(),
    };
    let translate = NdjsonToSse {
        lines: LineSplitter::new(),
        translator: StreamTranslator::new(head, backend.name()),
        chunks: Vec::with_capacity(4),
        backend: backend.name().to_owned(),
    };
    Ok(ChatReply::Stream(relay(
        response.bytes_stream(),
        translate,
        backend,
        started,
    )))
}

/// NDJSON bytes → SSE frames.
struct NdjsonToSse {
    lines: LineSplitter,
    translator: StreamTranslator,
    chunks: Vec<wire::openai::ChatCompletionChunk>,
    backend: String,
}

impl NdjsonToSse {
    fn flush(&mut self, out: &mut BytesMut) {
        for chunk in self.chunks.drain(..) {
            sse::write_frame(out, &chunk);
        }
    }
}

impl Translate<Bytes> for NdjsonToSse {
    fn push(&mut self, bytes: Bytes, out: &mut BytesMut) -> Result<(), GatewayError> {
        let Self {
            lines,
            translator,
            chunks,
            ..
        } = self;
        let result = lines.push(&bytes, |line| {
            translator
                .push_line(line, chunks)
                .map_err(LineError::Translated)
        });
        self.flush(out);
        result.map_err(|error| match error {
            LineError::Translated(error) => error,
            LineError::TooLong(error) => GatewayError::UpstreamProtocol {
                backend: self.backend.clone(),
                detail: error.to_string(),
            },
        })
    }

    fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if let Some(rest) = self.lines.finish() {
            // An unterminated last line: translate it if it is whole, fail if it was cut.
            let result = self.translator.push_line(&rest, &mut self.chunks);
            self.flush(out);
            result?;
        }
        self.translator.finish()?;
        out.extend_from_slice(sse::DONE);
        Ok(())
    }
}

/// `/api/tags` as OpenAI models: `created` from `modified_at`, `owned_by` the namespace.
pub async fn list_models(backend: &Backend) -> Result<Vec<Model>, GatewayError> {
    let response = backend
        .send(backend.request(reqwest::Method::GET, ROUTES.models, None))
        .await?;
    let tags: ListResponse = backend.json(response).await?;
    Ok(tags
        .models
        .into_iter()
        .map(|model| {
            let created = chrono::DateTime::parse_from_rfc3339(&model.modified_at)
                .map(|time| time.timestamp().max(0) as u64)
                .unwrap_or(0);
            let owned_by = model
                .name
                .split_once('/')
                .map_or("library", |(namespace, _)| namespace)
                .to_owned();
            Model {
                id: if model.model.is_empty() {
                    model.name
                } else {
                    model.model
                },
                object: "model".to_owned(),
                created,
                owned_by,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::ollama_stream::StreamHead;

    fn ndjson_to_sse(backend: &str, lines: LineSplitter) -> NdjsonToSse {
        let head = StreamHead {
            id: "c".into(),
            created: 1,
            model: "m".into(),
            include_usage: false,
        };
        NdjsonToSse {
            lines,
            translator: StreamTranslator::new(head, backend),
            chunks: Vec::new(),
            backend: backend.to_owned(),
        }
    }

    #[test]
    fn an_over_long_line_is_a_protocol_error_naming_the_backend() {
        let mut translate = ndjson_to_sse("big-ollama", LineSplitter::with_max_line(16));
        let error = translate
            .push(
                Bytes::from_static(b"{\"model\":\"0123456789abcdef"),
                &mut BytesMut::new(),
            )
            .expect_err("too long");
        assert_eq!(
            error,
            GatewayError::UpstreamProtocol {
                backend: "big-ollama".into(),
                detail: "an NDJSON line exceeded 16 bytes".into()
            }
        );
    }

    #[test]
    fn ndjson_split_anywhere_gives_the_same_frames() {
        let native = concat!(
            r#"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false}"#,
            "\n",
            r#"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#,
            "\n"
        )
        .as_bytes();
        let frames = |cut: usize| {
            let mut translate = ndjson_to_sse("b", LineSplitter::new());
            let mut out = BytesMut::new();
            translate
                .push(Bytes::copy_from_slice(&native[..cut]), &mut out)
                .expect("ok");
            translate
                .push(Bytes::copy_from_slice(&native[cut..]), &mut out)
                .expect("ok");
            translate.finish(&mut out).expect("complete");
            out
        };
        let whole = frames(native.len());
        for cut in 0..native.len() {
            assert_eq!(frames(cut), whole, "cut at {cut}");
        }
        assert!(whole.ends_with(sse::DONE));
    }
}

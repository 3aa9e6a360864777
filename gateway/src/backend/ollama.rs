//! The Ollama backend: `/api/chat` with an explicit `stream` (NDJSON when streaming), and
//! `/api/tags` as the model list.

use tokio::time::Instant;
use wire::{
    ollama::{ChatResponse, ListResponse},
    openai::{ChatCompletionRequest, Model},
};

use super::{Backend, Routes};
use crate::{
    call::{ChatCall, ChatReply},
    error::GatewayError,
    relay::relay,
    translate::{
        ReplyHead,
        ollama_reply::{models, to_completion},
        ollama_request::to_ollama,
        ollama_stream::OllamaStream,
    },
};

/// Ollama's native routes.
pub(super) const ROUTES: Routes = Routes {
    chat: "/api/chat",
    models: "/api/tags",
    probe: "/api/version",
};

/// Sends the chat request and returns the reply, whole or as a stream of chunk batches.
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
    let response = call
        .upstream
        .time(backend.post_json(ROUTES.chat, &call.request_id, &native))
        .await?;
    if !request.is_streaming() {
        let reply: ChatResponse = call.upstream.time(backend.json(response, started)).await?;
        return Ok(ChatReply::Whole(Box::new(to_completion(
            reply,
            call.completion_id,
            call.created,
            call.model,
        ))));
    }
    let head = ReplyHead {
        id: call.completion_id,
        created: call.created,
        model: call.model,
        include_usage: request.wants_stream_usage(),
    };
    Ok(ChatReply::Stream(relay(
        response.body,
        OllamaStream::new(head, backend.name(), backend.max_body_bytes()),
        backend.stream_deadlines(started),
    )))
}

/// The models Ollama has (`/api/tags`).
pub async fn list_models(backend: &Backend) -> Result<Vec<Model>, GatewayError> {
    let started = Instant::now();
    let response = backend.get(ROUTES.models).await?;
    let tags: ListResponse = backend.json(response, started).await?;
    Ok(models(tags))
}

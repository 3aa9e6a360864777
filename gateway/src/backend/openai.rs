//! OpenAI-compatible upstreams (vLLM, llama.cpp, LiteLLM, …): the request is sent widened for
//! older servers, and the reply made conformant by [`crate::translate`] whatever the upstream's
//! quirks.

use serde_json::Value;
use tokio::time::Instant;
use wire::openai::{ChatCompletionRequest, Model, StreamOptions};

use super::{Backend, Routes};
use crate::{
    call::{ChatCall, ChatReply},
    error::GatewayError,
    relay::relay,
    translate::{
        ReplyHead,
        openai_reply::{models, normalize_completion},
        openai_request::for_compatible_upstreams,
        openai_stream::OpenaiStream,
    },
};

/// The routes under an OpenAI-compatible `base_url` (which ends in `/v1`).
pub(super) const ROUTES: Routes = Routes {
    chat: "/chat/completions",
    models: "/models",
    probe: "/models",
};

/// Relays the request; streams ask the upstream for usage so it can be passed on when wanted.
pub async fn chat(
    backend: &Backend,
    request: &ChatCompletionRequest,
    call: ChatCall,
) -> Result<ChatReply, GatewayError> {
    let started = Instant::now();
    let mut upstream_request = for_compatible_upstreams(request);
    upstream_request.model = Some(call.model.clone());
    if request.is_streaming() {
        upstream_request.stream_options = Some(StreamOptions {
            include_usage: Some(true),
        });
    }
    let response = call
        .upstream
        .time(backend.post_json(ROUTES.chat, &call.request_id, &upstream_request))
        .await?;
    let head = ReplyHead {
        id: call.completion_id,
        created: call.created,
        model: call.model,
        include_usage: request.wants_stream_usage(),
    };
    if !request.is_streaming() {
        let body: Value = call.upstream.time(backend.json(response, started)).await?;
        return normalize_completion(body, &head, backend.name())
            .map(|completion| ChatReply::Whole(Box::new(completion)));
    }
    Ok(ChatReply::Stream(relay(
        response.body,
        OpenaiStream::new(head, backend.name(), backend.max_body_bytes()),
        backend.stream_deadlines(started),
    )))
}

/// The upstream's `/v1/models`.
pub async fn list_models(backend: &Backend) -> Result<Vec<Model>, GatewayError> {
    let started = Instant::now();
    let response = backend.get(ROUTES.models).await?;
    let body: Value = backend.json(response, started).await?;
    Ok(models(&body, backend.name()))
}

//! What every layer of a chat request shares: the call (what a backend needs besides the OpenAI
//! request) and the reply — one object, or a stream of typed chunk batches that the edge
//! ([`crate::sse`]) encodes once.

use futures_util::{StreamExt, stream::BoxStream};
use wire::{
    ollama::OllamaExtensions,
    openai::{ChatCompletion, ChatCompletionChunk, Usage},
};

use crate::{error::GatewayError, limits::Ticket, overhead::UpstreamClock};

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
    pub upstream: UpstreamClock,
    /// The model's configured Ollama extensions (`[models."…"]`), under the request's own.
    pub ollama: OllamaExtensions,
}

/// What one read of the upstream gave a stream: the chunks it translated into, and, on the last
/// batch, how the stream ended — `Ok` for a clean finish (`[DONE]` follows), or the error that
/// ended it (one error event follows, and no `[DONE]`).
#[derive(Debug, Default)]
pub struct Batch {
    /// Chunks to send, in order.
    pub chunks: Vec<ChatCompletionChunk>,
    /// Set on the last batch only.
    pub end: Option<Result<(), GatewayError>>,
    /// On the last batch: the tokens the upstream counted, when it said (whether or not the
    /// client asked for the usage chunk).
    pub usage: Option<Usage>,
}

/// A reply: one object, or batches of chunks to relay.
pub enum ChatReply {
    /// `stream: false`.
    Whole(Box<ChatCompletion>),
    /// `stream: true`: batches in order, the last one with its `end` set.
    Stream(BoxStream<'static, Batch>),
}

impl ChatReply {
    /// This reply, keeping `guard` alive until a stream's end or its client's hang-up (a whole
    /// reply is done already).
    pub fn holding(self, guard: impl Send + 'static) -> Self {
        match self {
            ChatReply::Whole(completion) => ChatReply::Whole(completion),
            ChatReply::Stream(batches) => ChatReply::Stream(
                batches
                    .map(move |batch| {
                        let _held = &guard;
                        batch
                    })
                    .boxed(),
            ),
        }
    }
}

impl ChatReply {
    /// This reply, charging its tokens to `ticket`: a whole reply its usage now, a stream the
    /// usage the upstream gave at its end, or — when the client hangs up first — the chunks
    /// it received.
    pub fn metered(self, ticket: Ticket) -> Self {
        match self {
            ChatReply::Whole(completion) => {
                ticket.settle(completion.usage.total_tokens);
                ChatReply::Whole(completion)
            }
            ChatReply::Stream(batches) => {
                let mut ticket = Some(ticket);
                ChatReply::Stream(
                    batches
                        .map(move |batch| {
                            if let Some(held) = ticket.as_mut() {
                                held.received(
                                    batch.chunks.iter().filter(|c| carries_tokens(c)).count()
                                        as u64,
                                );
                            }
                            if batch.end.is_some()
                                && let (Some(held), Some(usage)) = (ticket.take(), batch.usage)
                            {
                                held.settle(usage.total_tokens);
                            }
                            batch
                        })
                        .boxed(),
                )
            }
        }
    }
}

/// Whether a chunk carries generated text (a token, as upstreams stream them).
fn carries_tokens(chunk: &ChatCompletionChunk) -> bool {
    chunk.choices.iter().any(|choice| {
        let delta = &choice.delta;
        delta
            .content
            .as_deref()
            .is_some_and(|text| !text.is_empty())
            || delta
                .reasoning_content
                .as_deref()
                .is_some_and(|text| !text.is_empty())
            || !delta.tool_calls.is_empty()
    })
}

impl std::fmt::Debug for ChatReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatReply::Whole(completion) => f.debug_tuple("Whole").field(completion).finish(),
            ChatReply::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_held_guard_lives_until_the_stream_is_dropped_unfinished() {
        let guard = Arc::new(());
        let batches = futures_util::stream::iter([Batch::default(), Batch::default()]).boxed();
        let ChatReply::Stream(mut batches) = ChatReply::Stream(batches).holding(guard.clone())
        else {
            unreachable!("a stream stays a stream")
        };
        assert!(batches.next().await.is_some());
        assert_eq!(Arc::strong_count(&guard), 2, "held while streaming");
        drop(batches);
        assert_eq!(Arc::strong_count(&guard), 1, "released by the hang-up");
    }
}

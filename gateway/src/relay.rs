//! The streaming loop: upstream items (body bytes, SSE events) in, batches of chunks out, within
//! the upstream's idle and total deadlines. It knows no backend and no encoding: a translator
//! makes the chunks, [`crate::sse`] makes the bytes.

use std::time::Duration;

use futures_util::{FutureExt, Stream, StreamExt, stream::BoxStream};
use tokio::time::Instant;
use wire::openai::ChatCompletionChunk;

use crate::{
    call::Batch,
    error::{GatewayError, TimeoutPhase},
    translate::StreamTranslate,
};

/// The most chunks one batch gathers from upstream items that were already delivered.
const COALESCE_CHUNKS: usize = 64;

/// How long a stream may wait, and for what.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// The backend, named in timeout errors.
    pub backend: String,
    /// Between two upstream items.
    pub idle: Duration,
    /// When the whole exchange must be over.
    pub until: Instant,
}

/// Relays `upstream` through `translate` as batches. Items the upstream has ready (several SSE
/// events parsed from one read, say) are translated into the same batch, up to
/// [`COALESCE_CHUNKS`], so that they leave in one write; nothing waits for an item that has not
/// arrived. The last batch says how the stream ended: cleanly, or with the error that ended it
/// (a deadline, a broken body, an upstream error, a reply cut short).
pub fn relay<S, Item, E, T>(
    upstream: S,
    mut translate: T,
    deadlines: Deadlines,
) -> BoxStream<'static, Batch>
where
    S: Stream<Item = Result<Item, E>> + Send + 'static,
    Item: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    T: StreamTranslate<Item>,
{
    let batches = async_stream::stream! {
        let mut upstream = std::pin::pin!(upstream);
        loop {
            let mut chunks = Vec::new();
            let now = Instant::now();
            let wait = deadlines.idle.min(deadlines.until.saturating_duration_since(now));
            // A timeout polls its future before its clock: an upstream that always has bytes
            // ready would never see a lapsed deadline, so the total one is checked first.
            let next = if now >= deadlines.until {
                Err(TimeoutPhase::Total)
            } else {
                tokio::time::timeout(wait, upstream.next()).await.map_err(|_| {
                    if Instant::now() >= deadlines.until {
                        TimeoutPhase::Total
                    } else {
                        TimeoutPhase::Idle
                    }
                })
            };
            let mut outcome = match next {
                Err(phase) => Err(GatewayError::Timeout {
                    backend: deadlines.backend.clone(),
                    phase,
                }),
                Ok(next) => translate_next(next, &mut translate, &mut chunks, &deadlines.backend),
            };
            while matches!(outcome, Ok(Continue::More)) && chunks.len() < COALESCE_CHUNKS {
                let Some(next) = upstream.next().now_or_never() else { break };
                outcome = translate_next(next, &mut translate, &mut chunks, &deadlines.backend);
            }
            match outcome {
                Ok(Continue::More) => {
                    if !chunks.is_empty() {
                        yield Batch { chunks, end: None, usage: None };
                    }
                }
                Ok(Continue::Ended) => {
                    yield Batch { chunks, end: Some(Ok(())), usage: translate.usage() };
                    break;
                }
                Err(error) => {
                    tracing::warn!(backend = %deadlines.backend, %error, "stream failed after the head was sent");
                    yield Batch { chunks, end: Some(Err(error)), usage: translate.usage() };
                    break;
                }
            }
        }
    };
    batches.boxed()
}

/// Whether the upstream may send more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    More,
    Ended,
}

/// Translates what one poll of the upstream gave: an item, a broken body, or its end.
fn translate_next<Item, E: std::fmt::Display, T: StreamTranslate<Item>>(
    next: Option<Result<Item, E>>,
    translate: &mut T,
    chunks: &mut Vec<ChatCompletionChunk>,
    backend: &str,
) -> Result<Continue, GatewayError> {
    match next {
        Some(Ok(item)) => translate.push(item, chunks).map(|()| Continue::More),
        Some(Err(error)) => {
            tracing::warn!(backend, %error, "upstream stream broke");
            Err(GatewayError::UpstreamIncomplete {
                backend: backend.to_owned(),
            })
        }
        None => translate.finish(chunks).map(|()| Continue::Ended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::ReplyHead;

    /// One chunk per upstream item, its content the item; none at the end.
    struct Echo(ReplyHead);

    impl StreamTranslate<&'static str> for Echo {
        fn push(
            &mut self,
            item: &'static str,
            out: &mut Vec<ChatCompletionChunk>,
        ) -> Result<(), GatewayError> {
            let mut chunk = self.0.chunk(Vec::new());
            chunk.id = item.to_owned();
            out.push(chunk);
            Ok(())
        }

        fn finish(&mut self, _: &mut Vec<ChatCompletionChunk>) -> Result<(), GatewayError> {
            Ok(())
        }

        fn usage(&self) -> Option<wire::openai::Usage> {
            None
        }
    }

    /// Each batch as the items it carries, and how the stream ended.
    async fn batches(
        upstream: impl Stream<Item = Result<&'static str, String>> + Send + 'static,
    ) -> (Vec<Vec<String>>, Option<Result<(), GatewayError>>) {
        batches_within(upstream, Duration::from_secs(5)).await
    }

    /// [`batches`], the whole exchange due within `total`.
    async fn batches_within(
        upstream: impl Stream<Item = Result<&'static str, String>> + Send + 'static,
        total: Duration,
    ) -> (Vec<Vec<String>>, Option<Result<(), GatewayError>>) {
        let head = ReplyHead {
            id: String::new(),
            created: 0,
            model: "m".to_owned(),
            include_usage: false,
        };
        let deadlines = Deadlines {
            backend: "test".to_owned(),
            idle: Duration::from_secs(5),
            until: Instant::now() + total,
        };
        let mut end = None;
        let mut items = Vec::new();
        let mut relayed = relay(upstream, Echo(head), deadlines);
        while let Some(batch) = relayed.next().await {
            items.push(batch.chunks.into_iter().map(|chunk| chunk.id).collect());
            end = batch.end;
        }
        (items, end)
    }

    #[tokio::test]
    async fn an_upstream_that_always_has_more_still_ends_at_the_total_deadline() {
        let endless = futures_util::stream::repeat(Ok("x"));
        let (items, end) = batches_within(endless, Duration::from_millis(50)).await;
        assert!(items.len() > 1, "relayed until the deadline");
        assert_eq!(
            end,
            Some(Err(GatewayError::Timeout {
                backend: "test".to_owned(),
                phase: TimeoutPhase::Total
            }))
        );
    }

    #[tokio::test]
    async fn items_already_delivered_leave_in_one_batch_with_the_end() {
        let burst = futures_util::stream::iter([Ok("a"), Ok("b"), Ok("c")]);
        let (items, end) = batches(burst).await;
        assert_eq!(items, [["a", "b", "c"]]);
        assert_eq!(end, Some(Ok(())));
    }

    #[tokio::test]
    async fn an_item_that_has_to_be_waited_for_starts_a_new_batch() {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let _ = sender.send(Ok("a"));
        let upstream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = sender.send(Ok("b"));
        });
        let (items, _) = batches(upstream).await;
        let _ = late.await;
        assert_eq!(items, [vec!["a"], vec!["b"]]);
    }

    #[tokio::test]
    async fn a_broken_upstream_ends_with_what_was_translated_and_the_error() {
        let broken = futures_util::stream::iter([Ok("a"), Err("reset".to_owned())]);
        let (items, end) = batches(broken).await;
        assert_eq!(items, [["a"]]);
        assert_eq!(
            end,
            Some(Err(GatewayError::UpstreamIncomplete {
                backend: "test".to_owned()
            }))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_upstream_ends_at_the_idle_deadline() {
        let silent = futures_util::stream::pending::<Result<&'static str, String>>();
        let (items, end) = batches(silent).await;
        assert_eq!(items, [Vec::<String>::new()]);
        assert!(
            matches!(
                end,
                Some(Err(GatewayError::Timeout {
                    phase: TimeoutPhase::Total | TimeoutPhase::Idle,
                    ..
                }))
            ),
            "{end:?}"
        );
    }
}

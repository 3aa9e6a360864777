//! A reply made concrete for one request: every chunk, the final chunk, its reason, its metrics
//! and its virtual timeline. Both endpoints (chat and generate) and both modes (stream and not)
//! are rendered from the same [`Turn`], which is why streamed chunks always add up to the
//! non-stream reply.

use std::time::Duration;

use wire::ollama::{Metrics, ToolCall};

use crate::{
    reply::{ChunkSpec, Reply},
    seed::DetRng,
    timing::{Timing, millis},
};

/// What the request contributes to a turn.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext {
    /// Seed for ids and jitter (global seed mixed with the request hash).
    pub seed: u64,
    /// Deterministic prompt token count of the request.
    pub prompt_tokens: u64,
    /// `options.num_predict` when positive.
    pub num_predict: Option<u64>,
    /// Tool calls appear only when the request offered tools.
    pub has_tools: bool,
}

/// A fully resolved reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The `done:false` chunks, in order.
    pub chunks: Vec<ChunkSpec>,
    /// Message fields of the `done:true` chunk.
    pub last: ChunkSpec,
    /// `stop`, `length`, …
    pub done_reason: String,
    /// The stop sequence that ended the reply, when one did.
    pub stop_sequence: Option<String>,
    /// Metrics of the final chunk.
    pub metrics: Metrics,
    /// Virtual delay before each line: one per chunk, then one for the final line.
    pub delays: Vec<Duration>,
    /// Virtual time spent loading, before the first delay.
    pub load: Duration,
}

/// One native line of a [`Turn`], as a dialect's writer walks them.
#[derive(Debug, Clone, Copy)]
pub struct TurnLine<'a> {
    /// What the line carries.
    pub chunk: &'a ChunkSpec,
    /// Virtual delay before it.
    pub delay: Duration,
    /// The stream's first line (its head goes before it).
    pub first: bool,
    /// The final line (the stream's end goes after it).
    pub last: bool,
}

impl Turn {
    /// Each native line of the turn in order: every chunk, then the final one, with its delay.
    pub fn lines(&self) -> impl Iterator<Item = TurnLine<'_>> {
        let last = self.chunks.len();
        self.chunks
            .iter()
            .chain(std::iter::once(&self.last))
            .zip(self.delays.iter().copied())
            .enumerate()
            .map(move |(index, (chunk, delay))| TurnLine {
                chunk,
                delay,
                first: index == 0,
                last: index == last,
            })
    }

    /// Resolves a scripted (or generated) reply for a request.
    pub fn new(reply: &Reply, timing: &Timing, ctx: TurnContext) -> Self {
        let mut rng = DetRng::new(ctx.seed);
        let mut chunks = if reply.chunks.is_empty() {
            tokenize(&reply.thinking, |text| ChunkSpec {
                thinking: text,
                ..ChunkSpec::default()
            })
            .chain(tokenize(&reply.text, |text| ChunkSpec {
                content: text,
                ..ChunkSpec::default()
            }))
            .collect()
        } else {
            reply.chunks.clone()
        };
        let mut last = reply.done.clone();

        if !ctx.has_tools {
            // A chunk that only carried tool calls disappears with them.
            chunks.retain_mut(|chunk| {
                let had_calls = !chunk.tool_calls.is_empty();
                chunk.tool_calls.clear();
                !(had_calls && chunk.is_empty())
            });
            last.tool_calls.clear();
        }
        number_tool_calls(&mut chunks, &mut last, reply.legacy_tool_calls, &mut rng);

        let mut done_reason = reply.done_reason.clone();
        let mut tokens = chunks.len() as u64 + u64::from(!last.is_empty());
        if let Some(limit) = ctx.num_predict
            && tokens > limit
        {
            chunks.truncate(limit as usize);
            last = ChunkSpec::default();
            done_reason = "length".to_owned();
            tokens = limit;
        }

        let mut delays = Vec::with_capacity(chunks.len() + 1);
        for (position, chunk) in chunks.iter().chain(std::iter::once(&last)).enumerate() {
            let modelled = if position == 0 {
                timing.first_chunk(&mut rng)
            } else {
                timing.between_chunks(&mut rng)
            };
            delays.push(chunk.delay_ms.map(millis).unwrap_or(modelled));
        }
        let load = timing.load();
        let metrics = metrics(reply, &delays, load, ctx.prompt_tokens, tokens);
        Turn {
            chunks,
            last,
            done_reason,
            stop_sequence: None,
            metrics,
            delays,
            load,
        }
    }

    /// Ends the reply before the first of `stops` its text contains, as a model's sampler does:
    /// the text up to it kept, every later chunk (and tool call) dropped, `done_reason` `stop`,
    /// the sequence named in [`Turn::stop_sequence`].
    pub fn stop_at(&mut self, stops: &[String]) {
        if stops.is_empty() {
            // The common case: no text to join.
            return;
        }
        let text: String = self
            .chunks
            .iter()
            .chain(std::iter::once(&self.last))
            .map(|chunk| chunk.content.as_str())
            .collect();
        let Some((cut, stop)) = stops
            .iter()
            .filter_map(|stop| text.find(stop.as_str()).map(|at| (at, stop)))
            .min_by_key(|(at, _)| *at)
        else {
            return;
        };
        let mut kept = Vec::new();
        let mut offset = 0;
        for mut chunk in self
            .chunks
            .drain(..)
            .chain(std::iter::once(std::mem::take(&mut self.last)))
        {
            let end = offset + chunk.content.len();
            if end <= cut {
                offset = end;
                kept.push(chunk);
                continue;
            }
            chunk.content.truncate(cut - offset);
            chunk.tool_calls.clear();
            if !chunk.is_empty() {
                kept.push(chunk);
            }
            break;
        }
        let finals = self.delays.get(kept.len()).copied().unwrap_or_default();
        self.delays.truncate(kept.len());
        self.delays.push(finals);
        self.metrics.eval_count = (kept.len() as u64).max(1);
        self.chunks = kept;
        self.last = ChunkSpec::default();
        self.done_reason = "stop".to_owned();
        self.stop_sequence = Some(stop.clone());
    }

    /// The reply to a request that only loads or unloads the model: no text, no metrics.
    pub fn load(reason: &str) -> Self {
        Turn {
            chunks: Vec::new(),
            last: ChunkSpec::default(),
            done_reason: reason.to_owned(),
            stop_sequence: None,
            metrics: Metrics::default(),
            delays: vec![Duration::ZERO],
            load: Duration::ZERO,
        }
    }

    /// The whole reply as one message: concatenated text and thinking, all tool calls.
    pub fn aggregate(&self) -> ChunkSpec {
        let mut whole = ChunkSpec::default();
        for chunk in self.chunks.iter().chain(std::iter::once(&self.last)) {
            whole.content.push_str(&chunk.content);
            whole.thinking.push_str(&chunk.thinking);
            whole.tool_calls.extend(chunk.tool_calls.iter().cloned());
        }
        whole
    }

    /// Virtual instant (since the request) at which line `index` is written.
    pub fn line_offset(&self, index: usize) -> Duration {
        self.load + self.delays.iter().take(index + 1).sum::<Duration>()
    }
}

/// Splits text into word tokens that keep their leading whitespace, so they concatenate back to
/// the original: `"Hi there."` → `"Hi"`, `" there."`.
pub fn tokenize<'a>(
    text: &'a str,
    make: impl Fn(String) -> ChunkSpec + 'a,
) -> impl Iterator<Item = ChunkSpec> + 'a {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        let word_end = rest[word_start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |end| word_start + end);
        let (token, tail) = rest.split_at(word_end);
        rest = tail;
        Some(token.to_owned())
    })
    .map(make)
}

fn number_tool_calls(
    chunks: &mut [ChunkSpec],
    last: &mut ChunkSpec,
    legacy: bool,
    rng: &mut DetRng,
) {
    let calls = chunks
        .iter_mut()
        .chain(std::iter::once(last))
        .flat_map(|chunk| chunk.tool_calls.iter_mut());
    for (index, call) in calls.enumerate() {
        number_tool_call(call, index, legacy, rng);
    }
}

fn number_tool_call(call: &mut ToolCall, index: usize, legacy: bool, rng: &mut DetRng) {
    if legacy {
        call.id = None;
        call.function.index = None;
    } else {
        if call.id.is_none() {
            call.id = Some(format!("call_{}", rng.alphanumeric(8)));
        }
        call.function.index = Some(index);
    }
}

fn nanos(duration: Duration) -> u64 {
    // Real Ollama never reports a zero duration; keep every metric key present.
    (duration.as_nanos() as u64).max(1_000)
}

fn metrics(
    reply: &Reply,
    delays: &[Duration],
    load: Duration,
    prompt: u64,
    tokens: u64,
) -> Metrics {
    let prompt_eval = delays.first().copied().unwrap_or_default();
    let eval: Duration = delays.iter().skip(1).sum();
    let stats = &reply.stats;
    Metrics {
        total_duration: stats
            .total_duration
            .unwrap_or_else(|| nanos(load + prompt_eval + eval)),
        load_duration: stats.load_duration.unwrap_or_else(|| nanos(load)),
        prompt_eval_count: stats.prompt_eval_count.unwrap_or(prompt.max(1)),
        prompt_eval_duration: stats
            .prompt_eval_duration
            .unwrap_or_else(|| nanos(prompt_eval)),
        eval_count: stats.eval_count.unwrap_or(tokens.max(1)),
        eval_duration: stats.eval_duration.unwrap_or_else(|| nanos(eval)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TurnContext {
        TurnContext {
            seed: 1,
            prompt_tokens: 10,
            num_predict: None,
            has_tools: true,
        }
    }

    #[test]
    fn tokens_concatenate_back_to_the_text() {
        let text = "  Hello,  world!\nBye ";
        let joined: String = tokenize(text, |content| ChunkSpec {
            content,
            ..ChunkSpec::default()
        })
        .map(|c| c.content)
        .collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn a_stop_sequence_across_chunks_ends_the_reply_before_it() {
        let reply = Reply {
            text: "one two three four".into(),
            ..Reply::default()
        };
        let mut turn = Turn::new(&reply, &Timing::default(), ctx());
        turn.stop_at(&["nothing".to_owned(), "o thr".to_owned(), "four".to_owned()]);
        assert_eq!(turn.aggregate().content, "one tw");
        assert_eq!(turn.stop_sequence.as_deref(), Some("o thr"));
        assert_eq!(turn.done_reason, "stop");
        assert_eq!(turn.delays.len(), turn.chunks.len() + 1);
        assert_eq!(turn.metrics.eval_count, 2);

        let mut untouched = Turn::new(&reply, &Timing::default(), ctx());
        untouched.stop_at(&["absent".to_owned()]);
        assert_eq!(untouched, Turn::new(&reply, &Timing::default(), ctx()));
    }

    #[test]
    fn num_predict_truncates_and_reports_length() {
        let reply = Reply {
            text: "one two three four five".into(),
            ..Reply::default()
        };
        let turn = Turn::new(
            &reply,
            &Timing::default(),
            TurnContext {
                num_predict: Some(2),
                ..ctx()
            },
        );
        assert_eq!(turn.chunks.len(), 2);
        assert_eq!(turn.done_reason, "length");
        assert_eq!(turn.metrics.eval_count, 2);
        assert_eq!(turn.aggregate().content, "one two");
    }

    #[test]
    fn tool_calls_get_ids_and_stream_wide_indices() {
        let call = |name: &str| -> ToolCall {
            serde_json::from_value(serde_json::json!({"function":{"name":name,"arguments":{}}}))
                .expect("valid")
        };
        let reply = Reply {
            chunks: vec![ChunkSpec {
                tool_calls: vec![call("a")],
                ..ChunkSpec::default()
            }],
            done: ChunkSpec {
                tool_calls: vec![call("b")],
                ..ChunkSpec::default()
            },
            ..Reply::default()
        };
        let turn = Turn::new(&reply, &Timing::default(), ctx());
        let calls = turn.aggregate().tool_calls;
        assert_eq!(calls[0].function.index, Some(0));
        assert_eq!(calls[1].function.index, Some(1));
        assert!(
            calls
                .iter()
                .all(|c| c.id.as_deref().is_some_and(|id| id.len() == 13))
        );
    }

    #[test]
    fn without_tools_in_the_request_tool_calls_vanish() {
        let reply = Reply {
            chunks: vec![
                ChunkSpec {
                    content: "x".into(),
                    ..ChunkSpec::default()
                },
                ChunkSpec {
                    tool_calls: vec![
                        serde_json::from_value(serde_json::json!({"function":{"name":"f"}}))
                            .expect("valid"),
                    ],
                    ..ChunkSpec::default()
                },
            ],
            ..Reply::default()
        };
        let turn = Turn::new(
            &reply,
            &Timing::default(),
            TurnContext {
                has_tools: false,
                ..ctx()
            },
        );
        assert_eq!(turn.chunks.len(), 1);
        assert!(turn.aggregate().tool_calls.is_empty());
    }

    #[test]
    fn metrics_are_never_zero() {
        let timing = Timing {
            ttft_ms: 0.0,
            chunk_delay_ms: Some(0.0),
            load_ms: 0.0,
            ..Timing::default()
        };
        let turn = Turn::new(&Reply::default(), &timing, ctx());
        let m = turn.metrics;
        for value in [
            m.total_duration,
            m.load_duration,
            m.prompt_eval_count,
            m.prompt_eval_duration,
            m.eval_count,
            m.eval_duration,
        ] {
            assert!(value > 0);
        }
    }
}

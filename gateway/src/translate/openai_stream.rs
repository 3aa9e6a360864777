//! An OpenAI-compatible upstream's SSE events → conformant chunks, whatever the upstream's
//! quirks: our own stable `id`/`created` and the requested `model` on every chunk, `role` exactly
//! once and first, `finish_reason` from the schema's enum, tool-call fragments with `index` always
//! and `id`/`type`/`name` only on the first, arguments as strings, usage only when asked for.
//! The body is read with a bounded SSE decoder: an event that never ends is a protocol error.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde_json::Value;
use wire::{
    openai::{ChatCompletionChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta, Usage},
    sse::{Decoder, Event},
};

use super::{
    ASSISTANT, ReplyHead, StreamTranslate,
    openai_reply::{arguments_text, finish_reason, text, upstream_error, usage},
};
use crate::{error::GatewayError, ids};

/// The translation state of one upstream SSE stream.
#[derive(Debug)]
pub struct OpenaiStream {
    decoder: Decoder,
    events: Vec<Event>,
    head: ReplyHead,
    backend: String,
    opened: BTreeSet<u32>,
    finished: BTreeSet<u32>,
    tool_ids: BTreeMap<(u32, u32), String>,
    called_tools: BTreeSet<u32>,
    usage: Option<Usage>,
    done: bool,
}

impl OpenaiStream {
    /// A translator for one stream from `backend`, whose events may hold at most `max_event`
    /// bytes.
    pub fn new(head: ReplyHead, backend: &str, max_event: usize) -> Self {
        Self {
            decoder: Decoder::with_max_event(max_event),
            events: Vec::new(),
            head,
            backend: backend.to_owned(),
            opened: BTreeSet::new(),
            finished: BTreeSet::new(),
            tool_ids: BTreeMap::new(),
            called_tools: BTreeSet::new(),
            usage: None,
            done: false,
        }
    }

    fn frame(
        &self,
        out: &mut Vec<ChatCompletionChunk>,
        choices: Vec<ChunkChoice>,
        usage: Option<Option<Usage>>,
    ) {
        let mut chunk = self.head.chunk(choices);
        if usage.is_some() {
            chunk.usage = usage;
        }
        out.push(chunk);
    }

    fn delta(&self, out: &mut Vec<ChatCompletionChunk>, index: u32, delta: Delta) {
        let choice = ChunkChoice {
            index,
            delta,
            logprobs: None,
            finish_reason: None,
        };
        self.frame(out, vec![choice], None);
    }

    fn choice(
        &mut self,
        choice: &Value,
        position: usize,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), GatewayError> {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64) as u32;
        if self.finished.contains(&index) {
            return Ok(());
        }
        if self.opened.insert(index) {
            self.delta(
                out,
                index,
                Delta {
                    role: Some(ASSISTANT.to_owned()),
                    content: Some(String::new()),
                    ..Delta::default()
                },
            );
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        let reasoning =
            text(delta.get("reasoning_content")).or_else(|| text(delta.get("reasoning")));
        if let Some(reasoning) = reasoning {
            self.delta(
                out,
                index,
                Delta {
                    reasoning_content: Some(reasoning),
                    ..Delta::default()
                },
            );
        }
        if let Some(content) = text(delta.get("content")) {
            self.delta(
                out,
                index,
                Delta {
                    content: Some(content),
                    ..Delta::default()
                },
            );
        }
        let fragments = self.tool_fragments(index, delta.get("tool_calls"));
        if !fragments.is_empty() {
            self.called_tools.insert(index);
            self.delta(
                out,
                index,
                Delta {
                    tool_calls: fragments,
                    ..Delta::default()
                },
            );
        }
        if let Some(reason) = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            let reason = finish_reason(reason, self.called_tools.contains(&index))?;
            self.finished.insert(index);
            let finish = ChunkChoice {
                index,
                delta: Delta::default(),
                logprobs: None,
                finish_reason: Some(reason),
            };
            self.frame(out, vec![finish], None);
        }
        Ok(())
    }

    /// `index` always; `id`, `type`, `name` on the first fragment of a call only; fragments of
    /// one call within one chunk merged.
    fn tool_fragments(&mut self, choice: u32, calls: Option<&Value>) -> Vec<ToolCallDelta> {
        let mut fragments: Vec<ToolCallDelta> = Vec::new();
        for (position, call) in calls
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64) as u32;
            let function = call.get("function").unwrap_or(&Value::Null);
            let arguments = function
                .get("arguments")
                .and_then(arguments_text)
                .filter(|a| !a.is_empty());
            let first = !self.tool_ids.contains_key(&(choice, index));
            let fragment = if first {
                let id = text(call.get("id")).unwrap_or_else(ids::tool_call_id);
                self.tool_ids.insert((choice, index), id.clone());
                ToolCallDelta {
                    index,
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: FunctionCallDelta {
                        name: Some(text(function.get("name")).unwrap_or_default()),
                        arguments: Some(arguments.unwrap_or_default()),
                    },
                }
            } else if let Some(arguments) = arguments {
                ToolCallDelta {
                    index,
                    function: FunctionCallDelta {
                        name: None,
                        arguments: Some(arguments),
                    },
                    ..ToolCallDelta::default()
                }
            } else {
                continue;
            };
            match fragments.last_mut() {
                Some(last) if last.index == fragment.index => {
                    let tail = fragment.function.arguments.unwrap_or_default();
                    last.function
                        .arguments
                        .get_or_insert_with(String::new)
                        .push_str(&tail);
                }
                _ => fragments.push(fragment),
            }
        }
        fragments
    }

    /// Translates one dispatched event.
    fn push_event(
        &mut self,
        event: &Event,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), GatewayError> {
        let data = event.data.trim();
        if self.done || data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let value: Value = serde_json::from_str(data).map_err(|err| {
            tracing::warn!(backend = %self.backend, error = %err, "upstream SSE event is not JSON");
            GatewayError::UpstreamProtocol {
                backend: self.backend.clone(),
                detail: "an SSE event is not JSON".to_owned(),
            }
        })?;
        if let Some(error) = upstream_error(&value) {
            return Err(error);
        }
        if let Some(found) = value.get("usage").and_then(usage) {
            self.usage = Some(found);
        }
        let choices = value
            .get("choices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (position, choice) in choices.iter().enumerate() {
            self.choice(choice, position, out)?;
        }
        Ok(())
    }
}

impl StreamTranslate<Bytes> for OpenaiStream {
    fn push(
        &mut self,
        bytes: Bytes,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), GatewayError> {
        // The decoded events' buffer is kept between reads, so no read allocates one.
        let mut events = std::mem::take(&mut self.events);
        let decoded = self.decoder.feed(&bytes, &mut events);
        let translated = events
            .drain(..)
            .try_for_each(|event| self.push_event(&event, out));
        self.events = events;
        translated?;
        decoded.map_err(|error| GatewayError::UpstreamProtocol {
            backend: self.backend.clone(),
            detail: error.to_string(),
        })
    }

    fn finish(&mut self, out: &mut Vec<ChatCompletionChunk>) -> Result<(), GatewayError> {
        if self.opened.is_empty()
            || self
                .opened
                .iter()
                .any(|index| !self.finished.contains(index))
        {
            return Err(GatewayError::UpstreamIncomplete {
                backend: self.backend.clone(),
            });
        }
        if self.head.include_usage {
            match self.usage {
                Some(usage) => self.frame(out, Vec::new(), Some(Some(usage))),
                None => {
                    tracing::warn!(backend = %self.backend, "upstream sent no usage; no usage chunk")
                }
            }
        }
        Ok(())
    }

    fn usage(&self) -> Option<Usage> {
        self.usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use wire::sse::MAX_EVENT;

    fn head(include_usage: bool) -> ReplyHead {
        ReplyHead {
            id: "chatcmpl-ours".into(),
            created: 1_700_000_000,
            model: "smollm2".into(),
            include_usage,
        }
    }

    /// The SSE body of `events`, one `data:` line each.
    fn body(events: &[&str]) -> Vec<u8> {
        events
            .iter()
            .flat_map(|data| format!("data: {data}\n\n").into_bytes())
            .collect()
    }

    fn run(events: &[&str], include_usage: bool) -> (Vec<Value>, Result<(), GatewayError>) {
        run_split(&body(events), &[], include_usage, MAX_EVENT)
    }

    /// Feeds `body` cut at `cuts` (offsets, any order).
    fn run_split(
        body: &[u8],
        cuts: &[usize],
        include_usage: bool,
        max_event: usize,
    ) -> (Vec<Value>, Result<(), GatewayError>) {
        let mut normalizer = OpenaiStream::new(head(include_usage), "vllm", max_event);
        let mut out = Vec::new();
        let mut result = Ok(());
        let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut.min(body.len())).collect();
        cuts.sort_unstable();
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            result = normalizer.push(Bytes::copy_from_slice(&body[start..cut]), &mut out);
            start = cut;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = normalizer.finish(&mut out);
        }
        let chunks = out
            .iter()
            .map(|chunk| serde_json::to_value(chunk).expect("json"))
            .collect();
        (chunks, result)
    }

    #[test]
    fn a_deviant_stream_is_made_conformant() {
        // Different ids per chunk, role repeated, finish_reason on the content chunk, usage
        // unrequested, eos_token, tool call repeating id and name, object arguments.
        let (frames, result) = run(
            &[
                r#"{"id":"a","created":1.5,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
                r#"{"id":"b","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":{"x":1}}}]}}]}"#,
                r#"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t1","function":{"name":"f","arguments":""}}]},"finish_reason":"eos_token"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
                "[DONE]",
            ],
            false,
        );
        result.expect("complete");
        let chunks = &frames;
        assert!(chunks.iter().all(|c| c["id"] == "chatcmpl-ours"
            && c["created"] == 1_700_000_000
            && c["model"] == "smollm2"));
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        assert!(
            chunks[1..]
                .iter()
                .all(|c| c["choices"][0]["delta"].get("role").is_none())
        );
        let call = &chunks[2]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], r#"{"x":1}"#);
        assert_eq!(chunks.len(), 4, "the empty repeat fragment is dropped");
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "tool_calls");
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    }

    #[test]
    fn usage_is_passed_on_only_when_asked() {
        let events = [
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
        ];
        let (frames, _) = run(&events, true);
        let usage = frames.last().expect("a usage chunk");
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["total_tokens"], 4);
    }

    #[test]
    fn abort_and_error_events_and_truncation_fail_the_stream() {
        let (_, result) = run(
            &[r#"{"choices":[{"index":0,"delta":{},"finish_reason":"abort"}]}"#],
            false,
        );
        assert!(matches!(result, Err(GatewayError::UpstreamStream { .. })));
        let (_, result) = run(&[r#"{"error":{"message":"oops","code":500}}"#], false);
        assert_eq!(
            result,
            Err(GatewayError::UpstreamStream {
                message: "oops".into()
            })
        );
        let (_, result) = run(
            &[r#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#],
            false,
        );
        assert!(matches!(
            result,
            Err(GatewayError::UpstreamIncomplete { .. })
        ));
    }

    #[test]
    fn an_event_that_never_ends_is_a_protocol_error() {
        let endless = [b"data: {\"choices\":[".as_slice(), &[b' '; 4096]].concat();
        let (_, result) = run_split(&endless, &[100, 2000], false, 1024);
        assert_eq!(
            result,
            Err(GatewayError::UpstreamProtocol {
                backend: "vllm".into(),
                detail: "an SSE event exceeded 1024 bytes".into()
            })
        );
    }

    proptest! {
        /// However the upstream's bytes are split between reads, the same chunks come out.
        #[test]
        fn any_split_of_the_body_gives_the_same_chunks(
            cuts in proptest::collection::vec(0usize..400, 0..8),
        ) {
            let body = body(&[
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
                "[DONE]",
            ]);
            let whole = run_split(&body, &[], true, MAX_EVENT);
            prop_assert!(whole.1.is_ok());
            prop_assert_eq!(run_split(&body, &cuts, true, MAX_EVENT), whole);
        }
    }
}

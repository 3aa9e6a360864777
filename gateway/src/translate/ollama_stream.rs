//! Ollama NDJSON lines → OpenAI chunks, one line at a time (checklist items 18–28, 34).
//!
//! The stream opens with a `{role:"assistant", content:""}` delta, as OpenAI's does; each native
//! chunk then yields a reasoning delta, a content delta and a tool-call delta, in that order, for
//! whichever it carries; the done line's own message is processed before the finish chunk, whose
//! reason accounts for tool calls seen anywhere in the stream. With `include_usage`, a
//! `choices: []` usage chunk follows and every other chunk says `usage: null`.
//!
//! [`OllamaStream`] takes the body as it arrives, bytes split anywhere, and hands
//! [`StreamTranslator`] whole lines.

use bytes::Bytes;
use wire::{
    ndjson::{LineSplitter, LineTooLong},
    ollama::{ChatResponse, ErrorBody, Message, ToolCall},
    openai::{ChatCompletionChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta, Usage},
};

use super::{ASSISTANT, ReplyHead, StreamTranslate, finish_reason};
use crate::{error::GatewayError, ids};

/// The translation state of one stream.
#[derive(Debug)]
pub struct StreamTranslator {
    head: ReplyHead,
    backend: String,
    opened: bool,
    next_tool_index: u32,
    called_tools: bool,
    finished: bool,
    usage: Option<Usage>,
}

impl StreamTranslator {
    /// A translator for one stream from `backend`.
    pub fn new(head: ReplyHead, backend: impl Into<String>) -> Self {
        Self {
            head,
            backend: backend.into(),
            opened: false,
            next_tool_index: 0,
            called_tools: false,
            finished: false,
            usage: None,
        }
    }

    /// True once the native `done` line was translated.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn chunk(&self, delta: Delta) -> ChatCompletionChunk {
        self.chunk_with(vec![ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: None,
        }])
    }

    fn chunk_with(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        self.head.chunk(choices)
    }

    /// Translates one native line (without its `\n`), appending the chunks it yields.
    pub fn push_line(
        &mut self,
        line: &[u8],
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), GatewayError> {
        let line = line.trim_ascii();
        if line.is_empty() || self.finished {
            return Ok(());
        }
        let native: ChatResponse = match serde_json::from_slice(line) {
            Ok(native) => native,
            Err(parse_error) => {
                return Err(match serde_json::from_slice::<ErrorBody>(line) {
                    Ok(ErrorBody { error }) => GatewayError::UpstreamStream { message: error },
                    Err(_) => {
                        tracing::warn!(backend = %self.backend, error = %parse_error, "upstream NDJSON line is not JSON");
                        GatewayError::UpstreamProtocol {
                            backend: self.backend.clone(),
                            detail: "malformed NDJSON line".to_owned(),
                        }
                    }
                });
            }
        };
        if !self.opened {
            self.opened = true;
            out.push(self.chunk(Delta {
                role: Some(ASSISTANT.to_owned()),
                content: Some(String::new()),
                ..Delta::default()
            }));
        }
        self.push_message(native.message, out);
        if native.done {
            self.finished = true;
            let reason = finish_reason(native.done_reason.as_deref(), self.called_tools);
            out.push(self.chunk_with(vec![ChunkChoice {
                index: 0,
                delta: Delta::default(),
                logprobs: None,
                finish_reason: Some(reason),
            }]));
            let usage = Usage::new(native.metrics.prompt_eval_count, native.metrics.eval_count);
            self.usage = Some(usage);
            if self.head.include_usage {
                let mut usage_chunk = self.chunk_with(Vec::new());
                usage_chunk.usage = Some(Some(usage));
                out.push(usage_chunk);
            }
        }
        Ok(())
    }

    fn push_message(&mut self, message: Message, out: &mut Vec<ChatCompletionChunk>) {
        if !message.thinking.is_empty() {
            out.push(self.chunk(Delta {
                reasoning_content: Some(message.thinking),
                ..Delta::default()
            }));
        }
        if !message.content.is_empty() {
            out.push(self.chunk(Delta {
                content: Some(message.content),
                ..Delta::default()
            }));
        }
        if !message.tool_calls.is_empty() {
            self.called_tools = true;
            let calls = message
                .tool_calls
                .into_iter()
                .map(|call| self.tool_call_delta(call))
                .collect();
            out.push(self.chunk(Delta {
                tool_calls: calls,
                ..Delta::default()
            }));
        }
    }

    /// A whole native call becomes one complete fragment: index (counted across the stream),
    /// id (the native one, or minted), type, name and the full arguments string.
    fn tool_call_delta(&mut self, call: ToolCall) -> ToolCallDelta {
        let index = self.next_tool_index;
        self.next_tool_index += 1;
        ToolCallDelta {
            index,
            id: Some(
                call.id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(ids::tool_call_id),
            ),
            kind: Some("function".to_owned()),
            function: FunctionCallDelta {
                name: Some(call.function.name),
                arguments: Some(serde_json::Value::Object(call.function.arguments).to_string()),
            },
        }
    }

    /// Called at the end of the upstream body: a stream without its `done` line is an error.
    pub fn finish(&self) -> Result<(), GatewayError> {
        if self.finished {
            Ok(())
        } else {
            Err(GatewayError::UpstreamIncomplete {
                backend: self.backend.clone(),
            })
        }
    }
}

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

/// An Ollama NDJSON body → chunks, the body split anywhere.
#[derive(Debug)]
pub struct OllamaStream {
    lines: LineSplitter,
    translator: StreamTranslator,
    backend: String,
}

impl OllamaStream {
    /// A translator for one stream from `backend`, whose lines may hold at most `max_line`
    /// bytes.
    pub fn new(head: ReplyHead, backend: &str, max_line: usize) -> Self {
        Self {
            lines: LineSplitter::with_max_line(max_line),
            translator: StreamTranslator::new(head, backend),
            backend: backend.to_owned(),
        }
    }
}

impl StreamTranslate<Bytes> for OllamaStream {
    fn push(
        &mut self,
        bytes: Bytes,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), GatewayError> {
        let Self {
            lines, translator, ..
        } = self;
        let result = lines.push(&bytes, |line| {
            translator
                .push_line(line, out)
                .map_err(LineError::Translated)
        });
        result.map_err(|error| match error {
            LineError::Translated(error) => error,
            LineError::TooLong(error) => GatewayError::UpstreamProtocol {
                backend: self.backend.clone(),
                detail: error.to_string(),
            },
        })
    }

    fn finish(&mut self, out: &mut Vec<ChatCompletionChunk>) -> Result<(), GatewayError> {
        if let Some(rest) = self.lines.finish() {
            // An unterminated last line: translate it if it is whole, fail if it was cut.
            self.translator.push_line(&rest, out)?;
        }
        self.translator.finish()
    }

    fn usage(&self) -> Option<Usage> {
        self.translator.usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn run(lines: &[Value], include_usage: bool) -> (Vec<Value>, Result<(), GatewayError>) {
        let head = ReplyHead {
            id: "chatcmpl-test".into(),
            created: 1,
            model: "m".into(),
            include_usage,
        };
        let mut translator = StreamTranslator::new(head, "ollama");
        let mut out = Vec::new();
        for line in lines {
            if let Err(error) = translator.push_line(line.to_string().as_bytes(), &mut out) {
                return (
                    out.iter()
                        .map(|c| serde_json::to_value(c).expect("json"))
                        .collect(),
                    Err(error),
                );
            }
        }
        let end = translator.finish();
        (
            out.iter()
                .map(|c| serde_json::to_value(c).expect("json"))
                .collect(),
            end,
        )
    }

    fn native(message: Value, done: bool) -> Value {
        let mut line = json!({"model": "m", "created_at": "2026-01-01T00:00:00Z", "message": message, "done": done});
        if done {
            line["done_reason"] = json!("stop");
            line["prompt_eval_count"] = json!(7);
            line["eval_count"] = json!(3);
        }
        line
    }

    #[test]
    fn role_first_then_content_then_finish() {
        let (chunks, end) = run(
            &[
                native(json!({"role": "assistant", "content": "Hel"}), false),
                native(json!({"role": "assistant", "content": ""}), true),
            ],
            false,
        );
        end.expect("complete");
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(
            deltas,
            [
                &json!({"role": "assistant", "content": ""}),
                &json!({"content": "Hel"}),
                &json!({})
            ]
        );
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    }

    #[test]
    fn tool_calls_in_any_chunk_make_the_finish_reason_tool_calls() {
        let call = |name: &str| json!({"function": {"name": name, "arguments": {"city": "Paris"}}});
        let (chunks, _) = run(
            &[
                native(
                    json!({"role": "assistant", "content": "", "tool_calls": [call("a")]}),
                    false,
                ),
                native(
                    json!({"role": "assistant", "content": "", "tool_calls": [call("b")]}),
                    true,
                ),
            ],
            true,
        );
        let first = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(first["index"], 0);
        assert!(first["id"].as_str().expect("id").starts_with("call_"));
        assert_eq!(first["type"], "function");
        assert_eq!(first["function"]["arguments"], r#"{"city":"Paris"}"#);
        assert_eq!(
            chunks[2]["choices"][0]["delta"]["tool_calls"][0]["index"],
            1
        );
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(chunks[4]["choices"], json!([]));
        assert_eq!(
            chunks[4]["usage"],
            json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
        );
        assert!(
            chunks[..4]
                .iter()
                .all(|c| c["usage"].is_null() && c.get("usage").is_some())
        );
    }

    #[test]
    fn thinking_and_content_in_one_native_chunk_become_two_deltas_reasoning_first() {
        let (chunks, _) = run(
            &[native(
                json!({"role": "assistant", "content": "Yes", "thinking": "hmm"}),
                true,
            )],
            false,
        );
        assert_eq!(
            chunks[1]["choices"][0]["delta"],
            json!({"reasoning_content": "hmm"})
        );
        assert_eq!(chunks[2]["choices"][0]["delta"], json!({"content": "Yes"}));
    }

    #[test]
    fn error_line_and_eof_and_garbage_are_errors() {
        let (_, end) = run(
            &[
                native(json!({"role": "assistant", "content": "a"}), false),
                json!({"error": "boom"}),
            ],
            false,
        );
        assert_eq!(
            end,
            Err(GatewayError::UpstreamStream {
                message: "boom".into()
            })
        );
        let (_, end) = run(
            &[native(json!({"role": "assistant", "content": "a"}), false)],
            false,
        );
        assert!(matches!(end, Err(GatewayError::UpstreamIncomplete { .. })));
        let (_, end) = run(&[json!(["not", "a", "chunk"])], false);
        assert!(matches!(end, Err(GatewayError::UpstreamProtocol { .. })));
    }

    #[test]
    fn empty_length_stream_still_has_role_and_finish() {
        let mut done = native(json!({"role": "assistant", "content": ""}), true);
        done["done_reason"] = json!("length");
        let (chunks, end) = run(&[done], false);
        end.expect("complete");
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1]["choices"][0]["finish_reason"], "length");
    }

    fn ollama_stream(backend: &str, max_line: usize) -> OllamaStream {
        let head = ReplyHead {
            id: "c".into(),
            created: 1,
            model: "m".into(),
            include_usage: false,
        };
        OllamaStream::new(head, backend, max_line)
    }

    #[test]
    fn an_over_long_line_is_a_protocol_error_naming_the_backend() {
        let mut translate = ollama_stream("big-ollama", 16);
        let error = translate
            .push(
                Bytes::from_static(b"{\"model\":\"0123456789abcdef"),
                &mut Vec::new(),
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
    fn ndjson_split_anywhere_gives_the_same_chunks() {
        let native = concat!(
            r#"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false}"#,
            "\n",
            r#"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#,
            "\n"
        )
        .as_bytes();
        let frames = |cut: usize| {
            let mut translate = ollama_stream("b", wire::ndjson::MAX_LINE);
            let mut out = Vec::new();
            translate
                .push(Bytes::copy_from_slice(&native[..cut]), &mut out)
                .expect("ok");
            translate
                .push(Bytes::copy_from_slice(&native[cut..]), &mut out)
                .expect("ok");
            translate.finish(&mut out).expect("complete");
            serde_json::to_string(&out).expect("json")
        };
        let whole = frames(native.len());
        for cut in 0..native.len() {
            assert_eq!(frames(cut), whole, "cut at {cut}");
        }
        assert!(whole.contains(r#""finish_reason":"stop""#), "{whole}");
    }
}

//! A [`Turn`] written as `/v1/chat/completions` in one dialect: one `chat.completion` object, or
//! the `chat.completion.chunk` events of a stream.
//!
//! A stream is built as one group of events per native line (every chunk, then the final one), so
//! the native line's delay paces the group and a fault's `after` cuts both dialects at the same
//! place in the reply. For Ollama the groups follow `ChatWriter.writeResponse`
//! (`middleware/openai.go:80-167`) and `ToStreamChunks`/`FinishChunk`
//! (`openai/openai.go:301-397`).

use bytes::Bytes;
use serde_json::{Map, Value, json};
use wire::ollama::ToolCall;

use super::{
    encode,
    flavor::{Dialect, IdStyle, MidStreamError, Opening, ReasoningField, ToolCallStream},
};
use crate::{
    ndjson::{Clock, Line},
    reply::ChunkSpec,
    respond::Framing,
    seed::DetRng,
    turn::Turn,
};

/// What a reply needs besides the turn (chat and completions alike).
#[derive(Debug, Clone, Copy)]
pub struct ReplyContext<'a> {
    /// The dialect to write.
    pub dialect: &'static Dialect,
    /// Model name as sent.
    pub model: &'a str,
    /// The request's seed, for the completion id.
    pub seed: u64,
    /// Fixed clock of the reply's timestamps.
    pub clock: Clock,
    /// Choices to write (1 unless the dialect honours `n`).
    pub choices: usize,
    /// `top_logprobs` when the request asked for `logprobs`.
    pub logprobs: Option<usize>,
}

impl ReplyContext<'_> {
    /// The completion id: `<prefix>-…` in the dialect's style, the same for the whole reply.
    pub(super) fn id(&self, prefix: &str) -> String {
        let mut rng = DetRng::new(self.seed.rotate_left(29));
        match self.dialect.ids {
            IdStyle::Short => format!("{prefix}-{}", rng.below(999)),
            IdStyle::Random => format!("{prefix}-{}", rng.alphanumeric(24)),
            IdStyle::Hex => format!("{prefix}-{}", rng.hex(32)),
            IdStyle::Uuid => {
                let uuid = format!(
                    "{}-{}-4{}-{}{}-{}",
                    rng.hex(8),
                    rng.hex(4),
                    rng.hex(3),
                    ['8', '9', 'a', 'b'][rng.below(4) as usize],
                    rng.hex(3),
                    rng.hex(12)
                );
                format!("{prefix}-{uuid}")
            }
        }
    }

    /// A tool call's id: the scripted (or seeded) one, or llama-cpp-python's
    /// `call__<i>_<name>_<completion id>`.
    pub(super) fn tool_call_id(&self, call: &ToolCall, position: usize) -> String {
        match self.dialect.ids {
            IdStyle::Hex => {
                let mut rng = DetRng::new(self.seed.rotate_left(31) ^ position as u64);
                format!("chatcmpl-tool-{}", rng.hex(32))
            }
            IdStyle::Uuid => format!(
                "call__{position}_{}_{}",
                call.function.name,
                self.id("cmpl")
            ),
            _ => call.id.clone().unwrap_or_default(),
        }
    }

    /// Unix seconds of the native line `index` of the turn.
    pub(super) fn created(&self, turn: &Turn, index: usize) -> i64 {
        let offset = chrono::Duration::from_std(turn.line_offset(index)).unwrap_or_default();
        (self.clock.base + offset).timestamp()
    }

    /// Arguments as the JSON string the dialect's encoder writes.
    pub(super) fn arguments(&self, arguments: &Map<String, Value>) -> String {
        String::from_utf8(encode::encoded(self.dialect.json, arguments)).unwrap_or_default()
    }

    fn tool_call(&self, call: &ToolCall, position: usize, with_index: bool) -> Value {
        let mut object = Map::new();
        object.insert("id".to_owned(), json!(self.tool_call_id(call, position)));
        if with_index {
            object.insert(
                "index".to_owned(),
                json!(call.function.index.unwrap_or(position)),
            );
        }
        object.insert("type".to_owned(), json!("function"));
        object.insert(
            "function".to_owned(),
            json!({"name": call.function.name, "arguments": self.arguments(&call.function.arguments)}),
        );
        Value::Object(object)
    }

    /// The `logprobs` of a choice (or delta) saying `text`, when the request asked for them: one
    /// entry per word-sized token with `top` alternatives, its values a function of the token
    /// so that a replay is identical.
    pub(super) fn logprobs(&self, text: &str) -> Option<Value> {
        let top = self.logprobs?;
        let entry = |token: &str, rank: usize| {
            let logprob = -((token.len() % 7) as f64 + 1.0 + 2.0 * rank as f64) / 8.0;
            json!({"token": token, "logprob": logprob, "bytes": token.as_bytes()})
        };
        let content: Vec<Value> = text
            .split_inclusive(' ')
            .map(|token| {
                let alternatives = [token.to_owned(), token.to_uppercase(), format!("{token}.")];
                let mut first = entry(token, 0);
                first["top_logprobs"] = alternatives
                    .iter()
                    .cycle()
                    .take(top)
                    .enumerate()
                    .map(|(rank, alternative)| entry(alternative, rank))
                    .collect();
                first
            })
            .collect();
        Some(json!({"content": content, "refusal": null}))
    }

    /// `finish_reason` of a reply that ended with `done_reason`.
    pub(super) fn finish_reason(&self, done_reason: &str, called_tools: bool) -> Value {
        let reason = match done_reason {
            // Ollama relabels only `stop` (`FinishChunk`, `ToChatCompletion`).
            "stop" | "" if called_tools => "tool_calls",
            "" | "stop" => "stop",
            "length" => "length",
            _ if self.dialect.finish_reason_enum_only => "stop",
            other => other,
        };
        json!(reason)
    }

    /// The head every object shares, in the dialect's key order.
    pub(super) fn object(
        &self,
        id: &str,
        kind: &str,
        created: i64,
        choices: Vec<Value>,
    ) -> Map<String, Value> {
        let mut object = Map::new();
        object.insert("id".to_owned(), json!(id));
        object.insert("object".to_owned(), json!(kind));
        object.insert("created".to_owned(), json!(created));
        object.insert("model".to_owned(), json!(self.model));
        if let Some(fingerprint) = self.dialect.system_fingerprint {
            object.insert("system_fingerprint".to_owned(), json!(fingerprint));
        }
        object.insert("choices".to_owned(), Value::Array(choices));
        object
    }
}

/// `len` random lower-case hex digits.
/// Reasoning inline in the text, as a chat template without a reasoning parser leaves it:
/// `<think>` before the first reasoning, `</think>` before the first text after it.
#[derive(Debug, Default)]
struct InlineThinking {
    open: bool,
}

impl InlineThinking {
    /// The text a chunk adds: its reasoning, then its content, with the tags where they change
    /// (reasoning closes before the chunk's tool calls too).
    fn text(&mut self, chunk: &ChunkSpec) -> String {
        let mut text = String::new();
        if !chunk.thinking.is_empty() {
            if !self.open {
                text.push_str("<think>");
                self.open = true;
            }
            text.push_str(&chunk.thinking);
        }
        if !chunk.content.is_empty() || !chunk.tool_calls.is_empty() {
            text.push_str(self.close());
            text.push_str(&chunk.content);
        }
        text
    }

    /// `</think>` if reasoning is still open (before tool calls, or at the end).
    fn close(&mut self) -> &'static str {
        if std::mem::take(&mut self.open) {
            "</think>"
        } else {
            ""
        }
    }
}

/// Inserts each key as null.
fn nulls(object: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        object.insert((*key).to_owned(), Value::Null);
    }
}

/// The usage object of a turn.
pub fn usage(turn: &Turn) -> Value {
    let (prompt, completion) = (turn.metrics.prompt_eval_count, turn.metrics.eval_count);
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// The `chat.completion` object of a `stream: false` reply.
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    let dialect = ctx.dialect;
    let mut reply = turn.aggregate();
    if dialect.reasoning == ReasoningField::InContent {
        // The text a stream of the same turn adds up to.
        let mut think = InlineThinking::default();
        let mut content = String::new();
        for chunk in turn.chunks.iter().chain(std::iter::once(&turn.last)) {
            content.push_str(&think.text(chunk));
        }
        content.push_str(think.close());
        reply.content = content;
        reply.thinking.clear();
    }
    let called_tools = !reply.tool_calls.is_empty();
    let choices = (0..ctx.choices)
        .map(|index| {
            let mut message = Map::new();
            message.insert("role".to_owned(), json!("assistant"));
            let content =
                if called_tools && reply.content.is_empty() && dialect.null_content_with_tool_calls
                {
                    Value::Null
                } else {
                    json!(reply.content)
                };
            message.insert("content".to_owned(), content);
            nulls(&mut message, dialect.message_nulls);
            if let (ReasoningField::Named(key), false) =
                (dialect.reasoning, reply.thinking.is_empty())
            {
                message.insert(key.to_owned(), json!(reply.thinking));
            }
            if called_tools {
                let calls: Vec<Value> = reply
                    .tool_calls
                    .iter()
                    .enumerate()
                    .map(|(position, call)| {
                        ctx.tool_call(call, position, dialect.index_in_message_tool_calls)
                    })
                    .collect();
                if dialect.legacy_function_call {
                    message.insert("function_call".to_owned(), calls[0]["function"].clone());
                }
                message.insert("tool_calls".to_owned(), Value::Array(calls));
            }
            let mut choice = Map::new();
            choice.insert("index".to_owned(), json!(index));
            choice.insert("message".to_owned(), Value::Object(message));
            nulls(&mut choice, dialect.choice_nulls);
            if let Some(logprobs) = ctx.logprobs(&reply.content) {
                choice.insert("logprobs".to_owned(), logprobs);
            }
            let reason = match turn.done_reason.as_str() {
                // Go's `*string` is null for an empty reason.
                "" if !dialect.finish_reason_enum_only => Value::Null,
                reason => ctx.finish_reason(reason, called_tools),
            };
            choice.insert("finish_reason".to_owned(), reason);
            Value::Object(choice)
        })
        .collect();
    let created = ctx.created(turn, turn.chunks.len());
    let mut object = ctx.object(&ctx.id("chatcmpl"), "chat.completion", created, choices);
    let mut usage = usage(turn);
    if dialect.usage_details_null {
        usage["prompt_tokens_details"] = Value::Null;
    }
    object.insert("usage".to_owned(), usage);
    nulls(&mut object, dialect.completion_nulls);
    Value::Object(object)
}

/// A streamed reply: one [`Line`] of SSE events per native line, and the framing of its faults.
#[derive(Debug)]
pub struct SseReply {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How `error_line` and `malformed_line` faults look in this stream.
    pub framing: SseFraming,
}

/// Writes the SSE events of a streamed reply.
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, include_usage: bool) -> SseReply {
    let dialect = ctx.dialect;
    let id = ctx.id("chatcmpl");
    // Every chunk carries the first native line's `created` (Ollama pins it; OpenAI's is fixed).
    let created = ctx.created(turn, 0);
    let mut writer = ChunkWriter {
        ctx,
        id: &id,
        created,
        include_usage,
        opened: false,
        called_tools: false,
        calls_written: 0,
        think: InlineThinking::default(),
    };
    let last_index = turn.chunks.len();
    let lines = turn
        .chunks
        .iter()
        .chain(std::iter::once(&turn.last))
        .enumerate()
        .map(|(index, chunk)| {
            let mut events = Vec::new();
            if index == last_index {
                writer.finish(chunk, turn, &mut events);
            } else {
                writer.chunk(chunk, &mut events);
            }
            Line {
                delay: turn.delays[index],
                bytes: Bytes::from(events),
            }
        })
        .collect();
    let mut lost_chunk = writer.delta_chunk(0, json!({"content": ""}), Value::Null);
    lost_chunk.insert("model".to_owned(), json!(""));
    SseReply {
        lines,
        framing: SseFraming::new(dialect, Value::Object(lost_chunk)),
    }
}

/// The state of a stream being written: whether the role was sent and a tool called.
struct ChunkWriter<'a, 'c> {
    ctx: &'a ReplyContext<'c>,
    id: &'a str,
    created: i64,
    include_usage: bool,
    opened: bool,
    called_tools: bool,
    /// Tool calls written so far: the position of the next one in the reply.
    calls_written: usize,
    think: InlineThinking,
}

impl ChunkWriter<'_, '_> {
    fn delta_chunk(&self, index: usize, delta: Value, finish_reason: Value) -> Map<String, Value> {
        let dialect = self.ctx.dialect;
        let mut choice = Map::new();
        choice.insert("index".to_owned(), json!(index));
        let logprobs = delta["content"]
            .as_str()
            .filter(|content| !content.is_empty())
            .and_then(|content| self.ctx.logprobs(content));
        choice.insert("delta".to_owned(), delta);
        nulls(&mut choice, dialect.choice_nulls);
        if let Some(logprobs) = logprobs {
            choice.insert("logprobs".to_owned(), logprobs);
        }
        choice.insert("finish_reason".to_owned(), finish_reason);
        let mut object = self.ctx.object(
            self.id,
            "chat.completion.chunk",
            self.created,
            vec![Value::Object(choice)],
        );
        if self.include_usage && dialect.usage_null_before_usage_chunk {
            object.insert("usage".to_owned(), Value::Null);
        }
        object
    }

    /// Writes `delta` for every choice.
    fn emit(&mut self, delta: Map<String, Value>, out: &mut Vec<u8>) {
        for index in 0..self.ctx.choices {
            let chunk = self.delta_chunk(index, Value::Object(delta.clone()), Value::Null);
            out.extend(encode::event(self.ctx.dialect, &Value::Object(chunk)));
        }
    }

    /// A delta that opens the stream carries the role.
    fn opening(&mut self) -> Map<String, Value> {
        let mut delta = Map::new();
        if !self.opened {
            delta.insert("role".to_owned(), json!("assistant"));
            self.opened = true;
        }
        delta
    }

    fn chunk(&mut self, chunk: &ChunkSpec, out: &mut Vec<u8>) {
        let dialect = self.ctx.dialect;
        let opening = match dialect.opening {
            Opening::OnFirstDelta => return self.ollama_deltas(chunk, out),
            Opening::RoleWithEmptyContent => Some(json!("")),
            // A tool call opens with every delta key present and null.
            Opening::RoleOnly if dialect.legacy_function_call && !chunk.tool_calls.is_empty() => {
                Some(Value::Null)
            }
            Opening::RoleOnly => None,
        };
        if !self.opened {
            let mut delta = self.opening();
            if let Some(content) = opening {
                delta.insert("content".to_owned(), content.clone());
                if content.is_null() {
                    delta.insert("function_call".to_owned(), Value::Null);
                    delta.insert("tool_calls".to_owned(), Value::Null);
                }
            }
            self.emit(delta, out);
        }
        self.separate_deltas(chunk, out);
    }

    /// OpenAI and llama.cpp: reasoning, text and each tool call fragment in deltas of their
    /// own; nothing for an empty chunk.
    fn separate_deltas(&mut self, chunk: &ChunkSpec, out: &mut Vec<u8>) {
        let dialect = self.ctx.dialect;
        let text = |text: &str| Map::from_iter([("content".to_owned(), json!(text))]);
        match dialect.reasoning {
            ReasoningField::Named(key) => {
                if !chunk.thinking.is_empty() {
                    self.emit(
                        Map::from_iter([(key.to_owned(), json!(chunk.thinking))]),
                        out,
                    );
                }
                if !chunk.content.is_empty() {
                    self.emit(text(&chunk.content), out);
                }
            }
            ReasoningField::InContent => {
                let inline = self.think.text(chunk);
                if !inline.is_empty() {
                    self.emit(text(&inline), out);
                }
            }
        }
        for call in &chunk.tool_calls {
            self.called_tools = true;
            let position = self.calls_written;
            self.calls_written += 1;
            let index = call.function.index.unwrap_or(position);
            let whole = self.ctx.tool_call(call, position, true);
            let arguments = whole["function"]["arguments"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match dialect.tool_call_stream {
                ToolCallStream::RepeatedIdFragments => {
                    // Generated text arrives a few tokens at a time; every piece repeats the id.
                    let middle = arguments.len() / 2;
                    let split = (middle..=arguments.len())
                        .find(|at| arguments.is_char_boundary(*at))
                        .unwrap_or(arguments.len());
                    for piece in [&arguments[..split], &arguments[split..]] {
                        let mut fragment = whole.clone();
                        fragment["function"]["arguments"] = json!(piece);
                        let delta = Map::from_iter([
                            ("role".to_owned(), Value::Null),
                            ("content".to_owned(), Value::Null),
                            ("function_call".to_owned(), fragment["function"].clone()),
                            ("tool_calls".to_owned(), json!([fragment])),
                        ]);
                        self.emit(delta, out);
                    }
                }
                ToolCallStream::Fragments
                | ToolCallStream::NameThenArguments
                | ToolCallStream::Whole => {
                    let mut opening = whole;
                    match dialect.tool_call_stream {
                        ToolCallStream::NameThenArguments => {
                            if let Some(function) = opening["function"].as_object_mut() {
                                function.remove("arguments");
                            }
                        }
                        _ => opening["function"]["arguments"] = json!(""),
                    }
                    self.emit(
                        Map::from_iter([("tool_calls".to_owned(), json!([opening]))]),
                        out,
                    );
                    let fragment = json!([{"index": index, "function": {"arguments": arguments}}]);
                    self.emit(Map::from_iter([("tool_calls".to_owned(), fragment)]), out);
                }
            }
        }
    }

    /// Ollama's `ToStreamChunks`: one chunk with `content` (always, `""` included), `reasoning`
    /// and whole tool calls — split in two when reasoning comes with content or calls.
    fn ollama_deltas(&mut self, chunk: &ChunkSpec, out: &mut Vec<u8>) {
        let dialect = self.ctx.dialect;
        let first = self.calls_written;
        self.calls_written += chunk.tool_calls.len();
        let calls: Vec<Value> = chunk
            .tool_calls
            .iter()
            .enumerate()
            .map(|(offset, call)| self.ctx.tool_call(call, first + offset, true))
            .collect();
        let reasoning_key = match dialect.reasoning {
            ReasoningField::Named(key) => key,
            ReasoningField::InContent => "reasoning",
        };
        let mixed = !chunk.thinking.is_empty() && (!chunk.content.is_empty() || !calls.is_empty());
        if mixed {
            let mut reasoning = self.opening();
            reasoning.insert(reasoning_key.to_owned(), json!(chunk.thinking));
            self.emit(reasoning, out);
        }
        let mut delta = self.opening();
        delta.insert("content".to_owned(), json!(chunk.content));
        if !mixed && !chunk.thinking.is_empty() {
            delta.insert(reasoning_key.to_owned(), json!(chunk.thinking));
        }
        if !calls.is_empty() {
            self.called_tools = true;
            delta.insert("tool_calls".to_owned(), Value::Array(calls));
        }
        self.emit(delta, out);
    }

    /// The final native line: its own message (unless it is Ollama's empty metrics trailer after
    /// other chunks), the finish chunk, the usage chunk when asked, `[DONE]`.
    fn finish(&mut self, last: &ChunkSpec, turn: &Turn, out: &mut Vec<u8>) {
        if !last.is_empty() || !self.opened {
            self.chunk(last, out);
        }
        let closing = self.think.close();
        if !closing.is_empty() {
            self.emit(
                Map::from_iter([("content".to_owned(), json!(closing))]),
                out,
            );
        }
        let reason = match turn.done_reason.as_str() {
            "" => "stop",
            reason => reason,
        };
        let reason = self.ctx.finish_reason(reason, self.called_tools);
        let dialect = self.ctx.dialect;
        let delta = if self.called_tools && dialect.legacy_function_call {
            json!({"role": null, "content": null, "function_call": null, "tool_calls": null})
        } else if dialect.finish_delta_empty_content {
            json!({"content": ""})
        } else {
            json!({})
        };
        for index in 0..self.ctx.choices {
            let mut finish = self.delta_chunk(index, delta.clone(), reason.clone());
            if let Some(Value::Object(choice)) = finish
                .get_mut("choices")
                .and_then(|choices| choices.get_mut(0))
            {
                nulls(choice, dialect.finish_chunk_nulls);
            }
            out.extend(encode::event(dialect, &Value::Object(finish)));
        }
        if self.include_usage && dialect.usage_chunk {
            let mut usage_chunk =
                self.ctx
                    .object(self.id, "chat.completion.chunk", self.created, Vec::new());
            usage_chunk.insert("usage".to_owned(), usage(turn));
            out.extend(encode::event(self.ctx.dialect, &Value::Object(usage_chunk)));
        }
        out.extend_from_slice(encode::DONE);
    }
}

/// Faults in an SSE stream: a mid-stream error as the dialect shows it, a malformed line as an
/// event whose data is not JSON.
#[derive(Debug)]
pub struct SseFraming {
    dialect: &'static Dialect,
    /// The empty chunk Ollama makes of the native error line.
    lost_chunk: Value,
}

impl SseFraming {
    /// Framing for a stream whose lost error chunk (Ollama's reading of a native error line) is
    /// `lost_chunk`.
    pub fn new(dialect: &'static Dialect, lost_chunk: Value) -> Self {
        SseFraming {
            dialect,
            lost_chunk,
        }
    }
}

impl Framing for SseFraming {
    fn error_line(&self, message: &str) -> Option<Bytes> {
        match self.dialect.mid_stream_error {
            MidStreamError::LostAsEmptyChunk => {
                Some(encode::event(self.dialect, &self.lost_chunk).into())
            }
            MidStreamError::ErrorEvent => Some(
                encode::event(
                    self.dialect,
                    &json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}),
                )
                .into(),
            ),
            MidStreamError::Cut => None,
            MidStreamError::ErrorEventThenDone => {
                let mut bytes = encode::event(
                    self.dialect,
                    &json!({"error": {"message": message, "type": "InternalServerError", "param": null, "code": 500}}),
                );
                bytes.extend_from_slice(encode::DONE);
                Some(bytes.into())
            }
        }
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!("data: {}\n\n", line.unwrap_or("{\"id\":")))
    }
}

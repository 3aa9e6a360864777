//! A [`Turn`] written as Anthropic's Messages API (`/v1/messages`): one `message` object, or the
//! events of a stream in the order the SDKs expect (`message_start` first, a `ping`, then each
//! content block started, its deltas, stopped, by `index`; `message_delta` with the stop reason
//! and output tokens; `message_stop`), every event under an SSE `event:` line equal to its `type`
//! (the Python SDK dispatches on that name and drops data-only events).
//!
//! Blocks follow the turn: its thinking (signed, with a `signature_delta` before its stop, where
//! the flavour signs), its text, then each tool call as a `tool_use` block whose input arrives as
//! one `input_json_delta`. Objects are written as the typed wire values, then shaped as the
//! flavour's server writes them ([`MessagesDialect`]: keys it leaves out, its key order). As with
//! the other dialects, events are grouped per native line so that the line's delay paces them and
//! a fault's `after` cuts the stream at the same place.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};
use wire::anthropic::{
    BlockDelta, ContentBlock, DeltaUsage, ErrorObject, ErrorType, Message, MessageDelta,
    StopReason, StreamEvent, Usage,
};

use super::flavor::{CacheUsage, Checks, Ids, MessagesDialect, Signature, StopFields};
use crate::{
    ndjson::Line,
    openai::{encode, error::llama_server_error},
    reply::ChunkSpec,
    respond::Framing,
    seed::DetRng,
    turn::Turn,
};

/// What a reply needs besides its turn.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// How the flavour's server writes it.
    pub dialect: &'static MessagesDialect,
    /// The model name the reply echoes.
    pub model: &'a str,
    /// The request's seed, for ids and signatures.
    pub seed: u64,
}

impl MessageContext<'_> {
    /// `<prefix>_01…`: 22 base62 characters after `01`, as Anthropic's ids look.
    fn id(&self, prefix: &str, salt: u64) -> String {
        let mut rng = DetRng::new(self.seed.rotate_left(19) ^ salt);
        format!("{prefix}_01{}", rng.base62(22))
    }

    fn message_id(&self) -> String {
        match self.dialect.ids {
            Ids::Anthropic => self.id("msg", 0),
            Ids::Ollama => {
                let mut rng = DetRng::new(self.seed.rotate_left(19));
                format!("msg_{}", rng.hex(24))
            }
            Ids::LlamaServer => {
                let mut rng = DetRng::new(self.seed.rotate_left(19));
                format!("chatcmpl-{}", rng.base62(32))
            }
            Ids::Vllm => {
                let mut rng = DetRng::new(self.seed.rotate_left(19));
                format!("chatcmpl-{}", rng.hex(32))
            }
        }
    }

    /// The id of the `position`th tool call: Anthropic's `toolu_…`, or the native call's.
    fn tool_use_id(&self, call: &wire::ollama::ToolCall, position: usize) -> String {
        match (self.dialect.ids, &call.id) {
            (Ids::Ollama, Some(id)) => id.clone(),
            (Ids::LlamaServer, _) => {
                DetRng::new(self.seed.rotate_left(37) ^ position as u64).base62(32)
            }
            (Ids::Vllm, _) => {
                let mut rng = DetRng::new(self.seed.rotate_left(37) ^ position as u64);
                format!("chatcmpl-tool-{}", rng.hex(32))
            }
            _ => self.id("toolu", 1 + position as u64),
        }
    }

    /// The thinking block's signature: opaque base64, as Anthropic's are; a uuid's hex digits
    /// where the flavour signs so; empty where it does not sign.
    fn signature(&self) -> String {
        let mut rng = DetRng::new(self.seed.rotate_left(53));
        match self.dialect.signature {
            Signature::Signed => {
                let bytes: Vec<u8> = (0..96).map(|_| rng.below(256) as u8).collect();
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
            Signature::Uuid => rng.hex(32),
            Signature::Unsigned | Signature::Empty => String::new(),
        }
    }

    /// `value`, one of this reply's objects, shaped as the flavour's server writes it.
    fn shaped(&self, mut value: Value) -> Value {
        if let Some(event) = value.as_object_mut() {
            if let Some(message) = event.get_mut("message") {
                self.shape_message(message, true);
                if let (false, Some(message)) =
                    (self.dialect.start_type_role, message.as_object_mut())
                {
                    message.shift_remove("type");
                    message.shift_remove("role");
                }
            } else if event.contains_key("role") {
                self.shape_message(&mut value, false);
            } else {
                if let Some(block) = event.get_mut("content_block") {
                    self.shape_started_block(block);
                }
                if let Some(delta) = event.get_mut("delta") {
                    self.shape_stop_fields(delta, false);
                }
                if let (true, Some(usage)) =
                    (self.dialect.delta_input_tokens, event.get_mut("usage"))
                {
                    input_tokens_first(usage);
                }
                if self.dialect.index_last
                    && let Some(index) = event.shift_remove("index")
                {
                    event.insert("index".to_owned(), index);
                }
            }
        }
        value
    }

    /// A message object (`at_start`: the one `message_start` carries).
    fn shape_message(&self, message: &mut Value, at_start: bool) {
        self.shape_stop_fields(message, at_start);
        if let Some(blocks) = message.get_mut("content").and_then(Value::as_array_mut) {
            blocks.iter_mut().for_each(|block| self.shape_block(block));
        }
        if let Some(usage) = message.get_mut("usage").and_then(Value::as_object_mut) {
            match self.dialect.cache_usage {
                CacheUsage::CreationAndRead => {}
                CacheUsage::None => usage.retain(|key, _| !key.starts_with("cache_")),
                CacheUsage::ReadFirst => {
                    usage.shift_remove("cache_creation_input_tokens");
                    if let Some(read) = usage.shift_remove("cache_read_input_tokens") {
                        let mut ordered = Map::new();
                        ordered.insert("cache_read_input_tokens".to_owned(), read);
                        ordered.append(usage);
                        *usage = ordered;
                    }
                }
            }
        }
        if self.dialect.model_before_content
            && let Some(object) = message.as_object_mut()
        {
            let mut ordered = Map::new();
            for key in ["id", "type", "role", "model", "content"] {
                if let Some(value) = object.shift_remove(key) {
                    ordered.insert(key.to_owned(), value);
                }
            }
            ordered.append(object);
            *object = ordered;
        }
    }

    fn shape_block(&self, block: &mut Value) {
        if let (Signature::Unsigned, Some(block)) = (self.dialect.signature, block.as_object_mut())
        {
            block.shift_remove("signature");
        }
    }

    /// A block as a `content_block_start` carries it.
    fn shape_started_block(&self, block: &mut Value) {
        let Some(object) = block.as_object_mut() else {
            return;
        };
        if self.dialect.signature != Signature::Signed {
            object.shift_remove("signature");
        }
        if !self.dialect.tool_start_input && object.get("type").is_some_and(|t| t == "tool_use") {
            object.shift_remove("input");
        }
    }

    fn shape_stop_fields(&self, object: &mut Value, at_start: bool) {
        let keep_nulls = match self.dialect.stop_fields {
            StopFields::Null => true,
            StopFields::Omitted => false,
            StopFields::NullAtStart => at_start,
        };
        if let (false, Some(object)) = (keep_nulls, object.as_object_mut()) {
            for key in ["stop_reason", "stop_sequence"] {
                if object.get(key).is_some_and(Value::is_null) {
                    object.shift_remove(key);
                }
            }
        }
    }

    /// The bytes of a whole message.
    fn body(&self, message: &Message) -> Vec<u8> {
        let value = self.shaped(serde_json::to_value(message).unwrap_or_default());
        let mut bytes = encode::encoded(self.dialect.json, &value);
        if self.dialect.newline_after_body {
            bytes.push(b'\n');
        }
        bytes
    }

    /// One `event:`-named event.
    fn write(&self, out: &mut Vec<u8>, event: &StreamEvent) {
        let value = self.shaped(serde_json::to_value(event).unwrap_or_default());
        out.extend(encode::named_event(self.dialect.json, event.kind(), &value));
    }
}

/// `{"input_tokens", "output_tokens"}` in that order (Go's `DeltaUsage`).
fn input_tokens_first(usage: &mut Value) {
    if let Some(object) = usage.as_object_mut() {
        let mut ordered = Map::new();
        for key in ["input_tokens", "output_tokens"] {
            if let Some(value) = object.shift_remove(key) {
                ordered.insert(key.to_owned(), value);
            }
        }
        ordered.append(object);
        *object = ordered;
    }
}

/// Why the turn ended: `tool_use` when it called tools, else its native `done_reason` read as
/// Ollama's `mapStopReason` reads it (`stop` → `end_turn`, `length` → `max_tokens`, any other
/// reason a stop sequence); no reason at all is `end_turn` where the flavour always names one.
/// vLLM maps its chat finish reasons, where a stop sequence is `stop` too: only a length stop is
/// not `end_turn`.
fn stop_reason(ctx: &MessageContext<'_>, turn: &Turn, whole: &ChunkSpec) -> Option<StopReason> {
    if !whole.tool_calls.is_empty() {
        return Some(StopReason::ToolUse);
    }
    // Ollama's native `done_reason` says only `stop`, vLLM maps its chat finish reasons, and
    // llama-server names the sequence but keeps `end_turn` (seen on the real server).
    if turn.stop_sequence.is_some() && ctx.dialect.checks == Checks::Anthropic {
        return Some(StopReason::StopSequence);
    }
    if ctx.dialect.checks == Checks::Vllm && turn.done_reason != "length" {
        return Some(StopReason::EndTurn);
    }
    match turn.done_reason.as_str() {
        "stop" => Some(StopReason::EndTurn),
        "length" => Some(StopReason::MaxTokens),
        "" if ctx.dialect.stop_fields != StopFields::Omitted => Some(StopReason::EndTurn),
        "" => None,
        _ => Some(StopReason::StopSequence),
    }
}

fn usage(turn: &Turn, output_tokens: u64) -> Usage {
    Usage {
        input_tokens: turn.metrics.prompt_eval_count,
        output_tokens,
        cache_creation_input_tokens: Some(0),
        cache_read_input_tokens: Some(0),
    }
}

/// The tool's input: its arguments object.
fn tool_input(call: &wire::ollama::ToolCall) -> serde_json::Value {
    serde_json::Value::Object(call.function.arguments.clone())
}

/// The body of a `stream: false` request.
pub fn whole(ctx: &MessageContext<'_>, turn: &Turn) -> Vec<u8> {
    ctx.body(&message_of(ctx, turn))
}

fn message_of(ctx: &MessageContext<'_>, turn: &Turn) -> Message {
    let whole = turn.aggregate();
    let mut content = Vec::new();
    if !whole.thinking.is_empty() {
        content.push(ContentBlock::Thinking {
            thinking: whole.thinking.clone(),
            signature: ctx.signature(),
        });
    }
    if !whole.content.is_empty() || (whole.tool_calls.is_empty() && ctx.dialect.empty_text_block) {
        content.push(ContentBlock::Text {
            text: whole.content.clone(),
        });
    }
    for (position, call) in whole.tool_calls.iter().enumerate() {
        content.push(ContentBlock::ToolUse {
            id: ctx.tool_use_id(call, position),
            name: call.function.name.clone(),
            input: tool_input(call),
        });
    }
    let mut message = message(
        ctx,
        content,
        stop_reason(ctx, turn, &whole),
        usage(turn, turn.metrics.eval_count),
    );
    message.stop_sequence = stop_sequence(ctx, turn, &whole);
    message
}

/// The stop sequence a reply names: the one that ended it, where the flavour's server says so
/// (Ollama's layer and vLLM's converter never do; llama-server does, beside `end_turn`).
fn stop_sequence(ctx: &MessageContext<'_>, turn: &Turn, whole: &ChunkSpec) -> Option<String> {
    let named = match ctx.dialect.checks {
        Checks::LlamaServer => true,
        Checks::Anthropic => stop_reason(ctx, turn, whole) == Some(StopReason::StopSequence),
        Checks::Ollama | Checks::Vllm => false,
    };
    named.then(|| turn.stop_sequence.clone()).flatten()
}

fn message(
    ctx: &MessageContext<'_>,
    content: Vec<ContentBlock>,
    stop_reason: Option<StopReason>,
    usage: Usage,
) -> Message {
    Message {
        id: ctx.message_id(),
        kind: "message".to_owned(),
        role: "assistant".to_owned(),
        content,
        model: ctx.model.to_owned(),
        stop_reason,
        stop_sequence: None,
        usage,
    }
}

/// A streamed message: one [`Line`] of events per native line, and how faults look in it.
#[derive(Debug)]
pub struct MessageStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: MessagesFraming,
}

/// Writes the events of a streamed message.
pub fn stream(ctx: &MessageContext<'_>, turn: &Turn) -> MessageStream {
    let mut writer = EventWriter {
        ctx,
        open: Open::Nothing,
        index: 0,
        calls: 0,
        unstopped: Vec::new(),
    };
    let mut lines = Vec::with_capacity(turn.chunks.len() + 1);
    for line in turn.lines() {
        let mut bytes = Vec::new();
        if line.first {
            let head = message(
                ctx,
                Vec::new(),
                None,
                usage(turn, ctx.dialect.start_output_tokens),
            );
            ctx.write(
                &mut bytes,
                &StreamEvent::MessageStart {
                    message: Box::new(head),
                },
            );
            if ctx.dialect.ping {
                ctx.write(&mut bytes, &StreamEvent::Ping);
            }
        }
        writer.chunk(line.chunk, &mut bytes);
        if line.last {
            writer.close(&mut bytes);
            writer.stop_the_rest(&mut bytes);
            ctx.write(
                &mut bytes,
                &StreamEvent::MessageDelta {
                    delta: MessageDelta {
                        stop_reason: stop_reason(ctx, turn, &turn.aggregate()),
                        stop_sequence: stop_sequence(ctx, turn, &turn.aggregate()),
                    },
                    usage: DeltaUsage {
                        output_tokens: turn.metrics.eval_count,
                        input_tokens: ctx
                            .dialect
                            .delta_input_tokens
                            .then_some(turn.metrics.prompt_eval_count),
                    },
                },
            );
            ctx.write(&mut bytes, &StreamEvent::MessageStop);
        }
        lines.push(Line {
            delay: line.delay,
            bytes: Bytes::from(bytes),
        });
    }
    MessageStream {
        lines,
        framing: MessagesFraming {
            dialect: ctx.dialect,
        },
    }
}

/// The content block being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Thinking,
    Text,
    ToolUse,
}

/// The state of a stream being written.
struct EventWriter<'a, 'c> {
    ctx: &'a MessageContext<'c>,
    open: Open,
    /// The open block's `index` (or the next block's, when none is open).
    index: u32,
    /// Tool calls written so far.
    calls: usize,
    /// Blocks left to stop at the end, in order, where the flavour stops them all there.
    unstopped: Vec<(u32, Open)>,
}

impl EventWriter<'_, '_> {
    fn chunk(&mut self, chunk: &ChunkSpec, out: &mut Vec<u8>) {
        if !chunk.thinking.is_empty() {
            self.open_block(Open::Thinking, out);
            self.delta(
                BlockDelta::ThinkingDelta {
                    thinking: chunk.thinking.clone(),
                },
                out,
            );
        }
        if !chunk.content.is_empty() {
            self.open_block(Open::Text, out);
            self.delta(
                BlockDelta::TextDelta {
                    text: chunk.content.clone(),
                },
                out,
            );
        }
        for call in &chunk.tool_calls {
            self.close(out);
            self.tool_use(call, out);
        }
    }

    fn delta(&self, delta: BlockDelta, out: &mut Vec<u8>) {
        self.ctx.write(
            out,
            &StreamEvent::ContentBlockDelta {
                index: self.index,
                delta,
            },
        );
    }

    /// Starts a block of `kind` unless one is open, stopping another first.
    fn open_block(&mut self, kind: Open, out: &mut Vec<u8>) {
        if self.open == kind {
            return;
        }
        self.close(out);
        self.open = kind;
        let content_block = match kind {
            Open::Nothing | Open::ToolUse => return,
            Open::Thinking => ContentBlock::Thinking {
                thinking: String::new(),
                signature: String::new(),
            },
            Open::Text => ContentBlock::Text {
                text: String::new(),
            },
        };
        self.ctx.write(
            out,
            &StreamEvent::ContentBlockStart {
                index: self.index,
                content_block,
            },
        );
    }

    /// Stops the open block (a thinking block gets its signature first), or leaves it to be
    /// stopped at the end where the flavour does that.
    fn close(&mut self, out: &mut Vec<u8>) {
        let kind = std::mem::replace(&mut self.open, Open::Nothing);
        if kind == Open::Nothing {
            return;
        }
        if self.ctx.dialect.stops_at_end {
            self.unstopped.push((self.index, kind));
        } else {
            self.stop(self.index, kind, out);
        }
        self.index += 1;
    }

    /// A block's stop, with a thinking block's signature first where the flavour signs.
    fn stop(&self, index: u32, kind: Open, out: &mut Vec<u8>) {
        if kind == Open::Thinking && self.ctx.dialect.signature != Signature::Unsigned {
            self.ctx.write(
                out,
                &StreamEvent::ContentBlockDelta {
                    index,
                    delta: BlockDelta::SignatureDelta {
                        signature: self.ctx.signature(),
                    },
                },
            );
        }
        self.ctx
            .write(out, &StreamEvent::ContentBlockStop { index });
    }

    /// The blocks left open for the end, stopped in order.
    fn stop_the_rest(&mut self, out: &mut Vec<u8>) {
        for (index, kind) in std::mem::take(&mut self.unstopped) {
            self.stop(index, kind, out);
        }
    }

    /// A whole tool call: started with an empty input, the input in one delta, stopped.
    fn tool_use(&mut self, call: &wire::ollama::ToolCall, out: &mut Vec<u8>) {
        let position = self.calls;
        self.calls += 1;
        self.ctx.write(
            out,
            &StreamEvent::ContentBlockStart {
                index: self.index,
                content_block: ContentBlock::ToolUse {
                    id: self.ctx.tool_use_id(call, position),
                    name: call.function.name.clone(),
                    input: serde_json::json!({}),
                },
            },
        );
        self.delta(
            BlockDelta::InputJsonDelta {
                partial_json: tool_input(call).to_string(),
            },
            out,
        );
        self.open = Open::ToolUse;
        self.close(out);
    }
}

/// Faults in a Messages stream: a mid-stream failure is an `event: error` (`api_error`), or
/// nothing at all where the flavour loses it (the body then ends cleanly); a malformed line a
/// `content_block_delta` whose data is not JSON.
#[derive(Debug)]
pub struct MessagesFraming {
    dialect: &'static MessagesDialect,
}

impl Framing for MessagesFraming {
    fn error_line(&self, message: &str) -> Option<Bytes> {
        if !self.dialect.error_event {
            return Some(Bytes::new());
        }
        if self.dialect.checks == Checks::LlamaServer {
            let error = llama_server_error(500, message);
            return Some(encode::named_event(self.dialect.json, "error", &error).into());
        }
        if self.dialect.checks == Checks::Vllm {
            // The converter reads the chat stream's error chunk as a chunk, and writes what
            // pydantic says of that.
            let error = serde_json::json!({"type": "error", "error": {
                "type": "internal_error", "message": vllm_chunk_refusal(message)}});
            return Some(encode::named_event(self.dialect.json, "error", &error).into());
        }
        let event = StreamEvent::Error {
            error: ErrorObject {
                kind: ErrorType::ApiError,
                message: message.to_owned(),
            },
        };
        Some(encode::named_event(self.dialect.json, event.kind(), &event).into())
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!(
            "event: content_block_delta\ndata: {}\n\n",
            line.unwrap_or("{\"type\":")
        ))
    }
}

/// What pydantic says when vLLM's Messages converter validates its chat stream's error chunk
/// (`{"error": {message, type, param, code}}`) as a `ChatCompletionStreamResponse`: `model` and
/// `choices` missing, the input shown as Python's repr cut to 25 + 24 characters.
fn vllm_chunk_refusal(message: &str) -> String {
    let input = format!(
        "{{'error': {{'message': '{}', 'type': 'InternalServerError', 'param': None, 'code': 500}}}}",
        message.replace('\\', "\\\\").replace('\'', "\\'")
    );
    let chars: Vec<char> = input.chars().collect();
    let shown = if chars.len() > 50 {
        let head: String = chars[..25].iter().collect();
        let tail: String = chars[chars.len() - 24..].iter().collect();
        format!("{head}...{tail}")
    } else {
        input
    };
    let missing = |field: &str| {
        format!(
            "{field}\n  Field required [type=missing, input_value={shown}, input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.12/v/missing"
        )
    };
    format!(
        "2 validation errors for ChatCompletionStreamResponse\n{}\n{}",
        missing("model"),
        missing("choices")
    )
}

//! OpenAI's Responses API as vLLM's server plays it on `/v1/responses`, from its source
//! (`vllm/entrypoints/openai/responses/`: `serving.py` at 0001948, `protocol.py` at 010a69c,
//! `streaming_events.py`'s `SimpleStreamingEventProcessor`, the parser's
//! `extract_response_outputs`), with the openai-python types (e43b422) it builds its objects
//! from. vLLM needs an accelerator, so no real vLLM runs here to check it against.
//!
//! vLLM dumps pydantic models, which is why it is not a variant of [`super::responses`]:
//!
//! - objects carry every field of their class in the class's order, `null` where unset
//!   (`phase`, `caller`, `namespace`, `encrypted_content`, …), and the response echoes the
//!   request as vLLM parsed it: `text.format`'s `schema` under its Python name `schema_`, the
//!   `max_output_tokens` it sampled with (the model's context less the prompt when not given),
//!   `service_tier`, `top_logprobs`, `input_messages`, `output_messages`;
//! - the store is off unless the server was started with `VLLM_ENABLE_RESPONSES_API_STORE=1`
//!   (this mock plays the default): `store: true` is silently ignored, `previous_response_id`
//!   and `GET /v1/responses/{id}` are a 404 naming `response_id`, `background` a 400;
//! - a whole body's items are `rs_`, `msg_` and `fc_` + 32 hex digits, a tool call's `call_id`
//!   the tool parser's `chatcmpl-tool-…`; a reasoning item has `status: null`; text beside tool
//!   calls is kept;
//! - a stream's items are drawn anew (32 hex digits, no prefix; a tool call's `call_id` is
//!   `call_…`), so they differ from those of the final response; reasoning streams as
//!   `reasoning_text` inside vLLM's own `response.reasoning_part.added`/`.done` events; a
//!   finished message item carries a stray `summary: []`; the stream always ends in
//!   `response.completed`, even when the response in it is `incomplete`; no `[DONE]`;
//! - a failure after the stream has started cannot be written: vLLM validates its own error
//!   JSON as a stream event, which it is not, and the connection is dropped mid-body.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use wire::{
    ollama::ToolCall,
    openai::{
        ChatCompletionRequest,
        responses::{CreateResponse, chat::chat_request},
        validate::InvalidRequest,
    },
};

use super::{chat::ReplyContext, encode};
use crate::{ndjson::Line, reply::ChunkSpec, respond::Framing, seed::DetRng, turn::Turn};

/// A `/v1/responses` body as vLLM reads it.
#[derive(Debug)]
pub struct VllmResponsesAsk {
    /// The Chat Completions request it amounts to.
    pub chat: ChatCompletionRequest,
    /// The request as parsed, which the response echoes.
    request: Map<String, Value>,
    background: bool,
    previous_response_id: Option<String>,
}

impl VllmResponsesAsk {
    /// `_validate_create_responses_input` and the store lookup of `_create_responses`, which
    /// come after the model check: with the store disabled, background mode is refused and no
    /// previous response is ever found.
    pub fn check_store(&self) -> Result<(), Refusal> {
        if self.background {
            return Err(Refusal::Named {
                status: StatusCode::BAD_REQUEST,
                message: "This vLLM engine does not support `store=True` and therefore does not support the background mode. To enable these features, set the environment variable `VLLM_ENABLE_RESPONSES_API_STORE=1` when launching the vLLM server.".to_owned(),
                param: "background",
            });
        }
        match &self.previous_response_id {
            Some(id) => Err(not_found(id)),
            None => Ok(()),
        }
    }

    /// What the response echoes: the request, made at `created_at` (Unix seconds) for a model
    /// of `context_length` tokens.
    pub fn into_echo(self, created_at: i64, context_length: u64) -> Echo {
        Echo {
            request: self.request,
            created_at,
            context_length,
        }
    }
}

/// What a refused body gets: its message and the parameter it names.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// pydantic's or a model validator's refusal: a 400 `BadRequestError`.
    Invalid(InvalidRequest),
    /// One the serving layer words itself with `err_type="invalid_request_error"`.
    Named {
        /// 400 or 404.
        status: StatusCode,
        /// The message.
        message: String,
        /// The parameter.
        param: &'static str,
    },
}

/// The request as `ResponsesResponse.from_request` echoes it.
#[derive(Debug, Clone)]
pub struct Echo {
    request: Map<String, Value>,
    /// Unix seconds of the request.
    created_at: i64,
    /// The model's context, from which an unbounded request's `max_output_tokens` is taken.
    context_length: u64,
}

/// Reads a `/v1/responses` body as vLLM does: pydantic's `ResponsesRequest` and its model
/// validators, then the conversion to a chat.
pub fn read(body: &[u8]) -> Result<VllmResponsesAsk, Refusal> {
    let invalid = |message: &str, param: Option<&str>| {
        Refusal::Invalid(InvalidRequest::new(message, param.map(str::to_owned)))
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| invalid("JSON decode error", None))?;
    let Value::Object(request) = value else {
        return Err(invalid("Input should be a valid dictionary", None));
    };
    if request.get("background").is_some_and(truthy)
        && request.get("store").is_some_and(|store| !truthy(store))
    {
        return Err(invalid(
            "background can only be used when `store` is true",
            None,
        ));
    }
    if request
        .get("prompt")
        .is_some_and(|prompt| !prompt.is_null())
    {
        return Err(invalid("prompt template is not supported", Some("prompt")));
    }
    match request.get("input") {
        None => return Err(invalid("Field required: 'input'", Some("input"))),
        Some(Value::String(_) | Value::Array(_)) => {}
        Some(_) => {
            return Err(invalid(
                "Input should be a valid string or a valid list",
                Some("input"),
            ));
        }
    }
    let parsed: CreateResponse = serde_json::from_value(Value::Object(request.clone()))
        .map_err(|error| invalid(&error.to_string(), None))?;
    let mut chat = chat_request(&parsed, &[]).map_err(Refusal::Invalid)?;
    // Only a `json_schema` text format becomes structured output.
    if chat
        .response_format
        .as_ref()
        .is_some_and(|format| format.kind != "json_schema")
    {
        chat.response_format = None;
    }
    Ok(VllmResponsesAsk {
        chat,
        background: parsed.background == Some(true),
        previous_response_id: parsed.previous_response_id,
        request,
    })
}

/// `_make_not_found_error`: what a response id the (disabled) store does not keep gets.
pub fn not_found(id: &str) -> Refusal {
    Refusal::Named {
        status: StatusCode::NOT_FOUND,
        message: format!("Response with id '{id}' not found."),
        param: "response_id",
    }
}

/// Python's truth of a JSON value, as a `bool | None` field reads it.
fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// The ids of one response, as `random_uuid()` draws them (32 hex digits).
#[derive(Debug)]
struct Ids {
    seed: u64,
}

impl Ids {
    fn uuid(&self, salt: u64) -> String {
        DetRng::new(self.seed.rotate_left(23) ^ salt.wrapping_mul(0x9e37_79b9)).hex(32)
    }

    /// `resp_…`: the request id the response is named after.
    fn response(&self) -> String {
        format!("resp_{}", self.uuid(1))
    }

    /// A whole body's item: `rs_`, `msg_` or `fc_` + a fresh uuid.
    fn whole_item(&self, prefix: &str, position: u64) -> String {
        format!("{prefix}_{}", self.uuid(100 + position))
    }

    /// A streamed item (no prefix).
    fn streamed_item(&self, position: u64) -> String {
        self.uuid(200 + position)
    }

    /// A streamed tool call's `call_id`.
    fn streamed_call(&self, position: u64) -> String {
        format!("call_{}", self.uuid(300 + position))
    }
}

impl Echo {
    /// `ResponsesResponse.from_request(…)`, dumped: every field in the class's order.
    fn response(
        &self,
        ctx: &ReplyContext<'_>,
        ids: &Ids,
        turn: &Turn,
        status: &str,
        output: Vec<Value>,
        usage: Value,
    ) -> Value {
        let request = &self.request;
        let field = |key: &str| request.get(key).cloned().unwrap_or(Value::Null);
        let float = |key: &str| {
            request
                .get(key)
                .and_then(Value::as_f64)
                .map_or(json!(1.0), |value| json!(value))
        };
        let room = self
            .context_length
            .saturating_sub(turn.metrics.prompt_eval_count);
        let max_output_tokens = request
            .get("max_output_tokens")
            .and_then(Value::as_u64)
            .map_or(room, |asked| asked.min(room));
        let logprobs = request
            .get("include")
            .and_then(Value::as_array)
            .is_some_and(|include| {
                include
                    .iter()
                    .any(|item| item == "message.output_text.logprobs")
            });
        let top_logprobs = if logprobs {
            request.get("top_logprobs").cloned().unwrap_or(json!(0))
        } else {
            Value::Null
        };
        let incomplete = (status == "incomplete").then(|| json!({"reason": "max_output_tokens"}));
        json!({
            "id": ids.response(),
            "created_at": self.created_at,
            "incomplete_details": incomplete,
            "instructions": field("instructions"),
            "metadata": field("metadata"),
            "model": ctx.model,
            "object": "response",
            "output": output,
            "parallel_tool_calls": request.get("parallel_tool_calls").cloned().unwrap_or(json!(true)),
            "temperature": float("temperature"),
            "tool_choice": tool_choice(request.get("tool_choice")),
            "tools": request.get("tools").and_then(Value::as_array).map_or_else(Vec::new, |tools| tools.iter().map(function_tool).collect()),
            "top_p": float("top_p"),
            "background": request.get("background").is_some_and(truthy),
            "max_output_tokens": max_output_tokens,
            "max_tool_calls": field("max_tool_calls"),
            "previous_response_id": field("previous_response_id"),
            "prompt": Value::Null,
            "reasoning": request.get("reasoning").filter(|r| r.is_object()).map_or(Value::Null, reasoning),
            "service_tier": request.get("service_tier").cloned().unwrap_or(json!("auto")),
            "status": status,
            "text": request.get("text").filter(|t| t.is_object()).map_or(Value::Null, text_config),
            "top_logprobs": top_logprobs,
            "truncation": request.get("truncation").cloned().unwrap_or(json!("disabled")),
            "usage": usage,
            "user": field("user"),
            "input_messages": Value::Null,
            "output_messages": Value::Null,
        })
    }

    /// The finished response: `incomplete` when the length cut it, else `completed`.
    fn finished(&self, ctx: &ReplyContext<'_>, ids: &Ids, turn: &Turn) -> Value {
        let status = if turn.done_reason == "length" {
            "incomplete"
        } else {
            "completed"
        };
        self.response(
            ctx,
            ids,
            turn,
            status,
            whole_output(ctx, ids, &turn.aggregate()),
            usage(turn),
        )
    }
}

/// A key of `object` or `null`, as pydantic dumps an unset optional field.
fn or_null(object: &Value, key: &str) -> Value {
    object.get(key).cloned().unwrap_or(Value::Null)
}

/// openai-python's `FunctionTool` dumped (a tool of another type as it was sent).
fn function_tool(tool: &Value) -> Value {
    if tool.get("type").and_then(Value::as_str) != Some("function") {
        return tool.clone();
    }
    json!({
        "name": or_null(tool, "name"),
        "parameters": or_null(tool, "parameters"),
        "strict": or_null(tool, "strict"),
        "type": "function",
        "allowed_callers": or_null(tool, "allowed_callers"),
        "defer_loading": or_null(tool, "defer_loading"),
        "description": or_null(tool, "description"),
        "output_schema": or_null(tool, "output_schema"),
    })
}

/// `ToolChoice`: a mode, or `ToolChoiceFunction` dumped as `{name, type}`.
fn tool_choice(choice: Option<&Value>) -> Value {
    match choice {
        None | Some(Value::Null) => json!("auto"),
        Some(Value::Object(function)) if function.get("type") == Some(&json!("function")) => {
            json!({"name": function.get("name").cloned().unwrap_or(Value::Null), "type": "function"})
        }
        Some(other) => other.clone(),
    }
}

/// openai-python's `Reasoning` dumped.
fn reasoning(reasoning: &Value) -> Value {
    json!({
        "context": or_null(reasoning, "context"),
        "effort": or_null(reasoning, "effort"),
        "generate_summary": or_null(reasoning, "generate_summary"),
        "mode": or_null(reasoning, "mode"),
        "summary": or_null(reasoning, "summary"),
    })
}

/// `ResponseTextConfig` dumped: a `json_schema` format's `schema` under the Python name
/// `schema_`, since vLLM dumps without aliases.
fn text_config(text: &Value) -> Value {
    let format = match text.get("format") {
        Some(format) if format.get("type") == Some(&json!("json_schema")) => json!({
            "name": or_null(format, "name"),
            "schema_": or_null(format, "schema"),
            "type": "json_schema",
            "description": or_null(format, "description"),
            "strict": or_null(format, "strict"),
        }),
        Some(Value::Object(format)) => {
            json!({"type": format.get("type").cloned().unwrap_or(Value::Null)})
        }
        _ => Value::Null,
    };
    json!({"format": format, "verbosity": or_null(text, "verbosity")})
}

/// vLLM's `ResponseUsage`: the per-turn lists of its one turn beside the totals.
fn usage(turn: &Turn) -> Value {
    let (input, output) = (turn.metrics.prompt_eval_count, turn.metrics.eval_count);
    let reasoning = (turn
        .chunks
        .iter()
        .filter(|c| !c.thinking.is_empty())
        .count() as u64)
        .min(output);
    json!({
        "input_tokens": input,
        "input_tokens_details": {
            "cached_tokens": 0,
            "input_tokens_per_turn": [input],
            "cached_tokens_per_turn": [0],
        },
        "output_tokens": output,
        "output_tokens_details": {
            "reasoning_tokens": reasoning,
            "tool_output_tokens": 0,
            "output_tokens_per_turn": [output],
            "tool_output_tokens_per_turn": [0],
        },
        "total_tokens": input + output,
    })
}

/// `ResponseOutputText` dumped; `logprobs` as given (`null` when not asked for).
fn output_text(text: &str, logprobs: Value) -> Value {
    json!({"annotations": [], "text": text, "type": "output_text", "logprobs": logprobs})
}

/// `ResponseReasoningItem` dumped.
fn reasoning_item(id: &str, content: Value, status: Value) -> Value {
    json!({
        "id": id,
        "summary": [],
        "type": "reasoning",
        "content": content,
        "encrypted_content": Value::Null,
        "status": status,
    })
}

/// `ResponseOutputMessage` dumped.
fn message_item(id: &str, content: Vec<Value>, status: &str) -> Value {
    json!({
        "id": id,
        "content": content,
        "role": "assistant",
        "status": status,
        "type": "message",
        "phase": Value::Null,
    })
}

/// `ResponseFunctionToolCall` dumped (`created_by` where it is the `…Item` subclass).
fn function_call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
    item_class: bool,
) -> Value {
    let mut item = json!({
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
        "type": "function_call",
        "id": id,
        "caller": Value::Null,
        "namespace": Value::Null,
        "status": status,
    });
    if item_class {
        item["created_by"] = Value::Null;
    }
    item
}

/// `extract_response_outputs`: the reasoning, the text, then each tool call.
fn whole_output(ctx: &ReplyContext<'_>, ids: &Ids, whole: &ChunkSpec) -> Vec<Value> {
    let mut output = Vec::new();
    if !whole.thinking.is_empty() {
        output.push(reasoning_item(
            &ids.whole_item("rs", 0),
            json!([{"text": whole.thinking, "type": "reasoning_text"}]),
            Value::Null,
        ));
    }
    if !whole.content.is_empty() {
        output.push(message_item(
            &ids.whole_item("msg", 1),
            vec![output_text(&whole.content, Value::Null)],
            "completed",
        ));
    }
    for (position, call) in whole.tool_calls.iter().enumerate() {
        output.push(function_call_item(
            &ids.whole_item("fc", 2 + position as u64),
            &ctx.tool_call_id(call, position),
            &call.function.name,
            &ctx.arguments(&call.function.arguments),
            "completed",
            false,
        ));
    }
    output
}

/// The `response` object of a `stream: false` request.
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> Value {
    echo.finished(ctx, &Ids { seed: ctx.seed }, turn)
}

/// A streamed response: one [`Line`] of events per native line.
#[derive(Debug)]
pub struct VllmResponsesStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: VllmResponsesFraming,
}

/// Writes the events of a streamed response (`responses_stream_generator` over the
/// `SimpleStreamingEventProcessor`).
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> VllmResponsesStream {
    let ids = Ids { seed: ctx.seed };
    let mut writer = EventWriter {
        ctx,
        ids: &ids,
        next: 0,
        open: Open::Nothing,
        output_index: 0,
        items: 0,
        text: String::new(),
        out: Vec::new(),
    };
    let lines = turn
        .lines()
        .map(|line| {
            if line.first {
                let head = echo.response(ctx, &ids, turn, "in_progress", Vec::new(), Value::Null);
                writer.event("response.created", json!({"response": head.clone()}));
                writer.event("response.in_progress", json!({"response": head}));
            }
            writer.chunk(line.chunk);
            if line.last {
                writer.close();
                let response = echo.finished(ctx, &ids, turn);
                writer.event("response.completed", json!({"response": response}));
            }
            Line {
                delay: line.delay,
                bytes: Bytes::from(std::mem::take(&mut writer.out)),
            }
        })
        .collect();
    VllmResponsesStream {
        lines,
        framing: VllmResponsesFraming,
    }
}

/// The state the processor is in.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    Nothing,
    Reasoning {
        id: String,
    },
    Content {
        id: String,
    },
    ToolCall {
        id: String,
        call_id: String,
        name: String,
        streamed: bool,
    },
}

/// The state of a stream being written.
struct EventWriter<'a, 'c> {
    ctx: &'a ReplyContext<'c>,
    ids: &'a Ids,
    /// The next `sequence_number`.
    next: u64,
    open: Open,
    output_index: u64,
    /// Items opened so far, for their ids.
    items: u64,
    /// The open item's text (or arguments) so far.
    text: String,
    out: Vec<u8>,
}

impl EventWriter<'_, '_> {
    /// One event: its fields, then `sequence_number` (where `fields` has no slot for it) and
    /// `type` — the declared order of every event class, which pydantic keeps.
    fn event(&mut self, kind: &str, fields: Value) {
        let mut event = match fields {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        let sequence_number = json!(self.next);
        self.next += 1;
        match event.get_mut("sequence_number") {
            Some(slot) => *slot = sequence_number,
            None => {
                event.insert("sequence_number".to_owned(), sequence_number);
            }
        }
        event.insert("type".to_owned(), json!(kind));
        self.out.extend(encode::named_event(
            self.ctx.dialect.event_json,
            kind,
            &Value::Object(event),
        ));
    }

    fn chunk(&mut self, chunk: &ChunkSpec) {
        if !chunk.thinking.is_empty() {
            if !matches!(self.open, Open::Reasoning { .. }) {
                self.close();
                self.open_reasoning();
            }
            self.reasoning_delta(&chunk.thinking);
        }
        if !chunk.content.is_empty() {
            if !matches!(self.open, Open::Content { .. }) {
                self.close();
                self.open_content();
            }
            self.content_delta(&chunk.content);
        }
        for call in &chunk.tool_calls {
            // Each call has its own index, so each is a transition.
            self.close();
            self.open_tool_call(call);
            let arguments = self.ctx.arguments(&call.function.arguments);
            self.tool_call_delta(&arguments);
        }
    }

    fn next_item_id(&mut self) -> String {
        let id = self.ids.streamed_item(self.items);
        self.items += 1;
        id
    }

    fn open_reasoning(&mut self) {
        let id = self.next_item_id();
        let output_index = self.output_index;
        self.event(
            "response.output_item.added",
            json!({"item": reasoning_item(&id, Value::Null, json!("in_progress")),
                   "output_index": output_index}),
        );
        self.event(
            "response.reasoning_part.added",
            json!({"content_index": 0, "item_id": id, "output_index": output_index,
                   "part": {"text": "", "type": "reasoning_text"}}),
        );
        self.open = Open::Reasoning { id };
    }

    fn reasoning_delta(&mut self, delta: &str) {
        let Open::Reasoning { id } = &self.open else {
            return;
        };
        let id = id.clone();
        self.text.push_str(delta);
        let output_index = self.output_index;
        self.event(
            "response.reasoning_text.delta",
            json!({"content_index": 0, "delta": delta, "item_id": id,
                   "output_index": output_index}),
        );
    }

    fn open_content(&mut self) {
        let id = self.next_item_id();
        let output_index = self.output_index;
        self.event(
            "response.output_item.added",
            json!({"item": message_item(&id, Vec::new(), "in_progress"),
                   "output_index": output_index}),
        );
        self.event(
            "response.content_part.added",
            json!({"content_index": 0, "item_id": id, "output_index": output_index,
                   "part": output_text("", json!([]))}),
        );
        self.open = Open::Content { id };
    }

    fn content_delta(&mut self, delta: &str) {
        let Open::Content { id } = &self.open else {
            return;
        };
        let id = id.clone();
        self.text.push_str(delta);
        let output_index = self.output_index;
        self.event(
            "response.output_text.delta",
            json!({"content_index": 0, "delta": delta, "item_id": id, "logprobs": [],
                   "output_index": output_index}),
        );
    }

    fn open_tool_call(&mut self, call: &ToolCall) {
        let position = self.items;
        let id = self.next_item_id();
        let call_id = self.ids.streamed_call(position);
        let name = call.function.name.clone();
        let output_index = self.output_index;
        self.event(
            "response.output_item.added",
            json!({"item": function_call_item(&id, &call_id, &name, "", "in_progress", true),
                   "output_index": output_index}),
        );
        self.open = Open::ToolCall {
            id,
            call_id,
            name,
            streamed: false,
        };
    }

    /// An arguments delta, where there are any.
    fn tool_call_delta(&mut self, delta: &str) {
        let Open::ToolCall { id, streamed, .. } = &mut self.open else {
            return;
        };
        if delta.is_empty() {
            return;
        }
        *streamed = true;
        let id = id.clone();
        self.text.push_str(delta);
        let output_index = self.output_index;
        self.event(
            "response.function_call_arguments.delta",
            json!({"delta": delta, "item_id": id, "output_index": output_index}),
        );
    }

    /// `close_current()`: the open item's done events.
    fn close(&mut self) {
        let text = std::mem::take(&mut self.text);
        let output_index = self.output_index;
        match std::mem::replace(&mut self.open, Open::Nothing) {
            Open::Nothing => return,
            Open::Reasoning { id } => {
                let part = json!({"text": text, "type": "reasoning_text"});
                self.event(
                    "response.reasoning_text.done",
                    json!({"content_index": 0, "item_id": id, "output_index": output_index,
                           "sequence_number": 0, "text": text}),
                );
                self.event(
                    "response.reasoning_part.done",
                    json!({"content_index": 0, "item_id": id, "output_index": output_index,
                           "part": part}),
                );
                self.event(
                    "response.output_item.done",
                    json!({"item": reasoning_item(&id, json!([part]), json!("completed")),
                           "output_index": output_index}),
                );
            }
            Open::Content { id } => {
                let part = output_text(&text, Value::Null);
                self.event(
                    "response.output_text.done",
                    json!({"content_index": 0, "item_id": id, "logprobs": [],
                           "output_index": output_index, "sequence_number": 0, "text": text}),
                );
                self.event(
                    "response.content_part.done",
                    json!({"content_index": 0, "item_id": id, "output_index": output_index,
                           "part": part}),
                );
                let content = if text.is_empty() { vec![] } else { vec![part] };
                let mut item = message_item(&id, content, "completed");
                // `emit_simple_content_done` passes `summary=[]`, which the model keeps as an
                // extra field.
                item["summary"] = json!([]);
                self.event(
                    "response.output_item.done",
                    json!({"item": item, "output_index": output_index}),
                );
            }
            Open::ToolCall {
                id,
                call_id,
                name,
                streamed,
            } => {
                if streamed {
                    self.event(
                        "response.function_call_arguments.done",
                        json!({"arguments": text, "item_id": id, "name": name,
                               "output_index": output_index}),
                    );
                }
                self.event(
                    "response.output_item.done",
                    json!({"item": function_call_item(&id, &call_id, &name, &text, "completed", false),
                           "output_index": output_index}),
                );
            }
        }
        self.output_index += 1;
    }
}

/// Faults in vLLM's Responses stream: a mid-stream failure drops the connection (its error JSON
/// is no stream event, and validating it as one raises inside the generator); a malformed line
/// an event whose data is not JSON.
#[derive(Debug)]
pub struct VllmResponsesFraming;

impl Framing for VllmResponsesFraming {
    fn error_line(&self, _message: &str) -> Option<Bytes> {
        None
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!(
            "event: response.output_text.delta\ndata: {}\n\n",
            line.unwrap_or("{\"content_index\":")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> Refusal {
        read(body.as_bytes()).expect_err("refused")
    }

    fn store_refusal(body: &str) -> Refusal {
        read(body.as_bytes())
            .expect("read")
            .check_store()
            .expect_err("refused")
    }

    #[test]
    fn the_disabled_store_refuses_a_continuation_and_background_mode() {
        assert_eq!(
            store_refusal(r#"{"model":"m","input":"hi","previous_response_id":"resp_1"}"#),
            not_found("resp_1")
        );
        assert!(matches!(
            store_refusal(r#"{"model":"m","input":"hi","background":true}"#),
            Refusal::Named {
                status: StatusCode::BAD_REQUEST,
                param: "background",
                ..
            }
        ));
        assert!(matches!(
            refusal(r#"{"model":"m","input":"hi","background":true,"store":false}"#),
            Refusal::Invalid(invalid) if invalid.message.contains("`store` is true")
        ));
    }

    #[test]
    fn pydantic_refuses_a_missing_input_and_a_prompt_template() {
        assert!(matches!(
            refusal(r#"{"model":"m"}"#),
            Refusal::Invalid(invalid) if invalid.param.as_deref() == Some("input")
        ));
        assert!(matches!(
            refusal(r#"{"model":"m","input":"hi","prompt":{"id":"p"}}"#),
            Refusal::Invalid(invalid) if invalid.param.as_deref() == Some("prompt")
        ));
    }

    #[test]
    fn only_a_json_schema_text_format_constrains_the_output() {
        let object =
            read(br#"{"model":"m","input":"hi","text":{"format":{"type":"json_object"}}}"#)
                .expect("read");
        assert!(object.chat.response_format.is_none());
        let schema = read(
            br#"{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"}}}}"#,
        )
        .expect("read");
        assert!(schema.chat.response_format.is_some());
    }

    #[test]
    fn the_echoed_schema_keeps_its_python_name() {
        let text = text_config(&json!({"format": {"type": "json_schema", "name": "x",
                                                  "schema": {"type": "object"}}}));
        assert_eq!(text["format"]["schema_"], json!({"type": "object"}));
        assert!(text["format"].get("schema").is_none());
        assert_eq!(text["verbosity"], Value::Null);
    }
}

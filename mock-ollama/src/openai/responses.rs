//! A [`Turn`] written as OpenAI's Responses API (`/v1/responses`): one `response` object, or the
//! events of a stream in the order openai-python's accumulator enforces
//! (`lib/streaming/responses/_responses.py`): `response.created` and `response.in_progress`
//! first; each output item added before its parts and deltas; each content part added before its
//! text; one terminal `response.completed` (or `response.incomplete` when `max_output_tokens` cut
//! it); `sequence_number` counting from 0; every event under an SSE `event:` line equal to its
//! `type`.
//!
//! Output items follow the turn: its reasoning (as a summary), then its text as one message, then
//! each tool call as a `function_call` item. As with Chat, the events are grouped per native line
//! so that the line's delay paces them and a fault's `after` cuts the stream at the same place.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use wire::openai::responses::{
    ContentPart, CreateResponse, Event, FunctionCall, IncompleteDetails, Input, InputItem, Item,
    ItemStatus, Message, MessageContent, Reasoning, Response, ResponseStatus, ResponseUsage,
    StreamEvent, SummaryPart,
};

use super::{chat::ReplyContext, encode, response_store::StoredResponse};
use crate::{ndjson::Line, reply::ChunkSpec, respond::Framing, seed::DetRng, turn::Turn};

/// The ids of one response's objects, seeded by the request.
#[derive(Debug, Clone)]
struct Ids {
    response: String,
    message: String,
    reasoning: String,
    seed: u64,
}

impl Ids {
    fn new(seed: u64) -> Self {
        let mut rng = DetRng::new(seed.rotate_left(23));
        let mut id = |prefix: &str| format!("{prefix}_{}", rng.hex(48));
        Ids {
            response: id("resp"),
            message: id("msg"),
            reasoning: id("rs"),
            seed,
        }
    }

    /// The `fc_…` id of the `position`th function call.
    fn function_call(&self, position: usize) -> String {
        let mut rng = DetRng::new(self.seed.rotate_left(37) ^ position as u64);
        format!("fc_{}", rng.hex(48))
    }

    /// The `msg_…` id given to the `position`th input message, which came without one.
    fn input_message(&self, position: usize) -> String {
        let mut rng = DetRng::new(self.seed.rotate_left(41) ^ position as u64);
        format!("msg_{}", rng.hex(48))
    }
}

/// What a response echoes of its request, and when it was made.
#[derive(Debug, Clone)]
pub struct Echo {
    /// The request.
    pub request: CreateResponse,
    /// The stored response it continues.
    pub previous: Option<Arc<StoredResponse>>,
    /// Unix seconds of the request.
    pub created_at: u64,
}

impl Echo {
    /// What the store keeps of this response once `turn` is written, unless the request said
    /// `store: false`.
    pub fn stored(&self, ctx: &ReplyContext<'_>, turn: &Turn) -> Option<StoredResponse> {
        if self.request.store == Some(false) {
            return None;
        }
        let ids = Ids::new(ctx.seed);
        let response = self.finished(ctx, &ids, turn);
        let input_items = self.input_items(&ids);
        let mut conversation = self
            .previous
            .as_ref()
            .map(|previous| previous.conversation.clone())
            .unwrap_or_default();
        conversation.extend(input_items.iter().cloned());
        conversation.extend(response.output.iter().cloned());
        Some(StoredResponse {
            response,
            input_items,
            conversation,
        })
    }

    /// The request's `input` as items, a string as one user message, each message with an id.
    fn input_items(&self, ids: &Ids) -> Vec<Item> {
        let items = match &self.request.input {
            None => Vec::new(),
            Some(Input::Text(text)) => vec![Item::Message(Message {
                id: None,
                role: "user".to_owned(),
                content: MessageContent::Parts(vec![ContentPart::InputText { text: text.clone() }]),
                status: None,
            })],
            Some(Input::Items(items)) => items
                .iter()
                .map(|item| match item {
                    InputItem::Item(item) => item.clone(),
                    InputItem::Message(message) => Item::Message(message.clone()),
                })
                .collect(),
        };
        items
            .into_iter()
            .enumerate()
            .map(|(position, mut item)| {
                if let Item::Message(message) = &mut item {
                    message
                        .id
                        .get_or_insert_with(|| ids.input_message(position));
                    message.status.get_or_insert(ItemStatus::Completed);
                }
                item
            })
            .collect()
    }

    /// The response head: `status`, no output, no usage.
    fn response(&self, ctx: &ReplyContext<'_>, ids: &Ids, status: ResponseStatus) -> Response {
        let request = &self.request;
        Response {
            id: ids.response.clone(),
            object: "response".to_owned(),
            created_at: self.created_at,
            status,
            background: false,
            completed_at: None,
            error: None,
            incomplete_details: None,
            instructions: request.instructions.clone(),
            max_output_tokens: request.max_output_tokens,
            model: ctx.model.to_owned(),
            output: Vec::new(),
            parallel_tool_calls: request.parallel_tool_calls.unwrap_or(true),
            previous_response_id: request.previous_response_id.clone(),
            reasoning: request.reasoning.clone().unwrap_or_default(),
            store: request.store.unwrap_or(true),
            temperature: Some(request.temperature.unwrap_or(1.0)),
            text: request.text.clone().unwrap_or_default(),
            tool_choice: request.tool_choice.clone().unwrap_or(json!("auto")),
            tools: request.tools.clone().unwrap_or_default(),
            top_p: Some(request.top_p.unwrap_or(1.0)),
            truncation: Some(
                request
                    .truncation
                    .clone()
                    .unwrap_or_else(|| "disabled".to_owned()),
            ),
            usage: None,
            user: request.user.clone(),
            metadata: request.metadata.clone().unwrap_or_else(|| json!({})),
        }
    }

    /// The finished response: its output, status and usage.
    fn finished(&self, ctx: &ReplyContext<'_>, ids: &Ids, turn: &Turn) -> Response {
        let cut = turn.done_reason == "length";
        let mut response = self.response(
            ctx,
            ids,
            if cut {
                ResponseStatus::Incomplete
            } else {
                ResponseStatus::Completed
            },
        );
        let item_status = if cut {
            ItemStatus::Incomplete
        } else {
            ItemStatus::Completed
        };
        let whole = turn.aggregate();
        response.output = output(ctx, ids, &whole, item_status);
        if cut {
            response.incomplete_details = Some(IncompleteDetails {
                reason: "max_output_tokens".to_owned(),
            });
        } else {
            response.completed_at = Some(self.created_at + turn_seconds(turn));
        }
        response.usage = Some(usage(turn));
        response
    }
}

/// Whole seconds the turn took, virtually.
fn turn_seconds(turn: &Turn) -> u64 {
    turn.line_offset(turn.chunks.len()).as_secs()
}

fn usage(turn: &Turn) -> ResponseUsage {
    ResponseUsage::new(turn.metrics.prompt_eval_count, turn.metrics.eval_count)
}

/// The output items of a whole reply.
fn output(ctx: &ReplyContext<'_>, ids: &Ids, whole: &ChunkSpec, status: ItemStatus) -> Vec<Item> {
    let mut items = Vec::new();
    if !whole.thinking.is_empty() {
        items.push(reasoning_item(ids, Some(&whole.thinking)));
    }
    if !whole.content.is_empty() || whole.tool_calls.is_empty() {
        items.push(message_item(ids, Some(&whole.content), status));
    }
    for (position, call) in whole.tool_calls.iter().enumerate() {
        items.push(function_call_item(ctx, ids, call, position, Some(status)));
    }
    items
}

fn reasoning_item(ids: &Ids, summary: Option<&str>) -> Item {
    Item::Reasoning(Reasoning {
        id: ids.reasoning.clone(),
        summary: summary
            .map(|text| SummaryPart {
                text: text.to_owned(),
            })
            .into_iter()
            .collect(),
        content: None,
        encrypted_content: None,
        status: None,
    })
}

/// The message item: with its text part when `text` is given, else empty (as it is added).
fn message_item(ids: &Ids, text: Option<&str>, status: ItemStatus) -> Item {
    Item::Message(Message {
        id: Some(ids.message.clone()),
        role: "assistant".to_owned(),
        content: MessageContent::Parts(text.map(ContentPart::output_text).into_iter().collect()),
        status: Some(status),
    })
}

fn function_call_item(
    ctx: &ReplyContext<'_>,
    ids: &Ids,
    call: &wire::ollama::ToolCall,
    position: usize,
    status: Option<ItemStatus>,
) -> Item {
    Item::FunctionCall(FunctionCall {
        id: Some(ids.function_call(position)),
        call_id: call
            .id
            .clone()
            .unwrap_or_else(|| format!("call_{position}")),
        name: call.function.name.clone(),
        arguments: match status {
            Some(ItemStatus::InProgress) => String::new(),
            _ => arguments(ctx, call),
        },
        status,
    })
}

fn arguments(ctx: &ReplyContext<'_>, call: &wire::ollama::ToolCall) -> String {
    ctx.arguments(&call.function.arguments)
}

/// The `response` object of a `stream: false` request.
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> Value {
    let ids = Ids::new(ctx.seed);
    serde_json::to_value(echo.finished(ctx, &ids, turn)).unwrap_or_default()
}

/// A streamed response: one [`Line`] of events per native line.
#[derive(Debug)]
pub struct ResponsesStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: ResponsesFraming,
}

/// Writes the events of a streamed response.
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> ResponsesStream {
    let ids = Ids::new(ctx.seed);
    let mut writer = EventWriter {
        ctx,
        ids: &ids,
        next: 0,
        open: Open::Nothing,
        output_index: 0,
        calls: 0,
        text: String::new(),
    };
    let mut lines = Vec::with_capacity(turn.chunks.len() + 1);
    for line in turn.lines() {
        let mut bytes = Vec::new();
        if line.first {
            let head = echo.response(ctx, &ids, ResponseStatus::InProgress);
            writer.write(
                &mut bytes,
                Event::Created {
                    response: Box::new(head.clone()),
                },
            );
            writer.write(
                &mut bytes,
                Event::InProgress {
                    response: Box::new(head),
                },
            );
        }
        writer.chunk(line.chunk, &mut bytes);
        if line.last {
            writer.close(&mut bytes);
            let response = echo.finished(ctx, &ids, turn);
            let end = if response.status == ResponseStatus::Incomplete {
                Event::Incomplete {
                    response: Box::new(response),
                }
            } else {
                Event::Completed {
                    response: Box::new(response),
                }
            };
            writer.write(&mut bytes, end);
        }
        lines.push(Line {
            delay: line.delay,
            bytes: Bytes::from(bytes),
        });
    }
    ResponsesStream {
        lines,
        framing: ResponsesFraming {
            json: ctx.dialect.event_json,
            // Past every planned event: an error after any of them keeps the numbers increasing.
            sequence_number: writer.next,
        },
    }
}

/// The output item being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Reasoning,
    Message,
}

/// The state of a stream being written.
struct EventWriter<'a, 'c> {
    ctx: &'a ReplyContext<'c>,
    ids: &'a Ids,
    /// The next `sequence_number`.
    next: u64,
    open: Open,
    /// The open item's place in `output` (or the next item's, when none is open).
    output_index: u32,
    /// Function calls written so far.
    calls: usize,
    /// The open item's text so far.
    text: String,
}

impl EventWriter<'_, '_> {
    fn write(&mut self, out: &mut Vec<u8>, event: Event) {
        let event = StreamEvent {
            event,
            sequence_number: self.next,
        };
        self.next += 1;
        out.extend(encode::named_event(
            self.ctx.dialect.event_json,
            event.event.kind(),
            &event,
        ));
    }

    fn chunk(&mut self, chunk: &ChunkSpec, out: &mut Vec<u8>) {
        if !chunk.thinking.is_empty() {
            self.open_item(Open::Reasoning, out);
            self.text.push_str(&chunk.thinking);
            self.write(
                out,
                Event::ReasoningSummaryTextDelta {
                    item_id: self.ids.reasoning.clone(),
                    output_index: self.output_index,
                    summary_index: 0,
                    delta: chunk.thinking.clone(),
                },
            );
        }
        if !chunk.content.is_empty() {
            self.open_item(Open::Message, out);
            self.text.push_str(&chunk.content);
            self.write(
                out,
                Event::OutputTextDelta {
                    item_id: self.ids.message.clone(),
                    output_index: self.output_index,
                    content_index: 0,
                    delta: chunk.content.clone(),
                    logprobs: Vec::new(),
                },
            );
        }
        for call in &chunk.tool_calls {
            self.close(out);
            self.function_call(call, out);
        }
    }

    /// Opens an item of `kind` unless one is open, closing another first.
    fn open_item(&mut self, kind: Open, out: &mut Vec<u8>) {
        if self.open == kind {
            return;
        }
        self.close(out);
        self.open = kind;
        let output_index = self.output_index;
        match kind {
            Open::Nothing => {}
            Open::Reasoning => {
                self.write(
                    out,
                    Event::OutputItemAdded {
                        output_index,
                        item: reasoning_item(self.ids, None),
                    },
                );
                self.write(
                    out,
                    Event::ReasoningSummaryPartAdded {
                        item_id: self.ids.reasoning.clone(),
                        output_index,
                        summary_index: 0,
                        part: SummaryPart {
                            text: String::new(),
                        },
                    },
                );
            }
            Open::Message => {
                self.write(
                    out,
                    Event::OutputItemAdded {
                        output_index,
                        item: message_item(self.ids, None, ItemStatus::InProgress),
                    },
                );
                self.write(
                    out,
                    Event::ContentPartAdded {
                        item_id: self.ids.message.clone(),
                        output_index,
                        content_index: 0,
                        part: ContentPart::output_text(""),
                    },
                );
            }
        }
    }

    /// Closes the open item: its text done, its part done, the item done.
    fn close(&mut self, out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.text);
        let output_index = self.output_index;
        match std::mem::replace(&mut self.open, Open::Nothing) {
            Open::Nothing => return,
            Open::Reasoning => {
                let id = self.ids.reasoning.clone();
                self.write(
                    out,
                    Event::ReasoningSummaryTextDone {
                        item_id: id.clone(),
                        output_index,
                        summary_index: 0,
                        text: text.clone(),
                    },
                );
                self.write(
                    out,
                    Event::ReasoningSummaryPartDone {
                        item_id: id,
                        output_index,
                        summary_index: 0,
                        part: SummaryPart { text: text.clone() },
                    },
                );
                self.write(
                    out,
                    Event::OutputItemDone {
                        output_index,
                        item: reasoning_item(self.ids, Some(&text)),
                    },
                );
            }
            Open::Message => {
                let id = self.ids.message.clone();
                self.write(
                    out,
                    Event::OutputTextDone {
                        item_id: id.clone(),
                        output_index,
                        content_index: 0,
                        text: text.clone(),
                        logprobs: Vec::new(),
                    },
                );
                self.write(
                    out,
                    Event::ContentPartDone {
                        item_id: id,
                        output_index,
                        content_index: 0,
                        part: ContentPart::output_text(text.clone()),
                    },
                );
                self.write(
                    out,
                    Event::OutputItemDone {
                        output_index,
                        item: message_item(self.ids, Some(&text), ItemStatus::Completed),
                    },
                );
            }
        }
        self.output_index += 1;
    }

    /// A whole function call: added, its arguments in one delta, done, the item done.
    fn function_call(&mut self, call: &wire::ollama::ToolCall, out: &mut Vec<u8>) {
        let position = self.calls;
        self.calls += 1;
        let output_index = self.output_index;
        self.output_index += 1;
        let (ctx, ids) = (self.ctx, self.ids);
        let item_id = ids.function_call(position);
        let arguments = arguments(ctx, call);
        self.write(
            out,
            Event::OutputItemAdded {
                output_index,
                item: function_call_item(ctx, ids, call, position, Some(ItemStatus::InProgress)),
            },
        );
        self.write(
            out,
            Event::FunctionCallArgumentsDelta {
                item_id: item_id.clone(),
                output_index,
                delta: arguments.clone(),
            },
        );
        self.write(
            out,
            Event::FunctionCallArgumentsDone {
                item_id,
                output_index,
                name: Some(call.function.name.clone()),
                arguments,
            },
        );
        self.write(
            out,
            Event::OutputItemDone {
                output_index,
                item: function_call_item(ctx, ids, call, position, Some(ItemStatus::Completed)),
            },
        );
    }
}

/// Faults in a Responses stream: a mid-stream error is an `error` event; a malformed line an
/// event whose data is not JSON.
#[derive(Debug)]
pub struct ResponsesFraming {
    json: super::flavor::JsonStyle,
    sequence_number: u64,
}

impl Framing for ResponsesFraming {
    fn error_line(&self, message: &str) -> Option<Bytes> {
        let event = StreamEvent {
            event: Event::Error {
                code: Some("server_error".to_owned()),
                message: message.to_owned(),
                param: None,
            },
            sequence_number: self.sequence_number,
        };
        Some(encode::named_event(self.json, "error", &event).into())
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!(
            "event: response.output_text.delta\ndata: {}\n\n",
            line.unwrap_or("{\"type\":")
        ))
    }
}

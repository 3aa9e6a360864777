//! OpenAI's Responses API (`/v1/responses`): the request, the response object with its output
//! items, and every stream event of the text, function-call and reasoning families, as
//! openai-python's `types/responses` declares them (commit e43b422; see
//! `../shared/reference/responses-and-messages.md`).
//!
//! As with Chat Completions, polymorphic request fields a validator must explain (`tool_choice`,
//! `metadata`) stay raw JSON. Read leniently, written exactly: a key a real server leaves out
//! (llama.cpp's events carry no `sequence_number` or indexes) reads as its default, and every key
//! OpenAI writes is written, `null` included, so a flavour that leaves keys out removes them on
//! purpose. Unknown keys are ignored on reading.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod chat;

/// `POST /v1/responses` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateResponse {
    /// Model id; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A string (one user message) or a list of items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// A system (developer) message put before the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Tools the model may call; function tools are flat (no `function: {}` wrapper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// `none`, `auto`, `required` or `{type:"function", name}` (flat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The output's format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// Reasoning effort and summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    /// Limit on output tokens, reasoning included; reaching it makes the response `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<i64>,
    /// 0..2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Whether the response is kept for `previous_response_id` and `GET` (true by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// The stored response this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// SSE when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Up to 16 string pairs, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Extra output to include, e.g. `reasoning.encrypted_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// `auto` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
    /// Run in the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<bool>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl CreateResponse {
    /// Whether the client asked for SSE.
    pub fn is_streaming(&self) -> bool {
        self.stream == Some(true)
    }
}

/// `input`: a string, or items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// Messages, function calls and their outputs, reasoning, references.
    Items(Vec<InputItem>),
}

/// One item of `input`: typed, or a message given as `{role, content}` without `type` (kept so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputItem {
    /// An item with its `type`.
    Item(Item),
    /// `{role, content}`, read as a message.
    Message(Message),
}

/// An item of a conversation: what `input` holds and what `output` is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// A message: the user's, a system or developer instruction, or the assistant's output.
    Message(Message),
    /// A call the model made.
    FunctionCall(FunctionCall),
    /// What the client's function returned.
    FunctionCallOutput(FunctionCallOutput),
    /// The model's reasoning.
    Reasoning(Reasoning),
    /// An earlier item by id.
    ItemReference {
        /// The item's id.
        id: String,
    },
}

impl Item {
    /// The id the item carries, if any (an `item_reference`'s is the id it refers to).
    pub fn id(&self) -> Option<&str> {
        match self {
            Item::Message(message) => message.id.as_deref(),
            Item::FunctionCall(call) => call.id.as_deref(),
            Item::FunctionCallOutput(output) => output.id.as_deref(),
            Item::Reasoning(reasoning) => Some(&reasoning.id),
            Item::ItemReference { id } => Some(id),
        }
    }
}

/// A message item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`; on output messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `user`, `assistant`, `system` or `developer`.
    pub role: String,
    /// A string (input only) or content parts.
    pub content: MessageContent,
    /// `in_progress`, `completed` or `incomplete`; on output messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Text.
    Text(String),
    /// Parts.
    Parts(Vec<ContentPart>),
}

/// A part of a message: input parts, or the assistant's output text and refusals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text from the user.
    InputText {
        /// The text.
        text: String,
    },
    /// An image by URL (a `data:` URL included) or file id.
    InputImage {
        /// URL or `data:` URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        /// An uploaded file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// `low`, `high` or `auto`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A file by id, URL or inline data.
    InputFile {
        /// An uploaded file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// Base64 data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        /// Its name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
    /// The assistant's text.
    OutputText {
        /// The text.
        text: String,
        /// Citations; empty here.
        #[serde(default)]
        annotations: Vec<Value>,
        /// Per-token log probabilities when asked for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        logprobs: Option<Vec<Value>>,
    },
    /// The assistant declined.
    Refusal {
        /// Why.
        refusal: String,
    },
}

impl ContentPart {
    /// An output text part, no annotations.
    pub fn output_text(text: impl Into<String>) -> Self {
        ContentPart::OutputText {
            text: text.into(),
            annotations: Vec::new(),
            logprobs: None,
        }
    }
}

/// How far an item got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Still being written.
    InProgress,
    /// Whole.
    Completed,
    /// Cut short (by `max_output_tokens`).
    Incomplete,
}

/// A function call item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// `fc_…`; llama.cpp writes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id the output answers (`call_…`).
    pub call_id: String,
    /// The function.
    pub name: String,
    /// The arguments as a JSON string.
    pub arguments: String,
    /// On output items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A function's output, sent back by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutput {
    /// Its own id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call it answers.
    pub call_id: String,
    /// A string, or input parts.
    pub output: Value,
    /// When echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A reasoning item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasoning {
    /// `rs_…`.
    pub id: String,
    /// Summary parts (`summary_text`); empty unless a summary was asked for.
    #[serde(default)]
    pub summary: Vec<SummaryPart>,
    /// The raw reasoning (`reasoning_text`), where a server shows it (vLLM, llama.cpp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ReasoningPart>>,
    /// Opaque reasoning for the next turn (Ollama puts the raw thinking here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// When echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A reasoning summary part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "summary_text")]
pub struct SummaryPart {
    /// The summary's text.
    pub text: String,
}

/// A raw reasoning part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "reasoning_text")]
pub struct ReasoningPart {
    /// The reasoning's text.
    pub text: String,
}

/// A tool: a flat function tool (`{type:"function", name, parameters, strict}`), or a hosted
/// tool of another `type` whose other keys are not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `function` for function tools.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments' JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Whether arguments must follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `text`: the output's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    /// Plain text (the default), any JSON object, or JSON that follows a schema.
    #[serde(default)]
    pub format: TextFormat,
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            format: TextFormat::Text,
            verbosity: None,
        }
    }
}

/// `text.format`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextFormat {
    /// Plain text.
    #[default]
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON that follows `schema` (flat: no `json_schema: {}` wrapper, unlike Chat).
    JsonSchema {
        /// The format's name.
        name: String,
        /// The JSON Schema.
        schema: Value,
        /// What it is for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Whether the output must follow the schema exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// `reasoning`: both keys are written, `null` when unset, as OpenAI echoes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default)]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`.
    #[serde(default)]
    pub summary: Option<String>,
}

/// A response's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Whole.
    Completed,
    /// Failed (see `error`).
    Failed,
    /// Being generated (in `response.created` and `response.in_progress`).
    InProgress,
    /// Cancelled.
    Cancelled,
    /// Waiting to start (background).
    Queued,
    /// Cut short (see `incomplete_details`).
    Incomplete,
}

/// The response object: `POST` (whole), `GET /v1/responses/{id}`, and every lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// `resp_…`.
    pub id: String,
    /// `response`.
    pub object: String,
    /// Unix seconds.
    pub created_at: u64,
    /// How far it got.
    pub status: ResponseStatus,
    /// Whether it ran in the background.
    #[serde(default)]
    pub background: bool,
    /// Unix seconds when it completed; `null` before.
    #[serde(default)]
    pub completed_at: Option<u64>,
    /// Why it failed; `null` unless `failed`.
    #[serde(default)]
    pub error: Option<ResponseError>,
    /// Why it is incomplete; `null` unless `incomplete`.
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    /// The request's `instructions`, echoed.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The request's limit, echoed.
    #[serde(default)]
    pub max_output_tokens: Option<i64>,
    /// The model that answered.
    pub model: String,
    /// The output items, in order.
    #[serde(default)]
    pub output: Vec<Item>,
    /// Echoed (true by default).
    #[serde(default = "yes")]
    pub parallel_tool_calls: bool,
    /// The response this one continues.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Echoed.
    #[serde(default)]
    pub reasoning: ReasoningConfig,
    /// Whether it was kept.
    #[serde(default)]
    pub store: bool,
    /// Echoed, default 1.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Echoed.
    #[serde(default)]
    pub text: TextConfig,
    /// Echoed: `auto` unless given.
    #[serde(default = "auto")]
    pub tool_choice: Value,
    /// Echoed.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// Echoed, default 1.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// `disabled` unless given.
    #[serde(default)]
    pub truncation: Option<String>,
    /// Tokens; `null` until the response is done.
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    /// Echoed.
    #[serde(default)]
    pub user: Option<String>,
    /// Echoed; `{}` when none.
    #[serde(default)]
    pub metadata: Value,
}

fn yes() -> bool {
    true
}

fn auto() -> Value {
    Value::String("auto".to_owned())
}

impl Response {
    /// The text of every output text part, joined: what the SDKs call `output_text`.
    pub fn output_text(&self) -> String {
        let mut text = String::new();
        for item in &self.output {
            if let Item::Message(Message {
                content: MessageContent::Parts(parts),
                ..
            }) = item
            {
                for part in parts {
                    if let ContentPart::OutputText { text: piece, .. } = part {
                        text.push_str(piece);
                    }
                }
            }
        }
        text
    }
}

/// `error` of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseError {
    /// e.g. `server_error`.
    pub code: String,
    /// Human-readable.
    pub message: String,
}

/// `incomplete_details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: String,
}

/// A response's tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseUsage {
    /// Tokens read.
    pub input_tokens: u64,
    /// Of which cached.
    #[serde(default)]
    pub input_tokens_details: InputTokensDetails,
    /// Tokens written, reasoning included.
    pub output_tokens: u64,
    /// Of which reasoning.
    #[serde(default)]
    pub output_tokens_details: OutputTokensDetails,
    /// The sum.
    pub total_tokens: u64,
}

impl ResponseUsage {
    /// Usage with these counts, the total their sum, no cache or reasoning tokens.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        ResponseUsage {
            input_tokens,
            input_tokens_details: InputTokensDetails::default(),
            output_tokens,
            output_tokens_details: OutputTokensDetails::default(),
            total_tokens: input_tokens + output_tokens,
        }
    }
}

/// `usage.input_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    /// Read from the prompt cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Written to the prompt cache (required in openai-python e43b422).
    #[serde(default)]
    pub cache_write_tokens: u64,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    /// Spent reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// `GET /v1/responses/{id}/input_items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputItemList {
    /// `list`.
    pub object: String,
    /// The items, newest first unless `order=asc`.
    pub data: Vec<Item>,
    /// The first item's id.
    pub first_id: Option<String>,
    /// The last item's id.
    pub last_id: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

/// `DELETE /v1/responses/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedResponse {
    /// The id.
    pub id: String,
    /// `response`.
    pub object: String,
    /// `true`.
    pub deleted: bool,
}

/// One SSE event of a streamed response: its `type` (also the SSE `event:` name) and fields, and
/// its `sequence_number`, counting from 0 across the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// Its place in the stream; 0 when a server writes none (llama.cpp).
    #[serde(default)]
    pub sequence_number: u64,
}

/// The events of the text, function-call and reasoning families, and the lifecycle around them.
/// Indexes a server leaves out read as 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// First: the response, `in_progress`, no output.
    #[serde(rename = "response.created")]
    Created {
        /// The response so far.
        response: Box<Response>,
    },
    /// Second: the same.
    #[serde(rename = "response.in_progress")]
    InProgress {
        /// The response so far.
        response: Box<Response>,
    },
    /// Waiting to start (background).
    #[serde(rename = "response.queued")]
    Queued {
        /// The response so far.
        response: Box<Response>,
    },
    /// Terminal: the whole response.
    #[serde(rename = "response.completed")]
    Completed {
        /// The whole response.
        response: Box<Response>,
    },
    /// Terminal: cut short.
    #[serde(rename = "response.incomplete")]
    Incomplete {
        /// The response as far as it got.
        response: Box<Response>,
    },
    /// Terminal: failed.
    #[serde(rename = "response.failed")]
    Failed {
        /// The response, its `error` set.
        response: Box<Response>,
    },
    /// An output item starts.
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The item, empty so far.
        item: Item,
    },
    /// An output item is whole.
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The whole item.
        item: Item,
    },
    /// A content part of a message starts.
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The part, empty so far.
        part: ContentPart,
    },
    /// A content part is whole.
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The whole part.
        part: ContentPart,
    },
    /// More output text.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The text added.
        delta: String,
        /// Log probabilities of its tokens; empty unless asked for.
        #[serde(default)]
        logprobs: Vec<Value>,
    },
    /// The output text is whole.
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The whole text.
        text: String,
        /// Log probabilities; empty unless asked for.
        #[serde(default)]
        logprobs: Vec<Value>,
    },
    /// More refusal text.
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The text added.
        delta: String,
    },
    /// The refusal is whole.
    #[serde(rename = "response.refusal.done")]
    RefusalDone {
        /// The message's id.
        item_id: String,
        /// The message's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in the message.
        #[serde(default)]
        content_index: u32,
        /// The whole refusal.
        refusal: String,
    },
    /// More of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        /// The call item's id.
        item_id: String,
        /// The call's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The argument text added.
        delta: String,
    },
    /// The arguments are whole (llama.cpp never sends it; Ollama's has no `name`).
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        /// The call item's id.
        item_id: String,
        /// The call's place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The function's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The whole arguments.
        arguments: String,
    },
    /// A reasoning summary part starts.
    #[serde(rename = "response.reasoning_summary_part.added")]
    ReasoningSummaryPartAdded {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The part, empty so far.
        part: SummaryPart,
    },
    /// A reasoning summary part is whole.
    #[serde(rename = "response.reasoning_summary_part.done")]
    ReasoningSummaryPartDone {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The whole part.
        part: SummaryPart,
    },
    /// More summary text.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The text added.
        delta: String,
    },
    /// The summary text is whole.
    #[serde(rename = "response.reasoning_summary_text.done")]
    ReasoningSummaryTextDone {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The whole text.
        text: String,
    },
    /// More raw reasoning text (vLLM, llama.cpp).
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `content`.
        #[serde(default)]
        content_index: u32,
        /// The text added.
        delta: String,
    },
    /// The raw reasoning text is whole.
    #[serde(rename = "response.reasoning_text.done")]
    ReasoningTextDone {
        /// The reasoning item's id.
        item_id: String,
        /// Its place in `output`.
        #[serde(default)]
        output_index: u32,
        /// The part's place in `content`.
        #[serde(default)]
        content_index: u32,
        /// The whole text.
        text: String,
    },
    /// The stream failed.
    #[serde(rename = "error")]
    Error {
        /// A machine slug, or null.
        #[serde(default)]
        code: Option<String>,
        /// Human-readable.
        message: String,
        /// The offending parameter, or null.
        #[serde(default)]
        param: Option<String>,
    },
}

impl Event {
    /// Its `type`: the SSE `event:` name it goes under.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Created { .. } => "response.created",
            Event::InProgress { .. } => "response.in_progress",
            Event::Queued { .. } => "response.queued",
            Event::Completed { .. } => "response.completed",
            Event::Incomplete { .. } => "response.incomplete",
            Event::Failed { .. } => "response.failed",
            Event::OutputItemAdded { .. } => "response.output_item.added",
            Event::OutputItemDone { .. } => "response.output_item.done",
            Event::ContentPartAdded { .. } => "response.content_part.added",
            Event::ContentPartDone { .. } => "response.content_part.done",
            Event::OutputTextDelta { .. } => "response.output_text.delta",
            Event::OutputTextDone { .. } => "response.output_text.done",
            Event::RefusalDelta { .. } => "response.refusal.delta",
            Event::RefusalDone { .. } => "response.refusal.done",
            Event::FunctionCallArgumentsDelta { .. } => "response.function_call_arguments.delta",
            Event::FunctionCallArgumentsDone { .. } => "response.function_call_arguments.done",
            Event::ReasoningSummaryPartAdded { .. } => "response.reasoning_summary_part.added",
            Event::ReasoningSummaryPartDone { .. } => "response.reasoning_summary_part.done",
            Event::ReasoningSummaryTextDelta { .. } => "response.reasoning_summary_text.delta",
            Event::ReasoningSummaryTextDone { .. } => "response.reasoning_summary_text.done",
            Event::ReasoningTextDelta { .. } => "response.reasoning_text.delta",
            Event::ReasoningTextDone { .. } => "response.reasoning_text.done",
            Event::Error { .. } => "error",
        }
    }

    /// Whether it ends the stream (`completed`, `incomplete`, `failed`; an `error` too).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Event::Completed { .. }
                | Event::Incomplete { .. }
                | Event::Failed { .. }
                | Event::Error { .. }
        )
    }
}

//! OpenAI's Responses API as Ollama's layer plays it on `/v1/responses`: a port of
//! `openai/responses.go` and the `ResponsesWriter` of `middleware/openai.go` (ollama/ollama at
//! fb30760), so that the `ollama` flavour answers a Responses client exactly as a real Ollama
//! does.
//!
//! Ollama's layer is stateless and has its own shapes, which is why it is not a variant of
//! [`super::responses`]:
//!
//! - the request becomes one `/api/chat` call (`FromResponsesRequest`): `store`,
//!   `previous_response_id` and `tool_choice` are ignored, only a `json_schema` text format
//!   constrains the output, `temperature` defaults to 1;
//! - every response is `completed` (`max_output_tokens` cuts the text but not the status), echoes
//!   `store: false`, and has no message item when the model called tools;
//! - whole bodies are Go structs (their field order, `omitempty`); stream events are Go maps, so
//!   their keys come sorted at every depth, and the reasoning item streams its summary text with
//!   no summary part events;
//! - ids are `resp_<0..999998>` and `msg_<…>` (`rand.Intn(999999)`), with the items of a whole
//!   body named after the response (`rs_resp_…`, `fc_resp_…_0`) and those of a stream drawn anew
//!   (`rs_<…>`, `fc_<…>_0`);
//! - a failure after the stream has started is lost: the middleware decodes Ollama's
//!   `{"error": …}` line as an empty chat chunk, writes nothing for it, and the body ends without
//!   `response.completed`.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wire::ollama::{self, ChatRequest, ToolCall};

use super::{
    chat::ReplyContext,
    conversion::{image_data, think_from_effort},
    encode,
};
use crate::{
    error::{OllamaError, parse_body},
    ndjson::Line,
    reply::ChunkSpec,
    respond::Framing,
    seed::DetRng,
    turn::Turn,
};

/// A `/v1/responses` body as Ollama reads it: the chat it sends to `/api/chat`, and what the
/// response echoes.
#[derive(Debug)]
pub struct OllamaResponsesAsk {
    /// The native request.
    pub native: ChatRequest,
    /// What the reply echoes of the request.
    pub echo: Echo,
}

/// The fields of `ResponsesRequest` the response echoes.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    instructions: Option<String>,
    truncation: Option<String>,
    tools: Vec<RequestTool>,
    text_format: Option<TextFormat>,
    reasoning: Option<ReasoningRequest>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_output_tokens: Option<i64>,
    background: bool,
}

/// `ResponsesRequest` (`openai/responses.go:368-414`), less `input`, which [`conversation`]
/// reads the way its hand-written decoders do.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RequestHead {
    model: Option<String>,
    background: Option<bool>,
    instructions: Option<String>,
    max_output_tokens: Option<i64>,
    reasoning: Option<ReasoningRequest>,
    temperature: Option<f64>,
    text: Option<TextRequest>,
    top_p: Option<f64>,
    truncation: Option<String>,
    tools: Option<Vec<RequestTool>>,
    stream: Option<bool>,
    input: Value,
}

/// `ResponsesReasoning`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ReasoningRequest {
    effort: Option<String>,
    summary: Option<String>,
}

/// `ResponsesText`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct TextRequest {
    format: Option<TextFormat>,
}

/// `ResponsesTextFormat`: `schema` is a `json.RawMessage`, echoed as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct TextFormat {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    schema: Option<Value>,
    strict: Option<bool>,
}

/// `ResponsesTool`: `description`, `strict` and `parameters` are nullable, `tools` holds a
/// `namespace`'s members.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RequestTool {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    description: Option<String>,
    strict: Option<bool>,
    parameters: Option<Map<String, Value>>,
    tools: Option<Vec<RequestTool>>,
}

/// Reads a `/v1/responses` body as `ResponsesMiddleware` does; the error is the message of the
/// 400 it answers.
pub fn read(body: &[u8]) -> Result<OllamaResponsesAsk, String> {
    let head: RequestHead = parse_body(body).map_err(|error| match error {
        OllamaError::MissingBody => "EOF".to_owned(),
        other => other.to_string(),
    })?;
    let items = input_items(&head.input)?;
    let instructions = head.instructions.unwrap_or_default();
    let mut messages = Vec::new();
    if !instructions.is_empty() {
        messages.push(message("system", instructions.clone()));
    }
    if let Value::String(text) = &head.input
        && !text.is_empty()
    {
        messages.push(message("user", text.clone()));
    }
    messages.extend(conversation(items)?);

    let mut options = Map::new();
    options.insert(
        "temperature".to_owned(),
        json!(head.temperature.unwrap_or(1.0)),
    );
    if let Some(top_p) = head.top_p {
        options.insert("top_p".to_owned(), json!(top_p));
    }
    if let Some(limit) = head.max_output_tokens {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    let reasoning = head.reasoning.unwrap_or_default();
    let think = think_from_effort(reasoning.effort.as_deref().unwrap_or(""))?;
    let declared = head.tools.unwrap_or_default();
    let format = head
        .text
        .as_ref()
        .and_then(|text| text.format.as_ref())
        .filter(|format| format.kind.as_deref() == Some("json_schema"))
        .and_then(|format| format.schema.clone());
    let native = ChatRequest {
        model: head.model.unwrap_or_default(),
        messages,
        tools: native_tools(&declared),
        format,
        options: Some(options),
        stream: Some(head.stream == Some(true)),
        keep_alive: None,
        think,
    };
    let echoed_reasoning = Some(reasoning).filter(|reasoning| {
        reasoning.effort.as_deref().is_some_and(|e| !e.is_empty())
            || reasoning.summary.as_deref().is_some_and(|s| !s.is_empty())
    });
    Ok(OllamaResponsesAsk {
        native,
        echo: Echo {
            instructions: Some(instructions).filter(|text| !text.is_empty()),
            truncation: head.truncation,
            tools: declared,
            text_format: head.text.and_then(|text| text.format),
            reasoning: echoed_reasoning,
            temperature: head.temperature,
            top_p: head.top_p,
            max_output_tokens: head.max_output_tokens,
            background: head.background.unwrap_or(false),
        },
    })
}

fn message(role: &str, content: String) -> ollama::Message {
    ollama::Message {
        role: role.to_owned(),
        content,
        ..ollama::Message::default()
    }
}

/// One input item as Ollama's decoder types it.
#[derive(Debug)]
enum InputItem {
    Message {
        role: String,
        content: Vec<Content>,
    },
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: Output,
    },
    Reasoning {
        encrypted_content: String,
    },
    WebSearchCall,
}

/// A `function_call_output`'s `output`: the string shorthand, or content items.
#[derive(Debug)]
enum Output {
    Text(String),
    Items(Vec<Content>),
}

/// `ResponsesContent`.
#[derive(Debug)]
enum Content {
    Text(String),
    Image(String),
    File,
}

/// The JSON kind Go's `UnmarshalTypeError` names.
fn go_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string field of a Go struct: absent or `null` is `""`.
fn go_string(object: &Map<String, Value>, owner: &str, field: &str) -> Result<String, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field {owner}.{field} of type string",
            go_kind(other)
        )),
    }
}

/// `ResponsesInput.UnmarshalJSON`: a string (read by [`read`]) or an array of items.
fn input_items(input: &Value) -> Result<Vec<InputItem>, String> {
    match input {
        Value::Null | Value::String(_) => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| input_item(item).map_err(|error| format!("input[{i}]: {error}")))
            .collect(),
        other => Err(format!(
            "input must be a string or array: json: cannot unmarshal {} into Go value of type []json.RawMessage",
            go_kind(other)
        )),
    }
}

/// `unmarshalResponsesInputItem`: the `type` (or a bare `role`, for a message) picks the item.
fn input_item(item: &Value) -> Result<InputItem, String> {
    let Value::Object(object) = item else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type struct {{ Type string \"json:\\\"type\\\"\"; Role string \"json:\\\"role\\\"\" }}",
            go_kind(item)
        ));
    };
    let kind = go_string(object, "", "type")?;
    let role = go_string(object, "", "role")?;
    let kind = if kind.is_empty() && !role.is_empty() {
        "message".to_owned()
    } else {
        kind
    };
    match kind.as_str() {
        "message" => Ok(InputItem::Message {
            role,
            content: message_content(object.get("content"))?,
        }),
        "function_call" => Ok(InputItem::FunctionCall {
            call_id: go_string(object, "ResponsesFunctionCall", "call_id")?,
            name: go_string(object, "ResponsesFunctionCall", "name")?,
            arguments: go_string(object, "ResponsesFunctionCall", "arguments")?,
        }),
        "function_call_output" => Ok(InputItem::FunctionCallOutput {
            call_id: go_string(object, "", "call_id")?,
            output: match object.get("output") {
                None | Some(Value::Null) => Output::Text(String::new()),
                Some(Value::String(text)) => Output::Text(text.clone()),
                Some(Value::Array(items)) => Output::Items(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, part)| content(part).map_err(|e| format!("output[{i}]: {e}")))
                        .collect::<Result<_, _>>()?,
                ),
                Some(other) => {
                    return Err(format!(
                        "output must be a string or array: json: cannot unmarshal {} into Go value of type []json.RawMessage",
                        go_kind(other)
                    ));
                }
            },
        }),
        "reasoning" => Ok(InputItem::Reasoning {
            encrypted_content: go_string(object, "ResponsesReasoningInput", "encrypted_content")?,
        }),
        "web_search_call" => Ok(InputItem::WebSearchCall),
        "" => Err("input item missing required 'type' field".to_owned()),
        other => Err(format!("unknown input item type: {other:?}")),
    }
}

/// `ResponsesInputMessage.UnmarshalJSON`'s `content`: a string is one `input_text`.
fn message_content(value: Option<&Value>) -> Result<Vec<Content>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![Content::Text(text.clone())]),
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(i, part)| content(part).map_err(|error| format!("content[{i}]: {error}")))
            .collect(),
        Some(other) => Err(format!(
            "content must be a string or array: json: cannot unmarshal {} into Go value of type []json.RawMessage",
            go_kind(other)
        )),
    }
}

/// `unmarshalResponsesContent`.
fn content(part: &Value) -> Result<Content, String> {
    let Value::Object(object) = part else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type struct {{ Type string \"json:\\\"type\\\"\" }}",
            go_kind(part)
        ));
    };
    match go_string(object, "", "type")?.as_str() {
        "input_text" => Ok(Content::Text(go_string(
            object,
            "ResponsesTextContent",
            "text",
        )?)),
        "output_text" => Ok(Content::Text(go_string(
            object,
            "ResponsesOutputTextContent",
            "text",
        )?)),
        "input_image" => Ok(Content::Image(go_string(
            object,
            "ResponsesImageContent",
            "image_url",
        )?)),
        "input_file" => Ok(Content::File),
        other => Err(format!("unknown content type: {other}")),
    }
}

/// `convertResponsesContent`: text joined, images decoded (an image without a URL skipped),
/// files refused.
fn converted(parts: &[Content]) -> Result<(String, Vec<String>), String> {
    let mut text = String::new();
    let mut images = Vec::new();
    for part in parts {
        match part {
            Content::Text(part) => text.push_str(part),
            Content::Image(url) if url.is_empty() => {}
            Content::Image(url) => images.push(image_data(url)?),
            Content::File => return Err("file inputs are not currently supported".to_owned()),
        }
    }
    Ok((text, images))
}

/// The items as `/api/chat` messages (`FromResponsesRequest`, `openai/responses.go:436-545`):
/// reasoning rides on the next assistant message, function calls join the assistant message
/// before them, an assistant message replayed between a call and its output joins the call.
fn conversation(items: Vec<InputItem>) -> Result<Vec<ollama::Message>, String> {
    let mut messages: Vec<ollama::Message> = Vec::new();
    let mut pending_thinking = String::new();
    let next_output_ids: Vec<Option<String>> = items
        .iter()
        .skip(1)
        .map(|item| match item {
            InputItem::FunctionCallOutput { call_id, .. } => Some(call_id.clone()),
            _ => None,
        })
        .chain(std::iter::once(None))
        .collect();
    for (item, answered) in items.into_iter().zip(next_output_ids) {
        match item {
            InputItem::Reasoning { encrypted_content } => pending_thinking = encrypted_content,
            InputItem::Message { role, content } => {
                let (text, images) = converted(&content)?;
                let mut next = ollama::Message {
                    images,
                    ..message(&role, text)
                };
                if role == "assistant" && !pending_thinking.is_empty() {
                    next.thinking = std::mem::take(&mut pending_thinking);
                }
                if role == "assistant"
                    && let Some(answered) = answered.filter(|id| !id.is_empty())
                    && let Some(last) = messages.last_mut()
                    && last.role == "assistant"
                    && last
                        .tool_calls
                        .iter()
                        .any(|call| call.id.as_deref().unwrap_or("") == answered)
                {
                    if !last.content.is_empty() && !next.content.is_empty() {
                        last.content.push('\n');
                    }
                    last.content.push_str(&next.content);
                    last.images.append(&mut next.images);
                    if !next.thinking.is_empty() {
                        last.thinking = next.thinking;
                    }
                    continue;
                }
                messages.push(next);
            }
            InputItem::FunctionCall {
                call_id,
                name,
                arguments,
            } => {
                let arguments: Map<String, Value> = if arguments.is_empty() {
                    Map::new()
                } else {
                    parse_body(arguments.as_bytes()).map_err(|error| {
                        format!("failed to parse function call arguments: {error}")
                    })?
                };
                let call = ToolCall {
                    id: Some(call_id),
                    function: ollama::ToolCallFunction {
                        index: None,
                        name,
                        arguments,
                    },
                };
                let thinking = std::mem::take(&mut pending_thinking);
                match messages.last_mut().filter(|last| last.role == "assistant") {
                    Some(last) => {
                        last.tool_calls.push(call);
                        if !thinking.is_empty() {
                            last.thinking = thinking;
                        }
                    }
                    None => messages.push(ollama::Message {
                        tool_calls: vec![call],
                        thinking,
                        ..message("assistant", String::new())
                    }),
                }
            }
            InputItem::FunctionCallOutput { call_id, output } => {
                let (content, images) = match output {
                    Output::Text(text) => (text, Vec::new()),
                    Output::Items(parts) => converted(&parts)?,
                };
                messages.push(ollama::Message {
                    images,
                    tool_call_id: call_id,
                    ..message("tool", content)
                });
            }
            // Built-in tool calls are history; the assistant message after one carries its
            // result.
            InputItem::WebSearchCall => {}
        }
    }
    if !pending_thinking.is_empty() {
        messages.push(ollama::Message {
            thinking: pending_thinking,
            ..message("assistant", String::new())
        });
    }
    Ok(messages)
}

/// The tools the model sees: `namespace` members flattened under `<namespace>.`, the built-in
/// `web_search` as Ollama's own function (a user function of that name dropped beside it).
fn native_tools(declared: &[RequestTool]) -> Vec<ollama::Tool> {
    let has_web_search = declared
        .iter()
        .any(|tool| tool.kind.as_deref() == Some("web_search"));
    let mut tools = Vec::new();
    for tool in declared {
        if tool.kind.as_deref() == Some("web_search") {
            tools.push(web_search_tool());
            continue;
        }
        for expanded in expand(tool) {
            if has_web_search && expanded.function.name == "web_search" {
                continue;
            }
            tools.push(expanded);
        }
    }
    tools
}

/// `convertTools`: a declaration, or a namespace's members with qualified names.
fn expand(tool: &RequestTool) -> Vec<ollama::Tool> {
    if tool.kind.as_deref() != Some("namespace") {
        return vec![ollama::Tool {
            kind: tool.kind.clone().unwrap_or_default(),
            function: ollama::ToolFunction {
                name: tool.name.clone().unwrap_or_default(),
                description: tool.description.clone(),
                parameters: tool.parameters.clone().map_or(Value::Null, Value::Object),
            },
        }];
    }
    let namespace = tool.name.as_deref().unwrap_or("");
    let prefix = format!("{namespace}.");
    tool.tools
        .iter()
        .flatten()
        .flat_map(expand)
        .map(|mut member| {
            if !namespace.is_empty() && !member.function.name.starts_with(&prefix) {
                member.function.name = format!("{prefix}{}", member.function.name);
            }
            member
        })
        .collect()
}

/// `WebSearchFunctionTool`.
fn web_search_tool() -> ollama::Tool {
    ollama::Tool {
        kind: "function".to_owned(),
        function: ollama::ToolFunction {
            name: "web_search".to_owned(),
            description: Some("Search the web for current information.".to_owned()),
            parameters: json!({
                "type": "object",
                "required": ["query"],
                "properties": {"query": {"type": "string", "description": "The search query."}},
            }),
        },
    }
}

/// The response's ids, drawn as `ResponsesMiddleware` draws them.
#[derive(Debug)]
struct Ids {
    rng: DetRng,
    response: String,
    message: String,
}

impl Ids {
    fn new(seed: u64) -> Self {
        let mut rng = DetRng::new(seed.rotate_left(23));
        let response = format!("resp_{}", rng.below(999_999));
        let message = format!("msg_{}", rng.below(999_999));
        Ids {
            rng,
            response,
            message,
        }
    }

    /// A stream's fresh `<prefix>_<0..999998>`.
    fn draw(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.rng.below(999_999))
    }
}

impl Echo {
    /// `tools` of a whole body: `ResponsesTool` structs.
    fn tools(&self) -> Value {
        fn declared(tool: &RequestTool) -> Value {
            let mut object = Map::new();
            object.insert("type".to_owned(), json!(tool.kind.as_deref().unwrap_or("")));
            object.insert("name".to_owned(), json!(tool.name.as_deref().unwrap_or("")));
            object.insert("description".to_owned(), json!(tool.description));
            object.insert("strict".to_owned(), json!(tool.strict));
            object.insert("parameters".to_owned(), go_map(json!(tool.parameters)));
            if let Some(members) = tool.tools.as_ref().filter(|members| !members.is_empty()) {
                object.insert(
                    "tools".to_owned(),
                    Value::Array(members.iter().map(declared).collect()),
                );
            }
            Value::Object(object)
        }
        Value::Array(self.tools.iter().map(declared).collect())
    }

    /// `text` of a whole body: the request's format as a `ResponsesTextFormat` struct.
    fn text(&self) -> Value {
        let Some(format) = &self.text_format else {
            return json!({"format": {"type": "text"}});
        };
        let mut object = Map::new();
        object.insert(
            "type".to_owned(),
            json!(format.kind.as_deref().unwrap_or("")),
        );
        if let Some(name) = format.name.as_deref().filter(|name| !name.is_empty()) {
            object.insert("name".to_owned(), json!(name));
        }
        if let Some(schema) = &format.schema {
            object.insert("schema".to_owned(), schema.clone());
        }
        if let Some(strict) = format.strict {
            object.insert("strict".to_owned(), json!(strict));
        }
        json!({ "format": object })
    }

    /// `reasoning` of a whole body: `effort` and `summary` when set.
    fn reasoning(&self) -> Value {
        let Some(reasoning) = &self.reasoning else {
            return Value::Null;
        };
        let mut object = Map::new();
        for (key, value) in [
            ("effort", &reasoning.effort),
            ("summary", &reasoning.summary),
        ] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                object.insert(key.to_owned(), json!(value));
            }
        }
        Value::Object(object)
    }

    /// The `ResponsesResponse` struct (`openai/responses.go:782-814`), in its field order.
    fn response(&self, head: Head<'_>, output: Value, usage: Value) -> Value {
        json!({
            "id": head.id,
            "object": "response",
            "created_at": head.created_at,
            "completed_at": head.completed_at,
            "status": head.status,
            "incomplete_details": null,
            "model": head.model,
            "previous_response_id": null,
            "instructions": self.instructions,
            "output": output,
            "error": null,
            "tools": self.tools(),
            "tool_choice": "auto",
            "truncation": self.truncation.as_deref().unwrap_or("disabled"),
            "parallel_tool_calls": true,
            "text": self.text(),
            "top_p": self.top_p.unwrap_or(1.0),
            "presence_penalty": 0.0,
            "frequency_penalty": 0.0,
            "top_logprobs": 0,
            "temperature": self.temperature.unwrap_or(1.0),
            "reasoning": self.reasoning(),
            "usage": usage,
            "max_output_tokens": self.max_output_tokens,
            "max_tool_calls": null,
            "store": false,
            "background": self.background,
            "service_tier": "default",
            "metadata": {},
            "safety_identifier": null,
            "prompt_cache_key": null,
        })
    }

    /// The stream's response object (`buildResponseObject`): the same fields as a Go map, so
    /// sorted, with `tools` cut to five keys, and the reasoning's unset keys `null`.
    fn streamed_response(&self, head: Head<'_>, output: Value, usage: Value) -> Value {
        let mut response = self.response(head, output, usage);
        response["tools"] = self
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": tool.kind.as_deref().unwrap_or(""),
                    "name": tool.name.as_deref().unwrap_or(""),
                    "description": tool.description,
                    "strict": tool.strict,
                    "parameters": tool.parameters,
                })
            })
            .collect();
        if let Some(reasoning) = &self.reasoning {
            response["reasoning"] = json!({
                "effort": reasoning.effort.as_deref().filter(|e| !e.is_empty()),
                "summary": reasoning.summary.as_deref().filter(|s| !s.is_empty()),
            });
        }
        let schema = self
            .text_format
            .as_ref()
            .and_then(|format| format.schema.clone());
        let mut response = go_map(response);
        // The schema is a `json.RawMessage`: written as sent, its keys unsorted.
        if let Some(schema) = schema {
            response["text"]["format"]["schema"] = schema;
        }
        response
    }
}

/// A response's head fields.
#[derive(Debug, Clone, Copy)]
struct Head<'a> {
    id: &'a str,
    model: &'a str,
    status: &'static str,
    created_at: i64,
    completed_at: Option<i64>,
}

/// A Go map as `encoding/json` writes it: keys sorted, at every depth.
fn go_map(mut value: Value) -> Value {
    value.sort_all_objects();
    value
}

/// `ResponsesUsage` of a finished turn (no cached or reasoning token counts).
fn usage(turn: &Turn) -> Value {
    let (input, output) = (turn.metrics.prompt_eval_count, turn.metrics.eval_count);
    json!({
        "input_tokens": input,
        "output_tokens": output,
        "total_tokens": input + output,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    })
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// The `response` object of a `stream: false` request (`ToResponse`): reasoning, then either
/// the function calls or the message.
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> Value {
    let ids = Ids::new(ctx.seed);
    let whole = turn.aggregate();
    let mut output = Vec::new();
    if !whole.thinking.is_empty() {
        output.push(json!({
            "id": format!("rs_{}", ids.response),
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": whole.thinking}],
            "encrypted_content": whole.thinking,
        }));
    }
    if whole.tool_calls.is_empty() {
        output.push(json!({
            "id": ids.message,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [output_text(&whole.content)],
        }));
    }
    for (position, call) in whole.tool_calls.iter().enumerate() {
        // `ResponsesOutputItem` omits every empty optional field.
        let mut item = Map::new();
        item.insert(
            "id".to_owned(),
            json!(format!("fc_{}_{position}", ids.response)),
        );
        item.insert("type".to_owned(), json!("function_call"));
        item.insert("status".to_owned(), json!("completed"));
        let call_id = call.id.as_deref().unwrap_or("");
        for (key, value) in [("call_id", call_id), ("name", call.function.name.as_str())] {
            if !value.is_empty() {
                item.insert(key.to_owned(), json!(value));
            }
        }
        item.insert(
            "arguments".to_owned(),
            json!(ctx.arguments(&call.function.arguments)),
        );
        output.push(Value::Object(item));
    }
    let finished = ctx.created(turn, turn.chunks.len());
    let head = Head {
        id: &ids.response,
        model: ctx.model,
        status: "completed",
        created_at: finished,
        completed_at: Some(finished),
    };
    echo.response(head, Value::Array(output), usage(turn))
}

/// A streamed response: one [`Line`] of events per native line, with how faults look in it.
#[derive(Debug)]
pub struct OllamaResponsesStream {
    /// The event groups, each with the delay of its native line.
    pub lines: Vec<Line>,
    /// How faults look in this stream.
    pub framing: OllamaResponsesFraming,
}

/// Writes the events of a streamed response, one native line at a time, as
/// `ResponsesStreamConverter.Process` turns each `/api/chat` chunk into events.
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, echo: &Echo) -> OllamaResponsesStream {
    let ids = Ids::new(ctx.seed);
    let mut converter = Converter {
        ctx,
        echo,
        response_id: ids.response.clone(),
        message_id: ids.message.clone(),
        ids,
        sequence_number: 0,
        output_index: 0,
        content_started: false,
        tool_calls_sent: false,
        text: String::new(),
        reasoning: None,
        completed: Vec::new(),
        out: Vec::new(),
    };
    let lines = turn
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let now = ctx.created(turn, index);
            if line.first {
                let head = converter.head("in_progress", now);
                let response = echo.streamed_response(head, json!([]), Value::Null);
                converter.event("response.created", json!({"response": response.clone()}));
                converter.event("response.in_progress", json!({"response": response}));
            }
            converter.process(line.chunk);
            if line.last {
                converter.complete(turn, now);
            }
            Line {
                delay: line.delay,
                bytes: Bytes::from(std::mem::take(&mut converter.out)),
            }
        })
        .collect();
    OllamaResponsesStream {
        lines,
        framing: OllamaResponsesFraming,
    }
}

/// The reasoning item being streamed.
#[derive(Debug)]
struct OpenReasoning {
    id: String,
    text: String,
}

/// `ResponsesStreamConverter`'s state.
struct Converter<'a, 'c> {
    ctx: &'a ReplyContext<'c>,
    echo: &'a Echo,
    ids: Ids,
    response_id: String,
    message_id: String,
    sequence_number: u64,
    output_index: u64,
    content_started: bool,
    tool_calls_sent: bool,
    /// The message's text so far.
    text: String,
    reasoning: Option<OpenReasoning>,
    /// Items finished before the message, in output order.
    completed: Vec<Value>,
    /// The bytes of the line being written.
    out: Vec<u8>,
}

impl Converter<'_, '_> {
    fn head(&self, status: &'static str, now: i64) -> Head<'_> {
        Head {
            id: &self.response_id,
            model: self.ctx.model,
            status,
            created_at: now,
            completed_at: None,
        }
    }

    /// `newEvent`: the data with its `type` and `sequence_number`, as a sorted Go map.
    fn event(&mut self, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence_number);
        self.sequence_number += 1;
        let data = go_map(data);
        self.out.extend(encode::named_event(
            self.ctx.dialect.event_json,
            kind,
            &data,
        ));
    }

    /// `Process`: thinking, then tool calls, then text unless tools were called.
    fn process(&mut self, chunk: &ChunkSpec) {
        if !chunk.thinking.is_empty() {
            self.thinking(&chunk.thinking);
        }
        if !chunk.tool_calls.is_empty() {
            self.finish_reasoning();
            self.function_calls(&chunk.tool_calls);
            self.tool_calls_sent = true;
        } else if !self.tool_calls_sent && !chunk.content.is_empty() {
            self.text(&chunk.content);
        }
    }

    fn thinking(&mut self, delta: &str) {
        if self.reasoning.is_none() {
            let id = self.ids.draw("rs");
            self.event(
                "response.output_item.added",
                json!({
                    "output_index": self.output_index,
                    "item": {"id": id, "type": "reasoning", "summary": []},
                }),
            );
            self.reasoning = Some(OpenReasoning {
                id,
                text: String::new(),
            });
        }
        let Some(reasoning) = self.reasoning.as_mut() else {
            return;
        };
        reasoning.text.push_str(delta);
        let id = reasoning.id.clone();
        self.event(
            "response.reasoning_summary_text.delta",
            json!({
                "item_id": id,
                "output_index": self.output_index,
                "summary_index": 0,
                "delta": delta,
            }),
        );
    }

    fn finish_reasoning(&mut self) {
        let Some(OpenReasoning { id, text }) = self.reasoning.take() else {
            return;
        };
        let item = json!({
            "id": id,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": text}],
            "encrypted_content": text,
        });
        self.completed.push(item.clone());
        let output_index = self.output_index;
        self.output_index += 1;
        self.event(
            "response.reasoning_summary_text.done",
            json!({"item_id": id, "output_index": output_index, "summary_index": 0, "text": text}),
        );
        self.event(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
    }

    /// `emitFunctionCallEvents`: each call added, its arguments in one delta, done.
    fn function_calls(&mut self, calls: &[ToolCall]) {
        for (position, call) in calls.iter().enumerate() {
            let output_index = self.output_index + position as u64;
            let id = format!("{}_{position}", self.ids.draw("fc"));
            let arguments = self.ctx.arguments(&call.function.arguments);
            let call_id = call.id.as_deref().unwrap_or("");
            let item = json!({
                "id": id,
                "type": "function_call",
                "status": "completed",
                "call_id": call_id,
                "name": call.function.name,
                "arguments": arguments,
            });
            self.completed.push(item.clone());
            self.event(
                "response.output_item.added",
                json!({
                    "output_index": output_index,
                    "item": {
                        "id": id,
                        "type": "function_call",
                        "status": "in_progress",
                        "call_id": call_id,
                        "name": call.function.name,
                        "arguments": "",
                    },
                }),
            );
            self.event(
                "response.function_call_arguments.delta",
                json!({"item_id": id, "output_index": output_index, "delta": arguments}),
            );
            self.event(
                "response.function_call_arguments.done",
                json!({"item_id": id, "output_index": output_index, "arguments": arguments}),
            );
            self.event(
                "response.output_item.done",
                json!({"output_index": output_index, "item": item}),
            );
        }
        self.output_index += calls.len() as u64;
    }

    fn text(&mut self, delta: &str) {
        self.finish_reasoning();
        if !self.content_started {
            self.content_started = true;
            self.event(
                "response.output_item.added",
                json!({
                    "output_index": self.output_index,
                    "item": {
                        "id": self.message_id,
                        "type": "message",
                        "status": "in_progress",
                        "role": "assistant",
                        "content": [],
                    },
                }),
            );
            self.event(
                "response.content_part.added",
                json!({
                    "item_id": self.message_id,
                    "output_index": self.output_index,
                    "content_index": 0,
                    "part": output_text(""),
                }),
            );
        }
        self.text.push_str(delta);
        self.event(
            "response.output_text.delta",
            json!({
                "item_id": self.message_id,
                "output_index": self.output_index,
                "content_index": 0,
                "delta": delta,
                "logprobs": [],
            }),
        );
    }

    fn message_item(&self) -> Value {
        json!({
            "id": self.message_id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [output_text(&self.text)],
        })
    }

    /// `processCompletion`: the open items closed (the message only if no tool was called),
    /// then `response.completed` with every item, the message last.
    fn complete(&mut self, turn: &Turn, now: i64) {
        self.finish_reasoning();
        if !self.tool_calls_sent && self.content_started {
            let text = self.text.clone();
            self.event(
                "response.output_text.done",
                json!({
                    "item_id": self.message_id,
                    "output_index": self.output_index,
                    "content_index": 0,
                    "text": text,
                    "logprobs": [],
                }),
            );
            self.event(
                "response.content_part.done",
                json!({
                    "item_id": self.message_id,
                    "output_index": self.output_index,
                    "content_index": 0,
                    "part": output_text(&text),
                }),
            );
            let item = self.message_item();
            self.event(
                "response.output_item.done",
                json!({"output_index": self.output_index, "item": item}),
            );
        }
        let mut output = self.completed.clone();
        if self.content_started {
            output.push(self.message_item());
        }
        let head = Head {
            completed_at: Some(now),
            ..self.head("completed", now)
        };
        let response = self
            .echo
            .streamed_response(head, Value::Array(output), usage(turn));
        self.event("response.completed", json!({ "response": response }));
    }
}

/// Faults in Ollama's Responses stream: a mid-stream error is lost (the body just ends), a
/// malformed line is an event whose data is not JSON.
#[derive(Debug, Clone, Copy)]
pub struct OllamaResponsesFraming;

impl Framing for OllamaResponsesFraming {
    fn error_line(&self, _message: &str) -> Option<Bytes> {
        Some(Bytes::new())
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!(
            "event: response.output_text.delta\ndata: {}\n\n",
            line.unwrap_or("{\"type\":")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(body: Value) -> ChatRequest {
        read(body.to_string().as_bytes()).expect("accepted").native
    }

    #[test]
    fn instructions_and_a_string_input_become_system_and_user_messages() {
        let request = native(
            json!({"model": "m", "instructions": "Be brief.", "input": "hi",
                                    "max_output_tokens": 9}),
        );
        let roles: Vec<(&str, &str)> = request
            .messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(roles, [("system", "Be brief."), ("user", "hi")]);
        assert_eq!(
            request.options,
            Some(
                json!({"temperature": 1.0, "num_predict": 9})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            ),
            "OpenAI's default temperature, not the model's"
        );
        assert_eq!(request.stream, Some(false));
    }

    #[test]
    fn a_replayed_turn_is_one_assistant_message_with_its_reasoning_and_call() {
        let request = native(json!({"model": "m", "input": [
            {"role": "user", "content": "weather?"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "Look it up."},
            {"type": "function_call", "call_id": "c1", "name": "get_weather",
             "arguments": "{\"city\":\"Paris\"}"},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "Checking."}]},
            {"type": "function_call_output", "call_id": "c1", "output": [
                {"type": "input_text", "text": "18"}, {"type": "input_text", "text": "C"}]},
        ]}));
        let messages = &request.messages;
        assert_eq!(messages.len(), 3, "{messages:?}");
        let assistant = &messages[1];
        assert_eq!(assistant.role, "assistant");
        assert_eq!(assistant.thinking, "Look it up.");
        assert_eq!(assistant.content, "Checking.");
        assert_eq!(assistant.tool_calls[0].id.as_deref(), Some("c1"));
        assert_eq!(
            Value::Object(assistant.tool_calls[0].function.arguments.clone()),
            json!({"city": "Paris"})
        );
        assert_eq!(
            (messages[2].role.as_str(), messages[2].content.as_str()),
            ("tool", "18C")
        );
        assert_eq!(messages[2].tool_call_id, "c1");
        assert_eq!(messages[2].tool_name, "", "Ollama's layer names no tool");
    }

    #[test]
    fn trailing_reasoning_is_an_assistant_message_of_its_own() {
        let request = native(json!({"model": "m", "input": [
            {"role": "user", "content": "hi"},
            {"type": "reasoning", "summary": [], "encrypted_content": "Hmm."},
        ]}));
        assert_eq!(request.messages[1].role, "assistant");
        assert_eq!(request.messages[1].thinking, "Hmm.");
    }

    #[test]
    fn namespaces_flatten_and_web_search_is_ollamas_function() {
        let request = native(json!({"model": "m", "input": "hi", "tools": [
            {"type": "namespace", "name": "files", "tools": [
                {"type": "function", "name": "read"}, {"type": "function", "name": "files.write"}]},
            {"type": "web_search"},
            {"type": "function", "name": "web_search"},
        ]}));
        let names: Vec<&str> = request
            .tools
            .iter()
            .map(|tool| tool.function.name.as_str())
            .collect();
        assert_eq!(names, ["files.read", "files.write", "web_search"]);
        assert_eq!(
            request.tools[2].function.parameters["required"],
            json!(["query"])
        );
    }

    #[test]
    fn an_empty_body_is_gins_eof() {
        assert_eq!(read(b"").map(|_| ()), Err("EOF".to_owned()));
    }
}

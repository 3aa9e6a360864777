//! OpenAI request bodies → the native requests the mock's pipeline answers, the way each dialect
//! reads them. For Ollama this is `openai.FromChatRequest` / `FromCompleteRequest`
//! (`openai/openai.go:549-723`, `:787-850`) and the checks of `middleware/openai.go:446-484`;
//! for OpenAI it is the reference validation of `wire::openai::validate` first.
//!
//! A conversation arrives at the pipeline as the same native messages an `/api/chat` client would
//! send, so one scenario answers both dialects with the same reply.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use wire::{
    ollama::{self, ChatRequest, GenerateRequest, knobs},
    openai::{
        ChatCompletionRequest,
        responses::{CreateResponse, Input, InputItem, Item, chat::chat_request},
        validate::InvalidRequest,
    },
};

use super::{
    conversion::{
        joined_message, ollama_messages, response_format, sampling_options, think_from_effort,
    },
    error::ApiError,
    flavor::{Dialect, Validation},
    refusal::{go_decode_message, llama_cpp_python_request, vllm_request},
    response_store::{ResponseStore, StoredResponse},
};
use crate::error::parse_body;

/// A checked `/v1/chat/completions` request.
#[derive(Debug)]
pub struct ChatAsk {
    /// What the native pipeline answers.
    pub native: ChatRequest,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// How many choices to write (`n` where the dialect honours it).
    pub choices: usize,
    /// `top_logprobs` when the request asked for `logprobs`.
    pub logprobs: Option<usize>,
}

/// Reads a `/v1/chat/completions` body as the dialect's server would.
pub fn chat(dialect: &'static Dialect, body: &[u8]) -> Result<ChatAsk, ApiError> {
    let invalid = |message: String| ApiError::invalid(dialect, InvalidRequest::new(message, None));
    let request: ChatCompletionRequest = match dialect.validation {
        Validation::Ollama => {
            let request: ChatCompletionRequest =
                parse_body(body).map_err(|error| invalid(go_decode_message(error)))?;
            if request.messages.as_ref().is_none_or(Vec::is_empty) {
                return Err(invalid("[] is too short - 'messages'".to_owned()));
            }
            request
        }
        Validation::Openai => wire::openai::validate::chat_request(body)
            .map_err(|error| ApiError::invalid(dialect, error))?,
        Validation::LlamaCppPython => llama_cpp_python_request(dialect, body)?,
        Validation::Vllm => vllm_request(body).map_err(invalid)?,
    };
    chat_ask(dialect, &request)
}

/// A `/v1/responses` request the dialect's server accepts, with the chat it amounts to.
#[derive(Debug)]
pub struct ResponsesAsk {
    /// The request as sent.
    pub request: CreateResponse,
    /// The stored response it continues (`previous_response_id`).
    pub previous: Option<Arc<StoredResponse>>,
    /// The chat it amounts to, for the native pipeline.
    pub chat: ChatAsk,
}

/// Reads a `/v1/responses` body as OpenAI does: its types, a model, a `previous_response_id` the
/// store keeps, an input whose `item_reference`s name kept items (each replaced by the item),
/// `max_output_tokens` of at least 16.
pub fn responses(
    dialect: &'static Dialect,
    body: &[u8],
    store: &ResponseStore,
) -> Result<ResponsesAsk, ApiError> {
    let refuse = |message: String, param: &str, code: Option<&'static str>| {
        ApiError::invalid(
            dialect,
            InvalidRequest {
                message,
                param: Some(param.to_owned()),
                code,
            },
        )
    };
    let mut request: CreateResponse =
        wire::openai::validate::parse(body).map_err(|error| ApiError::invalid(dialect, error))?;
    if request.model.as_deref().is_none_or(str::is_empty) {
        return Err(refuse(
            "Missing required parameter: 'model'.".to_owned(),
            "model",
            Some("missing_required_parameter"),
        ));
    }
    let previous = match &request.previous_response_id {
        None => None,
        Some(id) => Some(store.get(id).ok_or_else(|| {
            refuse(
                format!("Previous response with id '{id}' not found."),
                "previous_response_id",
                Some("previous_response_not_found"),
            )
        })?),
    };
    if request.input.is_none() {
        return Err(refuse(
            "Missing required parameter: 'input'.".to_owned(),
            "input",
            Some("missing_required_parameter"),
        ));
    }
    if let Some(Input::Items(items)) = &mut request.input {
        for item in items {
            if let InputItem::Item(Item::ItemReference { id }) = item {
                let referred = store
                    .item(id)
                    .ok_or_else(|| ApiError::no_stored_item(dialect, id))?;
                *item = InputItem::Item(referred);
            }
        }
    }
    if let Some(limit) = request.max_output_tokens.filter(|limit| *limit < 16) {
        return Err(refuse(
            format!(
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {limit} instead."
            ),
            "max_output_tokens",
            Some("integer_below_min_value"),
        ));
    }
    let earlier = previous
        .as_deref()
        .map_or(&[][..], |stored| &stored.conversation);
    let chat =
        chat_request(&request, earlier).map_err(|error| ApiError::invalid(dialect, error))?;
    let chat = chat_ask(dialect, &chat)?;
    Ok(ResponsesAsk {
        request,
        previous,
        chat,
    })
}

/// The native request a checked chat amounts to in the dialect.
pub fn chat_ask(
    dialect: &'static Dialect,
    request: &ChatCompletionRequest,
) -> Result<ChatAsk, ApiError> {
    let invalid = |message: String| ApiError::invalid(dialect, InvalidRequest::new(message, None));
    let messages = request.messages.as_deref().unwrap_or_default();
    let native_messages = match dialect.validation {
        Validation::Ollama => ollama_messages(messages),
        Validation::Openai | Validation::LlamaCppPython | Validation::Vllm => {
            Ok(messages.iter().map(joined_message).collect())
        }
    }
    .map_err(invalid)?;

    let mut options = sampling_options(request);
    let limit = match dialect.honours_max_completion_tokens {
        true => request.max_completion_tokens.or(request.max_tokens),
        false => request.max_tokens,
    };
    if let Some(limit) = limit {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    let effort = request
        .reasoning
        .as_ref()
        .and_then(|reasoning| reasoning.effort.as_deref())
        .or(request.reasoning_effort.as_deref())
        .unwrap_or("");
    let think = match dialect.validation {
        Validation::Ollama => think_from_effort(effort).map_err(invalid)?,
        // OpenAI's (and vLLM's) models reason or not by themselves; only `none` turns it off.
        Validation::Openai | Validation::Vllm => (effort == "none").then_some(Value::Bool(false)),
        // llama-cpp-python has no reasoning parameter.
        Validation::LlamaCppPython => None,
    };
    let mut tools = request
        .tools
        .iter()
        .flatten()
        .map(|tool| serde_json::to_value(tool).and_then(ollama::Tool::deserialize))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("invalid tools: {error}")))?;
    if dialect.honours_tool_choice_none && request.tool_choice.as_ref() == Some(&json!("none")) {
        // The model is not offered the tools it may not call.
        tools.clear();
    }
    let choices = match dialect.honours_n {
        true => request.n.map_or(1, |n| n.max(1) as usize),
        false => 1,
    };
    Ok(ChatAsk {
        native: ChatRequest {
            model: request.model.clone().unwrap_or_default(),
            messages: native_messages,
            tools,
            format: response_format(request),
            options: Some(options),
            stream: Some(request.is_streaming()),
            keep_alive: None,
            think,
        },
        include_usage: request.wants_stream_usage(),
        choices,
        logprobs: (request.logprobs == Some(true)).then(|| {
            request
                .top_logprobs
                .map_or(0, |top| top.clamp(0, 20) as usize)
        }),
    })
}

/// `POST /v1/completions` body (Ollama's `CompletionRequest`).
#[derive(Debug, Default, Deserialize)]
struct CompletionRequest {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt: Option<Value>,
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    stop: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<wire::openai::StreamOptions>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    frequency_penalty: Option<f64>,
    #[serde(default)]
    presence_penalty: Option<f64>,
    #[serde(default)]
    suffix: Option<String>,
}

/// A checked `/v1/completions` request.
#[derive(Debug)]
pub struct CompletionAsk {
    /// What the native pipeline answers.
    pub native: GenerateRequest,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
}

/// Reads a `/v1/completions` body.
pub fn completion(dialect: &'static Dialect, body: &[u8]) -> Result<CompletionAsk, ApiError> {
    let invalid = |message: String, param: Option<&str>| {
        ApiError::invalid(
            dialect,
            InvalidRequest::new(message, param.map(str::to_owned)),
        )
    };
    let request: CompletionRequest =
        parse_body(body).map_err(|error| invalid(go_decode_message(error), None))?;
    let prompt = match request.prompt {
        Some(Value::String(prompt)) => prompt,
        None | Some(Value::Null) if dialect.validation != Validation::Openai => String::new(),
        None | Some(Value::Null) => {
            return Err(invalid(
                "Missing required parameter: 'prompt'.".to_owned(),
                Some("prompt"),
            ));
        }
        Some(other) => {
            return Err(invalid(
                format!(
                    "json: cannot unmarshal {} into Go struct field CompletionRequest.prompt of type string",
                    knobs::go_type_name(&other)
                ),
                Some("prompt"),
            ));
        }
    };
    if dialect.validation == Validation::Openai
        && request.model.as_deref().is_none_or(str::is_empty)
    {
        return Err(invalid(
            "Missing required parameter: 'model'.".to_owned(),
            Some("model"),
        ));
    }
    let mut options = Map::new();
    match &request.stop {
        Some(Value::String(stop)) => {
            options.insert("stop".to_owned(), json!([stop]));
        }
        Some(Value::Array(stops)) => {
            if let Some(bad) = stops.iter().find(|stop| !stop.is_string()) {
                return Err(invalid(
                    format!(
                        "invalid type for 'stop' field: {}",
                        knobs::go_type_name(bad)
                    ),
                    Some("stop"),
                ));
            }
            options.insert("stop".to_owned(), Value::Array(stops.clone()));
        }
        _ => {}
    }
    if let Some(limit) = request.max_tokens {
        options.insert("num_predict".to_owned(), json!(limit));
    }
    options.insert(
        "temperature".to_owned(),
        json!(request.temperature.unwrap_or(1.0)),
    );
    if let Some(seed) = request.seed {
        options.insert("seed".to_owned(), json!(seed));
    }
    options.insert(
        "frequency_penalty".to_owned(),
        json!(request.frequency_penalty.unwrap_or(0.0)),
    );
    options.insert(
        "presence_penalty".to_owned(),
        json!(request.presence_penalty.unwrap_or(0.0)),
    );
    options.insert(
        "top_p".to_owned(),
        json!(request.top_p.filter(|p| *p != 0.0).unwrap_or(1.0)),
    );
    Ok(CompletionAsk {
        native: GenerateRequest {
            model: request.model.unwrap_or_default(),
            prompt,
            suffix: request.suffix.unwrap_or_default(),
            options: Some(options),
            stream: Some(request.stream == Some(true)),
            ..GenerateRequest::default()
        },
        include_usage: request
            .stream_options
            .and_then(|options| options.include_usage)
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::conversion::think_from_effort;
    use crate::openai::flavor::{OLLAMA, OPENAI};

    fn ollama(body: Value) -> Result<ChatAsk, ApiError> {
        chat(&OLLAMA, body.to_string().as_bytes())
    }

    #[test]
    fn ollama_forces_temperature_and_top_p_and_maps_max_tokens() {
        let ask = ollama(json!({"model": "m", "max_tokens": 999, "stop": "x",
            "messages": [{"role": "user", "content": "hi"}]}))
        .expect("valid");
        assert_eq!(
            Value::Object(ask.native.options.expect("options")),
            json!({"stop": ["x"], "temperature": 1.0, "top_p": 1.0, "num_predict": 999})
        );
        assert_eq!(ask.native.stream, Some(false));
    }

    #[test]
    fn ollama_ignores_max_completion_tokens_and_openai_honours_it() {
        let body = json!({"model": "m", "max_completion_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}]});
        let ignored = ollama(body.clone()).expect("valid").native.options;
        assert!(!ignored.expect("options").contains_key("num_predict"));
        let honoured = chat(&OPENAI, body.to_string().as_bytes()).expect("valid");
        assert_eq!(honoured.native.options.expect("options")["num_predict"], 5);
    }

    #[test]
    fn ollama_splits_content_parts_into_messages() {
        let ask = ollama(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
            ]}]}),
        )
        .expect("valid");
        let messages = ask.native.messages;
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].content, "What is this?");
        assert_eq!(messages[1].images, ["AAAA"]);
    }

    #[test]
    fn ollama_rejects_what_its_layer_rejects_with_its_words() {
        let cases = [
            (
                json!({"model": "m", "messages": []}),
                "[] is too short - 'messages'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "content": null}]}),
                "invalid message content type: <nil>",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
                "invalid message content type: float64",
            ),
            (
                json!({"model": "m", "reasoning_effort": "extreme", "messages": [{"role": "user", "content": "x"}]}),
                "invalid reasoning value: \"extreme\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}]}),
                "image URLs are not currently supported, please use base64 encoded data instead",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
                "invalid tool call arguments",
            ),
        ];
        for (body, message) in cases {
            let error = ollama(body.clone()).expect_err("invalid");
            assert_eq!(error.status(), 400, "{body}");
            assert_eq!(error.object()["error"]["message"], message, "{body}");
            assert_eq!(error.object()["error"]["type"], "invalid_request_error");
        }
    }

    #[test]
    fn tool_results_are_named_after_the_call_they_answer() {
        let ask = ollama(json!({"model": "m", "messages": [
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
        ]}))
        .expect("valid");
        assert_eq!(ask.native.messages[1].tool_name, "get_weather");
        assert_eq!(
            ask.native.messages[0].tool_calls[0].function.arguments["city"],
            "Paris"
        );
    }

    #[test]
    fn reasoning_effort_maps_to_think_levels() {
        for (effort, think) in [
            ("none", json!(false)),
            ("minimal", json!("low")),
            ("high", json!("high")),
            ("xhigh", json!("max")),
        ] {
            assert_eq!(think_from_effort(effort), Ok(Some(think)), "{effort}");
        }
        assert_eq!(think_from_effort(""), Ok(None));
    }

    #[test]
    fn completions_reject_non_string_stops_like_ollama() {
        let error = completion(&OLLAMA, br#"{"model":"m","prompt":"x","stop":[1,2]}"#)
            .expect_err("invalid");
        assert_eq!(
            error.object()["error"]["message"],
            "invalid type for 'stop' field: float64"
        );
    }
}

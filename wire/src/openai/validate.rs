//! What OpenAI accepts in a `/v1/chat/completions` body (REQ-001..011 of the conformance
//! checklist), with OpenAI's wording and the offending `param`. Malformed JSON and wrong types are
//! invalid requests (a 400), never 422 or 500. Shared by the gateway (before any upstream call)
//! and by mock-ollama's conformant `openai` flavour.

use serde_json::Value;

use super::{ChatCompletionRequest, ChatMessage, Tool};

/// A request OpenAI would answer with 400 `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidRequest {
    /// What is wrong, in OpenAI's phrasing where one exists.
    pub message: String,
    /// The offending parameter path, e.g. `messages.[2].tool_call_id`.
    pub param: Option<String>,
    /// A machine slug, e.g. `empty_array`.
    pub code: Option<&'static str>,
}

impl InvalidRequest {
    /// An invalid request for `param` with `message` and no code.
    pub fn new(message: impl Into<String>, param: impl Into<Option<String>>) -> Self {
        InvalidRequest {
            message: message.into(),
            param: param.into(),
            code: None,
        }
    }
}

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];
const EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

/// Parses a `/v1/chat/completions` body and checks it.
pub fn chat_request(body: &[u8]) -> Result<ChatCompletionRequest, InvalidRequest> {
    let request = parse(body)?;
    check(&request)?;
    Ok(request)
}

/// Parses JSON into a typed body, naming the path of a wrongly typed field.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, InvalidRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(InvalidRequest::new(
            "We could not parse the JSON body of your request: the body is empty. The API expects a JSON payload.",
            None,
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        InvalidRequest::new(
            format!("We could not parse the JSON body of your request: {err}. The API expects a JSON payload."),
            None,
        )
    })?;
    if !value.is_object() {
        return Err(InvalidRequest::new(
            format!(
                "The request body must be a JSON object, got {}.",
                type_name(&value)
            ),
            None,
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        InvalidRequest::new(
            format!("Invalid type for '{path}': {}", err.inner()),
            Some(path),
        )
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn range(value: Option<f64>, low: f64, high: f64, param: &str) -> Result<(), InvalidRequest> {
    match value {
        Some(v) if v < low => Err(InvalidRequest::new(
            format!("{v} is less than the minimum of {low} - '{param}'"),
            Some(param.to_owned()),
        )),
        Some(v) if v > high => Err(InvalidRequest::new(
            format!("{v} is greater than the maximum of {high} - '{param}'"),
            Some(param.to_owned()),
        )),
        _ => Ok(()),
    }
}

fn at_least_one(value: Option<i64>, param: &str) -> Result<(), InvalidRequest> {
    match value {
        Some(v) if v < 1 => Err(InvalidRequest::new(
            format!("{v} is less than the minimum of 1 - '{param}'"),
            Some(param.to_owned()),
        )),
        _ => Ok(()),
    }
}

/// Checks a parsed request.
pub fn check(request: &ChatCompletionRequest) -> Result<(), InvalidRequest> {
    match request.model.as_deref() {
        None => {
            return Err(InvalidRequest::new(
                "Missing required parameter: 'model'.",
                Some("model".to_owned()),
            ));
        }
        Some(model) if model.trim().is_empty() => {
            return Err(InvalidRequest::new(
                "you must provide a model parameter",
                Some("model".to_owned()),
            ));
        }
        Some(_) => {}
    }
    let messages = request.messages.as_deref().ok_or_else(|| {
        InvalidRequest::new(
            "Missing required parameter: 'messages'.",
            Some("messages".to_owned()),
        )
    })?;
    if messages.is_empty() {
        return Err(InvalidRequest::new(
            "[] is too short - 'messages'",
            Some("messages".to_owned()),
        ));
    }
    for (index, message) in messages.iter().enumerate() {
        check_message(index, message)?;
    }
    range(request.temperature, 0.0, 2.0, "temperature")?;
    range(request.top_p, 0.0, 1.0, "top_p")?;
    range(request.frequency_penalty, -2.0, 2.0, "frequency_penalty")?;
    range(request.presence_penalty, -2.0, 2.0, "presence_penalty")?;
    at_least_one(request.max_tokens, "max_tokens")?;
    at_least_one(request.max_completion_tokens, "max_completion_tokens")?;
    at_least_one(request.n, "n")?;
    if let Some(n) = request.n
        && n > 128
    {
        return Err(InvalidRequest::new(
            format!("{n} is greater than the maximum of 128 - 'n'"),
            Some("n".to_owned()),
        ));
    }
    check_stop(request.stop.as_ref())?;
    if let Some(top) = request.top_logprobs {
        range(Some(top as f64), 0.0, 20.0, "top_logprobs")?;
        if request.logprobs != Some(true) {
            return Err(InvalidRequest::new(
                "'top_logprobs' requires 'logprobs' to be true.",
                Some("top_logprobs".to_owned()),
            ));
        }
    }
    if request.stream_options.is_some() && !request.is_streaming() {
        return Err(InvalidRequest::new(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options".to_owned()),
        ));
    }
    if let Some(tools) = &request.tools {
        check_tools(tools)?;
    }
    check_tool_choice(request.tool_choice.as_ref())?;
    if let Some(format) = &request.response_format {
        match format.kind.as_str() {
            "text" | "json_object" => {}
            "json_schema" => {
                let schema = format.json_schema.as_ref().and_then(|s| s.schema.as_ref());
                if !schema.is_some_and(Value::is_object) {
                    return Err(InvalidRequest::new(
                        "Missing required parameter: 'response_format.json_schema.schema'.",
                        Some("response_format.json_schema".to_owned()),
                    ));
                }
            }
            other => {
                return Err(InvalidRequest::new(
                    format!(
                        "Invalid value: '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'."
                    ),
                    Some("response_format.type".to_owned()),
                ));
            }
        }
    }
    let effort = request
        .reasoning_effort
        .as_deref()
        .map(|e| (e, "reasoning_effort"))
        .or_else(|| {
            request
                .reasoning
                .as_ref()
                .and_then(|r| r.effort.as_deref())
                .map(|e| (e, "reasoning.effort"))
        });
    if let Some((effort, param)) = effort
        && !EFFORTS.contains(&effort)
    {
        return Err(InvalidRequest::new(
            format!(
                "Invalid value: '{effort}'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'."
            ),
            Some(param.to_owned()),
        ));
    }
    Ok(())
}

fn check_message(index: usize, message: &ChatMessage) -> Result<(), InvalidRequest> {
    let param = |field: &str| Some(format!("messages.[{index}].{field}"));
    if !ROLES.contains(&message.role.as_str()) {
        return Err(InvalidRequest::new(
            format!(
                "Invalid value: '{}'. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.",
                message.role
            ),
            param("role"),
        ));
    }
    let is_assistant = message.role == "assistant";
    match &message.content {
        None | Some(Value::Null) if is_assistant => {}
        None | Some(Value::Null) => {
            return Err(InvalidRequest::new(
                format!("Missing required parameter: 'messages.[{index}].content'."),
                param("content"),
            ));
        }
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) => {
            if parts.is_empty() && !is_assistant {
                return Err(InvalidRequest::new(
                    format!("[] is too short - 'messages.[{index}].content'"),
                    param("content"),
                ));
            }
            for (part_index, part) in parts.iter().enumerate() {
                check_part(index, part_index, &message.role, part)?;
            }
        }
        Some(other) => {
            return Err(InvalidRequest::new(
                format!(
                    "Invalid type for 'messages.[{index}].content': expected a string or an array of content parts, but got {} instead.",
                    type_name(other)
                ),
                param("content"),
            ));
        }
    }
    if message.role == "tool" && message.tool_call_id.as_deref().is_none_or(str::is_empty) {
        return Err(InvalidRequest::new(
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
            param("tool_call_id"),
        ));
    }
    if let Some(calls) = &message.tool_calls {
        if !is_assistant {
            return Err(InvalidRequest::new(
                "Only assistant messages can carry 'tool_calls'.",
                param("tool_calls"),
            ));
        }
        for (call_index, call) in calls.iter().enumerate() {
            let parsed: Result<Value, _> = serde_json::from_str(&call.function.arguments);
            if !parsed.as_ref().is_ok_and(Value::is_object) {
                return Err(InvalidRequest::new(
                    "invalid tool call arguments: 'arguments' must be a JSON object encoded as a string.",
                    param(&format!("tool_calls.[{call_index}].function.arguments")),
                ));
            }
        }
    }
    Ok(())
}

fn check_part(
    index: usize,
    part_index: usize,
    role: &str,
    part: &Value,
) -> Result<(), InvalidRequest> {
    let param = Some(format!("messages.[{index}].content.[{part_index}]"));
    let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
    let allowed: &[&str] = match role {
        "user" => &["text", "image_url"],
        "assistant" => &["text", "refusal"],
        _ => &["text"],
    };
    if !allowed.contains(&kind) {
        return Err(InvalidRequest::new(
            format!(
                "Invalid content part type '{kind}' for role '{role}'. Supported: {}.",
                allowed.join(", ")
            ),
            param,
        ));
    }
    match kind {
        "text" if !part.get("text").is_some_and(Value::is_string) => Err(InvalidRequest::new(
            "A 'text' content part needs a string 'text'.",
            param,
        )),
        "image_url" => {
            let url = part
                .get("image_url")
                .and_then(|image| image.get("url").or(Some(image)))
                .and_then(Value::as_str)
                .unwrap_or("");
            if url.starts_with("data:") && url.contains(";base64,") {
                Ok(())
            } else if url.starts_with("http://") || url.starts_with("https://") {
                Err(InvalidRequest::new(
                    "image URLs are not supported by this backend; send the image as a base64 data URI instead.",
                    param,
                ))
            } else {
                Err(InvalidRequest::new(
                    "invalid image input: expected a data:image/...;base64,... URI.",
                    param,
                ))
            }
        }
        _ => Ok(()),
    }
}

fn check_stop(stop: Option<&Value>) -> Result<(), InvalidRequest> {
    let param = || Some("stop".to_owned());
    match stop {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(Value::Array(items)) => {
            if items.len() > 4 {
                return Err(InvalidRequest::new(
                    format!(
                        "{} entries is more than the maximum of 4 - 'stop'",
                        items.len()
                    ),
                    param(),
                ));
            }
            if items.iter().any(|item| !item.is_string()) {
                return Err(InvalidRequest::new(
                    "Every 'stop' entry must be a string.",
                    param(),
                ));
            }
            Ok(())
        }
        Some(other) => Err(InvalidRequest::new(
            format!(
                "Invalid type for 'stop': expected a string or an array of strings, but got {} instead.",
                type_name(other)
            ),
            param(),
        )),
    }
}

fn valid_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_tools(tools: &[Tool]) -> Result<(), InvalidRequest> {
    if tools.is_empty() {
        return Err(InvalidRequest {
            message: "[] is too short - 'tools'".to_owned(),
            param: Some("tools".to_owned()),
            code: Some("empty_array"),
        });
    }
    for (index, tool) in tools.iter().enumerate() {
        if tool.kind != "function" {
            return Err(InvalidRequest::new(
                format!(
                    "Invalid value: '{}'. Supported values are: 'function'.",
                    tool.kind
                ),
                Some(format!("tools.[{index}].type")),
            ));
        }
        if !valid_function_name(&tool.function.name) {
            return Err(InvalidRequest::new(
                format!(
                    "Invalid 'tools[{index}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'."
                ),
                Some(format!("tools.[{index}].function.name")),
            ));
        }
        if let Some(parameters) = &tool.function.parameters
            && !parameters.is_object()
        {
            return Err(InvalidRequest::new(
                "Function 'parameters' must be a JSON Schema object.",
                Some(format!("tools.[{index}].function.parameters")),
            ));
        }
    }
    Ok(())
}

fn check_tool_choice(choice: Option<&Value>) -> Result<(), InvalidRequest> {
    let ok = match choice {
        None | Some(Value::Null) => true,
        Some(Value::String(mode)) => matches!(mode.as_str(), "none" | "auto" | "required"),
        Some(Value::Object(object)) => {
            object.get("type").and_then(Value::as_str) == Some("function")
                && object
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .is_some_and(Value::is_string)
        }
        Some(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(InvalidRequest::new(
            "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}.",
            Some("tool_choice".to_owned()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rejects(body: Value) -> InvalidRequest {
        chat_request(body.to_string().as_bytes()).expect_err("invalid")
    }

    fn ok() -> Value {
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    }

    #[test]
    fn a_minimal_request_passes() {
        chat_request(ok().to_string().as_bytes()).expect("valid");
    }

    #[test]
    fn each_rule_names_its_param() {
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"messages": [{"role": "user", "content": "x"}]}),
                "model",
            ),
            (json!({"model": "m"}), "messages"),
            (json!({"model": "m", "messages": []}), "messages"),
            (
                json!({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}),
                "messages.[0].role",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
                "messages.[0].content",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user"}]}),
                "messages.[0].content",
            ),
            (
                json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
                "messages.[0].tool_call_id",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
                "messages.[0].content.[0]",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
                "messages.[0].tool_calls.[0].function.arguments",
            ),
        ];
        for (body, param) in cases {
            let error = rejects(body.clone());
            assert_eq!(error.param.as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn ranges_use_openai_wording() {
        let mut body = ok();
        body["temperature"] = json!(3.0);
        assert_eq!(
            rejects(body).to_string(),
            "3 is greater than the maximum of 2 - 'temperature'"
        );
        let mut body = ok();
        body["top_p"] = json!(-0.5);
        assert_eq!(
            rejects(body).to_string(),
            "-0.5 is less than the minimum of 0 - 'top_p'"
        );
        for (key, value) in [
            ("max_tokens", json!(0)),
            ("n", json!(0)),
            ("stop", json!(["a", "b", "c", "d", "e"])),
            ("stream_options", json!({"include_usage": true})),
            ("tools", json!([])),
            ("reasoning_effort", json!("max")),
            ("tool_choice", json!("sometimes")),
        ] {
            let mut body = ok();
            body[key] = value;
            let error = rejects(body);
            assert_eq!(
                error
                    .param
                    .as_deref()
                    .map(|p| p.split('.').next().unwrap_or(p)),
                Some(key),
                "{key}"
            );
        }
    }

    #[test]
    fn malformed_and_mistyped_bodies_are_400() {
        for body in ["", "{", "[]", "null", r#"{"model": 5, "messages": []}"#] {
            chat_request(body.as_bytes()).expect_err(body);
        }
        let error = chat_request(br#"{"model":"m","messages":[{"role":1}]}"#).expect_err("bad");
        assert_eq!(error.param.as_deref(), Some("messages[0].role"));
    }

    #[test]
    fn assistant_null_content_and_text_parts_are_accepted() {
        let body = json!({"model": "m", "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "be brief"}]},
            {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"}
        ]});
        chat_request(body.to_string().as_bytes()).expect("valid");
    }
}

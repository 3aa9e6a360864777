//! Anthropic's checks of a Messages request, in its words (`<path>: <what>`, pydantic's phrasing
//! that the API answers with): the body is a JSON object of the right types, `model`,
//! `max_tokens` (≥ 1) and `messages` (at least one, each `user` or `assistant`) are there, and
//! sampling and thinking settings are in range. Keys not modelled here are let through: clients
//! send newer fields (`context_management`, `service_tier`, …) that a validator must not refuse.

use serde_json::Value;

use super::{MessagesRequest, Thinking};

/// A request Anthropic refuses with `invalid_request_error` (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidMessages {
    /// What is wrong.
    pub message: String,
}

impl InvalidMessages {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What a request is for: `/v1/messages` needs `max_tokens`, `/v1/messages/count_tokens` not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST /v1/messages`.
    Create,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
}

/// Reads and checks a Messages body.
pub fn messages_request(body: &[u8], purpose: Purpose) -> Result<MessagesRequest, InvalidMessages> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(InvalidMessages::new(
            "There was an issue with your request body: it is empty. A JSON object was expected.",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        InvalidMessages::new(format!(
            "There was an issue parsing your request body as JSON: {error}."
        ))
    })?;
    if !value.is_object() {
        return Err(InvalidMessages::new(
            "Input should be a valid dictionary or object to extract fields from",
        ));
    }
    let request: MessagesRequest = serde_path_to_error::deserialize(value)
        .map_err(|error| InvalidMessages::new(format!("{}: {}", error.path(), error.inner())))?;
    check(&request, purpose)?;
    Ok(request)
}

fn check(request: &MessagesRequest, purpose: Purpose) -> Result<(), InvalidMessages> {
    let required = |field: &str| InvalidMessages::new(format!("{field}: Field required"));
    if request.model.is_none() {
        return Err(required("model"));
    }
    let messages = request
        .messages
        .as_ref()
        .ok_or_else(|| required("messages"))?;
    if purpose == Purpose::Create {
        let max_tokens = request.max_tokens.ok_or_else(|| required("max_tokens"))?;
        if max_tokens < 1 {
            return Err(InvalidMessages::new(
                "max_tokens: Input should be greater than or equal to 1",
            ));
        }
        if let Some(Thinking::Enabled { budget_tokens }) = request.thinking
            && budget_tokens >= max_tokens
        {
            return Err(InvalidMessages::new(
                "`max_tokens` must be greater than `thinking.budget_tokens`.",
            ));
        }
    }
    if messages.is_empty() {
        return Err(InvalidMessages::new(
            "messages: at least one message is required",
        ));
    }
    for (index, message) in messages.iter().enumerate() {
        if message.role != "user" && message.role != "assistant" {
            return Err(InvalidMessages::new(format!(
                "messages.{index}.role: Input should be 'user' or 'assistant'"
            )));
        }
    }
    if let Some(Thinking::Enabled { budget_tokens }) = request.thinking
        && budget_tokens < 1024
    {
        return Err(InvalidMessages::new(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ));
    }
    for (name, value) in [
        ("temperature", request.temperature),
        ("top_p", request.top_p),
    ] {
        match value {
            Some(value) if value < 0.0 => {
                return Err(InvalidMessages::new(format!(
                    "{name}: Input should be greater than or equal to 0"
                )));
            }
            Some(value) if value > 1.0 => {
                return Err(InvalidMessages::new(format!(
                    "{name}: Input should be less than or equal to 1"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(body: Value) -> String {
        messages_request(body.to_string().as_bytes(), Purpose::Create)
            .expect_err("refused")
            .message
    }

    #[test]
    fn required_fields_are_named_as_pydantic_names_them() {
        let message = json!({"role": "user", "content": "hi"});
        assert_eq!(
            refusal(json!({"max_tokens": 8, "messages": [message]})),
            "model: Field required"
        );
        assert_eq!(
            refusal(json!({"model": "m", "messages": [message]})),
            "max_tokens: Field required"
        );
        assert_eq!(
            refusal(json!({"model": "m", "max_tokens": 8})),
            "messages: Field required"
        );
    }

    #[test]
    fn count_tokens_needs_no_max_tokens() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        messages_request(body.to_string().as_bytes(), Purpose::CountTokens).expect("valid");
    }

    #[test]
    fn values_out_of_range_and_wrong_types_are_refused_with_their_path() {
        let ok = |extra: Value| {
            let mut body = json!({"model": "m", "max_tokens": 2048,
                "messages": [{"role": "user", "content": "hi"}]});
            body.as_object_mut()
                .expect("object")
                .extend(extra.as_object().expect("object").clone());
            body
        };
        assert_eq!(
            refusal(ok(json!({"max_tokens": 0}))),
            "max_tokens: Input should be greater than or equal to 1"
        );
        assert_eq!(
            refusal(ok(json!({"temperature": 1.5}))),
            "temperature: Input should be less than or equal to 1"
        );
        assert_eq!(
            refusal(ok(
                json!({"thinking": {"type": "enabled", "budget_tokens": 100}})
            )),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        );
        assert!(
            refusal(ok(
                json!({"thinking": {"type": "enabled", "budget_tokens": 4096}})
            ))
            .contains("must be greater than `thinking.budget_tokens`")
        );
        assert_eq!(
            refusal(ok(
                json!({"messages": [{"role": "system", "content": "x"}]})
            )),
            "messages.0.role: Input should be 'user' or 'assistant'"
        );
        assert!(refusal(ok(json!({"max_tokens": "many"}))).starts_with("max_tokens: "));
        assert_eq!(
            refusal(ok(json!({"messages": []}))),
            "messages: at least one message is required"
        );
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_refused() {
        for body in ["", "{", "[1]", "null"] {
            messages_request(body.as_bytes(), Purpose::Create).expect_err(body);
        }
    }

    #[test]
    fn newer_fields_are_let_through() {
        let body = json!({"model": "m", "max_tokens": 8, "service_tier": "auto",
            "context_management": {"edits": []}, "messages": [{"role": "user", "content": "hi"}]});
        messages_request(body.to_string().as_bytes(), Purpose::Create).expect("valid");
    }
}

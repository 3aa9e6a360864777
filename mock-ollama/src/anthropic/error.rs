//! Errors on `/v1/messages`, mapped in one place to the flavour's envelope
//! (`{"type":"error","error":{"type","message"},"request_id"}`): the type its server gives the
//! status, its JSON encoder, and whether its middleware or its handler wrote it.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use wire::anthropic::{ErrorEnvelope, ErrorType, validate::InvalidMessages};

use super::flavor::{Checks, MessagesDialect};
use crate::{
    error::OllamaError,
    openai::{
        ApiError, encode,
        error::{llama_server_error, vllm_error_class},
    },
};

/// Anthropic's status for an overloaded API (its `overloaded_error`).
const OVERLOADED: StatusCode = match StatusCode::from_u16(529) {
    Ok(status) => status,
    Err(_) => StatusCode::SERVICE_UNAVAILABLE,
};

/// A `/v1/messages` request the mock refuses.
#[derive(Debug)]
pub enum MessagesError {
    /// The envelope, its type the one the flavour's server gives `status`.
    Envelope {
        /// Its status.
        status: StatusCode,
        /// Its message.
        message: String,
        /// A `retry-after` header.
        retry_after: Option<String>,
        /// Written by the server's request checks rather than from the model handler's error
        /// (Ollama's middleware answers with Gin's `c.JSON`: charset in the content type, no
        /// newline after the object).
        from_checks: bool,
    },
    /// A refusal in the server's OpenAI envelope (vLLM's request validation, whose handler
    /// answers every route so).
    Chat(ApiError),
    /// A scripted raw body (e.g. a proxy's HTML page).
    Raw {
        /// Its status.
        status: StatusCode,
        /// The body.
        body: String,
        /// Its content type.
        content_type: String,
    },
}

impl MessagesError {
    /// A request the server's checks refuse, in its words.
    pub fn refused(status: StatusCode, message: impl Into<String>) -> Self {
        MessagesError::Envelope {
            status,
            message: message.into(),
            retry_after: None,
            from_checks: true,
        }
    }

    /// A body Anthropic's checks refuse.
    pub fn invalid(invalid: InvalidMessages) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, invalid.message)
    }

    /// A request the conversion to the native pipeline refuses (its message kept).
    pub fn unconvertible(error: &ApiError) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, error.message())
    }

    /// A refusal of the native pipeline, as the flavour's server words it. An overload (a 503:
    /// a busy queue, a scripted fault) is Anthropic's 529 where the flavour plays Anthropic,
    /// whose API never answers 503.
    pub fn from_native(checks: Checks, error: OllamaError) -> Self {
        let status = match error.status() {
            StatusCode::SERVICE_UNAVAILABLE if checks == Checks::Anthropic => OVERLOADED,
            status => status,
        };
        match error {
            OllamaError::ModelNotFound(model) if checks == Checks::Anthropic => {
                Self::handled(status, format!("model: {model}"), None)
            }
            OllamaError::ModelNotFound(model) if checks == Checks::Vllm => {
                Self::handled(status, format!("The model `{model}` does not exist."), None)
            }
            OllamaError::Scripted {
                body: Some(body),
                content_type,
                ..
            } => MessagesError::Raw {
                status,
                body,
                content_type: content_type
                    .unwrap_or_else(|| "text/plain; charset=utf-8".to_owned()),
            },
            OllamaError::Scripted {
                message,
                retry_after,
                ..
            } => Self::handled(status, message, retry_after),
            other => Self::handled(status, other.to_string(), None),
        }
    }

    fn handled(status: StatusCode, message: String, retry_after: Option<String>) -> Self {
        MessagesError::Envelope {
            status,
            message,
            retry_after,
            from_checks: false,
        }
    }

    /// The reply in `dialect`, its envelope naming `request_id`.
    pub fn response(self, dialect: &MessagesDialect, request_id: &str) -> Response {
        match self {
            MessagesError::Envelope {
                status,
                message,
                retry_after,
                ..
            } if dialect.checks == Checks::LlamaServer => {
                let body =
                    serde_json::json!({"error": llama_server_error(status.as_u16(), &message)});
                own_envelope(dialect, status, &body, retry_after)
            }
            MessagesError::Envelope {
                status,
                message,
                retry_after,
                ..
            } if dialect.checks == Checks::Vllm => {
                // `translate_error_response`: the chat error's class name as the type, no
                // request id.
                let envelope = serde_json::json!({"type": "error", "error": {
                    "type": vllm_error_class(status.as_u16()), "message": message}});
                own_envelope(dialect, status, &envelope, retry_after)
            }
            MessagesError::Envelope {
                status,
                message,
                retry_after,
                from_checks,
            } => {
                let envelope = ErrorEnvelope {
                    request_id: Some(request_id.to_owned()),
                    ..ErrorEnvelope::new(error_type(dialect.checks, status.as_u16()), message)
                };
                let mut body = encode::encoded(dialect.json, &envelope);
                let gin_abort = from_checks && dialect.checks == Checks::Ollama;
                if dialect.newline_after_body && !gin_abort {
                    body.push(b'\n');
                }
                let content_type = if gin_abort {
                    "application/json; charset=utf-8"
                } else {
                    dialect.json_content_type
                };
                let head = [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))];
                let mut response = (status, head, body).into_response();
                if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            MessagesError::Chat(error) => error.into_response(),
            MessagesError::Raw {
                status,
                body,
                content_type,
            } => {
                let mut response = (status, body).into_response();
                if let Ok(value) = HeaderValue::from_str(&content_type) {
                    response.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                response
            }
        }
    }
}

/// An error object a server writes in an envelope of its own, with its JSON content type.
fn own_envelope(
    dialect: &MessagesDialect,
    status: StatusCode,
    body: &serde_json::Value,
    retry_after: Option<String>,
) -> Response {
    let head = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(dialect.json_content_type),
    )];
    let mut response = (status, head, encode::encoded(dialect.json, body)).into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The error type a server gives `status` in Anthropic's envelope: Anthropic's own, or Ollama's
/// `anthropic.NewError` (503 and 529 overloaded, anything unnamed `api_error`).
fn error_type(checks: Checks, status: u16) -> ErrorType {
    match checks {
        // llama-server and vLLM write their own envelopes, never this one.
        Checks::Anthropic | Checks::LlamaServer | Checks::Vllm => ErrorType::for_status(status),
        Checks::Ollama => match status {
            400 => ErrorType::InvalidRequestError,
            401 => ErrorType::AuthenticationError,
            403 => ErrorType::PermissionError,
            404 => ErrorType::NotFoundError,
            429 => ErrorType::RateLimitError,
            503 | 529 => ErrorType::OverloadedError,
            _ => ErrorType::ApiError,
        },
    }
}

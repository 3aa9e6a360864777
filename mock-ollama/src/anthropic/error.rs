//! Errors on `/v1/messages`, mapped in one place to Anthropic's envelope
//! (`{"type":"error","error":{"type","message"},"request_id"}`) with the status of its type, and
//! a `request-id` header on every reply.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use wire::anthropic::{ErrorEnvelope, ErrorType, validate::InvalidMessages};

use crate::{
    error::OllamaError,
    openai::{ApiError, encode, flavor::JsonStyle},
};

/// A `/v1/messages` request the mock refuses.
#[derive(Debug)]
pub enum MessagesError {
    /// Anthropic's envelope.
    Envelope {
        /// Its status (the type's, or a scripted one).
        status: StatusCode,
        /// Its type.
        kind: ErrorType,
        /// Its message.
        message: String,
        /// A `retry-after` header.
        retry_after: Option<String>,
    },
    /// A scripted raw body (e.g. a proxy's HTML page).
    Raw {
        /// Its status.
        status: StatusCode,
        /// The body.
        body: String,
        /// Its content type.
        content_type: String,
    },
    /// The flavour's server has no such route: its own 404.
    Unserved(ApiError),
}

impl MessagesError {
    fn envelope(kind: ErrorType, message: impl Into<String>) -> Self {
        MessagesError::Envelope {
            status: StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::BAD_REQUEST),
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A request Anthropic's checks refuse.
    pub fn invalid(invalid: InvalidMessages) -> Self {
        Self::envelope(ErrorType::InvalidRequestError, invalid.message)
    }

    /// A request the conversion to the native pipeline refuses (its message kept).
    pub fn unconvertible(error: &ApiError) -> Self {
        Self::envelope(ErrorType::InvalidRequestError, error.message())
    }

    /// No key, as Anthropic says it.
    pub fn missing_key() -> Self {
        Self::envelope(
            ErrorType::AuthenticationError,
            "x-api-key header is required",
        )
    }

    /// No `anthropic-version` header.
    pub fn missing_version() -> Self {
        Self::envelope(
            ErrorType::InvalidRequestError,
            "anthropic-version: header is required",
        )
    }

    /// A refusal of the native pipeline, as Anthropic words it.
    pub fn from_native(error: OllamaError) -> Self {
        let status = error.status();
        match error {
            OllamaError::ModelNotFound(model) => {
                Self::envelope(ErrorType::NotFoundError, format!("model: {model}"))
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
            } => MessagesError::Envelope {
                status,
                kind: ErrorType::for_status(status.as_u16()),
                message,
                retry_after,
            },
            other => {
                // Ollama answers a client's mistakes with 400 and its own failures with 5xx;
                // Anthropic's types follow the same line.
                Self::envelope(ErrorType::for_status(status.as_u16()), other.to_string())
                    .with_status(status)
            }
        }
    }

    fn with_status(mut self, new: StatusCode) -> Self {
        if let MessagesError::Envelope { status, .. } = &mut self {
            *status = new;
        }
        self
    }

    /// The reply, its envelope naming `request_id`.
    pub fn response(self, request_id: &str) -> Response {
        match self {
            MessagesError::Envelope {
                status,
                kind,
                message,
                retry_after,
            } => {
                let envelope = ErrorEnvelope {
                    request_id: Some(request_id.to_owned()),
                    ..ErrorEnvelope::new(kind, message)
                };
                let head = [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )];
                let mut response =
                    (status, head, encode::encoded(JsonStyle::Compact, &envelope)).into_response();
                if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
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
            MessagesError::Unserved(error) => error.into_response(),
        }
    }
}

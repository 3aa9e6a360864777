//! Every way a request to the mock can fail, mapped in one place to Ollama's status codes and its
//! `{"error": "…"}` body (`application/json; charset=utf-8`, as Gin writes it).

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use wire::ollama::ErrorBody;

use crate::gin::json_response;

/// A request the mock refuses, with Ollama's wording.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OllamaError {
    /// Empty body.
    #[error("missing request body")]
    MissingBody,
    /// The body is not JSON, or a field has the wrong type.
    #[error("{0}")]
    InvalidJson(String),
    /// `/api/chat` (and `/api/show`, `/api/embeddings`) without a model.
    #[error("model is required")]
    ModelRequired,
    /// Unknown model (or, on generate and embed, a missing one: `model '' not found`).
    #[error("model '{0}' not found")]
    ModelNotFound(String),
    /// Unknown model on the legacy `/api/embeddings` route, in its older wording.
    #[error("model \"{0}\" not found, try pulling it first")]
    ModelNotFoundLegacy(String),
    /// `tools` (or `suffix`) sent to a model without that capability; Ollama names the model by
    /// its full registry path here.
    #[error("registry.ollama.ai/library/{model} does not support {capability}")]
    RegistryUnsupported {
        /// `name:tag` of the model.
        model: String,
        /// `tools` or `insert`.
        capability: &'static str,
    },
    /// The model lacks a capability the request needs (`thinking`, `chat`, `generate`, `insert`).
    #[error("\"{model}\" does not support {capability}")]
    Unsupported {
        /// Model name as sent.
        model: String,
        /// What it cannot do.
        capability: &'static str,
    },
    /// `think` is neither a boolean nor a known level.
    #[error(
        "invalid think value: {0} (must be \"high\", \"medium\", \"low\", \"max\", true, or false)"
    )]
    InvalidThink(String),
    /// `keep_alive` is neither a number nor a Go duration.
    #[error("{0}")]
    InvalidKeepAlive(String),
    /// An option has the wrong type; Ollama reports this from scheduling, hence a 500.
    #[error("{0}")]
    InvalidOption(String),
    /// `format` is neither `"json"` nor a schema object.
    #[error("invalid format: {0}; expected \"json\" or a valid JSON Schema object")]
    InvalidFormat(String),
    /// `/api/embed` input that is not a string or an array of strings.
    #[error("invalid input type")]
    InvalidInputType,
    /// `/api/embed` with `truncate: false` and an input longer than the context.
    #[error("the input length exceeds the context length")]
    InputTooLong,
    /// `raw` combined with template, system or context.
    #[error("raw mode does not support template, system, or context")]
    RawWithTemplate,
    /// A pull, push or create without a model name.
    #[error("invalid model name")]
    InvalidModelName,
    /// A copy or delete naming no model.
    #[error("{field} \"{name}\" is invalid")]
    InvalidName {
        /// `source`, `destination` or `name`.
        field: &'static str,
        /// The name as sent.
        name: String,
    },
    /// A copy from a model that is not installed, in Ollama's quoting for that route.
    #[error("model \"{0}\" not found")]
    ModelNotFoundQuoted(String),
    /// A create with neither a base model nor files.
    #[error("neither 'from' or 'files' was specified")]
    NeitherFromNorFiles,
    /// Strict mode and no rule matches; names the request.
    #[error("mock-ollama strict mode: no rule matches {0}")]
    Unmatched(String),
    /// No recorded exchange repeats the request, and the recorder may not forward it.
    #[error("mock-ollama replay: no recorded exchange matches {0}")]
    NotRecorded(String),
    /// The recorder could not reach its upstream.
    #[error("mock-ollama recorder: {0}")]
    Upstream(String),
    /// The recorder's upstream sent no head within the recorder's deadline.
    #[error("mock-ollama recorder: no answer within the deadline: {0}")]
    UpstreamTimeout(String),
    /// A scripted `http_error` fault.
    #[error("{message}")]
    Scripted {
        /// Status to send.
        status: u16,
        /// Text of `{"error": …}`.
        message: String,
        /// Raw body replacing the JSON envelope.
        body: Option<String>,
        /// Content type of the raw body.
        content_type: Option<String>,
        /// `Retry-After` header value.
        retry_after: Option<String>,
    },
}

impl OllamaError {
    /// The status Ollama answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            OllamaError::ModelNotFound(_)
            | OllamaError::ModelNotFoundLegacy(_)
            | OllamaError::ModelNotFoundQuoted(_) => StatusCode::NOT_FOUND,
            OllamaError::InvalidOption(_)
            | OllamaError::InvalidFormat(_)
            | OllamaError::Unmatched(_)
            | OllamaError::NotRecorded(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OllamaError::Upstream(_) => StatusCode::BAD_GATEWAY,
            OllamaError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            OllamaError::Scripted { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for OllamaError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match &self {
            OllamaError::Scripted {
                body: Some(body),
                content_type,
                ..
            } => {
                let content_type = content_type
                    .as_deref()
                    .unwrap_or("text/plain; charset=utf-8");
                let mut response = (status, body.clone()).into_response();
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                response
            }
            _ => json_response(
                status,
                &ErrorBody {
                    error: self.to_string(),
                },
            ),
        };
        if let OllamaError::Scripted {
            retry_after: Some(retry_after),
            ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(retry_after)
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Decodes a request body the way Ollama's handlers do: empty → `missing request body`, bad JSON
/// → 400 with a parser message in Go's words where they are cheap to match.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, OllamaError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(OllamaError::MissingBody);
    }
    serde_json::from_slice(body)
        .map_err(|err| OllamaError::InvalidJson(go_json_message(&err, body)))
}

fn go_json_message(err: &serde_json::Error, body: &[u8]) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Eof => "unexpected EOF".to_owned(),
        Category::Syntax => {
            let offending = offending_char(body, err.line(), err.column());
            match offending {
                Some(c) => {
                    format!("invalid character {c:?} looking for beginning of value ({err})")
                }
                None => format!("invalid JSON: {err}"),
            }
        }
        Category::Data | Category::Io => format!("json: cannot unmarshal: {err}"),
    }
}

fn offending_char(body: &[u8], line: usize, column: usize) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let line_text = text.lines().nth(line.checked_sub(1)?)?;
    line_text.chars().nth(column.checked_sub(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ollama::ChatRequest;

    #[test]
    fn empty_and_whitespace_bodies_are_missing() {
        assert_eq!(
            parse_body::<ChatRequest>(b""),
            Err(OllamaError::MissingBody)
        );
        assert_eq!(
            parse_body::<ChatRequest>(b" \n"),
            Err(OllamaError::MissingBody)
        );
    }

    #[test]
    fn truncated_json_is_unexpected_eof() {
        assert_eq!(
            parse_body::<ChatRequest>(br#"{"model":"#),
            Err(OllamaError::InvalidJson("unexpected EOF".into()))
        );
    }

    #[test]
    fn garbage_names_the_character() {
        let Err(OllamaError::InvalidJson(message)) = parse_body::<ChatRequest>(b"xyz") else {
            panic!("expected invalid json");
        };
        assert!(message.starts_with("invalid character 'x'"), "{message}");
    }
}

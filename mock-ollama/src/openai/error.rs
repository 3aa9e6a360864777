//! Errors on `/v1`, mapped in one place to each dialect's error object, status and headers.
//!
//! Every refusal first exists as an [`OllamaError`] (the native pipeline's) or as an
//! [`InvalidRequest`] (OpenAI's validation); [`ApiError::from_native`] and
//! [`ApiError::invalid`] turn them into what the flavour's server would send.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use wire::openai::validate::InvalidRequest;

use super::{
    encode,
    flavor::{Dialect, ErrorStyle, NotFound},
};
use crate::error::OllamaError;

/// A `/v1` request the mock refuses, in one dialect (boxed: it travels in every `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Details>);

#[derive(Debug, Clone)]
struct Details {
    dialect: &'static Dialect,
    status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
    retry_after: Option<String>,
    /// A scripted raw body (e.g. a proxy's HTML page) sent instead of an error object.
    raw: Option<(String, String)>,
    /// Raised by Ollama's middleware itself (Gin's `AbortWithStatusJSON`: charset in the content
    /// type, no trailing newline) rather than re-encoded from the native handler.
    from_middleware: bool,
}

impl ApiError {
    /// A request the dialect's own checks refuse (before the native handler runs).
    pub fn invalid(dialect: &'static Dialect, invalid: InvalidRequest) -> Self {
        Details {
            dialect,
            // llama-cpp-python's error handler turns pydantic's refusal into a 500.
            status: match dialect.errors {
                ErrorStyle::LlamaCppPython => StatusCode::INTERNAL_SERVER_ERROR,
                ErrorStyle::Ollama
                | ErrorStyle::Openai
                | ErrorStyle::Vllm
                | ErrorStyle::LlamaServer => StatusCode::BAD_REQUEST,
            },
            message: invalid.message,
            kind: "invalid_request_error",
            param: match dialect.errors {
                ErrorStyle::Openai | ErrorStyle::Vllm => invalid.param,
                ErrorStyle::Ollama | ErrorStyle::LlamaCppPython | ErrorStyle::LlamaServer => None,
            },
            code: match dialect.errors {
                ErrorStyle::Openai => invalid.code,
                ErrorStyle::Ollama
                | ErrorStyle::LlamaCppPython
                | ErrorStyle::Vllm
                | ErrorStyle::LlamaServer => None,
            },
            retry_after: None,
            raw: None,
            from_middleware: true,
        }
        .typed()
    }

    /// A prompt of `asked` tokens for a model whose context holds `limit`: a 400 before anything
    /// is generated, streamed requests included, in OpenAI's words (which llama-cpp-python and
    /// vLLM copy).
    /// `completion` is the request's `max_tokens`, which llama-cpp-python adds to the count.
    pub fn context_exceeded(
        dialect: &'static Dialect,
        limit: u64,
        asked: u64,
        completion: Option<u64>,
    ) -> Self {
        if dialect.errors == ErrorStyle::LlamaServer {
            // `send_error(…, ERROR_TYPE_EXCEED_CONTEXT_SIZE)`: the counts ride beside the message.
            let mut error = llama_server_error(
                400,
                &format!(
                    "request ({asked} tokens) exceeds the available context size ({limit} tokens), try increasing it"
                ),
            );
            error["type"] = json!("exceed_context_size_error");
            error["n_prompt_tokens"] = json!(asked);
            error["n_ctx"] = json!(limit);
            return Self::llama_server(dialect, StatusCode::BAD_REQUEST, error);
        }
        let message = match dialect.errors {
            ErrorStyle::LlamaCppPython => format!(
                "This model's maximum context length is {limit} tokens. However, you requested {} tokens ({asked} in the messages, {} in the completion). Please reduce the length of the messages or completion.",
                asked + completion.unwrap_or(0),
                completion.map_or("None".to_owned(), |c| c.to_string()),
            ),
            _ => format!(
                "This model's maximum context length is {limit} tokens. However, your messages resulted in {asked} tokens. Please reduce the length of the messages."
            ),
        };
        let mut error = Details {
            dialect,
            status: StatusCode::BAD_REQUEST,
            message,
            kind: "",
            param: Some("messages".to_owned()),
            code: Some("context_length_exceeded"),
            retry_after: None,
            raw: None,
            from_middleware: false,
        }
        .typed();
        // llama-cpp-python formats this one refusal itself, not through its 500 handler.
        if dialect.errors == ErrorStyle::LlamaCppPython {
            error.0.kind = "invalid_request_error";
        }
        error
    }

    /// `llama-server`'s `{"error": error}` with `status`, for the refusals its handlers word
    /// themselves (a `runtime_error`'s 500, a 501, extra keys beside the message).
    pub fn llama_server(dialect: &'static Dialect, status: StatusCode, error: Value) -> Self {
        let body = encode::json(dialect, &json!({ "error": error }));
        Self::raw(
            dialect,
            status,
            &String::from_utf8_lossy(&body),
            dialect.json_content_type,
        )
    }

    /// A reply that is no error object at all: `body` as is, with its content type.
    pub fn raw(
        dialect: &'static Dialect,
        status: StatusCode,
        body: &str,
        content_type: &str,
    ) -> Self {
        Details {
            dialect,
            status,
            message: String::new(),
            kind: "",
            param: None,
            code: None,
            retry_after: None,
            raw: Some((body.to_owned(), content_type.to_owned())),
            from_middleware: false,
        }
        .typed()
    }

    /// A 404 for a route the dialect's server does not have.
    pub fn not_found(dialect: &'static Dialect, path: &str) -> Self {
        match dialect.not_found {
            NotFound::GinText => {
                return Self::raw(
                    dialect,
                    StatusCode::NOT_FOUND,
                    "404 page not found",
                    "text/plain",
                );
            }
            NotFound::FastApiDetail => {
                return Self::raw(
                    dialect,
                    StatusCode::NOT_FOUND,
                    r#"{"detail":"Not Found"}"#,
                    "application/json",
                );
            }
            NotFound::LlamaServer => {
                return Self::raw(
                    dialect,
                    StatusCode::NOT_FOUND,
                    r#"{"error":{"message":"File Not Found","type":"not_found_error","code":404}}"#,
                    "application/json; charset=utf-8",
                );
            }
            NotFound::Envelope => {}
        }
        let message = format!("Unknown request URL: {path}. Please check the URL for typos.");
        Details {
            dialect,
            status: StatusCode::NOT_FOUND,
            message,
            kind: "",
            param: None,
            code: Some("unknown_url"),
            retry_after: None,
            raw: None,
            from_middleware: true,
        }
        .typed()
    }

    /// A refusal vLLM's serving layer words itself (`create_error_response(err_type=
    /// "invalid_request_error", …)`), its type named so rather than by the status's class.
    pub fn vllm_invalid_request(
        dialect: &'static Dialect,
        status: StatusCode,
        message: String,
        param: &str,
    ) -> Self {
        let mut error = Details {
            dialect,
            status,
            message,
            kind: "",
            param: Some(param.to_owned()),
            code: None,
            retry_after: None,
            raw: None,
            from_middleware: false,
        }
        .typed();
        error.0.kind = "invalid_request_error";
        error
    }

    /// A 404 for a response id the store does not keep (never stored, deleted, or let go).
    pub fn no_stored_response(dialect: &'static Dialect, id: &str) -> Self {
        Details {
            dialect,
            status: StatusCode::NOT_FOUND,
            message: format!("Response with id '{id}' not found."),
            kind: "",
            param: None,
            code: None,
            retry_after: None,
            raw: None,
            from_middleware: false,
        }
        .typed()
    }

    /// A 404 for an `item_reference` to an item no kept response holds.
    pub fn no_stored_item(dialect: &'static Dialect, id: &str) -> Self {
        Details {
            dialect,
            status: StatusCode::NOT_FOUND,
            message: format!(
                "Item with id '{id}' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."
            ),
            kind: "",
            param: Some("input".to_owned()),
            code: None,
            retry_after: None,
            raw: None,
            from_middleware: false,
        }
        .typed()
    }

    /// A refusal of the native pipeline, as the flavour's server words it.
    pub fn from_native(dialect: &'static Dialect, error: OllamaError) -> Self {
        let status = error.status();
        let (mut param, mut code) = (None, None);
        let message = match (dialect.errors, &error) {
            (ErrorStyle::Openai, OllamaError::ModelNotFound(model)) => {
                param = Some("model".to_owned());
                code = Some("model_not_found");
                format!("The model `{model}` does not exist or you do not have access to it.")
            }
            (ErrorStyle::Vllm, OllamaError::ModelNotFound(model)) => {
                param = Some("model".to_owned());
                format!("The model `{model}` does not exist.")
            }
            (ErrorStyle::Openai, OllamaError::RegistryUnsupported { .. }) => {
                param = Some("tools".to_owned());
                error.to_string()
            }
            (ErrorStyle::Openai, OllamaError::Scripted { status: 429, .. }) => {
                code = Some("rate_limit_exceeded");
                error.to_string()
            }
            _ => error.to_string(),
        };
        let (retry_after, raw) = match error {
            OllamaError::Scripted {
                retry_after,
                body,
                content_type,
                ..
            } => (
                retry_after,
                body.map(|body| {
                    let content_type =
                        content_type.unwrap_or_else(|| "text/plain; charset=utf-8".to_owned());
                    (body, content_type)
                }),
            ),
            _ => (None, None),
        };
        Details {
            dialect,
            status,
            message,
            kind: "",
            param,
            code,
            retry_after,
            raw,
            from_middleware: false,
        }
        .typed()
    }
}

impl Details {
    /// Sets the error object's `type`, which every dialect derives from the status.
    fn typed(mut self) -> ApiError {
        self.kind = match (self.dialect.errors, self.status.as_u16()) {
            (ErrorStyle::Ollama, 400) => "invalid_request_error",
            (ErrorStyle::Ollama, 404) => "not_found_error",
            (ErrorStyle::Ollama, _) => "api_error",
            (ErrorStyle::Openai, 429) => "requests",
            (ErrorStyle::Openai, status) if status >= 500 => "server_error",
            (ErrorStyle::Openai, _) => "invalid_request_error",
            (ErrorStyle::LlamaCppPython, _) => "internal_server_error",
            (ErrorStyle::Vllm, status) => vllm_error_class(status),
            (ErrorStyle::LlamaServer, status) => llama_server_error_type(status),
        };
        ApiError(Box::new(self))
    }
}

impl ApiError {
    /// What the error says.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// `{"error": {message, type, param, code}}`: the body of an error reply.
    pub fn object(&self) -> Value {
        if self.0.dialect.errors == ErrorStyle::LlamaServer {
            return json!({"error": llama_server_error(self.0.status.as_u16(), &self.0.message)});
        }
        let code = match self.0.dialect.errors {
            // vLLM's `ErrorInfo.code` is the HTTP status, an integer.
            ErrorStyle::Vllm => json!(self.0.status.as_u16()),
            _ => json!(self.0.code),
        };
        json!({"error": {
            "message": self.0.message,
            "type": self.0.kind,
            "param": self.0.param,
            "code": code,
        }})
    }
}

/// The class vLLM names an error's status by (`BadRequestError`, `NotFoundError`,
/// `InternalServerError`), which its Messages layer passes on as the error's type too.
pub fn vllm_error_class(status: u16) -> &'static str {
    match status {
        404 => "NotFoundError",
        status if status >= 500 => "InternalServerError",
        _ => "BadRequestError",
    }
}

/// The type `llama-server`'s `format_error_response` names a status by.
fn llama_server_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        501 => "not_supported_error",
        503 => "unavailable_error",
        _ => "server_error",
    }
}

/// `llama-server`'s error object, `{"code", "message", "type"}` (`format_error_response`,
/// `tools/server/server-common.cpp`), which it sends inside `{"error": …}` on every route and
/// bare as a Messages stream's `error` event.
pub fn llama_server_error(status: u16, message: &str) -> Value {
    json!({"code": status, "message": message, "type": llama_server_error_type(status)})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let object = self.object();
        let error = *self.0;
        let mut response = match &error.raw {
            Some((body, content_type)) => {
                let mut response = (error.status, body.clone()).into_response();
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                response
            }
            None if error.from_middleware && error.dialect.errors == ErrorStyle::Ollama => {
                // Gin's c.JSON: charset in the content type, no newline after the object.
                let body = encode::json(error.dialect, &object);
                let head = [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )];
                (error.status, head, body).into_response()
            }
            None => encode::json_response(error.dialect, error.status, &object),
        };
        if let Some(retry_after) = &error.retry_after
            && let Ok(value) = HeaderValue::from_str(retry_after)
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

//! Every way a gateway request can fail, mapped in one place to OpenAI's error envelope
//! `{"error":{"message","type","param","code"}}` — as an HTTP response before streaming began, or
//! as one SSE `data:` event after (see [`crate::sse`]).

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use wire::openai::{ErrorEnvelope, ErrorObject};

use crate::limits::refusal::{Measure, Refusal, duration_text};

/// The wait in milliseconds, beside `Retry-After` (the OpenAI SDKs prefer it).
pub const RETRY_AFTER_MS: &str = "retry-after-ms";

/// Which upstream deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No response head within the first-byte timeout.
    FirstByte,
    /// No bytes between two chunks within the idle timeout.
    Idle,
    /// The whole exchange took longer than the total timeout.
    Total,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::FirstByte => "waiting for the first byte",
            TimeoutPhase::Idle => "idle between chunks",
            TimeoutPhase::Total => "total time",
        })
    }
}

/// Why an upstream could not be reached, in words that name no address and quote no library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Nothing listens there.
    Refused,
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// The connection was reset or closed before an answer.
    Closed,
    /// Its TLS certificate is not one the gateway trusts (`ca_cert`).
    CertificateNotTrusted,
    /// The TLS handshake failed for another reason.
    Tls,
    /// Its host name does not resolve.
    NameNotResolved,
    /// Any other connection failure.
    Failed,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unreachable::Refused => "connection refused",
            Unreachable::ConnectTimeout => "connection timed out",
            Unreachable::Closed => "connection closed before an answer",
            Unreachable::CertificateNotTrusted => "TLS certificate not trusted",
            Unreachable::Tls => "TLS handshake failed",
            Unreachable::NameNotResolved => "host name not resolved",
            Unreachable::Failed => "connection failed",
        })
    }
}

/// A failed gateway request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatewayError {
    /// The client sent something invalid (400).
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong, in OpenAI's phrasing where one exists.
        message: String,
        /// The offending parameter path, e.g. `messages.[2].tool_call_id`.
        param: Option<String>,
        /// A machine slug, e.g. `empty_array`.
        code: Option<&'static str>,
    },
    /// No backend serves this model (404).
    #[error("The model `{0}` does not exist or you do not have access to it.")]
    ModelNotFound(String),
    /// The request body is larger than the configured limit (413).
    #[error("Request body too large: the limit is {0} bytes.")]
    PayloadTooLarge(usize),
    /// No such route (404).
    #[error("Unknown request URL: {method} {path}. Please check the URL for typos.")]
    RouteNotFound {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
    },
    /// Known route, wrong method (405).
    #[error("Method {method} is not allowed for {path}.")]
    MethodNotAllowed {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
    },
    /// The upstream answered with an error status before streaming.
    #[error("{message}")]
    Upstream {
        /// Upstream status.
        status: u16,
        /// Upstream message text, kept verbatim.
        message: String,
        /// `Retry-After` passed on from a 429.
        retry_after: Option<String>,
    },
    /// The upstream could not be reached (502). The client learns the backend and a stable
    /// reason; the transport's own error (addresses, URLs, library text) is only logged.
    #[error("The upstream {backend} could not be reached: {reason}.")]
    UpstreamUnavailable {
        /// Backend name.
        backend: String,
        /// Why, as a client may be told it.
        reason: Unreachable,
    },
    /// An upstream deadline passed (504 before streaming).
    #[error("The upstream {backend} timed out ({phase}).")]
    Timeout {
        /// Backend name.
        backend: String,
        /// Which deadline.
        phase: TimeoutPhase,
    },
    /// The upstream sent something that is not its protocol (502).
    #[error("The upstream {backend} sent an invalid response: {detail}")]
    UpstreamProtocol {
        /// Backend name.
        backend: String,
        /// What was wrong.
        detail: String,
    },
    /// A whole upstream body was longer than the backend's `max_body_bytes` (502).
    #[error("The upstream {backend} sent a body longer than its limit of {limit} bytes.")]
    UpstreamTooLarge {
        /// Backend name.
        backend: String,
        /// Its `max_body_bytes`.
        limit: usize,
    },
    /// The upstream reported an error in the middle of its stream.
    #[error("{message}")]
    UpstreamStream {
        /// The upstream's error text.
        message: String,
    },
    /// The gateway is at its bound of requests in flight (503 with `Retry-After`).
    #[error("The gateway is at its limit of {limit} requests in flight; retry shortly.")]
    Overloaded {
        /// `server.max_concurrent_requests`.
        limit: usize,
    },
    /// A backend is at its bound of requests in flight, and no other serving the model could
    /// take the request (503 with `Retry-After`).
    #[error("The upstream {backend} is at its limit of {limit} requests in flight; retry shortly.")]
    BackendBusy {
        /// Backend name.
        backend: String,
        /// Its `max_concurrent_requests`.
        limit: usize,
    },
    /// The request body did not arrive within `server.body_read_timeout_ms` (408).
    #[error("The request body was not received within {0} ms.")]
    BodyTimeout(u64),
    /// The upstream stream ended without its final chunk.
    #[error("The upstream {backend} closed the stream before it was complete.")]
    UpstreamIncomplete {
        /// Backend name.
        backend: String,
    },
    /// No API key, or an unknown one (401). The message never repeats what was presented.
    #[error("{}", if *presented {
        "Incorrect API key provided. Ask the gateway's operator for a valid key."
    } else {
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    })]
    Unauthorized {
        /// Whether a key was presented at all.
        presented: bool,
    },
    /// Over a key's rate limit (429, with `Retry-After` unless the request can never fit).
    #[error("{}", rate_limit_message(.0))]
    RateLimited(Box<Refusal>),
    /// The shared rate limits cannot be read and `redis_failure = "closed"` (503).
    #[error(
        "The rate limits cannot be checked right now (their store is unreachable); retry shortly."
    )]
    LimitsUnavailable,
}

fn rate_limit_message(refusal: &Refusal) -> String {
    let scope = match &refusal.model {
        Some(model) => format!("key {} on model {model}", refusal.key),
        None => format!("key {}", refusal.key),
    };
    let Refusal {
        measure,
        limit,
        requested,
        ..
    } = refusal;
    match refusal.retry_after_ms {
        Some(wait) => format!(
            "Rate limit reached for {scope} on {measure}: Limit {limit}, Requested {requested}. Please try again in {}.",
            duration_text(wait)
        ),
        None => format!(
            "Request too large for {scope} on {measure}: Limit {limit}, Requested {requested}. The input or output tokens must be reduced in order to run successfully."
        ),
    }
}

impl From<wire::openai::validate::InvalidRequest> for GatewayError {
    fn from(invalid: wire::openai::validate::InvalidRequest) -> Self {
        GatewayError::InvalidRequest {
            message: invalid.message,
            param: invalid.param,
            code: invalid.code,
        }
    }
}

impl GatewayError {
    /// A 400 for `param` with `message`.
    pub fn invalid(message: impl Into<String>, param: impl Into<Option<String>>) -> Self {
        GatewayError::InvalidRequest {
            message: message.into(),
            param: param.into(),
            code: None,
        }
    }

    /// The HTTP status of this error when it happens before streaming.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            GatewayError::ModelNotFound(_) | GatewayError::RouteNotFound { .. } => {
                StatusCode::NOT_FOUND
            }
            GatewayError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            GatewayError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            GatewayError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::Overloaded { .. }
            | GatewayError::BackendBusy { .. }
            | GatewayError::LimitsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Upstream { status, .. } => match *status {
                400 | 401 | 403 | 404 | 413 | 422 | 429 => {
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
                }
                _ => StatusCode::BAD_GATEWAY,
            },
            GatewayError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::UpstreamUnavailable { .. }
            | GatewayError::UpstreamProtocol { .. }
            | GatewayError::UpstreamTooLarge { .. }
            | GatewayError::UpstreamStream { .. }
            | GatewayError::UpstreamIncomplete { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    /// The envelope's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            // OpenAI's own spellings.
            GatewayError::Unauthorized { .. } => return "invalid_request_error",
            GatewayError::RateLimited(refusal) => {
                return match refusal.measure {
                    Measure::Requests => "requests",
                    Measure::Tokens => "tokens",
                };
            }
            _ => {}
        }
        match self.status().as_u16() {
            400 | 404 | 405 | 408 | 413 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            429 => "rate_limit_error",
            504 => "timeout_error",
            _ => "api_error",
        }
    }

    /// The envelope's `code`: always a string slug or null.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            GatewayError::InvalidRequest { code, .. } => *code,
            GatewayError::ModelNotFound(_) => Some("model_not_found"),
            GatewayError::PayloadTooLarge(_) => Some("request_too_large"),
            GatewayError::BodyTimeout(_) => Some("request_timeout"),
            GatewayError::Overloaded { .. } | GatewayError::BackendBusy { .. } => {
                Some("overloaded")
            }
            GatewayError::RouteNotFound { .. } => Some("unknown_url"),
            GatewayError::MethodNotAllowed { .. } => Some("method_not_allowed"),
            GatewayError::Upstream { status, .. } => Some(match status {
                401 => "invalid_api_key",
                404 => "model_not_found",
                429 => "rate_limit_exceeded",
                400 | 403 | 413 | 422 => "upstream_rejected",
                _ => "upstream_error",
            }),
            GatewayError::UpstreamUnavailable { .. } => Some("upstream_unavailable"),
            GatewayError::Timeout { .. } => Some("upstream_timeout"),
            GatewayError::UpstreamProtocol { .. } => Some("upstream_protocol_error"),
            GatewayError::UpstreamTooLarge { .. } => Some("upstream_too_large"),
            GatewayError::UpstreamStream { .. } => Some("upstream_error"),
            GatewayError::UpstreamIncomplete { .. } => Some("upstream_incomplete"),
            GatewayError::Unauthorized { .. } => Some("invalid_api_key"),
            GatewayError::RateLimited(_) => Some("rate_limit_exceeded"),
            GatewayError::LimitsUnavailable => Some("rate_limits_unavailable"),
        }
    }

    /// The envelope's `param`.
    pub fn param(&self) -> Option<String> {
        match self {
            GatewayError::InvalidRequest { param, .. } => param.clone(),
            GatewayError::ModelNotFound(_) => Some("model".to_owned()),
            _ => None,
        }
    }

    /// `Retry-After` for the client: the upstream's, passed on, or one second when a bound was
    /// reached (the OpenAI SDKs wait that long, then retry).
    pub fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            GatewayError::Upstream {
                retry_after: Some(retry_after),
                ..
            } => HeaderValue::from_str(retry_after).ok(),
            GatewayError::Overloaded { .. }
            | GatewayError::BackendBusy { .. }
            | GatewayError::LimitsUnavailable => Some(HeaderValue::from_static("1")),
            GatewayError::RateLimited(refusal) => refusal
                .retry_after_ms
                .map(|ms| HeaderValue::from(ms.div_ceil(1_000).max(1))),
            _ => None,
        }
    }

    /// The OpenAI error envelope.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorObject {
                message: self.to_string(),
                kind: self.kind().to_owned(),
                param: self.param(),
                code: self.code().map(str::to_owned),
            },
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.envelope()).unwrap_or_default();
        let mut response = (
            self.status(),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if let Some(value) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let GatewayError::RateLimited(refusal) = &self {
            let headers = response.headers_mut();
            if let Some(ms) = refusal.retry_after_ms {
                headers.insert(RETRY_AFTER_MS, HeaderValue::from(ms));
            }
            refusal.quota.write_headers(headers);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_statuses_map_to_client_meaningful_ones() {
        let upstream = |status| GatewayError::Upstream {
            status,
            message: "m".into(),
            retry_after: None,
        };
        assert_eq!(upstream(400).status(), StatusCode::BAD_REQUEST);
        assert_eq!(upstream(404).status(), StatusCode::NOT_FOUND);
        assert_eq!(upstream(429).status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(upstream(429).kind(), "rate_limit_error");
        for status in [499, 500, 503] {
            assert_eq!(upstream(status).status(), StatusCode::BAD_GATEWAY);
            assert_eq!(upstream(status).kind(), "api_error");
        }
    }

    #[test]
    fn envelope_always_has_four_keys_and_string_code() {
        let json =
            serde_json::to_value(GatewayError::ModelNotFound("x".into()).envelope()).expect("json");
        assert_eq!(json["error"]["code"], "model_not_found");
        assert_eq!(json["error"]["param"], "model");
        assert_eq!(json["error"]["type"], "invalid_request_error");
        let json =
            serde_json::to_value(GatewayError::invalid("bad", None).envelope()).expect("json");
        assert!(json["error"]["param"].is_null() && json["error"]["code"].is_null());
    }
}

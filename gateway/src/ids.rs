//! What the gateway stamps on requests and replies: high-entropy identifiers (so ids never
//! collide, as Ollama's `chatcmpl-NNN` did), the request-id header they travel in, and the clock
//! that dates replies.

/// The header carrying a request's id: set by the request-id layer when the client sent none,
/// forwarded upstream, and echoed to the client.
pub const REQUEST_ID: &str = "x-request-id";

/// `chatcmpl-` + 32 hex digits.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// `call_` + 24 hex digits, for tool calls whose upstream gave no id.
pub fn tool_call_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("call_{}", &hex[..24])
}

/// A fresh request id, for requests that arrive without [`REQUEST_ID`].
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Unix seconds now: `created` of replies is the gateway's clock at arrival, not the upstream's.
pub use wire::unix_time::unix_seconds;

//! Identifiers the gateway mints: high-entropy, so ids never collide (Ollama's `chatcmpl-NNN` did).

/// `chatcmpl-` + 32 hex digits.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// `call_` + 24 hex digits, for tool calls whose upstream gave no id.
pub fn tool_call_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("call_{}", &hex[..24])
}

/// A request id for requests that arrive without `x-request-id`.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

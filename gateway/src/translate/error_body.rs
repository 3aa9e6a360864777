//! An upstream's error body, whatever its dialect, as the message passed on to the client.

use serde_json::Value;

/// The message of an upstream error body: Ollama's `{"error":"…"}`, OpenAI's
/// `{"error":{"message":"…"}}`, a flat `{"message":"…"}`, or short plain text.
pub fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let message = match &value {
            Value::Object(object) => match object.get("error") {
                Some(Value::String(text)) => Some(text.clone()),
                Some(Value::Object(error)) => error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => object
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Value::String(text) => Some(text.clone()),
            _ => None,
        };
        return message.filter(|m| !m.is_empty());
    }
    let text = String::from_utf8_lossy(body).trim().to_owned();
    (!text.is_empty() && text.len() <= 1024 && !text.starts_with('<')).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_every_dialect() {
        assert_eq!(
            error_message(br#"{"error":"model 'x' not found"}"#).as_deref(),
            Some("model 'x' not found")
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"bad","type":"x","code":400}}"#).as_deref(),
            Some("bad")
        );
        assert_eq!(
            error_message(br#"{"object":"error","message":"flat"}"#).as_deref(),
            Some("flat")
        );
        assert_eq!(error_message(b"plain text").as_deref(), Some("plain text"));
        assert_eq!(error_message(b"<html>oops</html>"), None);
    }
}

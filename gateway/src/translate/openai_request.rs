//! An OpenAI request as the widest range of OpenAI-compatible upstreams (vLLM, llama.cpp,
//! LiteLLM, …) accepts it, meaning the same.

use serde_json::Value;
use wire::openai::ChatCompletionRequest;

/// The request as the widest range of OpenAI-compatible servers accepts it, meaning the same:
/// `developer` is sent as `system` (llama.cpp and older vLLM reject the newer role), an assistant's
/// `content: null` beside tool calls as `""` (llama.cpp rejects null), content made only of text
/// parts as one string (llama.cpp cannot concatenate parts), `max_completion_tokens`
/// is mirrored into `max_tokens` (llama.cpp only reads the older name and would run to the
/// context limit), and under `tool_choice: "none"` the tools are not sent (Ollama's layer ignores
/// `tool_choice` and would let the model call them; a model cannot call what it is not shown).
pub fn for_compatible_upstreams(request: &ChatCompletionRequest) -> ChatCompletionRequest {
    let mut request = request.clone();
    if request.tool_choice.as_ref().and_then(Value::as_str) == Some("none") {
        request.tools = None;
        request.tool_choice = None;
    }
    for message in request.messages.iter_mut().flatten() {
        if message.role == "developer" {
            message.role = "system".to_owned();
        }
        if message.role == "assistant" && message.content.as_ref().is_none_or(Value::is_null) {
            message.content = Some(Value::String(String::new()));
        }
        if let Some(text) = message.content.as_ref().and_then(text_only_parts) {
            message.content = Some(Value::String(text));
        }
    }
    if let Some(limit) = request.max_completion_tokens {
        request.max_tokens = Some(limit);
    }
    request
}

/// Content made only of text parts, joined with newlines (as the Ollama path joins them).
fn text_only_parts(content: &Value) -> Option<String> {
    let parts = content.as_array()?;
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|part| {
            (part["type"] == "text")
                .then(|| part["text"].as_str())
                .flatten()
        })
        .collect();
    texts.map(|texts| texts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_widened_for_older_servers() {
        let request: ChatCompletionRequest = serde_json::from_value(json!({"model": "m", "max_completion_tokens": 5, "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "be"}, {"type": "text", "text": "brief"}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
        ]}))
        .expect("valid");
        let widened = serde_json::to_value(for_compatible_upstreams(&request)).expect("json");
        assert_eq!(
            widened["messages"][0],
            json!({"role": "system", "content": "be\nbrief"})
        );
        assert_eq!(widened["messages"][1]["content"], "");
        assert_eq!(
            (
                widened["max_tokens"].clone(),
                widened["max_completion_tokens"].clone()
            ),
            (json!(5), json!(5))
        );
    }

    #[test]
    fn tools_the_model_may_not_call_are_not_sent() {
        let request: ChatCompletionRequest = serde_json::from_value(json!({"model": "m",
            "tool_choice": "none", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}))
        .expect("valid");
        let widened = serde_json::to_value(for_compatible_upstreams(&request)).expect("json");
        assert!(widened.get("tools").is_none() && widened.get("tool_choice").is_none());
    }
}

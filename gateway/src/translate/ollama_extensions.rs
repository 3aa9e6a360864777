//! What Ollama needs that the OpenAI API cannot say: model `options` (above all `num_ctx`, or
//! Ollama silently cuts prompts to its default context), `keep_alive` (or it unloads the model
//! after five minutes) and `think`. A request carries them as extensions (the openai SDK's
//! `extra_body={"options": {"num_ctx": 8192}, "keep_alive": "10m"}`); the configuration sets
//! per-model defaults (`[models."llama3.2"]`); the request's own values win, key by key. Which
//! values Ollama accepts is [`wire::ollama::knobs`]'s grammar, shared with the mock.

use serde_json::{Map, Value};
use wire::{ollama::OllamaExtensions, openai::ChatCompletionRequest};

use crate::error::GatewayError;

/// The extensions a request carries, checked: a wrongly typed one is a 400 naming it (Ollama
/// itself would answer a 500).
pub fn requested(request: &ChatCompletionRequest) -> Result<OllamaExtensions, GatewayError> {
    let options = match &request.options {
        None => Map::new(),
        Some(Value::Object(options)) => options.clone(),
        Some(_) => {
            return Err(GatewayError::invalid(
                "'options' must be an object of Ollama model options.",
                Some("options".to_owned()),
            ));
        }
    };
    let extensions = OllamaExtensions {
        options,
        keep_alive: request.keep_alive.clone(),
        think: request.think.clone(),
    };
    extensions
        .check()
        .map_err(|error| GatewayError::invalid(error.to_string(), Some(error.param())))?;
    Ok(extensions)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(extra: Value) -> ChatCompletionRequest {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        serde_json::from_value(body).unwrap_or_default()
    }

    #[test]
    fn a_request_extension_wins_key_by_key_over_the_model_defaults() {
        let defaults = OllamaExtensions {
            options: Map::from_iter([
                ("num_ctx".to_owned(), json!(8192)),
                ("top_k".to_owned(), json!(20)),
            ]),
            keep_alive: Some(json!("30m")),
            think: Some(json!(false)),
        };
        let asked = requested(&request(
            json!({"options": {"num_ctx": 16384}, "think": "high"}),
        ))
        .expect("valid extensions");
        let merged = asked.over(&defaults);
        assert_eq!(merged.options["num_ctx"], json!(16384));
        assert_eq!(merged.options["top_k"], json!(20));
        assert_eq!(merged.keep_alive, Some(json!("30m")));
        assert_eq!(merged.think, Some(json!("high")));
    }

    #[test]
    fn wrongly_typed_extensions_are_400s_naming_the_parameter() {
        for (extra, param) in [
            (json!({"options": {"num_ctx": "big"}}), "options.num_ctx"),
            (json!({"options": {"stop": "\n"}}), "options.stop"),
            (json!({"options": [1]}), "options"),
            (json!({"keep_alive": "forever"}), "keep_alive"),
            (json!({"keep_alive": true}), "keep_alive"),
            (json!({"think": "maximum"}), "think"),
        ] {
            let error = requested(&request(extra.clone())).expect_err("a wrongly typed extension");
            assert_eq!(error.param().as_deref(), Some(param), "{extra}");
        }
    }

    #[test]
    fn what_ollama_accepts_passes_as_ollama_reads_it() {
        for extra in [
            json!({"options": {"mirostat_new": 1}}),
            json!({"options": {"seed": null}}),
            json!({"think": "max"}),
            json!({"keep_alive": "10\u{b5}s"}),
            json!({"keep_alive": "1h30m"}),
        ] {
            assert!(requested(&request(extra.clone())).is_ok(), "{extra}");
        }
    }
}

//! What Ollama needs that the OpenAI API cannot say: model `options` (above all `num_ctx`, or
//! Ollama silently cuts prompts to its default context), `keep_alive` (or it unloads the model
//! after five minutes) and `think`. A request carries them as extensions (the openai SDK's
//! `extra_body={"options": {"num_ctx": 8192}, "keep_alive": "10m"}`); the configuration sets
//! per-model defaults (`[models."llama3.2"]`); the request's own values win, key by key.

use serde::Deserialize;
use serde_json::{Map, Value};
use wire::openai::ChatCompletionRequest;

use crate::error::GatewayError;

/// Ollama-only settings of one request, or a model's defaults for them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OllamaExtensions {
    /// Model options (`num_ctx`, `num_keep`, `top_k`, …), merged key by key.
    #[serde(default)]
    pub options: Map<String, Value>,
    /// How long the model stays loaded: a Go duration (`"10m"`, `"1h30m"`, `"0"`) or seconds
    /// (negative: forever).
    #[serde(default)]
    pub keep_alive: Option<Value>,
    /// `true`/`false`, or `"low"`/`"medium"`/`"high"`; a request's `reasoning_effort` wins.
    #[serde(default)]
    pub think: Option<Value>,
}

/// Options Ollama reads as integers (any JSON number: it truncates).
const NUMBER_OPTIONS: &[&str] = &[
    "num_keep",
    "seed",
    "num_predict",
    "top_k",
    "repeat_last_n",
    "num_ctx",
    "num_batch",
    "num_gpu",
    "main_gpu",
    "num_thread",
    "temperature",
    "top_p",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "draft_num_predict",
];

impl OllamaExtensions {
    /// The extensions a request carries, checked: a wrongly typed one is a 400 naming it (Ollama
    /// itself would answer a 500).
    pub fn of_request(request: &ChatCompletionRequest) -> Result<Self, GatewayError> {
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
        let extensions = Self {
            options,
            keep_alive: request.keep_alive.clone(),
            think: request.think.clone(),
        };
        extensions
            .check()
            .map_err(|(message, param)| GatewayError::invalid(message, Some(param)))?;
        Ok(extensions)
    }

    /// Checks every value as Ollama reads it: `Err((message, parameter path))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (key, value) in &self.options {
            let ok = if NUMBER_OPTIONS.contains(&key.as_str()) {
                value.is_number()
            } else {
                match key.as_str() {
                    "use_mmap" | "numa" | "low_vram" => value.is_boolean(),
                    "stop" => value
                        .as_array()
                        .is_some_and(|stops| stops.iter().all(Value::is_string)),
                    // Unknown keys: Ollama logs and ignores them.
                    _ => true,
                }
            };
            if !ok {
                return Err((
                    format!("Invalid type for option '{key}': {value}."),
                    format!("options.{key}"),
                ));
            }
        }
        if let Some(keep_alive) = &self.keep_alive {
            let ok = match keep_alive {
                Value::Number(_) => true,
                Value::String(text) => is_go_duration(text),
                _ => false,
            };
            if !ok {
                return Err((
                    format!(
                        "Invalid 'keep_alive': {keep_alive}. Expected a duration such as \"10m\" or a number of seconds."
                    ),
                    "keep_alive".to_owned(),
                ));
            }
        }
        if let Some(think) = &self.think {
            let ok =
                think.is_boolean() || matches!(think.as_str(), Some("low" | "medium" | "high"));
            if !ok {
                return Err((
                    format!(
                        "Invalid 'think': {think}. Expected true, false, \"low\", \"medium\" or \"high\"."
                    ),
                    "think".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// `self` over `defaults`: every option, `keep_alive` and `think` that `self` sets wins.
    pub fn over(mut self, defaults: &OllamaExtensions) -> Self {
        for (key, value) in &defaults.options {
            self.options
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        self.keep_alive = self.keep_alive.or_else(|| defaults.keep_alive.clone());
        self.think = self.think.or_else(|| defaults.think.clone());
        self
    }
}

/// Go's `time.ParseDuration` grammar: `0`, or a signed sequence of decimal numbers each with a
/// unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`).
fn is_go_duration(text: &str) -> bool {
    let rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    if rest == "0" {
        return true;
    }
    let mut rest = rest;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 || rest[..digits] == *"." {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|unit| rest.starts_with(unit))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
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
    fn durations_read_as_go_reads_them() {
        for good in ["10m", "1h30m", "0", "-1h", "1.5h", "300ms", "2h45m30s"] {
            assert!(is_go_duration(good), "{good}");
        }
        for bad in ["", "-1", "10", "ten minutes", "5x", "m", "."] {
            assert!(!is_go_duration(bad), "{bad}");
        }
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
        let asked = OllamaExtensions::of_request(&request(
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
            (json!({"think": "max"}), "think"),
        ] {
            let error = OllamaExtensions::of_request(&request(extra.clone()))
                .expect_err("a wrongly typed extension");
            assert_eq!(error.param().as_deref(), Some(param), "{extra}");
        }
    }

    #[test]
    fn unknown_options_pass_as_ollama_ignores_them() {
        let asked = OllamaExtensions::of_request(&request(json!({"options": {"mirostat_new": 1}})));
        assert!(asked.is_ok());
    }
}

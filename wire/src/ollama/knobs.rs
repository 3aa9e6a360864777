//! What Ollama accepts in the knobs of a request beyond their JSON shape: the type of each
//! `options` key (as its `Options.FromMap` reads them), `think` and its levels, and `keep_alive`
//! (seconds, or a Go duration). The mock answers a wrong knob in Ollama's words; the gateway
//! refuses it before Ollama sees it, and reads its per-model defaults with the same grammar, so
//! both accept exactly what Ollama does.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::go_duration::{self, DurationError};

/// The type Ollama reads an option key as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    /// A whole number (any JSON number: Ollama truncates).
    Integer,
    /// A `float32`.
    Float,
    /// `true`/`false`.
    Boolean,
    /// An array of strings (`stop`).
    StringArray,
}

impl OptionType {
    /// The type of option `name`; `None` for keys Ollama does not know (it logs and ignores
    /// them).
    pub fn of(name: &str) -> Option<Self> {
        use OptionType::*;
        Some(match name {
            "num_keep" | "seed" | "num_predict" | "top_k" | "repeat_last_n" | "mirostat"
            | "num_ctx" | "num_batch" | "num_gpu" | "main_gpu" | "num_thread"
            | "draft_num_predict" => Integer,
            "top_p" | "min_p" | "typical_p" | "tfs_z" | "temperature" | "repeat_penalty"
            | "presence_penalty" | "frequency_penalty" | "mirostat_tau" | "mirostat_eta" => Float,
            "use_mmap" | "use_mlock" | "numa" | "low_vram" | "f16_kv" | "vocab_only"
            | "penalize_newline" => Boolean,
            "stop" => StringArray,
            _ => return None,
        })
    }

    /// Why `value` is not of this type, in Ollama's words (`must be of type integer`), or
    /// `None` when it is (`null` always is: Ollama skips it).
    pub fn mismatch(self, value: &Value) -> Option<&'static str> {
        match (self, value) {
            (_, Value::Null)
            | (OptionType::Integer | OptionType::Float, Value::Number(_))
            | (OptionType::Boolean, Value::Bool(_)) => None,
            (OptionType::StringArray, Value::Array(items)) => items
                .iter()
                .any(|item| !item.is_string())
                .then_some("must be of an array of strings"),
            (OptionType::Integer, _) => Some("must be of type integer"),
            (OptionType::Float, _) => Some("must be of type float32"),
            (OptionType::Boolean, _) => Some("must be of type boolean"),
            (OptionType::StringArray, _) => Some("must be of type array"),
        }
    }
}

/// The first option of `options` whose value Ollama would refuse: its name and why.
pub fn mistyped_option(options: &Map<String, Value>) -> Option<(&str, &'static str)> {
    options.iter().find_map(|(name, value)| {
        let problem = OptionType::of(name)?.mismatch(value)?;
        Some((name.as_str(), problem))
    })
}

/// The levels `think` may name besides `true`/`false`.
pub const THINK_LEVELS: &[&str] = &["low", "medium", "high", "max"];

/// Whether Ollama accepts `value` as `think`: a boolean, `null`, or one of [`THINK_LEVELS`].
pub fn is_think(value: &Value) -> bool {
    match value {
        Value::Bool(_) | Value::Null => true,
        Value::String(level) => THINK_LEVELS.contains(&level.as_str()),
        _ => false,
    }
}

/// Why a `keep_alive` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeepAliveError {
    /// A string that is not a Go duration.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// Neither a number nor a string; Ollama names the Go type it decoded.
    #[error("Unsupported type: '{0}'")]
    Type(&'static str),
}

/// How long a model stays loaded, as Ollama reads `keep_alive`: seconds as a number, or a Go
/// duration string; `None` when unset. Negative means forever.
pub fn keep_alive_nanos(value: Option<&Value>) -> Result<Option<i64>, KeepAliveError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(seconds)) => Ok(Some(
            (seconds.as_f64().unwrap_or_default() * 1e9).trunc() as i64,
        )),
        Some(Value::String(text)) => Ok(Some(go_duration::parse(text)?)),
        Some(other) => Err(KeepAliveError::Type(go_type_name(other))),
    }
}

/// The Go type `encoding/json` decodes `value` into, as Ollama's messages name it.
pub fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Null => "<nil>",
    }
}

/// Ollama's knobs of one request that the OpenAI API cannot say — model `options`,
/// `keep_alive` and `think` — or a model's configured defaults for them.
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
    /// `true`/`false`, or a level of [`THINK_LEVELS`].
    #[serde(default)]
    pub think: Option<Value>,
}

/// A knob of [`OllamaExtensions`] that Ollama would refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnobError {
    /// An option of the wrong type.
    #[error("Invalid type for option '{name}': {value}.")]
    Option {
        /// The option's key.
        name: String,
        /// Its value.
        value: Value,
    },
    /// A `keep_alive` that is neither seconds nor a Go duration.
    #[error(
        "Invalid 'keep_alive': {0}. Expected a duration such as \"10m\" or a number of seconds."
    )]
    KeepAlive(Value),
    /// A `think` that is neither a boolean nor a level.
    #[error(
        "Invalid 'think': {0}. Expected true, false, \"low\", \"medium\", \"high\" or \"max\"."
    )]
    Think(Value),
}

impl KnobError {
    /// The parameter's path: `options.num_ctx`, `keep_alive`, `think`.
    pub fn param(&self) -> String {
        match self {
            KnobError::Option { name, .. } => format!("options.{name}"),
            KnobError::KeepAlive(_) => "keep_alive".to_owned(),
            KnobError::Think(_) => "think".to_owned(),
        }
    }
}

impl OllamaExtensions {
    /// Checks every knob as Ollama reads it.
    pub fn check(&self) -> Result<(), KnobError> {
        if let Some((name, _)) = mistyped_option(&self.options) {
            return Err(KnobError::Option {
                name: name.to_owned(),
                value: self.options[name].clone(),
            });
        }
        if keep_alive_nanos(self.keep_alive.as_ref()).is_err() {
            return Err(KnobError::KeepAlive(
                self.keep_alive.clone().unwrap_or_default(),
            ));
        }
        if let Some(think) = &self.think
            && !is_think(think)
        {
            return Err(KnobError::Think(think.clone()));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn option_types_are_read_as_ollama_reads_them() {
        let options = json!({"bogus": "x", "seed": null, "num_predict": 3.7, "stop": ["\n"]});
        assert_eq!(mistyped_option(options.as_object().expect("object")), None);
        for (options, name, problem) in [
            (
                json!({"num_ctx": "big"}),
                "num_ctx",
                "must be of type integer",
            ),
            (json!({"top_p": true}), "top_p", "must be of type float32"),
            (json!({"numa": 1}), "numa", "must be of type boolean"),
            (json!({"stop": "\n"}), "stop", "must be of type array"),
            (
                json!({"stop": [1]}),
                "stop",
                "must be of an array of strings",
            ),
        ] {
            assert_eq!(
                mistyped_option(options.as_object().expect("object")),
                Some((name, problem))
            );
        }
    }

    #[test]
    fn keep_alive_is_seconds_or_a_go_duration() {
        assert_eq!(
            keep_alive_nanos(Some(&json!(300))),
            Ok(Some(300_000_000_000))
        );
        assert_eq!(keep_alive_nanos(Some(&json!(-1))), Ok(Some(-1_000_000_000)));
        assert_eq!(
            keep_alive_nanos(Some(&json!("5m"))),
            Ok(Some(300_000_000_000))
        );
        assert_eq!(
            keep_alive_nanos(Some(&json!("10\u{b5}s"))),
            Ok(Some(10_000))
        );
        assert_eq!(keep_alive_nanos(None), Ok(None));
        assert_eq!(
            keep_alive_nanos(Some(&json!(true))).map_err(|error| error.to_string()),
            Err("Unsupported type: 'bool'".to_owned())
        );
        assert!(keep_alive_nanos(Some(&json!("forever"))).is_err());
    }

    #[test]
    fn think_is_a_boolean_or_a_level() {
        for ok in [json!(true), json!(false), json!("low"), json!("max")] {
            assert!(is_think(&ok), "{ok}");
        }
        for bad in [json!("maximum"), json!(1), json!(["high"])] {
            assert!(!is_think(&bad), "{bad}");
        }
    }
}

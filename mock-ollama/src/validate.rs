//! Ollama's request checks that are more than "does it parse": `think`, `keep_alive`, `format`
//! and the types inside the free-form `options` map, with Ollama's messages and statuses.

use serde_json::{Map, Value};

use crate::{
    error::OllamaError,
    scenario::{Capability, ModelSpec},
};

const THINK_LEVELS: &[&str] = &["low", "medium", "high", "max"];

/// Checks `think` at decode time: a boolean or a known level.
pub fn think(value: &Value) -> Result<&Value, OllamaError> {
    match value {
        Value::Bool(_) | Value::Null => Ok(value),
        Value::String(level) if THINK_LEVELS.contains(&level.as_str()) => Ok(value),
        other => Err(OllamaError::InvalidThink(other.to_string())),
    }
}

/// Whether the reply thinks: an explicit `think` must be allowed by the model; unset means
/// "yes" on thinking models.
pub fn thinking(
    think: Option<&Value>,
    model: &ModelSpec,
    requested: &str,
) -> Result<bool, OllamaError> {
    let wants = match think {
        None | Some(Value::Null) => return Ok(model.can(Capability::Thinking)),
        Some(Value::Bool(enabled)) => *enabled,
        Some(_) => true,
    };
    if wants && !model.can(Capability::Thinking) {
        return Err(OllamaError::Unsupported {
            model: requested.to_owned(),
            capability: "thinking",
        });
    }
    Ok(wants)
}

/// Checks `keep_alive`: seconds as a number, or a Go duration string.
pub fn keep_alive(value: Option<&Value>) -> Result<(), OllamaError> {
    match value {
        None | Some(Value::Null | Value::Number(_)) => Ok(()),
        Some(Value::String(text)) => parse_go_duration(text).map(|_| ()),
        Some(other) => Err(OllamaError::InvalidKeepAlive(format!(
            "Unsupported type: '{}'",
            go_type_name(other)
        ))),
    }
}

/// True when `keep_alive` asks to unload now (`0`, `"0"`, `"0s"`, …).
pub fn keep_alive_is_zero(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Number(seconds)) => seconds.as_f64().is_some_and(|s| (0.0..1.0).contains(&s)),
        Some(Value::String(text)) => parse_go_duration(text).is_ok_and(|nanos| nanos == 0.0),
        _ => false,
    }
}

/// Parses a Go duration (`"300ms"`, `"1h30m"`, `"-1.5h"`, `"0"`) into nanoseconds.
fn parse_go_duration(text: &str) -> Result<f64, OllamaError> {
    let invalid = || OllamaError::InvalidKeepAlive(format!("time: invalid duration {text:?}"));
    let (sign, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if rest == "0" {
        return Ok(0.0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(OllamaError::InvalidKeepAlive(format!(
                    "time: missing unit in duration {text:?}"
                )));
            }
            unit => {
                return Err(OllamaError::InvalidKeepAlive(format!(
                    "time: unknown unit {unit:?} in duration {text:?}"
                )));
            }
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(sign * total)
}

/// Checks `format`: unset, `""`, `"json"` or a JSON Schema object. Ollama fails this in the
/// runner, hence a 500.
pub fn format(value: Option<&Value>) -> Result<(), OllamaError> {
    match value {
        None | Some(Value::Null | Value::Object(_)) => Ok(()),
        Some(Value::String(text)) if text.is_empty() || text == "json" => Ok(()),
        Some(other) => Err(OllamaError::InvalidFormat(other.to_string())),
    }
}

#[derive(Clone, Copy)]
enum OptionType {
    Integer,
    Float,
    Boolean,
    StringArray,
}

fn option_type(name: &str) -> Option<OptionType> {
    use OptionType::*;
    Some(match name {
        "num_keep" | "seed" | "num_predict" | "top_k" | "repeat_last_n" | "mirostat"
        | "num_ctx" | "num_batch" | "num_gpu" | "main_gpu" | "num_thread" | "draft_num_predict" => {
            Integer
        }
        "top_p" | "min_p" | "typical_p" | "tfs_z" | "temperature" | "repeat_penalty"
        | "presence_penalty" | "frequency_penalty" | "mirostat_tau" | "mirostat_eta" => Float,
        "use_mmap" | "use_mlock" | "numa" | "low_vram" | "f16_kv" | "vocab_only"
        | "penalize_newline" => Boolean,
        "stop" => StringArray,
        _ => return None,
    })
}

/// Checks option types like Ollama's `Options.FromMap`: unknown keys and `null`s are ignored,
/// a wrong type is a 500 naming the option.
pub fn options(options: Option<&Map<String, Value>>) -> Result<(), OllamaError> {
    let Some(options) = options else {
        return Ok(());
    };
    for (name, value) in options {
        let Some(kind) = option_type(name) else {
            tracing::warn!(option = %name, "invalid option provided");
            continue;
        };
        let problem = match (kind, value) {
            (_, Value::Null) => None,
            (OptionType::Integer, Value::Number(_)) => None,
            (OptionType::Float, Value::Number(_)) => None,
            (OptionType::Boolean, Value::Bool(_)) => None,
            (OptionType::StringArray, Value::Array(items)) => items
                .iter()
                .any(|item| !item.is_string())
                .then_some("must be of an array of strings"),
            (OptionType::Integer, _) => Some("must be of type integer"),
            (OptionType::Float, _) => Some("must be of type float32"),
            (OptionType::Boolean, _) => Some("must be of type boolean"),
            (OptionType::StringArray, _) => Some("must be of type array"),
        };
        if let Some(problem) = problem {
            return Err(OllamaError::InvalidOption(format!(
                "option {name:?} {problem}"
            )));
        }
    }
    Ok(())
}

/// `options.num_predict` when it limits the reply (positive).
pub fn num_predict(options: Option<&Map<String, Value>>) -> Option<u64> {
    let limit = options?.get("num_predict")?.as_f64()? as i64;
    u64::try_from(limit).ok().filter(|limit| *limit > 0)
}

fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Null => "<nil>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn option_type_errors_use_ollamas_words() {
        let err = options(json!({"stop": "\n"}).as_object()).expect_err("bad");
        assert_eq!(err.to_string(), r#"option "stop" must be of type array"#);
        let err = options(json!({"temperature": "hot"}).as_object()).expect_err("bad");
        assert_eq!(
            err.to_string(),
            r#"option "temperature" must be of type float32"#
        );
        assert!(
            options(json!({"bogus": "x", "seed": null, "num_predict": 3.7}).as_object()).is_ok()
        );
    }

    #[test]
    fn keep_alive_accepts_numbers_and_go_durations() {
        for ok in [
            json!(300),
            json!(-1),
            json!("5m"),
            json!("1h30m"),
            json!("0"),
            json!("-1m"),
        ] {
            assert!(keep_alive(Some(&ok)).is_ok(), "{ok}");
        }
        assert_eq!(
            keep_alive(Some(&json!("-1")))
                .expect_err("no unit")
                .to_string(),
            r#"time: missing unit in duration "-1""#
        );
        assert_eq!(
            keep_alive(Some(&json!(true)))
                .expect_err("bool")
                .to_string(),
            "Unsupported type: 'bool'"
        );
        assert!(keep_alive_is_zero(Some(&json!("0s"))));
        assert!(keep_alive_is_zero(Some(&json!(0))));
        assert!(!keep_alive_is_zero(Some(&json!("5m"))));
    }

    #[test]
    fn think_levels() {
        assert!(think(&json!("high")).is_ok());
        assert!(think(&json!(false)).is_ok());
        assert_eq!(
            think(&json!("extreme")).expect_err("bad").status(),
            axum::http::StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn num_predict_only_when_positive() {
        assert_eq!(num_predict(json!({"num_predict": 5}).as_object()), Some(5));
        assert_eq!(num_predict(json!({"num_predict": -1}).as_object()), None);
        assert_eq!(num_predict(None), None);
    }
}

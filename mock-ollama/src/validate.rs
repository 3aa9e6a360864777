//! Ollama's request checks that are more than "does it parse": `think`, `keep_alive`, `format`
//! and the types inside the free-form `options` map, with Ollama's messages and statuses.

use serde_json::{Map, Value};
use wire::ollama::knobs::{self, OptionType};

use crate::{
    error::OllamaError,
    scenario::{Capability, ModelSpec},
};

/// Checks `think` at decode time: a boolean or a known level.
pub fn think(value: &Value) -> Result<&Value, OllamaError> {
    if knobs::is_think(value) {
        Ok(value)
    } else {
        Err(OllamaError::InvalidThink(value.to_string()))
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
    knobs::keep_alive_nanos(value)
        .map(|_| ())
        .map_err(|error| OllamaError::InvalidKeepAlive(error.to_string()))
}

/// True when `keep_alive` asks to unload now (`0`, `"0"`, `"0s"`, …).
pub fn keep_alive_is_zero(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Number(seconds)) => seconds.as_f64().is_some_and(|s| (0.0..1.0).contains(&s)),
        Some(Value::String(_)) => matches!(knobs::keep_alive_nanos(value), Ok(Some(0))),
        _ => false,
    }
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

/// Checks option types like Ollama's `Options.FromMap`: unknown keys and `null`s are ignored,
/// a wrong type is a 500 naming the option.
pub fn options(options: Option<&Map<String, Value>>) -> Result<(), OllamaError> {
    let Some(options) = options else {
        return Ok(());
    };
    for name in options.keys() {
        if OptionType::of(name).is_none() {
            tracing::warn!(option = %name, "invalid option provided");
        }
    }
    match knobs::mistyped_option(options) {
        Some((name, problem)) => Err(OllamaError::InvalidOption(format!(
            "option {name:?} {problem}"
        ))),
        None => Ok(()),
    }
}

/// `options.num_predict` when it limits the reply (positive).
pub fn num_predict(options: Option<&Map<String, Value>>) -> Option<u64> {
    let limit = options?.get("num_predict")?.as_f64()? as i64;
    u64::try_from(limit).ok().filter(|limit| *limit > 0)
}

/// `options.stop`: the non-empty strings the reply ends before.
pub fn stop_sequences(options: Option<&Map<String, Value>>) -> Vec<String> {
    options
        .and_then(|options| options.get("stop"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|stop| !stop.is_empty())
        .map(str::to_owned)
        .collect()
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

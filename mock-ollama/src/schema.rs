//! A JSON value that satisfies a tool's JSON Schema, so generated tool calls are valid calls.
//!
//! Supports what tool declarations use in practice: `type` (string or array), `properties` and
//! `required`, `items`, `enum`, `const`, `minimum`/`maximum`, `minItems`, `minLength`,
//! `anyOf`/`oneOf`/`allOf` and local `$ref`s into `$defs`/`definitions`. `pattern` and `format`
//! are not honoured.

use serde_json::{Map, Value, json};

use crate::seed::DetRng;

const WORDS: &[&str] = &[
    "paris", "blue", "alpha", "seven", "north", "ocean", "amber", "delta",
];
const MAX_DEPTH: usize = 8;

/// A value valid against `schema` (resolving `$ref`s against `schema` itself).
pub fn example(schema: &Value, rng: &mut DetRng) -> Value {
    example_at(schema, schema, rng, 0)
}

fn example_at(schema: &Value, root: &Value, rng: &mut DetRng, depth: usize) -> Value {
    let Some(object) = schema.as_object() else {
        // `true` or a missing schema accepts anything.
        return json!(WORDS[rng.below(WORDS.len() as u64) as usize]);
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(target) = object.get("$ref").and_then(Value::as_str)
        && let Some(resolved) = resolve(root, target)
    {
        return example_at(resolved, root, rng, depth + 1);
    }
    if let Some(value) = object.get("const") {
        return value.clone();
    }
    if let Some(first) = object
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = object
            .get(key)
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return example_at(first, root, rng, depth + 1);
        }
    }
    if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(fields) = example_at(part, root, rng, depth + 1) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    match schema_type(object) {
        "object" => object_example(object, root, rng, depth),
        "array" => {
            let count = object
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let items = object.get("items").unwrap_or(&Value::Bool(true));
            Value::Array(
                (0..count)
                    .map(|_| example_at(items, root, rng, depth + 1))
                    .collect(),
            )
        }
        "integer" => json!(clamp(object, 42.0).round() as i64),
        "number" => json!(clamp(object, 1.5)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => {
            let mut word = WORDS[rng.below(WORDS.len() as u64) as usize].to_owned();
            let min_len = object.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            while word.len() < min_len {
                word.push('x');
            }
            json!(word)
        }
    }
}

fn schema_type(object: &Map<String, Value>) -> &str {
    match object.get("type") {
        Some(Value::String(kind)) => kind,
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if object.contains_key("properties") => "object",
        _ if object.contains_key("items") => "array",
        _ => "string",
    }
}

fn object_example(
    object: &Map<String, Value>,
    root: &Value,
    rng: &mut DetRng,
    depth: usize,
) -> Value {
    let empty = Map::new();
    let properties = object
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Option<Vec<&str>> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect());
    let mut out = Map::new();
    for (name, property) in properties {
        let wanted = required
            .as_ref()
            .is_none_or(|names| names.contains(&name.as_str()));
        if wanted {
            out.insert(name.clone(), example_at(property, root, rng, depth + 1));
        }
    }
    // A required name with no declared property still has to be present.
    for name in required.unwrap_or_default() {
        out.entry(name.to_owned())
            .or_insert_with(|| json!(WORDS[0]));
    }
    Value::Object(out)
}

fn clamp(object: &Map<String, Value>, preferred: f64) -> f64 {
    let low = object.get("minimum").and_then(Value::as_f64);
    let high = object.get("maximum").and_then(Value::as_f64);
    let mut value = preferred;
    if let Some(low) = low {
        value = value.max(low);
    }
    if let Some(high) = high {
        value = value.min(high);
    }
    value
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_value(schema: Value) -> Value {
        example(&schema, &mut DetRng::new(3))
    }

    #[test]
    fn required_properties_of_the_right_types() {
        let value = gen_value(json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "verbose": {"type": ["boolean", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}
            },
            "required": ["city", "unit", "days", "verbose", "tags"]
        }));
        assert!(value["city"].is_string());
        assert_eq!(value["unit"], "celsius");
        assert_eq!(value["days"], 7);
        assert_eq!(value["verbose"], true);
        assert_eq!(value["tags"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn optional_properties_are_left_out_when_required_is_given() {
        let value = gen_value(json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "required": ["a"]
        }));
        assert_eq!(value.as_object().map(Map::len), Some(1));
    }

    #[test]
    fn refs_into_defs_are_followed() {
        let value = gen_value(json!({
            "type": "object",
            "properties": {"loc": {"$ref": "#/$defs/Loc"}},
            "$defs": {"Loc": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]}}
        }));
        assert_eq!(value["loc"]["lat"], 1.5);
    }

    #[test]
    fn recursive_schemas_terminate() {
        let value = gen_value(json!({
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
            "$ref": "#/$defs/Node"
        }));
        assert!(value.is_object());
    }
}

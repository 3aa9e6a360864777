//! The reference server's `/v1/embeddings`: eight float32 dimensions drawn from the text, so the
//! float and base64 replies of one input agree exactly.

use axum::{body::Bytes, extract::State, response::Response};
use base64::Engine;
use serde_json::{Value, json};

use super::{Deviation, MODEL, error, json_reply};

const DIMENSIONS: usize = 8;

fn vector(text: &str) -> Vec<f32> {
    let seed: u32 = text.bytes().map(u32::from).sum();
    (0..DIMENSIONS as u32)
        .map(|i| ((seed + i * 31) % 97) as f32 / 97.0 - 0.5)
        .collect()
}

pub async fn embeddings(State(d): State<Deviation>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(d, 400, "We could not parse the JSON body", None);
    };
    if request["model"] != MODEL {
        return error(d, 404, "The model does not exist", Some("model"));
    }
    let inputs: Option<Vec<&str>> = match &request["input"] {
        Value::String(text) => Some(vec![text]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let inputs = match (inputs, d.0) {
        (Some(inputs), _) if !inputs.is_empty() => inputs,
        (_, "EMB-004") => vec!["accepted anyway"],
        (_, "EMB-004:should") => return error(d, 422, "'input' is invalid", Some("input")),
        _ => return error(d, 400, "'input' is invalid", Some("input")),
    };
    let inputs = if d.is("EMB-002") {
        &inputs[..1]
    } else {
        &inputs[..]
    };
    let base64 = request["encoding_format"] == "base64" && !d.is("EMB-003");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = vector(text);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector.iter().map(|v| f64::from(*v)).collect::<Vec<_>>())
            };
            let object = if d.is("EMB-001") {
                "vector"
            } else {
                "embedding"
            };
            json!({"object": object, "index": index, "embedding": embedding})
        })
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    json_reply(
        d,
        json!({"object": "list", "data": data, "model": MODEL,
               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}

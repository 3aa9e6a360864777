//! `/v1/embeddings` (EMB-001..004), judged when the target serves it: always with
//! `--embedding-model`, which states that it must; otherwise only when it answers the chat model.

use base64::Engine;
use serde_json::Value;

use super::{Check, check, exchange, per_probe, show, success_json};
use crate::{
    check::Outcome,
    probes::{EMBEDDED, Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "EMB-001",
        Embeddings,
        Must,
        "object list; data[] of {object: embedding, index, embedding: numbers}; model; usage counts",
        emb_001
    ),
    check!(
        "EMB-002",
        Embeddings,
        Must,
        "an array input gets one embedding per input, in order, all of one dimension",
        emb_002
    ),
    check!(
        "EMB-003",
        Embeddings,
        Should,
        "encoding_format base64 gives little-endian float32s equal to the float reply",
        emb_003
    ),
    check!(
        "EMB-004",
        Embeddings,
        Must,
        "an invalid or missing input is a 4xx with the envelope (SHOULD: 400)",
        emb_004
    ),
];

/// Whether the embeddings checks apply: the target must serve embeddings (`--embedding-model`),
/// or it answered the embeddings probe with something other than a refusal.
fn served(o: &Observations) -> Result<(), Outcome> {
    let first = exchange(o, name::EMB_STRING)?;
    let refused = first.status.is_some_and(|s| (400..500).contains(&s));
    if !o.expect_embeddings && refused {
        return Err(Outcome::Skip(format!(
            "embeddings not served for the chat model ({}); give --embedding-model to require them",
            first.summary()
        )));
    }
    Ok(())
}

/// The float vectors of a reply, in order, or what is wrong with its shape.
fn vectors(body: &Value) -> Result<Vec<Vec<f64>>, String> {
    if body["object"] != "list" {
        return Err(format!("object {}", show(&body["object"])));
    }
    if !body["model"].is_string() {
        return Err(format!("model {}", show(&body["model"])));
    }
    let usage = &body["usage"];
    if !(usage["prompt_tokens"].is_u64() && usage["total_tokens"].is_u64()) {
        return Err(format!("usage {}", show(usage)));
    }
    let Some(data) = body["data"].as_array().filter(|d| !d.is_empty()) else {
        return Err(format!("data {}", show(&body["data"])));
    };
    data.iter()
        .enumerate()
        .map(|(position, entry)| {
            if entry["object"] != "embedding" || !entry["index"].is_u64() {
                return Err(format!("data[{position}] {}", show(entry)));
            }
            let numbers: Option<Vec<f64>> = entry["embedding"]
                .as_array()
                .filter(|v| !v.is_empty())
                .and_then(|v| v.iter().map(Value::as_f64).collect());
            numbers.ok_or_else(|| {
                format!(
                    "data[{position}].embedding is not an array of numbers: {}",
                    show(&entry["embedding"])
                )
            })
        })
        .collect()
}

fn emb_001(o: &Observations) -> Outcome {
    super::need!(served(o));
    per_probe(
        &[name::EMB_STRING, name::EMB_ARRAY],
        |probe| success_json(o, probe),
        |body| vectors(&body).err(),
    )
}

fn emb_002(o: &Observations) -> Outcome {
    super::need!(served(o));
    let single = super::need!(success_json(o, name::EMB_STRING));
    let array = super::need!(success_json(o, name::EMB_ARRAY));
    let (Ok(single), Ok(array_vectors)) = (vectors(&single), vectors(&array)) else {
        return Outcome::Skip("a reply's shape is wrong (see EMB-001)".to_owned());
    };
    let indices: Vec<Value> = array["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["index"].clone())
        .collect();
    let dimensions: Vec<usize> = array_vectors.iter().map(Vec::len).collect();
    let dimension = single[0].len();
    Outcome::expect(
        indices == [Value::from(0), Value::from(1)]
            && dimensions.iter().all(|d| *d == dimension)
            && single.len() == 1,
        format!(
            "{} inputs: indices {}, dimensions {dimensions:?} (a single input: {dimension})",
            EMBEDDED.len(),
            show(&Value::Array(indices.clone()))
        ),
    )
}

fn emb_003(o: &Observations) -> Outcome {
    super::need!(served(o));
    let floats = super::need!(success_json(o, name::EMB_STRING));
    let Ok(floats) = vectors(&floats) else {
        return Outcome::Skip("the float reply's shape is wrong (see EMB-001)".to_owned());
    };
    let encoded = super::need!(success_json(o, name::EMB_BASE64));
    let text = &encoded["data"][0]["embedding"];
    let Some(bytes) = text
        .as_str()
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
    else {
        return Outcome::Fail(format!("embedding is not a base64 string: {}", show(text)));
    };
    let decoded: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    let close = decoded.len() == floats[0].len()
        && bytes.len() % 4 == 0
        && decoded
            .iter()
            .zip(&floats[0])
            .all(|(a, b)| (a - b).abs() <= 1e-4 * b.abs().max(1.0));
    Outcome::expect(
        close,
        format!(
            "{} bytes decode to {} float32s; the float reply has {}",
            bytes.len(),
            decoded.len(),
            floats[0].len()
        ),
    )
}

fn emb_004(o: &Observations) -> Outcome {
    super::need!(served(o));
    let mut evidence = Vec::new();
    let mut must = Vec::new();
    let mut should = Vec::new();
    for probe in [name::EMB_INVALID_INPUT, name::EMB_MISSING_INPUT] {
        let exchange = super::need!(exchange(o, probe));
        let enveloped = exchange
            .json()
            .is_some_and(|body| body["error"].is_object());
        let line = format!("{probe}: {}", exchange.summary());
        match exchange.status {
            Some(400) if enveloped => evidence.push(line),
            Some(401..=499) if enveloped => should.push(line),
            _ => must.push(line),
        }
    }
    if !must.is_empty() {
        Outcome::Fail(must.join("; "))
    } else if !should.is_empty() {
        Outcome::FailShould(should.join("; "))
    } else {
        Outcome::Pass(evidence.join("; "))
    }
}

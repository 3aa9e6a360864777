//! Models (MODELS-001..003).

use serde_json::Value;

use super::{Check, check, exchange, need, show, success_json};
use crate::{
    check::Outcome,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "MODELS-001",
        Models,
        Must,
        "GET /models is 200 {\"object\": \"list\", \"data\": [...]}",
        models_001
    ),
    check!(
        "MODELS-002",
        Models,
        Must,
        "each model has id, object model, integer created and owned_by",
        models_002
    ),
    check!(
        "MODELS-003",
        Models,
        Should,
        "the chat model is listed and retrievable; an unknown id is a 404 envelope",
        models_003
    ),
];

fn models_001(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::MODELS_LIST));
    let body = exchange.json().unwrap_or(Value::Null);
    Outcome::expect(
        exchange.status == Some(200) && body["object"] == "list" && body["data"].is_array(),
        exchange.summary(),
    )
}

fn models_002(o: &Observations) -> Outcome {
    let body = need!(success_json(o, name::MODELS_LIST));
    let models = body["data"].as_array().cloned().unwrap_or_default();
    let bad = models.iter().find(|model| {
        !(model["id"].is_string()
            && model["object"] == "model"
            && super::is_unix_seconds(&model["created"])
            && model["owned_by"].is_string())
    });
    match bad {
        Some(model) => Outcome::Fail(format!("model {}", show(model))),
        None => super::all_clear(models.len(), Vec::new(), "models"),
    }
}

fn models_003(o: &Observations) -> Outcome {
    let list = need!(success_json(o, name::MODELS_LIST));
    let wanted = o.model.as_str();
    let listed = list["data"].as_array().into_iter().flatten().any(|m| {
        m["id"]
            .as_str()
            .is_some_and(|id| id == wanted || id == format!("{wanted}:latest"))
    });
    let retrieved = need!(exchange(o, name::MODELS_RETRIEVE));
    let unknown = need!(exchange(o, name::MODELS_RETRIEVE_UNKNOWN));
    let unknown_ok =
        unknown.status == Some(404) && unknown.json().is_some_and(|b| b["error"].is_object());
    Outcome::expect(
        listed && retrieved.status == Some(200) && unknown_ok,
        format!(
            "listed {listed}; retrieve {}; unknown {}",
            retrieved.summary(),
            unknown.summary()
        ),
    )
}

//! Which backend serves which model: configured lists, or lists discovered from each backend
//! (`/api/tags`, `/v1/models`) and reused for a short while; merged for `/v1/models`.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use wire::{ollama::canonical_model_name, openai::Model};

use crate::{backend::Backend, config::BackendKind, error::GatewayError};

type Cached = Option<(Instant, Arc<Vec<Model>>)>;

/// The backends and their model lists.
#[derive(Debug)]
pub struct Catalog {
    backends: Vec<Arc<Backend>>,
    cache: Vec<Mutex<Cached>>,
    ttl: Duration,
    started: u64,
}

impl Catalog {
    /// A catalog over `backends`, reusing discovered lists for `ttl`.
    pub fn new(backends: Vec<Arc<Backend>>, ttl: Duration) -> Self {
        let cache = backends.iter().map(|_| Mutex::new(None)).collect();
        Self {
            backends,
            cache,
            ttl,
            started: crate::ids::unix_seconds(),
        }
    }

    /// Every backend, in configuration order.
    pub fn backends(&self) -> &[Arc<Backend>] {
        &self.backends
    }

    /// The models of backend `index`: its configured list, or its (cached) discovered one.
    pub async fn models_of(&self, index: usize) -> Result<Arc<Vec<Model>>, GatewayError> {
        let backend = &self.backends[index];
        if let Some(names) = &backend.config.models {
            return Ok(Arc::new(
                names
                    .iter()
                    .map(|name| Model {
                        id: name.clone(),
                        object: "model".to_owned(),
                        created: self.started,
                        owned_by: backend.name().to_owned(),
                    })
                    .collect(),
            ));
        }
        let lock =
            |slot: &Mutex<Cached>| slot.lock().map(|guard| guard.clone()).unwrap_or_default();
        if let Some((fetched, models)) = lock(&self.cache[index])
            && fetched.elapsed() < self.ttl
        {
            return Ok(models);
        }
        let models = Arc::new(backend.list_models().await?);
        if let Ok(mut slot) = self.cache[index].lock() {
            *slot = Some((Instant::now(), models.clone()));
        }
        Ok(models)
    }

    /// Every backend serving `model`, in configuration order (Ollama names match
    /// case-insensitively with `:latest` implied). When none of the reachable backends has it but
    /// one could not be asked, that failure is reported instead of a misleading 404.
    pub async fn serving(&self, model: &str) -> Result<Vec<Arc<Backend>>, GatewayError> {
        let mut serving = Vec::new();
        let mut unreachable = None;
        for (index, backend) in self.backends.iter().enumerate() {
            match self.models_of(index).await {
                Ok(models) => {
                    if models
                        .iter()
                        .any(|listed| same_model(backend.config.kind, &listed.id, model))
                    {
                        serving.push(backend.clone());
                    }
                }
                Err(error) => {
                    tracing::warn!(backend = backend.name(), %error, "model discovery failed");
                    unreachable.get_or_insert(error);
                }
            }
        }
        if serving.is_empty() {
            return Err(
                unreachable.unwrap_or_else(|| GatewayError::ModelNotFound(model.to_owned()))
            );
        }
        Ok(serving)
    }

    /// Every model of every reachable backend, first backend winning on duplicate ids.
    pub async fn list(&self) -> Vec<Model> {
        let mut merged: Vec<Model> = Vec::new();
        for index in 0..self.backends.len() {
            match self.models_of(index).await {
                Ok(models) => {
                    for model in models.iter() {
                        if !merged.iter().any(|existing| existing.id == model.id) {
                            merged.push(model.clone());
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(backend = self.backends[index].name(), %error, "model discovery failed")
                }
            }
        }
        merged
    }

    /// One model by id, as `/v1/models/{id}` reports it (the id echoed as requested).
    pub async fn find(&self, id: &str) -> Result<Model, GatewayError> {
        for (index, backend) in self.backends.iter().enumerate() {
            if let Ok(models) = self.models_of(index).await
                && let Some(model) = models
                    .iter()
                    .find(|m| same_model(backend.config.kind, &m.id, id))
            {
                return Ok(Model {
                    id: id.to_owned(),
                    ..model.clone()
                });
            }
        }
        Err(GatewayError::ModelNotFound(id.to_owned()))
    }
}

/// Whether a listed model id answers to the requested name. OpenAI-compatible ids are exact,
/// except that Ollama's own `/v1` lists `llama3.2:latest` for the `llama3.2` clients send (and
/// accepts both).
fn same_model(kind: BackendKind, listed: &str, requested: &str) -> bool {
    match kind {
        BackendKind::Ollama => canonical_model_name(listed) == canonical_model_name(requested),
        BackendKind::Openai => {
            listed == requested || listed.strip_suffix(":latest") == Some(requested)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_ids_match_exactly_but_for_ollamas_latest_tag() {
        assert!(same_model(BackendKind::Openai, "smollm2", "smollm2"));
        assert!(same_model(
            BackendKind::Openai,
            "llama3.2:latest",
            "llama3.2"
        ));
        assert!(!same_model(
            BackendKind::Openai,
            "llama3.2:latest",
            "LLAMA3.2"
        ));
        assert!(!same_model(BackendKind::Openai, "qwen3:0.6b", "qwen3"));
        assert!(same_model(
            BackendKind::Ollama,
            "llama3.2:latest",
            "LLAMA3.2"
        ));
    }
}

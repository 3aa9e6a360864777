//! The state every handler shares, passed with axum's `State`.

use std::sync::Arc;

use crate::{backend::Backend, catalog::Catalog, config::Config};

/// Shared, immutable after start-up (the catalog caches internally).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the gateway runs with.
    pub config: Arc<Config>,
    /// Backends and their models.
    pub catalog: Arc<Catalog>,
}

impl AppState {
    /// Builds the backends (one pooled client each) from the configuration.
    pub fn new(config: Config) -> Result<Self, reqwest::Error> {
        let backends = config
            .backends
            .iter()
            .cloned()
            .map(|backend| Backend::new(backend).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let ttl = std::time::Duration::from_millis(config.models_cache_ttl_ms);
        Ok(Self {
            catalog: Arc::new(Catalog::new(backends, ttl)),
            config: Arc::new(config),
        })
    }
}

//! The state every handler shares, passed with axum's `State`.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::{
    auth::Keyring,
    backend::Backend,
    bound::Bound,
    catalog::Catalog,
    config::{Config, ConfigError},
    limits::Limiter,
    metrics::Metrics,
};

/// Shared, immutable after start-up (the catalog caches internally).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the gateway runs with.
    pub config: Arc<Config>,
    /// Backends and their models.
    pub catalog: Arc<Catalog>,
    /// Everything counted, served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The gateway-wide bound on chat requests in flight.
    pub admission: Bound,
    /// The API keys, when `[auth]` asks for them.
    pub keyring: Option<Arc<Keyring>>,
    /// The keys' rate limits.
    pub limiter: Arc<Limiter>,
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl AppState {
    /// Builds the backends (one pooled client each) from the configuration; a `ca_cert` that
    /// cannot be read is refused here, at start.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let backends = config
            .backends
            .iter()
            .cloned()
            .map(|backend| Backend::new(backend).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let ttl = std::time::Duration::from_millis(config.models_cache_ttl_ms);
        let keyring = config
            .auth
            .as_ref()
            .map(|auth| Keyring::from_config(auth).map(Arc::new))
            .transpose()?;
        let metrics = Arc::new(Metrics::new());
        Ok(Self {
            keyring,
            limiter: Arc::new(Limiter::new(config.auth.as_ref(), Arc::clone(&metrics))?),
            catalog: Arc::new(Catalog::new(backends, ttl)),
            metrics,
            admission: Bound::new(config.server.max_concurrent_requests),
            config: Arc::new(config),
        })
    }
}

//! API keys: who may call the gateway. With an `[auth]` section every route but its
//! `open_paths` asks for `Authorization: Bearer <key>` (or `x-api-key: <key>`); without one, the
//! gateway is open.
//!
//! The configuration never holds a key itself: `env:NAME` reads it from the environment at
//! start, `sha256:<hex>` gives its digest. Only digests are kept in memory; a presented key is
//! hashed and compared with every known digest in constant time (no early exit), so neither
//! timing nor logs say anything about the keys. Errors never echo what was presented.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    config::{AuthConfig, ConfigError, KeyConfig, RateLimits},
    error::GatewayError,
};

/// `x-api-key`, the other header a key may come in.
pub const X_API_KEY: &str = "x-api-key";

/// One API key, known by its digest.
#[derive(Debug)]
pub struct ApiKey {
    /// Its name in logs, metrics and limits.
    pub name: Arc<str>,
    digest: [u8; 32],
    /// Its own limits.
    pub limits: RateLimits,
    /// Its limits per model (by untagged name), on top.
    per_model: BTreeMap<Arc<str>, RateLimits>,
    /// The only models it may use, when limited.
    pub models: Option<HashSet<String>>,
}

impl ApiKey {
    /// Whether this key may use `model`.
    pub fn may_use(&self, model: &str) -> bool {
        self.models
            .as_ref()
            .is_none_or(|models| models.contains(untagged(model)))
    }

    /// This key's limits on `model`, with the model's name as configured.
    pub fn limits_on(&self, model: &str) -> Option<(&Arc<str>, &RateLimits)> {
        self.per_model.get_key_value(untagged(model))
    }

    fn from_config(config: &KeyConfig) -> Result<Self, ConfigError> {
        let invalid =
            |what: String| ConfigError::Invalid(format!("auth.keys {:?}: key {what}", config.name));
        let digest = match config.key.split_once(':') {
            Some(("env", variable)) => {
                let key = std::env::var(variable).map_err(|_| {
                    invalid(format!(
                        "names the environment variable {variable}, which is not set"
                    ))
                })?;
                if key.is_empty() {
                    return Err(invalid(format!("variable {variable} is empty")));
                }
                Sha256::digest(key.as_bytes()).into()
            }
            Some(("sha256", hex_digest)) => {
                let mut digest = [0; 32];
                hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| {
                    invalid("sha256: must be followed by 64 hexadecimal digits".to_owned())
                })?;
                digest
            }
            _ => {
                return Err(invalid(
                    "must be \"env:VARIABLE\" or \"sha256:<hex digest>\"; the key itself never sits in the file"
                        .to_owned(),
                ));
            }
        };
        Ok(Self {
            name: Arc::from(config.name.as_str()),
            digest,
            limits: config.limits(),
            per_model: config
                .per_model
                .iter()
                .map(|(model, limits)| (Arc::from(untagged(model)), *limits))
                .collect(),
            models: config.models.as_ref().map(|models| {
                models
                    .iter()
                    .map(|model| untagged(model).to_owned())
                    .collect()
            }),
        })
    }
}

/// The known keys and the paths open without one.
#[derive(Debug)]
pub struct Keyring {
    keys: Vec<Arc<ApiKey>>,
    open_paths: HashSet<String>,
}

/// The key a request was made with, set on the request's extensions by [`require_key`].
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<ApiKey>);

impl Keyring {
    /// The keys of `[auth]`, read from the environment or given as digests.
    pub fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let keys = config
            .keys
            .iter()
            .map(|key| ApiKey::from_config(key).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        for (position, key) in keys.iter().enumerate() {
            if let Some(twin) = keys[..position]
                .iter()
                .find(|known| known.digest == key.digest)
            {
                return Err(ConfigError::Invalid(format!(
                    "auth.keys {:?} and {:?} are the same key",
                    twin.name, key.name
                )));
            }
        }
        Ok(Self {
            keys,
            open_paths: config.open_paths.iter().cloned().collect(),
        })
    }

    /// Whether `path` is served without a key.
    pub fn is_open(&self, path: &str) -> bool {
        self.open_paths.contains(path)
    }

    /// The key `headers` present, checked against every known one.
    pub fn identify(&self, headers: &HeaderMap) -> Result<Arc<ApiKey>, GatewayError> {
        let presented =
            presented_key(headers).ok_or(GatewayError::Unauthorized { presented: false })?;
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.digest.ct_eq(&digest)) {
                found = Some(key);
            }
        }
        found
            .cloned()
            .ok_or(GatewayError::Unauthorized { presented: true })
    }
}

/// A model's name without Ollama's implied `:latest`, so that `llama3.2` in a key's list covers
/// `llama3.2:latest` and the other way round.
fn untagged(model: &str) -> &str {
    model.strip_suffix(":latest").unwrap_or(model)
}

/// The key in `Authorization: Bearer …`, else in `x-api-key`.
fn presented_key(headers: &HeaderMap) -> Option<&[u8]> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes())
        .and_then(|value| {
            let (scheme, token) = value.split_at_checked(7)?;
            scheme
                .eq_ignore_ascii_case(b"bearer ")
                .then_some(token.trim_ascii())
        });
    bearer
        .or_else(|| {
            headers
                .get(X_API_KEY)
                .map(|value| value.as_bytes().trim_ascii())
        })
        .filter(|key| !key.is_empty())
}

/// Middleware: lets requests to open paths through, and others only with a known key, which it
/// leaves on the request as a [`Caller`].
pub async fn require_key(
    State(keyring): State<Arc<Keyring>>,
    mut request: Request,
    next: Next,
) -> Response {
    if keyring.is_open(request.uri().path()) {
        return next.run(request).await;
    }
    match keyring.identify(request.headers()) {
        Ok(key) => {
            tracing::Span::current().record("key", &*key.name);
            request.extensions_mut().insert(Caller(key));
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn keyring(keys: &str) -> Result<Keyring, ConfigError> {
        let config: AuthConfig = toml::from_str(keys).expect("toml");
        Keyring::from_config(&config)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    axum::http::HeaderName::from_static(name),
                    HeaderValue::from_str(value).expect("value"),
                )
            })
            .collect()
    }

    const SECRET_DIGEST: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    #[test]
    fn a_key_is_found_by_its_digest_in_either_header() {
        let keys = keyring(&format!(
            "[[keys]]\nname = \"team-a\"\nkey = \"sha256:{SECRET_DIGEST}\"\n"
        ))
        .expect("valid");
        for presented in [
            headers(&[("authorization", "Bearer secret")]),
            headers(&[("authorization", "bearer  secret ")]),
            headers(&[("x-api-key", "secret")]),
        ] {
            assert_eq!(&*keys.identify(&presented).expect("known").name, "team-a");
        }
        for (presented, was_presented) in [
            (headers(&[]), false),
            (headers(&[("authorization", "Bearer ")]), false),
            (headers(&[("authorization", "Basic c2VjcmV0")]), false),
            (headers(&[("authorization", "Bearer secreT")]), true),
        ] {
            assert_eq!(
                keys.identify(&presented).map(|key| key.name.to_string()),
                Err(GatewayError::Unauthorized {
                    presented: was_presented
                })
            );
        }
    }

    #[test]
    fn a_key_in_the_file_itself_or_a_missing_variable_stops_the_start() {
        for (key, says) in [
            ("sk-plain", "never sits in the file"),
            ("env:GATEWAY_TEST_SURELY_UNSET_VARIABLE", "not set"),
            ("sha256:abc", "64 hexadecimal digits"),
        ] {
            let error = keyring(&format!("[[keys]]\nname = \"k\"\nkey = \"{key}\"\n"))
                .expect_err("refused");
            assert!(error.to_string().contains(says), "{error}");
            assert!(
                !error.to_string().contains("sk-plain"),
                "the key is not echoed: {error}"
            );
        }
    }

    #[test]
    fn the_same_key_twice_is_refused() {
        let twice = format!(
            "[[keys]]\nname = \"a\"\nkey = \"sha256:{SECRET_DIGEST}\"\n[[keys]]\nname = \"b\"\nkey = \"sha256:{}\"\n",
            SECRET_DIGEST.to_uppercase()
        );
        let error = keyring(&twice).expect_err("refused");
        assert!(error.to_string().contains("same key"), "{error}");
    }
}

//! How requests reach one upstream, by its URL's scheme:
//! - `http://` — HTTP/1.1 on connections driven by the task that uses them ([`super::http1`]):
//!   no hand-over between tasks per upstream read, small per-connection buffers;
//! - `https://` — reqwest: rustls with the system's roots plus the backend's `ca_cert`, HTTP/2
//!   where the upstream offers it by ALPN, proxies from `HTTPS_PROXY`/`NO_PROXY`.
//!
//! Both give the same [`UpstreamResponse`]: a status, headers, and the body as a byte stream.

use std::{sync::Arc, time::Duration};

use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri, header};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};

use super::http1::{Http1Pool, TransportError};
use crate::config::{BackendConfig, ConfigError};

/// What came back: the head, and the body as it arrives.
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, piece by piece; an error ends it.
    pub body: BoxStream<'static, Result<Bytes, TransportError>>,
}

impl std::fmt::Debug for UpstreamResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// One request to send.
#[derive(Debug)]
pub struct Outgoing<'a> {
    /// Method.
    pub method: Method,
    /// A route under the backend's `base_url`.
    pub route: &'static str,
    /// Forwarded as `x-request-id`.
    pub request_id: Option<&'a str>,
    /// A JSON body, already serialized.
    pub json: Option<Bytes>,
}

/// The way to one upstream, with its routes and its `Authorization` header made once (parsing
/// a URL per request was 4% of the gateway's CPU per request).
#[derive(Debug)]
pub struct Transport {
    leg: Leg,
    /// `Bearer <api key>`, when the backend has a key.
    authorization: Option<HeaderValue>,
}

/// The client that carries requests, by scheme.
#[derive(Debug)]
enum Leg {
    /// `http://`.
    Direct {
        /// Its connections.
        pool: Arc<Http1Pool>,
        /// `Host`.
        authority: HeaderValue,
        /// Each route's path under the base URL.
        routes: Vec<(&'static str, Uri)>,
    },
    /// `https://`.
    Pooled {
        /// The pooled client.
        client: reqwest::Client,
        /// Each route's URL.
        routes: Vec<(&'static str, reqwest::Url)>,
    },
}

impl Transport {
    /// The transport `config.base_url` calls for, serving `routes`, with the backend's key.
    pub fn new(config: &BackendConfig, routes: &[&'static str]) -> Result<Self, ConfigError> {
        let invalid =
            |what: String| ConfigError::Invalid(format!("backend {:?}: {what}", config.name));
        let authorization = config
            .api_key()
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                    .map_err(|_| invalid("the API key is not a valid header value".to_owned()))?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        let leg = Leg::new(config, routes, invalid)?;
        Ok(Self { leg, authorization })
    }

    /// Sends `outgoing` with the backend's key; the response once its head arrived.
    pub async fn send(&self, outgoing: Outgoing<'_>) -> Result<UpstreamResponse, TransportError> {
        let authorization = self.authorization.clone();
        match &self.leg {
            Leg::Direct {
                pool,
                authority,
                routes,
            } => {
                let uri = route(routes, outgoing.route)?.clone();
                let mut request = Request::builder()
                    .method(outgoing.method)
                    .uri(uri)
                    .header(header::HOST, authority.clone());
                if let Some(authorization) = authorization {
                    request = request.header(header::AUTHORIZATION, authorization);
                }
                if let Some(id) = outgoing.request_id {
                    request = request.header(crate::ids::REQUEST_ID, id);
                }
                if outgoing.json.is_some() {
                    request = request.header(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
                let request = request.body(outgoing.json.unwrap_or_default())?;
                let response = pool.send(request).await?;
                let (head, body) = response.into_parts();
                Ok(UpstreamResponse {
                    status: head.status.as_u16(),
                    headers: head.headers,
                    body: body.boxed(),
                })
            }
            Leg::Pooled { client, routes } => {
                let url = route(routes, outgoing.route)?.clone();
                let mut request = client.request(outgoing.method, url);
                if let Some(authorization) = authorization {
                    request = request.header(header::AUTHORIZATION, authorization);
                }
                if let Some(id) = outgoing.request_id {
                    request = request.header(crate::ids::REQUEST_ID, id);
                }
                if let Some(json) = outgoing.json {
                    request = request
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(json);
                }
                let response = request.send().await?;
                Ok(UpstreamResponse {
                    status: response.status().as_u16(),
                    headers: response.headers().clone(),
                    body: response
                        .bytes_stream()
                        .map_err(TransportError::from)
                        .boxed(),
                })
            }
        }
    }
}

impl Leg {
    fn new(
        config: &BackendConfig,
        routes: &[&'static str],
        invalid: impl Fn(String) -> ConfigError,
    ) -> Result<Self, ConfigError> {
        let base = reqwest::Url::parse(&config.base_url)
            .map_err(|error| invalid(format!("base_url {:?}: {error}", config.base_url)))?;
        let joined = |route: &str| format!("{}{route}", base.path().trim_end_matches('/'));
        if base.scheme() == "http" {
            if config.ca_cert.is_some() {
                return Err(invalid(
                    "ca_cert applies to an https:// base_url only".to_owned(),
                ));
            }
            let host = base
                .host_str()
                .ok_or_else(|| invalid(format!("base_url {:?} has no host", config.base_url)))?;
            let port = base.port_or_known_default().unwrap_or(80);
            let authority = match base.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            let routes = routes
                .iter()
                .map(|&route| {
                    let path = joined(route);
                    Uri::try_from(path.as_str())
                        .map(|uri| (route, uri))
                        .map_err(|error| invalid(format!("route {path:?}: {error}")))
                })
                .collect::<Result<_, _>>()?;
            return Ok(Leg::Direct {
                pool: Arc::new(Http1Pool::new(
                    format!("{host}:{port}"),
                    config.timeouts.connect(),
                )),
                authority: HeaderValue::from_str(&authority)
                    .map_err(|error| invalid(format!("host {authority:?}: {error}")))?,
                routes,
            });
        }
        let client = pooled_client(config).map_err(invalid)?;
        let routes = routes
            .iter()
            .map(|&route| {
                let mut url = base.clone();
                url.set_path(&joined(route));
                (route, url)
            })
            .collect();
        Ok(Leg::Pooled { client, routes })
    }
}

/// The resolved form of `route`.
fn route<'r, T>(routes: &'r [(&'static str, T)], route: &str) -> Result<&'r T, TransportError> {
    routes
        .iter()
        .find_map(|(known, target)| (*known == route).then_some(target))
        .ok_or_else(|| format!("no route {route:?} on this backend").into())
}

/// reqwest's pooled client: connect timeout from the configuration, rustls with the system's roots
/// plus `ca_cert`, HTTP/2 by ALPN.
fn pooled_client(config: &BackendConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.timeouts.connect())
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    if let Some(path) = &config.ca_cert {
        let pem =
            std::fs::read(path).map_err(|error| format!("ca_cert {}: {error}", path.display()))?;
        // Its certificates are anchors, and pinned: a self-signed `CA:TRUE` one works too.
        let tls = wire::trust::client_config(Some(&pem))
            .map_err(|error| format!("ca_cert {}: {error}", path.display()))?;
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder.build().map_err(|error| {
        format!(
            "cannot build its HTTP client: {}",
            wire::error_chain::error_chain(&error)
        )
    })
}

//! What a chat handler takes from a request before reading its body, as extractors: its place in
//! the gateway's bound (so a full gateway answers 503 before a byte of the body is read), the
//! clock of its upstream waits, the key it came with, and its id.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};

use crate::{
    auth::Caller,
    bound::Place,
    error::GatewayError,
    ids::{REQUEST_ID, new_request_id},
    overhead::UpstreamClock,
    state::AppState,
};

/// The gateway-wide place of one chat request: handlers that take it are answered 503 when the
/// gateway is full, before their body is read.
#[derive(Debug)]
pub struct Admission {
    _place: Place,
}

impl FromRequestParts<AppState> for Admission {
    type Rejection = GatewayError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, GatewayError> {
        match state.admission.try_take() {
            Some(place) => Ok(Admission { _place: place }),
            None => {
                state.metrics.count_shed("gateway");
                Err(GatewayError::Overloaded {
                    limit: state.admission.limit(),
                })
            }
        }
    }
}

/// Everything a chat request brings besides its body.
#[derive(Debug)]
pub struct Incoming {
    /// Its place in the gateway's bound, held until the reply ends.
    pub admission: Admission,
    /// Where its upstream waits are counted.
    pub clock: UpstreamClock,
    /// The key it came with, when the gateway asks for keys.
    pub caller: Option<Caller>,
    /// Its id, forwarded upstream.
    pub request_id: String,
}

impl FromRequestParts<AppState> for Incoming {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GatewayError> {
        let admission = Admission::from_request_parts(parts, state).await?;
        let Ok(clock) = UpstreamClock::from_request_parts(parts, state).await;
        Ok(Self {
            admission,
            clock,
            caller: parts.extensions.get::<Caller>().cloned(),
            request_id: request_id(&parts.headers),
        })
    }
}

/// The request id set by the request-id layer (or a fresh one).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map_or_else(new_request_id, str::to_owned)
}

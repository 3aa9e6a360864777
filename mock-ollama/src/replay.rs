//! Playing a recorded exchange back: its status and headers, then each recorded write after its
//! recorded delay (× the time scale), ending as the recording did.

use std::sync::Arc;

use axum::{
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};

use crate::{
    exchange::{BodyEnd, Exchange},
    journal::Journal,
    respond::{Ending, Plan, Step, planned_body},
    timing::{millis, scaled},
};

/// The recorded reply, paced by `time_scale` (0 = no sleeping).
pub async fn replay(
    exchange: &Exchange,
    time_scale: f64,
    journal: Arc<Journal>,
    seq: u64,
) -> Response {
    let recorded = &exchange.response;
    let head = scaled(millis(recorded.head_ms), time_scale);
    if !head.is_zero() {
        tokio::time::sleep(head).await;
    }
    let plan = Plan {
        steps: recorded
            .chunks
            .iter()
            .map(|chunk| Step {
                wait: scaled(millis(chunk.delay_ms), time_scale),
                bytes: chunk.bytes(),
            })
            .collect(),
        ending: match recorded.end {
            BodyEnd::Complete => Ending::Finish,
            BodyEnd::Reset => Ending::Abort,
        },
    };
    let length: usize = plan.steps.iter().map(|step| step.bytes.len()).sum();
    let mut response = Response::new(planned_body(plan, journal, seq));
    *response.status_mut() = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in &recorded.headers {
        let (Ok(name), Ok(mut value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            continue; // validated at load
        };
        // A complete body announces the length it has (an edited fixture stays consistent); a
        // reset one keeps the recorded announcement, so the client sees it cut short.
        if name == header::CONTENT_LENGTH && recorded.end == BodyEnd::Complete {
            value = HeaderValue::from(length);
        }
        headers.insert(name, value);
    }
    response
}

//! Playing a recorded exchange back: its status and headers, then each recorded write after its
//! recorded delay (× the time scale), ending as the recording did.

use std::sync::Arc;

use axum::{
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};

use crate::{
    exchange::{BodyEnd, Exchange, RecordedResponse},
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
    let plan = plan(recorded, time_scale);
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

/// The body's writes: each recorded chunk after its delay × `time_scale`, ending as recorded.
pub fn plan(recorded: &RecordedResponse, time_scale: f64) -> Plan {
    Plan {
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
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::exchange::RecordedChunk;

    #[test]
    fn recorded_delays_are_multiplied_by_the_time_scale_and_the_ending_kept() {
        let recorded = RecordedResponse {
            status: 200,
            headers: Default::default(),
            head_ms: 0.0,
            chunks: vec![
                RecordedChunk::new(10.0, b"a"),
                RecordedChunk::new(20.0, b"b"),
            ],
            end: BodyEnd::Reset,
        };
        let waits = |scale| -> Vec<Duration> {
            plan(&recorded, scale)
                .steps
                .iter()
                .map(|step| step.wait)
                .collect()
        };
        assert_eq!(
            waits(0.5),
            [Duration::from_millis(5), Duration::from_millis(10)]
        );
        assert_eq!(waits(0.0), [Duration::ZERO, Duration::ZERO]);
        let planned = plan(&recorded, 1.0);
        assert_eq!(planned.bytes(), b"ab");
        assert_eq!(planned.ending, Ending::Abort);
    }
}

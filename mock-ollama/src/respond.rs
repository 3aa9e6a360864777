//! Turns rendered lines and scripted faults into an HTTP response whose bytes leave exactly when
//! and how the scenario says: each line is its own body frame (hyper flushes it as one chunk),
//! sleeps happen between frames, and faults cut, corrupt or stall the body.

use std::{io, sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::stream;
use wire::{go_json, ollama::ErrorBody};

use crate::{
    error::OllamaError,
    fault::{EndlessShape, Fault},
    journal::{BodyGuard, Journal},
    ndjson::Line,
    timing::{millis, scaled},
};

/// How a dialect writes the faults that put bytes of their own into a stream.
pub trait Framing {
    /// The bytes of an `error_line` fault, after which the body ends; `None` when the dialect
    /// cuts the connection instead.
    fn error_line(&self, message: &str) -> Option<Bytes>;
    /// The bytes of a `malformed_line` fault; `line` is the scripted text, if any.
    fn malformed_line(&self, line: Option<&str>) -> Bytes;
}

/// Ollama's native NDJSON: `{"error":"…"}` and a bare non-JSON line.
#[derive(Debug, Clone, Copy)]
pub struct NdjsonFraming;

impl Framing for NdjsonFraming {
    fn error_line(&self, message: &str) -> Option<Bytes> {
        let mut line = go_json::to_vec(&ErrorBody {
            error: message.to_owned(),
        })
        .unwrap_or_default();
        line.push(b'\n');
        Some(Bytes::from(line))
    }

    fn malformed_line(&self, line: Option<&str>) -> Bytes {
        Bytes::from(format!("{}\n", line.unwrap_or("{\"model\":")))
    }
}

/// One write of the body: wait, then send these bytes (possibly none).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Real time to wait first.
    pub wait: Duration,
    /// Bytes to send.
    pub bytes: Bytes,
}

/// How the body ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Normal end of the chunked body.
    Finish,
    /// Connection aborted mid-body (no terminating chunk).
    Abort,
    /// Never: `piece` written again and again, `pause` apart, until the client leaves.
    Endless {
        /// What each write sends.
        piece: Bytes,
        /// Real time between writes.
        pause: Duration,
    },
}

/// What an `endless` `line` fault writes each time: 64 KiB of spaces.
const ENDLESS_LINE_PIECE: &[u8] = &[b' '; 64 * 1024];

/// Every write of a body, and how it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The writes, in order.
    pub steps: Vec<Step>,
    /// What happens after the last write.
    pub ending: Ending,
}

impl Plan {
    /// The bytes a client receives, concatenated (for tests and determinism checks).
    pub fn bytes(&self) -> Vec<u8> {
        self.steps
            .iter()
            .flat_map(|step| step.bytes.iter().copied())
            .collect()
    }
}

/// Plans a streamed body: the lines, paced by `time_scale`, with the faults applied. `after`
/// counts `lines`, so a dialect that writes several frames for one model chunk keeps them
/// together in one line and its faults cut at the same place in the reply.
pub fn plan_stream(
    lines: &[Line],
    faults: &[Fault],
    time_scale: f64,
    framing: &dyn Framing,
) -> Plan {
    let mut steps = Vec::with_capacity(lines.len() + 1);
    let mut ending = Ending::Finish;
    let mut extra_wait = Duration::ZERO;
    // A fault placed past the end happens at the end.
    let here = |after: &usize, position: usize| (*after).min(lines.len()) == position;
    'lines: for position in 0..=lines.len() {
        for fault in faults {
            match fault {
                Fault::Stall { after, ms } if here(after, position) => {
                    extra_wait += Duration::from_millis(*ms);
                }
                Fault::MalformedLine { after, line } if here(after, position) => {
                    steps.push(Step {
                        wait: std::mem::take(&mut extra_wait),
                        bytes: framing.malformed_line(line.as_deref()),
                    });
                }
                Fault::ErrorLine { after, message } if here(after, position) => {
                    match framing.error_line(message) {
                        Some(bytes) => steps.push(Step {
                            wait: std::mem::take(&mut extra_wait),
                            bytes,
                        }),
                        None => ending = Ending::Abort,
                    }
                    break 'lines;
                }
                Fault::Disconnect { after, clean } if here(after, position) => {
                    if !clean {
                        ending = Ending::Abort;
                    }
                    break 'lines;
                }
                Fault::Endless {
                    after,
                    shape,
                    pause_ms,
                } if here(after, position) => {
                    let last_written = position.checked_sub(1).and_then(|last| lines.get(last));
                    let piece = match (shape, last_written) {
                        (EndlessShape::Lines, Some(line)) => line.bytes.clone(),
                        _ => Bytes::from_static(ENDLESS_LINE_PIECE),
                    };
                    ending = Ending::Endless {
                        piece,
                        pause: Duration::from_millis(*pause_ms),
                    };
                    break 'lines;
                }
                Fault::TruncatedLine { after } if here(after, position) => {
                    if let Some(line) = lines.get(position) {
                        steps.push(Step {
                            wait: scaled(line.delay, time_scale) + std::mem::take(&mut extra_wait),
                            bytes: line.bytes.slice(..line.bytes.len() / 2),
                        });
                    }
                    ending = Ending::Abort;
                    break 'lines;
                }
                _ => {}
            }
        }
        if let Some(line) = lines.get(position) {
            steps.push(Step {
                wait: scaled(line.delay, time_scale) + std::mem::take(&mut extra_wait),
                bytes: line.bytes.clone(),
            });
        }
    }
    if !extra_wait.is_zero() {
        steps.push(Step {
            wait: extra_wait,
            bytes: Bytes::new(),
        });
    }
    drip(Plan { steps, ending }, faults)
}

/// Plans a `stream: false` body: one JSON object after the whole virtual duration. Faults act as
/// they would on a one-line stream: an `error_line` becomes Ollama's 500 `{"error"}` reply.
pub fn plan_whole(
    body: Bytes,
    delay: Duration,
    faults: &[Fault],
    time_scale: f64,
) -> Result<Plan, OllamaError> {
    if let Some(message) = faults.iter().find_map(|fault| match fault {
        Fault::ErrorLine { message, .. } => Some(message.clone()),
        _ => None,
    }) {
        return Err(OllamaError::Scripted {
            status: 500,
            message,
            body: None,
            content_type: None,
            retry_after: None,
        });
    }
    // In a single-object reply every position-based fault happens before the object.
    let at_start: Vec<Fault> = faults
        .iter()
        .filter(|fault| !matches!(fault, Fault::MalformedLine { .. }))
        .map(|fault| match fault.clone() {
            Fault::Disconnect { clean, .. } => Fault::Disconnect { after: 0, clean },
            Fault::TruncatedLine { .. } => Fault::TruncatedLine { after: 0 },
            Fault::Stall { ms, .. } => Fault::Stall { after: 0, ms },
            // The object again and again, or spaces before it ever comes.
            Fault::Endless {
                shape, pause_ms, ..
            } => Fault::Endless {
                after: usize::from(shape == EndlessShape::Lines),
                shape,
                pause_ms,
            },
            other => other,
        })
        .collect();
    let line = Line { delay, bytes: body };
    // No fault left here writes bytes of its own, so the framing is never asked for any.
    Ok(plan_stream(
        std::slice::from_ref(&line),
        &at_start,
        time_scale,
        &NdjsonFraming,
    ))
}

fn drip(plan: Plan, faults: &[Fault]) -> Plan {
    let Some(byte_delay) = faults.iter().find_map(|fault| match fault {
        Fault::Drip { byte_delay_ms } => Some(millis(*byte_delay_ms)),
        _ => None,
    }) else {
        return plan;
    };
    let mut steps = Vec::new();
    for step in plan.steps {
        let mut wait = step.wait;
        for index in 0..step.bytes.len() {
            steps.push(Step {
                wait: std::mem::replace(&mut wait, byte_delay),
                bytes: step.bytes.slice(index..index + 1),
            });
        }
    }
    Plan {
        steps,
        ending: plan.ending,
    }
}

/// Sends a planned 200 reply. A plain single object (no stream, no fault) goes out whole with a
/// `Content-Length`, as Go's servers send one JSON object; anything else is a chunked body.
pub async fn send(
    plan: Plan,
    content_type: &'static str,
    streaming: bool,
    journal: Arc<Journal>,
    seq: u64,
) -> Response {
    if let ([only], Ending::Finish, false) = (plan.steps.as_slice(), &plan.ending, streaming) {
        let mut guard = BodyGuard::new(journal, seq);
        if !only.wait.is_zero() {
            tokio::time::sleep(only.wait).await;
        }
        guard.finish();
        let head = [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))];
        return (StatusCode::OK, head, only.bytes.clone()).into_response();
    }
    streamed(plan, content_type, journal, seq)
}

/// Builds the response: status 200, the content type, and a body that follows the plan and tells
/// the journal if the client leaves early.
pub fn streamed(
    plan: Plan,
    content_type: &'static str,
    journal: Arc<Journal>,
    seq: u64,
) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        planned_body(plan, journal, seq),
    )
        .into_response()
}

/// A body that writes each step as one frame after its wait, ends as planned, and tells the
/// journal if the client leaves early.
pub fn planned_body(plan: Plan, journal: Arc<Journal>, seq: u64) -> Body {
    struct Cursor {
        steps: std::vec::IntoIter<Step>,
        ending: Ending,
        guard: BodyGuard,
        done: bool,
    }
    let cursor = Cursor {
        steps: plan.steps.into_iter(),
        ending: plan.ending,
        guard: BodyGuard::new(journal, seq),
        done: false,
    };
    let body = stream::unfold(cursor, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        match cursor.steps.next() {
            Some(step) => {
                if !step.wait.is_zero() {
                    tokio::time::sleep(step.wait).await;
                }
                Some((Ok::<Bytes, io::Error>(step.bytes), cursor))
            }
            None => match &cursor.ending {
                Ending::Endless { piece, pause } => {
                    if !pause.is_zero() {
                        tokio::time::sleep(*pause).await;
                    }
                    let piece = piece.clone();
                    Some((Ok(piece), cursor))
                }
                Ending::Finish => {
                    cursor.guard.finish();
                    None
                }
                Ending::Abort => {
                    cursor.guard.finish();
                    cursor.done = true;
                    // Let hyper flush what was written before the "crash", as a real server's
                    // kernel would have sent it before the connection died.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Some((
                        Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "mock-ollama: scripted disconnect",
                        )),
                        cursor,
                    ))
                }
            },
        }
    });
    Body::from_stream(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<Line> {
        (0..n)
            .map(|i| Line {
                delay: Duration::from_millis(10),
                bytes: Bytes::from(format!("{{\"n\":{i}}}\n")),
            })
            .collect()
    }

    fn text(plan: &Plan) -> String {
        String::from_utf8(plan.bytes()).expect("utf8")
    }

    #[test]
    fn error_line_replaces_the_rest() {
        let plan = plan_stream(
            &lines(3),
            &[Fault::ErrorLine {
                after: 1,
                message: "boom".into(),
            }],
            0.0,
            &NdjsonFraming,
        );
        assert_eq!(text(&plan), "{\"n\":0}\n{\"error\":\"boom\"}\n");
        assert_eq!(plan.ending, Ending::Finish);
    }

    #[test]
    fn truncated_line_sends_half_then_aborts() {
        let plan = plan_stream(
            &lines(3),
            &[Fault::TruncatedLine { after: 1 }],
            0.0,
            &NdjsonFraming,
        );
        assert_eq!(text(&plan), "{\"n\":0}\n{\"n\"");
        assert_eq!(plan.ending, Ending::Abort);
    }

    #[test]
    fn stall_is_real_time_and_unscaled() {
        let plan = plan_stream(
            &lines(2),
            &[Fault::Stall { after: 1, ms: 250 }],
            0.0,
            &NdjsonFraming,
        );
        assert_eq!(plan.steps[1].wait, Duration::from_millis(250));
        assert_eq!(plan.steps[0].wait, Duration::ZERO);
    }

    #[test]
    fn drip_sends_one_byte_per_step() {
        let plan = plan_stream(
            &lines(1),
            &[Fault::Drip { byte_delay_ms: 2.0 }],
            1.0,
            &NdjsonFraming,
        );
        assert_eq!(plan.steps.len(), 8);
        assert!(plan.steps.iter().all(|s| s.bytes.len() == 1));
        assert_eq!(plan.steps[0].wait, Duration::from_millis(10));
        assert_eq!(plan.steps[1].wait, Duration::from_millis(2));
    }

    #[test]
    fn whole_reply_error_line_is_a_500() {
        let err = plan_whole(
            Bytes::from_static(b"{}"),
            Duration::ZERO,
            &[Fault::ErrorLine {
                after: 3,
                message: "runner died".into(),
            }],
            0.0,
        )
        .expect_err("error");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    fn endless(after: usize, shape: EndlessShape) -> Fault {
        Fault::Endless {
            after,
            shape,
            pause_ms: 3,
        }
    }

    #[test]
    fn endless_lines_repeat_the_last_line_written() {
        let plan = plan_stream(
            &lines(3),
            &[endless(2, EndlessShape::Lines)],
            0.0,
            &NdjsonFraming,
        );
        assert_eq!(text(&plan), "{\"n\":0}\n{\"n\":1}\n");
        assert_eq!(
            plan.ending,
            Ending::Endless {
                piece: Bytes::from_static(b"{\"n\":1}\n"),
                pause: Duration::from_millis(3)
            }
        );
    }

    #[test]
    fn an_endless_line_is_spaces_without_a_line_end() {
        let plan = plan_stream(
            &lines(3),
            &[endless(1, EndlessShape::Line)],
            0.0,
            &NdjsonFraming,
        );
        assert_eq!(text(&plan), "{\"n\":0}\n");
        let Ending::Endless { piece, .. } = plan.ending else {
            panic!("endless: {:?}", plan.ending)
        };
        assert!(piece.len() >= 64 * 1024 && piece.iter().all(|&byte| byte == b' '));
    }

    #[test]
    fn a_whole_reply_repeats_its_object_or_never_starts_it() {
        let object = Bytes::from_static(b"{}");
        let plan = |shape| plan_whole(object.clone(), Duration::ZERO, &[endless(5, shape)], 0.0);
        let lines = plan(EndlessShape::Lines).expect("a plan");
        assert_eq!(text(&lines), "{}");
        assert!(matches!(lines.ending, Ending::Endless { piece, .. } if piece == object));
        let line = plan(EndlessShape::Line).expect("a plan");
        assert_eq!(text(&line), "");
        assert!(matches!(line.ending, Ending::Endless { .. }));
    }

    #[tokio::test]
    async fn an_endless_body_keeps_writing_until_the_client_leaves() {
        use futures_util::StreamExt;
        let plan = plan_stream(
            &lines(1),
            &[endless(1, EndlessShape::Lines)],
            0.0,
            &NdjsonFraming,
        );
        let mut body = planned_body(plan, Arc::new(Journal::new(1)), 0).into_data_stream();
        for _ in 0..100 {
            let frame = body.next().await.expect("more").expect("bytes");
            assert_eq!(frame, Bytes::from_static(b"{\"n\":0}\n"));
        }
    }
}

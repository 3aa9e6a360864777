//! SSE framing at the byte level (SSE-001..009), judged on every successful stream.

use super::{Check, check, judged_streams, per_stream};
use crate::{check::Outcome, probes::Observations};

pub const CHECKS: &[Check] = &[
    check!(
        "SSE-001",
        Sse,
        Must,
        "every payload is in data: fields; no non-standard fields, no unframed JSON",
        sse_001
    ),
    check!(
        "SSE-002",
        Sse,
        Must,
        "every event, [DONE] included, ends with a blank line",
        sse_002
    ),
    check!(
        "SSE-003",
        Sse,
        Should,
        "one kind of line ending (LF, CRLF or CR) per stream",
        sse_003
    ),
    check!(
        "SSE-004",
        Sse,
        Should,
        "comment keep-alives are not combined with id: fields",
        sse_004
    ),
    check!(
        "SSE-005",
        Sse,
        Must,
        "every data payload is valid JSON (or [DONE]) and SHOULD be one data: line",
        sse_005
    ),
    check!(
        "SSE-006",
        Sse,
        Must,
        "the stream ends with an event whose data is exactly [DONE]",
        sse_006
    ),
    check!(
        "SSE-007",
        Sse,
        Must,
        "nothing is sent after [DONE]",
        sse_007
    ),
    check!(
        "SSE-008",
        Sse,
        Should,
        "chat chunks carry no event: name (event: error only with an error payload)",
        sse_008
    ),
    check!(
        "SSE-009",
        Sse,
        Must,
        "keep-alive comments are never re-emitted as data: events",
        sse_009
    ),
];

fn sse_001(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.framing
            .frames
            .iter()
            .find(|frame| !frame.other_fields.is_empty() || frame.data.is_none())
            .map(|frame| match frame.other_fields.first() {
                Some(field) => format!("event #{} has a non-standard field {field:?}", frame.index),
                None => format!("event #{} has no data field", frame.index),
            })
    })
}

fn sse_002(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.framing
            .unterminated
            .as_ref()
            .map(|tail| format!("the body ends with an event without its blank line: {tail:?}"))
    })
}

fn sse_003(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        (view.framing.line_endings.len() > 1)
            .then(|| format!("mixed line endings {:?}", view.framing.line_endings))
    })
}

fn sse_004(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let with_id = view.framing.frames.iter().find(|frame| frame.id.is_some());
        match (view.framing.comments.is_empty(), with_id) {
            (false, Some(frame)) => Some(format!(
                "{} comment(s) and an id: field on event #{} (the Python SDK then dispatches empty events)",
                view.framing.comments.len(),
                frame.index
            )),
            _ => None,
        }
    })
}

fn sse_005(o: &Observations) -> Outcome {
    let outcome = per_stream(o, |view| {
        view.invalid
            .first()
            .map(|(index, data)| format!("event #{index} is not JSON: {data:?}"))
    });
    let multi_line: usize = judged_streams(o)
        .iter()
        .map(|(_, view)| {
            view.framing
                .frames
                .iter()
                .filter(|f| f.data_lines > 1)
                .count()
        })
        .sum();
    match outcome {
        Outcome::Pass(evidence) if multi_line > 0 => Outcome::FailShould(format!(
            "{evidence}; {multi_line} event(s) split their data over several data: lines"
        )),
        other => other,
    }
}

fn sse_006(o: &Observations) -> Outcome {
    per_stream(o, |view| match view.done {
        None => Some(format!(
            "no [DONE] among {} events",
            view.client_events.len()
        )),
        Some(_) => None,
    })
}

fn sse_007(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        let done = view.framing.done_index()?;
        let after = view.framing.frames.len() - done - 1;
        (after > 0 || view.framing.unterminated.is_some())
            .then(|| format!("{after} event(s) after [DONE] (event #{done})"))
    })
}

fn sse_008(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.framing
            .frames
            .iter()
            .find(|frame| {
                frame.event.as_deref().is_some_and(|name| {
                    name != "error" || !frame.data.as_deref().unwrap_or("").contains("\"error\"")
                })
            })
            .map(|frame| {
                format!(
                    "event #{} is named {:?}",
                    frame.index,
                    frame.event.as_deref().unwrap_or("")
                )
            })
    })
}

fn sse_009(o: &Observations) -> Outcome {
    per_stream(o, |view| {
        view.client_events
            .iter()
            .position(|(_, data)| data.trim_start().starts_with(':'))
            .map(|index| {
                format!(
                    "event #{index} carries a comment as data: {:?}",
                    view.client_events[index].1
                )
            })
    })
}

//! Misbehaviour a rule can inject, each observable byte for byte by a client.
//!
//! `after` counts NDJSON lines already written (the final `done` line included), so
//! `{"kind":"error_line","after":2}` writes two chunks, then the error line. Faults are the thing
//! under test, so `stall` and `drip` delays are real time and ignore the global time scale.

use serde::{Deserialize, Serialize};

use crate::error::OllamaError;

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Answer with this status and an error body instead of a reply (before any NDJSON).
    HttpError {
        /// HTTP status, e.g. 429, 499, 500, 503.
        status: u16,
        /// Text of `{"error": …}`; defaults to Ollama's message for the status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Raw body to send instead of `{"error": …}` (e.g. an HTML error page).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Content type of a raw `body`; defaults to `text/plain; charset=utf-8`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
        /// Value of a `Retry-After` header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Write one `{"error": …}` line after `after` lines, then end the stream (no `done` line).
    ErrorLine {
        /// Lines written before the error.
        after: usize,
        /// The error text.
        message: String,
    },
    /// Close the connection after `after` lines, with no `done` line and no error line.
    Disconnect {
        /// Lines written before closing.
        after: usize,
        /// End the chunked body properly (a clean EOF) instead of aborting the connection.
        #[serde(default)]
        clean: bool,
    },
    /// Write a line that is not JSON after `after` lines, then carry on.
    MalformedLine {
        /// Lines written before the bad one.
        after: usize,
        /// The bad line (without `\n`); defaults to `{"model":` .
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<String>,
    },
    /// Write the first half of line `after` (0-based) and abort the connection.
    TruncatedLine {
        /// Lines written whole before the cut one.
        after: usize,
    },
    /// Send nothing for `ms` real milliseconds after `after` lines.
    Stall {
        /// Lines written before the pause.
        after: usize,
        /// Pause length, real time.
        ms: u64,
    },
    /// Never end: write `after` lines, then `shape` forever, `pause_ms` real milliseconds between
    /// writes (none by default: as fast as the client reads). What a broken or hostile upstream
    /// does to a client that buffers without a limit or trusts bytes to keep a deadline away.
    Endless {
        /// Lines written before the endless part.
        after: usize,
        /// What is written forever.
        shape: EndlessShape,
        /// Pause between writes, real time.
        #[serde(default)]
        pause_ms: u64,
    },
    /// Send the body one byte per write, `byte_delay_ms` real milliseconds apart.
    Drip {
        /// Pause between bytes.
        #[serde(default = "default_byte_delay")]
        byte_delay_ms: f64,
    },
}

/// What an `endless` fault writes forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndlessShape {
    /// Spaces and never a line end: in a stream, one NDJSON line or SSE event that never ends; in
    /// a whole reply, a body that never ends.
    Line,
    /// The last line written, again and again: well-formed chunks of a reply that never finishes
    /// (needs `after` ≥ 1).
    Lines,
}

fn default_byte_delay() -> f64 {
    1.0
}

impl Fault {
    /// True for faults after which the client does not have the whole reply (pauses and drips
    /// only slow it down).
    pub fn spoils_reply(&self) -> bool {
        !matches!(self, Fault::Stall { .. } | Fault::Drip { .. })
    }

    /// True for faults that replace the response head (no NDJSON at all).
    pub fn is_pre_stream(&self) -> bool {
        matches!(self, Fault::HttpError { .. })
    }

    /// The error an `http_error` fault answers instead of a reply; `None` for other faults.
    pub fn pre_stream_error(&self) -> Option<OllamaError> {
        match self {
            Fault::HttpError {
                status,
                message,
                body,
                content_type,
                retry_after,
            } => Some(OllamaError::Scripted {
                status: *status,
                message: message
                    .clone()
                    .unwrap_or_else(|| default_message(*status).to_owned()),
                body: body.clone(),
                content_type: content_type.clone(),
                retry_after: retry_after.clone(),
            }),
            _ => None,
        }
    }

    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Fault::HttpError { status, .. } if !(100..=599).contains(status) => {
                Err(format!("http_error status {status} is not an HTTP status"))
            }
            Fault::HttpError { status, .. } if (200..300).contains(status) => Err(format!(
                "http_error status {status} is a success; use a reply instead"
            )),
            Fault::Drip { byte_delay_ms }
                if !(byte_delay_ms.is_finite() && *byte_delay_ms >= 0.0) =>
            {
                Err("drip byte_delay_ms must be a non-negative number".to_owned())
            }
            Fault::Endless {
                after: 0,
                shape: EndlessShape::Lines,
                ..
            } => {
                Err("endless lines repeats the last line written: give after 1 or more".to_owned())
            }
            _ => Ok(()),
        }
    }
}

/// The message real Ollama sends with a status, used when an `http_error` names none.
pub fn default_message(status: u16) -> &'static str {
    match status {
        400 => "invalid request",
        404 => "model not found",
        429 => "too many requests, please try again later",
        499 => "request canceled",
        503 => "server busy, please try again.  maximum pending requests exceeded",
        _ => {
            "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_lines_need_a_line_to_repeat() {
        let fault = |after| Fault::Endless {
            after,
            shape: EndlessShape::Lines,
            pause_ms: 0,
        };
        assert_eq!(
            fault(0).validate(),
            Err("endless lines repeats the last line written: give after 1 or more".to_owned())
        );
        assert_eq!(fault(1).validate(), Ok(()));
    }

    #[test]
    fn an_endless_fault_reads_as_scenarios_write_it() {
        let fault: Fault =
            serde_json::from_str(r#"{"kind": "endless", "after": 2, "shape": "line"}"#)
                .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(
            fault,
            Fault::Endless {
                after: 2,
                shape: EndlessShape::Line,
                pause_ms: 0
            }
        );
    }
}

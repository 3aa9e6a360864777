//! Reading server-sent events the way the WHATWG spec says a client reads them, fed any split of
//! the bytes: a leading BOM skipped, lines ended by CR, LF or CRLF (a CRLF split between two
//! reads included), text decoded as UTF-8 with replacement, `:` comments ignored, one space after
//! the colon stripped, an event dispatched at a blank line only when it carried data, and an event
//! without its blank line at the end discarded.
//!
//! What one event may hold is bounded ([`MAX_EVENT`] by default): a stream whose line or event
//! never ends is an error, not a buffer that grows until the process dies.
//!
//! Written here rather than taken from `eventsource-stream` 0.2, which panics on a stream that
//! starts with a BOM, fails on invalid UTF-8, never dispatches an event ended by CRs at the end
//! of the body, and buffers a line without limit.

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event:` name; `message` when the event named none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen on the stream so far (empty when none).
    pub id: String,
}

use crate::segmented::SegmentedBuf;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most bytes one event may buffer (its unfinished line plus its data so far) by default:
/// as much as an NDJSON line may hold ([`crate::ndjson::MAX_LINE`]).
pub const MAX_EVENT: usize = crate::ndjson::MAX_LINE;

/// An event went past its decoder's limit before its blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an SSE event exceeded {0} bytes")]
pub struct EventTooLong(pub usize);

/// An incremental event-stream reader: feed it bytes as they arrive, collect the events.
#[derive(Debug)]
pub struct Decoder {
    max_event: usize,
    /// The first bytes, held until they show whether the stream starts with a BOM.
    head: Vec<u8>,
    started: bool,
    /// The start of a line whose end has not come yet (in segments: an endless line costs its
    /// bytes, not twice them).
    line: SegmentedBuf,
    after_cr: bool,
    data: String,
    has_data: bool,
    event: String,
    last_id: String,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::with_max_event(MAX_EVENT)
    }
}

impl Decoder {
    /// A reader at the start of a stream, with the default limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader whose events may buffer at most `max_event` bytes.
    pub fn with_max_event(max_event: usize) -> Self {
        Self {
            max_event,
            head: Vec::new(),
            started: false,
            line: SegmentedBuf::new(),
            after_cr: false,
            data: String::new(),
            has_data: false,
            event: String::new(),
            last_id: String::new(),
        }
    }

    /// Reads `bytes`, appending the events they complete to `out`; an error once the event
    /// being read holds more than the limit (the reader is then spent).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), EventTooLong> {
        if self.started {
            return self.read(bytes, out);
        }
        self.head.extend_from_slice(bytes);
        if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
            return Ok(()); // maybe a BOM still arriving
        }
        self.started = true;
        let head = std::mem::take(&mut self.head);
        let rest = head.strip_prefix(BOM).unwrap_or(&head);
        self.read(rest, out)
    }

    /// Reads a whole body at once; it is in memory already, so no limit applies.
    pub fn decode_all(body: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        let whole = Decoder::with_max_event(usize::MAX).feed(body, &mut out);
        debug_assert!(whole.is_ok(), "no limit");
        out
    }

    /// Reads a run of bytes: each line ending in it is processed, from the bytes themselves when
    /// the line began in this run; what follows the last ending is kept. The limit is checked
    /// before anything is kept, so no buffer grows past it.
    fn read(&mut self, mut bytes: &[u8], out: &mut Vec<Event>) -> Result<(), EventTooLong> {
        while let Some((&first, rest)) = bytes.split_first() {
            if self.after_cr && first == b'\n' {
                // The second half of a CRLF.
                self.after_cr = false;
                bytes = rest;
                continue;
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', bytes) else {
                self.keep(bytes)?;
                return Ok(());
            };
            let (line, rest) = bytes.split_at(end);
            self.within_limit(line.len())?;
            self.after_cr = rest[0] == b'\r';
            if self.line.is_empty() {
                self.process(line, out);
            } else {
                let mut whole = std::mem::take(&mut self.line);
                whole.extend_from_slice(line);
                self.process(whole.make_contiguous(), out);
                whole.clear();
                self.line = whole;
            }
            bytes = &rest[1..];
        }
        Ok(())
    }

    /// Keeps the start of a line.
    fn keep(&mut self, bytes: &[u8]) -> Result<(), EventTooLong> {
        self.within_limit(bytes.len())?;
        if !bytes.is_empty() {
            self.after_cr = false;
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Whether the event may hold `more` bytes besides what it holds.
    fn within_limit(&self, more: usize) -> Result<(), EventTooLong> {
        if self.line.len() + more + self.data.len() + self.event.len() > self.max_event {
            return Err(EventTooLong(self.max_event));
        }
        Ok(())
    }

    fn process(&mut self, line: &[u8], out: &mut Vec<Event>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.last_id),
            // `retry` sets a reconnection delay; nothing here reconnects. Others are ignored.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the `\n` after the last data line
        out.push(Event {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(data: &str) -> Event {
        Event {
            event: "message".to_owned(),
            data: data.to_owned(),
            id: String::new(),
        }
    }

    #[test]
    fn line_ends_of_every_kind_dispatch_alike() {
        for body in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\rdata: b\r\r",
            b"data: a\r\n\r\ndata: b\r\n\r\n",
        ] {
            assert_eq!(
                Decoder::decode_all(body),
                [message("a"), message("b")],
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_bom_is_skipped_even_when_split() {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for byte in b"\xEF\xBB\xBFdata: a\n\n" {
            assert_eq!(decoder.feed(std::slice::from_ref(byte), &mut out), Ok(()));
        }
        assert_eq!(out, [message("a")]);
    }

    #[test]
    fn fields_comments_and_blocks_without_data() {
        let events = Decoder::decode_all(
            b": hello\nretry: 10\n\nevent: ping\n\nid: 7\nevent: error\ndata:x\ndata\n\nignored: 1\ndata: y\n\ndata: cut",
        );
        assert_eq!(
            events,
            [
                Event {
                    event: "error".to_owned(),
                    data: "x\n".to_owned(),
                    id: "7".to_owned()
                },
                Event {
                    id: "7".to_owned(),
                    ..message("y")
                },
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_an_error() {
        assert_eq!(
            Decoder::decode_all(b"data: \xFF\n\n"),
            [message("\u{FFFD}")]
        );
    }

    #[test]
    fn an_event_that_never_ends_is_refused_at_the_limit() {
        let mut decoder = Decoder::with_max_event(16);
        let mut out = Vec::new();
        assert_eq!(decoder.feed(b"data: short\n\n", &mut out), Ok(()));
        assert_eq!(out, [message("short")]);
        // Many data lines, no blank line: the event's data is what grows.
        assert_eq!(decoder.feed(b"data: 12345\ndata: 6789\n", &mut out), Ok(()));
        assert_eq!(
            decoder.feed(b"data: abcdef\n", &mut out),
            Err(EventTooLong(16))
        );
        // One line that never ends.
        let mut decoder = Decoder::with_max_event(16);
        assert_eq!(decoder.feed(&[b'a'; 17], &mut out), Err(EventTooLong(16)));
    }

    proptest! {
        /// The same events come out however the bytes are split between reads.
        #[test]
        fn any_split_gives_the_same_events(
            body in proptest::collection::vec(prop_oneof![
                Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), Just(b'd'), Just(b'a'), Just(b't'),
                Just(0xEF), Just(0xBB), Just(0xBF), any::<u8>()
            ], 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let whole = Decoder::decode_all(&body);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&cut| cut <= body.len()).collect();
            cuts.sort_unstable();
            let mut decoder = Decoder::new();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([body.len()]) {
                prop_assert!(decoder.feed(&body[start..cut], &mut pieces).is_ok());
                start = cut;
            }
            prop_assert_eq!(pieces, whole);
        }
    }
}

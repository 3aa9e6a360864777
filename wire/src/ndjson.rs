//! Splitting an upstream byte stream into NDJSON lines, whatever the TCP reads look like: a line
//! may arrive in pieces, several lines may arrive together, `\r\n` and blank lines are tolerated,
//! and a line longer than the cap is an error rather than unbounded buffering.

use crate::segmented::SegmentedBuf;

/// Longest line accepted (Ollama's own Go client allows 8 MiB).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// A line went past [`MAX_LINE`] without a newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an NDJSON line exceeded {0} bytes")]
pub struct LineTooLong(pub usize);

/// Incremental line splitter.
#[derive(Debug)]
pub struct LineSplitter {
    /// The start of a line whose newline has not come yet (in segments: an endless line costs
    /// its bytes, not twice them).
    pending: SegmentedBuf,
    max_line: usize,
}

impl Default for LineSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl LineSplitter {
    /// A splitter with the default cap.
    pub fn new() -> Self {
        Self::with_max_line(MAX_LINE)
    }

    /// A splitter with a custom cap.
    pub fn with_max_line(max_line: usize) -> Self {
        Self {
            pending: SegmentedBuf::new(),
            max_line,
        }
    }

    /// Feeds bytes; calls `on_line` for every complete line (without `\n`, `\r` trimmed).
    pub fn push<E>(
        &mut self,
        mut bytes: &[u8],
        mut on_line: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<LineTooLong>,
    {
        // Fast path: nothing pending, lines complete within this read.
        if self.pending.is_empty() {
            while let Some(end) = memchr::memchr(b'\n', bytes) {
                emit(&bytes[..end], &mut on_line)?;
                bytes = &bytes[end + 1..];
            }
        } else if let Some(end) = memchr::memchr(b'\n', bytes) {
            self.keep(&bytes[..end])?;
            let emitted = emit(self.pending.make_contiguous(), &mut on_line);
            self.pending.clear();
            emitted?;
            return self.push(&bytes[end + 1..], on_line);
        }
        Ok(self.keep(bytes)?)
    }

    /// Adds `bytes` to the pending line, refused before the buffer grows past the cap.
    fn keep(&mut self, bytes: &[u8]) -> Result<(), LineTooLong> {
        if self.pending.len() + bytes.len() > self.max_line {
            return Err(LineTooLong(self.max_line));
        }
        self.pending.extend_from_slice(bytes);
        Ok(())
    }

    /// At end of input: the unterminated remainder, if any.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = self.pending.take();
        (!rest.trim_ascii().is_empty()).then_some(rest)
    }

    /// Bytes buffered while waiting for a newline.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

fn emit<E>(line: &[u8], on_line: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.trim_ascii().is_empty() {
        Ok(())
    } else {
        on_line(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split_all(pieces: &[&[u8]]) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
        let mut splitter = LineSplitter::new();
        let mut lines = Vec::new();
        for piece in pieces {
            splitter
                .push::<LineTooLong>(piece, |line| {
                    lines.push(line.to_vec());
                    Ok(())
                })
                .expect("within cap");
        }
        (lines, splitter.finish().map(|rest| rest.to_vec()))
    }

    #[test]
    fn crlf_blank_lines_and_remainders() {
        let (lines, rest) = split_all(&[b"a\r\n\nb", b"c\n  \nd"]);
        assert_eq!(lines, vec![b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(rest, Some(b"d".to_vec()));
    }

    #[test]
    fn over_long_lines_are_refused() {
        let mut splitter = LineSplitter::with_max_line(4);
        let result = splitter.push::<LineTooLong>(b"12345", |_| Ok(()));
        assert_eq!(result, Err(LineTooLong(4)));
    }

    proptest! {
        #[test]
        fn any_split_of_the_input_gives_the_same_lines(
            lines in prop::collection::vec("[a-z{}\":,]{1,20}", 1..6),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let text = lines.join("\n") + "\n";
            let bytes = text.as_bytes();
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for point in points {
                pieces.push(&bytes[start..point]);
                start = point;
            }
            pieces.push(&bytes[start..]);
            let (split, rest) = split_all(&pieces);
            let expected: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
            prop_assert_eq!(split, expected);
            prop_assert_eq!(rest, None);
        }
    }
}

//! A byte buffer that grows in segments instead of reallocating: what an upstream can make a
//! reader hold (an endless line, a body that never ends) costs its bytes and no more.
//!
//! A `Vec` that doubles holds the old and the new allocation while it copies, and leaves the
//! allocator with blocks of every power of two up to the limit; at a 16 MiB limit one endless
//! line held 24 MiB at its peak, and the freed blocks were not given back between requests (the
//! gateway's RSS reached 213 MiB with four such requests at once). Here the first segment grows
//! like a `Vec` up to [`SEGMENT`] — short lines cost what they did — and the rest come in
//! segments of that size, never moved. Reading the whole costs one copy when there are several
//! segments.

/// The size of every segment after the first.
pub const SEGMENT: usize = 64 * 1024;

/// Bytes kept in segments.
#[derive(Debug, Default)]
pub struct SegmentedBuf {
    /// Never empty segments but the first; each but the last is full.
    segments: Vec<Vec<u8>>,
    len: usize,
}

impl SegmentedBuf {
    /// An empty buffer, allocating nothing until bytes come.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer whose first segment has room for `capacity` bytes: a known length is
    /// allocated once.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            segments: vec![Vec::with_capacity(capacity)],
            len: 0,
        }
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes`, filling the last segment before starting another.
    pub fn extend_from_slice(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        while !bytes.is_empty() {
            if self
                .segments
                .last()
                .is_none_or(|last| last.len() >= size(last))
            {
                // The first grows from nothing; the others are allocated whole.
                let capacity = if self.segments.is_empty() { 0 } else { SEGMENT };
                self.segments.push(Vec::with_capacity(capacity));
            }
            let index = self.segments.len() - 1;
            let last = &mut self.segments[index];
            let (now, later) = bytes.split_at(bytes.len().min(size(last) - last.len()));
            if now.len() > last.capacity() - last.len() {
                // Only a first segment still growing: double, as a Vec does, but not past SEGMENT.
                let wanted = (last.len() + now.len())
                    .max(2 * last.capacity())
                    .min(SEGMENT);
                last.reserve_exact(wanted - last.len());
            }
            last.extend_from_slice(now);
            bytes = later;
        }
    }

    /// Empties it, keeping the first segment's allocation when it is no larger than [`SEGMENT`].
    pub fn clear(&mut self) {
        self.segments.truncate(1);
        if let Some(first) = self.segments.first_mut() {
            if first.capacity() > SEGMENT {
                *first = Vec::new();
            }
            first.clear();
        }
        self.len = 0;
    }

    /// Its bytes as one slice, gathering the segments into one first when there are several
    /// (then the next [`SegmentedBuf::clear`] lets that allocation go).
    pub fn make_contiguous(&mut self) -> &[u8] {
        if self.segments.len() > 1 {
            let whole = std::mem::take(self).into_vec();
            self.len = whole.len();
            self.segments.push(whole);
        }
        self.segments.first().map_or(&[], Vec::as_slice)
    }

    /// Takes its bytes as one contiguous `Vec` (see [`SegmentedBuf::into_vec`]), leaving it
    /// empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(self).into_vec()
    }

    /// Its bytes as one contiguous `Vec`: without copying when they fit in one segment.
    pub fn into_vec(mut self) -> Vec<u8> {
        if self.segments.len() <= 1 {
            return self.segments.pop().unwrap_or_default();
        }
        let mut whole = Vec::with_capacity(self.len);
        for segment in self.segments {
            whole.extend_from_slice(&segment);
        }
        whole
    }
}

/// How many bytes `segment` may hold: its capacity when that was given larger, else [`SEGMENT`].
#[allow(clippy::ptr_arg)] // a capacity is what is asked
fn size(segment: &Vec<u8>) -> usize {
    segment.capacity().max(SEGMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_lines_live_in_one_small_segment() {
        let mut buf = SegmentedBuf::new();
        buf.extend_from_slice(b"data: {\"a\":");
        buf.extend_from_slice(b"1}");
        assert_eq!(buf.segments.len(), 1);
        assert!(buf.segments[0].capacity() < 1024);
        assert_eq!(buf.take(), b"data: {\"a\":1}");
        assert!(buf.is_empty());
    }

    #[test]
    fn a_long_buffer_is_held_in_full_segments_none_larger_than_one() {
        let mut buf = SegmentedBuf::new();
        for _ in 0..1000 {
            buf.extend_from_slice(&[b'x'; 4096]);
        }
        assert_eq!(buf.len(), 4_096_000);
        let (last, full) = buf.segments.split_last().expect("segments");
        assert!(full.iter().all(|segment| segment.len() == SEGMENT));
        assert!(buf.segments.iter().all(|s| s.capacity() <= SEGMENT));
        assert_eq!(last.len(), 4_096_000 % SEGMENT);
        // What it allocated is what it holds, give or take its last segment.
        let held: usize = buf.segments.iter().map(Vec::capacity).sum();
        assert!(held < buf.len() + SEGMENT, "{held}");
    }

    #[test]
    fn a_known_length_is_one_allocation() {
        let mut buf = SegmentedBuf::with_capacity(300_000);
        for _ in 0..300 {
            buf.extend_from_slice(&[7; 1000]);
        }
        assert_eq!(buf.segments.len(), 1);
        assert_eq!(buf.take().len(), 300_000);
    }

    #[test]
    fn clearing_keeps_a_small_first_segment_and_drops_the_rest() {
        let mut buf = SegmentedBuf::new();
        buf.extend_from_slice(&[1; 3 * SEGMENT]);
        buf.clear();
        assert!(buf.is_empty());
        assert_eq!(buf.segments.len(), 1);
        buf.extend_from_slice(b"again");
        assert_eq!(buf.take(), b"again");
    }

    #[test]
    fn a_gathered_buffer_reads_whole_and_a_cleared_small_one_keeps_its_allocation() {
        let mut buf = SegmentedBuf::new();
        buf.extend_from_slice(b"short");
        assert_eq!(buf.make_contiguous(), b"short");
        let kept = buf.segments[0].as_ptr();
        buf.clear();
        buf.extend_from_slice(b"again");
        assert_eq!(buf.segments[0].as_ptr(), kept);
        buf.extend_from_slice(&[b'x'; 2 * SEGMENT]);
        assert_eq!(buf.make_contiguous().len(), 2 * SEGMENT + 5);
        assert_eq!(buf.segments.len(), 1);
        buf.clear();
        assert_eq!(buf.segments[0].capacity(), 0);
    }

    proptest! {
        #[test]
        fn taking_gives_back_every_byte_in_order(
            pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40_000), 0..12),
            capacity in prop::option::of(0usize..100_000),
        ) {
            let mut buf = capacity.map_or_else(SegmentedBuf::new, SegmentedBuf::with_capacity);
            for piece in &pieces {
                buf.extend_from_slice(piece);
            }
            let whole: Vec<u8> = pieces.concat();
            prop_assert_eq!(buf.len(), whole.len());
            prop_assert_eq!(buf.take(), whole);
            prop_assert_eq!(buf.len(), 0);
        }
    }
}

//! The loading archive's buffer: the bytes received, the read position in
//! them, and where they sit in the stream; every change of the three keeps
//! them consistent, so that taking a value checks one length.
//!
//! With the position and the end of the bytes received as plain indices
//! beside a `Box<[u8]>`, a `u32` read checked `pos <= end`, `end <= len` and
//! `end - pos >= 4`: 14.6 instructions per value against 12.4 for a loop over
//! a local array. Here `pos <= end <= len` is this type's invariant, so a
//! read checks the last alone: 11.6 (`benches/paired.rs`).
//!
//! All of the crate's unchecked indexing for the input is in this file,
//! behind that one invariant (see [`InBuffer`]); its unit tests run under
//! Miri in CI.

/// The bytes received and not yet given up, and the read position in them.
///
/// # Invariant
/// `pos <= end <= bytes.len()`. Only this file's methods change the three, and
/// each keeps it (checking what it is given); each `unsafe` block relies on it
/// and on nothing else.
#[derive(Debug)]
pub(super) struct InBuffer {
    bytes: Box<[u8]>,
    /// Next unread byte.
    pos: usize,
    /// End of the bytes received.
    end: usize,
    /// Stream offset of `bytes[0]`.
    base: u64,
    /// Where a value that could not be undone was cut: nothing more can be read.
    cut: Option<u64>,
}

impl InBuffer {
    /// An empty buffer of `size` bytes at the stream's start.
    pub(super) fn new(size: usize) -> InBuffer {
        InBuffer {
            bytes: vec![0; size].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            cut: None,
        }
    }

    /// Takes the next `N` bytes if they are all received; `None` (and nothing
    /// taken) otherwise. The hot path of every fixed-size value.
    #[inline(always)]
    pub(super) fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.end - self.pos < N {
            return None;
        }
        // SAFETY: `pos + N <= end <= bytes.len()` (checked just above, and
        // the invariant), so the `N` bytes from `pos` are inside `bytes`.
        let bytes = unsafe {
            self.bytes
                .as_ptr()
                .add(self.pos)
                .cast::<[u8; N]>()
                .read_unaligned()
        };
        self.pos += N;
        Some(bytes)
    }

    /// The bytes received and not yet consumed.
    #[inline]
    pub(super) fn unread(&self) -> &[u8] {
        // SAFETY: `pos <= end <= bytes.len()`, the invariant.
        unsafe { self.bytes.get_unchecked(self.pos..self.end) }
    }

    /// Consumes the first `n` bytes of [`unread`](Self::unread).
    ///
    /// # Panics
    /// If fewer than `n` are unread.
    #[inline]
    pub(super) fn consume(&mut self, n: usize) {
        assert!(n <= self.end - self.pos, "consumed bytes not received");
        self.pos += n;
    }

    /// The stream offset of the next unread byte.
    #[inline(always)]
    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The stream offset just past the bytes received.
    pub(super) fn received(&self) -> u64 {
        self.base + self.end as u64
    }

    /// How many bytes the buffer holds when full.
    pub(super) fn capacity(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the bytes received fill the buffer.
    pub(super) fn is_full(&self) -> bool {
        self.end == self.bytes.len()
    }

    /// How many bytes before the read position are still buffered.
    pub(super) fn kept(&self) -> usize {
        self.pos
    }

    /// Where a value that could not be undone was cut, if one was.
    pub(super) fn cut(&self) -> Option<u64> {
        self.cut
    }

    /// Moves the read position to `offset`, between the first byte buffered
    /// and the end of the bytes received: back for an undone value, forward
    /// for a collection resumed after the elements it had read.
    ///
    /// # Panics
    /// If `offset` is outside that range.
    pub(super) fn seek(&mut self, offset: u64) {
        let index = offset
            .checked_sub(self.base)
            .and_then(|index| usize::try_from(index).ok())
            .filter(|&index| index <= self.end);
        self.pos = index.expect("a position outside the buffer");
    }

    /// Records that a value begun at `start` was cut where it could not be
    /// undone, and drops the bytes not yet read: nothing more can be read.
    pub(super) fn cut_at(&mut self, start: u64) {
        self.cut.get_or_insert(start);
        self.end = self.pos;
    }

    /// Gives up the buffered bytes before `offset` (the read position if
    /// `None`), moving the rest to the front.
    ///
    /// # Panics
    /// If `offset` is not buffered at or before the read position.
    pub(super) fn keep_from(&mut self, offset: Option<u64>) {
        let keep = match offset {
            None => self.pos,
            Some(offset) => offset
                .checked_sub(self.base)
                .and_then(|index| usize::try_from(index).ok())
                .filter(|&index| index <= self.pos)
                .expect("kept bytes outside the buffer"),
        };
        if keep > 0 {
            self.bytes.copy_within(keep..self.end, 0);
            self.base += keep as u64;
            self.end -= keep;
            self.pos -= keep;
        }
    }

    /// The free space after the bytes received, for the reader to fill; then
    /// [`received_into_spare`](Self::received_into_spare) says how much it
    /// filled.
    pub(super) fn spare_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.end..]
    }

    /// Counts `n` bytes the reader put at the start of
    /// [`spare_mut`](Self::spare_mut) as received; `false` (and nothing
    /// counted) if `n` is more than the free space, which a reader keeping
    /// `Read`'s contract never says.
    #[must_use]
    pub(super) fn received_into_spare(&mut self, n: usize) -> bool {
        if n > self.bytes.len() - self.end {
            return false;
        }
        self.end += n;
        true
    }

    /// Counts `n` bytes read past the empty buffer, straight into the
    /// caller's memory, as read. The bytes already read are given up, so
    /// that `base` stays the stream offset of `bytes[0]`.
    ///
    /// # Panics
    /// If bytes are unread.
    pub(super) fn read_past(&mut self, n: usize) {
        assert_eq!(self.pos, self.end, "bytes read past unread ones");
        self.base += (self.pos + n) as u64;
        (self.pos, self.end) = (0, 0);
    }

    /// Moves the bytes received into a buffer of `size` bytes (at least as
    /// many as are received), the read position with them.
    ///
    /// # Panics
    /// If `size` is smaller than the bytes received.
    pub(super) fn resize(&mut self, size: usize) {
        let mut bytes = vec![0; size].into_boxed_slice();
        bytes[..self.end].copy_from_slice(&self.bytes[..self.end]);
        self.bytes = bytes;
    }

    /// Replaces the buffer by one of `size` bytes holding just the unread
    /// ones (at least as many as are unread).
    ///
    /// # Panics
    /// If `size` is smaller than the bytes unread.
    pub(super) fn shrink_to(&mut self, size: usize) {
        self.keep_from(None);
        self.resize(size);
    }
}

#[cfg(test)]
mod tests {
    use super::InBuffer;

    /// A buffer of `size` bytes that has received `bytes`.
    fn received(size: usize, bytes: &[u8]) -> InBuffer {
        let mut buf = InBuffer::new(size);
        buf.spare_mut()[..bytes.len()].copy_from_slice(bytes);
        assert!(buf.received_into_spare(bytes.len()));
        buf
    }

    #[test]
    fn values_are_taken_while_received_and_not_past() {
        let mut buf = received(8, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(buf.take(), Some([1, 2, 3, 4]));
        assert_eq!(buf.take::<4>(), None);
        assert_eq!(buf.unread(), [5, 6]);
        assert_eq!(buf.take(), Some([5, 6]));
        assert_eq!(buf.take::<1>(), None);
        assert_eq!(buf.take(), Some([]));
        assert_eq!((buf.offset(), buf.received()), (6, 6));
    }

    #[test]
    fn kept_bytes_move_to_the_front_and_offsets_stay() {
        let mut buf = received(6, b"abcdef");
        buf.consume(4);
        buf.keep_from(Some(2));
        assert_eq!((buf.kept(), buf.unread()), (2, &b"ef"[..]));
        assert_eq!((buf.offset(), buf.received()), (4, 6));
        buf.seek(2);
        assert_eq!(buf.unread(), b"cdef");
        buf.seek(5);
        buf.keep_from(None);
        assert_eq!((buf.kept(), buf.unread(), buf.offset()), (0, &b"f"[..], 5));
        assert_eq!(buf.spare_mut().len(), 5);
    }

    #[test]
    fn resized_it_keeps_what_it_received() {
        let mut buf = received(4, b"abcd");
        assert!(buf.is_full());
        buf.consume(1);
        buf.resize(8);
        buf.spare_mut()[..2].copy_from_slice(b"ef");
        assert!(buf.received_into_spare(2));
        assert_eq!(buf.unread(), b"bcdef");
        buf.shrink_to(5);
        assert_eq!(
            (buf.capacity(), buf.unread(), buf.offset()),
            (5, &b"bcdef"[..], 1)
        );
    }

    #[test]
    fn a_cut_drops_the_unread_bytes_and_bytes_read_past_move_the_offset() {
        let mut buf = received(4, b"abc");
        buf.consume(1);
        buf.cut_at(0);
        assert_eq!((buf.cut(), buf.unread()), (Some(0), &b""[..]));
        buf.read_past(10);
        assert_eq!((buf.offset(), buf.received()), (11, 11));
    }

    #[test]
    #[should_panic = "a position outside the buffer"]
    fn a_position_past_the_bytes_received_is_refused() {
        received(4, b"ab").seek(3);
    }

    #[test]
    #[should_panic = "kept bytes outside the buffer"]
    fn keeping_bytes_after_the_read_position_is_refused() {
        received(4, b"ab").keep_from(Some(1));
    }

    #[test]
    fn receiving_past_the_buffer_is_refused() {
        let mut buf = received(4, b"ab");
        assert!(!buf.received_into_spare(3));
        assert_eq!((buf.unread(), buf.received()), (&b"ab"[..], 2));
    }
}

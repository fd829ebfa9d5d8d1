//! The loading archive's input: its buffer and the one cursor over it, filling
//! it from the reader (asking only for what the current value needs), growing
//! it for a long value and giving that back, and raw reads past it. Which bytes
//! must stay buffered is the undo layer's to say (`Unit::kept_from`).

use super::*;

/// A stream that ends by a reset ends all the same: what follows is end of file
/// (with the reason in the message), not an I/O fault of this side.
fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Where a loading archive is in its buffer and in the stream: the archive's
/// one read position. [`fill`] takes it by value and returns it, so that in a
/// loop of [`take`](LoadArchive::take)s it can stay in registers.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cursor {
    /// Next unread byte.
    pos: usize,
    /// End of the bytes received.
    end: usize,
    /// Stream offset of the buffer's first byte.
    base: u64,
    /// Where a value that could not be undone was cut: nothing more can be read.
    cut: Option<u64>,
}

impl Cursor {
    /// The stream offset of the next unread byte.
    #[inline(always)]
    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The stream offset just past the bytes received.
    pub(super) fn received(&self) -> u64 {
        self.base + self.end as u64
    }

    /// Whether an error cut a value that could not be undone.
    pub(super) fn is_cut(&self) -> bool {
        self.cut.is_some()
    }

    /// Moves the read position back to `offset`, whose bytes are still
    /// buffered (an undone value).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the offset lies inside the buffer, so its index fits a usize"
    )]
    pub(super) fn rewind_to(&mut self, offset: u64) {
        debug_assert!(offset >= self.base && offset <= self.offset());
        self.pos = (offset - self.base) as usize;
    }

    /// Moves the read position forward to `offset`, whose bytes are
    /// buffered (a collection resumed after the elements it had read).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the offset lies inside the buffer, so its index fits a usize"
    )]
    pub(super) fn skip_to(&mut self, offset: u64) {
        debug_assert!(offset >= self.offset() && offset <= self.received());
        self.pos = (offset - self.base) as usize;
    }

    /// Records that a value begun at `start` was cut where it could not be
    /// undone, and drops what is buffered: nothing more can be read.
    pub(super) fn cut_at(&mut self, start: u64) {
        self.cut.get_or_insert(start);
        self.end = self.pos;
    }

    /// Moves the buffer's bytes from `keep` on to its front.
    fn compact(&mut self, buf: &mut [u8], keep: usize) {
        if keep > 0 {
            buf.copy_within(keep..self.end, 0);
            self.base += keep as u64;
            self.end -= keep;
            self.pos -= keep;
        }
    }

    /// Where the bytes `unit` keeps begin in the buffer: its start, or the
    /// read position when it keeps none.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a kept start lies inside the buffer, so its index fits a usize"
    )]
    fn keep_from(&self, unit: Unit) -> usize {
        match unit.kept_from() {
            Some(start) => (start - self.base) as usize,
            None => self.pos,
        }
    }
}

/// Replaces `buf` by one of `size` bytes holding its first `len`.
pub(super) fn regrow(buf: &mut Box<[u8]>, len: usize, size: usize) {
    let mut bigger = vec![0; size].into_boxed_slice();
    bigger[..len].copy_from_slice(&buf[..len]);
    *buf = bigger;
}

/// Makes at least `need` unread bytes available: moves the bytes to keep to
/// the front, then reads into the free space until enough has arrived. A read
/// that fills the buffer doubles it (up to the maximum): the stream is bulk, and
/// bigger reads cost fewer system calls. Bytes kept for a value or a message
/// grow the buffer as needed, up to
/// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes); a value that
/// needs more lets its first bytes go (it is abandoned: it can no longer be
/// undone), and a message that needs more is an error. Returns the new cursor
/// and unit with the outcome; `start` is where the value began.
#[cold]
#[inline(never)]
#[expect(
    clippy::too_many_arguments,
    reason = "the fields it needs, passed apart so the cursor stays out of memory"
)]
pub(super) fn fill<R: Read + ?Sized>(
    buf: &mut Box<[u8]>,
    mut at: Cursor,
    mut unit: Unit,
    inner: &mut R,
    options: &Options,
    need: usize,
    start: u64,
    what: impl FnOnce() -> String,
) -> (Cursor, Unit, Result<()>) {
    if let Some(cut) = at.cut {
        let err = Error::Generic {
            offset: at.offset(),
            message: format!(
                "expected to go on reading, but an error from the reader cut a value \
                 longer than the undo limit (Limits::max_message_bytes) at byte {cut}, \
                 so the position in the stream is lost"
            ),
        };
        return (at, unit, Err(err));
    }
    at.compact(buf, at.keep_from(unit));
    let limit = options.limits.max_message_bytes;
    // After compacting, `pos` counts the bytes kept before the read position.
    if (at.pos as u64).saturating_add(need as u64) > limit {
        match unit {
            Unit::Message(_) => {
                let err = Error::LimitExceeded {
                    offset: at.base,
                    what: "the bytes of one message",
                    found: (at.pos as u64).saturating_add(need as u64),
                    limit,
                };
                return (at, unit, Err(err));
            }
            Unit::Value(start) => {
                unit = Unit::Abandoned(start);
                at.compact(buf, at.pos);
            }
            Unit::Idle | Unit::Abandoned(_) => {}
        }
    }
    while at.end < at.pos.saturating_add(need) {
        if at.end == buf.len() {
            // Only bytes being kept, or a need larger than the buffer, fill it;
            // it grows by doubling, so never past twice the bytes received.
            regrow(buf, at.end, at.end.saturating_mul(2));
        }
        let ended = match inner.read(&mut buf[at.end..]) {
            Ok(0) => INPUT_ENDED,
            Ok(n) => {
                at.end += n;
                if at.end == buf.len() {
                    if let Some(size) = options.grown_buffer_size(buf.len()) {
                        regrow(buf, at.end, size);
                    }
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if is_peer_gone(&e) => "the peer reset the connection",
            Err(source) => {
                let offset = at.received();
                return (at, unit, Err(Error::Io { offset, source }));
            }
        };
        let have = at.received() - start;
        let err = Error::EndOfFile {
            offset: start,
            expected: format!("{}, but {ended} after {have} of its bytes", what()),
        };
        return (at, unit, Err(err));
    }
    (at, unit, Ok(()))
}

/// How an [`Error::EndOfFile`] says the reader reached its end (rather than the
/// peer resetting the connection).
pub(super) const INPUT_ENDED: &str = "the input ended";

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Gives a buffer that grew far past its usual size to keep a long value
    /// back that size. One up to four times the usual size stays, so a stream of
    /// values a little longer than the buffer does not allocate for each.
    #[inline]
    pub(super) fn shrink(&mut self) {
        let size = self
            .options
            .max_buffer_size
            .max(self.options.effective_buffer_size());
        if self.buf.len() > size.saturating_mul(4) && self.unread().len() <= size {
            self.shrink_to(size);
        }
    }

    #[cold]
    #[inline(never)]
    fn shrink_to(&mut self, size: usize) {
        let unread = self.unread().len();
        let mut smaller = vec![0; size].into_boxed_slice();
        smaller[..unread].copy_from_slice(self.unread());
        self.buf = smaller;
        self.at.base += self.at.pos as u64;
        (self.at.pos, self.at.end) = (0, unread);
    }

    /// Reads past the (empty) buffer straight into `dst`; returns bytes read.
    pub(super) fn read_direct(&mut self, dst: &mut [u8], start: u64) -> Result<usize> {
        loop {
            let ended = match self.inner.read(dst) {
                Ok(0) => INPUT_ENDED,
                Ok(n) => {
                    self.at.base += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_peer_gone(&e) => "the peer reset the connection",
                Err(source) => {
                    return Err(Error::Io {
                        offset: self.offset(),
                        source,
                    })
                }
            };
            return Err(Error::EndOfFile {
                offset: start,
                expected: format!("{} more raw bytes, but {ended}", dst.len()),
            });
        }
    }

    /// Takes a fixed-size value; the hot path of every primitive.
    ///
    /// The cursor keeps `pos <= end <= buf.len()` (every method that moves it
    /// does), so slicing `pos..end` never panics; checking the unread bytes as
    /// that slice rather than `end - pos >= N` then `pos..pos + N` spares the
    /// second bounds check and its overflow test (u32 reads: 18.6 to 14.6
    /// instructions per value, `benches/paired.rs`).
    #[inline(always)]
    pub(crate) fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        let pos = self.at.pos;
        if let Some(bytes) = self.buf[pos..self.at.end].first_chunk() {
            out = *bytes;
            self.at.pos = pos + N;
            return Ok(out);
        }
        let start = self.offset();
        self.refill(N, start, || what.to_owned())?;
        out.copy_from_slice(&self.unread()[..N]);
        self.at.pos += N;
        Ok(out)
    }

    /// Makes at least `need` unread bytes available; `start` is where the value
    /// began, for the error. After a failure, remembers how far the read needed
    /// to go.
    #[inline(always)]
    pub(super) fn refill(
        &mut self,
        need: usize,
        start: u64,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        let (at, unit, result) = fill(
            &mut self.buf,
            self.at,
            self.unit,
            &mut self.inner,
            &self.options,
            need,
            start,
            what,
        );
        (self.at, self.unit) = (at, unit);
        if result.is_err() {
            self.wanted = self.offset().saturating_add(need as u64);
        }
        result
    }

    /// Reads `count` fixed-size values of `N` bytes each, converting each
    /// with `from`: straight from the buffer, a buffer-full at a time, with
    /// no call per value (MFC writes such an array with one `Write`). The
    /// vector grows with the values received, never past `count`; when the
    /// input runs out, the message waits for the whole array.
    pub(crate) fn read_plain<const N: usize, T>(
        &mut self,
        count: usize,
        from: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>> {
        let start = self.offset();
        let end = start.saturating_add((count as u64).saturating_mul(N as u64));
        let mut items: Vec<T> = Vec::new();
        while items.len() < count {
            if self.unread().len() < N {
                if let Err(e) = self.refill(N, start, || format!("{count} values of {N} bytes")) {
                    self.wanted = self.wanted.max(end);
                    return Err(e);
                }
            }
            let n = (self.unread().len() / N).min(count - items.len());
            items.reserve_exact(n.max(items.len()).min(count - items.len()));
            items.extend(self.unread()[..n * N].chunks_exact(N).map(|chunk| {
                let mut bytes = [0; N];
                bytes.copy_from_slice(chunk);
                from(bytes)
            }));
            self.consume(n * N);
        }
        Ok(items)
    }

    /// The stream offset just past the bytes received.
    pub(crate) fn received(&self) -> u64 {
        self.at.received()
    }

    /// The bytes received but not yet consumed.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.at.pos..self.at.end]
    }

    /// Consumes `n` bytes of [`unread`](Self::unread).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.at.end - self.at.pos);
        self.at.pos += n;
    }

    /// Hands the next `len` bytes to `f`: borrowed from the buffer when they are
    /// all there, else collected with [`read_vec`](Self::read_vec).
    pub(crate) fn with_bytes<T>(
        &mut self,
        len: usize,
        start: u64,
        what: impl Fn() -> String,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        if self.buffer_whole(len, start, &what)? {
            let out = f(&self.unread()[..len]);
            self.consume(len);
            return Ok(out);
        }
        Ok(f(&self.read_vec(len, start, what)?))
    }

    /// Reads `len` bytes into a new vector whose memory grows only as bytes
    /// actually arrive. `start` is where the value began, for the error.
    pub(crate) fn read_vec(
        &mut self,
        len: usize,
        start: u64,
        what: impl Fn() -> String,
    ) -> Result<Vec<u8>> {
        if self.buffer_whole(len, start, &what)? {
            let out = self.unread()[..len].to_vec();
            self.consume(len);
            return Ok(out);
        }
        let begin = self.offset();
        let mut out = Vec::with_capacity(len.min(self.buf.len()));
        while out.len() < len {
            if self.is_buffer_empty() {
                if let Err(e) = self.refill(1, start, &what) {
                    self.wanted = begin.saturating_add(len as u64);
                    return Err(e);
                }
            }
            let n = self.unread().len().min(len - out.len());
            if out.capacity() - out.len() < n {
                // Doubling as bytes arrive, but never past `len`.
                out.reserve_exact((len - out.len()).min(out.capacity().max(n)));
            }
            out.extend_from_slice(&self.unread()[..n]);
            self.consume(n);
        }
        Ok(out)
    }

    /// Whether the next `len` bytes are buffered, after reading them all in
    /// one go when a value being kept whole has room for them under
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes) (the
    /// buffer then moves its kept bytes once, not once per read).
    pub(super) fn buffer_whole(
        &mut self,
        len: usize,
        start: u64,
        what: impl Fn() -> String,
    ) -> Result<bool> {
        if self.unread().len() >= len {
            return Ok(true);
        }
        let Some(kept_from) = self.unit.kept_from() else {
            return Ok(false);
        };
        let kept = self.offset() - kept_from;
        if kept.saturating_add(len as u64) > self.options.limits.max_message_bytes {
            return Ok(false);
        }
        let begin = self.offset();
        if let Err(e) = self.refill(len, start, what) {
            self.wanted = begin.saturating_add(len as u64);
            return Err(e);
        }
        Ok(true)
    }
}

//! The loading archive's buffer: filling it from the reader (asking only for
//! what the current value needs), the cursor over it, growing it for a long
//! value and giving that back, and raw reads past it.

use super::*;

/// A stream that ends by a reset ends all the same: what follows is end of file
/// (with the reason in the message), not an I/O fault of this side.
pub(super) fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Where a loading archive is in its buffer and in the stream.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    /// The first byte that must stay in the buffer: `pos`, or the start of the
    /// value or message being read whole.
    keep: usize,
    /// What the bytes from `keep` on are kept for.
    kept_for: Keep,
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
    /// Moves the bytes to keep to the front of `buf`.
    fn compact(&mut self, buf: &mut [u8]) {
        if self.keep > 0 {
            buf.copy_within(self.keep..self.end, 0);
            self.base += self.keep as u64;
            self.end -= self.keep;
            self.pos -= self.keep;
            self.keep = 0;
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
/// needs more lets its first bytes go (it can no longer be undone), and a message
/// that needs more is an error. Returns the new cursor with the outcome; `start`
/// is where the value began.
#[cold]
#[inline(never)]
pub(super) fn fill<R: Read + ?Sized>(
    buf: &mut Box<[u8]>,
    mut at: Cursor,
    inner: &mut R,
    options: &Options,
    need: usize,
    start: u64,
    what: impl FnOnce() -> String,
) -> (Cursor, Result<()>) {
    if let Some(cut) = at.cut {
        let err = Error::Generic {
            offset: at.base + at.pos as u64,
            message: format!(
                "expected to go on reading, but an error from the reader cut a value \
                 longer than the undo limit (Limits::max_message_bytes) at byte {cut}, \
                 so the position in the stream is lost"
            ),
        };
        return (at, Err(err));
    }
    at.compact(buf);
    let limit = options.limits.max_message_bytes;
    if at.kept_for != Keep::Nothing && (at.pos as u64).saturating_add(need as u64) > limit {
        if at.kept_for == Keep::Message {
            let err = Error::LimitExceeded {
                offset: at.base,
                what: "the bytes of one message",
                found: (at.pos as u64).saturating_add(need as u64),
                limit,
            };
            return (at, Err(err));
        }
        at.kept_for = Keep::Nothing;
        at.keep = at.pos;
        at.compact(buf);
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
                let offset = at.base + at.end as u64;
                return (at, Err(Error::Io { offset, source }));
            }
        };
        let have = at.base + at.end as u64 - start;
        let err = Error::EndOfFile {
            offset: start,
            expected: format!("{}, but {ended} after {have} of its bytes", what()),
        };
        return (at, Err(err));
    }
    (at, Ok(()))
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
        if self.buf.len() > size.saturating_mul(4) && self.end - self.pos <= size {
            self.shrink_to(size);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn shrink_to(&mut self, size: usize) {
        let unread = self.end - self.pos;
        let mut smaller = vec![0; size].into_boxed_slice();
        smaller[..unread].copy_from_slice(&self.buf[self.pos..self.end]);
        self.buf = smaller;
        self.base += self.pos as u64;
        (self.pos, self.end) = (0, unread);
    }

    /// Reads past the (empty) buffer straight into `dst`; returns bytes read.
    pub(super) fn read_direct(&mut self, dst: &mut [u8], start: u64) -> Result<usize> {
        loop {
            let ended = match self.inner.read(dst) {
                Ok(0) => INPUT_ENDED,
                Ok(n) => {
                    self.base += n as u64;
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
    #[inline(always)]
    pub(crate) fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        let pos = self.pos;
        if self.end - pos >= N {
            out.copy_from_slice(&self.buf[pos..pos + N]);
            self.pos = pos + N;
            return Ok(out);
        }
        let start = self.offset();
        let result = self.refill(N, start, || what.to_owned());
        result?;
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    /// Makes at least `need` unread bytes available; `start` is where the value
    /// began, for the error. [`fill`] gets the fields it needs and returns the new
    /// cursor, so the cursor never escapes and can stay in registers across a
    /// loop of [`take`](Self::take)s.
    #[inline(always)]
    pub(super) fn refill(
        &mut self,
        need: usize,
        start: u64,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        let cursor = self.cursor();
        let (cursor, result) = fill(
            &mut self.buf,
            cursor,
            &mut self.inner,
            &self.options,
            need,
            start,
            what,
        );
        self.set_cursor(cursor, need, result.is_err());
        result
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "a position inside the buffer fits a usize"
    )]
    fn cursor(&self) -> Cursor {
        let kept_for = self.unit.unwrap_or(Keep::Nothing);
        Cursor {
            keep: match kept_for {
                Keep::Nothing => self.pos,
                Keep::Value | Keep::Message => (self.unit_start - self.base) as usize,
            },
            kept_for,
            pos: self.pos,
            end: self.end,
            base: self.base,
            cut: self.cut,
        }
    }

    /// Takes the cursor [`fill`] returns; after a failure, remembers how far the
    /// read needed to go.
    #[inline]
    pub(super) fn set_cursor(&mut self, cursor: Cursor, need: usize, failed: bool) {
        (self.pos, self.end, self.base) = (cursor.pos, cursor.end, cursor.base);
        if self.unit.is_some() {
            self.unit = Some(cursor.kept_for);
        }
        if failed {
            self.wanted = self.offset().saturating_add(need as u64);
        }
    }

    /// The bytes received but not yet consumed.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Consumes `n` bytes of [`unread`](Self::unread).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.pos);
        self.pos += n;
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
            let out = f(&self.buf[self.pos..self.pos + len]);
            self.pos += len;
            return Ok(out);
        }
        Ok(f(&self.read_vec(len, start, what)?))
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
        if self.end - self.pos >= len {
            return Ok(true);
        }
        let keeping = matches!(self.unit, Some(Keep::Value | Keep::Message));
        let kept = self.offset() - self.unit_start;
        if !keeping || kept.saturating_add(len as u64) > self.options.limits.max_message_bytes {
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

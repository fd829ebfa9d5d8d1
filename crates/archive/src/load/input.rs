//! The loading archive's input: filling its buffer (`load/buffer.rs`) from the
//! reader (asking only for what the current value needs), growing
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

/// Makes at least `need` unread bytes available: moves the bytes to keep to
/// the front, then reads into the free space until enough has arrived. A read
/// that fills the buffer doubles it (up to the maximum): the stream is bulk, and
/// bigger reads cost fewer system calls. Bytes kept for a value or a message
/// grow the buffer as needed, up to
/// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes); a value that
/// needs more lets its first bytes go (it is abandoned: it can no longer be
/// undone), and a message that needs more is an error. Returns the new unit
/// with the outcome; `start` is where the value began.
#[cold]
#[inline(never)]
pub(super) fn fill<R: Read + ?Sized>(
    buf: &mut InBuffer,
    mut unit: Unit,
    inner: &mut R,
    options: &Options,
    need: usize,
    start: u64,
    what: impl FnOnce() -> String,
) -> (Unit, Result<()>) {
    if let Some(cut) = buf.cut() {
        let err = Error::Generic {
            offset: buf.offset(),
            message: format!(
                "expected to go on reading, but an error from the reader cut a value \
                 longer than the undo limit (Limits::max_message_bytes) at byte {cut}, \
                 so the position in the stream is lost"
            ),
        };
        return (unit, Err(err));
    }
    buf.keep_from(unit.kept_from());
    let limit = options.limits.max_message_bytes;
    let wanted = (buf.kept() as u64).saturating_add(need as u64);
    if wanted > limit {
        match unit {
            Unit::Message(_) => {
                let err = Error::LimitExceeded {
                    offset: buf.offset() - buf.kept() as u64,
                    what: "the bytes of one message",
                    found: wanted,
                    limit,
                };
                return (unit, Err(err));
            }
            Unit::Value(start) => {
                unit = Unit::Abandoned(start);
                buf.keep_from(None);
            }
            Unit::Idle | Unit::Abandoned(_) => {}
        }
    }
    while buf.unread().len() < need {
        if buf.is_full() {
            // Only bytes being kept, or a need larger than the buffer, fill it;
            // it grows by doubling, so never past twice the bytes received.
            buf.resize(buf.capacity().saturating_mul(2));
        }
        let room = buf.spare_mut().len();
        let ended = match inner.read(buf.spare_mut()) {
            Ok(0) => INPUT_ENDED,
            Ok(n) if !buf.received_into_spare(n) => {
                let offset = buf.received();
                return (
                    unit,
                    Err(Error::Io {
                        offset,
                        source: too_many(n, room),
                    }),
                );
            }
            Ok(_) => {
                if buf.is_full() {
                    if let Some(size) = options.grown_buffer_size(buf.capacity()) {
                        buf.resize(size);
                    }
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if is_peer_gone(&e) => "the peer reset the connection",
            Err(source) => {
                let offset = buf.received();
                return (unit, Err(Error::Io { offset, source }));
            }
        };
        let have = buf.received() - start;
        let err = Error::EndOfFile {
            offset: start,
            expected: format!("{}, but {ended} after {have} of its bytes", what()),
        };
        return (unit, Err(err));
    }
    (unit, Ok(()))
}

/// The error for a reader that says it read `n` bytes into room for `room`
/// (`Read` promises `n <= room`).
fn too_many(n: usize, room: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the reader said it read {n} bytes into room for {room}"),
    )
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
        if self.buf.capacity() > size.saturating_mul(4) && self.unread().len() <= size {
            self.shrink_to(size);
        }
    }

    #[cold]
    #[inline(never)]
    fn shrink_to(&mut self, size: usize) {
        self.buf.shrink_to(size);
    }

    /// Reads past the (empty) buffer straight into `dst`; returns bytes read.
    pub(super) fn read_direct(&mut self, dst: &mut [u8], start: u64) -> Result<usize> {
        loop {
            let ended = match self.inner.read(dst) {
                Ok(0) => INPUT_ENDED,
                Ok(n) if n > dst.len() => {
                    return Err(Error::Io {
                        offset: self.offset(),
                        source: too_many(n, dst.len()),
                    })
                }
                Ok(n) => {
                    self.buf.read_past(n);
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
        if let Some(bytes) = self.buf.take() {
            return Ok(bytes);
        }
        let start = self.offset();
        self.refill(N, start, || what.to_owned())?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.unread()[..N]);
        self.consume(N);
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
        let (unit, result) = fill(
            &mut self.buf,
            self.unit,
            &mut self.inner,
            &self.options,
            need,
            start,
            what,
        );
        self.unit = unit;
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
        self.buf.received()
    }

    /// The bytes received but not yet consumed.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Consumes `n` bytes of [`unread`](Self::unread).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.buf.consume(n);
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
        let mut out = Vec::with_capacity(len.min(self.buf.capacity()));
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

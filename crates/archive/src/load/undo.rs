//! Undo: a value or message cut short by the reader (a time-out, `WouldBlock`)
//! goes back whole, so reading it again resumes at its start; and
//! `read_message`, which reads a whole message or waits.

use super::*;

/// What the archive is reading whole, from which stream offset, and so which
/// bytes before the read position stay in the buffer for a retry. The one
/// record of it: the input asks [`kept_from`](Self::kept_from), the undo
/// layer sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Nothing is being read whole: only unread bytes are kept.
    Idle,
    /// A value from this offset, kept so that an error from the reader can
    /// undo it.
    Value(u64),
    /// A message of [`LoadArchive::read_message`] from this offset; past
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes) it is an
    /// error.
    Message(u64),
    /// A value from this offset that needed more than
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes): its
    /// first bytes were let go, so it can be undone only if it consumed none.
    Abandoned(u64),
}

impl Unit {
    /// Whether a value or message is being read (the outermost one decides
    /// what is kept; nested ones only undo).
    #[inline(always)]
    pub(super) fn is_reading(self) -> bool {
        self != Unit::Idle
    }

    /// Whether the value being read let its first bytes go.
    pub(super) fn is_abandoned(self) -> bool {
        matches!(self, Unit::Abandoned(_))
    }

    /// The stream offset from which bytes stay buffered, if any do.
    pub(super) fn kept_from(self) -> Option<u64> {
        match self {
            Unit::Value(start) | Unit::Message(start) => Some(start),
            Unit::Idle | Unit::Abandoned(_) => None,
        }
    }

    /// Where the value or message being read began.
    fn start(self) -> Option<u64> {
        match self {
            Unit::Value(start) | Unit::Message(start) | Unit::Abandoned(start) => Some(start),
            Unit::Idle => None,
        }
    }
}

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Loads one whole message with `f`, or nothing.
    ///
    /// For a reader that answers `WouldBlock` when it has nothing yet (a socket
    /// fed by an event loop): if `f` runs out of input in the middle, everything
    /// it did is undone (the position, the classes and objects it registered)
    /// and `Ok(None)` says to try again when more has arrived; the bytes stay
    /// buffered. This is MFC's "read messages while the buffer is not empty" in
    /// `OnReceive`, without its hang on a message split across segments.
    ///
    /// A retry goes on from where the last attempt stopped: the collections
    /// it was reading (`Vec`s, and the types built on them) keep the elements
    /// they had read, and each goes on from its first missing one, so a
    /// message dripped in a byte at a time costs time linear in its length
    /// (1 MiB of 100-byte strings: 0.12 s of CPU in a release build for the
    /// million calls, where parsing from the start each time took 0.9 s).
    /// Only what precedes a collection and the element a retry stopped in are
    /// read again; objects the last attempt finished are taken back as they
    /// were, and the classes and objects kept elements registered go back
    /// into the load array with them, so back-references still point where
    /// they did; an object whose read ran out is read again, and the objects
    /// and collections in its body go on as above. And a retry waits until as
    /// many bytes have arrived as the last attempt proved the message needs:
    /// the value it stopped in (a string's or raw block's whole length),
    /// plus, for every collection it stopped in, the elements still to come
    /// times their [`Load::MIN_BYTES`] (a byte per string, two per object
    /// pointer, four per `u32`). Call it again with the same `f`
    /// (a retry with another one may wait for bytes that `f` does not need,
    /// or go on from elements `f` did not read). A message may hold at most
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes), which
    /// bounds the memory it keeps and the bytes each retry parses.
    ///
    /// ```
    /// use std::io::{self, Read};
    /// use mfc_archive::Archive;
    ///
    /// /// Hands out what it was given, then says "not yet".
    /// struct Arrived(Vec<u8>);
    /// impl Read for Arrived {
    ///     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    ///         if self.0.is_empty() {
    ///             return Err(io::ErrorKind::WouldBlock.into());
    ///         }
    ///         let n = buf.len().min(self.0.len());
    ///         buf[..n].copy_from_slice(&self.0[..n]);
    ///         self.0.drain(..n);
    ///         Ok(n)
    ///     }
    /// }
    ///
    /// let message = |ar: &mut mfc_archive::Loading<'_>| Ok((ar.read::<u16>()?, ar.read::<u32>()?));
    /// let mut ar = Archive::load(Arrived(vec![0x01, 0x00, 0x78, 0x56]));
    /// assert_eq!(ar.read_message(message)?, None);          // half of the u32 is missing
    /// ar.get_mut().0.extend_from_slice(&[0x34, 0x12]);
    /// assert_eq!(ar.read_message(message)?, Some((1, 0x1234_5678)));
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// Called inside another `read_message` (or inside a value's `load`), it
    /// never answers `None`: running out of input there fails the outer
    /// message, which is undone whole and answers `None` itself, so no value
    /// goes on with bytes that belong to another.
    ///
    /// # Errors
    /// Whatever `f` returns other than running out of input: a bad tag, an
    /// unknown class, end of file (the stream ended for good), an I/O error;
    /// [`Error::LimitExceeded`] for a message longer than the limit.
    pub fn read_message<T>(
        &mut self,
        f: impl FnOnce(&mut Loading<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        // Inside another message (or value), "not yet" is the outer one's to
        // answer: the error goes up, and the outer unit undoes all of it.
        if self.unit.is_reading() {
            return self.unit(Unit::Message, f).map(Some);
        }
        // What the last message that ran out waited for holds only for a
        // message that starts where it started: anything read since makes it
        // stale.
        let start = self.offset();
        if self.waiting_message != Some(start) {
            self.wanted = 0;
            self.resume = Resume::default();
        }
        self.resume.attempt_begins();
        let result = self.unit(Unit::Message, |ar| {
            let wanted = ar.wanted.saturating_sub(ar.offset());
            if wanted > ar.unread().len() as u64 {
                let need = usize::try_from(wanted).unwrap_or(usize::MAX);
                let start = ar.offset();
                ar.refill(need, start, || "the rest of a message".to_owned())?;
            }
            f(ar)
        });
        self.waiting_message = None;
        if !matches!(&result, Err(error) if error.is_would_block()) {
            self.resume = Resume::default();
        }
        match result {
            Ok(message) => Ok(Some(message)),
            // Nothing to retry if the message could not be undone (a message
            // nested in a value too long to keep): the error stands.
            Err(Error::Io { source, .. })
                if source.kind() == io::ErrorKind::WouldBlock && self.buf.cut().is_none() =>
            {
                self.waiting_message = Some(start);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether a value or message is being read whole: inside one, a read
    /// needs no unit of its own.
    #[inline(always)]
    pub(crate) fn is_reading_whole(&self) -> bool {
        self.unit.is_reading()
    }

    /// Reads a value with `f` as a unit of its own, undone whole if the reader
    /// fails inside it (see [`read`](Self::read)).
    pub(crate) fn read_whole_with<T>(
        &mut self,
        f: impl FnOnce(&mut Loading<'_>) -> Result<T>,
    ) -> Result<T> {
        self.unit(Unit::Value, f)
    }

    /// Runs `f` as one unit: the outermost unit (`begin(start)`) keeps its
    /// bytes buffered, and if the reader fails inside it, the position, the
    /// loaded classes and objects and the object schema go back to where `f`
    /// started.
    pub(super) fn unit<T>(
        &mut self,
        begin: fn(u64) -> Unit,
        f: impl FnOnce(&mut Loading<'_>) -> Result<T>,
    ) -> Result<T> {
        let start = self.offset();
        let objects = self.objects.mark();
        let outermost = !self.unit.is_reading();
        if outermost {
            self.unit = begin(start);
        }
        let result = f(R::erase(self));
        // A unit that gave up keeping its bytes can still be undone if it
        // consumed none of them.
        let undoable = !self.unit.is_abandoned() || self.offset() == start;
        if outermost {
            self.unit = Unit::Idle;
        }
        match &result {
            Err(Error::Io { .. }) if undoable => {
                // Inside a message (this unit, or one around it), what the
                // attempt finished is kept for the retry before it is undone.
                let in_message = if outermost {
                    begin(start) == Unit::Message(start)
                } else {
                    self.keeps_for_retry()
                };
                if in_message {
                    self.keep_objects_for_retry();
                }
                self.buf.seek(start);
                self.objects.undo(objects);
            }
            Err(Error::Io { .. }) => self.buf.cut_at(start),
            Ok(_) if outermost => self.shrink(),
            _ => {}
        }
        result
    }

    /// Records that the message being read needs at least `bytes` more than
    /// the read that just ran out (values still to come after it), so that
    /// [`read_message`](Self::read_message) does not parse it again before
    /// they have arrived. Capped at
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes) from
    /// the message's start: a longer message fails there all the same.
    pub(crate) fn expect_more(&mut self, bytes: u64) {
        let from = self.unit.start().unwrap_or_else(|| self.offset());
        let cap = from.saturating_add(self.options.limits.max_message_bytes);
        self.wanted = self.wanted.saturating_add(bytes).min(cap.max(self.wanted));
    }
}

//! Undo: a value or message cut short by the reader (a time-out, `WouldBlock`)
//! goes back whole, so reading it again resumes at its start; and
//! `read_message`, which reads a whole message or waits.

use super::*;

/// Why bytes before the read position stay in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// They don't: only unread bytes are kept.
    Nothing,
    /// A value being read whole, so that an error from the reader can undo it;
    /// given up past [`Limits::max_message_bytes`](crate::Limits::max_message_bytes).
    Value,
    /// A message of [`LoadArchive::read_message`]; past the limit it is an error.
    Message,
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
    /// A retry parses the message again from its start, but only once as many
    /// bytes have arrived as the last attempt proved the message needs: the
    /// value it stopped in (a string's or raw block's whole length), plus, for
    /// every collection it stopped in, the elements still to come times their
    /// [`Load::MIN_BYTES`] (a byte per string, two per object pointer, four
    /// per `u32`). So a message of n small elements dripped a byte at a time is
    /// parsed about log₂ n times (32,768 one-byte strings: 19 parses, not
    /// 65,538); the slowest case is elements of about a hundred bytes (a
    /// 64 KiB message of 100-byte strings: 256 parses), and elements whose
    /// `MIN_BYTES` is 0 (a derived struct's) add nothing to the wait. Call it
    /// again with the same `f` (a retry with another one may wait for bytes
    /// that `f` does not need). A message may hold at most
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
        if self.unit.is_some() {
            return self.unit(Keep::Message, f).map(Some);
        }
        let result = self.unit(Keep::Message, |ar| {
            let wanted = ar.wanted.saturating_sub(ar.offset());
            if wanted > (ar.end - ar.pos) as u64 {
                let need = usize::try_from(wanted).unwrap_or(usize::MAX);
                let start = ar.offset();
                ar.refill(need, start, || "the rest of a message".to_owned())?;
            }
            f(ar)
        });
        match result {
            Ok(message) => {
                self.wanted = 0;
                Ok(Some(message))
            }
            // Nothing to retry if the message could not be undone (a message
            // nested in a value too long to keep): the error stands.
            Err(Error::Io { source, .. })
                if source.kind() == io::ErrorKind::WouldBlock && self.cut.is_none() =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Runs `f` as one unit: the outermost unit keeps its bytes buffered (as
    /// `keep` says), and if the reader fails inside it, the position, the loaded
    /// classes and objects and the object schema go back to where `f` started.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a position inside the buffer fits a usize"
    )]
    pub(super) fn unit<T>(
        &mut self,
        keep: Keep,
        f: impl FnOnce(&mut Loading<'_>) -> Result<T>,
    ) -> Result<T> {
        let start = self.offset();
        let slots = self.slots.len();
        let schema = self.object_schema;
        let outermost = self.unit.is_none();
        if outermost {
            self.unit = Some(keep);
            self.unit_start = start;
            if keep != Keep::Message {
                // What a message waits for is known only for the message that
                // last ran out; anything else read since makes it stale.
                self.wanted = 0;
            }
        }
        let result = f(R::erase(self));
        // A unit that gave up keeping its bytes can still be undone if it
        // consumed none of them.
        let undoable = self.unit != Some(Keep::Nothing) || self.offset() == start;
        if outermost {
            self.unit = None;
        }
        match &result {
            Err(Error::Io { .. }) if undoable => {
                self.pos = (start - self.base) as usize;
                self.slots.truncate(slots);
                self.object_schema = schema;
            }
            Err(Error::Io { .. }) => {
                self.cut.get_or_insert(start);
                self.end = self.pos;
            }
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
        let cap = self
            .unit_start
            .saturating_add(self.options.limits.max_message_bytes);
        self.wanted = self.wanted.saturating_add(bytes).min(cap.max(self.wanted));
    }
}

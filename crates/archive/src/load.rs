//! The loading archive (`CArchive` in `CArchive::load` mode): a buffer behind any
//! `io::Read`, the primitive readers, counts and the object load array.

use std::io::{self, Read};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::object::{ClassRegistry, ObjectRef, RuntimeClass, SerialClass};
use crate::options::Options;
use crate::tags;
use crate::Load;

/// A loading archive whose reader type has been erased. [`Load`] implementations
/// receive this, so they are object-safe and need no type parameter.
pub type Loading<'a> = LoadArchive<dyn Read + 'a>;

mod sealed {
    pub trait Sealed {}
    impl<R: std::io::Read> Sealed for R {}
    impl Sealed for dyn std::io::Read + '_ {}
}

/// A reader a [`LoadArchive`] can sit on: every sized [`Read`] type, and the erased
/// `dyn Read` that [`Load`] implementations see. Sealed; you never implement it.
pub trait Source: Read + sealed::Sealed {
    #[doc(hidden)]
    fn erase<'a>(ar: &'a mut LoadArchive<Self>) -> &'a mut Loading<'a>
    where
        Self: 'a;
}

impl<R: Read> Source for R {
    fn erase<'a>(ar: &'a mut LoadArchive<R>) -> &'a mut Loading<'a>
    where
        R: 'a,
    {
        ar
    }
}

impl<'b> Source for dyn Read + 'b {
    fn erase<'a>(ar: &'a mut LoadArchive<dyn Read + 'b>) -> &'a mut Loading<'a>
    where
        'b: 'a,
    {
        ar
    }
}

/// A stream that ends by a reset ends all the same: what follows is end of file
/// (with the reason in the message), not an I/O fault of this side.
fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Why bytes before the read position stay in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// They don't: only unread bytes are kept.
    Nothing,
    /// A value being read whole, so that an error from the reader can undo it;
    /// given up past [`Limits::max_message_bytes`](crate::Limits::max_message_bytes).
    Value,
    /// A message of [`LoadArchive::read_message`]; past the limit it is an error.
    Message,
}

/// Where a loading archive is in its buffer and in the stream.
#[derive(Debug, Clone, Copy)]
struct Cursor {
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
fn regrow(buf: &mut Box<[u8]>, len: usize, size: usize) {
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
fn fill<R: Read + ?Sized>(
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
const INPUT_ENDED: &str = "the input ended";

/// One entry of the load array: index 0 is null, then classes and objects in the
/// order the stream introduced them.
enum Slot {
    Null,
    Class {
        class: RuntimeClass,
        schema: u16,
    },
    /// An object, and the longest chain of objects through classes that do
    /// not drop flat that dropping it could recurse along.
    Object(ObjectRef, u64),
    /// An object whose body is being read; a reference to it is a cycle.
    Pending,
}

/// The load array. Its objects are let go newest first, through
/// [`drop_objects`](crate::drop_objects): an object refers back only to older
/// ones (or to newer ones it loaded itself, which its nesting bounds), so a
/// chain built from back-references is freed one link at a time even through
/// classes whose own `Drop` would recurse.
struct Slots(Vec<Slot>);

impl Slots {
    /// Forgets the entries from `len` on, newest first.
    fn truncate(&mut self, len: usize) {
        let newest_first = (len..self.0.len()).rev();
        let objects: Vec<ObjectRef> = newest_first
            .filter_map(|i| match std::mem::replace(&mut self.0[i], Slot::Null) {
                Slot::Object(object, _) => Some(object),
                _ => None,
            })
            .collect();
        self.0.truncate(len);
        crate::drop_objects(objects);
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        self.truncate(0);
    }
}

impl std::ops::Deref for Slots {
    type Target = Vec<Slot>;
    fn deref(&self) -> &Vec<Slot> {
        &self.0
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut Vec<Slot> {
        &mut self.0
    }
}

/// `CArchive` in load mode: reads go through a buffer that is refilled from the
/// reader only when a value needs more bytes than it holds.
///
/// Made by [`Archive::load`](crate::Archive::load).
///
/// A refill asks the reader once for as much as fits and asks again only while the
/// current value is incomplete, so on a socket it never waits for bytes the
/// current value does not need (MFC 7's `bufferBlocking` rule, without its one
/// `recv` per value). Several messages may then sit in the buffer:
/// [`is_buffer_empty`](Self::is_buffer_empty) tells when they are all consumed.
///
/// A value that fails with a time-out or another error from the reader is undone
/// whole (its bytes stay buffered, the objects it loaded are forgotten), so
/// reading it again resumes at its start: see [`read`](Self::read) for the one
/// exception, a value longer than
/// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes). A connection
/// reset by the peer is end of file, as the stream is over; the message says
/// which.
///
/// ```
/// use mfc_archive::{Archive, MfcString};
/// let bytes = [0x34, 0x12, 0x03, b'a', b'b', b'c'];
/// let mut ar = Archive::load(&bytes[..]);
/// assert_eq!(ar.read::<u16>()?, 0x1234);
/// assert_eq!(ar.read::<MfcString>()?.to_string_lossy(), "abc");
/// assert!(ar.is_buffer_empty());
/// # Ok::<(), mfc_archive::Error>(())
/// ```
pub struct LoadArchive<R: Read + ?Sized> {
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Stream offset of the outermost value or message being read whole: while
    /// `unit` is a `Value` or `Message`, bytes from there on stay buffered.
    unit_start: u64,
    /// Whether a value or message is being read, and why its bytes are kept.
    unit: Option<Keep>,
    /// Stream offset the last failed read needed bytes up to: a message retried
    /// before that much has arrived would fail at the same place.
    wanted: u64,
    /// Stream offset up to which received bytes have been counted towards a
    /// collection's reserved capacity: each byte pays for one reservation.
    claimed: u64,
    /// The longest chain ([`Limits::max_chain`](crate::Limits::max_chain))
    /// among the objects the body being loaded has referred to so far.
    chain: u64,
    /// Where a value too long to undo was cut by an error from the reader: the
    /// stream's position is lost from there on.
    cut: Option<u64>,
    slots: Slots,
    classes: ClassRegistry,
    object_schema: Option<u32>,
    depth: u32,
    options: Options,
    inner: R,
}

impl<R: Read + ?Sized> std::fmt::Debug for LoadArchive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadArchive")
            .field("offset", &(self.base + self.pos as u64))
            .field("buffered", &(self.end - self.pos))
            .field("loaded", &(self.slots.len() - 1))
            .finish_non_exhaustive()
    }
}

impl<R: Read> LoadArchive<R> {
    pub(crate) fn new(inner: R, options: Options) -> Self {
        LoadArchive {
            buf: vec![0; options.effective_buffer_size()].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            unit_start: 0,
            unit: None,
            wanted: 0,
            claimed: 0,
            chain: 0,
            cut: None,
            slots: Slots(vec![Slot::Null]),
            classes: ClassRegistry::default(),
            object_schema: None,
            depth: 0,
            options,
            inner,
        }
    }

    /// Replaces the classes this archive can create (by default, MFC's
    /// serializable collection classes only).
    pub fn with_classes(mut self, classes: ClassRegistry) -> Self {
        self.classes = classes;
        self
    }
}

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Always `true`: this is a loading archive (`CArchive::IsLoading`).
    pub fn is_loading(&self) -> bool {
        true
    }

    /// Always `false` (`CArchive::IsStoring`).
    pub fn is_storing(&self) -> bool {
        false
    }

    /// The archive's settings.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Bytes consumed so far: the offset of the next value in the stream.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// `true` when every byte taken from the reader has been consumed
    /// (`CArchive::IsBufferEmpty`). On a socket, keep reading messages until this
    /// holds, or the ones already buffered wait for a notification that will not
    /// come.
    pub fn is_buffer_empty(&self) -> bool {
        self.pos == self.end
    }

    /// The reader underneath (`CArchive::GetFile`). Bytes already buffered have been
    /// taken from it.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The reader underneath, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The classes this archive can create.
    pub fn classes(&self) -> &ClassRegistry {
        &self.classes
    }

    /// Makes class `T` known to this archive (what `IMPLEMENT_SERIAL` does for a
    /// whole MFC module).
    pub fn register<T: SerialClass>(&mut self) -> &mut Self {
        self.classes.register::<T>();
        self
    }

    /// Loads one value: `ar >> value`.
    ///
    /// If the reader fails (a time-out, `WouldBlock`, a cancelled call), the
    /// value is undone whole: the bytes it had consumed go back to the buffer and
    /// the objects it had loaded are forgotten, so reading it again resumes at
    /// its start. That holds for values of up to
    /// [`Limits::max_message_bytes`](crate::Limits::max_message_bytes); a longer
    /// one cut by such an error leaves the archive unusable, and every later read
    /// says so rather than return bytes from the middle of a value.
    ///
    /// # Errors
    /// [`Error::EndOfFile`] if the input ends inside the value; [`Error::Io`] if
    /// the reader fails; any error the value's [`Load`] implementation reports.
    #[inline(always)]
    pub fn read<T: Load>(&mut self) -> Result<T> {
        if T::LOADS_IN_ONE_STEP || self.unit.is_some() {
            return T::load(R::erase(self));
        }
        self.read_whole()
    }

    /// The next value, or `None` at a clean end of the input: the reader ended
    /// exactly where a value would begin, with no byte of it read. An end
    /// inside the value is still [`Error::EndOfFile`], so a cut stream is never
    /// taken for a finished one (MFC leaves this to `IsBufferEmpty` and a
    /// caught `CArchiveException::endOfFile`).
    ///
    /// ```
    /// use mfc_archive::{Archive, Cause};
    ///
    /// // Two WORDs, then the end: both come back, then `None`.
    /// let mut ar = Archive::load(&[0x01, 0x00, 0x02, 0x00][..]);
    /// assert_eq!(ar.read_or_end::<u16>()?, Some(1));
    /// assert_eq!(ar.read_or_end::<u16>()?, Some(2));
    /// assert_eq!(ar.read_or_end::<u16>()?, None);
    ///
    /// // A DWORD cut after two of its bytes is an error, not an end.
    /// let mut ar = Archive::load(&[0x01, 0x00][..]);
    /// assert_eq!(ar.read_or_end::<u32>().unwrap_err().cause(), Cause::EndOfFile);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`read`](Self::read); a connection reset where the next value would
    /// begin is [`Error::EndOfFile`] too, since the peer may have lost what it
    /// meant to send.
    pub fn read_or_end<T: Load>(&mut self) -> Result<Option<T>> {
        if self.pos == self.end && self.unit.is_none() {
            let start = self.offset();
            match self.refill(1, start, || "a value".to_owned()) {
                Ok(()) => {}
                Err(Error::EndOfFile { expected, .. }) if expected.contains(INPUT_ENDED) => {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
        }
        self.read().map(Some)
    }

    /// [`read`](Self::read) as a unit of its own, out of the hot path.
    #[inline(never)]
    fn read_whole<T: Load>(&mut self) -> Result<T> {
        self.unit(Keep::Value, T::load)
    }

    /// Fills `buf` with the next bytes as they are (`CArchive::EnsureRead`).
    /// Undone whole on an error from the reader, as [`read`](Self::read) is.
    ///
    /// # Errors
    /// [`Error::EndOfFile`] if the input ends first; [`Error::Io`] if the reader
    /// fails.
    pub fn read_raw(&mut self, buf: &mut [u8]) -> Result<()> {
        if self.unit.is_none() {
            return self.unit(Keep::Value, |ar| ar.read_raw(buf));
        }
        let start = self.offset();
        let len = buf.len();
        let what = || format!("{len} raw bytes");
        if self.buffer_whole(buf.len(), start, what)? {
            buf.copy_from_slice(&self.buf[self.pos..self.pos + buf.len()]);
            self.pos += buf.len();
            return Ok(());
        }
        let mut done = 0;
        while done < buf.len() {
            if self.pos == self.end {
                let result =
                    if buf.len() - done >= self.buf.len() && self.unit == Some(Keep::Nothing) {
                        self.read_direct(&mut buf[done..], start).map(|n| done += n)
                    } else {
                        self.refill(1, start, what)
                    };
                if result.is_err() {
                    self.wanted = start + buf.len() as u64;
                }
                result?;
                continue;
            }
            let n = (self.end - self.pos).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

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
    fn unit<T>(&mut self, keep: Keep, f: impl FnOnce(&mut Loading<'_>) -> Result<T>) -> Result<T> {
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

    /// Gives a buffer that grew far past its usual size to keep a long value
    /// back that size. One up to four times the usual size stays, so a stream of
    /// values a little longer than the buffer does not allocate for each.
    #[inline]
    fn shrink(&mut self) {
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
    fn shrink_to(&mut self, size: usize) {
        let unread = self.end - self.pos;
        let mut smaller = vec![0; size].into_boxed_slice();
        smaller[..unread].copy_from_slice(&self.buf[self.pos..self.end]);
        self.buf = smaller;
        self.base += self.pos as u64;
        (self.pos, self.end) = (0, unread);
    }

    /// Reads past the (empty) buffer straight into `dst`; returns bytes read.
    fn read_direct(&mut self, dst: &mut [u8], start: u64) -> Result<usize> {
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
    fn refill(&mut self, need: usize, start: u64, what: impl FnOnce() -> String) -> Result<()> {
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
    fn set_cursor(&mut self, cursor: Cursor, need: usize, failed: bool) {
        (self.pos, self.end, self.base) = (cursor.pos, cursor.end, cursor.base);
        if self.unit.is_some() {
            self.unit = Some(cursor.kept_for);
        }
        if failed {
            self.wanted = self.offset().saturating_add(need as u64);
        }
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

    /// How many of `count` elements of at least `min_bytes` each (taken as 1
    /// if 0) the bytes received but not yet read can hold, counting each byte
    /// for one collection only: the bytes it counts are claimed, so nested
    /// collections share the buffer rather than each claim all of it.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "n is at most count, a usize"
    )]
    pub(crate) fn reservable(&mut self, count: usize, min_bytes: usize) -> usize {
        let min_bytes = min_bytes.max(1) as u64;
        let received = self.base + self.end as u64;
        let from = self.offset().max(self.claimed);
        let fits = received.saturating_sub(from) / min_bytes;
        let n = fits.min(count as u64);
        self.claimed = from + n * min_bytes;
        n as usize
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
    fn buffer_whole(&mut self, len: usize, start: u64, what: impl Fn() -> String) -> Result<bool> {
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

    /// Reads `len` bytes into a new vector whose memory grows only as bytes
    /// actually arrive.
    /// `start` is where the value began, for the error.
    pub(crate) fn read_vec(
        &mut self,
        len: usize,
        start: u64,
        what: impl Fn() -> String,
    ) -> Result<Vec<u8>> {
        if self.buffer_whole(len, start, &what)? {
            let out = self.buf[self.pos..self.pos + len].to_vec();
            self.pos += len;
            return Ok(out);
        }
        let begin = self.offset();
        let mut out = Vec::with_capacity(len.min(self.buf.len()));
        while out.len() < len {
            if self.pos == self.end {
                if let Err(e) = self.refill(1, start, &what) {
                    self.wanted = begin.saturating_add(len as u64);
                    return Err(e);
                }
            }
            let n = (self.end - self.pos).min(len - out.len());
            if out.capacity() - out.len() < n {
                // Doubling as bytes arrive, but never past `len`.
                out.reserve_exact((len - out.len()).min(out.capacity().max(n)));
            }
            out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
        }
        Ok(out)
    }

    /// Reads a collection's element count (`CArchive::ReadCount`), the inverse of
    /// [`StoreArchive::write_count`](crate::StoreArchive::write_count). Not checked
    /// against the limits: it is only a number here.
    ///
    /// ```
    /// let mut ar = mfc_archive::Archive::load(&[0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00][..]);
    /// assert_eq!(ar.read_count()?, 70000);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EndOfFile`]; [`Error::Io`] if the reader fails (the count is
    /// undone, as [`read`](Self::read) undoes values).
    pub fn read_count(&mut self) -> Result<u64> {
        if self.unit.is_none() {
            return self.unit(Keep::Value, |ar| ar.read_count());
        }
        let word = u16::from_le_bytes(self.take("a count (WORD)")?);
        if word != 0xFFFF {
            return Ok(u64::from(word));
        }
        let dword = u32::from_le_bytes(self.take("a count (DWORD after FF FF)")?);
        if dword != 0xFFFF_FFFF {
            return Ok(u64::from(dword));
        }
        Ok(u64::from_le_bytes(
            self.take("a count (QWORD after FF FF FF FF FF FF)")?,
        ))
    }

    /// A count checked against [`Limits::max_count`](crate::Limits::max_count).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the count was checked against max_count, a usize"
    )]
    pub(crate) fn read_element_count(&mut self) -> Result<usize> {
        let offset = self.offset();
        let count = self.read_count()?;
        self.check_limit(
            offset,
            "an element count",
            count,
            self.options.limits.max_count,
        )?;
        Ok(count as usize)
    }

    pub(crate) fn check_limit(
        &self,
        offset: u64,
        what: &'static str,
        found: u64,
        limit: u64,
    ) -> Result<()> {
        if found > limit || usize::try_from(found).is_err() {
            return Err(Error::LimitExceeded {
                offset,
                what,
                found,
                limit,
            });
        }
        Ok(())
    }

    /// Runs `f` one nesting level deeper, refusing to pass
    /// [`Limits::max_depth`](crate::Limits::max_depth).
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let limit = self.options.limits.max_depth;
        if self.depth >= limit {
            return Err(Error::LimitExceeded {
                offset: self.offset(),
                what: "nesting depth",
                found: u64::from(self.depth) + 1,
                limit: u64::from(limit),
            });
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Loads an object pointer (`CArchive::ReadObject(NULL)`, `ar >> pOb`): `None`
    /// for the null tag, the earlier object for a back-reference, otherwise a new
    /// object of a registered class, created and then loaded with its body.
    ///
    /// # Errors
    /// [`Error::BadIndex`] for a tag that refers to nothing loaded, to a class where
    /// an object was due, or to an object still being loaded (a cycle: not
    /// supported); [`Error::BadClass`] for an unregistered or over-long class name;
    /// [`Error::BadSchema`] for a schema the class does not accept; any error of the
    /// body.
    pub fn read_object(&mut self) -> Result<Option<ObjectRef>> {
        self.unit(Keep::Value, |ar| ar.read_object_of(None))
    }

    /// Loads an object that must be of class `T`
    /// (`CArchive::ReadObject(RUNTIME_CLASS(T))`, `ar >> pT`). `T` need not be
    /// registered: a class description naming `T` creates a `T`.
    ///
    /// # Errors
    /// As [`read_object`](Self::read_object), and [`Error::BadClass`] when the
    /// stream holds an object of another class.
    pub fn read_object_as<T: SerialClass>(&mut self) -> Result<Option<Arc<T>>> {
        let offset = self.offset();
        let class = RuntimeClass::of::<T>();
        let Some(object) = self.unit(Keep::Value, |ar| ar.read_object_of(Some(class)))? else {
            return Ok(None);
        };
        object
            .downcast::<T>()
            .map(Some)
            .map_err(|other| Error::BadClass {
                offset,
                expected: format!("an object of the Rust type registered as {}", T::CLASS_NAME),
                found: format!("another type registered under {}", other.class_name()),
            })
    }

    fn read_object_of(&mut self, requested: Option<RuntimeClass>) -> Result<Option<ObjectRef>> {
        let offset = self.offset();
        let (word, tag) = self.read_tag()?;
        if tag & tags::CLASS_TAG_BIT == 0 {
            let (object, chain) =
                self.object_at(tag, offset, requested.map(|class| class.name()))?;
            self.chain = self.chain.max(chain);
            return Ok(object);
        }
        let class_index = if word == tags::NEW_CLASS_TAG {
            self.read_class_description(offset, requested)?
        } else {
            tag & !tags::CLASS_TAG_BIT
        };
        let (class, schema) = self.class_at(class_index, offset)?;
        if let Some(requested) = requested.map(|class| class.name()) {
            if class.name() != requested {
                return Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {requested}"),
                    found: format!("class {}", class.name()),
                });
            }
        }
        let index = self.push_slot(Slot::Pending, offset)?;
        let saved_schema = self.object_schema.replace(u32::from(schema));
        let outer_chain = std::mem::replace(&mut self.chain, 0);
        let result = self.nested(|ar| class.create(R::erase(ar)));
        let held_chain = std::mem::replace(&mut self.chain, outer_chain);
        self.object_schema = saved_schema;
        let object = result?;
        let chain = held_chain.saturating_add(u64::from(!class.drops_flat()));
        let limit = self.options.limits.max_chain;
        if chain > limit {
            return Err(Error::LimitExceeded {
                offset,
                what: "a chain of objects holding objects (through classes that do not drop flat)",
                found: chain,
                limit,
            });
        }
        self.chain = self.chain.max(chain);
        self.slots[index] = Slot::Object(ObjectRef::clone(&object), chain);
        Ok(Some(object))
    }

    /// Loads a class alone (`CArchive::ReadClass`): a new class description or a
    /// reference to one read before. The stored schema becomes the
    /// [`object_schema`](Self::object_schema). Consumes a class index but no object
    /// index; create the object with [`RuntimeClass::create`].
    ///
    /// # Errors
    /// [`Error::BadIndex`] for an object tag or a reference to no class;
    /// [`Error::BadClass`] and [`Error::BadSchema`] as in
    /// [`read_object`](Self::read_object).
    pub fn read_class(&mut self) -> Result<RuntimeClass> {
        if self.unit.is_none() {
            return self.unit(Keep::Value, |ar| ar.read_class());
        }
        let offset = self.offset();
        let (word, tag) = self.read_tag()?;
        if tag & tags::CLASS_TAG_BIT == 0 {
            return Err(Error::BadIndex {
                offset,
                expected: "a class tag (FF FF or 0x8000 | index)".into(),
                found: format!("object tag {tag:#x}"),
            });
        }
        let class_index = if word == tags::NEW_CLASS_TAG {
            self.read_class_description(offset, None)?
        } else {
            tag & !tags::CLASS_TAG_BIT
        };
        let (class, schema) = self.class_at(class_index, offset)?;
        self.object_schema = Some(u32::from(schema));
        Ok(class)
    }

    /// The stored schema of the object being loaded (`CArchive::GetObjectSchema`).
    /// Like MFC's, it answers once per object and `None` after that, and `None`
    /// for a body loaded directly rather than through
    /// [`read_object`](Self::read_object).
    pub fn object_schema(&mut self) -> Option<u32> {
        self.object_schema.take()
    }

    /// Registers an object in the index space without reading anything
    /// (`CArchive::MapObject`), mirroring the storing program's
    /// [`StoreArchive::map_object`](crate::StoreArchive::map_object).
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when the index space is full.
    pub fn map_object(&mut self, object: &ObjectRef) -> Result<()> {
        let offset = self.offset();
        self.push_slot(Slot::Object(ObjectRef::clone(object), 0), offset)
            .map(drop)
    }

    /// Reads an object tag: the `WORD`, and the tag widened to MFC's 32-bit form
    /// (class bit at `0x8000_0000`).
    fn read_tag(&mut self) -> Result<(u16, u32)> {
        let word = u16::from_le_bytes(self.take("an object tag (WORD)")?);
        let tag = if word == tags::BIG_OBJECT_TAG {
            u32::from_le_bytes(self.take("a big object tag (DWORD after FF 7F)")?)
        } else {
            (u32::from(word & tags::CLASS_TAG) << 16) | u32::from(word & !tags::CLASS_TAG)
        };
        Ok((word, tag))
    }

    fn object_at(
        &self,
        index: u32,
        offset: u64,
        requested: Option<&'static str>,
    ) -> Result<(Option<ObjectRef>, u64)> {
        let bad = |found: String| Error::BadIndex {
            offset,
            expected: format!("an object index below {}", self.slots.len()),
            found,
        };
        match self.slots.get(index as usize) {
            None => Err(bad(format!("index {index}"))),
            Some(Slot::Null) => Ok((None, 0)),
            Some(Slot::Class { class, .. }) => Err(bad(format!("index {index}, which is class {}", class.name()))),
            Some(Slot::Pending) => Err(bad(format!(
                "index {index}, an object still being loaded (cyclic object graphs are not supported)"
            ))),
            Some(Slot::Object(object, chain)) => match requested {
                Some(name) if object.class_name() != name => Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {name}"),
                    found: format!("a reference to object {index} of class {}", object.class_name()),
                }),
                _ => Ok((Some(ObjectRef::clone(object)), *chain)),
            },
        }
    }

    fn class_at(&self, index: u32, offset: u64) -> Result<(RuntimeClass, u16)> {
        match self.slots.get(index as usize) {
            Some(Slot::Class { class, schema }) if index != 0 => Ok((*class, *schema)),
            other => Err(Error::BadIndex {
                offset,
                expected: "a reference to a class already read".into(),
                found: match other {
                    None => format!(
                        "class index {index}, past the {} entries loaded",
                        self.slots.len() - 1
                    ),
                    Some(_) => format!("class index {index}, which is not a class"),
                },
            }),
        }
    }

    /// Reads the class description after `FF FF` (`CRuntimeClass::Load`), checks
    /// it against the registry (or the class the caller asked for) and appends it
    /// to the load array.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a load-array index is below max_objects, which fits a u32"
    )]
    fn read_class_description(
        &mut self,
        offset: u64,
        requested: Option<RuntimeClass>,
    ) -> Result<u32> {
        let schema = u16::from_le_bytes(self.take("a class schema (WORD after FF FF)")?);
        let name_len = u16::from_le_bytes(self.take("a class name length (WORD)")?);
        let max = self.options.limits.max_class_name;
        if name_len > max {
            return Err(Error::BadClass {
                offset,
                expected: format!("a class name of at most {max} bytes"),
                found: format!("a name of {name_len} bytes"),
            });
        }
        let name = self.read_vec(usize::from(name_len), offset, || {
            format!("a class name of {name_len} bytes")
        })?;
        let found = std::str::from_utf8(&name).ok().and_then(|name| {
            self.classes
                .get(name)
                .or(requested.filter(|class| class.name() == name))
        });
        let Some(class) = found else {
            return Err(Error::BadClass {
                offset,
                expected: "a registered class".into(),
                found: format!("class {:?}", String::from_utf8_lossy(&name)),
            });
        };
        if schema != class.stored_schema() && !class.is_versionable() {
            return Err(Error::BadSchema {
                offset,
                class: class.name().to_owned(),
                expected: u32::from(class.stored_schema()),
                found: u32::from(schema),
            });
        }
        self.push_slot(Slot::Class { class, schema }, offset)
            .map(|index| index as u32)
    }

    fn push_slot(&mut self, slot: Slot, offset: u64) -> Result<usize> {
        let limit = self
            .options
            .limits
            .max_objects
            .min(u64::from(tags::MAX_MAP_COUNT) - 1);
        let count = self.slots.len() as u64;
        if count > limit {
            return Err(Error::LimitExceeded {
                offset,
                what: "the number of classes and objects",
                found: count,
                limit,
            });
        }
        self.slots.push(slot);
        Ok(self.slots.len() - 1)
    }
}

//! The loading archive (`CArchive` in `CArchive::load` mode): its type, the
//! reader erased for [`Load`] implementations, and reading values whole.
//!
//! The archive's state is in four parts, each kept by one file: the input
//! (`load/buffer.rs`, filled by `load/input.rs`), what is being read whole and so may be
//! undone (`load/undo.rs`), what the limits have counted (`counts.rs`), and the
//! object load array (`objects.rs`).

use std::io::{self, Read};

use crate::classes::{ClassRegistry, ObjectRef, SerialClass};
use crate::error::{Error, Result};
use crate::objects::tables::{LoadMap, Slots};
use crate::options::Options;
use crate::Load;

mod buffer;
mod input;
mod resume;
mod undo;

use buffer::InBuffer;
use input::INPUT_ENDED;
use resume::Resume;
use undo::Unit;

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
    /// The bytes received, and where reading is in them and in the stream.
    buf: InBuffer,
    /// The value or message being read whole, if any.
    unit: Unit,
    /// Stream offset the last failed read needed bytes up to: a message retried
    /// before that much has arrived would fail at the same place.
    wanted: u64,
    /// Where the message that last answered "not yet" began: `wanted` holds
    /// for a message read again from there, and is stale for any other.
    waiting_message: Option<u64>,
    /// What collections of that message had read, for its retry.
    resume: Resume,
    pub(crate) bounds: Bounds,
    pub(crate) objects: LoadMap,
    options: Options,
    inner: R,
}

/// What the limits have counted so far while loading (`counts.rs` keeps it).
#[derive(Debug, Default)]
pub(crate) struct Bounds {
    /// Collections and objects being loaded inside each other.
    pub(crate) depth: u32,
    /// Stream offset up to which received bytes have been counted towards a
    /// collection's reserved capacity: each byte pays for one reservation.
    pub(crate) claimed: u64,
}

impl<R: Read + ?Sized> std::fmt::Debug for LoadArchive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadArchive")
            .field("offset", &self.buf.offset())
            .field("buffered", &self.buf.unread().len())
            .field("loaded", &self.objects.loaded())
            .finish_non_exhaustive()
    }
}

impl<R: Read> LoadArchive<R> {
    pub(crate) fn new(inner: R, options: Options) -> Self {
        LoadArchive {
            buf: InBuffer::new(options.effective_buffer_size()),
            unit: Unit::Idle,
            wanted: 0,
            waiting_message: None,
            resume: Resume::default(),
            bounds: Bounds::default(),
            objects: LoadMap::new(ClassRegistry::default()),
            options,
            inner,
        }
    }

    /// Replaces the classes this archive can create (by default, MFC's
    /// serializable collection classes only).
    pub fn with_classes(mut self, classes: ClassRegistry) -> Self {
        self.objects.classes = classes;
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
        self.buf.offset()
    }

    /// `true` when every byte taken from the reader has been consumed
    /// (`CArchive::IsBufferEmpty`). On a socket, keep reading messages until this
    /// holds, or the ones already buffered wait for a notification that will not
    /// come.
    pub fn is_buffer_empty(&self) -> bool {
        self.unread().is_empty()
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
        &self.objects.classes
    }

    /// Makes class `T` known to this archive (what `IMPLEMENT_SERIAL` does for a
    /// whole MFC module).
    pub fn register<T: SerialClass>(&mut self) -> &mut Self {
        self.objects.classes.register::<T>();
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
        if T::LOADS_IN_ONE_STEP || self.unit.is_reading() {
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
        if self.is_buffer_empty() && !self.unit.is_reading() {
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

    /// Succeeds only at the end of the input: a document read whole, with no
    /// byte left that its layout did not account for.
    ///
    /// ```
    /// use mfc_archive::Archive;
    /// let mut ar = Archive::load(&[0x01, 0x00, 0x07][..]);
    /// assert_eq!(ar.read::<u16>()?, 1);
    /// let err = ar.expect_end().unwrap_err();
    /// assert_eq!(err.to_string(), "at byte 2: expected the end of the input, found more bytes");
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Generic`] when bytes remain; the reader's error.
    pub fn expect_end(&mut self) -> Result<()> {
        let offset = self.offset();
        match self.read_or_end::<u8>()? {
            None => Ok(()),
            Some(_) => Err(Error::Generic {
                offset,
                message: "expected the end of the input, found more bytes".to_owned(),
            }),
        }
    }

    /// [`read`](Self::read) as a unit of its own, out of the hot path.
    #[inline(never)]
    fn read_whole<T: Load>(&mut self) -> Result<T> {
        self.unit(Unit::Value, T::load)
    }

    /// Fills `buf` with the next bytes as they are (`CArchive::EnsureRead`).
    /// Undone whole on an error from the reader, as [`read`](Self::read) is.
    ///
    /// # Errors
    /// [`Error::EndOfFile`] if the input ends first; [`Error::Io`] if the reader
    /// fails.
    pub fn read_raw(&mut self, buf: &mut [u8]) -> Result<()> {
        if !self.unit.is_reading() {
            return self.unit(Unit::Value, |ar| ar.read_raw(buf));
        }
        let start = self.offset();
        let len = buf.len();
        let what = || format!("{len} raw bytes");
        if self.buffer_whole(len, start, what)? {
            buf.copy_from_slice(&self.unread()[..len]);
            self.consume(len);
            return Ok(());
        }
        let mut done = 0;
        while done < len {
            if self.is_buffer_empty() {
                let result = if len - done >= self.buf.capacity() && self.unit.is_abandoned() {
                    self.read_direct(&mut buf[done..], start).map(|n| done += n)
                } else {
                    self.refill(1, start, what)
                };
                if result.is_err() {
                    self.wanted = start + len as u64;
                }
                result?;
                continue;
            }
            let n = self.unread().len().min(len - done);
            buf[done..done + n].copy_from_slice(&self.unread()[..n]);
            self.consume(n);
            done += n;
        }
        Ok(())
    }
}

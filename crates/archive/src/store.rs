//! The storing archive (`CArchive` in `CArchive::store` mode): its type, the
//! writer erased for [`Store`] implementations, flushing and closing.
//!
//! Its state is in two parts, each kept by one file: the output buffer
//! (`store/buffer.rs`, written through `store/output.rs`) and the object
//! index map (`objects.rs`).

use std::io::Write;

use crate::error::{Error, Result};
use crate::objects::tables::StoreMap;
use crate::options::Options;
use crate::Store;
use buffer::OutBuffer;

mod buffer;
mod output;

pub(crate) use output::PUT_WITH_MAX;

/// A storing archive whose writer type has been erased. [`Store`] implementations
/// receive this, so they are object-safe and need no type parameter.
pub type Storing<'a> = StoreArchive<dyn Write + 'a>;

mod sealed {
    pub trait Sealed {}
    impl<W: std::io::Write> Sealed for W {}
    impl Sealed for dyn std::io::Write + '_ {}
}

/// A writer a [`StoreArchive`] can sit on: every sized [`Write`] type, and the
/// erased `dyn Write` that [`Store`] implementations see. Sealed; you never
/// implement it.
pub trait Sink: Write + sealed::Sealed {
    #[doc(hidden)]
    fn erase<'a>(ar: &'a mut StoreArchive<Self>) -> &'a mut Storing<'a>
    where
        Self: 'a;
}

impl<W: Write> Sink for W {
    fn erase<'a>(ar: &'a mut StoreArchive<W>) -> &'a mut Storing<'a>
    where
        W: 'a,
    {
        ar
    }
}

impl<'b> Sink for dyn Write + 'b {
    fn erase<'a>(ar: &'a mut StoreArchive<dyn Write + 'b>) -> &'a mut Storing<'a>
    where
        'b: 'a,
    {
        ar
    }
}

/// `CArchive` in store mode: values go into a buffer, and the buffer goes to the
/// writer when it is full, on [`flush`](Self::flush) and on [`close`](Self::close).
///
/// Made by [`Archive::store`](crate::Archive::store). The bytes produced never
/// depend on the buffer size; only the moments the writer sees them do, which
/// matters on a socket ("flushing the buffer of an archive attached to a socket is
/// equivalent to sending a message").
///
/// ```
/// use mfc_archive::{Archive, MfcString};
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write(&0x1234u16)?;
/// ar.write(&MfcString::ansi(b"abc".to_vec()))?;
/// ar.close()?;
/// assert_eq!(out, [0x34, 0x12, 0x03, b'a', b'b', b'c']);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
///
/// # Drop
/// Dropping a storing archive flushes it, as MFC's destructor does, and ignores any
/// error (like `std::io::BufWriter`); call [`close`](Self::close) to see errors, or
/// set [`Options::no_flush_on_drop`], or [`abort`](Self::abort).
pub struct StoreArchive<W: Write + ?Sized> {
    buf: OutBuffer,
    flushed: u64,
    pub(crate) map: StoreMap,
    options: Options,
    finished: bool,
    inner: W,
}

impl<W: Write + ?Sized> std::fmt::Debug for StoreArchive<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreArchive")
            .field("offset", &(self.flushed + self.buf.len() as u64))
            .field("buffered", &self.buf.len())
            .field("stored", &self.map.stored())
            .finish_non_exhaustive()
    }
}

impl<W: Write> StoreArchive<W> {
    pub(crate) fn new(inner: W, options: Options) -> Self {
        StoreArchive {
            buf: OutBuffer::new(options.effective_buffer_size()),
            flushed: 0,
            map: StoreMap::default(),
            options,
            finished: false,
            inner,
        }
    }
}

impl<W: Sink + ?Sized> StoreArchive<W> {
    /// Always `false`: this is a storing archive (`CArchive::IsLoading`).
    pub fn is_loading(&self) -> bool {
        false
    }

    /// Always `true` (`CArchive::IsStoring`).
    pub fn is_storing(&self) -> bool {
        true
    }

    /// The archive's settings.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Bytes stored so far, buffered or not: the offset the next value starts at.
    pub fn offset(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// The writer underneath (`CArchive::GetFile`). Bytes still in the buffer have
    /// not reached it; [`flush`](Self::flush) first.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The writer underneath, mutably. Writing to it directly interleaves with the
    /// archive's output only at flush points.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Stores one value: `ar << value`.
    ///
    /// # Errors
    /// An error from the writer when the buffer is flushed, or a value that cannot
    /// be encoded (see the value's [`Store`] implementation).
    pub fn write<T: Store + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.store(W::erase(self))
    }

    /// Sends the buffer to the writer and flushes the writer (`CArchive::Flush`).
    /// On a socket this is "send the message".
    ///
    /// # Errors
    /// The writer's error; the buffered bytes are then dropped, as MFC drops them.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_buffer()?;
        let offset = self.flushed;
        self.inner
            .flush()
            .map_err(|source| Error::Io { offset, source })
    }

    /// Flushes and finishes the archive (`CArchive::Close`), reporting any error.
    /// The writer itself stays open.
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub fn close(mut self) -> Result<()>
    where
        W: Sized,
    {
        self.finished = true;
        self.flush()
    }

    /// Drops the archive without writing what is still buffered
    /// (`CArchive::Abort`), for error paths.
    pub fn abort(mut self)
    where
        W: Sized,
    {
        self.finished = true;
        self.buf.clear();
    }
}

impl<W: Write + ?Sized> Drop for StoreArchive<W> {
    fn drop(&mut self) {
        if self.finished || self.options.no_flush_on_drop || self.buf.len() == 0 {
            return;
        }
        // Errors cannot be reported from drop; `close` is the way to see them.
        let _ = self
            .inner
            .write_all(self.buf.filled())
            .and_then(|()| self.inner.flush());
    }
}

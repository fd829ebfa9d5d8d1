//! The storing archive's output: its buffer, appending to it (the hot path of
//! every primitive), and sending it to the writer when it is full or flushed.

use std::io::Write;

use super::{Sink, StoreArchive};
use crate::error::{Error, Result};
use crate::options::Options;

/// The most bytes one [`StoreArchive::put_with`] makes.
pub(crate) const PUT_WITH_MAX: usize = 4096;

impl<W: Sink + ?Sized> StoreArchive<W> {
    /// Writes bytes as they are (`CArchive::Write`): no length, no framing.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let mut ar = mfc_archive::Archive::store(&mut out);
    /// ar.write_raw(b"JwwData.")?;
    /// ar.close()?;
    /// assert_eq!(out, b"JwwData.");
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// An error from the writer, if the buffer had to be flushed.
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        let len = self.len;
        if let Some(room) = self.buf.get_mut(len..len + bytes.len()) {
            room.copy_from_slice(bytes);
            self.len = len + bytes.len();
            return Ok(());
        }
        let (len, result) = spill(
            &mut self.buf,
            len,
            &mut self.flushed,
            &self.options,
            &mut self.inner,
            bytes,
        );
        self.len = len;
        result
    }

    /// Appends a fixed-size value; the hot path of every primitive.
    ///
    /// `len <= buf.len()` always holds (every method that moves it keeps it
    /// so), so slicing `len..` never panics; its first `N` bytes are checked
    /// once, with no separate overflow test (u32 writes: 15.1 to 14.1
    /// instructions per value, `benches/paired.rs`).
    #[inline]
    pub(crate) fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<()> {
        let len = self.len;
        if let Some(room) = self.buf[len..].first_chunk_mut() {
            *room = bytes;
            self.len = len + N;
            return Ok(());
        }
        // The slow path gets the other fields and returns the new length, so
        // `len` never escapes and can stay in a register across a loop of puts;
        // the bytes go by value, so the loop never stores them on the stack.
        let (len, result) = spill_value(
            &mut self.buf,
            len,
            &mut self.flushed,
            &self.options,
            &mut self.inner,
            bytes,
        );
        self.len = len;
        result
    }

    /// Lets `fill` write the next `len` bytes of the buffer and keeps them if
    /// they fit and `fill` returns true; `false` (and nothing kept) otherwise.
    /// The fast path of short Unicode strings, widened in place.
    #[inline]
    pub(crate) fn try_put_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> bool,
    ) -> bool {
        let at = self.len;
        let kept = self.buf.get_mut(at..at + len).is_some_and(fill);
        if kept {
            self.len = at + len;
        }
        kept
    }

    /// Writes the `len` bytes (at most [`PUT_WITH_MAX`]) that `fill` makes:
    /// in place in the buffer when they fit there, else in a chunk on the
    /// stack, zeroed only then, that goes out through
    /// [`write_raw`](Self::write_raw). The bulk path of array bodies and long
    /// strings.
    pub(crate) fn put_with(&mut self, len: usize, fill: impl Fn(&mut [u8])) -> Result<()> {
        if self.try_put_with(len, |room| {
            fill(room);
            true
        }) {
            return Ok(());
        }
        let mut chunk = [0; PUT_WITH_MAX];
        let chunk = &mut chunk[..len];
        fill(chunk);
        self.write_raw(chunk)
    }

    /// Appends `first` then `rest` if both fit in the buffer; `false` (and nothing
    /// written) otherwise. The fast path of short strings.
    #[inline]
    pub(crate) fn try_put_after(&mut self, first: u8, rest: &[u8]) -> bool {
        let len = self.len;
        match self.buf.get_mut(len..len + 1 + rest.len()) {
            Some(room) => {
                room[0] = first;
                room[1..].copy_from_slice(rest);
                self.len = len + 1 + rest.len();
                true
            }
            None => false,
        }
    }

    #[cold]
    pub(super) fn flush_buffer(&mut self) -> Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let offset = self.flushed;
        let result = self.inner.write_all(&self.buf[..self.len]);
        self.flushed += self.len as u64;
        self.len = 0;
        result.map_err(|source| Error::Io { offset, source })
    }
}

/// Sends the `len` buffered bytes, grows the buffer for a bulk stream, and
/// buffers `bytes` (or sends them too if they do not fit); returns the new number
/// of buffered bytes. On an error the buffered bytes are dropped, as MFC drops
/// them.
#[cold]
#[inline(never)]
fn spill<W: Write + ?Sized>(
    buf: &mut Box<[u8]>,
    len: usize,
    flushed: &mut u64,
    options: &Options,
    inner: &mut W,
    bytes: &[u8],
) -> (usize, Result<()>) {
    let offset = *flushed;
    *flushed += len as u64;
    if let Err(source) = inner.write_all(&buf[..len]) {
        return (0, Err(Error::Io { offset, source }));
    }
    if let Some(size) = options.grown_buffer_size(buf.len()) {
        *buf = vec![0; size].into_boxed_slice();
    }
    if bytes.len() < buf.len() {
        buf[..bytes.len()].copy_from_slice(bytes);
        return (bytes.len(), Ok(()));
    }
    let offset = *flushed;
    *flushed += bytes.len() as u64;
    (
        0,
        inner
            .write_all(bytes)
            .map_err(|source| Error::Io { offset, source }),
    )
}

/// [`spill`] for a value passed by value.
#[cold]
#[inline(never)]
fn spill_value<W: Write + ?Sized, const N: usize>(
    buf: &mut Box<[u8]>,
    len: usize,
    flushed: &mut u64,
    options: &Options,
    inner: &mut W,
    bytes: [u8; N],
) -> (usize, Result<()>) {
    spill(buf, len, flushed, options, inner, &bytes)
}

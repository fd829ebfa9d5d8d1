//! The storing archive's output: its buffer, appending to it (the hot path of
//! every primitive), and sending it to the writer when it is full or flushed.

use std::io::Write;

use super::buffer::OutBuffer;
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
        if self.buf.append(bytes) {
            return Ok(());
        }
        spill(
            &mut self.buf,
            &mut self.flushed,
            &self.options,
            &mut self.inner,
            bytes,
        )
    }

    /// Appends a fixed-size value; the hot path of every primitive.
    #[inline]
    pub(crate) fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<()> {
        if self.buf.put(bytes) {
            return Ok(());
        }
        // The bytes go to the slow path by value, so the loop never stores
        // them on the stack; it returns the bytes buffered, and the cursor
        // is set from that value, so a loop of puts keeps the cursor in a
        // register rather than loading it again after the call (u32 writes:
        // 12.1 to 11.2 instructions per value).
        let (len, result) = spill_value(
            &mut self.buf,
            &mut self.flushed,
            &self.options,
            &mut self.inner,
            bytes,
        );
        self.buf.set_len(len);
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
        self.buf.put_with(len, fill)
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
        self.buf.put_with(1 + rest.len(), |room| {
            room[0] = first;
            room[1..].copy_from_slice(rest);
            true
        })
    }

    #[cold]
    pub(super) fn flush_buffer(&mut self) -> Result<()> {
        if self.buf.len() == 0 {
            return Ok(());
        }
        let offset = self.flushed;
        let result = self.inner.write_all(self.buf.filled());
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        result.map_err(|source| Error::Io { offset, source })
    }
}

/// Sends the buffered bytes, grows the buffer for a bulk stream, and buffers
/// `bytes` (or sends them too if they do not fit). On an error the buffered
/// bytes are dropped, as MFC drops them.
#[cold]
#[inline(never)]
fn spill<W: Write + ?Sized>(
    buf: &mut OutBuffer,
    flushed: &mut u64,
    options: &Options,
    inner: &mut W,
    bytes: &[u8],
) -> Result<()> {
    let offset = *flushed;
    *flushed += buf.len() as u64;
    let sent = inner.write_all(buf.filled());
    buf.clear();
    sent.map_err(|source| Error::Io { offset, source })?;
    if let Some(size) = options.grown_buffer_size(buf.capacity()) {
        buf.resize_empty(size);
    }
    if bytes.len() < buf.capacity() && buf.append(bytes) {
        return Ok(());
    }
    let offset = *flushed;
    *flushed += bytes.len() as u64;
    inner
        .write_all(bytes)
        .map_err(|source| Error::Io { offset, source })
}

/// [`spill`] for a value passed by value; returns the bytes then buffered
/// with the outcome.
#[cold]
#[inline(never)]
fn spill_value<W: Write + ?Sized, const N: usize>(
    buf: &mut OutBuffer,
    flushed: &mut u64,
    options: &Options,
    inner: &mut W,
    bytes: [u8; N],
) -> (usize, Result<()>) {
    let result = spill(buf, flushed, options, inner, &bytes);
    (buf.len(), result)
}

//! The storing archive (`CArchive` in `CArchive::store` mode): a buffer in front of
//! any `io::Write`, the primitive writers, counts and the object index map.

use std::collections::HashMap;
use std::io::Write;

use crate::error::{Error, Result};
use crate::object::{ObjectRef, RuntimeClass};
use crate::options::Options;
use crate::tags;
use crate::Store;

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

/// Classes and objects already written, and the next index (the "PID" space that
/// classes and objects share, starting at 1).
#[derive(Default)]
struct StoreMap {
    last_index: u32,
    objects: HashMap<usize, u32>,
    /// Keeps every written object alive, so its address cannot be reused by a new
    /// object during this archive's life (which would turn it into a false
    /// back-reference).
    keep_alive: Vec<ObjectRef>,
    classes: HashMap<&'static str, u32>,
}

impl StoreMap {
    fn next_index(&mut self, offset: u64) -> Result<u32> {
        if self.last_index + 1 >= tags::MAX_MAP_COUNT {
            return Err(Error::Generic {
                offset,
                message: format!(
                    "expected fewer than {:#x} classes and objects in one archive",
                    tags::MAX_MAP_COUNT
                ),
            });
        }
        self.last_index += 1;
        Ok(self.last_index)
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
    buf: Box<[u8]>,
    /// Bytes of `buf` in use.
    len: usize,
    flushed: u64,
    map: StoreMap,
    options: Options,
    finished: bool,
    inner: W,
}

impl<W: Write + ?Sized> std::fmt::Debug for StoreArchive<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreArchive")
            .field("offset", &(self.flushed + self.len as u64))
            .field("buffered", &self.len)
            .field("stored", &self.map.last_index)
            .finish_non_exhaustive()
    }
}

impl<W: Write> StoreArchive<W> {
    pub(crate) fn new(inner: W, options: Options) -> Self {
        StoreArchive {
            buf: vec![0; options.effective_buffer_size()].into_boxed_slice(),
            len: 0,
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
        self.flushed + self.len as u64
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
    #[inline]
    pub(crate) fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<()> {
        let len = self.len;
        if let Some(room) = self.buf.get_mut(len..len + N) {
            room.copy_from_slice(&bytes);
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

    /// Writes a collection's element count (`CArchive::WriteCount`):
    /// a `WORD` below `0xFFFF`, else `FF FF` and a `DWORD`, else (64-bit counts)
    /// `FF FF FF FF FF FF` and a `QWORD`.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let mut ar = mfc_archive::Archive::store(&mut out);
    /// ar.write_count(3)?;
    /// ar.write_count(70000)?;
    /// ar.close()?;
    /// assert_eq!(out, [0x03, 0x00, 0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// An error from the writer, if the buffer had to be flushed.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "each branch casts a count its comparison bounds"
    )]
    pub fn write_count(&mut self, count: u64) -> Result<()> {
        if count < 0xFFFF {
            self.put((count as u16).to_le_bytes())
        } else if count < 0xFFFF_FFFF {
            self.put([0xFF, 0xFF])?;
            self.put((count as u32).to_le_bytes())
        } else {
            self.put([0xFF; 6])?;
            self.put(count.to_le_bytes())
        }
    }

    /// Stores an object pointer (`CArchive::WriteObject`, `ar << pOb`): `None` is the
    /// null tag `00 00`; an object already written is a back-reference to its index;
    /// a new object is its class (description or reference), then its body.
    ///
    /// Identity is the `Arc`'s address: writing the same `Arc` twice writes one
    /// object and one back-reference; equal but distinct objects are written twice.
    ///
    /// # Errors
    /// An error from the writer, an error from the object's body, or a class that
    /// cannot be stored (see [`write_class`](Self::write_class)).
    pub fn write_object(&mut self, object: Option<&ObjectRef>) -> Result<()> {
        let Some(object) = object else {
            return self.put(tags::NULL_TAG.to_le_bytes());
        };
        let address = object_address(object);
        if let Some(&index) = self.map.objects.get(&address) {
            return self.write_tag(index);
        }
        self.write_class(&object.runtime_class())?;
        let index = self.map.next_index(self.offset())?;
        self.map.objects.insert(address, index);
        self.map.keep_alive.push(ObjectRef::clone(object));
        object.store_body(W::erase(self))
    }

    /// Stores a class alone (`CArchive::WriteClass`): `FF FF`, schema, name length
    /// and name the first time, `0x8000 | index` after that. Consumes a class index
    /// but no object index.
    ///
    /// ```
    /// use mfc_archive::{Archive, RuntimeClass};
    /// # #[derive(Debug, mfc_archive::Serialize)]
    /// # #[mfc(class = "CAge", schema = 1)]
    /// # struct Age { years: i32 }
    /// let mut out = Vec::new();
    /// let mut ar = Archive::store(&mut out);
    /// ar.write_class(&RuntimeClass::of::<Age>())?;
    /// ar.write_class(&RuntimeClass::of::<Age>())?;
    /// ar.close()?;
    /// assert_eq!(out, [0xFF, 0xFF, 0x01, 0x00, 0x04, 0x00, b'C', b'A', b'g', b'e', 0x01, 0x80]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Generic`] for a class MFC could not store either: schema `0xFFFF`
    /// (MFC's "not serializable"), or a name that is not ASCII or is 64 bytes or more
    /// (MFC's loader rejects it); an error from the writer.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a class name is checked to be under 64 KiB when the class is made"
    )]
    pub fn write_class(&mut self, class: &RuntimeClass) -> Result<()> {
        if let Some(&index) = self.map.classes.get(class.name()) {
            return self.write_tag(tags::CLASS_TAG_BIT | index);
        }
        let offset = self.offset();
        let invalid = |message: String| Error::Generic { offset, message };
        if class.stored_schema() == tags::NOT_SERIALIZABLE_SCHEMA {
            return Err(invalid(format!(
                "expected a serializable class, found {} with schema 0xFFFF",
                class.name()
            )));
        }
        if !class.name().is_ascii() || class.name().len() >= 64 {
            return Err(invalid(format!(
                "expected an ASCII class name shorter than 64 bytes, found {:?}",
                class.name()
            )));
        }
        self.put(tags::NEW_CLASS_TAG.to_le_bytes())?;
        self.put(class.stored_schema().to_le_bytes())?;
        self.put((class.name().len() as u16).to_le_bytes())?;
        self.write_raw(class.name().as_bytes())?;
        let index = self.map.next_index(offset)?;
        self.map.classes.insert(class.name(), index);
        Ok(())
    }

    /// Registers an object in the index space without writing anything
    /// (`CArchive::MapObject`). A loading program must make the same call at the
    /// same point ([`LoadArchive::map_object`](crate::LoadArchive::map_object)).
    ///
    /// # Errors
    /// [`Error::Generic`] when the index space is exhausted.
    pub fn map_object(&mut self, object: &ObjectRef) -> Result<()> {
        let index = self.map.next_index(self.offset())?;
        self.map.objects.insert(object_address(object), index);
        self.map.keep_alive.push(ObjectRef::clone(object));
        Ok(())
    }

    /// An object or class reference: the `WORD` form below `0x7FFF`, else the
    /// big form `FF 7F` + `DWORD`. `tag` carries the class bit already.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "index is below BIG_OBJECT_TAG, so it fits 15 bits"
    )]
    fn write_tag(&mut self, tag: u32) -> Result<()> {
        let index = tag & !tags::CLASS_TAG_BIT;
        if index < u32::from(tags::BIG_OBJECT_TAG) {
            let small = if tag & tags::CLASS_TAG_BIT != 0 {
                tags::CLASS_TAG | index as u16
            } else {
                index as u16
            };
            self.put(small.to_le_bytes())
        } else {
            self.put(tags::BIG_OBJECT_TAG.to_le_bytes())?;
            self.put(tag.to_le_bytes())
        }
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

    #[cold]
    fn flush_buffer(&mut self) -> Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let offset = self.flushed;
        let result = self.inner.write_all(&self.buf[..self.len]);
        self.flushed += self.len as u64;
        self.len = 0;
        result.map_err(|source| Error::Io { offset, source })
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
        self.len = 0;
    }
}

impl<W: Write + ?Sized> Drop for StoreArchive<W> {
    fn drop(&mut self) {
        if self.finished || self.options.no_flush_on_drop || self.len == 0 {
            return;
        }
        // Errors cannot be reported from drop; `close` is the way to see them.
        let _ = self
            .inner
            .write_all(&self.buf[..self.len])
            .and_then(|()| self.inner.flush());
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

fn object_address(object: &ObjectRef) -> usize {
    std::sync::Arc::as_ptr(object) as *const () as usize
}

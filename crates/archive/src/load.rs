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

/// Where a loading archive is in its buffer and in the stream.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// The first byte that must stay in the buffer: `pos`, or the start of the
    /// message being read by [`LoadArchive::read_message`].
    keep: usize,
    /// Next unread byte.
    pos: usize,
    /// End of the bytes received.
    end: usize,
    /// Stream offset of the buffer's first byte.
    base: u64,
}

impl Cursor {
    fn offset(self) -> u64 {
        self.base + self.pos as u64
    }
}

/// Makes at least `need` (at most the buffer size) unread bytes available:
/// moves the bytes to keep to the front, then reads into the free space until
/// enough has arrived. A read that fills the buffer doubles it (up to the
/// maximum): the stream is bulk, and bigger reads cost fewer system calls.
/// Returns the new cursor with the outcome; `start` is where the value began.
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
    if at.keep > 0 {
        buf.copy_within(at.keep..at.end, 0);
        at.base += at.keep as u64;
        at.end -= at.keep;
        at.pos -= at.keep;
        at.keep = 0;
    }
    while at.end < at.pos + need {
        if at.end == buf.len() {
            // Only a message being kept whole fills the buffer: make room.
            let mut bigger = vec![0; buf.len() * 2].into_boxed_slice();
            bigger[..at.end].copy_from_slice(&buf[..at.end]);
            *buf = bigger;
        }
        let ended = match inner.read(&mut buf[at.end..]) {
            Ok(0) => "the input ended",
            Ok(n) => {
                at.end += n;
                if at.end == buf.len() {
                    if let Some(size) = options.grown_buffer_size(buf.len()) {
                        let mut bigger = vec![0; size].into_boxed_slice();
                        bigger[..at.end].copy_from_slice(&buf[..at.end]);
                        *buf = bigger;
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

/// One entry of the load array: index 0 is null, then classes and objects in the
/// order the stream introduced them.
enum Slot {
    Null,
    Class {
        class: RuntimeClass,
        schema: u16,
    },
    Object(ObjectRef),
    /// An object whose body is being read; a reference to it is a cycle.
    Pending,
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
/// A fixed-size value (a number, a `POINT`, …) that fails with a time-out or
/// another error from the reader leaves the bytes it had already received in the
/// buffer: reading it again resumes where it stopped. A value read in parts (a
/// string, a count, an object, a collection) may have consumed some of them: to
/// retry after a time-out, read through [`read_message`](Self::read_message),
/// which rolls a failed message back whole. A connection reset by the peer is
/// end of file, as the stream is over; the message says which.
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
    /// Stream offset of the message [`read_message`](Self::read_message) is
    /// reading: bytes from there on stay buffered until it completes.
    message_start: Option<u64>,
    slots: Vec<Slot>,
    classes: ClassRegistry,
    object_schema: Option<u32>,
    depth: u32,
    options: Options,
    inner: R,
}

impl<R: Read> LoadArchive<R> {
    pub(crate) fn new(inner: R, options: Options) -> Self {
        LoadArchive {
            buf: vec![0; options.effective_buffer_size()].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            message_start: None,
            slots: vec![Slot::Null],
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
    /// # Errors
    /// [`Error::EndOfFile`] if the input ends inside the value; any error the
    /// value's [`Load`] implementation reports.
    pub fn read<T: Load>(&mut self) -> Result<T> {
        T::load(R::erase(self))
    }

    /// Fills `buf` with the next bytes as they are (`CArchive::EnsureRead`).
    ///
    /// # Errors
    /// [`Error::EndOfFile`] if the input ends first.
    pub fn read_raw(&mut self, buf: &mut [u8]) -> Result<()> {
        let start = self.offset();
        let mut done = 0;
        while done < buf.len() {
            if self.pos == self.end {
                if buf.len() - done >= self.buf.len() && self.message_start.is_none() {
                    done += self.read_direct(&mut buf[done..], start)?;
                    continue;
                }
                self.refill(1, start, || format!("{} raw bytes", buf.len()))?;
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
    /// # Errors
    /// Whatever `f` returns other than running out of input: a bad tag, an
    /// unknown class, end of file (the stream ended for good), an I/O error.
    pub fn read_message<T>(
        &mut self,
        f: impl FnOnce(&mut Loading<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let start = self.offset();
        let slots = self.slots.len();
        let schema = self.object_schema;
        // A message inside a message keeps the outer one's bytes too.
        let outer = self.message_start;
        self.message_start = Some(outer.unwrap_or(start));
        let result = f(R::erase(self));
        self.message_start = outer;
        match result {
            Ok(message) => Ok(Some(message)),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::WouldBlock => {
                self.pos = (start - self.base) as usize;
                self.slots.truncate(slots);
                self.object_schema = schema;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads past the (empty) buffer straight into `dst`; returns bytes read.
    fn read_direct(&mut self, dst: &mut [u8], start: u64) -> Result<usize> {
        loop {
            let ended = match self.inner.read(dst) {
                Ok(0) => "the input ended",
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
        // The slow path gets the other fields and returns the new cursor, so the
        // cursor never escapes and can stay in registers across a loop of takes.
        let cursor = self.cursor();
        let start = cursor.offset();
        let (cursor, result) = fill(
            &mut self.buf,
            cursor,
            &mut self.inner,
            &self.options,
            N,
            start,
            || what.to_owned(),
        );
        (self.pos, self.end, self.base) = (cursor.pos, cursor.end, cursor.base);
        result?;
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    fn cursor(&self) -> Cursor {
        let keep = match self.message_start {
            Some(start) => (start - self.base) as usize,
            None => self.pos,
        };
        Cursor {
            keep,
            pos: self.pos,
            end: self.end,
            base: self.base,
        }
    }

    /// Makes at least `need` (at most the buffer size) unread bytes available.
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
        (self.pos, self.end, self.base) = (cursor.pos, cursor.end, cursor.base);
        result
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
        if let Some(all) = self.buf[self.pos..self.end].get(..len) {
            let out = f(all);
            self.pos += len;
            return Ok(out);
        }
        Ok(f(&self.read_vec(len, start, what)?))
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
        if let Some(all) = self.buf[self.pos..self.end].get(..len) {
            let out = all.to_vec();
            self.pos += len;
            return Ok(out);
        }
        let mut out = Vec::with_capacity(len.min(self.buf.len()));
        while out.len() < len {
            if self.pos == self.end {
                self.refill(1, start, &what)?;
            }
            let n = (self.end - self.pos).min(len - out.len());
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
    /// [`Error::EndOfFile`].
    pub fn read_count(&mut self) -> Result<u64> {
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
        self.read_object_of(None)
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
        let Some(object) = self.read_object_of(Some(RuntimeClass::of::<T>()))? else {
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
            return self.object_at(tag, offset, requested.map(|class| class.name()));
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
        let result = self.nested(|ar| class.create(R::erase(ar)));
        self.object_schema = saved_schema;
        let object = result?;
        self.slots[index] = Slot::Object(ObjectRef::clone(&object));
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
        self.push_slot(Slot::Object(ObjectRef::clone(object)), offset)
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
    ) -> Result<Option<ObjectRef>> {
        let bad = |found: String| Error::BadIndex {
            offset,
            expected: format!("an object index below {}", self.slots.len()),
            found,
        };
        match self.slots.get(index as usize) {
            None => Err(bad(format!("index {index}"))),
            Some(Slot::Null) => Ok(None),
            Some(Slot::Class { class, .. }) => Err(bad(format!("index {index}, which is class {}", class.name()))),
            Some(Slot::Pending) => Err(bad(format!(
                "index {index}, an object still being loaded (cyclic object graphs are not supported)"
            ))),
            Some(Slot::Object(object)) => match requested {
                Some(name) if object.class_name() != name => Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {name}"),
                    found: format!("a reference to object {index} of class {}", object.class_name()),
                }),
                _ => Ok(Some(ObjectRef::clone(object))),
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

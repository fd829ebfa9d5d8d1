//! MFC's `CArchive` binary format, byte for byte.
//!
//! MFC programs save documents and talk over sockets with `CArchive`:
//! `ar << dwValue` on one side, `ar >> dwValue` on the other. This crate reads and
//! writes exactly those bytes: little-endian primitives, `CString`s in both widths,
//! `WriteCount`s, runtime classes and object graphs with MFC's shared index space,
//! and the collection classes. Input is untrusted: every length is checked against
//! [`Limits`] before memory is spent on it, and what any input can cost is
//! bounded as [below](#what-hostile-input-can-cost).
//!
//! ```
//! use mfc_archive::{Archive, MfcString};
//!
//! let mut bytes = Vec::new();
//! let mut ar = Archive::store(&mut bytes);          // CArchive ar(&file, CArchive::store)
//! ar.write(&0x1234u16)?;                            // ar << (WORD)0x1234
//! ar.write(&MfcString::unicode("张三"))?;            // ar << CStringW(L"张三")
//! ar.write_count(70000)?;                           // ar.WriteCount(70000)
//! ar.close()?;
//! assert_eq!(bytes, [
//!     0x34, 0x12,
//!     0xFF, 0xFE, 0xFF, 0x02, 0x20, 0x5F, 0x09, 0x4E,
//!     0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00,
//! ]);
//!
//! let mut ar = Archive::load(&bytes[..]);           // CArchive ar(&file, CArchive::load)
//! let word: u16 = ar.read()?;
//! let name: MfcString = ar.read()?;
//! assert_eq!((word, name.to_string_lossy().as_ref()), (0x1234, "张三"));
//! assert_eq!(ar.read_count()?, 70000);
//! # Ok::<(), mfc_archive::Error>(())
//! ```
//!
//! Types with plain field-by-field `Serialize` bodies derive [`Store`] and [`Load`]
//! with [`Serialize`](derive@Serialize); add `#[mfc(class = "…", schema = N)]` to make
//! them [`SerialClass`]es that can be written as objects. See
//! [`SerialClass`] for an example, [`serialize`] for the Rust ⇄ MFC type table,
//! and [`collections`] for MFC's collection classes.
//!
//! # Readers that fail and come back
//! On a socket with a read time-out, or a non-blocking one, a value can be cut
//! short by an error from the reader. [`LoadArchive::read`] then undoes the value
//! whole, so reading it again resumes at its start, and
//! [`LoadArchive::read_message`] reads a whole message or nothing (MFC's
//! `OnReceive` idiom without its hang on a split message).
//!
//! # What hostile input can cost
//! With any bytes, arriving in any pieces, and the classes this crate
//! registers (a class of yours bounds what its own body does):
//!
//! - **No panic, no endless loop.** Every loop reads bytes or is bounded by a
//!   count under [`Limits::max_count`]; errors say what was expected where.
//! - **Stack.** Loading recurses once per level of nesting, at most
//!   [`Limits::max_depth`] (default 4,096) levels, and a level that would
//!   not fit on the stack left runs on a new segment on the heap, so deep
//!   input costs memory (about 1.2 KiB per level in a release build), never a
//!   stack overflow, on any thread. Undoing and dropping what was loaded does
//!   not recurse along object graphs, except through classes of yours, as
//!   far as [`Limits::max_chain`] allows (next section).
//! - **Time.** One load reads each byte a bounded number of times.
//!   [`LoadArchive::read_message`] retries a message that ran out when more
//!   has arrived, going on from the elements its collections had read, so a
//!   message dripped in a byte at a time costs time linear in its length
//!   (1 MiB of 100-byte strings: 0.12 s of CPU in a release build, where
//!   parsing from the start at each retry took 0.9 s), objects included: the
//!   objects a retry had finished are taken back as they were, with their
//!   load-array entries. And a retry waits until as many bytes have arrived
//!   as the last attempt proved the message needs ([`Load::MIN_BYTES`] for
//!   each element still to come). Each parse reads at most
//!   [`Limits::max_message_bytes`].
//! - **Memory**, in terms of the bytes received:
//!   - the read buffer: at most about twice the larger of
//!     [`Options::max_buffer_size`] and [`Limits::max_message_bytes`]
//!     (64 KiB and 1 MiB by default), whatever lengths the input claims;
//!   - a string: its characters as received (a Rust `String` at most three
//!     bytes per ANSI byte, or per two UTF-16 bytes, decoded), and while one
//!     longer than the buffer arrives, at most twice the bytes received of it;
//!     an empty string allocates nothing, and an [`MfcString`] is three words;
//!   - a collection of T (`Vec`, `BTreeMap`, the [`collections`]): no
//!     capacity for its count before elements arrive beyond what bytes
//!     already received can fill (each byte counted for one collection, so
//!     nested ones do not each claim the buffer); then capacity doubles as
//!     elements arrive, never past the count. With L elements loaded it
//!     holds at most 2 L slots, and 3 L × `size_of::<T>()` bytes for a moment
//!     while it grows (the old block and the new one); once whole, exactly its
//!     n elements. L is at most the bytes received ÷ `T::MIN_BYTES`, so the
//!     multiple is `3 × size_of::<T>() ÷ T::MIN_BYTES` per byte at worst: 72
//!     for strings (16 Mi empty strings, 16 MiB: 384 MiB once loaded, 768 MiB
//!     for a moment), 24 for object pointers (16 bytes per 2-byte null tag),
//!     3 for bytes; a `BTreeMap` also holds its tree while built. A map's
//!     elements add their own heap as above;
//!   - objects: each new object takes at least 2 bytes, and costs its
//!     allocation plus one entry of a few words in the load array, at most
//!     [`Limits::max_objects`] of them.
//!
//! # Object graphs of any length
//! Back-references let a few bytes per object build a chain as long as
//! [`Limits::max_objects`] (an array holding the array before it, and so on).
//! Through the built-in collections such graphs are not refused: loading them
//! is flat (nesting is bounded by [`Limits::max_depth`]), and dropping them is
//! flat too, so a 100,000-link chain of `CObArray`s loads, is undone and is
//! dropped on a 256 KiB stack. Dropping is the one place recursion could
//! follow the chain, so the built-in collections that hold objects and the
//! archive's load array drop their objects through [`drop_objects`], which
//! queues what an object's drop lets go instead of recursing into it. We
//! chose this over a limit because a limit low enough for small stacks would
//! refuse honest graphs, and because the archive cannot see when the program
//! drops what it loaded.
//!
//! The load array lets its objects go newest first, so the archive undoes and
//! drops even chains through classes of yours that do not use
//! [`drop_objects`]. What it hands you is yours to drop, and a class of yours
//! that holds object pointers drops them recursively unless its `Drop` gives
//! them to [`drop_objects`] (its docs show how): about 32 bytes of stack per
//! link in a release build, 210 in a debug build. So chains through classes
//! that do not declare [`SerialClass::DROPS_FLAT`] (every derived class) are
//! refused past [`Limits::max_chain`], 16 Ki links by default: a
//! 10,000-node linked list loads, and dropping the longest accepted chain
//! takes about 0.5 MiB of stack.
//!
//! # Not supported
//! Cyclic object graphs (an object that refers back to an object still being
//! loaded) load as [`Error::BadIndex`]: Rust's shared pointers cannot form the
//! cycle. Byte-swapping (`bNoByteSwap`, old Macintosh MFC) does not exist in any
//! MFC that is still built.
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod classes;
pub mod collections;
mod counts;
mod dock_state;
mod error;
mod load;
mod objects;
mod options;
pub mod serialize;
mod store;
mod string;
mod values;

pub use classes::{
    drop_objects, ClassRegistry, Object, ObjectRef, RuntimeClass, SerialClass, VERSIONABLE_SCHEMA,
};
pub use dock_state::{ControlBarInfo, DockState, RecentDock, RecentPlace};
pub use error::{Cause, Error, Result};
pub use load::{LoadArchive, Loading, Source};
pub use options::{
    Limits, Options, StringForm, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_BUFFER_SIZE, MIN_BUFFER_SIZE,
};
pub use serialize::{Load, Store};
pub use store::{Sink, StoreArchive, Storing};
pub use string::{code_page, MfcString};
pub use values::{
    Bool, OleCurrency, OleDateTime, OleDateTimeSpan, Point, Rect, Size, Time, TimeForm, TimeSpan,
};

/// Derives [`Store`] and [`Load`] for a struct whose `Serialize` body stores and
/// loads its fields in declaration order.
///
/// `#[mfc(class = "CName", schema = N)]` also derives [`SerialClass`] (add
/// `versionable` for `VERSIONABLE_SCHEMA`). The generated code names this crate
/// as the using crate's `Cargo.toml` does: `mfc-archive` under any name, or
/// `sockarc`'s re-export `sockarc::archive` when only `sockarc` is a
/// dependency. `#[mfc(crate = "path")]` names it for any other re-export.
///
/// ```
/// use mfc_archive::{Archive, MfcString, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize)]
/// struct Student { name: MfcString, grade: i32 }
///
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write(&Student { name: MfcString::ansi(*b"Fisher, Lon"), grade: 67 })?;
/// ar.close()?;
/// assert_eq!(out, b"\x0BFisher, Lon\x43\x00\x00\x00");
/// # Ok::<(), mfc_archive::Error>(())
/// ```
///
/// In a class, `#[mfc(since_schema = N)]` on an `Option` field loads it only
/// from objects stored with schema N or later, as a `VERSIONABLE_SCHEMA`
/// class's `if (ar.GetObjectSchema() >= N) ar >> m_field;` does (it is stored
/// when `Some`), and `#[mfc(schema)]` on an integer field receives the stored
/// schema (it is not in the stream). Scribble's `CStroke` gained a bounding
/// rectangle in schema 2; one struct reads both:
/// ```
/// use mfc_archive::{Archive, Rect, Serialize};
///
/// #[derive(Debug, Serialize)]
/// #[mfc(class = "CStroke", schema = 2, versionable)]
/// struct Stroke {
///     #[mfc(schema)]
///     schema: u32,
///     #[mfc(since_schema = 2)]
///     bounds: Option<Rect>,
///     pen_width: u16,
/// }
///
/// let step1 = b"\xFF\xFF\x01\x00\x07\x00CStroke\x02\x00";
/// let stroke = Archive::load(&step1[..]).read_object_as::<Stroke>()?.unwrap();
/// assert_eq!((stroke.schema, stroke.bounds, stroke.pen_width), (1, None, 2));
///
/// let step5 = b"\xFF\xFF\x02\x00\x07\x00CStroke\x01\0\0\0\x02\0\0\0\x03\0\0\0\x04\0\0\0\x02\x00";
/// let stroke = Archive::load(&step5[..]).read_object_as::<Stroke>()?.unwrap();
/// assert_eq!(stroke.bounds, Some(Rect { left: 1, top: 2, right: 3, bottom: 4 }));
/// # Ok::<(), mfc_archive::Error>(())
/// ```
pub use mfc_archive_derive::Serialize;

/// Derives loading and storing for an enum of object classes: a `CObList`
/// or `CObArray` of several classes becomes a `Vec` of the enum, matched
/// without a chain of [`downcast_ref`](trait.Object.html#method.downcast_ref)s.
///
/// Each variant holds one class as `Arc<T>`; one unit variant marked
/// `#[mfc(null)]` may stand for the null pointer (without one, a null
/// pointer is an error). The enum gets `Load`/`Store` (`ar >> pOb` / `ar <<
/// pOb`, refusing a class it does not list), `TryFrom<ObjectRef>`,
/// `to_object`, and `register_classes` for the registry.
///
/// ```
/// use std::sync::Arc;
/// use mfc_archive::{Archive, ClassRegistry, ObjectEnum, Serialize};
///
/// #[derive(Debug, Serialize)]
/// #[mfc(class = "CLine", schema = 1)]
/// struct Line { length: i32 }
///
/// #[derive(Debug, Serialize)]
/// #[mfc(class = "CCircle", schema = 1)]
/// struct Circle { radius: i32 }
///
/// #[derive(Debug, ObjectEnum)]
/// enum Shape {
///     Line(Arc<Line>),
///     Circle(Arc<Circle>),
///     #[mfc(null)]
///     Nothing,
/// }
///
/// // A CObList of a line, a circle, NULL and the line again.
/// let bytes = b"\x04\x00\xFF\xFF\x01\x00\x05\x00CLine\x07\x00\x00\x00\
///               \xFF\xFF\x01\x00\x07\x00CCircle\x02\x00\x00\x00\x00\x00\x02\x00";
/// let mut classes = ClassRegistry::default();
/// Shape::register_classes(&mut classes);
/// let shapes: Vec<Shape> = Archive::load(&bytes[..]).with_classes(classes).read()?;
/// let mut total = 0;
/// for shape in &shapes {
///     total += match shape {
///         Shape::Line(line) => line.length,
///         Shape::Circle(circle) => 3 * circle.radius,
///         Shape::Nothing => 0,
///     };
/// }
/// assert_eq!(total, 7 + 6 + 0 + 7);
/// assert_eq!(mfc_archive::to_vec(&shapes)?, bytes);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
pub use mfc_archive_derive::ObjectEnum;

/// The code-page crate whose encodings [`Options::code_page`] takes.
pub use encoding_rs;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))]
pub struct ReadmeDoctests;

/// The two kinds of `CArchive`: one type for each mode, so a load archive cannot
/// be written to (MFC finds that out at run time with `readOnly`).
#[derive(Debug)]
pub enum Archive {}

impl Archive {
    /// A storing archive over `writer` with MFC's defaults
    /// (`CArchive(&file, CArchive::store)`).
    pub fn store<W: std::io::Write>(writer: W) -> StoreArchive<W> {
        StoreArchive::new(writer, Options::default())
    }

    /// A storing archive with explicit [`Options`].
    pub fn store_with<W: std::io::Write>(writer: W, options: Options) -> StoreArchive<W> {
        StoreArchive::new(writer, options)
    }

    /// A loading archive over `reader` with MFC's defaults
    /// (`CArchive(&file, CArchive::load)`) and the built-in collection classes.
    pub fn load<R: std::io::Read>(reader: R) -> LoadArchive<R> {
        LoadArchive::new(reader, Options::default())
    }

    /// A loading archive with explicit [`Options`].
    pub fn load_with<R: std::io::Read>(reader: R, options: Options) -> LoadArchive<R> {
        LoadArchive::new(reader, options)
    }
}

/// The bytes of `value` stored alone with MFC's defaults: what `ar << value`
/// writes into a fresh archive.
///
/// ```
/// let bytes = mfc_archive::to_vec(&0x1234_5678u32)?;
/// assert_eq!(bytes, [0x78, 0x56, 0x34, 0x12]);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
///
/// # Errors
/// What storing `value` reports (a string its code page cannot hold, a
/// value out of its format's range).
pub fn to_vec<T: Store + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut ar = Archive::store(&mut bytes);
    ar.write(value)?;
    ar.close()?;
    Ok(bytes)
}

/// The value `bytes` hold, loaded with MFC's defaults and the built-in
/// classes; every byte must belong to it.
///
/// ```
/// let word: u16 = mfc_archive::from_slice(&[0x34, 0x12])?;
/// assert_eq!(word, 0x1234);
/// assert!(mfc_archive::from_slice::<u16>(&[0x34, 0x12, 0x00]).is_err());
/// # Ok::<(), mfc_archive::Error>(())
/// ```
///
/// # Errors
/// What loading reports; [`Error::Generic`] when bytes are left after the
/// value (see [`LoadArchive::expect_end`]).
pub fn from_slice<T: Load>(bytes: &[u8]) -> Result<T> {
    let mut ar = Archive::load(bytes);
    let value = ar.read()?;
    ar.expect_end()?;
    Ok(value)
}

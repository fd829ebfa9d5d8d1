//! Archive settings: buffer size, code page, string width and the limits that keep
//! hostile input from costing more than it should.

use encoding_rs::{Encoding, WINDOWS_1252};

/// MFC's default archive buffer (`CArchive(pFile, nMode, 4096)`).
pub const DEFAULT_BUFFER_SIZE: usize = 4096;
/// MFC's smallest buffer (`nBufSizeMin`); a smaller request is raised to this.
pub const MIN_BUFFER_SIZE: usize = 128;
/// How far a buffer grows for bulk transfers by default.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 64 << 10;

/// Which `CString` width Rust text (`str`, `String`) is stored as.
///
/// [`MfcString`](crate::MfcString) values always keep their own width; this only
/// decides for plain Rust strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StringForm {
    /// `CStringW`: `FF FE FF` marker, UTF-16LE. What a Unicode build (Visual Studio's
    /// default) writes for `CString`.
    #[default]
    Unicode,
    /// `CStringA`: bytes in the archive's ANSI code page, no marker. What an MBCS
    /// build writes for `CString`.
    Ansi,
}

/// Bounds on what a loading archive accepts, so that a length prefix of 2⁶³ in a
/// ten-byte input costs an error, not an allocation.
///
/// What each limit bounds, and what input costs within them, is set out in
/// the crate docs ("What hostile input can cost"): memory grows with bytes
/// actually received, by at most a stated multiple per byte, and never past
/// these limits. Raise them for trusted inputs that need more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest string, in characters of its stored width. Default 16 Mi.
    pub max_string_len: u64,
    /// Largest element count of a collection or raw array. Default 16 Mi.
    pub max_count: u64,
    /// Most classes and objects in one archive's index space. Default 1 Mi
    /// (MFC's own ceiling is `0x3FFFFFFE`).
    pub max_objects: u64,
    /// Deepest nesting of objects and collections, each counting one level
    /// (an object holding a list of objects is two). Default 4,096: a
    /// 4,000-node list linked by `ar << m_pNext` loads, deeper than MFC goes
    /// on a 1 MiB stack. Loading recurses once per level, and a level that
    /// would not fit on the stack left runs on a new 1 MiB segment on the
    /// heap, so the nesting this allows costs memory, not a stack overflow:
    /// about 1.2 KiB per level in a release build and 7 KiB in a debug build
    /// (5 and 28 MiB at the default), plus what classes of yours use.
    pub max_depth: u32,
    /// Longest chain of objects each holding the next (by back-references or
    /// nesting) counted through classes that do not drop flat
    /// ([`SerialClass::DROPS_FLAT`](crate::SerialClass::DROPS_FLAT): every
    /// derived class; the built-in collections drop flat and add nothing).
    /// The program drops such a chain recursively, about 32 bytes of stack
    /// per link in a release build and 210 in a debug build, so the default,
    /// 16 Ki links, needs at most about 0.5 MiB of stack (3.4 MiB in a debug
    /// build) to drop, and a 10,000-node linked list loads.
    pub max_chain: u64,
    /// Longest class name, in bytes. Default 63: MFC rejects 64 or more.
    pub max_class_name: u16,
    /// Most bytes of one message read with
    /// [`read_message`](crate::LoadArchive::read_message), which stay buffered
    /// until the message is whole; also the longest value an error from the
    /// reader can undo (see [`read`](crate::LoadArchive::read)). Default 1 MiB.
    ///
    /// A message that arrives in many pieces is parsed again as pieces arrive
    /// (only once enough have arrived to possibly complete it: see
    /// [`read_message`](crate::LoadArchive::read_message)), so this also
    /// bounds the bytes each of those parses reads. The limit is on the
    /// bytes kept while waiting for the rest: a longer message that is already
    /// whole in the buffer is read, and a message nested in another counts
    /// towards the outer one.
    pub max_message_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_string_len: 16 << 20,
            max_count: 16 << 20,
            max_objects: 1 << 20,
            max_depth: 4096,
            max_chain: 16 << 10,
            max_class_name: 63,
            max_message_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// Limits as high as the format allows, for inputs you trust.
    pub fn unlimited() -> Self {
        Limits {
            max_string_len: u64::MAX,
            max_count: u64::MAX,
            max_objects: 0x3FFF_FFFE,
            max_depth: u32::MAX,
            max_chain: u64::MAX,
            max_class_name: 63,
            max_message_bytes: u64::MAX,
        }
    }
}

/// Everything configurable about an archive. `Default` is MFC's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Buffer size in bytes; at least [`MIN_BUFFER_SIZE`]. Never changes the bytes
    /// produced, only when they reach the writer.
    pub buffer_size: usize,
    /// How far the buffer may grow during bulk transfers (default 64 KiB): a
    /// storing archive that fills its buffer without a flush sends it and doubles
    /// it, and a loading archive whose buffer a single read filled doubles it, so
    /// a large stream costs one system call per 64 KiB rather than per 4 KiB. The
    /// bytes never change, and the first buffer goes out where MFC's would. Set it
    /// to `buffer_size` (or lower) for MFC's fixed buffer.
    pub max_buffer_size: usize,
    /// The ANSI code page of `CStringA` text (default Windows-1252). See
    /// [`code_page`](crate::code_page) to pick one by number.
    pub code_page: &'static Encoding,
    /// The width Rust strings are stored with.
    pub string_form: StringForm,
    /// Loading limits.
    pub limits: Limits,
    /// Do not flush when the storing archive is dropped (`CArchive::bNoFlushOnDelete`).
    pub no_flush_on_drop: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            buffer_size: DEFAULT_BUFFER_SIZE,
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            code_page: WINDOWS_1252,
            string_form: StringForm::Unicode,
            limits: Limits::default(),
            no_flush_on_drop: false,
        }
    }
}

impl Options {
    pub(crate) fn effective_buffer_size(&self) -> usize {
        self.buffer_size.max(MIN_BUFFER_SIZE)
    }

    /// The size a full buffer of `current` bytes grows to, or `None` at the
    /// maximum.
    pub(crate) fn grown_buffer_size(&self, current: usize) -> Option<usize> {
        let max = self.max_buffer_size.max(self.effective_buffer_size());
        (current < max).then(|| current.saturating_mul(2).min(max))
    }
}

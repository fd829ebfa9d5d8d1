//! The one error type of this crate, and the `CArchiveException` causes it maps to.

use std::io;

/// `CArchiveException::m_cause`: what MFC would have thrown for the same fault.
///
/// The numeric values are MFC's (`afx.h`), so a port that logs or compares causes
/// keeps working: `Cause::EndOfFile as i32 == 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// `genericException` (1): a value out of range, a limit exceeded, a misuse.
    Generic = 1,
    /// `endOfFile` (3): the input ended inside a value.
    EndOfFile = 3,
    /// `badIndex` (5): an object or class tag refers to nothing valid.
    BadIndex = 5,
    /// `badClass` (6): an unknown, over-long or unexpected class.
    BadClass = 6,
    /// `badSchema` (7): a class's stored schema differs from the program's.
    BadSchema = 7,
    /// Not an archive fault: the reader or writer underneath failed
    /// (MFC throws a `CFileException` here).
    Io = 100,
}

/// Everything that can go wrong while storing or loading.
///
/// Each variant says what was expected and the byte offset (from the start of the
/// archive's stream) where it went wrong. [`Error::cause`] maps a variant to MFC's
/// `CArchiveException` cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a value was complete (`CArchiveException::endOfFile`).
    #[error("end of file at byte {offset}: expected {expected}")]
    EndOfFile {
        /// Offset of the first byte of the incomplete value.
        offset: u64,
        /// What was being read.
        expected: String,
    },
    /// An object or class tag that points nowhere valid (`badIndex`).
    #[error("bad index at byte {offset}: expected {expected}, found {found}")]
    BadIndex {
        /// Offset of the tag.
        offset: u64,
        /// What a valid tag would have been.
        expected: String,
        /// What the tag was.
        found: String,
    },
    /// An unknown class, a class name too long, or an object of the wrong class
    /// (`badClass`).
    #[error("bad class at byte {offset}: expected {expected}, found {found}")]
    BadClass {
        /// Offset of the class description or tag.
        offset: u64,
        /// What class was acceptable.
        expected: String,
        /// What the input held.
        found: String,
    },
    /// A stored schema the program cannot read (`badSchema`).
    #[error(
        "bad schema for class {class} at byte {offset}: expected schema {expected}, found {found}"
    )]
    BadSchema {
        /// Offset of the class description.
        offset: u64,
        /// The class.
        class: String,
        /// The program's schema.
        expected: u32,
        /// The stored schema.
        found: u32,
    },
    /// A length, count, nesting depth or object count above the archive's
    /// [`Limits`](crate::Limits) (`genericException` in MFC terms).
    #[error("limit exceeded at byte {offset}: {what} is {found}, the limit is {limit}")]
    LimitExceeded {
        /// Offset of the value that exceeded the limit.
        offset: u64,
        /// Which limit.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The limit in force.
        limit: u64,
    },
    /// Any other fault MFC reports as `genericException`: a value that cannot be
    /// encoded, an operation the archive's state forbids.
    #[error("at byte {offset}: {message}")]
    Generic {
        /// Where it happened.
        offset: u64,
        /// What went wrong, including what was expected.
        message: String,
    },
    /// The reader or writer underneath failed.
    #[error("I/O error at byte {offset}: {source}")]
    Io {
        /// The archive offset at which the I/O was attempted.
        offset: u64,
        /// The error from the reader or writer.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The `CArchiveException` cause MFC would report.
    ///
    /// ```
    /// use mfc_archive::{Archive, Cause};
    /// let err = Archive::load(&[0x01u8][..]).read::<u32>().unwrap_err();
    /// assert_eq!(err.cause(), Cause::EndOfFile);
    /// assert_eq!(err.cause() as i32, 3);
    /// ```
    pub fn cause(&self) -> Cause {
        match self {
            Error::EndOfFile { .. } => Cause::EndOfFile,
            Error::BadIndex { .. } => Cause::BadIndex,
            Error::BadClass { .. } => Cause::BadClass,
            Error::BadSchema { .. } => Cause::BadSchema,
            Error::LimitExceeded { .. } | Error::Generic { .. } => Cause::Generic,
            Error::Io { .. } => Cause::Io,
        }
    }

    /// Whether the reader had nothing yet (`WouldBlock`): what a message
    /// that ran out of received bytes fails with, to be retried.
    pub(crate) fn is_would_block(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::WouldBlock)
    }

    /// The byte offset in the archive's stream where the fault was found.
    pub fn offset(&self) -> u64 {
        match self {
            Error::EndOfFile { offset, .. }
            | Error::BadIndex { offset, .. }
            | Error::BadClass { offset, .. }
            | Error::BadSchema { offset, .. }
            | Error::LimitExceeded { offset, .. }
            | Error::Generic { offset, .. }
            | Error::Io { offset, .. } => *offset,
        }
    }
}

impl From<Error> for io::Error {
    /// Keeps an I/O cause as it was (its kind intact); an end of file becomes
    /// `UnexpectedEof`; every other fault becomes `InvalidData`.
    fn from(err: Error) -> io::Error {
        match err {
            Error::Io { source, .. } => source,
            Error::EndOfFile { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, err),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Helpers shared by the integration tests: hex vectors, round trips, and the
//! scripted reader.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io::{self, Read};

use mfc_archive::{Archive, Load, LoadArchive, Result, Store, StoreArchive};

/// Bytes from the spec's notation: hex pairs separated by spaces, and `"text"`
/// for ASCII runs (as in `FF FF 01 00 04 00 "CAge"`).
pub fn hex(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = spec.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').expect("closing quote in test vector");
            out.extend_from_slice(&quoted.as_bytes()[..end]);
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(u8::from_str_radix(&rest[..end], 16).expect("hex byte in test vector"));
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// What a storing archive writes when `f` runs on it.
pub fn stored(f: impl FnOnce(&mut StoreArchive<&mut Vec<u8>>) -> Result<()>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ar = Archive::store(&mut out);
    f(&mut ar).expect("storing succeeds");
    ar.close().expect("close succeeds");
    out
}

/// What a storing archive with a `buffer_size`-byte buffer writes for a byte
/// 7 then `value`: the byte first, so that `value` starts with the buffer
/// part full.
pub fn stored_after_a_byte<T: Store + ?Sized>(value: &T, buffer_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let options = mfc_archive::Options {
        buffer_size,
        ..mfc_archive::Options::default()
    };
    let mut ar = Archive::store_with(&mut out, options);
    ar.write(&7u8).expect("storing succeeds");
    ar.write(value).expect("storing succeeds");
    ar.close().expect("close succeeds");
    out
}

/// Asserts `value` stores as exactly `bytes`, and `bytes` load back as `value`
/// with nothing left over.
pub fn assert_vector<T: Store + Load + PartialEq + Debug>(value: T, bytes: &[u8]) {
    assert_eq!(stored(|ar| ar.write(&value)), bytes, "storing {value:?}");
    let mut ar = Archive::load(bytes);
    assert_eq!(
        ar.read::<T>().expect("loading succeeds"),
        value,
        "loading {bytes:02X?}"
    );
    assert_at_end(&mut ar);
}

/// Asserts the archive has consumed its whole input.
pub fn assert_at_end<R: std::io::Read>(ar: &mut LoadArchive<R>) {
    assert!(
        ar.is_buffer_empty(),
        "unread bytes at offset {}",
        ar.offset()
    );
    assert_eq!(
        ar.get_mut().read(&mut [0u8; 1]).expect("read"),
        0,
        "input continues past offset {}",
        ar.offset()
    );
}

/// The one scripted reader of the archive tests: hands out its pieces, at
/// most `step` bytes per read; between two pieces a read may fail once with
/// `between` (a time-out, `WouldBlock`), and once they are all gone every read
/// fails with `at_end` or (`None`) reports the end of the input. Counts the
/// reads. More pieces can be pushed while an archive reads from it.
pub struct Script {
    pub pieces: VecDeque<Vec<u8>>,
    pub between: Option<io::ErrorKind>,
    pub at_end: Option<io::ErrorKind>,
    pub step: usize,
    /// The error the next read answers, before any piece.
    pub fail_next: Option<io::ErrorKind>,
    pub reads: usize,
}

impl Script {
    /// `pieces` separated and followed by errors of `kind`: a socket with a
    /// read time-out whose peer pauses, or one fed by an event loop
    /// (`WouldBlock`).
    pub fn new(kind: io::ErrorKind, pieces: &[&[u8]]) -> Self {
        Script {
            pieces: pieces.iter().map(|piece| piece.to_vec()).collect(),
            between: Some(kind),
            at_end: Some(kind),
            step: usize::MAX,
            fail_next: None,
            reads: 0,
        }
    }

    /// `bytes` cut into pieces of `size`, as [`new`](Self::new) takes them.
    pub fn chunks(kind: io::ErrorKind, bytes: &[u8], size: usize) -> Self {
        Script::new(kind, &bytes.chunks(size).collect::<Vec<_>>())
    }

    /// `pieces` with one error of `kind` after each, then the end of the
    /// input.
    pub fn pausing(kind: io::ErrorKind, pieces: &[&[u8]]) -> Self {
        Script {
            at_end: None,
            ..Script::new(kind, pieces)
        }
    }

    /// `bytes`, then the end of the input, at most `step` bytes per read.
    pub fn trickle(bytes: &[u8], step: usize) -> Self {
        Script {
            between: None,
            at_end: None,
            step,
            ..Script::new(io::ErrorKind::Other, &[bytes])
        }
    }

    /// `bytes`, then errors of `kind`.
    pub fn fail_after(bytes: &[u8], kind: io::ErrorKind) -> Self {
        Script {
            between: None,
            ..Script::new(kind, &[bytes])
        }
    }

    /// Nothing yet: bytes arrive by [`push`](Self::push), and a read with
    /// nothing to give answers `WouldBlock`, as a socket fed by an event loop
    /// does.
    pub fn arrivals() -> Self {
        Script {
            between: None,
            ..Script::new(io::ErrorKind::WouldBlock, &[])
        }
    }

    /// Appends a piece.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pieces.push_back(bytes.to_vec());
    }
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if let Some(kind) = self.fail_next.take() {
            return Err(kind.into());
        }
        let Some(piece) = self.pieces.front_mut() else {
            return match self.at_end {
                Some(kind) => Err(kind.into()),
                None => Ok(0),
            };
        };
        let n = buf.len().min(piece.len()).min(self.step);
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.pieces.pop_front();
            self.fail_next = self.between;
        }
        Ok(n)
    }
}

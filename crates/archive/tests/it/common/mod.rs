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

/// The scripted reader of the archive tests: hands out its pieces one read at
/// a time, failing with `kind` (a time-out, `WouldBlock`, a reset) between two
/// pieces and once they are all gone; counts the reads. More pieces can be
/// pushed while an archive reads from it.
pub struct Pieces {
    pub pieces: VecDeque<Vec<u8>>,
    pub kind: io::ErrorKind,
    pub fail_next: bool,
    pub reads: usize,
}

impl Pieces {
    pub fn new(kind: io::ErrorKind, pieces: &[&[u8]]) -> Self {
        Pieces {
            pieces: pieces.iter().map(|piece| piece.to_vec()).collect(),
            kind,
            fail_next: false,
            reads: 0,
        }
    }

    /// `bytes` cut into pieces of `size`.
    pub fn chunks(kind: io::ErrorKind, bytes: &[u8], size: usize) -> Self {
        Pieces::new(kind, &bytes.chunks(size).collect::<Vec<_>>())
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if std::mem::take(&mut self.fail_next) {
            return Err(self.kind.into());
        }
        let Some(piece) = self.pieces.front_mut() else {
            return Err(self.kind.into());
        };
        let n = buf.len().min(piece.len());
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.pieces.pop_front();
            self.fail_next = true;
        }
        Ok(n)
    }
}
